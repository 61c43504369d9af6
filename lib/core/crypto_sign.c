/*
 * Master key (spec 2.4) and the LBS "sign" (spec 2.5):
 *   master_key = HEXU(MD5(shared_x)[0:8])
 *   sign       = HMAC-SHA384(master_key, SHA-384(subserial))
 */
#include "crypto_internal.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <string.h>

osap_err osap_master_key(const uint8_t shared_x[OSAP_P384_SECRET_LEN],
                         uint8_t master_key[OSAP_MASTER_KEY_LEN])
{
    uint8_t h[16];
    osap_err err;

    if (!shared_x || !master_key) return OSAP_EINVAL;
    err = osap__md5(shared_x, OSAP_P384_SECRET_LEN, NULL, 0, h);
    if (err == OSAP_OK) osap_hex_upper(h, OSAP_MASTER_KEY_LEN / 2, (char *)master_key);
    osap_cleanse(h, sizeof(h));
    return err;
}

osap_err osap_sign(const uint8_t master_key[OSAP_MASTER_KEY_LEN], const char *subserial,
                   size_t subserial_len, uint8_t sign[OSAP_SIGN_LEN])
{
    const struct osap__crypto_algs *a = osap__crypto_algs();
    EVP_MAC_CTX *mctx = NULL;
    uint8_t digest[48], mac[OSAP_SIGN_LEN];
    unsigned int dlen = 0;
    size_t mlen = 0;
    osap_err err = OSAP_ECRYPTO;

    if (!master_key || !sign || (!subserial && subserial_len)) return OSAP_EINVAL;
    if (!a) return OSAP_ECRYPTO;
    if (!EVP_Digest(subserial_len ? (const void *)subserial : "", subserial_len, digest, &dlen,
                    a->sha384, NULL) ||
        dlen != sizeof(digest))
        goto out;
    mctx = EVP_MAC_CTX_new(a->hmac);
    if (!mctx) {
        err = OSAP_ENOMEM;
        goto out;
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA384", 0),
        OSSL_PARAM_construct_end(),
    };
    if (!EVP_MAC_init(mctx, master_key, OSAP_MASTER_KEY_LEN, params)) goto out;
    if (!EVP_MAC_update(mctx, digest, sizeof(digest))) goto out;
    if (!EVP_MAC_final(mctx, mac, &mlen, sizeof(mac)) || mlen != sizeof(mac)) goto out;
    memcpy(sign, mac, sizeof(mac));
    err = OSAP_OK;
out:
    EVP_MAC_CTX_free(mctx);
    osap_cleanse(mac, sizeof(mac));
    if (err) ERR_clear_error();
    return err;
}
