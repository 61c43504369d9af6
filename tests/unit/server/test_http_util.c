/* HTTP helpers: percent-decoding, request-target splitting, tokens, dates,
 * bounded buffers. */
#include "testutil.h"

#include "http_internal.h"
#include "osap/alloc.h"

#include <stdlib.h>
#include <string.h>

static void test_percent_decode(void **state)
{
    (void)state;
    char out[64];
    size_t n;
    assert_int_equal(osap_http_percent_decode("a%20b%2Fc", 9, false, out, &n), OSAP_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "a b/c", 5);
    assert_int_equal(osap_http_percent_decode("a+b%2b", 6, true, out, &n), OSAP_OK);
    assert_memory_equal(out, "a b+", n);
    assert_int_equal(osap_http_percent_decode("a+b", 3, false, out, &n), OSAP_OK);
    assert_memory_equal(out, "a+b", n);
    assert_int_equal(osap_http_percent_decode("%e4%B8%ad", 9, false, out, &n), OSAP_OK);
    assert_memory_equal(out, "\xe4\xb8\xad", 3);
    /* malformed escapes and NUL are refused */
    assert_int_equal(osap_http_percent_decode("%", 1, false, out, &n), OSAP_EINVAL);
    assert_int_equal(osap_http_percent_decode("ab%4", 4, false, out, &n), OSAP_EINVAL);
    assert_int_equal(osap_http_percent_decode("%zz", 3, false, out, &n), OSAP_EINVAL);
    assert_int_equal(osap_http_percent_decode("a%00b", 5, false, out, &n), OSAP_EINVAL);
}

static struct osap__http_url parse_ok(const char *target)
{
    struct osap__http_url u;
    memset(&u, 0, sizeof(u));
    osap_err err = osap__http_url_parse(target, strlen(target), &u);
    if (err) fail_msg("parse of '%s' failed: %s", target, osap_strerror(err));
    return u;
}

static void test_url_segments_and_params(void **state)
{
    (void)state;
    struct osap__http_url u = parse_ok("/api/v1//devices/a%20b%2Fc/?limit=10&q=x+y%26z&flag&=v&");
    assert_string_equal(u.path, "/api/v1//devices/a%20b%2Fc/");
    assert_int_equal(u.nsegments, 4);
    assert_string_equal(u.segments[0], "api");
    assert_string_equal(u.segments[1], "v1");
    assert_string_equal(u.segments[2], "devices");
    assert_string_equal(u.segments[3], "a b/c");
    assert_int_equal(u.nparams, 4);
    assert_string_equal(u.params[0].name, "limit");
    assert_string_equal(u.params[0].value, "10");
    assert_string_equal(u.params[1].name, "q");
    assert_string_equal(u.params[1].value, "x y&z");
    assert_string_equal(u.params[2].name, "flag");
    assert_string_equal(u.params[2].value, "");
    assert_string_equal(u.params[3].name, "");
    assert_string_equal(u.params[3].value, "v");
    osap__http_url_release(&u);

    u = parse_ok("/");
    assert_string_equal(u.path, "/");
    assert_int_equal(u.nsegments, 0);
    assert_int_equal(u.nparams, 0);
    osap__http_url_release(&u);

    u = parse_ok("/a?b=1#frag");
    assert_int_equal(u.nparams, 1);
    assert_string_equal(u.params[0].value, "1");
    osap__http_url_release(&u);

    /* absolute-form and asterisk-form */
    u = parse_ok("http://example.com:8080/x/y?z=1");
    assert_string_equal(u.path, "/x/y");
    assert_int_equal(u.nsegments, 2);
    assert_string_equal(u.params[0].name, "z");
    osap__http_url_release(&u);
    u = parse_ok("https://example.com");
    assert_string_equal(u.path, "/");
    osap__http_url_release(&u);
    u = parse_ok("*");
    assert_string_equal(u.path, "/");
    assert_int_equal(u.nsegments, 0);
    osap__http_url_release(&u);
}

static void test_url_refused(void **state)
{
    (void)state;
    const char *bad[] = {"", "api/v1", "/a%zz", "/a%00b", "/a?x=%0", "/a?x=%00", "ftp://x/y"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct osap__http_url u;
        memset(&u, 0, sizeof(u));
        assert_int_equal(osap__http_url_parse(bad[i], strlen(bad[i]), &u), OSAP_EINVAL);
        assert_null(u.mem);
    }
}

static void test_url_out_of_memory(void **state)
{
    (void)state;
    struct osap__http_url u;
    memset(&u, 0, sizeof(u));
    test_alloc_install();
    test_alloc_fail_after(0);
    assert_int_equal(osap__http_url_parse("/a/b?c=d", 8, &u), OSAP_ENOMEM);
    assert_null(u.mem);
    test_alloc_reset();
    osap_set_allocator(NULL);
}

static void test_tokens(void **state)
{
    (void)state;
    assert_true(osap__http_has_token("close", "close"));
    assert_true(osap__http_has_token("keep-alive, Upgrade", "upgrade"));
    assert_true(osap__http_has_token(" 100-Continue ", "100-continue"));
    assert_false(osap__http_has_token("100-continuex", "100-continue"));
    assert_false(osap__http_has_token("", "close"));
    assert_false(osap__http_has_token("clos", "close"));
}

static void test_dates(void **state)
{
    (void)state;
    char d[30];
    int64_t t = 0;
    osap_http_date(784111777, d);
    assert_string_equal(d, "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_int_equal(osap_http_date_parse(d, &t), OSAP_OK);
    assert_int_equal(t, 784111777);
    osap_http_date(0, d);
    assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_int_equal(osap_http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t), OSAP_EINVAL);
    assert_int_equal(osap_http_date_parse("Sun, 06 Xyz 1994 08:49:37 GMT", &t), OSAP_EINVAL);
    assert_int_equal(osap_http_date_parse("Sun, 06 Nov 1994 25:49:37 GMT", &t), OSAP_EINVAL);
}

static void test_buf_ceiling(void **state)
{
    (void)state;
    struct osap__http_buf b;
    osap__http_buf_init(&b, 8);
    assert_int_equal(osap__http_buf_append(&b, "12345", 5), OSAP_OK);
    assert_int_equal(osap__http_buf_printf(&b, "%d", 678), OSAP_OK);
    assert_string_equal(b.p, "12345678");
    assert_int_equal(osap__http_buf_append(&b, "9", 1), OSAP_ETOOBIG);
    assert_int_equal(b.len, 8);
    assert_true(b.cap <= 9);
    osap__http_buf_release(&b);

    osap__http_buf_init(&b, 1000);
    char big[600];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(osap__http_buf_printf(&b, "%s", big), OSAP_OK);
    assert_int_equal(b.len, 599);
    assert_int_equal(osap__http_buf_printf(&b, "%s", big), OSAP_ETOOBIG);
    assert_int_equal(b.len, 599);
    osap__http_buf_release(&b);
}

/* New memory full of 0xAA, so that a missing terminator shows. */
static void *filled_malloc(size_t n, void *ud)
{
    (void)ud;
    void *p = malloc(n);
    if (p) memset(p, 0xAA, n);
    return p;
}

static void *filled_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    return p ? realloc(p, n) : filled_malloc(n, NULL);
}

static void filled_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

/* A buffer is terminated as soon as it has memory: room reserved for a body whose
 * data never comes (an empty chunked body: only the "0" chunk) reads as "". */
static void test_buf_reserved_is_terminated(void **state)
{
    static const struct osap_allocator filled = {filled_malloc, filled_realloc, filled_free, NULL};
    struct osap__http_buf b;
    (void)state;

    osap_set_allocator(&filled);
    osap__http_buf_init(&b, 1000);
    assert_int_equal(osap__http_buf_reserve(&b, 0), OSAP_OK);
    assert_non_null(b.p);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.p[0], '\0');
    assert_int_equal(osap__http_buf_append(&b, "abc", 3), OSAP_OK);
    assert_int_equal(osap__http_buf_reserve(&b, 500), OSAP_OK); /* grows */
    assert_string_equal(b.p, "abc");
    osap__http_buf_release(&b);
    osap_set_allocator(NULL);
}

static void test_status_text(void **state)
{
    (void)state;
    assert_string_equal(osap_http_status_text(404), "Not Found");
    assert_string_equal(osap_http_status_text(431), "Request Header Fields Too Large");
    assert_string_equal(osap_http_status_text(799), "Unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percent_decode), cmocka_unit_test(test_url_segments_and_params),
        cmocka_unit_test(test_url_refused),    cmocka_unit_test(test_url_out_of_memory),
        cmocka_unit_test(test_tokens),         cmocka_unit_test(test_dates),
        cmocka_unit_test(test_buf_ceiling),    cmocka_unit_test(test_buf_reserved_is_terminated),
        cmocka_unit_test(test_status_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
