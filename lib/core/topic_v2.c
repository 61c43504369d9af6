/*
 * v2 device topics (spec 6.6): "/<domain>/<cmd>" from the device and
 * "/<sn>/<domain>/<cmd>" to it, numbers in decimal.
 */
#include "topic_internal.h"

#include "devjson_internal.h"

/* Decimal digits, no sign, no leading zero (except "0"), at most the device's INT_MAX. */
static int parse_number(struct osap_topic_span s, uint32_t *out)
{
    uint64_t v = 0;

    if (s.len == 0 || s.len > 10) return 0;
    if (s.len > 1 && s.ptr[0] == '0') return 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') return 0;
        v = v * 10 + (uint64_t)(s.ptr[i] - '0');
    }
    if (v > OSAP_TOPIC_V2_NUMBER_MAX) return 0;
    *out = (uint32_t)v;
    return 1;
}

osap_err osap_topic_v2_parse(const char *topic, size_t len, struct osap_topic_v2 *out)
{
    struct osap_topic_span lv[4];
    struct osap_topic_v2 t = {{NULL, 0}, 0, 0};
    const char *p, *end;
    size_t n = 0;
    int more = 1;

    if (!out || (len && !topic)) return OSAP_EINVAL;
    if (len >= OSAP_TOPIC_V2_MAX || len < 4 || topic[0] != '/') return OSAP_EDEVICE_TOPIC;
    p = topic + 1;
    end = topic + len;
    while (more) {
        if (n == 4) return OSAP_EDEVICE_TOPIC;
        more = osap__topic_next_level(&p, end, &lv[n++]);
    }
    if (n == 3) {
        t.serial = lv[0];
        if (!osap__topic_level_ok(t.serial, OSAP_TOPIC_V2_SERIAL_MAX)) return OSAP_EDEVICE_TOPIC;
    } else if (n != 2) {
        return OSAP_EDEVICE_TOPIC;
    }
    if (!parse_number(lv[n - 2], &t.domain) || !parse_number(lv[n - 1], &t.cmd))
        return OSAP_EDEVICE_TOPIC;
    *out = t;
    return OSAP_OK;
}

osap_err osap_topic_v2_build(const struct osap_topic_v2 *t, char *out, size_t cap, size_t *len)
{
    char buf[OSAP_TOPIC_V2_MAX];
    struct osap__jw w;
    size_t n;

    if (!t || !out || !len) return OSAP_EINVAL;
    if (t->domain > OSAP_TOPIC_V2_NUMBER_MAX || t->cmd > OSAP_TOPIC_V2_NUMBER_MAX)
        return OSAP_EDEVICE_TOPIC;
    if (t->serial.len && !osap__topic_level_ok(t->serial, OSAP_TOPIC_V2_SERIAL_MAX))
        return OSAP_EDEVICE_TOPIC;
    osap__jw_init(&w, buf, sizeof(buf));
    if (t->serial.len) {
        osap__jw_raw(&w, "/", 1);
        osap__jw_raw(&w, t->serial.ptr, t->serial.len);
    }
    osap__jw_raw(&w, "/", 1);
    osap__jw_u64(&w, t->domain);
    osap__jw_raw(&w, "/", 1);
    osap__jw_u64(&w, t->cmd);
    if (osap__jw_finish(&w, &n)) return OSAP_EDEVICE_TOPIC; /* 127 bytes at most */
    if (cap <= n) return OSAP_EBUFSIZE;
    memcpy(out, buf, n + 1);
    *len = n;
    return OSAP_OK;
}
