/* Log: exact text and JSON lines, escaping, level filtering, truncation, threads,
 * reopen after the file was moved. */
#include "testutil.h"

#include "log.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#define FIXED_MS 1795928975123LL /* 2026-11-29T05:09:35.123Z */

static char captured[64 * 1024];
static size_t captured_len;
static int captured_lines;

static void sink(const char *line, size_t len, void *userdata)
{
    (void)userdata;
    if (captured_len + len < sizeof(captured)) {
        memcpy(captured + captured_len, line, len);
        captured_len += len;
        captured[captured_len] = '\0';
    }
    captured_lines++;
}

static int64_t fixed_clock(void)
{
    return FIXED_MS;
}

static void reset(bool json, enum osap_log_level level)
{
    struct osap_log_options opt = {level, NULL, json};
    assert_int_equal(osap_log_open(&opt), OSAP_OK);
    osap_log_set_sink(sink, NULL);
    osap_log_set_clock(fixed_clock);
    captured_len = 0;
    captured[0] = '\0';
    captured_lines = 0;
}

static int teardown(void **state)
{
    (void)state;
    osap_log_set_sink(NULL, NULL);
    osap_log_set_clock(NULL);
    osap_log_close();
    return 0;
}

static void test_text_format(void **state)
{
    (void)state;
    reset(false, OSAP_LOG_INFO);
    osap_log_kv(OSAP_LOG_INFO, "lbs", OSAP_LOG_FIELDS(OSAP_LOG_STR("path", "A")),
                "device %s authenticated", "Q123");
    assert_string_equal(captured,
                        "2026-11-29T05:09:35.123Z info lbs: device Q123 authenticated path=A\n");
    captured_len = 0;
    osap_log_kv(OSAP_LOG_WARN, "das",
                OSAP_LOG_FIELDS(OSAP_LOG_STR("peer", "1.2.3.4:5"), OSAP_LOG_INT("code", -11),
                                OSAP_LOG_STR("why", "bad \"will\" topic"),
                                OSAP_LOG_STR("empty", ""), OSAP_LOG_STR("null", NULL)),
                "refused");
    assert_string_equal(captured, "2026-11-29T05:09:35.123Z warn das: refused peer=1.2.3.4:5 "
                                  "code=-11 why=\"bad \\\"will\\\" topic\" empty=\"\" null=\"\"\n");
}

static void test_text_escaping(void **state)
{
    (void)state;
    reset(false, OSAP_LOG_DEBUG);
    /* A device-chosen string cannot start a new line or inject control bytes. */
    osap_log(OSAP_LOG_ERROR, "das", "bad serial %s",
             "X\n2026-01-01T00:00:00.000Z info fake\x01\xff\t");
    assert_string_equal(captured, "2026-11-29T05:09:35.123Z error das: bad serial "
                                  "X\\n2026-01-01T00:00:00.000Z info fake\\x01\\xff\\t\n");
    assert_int_equal(captured_lines, 1);
}

static void test_json_format_and_escaping(void **state)
{
    cJSON *j;
    (void)state;
    reset(true, OSAP_LOG_INFO);
    osap_log_kv(OSAP_LOG_INFO, "lbs", OSAP_LOG_FIELDS(OSAP_LOG_STR("path", "A")),
                "device %s authenticated", "Q123");
    assert_string_equal(captured, "{\"ts\":\"2026-11-29T05:09:35.123Z\",\"level\":\"info\","
                                  "\"component\":\"lbs\",\"msg\":\"device Q123 authenticated\","
                                  "\"path\":\"A\"}\n");
    captured_len = 0;
    osap_log_kv(OSAP_LOG_ERROR, "store",
                OSAP_LOG_FIELDS(OSAP_LOG_INT("n", 42), OSAP_LOG_STR("q", "a\"b\\c")),
                "quote \" backslash \\ nl \n tab \t ctl \x01 del \x7f bad \xc3\x28 ok caf\xc3\xa9");
    assert_string_equal(captured,
                        "{\"ts\":\"2026-11-29T05:09:35.123Z\",\"level\":\"error\",\"component\":"
                        "\"store\",\"msg\":\"quote \\\" backslash \\\\ nl \\n tab \\t ctl "
                        "\\u0001 del \\u007f bad \\ufffd( ok caf\xc3\xa9\",\"n\":42,\"q\":"
                        "\"a\\\"b\\\\c\"}\n");
    j = cJSON_Parse(captured);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "q")->valuestring, "a\"b\\c");
    assert_int_equal(cJSON_GetObjectItem(j, "n")->valueint, 42);
    cJSON_Delete(j);
}

static int evaluated;

static const char *side_effect(void)
{
    evaluated++;
    return "x";
}

static void test_level_filtering(void **state)
{
    (void)state;
    reset(false, OSAP_LOG_WARN);
    evaluated = 0;
    OSAP_LOGI("lbs", "not shown %s", side_effect());
    OSAP_LOGD("lbs", "not shown %s", side_effect());
    osap_log(OSAP_LOG_INFO, "lbs", "not shown either");
    assert_int_equal(evaluated, 0);
    assert_int_equal(captured_lines, 0);
    OSAP_LOGW("lbs", "shown %s", side_effect());
    OSAP_LOGE("lbs", "shown too");
    assert_int_equal(evaluated, 1);
    assert_int_equal(captured_lines, 2);
    assert_false(OSAP_LOG_ENABLED(OSAP_LOG_INFO));
    osap_log_set_level(OSAP_LOG_DEBUG);
    assert_true(OSAP_LOG_ENABLED(OSAP_LOG_DEBUG));
    assert_int_equal(osap_log_get_level(), OSAP_LOG_DEBUG);
}

static void test_level_names(void **state)
{
    enum osap_log_level l;
    (void)state;
    assert_int_equal(osap_log_level_parse("warn", &l), OSAP_OK);
    assert_int_equal(l, OSAP_LOG_WARN);
    assert_int_equal(osap_log_level_parse("verbose", &l), OSAP_EINVAL);
    assert_string_equal(osap_log_level_name(OSAP_LOG_DEBUG), "debug");
}

static void test_truncation(void **state)
{
    char *big = malloc(20000);
    cJSON *j;
    (void)state;
    memset(big, 'a', 19999);
    big[19999] = '\0';
    for (int json = 0; json <= 1; json++) {
        reset(json != 0, OSAP_LOG_INFO);
        osap_log_kv(OSAP_LOG_INFO, "t", OSAP_LOG_FIELDS(OSAP_LOG_STR("k", "v")), "%s", big);
        assert_int_equal(captured_lines, 1);
        assert_true(captured_len <= OSAP_LOG_LINE_MAX);
        assert_true(captured_len > OSAP_LOG_LINE_MAX - 16);
        assert_int_equal(captured[captured_len - 1], '\n');
        if (json) {
            assert_memory_equal(captured + captured_len - 6, "...\"}\n", 6);
            j = cJSON_Parse(captured);
            assert_non_null(j);
            cJSON_Delete(j);
        } else {
            assert_memory_equal(captured + captured_len - 4, "...\n", 4);
        }
        /* A long field value is cut too, and the JSON stays valid. */
        reset(json != 0, OSAP_LOG_INFO);
        osap_log_kv(OSAP_LOG_INFO, "t", OSAP_LOG_FIELDS(OSAP_LOG_STR("k", big)), "short");
        assert_true(captured_len <= OSAP_LOG_LINE_MAX);
        if (json) {
            j = cJSON_Parse(captured);
            assert_non_null(j);
            assert_string_equal(cJSON_GetObjectItem(j, "msg")->valuestring, "short");
            cJSON_Delete(j);
        }
    }
    free(big);
}

struct writer {
    int id;
};

static void writer_thread(void *arg)
{
    struct writer *w = arg;
    for (int i = 0; i < 500; i++)
        osap_log_kv(OSAP_LOG_INFO, "thread", OSAP_LOG_FIELDS(OSAP_LOG_INT("i", i)),
                    "writer %d line %d with some padding to make lines longer", w->id, i);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void test_threads_and_reopen(void **state)
{
    char dir[4096], path[4200], moved[4200];
    const char *tmp = getenv("TMPDIR");
    struct osap_log_options opt = {OSAP_LOG_INFO, path, false};
    uv_thread_t threads[4];
    struct writer w[4];
    size_t len;
    char *text;
    int lines = 0;
    (void)state;

    snprintf(dir, sizeof(dir), "%s/osap-test-log-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/osapd.log", dir);
    snprintf(moved, sizeof(moved), "%s/osapd.log.1", dir);
    osap_log_set_sink(NULL, NULL);
    assert_int_equal(osap_log_open(&opt), OSAP_OK);
    for (int i = 0; i < 4; i++) {
        w[i].id = i;
        assert_int_equal(uv_thread_create(&threads[i], writer_thread, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        uv_thread_join(&threads[i]);

    /* Every line whole: starts with a timestamp, ends where the next begins. */
    text = read_file(path, &len);
    for (char *p = text; *p; lines++) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        assert_true(nl - p > 24);
        assert_memory_equal(p + 4, "-", 1);
        assert_non_null(strstr(p, " info thread: writer "));
        assert_true(strstr(p, " info thread: writer ") < nl);
        p = nl + 1;
    }
    assert_int_equal(lines, 2000);
    free(text);

    /* Rotation: move the file away, reopen, the new lines go to a new file. */
    assert_int_equal(rename(path, moved), 0);
    osap_log(OSAP_LOG_INFO, "t", "still to the moved file");
    assert_int_equal(osap_log_reopen(), OSAP_OK);
    osap_log(OSAP_LOG_INFO, "t", "to the new file");
    text = read_file(path, &len);
    assert_non_null(strstr(text, "to the new file"));
    assert_null(strstr(text, "still to the moved file"));
    free(text);
    text = read_file(moved, &len);
    assert_non_null(strstr(text, "still to the moved file"));
    free(text);
    osap_log_close();
    assert_int_equal(osap_log_reopen(), OSAP_OK); /* stderr: nothing to do */
    unlink(path);
    unlink(moved);
    rmdir(dir);
}

static void test_open_failure_keeps_destination(void **state)
{
    struct osap_log_options bad = {OSAP_LOG_INFO, "/nonexistent-dir/osapd.log", false};
    (void)state;
    reset(false, OSAP_LOG_INFO);
    assert_int_not_equal(osap_log_open(&bad), OSAP_OK);
    osap_log(OSAP_LOG_INFO, "t", "kept");
    assert_int_equal(captured_lines, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_text_format, teardown),
        cmocka_unit_test_teardown(test_text_escaping, teardown),
        cmocka_unit_test_teardown(test_json_format_and_escaping, teardown),
        cmocka_unit_test_teardown(test_level_filtering, teardown),
        cmocka_unit_test_teardown(test_level_names, teardown),
        cmocka_unit_test_teardown(test_truncation, teardown),
        cmocka_unit_test_teardown(test_threads_and_reopen, teardown),
        cmocka_unit_test_teardown(test_open_failure_keeps_destination, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
