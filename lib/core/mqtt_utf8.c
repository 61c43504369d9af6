/* MQTT 3.1.1 UTF-8 string rules (section 1.5.3). */
#include "osap/mqtt.h"

#include <string.h>

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Eight bytes that are all ASCII and none of them NUL. */
static int word_is_plain_ascii(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof(w));
    return ((w | ((w - ONES) & ~w)) & HIGHS) == 0;
}

osap_err osap_mqtt_utf8_validate(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end;

    if (len == 0) return OSAP_OK;
    end = p + len;

    while (p < end) {
        if ((size_t)(end - p) >= 8 && word_is_plain_ascii(p)) {
            p += 8;
            continue;
        }
        unsigned char c = *p;
        if (c < 0x80) {
            if (c == 0) return OSAP_EMQTT_UTF8;
            p++;
            continue;
        }
        /* RFC 3629 table: the second byte's range depends on the first byte,
         * which excludes overlong forms, surrogates and values above U+10FFFF. */
        size_t n;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            return OSAP_EMQTT_UTF8;
        }
        if ((size_t)(end - p) < n) return OSAP_EMQTT_UTF8;
        if (p[1] < lo || p[1] > hi) return OSAP_EMQTT_UTF8;
        for (size_t i = 2; i < n; i++)
            if ((p[i] & 0xC0) != 0x80) return OSAP_EMQTT_UTF8;
        p += n;
    }
    return OSAP_OK;
}
