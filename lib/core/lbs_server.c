/*
 * LBS handshake, server side: one machine per connection, fed one frame at a
 * time. The decision table it implements is in docs/PROTOCOL.md.
 */
#include "lbs_codec.h"

#include "osap/alloc.h"
#include "osap/crypto.h"
#include "osap/lbs_handshake.h"

#include <string.h>

enum server_state {
    ST_START,        /* expects 0x1 (paths A, B) or 0x7 old header (path C) */
    ST_AUTHED,       /* after 0x2: expects 0x7 (path A) or 0x4 (path B) */
    ST_KEYED,        /* after 0x8/0x6, committed: expects 0xA */
    ST_C_CHALLENGED, /* after the path-C 0x8: expects 0x9 */
    ST_C_CONFIRMED,  /* after 0x9 (right or wrong): expects 0xA */
    ST_CLOSED,
};

/* Auth types this server implements, most secure first. */
static const uint8_t server_auth_types[] = {OSAP_LBS_AUTH_ECDH};

static const uint8_t version_reply[OSAP_LBS_VERSION_LEN] = {
    OSAP_LBS_VERSION_FORM, OSAP_LBS_VERSION_LOW, OSAP_LBS_VERSION_HIGH};

struct osap_lbs_server {
    struct osap_lbs_server_callbacks cb;
    void *userdata;
    const struct osap_rng *rng;
    size_t max_frame;

    enum server_state state;
    enum osap_lbs_path path;
    uint8_t auth_mode;
    char subserial[OSAP_SUBSERIAL_MAX + 1];
    size_t subserial_len;
    struct osap_lbs_device dev;
    unsigned matched_case;
    char share_key[OSAP_SHARE_KEY_LEN];
    uint8_t master_key[OSAP_MASTER_KEY_LEN];
    uint8_t devid[OSAP_DEVID_LEN];
    uint8_t session_key[OSAP_SESSION_KEY_LEN];
    uint8_t random_2;
    uint8_t pending_result; /* path C: a wrong 0x9, reported in the 0xB */
    osap_err pending_err;

    uint8_t out[OSAP_LBS_OUT_MAX];
};

static void wipe_secrets(struct osap_lbs_server *s)
{
    osap_cleanse(&s->dev, sizeof(s->dev));
    osap_cleanse(s->share_key, sizeof(s->share_key));
    osap_cleanse(s->master_key, sizeof(s->master_key));
    osap_cleanse(s->session_key, sizeof(s->session_key));
    s->random_2 = 0;
}

osap_err osap_lbs_server_new(const struct osap_lbs_server_config *cfg, osap_lbs_server_t **out)
{
    struct osap_lbs_server *s;

    if (!cfg || !out || !cfg->cb.lookup || !cfg->cb.commit || !cfg->cb.das_info) return OSAP_EINVAL;
    s = osap_calloc(1, sizeof(*s));
    if (!s) return OSAP_ENOMEM;
    s->cb = cfg->cb;
    s->userdata = cfg->userdata;
    s->rng = cfg->rng;
    s->max_frame = cfg->max_frame ? cfg->max_frame : OSAP_LBS_SERVER_FRAME_MAX;
    s->state = ST_START;
    *out = s;
    return OSAP_OK;
}

void osap_lbs_server_free(osap_lbs_server_t *s)
{
    if (!s) return;
    wipe_secrets(s);
    osap_free(s);
}

enum osap_lbs_path osap_lbs_server_path(const osap_lbs_server_t *s)
{
    return s ? s->path : OSAP_LBS_PATH_NONE;
}

/* ------------------------------------------------------------------------ */
/* Replies                                                                  */
/* ------------------------------------------------------------------------ */

static void step_send(struct osap_lbs_server *s, struct osap_lbs_step *step, size_t len)
{
    step->out = s->out;
    step->out_len = len;
}

/* Answer @p result in a frame of @p type and close the connection. */
static void fail(struct osap_lbs_server *s, uint8_t type, int old_header, uint8_t auth_type,
                 uint8_t result, osap_err why, struct osap_lbs_step *step)
{
    size_t len = 0;

    /* Cannot fail: the types are server types and the buffer is large enough. */
    if (osap_lbs_error_encode(type, old_header, auth_type, result, s->out, sizeof(s->out), &len) ==
        OSAP_OK)
        step_send(s, step, len);
    step->close = 1;
    step->result = result;
    step->err = why ? why : osap_err_from_lbs_result(result);
    s->state = ST_CLOSED;
    wipe_secrets(s);
}

/* The reply type a device waits for after sending @p type in the current state. */
static uint8_t reply_type(const struct osap_lbs_server *s, uint8_t type, int *old_header)
{
    *old_header = 0;
    switch (type) {
    case OSAP_LBS_AUTH_I: return OSAP_LBS_AUTH_II;
    case OSAP_LBS_REFRESH_SK_REQ: return OSAP_LBS_REFRESH_SK_RSP;
    case OSAP_LBS_REQUEST_DEVID:
        *old_header = s->state == ST_START; /* a first 0x7 is path C */
        return OSAP_LBS_RESPONSE_DEVID;
    case OSAP_LBS_APPLY_DEVID_CFM: /* the device reads 0xB next */
    case OSAP_LBS_CRYPTO_DATA_REQ: return OSAP_LBS_CRYPTO_DATA_RSP;
    default: break;
    }
    switch (s->state) {
    case ST_START: return OSAP_LBS_AUTH_II;
    case ST_AUTHED: return OSAP_LBS_RESPONSE_DEVID;
    default: return OSAP_LBS_CRYPTO_DATA_RSP;
    }
}

static void fail_for(struct osap_lbs_server *s, uint8_t type, uint8_t result, osap_err why,
                     struct osap_lbs_step *step)
{
    int old_header;
    uint8_t rtype = reply_type(s, type, &old_header);
    fail(s, rtype, old_header, OSAP_LBS_AUTH_ECDH, result, why, step);
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* Look the device up; 0 or the result code to answer. */
static uint8_t lookup_device(struct osap_lbs_server *s, uint8_t auth_mode, osap_err *why)
{
    osap_err err = s->cb.lookup(s->userdata, auth_mode, s->subserial, &s->dev);

    if (err == OSAP_ENOTFOUND) {
        *why = OSAP_ELBS_RESULT_UNKNOWN_DEVICE;
        return OSAP_LBS_VCODE_LOOKUP;
    }
    if (err) {
        *why = err;
        return OSAP_LBS_STORAGE_ERROR;
    }
    s->dev.vcode[OSAP_VCODE_MAX] = '\0';
    if (s->dev.blocked) {
        *why = OSAP_EPERM;
        return OSAP_LBS_VCODE_LOOKUP; /* blocked devices look unknown */
    }
    return OSAP_LBS_OK;
}

static void keep_subserial(struct osap_lbs_server *s, const char *sn, size_t len)
{
    memcpy(s->subserial, sn, len);
    s->subserial[len] = '\0';
    s->subserial_len = len;
}

static int devid_ok(const uint8_t devid[OSAP_DEVID_LEN])
{
    for (size_t i = 0; i < OSAP_DEVID_LEN; i++)
        if (devid[i] < 0x21 || devid[i] > 0x7E) return 0;
    return 1;
}

static osap_err allocate_devid(struct osap_lbs_server *s)
{
    uint8_t raw[OSAP_DEVID_LEN / 2];
    osap_err err;

    if (s->cb.allocate_devid) {
        err = s->cb.allocate_devid(s->userdata, s->subserial, s->devid);
        if (err) return err;
        return devid_ok(s->devid) ? OSAP_OK : OSAP_ESERVER;
    }
    err = osap_rng_fill(s->rng, raw, sizeof(raw));
    if (err) return err;
    osap_hex_upper(raw, sizeof(raw), (char *)s->devid);
    return OSAP_OK;
}

static osap_err commit(struct osap_lbs_server *s, enum osap_lbs_path path)
{
    struct osap_lbs_commit c;
    osap_err err;

    memset(&c, 0, sizeof(c));
    c.path = path;
    c.auth_mode = s->auth_mode;
    c.subserial = s->subserial;
    c.subserial_len = s->subserial_len;
    memcpy(c.devid, s->devid, OSAP_DEVID_LEN);
    memcpy(c.master_key, s->master_key, OSAP_MASTER_KEY_LEN);
    memcpy(c.session_key, s->session_key, OSAP_SESSION_KEY_LEN);
    c.share_key_case = s->matched_case;
    err = s->cb.commit(s->userdata, &c);
    osap_cleanse(&c, sizeof(c));
    return err;
}

/* The first auth type of ours that the device offers (current type or group). */
static uint8_t choose_auth_type(const struct osap_lbs_frame *f)
{
    for (size_t i = 0; i < sizeof(server_auth_types); i++) {
        uint8_t t = server_auth_types[i];
        if (f->auth_type == t) return t;
        for (size_t k = 0; k < f->auth_type_count; k++)
            if (f->auth_types[k] == t) return t;
    }
    return OSAP_LBS_AUTH_NONE;
}

/* ------------------------------------------------------------------------ */
/* 0x1 -> 0x2                                                               */
/* ------------------------------------------------------------------------ */

/* Find the accepted share-key case under which the device's key decrypts. */
static uint8_t open_device_key(struct osap_lbs_server *s, const struct osap_lbs_auth_req *m,
                               uint8_t pub[OSAP_P384_PUBKEY_LEN], osap_err *why)
{
    static const unsigned order[] = {OSAP_LBS_CASE_UPPER, OSAP_LBS_CASE_LOWER};
    unsigned cases = s->dev.share_key_cases & OSAP_LBS_CASE_BOTH;
    osap_err err;

    if (!cases) cases = OSAP_LBS_CASE_BOTH;
    for (size_t i = 0; i < 2; i++) {
        if (!(cases & order[i])) continue;
        err = osap_share_key(s->dev.vcode, strlen(s->dev.vcode), s->subserial, s->subserial_len,
                             order[i] == OSAP_LBS_CASE_UPPER, s->share_key);
        if (err) {
            *why = err;
            return OSAP_LBS_KEYGEN_ERROR;
        }
        err = osap_gcm_ez_decrypt((const uint8_t *)s->share_key, m->tag, m->enc_pubkey,
                                  OSAP_P384_PUBKEY_LEN, pub);
        if (err == OSAP_OK) {
            s->matched_case = order[i];
            return OSAP_LBS_OK;
        }
        if (err != OSAP_ETAG) {
            *why = err;
            return OSAP_LBS_DECRYPT_ERROR;
        }
    }
    *why = OSAP_ELBS_RESULT_SIGN;
    return OSAP_LBS_SIGN_ERROR;
}

/* The server's half of ECDH: its public key and the master key. */
static uint8_t server_ecdh(struct osap_lbs_server *s, const uint8_t dev_pub[OSAP_P384_PUBKEY_LEN],
                           uint8_t srv_pub[OSAP_P384_PUBKEY_LEN], osap_err *why)
{
    osap_p384_key *key = NULL;
    uint8_t shared[OSAP_P384_SECRET_LEN];
    uint8_t result = OSAP_LBS_KEYGEN_ERROR;
    osap_err err;

    err =
        s->cb.key_acquire ? s->cb.key_acquire(s->userdata, &key) : osap_p384_generate(s->rng, &key);
    if (err || !key) {
        *why = err ? err : OSAP_ECRYPTO;
        goto out;
    }
    err = osap_p384_public(key, srv_pub);
    if (err) {
        *why = err;
        goto out;
    }
    result = OSAP_LBS_ECDH_ERROR;
    err = osap_p384_derive(key, dev_pub, shared);
    if (!err) err = osap_master_key(shared, s->master_key);
    if (err) {
        *why = err;
        goto out;
    }
    result = OSAP_LBS_OK;
out:
    osap_cleanse(shared, sizeof(shared));
    if (key) {
        if (s->cb.key_acquire) {
            if (s->cb.key_release) s->cb.key_release(s->userdata, key);
        } else {
            osap_p384_free(key);
        }
    }
    return result;
}

static void on_auth_req(struct osap_lbs_server *s, const struct osap_lbs_frame *f,
                        struct osap_lbs_step *step)
{
    struct osap_lbs_auth_req m;
    struct osap_lbs_auth_rsp rsp;
    uint8_t dev_pub[OSAP_P384_PUBKEY_LEN], srv_pub[OSAP_P384_PUBKEY_LEN];
    uint8_t tag[OSAP_GCM_TAG_LEN], enc[OSAP_P384_PUBKEY_LEN];
    uint8_t chosen, result;
    osap_err err, why = OSAP_OK;
    size_t len;

    if (s->state != ST_START) {
        fail_for(s, f->type, OSAP_LBS_ORDER_ERROR, OSAP_OK, step);
        return;
    }
    err = osap_lbs_auth_req_decode(f, &m);
    if (err) {
        fail_for(s, f->type, OSAP_LBS_INVALID_DATA, err, step);
        return;
    }
    /* Negotiation: our most secure type among those the device offers. A device
     * whose current type differs adopts the one we name and retries; one that
     * offers none of ours gets our type and fails (never answer type 0). */
    chosen = choose_auth_type(f);
    if (chosen == OSAP_LBS_AUTH_NONE || chosen != m.auth_type) {
        fail(s, OSAP_LBS_AUTH_II, 0, chosen ? chosen : server_auth_types[0], OSAP_LBS_INVALID_DATA,
             OSAP_ELBS_AUTH_TYPE, step);
        return;
    }
    if (m.auth_mode != OSAP_LBS_AUTH_MODE_SAP && m.auth_mode != OSAP_LBS_AUTH_MODE_LICENCE) {
        fail_for(s, f->type, OSAP_LBS_INVALID_DATA, OSAP_ELBS_FIELD, step);
        return;
    }
    s->auth_mode = m.auth_mode;
    keep_subserial(s, m.subserial, m.subserial_len);
    result = lookup_device(s, m.auth_mode, &why);
    if (!result) result = open_device_key(s, &m, dev_pub, &why);
    if (!result) result = server_ecdh(s, dev_pub, srv_pub, &why);
    if (!result) {
        result = OSAP_LBS_ENCRYPT_ERROR;
        why =
            osap_gcm_ez_encrypt((const uint8_t *)s->share_key, srv_pub, sizeof(srv_pub), tag, enc);
        if (!why) result = OSAP_LBS_OK;
    }
    if (result) {
        fail_for(s, f->type, result, why, step);
        return;
    }
    memset(&rsp, 0, sizeof(rsp));
    rsp.auth_type = chosen;
    memcpy(rsp.version, version_reply, sizeof(version_reply));
    rsp.result = OSAP_LBS_OK;
    rsp.tag = tag;
    rsp.enc_pubkey = enc;
    err = osap_lbs_auth_rsp_encode(&rsp, s->out, sizeof(s->out), &len);
    if (err) {
        fail_for(s, f->type, OSAP_LBS_ENCRYPT_ERROR, err, step);
        return;
    }
    osap_cleanse(s->share_key, sizeof(s->share_key));
    step_send(s, step, len);
    s->state = ST_AUTHED;
}

/* ------------------------------------------------------------------------ */
/* 0x7 (path A) / 0x4 (path B) -> 0x8 / 0x6                                 */
/* ------------------------------------------------------------------------ */

/* Build the 0x8/0x6 answer, commit, then release it. */
static void send_keys(struct osap_lbs_server *s, uint8_t req_type, enum osap_lbs_path path,
                      const uint8_t sign[OSAP_SIGN_LEN], struct osap_lbs_step *step)
{
    struct osap_lbs_keys_rsp rsp;
    uint8_t tag_d[OSAP_GCM_TAG_LEN], enc_d[OSAP_DEVID_LEN];
    uint8_t tag_s[OSAP_GCM_TAG_LEN], enc_s[OSAP_SESSION_KEY_LEN];
    size_t len;
    osap_err err;

    err = osap_rng_fill(s->rng, s->session_key, sizeof(s->session_key));
    if (err) {
        fail_for(s, req_type, OSAP_LBS_KEYGEN_ERROR, err, step);
        return;
    }
    err = osap_gcm_ez_encrypt(s->master_key, s->devid, OSAP_DEVID_LEN, tag_d, enc_d);
    if (!err)
        err =
            osap_gcm_ez_encrypt(s->master_key, s->session_key, OSAP_SESSION_KEY_LEN, tag_s, enc_s);
    if (err) {
        fail_for(s, req_type, OSAP_LBS_ENCRYPT_ERROR, err, step);
        return;
    }
    memset(&rsp, 0, sizeof(rsp));
    rsp.type = path == OSAP_LBS_PATH_A ? OSAP_LBS_RESPONSE_DEVID : OSAP_LBS_REFRESH_SK_RSP;
    memcpy(rsp.version, version_reply, sizeof(version_reply));
    rsp.devid_tag = tag_d;
    rsp.enc_devid = enc_d;
    rsp.session_key_tag = tag_s;
    rsp.enc_session_key = enc_s;
    rsp.sign = sign;
    err = osap_lbs_keys_rsp_encode(&rsp, s->out, sizeof(s->out), &len);
    if (err) {
        fail_for(s, req_type, OSAP_LBS_ENCRYPT_ERROR, err, step);
        return;
    }
    /* Persist before the session key leaves. */
    err = commit(s, path);
    if (err) {
        fail_for(s, req_type, OSAP_LBS_STORAGE_ERROR, err, step);
        return;
    }
    s->path = path;
    step_send(s, step, len);
    s->state = ST_KEYED;
}

/* 1 when @p sign is HMAC-SHA384(master key, SHA-384(subserial)). */
static osap_err check_sign(struct osap_lbs_server *s, const uint8_t *sign, uint8_t mine[48])
{
    osap_err err = osap_sign(s->master_key, s->subserial, s->subserial_len, mine);
    if (err) return err;
    return osap_ct_equal(mine, sign, OSAP_SIGN_LEN) ? OSAP_OK : OSAP_ELBS_SIGN;
}

static void on_devid_req(struct osap_lbs_server *s, const struct osap_lbs_frame *f,
                         struct osap_lbs_step *step)
{
    struct osap_lbs_devid_req m;
    uint8_t sign[OSAP_SIGN_LEN];
    osap_err err = osap_lbs_devid_req_decode(f, &m);

    if (err) {
        fail_for(s, f->type, OSAP_LBS_INVALID_DATA, err, step);
        return;
    }
    err = check_sign(s, m.sign, sign);
    if (err) {
        fail_for(s, f->type, OSAP_LBS_SIGN_CHECK_ERROR,
                 err == OSAP_ELBS_SIGN ? OSAP_ELBS_RESULT_SIGN_CHECK : err, step);
        return;
    }
    err = allocate_devid(s);
    if (err) {
        fail_for(s, f->type, OSAP_LBS_STORAGE_ERROR, err, step);
        return;
    }
    send_keys(s, f->type, OSAP_LBS_PATH_A, sign, step);
}

static void on_refresh_req(struct osap_lbs_server *s, const struct osap_lbs_frame *f,
                           struct osap_lbs_step *step)
{
    struct osap_lbs_refresh_req m;
    uint8_t sign[OSAP_SIGN_LEN];
    osap_err err;

    if (s->state != ST_AUTHED) {
        fail_for(s, f->type, OSAP_LBS_ORDER_ERROR, OSAP_OK, step);
        return;
    }
    err = osap_lbs_refresh_req_decode(f, &m);
    if (err) {
        fail_for(s, f->type, OSAP_LBS_INVALID_DATA, err, step);
        return;
    }
    err = check_sign(s, m.sign, sign);
    if (err) {
        fail_for(s, f->type, OSAP_LBS_HMAC_SIGN_ERROR,
                 err == OSAP_ELBS_SIGN ? OSAP_ELBS_RESULT_HMAC : err, step);
        return;
    }
    /* The device adopts the devid of the answer: hand out the platform's record
     * (a fresh one if it has none), whatever the device remembered. */
    if (s->dev.has_devid && devid_ok(s->dev.devid)) {
        memcpy(s->devid, s->dev.devid, OSAP_DEVID_LEN);
    } else {
        err = allocate_devid(s);
        if (err) {
            fail_for(s, f->type, OSAP_LBS_STORAGE_ERROR, err, step);
            return;
        }
    }
    send_keys(s, f->type, OSAP_LBS_PATH_B, sign, step);
}

/* ------------------------------------------------------------------------ */
/* Path C: 0x7 (old header) -> 0x8, 0x9                                     */
/* ------------------------------------------------------------------------ */

static void on_redirect_req(struct osap_lbs_server *s, const struct osap_lbs_frame *f,
                            struct osap_lbs_step *step)
{
    struct osap_lbs_redirect_req m;
    struct osap_lbs_devid_req a;
    struct osap_lbs_redirect_rsp rsp;
    uint8_t pt[OSAP_LBS_RANDOM_BLOCK_LEN], plain[OSAP_LBS_REDIRECT_PLAIN_LEN];
    uint8_t block[OSAP_LBS_REDIRECT_BLOCK_LEN];
    size_t pt_len = 0, block_len = 0, len;
    uint8_t result;
    osap_err err, why = OSAP_OK;

    err = osap_lbs_redirect_req_decode(f, &m);
    if (err) {
        /* A path-A 0x7 before any 0x1 is out of order rather than malformed. */
        if (osap_lbs_devid_req_decode(f, &a) == OSAP_OK)
            fail_for(s, f->type, OSAP_LBS_ORDER_ERROR, OSAP_OK, step);
        else
            fail_for(s, f->type, OSAP_LBS_INVALID_DATA, err, step);
        return;
    }
    s->path = OSAP_LBS_PATH_C;
    s->auth_mode = OSAP_LBS_AUTH_MODE_ANY;
    keep_subserial(s, m.subserial, m.subserial_len);
    result = lookup_device(s, OSAP_LBS_AUTH_MODE_ANY, &why);
    if (result) goto fail;
    result = OSAP_LBS_DEVID_MISMATCH;
    why = OSAP_ELBS_RESULT_DEVID;
    if (!s->dev.has_devid || memcmp(s->dev.devid, m.devid, OSAP_DEVID_LEN) != 0) goto fail;
    result = OSAP_LBS_MASTERKEY_INVALID;
    why = OSAP_ELBS_RESULT_MASTER_KEY;
    if (!s->dev.has_master_key) goto fail;
    memcpy(s->master_key, s->dev.master_key, OSAP_MASTER_KEY_LEN);
    memcpy(s->devid, s->dev.devid, OSAP_DEVID_LEN);
    /* The only proof of the master key is a padding that checks out. */
    err = osap_cbc_ez_decrypt(s->master_key, m.enc_random, OSAP_LBS_RANDOM_BLOCK_LEN, pt,
                              sizeof(pt), &pt_len);
    if (err || pt_len != 1) {
        why = err ? err : OSAP_ELBS_RESULT_MASTER_KEY;
        goto fail;
    }
    result = OSAP_LBS_KEYGEN_ERROR;
    err = osap_rng_fill(s->rng, &s->random_2, 1);
    if (!err) err = osap_rng_fill(s->rng, s->session_key, sizeof(s->session_key));
    if (err) {
        why = err;
        goto fail;
    }
    plain[0] = pt[0];
    plain[1] = s->random_2;
    memcpy(plain + 2, s->session_key, OSAP_SESSION_KEY_LEN);
    result = OSAP_LBS_ENCRYPT_ERROR;
    err =
        osap_cbc_ez_encrypt(s->master_key, plain, sizeof(plain), block, sizeof(block), &block_len);
    osap_cleanse(plain, sizeof(plain));
    if (err || block_len != sizeof(block)) {
        why = err ? err : OSAP_ECRYPTO;
        goto fail;
    }
    memset(&rsp, 0, sizeof(rsp));
    memcpy(rsp.version, version_reply, sizeof(version_reply));
    rsp.block = block;
    err = osap_lbs_redirect_rsp_encode(&rsp, s->out, sizeof(s->out), &len);
    if (err) {
        why = err;
        goto fail;
    }
    step_send(s, step, len);
    s->state = ST_C_CHALLENGED;
    return;
fail:
    fail_for(s, f->type, result, why, step);
}

static void on_redirect_cfm(struct osap_lbs_server *s, const struct osap_lbs_frame *f,
                            struct osap_lbs_step *step)
{
    struct osap_lbs_redirect_cfm m;
    uint8_t pt[OSAP_LBS_RANDOM_BLOCK_LEN];
    size_t pt_len = 0;
    osap_err err = osap_lbs_redirect_cfm_decode(f, &m);

    /* The device sends 0xA right behind 0x9 without waiting: any verdict on 0x9
     * travels in the 0xB, and nothing is committed unless random_2 came back. */
    s->state = ST_C_CONFIRMED;
    if (err) {
        s->pending_result = OSAP_LBS_INVALID_DATA;
        s->pending_err = err;
    } else {
        err = osap_cbc_ez_decrypt(s->master_key, m.enc_random, OSAP_LBS_RANDOM_BLOCK_LEN, pt,
                                  sizeof(pt), &pt_len);
        if (err || pt_len != 1 || pt[0] != s->random_2) {
            s->pending_result = OSAP_LBS_SESSION_KEY_ERROR;
            s->pending_err = OSAP_ELBS_RESULT_SESSION_KEY;
        } else if ((err = commit(s, OSAP_LBS_PATH_C)) != OSAP_OK) {
            s->pending_result = OSAP_LBS_STORAGE_ERROR;
            s->pending_err = err;
        }
    }
    step->err = s->pending_err;
}

/* ------------------------------------------------------------------------ */
/* 0xA -> 0xB                                                               */
/* ------------------------------------------------------------------------ */

static void on_data_req(struct osap_lbs_server *s, const struct osap_lbs_frame *f,
                        struct osap_lbs_step *step)
{
    struct osap_lbs_data_req m;
    struct osap_lbs_data_rsp rsp;
    struct osap_lbs_das_info das;
    uint8_t pt[OSAP_LBS_SERVER_FRAME_MAX];
    char json[OSAP_LBS_OUT_MAX / 2];
    uint8_t ct[OSAP_LBS_OUT_MAX / 2 + 16];
    size_t pt_len = 0, json_len = 0, ct_len = 0, len;
    uint8_t result;
    osap_err err, why;

    if (s->state != ST_KEYED && s->state != ST_C_CONFIRMED) {
        fail_for(s, f->type, OSAP_LBS_DAS_ORDER, OSAP_OK, step);
        return;
    }
    if (s->pending_result) {
        fail_for(s, f->type, s->pending_result, s->pending_err, step);
        return;
    }
    err = osap_lbs_data_req_decode(f, &m);
    result = OSAP_LBS_INVALID_DATA;
    why = err;
    if (err) goto fail;
    why = OSAP_ETOOBIG;
    if (m.ciphertext_len > sizeof(pt)) goto fail;
    err = osap_cbc_ez_decrypt(s->session_key, m.ciphertext, m.ciphertext_len, pt, sizeof(pt),
                              &pt_len);
    result = OSAP_LBS_DECRYPT_ERROR;
    why = err;
    if (err) goto fail;
    err = osap__lbs_req_json_check(pt, pt_len, s->subserial, s->subserial_len);
    why = err;
    if (err == OSAP_EJSON) goto fail; /* not JSON: wrong key or garbage */
    result = err == OSAP_EUNSUPPORTED ? OSAP_LBS_DAS_INFO_ERROR : OSAP_LBS_INVALID_DATA;
    if (err) goto fail;
    memset(&das, 0, sizeof(das));
    result = OSAP_LBS_DAS_INFO_ERROR;
    why = s->cb.das_info(s->userdata, s->subserial, &das);
    if (why) goto fail;
    /* strings without a NUL in their 64 bytes are refused, not cut */
    why = osap__lbs_das_json_encode(&das, json, sizeof(json), &json_len);
    if (why) goto fail;
    result = OSAP_LBS_ENCRYPT_ERROR;
    why = osap_cbc_ez_encrypt(s->session_key, (const uint8_t *)json, json_len, ct, sizeof(ct),
                              &ct_len);
    if (why) goto fail;
    memset(&rsp, 0, sizeof(rsp));
    memcpy(rsp.version, version_reply, sizeof(version_reply));
    rsp.ciphertext = ct;
    rsp.ciphertext_len = ct_len;
    why = osap_lbs_data_rsp_encode(&rsp, s->out, sizeof(s->out), &len);
    if (why) goto fail;
    step_send(s, step, len);
    step->close = 1;
    step->done = 1;
    s->state = ST_CLOSED;
    wipe_secrets(s);
    return;
fail:
    fail_for(s, f->type, result, why, step);
}

/* ------------------------------------------------------------------------ */
/* Dispatch                                                                 */
/* ------------------------------------------------------------------------ */

osap_err osap_lbs_server_feed(osap_lbs_server_t *s, const uint8_t *frame, size_t len,
                              struct osap_lbs_step *step)
{
    struct osap_lbs_frame f;
    osap_err err;

    if (!s || !step || !frame || !len) return OSAP_EINVAL;
    if (s->state == ST_CLOSED) return OSAP_ESTATE;
    err = osap_lbs_frame_decode(frame, len, s->max_frame, &f);
    if (err == OSAP_ENEED_MORE) return OSAP_EINVAL;
    if (err == OSAP_OK && f.frame_len != len) return OSAP_EINVAL;
    memset(step, 0, sizeof(*step));
    if (err) {
        fail_for(s, frame[0] >> 4, OSAP_LBS_INVALID_DATA, err, step);
        return OSAP_OK;
    }
    switch (f.type) {
    case OSAP_LBS_AUTH_I: on_auth_req(s, &f, step); break;
    case OSAP_LBS_REQUEST_DEVID:
        if (s->state == ST_START)
            on_redirect_req(s, &f, step);
        else if (s->state == ST_AUTHED)
            on_devid_req(s, &f, step);
        else
            fail_for(s, f.type, OSAP_LBS_ORDER_ERROR, OSAP_OK, step);
        break;
    case OSAP_LBS_REFRESH_SK_REQ: on_refresh_req(s, &f, step); break;
    case OSAP_LBS_APPLY_DEVID_CFM:
        if (s->state == ST_C_CHALLENGED)
            on_redirect_cfm(s, &f, step);
        else
            fail_for(s, f.type, OSAP_LBS_ORDER_ERROR, OSAP_OK, step);
        break;
    case OSAP_LBS_CRYPTO_DATA_REQ: on_data_req(s, &f, step); break;
    default:
        /* Server-direction types and the unsupported STUN / secret-key commands. */
        fail_for(s, f.type, OSAP_LBS_INVALID_DATA, OSAP_ELBS_TYPE, step);
        break;
    }
    return OSAP_OK;
}
