/* The list of `osapd device import` (src/osapd/admin_import.c): devices, comments,
 * blanks, CRLF, a byte order mark, every kind of bad line with its line number,
 * the line length limit at its edge, and lines with NUL bytes (which once let
 * the tail of a long line be read as a line of its own). */
#include "testutil.h"

#include "osapd.h"

#include <stdio.h>
#include <string.h>

struct item {
    int got; /* 1 device, -1 bad line */
    unsigned long lineno;
    char serial[80], secret[40], model[80];
    bool licence;
};

/* Read @p len bytes of @p text as a list into @p items (at most @p cap). */
static size_t read_list(const char *text, size_t len, struct item *items, size_t cap)
{
    struct osapd_import_reader r;
    struct osapd_import_device dev;
    const char *problem;
    size_t n = 0;
    int got;
    FILE *f = fmemopen((void *)text, len, "r");

    assert_non_null(f);
    osapd_import_reader_init(&r, f);
    while ((got = osapd_import_next(&r, &dev, &problem)) != 0) {
        assert_true(n < cap);
        memset(&items[n], 0, sizeof(items[n]));
        items[n].got = got;
        items[n].lineno = r.lineno;
        if (got > 0) {
            snprintf(items[n].serial, sizeof(items[n].serial), "%s", dev.serial);
            snprintf(items[n].secret, sizeof(items[n].secret), "%s", dev.secret);
            snprintf(items[n].model, sizeof(items[n].model), "%s", dev.model);
            items[n].licence = dev.licence;
        } else {
            assert_non_null(problem);
        }
        n++;
    }
    assert_false(ferror(f));
    fclose(f);
    return n;
}

static void test_devices(void **state)
{
    static const char list[] = "\xef\xbb\xbf# serial,code,model\n"
                               "A1,CODE01,C6N\n"
                               "\n"
                               "  A2 , CODE02  \r\n"
                               "pk9:dev9,LICENCE9,gateway\n"
                               "\t# indented comment\n"
                               "A3,CODE03"; /* no newline at the end */
    struct item it[8];
    (void)state;

    assert_int_equal(read_list(list, sizeof(list) - 1, it, 8), 4);
    assert_int_equal(it[0].got, 1);
    assert_int_equal(it[0].lineno, 2);
    assert_string_equal(it[0].serial, "A1");
    assert_string_equal(it[0].secret, "CODE01");
    assert_string_equal(it[0].model, "C6N");
    assert_false(it[0].licence);
    assert_int_equal(it[1].lineno, 4);
    assert_string_equal(it[1].serial, "A2");
    assert_string_equal(it[1].secret, "CODE02");
    assert_string_equal(it[1].model, "");
    assert_int_equal(it[2].lineno, 5);
    assert_string_equal(it[2].serial, "pk9:dev9");
    assert_true(it[2].licence);
    assert_int_equal(it[3].lineno, 7);
    assert_string_equal(it[3].serial, "A3");
}

static void test_bad_lines(void **state)
{
    static const char list[] = "B1,CODE11\n"
                               "B2\n"
                               "bad/serial,CODE13\n"
                               "B4,CODE14,m,extra\n"
                               "B5,has space\n"
                               "pk:dn,\n"
                               "B7:x,CODE\n" /* a licence serial... with a code: fine */
                               "B8,CODE,\x01model\n"
                               "B9,CODE19\n";
    struct item it[16];
    (void)state;

    assert_int_equal(read_list(list, sizeof(list) - 1, it, 16), 9);
    static const int want[] = {1, -1, -1, -1, -1, -1, 1, -1, 1};
    for (size_t i = 0; i < 9; i++) {
        assert_int_equal(it[i].got, want[i]);
        assert_int_equal(it[i].lineno, i + 1);
    }
    assert_true(it[6].licence);
}

static void test_line_length_edge(void **state)
{
    char list[3000];
    struct item it[4];
    size_t n;
    (void)state;

    /* 1022 characters: read (the blanks are trimmed) */
    n = (size_t)snprintf(list, sizeof(list), "E1,CODE");
    memset(list + n, ' ', 1022 - n);
    n = 1022;
    list[n++] = '\n';
    /* 1023 characters: too long, and nothing of it is read */
    memcpy(list + n, "E2,CODE", 7);
    memset(list + n + 7, ' ', 1023 - 7);
    n += 1023;
    n += (size_t)sprintf(list + n, "\nE3,CODE\n");
    assert_int_equal(read_list(list, n, it, 4), 3);
    assert_int_equal(it[0].got, 1);
    assert_string_equal(it[0].serial, "E1");
    assert_int_equal(it[1].got, -1);
    assert_int_equal(it[1].lineno, 2);
    assert_int_equal(it[2].got, 1);
    assert_int_equal(it[2].lineno, 3);
    assert_string_equal(it[2].serial, "E3");
}

/* A NUL byte inside a line makes the line bad, and the bytes after it stay part of
 * that line. (Read with fgets() and strlen(), "N1,CODE\0yyy..." was taken as the
 * device N1, and the rest of the long line, "Z9,CODE9", as a device of its own.) */
static void test_nul_bytes(void **state)
{
    char list[2000];
    struct item it[4];
    size_t n = 0;
    (void)state;

    memcpy(list, "N1,CODE\0", 8);
    n = 8;
    memset(list + n, 'y', 1015); /* 1023 bytes so far */
    n += 1015;
    n += (size_t)sprintf(list + n, "Z9,CODE9\nX9,CODE9\n");
    /* a short line with a NUL in the middle */
    memcpy(list + n, "N2,CO\0DE\n", 9);
    n += 9;
    assert_int_equal(read_list(list, n, it, 4), 3);
    assert_int_equal(it[0].got, -1); /* line 1: too long, with a NUL */
    assert_int_equal(it[0].lineno, 1);
    assert_int_equal(it[1].got, 1);
    assert_string_equal(it[1].serial, "X9");
    assert_int_equal(it[1].lineno, 2);
    assert_int_equal(it[2].got, -1); /* line 3: the NUL */
    assert_int_equal(it[2].lineno, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_devices),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_line_length_edge),
        cmocka_unit_test(test_nul_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
