/*
 * CBC-EZ (spec 2.7): AES-128-CBC with the constant IV "01234567" || 0^8 and
 * PKCS#7 padding that is always added (1..16 bytes).
 *
 * The padding is applied and checked here, with OpenSSL's own padding off, so
 * that the error says what was wrong (length or padding), buffers need no slack
 * and a message can be encrypted or decrypted in place.
 */
#include "crypto_internal.h"

#include <limits.h>
#include <openssl/err.h>
#include <string.h>

#define CBC_BLOCK 16

static EVP_CIPHER_CTX *cbc_ctx(const uint8_t *key, int enc)
{
    const struct osap__crypto_algs *a = osap__crypto_algs();
    EVP_CIPHER_CTX *ctx;

    if (!a) return NULL;
    ctx = osap__crypto_thread_ctx(a->aes128_cbc);
    if (!ctx) return NULL;
    if (!EVP_CipherInit_ex2(ctx, NULL, key, (const uint8_t *)OSAP_CBC_EZ_IV, enc, NULL))
        return NULL;
    if (!EVP_CIPHER_CTX_set_padding(ctx, 0)) return NULL;
    return ctx;
}

size_t osap_cbc_ez_len(size_t len)
{
    if (len > SIZE_MAX - CBC_BLOCK) return 0;
    return (len / CBC_BLOCK + 1) * CBC_BLOCK;
}

osap_err osap_cbc_ez_encrypt(const uint8_t key[OSAP_AES_KEY_LEN], const uint8_t *pt, size_t len,
                             uint8_t *ct, size_t ct_cap, size_t *ct_len)
{
    EVP_CIPHER_CTX *ctx;
    uint8_t last[CBC_BLOCK];
    size_t need = osap_cbc_ez_len(len), full, rem;
    int outl = 0;
    osap_err err = OSAP_ECRYPTO;

    if (!key || !ct || !ct_len || (len && !pt)) return OSAP_EINVAL;
    if (need == 0 || need > INT_MAX) return OSAP_ETOOBIG;
    if (ct_cap < need) return OSAP_EBUFSIZE;

    full = len - len % CBC_BLOCK;
    rem = len - full;
    if (rem) memcpy(last, pt + full, rem);
    memset(last + rem, (int)(CBC_BLOCK - rem), CBC_BLOCK - rem);

    ctx = cbc_ctx(key, 1);
    if (!ctx) goto out;
    if (full && (!EVP_EncryptUpdate(ctx, ct, &outl, pt, (int)full) || (size_t)outl != full))
        goto out;
    if (!EVP_EncryptUpdate(ctx, ct + full, &outl, last, CBC_BLOCK) || outl != CBC_BLOCK) goto out;
    *ct_len = need;
    err = OSAP_OK;
out:
    osap_cleanse(last, sizeof(last));
    if (err) ERR_clear_error();
    return err;
}

osap_err osap_cbc_ez_decrypt(const uint8_t key[OSAP_AES_KEY_LEN], const uint8_t *ct, size_t len,
                             uint8_t *pt, size_t pt_cap, size_t *pt_len)
{
    EVP_CIPHER_CTX *ctx;
    int outl = 0;
    unsigned int pad, bad;

    if (!key || !pt_len || (len && (!ct || !pt))) return OSAP_EINVAL;
    if (len == 0 || len % CBC_BLOCK != 0) return OSAP_ECIPHERTEXT_LEN;
    if (len > INT_MAX) return OSAP_ETOOBIG;
    if (pt_cap < len) return OSAP_EBUFSIZE;

    ctx = cbc_ctx(key, 0);
    if (!ctx) goto fail;
    if (!EVP_DecryptUpdate(ctx, pt, &outl, ct, (int)len) || (size_t)outl != len) goto fail;

    /* Check the padding without branching on the secret bytes it covers. */
    pad = pt[len - 1];
    bad = (unsigned int)((pad - 1u) >> 8 & 1u) | (unsigned int)((CBC_BLOCK - pad) >> 8 & 1u);
    for (unsigned int i = 0; i < CBC_BLOCK; i++) {
        unsigned int in_pad = (unsigned int)((i - pad) >> 8 & 1u); /* 1 when i < pad */
        bad |= in_pad & (unsigned int)((pt[len - 1 - i] ^ pad) != 0);
    }
    if (bad) {
        osap_cleanse(pt, len);
        return OSAP_EPADDING;
    }
    *pt_len = len - pad;
    return OSAP_OK;
fail:
    if (pt) osap_cleanse(pt, len);
    ERR_clear_error();
    return OSAP_ECRYPTO;
}
