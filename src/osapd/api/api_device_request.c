/* Requests to devices (attribute set, operation): the common part. The route
 * (api_attributes.c, api_operations.c) parses its input and checks it against
 * the device's thing model on a store thread; this file sends the request to
 * the device through the DAS (das_api.h), waits for the reply without holding a
 * thread, and answers: the device's code (and output), or 409 offline, 504 no
 * reply in time, 503 busy. Asynchronous requests (?async=1 or
 * "Prefer: respond-async") are answered 202 at once and their outcome is
 * written to the requests table, where GET /api/v1/requests/{id} finds it. */
#include "api/api_internal.h"

#include "log.h"
#include "osap/alloc.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void devreq_free(void *p)
{
    struct api_devreq *r = p;
    if (!r) return;
    osap_free(r->value_json);
    osap_free(r);
}

bool api_devreq_begin(struct api_call *c, enum osapd_das_request_kind kind, bool empty_ok,
                      const char *const *known, cJSON **body)
{
    struct api_devreq *r = osap_calloc(1, sizeof(*r));

    if (!r) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        return false;
    }
    c->data = r;
    c->data_free = devreq_free;
    r->kind = kind;
    return api_devreq_parse(c, r, c->args[1], c->args[2]) && api_input_object(c, empty_ok, body) &&
           api_input_known(c, *body, known);
}

/* The kind of @p r as the requests table names it. */
static const char *request_kind(const struct api_devreq *r)
{
    return r->kind == OSAPD_DAS_ATTRIBUTE_SET ? OSAP_REQUEST_KIND_SET : OSAP_REQUEST_KIND_OPERATE;
}

void api_devreq_record(struct api_call *c, struct osap_store *st)
{
    struct api_devreq *r = c->data;
    struct osap_request q = {0};
    osap_err err;

    q.serial = r->serial;
    q.kind = request_kind(r);
    q.child = r->child;
    q.resource = r->resource;
    q.domain = r->domain;
    q.identifier = r->identifier;
    q.input = r->value_json;
    err = osap_store_request_add(st, &q, &r->request_id);
    if (err) api_reply_store_error(c, err, API_E_DEVICE_NOT_FOUND, "record the request");
}

static bool copy_word(struct api_call *c, const char *name, const char *v, char *dst, size_t cap)
{
    if (!api_word_valid(v) || strlen(v) >= cap) {
        api_reply_error(c, 400, API_E_INVALID_PARAMETER, name,
                        "%s must be 1..%d characters without blanks, '/', '+' or '#'", name,
                        OSAP_MODEL_NAME_MAX);
        return false;
    }
    osap_str_copy(dst, cap, v);
    return true;
}

static bool prefer_async(const struct osap_http_request *req)
{
    for (size_t i = 0; i < req->nheaders; i++) {
        const char *v = req->headers[i].value;
        if (strcasecmp(req->headers[i].name, "Prefer") != 0) continue;
        for (const char *p = v; (p = strcasestr(p, "respond-async")); p += 13) {
            char after = p[13];
            if ((p == v || p[-1] == ' ' || p[-1] == ',' || p[-1] == '\t') &&
                (after == '\0' || after == ' ' || after == ',' || after == ';'))
                return true;
        }
    }
    return false;
}

bool api_devreq_parse(struct api_call *c, struct api_devreq *r, const char *domain,
                      const char *identifier)
{
    const struct api_config *cfg = c->api->cfg;
    const char *resource = osap_http_request_param(c->req, "resource");
    const char *child = osap_http_request_param(c->req, "child");
    const char *timeout = osap_http_request_param(c->req, "timeout");
    int async;

    if (!osap_serial_valid(c->args[0])) {
        api_reply_error(c, 404, API_E_DEVICE_NOT_FOUND, NULL, "no such device");
        return false;
    }
    osap_str_copy(r->serial, sizeof(r->serial), c->args[0]);
    if (!copy_word(c, "domain", domain, r->domain, sizeof(r->domain)) ||
        !copy_word(c, "identifier", identifier, r->identifier, sizeof(r->identifier)))
        return false;
    if (!resource) resource = "0-global";
    if (!api_resource_valid(resource)) {
        api_reply_error(c, 400, API_E_INVALID_PARAMETER, "resource",
                        "resource must be <index>-<category>, e.g. 0-global or 3-video");
        return false;
    }
    osap_str_copy(r->resource, sizeof(r->resource), resource);
    if (!child) child = "global";
    if (!api_child_valid(child)) {
        api_reply_error(c, 400, API_E_INVALID_PARAMETER, "child",
                        "child must be global or a sub-device serial");
        return false;
    }
    osap_str_copy(r->child, sizeof(r->child), child);
    r->timeout_ms = (uint32_t)cfg->request_timeout;
    if (timeout) {
        char *end;
        double s;
        errno = 0;
        s = strtod(timeout, &end);
        if (errno || end == timeout || *end || !isfinite(s) || s <= 0 ||
            s * 1000.0 > (double)cfg->request_timeout_max) {
            api_reply_error(c, 400, API_E_INVALID_PARAMETER, "timeout",
                            "timeout must be a number of seconds above 0 and at most %.3f",
                            (double)cfg->request_timeout_max / 1000.0);
            return false;
        }
        r->timeout_ms = (uint32_t)(s * 1000.0);
        if (r->timeout_ms == 0) r->timeout_ms = 1;
    }
    if (!api_query_bool(c, "async", &async)) return false;
    r->async = async == 1 || (async < 0 && prefer_async(c->req));
    return true;
}

/* "input.speed: 12 is above the maximum 10" -> field "input.speed". */
static void field_of(const char *msg, char *field, size_t cap)
{
    const char *colon = strstr(msg, ": ");
    size_t n = colon ? (size_t)(colon - msg) : 0;

    if (n >= cap) n = cap - 1;
    memcpy(field, msg, n);
    field[n] = '\0';
}

/* Which part of the request names something the model lacks: the resource
 * (category or local index), the domain, or the identifier. */
static const char *unknown_field(const osap_model_t *m, const struct api_devreq *r)
{
    const char *dash = strchr(r->resource, '-');
    const struct osap_model_resource *res;
    char rid[16];

    res = osap_model_find_resource(m, dash ? dash + 1 : r->resource);
    if (!res) return "resource";
    if (dash) {
        size_t n = (size_t)(dash - r->resource);
        if (n >= sizeof(rid)) return "resource";
        memcpy(rid, r->resource, n);
        rid[n] = '\0';
        if (!osap_model_resource_has_index(res, rid)) return "resource";
    }
    if (!osap_model_find_domain(res, r->domain)) return "domain";
    return "identifier";
}

bool api_devreq_check(struct api_call *c, struct osap_store *st, struct api_devreq *r,
                      enum osap_model_check check, const cJSON *value)
{
    struct osap_device dev;
    struct osap_catalog *cat;
    const struct osap_catalog_model *m;
    char msg[512] = "", field[128];
    osap_err err = osap_store_device_get(st, r->serial, &dev);

    if (err) {
        api_reply_store_error(c, err, API_E_DEVICE_NOT_FOUND, "device");
        return false;
    }
    if (dev.blocked) {
        api_reply_error(c, 409, API_E_DEVICE_BLOCKED, NULL, "the device is blocked");
        return false;
    }
    /* A sub-device (?child=) is not described by the model of the device in front
     * of it, and the registry has no models of sub-devices: not checked. */
    if (strcmp(r->child, OSAP_TOPIC_CHILD_SELF) != 0) return true;
    cat = api_catalog(c->api);
    m = cat ? osap_catalog_for_device(cat, dev.model, dev.dev_type, NULL) : NULL;
    if (!m) {
        osap_catalog_release(cat);
        return true; /* no model: nothing to check against */
    }
    err = osap_model_validate(m->model, check, r->resource, r->domain, r->identifier, value, msg,
                              sizeof(msg));
    switch (err) {
    case OSAP_OK: break;
    case OSAP_EMODEL_VALIDATION:
        field_of(msg, field, sizeof(field));
        api_reply_error(c, 400, API_E_VALIDATION, field[0] ? field : NULL, "%s", msg);
        break;
    case OSAP_EMODEL_UNKNOWN:
        api_reply_error(c, 400, API_E_MODEL_UNKNOWN, unknown_field(m->model, r),
                        "model %s has no %s %s/%s in resource %s: %s", m->name,
                        check == OSAP_MODEL_CHECK_INPUT ? "operation" : "attribute", r->domain,
                        r->identifier, r->resource, msg);
        break;
    case OSAP_EMODEL_ACCESS:
        api_reply_error(c, 400, API_E_NOT_WRITABLE, "identifier",
                        "attribute %s/%s of model %s is read-only", r->domain, r->identifier,
                        m->name);
        break;
    default:
        api_reply_error(c, 400, API_E_VALIDATION, NULL, "%s", msg[0] ? msg : osap_strerror(err));
        break;
    }
    osap_catalog_release(cat);
    return err == OSAP_OK;
}

/* ---- the outcome ---- */

static const char *outcome_status(osap_err err)
{
    switch (err) {
    case OSAP_OK: return OSAP_REQUEST_DONE;
    case OSAP_ENOTFOUND: return OSAP_REQUEST_OFFLINE;
    case OSAP_ETIMEDOUT: return OSAP_REQUEST_TIMEOUT;
    default: return OSAP_REQUEST_FAILED;
    }
}

static void record_work(struct api_call *c, struct osap_store *st)
{
    struct api_devreq *r = c->data;
    const struct osapd_das_result *res = &c->das_result;
    osap_err err;

    err = osap_store_request_complete(st, r->request_id, outcome_status(res->err),
                                      res->err == OSAP_OK ? (int64_t)res->seq : -1,
                                      res->err == OSAP_OK, res->code, res->output_json);
    if (err == OSAP_EINVAL && res->output_json)
        /* An output over the size kept: record the outcome without it. */
        err = osap_store_request_complete(st, r->request_id, outcome_status(res->err),
                                          (int64_t)res->seq, true, res->code, NULL);
    if (err)
        OSAP_LOGW(API_LOG, "request %lld to %s: cannot record its outcome: %s",
                  (long long)r->request_id, r->serial, osap_strerror(err));
}

/* After a device answered an attribute set, its desired value has been
 * delivered: forget it unless a newer one was stored meanwhile. */
osap_err api_devreq_desired_version(const struct osap_desired *d, void *userdata)
{
    *(int64_t *)userdata = d->version;
    return OSAP_OK;
}

static void clear_desired_work(struct api_call *c, struct osap_store *st)
{
    struct api_devreq *r = c->data;
    struct osap_attribute_filter key = {r->serial, r->child, r->resource, r->domain, r->identifier};
    int64_t version = 0;

    if (osap_store_begin(st) != OSAP_OK) return;
    if (osap_store_desired_list(st, &key, api_devreq_desired_version, &version) == OSAP_OK &&
        version == r->desired_version)
        osap_store_desired_remove(st, &key);
    if (osap_store_commit(st) != OSAP_OK) osap_store_rollback(st);
}

static void reply_outcome(struct api_call *c)
{
    struct api_devreq *r = c->data;
    const struct osapd_das_result *res = &c->das_result;
    bool set = r->kind == OSAPD_DAS_ATTRIBUTE_SET;
    cJSON *o;

    switch (res->err) {
    case OSAP_OK:
        o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "code", res->code);
        if (!set) cJSON_AddItemToObject(o, "output", api_json_value(res->output_json));
        cJSON_AddNumberToObject(o, "seq", res->seq);
        api_reply_json(c, 200, o);
        break;
    case OSAP_ENOTFOUND:
        if (set) {
            o = api_error_object(API_E_DEVICE_OFFLINE, NULL,
                                 "the device is offline; the desired value is stored and is "
                                 "delivered when the device next queries its shadow");
            if (o) {
                cJSON *d = cJSON_AddObjectToObject(o, "desired");
                cJSON_AddBoolToObject(d, "stored", true);
                cJSON_AddNumberToObject(d, "version", (double)r->desired_version);
            }
            api_reply_json(c, 409, o);
        } else {
            api_reply_error(c, 409, API_E_DEVICE_OFFLINE, NULL, "the device is offline");
        }
        break;
    case OSAP_ETIMEDOUT:
        api_reply_error(c, 504, API_E_DEVICE_TIMEOUT, NULL,
                        "the device did not answer within %u ms%s", (unsigned)r->timeout_ms,
                        set ? "; the desired value stays stored" : "");
        break;
    case OSAP_EBUSY:
        api_reply_header(c, "Retry-After", "1");
        api_reply_error(c, 503, API_E_DEVICE_BUSY, NULL,
                        "the device has too many requests in flight");
        break;
    case OSAP_ECLOSED:
        api_reply_error(c, 502, API_E_DEVICE_GONE, NULL,
                        "the device disconnected before it answered");
        break;
    case OSAP_ESTATE:
        api_reply_error(c, 503, API_E_UNAVAILABLE, NULL, "the device access service is stopping");
        break;
    default:
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "the request failed: %s",
                        osap_strerror(res->err));
        break;
    }
}

static void das_done(struct api_link_item *item, bool live)
{
    struct api_call *c = API_CONTAINER_OF(item, struct api_call, das_item);
    struct api_devreq *r = c->data;

    if (!live) {
        api_call_free(c); /* the api has stopped */
        return;
    }
    c->busy = false;
    api_link_unref(c->link);
    c->link = NULL;
    if (r->async) {
        api_call_submit(c, record_work, NULL);
        return;
    }
    reply_outcome(c);
    if (r->kind == OSAPD_DAS_ATTRIBUTE_SET && c->das_result.err == OSAP_OK)
        api_call_submit(c, clear_desired_work, NULL); /* then the reply goes */
    else
        api_call_finish(c);
}

/* On a DAS worker: keep the result and go back to the API thread. */
static void das_cb(const struct osapd_das_result *result, void *userdata)
{
    struct api_call *c = userdata;

    c->das_result = *result;
    c->das_result.output_json = result->output_json ? osap_strdup(result->output_json) : NULL;
    api_link_post(c->link, &c->das_item, das_done);
}

static void reply_accepted(struct api_call *c)
{
    struct api_devreq *r = c->data;
    cJSON *o = cJSON_CreateObject();

    cJSON_AddNumberToObject(o, "request_id", (double)r->request_id);
    cJSON_AddStringToObject(o, "status", OSAP_REQUEST_PENDING);
    cJSON_AddStringToObject(o, "kind", request_kind(r));
    api_reply_header(c, "Location", "/api/v1/requests/%lld", (long long)r->request_id);
    api_reply_json(c, 202, o);
    api_call_respond(c);
}

void api_devreq_send(struct api_call *c)
{
    struct api *api = c->api;
    struct api_devreq *r = c->data;
    struct osapd_das_request req;
    osap_err err;

    if (!api->das) {
        c->das_result.err = OSAP_ESTATE;
        if (r->async) {
            reply_accepted(c);
            api_call_submit(c, record_work, NULL);
            return;
        }
        api_reply_error(c, 503, API_E_UNAVAILABLE, NULL,
                        "the device access service does not run in this process");
        api_call_finish(c);
        return;
    }
    memset(&req, 0, sizeof(req));
    req.kind = r->kind;
    req.serial = r->serial;
    req.child = r->child;
    req.resource = r->resource;
    req.domain = r->domain;
    req.identifier = r->identifier;
    req.value_json = r->value_json;
    req.timeout_ms = r->timeout_ms;
    r->started_ms = osap_time_now_ms();
    c->link = api->link;
    api_link_ref(c->link);
    c->busy = true;
    api->device_requests++;
    err = osapd_das_request(api->das, &req, das_cb, c);
    if (err) {
        /* No callback will come. */
        c->busy = false;
        api_link_unref(c->link);
        c->link = NULL;
        c->das_result.err = err == OSAP_EINVAL ? OSAP_EINVAL : OSAP_ESTATE;
        if (r->async) {
            reply_accepted(c);
            api_call_submit(c, record_work, NULL);
            return;
        }
        if (err == OSAP_EINVAL)
            api_reply_error(c, 400, API_E_BAD_REQUEST, NULL, "the request cannot be sent: %s",
                            osap_strerror(err));
        else
            api_reply_error(c, 500, API_E_INTERNAL, NULL, "the request cannot be sent: %s",
                            osap_strerror(err));
        api_call_finish(c);
        return;
    }
    if (r->async) reply_accepted(c);
}
