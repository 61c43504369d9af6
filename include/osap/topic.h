/*
 * Device topics (spec 6.6, 7) and the application namespace of the DAS.
 *
 * v3, both directions:
 *   /iot/<sn>/<child>/<rid>-<rtype>/model/<method>/<msg_type>/<domain>/<identifier>
 *   /iot/<sn>/<child>/<rid>-<rtype>/<module>/<method...>/<msg_type>
 * v2:
 *   device -> server  /<domain>/<cmd>          (decimal)
 *   server -> device  /<sn>/<domain>/<cmd>     (decimal, shorter than 128 bytes)
 * Applications (plain MQTT, decrypted; see docs/TOPICS.md):
 *   $osap/<sn>/event/<domain>/<identifier>      $osap/<sn>/attribute/<domain>/<identifier>
 *   $osap/<sn>/reply/<domain>/<identifier>      $osap/<sn>/status
 *   $osap/<sn>/v2/<domain>/<cmd>                $osap/<sn>/raw/<rest of the device topic>
 *
 * Parsers return views (pointer + length) into the caller's topic; builders write
 * into a caller buffer and NUL-terminate. Nothing is allocated. Limits are those
 * of the device's own parser, so every topic a builder accepts is one a device
 * reads back the same way. Outputs are written only on success.
 */
#ifndef OSAP_TOPIC_H
#define OSAP_TOPIC_H

#include "osap/err.h"
#include "osap/proto.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Segment limits of the device's v3 topic parser (bytes). */
#define OSAP_TOPIC_SERIAL_MAX   72 /* <sn> */
#define OSAP_TOPIC_CHILD_MAX    72 /* <child> */
#define OSAP_TOPIC_RID_MAX      64 /* <rid>, never contains '-' */
#define OSAP_TOPIC_RTYPE_MAX    64 /* <rtype> */
#define OSAP_TOPIC_MODULE_MAX   16 /* <module> */
#define OSAP_TOPIC_METHOD_MAX   64 /* <method> */
#define OSAP_TOPIC_MSGTYPE_MAX  32 /* <msg_type> */
#define OSAP_TOPIC_EXT_PART_MAX 31 /* <domain> and <identifier> of module model */
/* The v2 server -> device parser reads <sn> with the same 72-byte limit. */
#define OSAP_TOPIC_V2_SERIAL_MAX 72
/* Largest v2 domain or command: the device reads them as C int. */
#define OSAP_TOPIC_V2_NUMBER_MAX 2147483647u

/** A view of @p len bytes at @p ptr (not NUL-terminated). */
struct osap_topic_span {
    const char *ptr;
    size_t len;
};

/** A view of a NUL-terminated string (NULL gives an empty span). */
static inline struct osap_topic_span osap_topic_span_str(const char *s)
{
    struct osap_topic_span sp = {s, s ? strlen(s) : 0};
    return sp;
}

/* ------------------------------------------------------------------------ */
/* v3                                                                        */
/* ------------------------------------------------------------------------ */

/** The parts of a v3 topic. For module "model", @c domain and @c identifier are the
 *  two levels after msg_type and @c method is one level; for other modules they
 *  are empty and @c method is everything between "<module>/" and the last '/'. */
struct osap_topic_v3 {
    struct osap_topic_span serial;     /**< device subserial */
    struct osap_topic_span child;      /**< sub-device serial, or "global" */
    struct osap_topic_span rid;        /**< resource index, e.g. "0" */
    struct osap_topic_span rtype;      /**< resource category, e.g. "global" */
    struct osap_topic_span module;     /**< "model", "basic", "ota", ... */
    struct osap_topic_span method;     /**< "attribute", "service", "event", "shadow", ... */
    struct osap_topic_span msg_type;   /**< "set", "report", "operate_reply", ... */
    struct osap_topic_span domain;     /**< model only */
    struct osap_topic_span identifier; /**< model only */
};

/** Parse a v3 topic. Every level must be non-empty and within its limit; no level
 *  may hold a byte below 0x21, 0x7F, '+' or '#'; rid holds no '-'; the whole
 *  topic is shorter than OSAP_TOPIC_V3_MAX. Model topics need exactly
 *  <method>/<msg_type>/<domain>/<identifier> after "model/"; other modules need a
 *  method (which may span levels) and a msg_type. OSAP_EDEVICE_TOPIC otherwise. */
osap_err osap_topic_v3_parse(const char *topic, size_t len, struct osap_topic_v3 *out);

/** Build a v3 topic from @p t under the rules of osap_topic_v3_parse(). An empty
 *  child becomes "global". Also refused: a topic in which "<module>/" occurs
 *  before the module level, which the device would split at the wrong place.
 *  OSAP_EDEVICE_TOPIC for invalid parts, OSAP_EBUFSIZE when @p cap is short. */
osap_err osap_topic_v3_build(const struct osap_topic_v3 *t, char *out, size_t cap, size_t *len);

/* ------------------------------------------------------------------------ */
/* v2                                                                        */
/* ------------------------------------------------------------------------ */

/** A v2 topic: device -> server when @c serial is empty, else server -> device. */
struct osap_topic_v2 {
    struct osap_topic_span serial;
    uint32_t domain; /**< e.g. 1100 (base), 7002 (hub), 1000 (access) */
    uint32_t cmd;
};

/** Parse "/<domain>/<cmd>" or "/<sn>/<domain>/<cmd>". Numbers are decimal digits
 *  without sign or leading zeros, at most OSAP_TOPIC_V2_NUMBER_MAX; <sn> is
 *  1..OSAP_TOPIC_V2_SERIAL_MAX bytes under the v3 level rules; the topic is shorter
 *  than OSAP_TOPIC_V2_MAX. OSAP_EDEVICE_TOPIC otherwise. */
osap_err osap_topic_v2_parse(const char *topic, size_t len, struct osap_topic_v2 *out);

/** Build the v2 topic for @p t (see struct osap_topic_v2) under the same rules. */
osap_err osap_topic_v2_build(const struct osap_topic_v2 *t, char *out, size_t cap, size_t *len);

/* ------------------------------------------------------------------------ */
/* Application namespace ($osap/...)                                         */
/* ------------------------------------------------------------------------ */

/* Every segment: non-empty, no '/', '+', '#', no byte below 0x21, no 0x7F.
 * OSAP_EINVAL for an invalid segment, OSAP_EBUFSIZE when @p cap is short. */

/** $osap/<sn>/event/<domain>/<identifier>: events reported by the device. */
osap_err osap_topic_app_event(struct osap_topic_span sn, struct osap_topic_span domain,
                              struct osap_topic_span identifier, char *out, size_t cap,
                              size_t *len);

/** $osap/<sn>/attribute/<domain>/<identifier>: attribute values reported by the device. */
osap_err osap_topic_app_attribute(struct osap_topic_span sn, struct osap_topic_span domain,
                                  struct osap_topic_span identifier, char *out, size_t cap,
                                  size_t *len);

/** $osap/<sn>/reply/<domain>/<identifier>: the device's replies to set and operate. */
osap_err osap_topic_app_reply(struct osap_topic_span sn, struct osap_topic_span domain,
                              struct osap_topic_span identifier, char *out, size_t cap,
                              size_t *len);

/** $osap/<sn>/status: "online" / "offline" transitions. */
osap_err osap_topic_app_status(struct osap_topic_span sn, char *out, size_t cap, size_t *len);

/** $osap/<sn>/v2/<domain>/<cmd>: v2 messages from the device (decimal numbers). */
osap_err osap_topic_app_v2(struct osap_topic_span sn, uint32_t domain, uint32_t cmd, char *out,
                           size_t cap, size_t *len);

/** $osap/<sn>/raw/<rest>: every v3 message from the device, @p rest being its topic
 *  after "/iot/<sn>/" (levels separated by '/', none empty, no '+' or '#'). */
osap_err osap_topic_app_raw(struct osap_topic_span sn, struct osap_topic_span rest, char *out,
                            size_t cap, size_t *len);

#endif /* OSAP_TOPIC_H */
