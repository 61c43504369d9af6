/*
 * LBS server machine: replays of every golden capture (every reply byte for
 * byte, every close), the test-vector transcripts, each row of the decision
 * table with hand-built device messages, and allocation failures.
 */
#include "testutil.h"
#include "test_lbs_capture.h"

#include "osap/alloc.h"
#include "osap/crypto.h"
#include "osap/lbs.h"
#include "osap/lbs_handshake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Fake store, scripted rng, fixed key                                      */
/* ------------------------------------------------------------------------ */

struct fix {
    char subserial[OSAP_SUBSERIAL_MAX + 1];
    int known;
    struct osap_lbs_device dev;
    uint8_t lbs_priv[OSAP_P384_SECRET_LEN];
    uint8_t devid[OSAP_DEVID_LEN];
    struct osap_lbs_das_info das;
    osap_err lookup_err, commit_err, das_err, alloc_err, key_err;
    int alloc_bad; /* allocate a devid with a NUL in it */
    int allocs, keys_out;
    uint8_t last_lookup_mode;

    uint8_t rng[64];
    size_t rng_len, rng_pos;
    struct osap_rng rng_if;

    int ncommits;
    struct osap_lbs_commit commit;
    char commit_sn[OSAP_SUBSERIAL_MAX + 1];
};

static osap_err fx_rng(void *ud, uint8_t *buf, size_t len)
{
    struct fix *fx = ud;
    if (fx->rng_len - fx->rng_pos < len) return OSAP_ERANDOM;
    memcpy(buf, fx->rng + fx->rng_pos, len);
    fx->rng_pos += len;
    return OSAP_OK;
}

static void fx_script_rng(struct fix *fx, const uint8_t *b, size_t n)
{
    assert_true(n <= sizeof(fx->rng));
    if (n) memcpy(fx->rng, b, n);
    fx->rng_len = n;
    fx->rng_pos = 0;
}

static osap_err fx_lookup(void *ud, uint8_t auth_mode, const char *sn, struct osap_lbs_device *out)
{
    struct fix *fx = ud;
    fx->last_lookup_mode = auth_mode;
    if (fx->lookup_err) return fx->lookup_err;
    if (!fx->known || strcmp(sn, fx->subserial) != 0) return OSAP_ENOTFOUND;
    *out = fx->dev;
    return OSAP_OK;
}

static osap_err fx_alloc(void *ud, const char *sn, uint8_t devid[OSAP_DEVID_LEN])
{
    struct fix *fx = ud;
    fx->allocs++;
    if (fx->alloc_err) return fx->alloc_err;
    memcpy(devid, fx->devid, OSAP_DEVID_LEN);
    if (fx->alloc_bad) devid[5] = '\0';
    return OSAP_OK;
}

static osap_err fx_commit(void *ud, const struct osap_lbs_commit *c)
{
    struct fix *fx = ud;
    if (fx->commit_err) return fx->commit_err;
    fx->ncommits++;
    fx->commit = *c;
    snprintf(fx->commit_sn, sizeof(fx->commit_sn), "%s", c->subserial);
    fx->commit.subserial = fx->commit_sn;
    return OSAP_OK;
}

static osap_err fx_das(void *ud, const char *sn, struct osap_lbs_das_info *out)
{
    struct fix *fx = ud;
    if (fx->das_err) return fx->das_err;
    *out = fx->das;
    return OSAP_OK;
}

static osap_err fx_key(void *ud, osap_p384_key **key)
{
    struct fix *fx = ud;
    if (fx->key_err) return fx->key_err;
    osap_err err = osap_p384_from_private(fx->lbs_priv, key);
    if (!err) fx->keys_out++;
    return err;
}

static void fx_key_release(void *ud, osap_p384_key *key)
{
    struct fix *fx = ud;
    fx->keys_out--;
    osap_p384_free(key);
}

static osap_lbs_server_t *fx_server(struct fix *fx)
{
    struct osap_lbs_server_config cfg = {
        .cb = {.lookup = fx_lookup,
               .allocate_devid = fx_alloc,
               .commit = fx_commit,
               .das_info = fx_das,
               .key_acquire = fx_key,
               .key_release = fx_key_release},
        .userdata = fx,
        .rng = &fx->rng_if,
    };
    osap_lbs_server_t *s = NULL;
    fx->rng_if.fill = fx_rng;
    fx->rng_if.userdata = fx;
    assert_int_equal(osap_lbs_server_new(&cfg, &s), OSAP_OK);
    return s;
}

static void fx_das_golden(struct fix *fx, const cJSON *das)
{
    snprintf(fx->das.address, sizeof(fx->das.address), "%s", golden_str(das, "address"));
    fx->das.port = (uint16_t)golden_int(das, "port");
    fx->das.udp_port = (uint16_t)golden_int(das, "udp_port");
    snprintf(fx->das.domain, sizeof(fx->das.domain), "%s", golden_str(das, "domain"));
    snprintf(fx->das.server_id, sizeof(fx->das.server_id), "%s", golden_str(das, "server_id"));
}

/* ------------------------------------------------------------------------ */
/* Capture replay                                                           */
/* ------------------------------------------------------------------------ */

static void fx_from_capture(struct fix *fx, const struct capture *c, char *path)
{
    const cJSON *dev = golden_get(c->root, "device"), *sf = golden_get(c->root, "server_fixed");
    const cJSON *der = golden_get(c->root, "derived");
    const cJSON *prev = cJSON_GetObjectItemCaseSensitive(c->root, "inputs_from_previous_scenario");

    memset(fx, 0, sizeof(*fx));
    snprintf(fx->subserial, sizeof(fx->subserial), "%s", golden_str(dev, "subserial"));
    const cJSON *reg = golden_get(golden_get(sf, "registry"), fx->subserial);
    fx->known = 1;
    snprintf(fx->dev.vcode, sizeof(fx->dev.vcode), "%s", golden_str(reg, "vcode"));
    fx->dev.share_key_cases =
        (cJSON_IsTrue(golden_get(reg, "accept_upper")) ? OSAP_LBS_CASE_UPPER : 0) |
        (cJSON_IsTrue(golden_get(reg, "accept_lower")) ? OSAP_LBS_CASE_LOWER : 0);
    if (prev) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(prev, "devid");
        const cJSON *mk = cJSON_GetObjectItemCaseSensitive(prev, "master_key");
        if (cJSON_IsString(d)) {
            memcpy(fx->dev.devid, d->valuestring, OSAP_DEVID_LEN);
            fx->dev.has_devid = 1;
        }
        if (cJSON_IsString(mk)) {
            memcpy(fx->dev.master_key, mk->valuestring, OSAP_MASTER_KEY_LEN);
            fx->dev.has_master_key = 1;
        }
    }
    golden_hex_into(golden_str(sf, "lbs_ecdh_private_hex"), fx->lbs_priv, OSAP_P384_SECRET_LEN);
    memcpy(fx->devid, golden_str(sf, "devid"), OSAP_DEVID_LEN);
    fx_das_golden(fx, golden_get(sf, "das"));
    /* the path follows from what the device had stored */
    (void)der;
    *path = !fx->dev.has_devid ? 'A' : fx->dev.has_master_key ? 'C' : 'B';
}

/* The rng bytes the server draws on one connection of @p path. */
static void fx_rng_for_path(struct fix *fx, const struct capture *c, char path)
{
    const cJSON *sf = golden_get(c->root, "server_fixed");
    char p[2] = {path, 0};
    uint8_t b[1 + OSAP_SESSION_KEY_LEN];
    size_t n = 0;
    if (path == 'C') b[n++] = (uint8_t)golden_int(sf, "random_2");
    golden_hex_into(golden_str(golden_get(sf, "session_keys_by_path"), p), b + n,
                    OSAP_SESSION_KEY_LEN);
    fx_script_rng(fx, b, n + OSAP_SESSION_KEY_LEN);
}

static void replay_capture(const char *file)
{
    struct capture c;
    struct fix fx;
    char path;
    int last_conn = -1;

    cap_load(&c, file);
    fx_from_capture(&fx, &c, &path);
    for (size_t i = 0; i < c.n; i++) {
        int conn = c.msgs[i].conn;
        if (conn == last_conn) continue;
        last_conn = conn;
        fx_rng_for_path(&fx, &c, path);
        osap_lbs_server_t *s = fx_server(&fx);
        for (size_t k = i; k < c.n && c.msgs[k].conn == conn; k++) {
            const struct cap_msg *m = &c.msgs[k];
            if (!m->to_server) continue;
            /* the replies recorded after this message, up to the next device message */
            uint8_t want[2048];
            size_t want_len = 0, j = k + 1;
            int more_from_device = 0;
            for (; j < c.n && c.msgs[j].conn == conn && !c.msgs[j].to_server; j++) {
                memcpy(want + want_len, c.msgs[j].bytes, c.msgs[j].len);
                want_len += c.msgs[j].len;
            }
            for (; j < c.n && c.msgs[j].conn == conn; j++)
                if (c.msgs[j].to_server) more_from_device = 1;
            struct osap_lbs_step step;
            assert_int_equal(osap_lbs_server_feed(s, m->bytes, m->len, &step), OSAP_OK);
            assert_bytes_equal(step.out, step.out_len, want, want_len);
            /* the server closes exactly when the device has nothing more to send */
            assert_int_equal(step.close, !more_from_device);
            if (!more_from_device)
                assert_int_equal(osap_lbs_server_feed(s, m->bytes, m->len, &step), OSAP_ESTATE);
        }
        osap_lbs_server_free(s);
        assert_int_equal(fx.keys_out, 0);
    }

    /* What was committed: exactly the outcome of the successful attempt, if any. */
    const cJSON *attempts = golden_get(golden_get(c.root, "derived"), "lbs_attempts");
    const cJSON *last = cJSON_GetArrayItem(attempts, cJSON_GetArraySize(attempts) - 1);
    if (cJSON_GetObjectItemCaseSensitive(last, "session_key_hex")) {
        uint8_t sk[OSAP_SESSION_KEY_LEN];
        assert_int_equal(fx.ncommits, 1);
        assert_int_equal(fx.commit.path, path);
        assert_string_equal(fx.commit_sn, fx.subserial);
        assert_memory_equal(fx.commit.devid, golden_str(last, "devid"), OSAP_DEVID_LEN);
        assert_memory_equal(fx.commit.master_key, golden_str(last, "master_key"),
                            OSAP_MASTER_KEY_LEN);
        golden_hex_into(golden_str(last, "session_key_hex"), sk, sizeof(sk));
        assert_memory_equal(fx.commit.session_key, sk, sizeof(sk));
        if (path == 'C') {
            assert_int_equal(fx.commit.share_key_case, 0);
            assert_int_equal(fx.commit.auth_mode, OSAP_LBS_AUTH_MODE_ANY);
        } else {
            const char *v = golden_str(last, "share_key_variant_device_used");
            assert_int_equal(fx.commit.share_key_case,
                             strcmp(v, "upper") == 0 ? OSAP_LBS_CASE_UPPER : OSAP_LBS_CASE_LOWER);
            assert_int_equal(fx.commit.auth_mode,
                             golden_int(golden_get(c.root, "device"), "auth_mode"));
        }
    } else {
        assert_int_equal(fx.ncommits, 0);
    }
    cap_free(&c);
}

static void test_replay_captures(void **state)
{
    (void)state;
    for (size_t i = 0; i < GOLDEN_NFILES; i++)
        replay_capture(golden_files[i]);
}

/* ------------------------------------------------------------------------ */
/* A hand-driven device (test vectors identity and keys)                    */
/* ------------------------------------------------------------------------ */

#define V_SN    "Q12345678"
#define V_VCODE "ABCDEF"
#define V_DEVID "0123456789ABCDEF0123456789ABCDEF"
#define V_MK    "3F1C75D4442266B7"

struct dev {
    osap_p384_key *key;
    char share_key[OSAP_SHARE_KEY_LEN];
    uint8_t mk[OSAP_MASTER_KEY_LEN];
    uint8_t sk[OSAP_SESSION_KEY_LEN];
    uint8_t devid[OSAP_DEVID_LEN];
    uint8_t buf[1024];
    size_t len;
};

static void scalar(uint8_t out[OSAP_P384_SECRET_LEN], uint8_t byte)
{
    memset(out, 0, OSAP_P384_SECRET_LEN);
    memset(out + OSAP_P384_SECRET_LEN - 20, byte, 20);
}

static void fx_vectors(struct fix *fx)
{
    memset(fx, 0, sizeof(*fx));
    strcpy(fx->subserial, V_SN);
    fx->known = 1;
    strcpy(fx->dev.vcode, V_VCODE);
    scalar(fx->lbs_priv, 0x22);
    memcpy(fx->devid, V_DEVID, OSAP_DEVID_LEN);
    strcpy(fx->das.address, "192.0.2.10");
    fx->das.port = 8883;
    fx->das.udp_port = 6371;
    strcpy(fx->das.domain, "das.example");
    strcpy(fx->das.server_id, "das-01");
    static const uint8_t sk[] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    fx_script_rng(fx, sk, sizeof(sk));
}

static void dev_init(struct dev *d)
{
    uint8_t priv[OSAP_P384_SECRET_LEN];
    memset(d, 0, sizeof(*d));
    scalar(priv, 0x11);
    assert_int_equal(osap_p384_from_private(priv, &d->key), OSAP_OK);
}

static void dev_release(struct dev *d)
{
    osap_p384_free(d->key);
}

/* 0x1 with the given negotiation and share-key case. */
static void dev_auth_req(struct dev *d, int upper, uint8_t cur, const uint8_t *group, uint8_t n,
                         uint8_t auth_mode)
{
    uint8_t pub[OSAP_P384_PUBKEY_LEN], tag[16], enc[OSAP_P384_PUBKEY_LEN];
    assert_int_equal(osap_share_key(V_VCODE, 6, V_SN, 9, upper, d->share_key), OSAP_OK);
    assert_int_equal(osap_p384_public(d->key, pub), OSAP_OK);
    assert_int_equal(osap_gcm_ez_encrypt((uint8_t *)d->share_key, pub, sizeof(pub), tag, enc),
                     OSAP_OK);
    struct osap_lbs_auth_req m = {.auth_type = cur,
                                  .auth_type_count = n,
                                  .auth_types = group,
                                  .version = {1, 2, 0},
                                  .auth_mode = auth_mode,
                                  .subserial = V_SN,
                                  .subserial_len = 9,
                                  .tag = tag,
                                  .enc_pubkey = enc};
    assert_int_equal(osap_lbs_auth_req_encode(&m, d->buf, sizeof(d->buf), &d->len), OSAP_OK);
}

static const uint8_t ecdh_only[] = {OSAP_LBS_AUTH_ECDH};

static void dev_auth_req_std(struct dev *d, int upper)
{
    dev_auth_req(d, upper, 1, ecdh_only, 1, OSAP_LBS_AUTH_MODE_SAP);
}

/* Read the 0x2 answer and derive the master key. */
static void dev_on_auth_rsp(struct dev *d, const struct osap_lbs_step *st)
{
    struct osap_lbs_frame f;
    struct osap_lbs_auth_rsp r;
    uint8_t pub[OSAP_P384_PUBKEY_LEN], shared[48];
    assert_int_equal(osap_lbs_frame_decode(st->out, st->out_len, 0, &f), OSAP_OK);
    assert_int_equal(osap_lbs_auth_rsp_decode(&f, &r), OSAP_OK);
    assert_int_equal(r.result, 0);
    assert_int_equal(
        osap_gcm_ez_decrypt((uint8_t *)d->share_key, r.tag, r.enc_pubkey, sizeof(pub), pub),
        OSAP_OK);
    assert_int_equal(osap_p384_derive(d->key, pub, shared), OSAP_OK);
    assert_int_equal(osap_master_key(shared, d->mk), OSAP_OK);
}

static void dev_sign(const struct dev *d, uint8_t sign[OSAP_SIGN_LEN])
{
    assert_int_equal(osap_sign(d->mk, V_SN, 9, sign), OSAP_OK);
}

static void dev_devid_req(struct dev *d, int corrupt)
{
    uint8_t sign[OSAP_SIGN_LEN];
    dev_sign(d, sign);
    sign[47] ^= (uint8_t)corrupt;
    struct osap_lbs_devid_req m = {.version = {1, 1, 0}, .sign = sign};
    assert_int_equal(osap_lbs_devid_req_encode(&m, d->buf, sizeof(d->buf), &d->len), OSAP_OK);
}

static void dev_refresh_req(struct dev *d, const char *devid, int corrupt)
{
    uint8_t sign[OSAP_SIGN_LEN];
    dev_sign(d, sign);
    sign[0] ^= (uint8_t)corrupt;
    struct osap_lbs_refresh_req m = {
        .version = {1, 1, 0}, .devid = (const uint8_t *)devid, .sign = sign};
    assert_int_equal(osap_lbs_refresh_req_encode(&m, d->buf, sizeof(d->buf), &d->len), OSAP_OK);
}

/* Read 0x8/0x6: devid and session key. */
static void dev_on_keys(struct dev *d, const struct osap_lbs_step *st, uint8_t type)
{
    struct osap_lbs_frame f;
    struct osap_lbs_keys_rsp r;
    uint8_t sign[OSAP_SIGN_LEN];
    assert_int_equal(osap_lbs_frame_decode(st->out, st->out_len, 0, &f), OSAP_OK);
    assert_int_equal(f.type, type);
    assert_int_equal(osap_lbs_keys_rsp_decode(&f, &r), OSAP_OK);
    assert_int_equal(r.result, 0);
    assert_int_equal(osap_gcm_ez_decrypt(d->mk, r.devid_tag, r.enc_devid, 32, d->devid), OSAP_OK);
    assert_int_equal(osap_gcm_ez_decrypt(d->mk, r.session_key_tag, r.enc_session_key, 16, d->sk),
                     OSAP_OK);
    dev_sign(d, sign);
    assert_memory_equal(sign, r.sign, OSAP_SIGN_LEN);
}

static void dev_redirect_req(struct dev *d, const char *sn, const char *devid, const uint8_t *mk,
                             const uint8_t *pt, size_t pt_len)
{
    uint8_t enc[16];
    size_t n;
    assert_int_equal(osap_cbc_ez_encrypt(mk, pt, pt_len, enc, sizeof(enc), &n), OSAP_OK);
    assert_int_equal(n, 16);
    struct osap_lbs_redirect_req m = {.version = {1, 1, 0},
                                      .subserial = sn,
                                      .subserial_len = strlen(sn),
                                      .devid = (const uint8_t *)devid,
                                      .enc_random = enc};
    assert_int_equal(osap_lbs_redirect_req_encode(&m, d->buf, sizeof(d->buf), &d->len), OSAP_OK);
}

static void dev_cfm(struct dev *d, const uint8_t *mk, uint8_t r2)
{
    uint8_t enc[16];
    size_t n;
    assert_int_equal(osap_cbc_ez_encrypt(mk, &r2, 1, enc, sizeof(enc), &n), OSAP_OK);
    struct osap_lbs_redirect_cfm m = {.version = {1, 1, 0}, .enc_random = enc};
    assert_int_equal(osap_lbs_redirect_cfm_encode(&m, d->buf, sizeof(d->buf), &d->len), OSAP_OK);
}

static void dev_data_req(struct dev *d, const uint8_t *sk, const char *json)
{
    uint8_t ct[256];
    size_t n;
    assert_int_equal(
        osap_cbc_ez_encrypt(sk, (const uint8_t *)json, strlen(json), ct, sizeof(ct), &n), OSAP_OK);
    struct osap_lbs_data_req m = {.version = {1, 1, 0}, .ciphertext = ct, .ciphertext_len = n};
    assert_int_equal(osap_lbs_data_req_encode(&m, d->buf, sizeof(d->buf), &d->len), OSAP_OK);
}

#define JSON_OK "{\"DevSerial\":\"" V_SN "\",\"Type\":\"DAS\",\"Mode\":0}"

static void feed(osap_lbs_server_t *s, const struct dev *d, struct osap_lbs_step *st)
{
    assert_int_equal(osap_lbs_server_feed(s, d->buf, d->len, st), OSAP_OK);
}

/* The reply is exactly @p hex and the connection closes. */
static void expect_error(const struct osap_lbs_step *st, const char *hex)
{
    size_t n;
    uint8_t *want = test_hex(hex, &n);
    uint8_t result = want[n - 1];
    assert_bytes_equal(st->out, st->out_len, want, n);
    test_free_buf(want);
    assert_true(st->close);
    assert_false(st->done);
    assert_int_equal(st->result, result);
    assert_int_not_equal(st->err, OSAP_OK);
}

static void expect_ok(const struct osap_lbs_step *st)
{
    assert_int_equal(st->err, OSAP_OK);
    assert_int_equal(st->result, 0);
    assert_non_null(st->out);
    assert_false(st->close);
}

/* Run 0x1 -> 0x2 successfully. */
static osap_lbs_server_t *run_auth(struct fix *fx, struct dev *d)
{
    struct osap_lbs_step st;
    osap_lbs_server_t *s = fx_server(fx);
    dev_auth_req_std(d, 1);
    feed(s, d, &st);
    expect_ok(&st);
    dev_on_auth_rsp(d, &st);
    return s;
}

/* ------------------------------------------------------------------------ */
/* Test vectors through the server                                          */
/* ------------------------------------------------------------------------ */

static char *vector_line(const char *text, const char *prefix)
{
    const char *p = strstr(text, prefix);
    assert_non_null(p);
    p = strstr(p, "): ");
    assert_non_null(p);
    p += 3;
    size_t n = strcspn(p, "\n");
    char *s = malloc(n + 1);
    assert_non_null(s);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void feed_hex(osap_lbs_server_t *s, const char *hex, struct osap_lbs_step *st)
{
    size_t n;
    uint8_t *b = cap_hex_exact(hex, &n);
    assert_int_equal(osap_lbs_server_feed(s, b, n, st), OSAP_OK);
    free(b);
}

static void expect_hex(const struct osap_lbs_step *st, const char *hex)
{
    size_t n;
    uint8_t *want = test_hex(hex, &n);
    assert_bytes_equal(st->out, st->out_len, want, n);
    test_free_buf(want);
}

static void test_replay_vectors(void **state)
{
    (void)state;
    struct fix fx;
    struct osap_lbs_step st;
    size_t len;
    char *text = test_read_data("vectors/vectors.txt", &len);
    const char *names[] = {"Msg 0x1 ", "Msg 0x2 ", "Msg 0x7 apply", "Msg 0x8 (",
                           "Msg 0xA ", "Msg 0xB ", "Msg 0x7/old",   "Msg 0x8 (LBS->dev, 38",
                           "Msg 0x9 "};
    char *hex[9];
    for (int i = 0; i < 9; i++)
        hex[i] = vector_line(text, names[i]);

    /* section 4: path A */
    fx_vectors(&fx);
    osap_lbs_server_t *s = fx_server(&fx);
    feed_hex(s, hex[0], &st);
    expect_hex(&st, hex[1]);
    feed_hex(s, hex[2], &st);
    expect_hex(&st, hex[3]);
    feed_hex(s, hex[4], &st);
    expect_hex(&st, hex[5]);
    assert_true(st.done && st.close);
    assert_int_equal(fx.ncommits, 1);
    assert_memory_equal(fx.commit.master_key, V_MK, 16);
    osap_lbs_server_free(s);

    /* section 5: path C with the stored devid and master key */
    static const uint8_t c_rng[] = {0xA5, 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88,
                                    0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00};
    fx_vectors(&fx);
    fx.dev.has_devid = fx.dev.has_master_key = 1;
    memcpy(fx.dev.devid, V_DEVID, 32);
    memcpy(fx.dev.master_key, V_MK, 16);
    fx_script_rng(&fx, c_rng, sizeof(c_rng));
    s = fx_server(&fx);
    feed_hex(s, hex[6], &st);
    expect_hex(&st, hex[7]);
    assert_int_equal(osap_lbs_server_path(s), OSAP_LBS_PATH_C);
    assert_int_equal(fx.ncommits, 0);
    feed_hex(s, hex[8], &st);
    assert_int_equal(st.out_len, 0);
    assert_false(st.close);
    assert_int_equal(st.err, OSAP_OK);
    assert_int_equal(fx.ncommits, 1);
    assert_memory_equal(fx.commit.session_key, c_rng + 1, 16);
    assert_int_equal(fx.commit.path, OSAP_LBS_PATH_C);
    osap_lbs_server_free(s);

    for (int i = 0; i < 9; i++)
        free(hex[i]);
    free(text);
}

/* ------------------------------------------------------------------------ */
/* Decision table                                                           */
/* ------------------------------------------------------------------------ */

static void test_auth_unknown_blocked_storage(void **state)
{
    (void)state;
    struct fix fx;
    struct dev d;
    struct osap_lbs_step st;
    osap_lbs_server_t *s;

    dev_init(&d);
    fx_vectors(&fx);
    fx.known = 0; /* unknown serial */
    s = fx_server(&fx);
    dev_auth_req_std(&d, 1);
    feed(s, &d, &st);
    expect_error(&st, "2a 05 01 01 01 00 05");
    assert_int_equal(st.err, OSAP_ELBS_RESULT_UNKNOWN_DEVICE);
    assert_int_equal(fx.last_lookup_mode, OSAP_LBS_AUTH_MODE_SAP);
    assert_int_equal(osap_lbs_server_feed(s, d.buf, d.len, &st), OSAP_ESTATE);
    osap_lbs_server_free(s);

    fx_vectors(&fx);
    fx.dev.blocked = 1;
    s = fx_server(&fx);
    feed(s, &d, &st);
    expect_error(&st, "2a 05 01 01 01 00 05");
    assert_int_equal(st.err, OSAP_EPERM);
    osap_lbs_server_free(s);

    fx_vectors(&fx);
    fx.lookup_err = OSAP_ESTORE;
    s = fx_server(&fx);
    feed(s, &d, &st);
    expect_error(&st, "2a 05 01 01 01 00 06");
    assert_int_equal(st.err, OSAP_ESTORE);
    osap_lbs_server_free(s);
    assert_int_equal(fx.ncommits, 0);
    dev_release(&d);
}

static void test_auth_share_key_cases(void **state)
{
    (void)state;
    struct fix fx;
    struct dev d;
    struct osap_lbs_step st;
    osap_lbs_server_t *s;

    dev_init(&d);
    /* wrong code: neither case verifies */
    fx_vectors(&fx);
    strcpy(fx.dev.vcode, "ZZZZZZ");
    for (int upper = 0; upper <= 1; upper++) {
        s = fx_server(&fx);
        dev_auth_req_std(&d, upper);
        feed(s, &d, &st);
        expect_error(&st, "2a 05 01 01 01 00 01");
        assert_int_equal(st.err, OSAP_ELBS_RESULT_SIGN);
        osap_lbs_server_free(s);
    }
    /* only the lower case accepted: upper gets 1, lower succeeds */
    fx_vectors(&fx);
    fx.dev.share_key_cases = OSAP_LBS_CASE_LOWER;
    s = fx_server(&fx);
    dev_auth_req_std(&d, 1);
    feed(s, &d, &st);
    expect_error(&st, "2a 05 01 01 01 00 01");
    osap_lbs_server_free(s);
    s = fx_server(&fx);
    dev_auth_req_std(&d, 0);
    feed(s, &d, &st);
    expect_ok(&st);
    osap_lbs_server_free(s);
    /* only the upper case accepted: lower gets 1 */
    fx.dev.share_key_cases = OSAP_LBS_CASE_UPPER;
    s = fx_server(&fx);
    feed(s, &d, &st);
    expect_error(&st, "2a 05 01 01 01 00 01");
    osap_lbs_server_free(s);
    /* both (0 = default): lower accepted, and the case is committed */
    fx.dev.share_key_cases = 0;
    s = fx_server(&fx);
    feed(s, &d, &st);
    dev_on_auth_rsp(&d, &st);
    dev_devid_req(&d, 0);
    feed(s, &d, &st);
    expect_ok(&st);
    assert_int_equal(fx.commit.share_key_case, OSAP_LBS_CASE_LOWER);
    osap_lbs_server_free(s);
    dev_release(&d);
}

static void test_auth_negotiation(void **state)
{
    (void)state;
    struct fix fx;
    struct dev d;
    struct osap_lbs_step st;
    osap_lbs_server_t *s;
    static const uint8_t g21[] = {2, 1}, g2[] = {2}, g0[] = {0};

    dev_init(&d);
    fx_vectors(&fx);
    /* current type 2 unsupported, 1 in the group: answer type 1 (device adopts it) */
    s = fx_server(&fx);
    dev_auth_req(&d, 1, 2, g21, 2, 0);
    feed(s, &d, &st);
    expect_error(&st, "2a 05 01 01 01 00 03");
    assert_int_equal(st.err, OSAP_ELBS_AUTH_TYPE);
    osap_lbs_server_free(s);
    /* nothing supported: our type, never 0 */
    s = fx_server(&fx);
    dev_auth_req(&d, 1, 2, g2, 1, 0);
    feed(s, &d, &st);
    expect_error(&st, "2a 05 01 01 01 00 03");
    osap_lbs_server_free(s);
    s = fx_server(&fx);
    dev_auth_req(&d, 1, 0, g0, 1, 0);
    feed(s, &d, &st);
    expect_error(&st, "2a 05 01 01 01 00 03");
    osap_lbs_server_free(s);
    /* current type 1 with an empty group is fine */
    s = fx_server(&fx);
    dev_auth_req(&d, 1, 1, NULL, 0, 0);
    feed(s, &d, &st);
    expect_ok(&st);
    osap_lbs_server_free(s);
    /* unknown auth_mode */
    s = fx_server(&fx);
    dev_auth_req(&d, 1, 1, ecdh_only, 1, 2);
    feed(s, &d, &st);
    expect_error(&st, "2a 05 01 01 01 00 03");
    osap_lbs_server_free(s);
    /* licence mode reaches the lookup with its auth_mode */
    s = fx_server(&fx);
    dev_auth_req(&d, 1, 1, ecdh_only, 1, 1);
    feed(s, &d, &st);
    assert_int_equal(fx.last_lookup_mode, OSAP_LBS_AUTH_MODE_LICENCE);
    osap_lbs_server_free(s);
    dev_release(&d);
}

static void test_auth_bad_point_and_key_source(void **state)
{
    (void)state;
    struct fix fx;
    struct dev d;
    struct osap_lbs_step st;
    osap_lbs_server_t *s;
    uint8_t junk[OSAP_P384_PUBKEY_LEN], tag[16], enc[OSAP_P384_PUBKEY_LEN];

    dev_init(&d);
    fx_vectors(&fx);
    /* a tag that verifies over 97 bytes that are no P-384 point */
    memset(junk, 0x42, sizeof(junk));
    junk[0] = 0x04;
    assert_int_equal(osap_share_key(V_VCODE, 6, V_SN, 9, 1, d.share_key), OSAP_OK);
    assert_int_equal(osap_gcm_ez_encrypt((uint8_t *)d.share_key, junk, 97, tag, enc), OSAP_OK);
    struct osap_lbs_auth_req m = {.auth_type = 1,
                                  .auth_type_count = 1,
                                  .auth_types = ecdh_only,
                                  .version = {1, 2, 0},
                                  .subserial = V_SN,
                                  .subserial_len = 9,
                                  .tag = tag,
                                  .enc_pubkey = enc};
    assert_int_equal(osap_lbs_auth_req_encode(&m, d.buf, sizeof(d.buf), &d.len), OSAP_OK);
    s = fx_server(&fx);
    feed(s, &d, &st);
    expect_error(&st, "2a 05 01 01 01 00 10");
    assert_int_equal(st.err, OSAP_EPOINT);
    osap_lbs_server_free(s);
    assert_int_equal(fx.keys_out, 0);

    fx.key_err = OSAP_ECRYPTO;
    s = fx_server(&fx);
    dev_auth_req_std(&d, 1);
    feed(s, &d, &st);
    expect_error(&st, "2a 05 01 01 01 00 0f");
    osap_lbs_server_free(s);
    dev_release(&d);
}

static void test_path_a_failures(void **state)
{
    (void)state;
    struct fix fx;
    struct dev d;
    struct osap_lbs_step st;
    osap_lbs_server_t *s;

    dev_init(&d);
    /* bad sign -> 19, nothing committed */
    fx_vectors(&fx);
    s = run_auth(&fx, &d);
    dev_devid_req(&d, 0x01);
    feed(s, &d, &st);
    expect_error(&st, "82 04 01 01 00 13");
    assert_int_equal(st.err, OSAP_ELBS_RESULT_SIGN_CHECK);
    assert_int_equal(fx.ncommits, 0);
    osap_lbs_server_free(s);
    /* the commit fails -> 6, and the keys never leave */
    fx_vectors(&fx);
    fx.commit_err = OSAP_ESTORE;
    s = run_auth(&fx, &d);
    dev_devid_req(&d, 0);
    feed(s, &d, &st);
    expect_error(&st, "82 04 01 01 00 06");
    osap_lbs_server_free(s);
    /* devid allocation fails, or yields an unusable devid -> 6 */
    fx_vectors(&fx);
    fx.alloc_err = OSAP_ESTORE;
    s = run_auth(&fx, &d);
    dev_devid_req(&d, 0);
    feed(s, &d, &st);
    expect_error(&st, "82 04 01 01 00 06");
    osap_lbs_server_free(s);
    fx_vectors(&fx);
    fx.alloc_bad = 1;
    s = run_auth(&fx, &d);
    dev_devid_req(&d, 0);
    feed(s, &d, &st);
    expect_error(&st, "82 04 01 01 00 06");
    assert_int_equal(st.err, OSAP_ESERVER);
    osap_lbs_server_free(s);
    /* no session key (rng fails) -> 15 */
    fx_vectors(&fx);
    fx_script_rng(&fx, NULL, 0);
    s = run_auth(&fx, &d);
    dev_devid_req(&d, 0);
    feed(s, &d, &st);
    expect_error(&st, "82 04 01 01 00 0f");
    osap_lbs_server_free(s);
    /* malformed 0x7 (sign one byte short) -> 3 */
    fx_vectors(&fx);
    s = run_auth(&fx, &d);
    dev_devid_req(&d, 0);
    d.buf[1]--;
    d.len--;
    feed(s, &d, &st);
    expect_error(&st, "82 04 01 01 00 03");
    assert_int_equal(st.err, OSAP_ELBS_SIGN_LEN);
    osap_lbs_server_free(s);
    /* success, then the default devid allocator (32 upper-case hex digits) */
    fx_vectors(&fx);
    struct osap_lbs_server_config cfg = {.cb = {.lookup = fx_lookup,
                                                .commit = fx_commit,
                                                .das_info = fx_das,
                                                .key_acquire = fx_key,
                                                .key_release = fx_key_release},
                                         .userdata = &fx,
                                         .rng = &fx.rng_if};
    static const uint8_t rnd[32] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                    0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
                                    1,    2,    3,    4,    5,    6,    7,    8,
                                    9,    10,   11,   12,   13,   14,   15,   16};
    fx_script_rng(&fx, rnd, sizeof(rnd));
    fx.rng_if.fill = fx_rng;
    fx.rng_if.userdata = &fx;
    assert_int_equal(osap_lbs_server_new(&cfg, &s), OSAP_OK);
    dev_auth_req_std(&d, 1);
    feed(s, &d, &st);
    dev_on_auth_rsp(&d, &st);
    dev_devid_req(&d, 0);
    feed(s, &d, &st);
    expect_ok(&st);
    dev_on_keys(&d, &st, OSAP_LBS_RESPONSE_DEVID);
    assert_memory_equal(d.devid, "0123456789ABCDEFFEDCBA9876543210", 32);
    assert_memory_equal(d.sk, rnd + 16, 16);
    assert_int_equal(osap_lbs_server_path(s), OSAP_LBS_PATH_A);
    dev_data_req(&d, d.sk, JSON_OK);
    feed(s, &d, &st);
    assert_true(st.done && st.close);
    osap_lbs_server_free(s);
    dev_release(&d);
}

static void test_path_b(void **state)
{
    (void)state;
    struct fix fx;
    struct dev d;
    struct osap_lbs_step st;
    osap_lbs_server_t *s;

    dev_init(&d);
    /* bad sign in 0x4 -> 14 */
    fx_vectors(&fx);
    s = run_auth(&fx, &d);
    dev_refresh_req(&d, V_DEVID, 0x80);
    feed(s, &d, &st);
    expect_error(&st, "62 04 01 01 00 0e");
    assert_int_equal(st.err, OSAP_ELBS_RESULT_HMAC);
    osap_lbs_server_free(s);
    /* the record's devid wins over what the device remembered */
    fx_vectors(&fx);
    fx.dev.has_devid = 1;
    memcpy(fx.dev.devid, "RECORDRECORDRECORDRECORDRECORD01", 32);
    s = run_auth(&fx, &d);
    dev_refresh_req(&d, V_DEVID, 0);
    feed(s, &d, &st);
    expect_ok(&st);
    dev_on_keys(&d, &st, OSAP_LBS_REFRESH_SK_RSP);
    assert_int_equal(st.out[0], 0x62);
    assert_memory_equal(d.devid, "RECORDRECORDRECORDRECORDRECORD01", 32);
    assert_int_equal(fx.allocs, 0);
    assert_int_equal(fx.commit.path, OSAP_LBS_PATH_B);
    dev_data_req(&d, d.sk, JSON_OK);
    feed(s, &d, &st);
    assert_true(st.done);
    osap_lbs_server_free(s);
    /* a record without devid gets a new one */
    fx_vectors(&fx);
    s = run_auth(&fx, &d);
    dev_refresh_req(&d, "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", 0);
    feed(s, &d, &st);
    dev_on_keys(&d, &st, OSAP_LBS_REFRESH_SK_RSP);
    assert_memory_equal(d.devid, V_DEVID, 32);
    assert_int_equal(fx.allocs, 1);
    osap_lbs_server_free(s);
    /* devid length byte not 32 -> 3 */
    fx_vectors(&fx);
    s = run_auth(&fx, &d);
    dev_refresh_req(&d, V_DEVID, 0);
    d.buf[5] = 31;
    feed(s, &d, &st);
    expect_error(&st, "62 04 01 01 00 03");
    assert_int_equal(st.err, OSAP_ELBS_DEVID_LEN);
    osap_lbs_server_free(s);
    dev_release(&d);
}

/* Path C fixture: the record holds the vectors' devid and master key. */
static void fx_path_c(struct fix *fx)
{
    static const uint8_t c_rng[] = {0xA5, 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88,
                                    0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00};
    fx_vectors(fx);
    fx->dev.has_devid = fx->dev.has_master_key = 1;
    memcpy(fx->dev.devid, V_DEVID, 32);
    memcpy(fx->dev.master_key, V_MK, 16);
    fx_script_rng(fx, c_rng, sizeof(c_rng));
}

static void test_path_c_step_one(void **state)
{
    (void)state;
    struct fix fx;
    struct dev d;
    struct osap_lbs_step st;
    osap_lbs_server_t *s;
    const uint8_t r1 = 0x5A, *mk = (const uint8_t *)V_MK;
    const uint8_t *wrong_mk = (const uint8_t *)"0000000000000000";
    const uint8_t two[] = {0x5A, 0x5A};

    dev_init(&d);
    const struct {
        void (*setup)(struct fix *);
        const char *sn, *devid;
        const uint8_t *key, *pt;
        size_t pt_len;
        const char *want;
        osap_err err;
    } rows[] = {
        {NULL, "UNKNOWN01", V_DEVID, mk, &r1, 1, "80 04 01 01 00 05",
         OSAP_ELBS_RESULT_UNKNOWN_DEVICE},
        {NULL, V_SN, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", mk, &r1, 1, "80 04 01 01 00 04",
         OSAP_ELBS_RESULT_DEVID},
        {NULL, V_SN, V_DEVID, wrong_mk, &r1, 1, "80 04 01 01 00 0a", OSAP_EPADDING},
        /* good padding, wrong length: still not the master key's proof */
        {NULL, V_SN, V_DEVID, mk, two, 2, "80 04 01 01 00 0a", OSAP_ELBS_RESULT_MASTER_KEY},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        fx_path_c(&fx);
        s = fx_server(&fx);
        dev_redirect_req(&d, rows[i].sn, rows[i].devid, rows[i].key, rows[i].pt, rows[i].pt_len);
        feed(s, &d, &st);
        expect_error(&st, rows[i].want);
        assert_int_equal(st.err, rows[i].err);
        assert_int_equal(fx.last_lookup_mode, OSAP_LBS_AUTH_MODE_ANY);
        osap_lbs_server_free(s);
    }
    /* record without devid -> 4; without master key -> 10; blocked -> 5 */
    fx_path_c(&fx);
    fx.dev.has_devid = 0;
    s = fx_server(&fx);
    dev_redirect_req(&d, V_SN, V_DEVID, mk, &r1, 1);
    feed(s, &d, &st);
    expect_error(&st, "80 04 01 01 00 04");
    osap_lbs_server_free(s);
    fx_path_c(&fx);
    fx.dev.has_master_key = 0;
    s = fx_server(&fx);
    feed(s, &d, &st);
    expect_error(&st, "80 04 01 01 00 0a");
    osap_lbs_server_free(s);
    fx_path_c(&fx);
    fx.dev.blocked = 1;
    s = fx_server(&fx);
    feed(s, &d, &st);
    expect_error(&st, "80 04 01 01 00 05");
    osap_lbs_server_free(s);
    /* a path-A 0x7 as the first message is out of order */
    fx_path_c(&fx);
    s = fx_server(&fx);
    memcpy(d.mk, mk, 16);
    dev_devid_req(&d, 0);
    feed(s, &d, &st);
    expect_error(&st, "80 04 01 01 00 02");
    osap_lbs_server_free(s);
    assert_int_equal(fx.ncommits, 0);
    dev_release(&d);
}

static void test_path_c_confirmation(void **state)
{
    (void)state;
    struct fix fx;
    struct dev d;
    struct osap_lbs_step st;
    osap_lbs_server_t *s;
    const uint8_t r1 = 0x5A, *mk = (const uint8_t *)V_MK;
    const uint8_t sk[] = {0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88,
                          0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00};

    dev_init(&d);
    /* wrong random_2: no answer to 0x9, then 0xB carries 18; nothing committed */
    fx_path_c(&fx);
    s = fx_server(&fx);
    dev_redirect_req(&d, V_SN, V_DEVID, mk, &r1, 1);
    feed(s, &d, &st);
    expect_ok(&st);
    dev_cfm(&d, mk, 0xA4);
    feed(s, &d, &st);
    assert_int_equal(st.out_len, 0);
    assert_false(st.close);
    assert_int_equal(st.err, OSAP_ELBS_RESULT_SESSION_KEY);
    dev_data_req(&d, sk, JSON_OK);
    feed(s, &d, &st);
    expect_error(&st, "b0 04 01 01 00 12");
    assert_int_equal(fx.ncommits, 0);
    osap_lbs_server_free(s);
    /* 0x9 under another key: same verdict */
    fx_path_c(&fx);
    s = fx_server(&fx);
    dev_redirect_req(&d, V_SN, V_DEVID, mk, &r1, 1);
    feed(s, &d, &st);
    dev_cfm(&d, (const uint8_t *)"1111111111111111", 0xA5);
    feed(s, &d, &st);
    dev_data_req(&d, sk, JSON_OK);
    feed(s, &d, &st);
    expect_error(&st, "b0 04 01 01 00 12");
    osap_lbs_server_free(s);
    /* malformed 0x9 -> 3 in the 0xB */
    fx_path_c(&fx);
    s = fx_server(&fx);
    dev_redirect_req(&d, V_SN, V_DEVID, mk, &r1, 1);
    feed(s, &d, &st);
    dev_cfm(&d, mk, 0xA5);
    d.buf[1]++;
    d.buf[d.len++] = 0;
    feed(s, &d, &st);
    assert_int_equal(st.out_len, 0);
    dev_data_req(&d, sk, JSON_OK);
    feed(s, &d, &st);
    expect_error(&st, "b0 04 01 01 00 03");
    osap_lbs_server_free(s);
    /* 0xA without 0x9 -> 13 */
    fx_path_c(&fx);
    s = fx_server(&fx);
    dev_redirect_req(&d, V_SN, V_DEVID, mk, &r1, 1);
    feed(s, &d, &st);
    dev_data_req(&d, sk, JSON_OK);
    feed(s, &d, &st);
    expect_error(&st, "b0 04 01 01 00 0d");
    osap_lbs_server_free(s);
    /* the commit fails at 0x9 -> 6 in the 0xB */
    fx_path_c(&fx);
    fx.commit_err = OSAP_ESTORE;
    s = fx_server(&fx);
    dev_redirect_req(&d, V_SN, V_DEVID, mk, &r1, 1);
    feed(s, &d, &st);
    dev_cfm(&d, mk, 0xA5);
    feed(s, &d, &st);
    assert_int_equal(st.err, OSAP_ESTORE);
    dev_data_req(&d, sk, JSON_OK);
    feed(s, &d, &st);
    expect_error(&st, "b0 04 01 01 00 06");
    osap_lbs_server_free(s);
    /* all right: 0xB carries the DAS */
    fx_path_c(&fx);
    s = fx_server(&fx);
    dev_redirect_req(&d, V_SN, V_DEVID, mk, &r1, 1);
    feed(s, &d, &st);
    dev_cfm(&d, mk, 0xA5);
    feed(s, &d, &st);
    assert_int_equal(fx.ncommits, 1);
    dev_data_req(&d, sk, JSON_OK);
    feed(s, &d, &st);
    assert_true(st.done && st.close);
    assert_int_equal(st.out[0], 0xB0);
    osap_lbs_server_free(s);
    dev_release(&d);
}

static void test_data_request_failures(void **state)
{
    (void)state;
    struct fix fx;
    struct dev d;
    struct osap_lbs_step st;
    osap_lbs_server_t *s;
    const struct {
        const char *json;
        int wrong_key;
        osap_err das_err;
        const char *want;
    } rows[] = {
        {"{\"DevSerial\":\"Q12345679\",\"Type\":\"DAS\",\"Mode\":0}", 0, 0, "b0 04 01 01 00 03"},
        {"{\"Type\":\"DAS\",\"Mode\":0}", 0, 0, "b0 04 01 01 00 03"},
        {"not json at all", 0, 0, "b0 04 01 01 00 07"},
        {JSON_OK, 1, 0, "b0 04 01 01 00 07"},
        {"{\"DevSerial\":\"" V_SN "\",\"Type\":\"STUN\"}", 0, 0, "b0 04 01 01 00 09"},
        {JSON_OK, 0, OSAP_ENOTFOUND, "b0 04 01 01 00 09"},
    };

    dev_init(&d);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        fx_vectors(&fx);
        fx.das_err = rows[i].das_err;
        s = run_auth(&fx, &d);
        dev_devid_req(&d, 0);
        feed(s, &d, &st);
        dev_on_keys(&d, &st, OSAP_LBS_RESPONSE_DEVID);
        if (rows[i].wrong_key) d.sk[3] ^= 0x40;
        dev_data_req(&d, d.sk, rows[i].json);
        feed(s, &d, &st);
        expect_error(&st, rows[i].want);
        osap_lbs_server_free(s);
    }
    /* a DAS address that does not fit 63 bytes is refused, not cut -> 9 */
    fx_vectors(&fx);
    memset(fx.das.address, 'a', sizeof(fx.das.address));
    s = run_auth(&fx, &d);
    dev_devid_req(&d, 0);
    feed(s, &d, &st);
    dev_on_keys(&d, &st, OSAP_LBS_RESPONSE_DEVID);
    dev_data_req(&d, d.sk, JSON_OK);
    feed(s, &d, &st);
    expect_error(&st, "b0 04 01 01 00 09");
    assert_int_equal(st.err, OSAP_EINVAL);
    osap_lbs_server_free(s);
    /* 0xA with a body that is no CBC ciphertext -> 3 */
    fx_vectors(&fx);
    s = run_auth(&fx, &d);
    dev_devid_req(&d, 0);
    feed(s, &d, &st);
    const uint8_t odd[] = {0xA0, 0x04, 1, 1, 0, 0x55};
    assert_int_equal(osap_lbs_server_feed(s, odd, sizeof(odd), &st), OSAP_OK);
    expect_error(&st, "b0 04 01 01 00 03");
    assert_int_equal(st.err, OSAP_ELBS_CIPHERTEXT_LEN);
    osap_lbs_server_free(s);
    dev_release(&d);
}

static void test_order_errors(void **state)
{
    (void)state;
    struct fix fx;
    struct dev d;
    struct osap_lbs_step st;
    osap_lbs_server_t *s;

    dev_init(&d);
    fx_vectors(&fx);
    memcpy(d.mk, V_MK, 16);
    memcpy(d.sk, "0123456789abcdef", 16);
    /* at the start */
    s = fx_server(&fx);
    dev_data_req(&d, d.sk, JSON_OK);
    feed(s, &d, &st);
    expect_error(&st, "b0 04 01 01 00 0d");
    osap_lbs_server_free(s);
    s = fx_server(&fx);
    dev_refresh_req(&d, V_DEVID, 0);
    feed(s, &d, &st);
    expect_error(&st, "62 04 01 01 00 02");
    assert_int_equal(st.err, OSAP_ELBS_RESULT_ORDER);
    osap_lbs_server_free(s);
    s = fx_server(&fx);
    dev_cfm(&d, d.mk, 1);
    feed(s, &d, &st);
    expect_error(&st, "b0 04 01 01 00 02");
    osap_lbs_server_free(s);
    /* after 0x2 */
    s = run_auth(&fx, &d);
    dev_data_req(&d, d.sk, JSON_OK);
    feed(s, &d, &st);
    expect_error(&st, "b0 04 01 01 00 0d");
    osap_lbs_server_free(s);
    s = run_auth(&fx, &d);
    dev_auth_req_std(&d, 1);
    feed(s, &d, &st);
    expect_error(&st, "2a 05 01 01 01 00 02");
    osap_lbs_server_free(s);
    s = run_auth(&fx, &d);
    dev_cfm(&d, d.mk, 1);
    feed(s, &d, &st);
    expect_error(&st, "b0 04 01 01 00 02");
    osap_lbs_server_free(s);
    /* after 0x8: a second 0x7, a 0x4 */
    fx_script_rng(&fx, (const uint8_t *)"0123456789abcdef0123456789abcdef", 32);
    s = run_auth(&fx, &d);
    dev_devid_req(&d, 0);
    feed(s, &d, &st);
    expect_ok(&st);
    feed(s, &d, &st);
    expect_error(&st, "82 04 01 01 00 02");
    osap_lbs_server_free(s);
    s = run_auth(&fx, &d);
    dev_devid_req(&d, 0);
    feed(s, &d, &st);
    dev_refresh_req(&d, V_DEVID, 0);
    feed(s, &d, &st);
    expect_error(&st, "62 04 01 01 00 02");
    osap_lbs_server_free(s);
    dev_release(&d);
}

static void test_malformed_frames(void **state)
{
    (void)state;
    struct fix fx;
    struct osap_lbs_step st;
    osap_lbs_server_t *s;

    fx_vectors(&fx);
    const struct {
        const char *hex;
        const char *want;
        osap_err err;
    } rows[] = {
        /* reserved type */
        {"30 03 01 01 00", "2a 05 01 01 01 00 03", OSAP_ELBS_TYPE},
        /* a server message from the device */
        {"2a 05 01 01 01 00 00", "2a 05 01 01 01 00 03", OSAP_ELBS_TYPE},
        /* STUN step I: not served */
        {"c0 03 01 01 00", "2a 05 01 01 01 00 03", OSAP_ELBS_TYPE},
        /* 0x1 without a variable-header flag */
        {"10 03 01 01 00", "2a 05 01 01 01 00 03", OSAP_ELBS_FLAGS},
        /* 0x1 too short */
        {"1a 05 01 01 01 01 02", "2a 05 01 01 01 00 03", OSAP_ELBS_LENGTH},
        /* a non-minimal length (fed as far as framing got) */
        {"1a 81 00", "2a 05 01 01 01 00 03", OSAP_ELBS_REMLEN},
        /* a length that cannot fit the limit, known before the fifth byte */
        {"1a ff ff ff ff", "2a 05 01 01 01 00 03", OSAP_ETOOBIG},
        /* larger than the server's limit, known from the header */
        {"1a ff 7f", "2a 05 01 01 01 00 03", OSAP_ETOOBIG},
        /* path-C 0x7 too short */
        {"70 05 01 01 00 01 41", "80 04 01 01 00 03", OSAP_ELBS_LENGTH},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        s = fx_server(&fx);
        feed_hex(s, rows[i].hex, &st);
        expect_error(&st, rows[i].want);
        assert_int_equal(st.err, rows[i].err);
        osap_lbs_server_free(s);
    }
    /* caller errors: incomplete frame, bytes after the frame, nothing */
    const uint8_t partial[] = {0x1A, 0x82, 0x01, 0x01};
    const uint8_t two[] = {0xA0, 0x03, 1, 1, 0, 0xA0};
    s = fx_server(&fx);
    assert_int_equal(osap_lbs_server_feed(s, partial, sizeof(partial), &st), OSAP_EINVAL);
    assert_int_equal(osap_lbs_server_feed(s, two, sizeof(two), &st), OSAP_EINVAL);
    assert_int_equal(osap_lbs_server_feed(s, two, 0, &st), OSAP_EINVAL);
    assert_int_equal(osap_lbs_server_feed(s, two, 5, NULL), OSAP_EINVAL);
    assert_int_equal(osap_lbs_server_path(s), OSAP_LBS_PATH_NONE);
    osap_lbs_server_free(s);
    /* configuration checks */
    struct osap_lbs_server_config cfg = {.cb = {.lookup = fx_lookup, .commit = fx_commit}};
    assert_int_equal(osap_lbs_server_new(&cfg, &s), OSAP_EINVAL);
    assert_int_equal(osap_lbs_server_new(NULL, &s), OSAP_EINVAL);
    osap_lbs_server_free(NULL);
}

/* Default key source: a fresh key per handshake, from the rng. */
static void test_default_key_source(void **state)
{
    (void)state;
    struct fix fx;
    struct dev d;
    struct osap_lbs_step st;
    osap_lbs_server_t *s;
    struct osap_lbs_server_config cfg = {.cb = {.lookup = fx_lookup,
                                                .allocate_devid = fx_alloc,
                                                .commit = fx_commit,
                                                .das_info = fx_das},
                                         .userdata = &fx};

    dev_init(&d);
    fx_vectors(&fx);
    assert_int_equal(osap_lbs_server_new(&cfg, &s), OSAP_OK); /* system rng */
    dev_auth_req_std(&d, 1);
    feed(s, &d, &st);
    expect_ok(&st);
    dev_on_auth_rsp(&d, &st);
    dev_devid_req(&d, 0);
    feed(s, &d, &st);
    dev_on_keys(&d, &st, OSAP_LBS_RESPONSE_DEVID);
    dev_data_req(&d, d.sk, JSON_OK);
    feed(s, &d, &st);
    assert_true(st.done);
    assert_memory_equal(fx.commit.master_key, d.mk, 16);
    osap_lbs_server_free(s);
    dev_release(&d);
}

/* Fail every allocation in turn during a whole path-A handshake. */
static void test_allocation_failures(void **state)
{
    (void)state;
    struct fix fx;
    struct dev d;
    int completed = 0;

    dev_init(&d);
    test_alloc_install();
    for (long n = 0; n < 200 && !completed; n++) {
        struct osap_lbs_step st;
        osap_lbs_server_t *s = NULL;
        fx_vectors(&fx);
        fx.rng_if.fill = fx_rng;
        fx.rng_if.userdata = &fx;
        struct osap_lbs_server_config cfg = {.cb = {.lookup = fx_lookup,
                                                    .allocate_devid = fx_alloc,
                                                    .commit = fx_commit,
                                                    .das_info = fx_das,
                                                    .key_acquire = fx_key,
                                                    .key_release = fx_key_release},
                                             .userdata = &fx,
                                             .rng = &fx.rng_if};
        test_alloc_fail_after(n);
        osap_err err = osap_lbs_server_new(&cfg, &s);
        if (err) {
            assert_int_equal(err, OSAP_ENOMEM);
            continue;
        }
        dev_auth_req_std(&d, 1);
        feed(s, &d, &st);
        if (!st.close) {
            dev_on_auth_rsp(&d, &st);
            dev_devid_req(&d, 0);
            feed(s, &d, &st);
        }
        if (!st.close) {
            dev_on_keys(&d, &st, OSAP_LBS_RESPONSE_DEVID);
            dev_data_req(&d, d.sk, JSON_OK);
            feed(s, &d, &st);
        }
        /* every ending is a well-formed answer */
        assert_true(st.close);
        struct osap_lbs_frame f;
        assert_int_equal(osap_lbs_frame_decode(st.out, st.out_len, 0, &f), OSAP_OK);
        assert_true(f.has_result);
        if (st.done)
            assert_int_equal(f.result, 0);
        else
            assert_int_not_equal(f.result, 0);
        /* no allocation failed in this run: it must have gone through */
        if (test_alloc_count() <= n) {
            assert_true(st.done);
            completed = 1;
        }
        osap_lbs_server_free(s);
        assert_int_equal(fx.keys_out, 0);
    }
    test_alloc_reset();
    osap_set_allocator(NULL);
    assert_true(completed);
    dev_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_captures),
        cmocka_unit_test(test_replay_vectors),
        cmocka_unit_test(test_auth_unknown_blocked_storage),
        cmocka_unit_test(test_auth_share_key_cases),
        cmocka_unit_test(test_auth_negotiation),
        cmocka_unit_test(test_auth_bad_point_and_key_source),
        cmocka_unit_test(test_path_a_failures),
        cmocka_unit_test(test_path_b),
        cmocka_unit_test(test_path_c_step_one),
        cmocka_unit_test(test_path_c_confirmation),
        cmocka_unit_test(test_data_request_failures),
        cmocka_unit_test(test_order_errors),
        cmocka_unit_test(test_malformed_frames),
        cmocka_unit_test(test_default_key_source),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
