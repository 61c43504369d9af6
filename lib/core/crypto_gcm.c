/*
 * GCM-EZ (spec 2.6): AES-128-GCM with the constant nonce "012345" || 0^6, no
 * AAD, a 16-byte tag, ciphertext as long as the plaintext.
 */
#include "crypto_internal.h"

#include <limits.h>
#include <openssl/err.h>
#include <string.h>

static EVP_CIPHER_CTX *gcm_ctx(const uint8_t *key, int enc)
{
    EVP_CIPHER_CTX *ctx = osap__crypto_thread_ctx(OSAP__CTX_GCM);

    if (!ctx) return NULL;
    /* The context already holds the cipher: only the key and the nonce change. */
    if (!EVP_CipherInit_ex2(ctx, NULL, key, (const uint8_t *)OSAP_GCM_EZ_NONCE, enc, NULL))
        return NULL;
    return ctx;
}

osap_err osap_gcm_ez_encrypt(const uint8_t key[OSAP_AES_KEY_LEN], const uint8_t *pt, size_t len,
                             uint8_t tag[OSAP_GCM_TAG_LEN], uint8_t *ct)
{
    EVP_CIPHER_CTX *ctx;
    uint8_t fin[16]; /* GCM's final step writes nothing; never offset a NULL pointer */
    int outl = 0, finl = 0;

    if (!key || !tag || (len && (!pt || !ct))) return OSAP_EINVAL;
    if (len > INT_MAX) return OSAP_ETOOBIG;
    ctx = gcm_ctx(key, 1);
    if (!ctx) goto fail;
    if (len && (!EVP_EncryptUpdate(ctx, ct, &outl, pt, (int)len) || (size_t)outl != len)) goto fail;
    if (!EVP_EncryptFinal_ex(ctx, fin, &finl) || finl != 0) goto fail;
    if (!EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, OSAP_GCM_TAG_LEN, tag)) goto fail;
    return OSAP_OK;
fail:
    ERR_clear_error();
    return OSAP_ECRYPTO;
}

osap_err osap_gcm_ez_decrypt(const uint8_t key[OSAP_AES_KEY_LEN],
                             const uint8_t tag[OSAP_GCM_TAG_LEN], const uint8_t *ct, size_t len,
                             uint8_t *pt)
{
    EVP_CIPHER_CTX *ctx;
    uint8_t tagbuf[OSAP_GCM_TAG_LEN], fin[16];
    int outl = 0, finl = 0;

    if (!key || !tag || (len && (!pt || !ct))) return OSAP_EINVAL;
    if (len > INT_MAX) return OSAP_ETOOBIG;
    memcpy(tagbuf, tag, sizeof(tagbuf)); /* the tag may live in the output buffer */
    ctx = gcm_ctx(key, 0);
    if (!ctx) goto fail;
    if (!EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, OSAP_GCM_TAG_LEN, tagbuf)) goto fail;
    if (len && (!EVP_DecryptUpdate(ctx, pt, &outl, ct, (int)len) || (size_t)outl != len)) goto fail;
    if (EVP_DecryptFinal_ex(ctx, fin, &finl) <= 0) {
        if (len) osap_cleanse(pt, len);
        ERR_clear_error();
        return OSAP_ETAG;
    }
    return OSAP_OK;
fail:
    if (len && pt) osap_cleanse(pt, len);
    ERR_clear_error();
    return OSAP_ECRYPTO;
}
