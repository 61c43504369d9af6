/* LBS path A 0x7 (apply for devid, new header) and the 0x8/0x6 answer layout. */
#include "lbs_codec.h"

osap_err osap_lbs_devid_req_decode(const struct osap_lbs_frame *f, struct osap_lbs_devid_req *out)
{
    struct osap_lbs_devid_req m;
    struct osap__lbs_rd r;
    osap_err err;

    if (!out) return OSAP_EINVAL;
    err = osap__lbs_payload(f, OSAP_LBS_REQUEST_DEVID, &r);
    if (err) return err;
    memcpy(m.version, f->version, OSAP_LBS_VERSION_LEN);
    if (r.left != OSAP_SIGN_LEN) return OSAP_ELBS_SIGN_LEN;
    m.sign = r.p;
    *out = m;
    return OSAP_OK;
}

osap_err osap_lbs_devid_req_encode(const struct osap_lbs_devid_req *m, uint8_t *out, size_t cap,
                                   size_t *len)
{
    struct osap__lbs_wr w;
    size_t total;
    osap_err err;

    if (!m || !len || !m->sign) return OSAP_EINVAL;
    err = osap__lbs_begin(&w, out, cap, OSAP_LBS_BYTE0_DEVID_REQ_A,
                          OSAP_LBS_VERSION_LEN + OSAP_SIGN_LEN, &total);
    if (err) return err;
    osap__lbs_put(&w, m->version, OSAP_LBS_VERSION_LEN);
    osap__lbs_put(&w, m->sign, OSAP_SIGN_LEN);
    *len = total;
    return OSAP_OK;
}

osap_err osap_lbs_keys_rsp_decode(const struct osap_lbs_frame *f, struct osap_lbs_keys_rsp *out)
{
    struct osap_lbs_keys_rsp m = {0};
    struct osap__lbs_rd r;
    const uint8_t *p;
    osap_err err;

    if (!out || !f) return OSAP_EINVAL;
    if (f->type != OSAP_LBS_RESPONSE_DEVID && f->type != OSAP_LBS_REFRESH_SK_RSP)
        return OSAP_ELBS_TYPE;
    err = osap__lbs_payload(f, f->type, &r);
    if (err) return err;
    m.type = f->type;
    memcpy(m.version, f->version, OSAP_LBS_VERSION_LEN);
    m.result = f->result;
    if (m.result == 0) {
        if (!(m.devid_tag = osap__lbs_take(&r, OSAP_GCM_TAG_LEN))) return OSAP_ELBS_LENGTH;
        if (!(p = osap__lbs_take(&r, 1))) return OSAP_ELBS_LENGTH;
        if (p[0] != OSAP_DEVID_LEN) return OSAP_ELBS_DEVID_LEN;
        if (!(m.enc_devid = osap__lbs_take(&r, OSAP_DEVID_LEN))) return OSAP_ELBS_LENGTH;
        if (!(m.session_key_tag = osap__lbs_take(&r, OSAP_GCM_TAG_LEN))) return OSAP_ELBS_LENGTH;
        if (!(p = osap__lbs_take(&r, 1))) return OSAP_ELBS_LENGTH;
        if (p[0] != OSAP_SESSION_KEY_LEN) return OSAP_ELBS_SESSION_KEY_LEN;
        if (!(m.enc_session_key = osap__lbs_take(&r, OSAP_SESSION_KEY_LEN)))
            return OSAP_ELBS_LENGTH;
        if (r.left != OSAP_SIGN_LEN) return OSAP_ELBS_SIGN_LEN;
        m.sign = r.p;
    } else if (r.left) {
        return OSAP_ETRAILING;
    }
    *out = m;
    return OSAP_OK;
}

osap_err osap_lbs_keys_rsp_encode(const struct osap_lbs_keys_rsp *m, uint8_t *out, size_t cap,
                                  size_t *len)
{
    struct osap__lbs_wr w;
    size_t remaining = OSAP_LBS_VERSION_LEN + 1, total;
    uint8_t byte0;
    osap_err err;

    if (!m || !len) return OSAP_EINVAL;
    if (m->type == OSAP_LBS_RESPONSE_DEVID)
        byte0 = OSAP_LBS_BYTE0_DEVID_RSP_A;
    else if (m->type == OSAP_LBS_REFRESH_SK_RSP)
        byte0 = OSAP_LBS_BYTE0_REFRESH_RSP;
    else
        return OSAP_EINVAL;
    if (m->result == 0) {
        if (!m->devid_tag || !m->enc_devid || !m->session_key_tag || !m->enc_session_key ||
            !m->sign)
            return OSAP_EINVAL;
        remaining +=
            2 * OSAP_GCM_TAG_LEN + 2 + OSAP_DEVID_LEN + OSAP_SESSION_KEY_LEN + OSAP_SIGN_LEN;
    }
    err = osap__lbs_begin(&w, out, cap, byte0, remaining, &total);
    if (err) return err;
    osap__lbs_put(&w, m->version, OSAP_LBS_VERSION_LEN);
    osap__lbs_put_u8(&w, m->result);
    if (m->result == 0) {
        osap__lbs_put(&w, m->devid_tag, OSAP_GCM_TAG_LEN);
        osap__lbs_put_u8(&w, OSAP_DEVID_LEN);
        osap__lbs_put(&w, m->enc_devid, OSAP_DEVID_LEN);
        osap__lbs_put(&w, m->session_key_tag, OSAP_GCM_TAG_LEN);
        osap__lbs_put_u8(&w, OSAP_SESSION_KEY_LEN);
        osap__lbs_put(&w, m->enc_session_key, OSAP_SESSION_KEY_LEN);
        osap__lbs_put(&w, m->sign, OSAP_SIGN_LEN);
    }
    *len = total;
    return OSAP_OK;
}
