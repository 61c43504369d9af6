/*
 * P-384 key pairs and ECDH (spec 2.3), on the process-wide P-384 group of
 * crypto_util.c. A key is its private scalar (a BIGNUM flagged BN_FLG_CONSTTIME,
 * on OpenSSL's secure heap when the process has one) and its public point in wire
 * form (0x04 || X || Y), computed once.
 *
 * A derive does what OpenSSL's ECDH provider does for a named prime curve
 * (ossl_ecdh_simple_compute_key), without the EVP objects around it: parse the
 * peer's point (EC_POINT_oct2point refuses coordinates >= p and points off the
 * curve; P-384 has cofactor 1, so that is the whole validation), multiply it by
 * the scalar with EC_POINT_mul, and take the affine X. For one point and no
 * generator term, EC_POINT_mul runs OpenSSL's Montgomery ladder with constant-time
 * swaps whatever the flags (ossl_ec_scalar_mul_ladder), the same code the provider
 * reaches. Building an EVP_PKEY for every peer point cost a new EC_GROUP each time
 * (about 4 % of a derive); the group here is built once and only read, so every
 * thread uses it without a lock.
 */
#include "crypto_internal.h"

#include "osap/alloc.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <string.h>

/* Draws of 48 random bytes before generate gives up: a fair source needs more than
 * one draw with probability about 2^-190, so reaching this means a broken source. */
#define P384_MAX_DRAWS 64

struct osap_p384_key {
    BIGNUM *d; /* 1 <= d < n, BN_FLG_CONSTTIME; read-only once built */
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
    osap_err err = OSAP_EINVAL;

    if (!priv || !out) return OSAP_EINVAL;
    if (!a) return OSAP_ECRYPTO;
    if (!scalar_in_range(a, priv)) goto out;

    err = OSAP_ENOMEM;
    key = osap_calloc(1, sizeof(*key));
    if (!key) goto out;
    key->d = BN_secure_new();
    if (!key->d) goto out;
    BN_set_flags(key->d, BN_FLG_CONSTTIME);
    err = OSAP_ECRYPTO;
    if (!BN_bin2bn(priv, OSAP_P384_SECRET_LEN, key->d)) goto out;
    if ((err = compute_public(a, key->d, key->pub))) goto out;
    *out = key;
    key = NULL;
    err = OSAP_OK;
out:
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

/* Parse a peer's wire point into @p p: OSAP_EPOINT unless it is an uncompressed
 * point of the curve (never the point at infinity, which has no such form). */
static osap_err point_from_wire(const struct osap__crypto_algs *a,
                                const uint8_t pub[OSAP_P384_PUBKEY_LEN], EC_POINT *p, BN_CTX *bn)
{
    /* Uncompressed form only: OpenSSL would also take the 97-byte hybrid forms 06/07. */
    if (pub[0] != POINT_CONVERSION_UNCOMPRESSED) return OSAP_EPOINT;
    /* oct2point rejects coordinates >= p and points off the curve. */
    if (EC_POINT_oct2point(a->p384, p, pub, OSAP_P384_PUBKEY_LEN, bn) != 1) return OSAP_EPOINT;
    if (EC_POINT_is_at_infinity(a->p384, p)) return OSAP_EPOINT;
    return OSAP_OK;
}

osap_err osap_p384_check_public(const uint8_t pub[OSAP_P384_PUBKEY_LEN])
{
    const struct osap__crypto_algs *a = osap__crypto_algs();
    EC_POINT *p = NULL;
    osap_err err;

    if (!pub) return OSAP_EINVAL;
    if (!a) return OSAP_ECRYPTO;
    if (pub[0] != POINT_CONVERSION_UNCOMPRESSED) return OSAP_EPOINT;
    p = EC_POINT_new(a->p384);
    if (!p) return OSAP_ENOMEM;
    err = point_from_wire(a, pub, p, NULL);
    EC_POINT_free(p);
    if (err) ERR_clear_error();
    return err;
}

osap_err osap_p384_derive(const osap_p384_key *key, const uint8_t peer_pub[OSAP_P384_PUBKEY_LEN],
                          uint8_t shared_x[OSAP_P384_SECRET_LEN])
{
    const struct osap__crypto_algs *a = osap__crypto_algs();
    BN_CTX *bn = NULL;
    EC_POINT *peer = NULL, *r = NULL;
    BIGNUM *x;
    uint8_t buf[OSAP_P384_SECRET_LEN];
    osap_err err;

    if (!key || !peer_pub || !shared_x) return OSAP_EINVAL;
    if (!a) return OSAP_ECRYPTO;
    if (peer_pub[0] != POINT_CONVERSION_UNCOMPRESSED) return OSAP_EPOINT;
    err = OSAP_ENOMEM;
    /* A context per call, as OpenSSL's ECDH does: BN_CTX_free clears the temporaries
     * that held values derived from the scalar. */
    bn = BN_CTX_new();
    peer = EC_POINT_new(a->p384);
    r = EC_POINT_new(a->p384);
    if (!bn || !peer || !r) goto out;
    BN_CTX_start(bn);
    x = BN_CTX_get(bn);
    if (!x) goto end;
    if ((err = point_from_wire(a, peer_pub, peer, bn))) goto end;
    err = OSAP_ECRYPTO;
    /* No generator term and one point: OpenSSL's constant-time ladder. */
    if (!EC_POINT_mul(a->p384, r, NULL, peer, key->d, bn)) goto end;
    /* Fails for the point at infinity, which 1 <= d < n and a valid point exclude. */
    if (!EC_POINT_get_affine_coordinates(a->p384, r, x, NULL, bn)) goto end;
    if (BN_bn2binpad(x, buf, (int)sizeof(buf)) != (int)sizeof(buf)) goto end;
    memcpy(shared_x, buf, sizeof(buf));
    err = OSAP_OK;
end:
    BN_CTX_end(bn);
out:
    osap_cleanse(buf, sizeof(buf));
    EC_POINT_clear_free(r);
    EC_POINT_free(peer);
    BN_CTX_free(bn);
    if (err) ERR_clear_error();
    return err;
}

void osap_p384_free(osap_p384_key *key)
{
    if (!key) return;
    BN_clear_free(key->d);
    osap_cleanse(key, sizeof(*key));
    osap_free(key);
}
