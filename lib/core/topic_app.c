/*
 * The application namespace: plain-MQTT topics under "$osap/" on which the DAS
 * republishes decrypted device traffic (docs/TOPICS.md).
 */
#include "topic_internal.h"

#define APP_PARTS_MAX 7

/* Concatenate @p n spans into @p out, NUL-terminated, or write nothing. */
static osap_err join(const struct osap_topic_span *parts, size_t n, char *out, size_t cap,
                     size_t *len)
{
    size_t total = 0, o = 0;

    if (!out || !len) return OSAP_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].len > SIZE_MAX - 1 - total) return OSAP_EBUFSIZE;
        total += parts[i].len;
    }
    if (cap <= total) return OSAP_EBUFSIZE;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].len) memcpy(out + o, parts[i].ptr, parts[i].len);
        o += parts[i].len;
    }
    out[o] = '\0';
    *len = o;
    return OSAP_OK;
}

static struct osap_topic_span lit(const char *s)
{
    return osap_topic_span_str(s);
}

static int seg_ok(struct osap_topic_span s)
{
    return osap__topic_level_ok(s, SIZE_MAX);
}

/* $osap/<sn>/<kind>/<domain>/<identifier> */
static osap_err keyed(struct osap_topic_span sn, const char *kind, struct osap_topic_span domain,
                      struct osap_topic_span identifier, char *out, size_t cap, size_t *len)
{
    if (!seg_ok(sn) || !seg_ok(domain) || !seg_ok(identifier)) return OSAP_EINVAL;
    struct osap_topic_span parts[APP_PARTS_MAX] = {
        lit(OSAP_APP_TOPIC_PREFIX), sn, lit(kind), domain, lit("/"), identifier,
    };
    return join(parts, 6, out, cap, len);
}

osap_err osap_topic_app_event(struct osap_topic_span sn, struct osap_topic_span domain,
                              struct osap_topic_span identifier, char *out, size_t cap, size_t *len)
{
    return keyed(sn, "/event/", domain, identifier, out, cap, len);
}

osap_err osap_topic_app_attribute(struct osap_topic_span sn, struct osap_topic_span domain,
                                  struct osap_topic_span identifier, char *out, size_t cap,
                                  size_t *len)
{
    return keyed(sn, "/attribute/", domain, identifier, out, cap, len);
}

osap_err osap_topic_app_reply(struct osap_topic_span sn, struct osap_topic_span domain,
                              struct osap_topic_span identifier, char *out, size_t cap, size_t *len)
{
    return keyed(sn, "/reply/", domain, identifier, out, cap, len);
}

osap_err osap_topic_app_status(struct osap_topic_span sn, char *out, size_t cap, size_t *len)
{
    if (!seg_ok(sn)) return OSAP_EINVAL;
    struct osap_topic_span parts[] = {lit(OSAP_APP_TOPIC_PREFIX), sn, lit("/status")};
    return join(parts, 3, out, cap, len);
}

static struct osap_topic_span decimal(uint32_t v, char buf[16])
{
    size_t i = 15;

    buf[15] = '\0';
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return (struct osap_topic_span){buf + i, 15 - i};
}

osap_err osap_topic_app_v2(struct osap_topic_span sn, uint32_t domain, uint32_t cmd, char *out,
                           size_t cap, size_t *len)
{
    char d[16], c[16];

    if (!seg_ok(sn)) return OSAP_EINVAL;
    struct osap_topic_span parts[] = {
        lit(OSAP_APP_TOPIC_PREFIX), sn, lit("/v2/"), decimal(domain, d), lit("/"), decimal(cmd, c),
    };
    return join(parts, 6, out, cap, len);
}

osap_err osap_topic_app_raw(struct osap_topic_span sn, struct osap_topic_span rest, char *out,
                            size_t cap, size_t *len)
{
    if (!seg_ok(sn) || !osap__topic_levels_ok(rest, 0)) return OSAP_EINVAL;
    struct osap_topic_span parts[] = {lit(OSAP_APP_TOPIC_PREFIX), sn, lit("/raw/"), rest};
    return join(parts, 4, out, cap, len);
}
