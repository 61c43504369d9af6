/*
 * Crypto plumbing: the process-wide algorithm table, the per-thread cipher
 * contexts, MD5, hex text, constant-time comparison and cleansing.
 */
#include "crypto_internal.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <pthread.h>
#include <string.h>

static struct osap__crypto_algs algs;
static int algs_ok;
static pthread_once_t algs_once = PTHREAD_ONCE_INIT;

/* Per-thread cipher contexts, freed by the key destructor when the thread exits. */
struct thread_ctxs {
    EVP_CIPHER_CTX *ctx[OSAP__CTX_COUNT];
    int registered;
};

static _Thread_local struct thread_ctxs tls_ctxs;
static pthread_key_t tls_key;

static void thread_ctxs_release(void *p)
{
    struct thread_ctxs *t = p;

    for (int i = 0; i < OSAP__CTX_COUNT; i++) {
        EVP_CIPHER_CTX_free(t->ctx[i]);
        t->ctx[i] = NULL;
    }
    t->registered = 0;
}

static void algs_init(void)
{
    algs.aes128_cbc = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL);
    algs.aes128_gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
    algs.md5 = EVP_MD_fetch(NULL, "MD5", NULL);
    algs.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    algs.sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
    algs.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    algs.pbkdf2 = EVP_KDF_fetch(NULL, "PBKDF2", NULL);
    algs.p384 = EC_GROUP_new_by_curve_name(NID_secp384r1);
    if (!algs.aes128_cbc || !algs.aes128_gcm || !algs.md5 || !algs.sha256 || !algs.sha384 ||
        !algs.hmac || !algs.pbkdf2 || !algs.p384)
        goto out;
    if (BN_bn2binpad(EC_GROUP_get0_order(algs.p384), algs.p384_order,
                     (int)sizeof(algs.p384_order)) != (int)sizeof(algs.p384_order))
        goto out;
    if (pthread_key_create(&tls_key, thread_ctxs_release) != 0) goto out;
    algs_ok = 1;
out:
    ERR_clear_error();
}

const struct osap__crypto_algs *osap__crypto_algs(void)
{
    if (pthread_once(&algs_once, algs_init) != 0) return NULL;
    return algs_ok ? &algs : NULL;
}

EVP_CIPHER_CTX *osap__crypto_thread_ctx(enum osap__crypto_ctx_kind kind)
{
    const struct osap__crypto_algs *a = osap__crypto_algs();
    EVP_CIPHER_CTX *ctx;
    const EVP_CIPHER *cipher;
    int enc, padding;

    if ((unsigned)kind >= OSAP__CTX_COUNT) return NULL;
    ctx = tls_ctxs.ctx[kind];
    if (ctx) return ctx;
    if (!a) return NULL;
    switch (kind) {
    case OSAP__CTX_CBC_ENCRYPT: cipher = a->aes128_cbc, enc = 1, padding = 1; break;
    case OSAP__CTX_CBC_DECRYPT: cipher = a->aes128_cbc, enc = 0, padding = 0; break;
    default: cipher = a->aes128_gcm, enc = 1, padding = 0; break;
    }
    if (!tls_ctxs.registered) {
        if (pthread_setspecific(tls_key, &tls_ctxs) != 0) return NULL;
        tls_ctxs.registered = 1;
    }
    ctx = EVP_CIPHER_CTX_new();
    if (!ctx) return NULL;
    /* Padding is a property of the context: it survives re-keying. */
    if (!EVP_CipherInit_ex2(ctx, cipher, NULL, NULL, enc, NULL) ||
        (kind != OSAP__CTX_GCM && !EVP_CIPHER_CTX_set_padding(ctx, padding))) {
        EVP_CIPHER_CTX_free(ctx);
        ERR_clear_error();
        return NULL;
    }
    tls_ctxs.ctx[kind] = ctx;
    return ctx;
}

osap_err osap__md5(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[16])
{
    const struct osap__crypto_algs *al = osap__crypto_algs();
    EVP_MD_CTX *ctx = NULL;
    unsigned int n = 0;
    osap_err err = OSAP_ECRYPTO;

    if (!al) return OSAP_ECRYPTO;
    ctx = EVP_MD_CTX_new();
    if (!ctx) return OSAP_ENOMEM;
    if (!EVP_DigestInit_ex2(ctx, al->md5, NULL)) goto out;
    if (alen && !EVP_DigestUpdate(ctx, a, alen)) goto out;
    if (blen && !EVP_DigestUpdate(ctx, b, blen)) goto out;
    if (!EVP_DigestFinal_ex(ctx, out, &n) || n != 16) goto out;
    err = OSAP_OK;
out:
    EVP_MD_CTX_free(ctx);
    if (err) ERR_clear_error();
    return err;
}

void osap_hex_upper(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789ABCDEF";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
}

void osap_cleanse(void *p, size_t len)
{
    if (p && len) OPENSSL_cleanse(p, len);
}

int osap_ct_equal(const void *a, const void *b, size_t len)
{
    if (len == 0) return 1;
    return CRYPTO_memcmp(a, b, len) == 0;
}
