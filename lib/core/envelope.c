/*
 * The payload envelope (spec 6.7): u16be common_len || common JSON || body,
 * encrypted with CBC-EZ under the session key.
 */
#include "osap/envelope.h"

#include "osap/crypto.h"

#include <string.h>

#define PREFIX_LEN 2

size_t osap_envelope_sealed_len(size_t common_len, size_t body_len)
{
    if (common_len > 0xFFFF) return 0;
    if (body_len > SIZE_MAX - PREFIX_LEN - common_len) return 0;
    return osap_cbc_ez_len(PREFIX_LEN + common_len + body_len);
}

osap_err osap_envelope_seal(const uint8_t key[OSAP_AES_KEY_LEN], const char *common,
                            size_t common_len, const uint8_t *body, size_t body_len, uint8_t *out,
                            size_t out_cap, size_t *out_len)
{
    size_t need, plain_len;
    osap_err err;

    if (!key || !out || !out_len || (common_len && !common) || (body_len && !body))
        return OSAP_EINVAL;
    if (common_len > 0xFFFF) return OSAP_ETOOBIG;
    need = osap_envelope_sealed_len(common_len, body_len);
    if (need == 0) return OSAP_ETOOBIG;
    if (out_cap < need) return OSAP_EBUFSIZE;

    /* The plaintext is laid out in the output buffer and encrypted in place. */
    plain_len = PREFIX_LEN + common_len + body_len;
    out[0] = (uint8_t)(common_len >> 8);
    out[1] = (uint8_t)(common_len & 0xFF);
    if (common_len) memcpy(out + PREFIX_LEN, common, common_len);
    if (body_len) memcpy(out + PREFIX_LEN + common_len, body, body_len);
    err = osap_cbc_ez_encrypt(key, out, plain_len, out, out_cap, out_len);
    if (err) osap_cleanse(out, plain_len);
    return err;
}

osap_err osap_envelope_split(const uint8_t *plain, size_t len, struct osap_envelope_view *view)
{
    size_t common_len;

    if ((len && !plain) || !view) return OSAP_EINVAL;
    if (len < PREFIX_LEN) return OSAP_EENVELOPE;
    common_len = (size_t)plain[0] << 8 | plain[1];
    if (common_len > len - PREFIX_LEN) return OSAP_EENVELOPE;
    view->common = (const char *)plain + PREFIX_LEN;
    view->common_len = common_len;
    view->body = plain + PREFIX_LEN + common_len;
    view->body_len = len - PREFIX_LEN - common_len;
    return OSAP_OK;
}

osap_err osap_envelope_open(const uint8_t key[OSAP_AES_KEY_LEN], const uint8_t *payload,
                            size_t payload_len, uint8_t *plain, size_t plain_cap,
                            struct osap_envelope_view *view)
{
    size_t n = 0;
    osap_err err;

    if (!key || !view || (payload_len && (!payload || !plain))) return OSAP_EINVAL;
    err = osap_cbc_ez_decrypt(key, payload, payload_len, plain, plain_cap, &n);
    if (err) return err;
    return osap_envelope_split(plain, n, view);
}
