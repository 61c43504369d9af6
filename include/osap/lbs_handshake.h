/*
 * LBS handshake state machines: the server side (one object per LBS connection)
 * and the device side (one object per device), as pure logic without I/O.
 *
 * Both are fed one complete frame at a time (find its end with
 * osap_lbs_frame_length()) and answer with a step: the bytes to send now (zero,
 * one or two frames), whether the connection ends after them, and the outcome.
 * Randomness, key pairs and every external fact come through callbacks, so a
 * handshake can be replayed byte for byte. The paths, result codes and the
 * server's decision table are described in docs/PROTOCOL.md.
 *
 * Objects are not thread-safe; one object may move between threads between
 * calls. Callbacks are called synchronously from inside the calls.
 */
#ifndef OSAP_LBS_HANDSHAKE_H
#define OSAP_LBS_HANDSHAKE_H

#include "osap/crypto.h"
#include "osap/err.h"
#include "osap/lbs.h"
#include "osap/proto.h"

#include <stddef.h>
#include <stdint.h>

/** Share-key variants: the case of the first MD5 hex text (see osap_share_key()). */
#define OSAP_LBS_CASE_UPPER 0x1u
#define OSAP_LBS_CASE_LOWER 0x2u
#define OSAP_LBS_CASE_BOTH  (OSAP_LBS_CASE_UPPER | OSAP_LBS_CASE_LOWER)

/** auth_mode passed to the lookup in path C, whose messages carry none. */
#define OSAP_LBS_AUTH_MODE_ANY 0xFF

/** What a device forgets after a failed attempt (struct osap_lbs_step.forget). */
#define OSAP_LBS_FORGET_DEVID      0x1u /* result 4: next attempt is path A */
#define OSAP_LBS_FORGET_MASTER_KEY 0x2u /* result 10: next attempt is path B */

/** Default largest frame the server accepts from a device. Device messages are
 *  at most about 200 bytes; 0xA grows with the subserial. */
#define OSAP_LBS_SERVER_FRAME_MAX 512
/** Capacity of the output of one step (the machines own this buffer). */
#define OSAP_LBS_OUT_MAX 1024
/** Longest DAS address, domain and server id, in bytes (the device keeps < 64). */
#define OSAP_LBS_DAS_STR_MAX 63

/** Authentication paths (spec 5): chosen by the device from its stored state. */
enum osap_lbs_path {
    OSAP_LBS_PATH_NONE = 0,
    OSAP_LBS_PATH_A = 'A', /**< first authentication: ECDH, new devid */
    OSAP_LBS_PATH_B = 'B', /**< new ECDH, keep the devid */
    OSAP_LBS_PATH_C = 'C', /**< stored devid and master key: session refresh only */
};

/** The DAS a device is sent to (the members of the 0xB JSON "DasInfo"). */
struct osap_lbs_das_info {
    char address[OSAP_LBS_DAS_STR_MAX + 1]; /**< host or IP, NUL-terminated */
    uint16_t port;                          /**< MQTT port */
    uint16_t udp_port;
    char domain[OSAP_LBS_DAS_STR_MAX + 1];
    char server_id[OSAP_LBS_DAS_STR_MAX + 1];
};

/** The result of one call into a machine. */
struct osap_lbs_step {
    /** Bytes to send now, or NULL/0. Owned by the machine; valid until the next
     *  call on the same object. May hold two frames (device: 0x9 then 0xA). */
    const uint8_t *out;
    size_t out_len;
    /** 1: the connection ends after @c out is sent (handshake over). */
    int close;
    /** 1: the handshake completed successfully (0xB with result 0). */
    int done;
    /** Server: result byte of the frame in @c out. Device: result byte received. */
    uint8_t result;
    /** OSAP_OK, or why the handshake failed (an OSAP_ELBS_RESULT_* for a result
     *  code, or the codec/crypto/callback error behind it). For the server this may
     *  be set without a reply: a wrong 0x9 is only reported with the next 0xB. */
    osap_err err;
    /** Device only: OSAP_LBS_FORGET_* applied to the client's state (result 4, 10). */
    unsigned forget;
    /** Device only: 1 when a real device retries at once (result 1 on the
     *  upper-case share key: the next attempt uses the lower case). */
    int retry_now;
};

/* ------------------------------------------------------------------------ */
/* Server                                                                   */
/* ------------------------------------------------------------------------ */

/** A device record as the server's store knows it. */
struct osap_lbs_device {
    char vcode[OSAP_VCODE_MAX + 1]; /**< verification code or licence, NUL-terminated */
    unsigned share_key_cases;       /**< OSAP_LBS_CASE_* accepted; 0 = both */
    int blocked;                    /**< 1: refuse every handshake (result 5) */
    int has_devid;
    uint8_t devid[OSAP_DEVID_LEN]; /**< the devid the platform issued, if any */
    int has_master_key;
    uint8_t master_key[OSAP_MASTER_KEY_LEN]; /**< from the last ECDH, if any */
};

/** What a successful handshake established; handed to the commit callback. */
struct osap_lbs_commit {
    enum osap_lbs_path path;
    uint8_t auth_mode;     /**< from 0x1; OSAP_LBS_AUTH_MODE_ANY in path C */
    const char *subserial; /**< NUL-terminated; valid during the callback */
    size_t subserial_len;
    uint8_t devid[OSAP_DEVID_LEN];
    uint8_t master_key[OSAP_MASTER_KEY_LEN];
    uint8_t session_key[OSAP_SESSION_KEY_LEN];
    unsigned share_key_case; /**< OSAP_LBS_CASE_UPPER or _LOWER that matched; 0 in path C */
};

/** External facts for the server machine. Each returns OSAP_OK or an error. */
struct osap_lbs_server_callbacks {
    /** Required. Find the device (@p subserial is NUL-terminated). OSAP_ENOTFOUND
     *  for an unknown device; any other error is a storage failure. */
    osap_err (*lookup)(void *userdata, uint8_t auth_mode, const char *subserial,
                       struct osap_lbs_device *out);
    /** Optional. Issue a devid for path A (and path B when the record has none):
     *  32 printable ASCII characters (0x21..0x7E). Default: 32 upper-case hex
     *  digits of 16 bytes from the rng. */
    osap_err (*allocate_devid)(void *userdata, const char *subserial,
                               uint8_t devid[OSAP_DEVID_LEN]);
    /** Required. Persist the outcome. Called before the reply that hands the
     *  session key out is released (0x8 / 0x6), or on a correct 0x9 in path C;
     *  an error turns the reply into result 6. */
    osap_err (*commit)(void *userdata, const struct osap_lbs_commit *c);
    /** Required. The DAS for this device; an error answers result 9. */
    osap_err (*das_info)(void *userdata, const char *subserial, struct osap_lbs_das_info *out);
    /** Optional. The server's ECDH key pair for one handshake; the machine calls
     *  key_release() (if set) when done with it. Default: osap_p384_generate()
     *  from the rng, freed after use. */
    osap_err (*key_acquire)(void *userdata, osap_p384_key **key);
    void (*key_release)(void *userdata, osap_p384_key *key);
};

/** Server machine settings. */
struct osap_lbs_server_config {
    struct osap_lbs_server_callbacks cb;
    void *userdata;             /**< passed to every callback */
    const struct osap_rng *rng; /**< session keys, random_2, default devids and keys;
                                     NULL = system CSPRNG. Must outlive the machine. */
    size_t max_frame;           /**< 0 = OSAP_LBS_SERVER_FRAME_MAX */
};

/** One LBS connection, server side (opaque). */
typedef struct osap_lbs_server osap_lbs_server_t;

/** Create a machine for a new connection. OSAP_EINVAL without the required
 *  callbacks, OSAP_ENOMEM. */
osap_err osap_lbs_server_new(const struct osap_lbs_server_config *cfg, osap_lbs_server_t **out);

/** Free a machine (NULL is a no-op); secrets are wiped. */
void osap_lbs_server_free(osap_lbs_server_t *s);

/**
 * Feed one complete frame from the device (@p len = its osap_lbs_frame_length()).
 * When framing fails (OSAP_ELBS_REMLEN, OSAP_ETOOBIG), feed the bytes received so
 * far: the machine answers result 3 and closes.
 *
 * @return OSAP_OK with *@p step filled (reply, close, outcome), also when the reply
 *         is an error answer; OSAP_EINVAL for bad arguments, an incomplete frame or
 *         bytes after the frame; OSAP_ESTATE once the machine has closed.
 */
osap_err osap_lbs_server_feed(osap_lbs_server_t *s, const uint8_t *frame, size_t len,
                              struct osap_lbs_step *step);

/** The path the connection has taken so far (OSAP_LBS_PATH_NONE before it is known). */
enum osap_lbs_path osap_lbs_server_path(const osap_lbs_server_t *s);

/* ------------------------------------------------------------------------ */
/* Device (client)                                                          */
/* ------------------------------------------------------------------------ */

/** The device's ECDH step, injectable for byte-exact tests. */
struct osap_lbs_client_ecdh {
    /** The device public key sent in 0x1 (97 bytes, uncompressed). */
    osap_err (*public_key)(void *userdata, uint8_t pub[OSAP_P384_PUBKEY_LEN]);
    /** The master key from the LBS public key (OSAP_EPOINT for an invalid point). */
    osap_err (*master_key)(void *userdata, const uint8_t peer_pub[OSAP_P384_PUBKEY_LEN],
                           uint8_t master_key[OSAP_MASTER_KEY_LEN]);
    void *userdata;
};

/** Device identity and stored state. Everything is copied by osap_lbs_client_new(). */
struct osap_lbs_client_config {
    uint8_t auth_mode;                       /**< OSAP_LBS_AUTH_MODE_SAP or _LICENCE */
    const char *subserial;                   /**< NUL-terminated, 1..OSAP_SUBSERIAL_MAX bytes */
    const char *vcode;                       /**< NUL-terminated, at most OSAP_VCODE_MAX bytes */
    const uint8_t *devid;                    /**< stored devid (32 bytes) or NULL */
    const uint8_t *master_key;               /**< stored master key (16 bytes) or NULL */
    uint8_t das_mode;                        /**< "Mode" of the 0xA request: 0 device, 1 hub */
    const struct osap_rng *rng;              /**< random_1 and the default key pair; NULL = system.
                                                  Must outlive the client. */
    const struct osap_lbs_client_ecdh *ecdh; /**< NULL: one P-384 key per client,
                                                  reused by every attempt */
    size_t max_frame; /**< largest server frame; 0 = OSAP_MESSAGE_MAX + header */
};

/** What a successful attempt produced; the device persists devid and master key. */
struct osap_lbs_client_result {
    enum osap_lbs_path path;
    uint8_t devid[OSAP_DEVID_LEN];
    uint8_t master_key[OSAP_MASTER_KEY_LEN];
    uint8_t session_key[OSAP_SESSION_KEY_LEN];
    struct osap_lbs_das_info das;
};

/** The device side of the LBS handshake (opaque). */
typedef struct osap_lbs_client osap_lbs_client_t;

/** Create a client. OSAP_EINVAL for an invalid identity, OSAP_ENOMEM. */
osap_err osap_lbs_client_new(const struct osap_lbs_client_config *cfg, osap_lbs_client_t **out);

/** Free a client (NULL is a no-op); secrets are wiped. */
void osap_lbs_client_free(osap_lbs_client_t *c);

/**
 * Start an attempt on a new connection: choose the path from the stored state
 * (no devid: A; devid without master key: B; both: C) and produce the first
 * message. An attempt in progress is abandoned.
 *
 * @return OSAP_OK with step->out set, or the error that prevented the message
 *         (random source, ECDH callback, OSAP_ENOMEM).
 */
osap_err osap_lbs_client_begin(osap_lbs_client_t *c, struct osap_lbs_step *step);

/**
 * Feed one complete frame from the LBS. On success of the whole path, step->done
 * is 1 and osap_lbs_client_result() holds the outcome; the client also adopts the
 * new devid and master key for its next attempt. On failure step->close is 1,
 * step->err says why, step->forget says what was forgotten (already applied) and
 * step->retry_now whether to retry at once (share-key case already switched).
 *
 * @return OSAP_OK with *@p step filled; OSAP_EINVAL for bad arguments;
 *         OSAP_ESTATE when no attempt is waiting for a frame.
 */
osap_err osap_lbs_client_feed(osap_lbs_client_t *c, const uint8_t *frame, size_t len,
                              struct osap_lbs_step *step);

/** The outcome of the last successful attempt. OSAP_ESTATE when there is none. */
osap_err osap_lbs_client_result(const osap_lbs_client_t *c, struct osap_lbs_client_result *out);

/** The path the next (or current) attempt takes. */
enum osap_lbs_path osap_lbs_client_path(const osap_lbs_client_t *c);

/** The share-key case the next (or current) attempt uses (OSAP_LBS_CASE_UPPER/LOWER). */
unsigned osap_lbs_client_share_key_case(const osap_lbs_client_t *c);

/** Forget stored state (OSAP_LBS_FORGET_*), e.g. after a DAS redirect command. */
void osap_lbs_client_forget(osap_lbs_client_t *c, unsigned what);

#endif /* OSAP_LBS_HANDSHAKE_H */
