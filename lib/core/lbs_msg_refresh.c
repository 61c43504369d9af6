/* LBS path B 0x4 (refresh session key); its answer 0x6 is in lbs_msg_devid.c. */
#include "lbs_codec.h"

osap_err osap_lbs_refresh_req_decode(const struct osap_lbs_frame *f,
                                     struct osap_lbs_refresh_req *out)
{
    struct osap_lbs_refresh_req m;
    struct osap__lbs_rd r;
    const uint8_t *p;
    osap_err err;

    if (!out) return OSAP_EINVAL;
    err = osap__lbs_payload(f, OSAP_LBS_REFRESH_SK_REQ, &r);
    if (err) return err;
    memcpy(m.version, f->version, OSAP_LBS_VERSION_LEN);
    if (!(p = osap__lbs_take(&r, 1))) return OSAP_ELBS_LENGTH;
    if (p[0] != OSAP_DEVID_LEN) return OSAP_ELBS_DEVID_LEN;
    if (!(m.devid = osap__lbs_take(&r, OSAP_DEVID_LEN))) return OSAP_ELBS_LENGTH;
    if (r.left != OSAP_SIGN_LEN) return OSAP_ELBS_SIGN_LEN;
    m.sign = r.p;
    *out = m;
    return OSAP_OK;
}

osap_err osap_lbs_refresh_req_encode(const struct osap_lbs_refresh_req *m, uint8_t *out, size_t cap,
                                     size_t *len)
{
    struct osap__lbs_wr w;
    size_t total;
    osap_err err;

    if (!m || !len || !m->devid || !m->sign) return OSAP_EINVAL;
    err = osap__lbs_begin(&w, out, cap, OSAP_LBS_BYTE0_REFRESH_REQ,
                          OSAP_LBS_VERSION_LEN + 1 + OSAP_DEVID_LEN + OSAP_SIGN_LEN, &total);
    if (err) return err;
    osap__lbs_put(&w, m->version, OSAP_LBS_VERSION_LEN);
    osap__lbs_put_u8(&w, OSAP_DEVID_LEN);
    osap__lbs_put(&w, m->devid, OSAP_DEVID_LEN);
    osap__lbs_put(&w, m->sign, OSAP_SIGN_LEN);
    *len = total;
    return OSAP_OK;
}
