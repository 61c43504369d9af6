/*
 * LBS codec: the binary framing between a device and the load-balancing /
 * authentication service (docs/PROTOCOL.md, "LBS framing" and "LBS messages").
 *
 * Sans-I/O and allocation-free. Decoders read a caller buffer and return views
 * (pointers into that buffer, valid as long as the buffer is); encoders write into
 * a caller buffer and report the length, writing nothing unless they succeed.
 *
 * Two layers:
 *   - the frame: first byte (type in the high nibble, flags in the low nibble),
 *     the remaining length (MQTT-style, at most four bytes), the variable header of
 *     0x1 and 0x2, the version triplet and, in server messages, the result byte;
 *   - one decoder and one encoder per message layout, in both directions, so the
 *     server and the device SDK share them.
 *
 * Decoders check every length exactly: a field that runs past the frame is
 * OSAP_ELBS_LENGTH, bytes left over are OSAP_ETRAILING, a field with a fixed size
 * that says otherwise has its own error (OSAP_ELBS_DEVID_LEN, ...). A server
 * message whose result byte is not 0 ends at the result byte.
 */
#ifndef OSAP_LBS_H
#define OSAP_LBS_H

#include "osap/err.h"
#include "osap/proto.h"

#include <stddef.h>
#include <stdint.h>

/** Longest remaining-length field, in bytes. */
#define OSAP_LBS_REMLEN_MAX_BYTES 4
/** Largest remaining length that four bytes can carry. */
#define OSAP_LBS_REMLEN_MAX 268435455u
/** Longest frame header: first byte plus four length bytes. */
#define OSAP_LBS_HEADER_MAX 5
/** Plaintext of the path C step II block: random_1, random_2, session key. */
#define OSAP_LBS_REDIRECT_PLAIN_LEN 18
/** Ciphertext of the path C step II block (18 bytes padded to 32). */
#define OSAP_LBS_REDIRECT_BLOCK_LEN 32
/** Ciphertext of one random byte (path C steps I and III). */
#define OSAP_LBS_RANDOM_BLOCK_LEN 16

/* ------------------------------------------------------------------------ */
/* Frame                                                                    */
/* ------------------------------------------------------------------------ */

/** One decoded LBS frame. Pointers are views into the decoded buffer. */
struct osap_lbs_frame {
    uint8_t byte0;     /**< first byte as received */
    uint8_t type;      /**< high nibble of byte0: OSAP_LBS_AUTH_I ... */
    uint8_t flags;     /**< low nibble of byte0 */
    size_t header_len; /**< first byte plus remaining-length bytes */
    size_t remaining;  /**< remaining length: every byte after the length field */
    size_t frame_len;  /**< header_len + remaining */

    int has_var_header;        /**< 1 for 0x1 and 0x2 */
    uint8_t auth_type;         /**< 0x1: current auth type; 0x2: auth type chosen */
    uint8_t auth_type_count;   /**< 0x1: number of entries in auth_types */
    const uint8_t *auth_types; /**< 0x1: the device's auth type group */

    uint8_t version[OSAP_LBS_VERSION_LEN]; /**< wire order FORM, LOW, HIGH */
    int has_result;                        /**< 1 for server messages: 0x2, 0x6, 0x8, 0xB, 0xD */
    uint8_t result;                        /**< result byte of a server message */

    const uint8_t *payload; /**< bytes after the version (and result) */
    size_t payload_len;
};

/**
 * Find the end of the frame that starts at @p buf.
 *
 * @p max_frame is the largest acceptable whole frame (header included); 0 means
 * OSAP_MESSAGE_MAX + OSAP_LBS_HEADER_MAX. The limit is enforced as soon as the
 * length bytes received so far prove it is exceeded, before the rest arrives.
 *
 * @return OSAP_OK with *@p frame_len set; OSAP_ENEED_MORE when @p len bytes do not
 *         hold the whole frame yet; OSAP_ELBS_REMLEN for a length field of more
 *         than four bytes or a non-minimal one; OSAP_ETOOBIG over @p max_frame.
 */
osap_err osap_lbs_frame_length(const uint8_t *buf, size_t len, size_t max_frame, size_t *frame_len);

/**
 * Decode the frame at the start of @p buf (@p len may extend past it; the frame
 * ends at out->frame_len). Splits the variable header (0x1 when flag 0x08 or the
 * draft's 0x02 is set; 0x2 only with flag 0x08), the version and the result byte.
 *
 * @return OSAP_OK; the errors of osap_lbs_frame_length(); OSAP_ELBS_TYPE for the
 *         reserved types 0x0, 0x3, 0x5; OSAP_ELBS_FLAGS for 0x1 without a
 *         variable-header flag or 0x2 without 0x08; OSAP_ELBS_VAR_HEADER for an
 *         auth type group of more than OSAP_LBS_AUTH_GROUP_MAX entries;
 *         OSAP_ELBS_LENGTH when the frame is too short for these parts.
 */
osap_err osap_lbs_frame_decode(const uint8_t *buf, size_t len, size_t max_frame,
                               struct osap_lbs_frame *out);

/**
 * Write a frame header (first byte and remaining length) into @p out.
 * @return OSAP_OK with *@p len = 2..5; OSAP_EINVAL over OSAP_LBS_REMLEN_MAX.
 */
osap_err osap_lbs_header_encode(uint8_t byte0, size_t remaining, uint8_t out[OSAP_LBS_HEADER_MAX],
                                size_t *len);

/**
 * Encode a server error answer: the frame of @p type (0x2, 0x6, 0x8, 0xB) with the
 * canonical first byte (0x2A, 0x62, 0x82, 0xB0; @p old_header selects 0x80 for 0x8),
 * version 01 01 00 and @p result, nothing after it. For 0x2 the variable header is
 * @p auth_type. Example: 0x2 with result 1 is 2a 05 01 01 01 00 01.
 * @return OSAP_OK, OSAP_EINVAL (not a server type or result 0), OSAP_EBUFSIZE.
 */
osap_err osap_lbs_error_encode(uint8_t type, int old_header, uint8_t auth_type, uint8_t result,
                               uint8_t *out, size_t cap, size_t *len);

/* ------------------------------------------------------------------------ */
/* 0x1 AUTH_I (device -> LBS) and 0x2 AUTH_II (LBS -> device)               */
/* ------------------------------------------------------------------------ */

/** 0x1: ECDH request. Encoded with first byte 0x1A. */
struct osap_lbs_auth_req {
    uint8_t auth_type;                     /**< current auth type (1 = ECDH) */
    uint8_t auth_type_count;               /**< 0..OSAP_LBS_AUTH_GROUP_MAX */
    const uint8_t *auth_types;             /**< the device's auth type group */
    uint8_t version[OSAP_LBS_VERSION_LEN]; /**< devices send 01 02 00 */
    uint8_t auth_mode;                     /**< OSAP_LBS_AUTH_MODE_SAP or _LICENCE */
    const char *subserial;                 /**< 1..OSAP_SUBSERIAL_MAX bytes, no NUL */
    size_t subserial_len;
    const uint8_t *tag;        /**< OSAP_GCM_TAG_LEN bytes */
    const uint8_t *enc_pubkey; /**< OSAP_P384_PUBKEY_LEN bytes: GCM-EZ(share key, pubkey) */
};

/** Decode a 0x1 frame. OSAP_ELBS_TYPE for another type, OSAP_ELBS_SUBSERIAL,
 *  OSAP_ELBS_LENGTH (truncated), OSAP_ETRAILING. */
osap_err osap_lbs_auth_req_decode(const struct osap_lbs_frame *f, struct osap_lbs_auth_req *out);

/** Encode @p m into @p out (@p cap bytes); *@p len receives the frame length.
 *  OSAP_EINVAL for fields out of range, OSAP_EBUFSIZE when @p cap is too small. */
osap_err osap_lbs_auth_req_encode(const struct osap_lbs_auth_req *m, uint8_t *out, size_t cap,
                                  size_t *len);

/** 0x2: ECDH response. Encoded with first byte 0x2A (flag 0x08 always set). */
struct osap_lbs_auth_rsp {
    uint8_t auth_type; /**< variable header: the auth type chosen */
    uint8_t version[OSAP_LBS_VERSION_LEN];
    uint8_t result;            /**< 0 = OK; otherwise the frame ends here */
    const uint8_t *tag;        /**< result 0 only: OSAP_GCM_TAG_LEN bytes */
    const uint8_t *enc_pubkey; /**< result 0 only: GCM-EZ(share key, LBS pubkey), 97 bytes */
};

/** Decode a 0x2 frame: exactly 16 + 97 bytes after a zero result, none after another. */
osap_err osap_lbs_auth_rsp_decode(const struct osap_lbs_frame *f, struct osap_lbs_auth_rsp *out);

/** Encode a 0x2 frame (the tag and key are read only when result is 0). */
osap_err osap_lbs_auth_rsp_encode(const struct osap_lbs_auth_rsp *m, uint8_t *out, size_t cap,
                                  size_t *len);

/* ------------------------------------------------------------------------ */
/* 0x7 apply for devid, path A (new header, device -> LBS)                  */
/* ------------------------------------------------------------------------ */

/** 0x7 of path A: the sign proving the new master key. Encoded as 0x72. */
struct osap_lbs_devid_req {
    uint8_t version[OSAP_LBS_VERSION_LEN];
    const uint8_t *sign; /**< OSAP_SIGN_LEN bytes */
};

/** Decode a path-A 0x7 frame: exactly 48 bytes of sign (OSAP_ELBS_SIGN_LEN). */
osap_err osap_lbs_devid_req_decode(const struct osap_lbs_frame *f, struct osap_lbs_devid_req *out);

/** Encode a path-A 0x7 frame. */
osap_err osap_lbs_devid_req_encode(const struct osap_lbs_devid_req *m, uint8_t *out, size_t cap,
                                   size_t *len);

/* ------------------------------------------------------------------------ */
/* 0x4 refresh session key, path B (device -> LBS)                          */
/* ------------------------------------------------------------------------ */

/** 0x4: the stored devid and the sign under the new master key. Encoded as 0x42. */
struct osap_lbs_refresh_req {
    uint8_t version[OSAP_LBS_VERSION_LEN];
    const uint8_t *devid; /**< OSAP_DEVID_LEN bytes (the length byte must say 32) */
    const uint8_t *sign;  /**< OSAP_SIGN_LEN bytes */
};

/** Decode a 0x4 frame: devid length byte 32 (OSAP_ELBS_DEVID_LEN), then exactly 48
 *  bytes of sign (OSAP_ELBS_SIGN_LEN). */
osap_err osap_lbs_refresh_req_decode(const struct osap_lbs_frame *f,
                                     struct osap_lbs_refresh_req *out);

/** Encode a 0x4 frame. */
osap_err osap_lbs_refresh_req_encode(const struct osap_lbs_refresh_req *m, uint8_t *out, size_t cap,
                                     size_t *len);

/* ------------------------------------------------------------------------ */
/* 0x8 (path A) and 0x6 (path B): devid and session key (LBS -> device)     */
/* ------------------------------------------------------------------------ */

/** The shared layout of 0x8 in path A and of 0x6. */
struct osap_lbs_keys_rsp {
    uint8_t type; /**< OSAP_LBS_RESPONSE_DEVID (encoded 0x82) or OSAP_LBS_REFRESH_SK_RSP (0x62) */
    uint8_t version[OSAP_LBS_VERSION_LEN];
    uint8_t result;                 /**< 0 = OK; otherwise the frame ends here */
    const uint8_t *devid_tag;       /**< OSAP_GCM_TAG_LEN bytes */
    const uint8_t *enc_devid;       /**< OSAP_DEVID_LEN bytes (length byte 32) */
    const uint8_t *session_key_tag; /**< OSAP_GCM_TAG_LEN bytes */
    const uint8_t *enc_session_key; /**< OSAP_SESSION_KEY_LEN bytes (length byte 16) */
    const uint8_t *sign;            /**< OSAP_SIGN_LEN bytes, the last of the frame */
};

/** Decode a 0x8 (path A) or 0x6 frame, as the device checks it: encrypted lengths
 *  exactly 32 (OSAP_ELBS_DEVID_LEN) and 16 (OSAP_ELBS_SESSION_KEY_LEN), exactly 48
 *  bytes of sign left (OSAP_ELBS_SIGN_LEN). */
osap_err osap_lbs_keys_rsp_decode(const struct osap_lbs_frame *f, struct osap_lbs_keys_rsp *out);

/** Encode a 0x8 (path A) or 0x6 frame. */
osap_err osap_lbs_keys_rsp_encode(const struct osap_lbs_keys_rsp *m, uint8_t *out, size_t cap,
                                  size_t *len);

/* ------------------------------------------------------------------------ */
/* Path C: 0x7 (old header), 0x8 (old layout), 0x9                          */
/* ------------------------------------------------------------------------ */

/** Path C step I (0x7, old header, encoded as 0x70). */
struct osap_lbs_redirect_req {
    uint8_t version[OSAP_LBS_VERSION_LEN];
    const char *subserial; /**< 1..OSAP_SUBSERIAL_MAX bytes, no NUL */
    size_t subserial_len;
    const uint8_t *devid;      /**< OSAP_DEVID_LEN bytes (length byte 32) */
    const uint8_t *enc_random; /**< 16 bytes: CBC-EZ(master key, random_1) */
};

/** Decode a path-C 0x7 frame. */
osap_err osap_lbs_redirect_req_decode(const struct osap_lbs_frame *f,
                                      struct osap_lbs_redirect_req *out);

/** Encode a path-C 0x7 frame. */
osap_err osap_lbs_redirect_req_encode(const struct osap_lbs_redirect_req *m, uint8_t *out,
                                      size_t cap, size_t *len);

/** Path C step II (0x8, old layout, encoded as 0x80). */
struct osap_lbs_redirect_rsp {
    uint8_t version[OSAP_LBS_VERSION_LEN];
    uint8_t result;       /**< 0 = OK; otherwise the frame ends here */
    const uint8_t *block; /**< 32 bytes: CBC-EZ(master key, r1 || r2 || session key) */
};

/** Decode a path-C 0x8 frame: exactly 32 bytes after a zero result. */
osap_err osap_lbs_redirect_rsp_decode(const struct osap_lbs_frame *f,
                                      struct osap_lbs_redirect_rsp *out);

/** Encode a path-C 0x8 frame. */
osap_err osap_lbs_redirect_rsp_encode(const struct osap_lbs_redirect_rsp *m, uint8_t *out,
                                      size_t cap, size_t *len);

/** Path C step III (0x9, encoded as 0x90). */
struct osap_lbs_redirect_cfm {
    uint8_t version[OSAP_LBS_VERSION_LEN];
    const uint8_t *enc_random; /**< 16 bytes: CBC-EZ(master key, random_2) */
};

/** Decode a 0x9 frame: exactly 16 bytes after the version. */
osap_err osap_lbs_redirect_cfm_decode(const struct osap_lbs_frame *f,
                                      struct osap_lbs_redirect_cfm *out);

/** Encode a 0x9 frame. */
osap_err osap_lbs_redirect_cfm_encode(const struct osap_lbs_redirect_cfm *m, uint8_t *out,
                                      size_t cap, size_t *len);

/* ------------------------------------------------------------------------ */
/* 0xA / 0xB: crypto data (DAS address)                                     */
/* ------------------------------------------------------------------------ */

/** 0xA (encoded as 0xA0): CBC-EZ(session key, JSON request). */
struct osap_lbs_data_req {
    uint8_t version[OSAP_LBS_VERSION_LEN];
    const uint8_t *ciphertext; /**< a positive multiple of 16 bytes */
    size_t ciphertext_len;
};

/** Decode a 0xA frame (OSAP_ELBS_CIPHERTEXT_LEN for an empty or unaligned body). */
osap_err osap_lbs_data_req_decode(const struct osap_lbs_frame *f, struct osap_lbs_data_req *out);

/** Encode a 0xA frame. */
osap_err osap_lbs_data_req_encode(const struct osap_lbs_data_req *m, uint8_t *out, size_t cap,
                                  size_t *len);

/** 0xB (encoded as 0xB0): result, then CBC-EZ(session key, JSON answer). */
struct osap_lbs_data_rsp {
    uint8_t version[OSAP_LBS_VERSION_LEN];
    uint8_t result;            /**< 0 = OK; otherwise the frame ends here */
    const uint8_t *ciphertext; /**< result 0 only: a positive multiple of 16 bytes */
    size_t ciphertext_len;
};

/** Decode a 0xB frame. */
osap_err osap_lbs_data_rsp_decode(const struct osap_lbs_frame *f, struct osap_lbs_data_rsp *out);

/** Encode a 0xB frame. */
osap_err osap_lbs_data_rsp_encode(const struct osap_lbs_data_rsp *m, uint8_t *out, size_t cap,
                                  size_t *len);

#endif /* OSAP_LBS_H */
