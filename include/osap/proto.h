/*
 * OSAP wire constants: MQTT 3.1.1 and the OSAP device profile, the LBS framing,
 * result codes and topic layout. Constants only: no functions, no types beyond
 * what the numbers need. See docs/PROTOCOL.md for the meaning of each value.
 */
#ifndef OSAP_PROTO_H
#define OSAP_PROTO_H

/* ------------------------------------------------------------------------ */
/* MQTT 3.1.1 control packet types (high nibble of the first byte)          */
/* ------------------------------------------------------------------------ */
#define OSAP_MQTT_CONNECT     1
#define OSAP_MQTT_CONNACK     2
#define OSAP_MQTT_PUBLISH     3
#define OSAP_MQTT_PUBACK      4
#define OSAP_MQTT_PUBREC      5
#define OSAP_MQTT_PUBREL      6
#define OSAP_MQTT_PUBCOMP     7
#define OSAP_MQTT_SUBSCRIBE   8
#define OSAP_MQTT_SUBACK      9
#define OSAP_MQTT_UNSUBSCRIBE 10
#define OSAP_MQTT_UNSUBACK    11
#define OSAP_MQTT_PINGREQ     12
#define OSAP_MQTT_PINGRESP    13
#define OSAP_MQTT_DISCONNECT  14

/* Fixed-header flag nibbles that MQTT 3.1.1 mandates (PUBLISH excepted). */
#define OSAP_MQTT_FLAGS_PUBREL      0x2
#define OSAP_MQTT_FLAGS_SUBSCRIBE   0x2
#define OSAP_MQTT_FLAGS_UNSUBSCRIBE 0x2

/* PUBLISH fixed-header flags. */
#define OSAP_MQTT_PUBLISH_DUP    0x08
#define OSAP_MQTT_PUBLISH_QOS(f) (((f) >> 1) & 0x03)
#define OSAP_MQTT_PUBLISH_RETAIN 0x01

/* CONNECT variable header. */
#define OSAP_MQTT_PROTOCOL_NAME     "MQTT"
#define OSAP_MQTT_PROTOCOL_LEVEL    4
#define OSAP_MQTT_CONNECT_USERNAME  0x80
#define OSAP_MQTT_CONNECT_PASSWORD  0x40
#define OSAP_MQTT_CONNECT_WILL_RET  0x20
#define OSAP_MQTT_CONNECT_WILL_QOS  0x18
#define OSAP_MQTT_CONNECT_WILL      0x04
#define OSAP_MQTT_CONNECT_CLEAN     0x02
#define OSAP_MQTT_CONNECT_RESERVED  0x01

/* Remaining length: at most four bytes, at most this value. */
#define OSAP_MQTT_REMLEN_MAX_BYTES 4
#define OSAP_MQTT_REMLEN_MAX       268435455u

/* Strings and binary fields carry a two-byte length. */
#define OSAP_MQTT_STRING_MAX 65535u

/* Highest QoS; SUBSCRIBE requested-QoS bytes have these bits reserved. */
#define OSAP_MQTT_QOS_MAX           2
#define OSAP_MQTT_SUB_QOS_RESERVED  0xFC

/* CONNACK acknowledge flags: bit 0 is Session Present, bits 1..7 reserved. */
#define OSAP_MQTT_CONNACK_SESSION_PRESENT 0x01
#define OSAP_MQTT_CONNACK_RESERVED        0xFE

/* CONNACK return codes: MQTT 3.1.1 (0..5) and the OSAP device profile (10..12). */
#define OSAP_CONNACK_ACCEPTED          0
#define OSAP_CONNACK_BAD_PROTOCOL      1
#define OSAP_CONNACK_ID_REJECTED       2
#define OSAP_CONNACK_UNAVAILABLE       3
#define OSAP_CONNACK_BAD_CREDENTIALS   4
#define OSAP_CONNACK_NOT_AUTHORIZED    5
#define OSAP_CONNACK_DEVICE_BLOCKED    10 /* device stops until it restarts */
#define OSAP_CONNACK_SESSION_INVALID   11 /* go back to the LBS */
#define OSAP_CONNACK_SESSION_EXISTS    12 /* retry as a light registration */

/* SUBACK failure return code. */
#define OSAP_SUBACK_FAILURE 0x80

/* ------------------------------------------------------------------------ */
/* LBS framing                                                             */
/* ------------------------------------------------------------------------ */
#define OSAP_LBS_DEFAULT_PORT 8666

/* Message types (high nibble of the first byte). */
#define OSAP_LBS_AUTH_I           0x1 /* ECDH request, device -> LBS          */
#define OSAP_LBS_AUTH_II          0x2 /* ECDH response                        */
#define OSAP_LBS_RESERVED_3       0x3
#define OSAP_LBS_REFRESH_SK_REQ   0x4 /* path B: new session key, keep devid  */
#define OSAP_LBS_RESERVED_5       0x5
#define OSAP_LBS_REFRESH_SK_RSP   0x6
#define OSAP_LBS_REQUEST_DEVID    0x7 /* path A (new header), path C step I   */
#define OSAP_LBS_RESPONSE_DEVID   0x8 /* path A, path C step II               */
#define OSAP_LBS_APPLY_DEVID_CFM  0x9 /* path C step III                      */
#define OSAP_LBS_CRYPTO_DATA_REQ  0xA /* get DAS (or STUN) info               */
#define OSAP_LBS_CRYPTO_DATA_RSP  0xB
#define OSAP_LBS_STUN_I           0xC
#define OSAP_LBS_STUN_II          0xD
#define OSAP_LBS_STUN_III         0xE
#define OSAP_LBS_GET_SECRET_KEY   0xF

/* Low-nibble flags of the first byte. */
#define OSAP_LBS_FLAG_ECDH    0x08 /* variable header present (0x1, 0x2) */
#define OSAP_LBS_FLAG_NEW     0x02 /* set by the device's "new" serializer */

/* First bytes as real devices send them, and as the LBS answers. */
#define OSAP_LBS_BYTE0_AUTH_I        0x1A
#define OSAP_LBS_BYTE0_AUTH_II       0x2A
#define OSAP_LBS_BYTE0_REFRESH_REQ   0x42
#define OSAP_LBS_BYTE0_REFRESH_RSP   0x62
#define OSAP_LBS_BYTE0_DEVID_REQ_A   0x72
#define OSAP_LBS_BYTE0_DEVID_REQ_C   0x70
#define OSAP_LBS_BYTE0_DEVID_RSP_A   0x82
#define OSAP_LBS_BYTE0_DEVID_RSP_C   0x80
#define OSAP_LBS_BYTE0_APPLY_CFM     0x90
#define OSAP_LBS_BYTE0_CRYPTO_REQ    0xA0
#define OSAP_LBS_BYTE0_CRYPTO_RSP    0xB0

/* Auth types offered in 0x1 and chosen in 0x2. */
#define OSAP_LBS_AUTH_NONE     0
#define OSAP_LBS_AUTH_ECDH     1 /* legacy profile (spec), what real devices use */
#define OSAP_LBS_AUTH_GROUP_MAX 16

/* Protocol-version triplet, wire order FORM, LOW, HIGH. */
#define OSAP_LBS_VERSION_FORM          0x01
#define OSAP_LBS_VERSION_LOW_AUTH_I    0x02 /* "licence capable", only in 0x1 */
#define OSAP_LBS_VERSION_LOW           0x01
#define OSAP_LBS_VERSION_HIGH          0x00
#define OSAP_LBS_VERSION_LEN           3

/* auth_mode byte of 0x1. */
#define OSAP_LBS_AUTH_MODE_SAP      0 /* serial + verification code */
#define OSAP_LBS_AUTH_MODE_LICENCE  1 /* productKey:deviceName + licence */

/* LBS result codes (result byte after the version triplet). */
#define OSAP_LBS_OK                  0
#define OSAP_LBS_SIGN_ERROR          1  /* share key mismatch: retry other case */
#define OSAP_LBS_ORDER_ERROR         2
#define OSAP_LBS_INVALID_DATA        3
#define OSAP_LBS_DEVID_MISMATCH      4  /* device forgets devid: path A */
#define OSAP_LBS_VCODE_LOOKUP        5  /* unknown device */
#define OSAP_LBS_STORAGE_ERROR       6
#define OSAP_LBS_DECRYPT_ERROR       7
#define OSAP_LBS_ENCRYPT_ERROR       8
#define OSAP_LBS_DAS_INFO_ERROR      9
#define OSAP_LBS_MASTERKEY_INVALID   10 /* device forgets master key: path B */
#define OSAP_LBS_STUN_SESSION_KEY    11
#define OSAP_LBS_STUN_ORDER          12
#define OSAP_LBS_DAS_ORDER           13
#define OSAP_LBS_HMAC_SIGN_ERROR     14
#define OSAP_LBS_KEYGEN_ERROR        15
#define OSAP_LBS_ECDH_ERROR          16
#define OSAP_LBS_ECDH_SIGN_ERROR     17
#define OSAP_LBS_SESSION_KEY_ERROR   18
#define OSAP_LBS_SIGN_CHECK_ERROR    19
#define OSAP_LBS_RESULT_MAX          19

/* Field sizes. */
#define OSAP_SUBSERIAL_MAX        71  /* internal limit of the device kernel */
#define OSAP_SUBSERIAL_PUBLIC_MAX 47
#define OSAP_VCODE_MAX            31
#define OSAP_DEVID_LEN            32
#define OSAP_SESSION_KEY_LEN      16
#define OSAP_MASTER_KEY_LEN       16  /* 16 ASCII upper-hex characters */
#define OSAP_SHARE_KEY_LEN        32  /* ASCII; the AES key is the first 16 */
#define OSAP_AES_KEY_LEN          16
#define OSAP_SIGN_LEN             48  /* HMAC-SHA384 */
#define OSAP_GCM_TAG_LEN          16
#define OSAP_P384_PUBKEY_LEN      97  /* 0x04 || X[48] || Y[48] */
#define OSAP_P384_SECRET_LEN      48
#define OSAP_MESSAGE_MAX          16384 /* device read/write buffers */

/* Share-key derivation constants (spec 2.2). Data only: never contacted. */
#define OSAP_SHARE_KEY_SALT       "www.88075998.com"
#define OSAP_SHARE_KEY_SALT_LEN   16
#define OSAP_SHARE_KEY_PBKDF2_ITER 3
#define OSAP_SHARE_KEY_HEX_OFFSET 10

/* Constant IVs of the legacy profile (spec 2.6, 2.7). */
#define OSAP_GCM_EZ_NONCE "012345\0\0\0\0\0\0"         /* 12 bytes */
#define OSAP_CBC_EZ_IV    "01234567\0\0\0\0\0\0\0\0"   /* 16 bytes */

/* ------------------------------------------------------------------------ */
/* DAS: device MQTT profile                                                */
/* ------------------------------------------------------------------------ */
#define OSAP_DAS_DEFAULT_PORT      1883
#define OSAP_DAS_PASSWORD          "test"  /* constant in real devices */
#define OSAP_WILL_TOPIC_LEN        128     /* NUL-padded */
#define OSAP_WILL_TOPIC_PREFIX     "/Basic/pu2cenplt/"
#define OSAP_WILL_FIRSTCONNECT     "firstconnect"
#define OSAP_WILL_BREAKCONNECT     "breakconnect"
#define OSAP_CONNECT_FLAGS_FULL    0xEE
#define OSAP_CONNECT_FLAGS_LIGHT   0xEC
#define OSAP_DEVICE_KEEPALIVE      30

/* Topic prefixes: v3 "/iot/<sn>/<child>/<rid>-<rtype>/<module>/..." and
 * v2 "/<domain>/<command>" (device -> server) or "/<sn>/<domain>/<command>". */
#define OSAP_TOPIC_V3_PREFIX   "/iot/"
#define OSAP_TOPIC_CHILD_SELF  "global"
#define OSAP_TOPIC_RESOURCE_DEFAULT "0-global"
#define OSAP_TOPIC_V3_MAX      512
#define OSAP_TOPIC_V2_MAX      128

/* Plain-MQTT namespace where the DAS republishes decrypted device traffic. */
#define OSAP_APP_TOPIC_PREFIX  "$osap/"

/* v3 modules, methods and message kinds (spec 7). */
#define OSAP_MODULE_MODEL   "model"
#define OSAP_MODULE_BASIC   "basic"
#define OSAP_MODULE_OTA     "ota"

/* v2 domains and commands (spec 6.8, 7.6). */
#define OSAP_DOMAIN_ACCESS       1000
#define OSAP_DOMAIN_BASE         1100
#define OSAP_DOMAIN_HUB          7002
#define OSAP_CMD_ACCESS_CONFIG   0x0001
#define OSAP_CMD_ACCESS_RISK     0x0002
#define OSAP_CMD_ACCESS_OFFLINE  0x0003
#define OSAP_CMD_ACCESS_REDIRECT 0x3479
#define OSAP_CMD_BASE_PROFILE_QUERY 0x3870
#define OSAP_CMD_BASE_PROFILE_URL   0x3871
/* Command version of the base domain's messages (spec 7.6, appendix A). */
#define OSAP_CMD_VERSION_BASE "v2.0.0"

/* Payload envelope: u16be common_len || common JSON || body, CBC-EZ. */
#define OSAP_ENVELOPE_V2 2
#define OSAP_ENVELOPE_V3 3
#define OSAP_V2_MSGTYPE_REQUEST  1
#define OSAP_V2_MSGTYPE_RESPONSE 2

#endif /* OSAP_PROTO_H */
