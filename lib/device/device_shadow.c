/*
 * Attributes through the shadow (wire spec 7.2 b, 7.3): versioned reports, one
 * message per key ({"method":"report","spv":3,...}, QoS 1), a full report at
 * the first online of the process, unacknowledged reports again after a
 * reconnection, the desired-state query of each resource after every
 * (re)connection and after the resource's first report (QoS 1, retried every
 * 30 s, 3 times), its query_reply applied through the set handlers, and
 * basic/shadow/set answered with set_reply (QoS 0).
 */
#include "device_internal.h"

#include "osap/alloc.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Room an attribute report needs besides its value: topic, envelope, JSON frame. */
#define REPORT_OVERHEAD 768

static struct dev_resource *resource_find(struct osap_device *dev, const char *name)
{
    for (size_t i = 0; i < dev->n_resources; i++)
        if (strcmp(dev->resources[i].name, name) == 0) return &dev->resources[i];
    return NULL;
}

static struct dev_resource *resource_add(struct osap_device *dev, const char *name, int *added)
{
    struct dev_resource *r = resource_find(dev, name);

    *added = 0;
    if (r) return r;
    if (dev->n_resources == dev->cap_resources) {
        size_t cap = dev->cap_resources ? dev->cap_resources * 2 : 4;
        struct dev_resource *n = osap_realloc(dev->resources, cap * sizeof(*n));
        if (!n) return NULL;
        dev->resources = n;
        dev->cap_resources = cap;
    }
    r = &dev->resources[dev->n_resources++];
    memset(r, 0, sizeof(*r));
    snprintf(r->name, sizeof(r->name), "%s", name);
    *added = 1;
    return r;
}

osap_err osap_device_attr_report(osap_device_t *dev, const struct osap_device_key *key,
                                 const char *value_json)
{
    char res[DEV_RESOURCE_MAX + 1];
    cJSON *v;
    char *text;
    struct dev_resource *r;
    int added = 0;
    long i;
    osap_err err;

    if (!dev || !value_json) return OSAP_EINVAL;
    err = osap__biz_key_check(key, res);
    if (err) return err;
    v = cJSON_ParseWithOpts(value_json, NULL, 1);
    if (!v) return OSAP_EJSON;
    text = cJSON_PrintUnformatted(v);
    cJSON_Delete(v);
    if (!text) return OSAP_ENOMEM;
    if (strlen(text) + REPORT_OVERHEAD > dev->message_max) {
        cJSON_free(text);
        return OSAP_ETOOBIG;
    }

    osap__dev_lock(dev);
    err = OSAP_ENOMEM;
    i = osap__biz_add(dev, res, key->domain, key->identifier, 0);
    if (i < 0) goto out;
    r = resource_add(dev, res, &added);
    if (!r) goto out;
    {
        struct dev_attr *a = &dev->attrs[i];
        char *copy = osap_strdup(text);
        if (!copy) goto out;
        osap_free(a->value);
        a->value = copy;
        a->version++;
        a->pending = 1;
        a->acked = 0;
    }
    /* a resource's first report asks for its desired state a second later */
    if (added && dev->phase == PH_ONLINE)
        r->t_query = dev->port.now_ms(dev->port.ctx) + DEV_QUERY_DELAY_MS;
    osap__dev_kick(dev);
    err = OSAP_OK;
out:
    osap__dev_unlock(dev);
    cJSON_free(text);
    return err;
}

static osap_err send_report(struct osap_device *dev, size_t idx, struct dev_flight *fl)
{
    struct dev_attr *a = &dev->attrs[idx];
    char topic[OSAP_TOPIC_V3_MAX];
    char *body = (char *)dev->work;
    int n;
    uint16_t pid = 0;
    osap_err err = osap__biz_topic(dev, a->resource, OSAP_MODULE_BASIC, "shadow", "report", NULL,
                                   NULL, topic, sizeof(topic));

    if (err) return err;
    n = snprintf(body, dev->message_max,
                 "{\"method\":\"report\",\"spv\":3,\"state\":{\"reported\":{\"domain\":\"%s\","
                 "\"identifier\":\"%s\",\"value\":%s},\"version\":%" PRIu32 "}}",
                 a->domain, a->identifier, a->value, a->version);
    if (n < 0 || (size_t)n >= dev->message_max) return OSAP_ETOOBIG;
    err = osap__das_publish(dev, topic, 1, dev->seq, (const uint8_t *)body, (size_t)n, &pid);
    if (err) return err;
    dev->seq++;
    fl->kind = FL_REPORT;
    fl->pid = pid;
    fl->ref = (uint32_t)idx;
    fl->version = a->version;
    fl->t_sent = dev->now;
    a->pending = 0;
    dev->stats.reports_sent++;
    return OSAP_OK;
}

static osap_err send_query(struct osap_device *dev, struct dev_resource *r, struct dev_flight *fl)
{
    static const char body[] = "{\"method\":\"query\",\"windowsize\":16256}";
    char topic[OSAP_TOPIC_V3_MAX];
    uint16_t pid = 0;
    osap_err err = osap__biz_topic(dev, r->name, OSAP_MODULE_BASIC, "shadow", "query", NULL, NULL,
                                   topic, sizeof(topic));

    if (err) return err;
    err = osap__das_publish(dev, topic, 1, dev->seq, (const uint8_t *)body, sizeof(body) - 1, &pid);
    if (err) return err;
    dev->seq++;
    fl->kind = FL_QUERY;
    fl->pid = pid;
    fl->ref = (uint32_t)(r - dev->resources);
    fl->t_sent = dev->now;
    r->tries++;
    r->t_query = r->tries < DEV_QUERY_TRIES ? dev->now + DEV_QUERY_RETRY_MS : 0;
    return OSAP_OK;
}

osap_err osap__shadow_pump(struct osap_device *dev)
{
    osap_err err;

    for (size_t i = 0; i < dev->n_attrs; i++) {
        struct dev_attr *a = &dev->attrs[i];
        struct dev_flight *fl;

        if (a->is_operation || !a->value || !a->pending) continue;
        fl = osap__das_flight_alloc(dev);
        if (!fl) return OSAP_OK; /* reports wait for a free slot */
        err = send_report(dev, i, fl);
        if (err) return err;
    }
    for (size_t i = 0; i < dev->n_resources; i++) {
        struct dev_resource *r = &dev->resources[i];
        struct dev_flight *fl;

        if (!r->t_query || r->done) continue;
        if (dev->now < r->t_query) {
            osap__dev_wake_at(dev, r->t_query);
            continue;
        }
        fl = osap__das_flight_alloc(dev);
        if (!fl) return OSAP_OK;
        err = send_query(dev, r, fl);
        if (err) return err;
        if (r->t_query) osap__dev_wake_at(dev, r->t_query);
    }
    return OSAP_OK;
}

void osap__shadow_on_online(struct osap_device *dev)
{
    /* Values never acknowledged are still pending; at the first online of the
     * process that is every value (the full report). */
    for (size_t i = 0; i < dev->n_resources; i++) {
        struct dev_resource *r = &dev->resources[i];
        r->t_query = dev->now + DEV_QUERY_DELAY_MS;
        r->tries = 0;
        r->done = 0;
    }
    dev->ever_online = 1;
}

void osap__shadow_on_offline(struct osap_device *dev)
{
    for (size_t i = 0; i < OSAP_DEVICE_INFLIGHT_MAX; i++) {
        const struct dev_flight *fl = &dev->flights[i];
        if (fl->kind != FL_REPORT || fl->ref >= dev->n_attrs) continue;
        struct dev_attr *a = &dev->attrs[fl->ref];
        if (a->version == fl->version && !a->acked) a->pending = 1;
    }
    for (size_t i = 0; i < dev->n_resources; i++)
        dev->resources[i].t_query = 0;
}

void osap__shadow_on_puback(struct osap_device *dev, const struct dev_flight *fl)
{
    struct dev_attr *a;
    struct osap_device_key key;

    if (fl->ref >= dev->n_attrs) return;
    a = &dev->attrs[fl->ref];
    dev->stats.reports_acked++;
    if (a->version != fl->version) return; /* a newer value is pending */
    a->acked = 1;
    if (dev->cb.report_acked) {
        char res[DEV_RESOURCE_MAX + 1], dom[DEV_NAME_MAX + 1], id[DEV_NAME_MAX + 1];
        memcpy(res, a->resource, sizeof(res));
        memcpy(dom, a->domain, sizeof(dom));
        memcpy(id, a->identifier, sizeof(id));
        key.resource = res;
        key.domain = dom;
        key.identifier = id;
        dev->cb.report_acked(dev->userdata, &key, fl->version);
    }
}

osap_err osap__shadow_send_set_reply(struct osap_device *dev, const char *resource, uint32_t seq,
                                     int code)
{
    char topic[OSAP_TOPIC_V3_MAX], body[128];
    int64_t ts = dev->port.wall_ms(dev->port.ctx);
    int n;
    osap_err err = osap__biz_topic(dev, resource, OSAP_MODULE_BASIC, "shadow", "set_reply", NULL,
                                   NULL, topic, sizeof(topic));

    if (err) return err;
    ts = ts >= 0 ? ts / 1000 : -((999 - ts) / 1000);
    n = snprintf(body, sizeof(body),
                 "{\"method\":\"set_reply\",\"payload\":{\"code\":%d},\"timestamp\":%" PRId64 "}",
                 code, ts);
    return osap__das_publish(dev, topic, 0, seq, (const uint8_t *)body, (size_t)n, NULL);
}

/* Read one {"domain","identifier","value"} and run the handler. Returns the code. */
static int apply_desired(struct osap_device *dev, enum osap_device_request_kind kind,
                         const char *resource, const cJSON *d, uint32_t seq)
{
    const cJSON *dom = cJSON_GetObjectItemCaseSensitive(d, "domain");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(d, "identifier");
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(d, "value");
    size_t half = dev->message_max / 2, out_len = 0;
    char *in = (char *)dev->work;
    char domain[DEV_NAME_MAX + 1], ident[DEV_NAME_MAX + 1];

    if (!cJSON_IsString(dom) || !cJSON_IsString(id) || !val) return OSAP_DEVICE_CODE_NO_HANDLER;
    if (strlen(dom->valuestring) > DEV_NAME_MAX || strlen(id->valuestring) > DEV_NAME_MAX ||
        !dom->valuestring[0] || !id->valuestring[0])
        return OSAP_DEVICE_CODE_NO_HANDLER;
    snprintf(domain, sizeof(domain), "%s", dom->valuestring);
    snprintf(ident, sizeof(ident), "%s", id->valuestring);
    if (!cJSON_PrintPreallocated((cJSON *)val, in, (int)half, 0))
        return OSAP_DEVICE_CODE_NO_HANDLER;
    return osap__biz_call(dev, kind, resource, domain, ident, in, strlen(in), seq,
                          (char *)dev->work + half, dev->message_max - half, &out_len);
}

void osap__shadow_on_set(struct osap_device *dev, const char *resource, uint32_t seq,
                         const uint8_t *body, size_t len)
{
    cJSON *root = cJSON_ParseWithLength((const char *)body, len);
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(root, "state");
    const cJSON *desired = cJSON_GetObjectItemCaseSensitive(state, "desired");
    int code = OSAP_DEVICE_CODE_NO_HANDLER;

    if (cJSON_IsObject(desired))
        code = apply_desired(dev, OSAP_DEVICE_REQ_SHADOW_SET, resource, desired, seq);
    cJSON_Delete(root);
    if (code == OSAP_DEVICE_REPLY_LATER) return;
    if (!dev_can_answer(dev)) return;
    osap__shadow_send_set_reply(dev, resource, seq, code);
}

void osap__shadow_on_query_reply(struct osap_device *dev, const char *resource, const uint8_t *body,
                                 size_t len)
{
    struct dev_resource *r = resource_find(dev, resource);
    cJSON *root;
    const cJSON *code, *desired, *d;

    if (!r) return;
    r->done = 1; /* any answer ends the retries; code != 0 too */
    r->t_query = 0;
    root = cJSON_ParseWithLength((const char *)body, len);
    code = cJSON_GetObjectItemCaseSensitive(root, "code");
    desired = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "state"),
                                               "desired");
    if (cJSON_IsNumber(code) && code->valuedouble == 0) {
        if (cJSON_IsArray(desired)) {
            cJSON_ArrayForEach(d, desired)
            {
                if (cJSON_IsObject(d)) apply_desired(dev, OSAP_DEVICE_REQ_DESIRED, resource, d, 0);
            }
        } else if (cJSON_IsObject(desired)) {
            apply_desired(dev, OSAP_DEVICE_REQ_DESIRED, resource, desired, 0);
        }
    }
    cJSON_Delete(root);
}
