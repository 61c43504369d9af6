/* das_api.h: how the platform reaches devices connected to this DAS. Requests are
 * checked and formatted on the caller's thread, then run by the device's home
 * worker (device_requests.c). */
#include "das/device_internal.h"

#include "log.h"
#include "osap/alloc.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static bool copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) return false;
    memcpy(dst, src, n + 1);
    return true;
}

/* A topic level for the device: non-empty, within @p max, no '/', '+', '#',
 * blanks or control bytes. */
static bool level_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f || c == '/' || c == '+' || c == '#') return false;
    }
    return true;
}

/* The business body of @p req (spec 7.2, 7.4); NULL when value_json is not JSON. */
static char *format_body(const struct osapd_das_request *req)
{
    cJSON *root = cJSON_CreateObject(), *value = NULL, *obj;
    char *text = NULL, *out = NULL;

    if (!root) return NULL;
    if (req->value_json) {
        value = cJSON_Parse(req->value_json);
        if (!value) goto out;
    } else if (req->kind == OSAPD_DAS_OPERATE) {
        value = cJSON_CreateObject(); /* an operation without input */
    } else {
        goto out;
    }
    if (!value) goto out;
    switch (req->kind) {
    case OSAPD_DAS_ATTRIBUTE_SET: /* {"data":{"Value":v}} */
        obj = cJSON_AddObjectToObject(root, "data");
        if (!obj) goto out;
        cJSON_AddItemToObject(obj, "Value", value);
        break;
    case OSAPD_DAS_OPERATE: /* {"data":input} */ cJSON_AddItemToObject(root, "data", value); break;
    case OSAPD_DAS_SHADOW_SET: /* {"state":{"desired":{"domain":..,"identifier":..,"value":..}}} */
        obj = cJSON_AddObjectToObject(root, "state");
        obj = obj ? cJSON_AddObjectToObject(obj, "desired") : NULL;
        if (!obj) goto out;
        cJSON_AddStringToObject(obj, "domain", req->domain);
        cJSON_AddStringToObject(obj, "identifier", req->identifier);
        cJSON_AddItemToObject(obj, "value", value);
        break;
    default: goto out;
    }
    value = NULL;
    text = cJSON_PrintUnformatted(root);
    if (text) out = osap_strdup(text);
out:
    cJSON_free(text);
    cJSON_Delete(value);
    cJSON_Delete(root);
    return out;
}

static osap_err make_job(struct device_layer *l, const struct osapd_das_request *req,
                         struct device_request_job **out)
{
    struct device_request_job *job;
    struct osap_topic_v3 t;
    const char *dash;
    osap_err err;

    if (!req || !req->serial || !osap_serial_valid(req->serial)) return OSAP_EINVAL;
    if (req->kind != OSAPD_DAS_ATTRIBUTE_SET && req->kind != OSAPD_DAS_OPERATE &&
        req->kind != OSAPD_DAS_SHADOW_SET)
        return OSAP_EINVAL;
    if (!level_ok(req->domain, OSAP_TOPIC_EXT_PART_MAX) ||
        !level_ok(req->identifier, OSAP_TOPIC_EXT_PART_MAX))
        return OSAP_EINVAL;
    job = osap_calloc(1, sizeof(*job));
    if (!job) return OSAP_ENOMEM;
    job->layer = l;
    job->kind = req->kind;
    job->timeout_ms = req->timeout_ms;
    if (!copy_str(job->serial, sizeof(job->serial), req->serial) ||
        !copy_str(job->child, sizeof(job->child),
                  req->child ? req->child : OSAP_TOPIC_CHILD_SELF) ||
        !copy_str(job->resource, sizeof(job->resource),
                  req->resource ? req->resource : OSAP_TOPIC_RESOURCE_DEFAULT) ||
        !copy_str(job->domain, sizeof(job->domain), req->domain) ||
        !copy_str(job->identifier, sizeof(job->identifier), req->identifier)) {
        err = OSAP_EINVAL;
        goto fail;
    }
    /* The topic: /iot/<sn>/<child>/<rid>-<rtype>/model/attribute/set/<d>/<k>,
     * .../model/service/operate/<d>/<k>, .../basic/shadow/set. */
    dash = strchr(job->resource, '-');
    if (!dash) {
        err = OSAP_EINVAL;
        goto fail;
    }
    memset(&t, 0, sizeof(t));
    t.serial = osap_topic_span_str(job->serial);
    t.child = osap_topic_span_str(job->child);
    t.rid = (struct osap_topic_span){job->resource, (size_t)(dash - job->resource)};
    t.rtype = osap_topic_span_str(dash + 1);
    if (req->kind == OSAPD_DAS_SHADOW_SET) {
        t.module = osap_topic_span_str(OSAP_MODULE_BASIC);
        t.method = osap_topic_span_str("shadow");
        t.msg_type = osap_topic_span_str("set");
    } else {
        t.module = osap_topic_span_str(OSAP_MODULE_MODEL);
        t.method = osap_topic_span_str(req->kind == OSAPD_DAS_OPERATE ? "service" : "attribute");
        t.msg_type = osap_topic_span_str(req->kind == OSAPD_DAS_OPERATE ? "operate" : "set");
        t.domain = osap_topic_span_str(job->domain);
        t.identifier = osap_topic_span_str(job->identifier);
    }
    err = osap_topic_v3_build(&t, job->topic, sizeof(job->topic), &job->topic_len);
    if (err) {
        err = err == OSAP_EDEVICE_TOPIC ? OSAP_EINVAL : err;
        goto fail;
    }
    job->body = format_body(req);
    if (!job->body) {
        err = OSAP_EINVAL;
        goto fail;
    }
    *out = job;
    return OSAP_OK;
fail:
    device_request_job_free(job);
    return err;
}

osap_err osapd_das_request(struct osapd_das *api, const struct osapd_das_request *req,
                           osapd_das_result_cb cb, void *userdata)
{
    struct das *das = das_from_api(api);
    struct device_layer *l = das ? device_layer_of(das) : NULL;
    struct device_request_job *job = NULL;
    struct osapd_das_result r;
    osap_err err;

    if (!l) return OSAP_EUNSUPPORTED;
    if (!cb) return OSAP_EINVAL;
    err = make_job(l, req, &job);
    if (err) return err;
    job->cb = cb;
    job->userdata = userdata;
    err = das_post(das, das_home_worker(das, job->serial, strlen(job->serial)), device_request_run,
                   job);
    if (err == OSAP_ENOMEM) {
        device_request_job_free(job);
        return err;
    }
    if (err) {
        device_request_job_free(job);
        memset(&r, 0, sizeof(r));
        r.err = OSAP_ESTATE;
        cb(&r, userdata);
    }
    return OSAP_OK;
}

/* ------------------------------------------------------------------------ */
/* Disconnect                                                               */
/* ------------------------------------------------------------------------ */

struct serial_job {
    struct device_layer *layer;
    char serial[OSAP_SUBSERIAL_MAX + 1];
};

static void disconnect_run(struct das_worker *w, void *arg)
{
    struct serial_job *job = arg;
    struct device_worker *dw = device_worker_of(job->layer, w);
    struct device *dev = dw ? device_registry_find(dw, job->serial, strlen(job->serial)) : NULL;

    if (dev) {
        OSAP_LOGI(DEVICE_LOG, "device %s: disconnected by the platform", dev->serial);
        dev->kicked = true;
        das_conn_close(dev->conn, "disconnected by the platform", 1);
    }
    osap_free(job);
}

osap_err osapd_das_disconnect(struct osapd_das *api, const char *serial)
{
    struct das *das = das_from_api(api);
    struct device_layer *l = das ? device_layer_of(das) : NULL;
    struct serial_job *job;
    osap_err err;

    if (!l) return OSAP_EUNSUPPORTED;
    if (!serial || !osap_serial_valid(serial)) return OSAP_EINVAL;
    job = osap_malloc(sizeof(*job));
    if (!job) return OSAP_ENOMEM;
    job->layer = l;
    copy_str(job->serial, sizeof(job->serial), serial);
    err = das_post(das, das_home_worker(das, serial, strlen(serial)), disconnect_run, job);
    if (err) osap_free(job);
    return err;
}

/* ------------------------------------------------------------------------ */
/* v2 downlinks                                                             */
/* ------------------------------------------------------------------------ */

struct v2_job {
    struct device_layer *layer;
    char serial[OSAP_SUBSERIAL_MAX + 1];
    char topic[OSAP_TOPIC_V2_MAX];
    size_t topic_len;
    char common[OSAP_ENVELOPE_COMMON_BUF];
    size_t common_len;
    size_t body_len;
    uint8_t body[];
};

static void send_v2_run(struct das_worker *w, void *arg)
{
    struct v2_job *job = arg;
    struct device_worker *dw = device_worker_of(job->layer, w);
    struct device *dev = dw ? device_registry_find(dw, job->serial, strlen(job->serial)) : NULL;
    osap_err err;

    if (dev) {
        err = device_send(dev, job->topic, job->topic_len, job->common, job->common_len, job->body,
                          job->body_len, 0, NULL);
        if (err)
            OSAP_LOGW(DEVICE_LOG, "device %s: %s not sent: %s", dev->serial, job->topic,
                      osap_strerror(err));
    } else {
        OSAP_LOGD(DEVICE_LOG, "device %s is not connected: %s dropped", job->serial, job->topic);
    }
    osap_free(job);
}

osap_err osapd_das_send_v2(struct osapd_das *api, const char *serial, uint32_t domain, uint32_t cmd,
                           const char *cmd_ver, uint32_t seq, int msg_type, const uint8_t *body,
                           size_t len)
{
    struct das *das = das_from_api(api);
    struct device_layer *l = das ? device_layer_of(das) : NULL;
    struct osap_topic_v2 t;
    struct v2_job *job;
    osap_err err;

    if (!l) return OSAP_EUNSUPPORTED;
    if (!serial || !osap_serial_valid(serial) || !cmd_ver || (len && !body) ||
        len > OSAP_MESSAGE_MAX)
        return OSAP_EINVAL;
    job = osap_malloc(sizeof(*job) + len);
    if (!job) return OSAP_ENOMEM;
    job->layer = l;
    copy_str(job->serial, sizeof(job->serial), serial);
    t.serial = osap_topic_span_str(job->serial);
    t.domain = domain;
    t.cmd = cmd;
    err = osap_topic_v2_build(&t, job->topic, sizeof(job->topic), &job->topic_len);
    if (err == OSAP_OK)
        err = osap_envelope_common_v2(cmd_ver, seq, msg_type, job->common, sizeof(job->common),
                                      &job->common_len);
    if (err) {
        osap_free(job);
        return err == OSAP_ENOMEM ? err : OSAP_EINVAL;
    }
    if (len) memcpy(job->body, body, len);
    job->body_len = len;
    err = das_post(das, das_home_worker(das, serial, strlen(serial)), send_v2_run, job);
    if (err) osap_free(job);
    return err;
}

/* ------------------------------------------------------------------------ */
/* Profile handler, ingest, counters                                        */
/* ------------------------------------------------------------------------ */

void osapd_das_set_profile_handler(struct osapd_das *api, osapd_das_profile_cb cb, void *userdata)
{
    struct device_layer *l = api ? device_layer_of(das_from_api(api)) : NULL;
    if (!l) return;
    atomic_store(&l->profile_ud, userdata);
    atomic_store(&l->profile_cb, cb);
}

struct ingest *osapd_das_ingest(struct osapd_das *api)
{
    struct device_layer *l = api ? device_layer_of(das_from_api(api)) : NULL;
    return l ? l->ing : NULL;
}

static uint64_t load(atomic_uint_fast64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

void osapd_das_stats(struct osapd_das *api, struct osapd_das_stats *out)
{
    struct das *das = das_from_api(api);
    struct device_layer *l = device_layer_of(das);
    struct das_counters c;

    memset(out, 0, sizeof(*out));
    das_counters(das, &c);
    out->connections = c.connections;
    out->devices_online = c.devices;
    out->messages_in = c.messages_in;
    out->messages_out = c.messages_out;
    if (!l) return;
    out->devices_refused = load(&l->stats.refused_connects);
    out->undecryptable = load(&l->stats.undecryptable);
    out->refused = load(&l->stats.refused);
    out->events = load(&l->stats.events);
    out->requests = load(&l->stats.requests);
    out->replies = load(&l->stats.replies);
    out->timeouts = load(&l->stats.timeouts);
    out->unmatched_replies = load(&l->stats.unmatched);
}
