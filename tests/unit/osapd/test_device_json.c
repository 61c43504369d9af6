/* The DAS device layer's JSON helpers (src/osapd/das/device_json.c): result codes
 * of both device reply shapes and of shadow replies, event fields (UUID, dateTime,
 * level), dates with zones and fractions, bodies kept as JSON text, UTF-8. */
#include "testutil.h"

#include "das/device_internal.h"
#include "osap/alloc.h"

#include <cjson/cJSON.h>
#include <string.h>

static bool reply(const char *body, int *code, char **out)
{
    return device_json_reply((const uint8_t *)body, strlen(body), code, out);
}

static void test_reply_codes(void **state)
{
    char *out = NULL;
    int code = 99;
    (void)state;

    assert_true(reply("{\"code\":0}", &code, &out));
    assert_int_equal(code, 0);
    assert_null(out);
    /* TSL operate_reply: code and data (printed compactly). */
    assert_true(reply("{\"code\":3,\"data\":{ \"left\" : [1, 2] }}", &code, &out));
    assert_int_equal(code, 3);
    assert_string_equal(out, "{\"left\":[1,2]}");
    cJSON_free(out);
    /* Older model API: status is the code, code is a string. */
    assert_true(reply("{\"status\":12,\"code\":\"0x0000000c\",\"errorMsg\":\"busy\",\"data\":5}",
                      &code, &out));
    assert_int_equal(code, 12);
    assert_string_equal(out, "5");
    cJSON_free(out);
    /* Shadow set_reply. */
    assert_true(
        reply("{\"method\":\"set_reply\",\"payload\":{\"code\":-2},\"timestamp\":1}", &code, &out));
    assert_int_equal(code, -2);
    /* No code: not JSON, not an object, a fractional or string code only. */
    code = 99;
    assert_false(reply("not json", &code, &out));
    assert_false(reply("[1]", &code, &out));
    assert_false(reply("{\"code\":1.5}", &code, &out));
    assert_false(reply("{\"code\":\"0\"}", &code, &out));
    assert_false(reply("{\"code\":0} trailing", &code, &out));
    assert_false(reply("", &code, &out));
    assert_int_equal(code, 99);
    /* Trailing blanks and NUL bytes are what some devices send. */
    assert_true(device_json_reply((const uint8_t *)"{\"code\":7} \n\0\0", 15, &code, &out));
    assert_int_equal(code, 7);
}

static void test_datetime(void **state)
{
    int64_t ms = 0;
    (void)state;

    assert_true(device_json_datetime("2026-11-29T03:54:18.086+00:00", &ms));
    assert_int_equal(ms, 1795924458086);
    assert_true(device_json_datetime("2024-01-01T08:00:00.500+08:00", &ms));
    assert_int_equal(ms, 1704067200500);
    assert_true(device_json_datetime("2023-12-31T19:30:00-04:30", &ms));
    assert_int_equal(ms, 1704067200000);
    assert_true(device_json_datetime("1970-01-01T00:00:00Z", &ms));
    assert_int_equal(ms, 0);
    assert_true(device_json_datetime("2000-02-29T12:00:00.1234Z", &ms));
    assert_int_equal(ms, 951825600123);
    assert_true(device_json_datetime("2026-11-29 03:54:18Z", &ms));
    ms = 42;
    assert_false(device_json_datetime("2026-11-29T03:54:18", &ms)); /* no zone */
    assert_false(device_json_datetime("2026-13-29T03:54:18Z", &ms));
    assert_false(device_json_datetime("2026-11-29T24:54:18Z", &ms));
    assert_false(device_json_datetime("2026-11-29T03:54:18.Z", &ms));
    assert_false(device_json_datetime("2026-11-29T03:54:18+0800", &ms));
    assert_false(device_json_datetime("2026-11-29T03:54:18+08:00x", &ms));
    assert_false(device_json_datetime("20261129T035418Z", &ms));
    assert_false(device_json_datetime("", &ms));
    assert_int_equal(ms, 42);
}

static void event(const char *body, char uuid[65], int64_t *t, int *level)
{
    device_json_event((const uint8_t *)body, strlen(body), uuid, t, level);
}

static void test_event_fields(void **state)
{
    char uuid[65];
    int64_t t;
    int level;
    char long_uuid[200];
    (void)state;

    event("{\"alarm\":{\"level\":1,\"text\":\"golden\"},\"basic\":{\"dateTime\":"
          "\"2026-11-29T03:54:18.086+00:00\",\"UUID\":\"8d2e90feeba811f18000ccc3405de671\"}}",
          uuid, &t, &level);
    assert_string_equal(uuid, "8d2e90feeba811f18000ccc3405de671");
    assert_int_equal(t, 1795924458086);
    assert_int_equal(level, 1);
    event("{\"level\":4,\"basic\":{\"UUID\":\"x\",\"dateTime\":\"garbage\"}}", uuid, &t, &level);
    assert_string_equal(uuid, "x");
    assert_int_equal(t, 0);
    assert_int_equal(level, 4);
    /* Older model API: the bare value. */
    event("17", uuid, &t, &level);
    assert_string_equal(uuid, "");
    assert_int_equal(level, 0);
    /* UUIDs that cannot be stored are ignored (then Seq decides duplicates). */
    memset(long_uuid, 0, sizeof(long_uuid));
    strcpy(long_uuid, "{\"basic\":{\"UUID\":\"");
    memset(long_uuid + strlen(long_uuid), 'a', 65);
    strcat(long_uuid, "\"}}");
    event(long_uuid, uuid, &t, &level);
    assert_string_equal(uuid, "");
    event("{\"basic\":{\"UUID\":\"has space\"}}", uuid, &t, &level);
    assert_string_equal(uuid, "");
    event("{\"basic\":{\"UUID\":7}}", uuid, &t, &level);
    assert_string_equal(uuid, "");
}

static void test_text_and_utf8(void **state)
{
    char *s;
    (void)state;

    s = device_json_text((const uint8_t *)"{\"a\": 1}\0", 9);
    assert_string_equal(s, "{\"a\": 1}"); /* the device's own bytes */
    osap_free(s);
    s = device_json_text((const uint8_t *)"<xml>\"q\"</xml>", 14);
    assert_string_equal(s, "\"<xml>\\\"q\\\"</xml>\"");
    osap_free(s);
    assert_null(device_json_text((const uint8_t *)"\xff\xfe", 2));
    assert_null(device_json_text((const uint8_t *)"a\0b", 3));
    /* A NUL inside a JSON string is not JSON: neither kept cut short ("{\"a\":\"x")
     * nor parsed with the rest of the string lost. */
    assert_null(device_json_text((const uint8_t *)"{\"a\":\"x\0y\"}\0\0", 12));
    assert_null(device_json_parse((const uint8_t *)"{\"a\":\"x\0y\"}", 11));
    {
        cJSON *j = device_json_parse((const uint8_t *)"{\"a\":\"x\"}\0 \0", 12);
        assert_non_null(j); /* trailing NUL bytes and blanks are fine */
        cJSON_Delete(j);
    }

    assert_true(device_utf8_valid((const uint8_t *)"", 0));
    assert_true(device_utf8_valid((const uint8_t *)"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 12));
    assert_false(device_utf8_valid((const uint8_t *)"\xc3", 1));             /* cut */
    assert_false(device_utf8_valid((const uint8_t *)"\xc0\xaf", 2));         /* overlong */
    assert_false(device_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));     /* surrogate */
    assert_false(device_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(device_utf8_valid((const uint8_t *)"\x80", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_codes),
        cmocka_unit_test(test_datetime),
        cmocka_unit_test(test_event_fields),
        cmocka_unit_test(test_text_and_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
