/* LBS 0x1 (ECDH request) and 0x2 (ECDH response). */
#include "lbs_codec.h"

osap_err osap_lbs_auth_req_decode(const struct osap_lbs_frame *f, struct osap_lbs_auth_req *out)
{
    struct osap_lbs_auth_req m;
    struct osap__lbs_rd r;
    const uint8_t *p;
    osap_err err;

    if (!out) return OSAP_EINVAL;
    err = osap__lbs_payload(f, OSAP_LBS_AUTH_I, &r);
    if (err) return err;
    m.auth_type = f->auth_type;
    m.auth_type_count = f->auth_type_count;
    m.auth_types = f->auth_types;
    memcpy(m.version, f->version, OSAP_LBS_VERSION_LEN);
    if (!(p = osap__lbs_take(&r, 2))) return OSAP_ELBS_LENGTH;
    m.auth_mode = p[0];
    m.subserial_len = p[1];
    if (!(m.subserial = (const char *)osap__lbs_take(&r, m.subserial_len))) return OSAP_ELBS_LENGTH;
    if (!osap__lbs_subserial_ok(m.subserial, m.subserial_len)) return OSAP_ELBS_SUBSERIAL;
    if (!(m.tag = osap__lbs_take(&r, OSAP_GCM_TAG_LEN))) return OSAP_ELBS_LENGTH;
    if (!(m.enc_pubkey = osap__lbs_take(&r, OSAP_P384_PUBKEY_LEN))) return OSAP_ELBS_LENGTH;
    if (r.left) return OSAP_ETRAILING;
    *out = m;
    return OSAP_OK;
}

osap_err osap_lbs_auth_req_encode(const struct osap_lbs_auth_req *m, uint8_t *out, size_t cap,
                                  size_t *len)
{
    struct osap__lbs_wr w;
    size_t remaining, total;
    osap_err err;

    if (!m || !len || !m->tag || !m->enc_pubkey) return OSAP_EINVAL;
    if (m->auth_type_count > OSAP_LBS_AUTH_GROUP_MAX || (m->auth_type_count && !m->auth_types))
        return OSAP_EINVAL;
    if (!osap__lbs_subserial_ok(m->subserial, m->subserial_len)) return OSAP_EINVAL;
    remaining = 2 + m->auth_type_count + OSAP_LBS_VERSION_LEN + 2 + m->subserial_len +
                OSAP_GCM_TAG_LEN + OSAP_P384_PUBKEY_LEN;
    err = osap__lbs_begin(&w, out, cap, OSAP_LBS_BYTE0_AUTH_I, remaining, &total);
    if (err) return err;
    osap__lbs_put_u8(&w, m->auth_type);
    osap__lbs_put_u8(&w, m->auth_type_count);
    osap__lbs_put(&w, m->auth_types, m->auth_type_count);
    osap__lbs_put(&w, m->version, OSAP_LBS_VERSION_LEN);
    osap__lbs_put_u8(&w, m->auth_mode);
    osap__lbs_put_u8(&w, (uint8_t)m->subserial_len);
    osap__lbs_put(&w, m->subserial, m->subserial_len);
    osap__lbs_put(&w, m->tag, OSAP_GCM_TAG_LEN);
    osap__lbs_put(&w, m->enc_pubkey, OSAP_P384_PUBKEY_LEN);
    *len = total;
    return OSAP_OK;
}

osap_err osap_lbs_auth_rsp_decode(const struct osap_lbs_frame *f, struct osap_lbs_auth_rsp *out)
{
    struct osap_lbs_auth_rsp m = {0};
    struct osap__lbs_rd r;
    osap_err err;

    if (!out) return OSAP_EINVAL;
    err = osap__lbs_payload(f, OSAP_LBS_AUTH_II, &r);
    if (err) return err;
    m.auth_type = f->auth_type;
    memcpy(m.version, f->version, OSAP_LBS_VERSION_LEN);
    m.result = f->result;
    if (m.result == 0) {
        if (!(m.tag = osap__lbs_take(&r, OSAP_GCM_TAG_LEN))) return OSAP_ELBS_LENGTH;
        if (!(m.enc_pubkey = osap__lbs_take(&r, OSAP_P384_PUBKEY_LEN))) return OSAP_ELBS_LENGTH;
    }
    if (r.left) return OSAP_ETRAILING;
    *out = m;
    return OSAP_OK;
}

osap_err osap_lbs_auth_rsp_encode(const struct osap_lbs_auth_rsp *m, uint8_t *out, size_t cap,
                                  size_t *len)
{
    struct osap__lbs_wr w;
    size_t remaining = 1 + OSAP_LBS_VERSION_LEN + 1, total;
    osap_err err;

    if (!m || !len) return OSAP_EINVAL;
    if (m->result == 0) {
        if (!m->tag || !m->enc_pubkey) return OSAP_EINVAL;
        remaining += OSAP_GCM_TAG_LEN + OSAP_P384_PUBKEY_LEN;
    }
    err = osap__lbs_begin(&w, out, cap, OSAP_LBS_BYTE0_AUTH_II, remaining, &total);
    if (err) return err;
    osap__lbs_put_u8(&w, m->auth_type);
    osap__lbs_put(&w, m->version, OSAP_LBS_VERSION_LEN);
    osap__lbs_put_u8(&w, m->result);
    if (m->result == 0) {
        osap__lbs_put(&w, m->tag, OSAP_GCM_TAG_LEN);
        osap__lbs_put(&w, m->enc_pubkey, OSAP_P384_PUBKEY_LEN);
    }
    *len = total;
    return OSAP_OK;
}
