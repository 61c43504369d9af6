/* multipart/form-data splitting: valid bodies, every truncation, limits,
 * malformed part headers, allocation failures. */
#include "testutil.h"

#include "http.h"
#include "osap/alloc.h"

#include <string.h>

#define CT "multipart/form-data; boundary=XyZ--b0undary"

/* Two parts; the file's data contains CRLF and a near-miss of the delimiter. */
static const char body2[] = "--XyZ--b0undary\r\n"
                            "Content-Disposition: form-data; name=\"serial\"\r\n"
                            "\r\n"
                            "DS-2CD2042\r\n"
                            "--XyZ--b0undary\r\n"
                            "Content-Disposition: form-data; name=\"picture\"; "
                            "filename=\"cam \\\"1\\\".jpg\"\r\n"
                            "Content-Type: image/jpeg\r\n"
                            "\r\n"
                            "\xff\xd8\r\n--XyZ--b0undar\r\n\x00\xff\xd9\r\n"
                            "--XyZ--b0undary--\r\n";

static const uint8_t file_data[] = "\xff\xd8\r\n--XyZ--b0undar\r\n\x00\xff\xd9";

static void test_valid(void **state)
{
    (void)state;
    struct osap_http_multipart *mp = NULL;
    assert_int_equal(
        osap_http_multipart_parse(CT, (const uint8_t *)body2, sizeof(body2) - 1, NULL, &mp),
        OSAP_OK);
    assert_int_equal(mp->nparts, 2);
    assert_string_equal(mp->parts[0].name, "serial");
    assert_null(mp->parts[0].filename);
    assert_null(mp->parts[0].content_type);
    assert_int_equal(mp->parts[0].len, 10);
    assert_memory_equal(mp->parts[0].data, "DS-2CD2042", 10);
    const struct osap_http_part *pic = osap_http_multipart_find(mp, "picture");
    assert_non_null(pic);
    assert_string_equal(pic->filename, "cam \"1\".jpg");
    assert_string_equal(pic->content_type, "image/jpeg");
    assert_int_equal(pic->len, sizeof(file_data) - 1);
    assert_memory_equal(pic->data, file_data, pic->len);
    /* views into the caller's body, not copies */
    assert_true(pic->data > (const uint8_t *)body2 &&
                pic->data < (const uint8_t *)body2 + sizeof(body2));
    assert_null(osap_http_multipart_find(mp, "nope"));
    osap_http_multipart_free(mp);
}

static void test_quoted_boundary_preamble_epilogue(void **state)
{
    (void)state;
    static const char b[] = "preamble text\r\n"
                            "--a:b c\r\n"
                            "content-disposition: FORM-DATA; name=x\r\n"
                            "\r\n"
                            "\r\n"
                            "--a:b c--\r\n"
                            "epilogue";
    struct osap_http_multipart *mp = NULL;
    assert_int_equal(osap_http_multipart_parse("Multipart/Form-Data; charset=utf-8; "
                                               "boundary=\"a:b c\"",
                                               (const uint8_t *)b, sizeof(b) - 1, NULL, &mp),
                     OSAP_OK);
    assert_int_equal(mp->nparts, 1);
    assert_string_equal(mp->parts[0].name, "x");
    assert_int_equal(mp->parts[0].len, 0);
    osap_http_multipart_free(mp);
}

static void test_bad_content_type(void **state)
{
    (void)state;
    const char *cts[] = {
        NULL,
        "text/plain",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"\"",
        "multipart/form-datax; boundary=XyZ--b0undary",
        "multipart/mixed; boundary=XyZ--b0undary",
        "multipart/form-data; boundary=\"unterminated",
        "multipart/form-data; boundary=01234567890123456789012345678901234567890123456789"
        "012345678901234567890",
    };
    for (size_t i = 0; i < sizeof(cts) / sizeof(cts[0]); i++) {
        struct osap_http_multipart *mp = NULL;
        assert_int_equal(
            osap_http_multipart_parse(cts[i], (const uint8_t *)body2, sizeof(body2) - 1, NULL, &mp),
            OSAP_EHTTP_MULTIPART);
        assert_null(mp);
    }
}

static void test_every_truncation_fails(void **state)
{
    (void)state;
    /* the close delimiter must be complete: "--XyZ--b0undary--" */
    const char *close = memmem(body2, sizeof(body2) - 1, "\r\n--XyZ--b0undary--", 19);
    assert_non_null(close);
    size_t complete = (size_t)(close - body2) + strlen("\r\n--XyZ--b0undary--");
    for (size_t n = 0; n < sizeof(body2) - 1; n++) {
        struct osap_http_multipart *mp = NULL;
        osap_err err = osap_http_multipart_parse(CT, (const uint8_t *)body2, n, NULL, &mp);
        if (n < complete) {
            if (err != OSAP_EHTTP_MULTIPART) fail_msg("prefix %zu: %s", n, osap_errname(err));
            assert_null(mp);
        } else {
            assert_int_equal(err, OSAP_OK);
            osap_http_multipart_free(mp);
        }
    }
}

static void test_limits(void **state)
{
    (void)state;
    struct osap_http_multipart *mp = NULL;
    struct osap_http_multipart_limits lim = {
        .max_parts = 2, .max_part_bytes = 100, .max_header_bytes = 200};
    assert_int_equal(
        osap_http_multipart_parse(CT, (const uint8_t *)body2, sizeof(body2) - 1, &lim, &mp),
        OSAP_OK);
    osap_http_multipart_free(mp);
    mp = NULL;

    lim.max_parts = 1;
    assert_int_equal(
        osap_http_multipart_parse(CT, (const uint8_t *)body2, sizeof(body2) - 1, &lim, &mp),
        OSAP_ETOOBIG);
    lim.max_parts = 2;
    lim.max_part_bytes = sizeof(file_data) - 2; /* the picture is one byte too big */
    assert_int_equal(
        osap_http_multipart_parse(CT, (const uint8_t *)body2, sizeof(body2) - 1, &lim, &mp),
        OSAP_ETOOBIG);
    lim.max_part_bytes = 100;
    lim.max_header_bytes = 40;
    assert_int_equal(
        osap_http_multipart_parse(CT, (const uint8_t *)body2, sizeof(body2) - 1, &lim, &mp),
        OSAP_ETOOBIG);
    assert_null(mp);
}

static void test_malformed_parts(void **state)
{
    (void)state;
    const char *bodies[] = {
        /* no Content-Disposition */
        "--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--",
        /* not form-data */
        "--B\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--B--",
        /* no name */
        "--B\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nx\r\n--B--",
        /* empty name */
        "--B\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n--B--",
        /* header line without a colon */
        "--B\r\nContent-Disposition: form-data; name=a\r\nbogus\r\n\r\nx\r\n--B--",
        /* bare LF line ends */
        "--B\nContent-Disposition: form-data; name=a\n\nx\n--B--",
        /* no delimiter at all */
        "just some bytes",
        /* only the close delimiter: no parts */
        "--B--\r\n",
        /* garbage after a delimiter */
        "--B\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--Bxyz\r\n--B--",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct osap_http_multipart *mp = NULL;
        osap_err err =
            osap_http_multipart_parse("multipart/form-data; boundary=B", (const uint8_t *)bodies[i],
                                      strlen(bodies[i]), NULL, &mp);
        if (err != OSAP_EHTTP_MULTIPART) fail_msg("body %zu: %s", i, osap_errname(err));
        assert_null(mp);
    }
}

static void test_out_of_memory(void **state)
{
    (void)state;
    test_alloc_install();
    for (long n = 0;; n++) {
        struct osap_http_multipart *mp = NULL;
        test_alloc_fail_after(n);
        osap_err err =
            osap_http_multipart_parse(CT, (const uint8_t *)body2, sizeof(body2) - 1, NULL, &mp);
        if (err == OSAP_OK) {
            assert_true(n > 3);
            assert_int_equal(mp->nparts, 2);
            osap_http_multipart_free(mp);
            break;
        }
        assert_int_equal(err, OSAP_ENOMEM);
        assert_null(mp);
    }
    test_alloc_reset();
    osap_set_allocator(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_quoted_boundary_preamble_epilogue),
        cmocka_unit_test(test_bad_content_type),
        cmocka_unit_test(test_every_truncation_fails),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_malformed_parts),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
