/*
 * CBC-EZ (spec 2.7): AES-128-CBC with the constant IV "01234567" || 0^8 and
 * PKCS#7 padding that is always added (1..16 bytes).
 *
 * Encryption uses OpenSSL's padding, which is exactly PKCS#7. Decryption runs
 * with padding off and checks it here, in constant time, so that the error says
 * what was wrong (length or padding), the output needs no slack and a message
 * can be decrypted in place.
 */
#include "crypto_internal.h"

#include <limits.h>
#include <openssl/err.h>
#include <string.h>

#define CBC_BLOCK 16

static EVP_CIPHER_CTX *cbc_ctx(enum osap__crypto_ctx_kind kind, const uint8_t *key)
{
    EVP_CIPHER_CTX *ctx = osap__crypto_thread_ctx(kind);

    if (!ctx) return NULL;
    /* Cipher, direction and padding stay; only the key and the IV are set. */
    if (!EVP_CipherInit_ex2(ctx, NULL, key, (const uint8_t *)OSAP_CBC_EZ_IV, -1, NULL)) return NULL;
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
    size_t need = osap_cbc_ez_len(len);
    int n1 = 0, n2 = 0;

    if (!key || !ct || !ct_len || (len && !pt)) return OSAP_EINVAL;
    if (need == 0 || need > INT_MAX) return OSAP_ETOOBIG;
    if (ct_cap < need) return OSAP_EBUFSIZE;

    ctx = cbc_ctx(OSAP__CTX_CBC_ENCRYPT, key);
    if (!ctx) goto fail;
    /* Update writes the whole blocks (at most len bytes, in place is fine) and
     * Final the last block with the padding. */
    if (len && !EVP_EncryptUpdate(ctx, ct, &n1, pt, (int)len)) goto fail;
    if (!EVP_EncryptFinal_ex(ctx, ct + n1, &n2)) goto fail;
    if ((size_t)n1 + (size_t)n2 != need) goto fail;
    *ct_len = need;
    return OSAP_OK;
fail:
    ERR_clear_error();
    return OSAP_ECRYPTO;
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

    ctx = cbc_ctx(OSAP__CTX_CBC_DECRYPT, key);
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
