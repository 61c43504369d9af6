/* What the DAS device layer reads from a device's message (src/osapd/das/
 * device_msg.c): the route of every kind of topic, and by kind what a decrypted
 * payload says (the golden capture's event and shadow query, attribute and
 * shadow reports, replies, OTA, profile queries, a malformed common JSON). */
#include "testutil.h"

#include "das/device_internal.h"
#include "osap/alloc.h"

#include <string.h>

#define SN "Q12345678"
#define T3 "/iot/" SN "/global/0-global/"

static enum device_msg_route route(const char *topic, struct device_msg *m)
{
    return device_msg_route(SN, strlen(SN), topic, strlen(topic), m);
}

/* Route @p topic and decode the plaintext of @p common and @p body. */
static osap_err decode(const char *topic, const char *common, const char *body,
                       struct device_msg *m)
{
    struct osap_envelope_view v = {common, strlen(common), (const uint8_t *)body, strlen(body)};
    enum device_msg_route r = route(topic, m);
    assert_true(r == DEVICE_MSG_V3 || r == DEVICE_MSG_V2);
    return device_msg_decode(m, &v);
}

static void test_routes(void **state)
{
    struct device_msg m;
    (void)state;

    assert_int_equal(route(T3 "model/event/report/a/b", &m), DEVICE_MSG_V3);
    device_msg_release(&m);
    assert_int_equal(route(T3 "model/event", &m), DEVICE_MSG_MALFORMED);
    device_msg_release(&m);
    assert_int_equal(route("/1100/14448", &m), DEVICE_MSG_V2);
    assert_int_equal(m.t2.domain, 1100);
    device_msg_release(&m);
    assert_int_equal(route("/" SN "/anything/else", &m), DEVICE_MSG_OWN);
    device_msg_release(&m);
    assert_int_equal(route("/iot/OTHER/global/0-global/model/event/report/a/b", &m),
                     DEVICE_MSG_FOREIGN);
    device_msg_release(&m);
    assert_int_equal(route("/" SN "1/x", &m), DEVICE_MSG_FOREIGN); /* a longer serial */
    device_msg_release(&m);
    assert_int_equal(route("/other/topic", &m), DEVICE_MSG_FOREIGN);
    device_msg_release(&m);
    /* a v2 topic naming a serial is the server's direction */
    assert_int_equal(route("/" SN "/1100/14449", &m), DEVICE_MSG_OWN);
    device_msg_release(&m);
}

static void test_event(void **state)
{
    static const char body[] = "{\"alarm\":{\"level\":1,\"text\":\"golden\"},\"basic\":{"
                               "\"dateTime\":\"2026-11-29T03:54:18.086+00:00\","
                               "\"UUID\":\"8d2e90feeba811f18000ccc3405de671\"}}";
    struct device_msg m;
    (void)state;

    assert_int_equal(decode("/iot/" SN "/CHILD9/2-camera/model/event/report/alarm/motion",
                            "{\"Seq\":1}", body, &m),
                     OSAP_OK);
    assert_int_equal(m.kind, DEVICE_MSG_EVENT);
    assert_int_equal(m.common.seq, 1);
    assert_string_equal(m.child, "CHILD9");
    assert_string_equal(m.resource, "2-camera");
    assert_string_equal(m.domain, "alarm");
    assert_string_equal(m.identifier, "motion");
    assert_string_equal(m.payload_json, body); /* the device's own bytes */
    assert_string_equal(m.uuid, "8d2e90feeba811f18000ccc3405de671");
    assert_int_equal(m.time_ms, 1795924458086);
    assert_int_equal(m.level, 1);
    device_msg_release(&m);

    /* not JSON, not text: no payload (the event is dropped) */
    {
        struct osap_envelope_view v = {"{\"Seq\":2}", 9, (const uint8_t *)"\xff\xfe", 2};
        assert_int_equal(route(T3 "model/event/report/a/b", &m), DEVICE_MSG_V3);
        assert_int_equal(device_msg_decode(&m, &v), OSAP_OK);
        assert_int_equal(m.kind, DEVICE_MSG_EVENT);
        assert_null(m.payload_json);
        device_msg_release(&m);
    }
}

static void test_reports_and_queries(void **state)
{
    struct device_msg m;
    (void)state;

    assert_int_equal(decode(T3 "model/attribute/report/Battery/State", "{\"Seq\":2}",
                            "{\"data\":{\"Value\":{\"level\":80,\"charging\":true}}}", &m),
                     OSAP_OK);
    assert_int_equal(m.kind, DEVICE_MSG_ATTRIBUTE);
    assert_string_equal(m.value_json, "{\"level\":80,\"charging\":true}");
    device_msg_release(&m);
    assert_int_equal(
        decode(T3 "model/attribute/report/Video/Bitrate", "{\"Seq\":2}", "{\"data\":2048}", &m),
        OSAP_OK);
    assert_string_equal(m.value_json, "2048");
    device_msg_release(&m);
    assert_int_equal(decode(T3 "model/attribute/report/Video/Bitrate", "{\"Seq\":2}", "{}", &m),
                     OSAP_OK);
    assert_null(m.value_json); /* without data */
    device_msg_release(&m);

    assert_int_equal(decode(T3 "basic/shadow/report", "{\"Seq\":3}",
                            "{\"method\":\"report\",\"state\":{\"reported\":{\"domain\":"
                            "\"LightCtrl\",\"identifier\":\"Brightness\",\"value\":42},"
                            "\"version\":1}}",
                            &m),
                     OSAP_OK);
    assert_int_equal(m.kind, DEVICE_MSG_SHADOW_REPORT);
    assert_string_equal(m.report_domain, "LightCtrl");
    assert_string_equal(m.report_identifier, "Brightness");
    assert_string_equal(m.value_json, "42");
    assert_int_equal(m.version, 1);
    device_msg_release(&m);
    assert_int_equal(decode(T3 "basic/shadow/report", "{\"Seq\":3}",
                            "{\"state\":{\"reported\":{\"domain\":1,\"identifier\":\"B\","
                            "\"value\":42}}}",
                            &m),
                     OSAP_OK);
    assert_null(m.value_json); /* malformed: dropped */
    assert_int_equal(m.version, -1);
    device_msg_release(&m);

    /* the golden capture's query, a small window, and none */
    assert_int_equal(decode(T3 "basic/shadow/query", "{\"Seq\":3}",
                            "{\"method\":\"query\",\"windowsize\":16256}", &m),
                     OSAP_OK);
    assert_int_equal(m.kind, DEVICE_MSG_SHADOW_QUERY);
    /* more than a reply may take: what fits in the device's message buffer */
    assert_int_equal(m.window, OSAP_MESSAGE_MAX - OSAP_TOPIC_V3_MAX - 64);
    device_msg_release(&m);
    assert_int_equal(decode(T3 "basic/shadow/query", "{\"Seq\":4}", "{\"windowsize\":100}", &m),
                     OSAP_OK);
    assert_int_equal(m.window, 100);
    device_msg_release(&m);
    assert_int_equal(decode(T3 "basic/shadow/query", "{\"Seq\":4}", "{\"windowsize\":10}", &m),
                     OSAP_OK);
    assert_int_equal(m.window, OSAP_MESSAGE_MAX - OSAP_TOPIC_V3_MAX - 64);
    device_msg_release(&m);
}

static void test_replies_and_others(void **state)
{
    struct device_msg m;
    (void)state;

    assert_int_equal(decode(T3 "model/service/operate_reply/Ptz/Move", "{\"Seq\":1002}",
                            "{\"code\":3,\"data\":{ \"left\" : [1, 2] }}", &m),
                     OSAP_OK);
    assert_int_equal(m.kind, DEVICE_MSG_REPLY);
    assert_int_equal(m.request, OSAPD_DAS_OPERATE);
    assert_string_equal(m.method, "service/operate_reply");
    assert_true(m.has_code);
    assert_int_equal(m.code, 3);
    assert_string_equal(m.output_json, "{\"left\":[1,2]}");
    assert_string_equal(m.body_json, "{\"code\":3,\"data\":{ \"left\" : [1, 2] }}");
    device_msg_release(&m);
    assert_int_equal(decode(T3 "basic/shadow/set_reply", "{\"Seq\":1003}",
                            "{\"method\":\"set_reply\",\"payload\":{\"code\":0}}", &m),
                     OSAP_OK);
    assert_int_equal(m.request, OSAPD_DAS_SHADOW_SET);
    assert_true(m.has_code);
    assert_int_equal(m.code, 0);
    device_msg_release(&m);
    assert_int_equal(decode(T3 "model/attribute/set_reply/L/B", "{\"Seq\":1001}", "x", &m),
                     OSAP_OK);
    assert_int_equal(m.request, OSAPD_DAS_ATTRIBUTE_SET);
    assert_false(m.has_code);
    assert_string_equal(m.body_json, "\"x\"");
    device_msg_release(&m);

    assert_int_equal(decode(T3 "ota/inform/report", "{\"Seq\":5}", "{\"v\":1}", &m), OSAP_OK);
    assert_int_equal(m.kind, DEVICE_MSG_OTA);
    assert_true(m.text);
    device_msg_release(&m);
    assert_int_equal(decode(T3 "basic/other/thing", "{\"Seq\":5}", "", &m), OSAP_OK);
    assert_int_equal(m.kind, DEVICE_MSG_OTHER);
    device_msg_release(&m);

    assert_int_equal(decode("/1100/14448", "{\"CmdVer\":\"v1.0.0\",\"Seq\":10,\"MsgType\":1}",
                            "{\"DevType\":\"GOLDEN_MODEL\"}", &m),
                     OSAP_OK);
    assert_int_equal(m.kind, DEVICE_MSG_PROFILE_QUERY);
    assert_string_equal(m.profile_json, "{\"DevType\":\"GOLDEN_MODEL\"}");
    assert_string_equal(m.common.cmd_ver, "v1.0.0");
    device_msg_release(&m);
    assert_int_equal(decode("/7002/1", "{\"CmdVer\":\"v1\",\"Seq\":11,\"MsgType\":2}", "<x/>", &m),
                     OSAP_OK);
    assert_int_equal(m.kind, DEVICE_MSG_V2_OTHER);
    device_msg_release(&m);

    /* a malformed common JSON: the envelope's error, nothing decoded */
    assert_int_not_equal(decode(T3 "model/event/report/a/b", "{\"Seq\":-1}", "{}", &m), OSAP_OK);
    assert_null(m.payload_json);
    device_msg_release(&m);
    /* and nothing to decode on another route */
    {
        struct osap_envelope_view v = {"{\"Seq\":1}", 9, (const uint8_t *)"", 0};
        assert_int_equal(route("/other", &m), DEVICE_MSG_FOREIGN);
        assert_int_equal(device_msg_decode(&m, &v), OSAP_EINVAL);
        device_msg_release(&m);
    }
}

/* Allocation failures leave fields empty (as when a body does not parse), never
 * half-made, and leak nothing. */
static void test_out_of_memory(void **state)
{
    struct device_msg m;
    (void)state;

    test_alloc_install();
    for (long n = 0; n < 200; n++) {
        test_alloc_fail_after(n);
        (void)decode(T3 "basic/shadow/report", "{\"Seq\":3}",
                     "{\"state\":{\"reported\":{\"domain\":\"D\",\"identifier\":\"I\","
                     "\"value\":[1,{\"a\":2}]},\"version\":2}}",
                     &m);
        if (m.value_json) assert_true(m.report_domain && m.report_identifier);
        device_msg_release(&m);
    }
    test_alloc_reset();
    osap_set_allocator(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_event),
        cmocka_unit_test(test_reports_and_queries),
        cmocka_unit_test(test_replies_and_others),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
