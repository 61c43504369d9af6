/*
 * P-384 key pairs and ECDH (spec 2.3). Keys are EVP_PKEYs built with
 * EVP_PKEY_fromdata; the public point is computed once and kept in wire form
 * (0x04 || X || Y). A derive parses the peer point (which checks that it lies on
 * the curve; P-384 has cofactor 1, so that is the whole validation) and runs one
 * scalar multiplication: the provider's own peer check, which would add a
 * second multiplication by the group order, is skipped.
 */
#include "crypto_internal.h"

#include "osap/alloc.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <string.h>

/* Draws of 48 random bytes before generate gives up: a fair source needs more than
 * one draw with probability about 2^-190, so reaching this means a broken source. */
#define P384_MAX_DRAWS 64

struct osap_p384_key {
    EVP_PKEY *pkey;
    uint8_t pub[OSAP_P384_PUBKEY_LEN];
};

/* 1 when 1 <= d < n. */
static int scalar_in_range(const struct osap__crypto_algs *a, const uint8_t d[48])
{
    uint8_t acc = 0;

    for (size_t i = 0; i < OSAP_P384_SECRET_LEN; i++)
        acc |= d[i];
    if (acc == 0) return 0;
    return memcmp(d, a->p384_order, OSAP_P384_SECRET_LEN) < 0;
}

/* pub = d * G in uncompressed form. */
static osap_err compute_public(const struct osap__crypto_algs *a, const BIGNUM *d,
                               uint8_t pub[OSAP_P384_PUBKEY_LEN])
{
    BN_CTX *bn = BN_CTX_new();
    EC_POINT *p = EC_POINT_new(a->p384);
    osap_err err = OSAP_ENOMEM;

    if (!bn || !p) goto out;
    err = OSAP_ECRYPTO;
    if (!EC_POINT_mul(a->p384, p, d, NULL, NULL, bn)) goto out;
    if (EC_POINT_point2oct(a->p384, p, POINT_CONVERSION_UNCOMPRESSED, pub, OSAP_P384_PUBKEY_LEN,
                           bn) != OSAP_P384_PUBKEY_LEN)
        goto out;
    err = OSAP_OK;
out:
    EC_POINT_free(p);
    BN_CTX_free(bn);
    return err;
}

osap_err osap_p384_from_private(const uint8_t priv[OSAP_P384_SECRET_LEN], osap_p384_key **out)
{
    const struct osap__crypto_algs *a = osap__crypto_algs();
    struct osap_p384_key *key = NULL;
    BIGNUM *d = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    osap_err err = OSAP_EINVAL;

    if (!priv || !out) return OSAP_EINVAL;
    if (!a) return OSAP_ECRYPTO;
    if (!scalar_in_range(a, priv)) goto out;

    err = OSAP_ENOMEM;
    key = osap_calloc(1, sizeof(*key));
    d = BN_secure_new();
    if (!key || !d) goto out;
    BN_set_flags(d, BN_FLG_CONSTTIME);
    err = OSAP_ECRYPTO;
    if (!BN_bin2bn(priv, OSAP_P384_SECRET_LEN, d)) goto out;
    if ((err = compute_public(a, d, key->pub))) goto out;

    err = OSAP_ECRYPTO;
    bld = OSSL_PARAM_BLD_new();
    if (!bld) goto out;
    if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-384", 0) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, key->pub,
                                          OSAP_P384_PUBKEY_LEN))
        goto out;
    params = OSSL_PARAM_BLD_to_param(bld);
    pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!params || !pctx) goto out;
    if (EVP_PKEY_fromdata_init(pctx) != 1 ||
        EVP_PKEY_fromdata(pctx, &key->pkey, EVP_PKEY_KEYPAIR, params) != 1)
        goto out;
    *out = key;
    key = NULL;
    err = OSAP_OK;
out:
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params); /* clears the private scalar it copied */
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(d);
    osap_p384_free(key);
    if (err) ERR_clear_error();
    return err;
}

osap_err osap_p384_generate(const struct osap_rng *rng, osap_p384_key **out)
{
    const struct osap__crypto_algs *a = osap__crypto_algs();
    uint8_t d[OSAP_P384_SECRET_LEN];
    osap_err err = OSAP_ERANDOM;

    if (!out) return OSAP_EINVAL;
    if (!a) return OSAP_ECRYPTO;
    for (int i = 0; i < P384_MAX_DRAWS; i++) {
        if ((err = osap_rng_fill(rng, d, sizeof(d)))) goto out;
        if (scalar_in_range(a, d)) {
            err = osap_p384_from_private(d, out);
            goto out;
        }
    }
    err = OSAP_ERANDOM;
out:
    osap_cleanse(d, sizeof(d));
    return err;
}

osap_err osap_p384_public(const osap_p384_key *key, uint8_t out[OSAP_P384_PUBKEY_LEN])
{
    if (!key || !out) return OSAP_EINVAL;
    memcpy(out, key->pub, OSAP_P384_PUBKEY_LEN);
    return OSAP_OK;
}

osap_err osap_p384_check_public(const uint8_t pub[OSAP_P384_PUBKEY_LEN])
{
    const struct osap__crypto_algs *a = osap__crypto_algs();
    EC_POINT *p = NULL;
    osap_err err = OSAP_EPOINT;

    if (!pub) return OSAP_EINVAL;
    if (!a) return OSAP_ECRYPTO;
    if (pub[0] != POINT_CONVERSION_UNCOMPRESSED) return OSAP_EPOINT;
    p = EC_POINT_new(a->p384);
    if (!p) return OSAP_ENOMEM;
    /* oct2point rejects coordinates >= p and points off the curve. */
    if (EC_POINT_oct2point(a->p384, p, pub, OSAP_P384_PUBKEY_LEN, NULL) == 1) err = OSAP_OK;
    EC_POINT_free(p);
    if (err) ERR_clear_error();
    return err;
}

/* Parse a peer's wire point into an EVP_PKEY; OSAP_EPOINT when it is not on the curve. */
static osap_err peer_from_wire(const uint8_t pub[OSAP_P384_PUBKEY_LEN], EVP_PKEY **out)
{
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY *peer = NULL;
    osap_err err = OSAP_EPOINT;

    /* Uncompressed form only: OpenSSL would also take the 97-byte hybrid forms 06/07. */
    if (pub[0] != POINT_CONVERSION_UNCOMPRESSED) return OSAP_EPOINT;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"P-384", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub,
                                          OSAP_P384_PUBKEY_LEN),
        OSSL_PARAM_construct_end(),
    };
    pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!pctx) return OSAP_ENOMEM;
    if (EVP_PKEY_fromdata_init(pctx) != 1) {
        err = OSAP_ECRYPTO;
        goto out;
    }
    if (EVP_PKEY_fromdata(pctx, &peer, EVP_PKEY_PUBLIC_KEY, params) != 1) goto out;
    *out = peer;
    err = OSAP_OK;
out:
    EVP_PKEY_CTX_free(pctx);
    return err;
}

osap_err osap_p384_derive(const osap_p384_key *key, const uint8_t peer_pub[OSAP_P384_PUBKEY_LEN],
                          uint8_t shared_x[OSAP_P384_SECRET_LEN])
{
    EVP_PKEY *peer = NULL;
    EVP_PKEY_CTX *dctx = NULL;
    uint8_t x[OSAP_P384_SECRET_LEN];
    size_t xlen = sizeof(x);
    osap_err err;

    if (!key || !peer_pub || !shared_x) return OSAP_EINVAL;
    if (!osap__crypto_algs()) return OSAP_ECRYPTO;
    if ((err = peer_from_wire(peer_pub, &peer))) goto out;
    err = OSAP_ENOMEM;
    dctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
    if (!dctx) goto out;
    err = OSAP_ECRYPTO;
    if (EVP_PKEY_derive_init(dctx) != 1) goto out;
    if (EVP_PKEY_derive_set_peer_ex(dctx, peer, 0) != 1) goto out;
    if (EVP_PKEY_derive(dctx, x, &xlen) != 1 || xlen != sizeof(x)) goto out;
    memcpy(shared_x, x, sizeof(x));
    err = OSAP_OK;
out:
    osap_cleanse(x, sizeof(x));
    EVP_PKEY_CTX_free(dctx);
    EVP_PKEY_free(peer);
    if (err) ERR_clear_error();
    return err;
}

void osap_p384_free(osap_p384_key *key)
{
    if (!key) return;
    EVP_PKEY_free(key->pkey);
    osap_cleanse(key, sizeof(*key));
    osap_free(key);
}
