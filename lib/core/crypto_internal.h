/*
 * Internal interface shared by the crypto_*.c files of libosap (not installed).
 *
 * The algorithms are fetched from OpenSSL once per process (pthread_once) and
 * then only read, so every thread can use them without locking. Each thread
 * also keeps one reusable cipher context per AES mode, so that a message costs
 * a key schedule and the cipher work, not an allocation.
 */
#ifndef OSAP_CRYPTO_INTERNAL_H
#define OSAP_CRYPTO_INTERNAL_H

#include "osap/crypto.h"

#include <openssl/ec.h>
#include <openssl/evp.h>

/** The process-wide algorithm table, filled once and never changed. */
struct osap__crypto_algs {
    EVP_CIPHER *aes128_cbc;
    EVP_CIPHER *aes128_gcm;
    EVP_MD *md5;
    EVP_MD *sha256;
    EVP_MD *sha384;
    EVP_MAC *hmac;
    EVP_KDF *pbkdf2;
    EC_GROUP *p384;                           /* read-only after initialisation */
    uint8_t p384_order[OSAP_P384_SECRET_LEN]; /* n, big-endian */
};

/** The algorithm table, or NULL when OpenSSL could not provide an algorithm. */
const struct osap__crypto_algs *osap__crypto_algs(void);

/** The per-thread reusable cipher contexts. */
enum osap__crypto_ctx_kind {
    OSAP__CTX_CBC_ENCRYPT, /* AES-128-CBC, encrypt, OpenSSL's PKCS#7 padding on */
    OSAP__CTX_CBC_DECRYPT, /* AES-128-CBC, decrypt, padding off (checked by the caller) */
    OSAP__CTX_GCM,         /* AES-128-GCM, either direction */
    OSAP__CTX_COUNT
};

/** The calling thread's context of @p kind, set up with its cipher, direction and
 *  padding but no key, or NULL when it cannot be created. A call re-keys it with
 *  EVP_CipherInit_ex2(ctx, NULL, key, iv, -1 or the direction, NULL). Valid until
 *  the thread exits; never free it. */
EVP_CIPHER_CTX *osap__crypto_thread_ctx(enum osap__crypto_ctx_kind kind);

/** MD5 of a || b (either may be empty). */
osap_err osap__md5(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[16]);

/** Every intermediate value of the share-key derivation (spec 2.2), as ASCII. */
struct osap__share_key_trace {
    char t1[32]; /* HEXU or HEXL of MD5(vcode || subserial)  */
    char t2[32]; /* HEXU(MD5(t1 || SALT))                      */
    char t3[32]; /* HEXU(MD5(t2))                              */
    char t4[64]; /* HEXU(PBKDF2-HMAC-SHA256(t3, SALT, 3, 32))  */
};

/** Run the share-key derivation and keep every step (tests and diagnostics). */
osap_err osap__share_key_trace(const char *vcode, size_t vcode_len, const char *subserial,
                               size_t subserial_len, int upper, struct osap__share_key_trace *out);

#endif /* OSAP_CRYPTO_INTERNAL_H */
