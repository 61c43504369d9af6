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

/* JSON bodies of 0xA and 0xB (lbs_json.c). */
struct osap_lbs_das_info;

/** {"DevSerial":"<subserial>","Type":"DAS","Mode":<mode>} into @p out (not
 *  NUL-terminated). OSAP_ENOMEM, OSAP_EBUFSIZE. */
osap_err osap__lbs_req_json_encode(const char *subserial, uint8_t mode, char *out, size_t cap,
                                   size_t *len);

/** Check a 0xA request: OSAP_EJSON when it does not parse as an object,
 *  OSAP_ELBS_FIELD when DevSerial is not the string @p subserial or Type is
 *  missing, OSAP_EUNSUPPORTED for a Type other than "DAS" (e.g. "STUN"). */
osap_err osap__lbs_req_json_check(const uint8_t *json, size_t len, const char *subserial,
                                  size_t subserial_len);

/** {"Type":"DAS","DasInfo":{"Address":..,"Port":..,"UdpPort":..,"Domain":..,
 *  "ServerID":..}} into @p out (not NUL-terminated). OSAP_ENOMEM, OSAP_EBUFSIZE,
 *  OSAP_EINVAL for strings that are too long. */
osap_err osap__lbs_das_json_encode(const struct osap_lbs_das_info *info, char *out, size_t cap,
                                   size_t *len);

/** Parse a 0xB answer as the device does: all five DasInfo members with their
 *  JSON types, strings shorter than 64 bytes, ports 0..65535. OSAP_EDAS_JSON. */
osap_err osap__lbs_das_json_decode(const uint8_t *json, size_t len, struct osap_lbs_das_info *out);

#endif /* OSAP_LBS_CODEC_H */
