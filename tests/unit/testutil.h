/* Shared helpers for the cmocka unit tests. */
#ifndef OSAP_TESTUTIL_H
#define OSAP_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

/* Decode hex text (whitespace ignored) into a new buffer; *len receives the size.
 * Fails the test on malformed input. Free with test_free_buf(). */
uint8_t *test_hex(const char *hex, size_t *len);
void test_free_buf(void *p);
/* Lower-case hex text of @p len bytes in a new string. */
char *test_tohex(const uint8_t *p, size_t len);
/* Read a whole file below OSAP_TEST_DATA_DIR (e.g. "captures/sap_a_first_start.json")
 * into a new NUL-terminated buffer. */
char *test_read_data(const char *relpath, size_t *len);
/* Assert that two byte strings are equal, printing both in hex when not. */
#define assert_bytes_equal(a, alen, b, blen) \
    test_assert_bytes((a), (alen), (b), (blen), __FILE__, __LINE__)
void test_assert_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                       const char *file, int line);

/* Fault injection: after test_alloc_fail_after(n), the allocation number n
 * (counting from 0) and every later one fail until test_alloc_reset(). */
void test_alloc_install(void);
void test_alloc_fail_after(long n);
void test_alloc_reset(void);
long test_alloc_count(void);

/* Scratch directories: make $TMPDIR/osap-test-NAME-XXXXXX (P_tmpdir without
 * TMPDIR) into @p dir (@p cap bytes): 0, or -1 when it cannot be made. */
int test_scratch_dir(char *dir, size_t cap, const char *name);
/* Remove the directory @p dir and all it holds (no shell): 0, or -1. */
int test_rmtree(const char *dir);

#endif
