/*
 * A bounded compact-JSON writer that prints exactly what the device's cJSON
 * prints for the same members in the same order.
 */
#include "devjson_internal.h"

#include <string.h>

void osap__jw_init(struct osap__jw *w, char *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->overflow = (buf == NULL && cap != 0);
}

void osap__jw_raw(struct osap__jw *w, const char *s, size_t n)
{
    if (w->overflow) return;
    if (n > w->cap - w->len) {
        w->overflow = 1;
        return;
    }
    if (n) memcpy(w->buf + w->len, s, n);
    w->len += n;
}

void osap__jw_lit(struct osap__jw *w, const char *s)
{
    osap__jw_raw(w, s, strlen(s));
}

void osap__jw_str(struct osap__jw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;

    osap__jw_raw(w, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t elen = 2;

        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        osap__jw_raw(w, s + i - run, run);
        run = 0;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
            break;
        }
        osap__jw_raw(w, esc, elen);
    }
    osap__jw_raw(w, s + n - run, run);
    osap__jw_raw(w, "\"", 1);
}

void osap__jw_u64(struct osap__jw *w, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    osap__jw_raw(w, tmp + i, sizeof(tmp) - i);
}

void osap__jw_i64(struct osap__jw *w, int64_t v)
{
    if (v < 0) {
        osap__jw_raw(w, "-", 1);
        osap__jw_u64(w, (uint64_t)0 - (uint64_t)v);
    } else {
        osap__jw_u64(w, (uint64_t)v);
    }
}

osap_err osap__jw_finish(struct osap__jw *w, size_t *len)
{
    if (w->overflow || w->len >= w->cap) return OSAP_EBUFSIZE;
    w->buf[w->len] = '\0';
    if (len) *len = w->len;
    return OSAP_OK;
}
