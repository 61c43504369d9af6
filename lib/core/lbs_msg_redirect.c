/* LBS path C: 0x7 with the old header (step I), 0x8 old layout (step II), 0x9 (step III). */
#include "lbs_codec.h"

osap_err osap_lbs_redirect_req_decode(const struct osap_lbs_frame *f,
                                      struct osap_lbs_redirect_req *out)
{
    struct osap_lbs_redirect_req m;
    struct osap__lbs_rd r;
    const uint8_t *p;
    osap_err err;

    if (!out) return OSAP_EINVAL;
    err = osap__lbs_payload(f, OSAP_LBS_REQUEST_DEVID, &r);
    if (err) return err;
    memcpy(m.version, f->version, OSAP_LBS_VERSION_LEN);
    if (!(p = osap__lbs_take(&r, 1))) return OSAP_ELBS_LENGTH;
    m.subserial_len = p[0];
    if (!(m.subserial = (const char *)osap__lbs_take(&r, m.subserial_len))) return OSAP_ELBS_LENGTH;
    if (!osap__lbs_subserial_ok(m.subserial, m.subserial_len)) return OSAP_ELBS_SUBSERIAL;
    if (!(p = osap__lbs_take(&r, 1))) return OSAP_ELBS_LENGTH;
    if (p[0] != OSAP_DEVID_LEN) return OSAP_ELBS_DEVID_LEN;
    if (!(m.devid = osap__lbs_take(&r, OSAP_DEVID_LEN))) return OSAP_ELBS_LENGTH;
    if (r.left != OSAP_LBS_RANDOM_BLOCK_LEN) return OSAP_ELBS_CIPHERTEXT_LEN;
    m.enc_random = r.p;
    *out = m;
    return OSAP_OK;
}

osap_err osap_lbs_redirect_req_encode(const struct osap_lbs_redirect_req *m, uint8_t *out,
                                      size_t cap, size_t *len)
{
    struct osap__lbs_wr w;
    size_t total;
    osap_err err;

    if (!m || !len || !m->devid || !m->enc_random) return OSAP_EINVAL;
    if (!osap__lbs_subserial_ok(m->subserial, m->subserial_len)) return OSAP_EINVAL;
    err = osap__lbs_begin(&w, out, cap, OSAP_LBS_BYTE0_DEVID_REQ_C,
                          OSAP_LBS_VERSION_LEN + 1 + m->subserial_len + 1 + OSAP_DEVID_LEN +
                              OSAP_LBS_RANDOM_BLOCK_LEN,
                          &total);
    if (err) return err;
    osap__lbs_put(&w, m->version, OSAP_LBS_VERSION_LEN);
    osap__lbs_put_u8(&w, (uint8_t)m->subserial_len);
    osap__lbs_put(&w, m->subserial, m->subserial_len);
    osap__lbs_put_u8(&w, OSAP_DEVID_LEN);
    osap__lbs_put(&w, m->devid, OSAP_DEVID_LEN);
    osap__lbs_put(&w, m->enc_random, OSAP_LBS_RANDOM_BLOCK_LEN);
    *len = total;
    return OSAP_OK;
}

osap_err osap_lbs_redirect_rsp_decode(const struct osap_lbs_frame *f,
                                      struct osap_lbs_redirect_rsp *out)
{
    struct osap_lbs_redirect_rsp m = {0};
    struct osap__lbs_rd r;
    osap_err err;

    if (!out) return OSAP_EINVAL;
    err = osap__lbs_payload(f, OSAP_LBS_RESPONSE_DEVID, &r);
    if (err) return err;
    memcpy(m.version, f->version, OSAP_LBS_VERSION_LEN);
    m.result = f->result;
    if (m.result == 0) {
        if (r.left != OSAP_LBS_REDIRECT_BLOCK_LEN) return OSAP_ELBS_CIPHERTEXT_LEN;
        m.block = r.p;
    } else if (r.left) {
        return OSAP_ETRAILING;
    }
    *out = m;
    return OSAP_OK;
}

osap_err osap_lbs_redirect_rsp_encode(const struct osap_lbs_redirect_rsp *m, uint8_t *out,
                                      size_t cap, size_t *len)
{
    struct osap__lbs_wr w;
    size_t remaining = OSAP_LBS_VERSION_LEN + 1, total;
    osap_err err;

    if (!m || !len) return OSAP_EINVAL;
    if (m->result == 0) {
        if (!m->block) return OSAP_EINVAL;
        remaining += OSAP_LBS_REDIRECT_BLOCK_LEN;
    }
    err = osap__lbs_begin(&w, out, cap, OSAP_LBS_BYTE0_DEVID_RSP_C, remaining, &total);
    if (err) return err;
    osap__lbs_put(&w, m->version, OSAP_LBS_VERSION_LEN);
    osap__lbs_put_u8(&w, m->result);
    if (m->result == 0) osap__lbs_put(&w, m->block, OSAP_LBS_REDIRECT_BLOCK_LEN);
    *len = total;
    return OSAP_OK;
}

osap_err osap_lbs_redirect_cfm_decode(const struct osap_lbs_frame *f,
                                      struct osap_lbs_redirect_cfm *out)
{
    struct osap_lbs_redirect_cfm m;
    struct osap__lbs_rd r;
    osap_err err;

    if (!out) return OSAP_EINVAL;
    err = osap__lbs_payload(f, OSAP_LBS_APPLY_DEVID_CFM, &r);
    if (err) return err;
    memcpy(m.version, f->version, OSAP_LBS_VERSION_LEN);
    if (r.left != OSAP_LBS_RANDOM_BLOCK_LEN) return OSAP_ELBS_CIPHERTEXT_LEN;
    m.enc_random = r.p;
    *out = m;
    return OSAP_OK;
}

osap_err osap_lbs_redirect_cfm_encode(const struct osap_lbs_redirect_cfm *m, uint8_t *out,
                                      size_t cap, size_t *len)
{
    struct osap__lbs_wr w;
    size_t total;
    osap_err err;

    if (!m || !len || !m->enc_random) return OSAP_EINVAL;
    err = osap__lbs_begin(&w, out, cap, OSAP_LBS_BYTE0_APPLY_CFM,
                          OSAP_LBS_VERSION_LEN + OSAP_LBS_RANDOM_BLOCK_LEN, &total);
    if (err) return err;
    osap__lbs_put(&w, m->version, OSAP_LBS_VERSION_LEN);
    osap__lbs_put(&w, m->enc_random, OSAP_LBS_RANDOM_BLOCK_LEN);
    *len = total;
    return OSAP_OK;
}
