/*
 * The golden device transcripts (the JSON files under tests/data/captures) against the crypto
 * primitives: every recorded ciphertext decrypts to its recorded plaintext and
 * re-encrypts to the same bytes; share keys, the LBS public key, ECDH secrets,
 * master keys and signs are recomputed from the recorded inputs.
 */
#include "test_crypto_vec.h"

#include "crypto_internal.h"
#include "osap/crypto.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>

struct totals {
    int files, gcm, cbc, ecdh, signs;
};

static const char *jstr(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *jstr_req(const cJSON *obj, const char *key)
{
    const char *s = jstr(obj, key);
    if (!s) fail_msg("capture: missing string member \"%s\"", key);
    return s;
}

static void expect_hex(const uint8_t *got, size_t n, const char *hex)
{
    size_t len;
    uint8_t *want = test_hex(hex, &len);
    assert_bytes_equal(got, n, want, len);
    test_free_buf(want);
}

static void check_share_keys(const cJSON *root, const cJSON *derived)
{
    const cJSON *device = cJSON_GetObjectItemCaseSensitive(root, "device");
    const char *sn = jstr_req(device, "subserial");
    const char *vcode = jstr_req(device, "vcode_or_licence");
    char sk[OSAP_SHARE_KEY_LEN];

    assert_int_equal(osap_share_key(vcode, strlen(vcode), sn, strlen(sn), 1, sk), OSAP_OK);
    assert_memory_equal(sk, jstr_req(derived, "share_key_upper"), 32);
    expect_hex((const uint8_t *)sk, 16, jstr_req(derived, "aes_key_upper_hex"));
    assert_int_equal(osap_share_key(vcode, strlen(vcode), sn, strlen(sn), 0, sk), OSAP_OK);
    assert_memory_equal(sk, jstr_req(derived, "share_key_lower"), 32);
    expect_hex((const uint8_t *)sk, 16, jstr_req(derived, "aes_key_lower_hex"));

    /* the wrong-code scenario: the server's registry holds another code */
    const char *ru = jstr(derived, "server_registry_share_key_upper");
    if (ru) {
        const cJSON *reg = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(root, "server_fixed"), "registry");
        const char *rv = jstr_req(cJSON_GetObjectItemCaseSensitive(reg, sn), "vcode");
        assert_int_equal(osap_share_key(rv, strlen(rv), sn, strlen(sn), 1, sk), OSAP_OK);
        assert_memory_equal(sk, ru, 32);
        assert_int_equal(osap_share_key(rv, strlen(rv), sn, strlen(sn), 0, sk), OSAP_OK);
        assert_memory_equal(sk, jstr_req(derived, "server_registry_share_key_lower"), 32);
    }
}

static void check_keys(const cJSON *root, struct totals *tot)
{
    const cJSON *fixed = cJSON_GetObjectItemCaseSensitive(root, "server_fixed");
    const cJSON *derived = cJSON_GetObjectItemCaseSensitive(root, "derived");
    const char *sn = jstr_req(cJSON_GetObjectItemCaseSensitive(root, "device"), "subserial");
    osap_p384_key *lbs = NULL;
    uint8_t pub[97], x[48], md5[16], mk[16], sign[48];
    size_t n;

    check_share_keys(root, derived);

    uint8_t *priv = test_hex(jstr_req(fixed, "lbs_ecdh_private_hex"), &n);
    assert_int_equal(n, 48);
    assert_int_equal(osap_p384_from_private(priv, &lbs), OSAP_OK);
    test_free_buf(priv);
    assert_int_equal(osap_p384_public(lbs, pub), OSAP_OK);
    expect_hex(pub, 97, jstr_req(derived, "lbs_ecdh_public_hex"));

    const cJSON *att;
    cJSON_ArrayForEach(att, cJSON_GetObjectItemCaseSensitive(derived, "lbs_attempts"))
    {
        const char *dpub = jstr(att, "device_ecdh_public_hex");
        const char *shared = jstr(att, "ecdh_shared_x_hex");
        const char *mkt = jstr(att, "master_key");
        const char *sgn = jstr(att, "sign_hex");
        if (dpub) {
            uint8_t *dp = test_hex(dpub, &n);
            assert_int_equal(n, 97);
            assert_int_equal(osap_p384_check_public(dp), OSAP_OK);
            if (shared) {
                assert_int_equal(osap_p384_derive(lbs, dp, x), OSAP_OK);
                expect_hex(x, 48, shared);
                tot->ecdh++;
            }
            test_free_buf(dp);
        }
        if (shared) {
            uint8_t *sx = test_hex(shared, &n);
            assert_int_equal(osap__md5(sx, n, NULL, 0, md5), OSAP_OK);
            expect_hex(md5, 16, jstr_req(att, "md5_of_shared_x_hex"));
            assert_int_equal(osap_master_key(sx, mk), OSAP_OK);
            assert_memory_equal(mk, mkt, 16);
            test_free_buf(sx);
        }
        if (mkt && sgn) {
            assert_int_equal(strlen(mkt), 16);
            assert_int_equal(osap_sign((const uint8_t *)mkt, sn, strlen(sn), sign), OSAP_OK);
            expect_hex(sign, 48, sgn);
            tot->signs++;
        }
    }
    osap_p384_free(lbs);
}

/* A field of the parsed message, checked to be part of the recorded frame. */
static uint8_t *field_bytes(const cJSON *msg, const char *name, size_t *len)
{
    const char *frame = jstr_req(msg, "hex");
    const char *hex = jstr_req(cJSON_GetObjectItemCaseSensitive(msg, "fields"), name);
    if (!strstr(frame, hex)) fail_msg("field %s is not inside the frame", name);
    return test_hex(hex, len);
}

static void check_gcm(const cJSON *msg, const cJSON *entry, const char *tagf, const char *ctf)
{
    size_t klen, tlen, clen, plen;
    uint8_t *key = test_hex(jstr_req(entry, "key_hex"), &klen);
    uint8_t *tag = field_bytes(msg, tagf, &tlen);
    uint8_t *ct = field_bytes(msg, ctf, &clen);
    uint8_t *want = test_hex(jstr_req(entry, "plaintext_hex"), &plen);
    uint8_t pt[128], ct2[128], tag2[16];

    assert_int_equal(klen, 16);
    assert_int_equal(tlen, 16);
    assert_true(clen <= sizeof(pt));
    assert_int_equal(osap_gcm_ez_decrypt(key, tag, ct, clen, pt), OSAP_OK);
    assert_bytes_equal(pt, clen, want, plen);
    assert_int_equal(osap_gcm_ez_encrypt(key, want, plen, tag2, ct2), OSAP_OK);
    assert_bytes_equal(ct2, plen, ct, clen);
    assert_bytes_equal(tag2, 16, tag, tlen);
    /* a public key that travels in a GCM field is a valid point */
    if (plen == 97) assert_int_equal(osap_p384_check_public(pt), OSAP_OK);
    /* any change to the tag is caught */
    for (int i = 0; i < 16; i++) {
        tag[i] ^= 0x01;
        assert_int_equal(osap_gcm_ez_decrypt(key, tag, ct, clen, pt), OSAP_ETAG);
        tag[i] ^= 0x01;
    }
    test_free_buf(key);
    test_free_buf(tag);
    test_free_buf(ct);
    test_free_buf(want);
}

static void check_cbc(const cJSON *msg, const cJSON *entry, const char *ctf)
{
    size_t klen, clen, plen, padlen, n;
    uint8_t *key = test_hex(jstr_req(entry, "key_hex"), &klen);
    uint8_t *ct = field_bytes(msg, ctf, &clen);
    uint8_t *want = test_hex(jstr_req(entry, "plaintext_hex"), &plen);
    uint8_t *padded = test_hex(jstr_req(entry, "padded_plaintext_hex"), &padlen);
    uint8_t *pt = malloc(clen + 16), *ct2 = malloc(clen + 16);

    assert_non_null(pt);
    assert_non_null(ct2);
    assert_int_equal(klen, 16);
    assert_int_equal(osap_cbc_ez_decrypt(key, ct, clen, pt, clen, &n), OSAP_OK);
    assert_bytes_equal(pt, n, want, plen);
    /* the recorded padding is PKCS#7 of the recorded plaintext */
    assert_int_equal(padlen, clen);
    assert_memory_equal(padded, want, plen);
    for (size_t i = plen; i < padlen; i++)
        assert_int_equal(padded[i], padlen - plen);
    assert_int_equal(osap_cbc_ez_encrypt(key, want, plen, ct2, clen + 16, &n), OSAP_OK);
    assert_bytes_equal(ct2, n, ct, clen);
    /* the last byte of the second-to-last block steers the padding byte */
    if (clen >= 32) {
        ct[clen - 17] ^= padded[clen - 1]; /* the last plaintext byte becomes 0 */
        assert_int_equal(osap_cbc_ez_decrypt(key, ct, clen, pt, clen, &n), OSAP_EPADDING);
    }
    assert_int_equal(osap_cbc_ez_decrypt(key, ct, clen - 1, pt, clen, &n), OSAP_ECIPHERTEXT_LEN);
    free(pt);
    free(ct2);
    test_free_buf(key);
    test_free_buf(ct);
    test_free_buf(want);
    test_free_buf(padded);
}

static void check_messages(const cJSON *root, struct totals *tot)
{
    static const char *cbc_fields[] = {"ciphertext_hex", "will_message_hex", "payload_hex",
                                       "encrypted_random_1_hex", "encrypted_random_2_hex"};
    const cJSON *msg;
    cJSON_ArrayForEach(msg, cJSON_GetObjectItemCaseSensitive(root, "messages"))
    {
        const cJSON *fields = cJSON_GetObjectItemCaseSensitive(msg, "fields");
        const cJSON *entry;
        int idx = 0;
        cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(msg, "decrypted"))
        {
            const char *what = jstr_req(entry, "what");
            if (strstr(what, "GCM")) {
                if (jstr(fields, "gcm_tag_hex"))
                    check_gcm(msg, entry, "gcm_tag_hex", "encrypted_pubkey_hex");
                else if (idx == 0)
                    check_gcm(msg, entry, "devid_gcm_tag_hex", "encrypted_devid_hex");
                else
                    check_gcm(msg, entry, "session_key_gcm_tag_hex", "encrypted_session_key_hex");
                tot->gcm++;
            } else if (strstr(what, "CBC")) {
                const char *f = NULL;
                for (size_t i = 0; i < sizeof(cbc_fields) / sizeof(cbc_fields[0]) && !f; i++)
                    if (jstr(fields, cbc_fields[i])) f = cbc_fields[i];
                if (!f) fail_msg("no ciphertext field in message %s", jstr(msg, "kind"));
                check_cbc(msg, entry, f);
                tot->cbc++;
            } else {
                fail_msg("unknown decrypted entry: %s", what);
            }
            idx++;
        }
    }
}

static void check_file(const char *name, struct totals *tot)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "captures/%s", name);
    char *text = test_read_data(rel, NULL);
    cJSON *root = cJSON_Parse(text);
    if (!root) fail_msg("%s: not JSON", name);
    check_keys(root, tot);
    check_messages(root, tot);
    cJSON_Delete(root);
    test_free_buf(text);
    tot->files++;
}

static void test_captures(void **state)
{
    (void)state;
    struct totals tot = {0};
    DIR *d = opendir(OSAP_TEST_DATA_DIR "/captures");
    struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".json") == 0) check_file(e->d_name, &tot);
    }
    closedir(d);
    print_message("captures: %d files, %d GCM fields, %d CBC payloads, %d ECDH secrets, "
                  "%d signs\n",
                  tot.files, tot.gcm, tot.cbc, tot.ecdh, tot.signs);
    /* the ten scenarios as recorded: nothing was skipped */
    assert_true(tot.files >= 10);
    assert_true(tot.gcm >= 38);
    assert_true(tot.cbc >= 50);
    assert_true(tot.ecdh >= 6);
    assert_true(tot.signs >= 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
