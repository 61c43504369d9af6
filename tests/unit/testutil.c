/* Shared helpers for the cmocka unit tests (see testutil.h). */
#include "testutil.h"

#include "osap/alloc.h"

#include <ctype.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef OSAP_TEST_DATA_DIR
#error "OSAP_TEST_DATA_DIR must be defined by the build"
#endif

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

uint8_t *test_hex(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    uint8_t *out = malloc(n / 2 + 1);
    size_t o = 0;
    int hi = -1;
    assert_non_null(out);
    for (size_t i = 0; i < n; i++) {
        if (isspace((unsigned char)hex[i])) continue;
        int v = hexval((unsigned char)hex[i]);
        if (v < 0) fail_msg("bad hex character '%c'", hex[i]);
        if (hi < 0) {
            hi = v;
        } else {
            out[o++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) fail_msg("odd number of hex digits");
    *len = o;
    return out;
}

void test_free_buf(void *p)
{
    free(p);
}

char *test_tohex(const uint8_t *p, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(len * 2 + 1);
    assert_non_null(s);
    for (size_t i = 0; i < len; i++) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 15];
    }
    s[len * 2] = '\0';
    return s;
}

char *test_read_data(const char *relpath, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", OSAP_TEST_DATA_DIR, relpath);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) fail_msg("short read on %s", path);
    fclose(f);
    buf[n] = '\0';
    if (len) *len = (size_t)n;
    return buf;
}

void test_assert_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                       const char *file, int line)
{
    if (alen == blen && (alen == 0 || memcmp(a, b, alen) == 0)) return;
    char *ha = test_tohex(a, alen), *hb = test_tohex(b, blen);
    print_error("%s:%d: bytes differ\n  got  (%zu) %s\n  want (%zu) %s\n", file, line, alen, ha,
                blen, hb);
    free(ha);
    free(hb);
    _fail(file, line);
}

static long alloc_count;
static long alloc_fail_at = -1;

static void *t_malloc(size_t n, void *ud)
{
    (void)ud;
    if (alloc_fail_at >= 0 && alloc_count++ >= alloc_fail_at) return NULL;
    if (alloc_fail_at < 0) alloc_count++;
    return malloc(n);
}

static void *t_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    if (alloc_fail_at >= 0 && alloc_count++ >= alloc_fail_at) return NULL;
    if (alloc_fail_at < 0) alloc_count++;
    return realloc(p, n);
}

static void t_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

void test_alloc_install(void)
{
    struct osap_allocator a = {t_malloc, t_realloc, t_free, NULL};
    osap_set_allocator(&a);
}

void test_alloc_fail_after(long n)
{
    alloc_count = 0;
    alloc_fail_at = n;
}

void test_alloc_reset(void)
{
    alloc_fail_at = -1;
    alloc_count = 0;
}

long test_alloc_count(void)
{
    return alloc_count;
}

int test_scratch_dir(char *dir, size_t cap, const char *name)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(dir, cap, "%s/osap-test-%s-XXXXXX", tmp && *tmp ? tmp : P_tmpdir, name);
    if (n < 0 || (size_t)n >= cap) return -1;
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

int test_rmtree(const char *dir)
{
    return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}
