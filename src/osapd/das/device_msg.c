/* What a device's message is and what it says, without I/O: the topic rules
 * (which topics a device may publish on, and how each is read), then, once the
 * payload is decrypted, the common JSON and what the body carries for each kind
 * of message (device_publish.c acts on it: storage, replies, republishing).
 * Everything here is a function of the serial, the topic and the plaintext. */
#include "das/device_internal.h"

#include "osap/alloc.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

/* Without a windowsize: what fits in the device's message buffer. */
#define REPLY_BODY_MAX (OSAP_MESSAGE_MAX - OSAP_TOPIC_V3_MAX - 64)

bool device_topic_under(const char *p, size_t len, const char *pre, const char *serial,
                        size_t serial_len)
{
    size_t n = strlen(pre);
    return len > n + serial_len && memcmp(p, pre, n) == 0 &&
           memcmp(p + n, serial, serial_len) == 0 && p[n + serial_len] == '/';
}

static bool span_is(struct osap_topic_span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.ptr, lit, n) == 0;
}

/* A NUL-terminated copy of a span into @p out (cap bytes; "" when it does not fit,
 * which the topic limits rule out). */
static void span_copy(struct osap_topic_span s, char *out, size_t cap)
{
    if (s.len >= cap) {
        out[0] = '\0';
        return;
    }
    if (s.len) memcpy(out, s.ptr, s.len); /* an absent level has no pointer */
    out[s.len] = '\0';
}

enum device_msg_route device_msg_route(const char *serial, size_t serial_len, const char *topic,
                                       size_t topic_len, struct device_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->version = -1;
    m->topic = topic;
    m->topic_len = topic_len;
    if (device_topic_under(topic, topic_len, OSAP_TOPIC_V3_PREFIX, serial, serial_len))
        m->route = osap_topic_v3_parse(topic, topic_len, &m->t3) == OSAP_OK ? DEVICE_MSG_V3
                                                                            : DEVICE_MSG_MALFORMED;
    else if (osap_topic_v2_parse(topic, topic_len, &m->t2) == OSAP_OK && m->t2.serial.len == 0)
        m->route = DEVICE_MSG_V2;
    else if (device_topic_under(topic, topic_len, "/", serial, serial_len))
        m->route = DEVICE_MSG_OWN;
    else
        m->route = DEVICE_MSG_FOREIGN;
    return m->route;
}

/* The query's "windowsize" bounds the reply body (at least 64 bytes). */
static size_t window_of(const uint8_t *body, size_t len)
{
    cJSON *root = device_json_parse(body, len);
    cJSON *ws = cJSON_GetObjectItemCaseSensitive(root, "windowsize");
    size_t window = REPLY_BODY_MAX;
    if (cJSON_IsNumber(ws) && ws->valuedouble >= 64 && ws->valuedouble < (double)REPLY_BODY_MAX)
        window = (size_t)ws->valuedouble;
    cJSON_Delete(root);
    return window;
}

/* model/attribute/report {"data":{"Value":v}} (or {"data":v}): v as JSON text. */
static void read_attribute(struct device_msg *m)
{
    cJSON *root = device_json_parse(m->body, m->body_len), *data, *value;

    data = cJSON_GetObjectItemCaseSensitive(root, "data");
    value = cJSON_IsObject(data) ? cJSON_GetObjectItemCaseSensitive(data, "Value") : NULL;
    if (!value) value = data;
    if (value) m->value_json = cJSON_PrintUnformatted(value);
    cJSON_Delete(root);
}

/* basic/shadow/report {"method":"report","state":{"reported":{"domain":..,
 * "identifier":..,"value":..},"version":n}}. */
static void read_shadow_report(struct device_msg *m)
{
    cJSON *root = device_json_parse(m->body, m->body_len), *state, *rep, *d, *k, *v, *ver;

    state = cJSON_GetObjectItemCaseSensitive(root, "state");
    rep = cJSON_GetObjectItemCaseSensitive(state, "reported");
    d = cJSON_GetObjectItemCaseSensitive(rep, "domain");
    k = cJSON_GetObjectItemCaseSensitive(rep, "identifier");
    v = cJSON_GetObjectItemCaseSensitive(rep, "value");
    ver = cJSON_GetObjectItemCaseSensitive(state, "version");
    if (cJSON_IsString(d) && cJSON_IsString(k) && v) {
        if (cJSON_IsNumber(ver) && ver->valuedouble >= 0 && ver->valuedouble < 9.0e15)
            m->version = (int64_t)ver->valuedouble;
        m->report_domain = osap_strdup(d->valuestring);
        m->report_identifier = osap_strdup(k->valuestring);
        if (m->report_domain && m->report_identifier) m->value_json = cJSON_PrintUnformatted(v);
    }
    cJSON_Delete(root);
}

static void read_reply(struct device_msg *m, enum osapd_das_request_kind request,
                       const char *method)
{
    m->kind = DEVICE_MSG_REPLY;
    m->request = request;
    m->method = method;
    m->has_code = device_json_reply(m->body, m->body_len, &m->code, &m->output_json);
    m->body_json = device_json_text(m->body, m->body_len);
}

static void read_v3(struct device_msg *m)
{
    const struct osap_topic_v3 *t = &m->t3;

    span_copy(t->child, m->child, sizeof(m->child));
    snprintf(m->resource, sizeof(m->resource), "%.*s-%.*s", (int)t->rid.len, t->rid.ptr,
             (int)t->rtype.len, t->rtype.ptr);
    span_copy(t->domain, m->domain, sizeof(m->domain));
    span_copy(t->identifier, m->identifier, sizeof(m->identifier));
    m->kind = DEVICE_MSG_OTHER;
    if (span_is(t->module, OSAP_MODULE_MODEL)) {
        if (span_is(t->method, "event") && span_is(t->msg_type, "report")) {
            m->kind = DEVICE_MSG_EVENT;
            m->payload_json = device_json_text(m->body, m->body_len);
            device_json_event(m->body, m->body_len, m->uuid, &m->time_ms, &m->level);
        } else if (span_is(t->method, "attribute") && span_is(t->msg_type, "report")) {
            m->kind = DEVICE_MSG_ATTRIBUTE;
            read_attribute(m);
        } else if (span_is(t->method, "attribute") && span_is(t->msg_type, "set_reply")) {
            read_reply(m, OSAPD_DAS_ATTRIBUTE_SET, "attribute/set_reply");
        } else if (span_is(t->method, "service") && span_is(t->msg_type, "operate_reply")) {
            read_reply(m, OSAPD_DAS_OPERATE, "service/operate_reply");
        }
    } else if (span_is(t->module, OSAP_MODULE_BASIC) && span_is(t->method, "shadow")) {
        if (span_is(t->msg_type, "report")) {
            m->kind = DEVICE_MSG_SHADOW_REPORT;
            read_shadow_report(m);
        } else if (span_is(t->msg_type, "query")) {
            m->kind = DEVICE_MSG_SHADOW_QUERY;
            m->window = window_of(m->body, m->body_len);
        } else if (span_is(t->msg_type, "set_reply")) {
            read_reply(m, OSAPD_DAS_SHADOW_SET, "shadow/set_reply");
        }
    } else if (span_is(t->module, OSAP_MODULE_OTA)) {
        m->kind = DEVICE_MSG_OTA;
        m->text = device_utf8_valid(m->body, m->body_len);
    }
}

osap_err device_msg_decode(struct device_msg *m, const struct osap_envelope_view *view)
{
    int version = m->route == DEVICE_MSG_V3 ? OSAP_ENVELOPE_V3 : OSAP_ENVELOPE_V2;
    osap_err err;

    if (m->route != DEVICE_MSG_V3 && m->route != DEVICE_MSG_V2) return OSAP_EINVAL;
    err = osap_envelope_common_parse(version, view->common, view->common_len, &m->common);
    if (err) return err;
    m->body = view->body;
    m->body_len = view->body_len;
    if (m->route == DEVICE_MSG_V3) {
        read_v3(m);
    } else if (m->t2.domain == OSAP_DOMAIN_BASE && m->t2.cmd == OSAP_CMD_BASE_PROFILE_QUERY) {
        m->kind = DEVICE_MSG_PROFILE_QUERY;
        m->profile_json = osap_strndup((const char *)m->body, m->body_len);
    } else {
        m->kind = DEVICE_MSG_V2_OTHER;
    }
    return OSAP_OK;
}

void device_msg_release(struct device_msg *m)
{
    osap_free(m->payload_json);
    cJSON_free(m->value_json);
    osap_free(m->report_domain);
    osap_free(m->report_identifier);
    cJSON_free(m->output_json);
    osap_free(m->body_json);
    osap_free(m->profile_json);
    m->payload_json = m->value_json = m->report_domain = m->report_identifier = NULL;
    m->output_json = m->body_json = m->profile_json = NULL;
}
