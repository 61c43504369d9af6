/*
 * Internal helpers shared by the LBS codec files (lbs_frame.c, lbs_msg_*.c):
 * a bounds-checked reader over a frame payload and a writer that fills a buffer
 * whose size was checked beforehand.
 */
#ifndef OSAP_LBS_CODEC_H
#define OSAP_LBS_CODEC_H

#include "osap/lbs.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/** Reader over a byte range. */
struct osap__lbs_rd {
    const uint8_t *p;
    size_t left;
};

/** The next @p n bytes, or NULL (and nothing consumed) when fewer are left. */
static inline const uint8_t *osap__lbs_take(struct osap__lbs_rd *r, size_t n)
{
    if (r->left < n) return NULL;
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

/** Writer into a buffer already known to be large enough. */
struct osap__lbs_wr {
    uint8_t *p;
};

static inline void osap__lbs_put(struct osap__lbs_wr *w, const void *src, size_t n)
{
    if (n) memcpy(w->p, src, n);
    w->p += n;
}

static inline void osap__lbs_put_u8(struct osap__lbs_wr *w, uint8_t v)
{
    *w->p++ = v;
}

/** Start a payload reader for a decoded frame of the expected @p type. */
osap_err osap__lbs_payload(const struct osap_lbs_frame *f, uint8_t type, struct osap__lbs_rd *r);

/** Check that a frame with @p remaining bytes after its length field fits @p cap,
 *  then write its header. On success *@p total is the whole frame length. */
osap_err osap__lbs_begin(struct osap__lbs_wr *w, uint8_t *out, size_t cap, uint8_t byte0,
                         size_t remaining, size_t *total);

/** 1 when @p s (@p len bytes) is a valid subserial: 1..OSAP_SUBSERIAL_MAX, no NUL. */
int osap__lbs_subserial_ok(const char *s, size_t len);

#endif /* OSAP_LBS_CODEC_H */
