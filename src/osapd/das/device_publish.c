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
 * no model), else the reason in @p reason. @p body is the JSON text of the value.
 * A sub-device's values (@p child other than "global") are not checked: the model
 * of the device in front of it does not describe it. */
static const char *check_value(struct device *dev, enum osap_model_check check, const char *child,
                               const char *resource, const char *domain, const char *identifier,
                               const uint8_t *body, size_t len, char *reason, size_t cap)
{
    cJSON *value;
    const char *why;

    if (strcmp(child, OSAP_TOPIC_CHILD_SELF) != 0 || !device_model(dev)) return NULL;
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
                        const struct device_msg *m)
{
    struct device_layer *l = dev->dw->layer;
    char reason[DEVICE_INVALID_MAX + 1];
    struct ingest_record r;
    struct ack_job *job = NULL;
    osap_err err;

    if (!m->payload_json) {
        OSAP_LOGI(DEVICE_LOG, "device %s: event %s/%s dropped: body is not text", dev->serial,
                  m->domain, m->identifier);
        return DAS_PUB_DROP;
    }
    memset(&r, 0, sizeof(r));
    r.device_time_ms = m->time_ms;
    r.level = m->level;
    r.invalid = check_value(dev, OSAP_MODEL_CHECK_EVENT, m->child, m->resource, m->domain,
                            m->identifier, m->body, m->body_len, reason, sizeof(reason));
    r.kind = INGEST_EVENT;
    r.serial = dev->serial;
    r.child = m->child;
    r.resource = m->resource;
    r.domain = m->domain;
    r.identifier = m->identifier;
    r.payload_json = m->payload_json;
    r.uuid = m->uuid[0] ? m->uuid : NULL;
    r.seq = m->common.seq;
    r.version = -1;
    r.dedup_since_ms = dev->entry->session_since;
    if (pkt->qos == 1) {
        job = osap_malloc(sizeof(*job));
        if (!job) return DAS_PUB_CLOSE;
        job->layer = l;
        job->worker = dev->dw->index;
        job->ref = das_conn_ref(dev->conn);
        job->pid = pkt->packet_id;
        job->err = OSAP_OK;
        job->duplicate = 0;
        memcpy(job->serial, dev->serial, dev->serial_len + 1);
    }
    err = ingest_submit(l->ing, &r, job ? on_event_stored : NULL, job);
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

static void store_attribute(struct device *dev, const struct device_msg *m, const char *domain,
                            const char *identifier, const char *value_json, int64_t version)
{
    char reason[DEVICE_INVALID_MAX + 1];
    struct ingest_record r;
    osap_err err;

    memset(&r, 0, sizeof(r));
    r.invalid =
        check_value(dev, OSAP_MODEL_CHECK_REPORT, m->child, m->resource, domain, identifier,
                    (const uint8_t *)value_json, strlen(value_json), reason, sizeof(reason));
    r.kind = INGEST_ATTRIBUTE;
    r.serial = dev->serial;
    r.child = m->child;
    r.resource = m->resource;
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
static void handle_model_attribute(struct device *dev, const struct device_msg *dm,
                                   struct device_app_msg *m)
{
    if (dm->value_json) {
        store_attribute(dev, dm, dm->domain, dm->identifier, dm->value_json, -1);
    } else {
        OSAP_LOGI(DEVICE_LOG, "device %s: attribute report %s/%s without data", dev->serial,
                  dm->domain, dm->identifier);
    }
    m->kind = DEVICE_APP_ATTRIBUTE;
    m->domain = dm->t3.domain;
    m->identifier = dm->t3.identifier;
    m->value_json = dm->value_json;
    device_republish(dev, m);
}

/* basic/shadow/report {"method":"report","state":{"reported":{"domain":..,
 * "identifier":..,"value":..},"version":n}}. */
static void handle_shadow_report(struct device *dev, const struct device_msg *dm,
                                 struct device_app_msg *m)
{
    if (!dm->value_json) {
        OSAP_LOGI(DEVICE_LOG, "device %s: malformed shadow report dropped", dev->serial);
        return;
    }
    store_attribute(dev, dm, dm->report_domain, dm->report_identifier, dm->value_json, dm->version);
    m->kind = DEVICE_APP_ATTRIBUTE;
    m->domain = osap_topic_span_str(dm->report_domain);
    m->identifier = osap_topic_span_str(dm->report_identifier);
    m->value_json = dm->value_json;
    device_republish(dev, m);
}

/* ------------------------------------------------------------------------ */
/* Replies to platform requests                                             */
/* ------------------------------------------------------------------------ */

static void handle_reply(struct device *dev, const struct device_msg *dm, struct device_app_msg *m)
{
    struct device_layer *l = dev->dw->layer;
    char domain[32] = "", identifier[32] = "";
    struct ingest_record r;
    bool matched;

    matched =
        device_requests_reply(dev, dm->request, &dm->t3, dm->common.seq,
                              dm->has_code ? dm->code : -1, dm->output_json, domain, identifier);
    if (!matched) {
        device_count(&l->stats.unmatched);
        OSAP_LOGD(DEVICE_LOG, "device %s: %s with Seq %u matches no pending request", dev->serial,
                  dm->method, dm->common.seq);
        if (dm->t3.domain.len) {
            span_copy(dm->t3.domain, domain, sizeof(domain));
            span_copy(dm->t3.identifier, identifier, sizeof(identifier));
        }
    }
    /* For listeners (the request log, live streams). */
    if (dm->body_json && domain[0]) {
        memset(&r, 0, sizeof(r));
        r.kind = INGEST_REPLY;
        r.serial = dev->serial;
        r.domain = domain;
        r.identifier = identifier;
        r.payload_json = dm->body_json;
        r.seq = dm->common.seq;
        r.version = -1;
        ingest_submit(l->ing, &r, NULL, NULL);
    }
    if (domain[0]) {
        m->kind = DEVICE_APP_REPLY;
        m->domain = osap_topic_span_str(domain);
        m->identifier = osap_topic_span_str(identifier);
        m->method = dm->method;
        m->has_code = dm->has_code;
        m->code = dm->code;
        device_republish(dev, m);
    }
}

/* ------------------------------------------------------------------------ */
/* Dispatch                                                                 */
/* ------------------------------------------------------------------------ */

static int dispatch_v3(struct device *dev, const struct osap_mqtt_publish *pkt,
                       const struct device_msg *dm)
{
    const struct osap_topic_v3 *t = &dm->t3;
    struct device_app_msg m;
    int verdict = DAS_PUB_ACK_NOW;

    memset(&m, 0, sizeof(m));
    m.t = t;
    m.topic = pkt->topic.ptr;
    m.topic_len = pkt->topic.len;
    m.seq = dm->common.seq;
    m.body = dm->body;
    m.body_len = dm->body_len;

    switch (dm->kind) {
    case DEVICE_MSG_EVENT:
        verdict = handle_event(dev, pkt, dm);
        if (verdict != DAS_PUB_CLOSE) {
            m.kind = DEVICE_APP_EVENT;
            m.domain = t->domain;
            m.identifier = t->identifier;
            device_republish(dev, &m);
        }
        break;
    case DEVICE_MSG_ATTRIBUTE: handle_model_attribute(dev, dm, &m); break;
    case DEVICE_MSG_SHADOW_REPORT: handle_shadow_report(dev, dm, &m); break;
    case DEVICE_MSG_SHADOW_QUERY:
        /* The query's PUBACK goes out before the reply, as the device expects
         * (it acknowledges, then handles what follows). */
        if (pkt->qos == 1) {
            das_conn_puback(dev->conn, pkt->packet_id);
            verdict = DAS_PUB_ACK_LATER;
        }
        device_shadow_query(dev, t, dm->common.seq, dm->window);
        break;
    case DEVICE_MSG_REPLY: handle_reply(dev, dm, &m); break;
    case DEVICE_MSG_OTA:
        OSAP_LOGI(DEVICE_LOG, "device %s: OTA %.*s/%.*s: %.*s", dev->serial, (int)t->method.len,
                  t->method.ptr, (int)t->msg_type.len, t->msg_type.ptr,
                  dm->text ? (int)(dm->body_len > 512 ? 512 : dm->body_len) : 8,
                  dm->text ? (const char *)dm->body : "(binary)");
        break;
    default:
        OSAP_LOGD(DEVICE_LOG, "device %s: message on %.*s", dev->serial, (int)pkt->topic.len,
                  pkt->topic.ptr);
        break;
    }
    if (verdict != DAS_PUB_CLOSE) { /* not stored: the device sends it again */
        m.kind = DEVICE_APP_RAW;
        device_republish(dev, &m);
    }
    return verdict;
}

static void dispatch_v2(struct device *dev, const struct device_msg *dm)
{
    struct device_layer *l = dev->dw->layer;

    OSAP_LOGD(DEVICE_LOG, "device %s: v2 message %u/%u (Seq %u, %zu bytes)", dev->serial,
              dm->t2.domain, dm->t2.cmd, dm->common.seq, dm->body_len);
    if (dm->kind == DEVICE_MSG_PROFILE_QUERY) {
        osapd_das_profile_cb cb = atomic_load(&l->profile_cb);
        void *ud = atomic_load(&l->profile_ud);
        const struct osap_catalog_model *m = device_model(dev);
        if (cb && dm->profile_json)
            cb(das_to_api(l->das), dev->serial, m ? m->name : "", dm->profile_json, dm->common.seq,
               ud);
        else
            OSAP_LOGI(DEVICE_LOG, "device %s asks for its thing-model profile: not served",
                      dev->serial);
    }
    device_republish_v2(dev, &dm->t2, &dm->common, dm->body, dm->body_len);
}

int device_on_publish(void *ud, struct das_conn *c, const struct osap_mqtt_publish *pkt, int *route)
{
    struct device_layer *l = ud;
    struct device *dev = das_conn_device(c);
    const char *topic = pkt->topic.ptr;
    size_t topic_len = pkt->topic.len;
    struct osap_envelope_view view;
    struct device_msg m;
    uint8_t *plain;
    osap_err err;
    int verdict;

    *route = 0;
    if (!dev) return DAS_PUB_DROP;
    switch (device_msg_route(dev->serial, dev->serial_len, topic, topic_len, &m)) {
    case DEVICE_MSG_MALFORMED:
        OSAP_LOGI(DEVICE_LOG, "device %s: malformed topic %.*s: dropped", dev->serial,
                  (int)topic_len, topic);
        device_count(&l->stats.refused);
        return DAS_PUB_DROP;
    case DEVICE_MSG_OWN:
        OSAP_LOGD(DEVICE_LOG, "device %s: publish on %.*s (not interpreted)", dev->serial,
                  (int)topic_len, topic);
        return DAS_PUB_ACK_NOW;
    case DEVICE_MSG_FOREIGN:
        OSAP_LOGI(DEVICE_LOG, "device %s: publish on %.*s refused: not one of its topics",
                  dev->serial, (int)(topic_len > 200 ? 200 : topic_len), topic);
        device_count(&l->stats.refused);
        return DAS_PUB_DROP;
    case DEVICE_MSG_V3:
    case DEVICE_MSG_V2: break;
    }

    plain = device_scratch(dev->dw, pkt->payload.len ? pkt->payload.len : 1);
    if (!plain) return DAS_PUB_CLOSE;
    err = osap_envelope_open(dev->key, pkt->payload.ptr, pkt->payload.len, plain, pkt->payload.len,
                             &view);
    if (err == OSAP_OK) err = device_msg_decode(&m, &view);
    if (err) {
        device_count(&l->stats.undecryptable);
        OSAP_LOGD(DEVICE_LOG, "device %s: payload on %.*s dropped: %s (%zu bytes)", dev->serial,
                  (int)topic_len, topic, osap_strerror(err), pkt->payload.len);
        device_msg_release(&m);
        return err == OSAP_ENOMEM ? DAS_PUB_CLOSE : DAS_PUB_DROP;
    }
    if (m.route == DEVICE_MSG_V3) {
        verdict = dispatch_v3(dev, pkt, &m);
    } else {
        dispatch_v2(dev, &m);
        verdict = DAS_PUB_ACK_NOW;
    }
    device_msg_release(&m);
    return verdict;
}

int device_on_subscribe(void *ud, struct das_conn *c, const uint8_t *filter, size_t len)
{
    struct device_layer *l = ud;
    struct device *dev = das_conn_device(c);
    const char *f = (const char *)filter;

    if (dev && (device_topic_under(f, len, OSAP_TOPIC_V3_PREFIX, dev->serial, dev->serial_len) ||
                device_topic_under(f, len, "/", dev->serial, dev->serial_len)))
        return 1;
    OSAP_LOGI(DEVICE_LOG, "device %s: subscription to %.*s refused", dev ? dev->serial : "?",
              (int)(len > 200 ? 200 : len), f);
    device_count(&l->stats.refused);
    return 0;
}
