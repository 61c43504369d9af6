/* API bearer tokens: generation and the hash the store keeps (see util_secret.h). */
#include "util_secret.h"

#include "util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#define TOKEN_RANDOM_LEN 32

osap_err osap_token_generate(const struct osap_rng *rng, char out[OSAP_TOKEN_LEN + 1])
{
    uint8_t raw[TOKEN_RANDOM_LEN];
    char b64[4 * ((TOKEN_RANDOM_LEN + 2) / 3) + 1];
    size_t plen = strlen(OSAP_TOKEN_PREFIX), n = 0;
    osap_err err = OSAP_OK;

    if (rng)
        err = rng->fill(rng->userdata, raw, sizeof(raw));
    else if (RAND_bytes(raw, sizeof(raw)) != 1)
        err = OSAP_ERANDOM;
    if (err) return err;
    EVP_EncodeBlock((unsigned char *)b64, raw, sizeof(raw));
    OPENSSL_cleanse(raw, sizeof(raw));
    memcpy(out, OSAP_TOKEN_PREFIX, plen);
    for (const char *s = b64; *s && *s != '='; s++) {
        char c = *s == '+' ? '-' : *s == '/' ? '_' : *s;
        out[plen + n++] = c;
    }
    out[plen + n] = '\0';
    OPENSSL_cleanse(b64, sizeof(b64));
    return plen + n == OSAP_TOKEN_LEN ? OSAP_OK : OSAP_ECRYPTO;
}

osap_err osap_token_hash(const char *token, char out[OSAP_TOKEN_HASH_LEN + 1])
{
    uint8_t md[32];
    unsigned int mdlen = 0;

    if (!token) return OSAP_EINVAL;
    if (EVP_Digest(token, strlen(token), md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return OSAP_ECRYPTO;
    osap_hex_encode(md, sizeof(md), out);
    return OSAP_OK;
}
