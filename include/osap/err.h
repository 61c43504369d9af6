/*
 * OSAP error codes: one enum for every library of the project, 0 = success.
 *
 * The list below is the single source of the codes, their names and their
 * messages. Values are stable: never renumber, never reuse; append new codes
 * inside the range of their subsystem.
 *
 *     0..99     general
 *   100..199    MQTT codec
 *   200..299    LBS codec
 *   300..319    LBS result codes (300 + result byte), one to one
 *   400..412    CONNACK return codes (400 + code), one to one
 *   500..599    crypto
 *   600..699    payload envelope, device topics, JSON documents
 *   700..799    thing model and DSL
 *   800..899    server (store, config, services)
 *   900..999    device SDK
 */
#ifndef OSAP_ERR_H
#define OSAP_ERR_H

#include <stdint.h>

#define OSAP_ERRORS(X)                                                                         \
    X(OK, 0, "success")                                                                        \
    X(ENEED_MORE, 1, "incomplete input: more bytes are needed")                                \
    X(ENOMEM, 2, "out of memory")                                                              \
    X(EINVAL, 3, "invalid argument")                                                           \
    X(ETOOBIG, 4, "input exceeds the configured size limit")                                   \
    X(EBUFSIZE, 5, "output buffer too small")                                                  \
    X(EIO, 6, "input/output error")                                                            \
    X(ETIMEDOUT, 7, "timed out")                                                               \
    X(ECLOSED, 8, "connection closed")                                                         \
    X(ENOTFOUND, 9, "not found")                                                               \
    X(EEXISTS, 10, "already exists")                                                           \
    X(ESTATE, 11, "operation not valid in the current state")                                  \
    X(ECONFIG, 12, "invalid configuration")                                                    \
    X(ESTORE, 13, "storage error")                                                             \
    X(EJSON, 14, "malformed JSON")                                                             \
    X(EUNSUPPORTED, 15, "not supported")                                                       \
    X(EBUSY, 16, "limit reached, try again later")                                             \
    X(EPERM, 17, "permission denied")                                                          \
    X(ETRAILING, 18, "unexpected bytes after the end of the message")                          \
                                                                                               \
    X(EMQTT_TYPE, 100, "MQTT: reserved packet type")                                           \
    X(EMQTT_FLAGS, 101, "MQTT: invalid fixed-header flags for this packet type")               \
    X(EMQTT_REMLEN, 102, "MQTT: malformed remaining length")                                   \
    X(EMQTT_LENGTH, 103, "MQTT: packet length does not match its contents")                    \
    X(EMQTT_QOS, 104, "MQTT: invalid QoS")                                                     \
    X(EMQTT_PROTO_NAME, 105, "MQTT: unsupported protocol name")                                \
    X(EMQTT_PROTO_LEVEL, 106, "MQTT: unsupported protocol level")                              \
    X(EMQTT_CONNECT_FLAGS, 107, "MQTT: invalid CONNECT flags")                                 \
    X(EMQTT_CLIENT_ID, 108, "MQTT: invalid client identifier")                                 \
    X(EMQTT_UTF8, 109, "MQTT: invalid UTF-8 string")                                           \
    X(EMQTT_TOPIC, 110, "MQTT: invalid topic name")                                            \
    X(EMQTT_FILTER, 111, "MQTT: invalid topic filter")                                         \
    X(EMQTT_PACKET_ID, 112, "MQTT: packet identifier must not be zero")                        \
    X(EMQTT_NO_TOPICS, 113, "MQTT: SUBSCRIBE or UNSUBSCRIBE without topic filters")            \
    X(EMQTT_RETURN_CODE, 114, "MQTT: invalid return code")                                     \
    X(EMQTT_WILL_TOPIC, 115, "MQTT: invalid will topic")                                       \
    X(EMQTT_CONNACK_FLAGS, 116, "MQTT: invalid CONNACK acknowledge flags")                     \
                                                                                               \
    X(ELBS_TYPE, 200, "LBS: reserved or unexpected message type")                              \
    X(ELBS_FLAGS, 201, "LBS: invalid first-byte flags")                                        \
    X(ELBS_REMLEN, 202, "LBS: malformed remaining length")                                     \
    X(ELBS_LENGTH, 203, "LBS: field lengths do not match the frame")                           \
    X(ELBS_AUTH_TYPE, 204, "LBS: no supported auth type")                                      \
    X(ELBS_FIELD, 205, "LBS: field has an invalid length or value")                            \
    X(ELBS_SUBSERIAL, 206, "LBS: subserial is empty, too long or contains NUL")                \
    X(ELBS_DEVID_LEN, 207, "LBS: devid length is not 32")                                      \
    X(ELBS_SESSION_KEY_LEN, 208, "LBS: session key length is not 16")                          \
    X(ELBS_SIGN_LEN, 209, "LBS: sign is not exactly 48 bytes")                                 \
    X(ELBS_CIPHERTEXT_LEN, 210, "LBS: ciphertext has the wrong length")                        \
    X(ELBS_VAR_HEADER, 211, "LBS: malformed variable header")                                  \
    X(ELBS_SIGN, 212, "LBS: sign does not match")                                              \
    X(ELBS_RANDOM, 213, "LBS: random challenge does not match")                                \
                                                                                               \
    X(ELBS_RESULT_SIGN, 301, "LBS result 1: share-key check failed (wrong verification code)") \
    X(ELBS_RESULT_ORDER, 302, "LBS result 2: wrong message order")                             \
    X(ELBS_RESULT_INVALID, 303, "LBS result 3: invalid data")                                  \
    X(ELBS_RESULT_DEVID, 304, "LBS result 4: devid does not match the platform record")        \
    X(ELBS_RESULT_UNKNOWN_DEVICE, 305, "LBS result 5: unknown device")                         \
    X(ELBS_RESULT_STORAGE, 306, "LBS result 6: storage lookup failed")                         \
    X(ELBS_RESULT_DECRYPT, 307, "LBS result 7: decryption failed")                             \
    X(ELBS_RESULT_ENCRYPT, 308, "LBS result 8: encryption failed")                             \
    X(ELBS_RESULT_DAS_INFO, 309, "LBS result 9: no DAS available")                             \
    X(ELBS_RESULT_MASTER_KEY, 310, "LBS result 10: master key invalid")                        \
    X(ELBS_RESULT_STUN_SESSION, 311, "LBS result 11: STUN session key mismatch")               \
    X(ELBS_RESULT_STUN_ORDER, 312, "LBS result 12: STUN wrong order")                          \
    X(ELBS_RESULT_DAS_ORDER, 313, "LBS result 13: DAS info requested out of order")            \
    X(ELBS_RESULT_HMAC, 314, "LBS result 14: HMAC-SHA384 sign check failed")                   \
    X(ELBS_RESULT_KEYGEN, 315, "LBS result 15: key generation failed")                         \
    X(ELBS_RESULT_ECDH, 316, "LBS result 16: ECDH failed")                                     \
    X(ELBS_RESULT_ECDH_SIGN, 317, "LBS result 17: ECDH sign check failed")                     \
    X(ELBS_RESULT_SESSION_KEY, 318, "LBS result 18: session-key check failed")                 \
    X(ELBS_RESULT_SIGN_CHECK, 319, "LBS result 19: sign check failed")                         \
    X(ELBS_RESULT_OTHER, 399, "LBS: unknown non-zero result code")                             \
                                                                                               \
    X(ECONNACK_PROTOCOL, 401, "CONNACK 1: unacceptable protocol version")                      \
    X(ECONNACK_IDENTIFIER, 402, "CONNACK 2: identifier rejected")                              \
    X(ECONNACK_UNAVAILABLE, 403, "CONNACK 3: server unavailable")                              \
    X(ECONNACK_CREDENTIALS, 404, "CONNACK 4: bad user name or password")                       \
    X(ECONNACK_NOT_AUTHORIZED, 405, "CONNACK 5: not authorized")                               \
    X(ECONNACK_BLOCKED, 410, "CONNACK 10: device is blocked")                                  \
    X(ECONNACK_SESSION_INVALID, 411, "CONNACK 11: session invalid, go back to the LBS")        \
    X(ECONNACK_SESSION_EXISTS, 412, "CONNACK 12: session exists, use light registration")      \
    X(ECONNACK_OTHER, 499, "CONNACK: unknown return code")                                     \
                                                                                               \
    X(ECRYPTO, 500, "crypto: library failure")                                                 \
    X(ETAG, 501, "crypto: authentication tag mismatch")                                        \
    X(EPADDING, 502, "crypto: invalid PKCS#7 padding")                                         \
    X(ECIPHERTEXT_LEN, 503, "crypto: ciphertext length is not a positive multiple of 16")      \
    X(EPOINT, 504, "crypto: invalid P-384 public key")                                         \
    X(ERANDOM, 505, "crypto: random source failed")                                            \
                                                                                               \
    X(EENVELOPE, 600, "envelope: malformed payload envelope")                                  \
    X(ECOMMON_JSON, 601, "envelope: malformed common JSON")                                    \
    X(EREG_JSON, 602, "registration JSON: malformed or missing members")                       \
    X(EDEVICE_TOPIC, 603, "device topic: malformed")                                           \
    X(EDAS_JSON, 604, "DAS info JSON: malformed or missing members")                           \
    X(EDAS_REQUEST_JSON, 605, "DAS request JSON (LBS 0xA): malformed or unexpected members")   \
                                                                                               \
    X(EMODEL_SYNTAX, 700, "model: syntax error")                                               \
    X(EMODEL_SEMANTIC, 701, "model: invalid definition")                                       \
    X(EMODEL_VALIDATION, 702, "model: value does not match the model")                         \
    X(EMODEL_UNKNOWN, 703, "model: unknown resource, index, domain or identifier")             \
    X(EMODEL_ACCESS, 704, "model: attribute access does not allow this")                       \
    X(EMODEL_FORMAT, 705, "model: malformed compiled model document")                          \
    X(EMODEL_TEMPLATE, 706, "model: extended template not found or unreadable")                \
                                                                                               \
    X(ESERVER, 800, "server: internal error")                                                  \
    X(ESTORE_SCHEMA, 801, "store: database schema is newer than this program")                 \
    X(ESTORE_BACKEND, 802, "store: unknown store backend")                                     \
    X(ESTORE_BUSY, 803, "store: database is locked, try again later")                          \
    X(ESERVICE_UNKNOWN, 804, "server: service not available in this build")                    \
                                                                                               \
    X(EHTTP_LISTEN, 850, "HTTP: cannot listen on the configured address")                      \
    X(EHTTP_TLS, 851, "HTTP: TLS certificate, key or handshake failed")                        \
    X(EHTTP_MULTIPART, 852, "HTTP: malformed multipart/form-data body")                        \
                                                                                               \
    X(EDEVICE, 900, "device: internal error")

/** Error codes of every OSAP library. 0 is success. */
typedef enum osap_err {
#define OSAP_ERR_ENUM_(name, value, text) OSAP_##name = value,
    OSAP_ERRORS(OSAP_ERR_ENUM_)
#undef OSAP_ERR_ENUM_
} osap_err;

/** A static, human-readable English message for @p err (never NULL). */
const char *osap_strerror(int err);

/** The symbolic name of @p err without the OSAP_ prefix, e.g. "EMQTT_QOS" (never NULL). */
const char *osap_errname(int err);

/** Map an LBS result byte to an error: 0 -> OSAP_OK, 1..19 -> OSAP_ELBS_RESULT_*,
 *  other values -> OSAP_ELBS_RESULT_OTHER. */
osap_err osap_err_from_lbs_result(uint8_t result);

/** Map an error to the LBS result byte that reports it: OSAP_ELBS_RESULT_* -> 1..19;
 *  OSAP_OK -> 0; anything else -> 3 (invalid data). */
uint8_t osap_err_to_lbs_result(osap_err err);

/** Map a CONNACK return code to an error: 0 -> OSAP_OK, 1..5 and 10..12 -> the
 *  matching OSAP_ECONNACK_*, other values -> OSAP_ECONNACK_OTHER. */
osap_err osap_err_from_connack(uint8_t code);

/** Map an error to a CONNACK return code: OSAP_ECONNACK_* -> its code; OSAP_OK -> 0;
 *  anything else -> 3 (server unavailable). */
uint8_t osap_err_to_connack(osap_err err);

#endif /* OSAP_ERR_H */
