/*
 * LBS codec: every LBS message of the golden captures and of the test vectors
 * decodes to its recorded fields and re-encodes to the same bytes; every prefix
 * needs more; every corruption is a clean error or a decode that re-encodes to
 * the corrupted bytes; lengths and limits are enforced.
 */
#include "testutil.h"
#include "test_lbs_capture.h"

#include "osap/lbs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum variant {
    V_AUTH_REQ,
    V_AUTH_RSP,
    V_DEVID_REQ,
    V_KEYS_RSP,
    V_REFRESH_REQ,
    V_REDIRECT_REQ,
    V_REDIRECT_RSP,
    V_REDIRECT_CFM,
    V_DATA_REQ,
    V_DATA_RSP,
    V_COUNT
};

union msg {
    struct osap_lbs_auth_req auth_req;
    struct osap_lbs_auth_rsp auth_rsp;
    struct osap_lbs_devid_req devid_req;
    struct osap_lbs_keys_rsp keys_rsp;
    struct osap_lbs_refresh_req refresh_req;
    struct osap_lbs_redirect_req redirect_req;
    struct osap_lbs_redirect_rsp redirect_rsp;
    struct osap_lbs_redirect_cfm redirect_cfm;
    struct osap_lbs_data_req data_req;
    struct osap_lbs_data_rsp data_rsp;
};

static osap_err decode_as(enum variant v, const struct osap_lbs_frame *f, union msg *m)
{
    switch (v) {
    case V_AUTH_REQ: return osap_lbs_auth_req_decode(f, &m->auth_req);
    case V_AUTH_RSP: return osap_lbs_auth_rsp_decode(f, &m->auth_rsp);
    case V_DEVID_REQ: return osap_lbs_devid_req_decode(f, &m->devid_req);
    case V_KEYS_RSP: return osap_lbs_keys_rsp_decode(f, &m->keys_rsp);
    case V_REFRESH_REQ: return osap_lbs_refresh_req_decode(f, &m->refresh_req);
    case V_REDIRECT_REQ: return osap_lbs_redirect_req_decode(f, &m->redirect_req);
    case V_REDIRECT_RSP: return osap_lbs_redirect_rsp_decode(f, &m->redirect_rsp);
    case V_REDIRECT_CFM: return osap_lbs_redirect_cfm_decode(f, &m->redirect_cfm);
    case V_DATA_REQ: return osap_lbs_data_req_decode(f, &m->data_req);
    case V_DATA_RSP: return osap_lbs_data_rsp_decode(f, &m->data_rsp);
    default: return OSAP_EINVAL;
    }
}

static osap_err encode_as(enum variant v, const union msg *m, uint8_t *out, size_t cap, size_t *len)
{
    switch (v) {
    case V_AUTH_REQ: return osap_lbs_auth_req_encode(&m->auth_req, out, cap, len);
    case V_AUTH_RSP: return osap_lbs_auth_rsp_encode(&m->auth_rsp, out, cap, len);
    case V_DEVID_REQ: return osap_lbs_devid_req_encode(&m->devid_req, out, cap, len);
    case V_KEYS_RSP: return osap_lbs_keys_rsp_encode(&m->keys_rsp, out, cap, len);
    case V_REFRESH_REQ: return osap_lbs_refresh_req_encode(&m->refresh_req, out, cap, len);
    case V_REDIRECT_REQ: return osap_lbs_redirect_req_encode(&m->redirect_req, out, cap, len);
    case V_REDIRECT_RSP: return osap_lbs_redirect_rsp_encode(&m->redirect_rsp, out, cap, len);
    case V_REDIRECT_CFM: return osap_lbs_redirect_cfm_encode(&m->redirect_cfm, out, cap, len);
    case V_DATA_REQ: return osap_lbs_data_req_encode(&m->data_req, out, cap, len);
    case V_DATA_RSP: return osap_lbs_data_rsp_encode(&m->data_rsp, out, cap, len);
    default: return OSAP_EINVAL;
    }
}

/* Which layout a whole message has: the type, and for 0x7/0x8 the path. */
static enum variant variant_of(const uint8_t *b, size_t len, int path_c)
{
    assert_true(len > 0);
    switch (b[0] >> 4) {
    case 0x1: return V_AUTH_REQ;
    case 0x2: return V_AUTH_RSP;
    case 0x4: return V_REFRESH_REQ;
    case 0x6: return V_KEYS_RSP;
    case 0x7: return path_c ? V_REDIRECT_REQ : V_DEVID_REQ;
    case 0x8: return path_c ? V_REDIRECT_RSP : V_KEYS_RSP;
    case 0x9: return V_REDIRECT_CFM;
    case 0xA: return V_DATA_REQ;
    case 0xB: return V_DATA_RSP;
    default: fail_msg("no layout for first byte 0x%02x", b[0]);
    }
    return V_COUNT;
}

static int kind_is_path_c(const char *kind)
{
    return strstr(kind, "path C") != NULL;
}

/* Decode @p b as a whole frame of layout @p v and re-encode it; returns the decode
 * error. On success the re-encoding must equal @p b except for the flags nibble,
 * which encoders always write in canonical form. */
static osap_err round_trip(enum variant v, const uint8_t *b, size_t len)
{
    struct osap_lbs_frame f;
    union msg m;
    uint8_t out[1024];
    size_t olen = 0;
    osap_err err = osap_lbs_frame_decode(b, len, 0, &f);

    if (err) return err;
    if (f.frame_len != len) return OSAP_ETRAILING;
    err = decode_as(v, &f, &m);
    if (err) return err;
    assert_int_equal(encode_as(v, &m, out, sizeof(out), &olen), OSAP_OK);
    assert_int_equal(olen, len);
    assert_int_equal(out[0] >> 4, b[0] >> 4);
    assert_bytes_equal(out + 1, olen - 1, b + 1, len - 1);
    return OSAP_OK;
}

static void check_frame_fields(const struct osap_lbs_frame *f, const cJSON *fields)
{
    unsigned byte0, flags;
    assert_int_equal(sscanf(golden_str(fields, "byte0"), "0x%x", &byte0), 1);
    assert_int_equal(sscanf(golden_str(fields, "flags"), "0x%x", &flags), 1);
    assert_int_equal(f->byte0, byte0);
    assert_int_equal(f->type, golden_int(fields, "type"));
    assert_int_equal(f->flags, flags);
    assert_int_equal(f->remaining, golden_int(fields, "remaining_length"));
    cap_assert_hex(fields, "version_hex", f->version, OSAP_LBS_VERSION_LEN);
    if (f->type == OSAP_LBS_AUTH_I) {
        assert_true(f->has_var_header);
        assert_int_equal(f->auth_type, golden_int(fields, "cur_auth_type"));
        assert_int_equal(f->auth_type_count, golden_int(fields, "auth_type_count"));
        const cJSON *types = golden_get(fields, "auth_types"), *t;
        int i = 0;
        cJSON_ArrayForEach(t, types) assert_int_equal(f->auth_types[i++], t->valueint);
        assert_int_equal(i, f->auth_type_count);
    } else if (f->type == OSAP_LBS_AUTH_II) {
        assert_true(f->has_var_header);
        assert_int_equal(f->auth_type, golden_int(fields, "chosen_auth_type"));
    } else {
        assert_false(f->has_var_header);
    }
    if (cJSON_GetObjectItemCaseSensitive(fields, "result")) {
        assert_true(f->has_result);
        assert_int_equal(f->result, golden_int(fields, "result"));
    } else {
        assert_false(f->has_result);
    }
}

static void check_text(const cJSON *fields, const char *name, const void *got, size_t n)
{
    const char *want = golden_str(fields, name);
    assert_int_equal(strlen(want), n);
    assert_memory_equal(got, want, n);
}

static void check_msg_fields(enum variant v, const union msg *m, const cJSON *fields)
{
    switch (v) {
    case V_AUTH_REQ:
        assert_int_equal(m->auth_req.auth_mode, golden_int(fields, "auth_mode"));
        assert_int_equal(m->auth_req.subserial_len, golden_int(fields, "subserial_len"));
        check_text(fields, "subserial", m->auth_req.subserial, m->auth_req.subserial_len);
        cap_assert_hex(fields, "gcm_tag_hex", m->auth_req.tag, OSAP_GCM_TAG_LEN);
        cap_assert_hex(fields, "encrypted_pubkey_hex", m->auth_req.enc_pubkey,
                       OSAP_P384_PUBKEY_LEN);
        break;
    case V_AUTH_RSP:
        if (m->auth_rsp.result == 0) {
            cap_assert_hex(fields, "gcm_tag_hex", m->auth_rsp.tag, OSAP_GCM_TAG_LEN);
            cap_assert_hex(fields, "encrypted_pubkey_hex", m->auth_rsp.enc_pubkey,
                           OSAP_P384_PUBKEY_LEN);
        } else {
            assert_null(m->auth_rsp.tag);
        }
        break;
    case V_DEVID_REQ: cap_assert_hex(fields, "sign_hex", m->devid_req.sign, OSAP_SIGN_LEN); break;
    case V_KEYS_RSP:
        cap_assert_hex(fields, "devid_gcm_tag_hex", m->keys_rsp.devid_tag, OSAP_GCM_TAG_LEN);
        assert_int_equal(golden_int(fields, "devid_len"), OSAP_DEVID_LEN);
        cap_assert_hex(fields, "encrypted_devid_hex", m->keys_rsp.enc_devid, OSAP_DEVID_LEN);
        cap_assert_hex(fields, "session_key_gcm_tag_hex", m->keys_rsp.session_key_tag,
                       OSAP_GCM_TAG_LEN);
        assert_int_equal(golden_int(fields, "session_key_len"), OSAP_SESSION_KEY_LEN);
        cap_assert_hex(fields, "encrypted_session_key_hex", m->keys_rsp.enc_session_key,
                       OSAP_SESSION_KEY_LEN);
        cap_assert_hex(fields, "sign_hex", m->keys_rsp.sign, OSAP_SIGN_LEN);
        break;
    case V_REFRESH_REQ:
        assert_int_equal(golden_int(fields, "devid_len"), OSAP_DEVID_LEN);
        check_text(fields, "devid", m->refresh_req.devid, OSAP_DEVID_LEN);
        cap_assert_hex(fields, "sign_hex", m->refresh_req.sign, OSAP_SIGN_LEN);
        break;
    case V_REDIRECT_REQ:
        assert_int_equal(m->redirect_req.subserial_len, golden_int(fields, "subserial_len"));
        check_text(fields, "subserial", m->redirect_req.subserial, m->redirect_req.subserial_len);
        assert_int_equal(golden_int(fields, "devid_len"), OSAP_DEVID_LEN);
        check_text(fields, "devid", m->redirect_req.devid, OSAP_DEVID_LEN);
        cap_assert_hex(fields, "encrypted_random_1_hex", m->redirect_req.enc_random,
                       OSAP_LBS_RANDOM_BLOCK_LEN);
        break;
    case V_REDIRECT_RSP:
        cap_assert_hex(fields, "ciphertext_hex", m->redirect_rsp.block,
                       OSAP_LBS_REDIRECT_BLOCK_LEN);
        break;
    case V_REDIRECT_CFM:
        cap_assert_hex(fields, "encrypted_random_2_hex", m->redirect_cfm.enc_random,
                       OSAP_LBS_RANDOM_BLOCK_LEN);
        break;
    case V_DATA_REQ:
        cap_assert_hex(fields, "ciphertext_hex", m->data_req.ciphertext,
                       m->data_req.ciphertext_len);
        break;
    case V_DATA_RSP:
        cap_assert_hex(fields, "ciphertext_hex", m->data_rsp.ciphertext,
                       m->data_rsp.ciphertext_len);
        break;
    default: fail();
    }
}

/* Every LBS message of every capture: fields and byte-exact re-encoding. */
static void test_captures_decode_and_reencode(void **state)
{
    (void)state;
    size_t total = 0;
    for (size_t i = 0; i < GOLDEN_NFILES; i++) {
        struct capture c;
        cap_load(&c, golden_files[i]);
        for (size_t k = 0; k < c.n; k++) {
            const struct cap_msg *cm = &c.msgs[k];
            struct osap_lbs_frame f;
            union msg m;
            uint8_t out[1024];
            size_t flen = 0, olen = 0;
            enum variant v = variant_of(cm->bytes, cm->len, kind_is_path_c(cm->kind));

            assert_int_equal(osap_lbs_frame_length(cm->bytes, cm->len, 0, &flen), OSAP_OK);
            assert_int_equal(flen, cm->len);
            assert_int_equal(osap_lbs_frame_decode(cm->bytes, cm->len, 0, &f), OSAP_OK);
            assert_int_equal(f.frame_len, cm->len);
            check_frame_fields(&f, cm->fields);
            assert_int_equal(decode_as(v, &f, &m), OSAP_OK);
            check_msg_fields(v, &m, cm->fields);
            assert_int_equal(encode_as(v, &m, out, sizeof(out), &olen), OSAP_OK);
            assert_bytes_equal(out, olen, cm->bytes, cm->len);
            /* A buffer one byte short is refused and left untouched. */
            memset(out, 0xEE, sizeof(out));
            assert_int_equal(encode_as(v, &m, out, cm->len - 1, &olen), OSAP_EBUFSIZE);
            assert_int_equal(out[0], 0xEE);
            total++;
        }
        cap_free(&c);
    }
    assert_true(total >= 60);
}

/* Every strict prefix of every captured message needs more bytes. */
static void test_captures_prefixes_need_more(void **state)
{
    (void)state;
    for (size_t i = 0; i < GOLDEN_NFILES; i++) {
        struct capture c;
        cap_load(&c, golden_files[i]);
        for (size_t k = 0; k < c.n; k++) {
            const struct cap_msg *cm = &c.msgs[k];
            for (size_t n = 0; n < cm->len; n++) {
                uint8_t *p = malloc(n ? n : 1);
                struct osap_lbs_frame f;
                size_t flen;
                assert_non_null(p);
                memcpy(p, cm->bytes, n);
                assert_int_equal(osap_lbs_frame_length(p, n, 0, &flen), OSAP_ENEED_MORE);
                assert_int_equal(osap_lbs_frame_decode(p, n, 0, &f), OSAP_ENEED_MORE);
                free(p);
            }
        }
        cap_free(&c);
    }
}

/* Every byte of every captured message, corrupted in several ways: each layout's
 * decoder returns a clean error or a decode that re-encodes to the same bytes. */
static void test_captures_corruption(void **state)
{
    (void)state;
    static const uint8_t xors[] = {0x01, 0x02, 0x08, 0x10, 0x40, 0x80, 0xFF};
    size_t decoded = 0, rejected = 0;
    for (size_t i = 0; i < GOLDEN_NFILES; i++) {
        struct capture c;
        cap_load(&c, golden_files[i]);
        for (size_t k = 0; k < c.n; k++) {
            const struct cap_msg *cm = &c.msgs[k];
            for (size_t pos = 0; pos < cm->len; pos++) {
                for (size_t x = 0; x < sizeof(xors); x++) {
                    uint8_t *p = malloc(cm->len);
                    assert_non_null(p);
                    memcpy(p, cm->bytes, cm->len);
                    p[pos] ^= xors[x];
                    for (int v = 0; v < V_COUNT; v++) {
                        osap_err err = round_trip((enum variant)v, p, cm->len);
                        if (err == OSAP_OK)
                            decoded++;
                        else
                            rejected++;
                        assert_true(err == OSAP_OK || err == OSAP_ENEED_MORE || err >= 4);
                    }
                    free(p);
                }
            }
        }
        cap_free(&c);
    }
    print_message("corruption: %zu decodes, %zu rejections\n", decoded, rejected);
    assert_true(decoded > 0 && rejected > 0);
}

/* A length byte corrupted in place gives the specific error of that field. */
static void test_specific_field_errors(void **state)
{
    (void)state;
    struct capture c;
    cap_load(&c, "captures/sap_a_first_start.json");
    for (size_t k = 0; k < c.n; k++) {
        struct cap_msg *cm = &c.msgs[k];
        uint8_t *p = malloc(cm->len);
        assert_non_null(p);
        memcpy(p, cm->bytes, cm->len);
        switch (cm->bytes[0]) {
        case 0x1A:
            /* byte 2+3 is the group count: 17 entries is too many */
            p[4] = 17;
            assert_int_equal(round_trip(V_AUTH_REQ, p, cm->len), OSAP_ELBS_VAR_HEADER);
            memcpy(p, cm->bytes, cm->len);
            p[10] = 0; /* subserial length 0 */
            assert_int_equal(round_trip(V_AUTH_REQ, p, cm->len), OSAP_ELBS_SUBSERIAL);
            memcpy(p, cm->bytes, cm->len);
            p[11] = 0; /* a NUL inside the subserial */
            assert_int_equal(round_trip(V_AUTH_REQ, p, cm->len), OSAP_ELBS_SUBSERIAL);
            memcpy(p, cm->bytes, cm->len);
            p[10] = 10; /* subserial one longer: the key ends short */
            assert_int_equal(round_trip(V_AUTH_REQ, p, cm->len), OSAP_ELBS_LENGTH);
            memcpy(p, cm->bytes, cm->len);
            p[10] = 8; /* one shorter: one byte left over */
            assert_int_equal(round_trip(V_AUTH_REQ, p, cm->len), OSAP_ETRAILING);
            memcpy(p, cm->bytes, cm->len);
            p[0] = 0x10; /* neither 0x08 nor 0x02: no variable header */
            assert_int_equal(round_trip(V_AUTH_REQ, p, cm->len), OSAP_ELBS_FLAGS);
            p[0] = 0x12; /* the draft's bit alone is accepted */
            assert_int_equal(round_trip(V_AUTH_REQ, p, cm->len), OSAP_OK);
            p[0] = 0x18;
            assert_int_equal(round_trip(V_AUTH_REQ, p, cm->len), OSAP_OK);
            break;
        case 0x2A:
            p[0] = 0x22; /* the device requires 0x08 on 0x2 */
            assert_int_equal(round_trip(V_AUTH_RSP, p, cm->len), OSAP_ELBS_FLAGS);
            p[0] = 0x28;
            assert_int_equal(round_trip(V_AUTH_RSP, p, cm->len), OSAP_OK);
            memcpy(p, cm->bytes, cm->len);
            p[6] = 3; /* a non-zero result ends the frame: the rest is trailing */
            assert_int_equal(round_trip(V_AUTH_RSP, p, cm->len), OSAP_ETRAILING);
            break;
        case 0x72:
            assert_int_equal(round_trip(V_DEVID_REQ, p, cm->len), OSAP_OK);
            /* the same bytes are no path-C 0x7 */
            assert_int_not_equal(round_trip(V_REDIRECT_REQ, p, cm->len), OSAP_OK);
            break;
        case 0x82:
            /* 82 86 01 | 01 01 00 | 00 | tag[16] | 0x20 | ... */
            p[3 + 4 + 16] = 31;
            assert_int_equal(round_trip(V_KEYS_RSP, p, cm->len), OSAP_ELBS_DEVID_LEN);
            memcpy(p, cm->bytes, cm->len);
            p[3 + 4 + 16 + 1 + 32 + 16] = 17;
            assert_int_equal(round_trip(V_KEYS_RSP, p, cm->len), OSAP_ELBS_SESSION_KEY_LEN);
            memcpy(p, cm->bytes, cm->len);
            p[0] = 0x92;
            assert_int_equal(round_trip(V_KEYS_RSP, p, cm->len), OSAP_ELBS_TYPE);
            p[0] = 0x32;
            assert_int_equal(round_trip(V_KEYS_RSP, p, cm->len), OSAP_ELBS_TYPE);
            break;
        default: break;
        }
        free(p);
    }
    cap_free(&c);
}

/* Rebuild a frame from @p b with its body shortened by @p cut bytes (or extended
 * by one zero byte when cut is -1) and a correct remaining length. */
static uint8_t *reframe(const uint8_t *b, size_t len, long cut, size_t *out_len)
{
    struct osap_lbs_frame f;
    uint8_t hdr[OSAP_LBS_HEADER_MAX];
    size_t hlen;
    assert_int_equal(osap_lbs_frame_decode(b, len, 0, &f), OSAP_OK);
    size_t body = (size_t)((long)f.remaining - cut);
    assert_int_equal(osap_lbs_header_encode(b[0], body, hdr, &hlen), OSAP_OK);
    uint8_t *p = calloc(1, hlen + body);
    assert_non_null(p);
    memcpy(p, hdr, hlen);
    memcpy(p + hlen, b + f.header_len, body < f.remaining ? body : f.remaining);
    *out_len = hlen + body;
    return p;
}

/* Truncated fields and one extra byte, with a consistent remaining length. */
static void test_truncated_and_extended(void **state)
{
    (void)state;
    for (size_t i = 0; i < GOLDEN_NFILES; i++) {
        struct capture c;
        cap_load(&c, golden_files[i]);
        for (size_t k = 0; k < c.n; k++) {
            const struct cap_msg *cm = &c.msgs[k];
            enum variant v = variant_of(cm->bytes, cm->len, kind_is_path_c(cm->kind));
            struct osap_lbs_frame f;
            assert_int_equal(osap_lbs_frame_decode(cm->bytes, cm->len, 0, &f), OSAP_OK);
            for (long cut = -1; cut <= (long)f.remaining; cut++) {
                if (cut == 0) continue;
                size_t n;
                uint8_t *p = reframe(cm->bytes, cm->len, cut, &n);
                osap_err err = round_trip(v, p, n);
                int data = (v == V_DATA_REQ || v == V_DATA_RSP);
                if (data && cut > 0 && cut % 16 == 0 && (size_t)cut < f.payload_len) {
                    /* a shorter CBC body is still a well-formed 0xA/0xB */
                    assert_int_equal(err, OSAP_OK);
                } else {
                    assert_int_not_equal(err, OSAP_OK);
                }
                if (cut == -1) {
                    switch (v) {
                    case V_AUTH_REQ: assert_int_equal(err, OSAP_ETRAILING); break;
                    case V_DEVID_REQ:
                    case V_REFRESH_REQ: assert_int_equal(err, OSAP_ELBS_SIGN_LEN); break;
                    case V_KEYS_RSP:
                        assert_int_equal(err, f.result ? OSAP_ETRAILING : OSAP_ELBS_SIGN_LEN);
                        break;
                    case V_REDIRECT_REQ:
                    case V_REDIRECT_CFM:
                    case V_DATA_REQ: assert_int_equal(err, OSAP_ELBS_CIPHERTEXT_LEN); break;
                    default: break;
                    }
                }
                if (cut == 1 &&
                    (v == V_DEVID_REQ || v == V_REFRESH_REQ || (v == V_KEYS_RSP && !f.result)))
                    assert_int_equal(err, OSAP_ELBS_SIGN_LEN);
                if (cut == (long)f.remaining) assert_int_equal(err, OSAP_ELBS_LENGTH);
                free(p);
            }
        }
        cap_free(&c);
    }
}

static void test_remaining_length_rules(void **state)
{
    (void)state;
    size_t flen;
    struct osap_lbs_frame f;
    /* five length bytes: the fourth has its continuation bit set */
    const uint8_t five[] = {0xA0, 0x80, 0x80, 0x80, 0x80, 0x01};
    assert_int_equal(osap_lbs_frame_length(five, sizeof(five), OSAP_LBS_REMLEN_MAX + 10, &flen),
                     OSAP_ELBS_REMLEN);
    /* known after four bytes, even before the fifth arrives */
    assert_int_equal(osap_lbs_frame_length(five, 5, OSAP_LBS_REMLEN_MAX + 10, &flen),
                     OSAP_ELBS_REMLEN);
    /* non-minimal: 0x80 0x00 */
    const uint8_t nonmin[] = {0xA0, 0x83, 0x00, 1, 1, 0};
    assert_int_equal(osap_lbs_frame_length(nonmin, sizeof(nonmin), 0, &flen), OSAP_ELBS_REMLEN);
    /* maximum four-byte length, with a large enough limit: need more */
    const uint8_t max4[] = {0xA0, 0xFF, 0xFF, 0xFF, 0x7F};
    assert_int_equal(
        osap_lbs_frame_length(max4, sizeof(max4), (size_t)OSAP_LBS_REMLEN_MAX + 5, &flen),
        OSAP_ENEED_MORE);
    /* ... and too big for the default limit, known from the second length byte:
     * FF FF with a continuation means at least 16383 + 16384 more bytes */
    assert_int_equal(osap_lbs_frame_length(max4, 2, 0, &flen), OSAP_ENEED_MORE);
    assert_int_equal(osap_lbs_frame_length(max4, 3, 0, &flen), OSAP_ETOOBIG);
    /* a limit: 3 + 130 = 133 bytes; 132 is too small, 133 fits */
    const uint8_t hdr130[] = {0x1A, 0x82, 0x01};
    assert_int_equal(osap_lbs_frame_length(hdr130, 3, 132, &flen), OSAP_ETOOBIG);
    assert_int_equal(osap_lbs_frame_length(hdr130, 3, 133, &flen), OSAP_ENEED_MORE);
    /* the continuation of 0x82 alone proves at least 1 + 2 + 2 + 128 = 133 bytes */
    assert_int_equal(osap_lbs_frame_length(hdr130, 2, 132, &flen), OSAP_ETOOBIG);
    assert_int_equal(osap_lbs_frame_length(hdr130, 2, 133, &flen), OSAP_ENEED_MORE);
    /* header encoding of every length class */
    const size_t lens[] = {0, 127, 128, 16383, 16384, 2097151, 2097152, OSAP_LBS_REMLEN_MAX};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        uint8_t h[OSAP_LBS_HEADER_MAX];
        size_t hl;
        assert_int_equal(osap_lbs_header_encode(0xA0, lens[i], h, &hl), OSAP_OK);
        assert_int_equal(hl, 2 + (lens[i] >= 128) + (lens[i] >= 16384) + (lens[i] >= 2097152));
        /* the decoder agrees on the length */
        assert_int_equal(osap_lbs_frame_length(h, hl, (size_t)OSAP_LBS_REMLEN_MAX + 5, &flen),
                         lens[i] ? OSAP_ENEED_MORE : OSAP_OK);
    }
    uint8_t h[OSAP_LBS_HEADER_MAX];
    size_t hl;
    assert_int_equal(osap_lbs_header_encode(0xA0, (size_t)OSAP_LBS_REMLEN_MAX + 1, h, &hl),
                     OSAP_EINVAL);
    /* reserved types */
    const uint8_t t0[] = {0x00, 0x03, 1, 1, 0}, t3[] = {0x30, 0x03, 1, 1, 0},
                  t5[] = {0x52, 0x03, 1, 1, 0};
    assert_int_equal(osap_lbs_frame_decode(t0, sizeof(t0), 0, &f), OSAP_ELBS_TYPE);
    assert_int_equal(osap_lbs_frame_decode(t3, sizeof(t3), 0, &f), OSAP_ELBS_TYPE);
    assert_int_equal(osap_lbs_frame_decode(t5, sizeof(t5), 0, &f), OSAP_ELBS_TYPE);
    /* too short for the version, the result, the variable header */
    const uint8_t shortv[] = {0xA0, 0x02, 1, 1}, shortr[] = {0xB0, 0x03, 1, 1, 0},
                  shortvh[] = {0x1A, 0x01, 1}, shortg[] = {0x1A, 0x03, 1, 2, 1};
    assert_int_equal(osap_lbs_frame_decode(shortv, sizeof(shortv), 0, &f), OSAP_ELBS_LENGTH);
    assert_int_equal(osap_lbs_frame_decode(shortr, sizeof(shortr), 0, &f), OSAP_ELBS_LENGTH);
    assert_int_equal(osap_lbs_frame_decode(shortvh, sizeof(shortvh), 0, &f), OSAP_ELBS_LENGTH);
    assert_int_equal(osap_lbs_frame_decode(shortg, sizeof(shortg), 0, &f), OSAP_ELBS_LENGTH);
    /* decoding stops at the end of the frame; later bytes are the next frame */
    const uint8_t two[] = {0x90, 0x13, 1, 1,  0,  1,  2,  3,  4,  5,  6,
                           7,    8,    9, 10, 11, 12, 13, 14, 15, 16, 0xA0};
    assert_int_equal(osap_lbs_frame_decode(two, sizeof(two), 0, &f), OSAP_OK);
    assert_int_equal(f.frame_len, 21);
    assert_int_equal(f.payload_len, 16);
}

static void test_error_answers(void **state)
{
    (void)state;
    uint8_t out[16];
    size_t n;
    size_t want_len;
    uint8_t *want;

    want = test_hex("2a 05 01 01 01 00 01", &want_len);
    assert_int_equal(osap_lbs_error_encode(OSAP_LBS_AUTH_II, 0, 1, 1, out, sizeof(out), &n),
                     OSAP_OK);
    assert_bytes_equal(out, n, want, want_len);
    /* the same through the message encoder */
    struct osap_lbs_auth_rsp a = {.auth_type = 1, .version = {1, 1, 0}, .result = 1};
    assert_int_equal(osap_lbs_auth_rsp_encode(&a, out, sizeof(out), &n), OSAP_OK);
    assert_bytes_equal(out, n, want, want_len);
    test_free_buf(want);

    const struct {
        uint8_t type;
        int old;
        uint8_t result;
        const char *hex;
    } cases[] = {
        {OSAP_LBS_REFRESH_SK_RSP, 0, 14, "62 04 01 01 00 0e"},
        {OSAP_LBS_RESPONSE_DEVID, 0, 19, "82 04 01 01 00 13"},
        {OSAP_LBS_RESPONSE_DEVID, 1, 4, "80 04 01 01 00 04"},
        {OSAP_LBS_CRYPTO_DATA_RSP, 0, 13, "b0 04 01 01 00 0d"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        want = test_hex(cases[i].hex, &want_len);
        assert_int_equal(osap_lbs_error_encode(cases[i].type, cases[i].old, 1, cases[i].result, out,
                                               sizeof(out), &n),
                         OSAP_OK);
        assert_bytes_equal(out, n, want, want_len);
        test_free_buf(want);
    }
    assert_int_equal(osap_lbs_error_encode(OSAP_LBS_AUTH_I, 0, 1, 1, out, sizeof(out), &n),
                     OSAP_EINVAL);
    assert_int_equal(osap_lbs_error_encode(OSAP_LBS_AUTH_II, 0, 1, 0, out, sizeof(out), &n),
                     OSAP_EINVAL);
    assert_int_equal(osap_lbs_error_encode(OSAP_LBS_AUTH_II, 0, 1, 1, out, 6, &n), OSAP_EBUFSIZE);
    /* decoders read error answers with nothing after the result */
    struct osap_lbs_frame f;
    const uint8_t e8[] = {0x82, 0x04, 1, 1, 0, 19}, e80[] = {0x80, 0x04, 1, 1, 0, 4},
                  eb[] = {0xB0, 0x04, 1, 1, 0, 13};
    struct osap_lbs_keys_rsp k;
    struct osap_lbs_redirect_rsp r;
    struct osap_lbs_data_rsp d;
    assert_int_equal(osap_lbs_frame_decode(e8, sizeof(e8), 0, &f), OSAP_OK);
    assert_int_equal(osap_lbs_keys_rsp_decode(&f, &k), OSAP_OK);
    assert_int_equal(k.result, 19);
    assert_null(k.sign);
    assert_int_equal(osap_lbs_frame_decode(e80, sizeof(e80), 0, &f), OSAP_OK);
    assert_int_equal(osap_lbs_redirect_rsp_decode(&f, &r), OSAP_OK);
    assert_int_equal(r.result, 4);
    assert_int_equal(osap_lbs_frame_decode(eb, sizeof(eb), 0, &f), OSAP_OK);
    assert_int_equal(osap_lbs_data_rsp_decode(&f, &d), OSAP_OK);
    assert_int_equal(d.result, 13);
}

static void test_encoder_argument_checks(void **state)
{
    (void)state;
    uint8_t out[512], tag[16] = {0}, key[97] = {0}, ct[17] = {0};
    size_t n;
    char longsn[OSAP_SUBSERIAL_MAX + 2];
    memset(longsn, 'A', sizeof(longsn));
    struct osap_lbs_auth_req a = {.auth_type = 1,
                                  .auth_type_count = 0,
                                  .version = {1, 2, 0},
                                  .subserial = longsn,
                                  .subserial_len = OSAP_SUBSERIAL_MAX,
                                  .tag = tag,
                                  .enc_pubkey = key};
    assert_int_equal(osap_lbs_auth_req_encode(&a, out, sizeof(out), &n), OSAP_OK);
    a.subserial_len = OSAP_SUBSERIAL_MAX + 1;
    assert_int_equal(osap_lbs_auth_req_encode(&a, out, sizeof(out), &n), OSAP_EINVAL);
    a.subserial_len = 0;
    assert_int_equal(osap_lbs_auth_req_encode(&a, out, sizeof(out), &n), OSAP_EINVAL);
    a.subserial_len = 5;
    a.auth_type_count = OSAP_LBS_AUTH_GROUP_MAX + 1;
    a.auth_types = key;
    assert_int_equal(osap_lbs_auth_req_encode(&a, out, sizeof(out), &n), OSAP_EINVAL);
    struct osap_lbs_data_req d = {.version = {1, 1, 0}, .ciphertext = ct, .ciphertext_len = 17};
    assert_int_equal(osap_lbs_data_req_encode(&d, out, sizeof(out), &n), OSAP_EINVAL);
    d.ciphertext_len = 0;
    assert_int_equal(osap_lbs_data_req_encode(&d, out, sizeof(out), &n), OSAP_EINVAL);
    struct osap_lbs_keys_rsp k = {.type = OSAP_LBS_AUTH_II, .result = 3};
    assert_int_equal(osap_lbs_keys_rsp_encode(&k, out, sizeof(out), &n), OSAP_EINVAL);
    k.type = OSAP_LBS_REFRESH_SK_RSP;
    assert_int_equal(osap_lbs_keys_rsp_encode(&k, out, sizeof(out), &n), OSAP_OK);
    k.result = 0; /* success needs every field */
    assert_int_equal(osap_lbs_keys_rsp_encode(&k, out, sizeof(out), &n), OSAP_EINVAL);
    /* a zeroed frame is not a decoded frame */
    struct osap_lbs_frame zero = {0};
    struct osap_lbs_data_req dr;
    assert_int_equal(osap_lbs_data_req_decode(&zero, &dr), OSAP_EINVAL);
}

/* The messages of the test vectors (sections 4 to 6). */
static void test_vectors(void **state)
{
    (void)state;
    size_t len;
    char *text = test_read_data("vectors/vectors.txt", &len);
    size_t seen = 0;
    int section = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        int s;
        if (sscanf(line, "%d. ", &s) == 1 && line[0] >= '1' && line[0] <= '9') section = s;
        if (section < 4 || section > 6) continue;
        char *msg = strstr(line, "Msg 0x");
        char *colon = msg ? strstr(msg, "): ") : NULL;
        if (!colon) continue;
        size_t n;
        uint8_t *b = cap_hex_exact(colon + 3, &n);
        int path_c = section == 5;
        enum variant v = variant_of(b, n, path_c);
        assert_int_equal(round_trip(v, b, n), OSAP_OK);
        /* the announced size matches: "(..., N bytes): " */
        char *end = strstr(msg, " bytes): ");
        assert_non_null(end);
        while (end > msg && end[-1] >= '0' && end[-1] <= '9')
            end--;
        assert_int_equal(strtoul(end, NULL, 10), n);
        free(b);
        seen++;
    }
    free(text);
    assert_int_equal(seen, 10); /* 0x1 0x2 0x7 0x8 0xA 0xB | 0x7 0x8 0x9 | 0x4 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captures_decode_and_reencode),
        cmocka_unit_test(test_captures_prefixes_need_more),
        cmocka_unit_test(test_captures_corruption),
        cmocka_unit_test(test_specific_field_errors),
        cmocka_unit_test(test_truncated_and_extended),
        cmocka_unit_test(test_remaining_length_rules),
        cmocka_unit_test(test_error_answers),
        cmocka_unit_test(test_encoder_argument_checks),
        cmocka_unit_test(test_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
