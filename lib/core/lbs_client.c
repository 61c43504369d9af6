/*
 * LBS handshake, device side: the mirror image of lbs_server.c. One object per
 * device; each attempt runs on its own connection and takes the path its stored
 * state selects (A: no devid, B: devid without master key, C: both).
 */
#include "lbs_codec.h"

#include "osap/alloc.h"
#include "osap/crypto.h"
#include "osap/lbs_handshake.h"

#include <string.h>

/* Largest 0xB ciphertext the device accepts (the answer is about 150 bytes). */
#define CLIENT_DAS_JSON_MAX 2048

enum client_state {
    CL_IDLE,          /* no attempt waiting for a frame */
    CL_WAIT_AUTH,     /* sent 0x1, expects 0x2 */
    CL_WAIT_KEYS,     /* sent 0x7 (A) or 0x4 (B), expects 0x8 / 0x6 */
    CL_WAIT_REDIRECT, /* sent the path-C 0x7, expects 0x8 */
    CL_WAIT_DATA,     /* sent 0xA, expects 0xB */
};

static const uint8_t version_auth_i[OSAP_LBS_VERSION_LEN] = {
    OSAP_LBS_VERSION_FORM, OSAP_LBS_VERSION_LOW_AUTH_I, OSAP_LBS_VERSION_HIGH};
static const uint8_t version_other[OSAP_LBS_VERSION_LEN] = {
    OSAP_LBS_VERSION_FORM, OSAP_LBS_VERSION_LOW, OSAP_LBS_VERSION_HIGH};
/* What a device offers: current type ECDH, group {ECDH}. */
static const uint8_t client_auth_types[] = {OSAP_LBS_AUTH_ECDH};

struct osap_lbs_client {
    /* identity and stored state */
    uint8_t auth_mode;
    char subserial[OSAP_SUBSERIAL_MAX + 1];
    size_t subserial_len;
    char vcode[OSAP_VCODE_MAX + 1];
    size_t vcode_len;
    int has_devid;
    uint8_t devid[OSAP_DEVID_LEN];
    int has_master_key;
    uint8_t master_key[OSAP_MASTER_KEY_LEN];
    uint8_t das_mode;
    const struct osap_rng *rng;
    struct osap_lbs_client_ecdh ecdh;
    int ecdh_injected;
    osap_p384_key *key; /* default ECDH key, reused by every attempt */
    size_t max_frame;
    unsigned next_case;

    /* the attempt in progress */
    enum client_state state;
    enum osap_lbs_path path;
    unsigned attempt_case;
    char share_key[OSAP_SHARE_KEY_LEN];
    uint8_t att_master_key[OSAP_MASTER_KEY_LEN];
    uint8_t att_devid[OSAP_DEVID_LEN];
    uint8_t session_key[OSAP_SESSION_KEY_LEN];
    uint8_t random_1;

    int has_result;
    struct osap_lbs_client_result result;
    uint8_t out[OSAP_LBS_OUT_MAX];
};

static void wipe_attempt(struct osap_lbs_client *c)
{
    osap_cleanse(c->share_key, sizeof(c->share_key));
    osap_cleanse(c->att_master_key, sizeof(c->att_master_key));
    osap_cleanse(c->session_key, sizeof(c->session_key));
    c->random_1 = 0;
}

osap_err osap_lbs_client_new(const struct osap_lbs_client_config *cfg, osap_lbs_client_t **out)
{
    struct osap_lbs_client *c;
    size_t sn_len, vc_len;

    if (!cfg || !out || !cfg->subserial || !cfg->vcode) return OSAP_EINVAL;
    sn_len = strnlen(cfg->subserial, OSAP_SUBSERIAL_MAX + 1);
    vc_len = strnlen(cfg->vcode, OSAP_VCODE_MAX + 1);
    if (sn_len == 0 || sn_len > OSAP_SUBSERIAL_MAX || vc_len > OSAP_VCODE_MAX) return OSAP_EINVAL;
    if (cfg->auth_mode != OSAP_LBS_AUTH_MODE_SAP && cfg->auth_mode != OSAP_LBS_AUTH_MODE_LICENCE)
        return OSAP_EINVAL;
    if (cfg->ecdh && (!cfg->ecdh->public_key || !cfg->ecdh->master_key)) return OSAP_EINVAL;
    c = osap_calloc(1, sizeof(*c));
    if (!c) return OSAP_ENOMEM;
    c->auth_mode = cfg->auth_mode;
    memcpy(c->subserial, cfg->subserial, sn_len);
    c->subserial_len = sn_len;
    memcpy(c->vcode, cfg->vcode, vc_len);
    c->vcode_len = vc_len;
    if (cfg->devid) {
        memcpy(c->devid, cfg->devid, OSAP_DEVID_LEN);
        c->has_devid = 1;
    }
    if (cfg->master_key) {
        memcpy(c->master_key, cfg->master_key, OSAP_MASTER_KEY_LEN);
        c->has_master_key = 1;
    }
    c->das_mode = cfg->das_mode;
    c->rng = cfg->rng;
    if (cfg->ecdh) {
        c->ecdh = *cfg->ecdh;
        c->ecdh_injected = 1;
    }
    c->max_frame = cfg->max_frame;
    c->next_case = OSAP_LBS_CASE_UPPER;
    *out = c;
    return OSAP_OK;
}

void osap_lbs_client_free(osap_lbs_client_t *c)
{
    if (!c) return;
    osap_p384_free(c->key);
    wipe_attempt(c);
    osap_cleanse(c, sizeof(*c));
    osap_free(c);
}

enum osap_lbs_path osap_lbs_client_path(const osap_lbs_client_t *c)
{
    if (!c) return OSAP_LBS_PATH_NONE;
    if (c->state != CL_IDLE) return c->path;
    if (!c->has_devid) return OSAP_LBS_PATH_A;
    return c->has_master_key ? OSAP_LBS_PATH_C : OSAP_LBS_PATH_B;
}

unsigned osap_lbs_client_share_key_case(const osap_lbs_client_t *c)
{
    if (!c) return 0;
    return c->state != CL_IDLE ? c->attempt_case : c->next_case;
}

void osap_lbs_client_forget(osap_lbs_client_t *c, unsigned what)
{
    if (!c) return;
    if (what & OSAP_LBS_FORGET_DEVID) {
        c->has_devid = 0;
        osap_cleanse(c->devid, sizeof(c->devid));
    }
    if (what & OSAP_LBS_FORGET_MASTER_KEY) {
        c->has_master_key = 0;
        osap_cleanse(c->master_key, sizeof(c->master_key));
    }
}

osap_err osap_lbs_client_result(const osap_lbs_client_t *c, struct osap_lbs_client_result *out)
{
    if (!c || !out) return OSAP_EINVAL;
    if (!c->has_result) return OSAP_ESTATE;
    *out = c->result;
    return OSAP_OK;
}

/* ------------------------------------------------------------------------ */
/* ECDH (injectable)                                                        */
/* ------------------------------------------------------------------------ */

static osap_err client_public_key(struct osap_lbs_client *c, uint8_t pub[OSAP_P384_PUBKEY_LEN])
{
    osap_err err;

    if (c->ecdh_injected) return c->ecdh.public_key(c->ecdh.userdata, pub);
    if (!c->key) {
        err = osap_p384_generate(c->rng, &c->key);
        if (err) return err;
    }
    return osap_p384_public(c->key, pub);
}

static osap_err client_master_key(struct osap_lbs_client *c,
                                  const uint8_t peer[OSAP_P384_PUBKEY_LEN],
                                  uint8_t mk[OSAP_MASTER_KEY_LEN])
{
    uint8_t shared[OSAP_P384_SECRET_LEN];
    osap_err err;

    if (c->ecdh_injected) return c->ecdh.master_key(c->ecdh.userdata, peer, mk);
    if (!c->key) return OSAP_ESTATE;
    err = osap_p384_derive(c->key, peer, shared);
    if (!err) err = osap_master_key(shared, mk);
    osap_cleanse(shared, sizeof(shared));
    return err;
}

/* ------------------------------------------------------------------------ */
/* Ending an attempt                                                        */
/* ------------------------------------------------------------------------ */

static void end_attempt(struct osap_lbs_client *c, struct osap_lbs_step *step, osap_err err)
{
    step->close = 1;
    step->err = err;
    /* Only a result 1 on the upper-case key retries with the lower case; whatever
     * else ends an attempt, the next one starts with the upper case again. */
    if (!step->retry_now) c->next_case = OSAP_LBS_CASE_UPPER;
    c->state = CL_IDLE;
    wipe_attempt(c);
}

static void result_fail(struct osap_lbs_client *c, struct osap_lbs_step *step, uint8_t result)
{
    step->result = result;
    if (result == OSAP_LBS_SIGN_ERROR &&
        (c->path == OSAP_LBS_PATH_A || c->path == OSAP_LBS_PATH_B) &&
        c->attempt_case == OSAP_LBS_CASE_UPPER) {
        c->next_case = OSAP_LBS_CASE_LOWER;
        step->retry_now = 1;
    }
    if (result == OSAP_LBS_DEVID_MISMATCH) step->forget |= OSAP_LBS_FORGET_DEVID;
    if (result == OSAP_LBS_MASTERKEY_INVALID) step->forget |= OSAP_LBS_FORGET_MASTER_KEY;
    osap_lbs_client_forget(c, step->forget);
    end_attempt(c, step, osap_err_from_lbs_result(result));
}

/* ------------------------------------------------------------------------ */
/* Device messages                                                          */
/* ------------------------------------------------------------------------ */

/* 0xA: CBC-EZ(session key, {"DevSerial":..,"Type":"DAS","Mode":..}). */
static osap_err build_data_req(struct osap_lbs_client *c, uint8_t *out, size_t cap, size_t *len)
{
    struct osap_lbs_data_req m;
    char json[512];
    uint8_t ct[sizeof(json) + 16];
    size_t json_len, ct_len;
    osap_err err;

    err = osap__lbs_req_json_encode(c->subserial, c->das_mode, json, sizeof(json), &json_len);
    if (err) return err;
    err = osap_cbc_ez_encrypt(c->session_key, (const uint8_t *)json, json_len, ct, sizeof(ct),
                              &ct_len);
    if (err) return err;
    memset(&m, 0, sizeof(m));
    memcpy(m.version, version_other, sizeof(version_other));
    m.ciphertext = ct;
    m.ciphertext_len = ct_len;
    return osap_lbs_data_req_encode(&m, out, cap, len);
}

static osap_err begin_auth(struct osap_lbs_client *c, size_t *len)
{
    struct osap_lbs_auth_req m;
    uint8_t pub[OSAP_P384_PUBKEY_LEN], tag[OSAP_GCM_TAG_LEN], enc[OSAP_P384_PUBKEY_LEN];
    osap_err err;

    err = client_public_key(c, pub);
    if (err) return err;
    err = osap_share_key(c->vcode, c->vcode_len, c->subserial, c->subserial_len,
                         c->attempt_case == OSAP_LBS_CASE_UPPER, c->share_key);
    if (err) return err;
    err = osap_gcm_ez_encrypt((const uint8_t *)c->share_key, pub, sizeof(pub), tag, enc);
    if (err) return err;
    memset(&m, 0, sizeof(m));
    m.auth_type = client_auth_types[0];
    m.auth_type_count = sizeof(client_auth_types);
    m.auth_types = client_auth_types;
    memcpy(m.version, version_auth_i, sizeof(version_auth_i));
    m.auth_mode = c->auth_mode;
    m.subserial = c->subserial;
    m.subserial_len = c->subserial_len;
    m.tag = tag;
    m.enc_pubkey = enc;
    err = osap_lbs_auth_req_encode(&m, c->out, sizeof(c->out), len);
    if (err) return err;
    c->state = CL_WAIT_AUTH;
    return OSAP_OK;
}

static osap_err begin_redirect(struct osap_lbs_client *c, size_t *len)
{
    struct osap_lbs_redirect_req m;
    uint8_t enc[OSAP_LBS_RANDOM_BLOCK_LEN];
    size_t enc_len;
    osap_err err;

    err = osap_rng_fill(c->rng, &c->random_1, 1);
    if (err) return err;
    err = osap_cbc_ez_encrypt(c->master_key, &c->random_1, 1, enc, sizeof(enc), &enc_len);
    if (err) return err;
    memset(&m, 0, sizeof(m));
    memcpy(m.version, version_other, sizeof(version_other));
    m.subserial = c->subserial;
    m.subserial_len = c->subserial_len;
    m.devid = c->devid;
    m.enc_random = enc;
    err = osap_lbs_redirect_req_encode(&m, c->out, sizeof(c->out), len);
    if (err) return err;
    c->state = CL_WAIT_REDIRECT;
    return OSAP_OK;
}

osap_err osap_lbs_client_begin(osap_lbs_client_t *c, struct osap_lbs_step *step)
{
    size_t len = 0;
    osap_err err;

    if (!c || !step) return OSAP_EINVAL;
    c->state = CL_IDLE;
    wipe_attempt(c);
    c->path = osap_lbs_client_path(c);
    c->attempt_case = c->path == OSAP_LBS_PATH_C ? 0 : c->next_case;
    err = c->path == OSAP_LBS_PATH_C ? begin_redirect(c, &len) : begin_auth(c, &len);
    if (err) {
        c->state = CL_IDLE;
        wipe_attempt(c);
        return err;
    }
    memset(step, 0, sizeof(*step));
    step->out = c->out;
    step->out_len = len;
    return OSAP_OK;
}

/* ------------------------------------------------------------------------ */
/* Server messages                                                          */
/* ------------------------------------------------------------------------ */

static osap_err on_auth_rsp(struct osap_lbs_client *c, const struct osap_lbs_frame *f, size_t *len)
{
    struct osap_lbs_auth_rsp m;
    uint8_t pub[OSAP_P384_PUBKEY_LEN], sign[OSAP_SIGN_LEN];
    osap_err err = osap_lbs_auth_rsp_decode(f, &m);

    if (err) return err;
    err = osap_gcm_ez_decrypt((const uint8_t *)c->share_key, m.tag, m.enc_pubkey,
                              OSAP_P384_PUBKEY_LEN, pub);
    if (err) return err;
    err = client_master_key(c, pub, c->att_master_key);
    if (err) return err;
    err = osap_sign(c->att_master_key, c->subserial, c->subserial_len, sign);
    if (err) return err;
    if (c->path == OSAP_LBS_PATH_A) {
        struct osap_lbs_devid_req req;
        memcpy(req.version, version_other, sizeof(version_other));
        req.sign = sign;
        err = osap_lbs_devid_req_encode(&req, c->out, sizeof(c->out), len);
    } else {
        struct osap_lbs_refresh_req req;
        memcpy(req.version, version_other, sizeof(version_other));
        req.devid = c->devid;
        req.sign = sign;
        err = osap_lbs_refresh_req_encode(&req, c->out, sizeof(c->out), len);
    }
    if (err) return err;
    c->state = CL_WAIT_KEYS;
    return OSAP_OK;
}

static osap_err on_keys_rsp(struct osap_lbs_client *c, const struct osap_lbs_frame *f, size_t *len)
{
    struct osap_lbs_keys_rsp m;
    uint8_t sign[OSAP_SIGN_LEN];
    osap_err err = osap_lbs_keys_rsp_decode(f, &m);

    if (err) return err;
    err = osap_gcm_ez_decrypt(c->att_master_key, m.devid_tag, m.enc_devid, OSAP_DEVID_LEN,
                              c->att_devid);
    if (err) return err;
    err = osap_gcm_ez_decrypt(c->att_master_key, m.session_key_tag, m.enc_session_key,
                              OSAP_SESSION_KEY_LEN, c->session_key);
    if (err) return err;
    /* The devid is text on the device: a NUL would cut it short. */
    if (memchr(c->att_devid, '\0', OSAP_DEVID_LEN)) return OSAP_ELBS_FIELD;
    err = osap_sign(c->att_master_key, c->subserial, c->subserial_len, sign);
    if (err) return err;
    if (!osap_ct_equal(sign, m.sign, OSAP_SIGN_LEN)) return OSAP_ELBS_SIGN;
    err = build_data_req(c, c->out, sizeof(c->out), len);
    if (err) return err;
    c->state = CL_WAIT_DATA;
    return OSAP_OK;
}

static osap_err on_redirect_rsp(struct osap_lbs_client *c, const struct osap_lbs_frame *f,
                                size_t *len)
{
    struct osap_lbs_redirect_rsp m;
    struct osap_lbs_redirect_cfm cfm;
    uint8_t pt[OSAP_LBS_REDIRECT_BLOCK_LEN], enc[OSAP_LBS_RANDOM_BLOCK_LEN];
    size_t pt_len = 0, enc_len, n1 = 0, n2 = 0;
    osap_err err = osap_lbs_redirect_rsp_decode(f, &m);

    if (err) return err;
    err = osap_cbc_ez_decrypt(c->master_key, m.block, OSAP_LBS_REDIRECT_BLOCK_LEN, pt, sizeof(pt),
                              &pt_len);
    if (err) goto out;
    err = OSAP_ELBS_FIELD;
    if (pt_len != OSAP_LBS_REDIRECT_PLAIN_LEN) goto out;
    err = OSAP_ELBS_RANDOM;
    if (pt[0] != c->random_1) goto out;
    memcpy(c->session_key, pt + 2, OSAP_SESSION_KEY_LEN);
    memcpy(c->att_master_key, c->master_key, OSAP_MASTER_KEY_LEN);
    memcpy(c->att_devid, c->devid, OSAP_DEVID_LEN);
    /* Step III echoes random_2; 0xA follows at once, without waiting. */
    err = osap_cbc_ez_encrypt(c->master_key, pt + 1, 1, enc, sizeof(enc), &enc_len);
    if (err) goto out;
    memcpy(cfm.version, version_other, sizeof(version_other));
    cfm.enc_random = enc;
    err = osap_lbs_redirect_cfm_encode(&cfm, c->out, sizeof(c->out), &n1);
    if (err) goto out;
    err = build_data_req(c, c->out + n1, sizeof(c->out) - n1, &n2);
    if (err) goto out;
    *len = n1 + n2;
    c->state = CL_WAIT_DATA;
out:
    osap_cleanse(pt, sizeof(pt));
    return err;
}

static osap_err on_data_rsp(struct osap_lbs_client *c, const struct osap_lbs_frame *f)
{
    struct osap_lbs_data_rsp m;
    struct osap_lbs_das_info das;
    uint8_t pt[CLIENT_DAS_JSON_MAX];
    size_t pt_len = 0;
    osap_err err = osap_lbs_data_rsp_decode(f, &m);

    if (err) return err;
    if (m.ciphertext_len > sizeof(pt)) return OSAP_ETOOBIG;
    err = osap_cbc_ez_decrypt(c->session_key, m.ciphertext, m.ciphertext_len, pt, sizeof(pt),
                              &pt_len);
    if (err) return err;
    err = osap__lbs_das_json_decode(pt, pt_len, &das);
    if (err) return err;
    /* Success: this is what the device persists (devid, master key) and uses. */
    memset(&c->result, 0, sizeof(c->result));
    c->result.path = c->path;
    memcpy(c->result.devid, c->att_devid, OSAP_DEVID_LEN);
    memcpy(c->result.master_key, c->att_master_key, OSAP_MASTER_KEY_LEN);
    memcpy(c->result.session_key, c->session_key, OSAP_SESSION_KEY_LEN);
    c->result.das = das;
    c->has_result = 1;
    memcpy(c->devid, c->att_devid, OSAP_DEVID_LEN);
    c->has_devid = 1;
    memcpy(c->master_key, c->att_master_key, OSAP_MASTER_KEY_LEN);
    c->has_master_key = 1;
    return OSAP_OK;
}

static uint8_t expected_type(const struct osap_lbs_client *c)
{
    switch (c->state) {
    case CL_WAIT_AUTH: return OSAP_LBS_AUTH_II;
    case CL_WAIT_KEYS:
        return c->path == OSAP_LBS_PATH_A ? OSAP_LBS_RESPONSE_DEVID : OSAP_LBS_REFRESH_SK_RSP;
    case CL_WAIT_REDIRECT: return OSAP_LBS_RESPONSE_DEVID;
    case CL_WAIT_DATA: return OSAP_LBS_CRYPTO_DATA_RSP;
    default: return 0;
    }
}

osap_err osap_lbs_client_feed(osap_lbs_client_t *c, const uint8_t *frame, size_t len,
                              struct osap_lbs_step *step)
{
    struct osap_lbs_frame f;
    size_t out_len = 0;
    osap_err err;

    if (!c || !step || !frame || !len) return OSAP_EINVAL;
    if (c->state == CL_IDLE) return OSAP_ESTATE;
    err = osap_lbs_frame_decode(frame, len, c->max_frame, &f);
    if (err == OSAP_ENEED_MORE || (err == OSAP_OK && f.frame_len != len)) return OSAP_EINVAL;
    memset(step, 0, sizeof(*step));
    if (err) goto fail;
    err = OSAP_ELBS_TYPE;
    if (f.type != expected_type(c)) goto fail;
    /* In 0x2 the device looks at the auth type before the result. */
    err = OSAP_ELBS_AUTH_TYPE;
    if (f.type == OSAP_LBS_AUTH_II && f.auth_type != client_auth_types[0]) goto fail;
    if (f.result != OSAP_LBS_OK) {
        result_fail(c, step, f.result);
        return OSAP_OK;
    }
    switch (c->state) {
    case CL_WAIT_AUTH: err = on_auth_rsp(c, &f, &out_len); break;
    case CL_WAIT_KEYS: err = on_keys_rsp(c, &f, &out_len); break;
    case CL_WAIT_REDIRECT: err = on_redirect_rsp(c, &f, &out_len); break;
    case CL_WAIT_DATA:
        err = on_data_rsp(c, &f);
        if (err) goto fail;
        step->done = 1;
        end_attempt(c, step, OSAP_OK);
        return OSAP_OK;
    default: err = OSAP_ESTATE; break;
    }
    if (err) goto fail;
    step->out = c->out;
    step->out_len = out_len;
    return OSAP_OK;
fail:
    end_attempt(c, step, err);
    return OSAP_OK;
}
