/* A growable byte buffer with a ceiling (every buffer filled from the network
 * has one). */
#include "ctl.h"

#include "osap/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ctl_buf_add(struct ctl_buf *b, const void *p, size_t n)
{
    size_t max = b->max ? b->max : CTL_BODY_MAX;
    size_t need;

    if (n > max || b->len > max - n) return -1;
    need = b->len + n + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *d;

        while (cap < need)
            cap *= 2;
        d = osap_realloc(b->data, cap);
        if (!d) return -1;
        b->data = d;
        b->cap = cap;
    }
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int ctl_buf_puts(struct ctl_buf *b, const char *s)
{
    return ctl_buf_add(b, s, strlen(s));
}

int ctl_buf_printf(struct ctl_buf *b, const char *fmt, ...)
{
    char small[512];
    char *big = NULL;
    va_list ap;
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    if ((size_t)n < sizeof(small)) return ctl_buf_add(b, small, (size_t)n);
    big = osap_malloc((size_t)n + 1);
    if (!big) return -1;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    rc = ctl_buf_add(b, big, (size_t)n);
    osap_free(big);
    return rc;
}

void ctl_buf_reset(struct ctl_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void ctl_buf_release(struct ctl_buf *b)
{
    osap_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
