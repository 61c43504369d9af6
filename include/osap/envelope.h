/*
 * The DAS payload envelope (spec 6.7), both directions, v2 and v3:
 *
 *   plaintext = u16be common_len || common JSON [common_len] || body
 *   payload   = CBC-EZ(session key, plaintext)
 *
 * v3 common JSON:  {"Seq":<n>}
 * v2 common JSON:  {"CmdVer":"<version>","Seq":<n>,"MsgType":<1|2>}
 *
 * Sans-I/O and allocation-free except for the common-JSON parser (cJSON). Every
 * buffer belongs to the caller; views point into the caller's plaintext buffer
 * and live as long as it does. See docs/ENVELOPE.md.
 */
#ifndef OSAP_ENVELOPE_H
#define OSAP_ENVELOPE_H

#include "osap/err.h"
#include "osap/proto.h"

#include <stddef.h>
#include <stdint.h>

/** Longest common JSON the parser accepts (devices send well under 100 bytes). */
#define OSAP_ENVELOPE_COMMON_MAX 1024
/** Longest CmdVer value: the device keeps it in a 32-byte buffer. */
#define OSAP_ENVELOPE_CMDVER_MAX 31
/** Room for any common JSON this library formats (v2 with the longest CmdVer,
 *  every character escaped), including the terminating NUL. */
#define OSAP_ENVELOPE_COMMON_BUF (48 + 6 * OSAP_ENVELOPE_CMDVER_MAX)

/** A decrypted envelope, split. Pointers into the plaintext buffer given to
 *  osap_envelope_open() or osap_envelope_split(); not NUL-terminated. */
struct osap_envelope_view {
    const char *common; /**< common JSON text */
    size_t common_len;
    const uint8_t *body; /**< business bytes (JSON or XML text); may be empty */
    size_t body_len;
};

/** The members of a common JSON. */
struct osap_envelope_common {
    uint32_t seq;                               /**< "Seq" */
    int msg_type;                               /**< v2 "MsgType": 1 request, 2 response;
                                                     0 when absent (always 0 for v3) */
    char cmd_ver[OSAP_ENVELOPE_CMDVER_MAX + 1]; /**< v2 "CmdVer", NUL-terminated;
                                                     empty for v3 */
};

/** Payload size for a common JSON of @p common_len bytes and a body of @p body_len
 *  bytes: the CBC-EZ length of 2 + common_len + body_len. 0 when common_len does not
 *  fit the 16-bit prefix or the sum overflows. */
size_t osap_envelope_sealed_len(size_t common_len, size_t body_len);

/** Build the plaintext and encrypt it into @p out (@p out_cap bytes, at least
 *  osap_envelope_sealed_len()). @p out must not overlap @p common or @p body.
 *  OSAP_ETOOBIG when common_len > 65535; OSAP_EBUFSIZE when @p out is too small.
 *  The common JSON is copied as given (format it with the functions below). */
osap_err osap_envelope_seal(const uint8_t key[OSAP_AES_KEY_LEN], const char *common,
                            size_t common_len, const uint8_t *body, size_t body_len, uint8_t *out,
                            size_t out_cap, size_t *out_len);

/** Decrypt @p payload into @p plain (@p plain_cap >= @p payload_len; may be the same
 *  buffer as @p payload) and split it into @p view. Errors: those of
 *  osap_cbc_ez_decrypt() (OSAP_ECIPHERTEXT_LEN, OSAP_EPADDING), then OSAP_EENVELOPE
 *  when the plaintext is shorter than its 2-byte prefix says. @p view is written
 *  only on success; @p plain is overwritten in every case. */
osap_err osap_envelope_open(const uint8_t key[OSAP_AES_KEY_LEN], const uint8_t *payload,
                            size_t payload_len, uint8_t *plain, size_t plain_cap,
                            struct osap_envelope_view *view);

/** Split a decrypted plaintext. The receive rule of the devices is common_len <
 *  plaintext length; OSAP is stricter and requires 2 + common_len <= length, so the
 *  common JSON lies inside the plaintext. OSAP_EENVELOPE otherwise. */
osap_err osap_envelope_split(const uint8_t *plain, size_t len, struct osap_envelope_view *view);

/** Format the v3 common JSON {"Seq":<seq>} into @p out (NUL-terminated); its length
 *  without the NUL in @p len. OSAP_EBUFSIZE when @p cap is too small. */
osap_err osap_envelope_common_v3(uint32_t seq, char *out, size_t cap, size_t *len);

/** Format the v2 common JSON {"CmdVer":"<cmd_ver>","Seq":<seq>,"MsgType":<msg_type>}
 *  as devices do. @p cmd_ver: at most OSAP_ENVELOPE_CMDVER_MAX bytes, escaped as
 *  JSON; @p msg_type: OSAP_V2_MSGTYPE_REQUEST or OSAP_V2_MSGTYPE_RESPONSE
 *  (OSAP_EINVAL otherwise). */
osap_err osap_envelope_common_v2(const char *cmd_ver, uint32_t seq, int msg_type, char *out,
                                 size_t cap, size_t *len);

/** Parse a common JSON of envelope version @p version (OSAP_ENVELOPE_V2 or
 *  OSAP_ENVELOPE_V3). Both need "Seq": an integer in 0..4294967295 (negative,
 *  fractional, out-of-range values and other types are refused). v2 also needs
 *  "CmdVer", a string of at most OSAP_ENVELOPE_CMDVER_MAX bytes, and takes an
 *  optional "MsgType" of 1 or 2. Other members are ignored; a repeated Seq,
 *  CmdVer or MsgType is refused. OSAP_ECOMMON_JSON for anything malformed,
 *  OSAP_ENOMEM when the parser runs out of memory. @p out is written only on
 *  success. */
osap_err osap_envelope_common_parse(int version, const char *json, size_t len,
                                    struct osap_envelope_common *out);

#endif /* OSAP_ENVELOPE_H */
