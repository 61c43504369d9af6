/* MQTT streaming decoder: buffer limits, zero-copy fast path, sticky errors. */
#include "testutil.h"

#include "osap/mqtt.h"

#include <string.h>

/* PUBLISH QoS 1, topic "a/b", id 7, payload "hello" (14 bytes), then PINGREQ. */
static const uint8_t publish[] = {0x32, 0x0c, 0x00, 0x03, 'a', '/', 'b',
                                  0x00, 0x07, 'h',  'e',  'l', 'l', 'o'};
static const uint8_t pingreq[] = {0xc0, 0x00};

static void expect_publish(const struct osap_mqtt_packet *p)
{
    assert_int_equal(p->type, OSAP_MQTT_PUBLISH);
    assert_int_equal(p->publish.packet_id, 7);
    assert_int_equal(p->publish.topic.len, 3);
    assert_memory_equal(p->publish.topic.ptr, "a/b", 3);
    assert_int_equal(p->publish.payload.len, 5);
    assert_memory_equal(p->publish.payload.ptr, "hello", 5);
}

static void test_fast_path_zero_copy(void **state)
{
    uint8_t buf[64], in[32];
    struct osap_mqtt_stream s;
    struct osap_mqtt_packet p;
    size_t used = 0;
    (void)state;

    memcpy(in, publish, sizeof(publish));
    memcpy(in + sizeof(publish), pingreq, sizeof(pingreq));
    memcpy(in + sizeof(publish) + sizeof(pingreq), publish, 3); /* start of a third */
    size_t len = sizeof(publish) + sizeof(pingreq) + 3;

    osap_mqtt_stream_init(&s, buf, sizeof(buf), OSAP_MQTT_STRICT);
    assert_int_equal(osap_mqtt_stream_next(&s, in, len, &used, &p), OSAP_OK);
    assert_int_equal(used, sizeof(publish));
    expect_publish(&p);
    assert_ptr_equal(p.publish.topic.ptr, (const char *)in + 4); /* in place */
    assert_true(osap_mqtt_stream_idle(&s));

    assert_int_equal(osap_mqtt_stream_next(&s, in + 14, len - 14, &used, &p), OSAP_OK);
    assert_int_equal(used, 2);
    assert_int_equal(p.type, OSAP_MQTT_PINGREQ);

    assert_int_equal(osap_mqtt_stream_next(&s, in + 16, len - 16, &used, &p), OSAP_ENEED_MORE);
    assert_int_equal(used, 3);
    assert_false(osap_mqtt_stream_idle(&s));
    /* the rest: assembled in the stream buffer */
    assert_int_equal(osap_mqtt_stream_next(&s, publish + 3, sizeof(publish) - 3, &used, &p),
                     OSAP_OK);
    assert_int_equal(used, sizeof(publish) - 3);
    expect_publish(&p);
    assert_true(p.publish.topic.ptr >= (const char *)buf &&
                p.publish.topic.ptr < (const char *)buf + sizeof(buf));
}

/* A header that arrives in pieces, then a whole body: the body is not copied. */
static void test_split_header_whole_body(void **state)
{
    uint8_t buf[64];
    struct osap_mqtt_stream s;
    struct osap_mqtt_packet p;
    size_t used = 0;
    (void)state;

    osap_mqtt_stream_init(&s, buf, sizeof(buf), OSAP_MQTT_STRICT);
    assert_int_equal(osap_mqtt_stream_next(&s, publish, 1, &used, &p), OSAP_ENEED_MORE);
    assert_int_equal(osap_mqtt_stream_next(&s, publish + 1, sizeof(publish) - 1, &used, &p),
                     OSAP_OK);
    assert_int_equal(used, sizeof(publish) - 1);
    expect_publish(&p);
    assert_ptr_equal(p.publish.topic.ptr, (const char *)publish + 4);

    /* an empty input changes nothing */
    assert_int_equal(osap_mqtt_stream_next(&s, NULL, 0, &used, &p), OSAP_ENEED_MORE);
    assert_int_equal(used, 0);
    assert_true(osap_mqtt_stream_idle(&s));
    /* a zero-length body completes with the header */
    assert_int_equal(osap_mqtt_stream_next(&s, pingreq, 1, &used, &p), OSAP_ENEED_MORE);
    assert_int_equal(osap_mqtt_stream_next(&s, pingreq + 1, 1, &used, &p), OSAP_OK);
    assert_int_equal(p.type, OSAP_MQTT_PINGREQ);
    assert_int_equal(used, 1);
}

/* The buffer size is the packet limit, enforced from the header alone. */
static void test_capacity_limit(void **state)
{
    uint8_t buf[sizeof(publish)];
    struct osap_mqtt_stream s;
    struct osap_mqtt_packet p;
    size_t used = 0;
    (void)state;

    /* exactly the capacity, one byte at a time */
    osap_mqtt_stream_init(&s, buf, sizeof(publish), OSAP_MQTT_STRICT);
    for (size_t i = 0; i + 1 < sizeof(publish); i++)
        assert_int_equal(osap_mqtt_stream_next(&s, publish + i, 1, &used, &p), OSAP_ENEED_MORE);
    assert_int_equal(osap_mqtt_stream_next(&s, publish + 13, 1, &used, &p), OSAP_OK);
    expect_publish(&p);

    /* one byte less: refused after two bytes, whole input or not */
    osap_mqtt_stream_init(&s, buf, sizeof(publish) - 1, OSAP_MQTT_STRICT);
    assert_int_equal(osap_mqtt_stream_next(&s, publish, 1, &used, &p), OSAP_ENEED_MORE);
    assert_int_equal(osap_mqtt_stream_next(&s, publish + 1, 1, &used, &p), OSAP_ETOOBIG);
    osap_mqtt_stream_init(&s, buf, sizeof(publish) - 1, OSAP_MQTT_STRICT);
    assert_int_equal(osap_mqtt_stream_next(&s, publish, sizeof(publish), &used, &p), OSAP_ETOOBIG);

    /* a huge declared length is refused before its body */
    const uint8_t huge[] = {0x30, 0xff, 0xff, 0xff, 0x7f};
    osap_mqtt_stream_init(&s, buf, sizeof(buf), OSAP_MQTT_STRICT);
    assert_int_equal(osap_mqtt_stream_next(&s, huge, sizeof(huge), &used, &p), OSAP_ETOOBIG);

    /* no buffer: every packet is too big */
    osap_mqtt_stream_init(&s, NULL, 100, OSAP_MQTT_STRICT);
    assert_int_equal(osap_mqtt_stream_next(&s, pingreq, 2, &used, &p), OSAP_ETOOBIG);
    osap_mqtt_stream_init(&s, buf, 0, OSAP_MQTT_STRICT);
    assert_int_equal(osap_mqtt_stream_next(&s, pingreq, 2, &used, &p), OSAP_ETOOBIG);
}

/* Errors are sticky, leave the outputs alone, and reset() recovers. */
static void test_sticky_error(void **state)
{
    uint8_t buf[64];
    struct osap_mqtt_stream s;
    struct osap_mqtt_packet p, untouched;
    const uint8_t bad[] = {0xc0, 0x00, 0x00, 0x00}; /* PINGREQ, then type 0 */
    size_t used = 0;
    (void)state;

    osap_mqtt_stream_init(&s, buf, sizeof(buf), OSAP_MQTT_STRICT);
    assert_int_equal(osap_mqtt_stream_next(&s, bad, sizeof(bad), &used, &p), OSAP_OK);
    assert_int_equal(used, 2);
    memset(&p, 0xAB, sizeof(p));
    untouched = p;
    used = 777;
    assert_int_equal(osap_mqtt_stream_next(&s, bad + 2, 2, &used, &p), OSAP_EMQTT_TYPE);
    assert_int_equal(used, 777);
    assert_memory_equal(&p, &untouched, sizeof(p));
    /* still broken, even with valid input */
    assert_int_equal(osap_mqtt_stream_next(&s, pingreq, 2, &used, &p), OSAP_EMQTT_TYPE);
    osap_mqtt_stream_reset(&s);
    assert_true(osap_mqtt_stream_idle(&s));
    assert_int_equal(osap_mqtt_stream_next(&s, pingreq, 2, &used, &p), OSAP_OK);

    /* a body error after assembly is sticky too */
    const uint8_t zero_id[] = {0x40, 0x02, 0x00, 0x00};
    assert_int_equal(osap_mqtt_stream_next(&s, zero_id, 3, &used, &p), OSAP_ENEED_MORE);
    assert_int_equal(osap_mqtt_stream_next(&s, zero_id + 3, 1, &used, &p), OSAP_EMQTT_PACKET_ID);
    assert_int_equal(osap_mqtt_stream_next(&s, pingreq, 2, &used, &p), OSAP_EMQTT_PACKET_ID);
}

/* A fifth remaining-length byte is refused as soon as the fourth arrives. */
static void test_remlen_in_pieces(void **state)
{
    uint8_t buf[64];
    struct osap_mqtt_stream s;
    struct osap_mqtt_packet p;
    const uint8_t b[] = {0x30, 0x80, 0x80, 0x80, 0x80};
    size_t used = 0;
    (void)state;

    osap_mqtt_stream_init(&s, buf, sizeof(buf), OSAP_MQTT_STRICT);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(osap_mqtt_stream_next(&s, b + i, 1, &used, &p), OSAP_ENEED_MORE);
    assert_int_equal(osap_mqtt_stream_next(&s, b + 4, 1, &used, &p), OSAP_EMQTT_REMLEN);
}

/* The mode given at init applies to every packet. */
static void test_mode(void **state)
{
    uint8_t buf[64];
    struct osap_mqtt_stream s;
    struct osap_mqtt_packet p;
    /* CONNECT, clean session 0, empty client id */
    const uint8_t light[] = {0x10, 0x0c, 0x00, 0x04, 'M',  'Q',  'T',
                             'T',  0x04, 0x00, 0x00, 0x3c, 0x00, 0x00};
    size_t used = 0;
    (void)state;

    osap_mqtt_stream_init(&s, buf, sizeof(buf), OSAP_MQTT_STRICT);
    assert_int_equal(osap_mqtt_stream_next(&s, light, sizeof(light), &used, &p),
                     OSAP_EMQTT_CLIENT_ID);
    osap_mqtt_stream_init(&s, buf, sizeof(buf), OSAP_MQTT_LENIENT);
    assert_int_equal(osap_mqtt_stream_next(&s, light, sizeof(light), &used, &p), OSAP_OK);
    assert_int_equal(p.type, OSAP_MQTT_CONNECT);
    assert_false(p.connect.clean_session);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_path_zero_copy), cmocka_unit_test(test_split_header_whole_body),
        cmocka_unit_test(test_capacity_limit),      cmocka_unit_test(test_sticky_error),
        cmocka_unit_test(test_remlen_in_pieces),    cmocka_unit_test(test_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
