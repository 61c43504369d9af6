/* Hex text to bytes for the C helper programs of the script tests. */
#include "test_hex.h"

#include "osap/alloc.h"

#include <string.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int test_hex_decode(const char *s, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(s);

    if (n % 2 || n / 2 > cap) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2;
    return 0;
}

uint8_t *test_unhex(const char *s, size_t *len)
{
    size_t cap = strlen(s) / 2;
    uint8_t *out = osap_malloc(cap + 1);

    if (!out) return NULL;
    if (test_hex_decode(s, out, cap, len) != 0) {
        osap_free(out);
        return NULL;
    }
    return out;
}
