/* LBS 0xA (crypto data request) and 0xB (crypto data response: the DAS address). */
#include "lbs_codec.h"

static int ciphertext_len_ok(size_t len)
{
    return len > 0 && len % 16 == 0;
}

osap_err osap_lbs_data_req_decode(const struct osap_lbs_frame *f, struct osap_lbs_data_req *out)
{
    struct osap_lbs_data_req m;
    struct osap__lbs_rd r;
    osap_err err;

    if (!out) return OSAP_EINVAL;
    err = osap__lbs_payload(f, OSAP_LBS_CRYPTO_DATA_REQ, &r);
    if (err) return err;
    memcpy(m.version, f->version, OSAP_LBS_VERSION_LEN);
    if (!ciphertext_len_ok(r.left)) return OSAP_ELBS_CIPHERTEXT_LEN;
    m.ciphertext = r.p;
    m.ciphertext_len = r.left;
    *out = m;
    return OSAP_OK;
}

osap_err osap_lbs_data_req_encode(const struct osap_lbs_data_req *m, uint8_t *out, size_t cap,
                                  size_t *len)
{
    struct osap__lbs_wr w;
    size_t total;
    osap_err err;

    if (!m || !len || !m->ciphertext || !ciphertext_len_ok(m->ciphertext_len)) return OSAP_EINVAL;
    if (m->ciphertext_len > OSAP_LBS_REMLEN_MAX - OSAP_LBS_VERSION_LEN) return OSAP_EINVAL;
    err = osap__lbs_begin(&w, out, cap, OSAP_LBS_BYTE0_CRYPTO_REQ,
                          OSAP_LBS_VERSION_LEN + m->ciphertext_len, &total);
    if (err) return err;
    osap__lbs_put(&w, m->version, OSAP_LBS_VERSION_LEN);
    osap__lbs_put(&w, m->ciphertext, m->ciphertext_len);
    *len = total;
    return OSAP_OK;
}

osap_err osap_lbs_data_rsp_decode(const struct osap_lbs_frame *f, struct osap_lbs_data_rsp *out)
{
    struct osap_lbs_data_rsp m = {0};
    struct osap__lbs_rd r;
    osap_err err;

    if (!out) return OSAP_EINVAL;
    err = osap__lbs_payload(f, OSAP_LBS_CRYPTO_DATA_RSP, &r);
    if (err) return err;
    memcpy(m.version, f->version, OSAP_LBS_VERSION_LEN);
    m.result = f->result;
    if (m.result == 0) {
        if (!ciphertext_len_ok(r.left)) return OSAP_ELBS_CIPHERTEXT_LEN;
        m.ciphertext = r.p;
        m.ciphertext_len = r.left;
    } else if (r.left) {
        return OSAP_ETRAILING;
    }
    *out = m;
    return OSAP_OK;
}

osap_err osap_lbs_data_rsp_encode(const struct osap_lbs_data_rsp *m, uint8_t *out, size_t cap,
                                  size_t *len)
{
    struct osap__lbs_wr w;
    size_t remaining = OSAP_LBS_VERSION_LEN + 1, total;
    osap_err err;

    if (!m || !len) return OSAP_EINVAL;
    if (m->result == 0) {
        if (!m->ciphertext || !ciphertext_len_ok(m->ciphertext_len)) return OSAP_EINVAL;
        if (m->ciphertext_len > OSAP_LBS_REMLEN_MAX - remaining) return OSAP_EINVAL;
        remaining += m->ciphertext_len;
    }
    err = osap__lbs_begin(&w, out, cap, OSAP_LBS_BYTE0_CRYPTO_RSP, remaining, &total);
    if (err) return err;
    osap__lbs_put(&w, m->version, OSAP_LBS_VERSION_LEN);
    osap__lbs_put_u8(&w, m->result);
    if (m->result == 0) osap__lbs_put(&w, m->ciphertext, m->ciphertext_len);
    *len = total;
    return OSAP_OK;
}
