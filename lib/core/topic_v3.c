/*
 * v3 device topics (spec 6.6):
 *   /iot/<sn>/<child>/<rid>-<rtype>/model/<method>/<msg_type>/<domain>/<identifier>
 *   /iot/<sn>/<child>/<rid>-<rtype>/<module>/<method...>/<msg_type>
 */
#include "topic_internal.h"

#include "devjson_internal.h"

#define PREFIX     OSAP_TOPIC_V3_PREFIX
#define PREFIX_LEN (sizeof(OSAP_TOPIC_V3_PREFIX) - 1)

static const struct osap_topic_span empty_span = {NULL, 0};

/* Split "<rid>-<rtype>" at its first '-'. */
static int split_resource(struct osap_topic_span rr, struct osap_topic_span *rid,
                          struct osap_topic_span *rtype)
{
    const char *dash = rr.len ? memchr(rr.ptr, '-', rr.len) : NULL;

    if (!dash) return 0;
    rid->ptr = rr.ptr;
    rid->len = (size_t)(dash - rr.ptr);
    rtype->ptr = dash + 1;
    rtype->len = rr.len - rid->len - 1;
    return 1;
}

static int rid_ok(struct osap_topic_span rid)
{
    return osap__topic_level_ok(rid, OSAP_TOPIC_RID_MAX) && !memchr(rid.ptr, '-', rid.len);
}

osap_err osap_topic_v3_parse(const char *topic, size_t len, struct osap_topic_v3 *out)
{
    struct osap_topic_v3 t = {0};
    struct osap_topic_span rr;
    const char *p, *end;

    if (!out || (len && !topic)) return OSAP_EINVAL;
    if (len >= OSAP_TOPIC_V3_MAX || len < PREFIX_LEN) return OSAP_EDEVICE_TOPIC;
    if (memcmp(topic, PREFIX, PREFIX_LEN) != 0) return OSAP_EDEVICE_TOPIC;
    p = topic + PREFIX_LEN;
    end = topic + len;

    if (!osap__topic_next_level(&p, end, &t.serial) ||
        !osap__topic_level_ok(t.serial, OSAP_TOPIC_SERIAL_MAX))
        return OSAP_EDEVICE_TOPIC;
    if (!osap__topic_next_level(&p, end, &t.child) ||
        !osap__topic_level_ok(t.child, OSAP_TOPIC_CHILD_MAX))
        return OSAP_EDEVICE_TOPIC;
    if (!osap__topic_next_level(&p, end, &rr) || !split_resource(rr, &t.rid, &t.rtype) ||
        !rid_ok(t.rid) || !osap__topic_level_ok(t.rtype, OSAP_TOPIC_RTYPE_MAX))
        return OSAP_EDEVICE_TOPIC;
    if (!osap__topic_next_level(&p, end, &t.module) ||
        !osap__topic_level_ok(t.module, OSAP_TOPIC_MODULE_MAX))
        return OSAP_EDEVICE_TOPIC;

    if (osap__topic_span_is(t.module, OSAP_MODULE_MODEL)) {
        if (!osap__topic_next_level(&p, end, &t.method) ||
            !osap__topic_level_ok(t.method, OSAP_TOPIC_METHOD_MAX))
            return OSAP_EDEVICE_TOPIC;
        if (!osap__topic_next_level(&p, end, &t.msg_type) ||
            !osap__topic_level_ok(t.msg_type, OSAP_TOPIC_MSGTYPE_MAX))
            return OSAP_EDEVICE_TOPIC;
        if (!osap__topic_next_level(&p, end, &t.domain) ||
            !osap__topic_level_ok(t.domain, OSAP_TOPIC_EXT_PART_MAX))
            return OSAP_EDEVICE_TOPIC;
        if (osap__topic_next_level(&p, end, &t.identifier) ||
            !osap__topic_level_ok(t.identifier, OSAP_TOPIC_EXT_PART_MAX))
            return OSAP_EDEVICE_TOPIC;
    } else {
        struct osap_topic_span rest = {p, (size_t)(end - p)};
        const char *slash = NULL;
        for (const char *q = p; q < end; q++)
            if (*q == '/') slash = q;
        if (!slash) return OSAP_EDEVICE_TOPIC;
        t.method.ptr = p;
        t.method.len = (size_t)(slash - p);
        t.msg_type.ptr = slash + 1;
        t.msg_type.len = (size_t)(end - slash - 1);
        if (!osap__topic_levels_ok(rest, 0) ||
            !osap__topic_levels_ok(t.method, OSAP_TOPIC_METHOD_MAX) ||
            !osap__topic_level_ok(t.msg_type, OSAP_TOPIC_MSGTYPE_MAX))
            return OSAP_EDEVICE_TOPIC;
        t.domain = empty_span;
        t.identifier = empty_span;
    }
    *out = t;
    return OSAP_OK;
}

static void put(struct osap__jw *w, struct osap_topic_span s)
{
    osap__jw_raw(w, s.ptr, s.len);
}

osap_err osap_topic_v3_build(const struct osap_topic_v3 *t, char *out, size_t cap, size_t *len)
{
    char buf[OSAP_TOPIC_V3_MAX]; /* the longest topic a device accepts, plus the NUL */
    struct osap_topic_span child;
    struct osap__jw w;
    size_t n, module_at;
    int model;

    if (!t || !out || !len) return OSAP_EINVAL;
    child = t->child.len ? t->child : osap_topic_span_str(OSAP_TOPIC_CHILD_SELF);
    model = osap__topic_span_is(t->module, OSAP_MODULE_MODEL);
    if (!osap__topic_level_ok(t->serial, OSAP_TOPIC_SERIAL_MAX) ||
        !osap__topic_level_ok(child, OSAP_TOPIC_CHILD_MAX) || !rid_ok(t->rid) ||
        !osap__topic_level_ok(t->rtype, OSAP_TOPIC_RTYPE_MAX) ||
        !osap__topic_level_ok(t->module, OSAP_TOPIC_MODULE_MAX) ||
        !osap__topic_level_ok(t->msg_type, OSAP_TOPIC_MSGTYPE_MAX))
        return OSAP_EDEVICE_TOPIC;
    if (model) {
        if (!osap__topic_level_ok(t->method, OSAP_TOPIC_METHOD_MAX) ||
            !osap__topic_level_ok(t->domain, OSAP_TOPIC_EXT_PART_MAX) ||
            !osap__topic_level_ok(t->identifier, OSAP_TOPIC_EXT_PART_MAX))
            return OSAP_EDEVICE_TOPIC;
    } else {
        if (!osap__topic_levels_ok(t->method, OSAP_TOPIC_METHOD_MAX) || t->domain.len ||
            t->identifier.len)
            return OSAP_EDEVICE_TOPIC;
    }

    osap__jw_init(&w, buf, sizeof(buf));
    osap__jw_lit(&w, PREFIX);
    put(&w, t->serial);
    osap__jw_raw(&w, "/", 1);
    put(&w, child);
    osap__jw_raw(&w, "/", 1);
    put(&w, t->rid);
    osap__jw_raw(&w, "-", 1);
    put(&w, t->rtype);
    osap__jw_raw(&w, "/", 1);
    module_at = w.len;
    put(&w, t->module);
    osap__jw_raw(&w, "/", 1);
    put(&w, t->method);
    osap__jw_raw(&w, "/", 1);
    put(&w, t->msg_type);
    if (model) {
        osap__jw_raw(&w, "/", 1);
        put(&w, t->domain);
        osap__jw_raw(&w, "/", 1);
        put(&w, t->identifier);
    }
    /* 511 bytes at most: longer topics are refused by the device */
    if (osap__jw_finish(&w, &n)) return OSAP_EDEVICE_TOPIC;
    if (!model) {
        /* The device finds the method by searching for the first "<module>/". */
        size_t first = n;
        for (size_t i = 0; i + t->module.len < n && first == n; i++)
            if (memcmp(buf + i, t->module.ptr, t->module.len) == 0 && buf[i + t->module.len] == '/')
                first = i;
        if (first != module_at) return OSAP_EDEVICE_TOPIC;
    }
    if (cap <= n) return OSAP_EBUFSIZE;
    memcpy(out, buf, n + 1);
    *len = n;
    return OSAP_OK;
}
