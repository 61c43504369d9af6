/*
 * Helpers shared by the crypto, envelope and device-JSON tests: reading values
 * out of tests/data/vectors/vectors.txt and building byte strings.
 */
#ifndef OSAP_TEST_CRYPTO_VEC_H
#define OSAP_TEST_CRYPTO_VEC_H

#include "testutil.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Position just after @p label, searching from the first @p anchor (NULL = start). */
static inline const char *vec_find(const char *text, const char *anchor, const char *label)
{
    const char *p = text;
    if (anchor) {
        p = strstr(p, anchor);
        if (!p) fail_msg("vectors.txt: anchor \"%s\" not found", anchor);
    }
    p = strstr(p, label);
    if (!p)
        fail_msg("vectors.txt: label \"%s\" not found after \"%s\"", label, anchor ? anchor : "");
    return p + strlen(label);
}

/* The longest run of hex digits on the line starting at @p p, decoded into a new
 * buffer (free with test_free_buf). @p hextext, when not NULL, receives the run as
 * a new NUL-terminated string (free with free()). */
static inline uint8_t *vec_hexrun(const char *p, size_t *len, char **hextext)
{
    const char *best = NULL, *end = strchr(p, '\n');
    size_t bestlen = 0;
    if (!end) end = p + strlen(p);
    while (p < end) {
        const char *s = p;
        while (p < end && isxdigit((unsigned char)*p))
            p++;
        if ((size_t)(p - s) > bestlen) {
            best = s;
            bestlen = (size_t)(p - s);
        }
        if (p == s) p++;
    }
    if (bestlen < 2 || bestlen % 2) fail_msg("vectors.txt: no hex value on the line");
    char *tmp = strndup(best, bestlen);
    assert_non_null(tmp);
    uint8_t *out = test_hex(tmp, len);
    if (hextext)
        *hextext = tmp;
    else
        free(tmp);
    return out;
}

/* Hex value after @p label (searched from @p anchor). */
static inline uint8_t *vec_hex(const char *text, const char *anchor, const char *label, size_t *len)
{
    return vec_hexrun(vec_find(text, anchor, label), len, NULL);
}

/* Hex text (as written, case preserved) after @p label. Free with free(). */
static inline char *vec_hextext(const char *text, const char *anchor, const char *label)
{
    char *t = NULL;
    size_t n;
    test_free_buf(vec_hexrun(vec_find(text, anchor, label), &n, &t));
    return t;
}

/* The rest of the line after @p label, without leading blanks. Free with free(). */
static inline char *vec_line(const char *text, const char *anchor, const char *label)
{
    const char *p = vec_find(text, anchor, label);
    while (*p == ' ')
        p++;
    const char *end = strchr(p, '\n');
    char *s = strndup(p, end ? (size_t)(end - p) : strlen(p));
    assert_non_null(s);
    return s;
}

/* A growable byte string for assembling messages in tests. */
struct tbuf {
    uint8_t b[4096];
    size_t n;
};

static inline void tbuf_put(struct tbuf *t, const void *p, size_t n)
{
    assert_true(t->n + n <= sizeof(t->b));
    memcpy(t->b + t->n, p, n);
    t->n += n;
}

static inline void tbuf_u8(struct tbuf *t, unsigned v)
{
    uint8_t c = (uint8_t)v;
    tbuf_put(t, &c, 1);
}

static inline void tbuf_u16(struct tbuf *t, unsigned v)
{
    tbuf_u8(t, v >> 8);
    tbuf_u8(t, v & 0xff);
}

static inline void tbuf_str(struct tbuf *t, const char *s)
{
    tbuf_put(t, s, strlen(s));
}

/* MQTT/LBS variable-length integer. */
static inline void tbuf_varint(struct tbuf *t, size_t v)
{
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        if (v) c |= 0x80;
        tbuf_u8(t, c);
    } while (v);
}

/* Frame = byte0 || varint(len(body)) || body. */
static inline void tbuf_frame(struct tbuf *out, unsigned byte0, const struct tbuf *body)
{
    out->n = 0;
    tbuf_u8(out, byte0);
    tbuf_varint(out, body->n);
    tbuf_put(out, body->b, body->n);
}

/* The vectors file as one string (freed by the caller with test_free_buf). */
static inline char *vec_load(void)
{
    return test_read_data("vectors/vectors.txt", NULL);
}

#endif
