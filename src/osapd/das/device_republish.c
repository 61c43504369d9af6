/* The $osap/ application namespace: every decrypted device message, as JSON, for
 * plain MQTT applications (docs/TOPICS.md). Published with QoS 1 and without the
 * retain flag, except $osap/<sn>/status (retained). */
#include "das/device_internal.h"

#include "log.h"
#include "osap/alloc.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <string.h>

/* Room for any $osap/ topic: the longest device topic plus the prefix. */
#define APP_TOPIC_MAX (OSAP_TOPIC_V3_MAX + 64)

static bool enabled(struct device_worker *dw)
{
    return dw->layer->cfg->republish;
}

static cJSON *add_span(cJSON *o, const char *name, struct osap_topic_span s)
{
    char *tmp = osap_strndup(s.ptr ? s.ptr : "", s.len);
    cJSON *item = NULL;
    if (tmp) item = cJSON_AddStringToObject(o, name, tmp);
    osap_free(tmp);
    return item;
}

static void add_time(cJSON *o)
{
    char iso[OSAP_ISO_TIME_LEN + 1];
    cJSON_AddStringToObject(o, "time", osap_time_iso(osap_time_now_ms(), iso));
}

/* body_format and body (docs/TOPICS.md). */
static void add_body(cJSON *o, const uint8_t *body, size_t len)
{
    cJSON *json = device_json_parse(body, len);
    char *text;

    if (json) {
        cJSON_AddStringToObject(o, "body_format", "json");
        cJSON_AddItemToObject(o, "body", json);
        return;
    }
    if (device_utf8_valid(body, len) && !memchr(body, '\0', len)) {
        text = osap_strndup((const char *)body, len);
        cJSON_AddStringToObject(o, "body_format", "text");
        if (text) cJSON_AddStringToObject(o, "body", text);
        osap_free(text);
        return;
    }
    if (len > (size_t)INT32_MAX / 2) return;
    text = osap_malloc(4 * ((len + 2) / 3) + 1);
    if (!text) return;
    EVP_EncodeBlock((unsigned char *)text, body, (int)len);
    cJSON_AddStringToObject(o, "body_format", "base64");
    cJSON_AddStringToObject(o, "body", text);
    osap_free(text);
}

static void publish(struct device_worker *dw, const char *topic, size_t topic_len, cJSON *o,
                    int retain)
{
    char *text = cJSON_PrintUnformatted(o);
    osap_err err;

    if (!text) return;
    err = das_publish(dw->w, topic, topic_len, (const uint8_t *)text, strlen(text), 1, retain);
    if (err) OSAP_LOGD(DEVICE_LOG, "%s not published: %s", topic, osap_strerror(err));
    cJSON_free(text);
}

static osap_err app_topic(const struct device *dev, const struct device_app_msg *m, char *out,
                          size_t cap, size_t *len)
{
    struct osap_topic_span sn = {dev->serial, dev->serial_len};
    size_t prefix = strlen(OSAP_TOPIC_V3_PREFIX) + dev->serial_len + 1;

    switch (m->kind) {
    case DEVICE_APP_EVENT: return osap_topic_app_event(sn, m->domain, m->identifier, out, cap, len);
    case DEVICE_APP_ATTRIBUTE:
        return osap_topic_app_attribute(sn, m->domain, m->identifier, out, cap, len);
    case DEVICE_APP_REPLY: return osap_topic_app_reply(sn, m->domain, m->identifier, out, cap, len);
    case DEVICE_APP_RAW:
        if (m->topic_len <= prefix) return OSAP_EINVAL;
        return osap_topic_app_raw(
            sn, (struct osap_topic_span){m->topic + prefix, m->topic_len - prefix}, out, cap, len);
    }
    return OSAP_EINVAL;
}

void device_republish(struct device *dev, const struct device_app_msg *m)
{
    struct device_worker *dw = dev->dw;
    char topic[APP_TOPIC_MAX];
    size_t topic_len = 0;
    cJSON *o = NULL, *value;

    if (!enabled(dw) || (m->kind == DEVICE_APP_RAW && !dw->layer->cfg->republish_raw)) return;
    if (app_topic(dev, m, topic, sizeof(topic), &topic_len) != OSAP_OK) {
        OSAP_LOGD(DEVICE_LOG, "device %s: no $osap topic for %.*s", dev->serial, (int)m->topic_len,
                  m->topic);
        return;
    }
    o = cJSON_CreateObject();
    if (!o) return;
    add_span(o, "serial", (struct osap_topic_span){dev->serial, dev->serial_len});
    add_span(o, "child", m->t->child);
    if (m->t->rid.len) {
        char resource[OSAP_TOPIC_RID_MAX + OSAP_TOPIC_RTYPE_MAX + 2];
        memcpy(resource, m->t->rid.ptr, m->t->rid.len);
        resource[m->t->rid.len] = '-';
        memcpy(resource + m->t->rid.len + 1, m->t->rtype.ptr, m->t->rtype.len);
        resource[m->t->rid.len + 1 + m->t->rtype.len] = '\0';
        cJSON_AddStringToObject(o, "resource", resource);
    }
    if (m->kind == DEVICE_APP_RAW) {
        add_span(o, "topic", (struct osap_topic_span){m->topic, m->topic_len});
    } else {
        add_span(o, "domain", m->domain);
        add_span(o, "identifier", m->identifier);
    }
    if (m->kind == DEVICE_APP_REPLY) {
        cJSON_AddStringToObject(o, "method", m->method ? m->method : "");
        if (m->has_code) cJSON_AddNumberToObject(o, "code", m->code);
    }
    if (m->kind == DEVICE_APP_ATTRIBUTE && m->value_json) {
        value = cJSON_Parse(m->value_json);
        if (value) cJSON_AddItemToObject(o, "value", value);
    }
    cJSON_AddNumberToObject(o, "seq", (double)m->seq);
    add_body(o, m->body, m->body_len);
    add_time(o);
    publish(dw, topic, topic_len, o, 0);
    cJSON_Delete(o);
}

void device_republish_v2(struct device *dev, const struct osap_topic_v2 *t,
                         const struct osap_envelope_common *common, const uint8_t *body, size_t len)
{
    struct device_worker *dw = dev->dw;
    char topic[APP_TOPIC_MAX];
    size_t topic_len = 0;
    cJSON *o;

    if (!enabled(dw)) return;
    if (osap_topic_app_v2((struct osap_topic_span){dev->serial, dev->serial_len}, t->domain, t->cmd,
                          topic, sizeof(topic), &topic_len) != OSAP_OK)
        return;
    o = cJSON_CreateObject();
    if (!o) return;
    add_span(o, "serial", (struct osap_topic_span){dev->serial, dev->serial_len});
    cJSON_AddNumberToObject(o, "domain", t->domain);
    cJSON_AddNumberToObject(o, "cmd", t->cmd);
    cJSON_AddStringToObject(o, "cmd_ver", common->cmd_ver);
    cJSON_AddNumberToObject(o, "msg_type", common->msg_type);
    cJSON_AddNumberToObject(o, "seq", (double)common->seq);
    add_body(o, body, len);
    add_time(o);
    publish(dw, topic, topic_len, o, 0);
    cJSON_Delete(o);
}

void device_republish_status(struct device_worker *dw, const char *serial, size_t len, bool online,
                             const char *reason)
{
    char topic[APP_TOPIC_MAX];
    size_t topic_len = 0;
    cJSON *o;

    if (!enabled(dw)) return;
    if (osap_topic_app_status((struct osap_topic_span){serial, len}, topic, sizeof(topic),
                              &topic_len) != OSAP_OK)
        return;
    o = cJSON_CreateObject();
    if (!o) return;
    add_span(o, "serial", (struct osap_topic_span){serial, len});
    cJSON_AddStringToObject(o, "status", online ? "online" : "offline");
    if (!online && reason) cJSON_AddStringToObject(o, "reason", reason);
    add_time(o);
    publish(dw, topic, topic_len, o, 1);
    cJSON_Delete(o);
}
