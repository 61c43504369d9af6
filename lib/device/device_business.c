/*
 * Business traffic of the device (wire spec 7): the table of attributes and
 * operations with their handlers, dispatch of server requests
 * (model/attribute/set, model/service/<any>, basic/shadow/set and query_reply,
 * domain 1000 of v2), the replies (set_reply, operate_reply) with the server's
 * Seq, and answers given later (OSAP_DEVICE_REPLY_LATER).
 */
#include "device_internal.h"

#include "osap/alloc.h"
#include "osap/envelope.h"
#include "osap/topic.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_RESOURCE        OSAP_TOPIC_RESOURCE_DEFAULT
#define DOMAIN_ACCESS_REDIRECT2 0x491F
#define REDIRECT_HOST_MAX       63

/* ------------------------------------------------------------------------ */
/* Keys and the table of attributes / operations                            */
/* ------------------------------------------------------------------------ */

static int level_ok(const char *s, size_t max)
{
    size_t n = s ? strnlen(s, max + 1) : 0;

    if (n == 0 || n > max) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c == 0x7F || c == '/' || c == '+' || c == '#' || c == '"' || c == '\\')
            return 0;
    }
    return 1;
}

osap_err osap__biz_key_check(const struct osap_device_key *key, char res[DEV_RESOURCE_MAX + 1])
{
    const char *r, *dash;

    if (!key) return OSAP_EINVAL;
    r = key->resource ? key->resource : DEFAULT_RESOURCE;
    if (!level_ok(r, DEV_RESOURCE_MAX)) return OSAP_EINVAL;
    dash = strchr(r, '-');
    if (!dash || dash == r || dash[1] == '\0') return OSAP_EINVAL;
    if (!level_ok(key->domain, DEV_NAME_MAX) || !level_ok(key->identifier, DEV_NAME_MAX))
        return OSAP_EINVAL;
    snprintf(res, DEV_RESOURCE_MAX + 1, "%s", r);
    return OSAP_OK;
}

long osap__biz_find(const struct osap_device *dev, const char *resource, const char *domain,
                    const char *identifier, int is_op)
{
    for (size_t i = 0; i < dev->n_attrs; i++) {
        const struct dev_attr *a = &dev->attrs[i];
        if (a->is_operation == is_op && strcmp(a->identifier, identifier) == 0 &&
            strcmp(a->domain, domain) == 0 && strcmp(a->resource, resource) == 0)
            return (long)i;
    }
    return -1;
}

long osap__biz_add(struct osap_device *dev, const char *resource, const char *domain,
                   const char *identifier, int is_op)
{
    long i = osap__biz_find(dev, resource, domain, identifier, is_op);
    struct dev_attr *a;

    if (i >= 0) return i;
    if (dev->n_attrs == dev->cap_attrs) {
        size_t cap = dev->cap_attrs ? dev->cap_attrs * 2 : 8;
        struct dev_attr *n = osap_realloc(dev->attrs, cap * sizeof(*n));
        if (!n) return -1;
        dev->attrs = n;
        dev->cap_attrs = cap;
    }
    a = &dev->attrs[dev->n_attrs];
    memset(a, 0, sizeof(*a));
    snprintf(a->resource, sizeof(a->resource), "%s", resource);
    snprintf(a->domain, sizeof(a->domain), "%s", domain);
    snprintf(a->identifier, sizeof(a->identifier), "%s", identifier);
    a->is_operation = (uint8_t)is_op;
    return (long)dev->n_attrs++;
}

static osap_err on_handler(osap_device_t *dev, const struct osap_device_key *key,
                           osap_device_handler_fn fn, void *userdata, int is_op)
{
    char res[DEV_RESOURCE_MAX + 1];
    osap_err err;
    long i;

    if (!dev) return OSAP_EINVAL;
    err = osap__biz_key_check(key, res);
    if (err) return err;
    osap__dev_lock(dev);
    i = osap__biz_add(dev, res, key->domain, key->identifier, is_op);
    if (i >= 0) {
        dev->attrs[i].fn = fn;
        dev->attrs[i].userdata = userdata;
    }
    osap__dev_unlock(dev);
    return i >= 0 ? OSAP_OK : OSAP_ENOMEM;
}

osap_err osap_device_on_attribute(osap_device_t *dev, const struct osap_device_key *key,
                                  osap_device_handler_fn fn, void *userdata)
{
    return on_handler(dev, key, fn, userdata, 0);
}

osap_err osap_device_on_operation(osap_device_t *dev, const struct osap_device_key *key,
                                  osap_device_handler_fn fn, void *userdata)
{
    return on_handler(dev, key, fn, userdata, 1);
}

void osap__biz_free(struct osap_device *dev)
{
    for (size_t i = 0; i < dev->n_attrs; i++)
        osap_free(dev->attrs[i].value);
    osap_free(dev->attrs);
    osap_free(dev->resources);
    dev->attrs = NULL;
    dev->resources = NULL;
    dev->n_attrs = dev->cap_attrs = dev->n_resources = dev->cap_resources = 0;
}

osap_err osap__biz_topic(const struct osap_device *dev, const char *resource, const char *module,
                         const char *method, const char *msg_type, const char *domain,
                         const char *identifier, char *out, size_t cap)
{
    struct osap_topic_v3 t;
    const char *dash = strchr(resource, '-');
    size_t len;

    if (!dash) return OSAP_EDEVICE_TOPIC;
    memset(&t, 0, sizeof(t));
    t.serial = osap_topic_span_str(dev->subserial);
    t.child = osap_topic_span_str(OSAP_TOPIC_CHILD_SELF);
    t.rid.ptr = resource;
    t.rid.len = (size_t)(dash - resource);
    t.rtype = osap_topic_span_str(dash + 1);
    t.module = osap_topic_span_str(module);
    t.method = osap_topic_span_str(method);
    t.msg_type = osap_topic_span_str(msg_type);
    t.domain = osap_topic_span_str(domain);
    t.identifier = osap_topic_span_str(identifier);
    return osap_topic_v3_build(&t, out, cap, &len);
}

/* ------------------------------------------------------------------------ */
/* Requests and replies                                                     */
/* ------------------------------------------------------------------------ */

static struct dev_pending *pending_alloc(struct osap_device *dev)
{
    for (size_t i = 0; i < OSAP_DEVICE_PENDING_MAX; i++) {
        struct dev_pending *p = &dev->pending[i];
        if (p->id == 0 || p->session != dev->session) return p;
    }
    return NULL;
}

int osap__biz_call(struct osap_device *dev, enum osap_device_request_kind kind,
                   const char *resource, const char *domain, const char *identifier,
                   const char *json, size_t json_len, uint32_t seq, char *out, size_t out_cap,
                   size_t *out_len)
{
    struct osap_device_request req;
    osap_device_handler_fn fn = dev->cb.request;
    void *ud = dev->userdata;
    long i = osap__biz_find(dev, resource, domain, identifier, kind == OSAP_DEVICE_REQ_OPERATE);
    int code;

    *out_len = 0;
    if (i >= 0 && dev->attrs[i].fn) {
        fn = dev->attrs[i].fn;
        ud = dev->attrs[i].userdata;
    }
    dev->stats.requests++;
    if (!fn) return OSAP_DEVICE_CODE_NO_HANDLER;
    memset(&req, 0, sizeof(req));
    req.kind = kind;
    req.seq = seq;
    req.key.resource = resource;
    req.key.domain = domain;
    req.key.identifier = identifier;
    req.json = json;
    req.json_len = json_len;
    if (++dev->next_request_id == 0) dev->next_request_id = 1;
    req.id = dev->next_request_id;
    code = fn(ud, &req, out, out_cap, out_len);
    if (*out_len > out_cap) *out_len = 0;
    if (code == OSAP_DEVICE_REPLY_LATER) {
        struct dev_pending *p;
        if (kind == OSAP_DEVICE_REQ_DESIRED) return 0;
        p = pending_alloc(dev);
        if (!p) return OSAP_DEVICE_CODE_NO_HANDLER;
        memset(p, 0, sizeof(*p));
        p->id = req.id;
        p->session = dev->session;
        p->seq = seq;
        p->kind = kind;
        snprintf(p->resource, sizeof(p->resource), "%s", resource);
        snprintf(p->domain, sizeof(p->domain), "%s", domain);
        snprintf(p->identifier, sizeof(p->identifier), "%s", identifier);
    }
    return code;
}

/* set_reply {"code":n} or operate_reply {"code":n[,"data":<output>]}, QoS 1, the
 * request's Seq. @p out (the output) lies inside dev->work past the body start. */
static osap_err send_model_reply(struct osap_device *dev, enum osap_device_request_kind kind,
                                 const char *resource, const char *domain, const char *identifier,
                                 uint32_t seq, int code, const char *out, size_t out_len)
{
    char topic[OSAP_TOPIC_V3_MAX];
    char *body = (char *)dev->work;
    size_t n;
    int is_op = kind == OSAP_DEVICE_REQ_OPERATE;
    osap_err err = osap__biz_topic(
        dev, resource, OSAP_MODULE_MODEL, is_op ? "service" : "attribute",
        is_op ? "operate_reply" : "set_reply", domain, identifier, topic, sizeof(topic));

    if (err) return err;
    n = (size_t)snprintf(body, 32, "{\"code\":%d", code);
    if (is_op && out_len) {
        if (n + 8 + out_len + 2 > dev->message_max) return OSAP_ETOOBIG;
        memmove(body + n + 8, out, out_len);
        memcpy(body + n, ",\"data\":", 8);
        n += 8 + out_len;
    }
    body[n++] = '}';
    return osap__das_publish(dev, topic, 1, seq, (const uint8_t *)body, n, NULL);
}

/* The value of a set: {"data":{"Value":v}} or {"data":v}. Printed compactly into
 * @p buf. */
static int set_value(const uint8_t *body, size_t len, char *buf, size_t cap)
{
    cJSON *root = cJSON_ParseWithLength((const char *)body, len), *data, *v;
    int ok = 0;

    if (!root) return 0;
    data = cJSON_GetObjectItemCaseSensitive(root, "data");
    v = data ? data : root;
    if (cJSON_IsObject(data) && data->child && !data->child->next && data->child->string &&
        strcmp(data->child->string, "Value") == 0)
        v = data->child;
    ok = cJSON_PrintPreallocated(v, buf, (int)cap, 0);
    cJSON_Delete(root);
    return ok;
}

static void on_model(struct osap_device *dev, const struct osap_topic_v3 *t, uint32_t seq,
                     const uint8_t *body, size_t len)
{
    char res[DEV_RESOURCE_MAX + 1], dom[DEV_NAME_MAX + 1], id[DEV_NAME_MAX + 1];
    enum osap_device_request_kind kind;
    size_t half = dev->message_max / 2, out_len = 0;
    char *in = (char *)dev->work, *out = (char *)dev->work + half;
    int code;

    /* replies and reports never come from the server; they would loop */
    if (dev_span_is(t->msg_type, "report") ||
        (t->msg_type.len >= 5 && memcmp(t->msg_type.ptr + t->msg_type.len - 5, "reply", 5) == 0))
        return;
    if (dev_span_is(t->method, "attribute"))
        kind = OSAP_DEVICE_REQ_SET;
    else if (dev_span_is(t->method, "service"))
        kind = OSAP_DEVICE_REQ_OPERATE;
    else
        return;
    if (t->rid.len + 1 + t->rtype.len > DEV_RESOURCE_MAX || t->domain.len > DEV_NAME_MAX ||
        t->identifier.len > DEV_NAME_MAX)
        return;
    snprintf(res, sizeof(res), "%.*s-%.*s", (int)t->rid.len, t->rid.ptr, (int)t->rtype.len,
             t->rtype.ptr);
    snprintf(dom, sizeof(dom), "%.*s", (int)t->domain.len, t->domain.ptr);
    snprintf(id, sizeof(id), "%.*s", (int)t->identifier.len, t->identifier.ptr);

    if (!set_value(body, len, in, half)) {
        code = OSAP_DEVICE_CODE_NO_HANDLER;
    } else {
        /* the output is written after room for the reply's {"code":n,"data": */
        code = osap__biz_call(dev, kind, res, dom, id, in, strlen(in), seq, out + 48,
                              dev->message_max - half - 48 - 512, &out_len);
        if (code == OSAP_DEVICE_REPLY_LATER) return;
    }
    if (!dev_can_answer(dev)) return;
    send_model_reply(dev, kind, res, dom, id, seq, code, out + 48, out_len);
}

osap_err osap_device_reply(osap_device_t *dev, uint32_t request_id, int code,
                           const char *output_json)
{
    struct dev_pending *p = NULL;
    size_t out_len = output_json ? strlen(output_json) : 0;
    osap_err err;

    if (!dev || !request_id) return OSAP_EINVAL;
    osap__dev_lock(dev);
    for (size_t i = 0; i < OSAP_DEVICE_PENDING_MAX; i++)
        if (dev->pending[i].id == request_id) p = &dev->pending[i];
    err = OSAP_ENOTFOUND;
    if (!p) goto out;
    if (p->session != dev->session || !dev_can_answer(dev)) {
        p->id = 0;
        goto out;
    }
    err = OSAP_ETOOBIG;
    if (out_len + 600 > dev->message_max) goto out;
    if (p->kind == OSAP_DEVICE_REQ_SHADOW_SET) {
        err = osap__shadow_send_set_reply(dev, p->resource, p->seq, code);
    } else {
        char *out = (char *)dev->work + dev->message_max / 2;
        memcpy(out, output_json ? output_json : "", out_len);
        err = send_model_reply(dev, p->kind, p->resource, p->domain, p->identifier, p->seq, code,
                               out, out_len);
    }
    if (err == OSAP_EBUFSIZE) {
        err = OSAP_EBUSY; /* no room now: the request stays, try again */
        goto out;
    }
    p->id = 0;
    osap__dev_kick(dev);
out:
    osap__dev_unlock(dev);
    return err;
}

/* ------------------------------------------------------------------------ */
/* Domain 1000 (v2): access commands from the platform                      */
/* ------------------------------------------------------------------------ */

static void access_config(struct osap_device *dev, const uint8_t *body, size_t len)
{
    cJSON *root = cJSON_ParseWithLength((const char *)body, len);
    const cJSON *ka = cJSON_GetObjectItemCaseSensitive(root, "KeepAlive");
    const cJSON *iv = cJSON_GetObjectItemCaseSensitive(ka, "Interval");

    if (cJSON_IsNumber(iv) && iv->valuedouble >= 1 && iv->valuedouble <= 65535) {
        dev->keepalive_s = (uint16_t)iv->valuedouble;
        dev->t_ping = dev->now + (uint64_t)dev->keepalive_s * 1000u;
    }
    cJSON_Delete(root);
}

static void access_redirect(struct osap_device *dev, const uint8_t *body, size_t len)
{
    static const char open_tag[] = "<DomainName>", close_tag[] = "</DomainName>";
    const char *b = (const char *)body, *s = NULL, *e = NULL;
    char host[REDIRECT_HOST_MAX + 1];
    size_t n;

    for (size_t i = 0; i + sizeof(open_tag) - 1 <= len; i++)
        if (memcmp(b + i, open_tag, sizeof(open_tag) - 1) == 0) {
            s = b + i + sizeof(open_tag) - 1;
            break;
        }
    if (!s) return;
    for (const char *p = s; p + sizeof(close_tag) - 1 <= b + len; p++)
        if (memcmp(p, close_tag, sizeof(close_tag) - 1) == 0) {
            e = p;
            break;
        }
    if (!e) return;
    n = (size_t)(e - s);
    if (n == 0 || n > REDIRECT_HOST_MAX || memchr(s, '\0', n)) return;
    memcpy(host, s, n);
    host[n] = '\0';
    if (strcmp(host, dev->lbs_host) == 0) return;
    if (strcmp(dev->lbs_domain, dev->lbs_host) == 0)
        snprintf(dev->lbs_domain, sizeof(dev->lbs_domain), "%s", host);
    snprintf(dev->lbs_host, sizeof(dev->lbs_host), "%s", host);
    osap__lbs_forget_master_key(dev);
    osap__das_leave(dev, OSAP_OK);
}

static void on_v2(struct osap_device *dev, const char *topic, size_t topic_len,
                  const struct osap_envelope_view *v)
{
    struct osap_topic_v2 t;
    struct osap_envelope_common common;

    if (osap_topic_v2_parse(topic, topic_len, &t) || !t.serial.len) return;
    if (t.serial.len != strlen(dev->subserial) ||
        memcmp(t.serial.ptr, dev->subserial, t.serial.len) != 0)
        return;
    if (osap_envelope_common_parse(OSAP_ENVELOPE_V2, v->common, v->common_len, &common)) return;
    if (t.domain != OSAP_DOMAIN_ACCESS) return; /* other v2 domains: not handled by this SDK */
    switch (t.cmd) {
    case OSAP_CMD_ACCESS_CONFIG: access_config(dev, v->body, v->body_len); break;
    case OSAP_CMD_ACCESS_OFFLINE: osap__das_block(dev, OSAP_EPERM); break;
    case OSAP_CMD_ACCESS_REDIRECT:
    case DOMAIN_ACCESS_REDIRECT2: access_redirect(dev, v->body, v->body_len); break;
    default: break;
    }
}

/* ------------------------------------------------------------------------ */
/* Dispatch                                                                 */
/* ------------------------------------------------------------------------ */

void osap__biz_on_publish(struct osap_device *dev, const struct osap_mqtt_publish *pub)
{
    struct osap_envelope_view v;
    struct osap_envelope_common common;
    struct osap_topic_v3 t;
    uint8_t *payload = (uint8_t *)pub->payload.ptr; /* inside dev->rx: decrypted in place */
    char res[DEV_RESOURCE_MAX + 1];

    if (osap_envelope_open(dev->session_key, payload, pub->payload.len, payload, pub->payload.len,
                           &v))
        return; /* not for us, or not decryptable: dropped like the real device */
    if (osap_topic_v3_parse(pub->topic.ptr, pub->topic.len, &t)) {
        on_v2(dev, pub->topic.ptr, pub->topic.len, &v);
        return;
    }
    if (t.serial.len != strlen(dev->subserial) ||
        memcmp(t.serial.ptr, dev->subserial, t.serial.len) != 0)
        return;
    if (!dev_span_is(t.child, OSAP_TOPIC_CHILD_SELF)) return; /* no sub-devices */
    if (osap_envelope_common_parse(OSAP_ENVELOPE_V3, v.common, v.common_len, &common)) return;
    if (dev_span_is(t.module, OSAP_MODULE_MODEL)) {
        on_model(dev, &t, common.seq, v.body, v.body_len);
        return;
    }
    if (!dev_span_is(t.module, OSAP_MODULE_BASIC) || !dev_span_is(t.method, "shadow")) return;
    if (t.rid.len + 1 + t.rtype.len > DEV_RESOURCE_MAX) return;
    snprintf(res, sizeof(res), "%.*s-%.*s", (int)t.rid.len, t.rid.ptr, (int)t.rtype.len,
             t.rtype.ptr);
    if (dev_span_is(t.msg_type, "set"))
        osap__shadow_on_set(dev, res, common.seq, v.body, v.body_len);
    else if (dev_span_is(t.msg_type, "query_reply"))
        osap__shadow_on_query_reply(dev, res, v.body, v.body_len);
    /* "report" from the server must be ignored (spec 7.3); other kinds are unknown */
}

osap_err osap__biz_pump(struct osap_device *dev)
{
    osap_err err = osap__shadow_pump(dev);

    if (err) return err;
    return osap__event_pump(dev);
}

void osap__biz_on_online(struct osap_device *dev)
{
    osap__shadow_on_online(dev);
    osap__queue_rewind(&dev->queue);
}

void osap__biz_on_offline(struct osap_device *dev)
{
    osap__shadow_on_offline(dev);
    memset(dev->flights, 0, sizeof(dev->flights));
    for (size_t i = 0; i < OSAP_DEVICE_PENDING_MAX; i++)
        dev->pending[i].id = 0;
}

void osap__biz_on_puback(struct osap_device *dev, struct dev_flight *fl)
{
    switch (fl->kind) {
    case FL_EVENT: osap__event_on_puback(dev, fl); break;
    case FL_REPORT: osap__shadow_on_puback(dev, fl); break;
    default: break;
    }
}
