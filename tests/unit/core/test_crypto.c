/*
 * Crypto primitives (spec 2): the published vectors (spec 9.1-9.4,
 * tests/data/vectors/vectors.txt), strict CBC padding, GCM tags, P-384 point
 * validation, deterministic key generation, threads and allocation failures.
 */
#include "test_crypto_vec.h"

#include "crypto_internal.h"
#include "osap/alloc.h"
#include "osap/crypto.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>

static const uint8_t key16[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* Independent AES-128-CBC with OpenSSL's own PKCS#7 padding (the reference). */
static size_t ref_cbc_encrypt(const uint8_t *key, const uint8_t *pt, size_t len, uint8_t *ct)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int a = 0, b = 0;
    assert_non_null(c);
    assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_128_cbc(), NULL, key,
                                        (const uint8_t *)"01234567\0\0\0\0\0\0\0\0"),
                     1);
    assert_int_equal(EVP_EncryptUpdate(c, ct, &a, pt, (int)len), 1);
    assert_int_equal(EVP_EncryptFinal_ex(c, ct + a, &b), 1);
    EVP_CIPHER_CTX_free(c);
    return (size_t)(a + b);
}

/* ------------------------------------------------------------------ share key */

static void check_share_variant(const char *vec, const char *anchor, int upper)
{
    struct osap__share_key_trace t;
    char sk[OSAP_SHARE_KEY_LEN];
    char *s;
    size_t n;

    assert_int_equal(osap__share_key_trace("ABCDEF", 6, "Q12345678", 9, upper, &t), OSAP_OK);
    /* Case matters: t1 follows the variant, the later steps are always upper case. */
    s = vec_hextext(vec, anchor, "md5_1_hex");
    assert_memory_equal(t.t1, s, 32);
    free(s);
    s = vec_hextext(vec, anchor, "md5_2_hex");
    assert_memory_equal(t.t2, s, 32);
    free(s);
    s = vec_hextext(vec, anchor, "md5_3_hex");
    assert_memory_equal(t.t3, s, 32);
    free(s);
    s = vec_hextext(vec, anchor, "pbkdf2_hex");
    assert_memory_equal(t.t4, s, 64);
    free(s);

    assert_int_equal(osap_share_key("ABCDEF", 6, "Q12345678", 9, upper, sk), OSAP_OK);
    s = vec_hextext(vec, anchor, "share_key_32");
    assert_memory_equal(sk, s, 32);
    free(s);
    char *line = vec_line(vec, anchor, "AES-128 key");
    char *eq = strrchr(line, '=');
    assert_non_null(eq);
    uint8_t *aes = test_hex(eq + 1, &n);
    assert_int_equal(n, 16);
    assert_memory_equal(aes, sk, 16);
    test_free_buf(aes);
    free(line);
}

static void test_share_key_vectors(void **state)
{
    (void)state;
    char *vec = vec_load();
    check_share_variant(vec, "variant: first MD5 hex in UPPER", 1);
    check_share_variant(vec, "variant: first MD5 hex in lower", 0);

    /* The hub's child digest is the third step of the upper-case variant. */
    char code[32];
    assert_int_equal(osap_child_verify_code("ABCDEF", 6, "Q12345678", 9, code), OSAP_OK);
    char *s = vec_hextext(vec, "variant: first MD5 hex in UPPER", "md5_3_hex");
    assert_memory_equal(code, s, 32);
    free(s);
    test_free_buf(vec);
}

static void test_share_key_args(void **state)
{
    (void)state;
    char sk[OSAP_SHARE_KEY_LEN], sk2[OSAP_SHARE_KEY_LEN];
    assert_int_equal(osap_share_key(NULL, 1, "Q", 1, 1, sk), OSAP_EINVAL);
    assert_int_equal(osap_share_key("A", 1, NULL, 1, 1, sk), OSAP_EINVAL);
    assert_int_equal(osap_share_key("A", 1, "Q", 1, 1, NULL), OSAP_EINVAL);
    assert_int_equal(osap_child_verify_code("A", 1, "Q", 1, NULL), OSAP_EINVAL);
    /* Empty inputs are legal (the digest of nothing) and the variants differ. */
    assert_int_equal(osap_share_key(NULL, 0, NULL, 0, 1, sk), OSAP_OK);
    assert_int_equal(osap_share_key(NULL, 0, NULL, 0, 0, sk2), OSAP_OK);
    assert_memory_not_equal(sk, sk2, sizeof(sk));
    /* vcode || subserial is one string: only the concatenation matters. */
    assert_int_equal(osap_share_key("ABC", 3, "DEFQ12345678", 12, 1, sk), OSAP_OK);
    assert_int_equal(osap_share_key("ABCDEF", 6, "Q12345678", 9, 1, sk2), OSAP_OK);
    assert_memory_equal(sk, sk2, sizeof(sk));
}

/* ------------------------------------------------------------------ CBC-EZ */

static void test_cbc_vector(void **state)
{
    (void)state;
    char *vec = vec_load();
    const char *sec = "2. AES-128-CBC";
    size_t klen, ivlen, plen, clen, n;
    uint8_t *key = vec_hex(vec, sec, "key       =", &klen);
    uint8_t *iv = vec_hex(vec, sec, "iv        =", &ivlen);
    uint8_t *padded = vec_hex(vec, sec, "plaintext = {\"Seq\":1} ->", &plen);
    uint8_t *want = vec_hex(vec, sec, "ciphertext=", &clen);
    uint8_t ct[64], pt[64];

    assert_int_equal(klen, 16);
    assert_bytes_equal(iv, ivlen, (const uint8_t *)OSAP_CBC_EZ_IV, 16);
    assert_bytes_equal(padded, plen, (const uint8_t *)"{\"Seq\":1}\7\7\7\7\7\7\7", 16);

    assert_int_equal(
        osap_cbc_ez_encrypt(key, (const uint8_t *)"{\"Seq\":1}", 9, ct, sizeof(ct), &n), OSAP_OK);
    assert_bytes_equal(ct, n, want, clen);
    assert_int_equal(osap_cbc_ez_decrypt(key, want, clen, pt, sizeof(pt), &n), OSAP_OK);
    assert_bytes_equal(pt, n, (const uint8_t *)"{\"Seq\":1}", 9);
    test_free_buf(key);
    test_free_buf(iv);
    test_free_buf(padded);
    test_free_buf(want);
    test_free_buf(vec);
}

/* Every length 0..80 agrees with OpenSSL's own CBC + PKCS#7, and round-trips,
 * including in place. */
static void test_cbc_matches_reference(void **state)
{
    (void)state;
    uint8_t pt[80], ct[96], ref[96], back[96];
    size_t n, m;
    for (size_t i = 0; i < sizeof(pt); i++)
        pt[i] = (uint8_t)(i * 7 + 3);
    for (size_t len = 0; len <= sizeof(pt); len++) {
        assert_int_equal(osap_cbc_ez_len(len), (len / 16 + 1) * 16);
        assert_int_equal(osap_cbc_ez_encrypt(key16, pt, len, ct, sizeof(ct), &n), OSAP_OK);
        m = ref_cbc_encrypt(key16, pt, len, ref);
        assert_bytes_equal(ct, n, ref, m);
        assert_int_equal(osap_cbc_ez_decrypt(key16, ct, n, back, sizeof(back), &m), OSAP_OK);
        assert_bytes_equal(back, m, pt, len);

        /* in place: the plaintext buffer has room for the padding */
        memcpy(back, pt, len);
        assert_int_equal(osap_cbc_ez_encrypt(key16, back, len, back, osap_cbc_ez_len(len), &n),
                         OSAP_OK);
        assert_bytes_equal(back, n, ref, n);
        assert_int_equal(osap_cbc_ez_decrypt(key16, back, n, back, n, &m), OSAP_OK);
        assert_bytes_equal(back, m, pt, len);
    }
}

static void test_cbc_lengths_and_buffers(void **state)
{
    (void)state;
    uint8_t buf[64] = {0}, out[64];
    size_t n = 12345;

    assert_int_equal(osap_cbc_ez_len(SIZE_MAX), 0);
    assert_int_equal(osap_cbc_ez_len(SIZE_MAX - 15), 0);
    /* ciphertext length: empty or not a multiple of 16 */
    for (size_t len = 0; len < 64; len++) {
        if (len && len % 16 == 0) continue;
        assert_int_equal(osap_cbc_ez_decrypt(key16, buf, len, out, sizeof(out), &n),
                         OSAP_ECIPHERTEXT_LEN);
    }
    assert_int_equal(n, 12345); /* outputs untouched on failure */
    /* output capacity */
    assert_int_equal(osap_cbc_ez_encrypt(key16, buf, 16, out, 31, &n), OSAP_EBUFSIZE);
    assert_int_equal(osap_cbc_ez_encrypt(key16, buf, 15, out, 15, &n), OSAP_EBUFSIZE);
    assert_int_equal(osap_cbc_ez_encrypt(key16, buf, 15, out, 16, &n), OSAP_OK);
    assert_int_equal(n, 16);
    assert_int_equal(osap_cbc_ez_decrypt(key16, out, 16, buf, 15, &n), OSAP_EBUFSIZE);
    /* arguments */
    assert_int_equal(osap_cbc_ez_encrypt(NULL, buf, 1, out, 64, &n), OSAP_EINVAL);
    assert_int_equal(osap_cbc_ez_encrypt(key16, NULL, 1, out, 64, &n), OSAP_EINVAL);
    assert_int_equal(osap_cbc_ez_encrypt(key16, buf, 1, NULL, 64, &n), OSAP_EINVAL);
    assert_int_equal(osap_cbc_ez_encrypt(key16, buf, 1, out, 64, NULL), OSAP_EINVAL);
    assert_int_equal(osap_cbc_ez_encrypt(key16, NULL, 0, out, 64, &n), OSAP_OK);
    assert_int_equal(osap_cbc_ez_decrypt(NULL, out, 16, buf, 64, &n), OSAP_EINVAL);
    assert_int_equal(osap_cbc_ez_decrypt(key16, NULL, 16, buf, 64, &n), OSAP_EINVAL);
    assert_int_equal(osap_cbc_ez_decrypt(key16, out, 16, NULL, 64, &n), OSAP_EINVAL);
}

/* Ciphertext whose last decrypted block is exactly @p last (after 16 data bytes):
 * CBC with a constant IV is prefix-consistent, so the first 32 bytes of the
 * encryption of data || last are the raw encryption of those two blocks. */
static void raw_two_blocks(const uint8_t last[16], uint8_t ct[32])
{
    uint8_t pt[32], full[48];
    size_t n;
    for (int i = 0; i < 16; i++)
        pt[i] = (uint8_t)('a' + i);
    memcpy(pt + 16, last, 16);
    assert_int_equal(osap_cbc_ez_encrypt(key16, pt, 32, full, sizeof(full), &n), OSAP_OK);
    memcpy(ct, full, 32);
}

static void test_cbc_padding_every_position(void **state)
{
    (void)state;
    uint8_t last[16], ct[32], out[32];
    size_t n;
    int rejected = 0;

    for (int pad = 1; pad <= 16; pad++) {
        memset(last, 'x', 16);
        memset(last + 16 - pad, pad, (size_t)pad);
        raw_two_blocks(last, ct);
        assert_int_equal(osap_cbc_ez_decrypt(key16, ct, 32, out, sizeof(out), &n), OSAP_OK);
        assert_int_equal(n, 32u - (size_t)pad);
        /* a wrong value at each padding position except the last byte */
        for (int pos = 16 - pad; pos < 15; pos++) {
            uint8_t bad[16];
            memcpy(bad, last, 16);
            bad[pos] ^= 0x01;
            raw_two_blocks(bad, ct);
            n = 777;
            assert_int_equal(osap_cbc_ez_decrypt(key16, ct, 32, out, sizeof(out), &n),
                             OSAP_EPADDING);
            assert_int_equal(n, 777);
            /* the rejected plaintext does not leak to the caller */
            uint8_t zero[32] = {0};
            assert_memory_equal(out, zero, 32);
            rejected++;
        }
    }
    assert_int_equal(rejected, 120); /* 0 + 1 + ... + 15 */

    /* last byte 0 and every value above 16 */
    for (int v = 0; v < 256; v++) {
        if (v >= 1 && v <= 16) continue;
        memset(last, v, 16);
        raw_two_blocks(last, ct);
        assert_int_equal(osap_cbc_ez_decrypt(key16, ct, 32, out, sizeof(out), &n), OSAP_EPADDING);
    }
}

static void test_cbc_truncated_and_corrupted(void **state)
{
    (void)state;
    const char *msg = "{\"Seq\":1}{\"data\":{\"Value\":7},\"more\":\"text\"}";
    uint8_t ct[64], out[64];
    size_t n, m, clen;
    int padding_errors = 0;

    assert_int_equal(
        osap_cbc_ez_encrypt(key16, (const uint8_t *)msg, strlen(msg), ct, sizeof(ct), &clen),
        OSAP_OK);
    assert_int_equal(clen, 48);
    for (size_t len = 0; len < clen; len++) {
        osap_err e = osap_cbc_ez_decrypt(key16, ct, len, out, sizeof(out), &n);
        if (len == 0 || len % 16) {
            assert_int_equal(e, OSAP_ECIPHERTEXT_LEN);
        } else if (e == OSAP_EPADDING) {
            padding_errors++;
        } else {
            /* a prefix can end in valid-looking padding, but is never the message */
            assert_int_equal(e, OSAP_OK);
            assert_true(n < strlen(msg));
        }
    }
    assert_true(padding_errors > 0);

    /* flipping any bit of the last two blocks never yields the original message */
    for (size_t i = 16; i < clen; i++) {
        for (int bit = 0; bit < 8; bit++) {
            ct[i] ^= (uint8_t)(1 << bit);
            osap_err e = osap_cbc_ez_decrypt(key16, ct, clen, out, sizeof(out), &m);
            if (e == OSAP_OK)
                assert_false(m == strlen(msg) && memcmp(out, msg, m) == 0);
            else
                assert_int_equal(e, OSAP_EPADDING);
            ct[i] ^= (uint8_t)(1 << bit);
        }
    }
}

/* ------------------------------------------------------------------ GCM-EZ */

static void test_gcm_vector(void **state)
{
    (void)state;
    char *vec = vec_load();
    const char *sec = "3. AES-128-GCM";
    size_t klen, ivlen, plen, clen, tlen;
    uint8_t *key = vec_hex(vec, sec, "key (share key, upper variant) =", &klen);
    uint8_t *iv = vec_hex(vec, sec, "iv        =", &ivlen);
    uint8_t *pt = vec_hex(vec, sec, "plaintext = b'hello-ezviz'", &plen);
    uint8_t *want = vec_hex(vec, sec, "ciphertext=", &clen);
    uint8_t *wtag = vec_hex(vec, sec, "tag       =", &tlen);
    uint8_t ct[32], tag[16], back[32];
    char sk[OSAP_SHARE_KEY_LEN];

    assert_int_equal(osap_share_key("ABCDEF", 6, "Q12345678", 9, 1, sk), OSAP_OK);
    assert_bytes_equal(key, klen, (const uint8_t *)sk, 16);
    assert_bytes_equal(iv, ivlen, (const uint8_t *)OSAP_GCM_EZ_NONCE, 12);
    assert_bytes_equal(pt, plen, (const uint8_t *)"hello-ezviz", 11);

    assert_int_equal(osap_gcm_ez_encrypt(key, pt, plen, tag, ct), OSAP_OK);
    assert_bytes_equal(ct, plen, want, clen);
    assert_bytes_equal(tag, 16, wtag, tlen);
    assert_int_equal(osap_gcm_ez_decrypt(key, wtag, want, clen, back), OSAP_OK);
    assert_bytes_equal(back, clen, pt, plen);

    /* in place, both ways */
    memcpy(back, pt, plen);
    assert_int_equal(osap_gcm_ez_encrypt(key, back, plen, tag, back), OSAP_OK);
    assert_bytes_equal(back, plen, want, clen);
    assert_int_equal(osap_gcm_ez_decrypt(key, tag, back, plen, back), OSAP_OK);
    assert_bytes_equal(back, plen, pt, plen);

    test_free_buf(key);
    test_free_buf(iv);
    test_free_buf(pt);
    test_free_buf(want);
    test_free_buf(wtag);
    test_free_buf(vec);
}

static void test_gcm_bad_tags(void **state)
{
    (void)state;
    uint8_t pt[97], ct[97], tag[16], out[97], zero[97] = {0};
    for (size_t i = 0; i < sizeof(pt); i++)
        pt[i] = (uint8_t)i;
    assert_int_equal(osap_gcm_ez_encrypt(key16, pt, sizeof(pt), tag, ct), OSAP_OK);
    assert_int_equal(osap_gcm_ez_decrypt(key16, tag, ct, sizeof(ct), out), OSAP_OK);
    assert_memory_equal(out, pt, sizeof(pt));

    /* every bit of the tag */
    for (int i = 0; i < 16; i++) {
        for (int bit = 0; bit < 8; bit++) {
            tag[i] ^= (uint8_t)(1 << bit);
            memset(out, 0xAA, sizeof(out));
            assert_int_equal(osap_gcm_ez_decrypt(key16, tag, ct, sizeof(ct), out), OSAP_ETAG);
            assert_memory_equal(out, zero, sizeof(out)); /* zeroed on failure */
            tag[i] ^= (uint8_t)(1 << bit);
        }
    }
    /* every byte of the ciphertext */
    for (size_t i = 0; i < sizeof(ct); i++) {
        ct[i] ^= 0x80;
        assert_int_equal(osap_gcm_ez_decrypt(key16, tag, ct, sizeof(ct), out), OSAP_ETAG);
        ct[i] ^= 0x80;
    }
    /* truncated ciphertexts */
    for (size_t len = 0; len < sizeof(ct); len++)
        assert_int_equal(osap_gcm_ez_decrypt(key16, tag, ct, len, out), OSAP_ETAG);
    /* wrong key */
    uint8_t k2[16];
    memcpy(k2, key16, 16);
    k2[15] ^= 1;
    assert_int_equal(osap_gcm_ez_decrypt(k2, tag, ct, sizeof(ct), out), OSAP_ETAG);
    /* still good afterwards (the per-thread context recovers from failures) */
    assert_int_equal(osap_gcm_ez_decrypt(key16, tag, ct, sizeof(ct), out), OSAP_OK);
    assert_memory_equal(out, pt, sizeof(pt));

    /* empty plaintext: a tag alone */
    assert_int_equal(osap_gcm_ez_encrypt(key16, NULL, 0, tag, NULL), OSAP_OK);
    assert_int_equal(osap_gcm_ez_decrypt(key16, tag, NULL, 0, NULL), OSAP_OK);
    tag[0] ^= 1;
    assert_int_equal(osap_gcm_ez_decrypt(key16, tag, NULL, 0, NULL), OSAP_ETAG);
    /* arguments */
    assert_int_equal(osap_gcm_ez_encrypt(NULL, pt, 1, tag, ct), OSAP_EINVAL);
    assert_int_equal(osap_gcm_ez_encrypt(key16, pt, 1, NULL, ct), OSAP_EINVAL);
    assert_int_equal(osap_gcm_ez_decrypt(key16, NULL, ct, 1, out), OSAP_EINVAL);
    assert_int_equal(osap_gcm_ez_decrypt(key16, tag, ct, 1, NULL), OSAP_EINVAL);
}

/* ------------------------------------------------------------------ P-384 */

/* Test-only scalars of spec 9.4: 0x11..11 and 0x22..22, 40 hex digits each. */
static void test_scalar(uint8_t d[48], uint8_t byte)
{
    memset(d, 0, 48);
    memset(d + 28, byte, 20);
}

static void test_p384_vectors(void **state)
{
    (void)state;
    char *vec = vec_load();
    const char *sec = "4. FIRST AUTHENTICATION";
    uint8_t d_dev[48], d_lbs[48], pub[97], x1[48], x2[48], mk[16], sign[48], md5[16];
    size_t n;
    osap_p384_key *dev = NULL, *lbs = NULL;

    test_scalar(d_dev, 0x11);
    test_scalar(d_lbs, 0x22);
    assert_int_equal(osap_p384_from_private(d_dev, &dev), OSAP_OK);
    assert_int_equal(osap_p384_from_private(d_lbs, &lbs), OSAP_OK);

    uint8_t *want = vec_hex(vec, sec, "device pub (97B) =", &n);
    assert_int_equal(osap_p384_public(dev, pub), OSAP_OK);
    assert_bytes_equal(pub, 97, want, n);
    assert_int_equal(osap_p384_check_public(pub), OSAP_OK);
    test_free_buf(want);
    want = vec_hex(vec, sec, "LBS pub (97B)    =", &n);
    assert_int_equal(osap_p384_public(lbs, pub), OSAP_OK);
    assert_bytes_equal(pub, 97, want, n);
    test_free_buf(want);

    /* both directions give the recorded X */
    uint8_t dev_pub[97], lbs_pub[97];
    assert_int_equal(osap_p384_public(dev, dev_pub), OSAP_OK);
    assert_int_equal(osap_p384_public(lbs, lbs_pub), OSAP_OK);
    assert_int_equal(osap_p384_derive(dev, lbs_pub, x1), OSAP_OK);
    assert_int_equal(osap_p384_derive(lbs, dev_pub, x2), OSAP_OK);
    want = vec_hex(vec, sec, "ECDH shared X (48B) =", &n);
    assert_bytes_equal(x1, 48, want, n);
    assert_bytes_equal(x2, 48, want, n);
    test_free_buf(want);

    assert_int_equal(osap__md5(x1, 48, NULL, 0, md5), OSAP_OK);
    want = vec_hex(vec, sec, "MD5(shared)         =", &n);
    assert_bytes_equal(md5, 16, want, n);
    test_free_buf(want);

    assert_int_equal(osap_master_key(x1, mk), OSAP_OK);
    char *line = vec_line(vec, sec, "master key          = '");
    assert_memory_equal(mk, line, 16);
    assert_int_equal(line[16], '\'');
    free(line);

    assert_int_equal(osap_sign(mk, "Q12345678", 9, sign), OSAP_OK);
    want = vec_hex(vec, sec, "sign = HMAC-SHA384(mk, SHA384(subserial)) =", &n);
    assert_bytes_equal(sign, 48, want, n);
    test_free_buf(want);

    osap_p384_free(dev);
    osap_p384_free(lbs);
    test_free_buf(vec);
}

static void test_p384_invalid_points(void **state)
{
    (void)state;
    uint8_t d[48], pub[97], bad[97], x[48];
    osap_p384_key *k = NULL;
    test_scalar(d, 0x11);
    assert_int_equal(osap_p384_from_private(d, &k), OSAP_OK);
    assert_int_equal(osap_p384_public(k, pub), OSAP_OK);

    /* every first byte other than 0x04, including the hybrid forms 06/07 and a
     * compressed-looking prefix on 97 bytes */
    for (int p = 0; p < 256; p++) {
        if (p == 4) continue;
        memcpy(bad, pub, 97);
        bad[0] = (uint8_t)p;
        assert_int_equal(osap_p384_check_public(bad), OSAP_EPOINT);
        assert_int_equal(osap_p384_derive(k, bad, x), OSAP_EPOINT);
    }
    /* off the curve: any single-bit change of X or Y */
    for (int i = 1; i < 97; i += 5) {
        memcpy(bad, pub, 97);
        bad[i] ^= 0x01;
        assert_int_equal(osap_p384_check_public(bad), OSAP_EPOINT);
        assert_int_equal(osap_p384_derive(k, bad, x), OSAP_EPOINT);
    }
    /* coordinates >= p, all zeros, a compressed point padded to 97 bytes */
    memset(bad, 0xFF, 97);
    bad[0] = 4;
    assert_int_equal(osap_p384_check_public(bad), OSAP_EPOINT);
    assert_int_equal(osap_p384_derive(k, bad, x), OSAP_EPOINT);
    memset(bad, 0, 97);
    assert_int_equal(osap_p384_check_public(bad), OSAP_EPOINT);
    bad[0] = 4;
    assert_int_equal(osap_p384_check_public(bad), OSAP_EPOINT);
    assert_int_equal(osap_p384_derive(k, bad, x), OSAP_EPOINT);
    memset(bad, 0, 97);
    memcpy(bad + 1, pub + 1, 48);
    bad[0] = (uint8_t)(2 + (pub[96] & 1));
    assert_int_equal(osap_p384_check_public(bad), OSAP_EPOINT);
    assert_int_equal(osap_p384_derive(k, bad, x), OSAP_EPOINT);

    /* arguments */
    assert_int_equal(osap_p384_check_public(NULL), OSAP_EINVAL);
    assert_int_equal(osap_p384_derive(NULL, pub, x), OSAP_EINVAL);
    assert_int_equal(osap_p384_derive(k, NULL, x), OSAP_EINVAL);
    assert_int_equal(osap_p384_derive(k, pub, NULL), OSAP_EINVAL);
    assert_int_equal(osap_p384_public(NULL, pub), OSAP_EINVAL);
    /* the key still works after all those failures */
    assert_int_equal(osap_p384_derive(k, pub, x), OSAP_OK);
    osap_p384_free(k);
    osap_p384_free(NULL);
}

static void test_p384_private_range(void **state)
{
    (void)state;
    /* n, the order of P-384 */
    static const char *n_hex = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
                               "581a0db248b0a77aecec196accc52973";
    size_t len;
    uint8_t *n = test_hex(n_hex, &len);
    uint8_t d[48];
    osap_p384_key *k = (osap_p384_key *)0x1;

    assert_int_equal(len, 48);
    memset(d, 0, 48);
    assert_int_equal(osap_p384_from_private(d, &k), OSAP_EINVAL);
    assert_ptr_equal(k, (osap_p384_key *)0x1); /* untouched on failure */
    assert_int_equal(osap_p384_from_private(n, &k), OSAP_EINVAL);
    memset(d, 0xFF, 48);
    assert_int_equal(osap_p384_from_private(d, &k), OSAP_EINVAL);
    memcpy(d, n, 48);
    d[47] -= 1; /* n - 1 */
    assert_int_equal(osap_p384_from_private(d, &k), OSAP_OK);
    osap_p384_free(k);
    memset(d, 0, 48);
    d[47] = 1;
    assert_int_equal(osap_p384_from_private(d, &k), OSAP_OK);
    /* 1 * G: the generator's X coordinate */
    uint8_t pub[97];
    assert_int_equal(osap_p384_public(k, pub), OSAP_OK);
    uint8_t *gx = test_hex("aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a38"
                           "5502f25dbf55296c3a545e3872760ab7",
                           &len);
    assert_bytes_equal(pub + 1, 48, gx, len);
    test_free_buf(gx);
    osap_p384_free(k);
    assert_int_equal(osap_p384_from_private(NULL, &k), OSAP_EINVAL);
    assert_int_equal(osap_p384_from_private(d, NULL), OSAP_EINVAL);
    test_free_buf(n);
}

/* A scripted random source: a list of 48-byte draws, then failure. */
struct script_rng {
    const uint8_t *draws;
    size_t count, next;
    int calls;
};

static osap_err script_fill(void *ud, uint8_t *buf, size_t len)
{
    struct script_rng *s = ud;
    s->calls++;
    if (len != 48 || s->next >= s->count) return OSAP_ERANDOM;
    memcpy(buf, s->draws + 48 * s->next++, 48);
    return OSAP_OK;
}

static osap_err zero_fill(void *ud, uint8_t *buf, size_t len)
{
    (void)ud;
    memset(buf, 0, len);
    return OSAP_OK;
}

static osap_err failing_fill(void *ud, uint8_t *buf, size_t len)
{
    (void)ud;
    memset(buf, 0x5A, len);
    return OSAP_EIO;
}

static void test_p384_generate(void **state)
{
    (void)state;
    uint8_t draws[3 * 48], pub_a[97], pub_b[97], pub_c[97];
    osap_p384_key *a = NULL, *b = NULL, *c = NULL;

    /* the first draw is >= n and is rejected; the second is the scalar 0x11..11 */
    memset(draws, 0xFF, 48);
    test_scalar(draws + 48, 0x11);
    test_scalar(draws + 96, 0x22);
    struct script_rng s = {draws, 3, 0, 0};
    struct osap_rng rng = {script_fill, &s};
    assert_int_equal(osap_p384_generate(&rng, &a), OSAP_OK);
    assert_int_equal(s.calls, 2);
    assert_int_equal(osap_p384_from_private(draws + 48, &b), OSAP_OK);
    assert_int_equal(osap_p384_public(a, pub_a), OSAP_OK);
    assert_int_equal(osap_p384_public(b, pub_b), OSAP_OK);
    assert_memory_equal(pub_a, pub_b, 97);
    osap_p384_free(a);
    osap_p384_free(b);

    /* a source that only gives zeros never yields a key */
    struct osap_rng zero = {zero_fill, NULL};
    a = (osap_p384_key *)0x1;
    assert_int_equal(osap_p384_generate(&zero, &a), OSAP_ERANDOM);
    assert_ptr_equal(a, (osap_p384_key *)0x1);
    /* a failing source: its error is reported */
    struct osap_rng failing = {failing_fill, NULL};
    assert_int_equal(osap_p384_generate(&failing, &a), OSAP_EIO);
    uint8_t buf[8];
    assert_int_equal(osap_rng_fill(&failing, buf, sizeof(buf)), OSAP_EIO);
    uint8_t zero8[8] = {0};
    assert_memory_equal(buf, zero8, 8); /* no partial random bytes are left behind */

    /* the system source: two fresh keys agree on a shared secret */
    assert_int_equal(osap_p384_generate(NULL, &a), OSAP_OK);
    assert_int_equal(osap_p384_generate(osap_rng_system(), &c), OSAP_OK);
    uint8_t xa[48], xc[48];
    assert_int_equal(osap_p384_public(a, pub_a), OSAP_OK);
    assert_int_equal(osap_p384_public(c, pub_c), OSAP_OK);
    assert_memory_not_equal(pub_a, pub_c, 97);
    assert_int_equal(osap_p384_derive(a, pub_c, xa), OSAP_OK);
    assert_int_equal(osap_p384_derive(c, pub_a, xc), OSAP_OK);
    assert_memory_equal(xa, xc, 48);
    osap_p384_free(a);
    osap_p384_free(c);
    assert_int_equal(osap_p384_generate(NULL, NULL), OSAP_EINVAL);
}

static void test_rng(void **state)
{
    (void)state;
    uint8_t a[64] = {0}, b[64] = {0};
    assert_int_equal(osap_rng_fill(NULL, a, sizeof(a)), OSAP_OK);
    assert_int_equal(osap_rng_fill(osap_rng_system(), b, sizeof(b)), OSAP_OK);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_int_equal(osap_rng_fill(NULL, NULL, 0), OSAP_OK);
    assert_int_equal(osap_rng_fill(NULL, NULL, 1), OSAP_EINVAL);
    struct osap_rng empty = {NULL, NULL};
    assert_int_equal(osap_rng_fill(&empty, a, 1), OSAP_EINVAL);
}

/* ------------------------------------------------------------------ helpers */

static void test_helpers(void **state)
{
    (void)state;
    char hex[8];
    const uint8_t in[4] = {0x00, 0x9f, 0xa5, 0xff};
    osap_hex_upper(in, 4, hex);
    assert_memory_equal(hex, "009FA5FF", 8);
    assert_true(osap_ct_equal("abc", "abc", 3));
    assert_false(osap_ct_equal("abc", "abd", 3));
    assert_true(osap_ct_equal("x", "y", 0));
    uint8_t s[5] = {1, 2, 3, 4, 5}, z[5] = {0};
    osap_cleanse(s, sizeof(s));
    assert_memory_equal(s, z, 5);
    osap_cleanse(NULL, 3);

    uint8_t mk[16], sg[48];
    uint8_t x[48] = {0};
    assert_int_equal(osap_master_key(NULL, mk), OSAP_EINVAL);
    assert_int_equal(osap_master_key(x, NULL), OSAP_EINVAL);
    assert_int_equal(osap_sign(NULL, "a", 1, sg), OSAP_EINVAL);
    assert_int_equal(osap_sign(mk, NULL, 1, sg), OSAP_EINVAL);
    assert_int_equal(osap_sign(mk, "a", 1, NULL), OSAP_EINVAL);
    assert_int_equal(osap_master_key(x, mk), OSAP_OK);
    assert_int_equal(osap_sign(mk, NULL, 0, sg), OSAP_OK); /* SHA-384 of the empty string */
}

/* ------------------------------------------------------------------ threads */

struct worker {
    const uint8_t *pub;
    osap_p384_key *key;
    uint8_t x[48];
    int ok;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    uint8_t pt[100], ct[112], back[112], tag[16];
    size_t n, m;
    w->ok = 1;
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof(pt); i++)
            pt[i] = (uint8_t)(i + (size_t)round);
        if (osap_cbc_ez_encrypt(key16, pt, sizeof(pt), ct, sizeof(ct), &n) ||
            osap_cbc_ez_decrypt(key16, ct, n, back, sizeof(back), &m) || m != sizeof(pt) ||
            memcmp(back, pt, m) != 0)
            w->ok = 0;
        if (osap_gcm_ez_encrypt(key16, pt, sizeof(pt), tag, ct) ||
            osap_gcm_ez_decrypt(key16, tag, ct, sizeof(pt), back) ||
            memcmp(back, pt, sizeof(pt)) != 0)
            w->ok = 0;
    }
    if (osap_p384_derive(w->key, w->pub, w->x)) w->ok = 0;
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    uint8_t d1[48], d2[48], pub2[97], want[48];
    osap_p384_key *k1 = NULL, *k2 = NULL;
    test_scalar(d1, 0x11);
    test_scalar(d2, 0x22);
    assert_int_equal(osap_p384_from_private(d1, &k1), OSAP_OK);
    assert_int_equal(osap_p384_from_private(d2, &k2), OSAP_OK);
    assert_int_equal(osap_p384_public(k2, pub2), OSAP_OK);
    assert_int_equal(osap_p384_derive(k1, pub2, want), OSAP_OK);

    pthread_t th[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){pub2, k1, {0}, 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_true(w[i].ok);
        assert_memory_equal(w[i].x, want, 48);
    }
    osap_p384_free(k1);
    osap_p384_free(k2);
}

/* ------------------------------------------------------------------ allocation */

static void test_alloc_failures(void **state)
{
    (void)state;
    uint8_t d[48], draws[48];
    osap_p384_key *k = NULL;
    int failures = 0;
    test_scalar(d, 0x11);
    test_alloc_install();
    for (long i = 0;; i++) {
        test_alloc_fail_after(i);
        k = NULL;
        osap_err e = osap_p384_from_private(d, &k);
        test_alloc_reset();
        if (e == OSAP_OK) {
            osap_p384_free(k);
            break;
        }
        assert_int_equal(e, OSAP_ENOMEM);
        assert_null(k);
        failures++;
    }
    assert_true(failures >= 1);
    for (long i = 0;; i++) {
        memcpy(draws, d, 48);
        struct script_rng s = {draws, 1, 0, 0};
        struct osap_rng rng = {script_fill, &s};
        test_alloc_fail_after(i);
        k = NULL;
        osap_err e = osap_p384_generate(&rng, &k);
        test_alloc_reset();
        if (e == OSAP_OK) {
            osap_p384_free(k);
            break;
        }
        assert_int_equal(e, OSAP_ENOMEM);
    }
    osap_set_allocator(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_share_key_vectors),
        cmocka_unit_test(test_share_key_args),
        cmocka_unit_test(test_cbc_vector),
        cmocka_unit_test(test_cbc_matches_reference),
        cmocka_unit_test(test_cbc_lengths_and_buffers),
        cmocka_unit_test(test_cbc_padding_every_position),
        cmocka_unit_test(test_cbc_truncated_and_corrupted),
        cmocka_unit_test(test_gcm_vector),
        cmocka_unit_test(test_gcm_bad_tags),
        cmocka_unit_test(test_p384_vectors),
        cmocka_unit_test(test_p384_invalid_points),
        cmocka_unit_test(test_p384_private_range),
        cmocka_unit_test(test_p384_generate),
        cmocka_unit_test(test_rng),
        cmocka_unit_test(test_helpers),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
