/* LBS frame: first byte, remaining length, variable header, version, result. */
#include "lbs_codec.h"

#include <string.h>

static size_t frame_limit(size_t max_frame)
{
    return max_frame ? max_frame : (size_t)OSAP_MESSAGE_MAX + OSAP_LBS_HEADER_MAX;
}

osap_err osap_lbs_frame_length(const uint8_t *buf, size_t len, size_t max_frame, size_t *frame_len)
{
    size_t limit = frame_limit(max_frame);
    size_t value = 0;

    if (!buf && len) return OSAP_EINVAL;
    if (!frame_len) return OSAP_EINVAL;
    for (size_t i = 1; i <= OSAP_LBS_REMLEN_MAX_BYTES; i++) {
        if (len <= i) return OSAP_ENEED_MORE;
        uint8_t b = buf[i];
        value |= (size_t)(b & 0x7f) << (7 * (i - 1));
        if (b & 0x80) {
            if (i == OSAP_LBS_REMLEN_MAX_BYTES) return OSAP_ELBS_REMLEN;
            /* A continuation needs a later non-zero byte worth at least 128^i. */
            size_t min_total = 1 + (i + 1) + value + ((size_t)1 << (7 * i));
            if (min_total > limit) return OSAP_ETOOBIG;
            continue;
        }
        if (b == 0 && i > 1) return OSAP_ELBS_REMLEN; /* non-minimal encoding */
        size_t total = 1 + i + value;
        if (total > limit) return OSAP_ETOOBIG;
        if (len < total) return OSAP_ENEED_MORE;
        *frame_len = total;
        return OSAP_OK;
    }
    return OSAP_ELBS_REMLEN; /* not reached */
}

static int type_is_reserved(uint8_t type)
{
    return type == 0x0 || type == OSAP_LBS_RESERVED_3 || type == OSAP_LBS_RESERVED_5;
}

static int type_has_result(uint8_t type)
{
    return type == OSAP_LBS_AUTH_II || type == OSAP_LBS_REFRESH_SK_RSP ||
           type == OSAP_LBS_RESPONSE_DEVID || type == OSAP_LBS_CRYPTO_DATA_RSP ||
           type == OSAP_LBS_STUN_II;
}

osap_err osap_lbs_frame_decode(const uint8_t *buf, size_t len, size_t max_frame,
                               struct osap_lbs_frame *out)
{
    struct osap_lbs_frame f;
    struct osap__lbs_rd r;
    const uint8_t *p;
    size_t frame_len;
    osap_err err;

    if (!out) return OSAP_EINVAL;
    err = osap_lbs_frame_length(buf, len, max_frame, &frame_len);
    if (err) return err;

    memset(&f, 0, sizeof(f));
    f.byte0 = buf[0];
    f.type = buf[0] >> 4;
    f.flags = buf[0] & 0x0f;
    f.frame_len = frame_len;
    for (f.header_len = 2; buf[f.header_len - 1] & 0x80; f.header_len++)
        ;
    f.remaining = frame_len - f.header_len;
    if (type_is_reserved(f.type)) return OSAP_ELBS_TYPE;

    r.p = buf + f.header_len;
    r.left = f.remaining;
    if (f.type == OSAP_LBS_AUTH_I) {
        /* Devices set 0x08; the draft calls the same bit "Bit1" (0x02). */
        if (!(f.flags & (OSAP_LBS_FLAG_ECDH | OSAP_LBS_FLAG_NEW))) return OSAP_ELBS_FLAGS;
        if (!(p = osap__lbs_take(&r, 2))) return OSAP_ELBS_LENGTH;
        f.auth_type = p[0];
        f.auth_type_count = p[1];
        if (f.auth_type_count > OSAP_LBS_AUTH_GROUP_MAX) return OSAP_ELBS_VAR_HEADER;
        if (!(f.auth_types = osap__lbs_take(&r, f.auth_type_count))) return OSAP_ELBS_LENGTH;
        f.has_var_header = 1;
    } else if (f.type == OSAP_LBS_AUTH_II) {
        /* The device reads the variable header only with 0x08 and rejects 0x2 without. */
        if (!(f.flags & OSAP_LBS_FLAG_ECDH)) return OSAP_ELBS_FLAGS;
        if (!(p = osap__lbs_take(&r, 1))) return OSAP_ELBS_LENGTH;
        f.auth_type = p[0];
        f.has_var_header = 1;
    }
    if (!(p = osap__lbs_take(&r, OSAP_LBS_VERSION_LEN))) return OSAP_ELBS_LENGTH;
    memcpy(f.version, p, OSAP_LBS_VERSION_LEN);
    if (type_has_result(f.type)) {
        if (!(p = osap__lbs_take(&r, 1))) return OSAP_ELBS_LENGTH;
        f.result = p[0];
        f.has_result = 1;
    }
    f.payload = r.p;
    f.payload_len = r.left;
    *out = f;
    return OSAP_OK;
}

osap_err osap_lbs_header_encode(uint8_t byte0, size_t remaining, uint8_t out[OSAP_LBS_HEADER_MAX],
                                size_t *len)
{
    size_t n = 0;

    if (!out || !len || remaining > OSAP_LBS_REMLEN_MAX) return OSAP_EINVAL;
    out[n++] = byte0;
    do {
        uint8_t b = remaining & 0x7f;
        remaining >>= 7;
        if (remaining) b |= 0x80;
        out[n++] = b;
    } while (remaining);
    *len = n;
    return OSAP_OK;
}

osap_err osap__lbs_payload(const struct osap_lbs_frame *f, uint8_t type, struct osap__lbs_rd *r)
{
    if (!f || !f->payload) return OSAP_EINVAL;
    if (f->type != type) return OSAP_ELBS_TYPE;
    r->p = f->payload;
    r->left = f->payload_len;
    return OSAP_OK;
}

osap_err osap__lbs_begin(struct osap__lbs_wr *w, uint8_t *out, size_t cap, uint8_t byte0,
                         size_t remaining, size_t *total)
{
    uint8_t hdr[OSAP_LBS_HEADER_MAX];
    size_t hlen;
    osap_err err = osap_lbs_header_encode(byte0, remaining, hdr, &hlen);

    if (err) return err;
    if (!out || cap < hlen || cap - hlen < remaining) return OSAP_EBUFSIZE;
    w->p = out;
    osap__lbs_put(w, hdr, hlen);
    *total = hlen + remaining;
    return OSAP_OK;
}

int osap__lbs_subserial_ok(const char *s, size_t len)
{
    return s && len >= 1 && len <= OSAP_SUBSERIAL_MAX && !memchr(s, '\0', len);
}

osap_err osap_lbs_error_encode(uint8_t type, int old_header, uint8_t auth_type, uint8_t result,
                               uint8_t *out, size_t cap, size_t *len)
{
    static const uint8_t version[] = {OSAP_LBS_VERSION_FORM, OSAP_LBS_VERSION_LOW,
                                      OSAP_LBS_VERSION_HIGH};
    struct osap__lbs_wr w;
    uint8_t byte0;
    size_t remaining = OSAP_LBS_VERSION_LEN + 1, total;
    osap_err err;

    if (!len || result == 0) return OSAP_EINVAL;
    switch (type) {
    case OSAP_LBS_AUTH_II:
        byte0 = OSAP_LBS_BYTE0_AUTH_II;
        remaining++;
        break;
    case OSAP_LBS_REFRESH_SK_RSP: byte0 = OSAP_LBS_BYTE0_REFRESH_RSP; break;
    case OSAP_LBS_RESPONSE_DEVID:
        byte0 = old_header ? OSAP_LBS_BYTE0_DEVID_RSP_C : OSAP_LBS_BYTE0_DEVID_RSP_A;
        break;
    case OSAP_LBS_CRYPTO_DATA_RSP: byte0 = OSAP_LBS_BYTE0_CRYPTO_RSP; break;
    default: return OSAP_EINVAL;
    }
    err = osap__lbs_begin(&w, out, cap, byte0, remaining, &total);
    if (err) return err;
    if (type == OSAP_LBS_AUTH_II) osap__lbs_put_u8(&w, auth_type);
    osap__lbs_put(&w, version, sizeof(version));
    osap__lbs_put_u8(&w, result);
    *len = total;
    return OSAP_OK;
}
