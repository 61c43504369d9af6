/* MQTT codec, hand-built packets: remaining length, framing, every validation
 * rule of MQTT 3.1.1 the decoder enforces, the lenient mode, and encoders of
 * all 14 packet types round-tripping through the decoder. */
#include "testutil.h"

#include "osap/mqtt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of the last packet dec() decoded: its views point here. */
static uint8_t keep[1024];

/* Decode one whole packet given in hex. On success the packet must use every
 * byte and re-encode to exactly the same bytes. */
static osap_err dec(const char *hex, unsigned mode, struct osap_mqtt_packet *out)
{
    static uint8_t enc[1024];
    struct osap_mqtt_packet pkt;
    size_t len, used = 0, n = 0;
    uint8_t *b = test_hex(hex, &len);

    assert_true(len <= sizeof(keep));
    memcpy(keep, b, len);
    test_free_buf(b);
    osap_err err = osap_mqtt_decode(keep, len, 0, mode, &pkt, &used);
    if (err == OSAP_OK) {
        assert_int_equal(used, len);
        assert_int_equal(osap_mqtt_encode(&pkt, enc, sizeof(enc), &n), OSAP_OK);
        assert_bytes_equal(enc, n, keep, len);
        if (out) *out = pkt;
    }
    return err;
}

/* Strict and lenient decoding agree (everything but CONNECT quirks). */
static osap_err dec_both(const char *hex)
{
    osap_err strict = dec(hex, OSAP_MQTT_STRICT, NULL);
    assert_int_equal(dec(hex, OSAP_MQTT_LENIENT, NULL), strict);
    return strict;
}

static osap_err frame_hex(const char *hex, size_t max, struct osap_mqtt_header *hdr)
{
    struct osap_mqtt_header h;
    size_t len;
    uint8_t *b = test_hex(hex, &len);
    osap_err err = osap_mqtt_frame(b, len, max, hdr ? hdr : &h);
    test_free_buf(b);
    return err;
}

static bool str_is(struct osap_mqtt_str s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

/* ---- remaining length ----------------------------------------------------- */

static void test_remlen_boundaries(void **state)
{
    static const struct {
        uint32_t value;
        const char *hex;
    } cases[] = {
        {0, "00"},         {127, "7f"},         {128, "8001"},         {16383, "ff7f"},
        {16384, "808001"}, {2097151, "ffff7f"}, {2097152, "80808001"}, {268435455, "ffffff7f"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t out[4];
        size_t wlen, n = 0;
        uint32_t v = 0;
        uint8_t *want = test_hex(cases[i].hex, &wlen);

        assert_int_equal(osap_mqtt_remlen_size(cases[i].value), wlen);
        assert_int_equal(osap_mqtt_remlen_encode(cases[i].value, out, sizeof(out), &n), OSAP_OK);
        assert_bytes_equal(out, n, want, wlen);
        assert_int_equal(osap_mqtt_remlen_encode(cases[i].value, out, wlen - 1, &n), OSAP_EBUFSIZE);
        assert_int_equal(osap_mqtt_remlen_decode(want, wlen, &v, &n), OSAP_OK);
        assert_int_equal(v, cases[i].value);
        assert_int_equal(n, wlen);
        for (size_t k = 0; k < wlen; k++)
            assert_int_equal(osap_mqtt_remlen_decode(want, k, &v, &n), OSAP_ENEED_MORE);
        test_free_buf(want);
    }
    uint8_t out[8];
    size_t n;
    assert_int_equal(osap_mqtt_remlen_size(268435456u), 0);
    assert_int_equal(osap_mqtt_remlen_encode(268435456u, out, sizeof(out), &n), OSAP_EINVAL);
    assert_int_equal(osap_mqtt_remlen_encode(UINT32_MAX, out, sizeof(out), &n), OSAP_EINVAL);
}

static void test_remlen_malformed(void **state)
{
    /* a fourth byte with the continuation bit: known without a fifth byte */
    static const char *const too_long[] = {"80808080", "ffffffff", "ffffff80", "8080808001"};
    /* a last byte of 0 after continuation bytes is a longer form of a value
     * that has a shorter one: rejected */
    static const char *const non_minimal[] = {"8000", "ff00", "818000", "80808000", "ffffff00"};
    (void)state;
    for (size_t i = 0; i < sizeof(too_long) / sizeof(too_long[0]); i++) {
        size_t len, n;
        uint32_t v;
        uint8_t *b = test_hex(too_long[i], &len);
        assert_int_equal(osap_mqtt_remlen_decode(b, len, &v, &n), OSAP_EMQTT_REMLEN);
        assert_int_equal(osap_mqtt_remlen_decode(b, 4, &v, &n), OSAP_EMQTT_REMLEN);
        assert_int_equal(osap_mqtt_remlen_decode(b, 3, &v, &n), OSAP_ENEED_MORE);
        test_free_buf(b);
    }
    for (size_t i = 0; i < sizeof(non_minimal) / sizeof(non_minimal[0]); i++) {
        size_t len, n;
        uint32_t v;
        uint8_t *b = test_hex(non_minimal[i], &len);
        assert_int_equal(osap_mqtt_remlen_decode(b, len, &v, &n), OSAP_EMQTT_REMLEN);
        test_free_buf(b);
    }
}

/* ---- framing -------------------------------------------------------------- */

static void test_frame_header(void **state)
{
    struct osap_mqtt_header h;
    (void)state;
    assert_int_equal(osap_mqtt_frame(NULL, 0, 0, &h), OSAP_ENEED_MORE);
    assert_int_equal(frame_hex("30", 0, NULL), OSAP_ENEED_MORE);
    assert_int_equal(frame_hex("30 ff ff ff", 0, NULL), OSAP_ENEED_MORE);
    /* the fourth remaining-length byte says a fifth follows: error at once */
    assert_int_equal(frame_hex("30 ff ff ff ff", 0, NULL), OSAP_EMQTT_REMLEN);
    assert_int_equal(frame_hex("30 80 00", 0, NULL), OSAP_EMQTT_REMLEN);

    assert_int_equal(frame_hex("30 ff ff ff 7f", 0, &h), OSAP_OK);
    assert_int_equal(h.type, OSAP_MQTT_PUBLISH);
    assert_int_equal(h.flags, 0);
    assert_int_equal(h.header_len, 5);
    assert_int_equal(h.remaining_len, 268435455u);
    assert_int_equal(h.total_len, 268435460u);

    assert_int_equal(frame_hex("3b 80 01", 0, &h), OSAP_OK);
    assert_int_equal(h.flags, 0xb);
    assert_int_equal(h.header_len, 3);
    assert_int_equal(h.total_len, 131);

    /* the body is not needed to frame */
    assert_int_equal(frame_hex("c0 00", 0, &h), OSAP_OK);
    assert_int_equal(h.total_len, 2);
}

static void test_frame_max_packet(void **state)
{
    struct osap_mqtt_header h;
    (void)state;
    /* total = 2 + 127: decided from two bytes, before any of the body */
    assert_int_equal(frame_hex("30 7f", 128, NULL), OSAP_ETOOBIG);
    assert_int_equal(frame_hex("30 7f", 129, &h), OSAP_OK);
    assert_int_equal(h.total_len, 129);
    assert_int_equal(frame_hex("30 ff 7f", 1000, NULL), OSAP_ETOOBIG);
    assert_int_equal(frame_hex("30 ff ff ff 7f", 16384, NULL), OSAP_ETOOBIG);
    assert_int_equal(frame_hex("30 ff ff ff 7f", 0, NULL), OSAP_OK);
    /* the limit counts the fixed header */
    assert_int_equal(frame_hex("c0 00", 2, NULL), OSAP_OK);
    assert_int_equal(frame_hex("c0 00", 1, NULL), OSAP_ETOOBIG);

    /* the whole-buffer decoder applies the same limit */
    uint8_t pkt[] = {0x30, 0x03, 0x00, 0x01, 'a'};
    struct osap_mqtt_packet p;
    size_t used;
    assert_int_equal(osap_mqtt_decode(pkt, sizeof(pkt), 5, 0, &p, &used), OSAP_OK);
    assert_int_equal(osap_mqtt_decode(pkt, sizeof(pkt), 4, 0, &p, &used), OSAP_ETOOBIG);
    assert_int_equal(osap_mqtt_decode(pkt, 2, 4, 0, &p, &used), OSAP_ETOOBIG);
}

static void test_first_byte_rules(void **state)
{
    (void)state;
    for (unsigned b = 0; b < 256; b++) {
        uint8_t type = (uint8_t)(b >> 4), flags = b & 0xF;
        osap_err want;
        if (type == 0 || type == 15) {
            want = OSAP_EMQTT_TYPE;
        } else if (type == OSAP_MQTT_PUBLISH) {
            if (OSAP_MQTT_PUBLISH_QOS(flags) == 3)
                want = OSAP_EMQTT_QOS;
            else if (OSAP_MQTT_PUBLISH_QOS(flags) == 0 && (flags & OSAP_MQTT_PUBLISH_DUP))
                want = OSAP_EMQTT_FLAGS;
            else
                want = OSAP_OK;
        } else if (type == OSAP_MQTT_PUBREL || type == OSAP_MQTT_SUBSCRIBE ||
                   type == OSAP_MQTT_UNSUBSCRIBE) {
            want = flags == 0x2 ? OSAP_OK : OSAP_EMQTT_FLAGS;
        } else {
            want = flags == 0 ? OSAP_OK : OSAP_EMQTT_FLAGS;
        }
        assert_int_equal(osap_mqtt_header_check((uint8_t)b), want);
        /* known from the first byte alone */
        struct osap_mqtt_header h;
        uint8_t one = (uint8_t)b;
        assert_int_equal(osap_mqtt_frame(&one, 1, 0, &h), want == OSAP_OK ? OSAP_ENEED_MORE : want);
    }
    assert_int_equal(dec_both("00 00"), OSAP_EMQTT_TYPE);
    assert_int_equal(dec_both("f0 00"), OSAP_EMQTT_TYPE);
    assert_int_equal(dec_both("36 03 0001 61"), OSAP_EMQTT_QOS);
    assert_int_equal(dec_both("38 03 0001 61"), OSAP_EMQTT_FLAGS);
    assert_int_equal(dec_both("c1 00"), OSAP_EMQTT_FLAGS);
    assert_int_equal(dec_both("60 02 0001"), OSAP_EMQTT_FLAGS);
    assert_int_equal(dec_both("80 06 0001 0001 61 00"), OSAP_EMQTT_FLAGS);
    assert_int_equal(dec_both("a0 05 0001 0001 61"), OSAP_EMQTT_FLAGS);
    assert_int_equal(osap_mqtt_type_name(OSAP_MQTT_PUBREL)[3], 'R');
    assert_string_equal(osap_mqtt_type_name(0), "RESERVED");
    assert_string_equal(osap_mqtt_type_name(OSAP_MQTT_DISCONNECT), "DISCONNECT");
}

static void test_fixed_size_packets(void **state)
{
    struct osap_mqtt_packet p;
    (void)state;
    /* a wrong remaining length is known from the fixed header */
    assert_int_equal(frame_hex("40 03", 0, NULL), OSAP_EMQTT_LENGTH);
    assert_int_equal(frame_hex("40 01", 0, NULL), OSAP_EMQTT_LENGTH);
    assert_int_equal(frame_hex("20 00", 0, NULL), OSAP_EMQTT_LENGTH);
    assert_int_equal(frame_hex("c0 01", 0, NULL), OSAP_EMQTT_LENGTH);
    assert_int_equal(frame_hex("e0 80 01", 0, NULL), OSAP_EMQTT_LENGTH);
    assert_int_equal(dec_both("b0 03 0001 00"), OSAP_EMQTT_LENGTH);

    assert_int_equal(dec("c0 00", 0, &p), OSAP_OK);
    assert_int_equal(p.type, OSAP_MQTT_PINGREQ);
    assert_int_equal(dec("d0 00", 0, &p), OSAP_OK);
    assert_int_equal(p.type, OSAP_MQTT_PINGRESP);
    assert_int_equal(dec("e0 00", 0, &p), OSAP_OK);
    assert_int_equal(p.type, OSAP_MQTT_DISCONNECT);

    static const char *const acks[] = {"40", "50", "62", "70", "b0"};
    for (size_t i = 0; i < 5; i++) {
        char hex[32];
        snprintf(hex, sizeof(hex), "%s 02 12 34", acks[i]);
        assert_int_equal(dec(hex, 0, &p), OSAP_OK);
        assert_int_equal(p.ack.packet_id, 0x1234);
        snprintf(hex, sizeof(hex), "%s 02 00 00", acks[i]);
        assert_int_equal(dec_both(hex), OSAP_EMQTT_PACKET_ID);
    }
}

/* ---- CONNECT ---------------------------------------------------------------- */

static void test_connect_protocol(void **state)
{
    struct osap_mqtt_packet p;
    (void)state;
    assert_int_equal(dec("10 0c 0004 4d515454 04 02 003c 0000", 0, &p), OSAP_OK);
    assert_int_equal(p.type, OSAP_MQTT_CONNECT);
    assert_true(p.connect.clean_session);
    assert_int_equal(p.connect.keepalive, 60);
    assert_int_equal(p.connect.client_id.len, 0);
    assert_false(p.connect.will || p.connect.has_username || p.connect.has_password);

    /* MQTT 3.1 (MQIsdp, level 3): the server answers CONNACK 1 */
    assert_int_equal(dec_both("10 0e 0006 4d5149736470 03 02 003c 0000"), OSAP_EMQTT_PROTO_NAME);
    assert_int_equal(dec_both("10 0c 0004 6d717474 04 02 003c 0000"), OSAP_EMQTT_PROTO_NAME);
    assert_int_equal(dec_both("10 0b 0003 4d5154 04 02 003c 0000"), OSAP_EMQTT_PROTO_NAME);
    assert_int_equal(dec_both("10 0c 0004 4d515454 03 02 003c 0000"), OSAP_EMQTT_PROTO_LEVEL);
    /* MQTT 5: the rest (properties) is not read */
    assert_int_equal(dec_both("10 0d 0004 4d515454 05 02 003c 00 0000"), OSAP_EMQTT_PROTO_LEVEL);
    assert_int_equal(dec_both("10 07 0004 4d515454 05"), OSAP_EMQTT_PROTO_LEVEL);
    /* truncated variable header */
    assert_int_equal(dec_both("10 00"), OSAP_EMQTT_LENGTH);
    assert_int_equal(dec_both("10 05 0004 4d5154"), OSAP_EMQTT_LENGTH);
    assert_int_equal(dec_both("10 06 0004 4d515454"), OSAP_EMQTT_LENGTH);
    assert_int_equal(dec_both("10 09 0004 4d515454 04 02 00"), OSAP_EMQTT_LENGTH);
    assert_int_equal(dec_both("10 0b 0004 4d515454 04 02 003c 00"), OSAP_EMQTT_LENGTH);
    /* bytes left over */
    assert_int_equal(dec_both("10 0d 0004 4d515454 04 02 003c 0000 00"), OSAP_EMQTT_LENGTH);
}

static void test_connect_flags(void **state)
{
    (void)state;
    /* reserved bit */
    assert_int_equal(dec_both("10 0c 0004 4d515454 04 03 003c 0000"), OSAP_EMQTT_CONNECT_FLAGS);
    /* will QoS 3 */
    assert_int_equal(dec_both("10 0c 0004 4d515454 04 1e 003c 0000"), OSAP_EMQTT_QOS);
    /* will QoS or will retain without the will flag */
    assert_int_equal(dec_both("10 0c 0004 4d515454 04 0a 003c 0000"), OSAP_EMQTT_CONNECT_FLAGS);
    assert_int_equal(dec_both("10 0c 0004 4d515454 04 12 003c 0000"), OSAP_EMQTT_CONNECT_FLAGS);
    assert_int_equal(dec_both("10 0c 0004 4d515454 04 22 003c 0000"), OSAP_EMQTT_CONNECT_FLAGS);
    /* password without user name */
    assert_int_equal(dec_both("10 0f 0004 4d515454 04 42 003c 0000 0001 70"),
                     OSAP_EMQTT_CONNECT_FLAGS);
    /* flags promise fields that are missing */
    assert_int_equal(dec_both("10 0c 0004 4d515454 04 06 003c 0000"), OSAP_EMQTT_LENGTH);
    assert_int_equal(dec_both("10 0c 0004 4d515454 04 82 003c 0000"), OSAP_EMQTT_LENGTH);
    assert_int_equal(dec_both("10 0f 0004 4d515454 04 c2 003c 0000 0001 75"), OSAP_EMQTT_LENGTH);
    assert_int_equal(dec_both("10 11 0004 4d515454 04 06 003c 0000 0003 612f62"),
                     OSAP_EMQTT_LENGTH);
}

static void test_connect_fields(void **state)
{
    struct osap_mqtt_packet p;
    (void)state;
    /* client "c1", will "a/b" = "hi" QoS 2 retain, user "u", password 00 ff */
    assert_int_equal(dec("10 1e 0004 4d515454 04 f6 0005 0002 6331 0003 612f62 0002 6869"
                         " 0001 75 0002 00ff",
                         0, &p),
                     OSAP_OK);
    const struct osap_mqtt_connect *c = &p.connect;
    assert_true(c->clean_session && c->will && c->will_retain && c->has_username &&
                c->has_password);
    assert_int_equal(c->will_qos, 2);
    assert_int_equal(c->keepalive, 5);
    assert_true(str_is(c->client_id, "c1"));
    assert_true(str_is(c->will_topic, "a/b"));
    assert_int_equal(c->will_topic_pad, 0);
    assert_int_equal(c->will_message.len, 2);
    assert_memory_equal(c->will_message.ptr, "hi", 2);
    assert_true(str_is(c->username, "u"));
    assert_int_equal(c->password.len, 2);
    assert_int_equal(c->password.ptr[1], 0xff);
    /* views point into the input */
    assert_ptr_equal(c->client_id.ptr, (const char *)keep + 14);

    /* present but empty user name and password */
    assert_int_equal(dec("10 10 0004 4d515454 04 c2 0000 0000 0000 0000", 0, &p), OSAP_OK);
    assert_true(p.connect.has_username && p.connect.has_password);
    assert_int_equal(p.connect.username.len, 0);

    /* client id, user name: UTF-8 rules */
    assert_int_equal(dec_both("10 0d 0004 4d515454 04 02 003c 0001 ff"), OSAP_EMQTT_UTF8);
    assert_int_equal(dec_both("10 0d 0004 4d515454 04 02 003c 0001 00"), OSAP_EMQTT_UTF8);
    assert_int_equal(dec_both("10 0f 0004 4d515454 04 82 003c 0000 0001 c0"), OSAP_EMQTT_UTF8);
    /* the password is binary: anything goes */
    assert_int_equal(dec_both("10 12 0004 4d515454 04 c2 003c 0000 0000 0002 c000"), OSAP_OK);
    /* the will message is binary too */
    assert_int_equal(dec_both("10 12 0004 4d515454 04 06 003c 0000 0001 61 0001 00"), OSAP_OK);
}

static void test_connect_will_topic(void **state)
{
    struct osap_mqtt_packet p;
    (void)state;
    /* will topic "a/b" + 5 NULs, will message "m" */
    const char *padded = "10 1a 0004 4d515454 04 0e 003c 0001 63 0008 612f62 0000000000 0001 6d";
    assert_int_equal(dec(padded, OSAP_MQTT_STRICT, NULL), OSAP_EMQTT_UTF8);
    assert_int_equal(dec(padded, OSAP_MQTT_LENIENT_EMPTY_CLIENT_ID, NULL), OSAP_EMQTT_UTF8);
    /* lenient: stripped, reported, and re-encoded with the same padding */
    assert_int_equal(dec(padded, OSAP_MQTT_LENIENT_WILL_PAD, &p), OSAP_OK);
    assert_true(str_is(p.connect.will_topic, "a/b"));
    assert_int_equal(p.connect.will_topic_pad, 5);
    assert_int_equal(p.connect.will_qos, 1);
    assert_int_equal(dec(padded, OSAP_MQTT_LENIENT, &p), OSAP_OK);
    assert_int_equal(p.connect.will_topic_pad, 5);
    /* no padding: pad 0 in either mode */
    assert_int_equal(dec("10 11 0004 4d515454 04 06 003c 0000 0001 61 0000", OSAP_MQTT_LENIENT, &p),
                     OSAP_OK);
    assert_int_equal(p.connect.will_topic_pad, 0);

    /* a NUL followed by other bytes stays invalid */
    const char *inner = "10 15 0004 4d515454 04 06 003c 0000 0005 61 00 62 0000 0000";
    assert_int_equal(dec(inner, OSAP_MQTT_STRICT, NULL), OSAP_EMQTT_UTF8);
    assert_int_equal(dec(inner, OSAP_MQTT_LENIENT, NULL), OSAP_EMQTT_UTF8);
    /* only NULs: nothing left, an empty topic */
    const char *only = "10 13 0004 4d515454 04 06 003c 0000 0003 000000 0000";
    assert_int_equal(dec(only, OSAP_MQTT_STRICT, NULL), OSAP_EMQTT_UTF8);
    assert_int_equal(dec(only, OSAP_MQTT_LENIENT, NULL), OSAP_EMQTT_WILL_TOPIC);
    /* the rest must be a topic name: no wildcards, valid UTF-8 */
    const char *wild = "10 13 0004 4d515454 04 06 003c 0000 0003 612f23 0000";
    assert_int_equal(dec(wild, OSAP_MQTT_STRICT, NULL), OSAP_EMQTT_WILL_TOPIC);
    assert_int_equal(dec(wild, OSAP_MQTT_LENIENT, NULL), OSAP_EMQTT_WILL_TOPIC);
    const char *wildpad = "10 14 0004 4d515454 04 06 003c 0000 0004 612f2b00 0000";
    assert_int_equal(dec(wildpad, OSAP_MQTT_LENIENT, NULL), OSAP_EMQTT_WILL_TOPIC);
    const char *badutf = "10 14 0004 4d515454 04 06 003c 0000 0004 61c0af00 0000";
    assert_int_equal(dec(badutf, OSAP_MQTT_LENIENT, NULL), OSAP_EMQTT_UTF8);
    /* an empty will topic */
    assert_int_equal(dec_both("10 10 0004 4d515454 04 06 003c 0000 0000 0000"),
                     OSAP_EMQTT_WILL_TOPIC);
}

static void test_connect_empty_client_id(void **state)
{
    struct osap_mqtt_packet p;
    (void)state;
    /* clean session 0, empty client id: what devices send on light registration */
    const char *light = "10 0c 0004 4d515454 04 00 003c 0000";
    assert_int_equal(dec(light, OSAP_MQTT_STRICT, NULL), OSAP_EMQTT_CLIENT_ID);
    assert_int_equal(dec(light, OSAP_MQTT_LENIENT_WILL_PAD, NULL), OSAP_EMQTT_CLIENT_ID);
    assert_int_equal(dec(light, OSAP_MQTT_LENIENT_EMPTY_CLIENT_ID, &p), OSAP_OK);
    assert_false(p.connect.clean_session);
    assert_int_equal(dec(light, OSAP_MQTT_LENIENT, &p), OSAP_OK);
    /* a non-empty id with clean session 0 is plain MQTT */
    assert_int_equal(dec("10 0d 0004 4d515454 04 00 003c 0001 78", OSAP_MQTT_STRICT, &p), OSAP_OK);
    assert_true(str_is(p.connect.client_id, "x"));
}

/* A device-style CONNECT (flags 0xEC, 128-byte padded will topic), built with
 * the encoder, decodes leniently to the same fields. */
static void test_connect_device_profile(void **state)
{
    static const char topic[] = "/Basic/pu2cenplt/Q12345678/breakconnect";
    static const uint8_t will[] = {0xa4, 0xc3, 0x22, 0x65};
    struct osap_mqtt_packet p = {.type = OSAP_MQTT_CONNECT};
    uint8_t out[512];
    size_t n = 0, used = 0;
    (void)state;

    p.connect.will = true;
    p.connect.will_qos = 1;
    p.connect.will_retain = true;
    p.connect.has_username = p.connect.has_password = true;
    p.connect.keepalive = OSAP_DEVICE_KEEPALIVE;
    p.connect.client_id = (struct osap_mqtt_str){"", 0};
    p.connect.will_topic = (struct osap_mqtt_str){topic, strlen(topic)};
    p.connect.will_topic_pad = OSAP_WILL_TOPIC_LEN - strlen(topic);
    p.connect.will_message = (struct osap_mqtt_bytes){will, sizeof(will)};
    p.connect.username = (struct osap_mqtt_str){"Q12345678", 9};
    p.connect.password = (struct osap_mqtt_bytes){(const uint8_t *)"test", 4};
    assert_int_equal(osap_mqtt_encode(&p, out, sizeof(out), &n), OSAP_OK);
    /* connect flags byte and the will topic length prefix of real devices */
    assert_int_equal(out[3 + 7], OSAP_CONNECT_FLAGS_LIGHT);
    assert_int_equal(out[3 + 12] << 8 | out[3 + 13], OSAP_WILL_TOPIC_LEN);

    struct osap_mqtt_packet q;
    /* each quirk needs its own lenient bit; the client id comes first */
    assert_int_equal(osap_mqtt_decode(out, n, 0, OSAP_MQTT_STRICT, &q, &used),
                     OSAP_EMQTT_CLIENT_ID);
    assert_int_equal(osap_mqtt_decode(out, n, 0, OSAP_MQTT_LENIENT_WILL_PAD, &q, &used),
                     OSAP_EMQTT_CLIENT_ID);
    assert_int_equal(osap_mqtt_decode(out, n, 0, OSAP_MQTT_LENIENT_EMPTY_CLIENT_ID, &q, &used),
                     OSAP_EMQTT_UTF8);
    assert_int_equal(osap_mqtt_decode(out, n, 0, OSAP_MQTT_LENIENT, &q, &used), OSAP_OK);
    assert_int_equal(used, n);
    assert_true(str_is(q.connect.will_topic, topic));
    assert_int_equal(q.connect.will_topic_pad, p.connect.will_topic_pad);
    assert_false(q.connect.clean_session);
}

/* ---- CONNACK, PUBLISH --------------------------------------------------------- */

static void test_connack(void **state)
{
    struct osap_mqtt_packet p;
    (void)state;
    assert_int_equal(dec("20 02 00 00", 0, &p), OSAP_OK);
    assert_false(p.connack.session_present);
    assert_int_equal(p.connack.return_code, 0);
    assert_int_equal(dec("20 02 01 00", 0, &p), OSAP_OK);
    assert_true(p.connack.session_present);
    /* OSAP device-profile codes and unknown codes are passed on */
    assert_int_equal(dec("20 02 00 0c", 0, &p), OSAP_OK);
    assert_int_equal(p.connack.return_code, OSAP_CONNACK_SESSION_EXISTS);
    assert_int_equal(dec("20 02 00 ff", 0, &p), OSAP_OK);
    /* reserved acknowledge flags; session present with a refusal */
    assert_int_equal(dec_both("20 02 02 00"), OSAP_EMQTT_CONNACK_FLAGS);
    assert_int_equal(dec_both("20 02 80 00"), OSAP_EMQTT_CONNACK_FLAGS);
    assert_int_equal(dec_both("20 02 01 05"), OSAP_EMQTT_CONNACK_FLAGS);
    assert_int_equal(dec_both("20 02 01 0b"), OSAP_EMQTT_CONNACK_FLAGS);
}

static void test_publish(void **state)
{
    struct osap_mqtt_packet p;
    (void)state;
    assert_int_equal(dec("30 03 0001 61", 0, &p), OSAP_OK);
    assert_int_equal(p.publish.qos, 0);
    assert_int_equal(p.publish.packet_id, 0);
    assert_true(str_is(p.publish.topic, "a"));
    assert_int_equal(p.publish.payload.len, 0);

    assert_int_equal(dec("3d 09 0003 612f62 0102 c0ff", 0, &p), OSAP_OK);
    assert_true(p.publish.dup && p.publish.retain);
    assert_int_equal(p.publish.qos, 2);
    assert_int_equal(p.publish.packet_id, 0x0102);
    assert_int_equal(p.publish.payload.len, 2);
    assert_ptr_equal(p.publish.payload.ptr, keep + 9);

    /* topic name rules */
    assert_int_equal(dec_both("30 02 0000"), OSAP_EMQTT_TOPIC);
    assert_int_equal(dec_both("30 05 0003 612f2b"), OSAP_EMQTT_TOPIC);
    assert_int_equal(dec_both("30 03 0001 23"), OSAP_EMQTT_TOPIC);
    assert_int_equal(dec_both("30 04 0002 6123"), OSAP_EMQTT_TOPIC);
    assert_int_equal(dec_both("30 04 0002 6100"), OSAP_EMQTT_UTF8);
    assert_int_equal(dec_both("30 05 0003 eda080"), OSAP_EMQTT_UTF8);
    assert_int_equal(dec_both("30 04 0002 c0af"), OSAP_EMQTT_UTF8);
    /* packet identifier */
    assert_int_equal(dec_both("32 05 0001 61 0000"), OSAP_EMQTT_PACKET_ID);
    assert_int_equal(dec_both("34 05 0001 61 0000"), OSAP_EMQTT_PACKET_ID);
    assert_int_equal(dec_both("32 03 0001 61"), OSAP_EMQTT_LENGTH);
    assert_int_equal(dec_both("32 04 0001 61 00"), OSAP_EMQTT_LENGTH);
    /* a topic longer than the packet */
    assert_int_equal(dec_both("30 03 0005 61"), OSAP_EMQTT_LENGTH);
    assert_int_equal(dec_both("30 01 00"), OSAP_EMQTT_LENGTH);
    assert_int_equal(dec_both("30 00"), OSAP_EMQTT_LENGTH);
}

/* ---- SUBSCRIBE, SUBACK, UNSUBSCRIBE ------------------------------------------- */

static void test_subscribe(void **state)
{
    struct osap_mqtt_packet p;
    struct osap_mqtt_filter_iter it;
    struct osap_mqtt_str f;
    uint8_t qos = 9;
    (void)state;
    assert_int_equal(dec("82 10 0007 0001 61 01 0003 2b2f23 02 0001 23 00", 0, &p), OSAP_OK);
    assert_int_equal(p.subscribe.packet_id, 7);
    assert_int_equal(p.subscribe.count, 3);
    assert_null(p.subscribe.entries);
    osap_mqtt_filter_iter_subscribe(&it, &p.subscribe);
    assert_true(osap_mqtt_filter_iter_next(&it, &f, &qos));
    assert_true(str_is(f, "a"));
    assert_int_equal(qos, 1);
    assert_true(osap_mqtt_filter_iter_next(&it, &f, &qos));
    assert_true(str_is(f, "+/#"));
    assert_int_equal(qos, 2);
    assert_true(osap_mqtt_filter_iter_next(&it, &f, NULL));
    assert_true(str_is(f, "#"));
    assert_false(osap_mqtt_filter_iter_next(&it, &f, &qos));

    assert_int_equal(dec_both("82 06 0000 0001 61 01"), OSAP_EMQTT_PACKET_ID);
    assert_int_equal(dec_both("82 02 0001"), OSAP_EMQTT_NO_TOPICS);
    assert_int_equal(dec_both("82 01 00"), OSAP_EMQTT_LENGTH);
    /* requested QoS: 3, or reserved bits */
    assert_int_equal(dec_both("82 06 0001 0001 61 03"), OSAP_EMQTT_QOS);
    assert_int_equal(dec_both("82 06 0001 0001 61 81"), OSAP_EMQTT_QOS);
    assert_int_equal(dec_both("82 06 0001 0001 61 04"), OSAP_EMQTT_QOS);
    assert_int_equal(dec_both("82 0a 0001 0001 61 00 0001 62 fc"), OSAP_EMQTT_QOS);
    /* missing QoS byte, truncated filter */
    assert_int_equal(dec_both("82 05 0001 0001 61"), OSAP_EMQTT_LENGTH);
    assert_int_equal(dec_both("82 05 0001 0002 61"), OSAP_EMQTT_LENGTH);
    assert_int_equal(dec_both("82 03 0001 00"), OSAP_EMQTT_LENGTH);
    /* topic filter rules */
    assert_int_equal(dec_both("82 05 0001 0000 00"), OSAP_EMQTT_FILTER);
    assert_int_equal(dec_both("82 07 0001 0002 6123 00"), OSAP_EMQTT_FILTER);
    assert_int_equal(dec_both("82 09 0001 0004 612f2362 00"), OSAP_EMQTT_FILTER);
    assert_int_equal(dec_both("82 07 0001 0002 2b61 00"), OSAP_EMQTT_FILTER);
    assert_int_equal(dec_both("82 07 0001 0002 6100 00"), OSAP_EMQTT_UTF8);
}

static void test_suback(void **state)
{
    struct osap_mqtt_packet p;
    (void)state;
    assert_int_equal(dec("90 06 0005 00 01 02 80", 0, &p), OSAP_OK);
    assert_int_equal(p.suback.packet_id, 5);
    assert_int_equal(p.suback.count, 4);
    assert_int_equal(p.suback.codes[3], OSAP_SUBACK_FAILURE);
    assert_int_equal(dec_both("90 03 0005 03"), OSAP_EMQTT_RETURN_CODE);
    assert_int_equal(dec_both("90 04 0005 00 81"), OSAP_EMQTT_RETURN_CODE);
    assert_int_equal(dec_both("90 03 0005 7f"), OSAP_EMQTT_RETURN_CODE);
    assert_int_equal(dec_both("90 02 0005"), OSAP_EMQTT_LENGTH);
    assert_int_equal(dec_both("90 01 00"), OSAP_EMQTT_LENGTH);
    assert_int_equal(dec_both("90 03 0000 00"), OSAP_EMQTT_PACKET_ID);
}

static void test_unsubscribe(void **state)
{
    struct osap_mqtt_packet p;
    struct osap_mqtt_filter_iter it;
    struct osap_mqtt_str f;
    uint8_t qos = 9;
    (void)state;
    assert_int_equal(dec("a2 0a 0009 0001 61 0003 2f2b2f", 0, &p), OSAP_OK);
    assert_int_equal(p.unsubscribe.packet_id, 9);
    assert_int_equal(p.unsubscribe.count, 2);
    osap_mqtt_filter_iter_unsubscribe(&it, &p.unsubscribe);
    assert_true(osap_mqtt_filter_iter_next(&it, &f, &qos));
    assert_true(str_is(f, "a"));
    assert_int_equal(qos, 0);
    assert_true(osap_mqtt_filter_iter_next(&it, &f, NULL));
    assert_true(str_is(f, "/+/"));
    assert_false(osap_mqtt_filter_iter_next(&it, &f, NULL));

    assert_int_equal(dec_both("a2 02 0009"), OSAP_EMQTT_NO_TOPICS);
    assert_int_equal(dec_both("a2 05 0000 0001 61"), OSAP_EMQTT_PACKET_ID);
    assert_int_equal(dec_both("a2 04 0009 0000"), OSAP_EMQTT_FILTER);
    assert_int_equal(dec_both("a2 06 0009 0002 2323"), OSAP_EMQTT_FILTER);
    assert_int_equal(dec_both("a2 05 0009 0002 61"), OSAP_EMQTT_LENGTH);
    assert_int_equal(dec_both("a2 05 0009 0001 ff"), OSAP_EMQTT_UTF8);
}

/* decode_body() works on a body stored apart from its header. */
static void test_decode_body_apart(void **state)
{
    const uint8_t head[] = {0x32, 0x07};
    const uint8_t body[] = {0x00, 0x01, 'a', 0x00, 0x02, 'x', 'y'};
    struct osap_mqtt_header h;
    struct osap_mqtt_packet p;
    (void)state;
    assert_int_equal(osap_mqtt_frame(head, sizeof(head), 0, &h), OSAP_OK);
    assert_int_equal(osap_mqtt_decode_body(&h, body, 0, &p), OSAP_OK);
    assert_int_equal(p.publish.packet_id, 2);
    assert_ptr_equal(p.publish.payload.ptr, body + 5);
    /* a header that did not come from osap_mqtt_frame() is still checked */
    h.flags = 0x6;
    assert_int_equal(osap_mqtt_decode_body(&h, body, 0, &p), OSAP_EMQTT_QOS);
    h.type = 0;
    assert_int_equal(osap_mqtt_decode_body(&h, body, 0, &p), OSAP_EMQTT_TYPE);
    h.type = 0x13;
    assert_int_equal(osap_mqtt_decode_body(&h, body, 0, &p), OSAP_EMQTT_TYPE);
}

/* ---- encoders ------------------------------------------------------------------ */

/* Encode, check the size function agrees, decode, re-encode. */
static void round_trip(const struct osap_mqtt_packet *in, const char *want_hex,
                       struct osap_mqtt_packet *out)
{
    static uint8_t buf[1 << 16];
    static uint8_t again[1 << 16];
    size_t size = 0, n = 0, used = 0, m = 0;

    assert_int_equal(osap_mqtt_encoded_size(in, &size), OSAP_OK);
    assert_int_equal(osap_mqtt_encode(in, buf, sizeof(buf), &n), OSAP_OK);
    assert_int_equal(n, size);
    assert_int_equal(osap_mqtt_encode(in, buf, n - 1, &m), OSAP_EBUFSIZE);
    if (want_hex) {
        size_t wlen;
        uint8_t *want = test_hex(want_hex, &wlen);
        assert_bytes_equal(buf, n, want, wlen);
        test_free_buf(want);
    }
    assert_int_equal(osap_mqtt_decode(buf, n, n, OSAP_MQTT_STRICT, out, &used), OSAP_OK);
    assert_int_equal(used, n);
    assert_int_equal(out->type, in->type);
    assert_int_equal(osap_mqtt_encode(out, again, sizeof(again), &m), OSAP_OK);
    assert_bytes_equal(again, m, buf, n);
}

static void test_encode_all_types(void **state)
{
    struct osap_mqtt_packet p, q;
    (void)state;

    memset(&p, 0, sizeof(p));
    p.type = OSAP_MQTT_CONNECT;
    p.connect.clean_session = true;
    p.connect.keepalive = 30;
    p.connect.client_id = (struct osap_mqtt_str){"id", 2};
    p.connect.has_username = true;
    p.connect.username = (struct osap_mqtt_str){"u", 1};
    round_trip(&p, "10 11 0004 4d515454 04 82 001e 0002 6964 0001 75", &q);
    assert_true(str_is(q.connect.client_id, "id") && str_is(q.connect.username, "u"));

    memset(&p, 0, sizeof(p));
    p.type = OSAP_MQTT_CONNACK;
    p.connack.session_present = true;
    round_trip(&p, "20 02 01 00", &q);
    assert_true(q.connack.session_present);
    p.connack.session_present = false;
    p.connack.return_code = OSAP_CONNACK_SESSION_INVALID;
    round_trip(&p, "20 02 00 0b", &q);

    memset(&p, 0, sizeof(p));
    p.type = OSAP_MQTT_PUBLISH;
    p.publish.qos = 1;
    p.publish.retain = true;
    p.publish.dup = true;
    p.publish.packet_id = 0xbeef;
    p.publish.topic = (struct osap_mqtt_str){"t/1", 3};
    p.publish.payload = (struct osap_mqtt_bytes){(const uint8_t *)"xyz", 3};
    round_trip(&p, "3b 0a 0003 742f31 beef 78797a", &q);
    assert_int_equal(q.publish.packet_id, 0xbeef);

    const uint8_t types[] = {OSAP_MQTT_PUBACK, OSAP_MQTT_PUBREC, OSAP_MQTT_PUBREL,
                             OSAP_MQTT_PUBCOMP, OSAP_MQTT_UNSUBACK};
    const char *hex[] = {"40 02 0102", "50 02 0102", "62 02 0102", "70 02 0102", "b0 02 0102"};
    for (size_t i = 0; i < sizeof(types); i++) {
        memset(&p, 0, sizeof(p));
        p.type = types[i];
        p.ack.packet_id = 0x0102;
        round_trip(&p, hex[i], &q);
        assert_int_equal(q.ack.packet_id, 0x0102);
    }

    const struct osap_mqtt_subscription subs[] = {{{"a/#", 3}, 1}, {{"+", 1}, 2}};
    memset(&p, 0, sizeof(p));
    p.type = OSAP_MQTT_SUBSCRIBE;
    p.subscribe.packet_id = 2;
    p.subscribe.count = 2;
    p.subscribe.entries = subs;
    round_trip(&p, "82 0c 0002 0003 612f23 01 0001 2b 02", &q);
    assert_int_equal(q.subscribe.count, 2);

    const uint8_t codes[] = {1, 0x80};
    memset(&p, 0, sizeof(p));
    p.type = OSAP_MQTT_SUBACK;
    p.suback.packet_id = 2;
    p.suback.count = 2;
    p.suback.codes = codes;
    round_trip(&p, "90 04 0002 01 80", &q);

    const struct osap_mqtt_str filters[] = {{"a/#", 3}, {"/x", 2}};
    memset(&p, 0, sizeof(p));
    p.type = OSAP_MQTT_UNSUBSCRIBE;
    p.unsubscribe.packet_id = 3;
    p.unsubscribe.count = 2;
    p.unsubscribe.filters = filters;
    round_trip(&p, "a2 0b 0003 0003 612f23 0002 2f78", &q);

    const uint8_t empty[] = {OSAP_MQTT_PINGREQ, OSAP_MQTT_PINGRESP, OSAP_MQTT_DISCONNECT};
    const char *ehex[] = {"c0 00", "d0 00", "e0 00"};
    for (size_t i = 0; i < sizeof(empty); i++) {
        memset(&p, 0, sizeof(p));
        p.type = empty[i];
        p.flags = 0xF; /* ignored: encoders compute the flags */
        round_trip(&p, ehex[i], &q);
    }
}

/* PUBLISH sizes across the remaining-length boundaries, encoded and decoded. */
static void test_encode_publish_sizes(void **state)
{
    static const uint32_t sizes[] = {3, 127, 128, 16383, 16384, 2097151, 2097152};
    (void)state;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t payload_len = sizes[i] - 3; /* topic "a" with its length */
        uint8_t *payload = calloc(1, payload_len + 1);
        uint8_t *buf = malloc(sizes[i] + 8);
        struct osap_mqtt_packet p = {.type = OSAP_MQTT_PUBLISH}, q;
        size_t n = 0, used = 0;
        assert_non_null(payload);
        assert_non_null(buf);
        for (size_t k = 0; k < payload_len; k++)
            payload[k] = (uint8_t)k;
        p.publish.topic = (struct osap_mqtt_str){"a", 1};
        p.publish.payload = (struct osap_mqtt_bytes){payload, payload_len};
        assert_int_equal(osap_mqtt_encode(&p, buf, sizes[i] + 8, &n), OSAP_OK);
        assert_int_equal(n, 1 + osap_mqtt_remlen_size(sizes[i]) + sizes[i]);
        assert_int_equal(osap_mqtt_decode(buf, n, 0, 0, &q, &used), OSAP_OK);
        assert_int_equal(used, n);
        assert_int_equal(q.publish.payload.len, payload_len);
        assert_memory_equal(q.publish.payload.ptr, payload, payload_len);

        /* header + payload in two pieces is the same packet */
        size_t head = 0;
        uint8_t hbuf[OSAP_MQTT_PUBLISH_HEADER_MAX];
        assert_int_equal(osap_mqtt_encode_publish_header(&p.publish, hbuf, sizeof(hbuf), &head),
                         OSAP_OK);
        assert_int_equal(head + payload_len, n);
        assert_memory_equal(hbuf, buf, head);
        assert_int_equal(osap_mqtt_encode_publish_header(&p.publish, hbuf, head - 1, &head),
                         OSAP_EBUFSIZE);
        free(payload);
        free(buf);
    }
}

static osap_err enc_size(const struct osap_mqtt_packet *p)
{
    size_t n = 0;
    uint8_t out[64];
    osap_err a = osap_mqtt_encoded_size(p, &n);
    osap_err b = osap_mqtt_encode(p, out, sizeof(out), &n);
    assert_int_equal(a, b);
    return a;
}

static void test_encode_rejects(void **state)
{
    struct osap_mqtt_packet p;
    static char big[65536];
    (void)state;

    memset(&p, 0, sizeof(p));
    assert_int_equal(enc_size(&p), OSAP_EINVAL); /* type 0 */
    p.type = 15;
    assert_int_equal(enc_size(&p), OSAP_EINVAL);

    memset(&p, 0, sizeof(p));
    p.type = OSAP_MQTT_PUBLISH;
    p.publish.topic = (struct osap_mqtt_str){"a", 1};
    assert_int_equal(enc_size(&p), OSAP_OK);
    p.publish.qos = 3;
    assert_int_equal(enc_size(&p), OSAP_EINVAL);
    p.publish.qos = 0;
    p.publish.dup = true;
    assert_int_equal(enc_size(&p), OSAP_EINVAL);
    p.publish.dup = false;
    p.publish.qos = 1;
    assert_int_equal(enc_size(&p), OSAP_EINVAL); /* packet id 0 */
    p.publish.packet_id = 1;
    p.publish.topic.len = 0;
    assert_int_equal(enc_size(&p), OSAP_EINVAL);
    p.publish.topic = (struct osap_mqtt_str){big, sizeof(big)};
    assert_int_equal(enc_size(&p), OSAP_EINVAL);
    p.publish.topic = (struct osap_mqtt_str){"a", 1};
    p.publish.payload = (struct osap_mqtt_bytes){(const uint8_t *)big, OSAP_MQTT_REMLEN_MAX};
    assert_int_equal(enc_size(&p), OSAP_EINVAL);
    size_t n;
    uint8_t out[16];
    assert_int_equal(osap_mqtt_encode_publish_header(&p.publish, out, sizeof(out), &n),
                     OSAP_EINVAL);
    p.publish.payload.len = OSAP_MQTT_REMLEN_MAX - 5;
    assert_int_equal(osap_mqtt_encode_publish_header(&p.publish, out, sizeof(out), &n), OSAP_OK);
    assert_int_equal(n, 10);

    memset(&p, 0, sizeof(p));
    p.type = OSAP_MQTT_CONNACK;
    p.connack.session_present = true;
    p.connack.return_code = 1;
    assert_int_equal(enc_size(&p), OSAP_EINVAL);

    memset(&p, 0, sizeof(p));
    p.type = OSAP_MQTT_CONNECT;
    p.connect.has_password = true;
    assert_int_equal(enc_size(&p), OSAP_EINVAL);
    p.connect.has_password = false;
    p.connect.will_qos = 1;
    assert_int_equal(enc_size(&p), OSAP_EINVAL);
    p.connect.will_qos = 0;
    p.connect.will_retain = true;
    assert_int_equal(enc_size(&p), OSAP_EINVAL);
    p.connect.will = true;
    assert_int_equal(enc_size(&p), OSAP_EINVAL); /* empty will topic */
    p.connect.will_topic = (struct osap_mqtt_str){"w", 1};
    assert_int_equal(enc_size(&p), OSAP_OK);
    p.connect.will_qos = 3;
    assert_int_equal(enc_size(&p), OSAP_EINVAL);
    p.connect.will_qos = 0;
    p.connect.will_topic_pad = 65535;
    assert_int_equal(enc_size(&p), OSAP_EINVAL);
    p.connect.will_topic_pad = 0;
    p.connect.client_id = (struct osap_mqtt_str){big, sizeof(big)};
    assert_int_equal(enc_size(&p), OSAP_EINVAL);

    static const uint8_t types[] = {OSAP_MQTT_PUBACK, OSAP_MQTT_PUBREC, OSAP_MQTT_PUBREL,
                                    OSAP_MQTT_PUBCOMP, OSAP_MQTT_UNSUBACK};
    for (size_t i = 0; i < sizeof(types); i++) {
        memset(&p, 0, sizeof(p));
        p.type = types[i];
        assert_int_equal(enc_size(&p), OSAP_EINVAL);
    }

    const struct osap_mqtt_subscription subs[] = {{{"a", 1}, 3}, {{"", 0}, 0}};
    memset(&p, 0, sizeof(p));
    p.type = OSAP_MQTT_SUBSCRIBE;
    p.subscribe.packet_id = 1;
    p.subscribe.entries = subs;
    assert_int_equal(enc_size(&p), OSAP_EINVAL); /* count 0 */
    p.subscribe.count = 1;
    assert_int_equal(enc_size(&p), OSAP_EINVAL); /* QoS 3 */
    p.subscribe.entries = subs + 1;
    assert_int_equal(enc_size(&p), OSAP_EINVAL); /* empty filter */
    /* a raw list must hold exactly count whole entries */
    p.subscribe.entries = NULL;
    p.subscribe.list = (struct osap_mqtt_bytes){(const uint8_t *)"\0\1a\1", 4};
    assert_int_equal(enc_size(&p), OSAP_OK);
    p.subscribe.count = 2;
    assert_int_equal(enc_size(&p), OSAP_EINVAL);
    p.subscribe.count = 1;
    p.subscribe.list.len = 3;
    assert_int_equal(enc_size(&p), OSAP_EINVAL);
    p.subscribe.list = (struct osap_mqtt_bytes){(const uint8_t *)"\0\1a\3", 4};
    assert_int_equal(enc_size(&p), OSAP_EINVAL);
    p.subscribe.packet_id = 0;
    p.subscribe.list.ptr = (const uint8_t *)"\0\1a\1";
    assert_int_equal(enc_size(&p), OSAP_EINVAL);

    const uint8_t bad_codes[] = {0, 3};
    memset(&p, 0, sizeof(p));
    p.type = OSAP_MQTT_SUBACK;
    p.suback.packet_id = 1;
    p.suback.codes = bad_codes;
    assert_int_equal(enc_size(&p), OSAP_EINVAL); /* count 0 */
    p.suback.count = 1;
    assert_int_equal(enc_size(&p), OSAP_OK);
    p.suback.count = 2;
    assert_int_equal(enc_size(&p), OSAP_EINVAL);

    const struct osap_mqtt_str filters[] = {{"", 0}};
    memset(&p, 0, sizeof(p));
    p.type = OSAP_MQTT_UNSUBSCRIBE;
    p.unsubscribe.packet_id = 1;
    p.unsubscribe.filters = filters;
    assert_int_equal(enc_size(&p), OSAP_EINVAL); /* count 0 */
    p.unsubscribe.count = 1;
    assert_int_equal(enc_size(&p), OSAP_EINVAL); /* empty filter */
    p.unsubscribe.filters = NULL;
    p.unsubscribe.list = (struct osap_mqtt_bytes){(const uint8_t *)"\0\1a", 3};
    assert_int_equal(enc_size(&p), OSAP_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remlen_boundaries),
        cmocka_unit_test(test_remlen_malformed),
        cmocka_unit_test(test_frame_header),
        cmocka_unit_test(test_frame_max_packet),
        cmocka_unit_test(test_first_byte_rules),
        cmocka_unit_test(test_fixed_size_packets),
        cmocka_unit_test(test_connect_protocol),
        cmocka_unit_test(test_connect_flags),
        cmocka_unit_test(test_connect_fields),
        cmocka_unit_test(test_connect_will_topic),
        cmocka_unit_test(test_connect_empty_client_id),
        cmocka_unit_test(test_connect_device_profile),
        cmocka_unit_test(test_connack),
        cmocka_unit_test(test_publish),
        cmocka_unit_test(test_subscribe),
        cmocka_unit_test(test_suback),
        cmocka_unit_test(test_unsubscribe),
        cmocka_unit_test(test_decode_body_apart),
        cmocka_unit_test(test_encode_all_types),
        cmocka_unit_test(test_encode_publish_sizes),
        cmocka_unit_test(test_encode_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
