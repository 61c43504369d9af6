/*
 * LBS device machine: replays of every golden capture (every device message
 * byte for byte, the outcome, the share-key retry and what is forgotten), the
 * test-vector transcripts, failures on corrupted answers, whole handshakes
 * against the server machine, and allocation failures.
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
/* Scripted rng and injected ECDH                                           */
/* ------------------------------------------------------------------------ */

struct script {
    uint8_t bytes[64];
    size_t len, pos;
};

static osap_err script_fill(void *ud, uint8_t *buf, size_t len)
{
    struct script *s = ud;
    if (s->len - s->pos < len) return OSAP_ERANDOM;
    memcpy(buf, s->bytes + s->pos, len);
    s->pos += len;
    return OSAP_OK;
}

/* ECDH as recorded: a fixed public key, a fixed master key, the expected peer. */
struct recorded_ecdh {
    uint8_t pub[OSAP_P384_PUBKEY_LEN];
    uint8_t peer[OSAP_P384_PUBKEY_LEN];
    uint8_t mk[OSAP_MASTER_KEY_LEN];
    int has_mk;
    int derives;
};

static osap_err rec_public(void *ud, uint8_t pub[OSAP_P384_PUBKEY_LEN])
{
    struct recorded_ecdh *r = ud;
    memcpy(pub, r->pub, OSAP_P384_PUBKEY_LEN);
    return OSAP_OK;
}

static osap_err rec_master(void *ud, const uint8_t peer[OSAP_P384_PUBKEY_LEN],
                           uint8_t mk[OSAP_MASTER_KEY_LEN])
{
    struct recorded_ecdh *r = ud;
    /* the client decrypted the LBS key the capture says it sent */
    assert_memory_equal(peer, r->peer, OSAP_P384_PUBKEY_LEN);
    assert_true(r->has_mk);
    memcpy(mk, r->mk, OSAP_MASTER_KEY_LEN);
    r->derives++;
    return OSAP_OK;
}

/* ECDH with a real fixed private key (test vectors). */
static osap_err key_public(void *ud, uint8_t pub[OSAP_P384_PUBKEY_LEN])
{
    return osap_p384_public(ud, pub);
}

static osap_err key_master(void *ud, const uint8_t peer[OSAP_P384_PUBKEY_LEN],
                           uint8_t mk[OSAP_MASTER_KEY_LEN])
{
    uint8_t shared[OSAP_P384_SECRET_LEN];
    osap_err err = osap_p384_derive(ud, peer, shared);
    if (!err) err = osap_master_key(shared, mk);
    return err;
}

/* ------------------------------------------------------------------------ */
/* Capture replay                                                           */
/* ------------------------------------------------------------------------ */

static const char *str_or_null(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void replay_capture(const char *file)
{
    struct capture c;
    struct recorded_ecdh rec;
    struct script rng = {0};
    struct osap_rng rng_if = {script_fill, &rng};
    struct osap_lbs_client_ecdh ecdh = {rec_public, rec_master, &rec};
    struct osap_lbs_step st;
    osap_lbs_client_t *cl = NULL;

    cap_load(&c, file);
    const cJSON *dev = golden_get(c.root, "device"), *der = golden_get(c.root, "derived");
    const cJSON *stored = golden_get(dev, "stored_before");
    const cJSON *attempts = golden_get(der, "lbs_attempts");
    const char *devid = str_or_null(stored, "devid"), *mk = str_or_null(stored, "masterkey");

    memset(&rec, 0, sizeof(rec));
    golden_hex_into(golden_str(der, "lbs_ecdh_public_hex"), rec.peer, OSAP_P384_PUBKEY_LEN);
    struct osap_lbs_client_config cfg = {
        .auth_mode = (uint8_t)golden_int(dev, "auth_mode"),
        .subserial = golden_str(dev, "subserial"),
        .vcode = golden_str(dev, "vcode_or_licence"),
        .devid = (const uint8_t *)devid,
        .master_key = (const uint8_t *)mk,
        .rng = &rng_if,
        .ecdh = &ecdh,
    };
    assert_int_equal(osap_lbs_client_new(&cfg, &cl), OSAP_OK);

    int attempt = 0, last_conn = -1, done = 0;
    for (size_t i = 0; i < c.n; i++) {
        const struct cap_msg *m = &c.msgs[i];
        if (m->conn == last_conn) continue;
        last_conn = m->conn;
        const cJSON *att = cJSON_GetArrayItem(attempts, attempt++);
        assert_non_null(att);
        const char *path = str_or_null(att, "path");
        /* the injected ECDH for this attempt */
        const char *pub = str_or_null(att, "device_ecdh_public_hex");
        const char *amk = str_or_null(att, "master_key");
        if (pub) golden_hex_into(pub, rec.pub, OSAP_P384_PUBKEY_LEN);
        rec.has_mk = amk != NULL;
        if (amk) memcpy(rec.mk, amk, OSAP_MASTER_KEY_LEN);
        /* path C: random_1 is inside the recorded step-I block */
        rng.len = rng.pos = 0;
        if (m->bytes[0] == 0x70) {
            struct osap_lbs_frame f;
            struct osap_lbs_redirect_req r;
            size_t n;
            assert_int_equal(osap_lbs_frame_decode(m->bytes, m->len, 0, &f), OSAP_OK);
            assert_int_equal(osap_lbs_redirect_req_decode(&f, &r), OSAP_OK);
            assert_int_equal(osap_cbc_ez_decrypt((const uint8_t *)mk, r.enc_random, 16, rng.bytes,
                                                 sizeof(rng.bytes), &n),
                             OSAP_OK);
            assert_int_equal(n, 1);
            assert_int_equal(rng.bytes[0], golden_int(att, "random_1"));
            rng.len = 1;
        }
        if (path) assert_int_equal(osap_lbs_client_path(cl), path[0]);
        const char *variant = str_or_null(att, "share_key_variant_device_used");
        if (variant)
            assert_int_equal(osap_lbs_client_share_key_case(cl), strcmp(variant, "upper") == 0
                                                                     ? OSAP_LBS_CASE_UPPER
                                                                     : OSAP_LBS_CASE_LOWER);

        assert_int_equal(osap_lbs_client_begin(cl, &st), OSAP_OK);
        assert_true(m->to_server);
        size_t k = i;
        for (;;) {
            /* what the device sends now: the next device messages of this connection */
            uint8_t want[2048];
            size_t want_len = 0;
            for (; k < c.n && c.msgs[k].conn == m->conn && c.msgs[k].to_server; k++) {
                memcpy(want + want_len, c.msgs[k].bytes, c.msgs[k].len);
                want_len += c.msgs[k].len;
            }
            assert_bytes_equal(st.out, st.out_len, want, want_len);
            if (k >= c.n || c.msgs[k].conn != m->conn) break;
            /* the server's answer */
            const struct cap_msg *r = &c.msgs[k++];
            assert_int_equal(osap_lbs_client_feed(cl, r->bytes, r->len, &st), OSAP_OK);
            if (st.close) {
                /* nothing more on this connection */
                assert_true(k >= c.n || c.msgs[k].conn != m->conn);
                assert_int_equal(st.out_len, 0);
                break;
            }
        }
        assert_true(st.close);
        assert_int_equal(osap_lbs_client_feed(cl, m->bytes, m->len, &st), OSAP_ESTATE);
        if (st.done) done = 1;
    }
    assert_int_equal(attempt, cJSON_GetArraySize(attempts));

    const cJSON *last = cJSON_GetArrayItem(attempts, attempt - 1);
    if (str_or_null(last, "session_key_hex")) {
        struct osap_lbs_client_result res;
        const cJSON *das = golden_get(golden_get(c.root, "server_fixed"), "das");
        uint8_t sk[16];
        assert_true(done);
        assert_int_equal(osap_lbs_client_result(cl, &res), OSAP_OK);
        assert_int_equal(res.path, golden_str(last, "path")[0]);
        assert_memory_equal(res.devid, golden_str(last, "devid"), OSAP_DEVID_LEN);
        assert_memory_equal(res.master_key, golden_str(last, "master_key"), OSAP_MASTER_KEY_LEN);
        golden_hex_into(golden_str(last, "session_key_hex"), sk, 16);
        assert_memory_equal(res.session_key, sk, 16);
        assert_string_equal(res.das.address, golden_str(das, "address"));
        assert_int_equal(res.das.port, golden_int(das, "port"));
        assert_int_equal(res.das.udp_port, golden_int(das, "udp_port"));
        assert_string_equal(res.das.domain, golden_str(das, "domain"));
        assert_string_equal(res.das.server_id, golden_str(das, "server_id"));
        /* the client keeps what a device persists: next time is path C */
        assert_int_equal(osap_lbs_client_path(cl), OSAP_LBS_PATH_C);
        assert_int_equal(rng.pos, rng.len);
    } else {
        assert_false(done);
        assert_int_equal(osap_lbs_client_result(cl, NULL), OSAP_EINVAL);
        struct osap_lbs_client_result res;
        assert_int_equal(osap_lbs_client_result(cl, &res), OSAP_ESTATE);
    }
    osap_lbs_client_free(cl);
    cap_free(&c);
}

static void test_replay_captures(void **state)
{
    (void)state;
    for (size_t i = 0; i < GOLDEN_NFILES; i++)
        replay_capture(golden_files[i]);
}

/* The wrong-code capture: result 1 retries at once with the lower case, and a
 * lower-case result 1 falls back to the upper case after a back-off. */
static void test_share_key_retry(void **state)
{
    (void)state;
    struct capture c;
    struct recorded_ecdh rec = {0};
    struct osap_lbs_client_ecdh ecdh = {rec_public, rec_master, &rec};
    struct osap_lbs_step st;
    osap_lbs_client_t *cl;

    cap_load(&c, "captures/sap_d_wrong_vcode.json");
    const cJSON *dev = golden_get(c.root, "device");
    struct osap_lbs_client_config cfg = {.auth_mode = 0,
                                         .subserial = golden_str(dev, "subserial"),
                                         .vcode = golden_str(dev, "vcode_or_licence"),
                                         .ecdh = &ecdh};
    golden_hex_into(golden_str(golden_get(c.root, "derived"), "lbs_ecdh_public_hex"), rec.peer, 97);
    assert_int_equal(osap_lbs_client_new(&cfg, &cl), OSAP_OK);
    const uint8_t answer1[] = {0x2a, 0x05, 0x01, 0x01, 0x01, 0x00, 0x01};
    for (int i = 0; i < 4; i++) {
        unsigned want_case = i % 2 ? OSAP_LBS_CASE_LOWER : OSAP_LBS_CASE_UPPER;
        assert_int_equal(osap_lbs_client_share_key_case(cl), want_case);
        assert_int_equal(osap_lbs_client_begin(cl, &st), OSAP_OK);
        assert_int_equal(osap_lbs_client_feed(cl, answer1, sizeof(answer1), &st), OSAP_OK);
        assert_true(st.close);
        assert_int_equal(st.result, 1);
        assert_int_equal(st.err, OSAP_ELBS_RESULT_SIGN);
        assert_int_equal(st.retry_now, want_case == OSAP_LBS_CASE_UPPER);
        assert_int_equal(st.forget, 0);
    }
    /* any other ending of a lower-case attempt also goes back to upper */
    assert_int_equal(osap_lbs_client_begin(cl, &st), OSAP_OK);
    assert_int_equal(osap_lbs_client_feed(cl, answer1, sizeof(answer1), &st), OSAP_OK);
    assert_int_equal(osap_lbs_client_share_key_case(cl), OSAP_LBS_CASE_LOWER);
    const uint8_t answer5[] = {0x2a, 0x05, 0x01, 0x01, 0x01, 0x00, 0x05};
    assert_int_equal(osap_lbs_client_begin(cl, &st), OSAP_OK);
    assert_int_equal(osap_lbs_client_feed(cl, answer5, sizeof(answer5), &st), OSAP_OK);
    assert_int_equal(st.err, OSAP_ELBS_RESULT_UNKNOWN_DEVICE);
    assert_false(st.retry_now);
    assert_int_equal(osap_lbs_client_share_key_case(cl), OSAP_LBS_CASE_UPPER);
    osap_lbs_client_free(cl);
    cap_free(&c);
}

/* ------------------------------------------------------------------------ */
/* Test vectors                                                             */
/* ------------------------------------------------------------------------ */

#define V_SN    "Q12345678"
#define V_DEVID "0123456789ABCDEF0123456789ABCDEF"
#define V_MK    "3F1C75D4442266B7"

static uint8_t *vector_msg(const char *text, const char *prefix, size_t *n)
{
    const char *p = strstr(text, prefix);
    assert_non_null(p);
    p = strstr(p, "): ");
    assert_non_null(p);
    p += 3;
    size_t len = strcspn(p, "\n");
    char *hex = malloc(len + 1);
    assert_non_null(hex);
    memcpy(hex, p, len);
    hex[len] = '\0';
    uint8_t *b = cap_hex_exact(hex, n);
    free(hex);
    return b;
}

static void test_replay_vectors(void **state)
{
    (void)state;
    size_t len, n[9];
    char *text = test_read_data("vectors/vectors.txt", &len);
    const char *names[] = {"Msg 0x1 ", "Msg 0x2 ", "Msg 0x7 apply", "Msg 0x8 (",
                           "Msg 0xA ", "Msg 0xB ", "Msg 0x7/old",   "Msg 0x8 (LBS->dev, 38",
                           "Msg 0x9 "};
    uint8_t *msg[9];
    for (int i = 0; i < 9; i++)
        msg[i] = vector_msg(text, names[i], &n[i]);
    uint8_t priv[OSAP_P384_SECRET_LEN] = {0};
    osap_p384_key *key;
    memset(priv + 28, 0x11, 20);
    assert_int_equal(osap_p384_from_private(priv, &key), OSAP_OK);
    struct osap_lbs_client_ecdh ecdh = {key_public, key_master, key};
    struct osap_lbs_step st;
    struct osap_lbs_client_result res;
    osap_lbs_client_t *cl;

    /* section 4: path A */
    struct osap_lbs_client_config cfg = {.subserial = V_SN, .vcode = "ABCDEF", .ecdh = &ecdh};
    assert_int_equal(osap_lbs_client_new(&cfg, &cl), OSAP_OK);
    assert_int_equal(osap_lbs_client_begin(cl, &st), OSAP_OK);
    assert_bytes_equal(st.out, st.out_len, msg[0], n[0]);
    assert_int_equal(osap_lbs_client_feed(cl, msg[1], n[1], &st), OSAP_OK);
    assert_bytes_equal(st.out, st.out_len, msg[2], n[2]);
    assert_int_equal(osap_lbs_client_feed(cl, msg[3], n[3], &st), OSAP_OK);
    assert_bytes_equal(st.out, st.out_len, msg[4], n[4]);
    assert_int_equal(osap_lbs_client_feed(cl, msg[5], n[5], &st), OSAP_OK);
    assert_true(st.done && st.close);
    assert_int_equal(osap_lbs_client_result(cl, &res), OSAP_OK);
    assert_memory_equal(res.devid, V_DEVID, 32);
    assert_memory_equal(res.master_key, V_MK, 16);
    assert_string_equal(res.das.address, "192.0.2.10");
    assert_int_equal(res.das.port, 8883);
    assert_int_equal(res.das.udp_port, 6371);
    assert_string_equal(res.das.domain, "das.example");
    assert_string_equal(res.das.server_id, "das-01");
    osap_lbs_client_free(cl);

    /* section 5: path C, random_1 = 0x5A */
    struct script rng = {.bytes = {0x5A}, .len = 1};
    struct osap_rng rng_if = {script_fill, &rng};
    struct osap_lbs_client_config cfc = {.subserial = V_SN,
                                         .vcode = "ABCDEF",
                                         .devid = (const uint8_t *)V_DEVID,
                                         .master_key = (const uint8_t *)V_MK,
                                         .rng = &rng_if};
    assert_int_equal(osap_lbs_client_new(&cfc, &cl), OSAP_OK);
    assert_int_equal(osap_lbs_client_path(cl), OSAP_LBS_PATH_C);
    assert_int_equal(osap_lbs_client_begin(cl, &st), OSAP_OK);
    assert_bytes_equal(st.out, st.out_len, msg[6], n[6]);
    assert_int_equal(osap_lbs_client_feed(cl, msg[7], n[7], &st), OSAP_OK);
    /* 0x9 then 0xA back to back; the 0xA is under the new session key */
    assert_true(st.out_len > n[8]);
    assert_bytes_equal(st.out, n[8], msg[8], n[8]);
    struct osap_lbs_frame f;
    struct osap_lbs_data_req dr;
    uint8_t pt[128];
    size_t ptn;
    static const uint8_t sk[] = {0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88,
                                 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00};
    assert_int_equal(osap_lbs_frame_decode(st.out + n[8], st.out_len - n[8], 0, &f), OSAP_OK);
    assert_int_equal(f.frame_len, st.out_len - n[8]);
    assert_int_equal(osap_lbs_data_req_decode(&f, &dr), OSAP_OK);
    assert_int_equal(
        osap_cbc_ez_decrypt(sk, dr.ciphertext, dr.ciphertext_len, pt, sizeof(pt), &ptn), OSAP_OK);
    const char *json = "{\"DevSerial\":\"Q12345678\",\"Type\":\"DAS\",\"Mode\":0}";
    assert_int_equal(ptn, strlen(json));
    assert_memory_equal(pt, json, ptn);
    osap_lbs_client_free(cl);

    osap_p384_free(key);
    for (int i = 0; i < 9; i++)
        free(msg[i]);
    free(text);
}

/* ------------------------------------------------------------------------ */
/* Against the server machine                                               */
/* ------------------------------------------------------------------------ */

/* A one-device store for the server machine. */
struct store {
    struct osap_lbs_device dev;
    char sn[OSAP_SUBSERIAL_MAX + 1];
    int commits;
    struct osap_lbs_commit last;
};

static osap_err st_lookup(void *ud, uint8_t mode, const char *sn, struct osap_lbs_device *out)
{
    struct store *s = ud;
    if (strcmp(sn, s->sn) != 0) return OSAP_ENOTFOUND;
    *out = s->dev;
    return OSAP_OK;
}

static osap_err st_commit(void *ud, const struct osap_lbs_commit *c)
{
    struct store *s = ud;
    s->commits++;
    s->last = *c;
    s->last.subserial = NULL;
    memcpy(s->dev.devid, c->devid, 32);
    s->dev.has_devid = 1;
    memcpy(s->dev.master_key, c->master_key, 16);
    s->dev.has_master_key = 1;
    return OSAP_OK;
}

static osap_err st_das(void *ud, const char *sn, struct osap_lbs_das_info *out)
{
    memset(out, 0, sizeof(*out));
    strcpy(out->address, "198.51.100.7");
    out->port = 1883;
    out->udp_port = 0;
    strcpy(out->domain, "das.osap.test");
    strcpy(out->server_id, "das-7");
    return OSAP_OK;
}

typedef void (*mangle_fn)(uint8_t *frame, size_t len, int step_no);

/* One attempt between @p cl and a fresh server machine; @p mangle may alter the
 * server's frames on the way. Returns the client's final step. */
static struct osap_lbs_step run_attempt(osap_lbs_client_t *cl, struct store *sto, mangle_fn mangle)
{
    struct osap_lbs_server_config cfg = {
        .cb = {.lookup = st_lookup, .commit = st_commit, .das_info = st_das}, .userdata = sto};
    osap_lbs_server_t *srv;
    struct osap_lbs_step cs, ss;
    uint8_t buf[OSAP_LBS_OUT_MAX];
    int step_no = 0;

    assert_int_equal(osap_lbs_server_new(&cfg, &srv), OSAP_OK);
    assert_int_equal(osap_lbs_client_begin(cl, &cs), OSAP_OK);
    for (;;) {
        /* device -> server, frame by frame */
        size_t off = 0;
        memset(&ss, 0, sizeof(ss));
        while (off < cs.out_len) {
            size_t flen;
            assert_int_equal(osap_lbs_frame_length(cs.out + off, cs.out_len - off, 0, &flen),
                             OSAP_OK);
            assert_int_equal(osap_lbs_server_feed(srv, cs.out + off, flen, &ss), OSAP_OK);
            off += flen;
        }
        assert_true(ss.out_len > 0);
        memcpy(buf, ss.out, ss.out_len);
        if (mangle) mangle(buf, ss.out_len, step_no);
        step_no++;
        assert_int_equal(osap_lbs_client_feed(cl, buf, ss.out_len, &cs), OSAP_OK);
        if (cs.close) break;
        assert_false(ss.close);
    }
    osap_lbs_server_free(srv);
    return cs;
}

static void test_against_server(void **state)
{
    (void)state;
    struct store sto = {0};
    struct osap_lbs_step st;
    struct osap_lbs_client_result res;
    osap_lbs_client_t *cl;

    strcpy(sto.sn, "DEV0001");
    strcpy(sto.dev.vcode, "QWERTY");
    struct osap_lbs_client_config cfg = {.auth_mode = 0, .subserial = "DEV0001", .vcode = "QWERTY"};
    assert_int_equal(osap_lbs_client_new(&cfg, &cl), OSAP_OK);

    /* A: first start, real ECDH on both sides */
    st = run_attempt(cl, &sto, NULL);
    assert_true(st.done);
    assert_int_equal(osap_lbs_client_result(cl, &res), OSAP_OK);
    assert_int_equal(res.path, OSAP_LBS_PATH_A);
    assert_memory_equal(res.devid, sto.dev.devid, 32);
    assert_memory_equal(res.master_key, sto.dev.master_key, 16);
    assert_memory_equal(res.session_key, sto.last.session_key, 16);
    assert_string_equal(res.das.address, "198.51.100.7");
    assert_int_equal(res.das.port, 1883);
    /* C: restart with everything stored */
    st = run_attempt(cl, &sto, NULL);
    assert_true(st.done);
    assert_int_equal(osap_lbs_client_result(cl, &res), OSAP_OK);
    assert_int_equal(res.path, OSAP_LBS_PATH_C);
    assert_int_equal(sto.last.path, OSAP_LBS_PATH_C);
    assert_memory_equal(res.session_key, sto.last.session_key, 16);
    /* the platform lost the master key: 10, forget it, then B */
    sto.dev.has_master_key = 0;
    st = run_attempt(cl, &sto, NULL);
    assert_false(st.done);
    assert_int_equal(st.err, OSAP_ELBS_RESULT_MASTER_KEY);
    assert_int_equal(st.forget, OSAP_LBS_FORGET_MASTER_KEY);
    assert_int_equal(osap_lbs_client_path(cl), OSAP_LBS_PATH_B);
    st = run_attempt(cl, &sto, NULL);
    assert_true(st.done);
    assert_int_equal(sto.last.path, OSAP_LBS_PATH_B);
    /* the platform re-issued the devid: 4, forget it, then A */
    memcpy(sto.dev.devid, "ANOTHERDEVIDANOTHERDEVIDANOTHER0", 32);
    st = run_attempt(cl, &sto, NULL);
    assert_int_equal(st.err, OSAP_ELBS_RESULT_DEVID);
    assert_int_equal(st.forget, OSAP_LBS_FORGET_DEVID);
    assert_int_equal(osap_lbs_client_path(cl), OSAP_LBS_PATH_A);
    st = run_attempt(cl, &sto, NULL);
    assert_true(st.done);
    assert_int_equal(sto.last.path, OSAP_LBS_PATH_A);
    /* only the lower case accepted: 1 with retry_now, then success */
    sto.dev.share_key_cases = OSAP_LBS_CASE_LOWER;
    osap_lbs_client_forget(cl, OSAP_LBS_FORGET_MASTER_KEY);
    st = run_attempt(cl, &sto, NULL);
    assert_int_equal(st.err, OSAP_ELBS_RESULT_SIGN);
    assert_true(st.retry_now);
    st = run_attempt(cl, &sto, NULL);
    assert_true(st.done);
    assert_int_equal(sto.last.share_key_case, OSAP_LBS_CASE_LOWER);
    assert_int_equal(sto.last.path, OSAP_LBS_PATH_B);
    osap_lbs_client_free(cl);
}

/* Corrupt one byte of the server's answer number @p which at offset @p at. */
static int mangle_which, mangle_at;
static uint8_t mangle_xor;

static void mangle_byte(uint8_t *frame, size_t len, int step_no)
{
    if (step_no != mangle_which) return;
    size_t at = mangle_at < 0 ? len - (size_t)-mangle_at : (size_t)mangle_at;
    assert_true(at < len);
    frame[at] ^= mangle_xor;
}

static osap_err attempt_with(int path_c, int which, int at, uint8_t x)
{
    struct store sto = {0};
    osap_lbs_client_t *cl;
    strcpy(sto.sn, "DEV0002");
    strcpy(sto.dev.vcode, "123456");
    struct osap_lbs_client_config cfg = {.subserial = "DEV0002", .vcode = "123456"};
    assert_int_equal(osap_lbs_client_new(&cfg, &cl), OSAP_OK);
    if (path_c) assert_true(run_attempt(cl, &sto, NULL).done);
    mangle_which = which;
    mangle_at = at;
    mangle_xor = x;
    struct osap_lbs_step st = run_attempt(cl, &sto, mangle_byte);
    assert_true(st.close);
    assert_false(st.done);
    osap_lbs_client_free(cl);
    return st.err;
}

static void test_corrupted_answers(void **state)
{
    (void)state;
    /* 0x2: no 0x08 flag; another auth type; the tag; the encrypted key */
    assert_int_equal(attempt_with(0, 0, 0, 0x08), OSAP_ELBS_FLAGS);
    assert_int_equal(attempt_with(0, 0, 2, 0x03), OSAP_ELBS_AUTH_TYPE);
    assert_int_equal(attempt_with(0, 0, 7, 0x01), OSAP_ETAG);
    assert_int_equal(attempt_with(0, 0, -1, 0x01), OSAP_ETAG);
    /* 0x8: another type; the devid tag; the session key; the sign; a length byte */
    assert_int_equal(attempt_with(0, 1, 0, 0x40), OSAP_ELBS_TYPE);
    assert_int_equal(attempt_with(0, 1, 8, 0x01), OSAP_ETAG);
    assert_int_equal(attempt_with(0, 1, 3 + 4 + 16 + 1 + 32 + 16 + 1, 0x01), OSAP_ETAG);
    assert_int_equal(attempt_with(0, 1, -1, 0x01), OSAP_ELBS_SIGN);
    assert_int_equal(attempt_with(0, 1, 3 + 4 + 16, 0x01), OSAP_ELBS_DEVID_LEN);
    /* 0xB: the padding byte, through the second-last CBC block */
    assert_int_equal(attempt_with(0, 2, -17, 0x01), OSAP_EPADDING);
    /* path C 0x8: the padding of the block under the master key */
    assert_int_equal(attempt_with(1, 0, -17, 0x01), OSAP_EPADDING);
    assert_int_equal(attempt_with(1, 0, 0, 0x30), OSAP_ELBS_TYPE);
    /* a non-zero result anywhere ends the attempt with that result */
    assert_int_equal(attempt_with(0, 1, 6, 0x07), OSAP_ELBS_RESULT_DECRYPT);
}

/* Hand-built 0x8/0xB answers for checks the server never fails. */
static void test_hand_built_answers(void **state)
{
    (void)state;
    struct script rng = {.bytes = {0x5A, 0x5A}, .len = 2};
    struct osap_rng rng_if = {script_fill, &rng};
    const uint8_t *mk = (const uint8_t *)V_MK;
    struct osap_lbs_client_config cfg = {.subserial = V_SN,
                                         .vcode = "ABCDEF",
                                         .devid = (const uint8_t *)V_DEVID,
                                         .master_key = mk,
                                         .rng = &rng_if};
    osap_lbs_client_t *cl;
    struct osap_lbs_step st;
    uint8_t plain[18] = {0x5B, 0xA5}, block[32], frame[64];
    size_t n, flen;

    assert_int_equal(osap_lbs_client_new(&cfg, &cl), OSAP_OK);
    /* random_1 not echoed */
    assert_int_equal(osap_cbc_ez_encrypt(mk, plain, 18, block, sizeof(block), &n), OSAP_OK);
    struct osap_lbs_redirect_rsp r = {.version = {1, 1, 0}, .block = block};
    assert_int_equal(osap_lbs_redirect_rsp_encode(&r, frame, sizeof(frame), &flen), OSAP_OK);
    assert_int_equal(osap_lbs_client_begin(cl, &st), OSAP_OK);
    assert_int_equal(osap_lbs_client_feed(cl, frame, flen, &st), OSAP_OK);
    assert_int_equal(st.err, OSAP_ELBS_RANDOM);
    /* a block of the wrong plaintext length */
    plain[0] = 0x5A;
    assert_int_equal(osap_cbc_ez_encrypt(mk, plain, 17, block, sizeof(block), &n), OSAP_OK);
    assert_int_equal(osap_lbs_redirect_rsp_encode(&r, frame, sizeof(frame), &flen), OSAP_OK);
    assert_int_equal(osap_lbs_client_begin(cl, &st), OSAP_OK);
    assert_int_equal(osap_lbs_client_feed(cl, frame, flen, &st), OSAP_OK);
    assert_int_equal(st.err, OSAP_ELBS_FIELD);
    /* result 1 in path C: no share-key switch */
    const uint8_t e1[] = {0x80, 0x04, 1, 1, 0, 1};
    rng.pos = 0;
    assert_int_equal(osap_lbs_client_begin(cl, &st), OSAP_OK);
    assert_int_equal(osap_lbs_client_feed(cl, e1, sizeof(e1), &st), OSAP_OK);
    assert_false(st.retry_now);
    assert_int_equal(osap_lbs_client_share_key_case(cl), OSAP_LBS_CASE_UPPER);
    /* an incomplete frame or trailing bytes are caller errors */
    rng.pos = 0;
    assert_int_equal(osap_lbs_client_begin(cl, &st), OSAP_OK);
    assert_int_equal(osap_lbs_client_feed(cl, e1, 3, &st), OSAP_EINVAL);
    const uint8_t e1x[] = {0x80, 0x04, 1, 1, 0, 1, 0};
    assert_int_equal(osap_lbs_client_feed(cl, e1x, sizeof(e1x), &st), OSAP_EINVAL);
    /* the rng fails: no attempt */
    rng.pos = rng.len;
    assert_int_equal(osap_lbs_client_begin(cl, &st), OSAP_ERANDOM);
    assert_int_equal(osap_lbs_client_feed(cl, e1, sizeof(e1), &st), OSAP_ESTATE);
    osap_lbs_client_free(cl);
}

static void test_das_json_checks(void **state)
{
    (void)state;
    static const uint8_t sk[16] = "0123456789abcdef";
    const char *bad[] = {
        "{\"Type\":\"DAS\",\"DasInfo\":{\"Address\":\"a\",\"Port\":1,\"UdpPort\":2,"
        "\"Domain\":\"d\"}}",
        "{\"Type\":\"DAS\",\"DasInfo\":{\"Address\":1,\"Port\":1,\"UdpPort\":2,"
        "\"Domain\":\"d\",\"ServerID\":\"s\"}}",
        "{\"Type\":\"DAS\",\"DasInfo\":{\"Address\":\"a\",\"Port\":70000,\"UdpPort\":2,"
        "\"Domain\":\"d\",\"ServerID\":\"s\"}}",
        "{\"Type\":\"DAS\",\"DasInfo\":{\"Address\":\"a\",\"Port\":\"1\",\"UdpPort\":2,"
        "\"Domain\":\"d\",\"ServerID\":\"s\"}}",
        "{\"Type\":\"DAS\",\"DasInfo\":{\"Address\":\"0123456789012345678901234567890123456789"
        "012345678901234567890123\",\"Port\":1,\"UdpPort\":2,\"Domain\":\"d\","
        "\"ServerID\":\"s\"}}",
        "[1,2,3]",
        "{\"Type\":\"DAS\"",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        /* drive a path-C attempt whose 0x8 hands out sk, then answer with bad[i] */
        struct script rng = {.bytes = {7}, .len = 1};
        struct osap_rng rng_if = {script_fill, &rng};
        const uint8_t *mk = (const uint8_t *)V_MK;
        struct osap_lbs_client_config cfg = {.subserial = V_SN,
                                             .vcode = "x",
                                             .devid = (const uint8_t *)V_DEVID,
                                             .master_key = mk,
                                             .rng = &rng_if};
        osap_lbs_client_t *cl;
        struct osap_lbs_step st;
        uint8_t plain[18] = {7, 9}, block[32], frame[512], ct[400];
        size_t n, flen;
        memcpy(plain + 2, sk, 16);
        assert_int_equal(osap_lbs_client_new(&cfg, &cl), OSAP_OK);
        assert_int_equal(osap_lbs_client_begin(cl, &st), OSAP_OK);
        assert_int_equal(osap_cbc_ez_encrypt(mk, plain, 18, block, 32, &n), OSAP_OK);
        struct osap_lbs_redirect_rsp r = {.version = {1, 1, 0}, .block = block};
        assert_int_equal(osap_lbs_redirect_rsp_encode(&r, frame, sizeof(frame), &flen), OSAP_OK);
        assert_int_equal(osap_lbs_client_feed(cl, frame, flen, &st), OSAP_OK);
        assert_false(st.close);
        assert_int_equal(
            osap_cbc_ez_encrypt(sk, (const uint8_t *)bad[i], strlen(bad[i]), ct, sizeof(ct), &n),
            OSAP_OK);
        struct osap_lbs_data_rsp d = {.version = {1, 1, 0}, .ciphertext = ct, .ciphertext_len = n};
        assert_int_equal(osap_lbs_data_rsp_encode(&d, frame, sizeof(frame), &flen), OSAP_OK);
        assert_int_equal(osap_lbs_client_feed(cl, frame, flen, &st), OSAP_OK);
        assert_int_equal(st.err, OSAP_EDAS_JSON);
        assert_false(st.done);
        /* nothing adopted: still path C with the old state */
        assert_int_equal(osap_lbs_client_path(cl), OSAP_LBS_PATH_C);
        osap_lbs_client_free(cl);
    }
}

static void test_config_checks(void **state)
{
    (void)state;
    osap_lbs_client_t *cl;
    char longsn[OSAP_SUBSERIAL_MAX + 2];
    memset(longsn, 'S', sizeof(longsn) - 1);
    longsn[sizeof(longsn) - 1] = '\0';
    struct osap_lbs_client_config cfg = {.subserial = longsn, .vcode = "x"};
    assert_int_equal(osap_lbs_client_new(&cfg, &cl), OSAP_EINVAL);
    cfg.subserial = "";
    assert_int_equal(osap_lbs_client_new(&cfg, &cl), OSAP_EINVAL);
    cfg.subserial = "S";
    cfg.auth_mode = 2;
    assert_int_equal(osap_lbs_client_new(&cfg, &cl), OSAP_EINVAL);
    cfg.auth_mode = 1;
    cfg.vcode = "0123456789012345678901234567890123";
    assert_int_equal(osap_lbs_client_new(&cfg, &cl), OSAP_EINVAL);
    cfg.vcode = NULL;
    assert_int_equal(osap_lbs_client_new(&cfg, &cl), OSAP_EINVAL);
    struct osap_lbs_client_ecdh half = {key_public, NULL, NULL};
    cfg.vcode = "x";
    cfg.ecdh = &half;
    assert_int_equal(osap_lbs_client_new(&cfg, &cl), OSAP_EINVAL);
    osap_lbs_client_free(NULL);
    assert_int_equal(osap_lbs_client_path(NULL), OSAP_LBS_PATH_NONE);
}

/* Fail every allocation in turn during the vectors' path A. */
static void test_allocation_failures(void **state)
{
    (void)state;
    size_t len, n[6];
    char *text = test_read_data("vectors/vectors.txt", &len);
    const char *names[] = {"Msg 0x1 ",  "Msg 0x2 ", "Msg 0x7 apply",
                           "Msg 0x8 (", "Msg 0xA ", "Msg 0xB "};
    uint8_t *msg[6];
    for (int i = 0; i < 6; i++)
        msg[i] = vector_msg(text, names[i], &n[i]);
    uint8_t priv[OSAP_P384_SECRET_LEN] = {0};
    osap_p384_key *key;
    memset(priv + 28, 0x11, 20);
    assert_int_equal(osap_p384_from_private(priv, &key), OSAP_OK);
    struct osap_lbs_client_ecdh ecdh = {key_public, key_master, key};
    struct osap_lbs_client_config cfg = {.subserial = V_SN, .vcode = "ABCDEF", .ecdh = &ecdh};
    int completed = 0;

    test_alloc_install();
    for (long k = 0; k < 200 && !completed; k++) {
        osap_lbs_client_t *cl = NULL;
        struct osap_lbs_step st;
        test_alloc_fail_after(k);
        osap_err err = osap_lbs_client_new(&cfg, &cl);
        if (err) {
            assert_int_equal(err, OSAP_ENOMEM);
            continue;
        }
        assert_int_equal(osap_lbs_client_begin(cl, &st), OSAP_OK);
        for (int i = 1; i < 6; i += 2) {
            assert_int_equal(osap_lbs_client_feed(cl, msg[i], n[i], &st), OSAP_OK);
            if (st.close) break;
            assert_bytes_equal(st.out, st.out_len, msg[i + 1], n[i + 1]);
        }
        assert_true(st.close);
        if (test_alloc_count() <= k) {
            assert_true(st.done);
            completed = 1;
        } else if (!st.done) {
            assert_true(st.err == OSAP_ENOMEM || st.err == OSAP_EDAS_JSON);
        }
        osap_lbs_client_free(cl);
    }
    test_alloc_reset();
    osap_set_allocator(NULL);
    assert_true(completed);
    osap_p384_free(key);
    for (int i = 0; i < 6; i++)
        free(msg[i]);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_captures),     cmocka_unit_test(test_share_key_retry),
        cmocka_unit_test(test_replay_vectors),      cmocka_unit_test(test_against_server),
        cmocka_unit_test(test_corrupted_answers),   cmocka_unit_test(test_hand_built_answers),
        cmocka_unit_test(test_das_json_checks),     cmocka_unit_test(test_config_checks),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
