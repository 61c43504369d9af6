/*
 * Share key (spec 2.2) and the hub's sub-device verification digest (spec 7.6).
 *
 *   t1 = HEXU|HEXL(MD5(vcode || subserial))
 *   t2 = HEXU(MD5(t1 || SALT))
 *   t3 = HEXU(MD5(t2))
 *   t4 = HEXU(PBKDF2-HMAC-SHA256(t3, SALT, 3 iterations, 32 bytes))
 *   share_key = t4[10:42]
 */
#include "crypto_internal.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <string.h>

static void hex_lower(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
}

static osap_err pbkdf2_sha256(const char pass[32], uint8_t dk[32])
{
    const struct osap__crypto_algs *a = osap__crypto_algs();
    EVP_KDF_CTX *kctx = NULL;
    unsigned int iter = OSAP_SHARE_KEY_PBKDF2_ITER;
    int pkcs5 = 1; /* the profile's 3 iterations are below SP 800-132's floor */
    osap_err err = OSAP_ECRYPTO;

    if (!a) return OSAP_ECRYPTO;
    kctx = EVP_KDF_CTX_new(a->pbkdf2);
    if (!kctx) return OSAP_ENOMEM;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pass, 32),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)OSAP_SHARE_KEY_SALT,
                                          OSAP_SHARE_KEY_SALT_LEN),
        OSSL_PARAM_construct_uint(OSSL_KDF_PARAM_ITER, &iter),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_PKCS5, &pkcs5),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_KDF_derive(kctx, dk, 32, params) != 1) goto out;
    err = OSAP_OK;
out:
    EVP_KDF_CTX_free(kctx);
    if (err) ERR_clear_error();
    return err;
}

osap_err osap__share_key_trace(const char *vcode, size_t vcode_len, const char *subserial,
                               size_t subserial_len, int upper, struct osap__share_key_trace *out)
{
    struct osap__share_key_trace t;
    uint8_t h[16], dk[32];
    osap_err err;

    if ((!vcode && vcode_len) || (!subserial && subserial_len) || !out) return OSAP_EINVAL;
    if ((err = osap__md5(vcode, vcode_len, subserial, subserial_len, h))) goto out;
    if (upper)
        osap_hex_upper(h, 16, t.t1);
    else
        hex_lower(h, 16, t.t1);
    if ((err = osap__md5(t.t1, 32, OSAP_SHARE_KEY_SALT, OSAP_SHARE_KEY_SALT_LEN, h))) goto out;
    osap_hex_upper(h, 16, t.t2);
    if ((err = osap__md5(t.t2, 32, NULL, 0, h))) goto out;
    osap_hex_upper(h, 16, t.t3);
    if ((err = pbkdf2_sha256(t.t3, dk))) goto out;
    osap_hex_upper(dk, 32, t.t4);
    *out = t;
out:
    osap_cleanse(&t, sizeof(t));
    osap_cleanse(h, sizeof(h));
    osap_cleanse(dk, sizeof(dk));
    return err;
}

osap_err osap_share_key(const char *vcode, size_t vcode_len, const char *subserial,
                        size_t subserial_len, int upper, char out[OSAP_SHARE_KEY_LEN])
{
    struct osap__share_key_trace t;
    osap_err err;

    if (!out) return OSAP_EINVAL;
    err = osap__share_key_trace(vcode, vcode_len, subserial, subserial_len, upper, &t);
    if (err == OSAP_OK) memcpy(out, t.t4 + OSAP_SHARE_KEY_HEX_OFFSET, OSAP_SHARE_KEY_LEN);
    osap_cleanse(&t, sizeof(t));
    return err;
}

osap_err osap_child_verify_code(const char *vcode, size_t vcode_len, const char *sn, size_t sn_len,
                                char out[32])
{
    uint8_t h[16];
    char t[32];
    osap_err err;

    if ((!vcode && vcode_len) || (!sn && sn_len) || !out) return OSAP_EINVAL;
    if ((err = osap__md5(vcode, vcode_len, sn, sn_len, h))) goto out;
    osap_hex_upper(h, 16, t);
    if ((err = osap__md5(t, 32, OSAP_SHARE_KEY_SALT, OSAP_SHARE_KEY_SALT_LEN, h))) goto out;
    osap_hex_upper(h, 16, t);
    if ((err = osap__md5(t, 32, NULL, 0, h))) goto out;
    osap_hex_upper(h, 16, out);
out:
    osap_cleanse(h, sizeof(h));
    osap_cleanse(t, sizeof(t));
    return err;
}
