/*
 * MQTT 3.1.1 codec: framing, decoding and encoding of the 14 control packets.
 *
 * Sans-I/O: no sockets, no allocation, no global state. Every function is
 * re-entrant and thread-safe on distinct objects.
 *
 * Decoding is zero-copy: a decoded packet holds views (pointer + length) into
 * the bytes it was decoded from; nothing is copied and nothing is NUL-terminated.
 * The views stay valid as long as those bytes do (see osap_mqtt_stream_next()
 * for the streaming decoder). Encoders write into a buffer the caller owns.
 *
 * Three ways to decode, from the lowest level up:
 *   - osap_mqtt_frame() + osap_mqtt_decode_body(): the caller reads and stores
 *     the bytes itself (e.g. a server that holds no buffer for idle connections);
 *   - osap_mqtt_decode(): one packet at the start of a contiguous buffer;
 *   - struct osap_mqtt_stream: bytes in pieces of any size, packets out.
 *
 * See docs/MQTT_CODEC.md for the validation rules and the lenient mode.
 */
#ifndef OSAP_MQTT_H
#define OSAP_MQTT_H

#include "osap/err.h"
#include "osap/proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------ */
/* Views                                                                    */
/* ------------------------------------------------------------------------ */

/** A UTF-8 string inside someone else's buffer: not NUL-terminated. */
struct osap_mqtt_str {
    const char *ptr;
    size_t len;
};

/** Binary data inside someone else's buffer. */
struct osap_mqtt_bytes {
    const uint8_t *ptr;
    size_t len;
};

/* ------------------------------------------------------------------------ */
/* Decoding modes                                                           */
/* ------------------------------------------------------------------------ */

/** Decoding modes: a bit set passed to each decode call (never global state).
 *  OSAP_MQTT_STRICT is MQTT 3.1.1 to the letter; the lenient bits accept what
 *  real devices built with the EZVIZ SDK send in CONNECT (wire spec 6.2). */
enum osap_mqtt_mode {
    /** MQTT 3.1.1 as written. */
    OSAP_MQTT_STRICT = 0,
    /** Accept a will topic right-padded with NUL bytes: the padding is stripped,
     *  reported in osap_mqtt_connect.will_topic_pad, and the rest must be a valid
     *  topic name. */
    OSAP_MQTT_LENIENT_WILL_PAD = 1u << 0,
    /** Accept a zero-length client identifier with Clean Session 0. */
    OSAP_MQTT_LENIENT_EMPTY_CLIENT_ID = 1u << 1,
    /** Everything real devices need. */
    OSAP_MQTT_LENIENT = OSAP_MQTT_LENIENT_WILL_PAD | OSAP_MQTT_LENIENT_EMPTY_CLIENT_ID,
};

/* ------------------------------------------------------------------------ */
/* Remaining length                                                         */
/* ------------------------------------------------------------------------ */

/** Number of bytes (1..4) that encode @p value; 0 when @p value exceeds
 *  OSAP_MQTT_REMLEN_MAX. */
size_t osap_mqtt_remlen_size(uint32_t value);

/** Encode @p value as a remaining length into @p out. OSAP_EINVAL when @p value
 *  exceeds OSAP_MQTT_REMLEN_MAX, OSAP_EBUFSIZE when @p cap is too small. On
 *  success *@p n receives the number of bytes written (always the minimal form). */
osap_err osap_mqtt_remlen_encode(uint32_t value, uint8_t *out, size_t cap, size_t *n);

/** Decode the remaining length at the start of @p buf (the bytes after the first
 *  byte of a packet). OSAP_ENEED_MORE when every byte so far has the continuation
 *  bit; OSAP_EMQTT_REMLEN when a fourth byte still has it (known as soon as that
 *  byte arrives) or when the encoding is not minimal (a last byte of 0 after a
 *  continuation byte, e.g. 80 00). On success *@p value and *@p n (1..4) are set. */
osap_err osap_mqtt_remlen_decode(const uint8_t *buf, size_t len, uint32_t *value, size_t *n);

/* ------------------------------------------------------------------------ */
/* Framing                                                                  */
/* ------------------------------------------------------------------------ */

/** The fixed header of one packet. */
struct osap_mqtt_header {
    uint8_t type;           /**< OSAP_MQTT_CONNECT .. OSAP_MQTT_DISCONNECT */
    uint8_t flags;          /**< low nibble of the first byte */
    uint8_t header_len;     /**< 2..5: first byte + remaining-length bytes */
    uint32_t remaining_len; /**< bytes after the fixed header */
    size_t total_len;       /**< header_len + remaining_len */
};

/** Largest fixed header: one byte plus four remaining-length bytes. */
#define OSAP_MQTT_HEADER_MAX 5

/** Check the first byte of a packet: the type must be 1..14 (OSAP_EMQTT_TYPE)
 *  and the flags those MQTT 3.1.1 mandates: 0x2 for PUBREL, SUBSCRIBE and
 *  UNSUBSCRIBE, 0 for the others (OSAP_EMQTT_FLAGS); for PUBLISH, QoS 3 is
 *  OSAP_EMQTT_QOS and DUP with QoS 0 is OSAP_EMQTT_FLAGS. */
osap_err osap_mqtt_header_check(uint8_t byte0);

/** Read the fixed header at the start of @p buf (@p len bytes received so far).
 *  Returns OSAP_ENEED_MORE until the header is complete, or an error as soon as
 *  the bytes prove the packet invalid: osap_mqtt_header_check() errors (from the
 *  first byte), OSAP_EMQTT_REMLEN, OSAP_EMQTT_LENGTH for a fixed-size packet
 *  (CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK: 2; PINGREQ, PINGRESP,
 *  DISCONNECT: 0) with another remaining length, and OSAP_ETOOBIG when the total
 *  packet length exceeds @p max_packet (0 = no limit but the protocol's), before
 *  any byte of the body is needed. On success *@p hdr is filled; the body may
 *  not have arrived yet (compare @p len with hdr->total_len). */
osap_err osap_mqtt_frame(const uint8_t *buf, size_t len, size_t max_packet,
                         struct osap_mqtt_header *hdr);

/** A static name for a packet type ("CONNECT" .. "DISCONNECT", "RESERVED"). */
const char *osap_mqtt_type_name(uint8_t type);

/* ------------------------------------------------------------------------ */
/* Packets                                                                  */
/* ------------------------------------------------------------------------ */

/** CONNECT. The protocol name and level are always "MQTT" and 4. */
struct osap_mqtt_connect {
    bool clean_session;
    bool will;          /**< will flag */
    uint8_t will_qos;   /**< 0..2; 0 without will */
    bool will_retain;   /**< false without will */
    bool has_username;  /**< user name flag (the name may be empty) */
    bool has_password;  /**< password flag; requires has_username */
    uint16_t keepalive; /**< seconds */
    struct osap_mqtt_str client_id;
    struct osap_mqtt_str will_topic;     /**< without NUL padding */
    size_t will_topic_pad;               /**< NUL bytes after the topic on the wire */
    struct osap_mqtt_bytes will_message; /**< binary */
    struct osap_mqtt_str username;
    struct osap_mqtt_bytes password; /**< binary */
};

/** CONNACK. */
struct osap_mqtt_connack {
    bool session_present;
    uint8_t return_code; /**< any value: see osap_err_from_connack() */
};

/** PUBLISH. */
struct osap_mqtt_publish {
    bool dup;
    uint8_t qos; /**< 0..2 */
    bool retain;
    struct osap_mqtt_str topic;
    uint16_t packet_id; /**< 0 for QoS 0 */
    struct osap_mqtt_bytes payload;
};

/** PUBACK, PUBREC, PUBREL, PUBCOMP and UNSUBACK. */
struct osap_mqtt_ack {
    uint16_t packet_id;
};

/** One topic filter of a SUBSCRIBE and the QoS it requests. */
struct osap_mqtt_subscription {
    struct osap_mqtt_str filter;
    uint8_t qos;
};

/** SUBSCRIBE. A decoded packet has @c entries NULL and @c list set to the
 *  validated wire form of its @c count filters (read it with
 *  osap_mqtt_filter_iter_subscribe()). To encode, set @c entries to @c count
 *  subscriptions, or leave it NULL to copy @c list (a decoded packet re-encodes
 *  as it is). */
struct osap_mqtt_subscribe {
    uint16_t packet_id;
    size_t count;
    const struct osap_mqtt_subscription *entries;
    struct osap_mqtt_bytes list;
};

/** SUBACK: one return code per filter of the SUBSCRIBE (0, 1, 2 or 0x80). */
struct osap_mqtt_suback {
    uint16_t packet_id;
    size_t count;
    const uint8_t *codes;
};

/** UNSUBSCRIBE: like struct osap_mqtt_subscribe, with filters only. */
struct osap_mqtt_unsubscribe {
    uint16_t packet_id;
    size_t count;
    const struct osap_mqtt_str *filters;
    struct osap_mqtt_bytes list;
};

/** Any control packet. @c type selects the union member; PINGREQ, PINGRESP and
 *  DISCONNECT have none. @c flags is the fixed-header nibble as decoded (the
 *  encoders compute it: it is ignored on input). */
struct osap_mqtt_packet {
    uint8_t type;
    uint8_t flags;
    union {
        struct osap_mqtt_connect connect;
        struct osap_mqtt_connack connack;
        struct osap_mqtt_publish publish;
        struct osap_mqtt_ack ack;
        struct osap_mqtt_subscribe subscribe;
        struct osap_mqtt_suback suback;
        struct osap_mqtt_unsubscribe unsubscribe;
    };
};

/* ------------------------------------------------------------------------ */
/* Decoding                                                                 */
/* ------------------------------------------------------------------------ */

/** Decode the body of a packet whose fixed header is @p hdr (from
 *  osap_mqtt_frame()): @p body holds hdr->remaining_len bytes and need not
 *  follow the header in memory. @p mode is a set of enum osap_mqtt_mode bits.
 *  Returns OSAP_OK and fills *@p pkt with views into @p body, or a specific
 *  OSAP_EMQTT_* error (then *@p pkt is untouched). */
osap_err osap_mqtt_decode_body(const struct osap_mqtt_header *hdr, const uint8_t *body,
                               unsigned mode, struct osap_mqtt_packet *pkt);

/** Decode the packet at the start of @p buf (@p len bytes). OSAP_ENEED_MORE when
 *  the packet is not complete yet (and no byte so far proves it invalid); the
 *  errors of osap_mqtt_frame() and osap_mqtt_decode_body() otherwise. On success
 *  *@p pkt holds views into @p buf and *@p consumed the packet's total length
 *  (bytes after it are left alone). */
osap_err osap_mqtt_decode(const uint8_t *buf, size_t len, size_t max_packet, unsigned mode,
                          struct osap_mqtt_packet *pkt, size_t *consumed);

/** Reads the filters of a decoded SUBSCRIBE or UNSUBSCRIBE. */
struct osap_mqtt_filter_iter {
    const uint8_t *pos;
    const uint8_t *end;
    bool with_qos;
};

/** Start reading the filters of @p sub (its @c list). */
void osap_mqtt_filter_iter_subscribe(struct osap_mqtt_filter_iter *it,
                                     const struct osap_mqtt_subscribe *sub);

/** Start reading the filters of @p unsub (its @c list). */
void osap_mqtt_filter_iter_unsubscribe(struct osap_mqtt_filter_iter *it,
                                       const struct osap_mqtt_unsubscribe *unsub);

/** The next filter and, for SUBSCRIBE, its requested QoS (else 0; @p qos may be
 *  NULL). false at the end of the list, or where the rest does not hold a whole
 *  entry (never the case for a list the decoder accepted). */
bool osap_mqtt_filter_iter_next(struct osap_mqtt_filter_iter *it, struct osap_mqtt_str *filter,
                                uint8_t *qos);

/* ------------------------------------------------------------------------ */
/* Streaming decoder                                                        */
/* ------------------------------------------------------------------------ */

/** Incremental decoder of one byte stream (one direction of one connection).
 *  Embedded by the caller; fields are private. */
struct osap_mqtt_stream {
    uint8_t *buf;  /* caller's buffer for bodies that arrive in pieces */
    size_t cap;    /* its size */
    size_t max;    /* largest accepted packet: cap (1 when there is no buffer) */
    unsigned mode; /* enum osap_mqtt_mode bits */
    osap_err err;  /* sticky error, OSAP_OK while healthy */
    struct osap_mqtt_header hdr;
    uint8_t hbuf[OSAP_MQTT_HEADER_MAX]; /* fixed header bytes received so far */
    uint8_t hlen;                       /* bytes in hbuf */
    bool have_hdr;                      /* hdr is complete */
    size_t blen;                        /* body bytes held in buf */
};

/** Initialise @p s over the caller's buffer @p buf of @p cap bytes, which the
 *  stream uses only to assemble a packet body that arrives in pieces. @p cap is
 *  also the largest packet accepted (whole packet, fixed header included):
 *  larger ones fail with OSAP_ETOOBIG as soon as their length is known (with
 *  no buffer or @p cap 0, every packet). The buffer must outlive the stream;
 *  nothing is allocated. */
void osap_mqtt_stream_init(struct osap_mqtt_stream *s, uint8_t *buf, size_t cap, unsigned mode);

/** Forget any partial packet and a sticky error (the buffer is kept). */
void osap_mqtt_stream_reset(struct osap_mqtt_stream *s);

/** Feed @p len bytes of @p in and get at most one packet:
 *   - OSAP_OK: *@p pkt is a packet and *@p consumed the bytes of @p in used up to
 *     its end; call again with the rest of @p in;
 *   - OSAP_ENEED_MORE: every byte of @p in is held (*@p consumed = @p len);
 *   - an error of osap_mqtt_frame()/osap_mqtt_decode_body(): the stream is
 *     broken and returns the same error on every later call (until reset);
 *     the outputs are untouched.
 *  View lifetime: a packet that lies whole inside @p in is decoded in place
 *  (no copy) and its views point into @p in; otherwise its body was assembled
 *  in the stream buffer and its views point there. Either way the views are
 *  valid until the next call on @p s (or reset), provided the caller keeps the
 *  bytes of @p in unchanged until then. */
osap_err osap_mqtt_stream_next(struct osap_mqtt_stream *s, const uint8_t *in, size_t len,
                               size_t *consumed, struct osap_mqtt_packet *pkt);

/** true when no partial packet is held: the stream is between packets. */
bool osap_mqtt_stream_idle(const struct osap_mqtt_stream *s);

/* ------------------------------------------------------------------------ */
/* Encoding                                                                 */
/* ------------------------------------------------------------------------ */

/** Exact encoded size of @p pkt. OSAP_EINVAL when @p pkt cannot be encoded: an
 *  unknown type, a QoS above 2, DUP with QoS 0, a zero packet id where one is
 *  required, an empty topic name or filter, an empty SUBSCRIBE/UNSUBSCRIBE/
 *  SUBACK list, an invalid SUBACK code, a string above 65535 bytes, CONNECT
 *  flags that contradict each other, CONNACK with session present and a
 *  non-zero code, or a total above the remaining-length limit. The bytes of
 *  strings are not inspected: check them with osap_mqtt_topic_validate() and
 *  friends when they do not come from a decoder. */
osap_err osap_mqtt_encoded_size(const struct osap_mqtt_packet *pkt, size_t *size);

/** Encode @p pkt into @p out. The checks of osap_mqtt_encoded_size(), then
 *  OSAP_EBUFSIZE when @p cap is too small (nothing written). On success *@p len
 *  receives the number of bytes written. A packet decoded by this codec encodes
 *  to exactly the bytes it was decoded from. */
osap_err osap_mqtt_encode(const struct osap_mqtt_packet *pkt, uint8_t *out, size_t cap,
                          size_t *len);

/** Largest output of osap_mqtt_encode_publish_header(). */
#define OSAP_MQTT_PUBLISH_HEADER_MAX (OSAP_MQTT_HEADER_MAX + 2 + 65535 + 2)

/** Encode the start of a PUBLISH: fixed header (whose remaining length counts
 *  @p pub->payload.len bytes of payload), topic and packet id, without the
 *  payload, so that header and payload can go out in one vectored write.
 *  pub->payload.ptr is not read. Errors as osap_mqtt_encode(). */
osap_err osap_mqtt_encode_publish_header(const struct osap_mqtt_publish *pub, uint8_t *out,
                                         size_t cap, size_t *len);

/* ------------------------------------------------------------------------ */
/* UTF-8 strings and topics                                                 */
/* ------------------------------------------------------------------------ */

/** MQTT 3.1.1 section 1.5.3: @p s must be well-formed UTF-8 (RFC 3629: no
 *  overlong forms, no surrogates U+D800..U+DFFF, nothing above U+10FFFF) and
 *  must not contain U+0000. OSAP_OK or OSAP_EMQTT_UTF8. */
osap_err osap_mqtt_utf8_validate(const char *s, size_t len);

/** A topic name (PUBLISH, will): valid UTF-8 (OSAP_EMQTT_UTF8), at least one
 *  byte and no '+' or '#' (OSAP_EMQTT_TOPIC). */
osap_err osap_mqtt_topic_validate(const char *topic, size_t len);

/** A topic filter (SUBSCRIBE, UNSUBSCRIBE): valid UTF-8 (OSAP_EMQTT_UTF8), at
 *  least one byte, '#' only as a whole last level and '+' only as a whole level
 *  (OSAP_EMQTT_FILTER). */
osap_err osap_mqtt_filter_validate(const char *filter, size_t len);

/** Whether the valid filter @p filter matches the valid topic name @p topic:
 *  '+' matches exactly one level (possibly empty), '#' the parent level and any
 *  number of child levels; a filter that starts with a wildcard does not match
 *  a topic that starts with '$'. Levels compare byte for byte. */
bool osap_mqtt_filter_matches(const char *filter, size_t flen, const char *topic, size_t tlen);

/** Walks the '/'-separated levels of a topic name or filter. */
struct osap_mqtt_level_iter {
    const char *pos;
    const char *end;
    bool done;
};

/** Start walking @p s: a string of n '/' has n + 1 levels, some maybe empty
 *  ("/a/" is "", "a", ""); the empty string has one empty level. */
void osap_mqtt_level_iter_init(struct osap_mqtt_level_iter *it, const char *s, size_t len);

/** The next level (a view into the string) or false after the last one. */
bool osap_mqtt_level_iter_next(struct osap_mqtt_level_iter *it, struct osap_mqtt_str *level);

#endif /* OSAP_MQTT_H */
