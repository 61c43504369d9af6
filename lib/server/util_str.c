/* Bounded string helpers (see util.h). */
#include "util.h"

#include <string.h>

bool osap_str_copy(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (cap == 0) return false;
    if (n >= cap) {
        dst[0] = '\0';
        return false;
    }
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
    return true;
}

bool osap_str_set(const char *s)
{
    return s && s[0] != '\0';
}

void osap_hex_encode(const uint8_t *p, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * len] = '\0';
}
