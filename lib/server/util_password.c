/* MQTT user password hashes: PBKDF2-HMAC-SHA512 in mosquitto's "$7$" format. */
#include "util_secret.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SALT_LEN 12
#define HASH_LEN 64

static osap_err random_fill(const struct osap_rng *rng, uint8_t *buf, size_t len)
{
    if (rng) return rng->fill(rng->userdata, buf, len);
    return RAND_bytes(buf, (int)len) == 1 ? OSAP_OK : OSAP_ERANDOM;
}

static osap_err derive(const char *password, const uint8_t *salt, size_t salt_len,
                       uint32_t iterations, uint8_t out[HASH_LEN])
{
    size_t n = strlen(password);
    if (PKCS5_PBKDF2_HMAC(password, (int)n, salt, (int)salt_len, (int)iterations, EVP_sha512(),
                          HASH_LEN, out) != 1)
        return OSAP_ECRYPTO;
    return OSAP_OK;
}

/* Decode standard base64 (with padding) of exactly @p want bytes. */
static int b64_decode_exact(const char *s, size_t len, uint8_t *out, size_t want)
{
    uint8_t buf[96];
    size_t pad = 0;
    int n;

    if (len == 0 || len % 4 != 0 || len / 4 * 3 > sizeof(buf)) return -1;
    if (s[len - 1] == '=') pad++;
    if (s[len - 2] == '=') pad++;
    n = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len);
    if (n < 0 || (size_t)n < pad || (size_t)n - pad != want) return -1;
    memcpy(out, buf, want);
    OPENSSL_cleanse(buf, sizeof(buf));
    return 0;
}

osap_err osap_password_hash(const char *password, uint32_t iterations, const struct osap_rng *rng,
                            char out[OSAP_PASSWORD_HASH_MAX])
{
    uint8_t salt[SALT_LEN], hash[HASH_LEN];
    char salt64[4 * ((SALT_LEN + 2) / 3) + 1], hash64[4 * ((HASH_LEN + 2) / 3) + 1];
    osap_err err;
    size_t plen = password ? strlen(password) : 0;

    if (plen == 0 || plen > OSAP_PASSWORD_MAX) return OSAP_EINVAL;
    if (iterations < OSAP_PASSWORD_ITERATIONS_MIN || iterations > OSAP_PASSWORD_ITERATIONS_MAX)
        return OSAP_EINVAL;
    err = random_fill(rng, salt, sizeof(salt));
    if (err) return err;
    err = derive(password, salt, sizeof(salt), iterations, hash);
    if (err) goto out;
    EVP_EncodeBlock((unsigned char *)salt64, salt, SALT_LEN);
    EVP_EncodeBlock((unsigned char *)hash64, hash, HASH_LEN);
    snprintf(out, OSAP_PASSWORD_HASH_MAX, "$7$%u$%s$%s", (unsigned)iterations, salt64, hash64);
out:
    OPENSSL_cleanse(hash, sizeof(hash));
    return err;
}

osap_err osap_password_verify(const char *encoded, const char *password)
{
    uint8_t salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
    const char *p, *salt_end;
    char *end;
    unsigned long iterations;
    osap_err err;

    if (!encoded || strncmp(encoded, "$7$", 3) != 0) return OSAP_EINVAL;
    p = encoded + 3;
    if (*p < '1' || *p > '9') return OSAP_EINVAL;
    iterations = strtoul(p, &end, 10);
    if (*end != '$' || iterations < OSAP_PASSWORD_ITERATIONS_MIN ||
        iterations > OSAP_PASSWORD_ITERATIONS_MAX)
        return OSAP_EINVAL;
    p = end + 1;
    salt_end = strchr(p, '$');
    if (!salt_end) return OSAP_EINVAL;
    if (b64_decode_exact(p, (size_t)(salt_end - p), salt, SALT_LEN) != 0) return OSAP_EINVAL;
    p = salt_end + 1;
    if (b64_decode_exact(p, strlen(p), want, HASH_LEN) != 0) return OSAP_EINVAL;
    if (!password || strlen(password) > OSAP_PASSWORD_MAX) return OSAP_EPERM;
    err = derive(password, salt, SALT_LEN, (uint32_t)iterations, got);
    if (err == OSAP_OK && CRYPTO_memcmp(got, want, HASH_LEN) != 0) err = OSAP_EPERM;
    OPENSSL_cleanse(got, sizeof(got));
    OPENSSL_cleanse(want, sizeof(want));
    return err;
}
