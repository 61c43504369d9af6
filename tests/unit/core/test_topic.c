/*
 * Device topics (v3, v2) and the application namespace: every topic of the
 * golden captures parsed and rebuilt byte for byte, the device's limits at and
 * one past each boundary, forbidden characters, prefixes read from exact-size
 * buffers, and builders that write nothing on failure.
 */
#include "test_crypto_vec.h"

#include "osap/topic.h"
#include "topic_internal.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>

static struct osap_topic_span S(const char *s) {
    return osap_topic_span_str(s);
}

static void
expect_span(struct osap_topic_span s, const char *want)
{
    assert_bytes_equal((const uint8_t *)s.ptr, s.len, (const uint8_t *)want, strlen(want));
}

/* Parse from a heap copy of exactly @p len bytes, so that reading past the end is
 * caught by the address sanitizer. */
static osap_err parse3_exact(const char *topic, size_t len, struct osap_topic_v3 *t, char **copy)
{
    *copy = malloc(len ? len : 1);
    assert_non_null(*copy);
    memcpy(*copy, topic, len);
    return osap_topic_v3_parse(*copy, len, t);
}

static void roundtrip3(const char *topic)
{
    struct osap_topic_v3 t;
    char *copy, out[OSAP_TOPIC_V3_MAX];
    size_t n;
    assert_int_equal(parse3_exact(topic, strlen(topic), &t, &copy), OSAP_OK);
    assert_int_equal(osap_topic_v3_build(&t, out, sizeof(out), &n), OSAP_OK);
    assert_bytes_equal((const uint8_t *)out, n, (const uint8_t *)topic, strlen(topic));
    free(copy);
}

/* ------------------------------------------------------------------ captures */

struct cap_counts {
    int model, other;
};

static void check_capture_topic(const char *topic, const char *sn, struct cap_counts *cnt)
{
    struct osap_topic_v3 t;
    char *copy;
    size_t len = strlen(topic);

    assert_int_equal(parse3_exact(topic, len, &t, &copy), OSAP_OK);
    expect_span(t.serial, sn);
    expect_span(t.child, "global");
    expect_span(t.rid, "0");
    expect_span(t.rtype, "global");
    if (osap__topic_span_is(t.module, "model")) {
        /* .../model/<method>/<msg_type>/golden_domain/golden_<x> */
        expect_span(t.domain, "golden_domain");
        assert_true(t.identifier.len > 7 && memcmp(t.identifier.ptr, "golden_", 7) == 0);
        assert_true(osap__topic_span_is(t.method, "attribute") ||
                    osap__topic_span_is(t.method, "service") ||
                    osap__topic_span_is(t.method, "event"));
        cnt->model++;
    } else {
        expect_span(t.module, "basic");
        expect_span(t.method, "shadow");
        assert_int_equal(t.domain.len, 0);
        assert_int_equal(t.identifier.len, 0);
        cnt->other++;
    }
    free(copy);
    roundtrip3(topic);

    /* every prefix, from an exact-size buffer: refused, or a different topic */
    for (size_t n = 0; n < len; n++) {
        struct osap_topic_v3 p;
        osap_err e = parse3_exact(topic, n, &p, &copy);
        if (e == OSAP_OK) {
            /* only a cut inside the last level can still be a topic */
            struct osap_topic_span last = t.domain.len ? p.identifier : p.msg_type;
            assert_true(last.ptr + last.len == copy + n);
            assert_true(n > len - (t.domain.len ? t.identifier.len : t.msg_type.len));
        } else {
            assert_int_equal(e, OSAP_EDEVICE_TOPIC);
        }
        free(copy);
    }

    /* the application topics that carry this message */
    char out[1024], want[1024];
    size_t n;
    const char *rest = topic + strlen("/iot/") + strlen(sn) + 1;
    assert_int_equal(osap_topic_app_raw(S(sn), S(rest), out, sizeof(out), &n), OSAP_OK);
    snprintf(want, sizeof(want), "$osap/%s/raw/%s", sn, rest);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void capture_file(const char *name, struct cap_counts *cnt)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "captures/%s", name);
    char *text = test_read_data(rel, NULL);
    cJSON *root = cJSON_Parse(text);
    const cJSON *m, *dl;
    assert_non_null(root);
    const char *sn = cJSON_GetObjectItemCaseSensitive(
                         cJSON_GetObjectItemCaseSensitive(root, "device"), "subserial")
                         ->valuestring;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(root, "messages"))
    {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(m, "fields");
        const cJSON *topic = cJSON_GetObjectItemCaseSensitive(f, "topic");
        if (cJSON_IsString(topic)) check_capture_topic(topic->valuestring, sn, cnt);
        /* subscription filters are /iot/<sn>/# and /<sn>/#: not topics */
        const cJSON *subs = cJSON_GetObjectItemCaseSensitive(f, "subscriptions"), *s;
        cJSON_ArrayForEach(s, subs)
        {
            const char *filter = cJSON_GetObjectItemCaseSensitive(s, "topic")->valuestring;
            struct osap_topic_v3 t3;
            struct osap_topic_v2 t2;
            assert_int_equal(osap_topic_v3_parse(filter, strlen(filter), &t3), OSAP_EDEVICE_TOPIC);
            assert_int_equal(osap_topic_v2_parse(filter, strlen(filter), &t2), OSAP_EDEVICE_TOPIC);
        }
    }
    /* the server's configured downlinks, with <sn> filled in */
    cJSON_ArrayForEach(dl, cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(root, "server_fixed"), "downlinks"))
    {
        const char *tpl = cJSON_GetObjectItemCaseSensitive(dl, "topic")->valuestring;
        const char *at = strstr(tpl, "<sn>");
        char topic[512];
        assert_non_null(at);
        snprintf(topic, sizeof(topic), "%.*s%s%s", (int)(at - tpl), tpl, sn, at + 4);
        roundtrip3(topic);
    }
    cJSON_Delete(root);
    test_free_buf(text);
}

static void test_captures(void **state)
{
    (void)state;
    struct cap_counts cnt = {0, 0};
    DIR *d = opendir(OSAP_TEST_DATA_DIR "/captures");
    struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".json") == 0) capture_file(e->d_name, &cnt);
    }
    closedir(d);
    assert_true(cnt.model >= 10);
    assert_true(cnt.other >= 10);
}

static void test_vectors(void **state)
{
    (void)state;
    char *vec = vec_load();
    char *t3 = vec_line(vec, "8. DAS v3 PUBLISH", "topic  :");
    char *t2 = vec_line(vec, "9. DAS v2 PUBLISH", "topic  :");
    struct osap_topic_v3 t;
    struct osap_topic_v2 v;
    char out[256];
    size_t n;

    assert_int_equal(osap_topic_v3_parse(t3, strlen(t3), &t), OSAP_OK);
    expect_span(t.serial, "Q12345678");
    expect_span(t.module, "model");
    expect_span(t.method, "event");
    expect_span(t.msg_type, "report");
    expect_span(t.domain, "alarm");
    expect_span(t.identifier, "motion");
    roundtrip3(t3);

    assert_int_equal(osap_topic_v2_parse(t2, strlen(t2), &v), OSAP_OK);
    assert_int_equal(v.serial.len, 0);
    assert_int_equal(v.domain, OSAP_DOMAIN_BASE);
    assert_int_equal(v.cmd, 0x3445);
    assert_int_equal(osap_topic_v2_build(&v, out, sizeof(out), &n), OSAP_OK);
    assert_string_equal(out, t2);
    free(t3);
    free(t2);
    test_free_buf(vec);
}

/* ------------------------------------------------------------------ v3 limits */

static char *rep(char c, size_t n)
{
    static char bufs[8][600];
    static int next;
    char *b = bufs[next++ % 8];
    assert_true(n < sizeof(bufs[0]));
    memset(b, c, n);
    b[n] = '\0';
    return b;
}

static osap_err parse3(const char *topic)
{
    struct osap_topic_v3 t;
    char *copy;
    osap_err e = parse3_exact(topic, strlen(topic), &t, &copy);
    free(copy);
    return e;
}

static void test_v3_limits(void **state)
{
    (void)state;
    char t[1024];
#define T(...) (snprintf(t, sizeof(t), __VA_ARGS__), parse3(t))
    const char *tail = "model/attribute/set/d/i";
    assert_int_equal(T("/iot/%s/global/0-global/%s", rep('s', 72), tail), OSAP_OK);
    assert_int_equal(T("/iot/%s/global/0-global/%s", rep('s', 73), tail), OSAP_EDEVICE_TOPIC);
    assert_int_equal(T("/iot/s/%s/0-global/%s", rep('c', 72), tail), OSAP_OK);
    assert_int_equal(T("/iot/s/%s/0-global/%s", rep('c', 73), tail), OSAP_EDEVICE_TOPIC);
    assert_int_equal(T("/iot/s/c/%s-g/%s", rep('1', 64), tail), OSAP_OK);
    assert_int_equal(T("/iot/s/c/%s-g/%s", rep('1', 65), tail), OSAP_EDEVICE_TOPIC);
    assert_int_equal(T("/iot/s/c/0-%s/%s", rep('g', 64), tail), OSAP_OK);
    assert_int_equal(T("/iot/s/c/0-%s/%s", rep('g', 65), tail), OSAP_EDEVICE_TOPIC);
    assert_int_equal(T("/iot/s/c/0-a-b/%s", tail), OSAP_OK); /* rtype may hold '-' */
    assert_int_equal(T("/iot/s/c/0-g/%s/m/t", rep('m', 16)), OSAP_OK);
    assert_int_equal(T("/iot/s/c/0-g/%s/m/t", rep('m', 17)), OSAP_EDEVICE_TOPIC);
    assert_int_equal(T("/iot/s/c/0-g/model/%s/set/d/i", rep('a', 64)), OSAP_OK);
    assert_int_equal(T("/iot/s/c/0-g/model/%s/set/d/i", rep('a', 65)), OSAP_EDEVICE_TOPIC);
    assert_int_equal(T("/iot/s/c/0-g/model/a/%s/d/i", rep('t', 32)), OSAP_OK);
    assert_int_equal(T("/iot/s/c/0-g/model/a/%s/d/i", rep('t', 33)), OSAP_EDEVICE_TOPIC);
    assert_int_equal(T("/iot/s/c/0-g/model/a/t/%s/i", rep('d', 31)), OSAP_OK);
    assert_int_equal(T("/iot/s/c/0-g/model/a/t/%s/i", rep('d', 32)), OSAP_EDEVICE_TOPIC);
    assert_int_equal(T("/iot/s/c/0-g/model/a/t/d/%s", rep('i', 31)), OSAP_OK);
    assert_int_equal(T("/iot/s/c/0-g/model/a/t/d/%s", rep('i', 32)), OSAP_EDEVICE_TOPIC);
    assert_int_equal(T("/iot/s/c/0-g/basic/%s/t", rep('m', 64)), OSAP_OK);
    assert_int_equal(T("/iot/s/c/0-g/basic/%s/t", rep('m', 65)), OSAP_EDEVICE_TOPIC);
    assert_int_equal(T("/iot/s/c/0-g/basic/a/b/c/%s", rep('t', 32)), OSAP_OK);
    assert_int_equal(T("/iot/s/c/0-g/basic/a/b/c/%s", rep('t', 33)), OSAP_EDEVICE_TOPIC);
    /* the longest topic the limits allow is well under 512; 512 bytes never parse */
    assert_int_equal(T("/iot/%s/%s/%s-%s/model/%s/%s/%s/%s", rep('s', 72), rep('c', 72),
                       rep('r', 64), rep('t', 64), rep('m', 64), rep('y', 32), rep('d', 31),
                       rep('i', 31)),
                     OSAP_OK);
    assert_int_equal(T("/iot/s/c/0-g/basic/m/%s", rep('t', 512 - 21)), OSAP_EDEVICE_TOPIC);
    assert_int_equal(strlen(t), 512);
#undef T
}

static void test_v3_malformed(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "/iot/",
        "/iot",
        "/IOT/s/c/0-g/model/a/t/d/i",
        "iot/s/c/0-g/model/a/t/d/i",
        "/iot/s/c/0-g/model/a/t/d",
        "/iot/s/c/0-g/model/a/t/d/",
        "/iot/s/c/0-g/model/a/t/d/i/j",
        "/iot/s/c/0-g/model/a/t",
        "/iot/s/c/0-g/model",
        "/iot/s/c/0-g/basic",
        "/iot/s/c/0-g/basic/",
        "/iot/s/c/0-g/basic/shadow",
        "/iot/s/c/0-g/basic/shadow/",
        "/iot/s/c/0-g/basic//set",
        "/iot/s/c/0-g/basic/a//set",
        "/iot/s/c/0g/basic/shadow/set",
        "/iot/s/c/-g/basic/shadow/set",
        "/iot/s/c/0-/basic/shadow/set",
        "/iot//c/0-g/basic/shadow/set",
        "/iot/s//0-g/basic/shadow/set",
        "/iot/s/c/0-g//shadow/set",
        "/iot/s+/c/0-g/basic/shadow/set",
        "/iot/s/c#/0-g/basic/shadow/set",
        "/iot/s/c/0-g/basic/shadow/s+t",
        "/iot/s/c/0-g/model/a/t/d/i#",
        "/iot/s/c/0-g/model/a/t/d /i",
        "/iot/s/c/0-g/model/a/t/d/i\x7f",
        "/iot/s/c/0-g/model/a\t/t/d/i",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (parse3(bad[i]) != OSAP_EDEVICE_TOPIC) fail_msg("accepted: %s", bad[i]);
    /* a NUL inside the topic */
    struct osap_topic_v3 t;
    assert_int_equal(osap_topic_v3_parse("/iot/s/c/0-g/basic/sh\0w/set", 27, &t),
                     OSAP_EDEVICE_TOPIC);
    /* non-model: method is everything up to the last '/' */
    assert_int_equal(osap_topic_v3_parse("/iot/s/c/0-g/storage/upload/result/report", 41, &t),
                     OSAP_OK);
    expect_span(t.method, "upload/result");
    expect_span(t.msg_type, "report");
    /* bytes >= 0x80 are ordinary */
    assert_int_equal(parse3("/iot/s/c/0-g/model/a/t/\xe5\x9f\x9f/i"), OSAP_OK);
    assert_int_equal(osap_topic_v3_parse(NULL, 3, &t), OSAP_EINVAL);
    assert_int_equal(osap_topic_v3_parse("/iot/", 5, NULL), OSAP_EINVAL);
}

static void test_v3_build(void **state)
{
    (void)state;
    struct osap_topic_v3 t = {0};
    char out[600];
    size_t n = 4242;

    t.serial = S("Q12345678");
    t.rid = S("0");
    t.rtype = S("global");
    t.module = S("model");
    t.method = S("service");
    t.msg_type = S("operate");
    t.domain = S("PowerMgr");
    t.identifier = S("reboot");
    assert_int_equal(osap_topic_v3_build(&t, out, sizeof(out), &n), OSAP_OK);
    assert_string_equal(out,
                        "/iot/Q12345678/global/0-global/model/service/operate/PowerMgr/reboot");
    assert_int_equal(n, strlen(out));

    /* a too-small buffer is left alone */
    size_t full = n;
    for (size_t cap = 0; cap <= full; cap++) {
        memset(out, '#', sizeof(out));
        n = 4242;
        assert_int_equal(osap_topic_v3_build(&t, out, cap, &n), OSAP_EBUFSIZE);
        assert_int_equal(n, 4242);
        assert_int_equal(out[0], '#');
    }
    /* model needs domain and identifier; other modules take none */
    t.identifier = S("");
    assert_int_equal(osap_topic_v3_build(&t, out, sizeof(out), &n), OSAP_EDEVICE_TOPIC);
    t.identifier = S("a/b");
    assert_int_equal(osap_topic_v3_build(&t, out, sizeof(out), &n), OSAP_EDEVICE_TOPIC);
    t.identifier = S("reboot");
    t.method = S("a/b");
    assert_int_equal(osap_topic_v3_build(&t, out, sizeof(out), &n), OSAP_EDEVICE_TOPIC);
    t.module = S("basic");
    t.method = S("shadow");
    t.msg_type = S("set");
    assert_int_equal(osap_topic_v3_build(&t, out, sizeof(out), &n), OSAP_EDEVICE_TOPIC);
    t.domain = S("");
    t.identifier = S("");
    t.child = S("sub1");
    assert_int_equal(osap_topic_v3_build(&t, out, sizeof(out), &n), OSAP_OK);
    assert_string_equal(out, "/iot/Q12345678/sub1/0-global/basic/shadow/set");
    t.method = S("upload/result");
    assert_int_equal(osap_topic_v3_build(&t, out, sizeof(out), &n), OSAP_OK);
    assert_string_equal(out, "/iot/Q12345678/sub1/0-global/basic/upload/result/set");
    t.method = S("upload//result");
    assert_int_equal(osap_topic_v3_build(&t, out, sizeof(out), &n), OSAP_EDEVICE_TOPIC);
    t.method = S("shadow");

    /* the device looks for the first "<module>/": a level ending in it misleads it */
    t.rtype = S("xbasic");
    assert_int_equal(osap_topic_v3_build(&t, out, sizeof(out), &n), OSAP_EDEVICE_TOPIC);
    t.rtype = S("basicx");
    assert_int_equal(osap_topic_v3_build(&t, out, sizeof(out), &n), OSAP_OK);
    t.child = S("mybasic");
    assert_int_equal(osap_topic_v3_build(&t, out, sizeof(out), &n), OSAP_EDEVICE_TOPIC);
    t.child = S("sub1");

    /* segment rules */
    t.rid = S("0-1");
    assert_int_equal(osap_topic_v3_build(&t, out, sizeof(out), &n), OSAP_EDEVICE_TOPIC);
    t.rid = S("0");
    t.serial = S("Q1/2");
    assert_int_equal(osap_topic_v3_build(&t, out, sizeof(out), &n), OSAP_EDEVICE_TOPIC);
    t.serial = S(rep('s', 73));
    assert_int_equal(osap_topic_v3_build(&t, out, sizeof(out), &n), OSAP_EDEVICE_TOPIC);
    t.serial = S("Q12345678");
    t.msg_type = S("s+t");
    assert_int_equal(osap_topic_v3_build(&t, out, sizeof(out), &n), OSAP_EDEVICE_TOPIC);
    assert_int_equal(osap_topic_v3_build(NULL, out, sizeof(out), &n), OSAP_EINVAL);
}

/* ------------------------------------------------------------------ v2 */

static osap_err parse2(const char *s, struct osap_topic_v2 *t)
{
    char *copy = malloc(strlen(s) + 1);
    assert_non_null(copy);
    memcpy(copy, s, strlen(s));
    osap_err e = osap_topic_v2_parse(copy, strlen(s), t);
    free(copy);
    return e;
}

static void test_v2(void **state)
{
    (void)state;
    struct osap_topic_v2 t;
    char out[200];
    size_t n;

    assert_int_equal(parse2("/1000/13433", &t), OSAP_OK);
    assert_int_equal(t.serial.len, 0);
    assert_int_equal(t.domain, OSAP_DOMAIN_ACCESS);
    assert_int_equal(t.cmd, OSAP_CMD_ACCESS_REDIRECT);
    assert_int_equal(parse2("/Q12345678/1100/1", &t), OSAP_OK);
    assert_int_equal(t.serial.len, 9);
    assert_int_equal(t.cmd, 1);
    assert_int_equal(parse2("/0/0", &t), OSAP_OK);
    assert_int_equal(parse2("/2147483647/2147483647", &t), OSAP_OK);
    assert_int_equal(t.domain, 2147483647u);

    static const char *bad[] = {
        "",
        "/",
        "/1100",
        "/1100/",
        "1100/13381",
        "//1100/1",
        "/01100/1",
        "/1100/01",
        "/-1/2",
        "/+1/2",
        "/1 /2",
        "/a/2",
        "/1/2a",
        "/1/2/3/4",
        "/s/1/2/",
        "/s//1/2",
        "/s#/1/2",
        "/1/2147483648",
        "/1/99999999999",
        "/s/1/x",
        "/iot/s/c/0-g/basic/shadow/set",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (parse2(bad[i], &t) != OSAP_EDEVICE_TOPIC) fail_msg("accepted: %s", bad[i]);

    char topic[300];
    snprintf(topic, sizeof(topic), "/%s/1100/1", rep('s', 72));
    assert_int_equal(parse2(topic, &t), OSAP_OK);
    snprintf(topic, sizeof(topic), "/%s/1100/1", rep('s', 73));
    assert_int_equal(parse2(topic, &t), OSAP_EDEVICE_TOPIC);

    /* build: both directions, round trip, limits */
    t.serial = S("");
    t.domain = 1100;
    t.cmd = 13381;
    assert_int_equal(osap_topic_v2_build(&t, out, sizeof(out), &n), OSAP_OK);
    assert_string_equal(out, "/1100/13381");
    t.serial = S("4LYV8SK7UKLBOUOVS6HXVX:A532NO6K0Q2O");
    t.domain = 1000;
    t.cmd = 3;
    assert_int_equal(osap_topic_v2_build(&t, out, sizeof(out), &n), OSAP_OK);
    assert_string_equal(out, "/4LYV8SK7UKLBOUOVS6HXVX:A532NO6K0Q2O/1000/3");
    struct osap_topic_v2 back;
    assert_int_equal(osap_topic_v2_parse(out, n, &back), OSAP_OK);
    expect_span(back.serial, "4LYV8SK7UKLBOUOVS6HXVX:A532NO6K0Q2O");
    assert_int_equal(back.cmd, 3);
    for (size_t cap = 0; cap <= n; cap++) {
        memset(out, '#', sizeof(out));
        assert_int_equal(osap_topic_v2_build(&t, out, cap, &n), OSAP_EBUFSIZE);
        assert_int_equal(out[0], '#');
    }
    t.cmd = 2147483648u;
    assert_int_equal(osap_topic_v2_build(&t, out, sizeof(out), &n), OSAP_EDEVICE_TOPIC);
    t.cmd = 1;
    t.serial = S("a/b");
    assert_int_equal(osap_topic_v2_build(&t, out, sizeof(out), &n), OSAP_EDEVICE_TOPIC);
    t.serial = S(rep('s', 72));
    t.domain = 2147483647u;
    t.cmd = 2147483647u;
    assert_int_equal(osap_topic_v2_build(&t, out, sizeof(out), &n), OSAP_OK);
    assert_true(n < OSAP_TOPIC_V2_MAX);
}

/* ------------------------------------------------------------------ app namespace */

static void test_app(void **state)
{
    (void)state;
    char out[256];
    size_t n;

    assert_int_equal(osap_topic_app_event(S("Q1"), S("alarm"), S("motion"), out, sizeof(out), &n),
                     OSAP_OK);
    assert_string_equal(out, "$osap/Q1/event/alarm/motion");
    assert_int_equal(n, strlen(out));
    assert_int_equal(
        osap_topic_app_attribute(S("Q1"), S("LightCtrl"), S("Brightness"), out, sizeof(out), &n),
        OSAP_OK);
    assert_string_equal(out, "$osap/Q1/attribute/LightCtrl/Brightness");
    assert_int_equal(osap_topic_app_reply(S("Q1"), S("d"), S("k"), out, sizeof(out), &n), OSAP_OK);
    assert_string_equal(out, "$osap/Q1/reply/d/k");
    assert_int_equal(
        osap_topic_app_status(S("4LYV8SK7UKLBOUOVS6HXVX:A532NO6K0Q2O"), out, sizeof(out), &n),
        OSAP_OK);
    assert_string_equal(out, "$osap/4LYV8SK7UKLBOUOVS6HXVX:A532NO6K0Q2O/status");
    assert_int_equal(osap_topic_app_v2(S("Q1"), 1100, 13381, out, sizeof(out), &n), OSAP_OK);
    assert_string_equal(out, "$osap/Q1/v2/1100/13381");
    assert_int_equal(osap_topic_app_v2(S("Q1"), 0, 4294967295u, out, sizeof(out), &n), OSAP_OK);
    assert_string_equal(out, "$osap/Q1/v2/0/4294967295");
    assert_int_equal(
        osap_topic_app_raw(S("Q1"), S("global/0-global/basic/shadow/report"), out, sizeof(out), &n),
        OSAP_OK);
    assert_string_equal(out, "$osap/Q1/raw/global/0-global/basic/shadow/report");

    /* spans need not be NUL-terminated */
    struct osap_topic_span sn = {"Q1XYZ", 2}, dom = {"alarmXX", 5}, id = {"motion!", 6};
    assert_int_equal(osap_topic_app_event(sn, dom, id, out, sizeof(out), &n), OSAP_OK);
    assert_string_equal(out, "$osap/Q1/event/alarm/motion");

    /* invalid segments */
    static const char *bad[] = {"", "a/b", "a+", "#", "a b", "a\tb", "a\x7f"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(osap_topic_app_event(S(bad[i]), S("d"), S("k"), out, sizeof(out), &n),
                         OSAP_EINVAL);
        assert_int_equal(osap_topic_app_attribute(S("s"), S(bad[i]), S("k"), out, sizeof(out), &n),
                         OSAP_EINVAL);
        assert_int_equal(osap_topic_app_reply(S("s"), S("d"), S(bad[i]), out, sizeof(out), &n),
                         OSAP_EINVAL);
        assert_int_equal(osap_topic_app_status(S(bad[i]), out, sizeof(out), &n), OSAP_EINVAL);
        assert_int_equal(osap_topic_app_v2(S(bad[i]), 1, 2, out, sizeof(out), &n), OSAP_EINVAL);
    }
    static const char *bad_rest[] = {"", "/a", "a/", "a//b", "a/+/b", "a/#", "a b"};
    for (size_t i = 0; i < sizeof(bad_rest) / sizeof(bad_rest[0]); i++)
        assert_int_equal(osap_topic_app_raw(S("s"), S(bad_rest[i]), out, sizeof(out), &n),
                         OSAP_EINVAL);
    /* buffers */
    for (size_t cap = 0; cap <= strlen("$osap/Q1/status"); cap++) {
        memset(out, '#', sizeof(out));
        assert_int_equal(osap_topic_app_status(S("Q1"), out, cap, &n), OSAP_EBUFSIZE);
        assert_int_equal(out[0], '#');
    }
    assert_int_equal(osap_topic_app_status(S("Q1"), out, 16, &n), OSAP_OK);
    assert_int_equal(osap_topic_app_status(S("Q1"), NULL, 16, &n), OSAP_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captures),  cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_v3_limits), cmocka_unit_test(test_v3_malformed),
        cmocka_unit_test(test_v3_build),  cmocka_unit_test(test_v2),
        cmocka_unit_test(test_app),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
