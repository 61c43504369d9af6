/*
 * OSAP cryptography (legacy profile, spec section 2), on OpenSSL 3 EVP.
 *
 * Every function is thread-safe and re-entrant. Keys and buffers are owned by
 * the caller; nothing is retained after a call returns. Randomness always comes
 * from a struct osap_rng the caller passes, so handshakes can be replayed byte
 * for byte in tests.
 */
#ifndef OSAP_CRYPTO_H
#define OSAP_CRYPTO_H

#include "osap/err.h"
#include "osap/proto.h"

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------ */
/* Randomness                                                               */
/* ------------------------------------------------------------------------ */

/** A source of random bytes. fill() writes exactly @p len bytes or fails. */
struct osap_rng {
    osap_err (*fill)(void *userdata, uint8_t *buf, size_t len);
    void *userdata;
};

/** The system CSPRNG (OpenSSL RAND_bytes). Never NULL; static storage. */
const struct osap_rng *osap_rng_system(void);

/** Fill @p buf from @p rng (the system CSPRNG when @p rng is NULL). */
osap_err osap_rng_fill(const struct osap_rng *rng, uint8_t *buf, size_t len);

/* ------------------------------------------------------------------------ */
/* Share key (spec 2.2)                                                     */
/* ------------------------------------------------------------------------ */

/** Derive the 32-character share key from the verification code (or licence) and
 *  the subserial. @p upper selects the case of the first MD5 hex text (1 = upper,
 *  what devices try first; 0 = lower). @p out receives 32 ASCII characters, not
 *  NUL-terminated; the AES-128 key is out[0..15]. */
osap_err osap_share_key(const char *vcode, size_t vcode_len, const char *subserial,
                        size_t subserial_len, int upper, char out[OSAP_SHARE_KEY_LEN]);

/** The sub-device verification digest of spec 7.6 (hub 0x10):
 *  HEXU(MD5(HEXU(MD5(HEXU(MD5(vcode||sn)) || SALT)))) — 32 ASCII characters. */
osap_err osap_child_verify_code(const char *vcode, size_t vcode_len, const char *sn,
                                size_t sn_len, char out[32]);

/* ------------------------------------------------------------------------ */
/* P-384 ECDH (spec 2.3)                                                    */
/* ------------------------------------------------------------------------ */

/** An opaque P-384 key pair. */
typedef struct osap_p384_key osap_p384_key;

/** Generate a key pair whose private scalar is drawn from @p rng (NULL = system).
 *  Deterministic for a deterministic @p rng. */
osap_err osap_p384_generate(const struct osap_rng *rng, osap_p384_key **out);

/** Build a key pair from a 48-byte big-endian private scalar (1 <= d < n). */
osap_err osap_p384_from_private(const uint8_t priv[OSAP_P384_SECRET_LEN], osap_p384_key **out);

/** The 97-byte uncompressed public key 0x04 || X || Y. */
osap_err osap_p384_public(const osap_p384_key *key, uint8_t out[OSAP_P384_PUBKEY_LEN]);

/** Check that @p pub is a valid uncompressed P-384 point (97 bytes, on the curve). */
osap_err osap_p384_check_public(const uint8_t pub[OSAP_P384_PUBKEY_LEN]);

/** ECDH: the X coordinate of key * peer, 48 bytes big-endian, left-padded with
 *  zeros. OSAP_EPOINT when @p peer_pub is not a valid point. */
osap_err osap_p384_derive(const osap_p384_key *key, const uint8_t peer_pub[OSAP_P384_PUBKEY_LEN],
                          uint8_t shared_x[OSAP_P384_SECRET_LEN]);

/** Free a key pair (NULL is a no-op). */
void osap_p384_free(osap_p384_key *key);

/* ------------------------------------------------------------------------ */
/* Master key and sign (spec 2.4, 2.5)                                      */
/* ------------------------------------------------------------------------ */

/** master_key = HEXU(MD5(shared_x)[0:8]): 16 ASCII characters used as key bytes. */
osap_err osap_master_key(const uint8_t shared_x[OSAP_P384_SECRET_LEN],
                         uint8_t master_key[OSAP_MASTER_KEY_LEN]);

/** sign = HMAC-SHA384(master_key, SHA-384(subserial)), 48 bytes. */
osap_err osap_sign(const uint8_t master_key[OSAP_MASTER_KEY_LEN], const char *subserial,
                   size_t subserial_len, uint8_t sign[OSAP_SIGN_LEN]);

/** Constant-time comparison of two byte strings of length @p len: 1 if equal. */
int osap_ct_equal(const void *a, const void *b, size_t len);

/* ------------------------------------------------------------------------ */
/* GCM-EZ (spec 2.6): AES-128-GCM, constant nonce, no AAD, 16-byte tag.     */
/* ------------------------------------------------------------------------ */

/** Encrypt @p len bytes; @p ct receives @p len bytes (may equal @p pt). */
osap_err osap_gcm_ez_encrypt(const uint8_t key[OSAP_AES_KEY_LEN], const uint8_t *pt, size_t len,
                             uint8_t tag[OSAP_GCM_TAG_LEN], uint8_t *ct);

/** Decrypt and verify; OSAP_ETAG when the tag does not verify (then @p pt is
 *  zeroed). @p pt receives @p len bytes (may equal @p ct). */
osap_err osap_gcm_ez_decrypt(const uint8_t key[OSAP_AES_KEY_LEN],
                             const uint8_t tag[OSAP_GCM_TAG_LEN], const uint8_t *ct, size_t len,
                             uint8_t *pt);

/* ------------------------------------------------------------------------ */
/* CBC-EZ (spec 2.7): AES-128-CBC, constant IV, PKCS#7 always added.        */
/* ------------------------------------------------------------------------ */

/** Ciphertext length for @p len plaintext bytes: the next multiple of 16 above len. */
size_t osap_cbc_ez_len(size_t len);

/** Encrypt; @p ct needs osap_cbc_ez_len(len) bytes (OSAP_EBUFSIZE otherwise).
 *  @p ct may equal @p pt when the buffer has room for the padding. */
osap_err osap_cbc_ez_encrypt(const uint8_t key[OSAP_AES_KEY_LEN], const uint8_t *pt, size_t len,
                             uint8_t *ct, size_t ct_cap, size_t *ct_len);

/** Decrypt and strip the padding. OSAP_ECIPHERTEXT_LEN for an empty input or one
 *  that is not a multiple of 16; OSAP_EPADDING for a last byte outside 1..16 or
 *  inconsistent padding bytes. @p pt needs @p len bytes; may equal @p ct. */
osap_err osap_cbc_ez_decrypt(const uint8_t key[OSAP_AES_KEY_LEN], const uint8_t *ct, size_t len,
                             uint8_t *pt, size_t pt_cap, size_t *pt_len);

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/** Upper-case hex text of @p len bytes into @p out (2*len characters, no NUL). */
void osap_hex_upper(const uint8_t *in, size_t len, char *out);

/** Overwrite @p len bytes of secret material with zeros (not optimised away). */
void osap_cleanse(void *p, size_t len);

#endif /* OSAP_CRYPTO_H */
