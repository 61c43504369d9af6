/*
 * Credentials that osapd stores: MQTT user passwords (slow salted hashes) and
 * API tokens (random bearer tokens of which only a SHA-256 is kept).
 *
 * Password hash format (the one mosquitto_passwd writes, so hashes can be moved
 * between the two): "$7$<iterations>$<salt>$<hash>" where salt is 12 random bytes
 * and hash is PBKDF2-HMAC-SHA512(password, salt, iterations, 64 bytes), both in
 * standard base64 with padding.
 *
 * API tokens: "osap_" followed by 43 base64url characters (32 random bytes). The
 * store keeps the lower-case hex SHA-256 of the whole token text.
 */
#ifndef OSAP_SERVER_UTIL_SECRET_H
#define OSAP_SERVER_UTIL_SECRET_H

#include "osap/crypto.h"
#include "osap/err.h"

#include <stddef.h>
#include <stdint.h>

/** Room for an encoded password hash, NUL included. */
#define OSAP_PASSWORD_HASH_MAX 128
/** Accepted iteration counts (both when hashing and when verifying). */
#define OSAP_PASSWORD_ITERATIONS_MIN 1
#define OSAP_PASSWORD_ITERATIONS_MAX 10000000
/** Longest password accepted (MQTT allows 65535 bytes; nobody needs that). */
#define OSAP_PASSWORD_MAX 1024

/** Token text length without the NUL, and its prefix. */
#define OSAP_TOKEN_PREFIX "osap_"
#define OSAP_TOKEN_LEN    48
/** Hex SHA-256 length without the NUL. */
#define OSAP_TOKEN_HASH_LEN 64

/** Hash @p password with a fresh salt from @p rng (NULL = the system CSPRNG) into
 *  @p out. OSAP_EINVAL for an empty or over-long password or a bad iteration count. */
osap_err osap_password_hash(const char *password, uint32_t iterations, const struct osap_rng *rng,
                            char out[OSAP_PASSWORD_HASH_MAX]);

/** Check @p password against @p encoded: OSAP_OK on a match, OSAP_EPERM on a
 *  mismatch, OSAP_EINVAL when @p encoded is not a hash this program understands.
 *  The comparison runs in constant time. */
osap_err osap_password_verify(const char *encoded, const char *password);

/** A new API token from @p rng (NULL = the system CSPRNG). */
osap_err osap_token_generate(const struct osap_rng *rng, char out[OSAP_TOKEN_LEN + 1]);

/** The stored form of @p token: lower-case hex SHA-256 of its text. */
osap_err osap_token_hash(const char *token, char out[OSAP_TOKEN_HASH_LEN + 1]);

#endif /* OSAP_SERVER_UTIL_SECRET_H */
