/* MQTT UTF-8 strings, topic names, topic filters, levels and matching. */
#include "testutil.h"

#include "osap/mqtt.h"

#include <string.h>

static osap_err utf8_hex(const char *hex)
{
    size_t len;
    uint8_t *b = test_hex(hex, &len);
    osap_err err = osap_mqtt_utf8_validate((const char *)b, len);
    test_free_buf(b);
    return err;
}

static void test_utf8_valid(void **state)
{
    static const char *const ok[] = {
        "",
        "61",
        "7f",
        "01", /* U+0001: allowed (SHOULD NOT) */
        "c280",
        "c3a9",
        "dfbf",
        "e0a080",
        "e282ac",
        "ed9fbf",             /* U+D7FF */
        "ee8080",             /* U+E000 */
        "efbbbf",             /* U+FEFF: kept, never stripped */
        "efbfbf",             /* U+FFFF: a non-character, allowed */
        "f0908080",           /* U+10000 */
        "f48fbfbf",           /* U+10FFFF */
        "e6b0b4 2f f0a0808b", /* the example of MQTT 3.1.1 1.5.3.1: U+2A6D4 */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (utf8_hex(ok[i]) != OSAP_OK) fail_msg("rejected %s", ok[i]);
    assert_int_equal(osap_mqtt_utf8_validate(NULL, 0), OSAP_OK);
}

static void test_utf8_invalid(void **state)
{
    static const char *const bad[] = {
        "00",         "6100",                           /* U+0000 */
        "c080",       "c1bf",                           /* overlong 2-byte */
        "e08080",     "e09fbf",                         /* overlong 3-byte */
        "f0808080",   "f08fbfbf",                       /* overlong 4-byte */
        "eda080",     "edbfbf",                         /* surrogates U+D800, U+DFFF */
        "f4908080",   "f5808080",     "f7bfbfbf",       /* above U+10FFFF */
        "f888808080", "fc8480808080", "fe",       "ff", /* 5-, 6-byte forms, FE, FF */
        "80",         "bf",                             /* lone continuation bytes */
        "c3",         "e282",         "f09080",         /* truncated */
        "c341",       "e228a1",       "e28228",   "f0289080", "f0902880", "f0908028",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (utf8_hex(bad[i]) != OSAP_EMQTT_UTF8) fail_msg("accepted %s", bad[i]);
}

/* The eight-bytes-at-a-time ASCII path must not skip a NUL or a non-ASCII
 * byte at any position, nor read past the end. */
static void test_utf8_every_position(void **state)
{
    char s[40];
    (void)state;
    for (size_t len = 1; len <= sizeof(s); len++) {
        memset(s, 'a', sizeof(s));
        assert_int_equal(osap_mqtt_utf8_validate(s, len), OSAP_OK);
        for (size_t k = 0; k < len; k++) {
            memset(s, 'a', sizeof(s));
            s[k] = '\0';
            assert_int_equal(osap_mqtt_utf8_validate(s, len), OSAP_EMQTT_UTF8);
            s[k] = (char)0x80;
            assert_int_equal(osap_mqtt_utf8_validate(s, len), OSAP_EMQTT_UTF8);
            s[k] = (char)0xff;
            assert_int_equal(osap_mqtt_utf8_validate(s, len), OSAP_EMQTT_UTF8);
            if (k + 2 <= len) {
                s[k] = (char)0xc3;
                s[k + 1] = (char)0xa9;
                assert_int_equal(osap_mqtt_utf8_validate(s, len), OSAP_OK);
            }
        }
    }
}

static void test_topic_names(void **state)
{
    static const char *const ok[] = {
        "a",
        "/",
        "//",
        "sport/tennis/player1",
        "$SYS/broker",
        " ",
        "/finance",
        "a b/c",
        "/iot/Q12345678/global/0-global/model/event/report/alarm/motion",
        "/1100/13381",
    };
    static const char *const bad[] = {"", "+", "#", "a/+", "a/#", "a+", "#a", "sport/tennis#"};
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_int_equal(osap_mqtt_topic_validate(ok[i], strlen(ok[i])), OSAP_OK);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(osap_mqtt_topic_validate(bad[i], strlen(bad[i])), OSAP_EMQTT_TOPIC);
    assert_int_equal(osap_mqtt_topic_validate("a\0b", 3), OSAP_EMQTT_UTF8);
    assert_int_equal(osap_mqtt_topic_validate("a\xc0\xaf", 3), OSAP_EMQTT_UTF8);
}

static void test_topic_filters(void **state)
{
    static const char *const ok[] = {
        "#",
        "+",
        "sport/#",
        "sport/tennis/#",
        "+/tennis/#",
        "sport/+/player1",
        "/+",
        "+/+",
        "/",
        "//",
        "$SYS/#",
        "+/#",
        "a/+/+/b",
        "/iot/Q12345678/#",
        "/Q12345678/#",
        "a//#",
        "+//+",
    };
    static const char *const bad[] = {
        "",
        "sport/tennis#",
        "sport/tennis/#/ranking",
        "sport+",
        "sp+rt/x",
        "##",
        "++",
        "#/",
        "a/#/",
        "+#",
        "a/b+",
        "#/a",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (osap_mqtt_filter_validate(ok[i], strlen(ok[i])) != OSAP_OK)
            fail_msg("rejected filter \"%s\"", ok[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (osap_mqtt_filter_validate(bad[i], strlen(bad[i])) != OSAP_EMQTT_FILTER)
            fail_msg("accepted filter \"%s\"", bad[i]);
    assert_int_equal(osap_mqtt_filter_validate("a/\0", 3), OSAP_EMQTT_UTF8);
}

static void test_filter_matching(void **state)
{
    static const struct {
        const char *filter, *topic;
        bool match;
    } cases[] = {
        /* MQTT 3.1.1 section 4.7.1.2 */
        {"sport/tennis/player1/#", "sport/tennis/player1", true},
        {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
        {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
        {"sport/tennis/player1/#", "sport/tennis/player2", false},
        {"sport/#", "sport", true},
        {"sport/#", "sports", false},
        {"#", "sport/tennis", true},
        {"#", "/", true},
        /* section 4.7.1.3 */
        {"sport/tennis/+", "sport/tennis/player1", true},
        {"sport/tennis/+", "sport/tennis/player2", true},
        {"sport/tennis/+", "sport/tennis/player1/ranking", false},
        {"sport/+", "sport", false},
        {"sport/+", "sport/", true},
        {"+/+", "/finance", true},
        {"/+", "/finance", true},
        {"+", "/finance", false},
        {"+", "finance", true},
        {"+/tennis/#", "sport/tennis/player1", true},
        {"+/tennis/#", "sport/tennis", true},
        {"+/tennis/#", "sport/golf", false},
        /* section 4.7.2: topics beginning with $ */
        {"#", "$SYS/monitor/Clients", false},
        {"#", "$SYS", false},
        {"+/monitor/Clients", "$SYS/monitor/Clients", false},
        {"$SYS/#", "$SYS/monitor/Clients", true},
        {"$SYS/#", "$SYS", true},
        {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
        {"+", "$SYS", false},
        {"/#", "/$SYS", true}, /* '$' not at the start */
        {"+/$x", "a/$x", true},
        /* case and levels compare byte for byte */
        {"ACCOUNTS", "Accounts", false},
        {"Accounts payable", "Accounts payable", true},
        {"a/b", "a/b/", false},
        {"a/b/", "a/b/", true},
        {"a/+/b", "a//b", true},
        {"a/+", "a//b", false},
        {"a/b", "a/bc", false},
        {"a/bc", "a/b", false},
        {"//", "//", true},
        {"+/+/+", "//", true},
        {"+/#", "a", true},
        {"+/#", "/", true},
        /* OSAP device subscriptions (wire spec 6.5) */
        {"/iot/Q12345678/#", "/iot/Q12345678/global/0-global/model/attribute/set/d/p", true},
        {"/iot/Q12345678/#", "/iot/Q1234567/global", false},
        {"/Q12345678/#", "/Q12345678/1000/1", true},
        {"/Q12345678/#", "/iot/Q12345678/global", false},
        {"/+/1000/+", "/Q12345678/1000/1", true},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *f = cases[i].filter, *t = cases[i].topic;
        assert_int_equal(osap_mqtt_filter_validate(f, strlen(f)), OSAP_OK);
        assert_int_equal(osap_mqtt_topic_validate(t, strlen(t)), OSAP_OK);
        if (osap_mqtt_filter_matches(f, strlen(f), t, strlen(t)) != cases[i].match)
            fail_msg("\"%s\" vs \"%s\": expected %s", f, t, cases[i].match ? "match" : "no match");
    }
}

static void expect_levels(const char *s, const char *const *want, size_t n)
{
    struct osap_mqtt_level_iter it;
    struct osap_mqtt_str level;
    size_t i = 0;

    osap_mqtt_level_iter_init(&it, s, strlen(s));
    while (osap_mqtt_level_iter_next(&it, &level)) {
        assert_true(i < n);
        assert_int_equal(level.len, strlen(want[i]));
        assert_memory_equal(level.ptr, want[i], level.len);
        assert_true(level.ptr >= s && level.ptr + level.len <= s + strlen(s));
        i++;
    }
    assert_int_equal(i, n);
    assert_false(osap_mqtt_level_iter_next(&it, &level));
}

static void test_levels(void **state)
{
    static const char *const l1[] = {"", "a", ""};
    static const char *const l2[] = {""};
    static const char *const l3[] = {"abc"};
    static const char *const l4[] = {"a", "", "b"};
    static const char *const l5[] = {"", ""};
    static const char *const l6[] = {"sport", "tennis", "#"};
    (void)state;
    expect_levels("/a/", l1, 3);
    expect_levels("", l2, 1);
    expect_levels("abc", l3, 1);
    expect_levels("a//b", l4, 3);
    expect_levels("/", l5, 2);
    expect_levels("sport/tennis/#", l6, 3);

    struct osap_mqtt_level_iter it;
    struct osap_mqtt_str level;
    osap_mqtt_level_iter_init(&it, NULL, 0);
    assert_true(osap_mqtt_level_iter_next(&it, &level));
    assert_int_equal(level.len, 0);
    assert_false(osap_mqtt_level_iter_next(&it, &level));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_invalid),
        cmocka_unit_test(test_utf8_every_position),
        cmocka_unit_test(test_topic_names),
        cmocka_unit_test(test_topic_filters),
        cmocka_unit_test(test_filter_matching),
        cmocka_unit_test(test_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
