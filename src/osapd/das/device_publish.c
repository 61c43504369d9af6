/* PUBLISH from an accepted OSAP device: topic rules, decryption and dispatch
 * (spec 6.6, 6.7, 7), and the device's SUBSCRIBE rules.
 *
 * Topics a device may publish on: /iot/<sn>/... (v3, envelope v3), /<domain>/<cmd>
 * (v2, envelope v2) and /<sn>/... (accepted, not interpreted). Anything else is
 * dropped and logged; the device may subscribe only below /iot/<sn>/ and /<sn>/.
 * A device's publishes are never routed to MQTT subscribers as they are (they are
 * ciphertext, and the device itself subscribes to its own topics): applications
 * get them decrypted on $osap/ (device_republish.c).
 *
 * Dispatch of v3 messages (every one is also republished on $osap/<sn>/raw/...):
 *   model/event/report/<d>/<k>        -> ingest (event); PUBACK once it is stored
 *   model/attribute/report/<d>/<k>    -> ingest (attribute, data.Value)
 *   basic/shadow/report               -> ingest (attribute, state.reported, version)
 *   basic/shadow/query                -> query_reply from the desired table
 *   model/attribute/set_reply/<d>/<k>, model/service/operate_reply/<d>/<k>,
 *   basic/shadow/set_reply            -> the pending platform request with that Seq
 *   ota/inform/report, ota/progress/report, ota/upgrade/operate_reply -> logged
 * v2 messages are republished on $osap/<sn>/v2/<domain>/<cmd> and logged; a profile
 * query (1100/0x3870) goes to the profile handler (das_api.h) when one is set, with
 * the device's thing model.
 * Events and attribute reports are checked against the device's thing model
 * (device_models.c): one that does not match is still stored and acknowledged,
 * marked with the reason.
 * Payloads that do not decrypt or whose envelope is malformed are dropped and
 * counted (logged at debug level, never with key material). */
#include "das/device_internal.h"

#include "log.h"
#include "osap/alloc.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static bool span_is(struct osap_topic_span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.ptr, lit, n) == 0;
}

/* True when @p p (len bytes) starts with "<pre><sn>/". */
static bool under(const char *p, size_t len, const char *pre, const struct device *dev)
{
    size_t n = strlen(pre);
    return len > n + dev->serial_len && memcmp(p, pre, n) == 0 &&
           memcmp(p + n, dev->serial, dev->serial_len) == 0 && p[n + dev->serial_len] == '/';
}

/* A NUL-terminated copy of a span into @p out (cap bytes); false when it does not fit. */
static bool span_copy(struct osap_topic_span s, char *out, size_t cap)
{
    if (s.len >= cap) return false;
    memcpy(out, s.ptr, s.len);
    out[s.len] = '\0';
    return true;
}

osap_err device_send(struct device *dev, const char *topic, size_t topic_len, const char *common,
                     size_t common_len, const uint8_t *body, size_t body_len, int qos,
                     uint16_t *pid)
{
    size_t cap = osap_envelope_sealed_len(common_len, body_len), len = 0;
    uint16_t id = 0;
    uint8_t *out;
    osap_err err;

    if (cap == 0) return OSAP_ETOOBIG;
    out = osap_malloc(cap);
    if (!out) return OSAP_ENOMEM;
    err = osap_envelope_seal(dev->key, common, common_len, body, body_len, out, cap, &len);
    if (err == OSAP_OK) err = das_conn_publish(dev->conn, topic, topic_len, out, len, qos, &id);
    osap_free(out);
    if (err == OSAP_OK && pid) *pid = id;
    return err;
}

/* ------------------------------------------------------------------------ */
/* Events: acknowledged once stored                                         */
/* ------------------------------------------------------------------------ */

struct ack_job {
    struct device_layer *layer;
    uint32_t worker;
    struct das_conn_ref ref;
    uint16_t pid;
    osap_err err;
    int duplicate;
    char serial[OSAP_SUBSERIAL_MAX + 1];
};

static void ack_run(struct das_worker *w, void *arg)
{
    struct ack_job *job = arg;
    struct das_conn *c = das_conn_resolve(w, job->ref);

    if (job->err == OSAP_OK) {
        device_count(&job->layer->stats.events);
        if (c) das_conn_puback(c, job->pid);
    } else if (c) {
        /* Not acknowledged: closing makes the device publish it again after its
         * reconnection (spec 6.6: a failed publish is re-queued once). */
        OSAP_LOGW(DEVICE_LOG, "device %s: event not stored (%s): closing the connection",
                  job->serial, osap_strerror(job->err));
        das_conn_close(c, "event not stored", 1);
    }
    osap_free(job);
}

/* Ingest thread: the event's transaction is over. */
static void on_event_stored(osap_err err, int duplicate, void *userdata)
{
    struct ack_job *job = userdata;
    job->err = err;
    job->duplicate = duplicate;
    if (das_post(job->layer->das, job->worker, ack_run, job) != OSAP_OK) osap_free(job);
}

/* The device's value against its thing model: NULL when it matches (or there is
 * no model), else the reason in @p reason. @p body is the JSON text of the value. */
static const char *check_value(struct device *dev, enum osap_model_check check,
                               const char *resource, const char *domain, const char *identifier,
                               const uint8_t *body, size_t len, char *reason, size_t cap)
{
    cJSON *value;
    const char *why;

    if (!device_model(dev)) return NULL;
    value = device_json_parse(body, len);
    why = device_model_check(dev, check, resource, domain, identifier, value, value != NULL, reason,
                             cap);
    cJSON_Delete(value);
    if (why)
        OSAP_LOGD(DEVICE_LOG, "device %s: %s %s/%s in %s does not match its model: %s", dev->serial,
                  check == OSAP_MODEL_CHECK_EVENT ? "event" : "attribute", domain, identifier,
                  resource, why);
    return why;
}

static int handle_event(struct device *dev, const struct osap_mqtt_publish *pkt,
                        const struct osap_topic_v3 *t, uint32_t seq, const uint8_t *body,
                        size_t len)
{
    struct device_layer *l = dev->dw->layer;
    char child[OSAP_TOPIC_CHILD_MAX + 1], resource[OSAP_STORE_RESOURCE_MAX + 1];
    char domain[OSAP_TOPIC_EXT_PART_MAX + 1], identifier[OSAP_TOPIC_EXT_PART_MAX + 1];
    char uuid[65], reason[DEVICE_INVALID_MAX + 1];
    struct ingest_record r;
    struct ack_job *job = NULL;
    char *payload;
    osap_err err;

    payload = device_json_text(body, len);
    if (!payload) {
        OSAP_LOGI(DEVICE_LOG, "device %s: event %.*s/%.*s dropped: body is not text", dev->serial,
                  (int)t->domain.len, t->domain.ptr, (int)t->identifier.len, t->identifier.ptr);
        return DAS_PUB_DROP;
    }
    memset(&r, 0, sizeof(r));
    span_copy(t->child, child, sizeof(child));
    snprintf(resource, sizeof(resource), "%.*s-%.*s", (int)t->rid.len, t->rid.ptr,
             (int)t->rtype.len, t->rtype.ptr);
    span_copy(t->domain, domain, sizeof(domain));
    span_copy(t->identifier, identifier, sizeof(identifier));
    device_json_event(body, len, uuid, &r.device_time_ms, &r.level);
    r.invalid = check_value(dev, OSAP_MODEL_CHECK_EVENT, resource, domain, identifier, body, len,
                            reason, sizeof(reason));
    r.kind = INGEST_EVENT;
    r.serial = dev->serial;
    r.child = child;
    r.resource = resource;
    r.domain = domain;
    r.identifier = identifier;
    r.payload_json = payload;
    r.uuid = uuid[0] ? uuid : NULL;
    r.seq = seq;
    r.version = -1;
    r.dedup_since_ms = dev->entry->session_since;
    if (pkt->qos == 1) {
        job = osap_malloc(sizeof(*job));
        if (!job) {
            osap_free(payload);
            return DAS_PUB_CLOSE;
        }
        job->layer = l;
        job->worker = dev->dw->index;
        job->ref = das_conn_ref(dev->conn);
        job->pid = pkt->packet_id;
        job->err = OSAP_OK;
        job->duplicate = 0;
        memcpy(job->serial, dev->serial, dev->serial_len + 1);
    }
    err = ingest_submit(l->ing, &r, job ? on_event_stored : NULL, job);
    osap_free(payload);
    if (err) {
        osap_free(job);
        OSAP_LOGW(DEVICE_LOG, "device %s: event not queued for storage (%s)%s", dev->serial,
                  osap_strerror(err), pkt->qos == 1 ? ": closing the connection" : "");
        /* Not acknowledged; the device sends it again after reconnecting. */
        return pkt->qos == 1 ? DAS_PUB_CLOSE : DAS_PUB_DROP;
    }
    if (pkt->qos != 1) device_count(&l->stats.events);
    return pkt->qos == 1 ? DAS_PUB_ACK_LATER : DAS_PUB_ACK_NOW;
}

/* ------------------------------------------------------------------------ */
/* Attribute reports                                                        */
/* ------------------------------------------------------------------------ */

static void store_attribute(struct device *dev, const struct osap_topic_v3 *t, const char *domain,
                            const char *identifier, const char *value_json, int64_t version)
{
    char child[OSAP_TOPIC_CHILD_MAX + 1], resource[OSAP_STORE_RESOURCE_MAX + 1];
    char reason[DEVICE_INVALID_MAX + 1];
    struct ingest_record r;
    osap_err err;

    memset(&r, 0, sizeof(r));
    span_copy(t->child, child, sizeof(child));
    snprintf(resource, sizeof(resource), "%.*s-%.*s", (int)t->rid.len, t->rid.ptr,
             (int)t->rtype.len, t->rtype.ptr);
    r.invalid =
        check_value(dev, OSAP_MODEL_CHECK_REPORT, resource, domain, identifier,
                    (const uint8_t *)value_json, strlen(value_json), reason, sizeof(reason));
    r.kind = INGEST_ATTRIBUTE;
    r.serial = dev->serial;
    r.child = child;
    r.resource = resource;
    r.domain = domain;
    r.identifier = identifier;
    r.payload_json = value_json;
    r.version = version;
    err = ingest_submit(dev->dw->layer->ing, &r, NULL, NULL);
    if (err)
        OSAP_LOGW(DEVICE_LOG, "device %s: attribute %s/%s not stored: %s", dev->serial, domain,
                  identifier, osap_strerror(err));
}

/* model/attribute/report/<d>/<k> {"data":{"Value":v}} (or {"data":v}). */
static void handle_model_attribute(struct device *dev, struct device_app_msg *m)
{
    const struct osap_topic_v3 *t = m->t;
    char domain[OSAP_TOPIC_EXT_PART_MAX + 1], identifier[OSAP_TOPIC_EXT_PART_MAX + 1];
    cJSON *root = device_json_parse(m->body, m->body_len), *data, *value;
    char *value_json = NULL;

    data = cJSON_GetObjectItemCaseSensitive(root, "data");
    value = cJSON_IsObject(data) ? cJSON_GetObjectItemCaseSensitive(data, "Value") : NULL;
    if (!value) value = data;
    if (value) value_json = cJSON_PrintUnformatted(value);
    span_copy(t->domain, domain, sizeof(domain));
    span_copy(t->identifier, identifier, sizeof(identifier));
    if (value_json) {
        store_attribute(dev, t, domain, identifier, value_json, -1);
    } else {
        OSAP_LOGI(DEVICE_LOG, "device %s: attribute report %s/%s without data", dev->serial, domain,
                  identifier);
    }
    m->kind = DEVICE_APP_ATTRIBUTE;
    m->domain = t->domain;
    m->identifier = t->identifier;
    m->value_json = value_json;
    device_republish(dev, m);
    cJSON_free(value_json);
    cJSON_Delete(root);
}

/* basic/shadow/report {"method":"report","state":{"reported":{"domain":..,
 * "identifier":..,"value":..},"version":n}}. */
static void handle_shadow_report(struct device *dev, struct device_app_msg *m)
{
    cJSON *root = device_json_parse(m->body, m->body_len), *state, *rep, *d, *k, *v, *ver;
    char *value_json = NULL;
    int64_t version = -1;

    state = cJSON_GetObjectItemCaseSensitive(root, "state");
    rep = cJSON_GetObjectItemCaseSensitive(state, "reported");
    d = cJSON_GetObjectItemCaseSensitive(rep, "domain");
    k = cJSON_GetObjectItemCaseSensitive(rep, "identifier");
    v = cJSON_GetObjectItemCaseSensitive(rep, "value");
    ver = cJSON_GetObjectItemCaseSensitive(state, "version");
    if (!cJSON_IsString(d) || !cJSON_IsString(k) || !v) {
        OSAP_LOGI(DEVICE_LOG, "device %s: malformed shadow report dropped", dev->serial);
        goto out;
    }
    if (cJSON_IsNumber(ver) && ver->valuedouble >= 0 && ver->valuedouble < 9.0e15)
        version = (int64_t)ver->valuedouble;
    value_json = cJSON_PrintUnformatted(v);
    if (!value_json) goto out;
    store_attribute(dev, m->t, d->valuestring, k->valuestring, value_json, version);
    m->kind = DEVICE_APP_ATTRIBUTE;
    m->domain = osap_topic_span_str(d->valuestring);
    m->identifier = osap_topic_span_str(k->valuestring);
    m->value_json = value_json;
    device_republish(dev, m);
out:
    cJSON_free(value_json);
    cJSON_Delete(root);
}

/* ------------------------------------------------------------------------ */
/* Replies to platform requests                                             */
/* ------------------------------------------------------------------------ */

static void handle_reply(struct device *dev, struct device_app_msg *m,
                         enum osapd_das_request_kind kind, const char *method)
{
    struct device_layer *l = dev->dw->layer;
    char domain[32] = "", identifier[32] = "";
    char *output = NULL;
    struct ingest_record r;
    int code = 0;
    bool has_code = device_json_reply(m->body, m->body_len, &code, &output);
    bool matched;
    char *body_json;

    matched = device_requests_reply(dev, kind, m->t, m->seq, has_code ? code : -1, output, domain,
                                    identifier);
    if (!matched) {
        device_count(&l->stats.unmatched);
        OSAP_LOGD(DEVICE_LOG, "device %s: %s with Seq %u matches no pending request", dev->serial,
                  method, m->seq);
        if (m->t->domain.len) {
            span_copy(m->t->domain, domain, sizeof(domain));
            span_copy(m->t->identifier, identifier, sizeof(identifier));
        }
    }
    /* For listeners (the request log, live streams). */
    body_json = device_json_text(m->body, m->body_len);
    if (body_json && domain[0]) {
        memset(&r, 0, sizeof(r));
        r.kind = INGEST_REPLY;
        r.serial = dev->serial;
        r.domain = domain;
        r.identifier = identifier;
        r.payload_json = body_json;
        r.seq = m->seq;
        r.version = -1;
        ingest_submit(l->ing, &r, NULL, NULL);
    }
    osap_free(body_json);
    if (domain[0]) {
        m->kind = DEVICE_APP_REPLY;
        m->domain = osap_topic_span_str(domain);
        m->identifier = osap_topic_span_str(identifier);
        m->method = method;
        m->has_code = has_code;
        m->code = code;
        device_republish(dev, m);
    }
    cJSON_free(output);
}

/* ------------------------------------------------------------------------ */
/* Dispatch                                                                 */
/* ------------------------------------------------------------------------ */

static int dispatch_v3(struct device *dev, const struct osap_mqtt_publish *pkt,
                       const struct osap_topic_v3 *t, uint32_t seq, const uint8_t *body, size_t len)
{
    struct device_app_msg m;
    int verdict = DAS_PUB_ACK_NOW;

    memset(&m, 0, sizeof(m));
    m.t = t;
    m.topic = pkt->topic.ptr;
    m.topic_len = pkt->topic.len;
    m.seq = seq;
    m.body = body;
    m.body_len = len;

    if (span_is(t->module, OSAP_MODULE_MODEL)) {
        if (span_is(t->method, "event") && span_is(t->msg_type, "report")) {
            verdict = handle_event(dev, pkt, t, seq, body, len);
            if (verdict != DAS_PUB_CLOSE) {
                m.kind = DEVICE_APP_EVENT;
                m.domain = t->domain;
                m.identifier = t->identifier;
                device_republish(dev, &m);
            }
        } else if (span_is(t->method, "attribute") && span_is(t->msg_type, "report")) {
            handle_model_attribute(dev, &m);
        } else if (span_is(t->method, "attribute") && span_is(t->msg_type, "set_reply")) {
            handle_reply(dev, &m, OSAPD_DAS_ATTRIBUTE_SET, "attribute/set_reply");
        } else if (span_is(t->method, "service") && span_is(t->msg_type, "operate_reply")) {
            handle_reply(dev, &m, OSAPD_DAS_OPERATE, "service/operate_reply");
        } else {
            OSAP_LOGD(DEVICE_LOG, "device %s: model message %.*s", dev->serial, (int)pkt->topic.len,
                      pkt->topic.ptr);
        }
    } else if (span_is(t->module, OSAP_MODULE_BASIC) && span_is(t->method, "shadow")) {
        if (span_is(t->msg_type, "report"))
            handle_shadow_report(dev, &m);
        else if (span_is(t->msg_type, "query")) {
            /* The query's PUBACK goes out before the reply, as the device expects
             * (it acknowledges, then handles what follows). */
            if (pkt->qos == 1) {
                das_conn_puback(dev->conn, pkt->packet_id);
                verdict = DAS_PUB_ACK_LATER;
            }
            device_shadow_query(dev, t, seq, body, len);
        } else if (span_is(t->msg_type, "set_reply"))
            handle_reply(dev, &m, OSAPD_DAS_SHADOW_SET, "shadow/set_reply");
        else
            OSAP_LOGD(DEVICE_LOG, "device %s: shadow message %.*s", dev->serial,
                      (int)pkt->topic.len, pkt->topic.ptr);
    } else if (span_is(t->module, OSAP_MODULE_OTA)) {
        bool text = device_utf8_valid(body, len);
        OSAP_LOGI(DEVICE_LOG, "device %s: OTA %.*s/%.*s: %.*s", dev->serial, (int)t->method.len,
                  t->method.ptr, (int)t->msg_type.len, t->msg_type.ptr,
                  text ? (int)(len > 512 ? 512 : len) : 8, text ? (const char *)body : "(binary)");
    } else {
        OSAP_LOGD(DEVICE_LOG, "device %s: message on %.*s", dev->serial, (int)pkt->topic.len,
                  pkt->topic.ptr);
    }
    if (verdict != DAS_PUB_CLOSE) { /* not stored: the device sends it again */
        m.kind = DEVICE_APP_RAW;
        device_republish(dev, &m);
    }
    return verdict;
}

static void dispatch_v2(struct device *dev, const struct osap_topic_v2 *t,
                        const struct osap_envelope_common *common, const uint8_t *body, size_t len)
{
    struct device_layer *l = dev->dw->layer;

    OSAP_LOGD(DEVICE_LOG, "device %s: v2 message %u/%u (Seq %u, %zu bytes)", dev->serial, t->domain,
              t->cmd, common->seq, len);
    if (t->domain == OSAP_DOMAIN_BASE && t->cmd == OSAP_CMD_BASE_PROFILE_QUERY) {
        osapd_das_profile_cb cb = atomic_load(&l->profile_cb);
        void *ud = atomic_load(&l->profile_ud);
        const struct osap_catalog_model *m = device_model(dev);
        char *text = osap_strndup((const char *)body, len);
        if (cb && text)
            cb(das_to_api(l->das), dev->serial, m ? m->name : "", text, common->seq, ud);
        else
            OSAP_LOGI(DEVICE_LOG, "device %s asks for its thing-model profile: not served",
                      dev->serial);
        osap_free(text);
    }
    device_republish_v2(dev, t, common, body, len);
}

int device_on_publish(void *ud, struct das_conn *c, const struct osap_mqtt_publish *pkt, int *route)
{
    struct device_layer *l = ud;
    struct device *dev = das_conn_device(c);
    const char *topic = pkt->topic.ptr;
    size_t topic_len = pkt->topic.len;
    struct osap_envelope_common common;
    struct osap_envelope_view view;
    struct osap_topic_v3 t3;
    struct osap_topic_v2 t2;
    int version;
    uint8_t *plain;
    osap_err err;

    *route = 0;
    if (!dev) return DAS_PUB_DROP;
    if (under(topic, topic_len, OSAP_TOPIC_V3_PREFIX, dev)) {
        if (osap_topic_v3_parse(topic, topic_len, &t3) != OSAP_OK) {
            OSAP_LOGI(DEVICE_LOG, "device %s: malformed topic %.*s: dropped", dev->serial,
                      (int)topic_len, topic);
            device_count(&l->stats.refused);
            return DAS_PUB_DROP;
        }
        version = OSAP_ENVELOPE_V3;
    } else if (osap_topic_v2_parse(topic, topic_len, &t2) == OSAP_OK && t2.serial.len == 0) {
        version = OSAP_ENVELOPE_V2;
    } else if (under(topic, topic_len, "/", dev)) {
        OSAP_LOGD(DEVICE_LOG, "device %s: publish on %.*s (not interpreted)", dev->serial,
                  (int)topic_len, topic);
        return DAS_PUB_ACK_NOW;
    } else {
        OSAP_LOGI(DEVICE_LOG, "device %s: publish on %.*s refused: not one of its topics",
                  dev->serial, (int)(topic_len > 200 ? 200 : topic_len), topic);
        device_count(&l->stats.refused);
        return DAS_PUB_DROP;
    }

    plain = device_scratch(dev->dw, pkt->payload.len ? pkt->payload.len : 1);
    if (!plain) return DAS_PUB_CLOSE;
    err = osap_envelope_open(dev->key, pkt->payload.ptr, pkt->payload.len, plain, pkt->payload.len,
                             &view);
    if (err == OSAP_OK)
        err = osap_envelope_common_parse(version, view.common, view.common_len, &common);
    if (err) {
        device_count(&l->stats.undecryptable);
        OSAP_LOGD(DEVICE_LOG, "device %s: payload on %.*s dropped: %s (%zu bytes)", dev->serial,
                  (int)topic_len, topic, osap_strerror(err), pkt->payload.len);
        return err == OSAP_ENOMEM ? DAS_PUB_CLOSE : DAS_PUB_DROP;
    }
    if (version == OSAP_ENVELOPE_V3)
        return dispatch_v3(dev, pkt, &t3, common.seq, view.body, view.body_len);
    dispatch_v2(dev, &t2, &common, view.body, view.body_len);
    return DAS_PUB_ACK_NOW;
}

int device_on_subscribe(void *ud, struct das_conn *c, const uint8_t *filter, size_t len)
{
    struct device_layer *l = ud;
    struct device *dev = das_conn_device(c);
    const char *f = (const char *)filter;

    if (dev && (under(f, len, OSAP_TOPIC_V3_PREFIX, dev) || under(f, len, "/", dev))) return 1;
    OSAP_LOGI(DEVICE_LOG, "device %s: subscription to %.*s refused", dev ? dev->serial : "?",
              (int)(len > 200 ? 200 : len), f);
    device_count(&l->stats.refused);
    return 0;
}
