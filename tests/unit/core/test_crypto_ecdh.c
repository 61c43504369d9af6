/*
 * P-384 ECDH (spec 2.3) against OpenSSL's own ECDH provider: osap_p384_derive()
 * works on the curve group directly, so every result is checked against
 * EVP_PKEY_derive() with keys built independently from the same scalars (the
 * provider validating the peer itself): deterministic pseudo-random scalars, short
 * scalars (leading zero bytes), the extremes 1, 2, n-2, n-1, an X coordinate that
 * needs left padding, one key shared by threads deriving with many peers (as the
 * LBS's pool threads share its key pair) mixed with refused points, and outputs left
 * untouched by a failure.
 */
#include "testutil.h"

#include "osap/crypto.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <pthread.h>
#include <string.h>

/* n, the order of P-384, big-endian */
static const char n_hex[] = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
                            "581a0db248b0a77aecec196accc52973";

/* A deterministic scalar: SHA-384(tag || i), its first @p zeros bytes cleared (a
 * short scalar); SHA-384 output >= n is too rare to meet (about 2^-190). */
static void scalar_of(char tag, unsigned i, size_t zeros, uint8_t d[48])
{
    uint8_t in[5] = {(uint8_t)tag, (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8),
                     (uint8_t)i};
    unsigned int len = 0;
    assert_int_equal(EVP_Digest(in, sizeof(in), d, &len, EVP_sha384(), NULL), 1);
    assert_int_equal(len, 48);
    memset(d, 0, zeros);
    if (zeros == 48) d[47] = 1;
}

/* The provider's answer: EVP keys from the scalar alone and from the peer's wire
 * point, EVP_PKEY_derive with the peer validated. */
static void provider_derive(const uint8_t d[48], const uint8_t peer[97], uint8_t x[48])
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *bn = BN_bin2bn(d, 48, NULL);
    OSSL_PARAM *pp;
    EVP_PKEY *priv = NULL, *pub = NULL;
    EVP_PKEY_CTX *dc;
    size_t xlen = 48;
    OSSL_PARAM qp[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"P-384", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)peer, 97),
        OSSL_PARAM_construct_end(),
    };

    assert_non_null(pc);
    assert_non_null(bld);
    assert_non_null(bn);
    assert_int_equal(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-384", 0),
                     1);
    assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn), 1);
    pp = OSSL_PARAM_BLD_to_param(bld);
    assert_non_null(pp);
    assert_int_equal(EVP_PKEY_fromdata_init(pc), 1);
    assert_int_equal(EVP_PKEY_fromdata(pc, &priv, EVP_PKEY_KEYPAIR, pp), 1);
    assert_int_equal(EVP_PKEY_fromdata(pc, &pub, EVP_PKEY_PUBLIC_KEY, qp), 1);
    dc = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
    assert_non_null(dc);
    assert_int_equal(EVP_PKEY_derive_init(dc), 1);
    assert_int_equal(EVP_PKEY_derive_set_peer_ex(dc, pub, 1), 1);
    assert_int_equal(EVP_PKEY_derive(dc, x, &xlen), 1);
    assert_int_equal(xlen, 48);
    EVP_PKEY_CTX_free(dc);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(priv);
    EVP_PKEY_CTX_free(pc);
    OSSL_PARAM_free(pp);
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(bn);
}

static osap_p384_key *key_of(const uint8_t d[48], uint8_t pub[97])
{
    osap_p384_key *k = NULL;
    assert_int_equal(osap_p384_from_private(d, &k), OSAP_OK);
    assert_int_equal(osap_p384_public(k, pub), OSAP_OK);
    return k;
}

static void test_derive_matches_provider(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 24; i++) {
        uint8_t da[48], db[48], pa[97], pb[97], x1[48], x2[48], ref[48];
        scalar_of('a', i, i % 6, da); /* 0..5 leading zero bytes */
        scalar_of('b', i, 0, db);
        osap_p384_key *a = key_of(da, pa), *b = key_of(db, pb);
        assert_int_equal(osap_p384_derive(a, pb, x1), OSAP_OK);
        assert_int_equal(osap_p384_derive(b, pa, x2), OSAP_OK);
        provider_derive(da, pb, ref);
        assert_bytes_equal(x1, 48, ref, 48);
        assert_bytes_equal(x2, 48, ref, 48);
        /* a key agrees with itself too: d * (d * G) */
        assert_int_equal(osap_p384_derive(a, pa, x1), OSAP_OK);
        provider_derive(da, pa, ref);
        assert_bytes_equal(x1, 48, ref, 48);
        osap_p384_free(a);
        osap_p384_free(b);
    }
}

static void test_derive_edge_scalars(void **state)
{
    (void)state;
    size_t nlen;
    uint8_t *n = test_hex(n_hex, &nlen);
    uint8_t dp[48], pp[97], d[48], pub[97], x[48], ref[48];
    assert_int_equal(nlen, 48);
    scalar_of('p', 0, 0, dp);
    osap_p384_key *peer = key_of(dp, pp);

    /* 1 and n-1 give the peer's own X (n-1 is -1: the point -P has P's X) */
    for (int which = 0; which < 4; which++) {
        switch (which) {
        case 0: memset(d, 0, 48), d[47] = 1; break;
        case 1: memset(d, 0, 48), d[47] = 2; break;
        case 2: memcpy(d, n, 48), d[47] -= 2; break;
        default: memcpy(d, n, 48), d[47] -= 1; break;
        }
        osap_p384_key *k = key_of(d, pub);
        assert_int_equal(osap_p384_derive(k, pp, x), OSAP_OK);
        provider_derive(d, pp, ref);
        assert_bytes_equal(x, 48, ref, 48);
        if (which == 0 || which == 3) assert_bytes_equal(x, 48, pp + 1, 48);
        osap_p384_free(k);
    }
    /* single bits high and low */
    for (int bit = 0; bit < 384; bit += 97) {
        memset(d, 0, 48);
        d[47 - bit / 8] = (uint8_t)(1u << (bit % 8));
        osap_p384_key *k = key_of(d, pub);
        assert_int_equal(osap_p384_derive(k, pp, x), OSAP_OK);
        provider_derive(d, pp, ref);
        assert_bytes_equal(x, 48, ref, 48);
        osap_p384_free(k);
    }
    osap_p384_free(peer);
    test_free_buf(n);
}

/* The shared X is 48 bytes left-padded with zeros: the first small d whose d * G
 * has an X below 2^376. */
static void test_derive_left_padding(void **state)
{
    (void)state;
    uint8_t d[48], g[97], pub[97], x[48], ref[48];
    memset(d, 0, 48);
    d[47] = 1;
    osap_p384_key *one = key_of(d, g);
    unsigned found = 0;
    for (unsigned i = 2; i < 8192 && !found; i++) {
        d[46] = (uint8_t)(i >> 8);
        d[47] = (uint8_t)i;
        osap_p384_key *k = key_of(d, pub);
        if (pub[1] == 0) {
            found = i;
            /* 1 * (d * G) and d * G: both the padded X */
            assert_int_equal(osap_p384_derive(one, pub, x), OSAP_OK);
            assert_int_equal(x[0], 0);
            assert_bytes_equal(x, 48, pub + 1, 48);
            assert_int_equal(osap_p384_derive(k, g, x), OSAP_OK);
            assert_bytes_equal(x, 48, pub + 1, 48);
            provider_derive(d, g, ref);
            assert_bytes_equal(x, 48, ref, 48);
        }
        osap_p384_free(k);
    }
    assert_true(found != 0);
    osap_p384_free(one);
}

static void test_derive_failure_leaves_output(void **state)
{
    (void)state;
    uint8_t d[48], pub[97], bad[97], x[48], keep[48];
    scalar_of('f', 0, 0, d);
    osap_p384_key *k = key_of(d, pub);
    memset(keep, 0xA5, sizeof(keep));
    memcpy(bad, pub, 97);
    bad[50] ^= 0x40; /* Y changed: off the curve */
    memcpy(x, keep, 48);
    assert_int_equal(osap_p384_derive(k, bad, x), OSAP_EPOINT);
    assert_memory_equal(x, keep, 48);
    bad[50] ^= 0x40;
    bad[0] = 0x06; /* hybrid form */
    assert_int_equal(osap_p384_derive(k, bad, x), OSAP_EPOINT);
    assert_memory_equal(x, keep, 48);
    osap_p384_free(k);
}

/* ------------------------------------------------------------------ threads */

#define PEERS 6

struct ecdh_worker {
    const osap_p384_key *key;
    const uint8_t (*peers)[97];
    const uint8_t (*want)[48];
    unsigned first;
    int ok;
};

static void *ecdh_worker_run(void *arg)
{
    struct ecdh_worker *w = arg;
    uint8_t x[48], bad[97];

    w->ok = 1;
    for (unsigned round = 0; round < 3 * PEERS; round++) {
        unsigned p = (w->first + round) % PEERS;
        if (osap_p384_derive(w->key, w->peers[p], x) != OSAP_OK || memcmp(x, w->want[p], 48) != 0)
            w->ok = 0;
        /* a refused point between two good ones changes nothing for anybody */
        memcpy(bad, w->peers[p], 97);
        bad[96] ^= 1;
        if (osap_p384_derive(w->key, bad, x) != OSAP_EPOINT) w->ok = 0;
    }
    return NULL;
}

static void test_derive_shared_key_threads(void **state)
{
    (void)state;
    uint8_t d[48], pub[97], peers[PEERS][97], want[PEERS][48];
    scalar_of('s', 0, 0, d);
    osap_p384_key *key = key_of(d, pub);
    for (unsigned i = 0; i < PEERS; i++) {
        uint8_t dp[48];
        scalar_of('q', i, 0, dp);
        osap_p384_free(key_of(dp, peers[i]));
        provider_derive(d, peers[i], want[i]);
    }
    pthread_t th[4];
    struct ecdh_worker w[4];
    for (unsigned i = 0; i < 4; i++) {
        w[i] = (struct ecdh_worker){key, (const uint8_t(*)[97])peers, (const uint8_t(*)[48])want, i,
                                    0};
        assert_int_equal(pthread_create(&th[i], NULL, ecdh_worker_run, &w[i]), 0);
    }
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_true(w[i].ok);
    }
    /* the key is unchanged by its use */
    uint8_t again[97];
    assert_int_equal(osap_p384_public(key, again), OSAP_OK);
    assert_memory_equal(again, pub, 97);
    osap_p384_free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_derive_matches_provider),
        cmocka_unit_test(test_derive_edge_scalars),
        cmocka_unit_test(test_derive_left_padding),
        cmocka_unit_test(test_derive_failure_leaves_output),
        cmocka_unit_test(test_derive_shared_key_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
