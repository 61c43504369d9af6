/* A growable text buffer for the model's document generators. */
#include "model_internal.h"

#include "osap/alloc.h"

#include <stdio.h>
#include <string.h>

void osap__buf_init(struct osap__buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

void osap__buf_release(struct osap__buf *b)
{
    osap_free(b->data);
    osap__buf_init(b);
}

static bool buf_reserve(struct osap__buf *b, size_t extra)
{
    if (b->failed) return false;
    if (extra >= SIZE_MAX / 2 - b->len) goto fail;
    if (b->len + extra + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = osap_realloc(b->data, cap);
    if (!p) goto fail;
    b->data = p;
    b->cap = cap;
    return true;
fail:
    b->failed = true;
    return false;
}

void osap__buf_put(struct osap__buf *b, const char *s, size_t len)
{
    if (!buf_reserve(b, len)) return;
    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void osap__buf_puts(struct osap__buf *b, const char *s)
{
    osap__buf_put(b, s, strlen(s));
}

void osap__buf_printf(struct osap__buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        osap__buf_put(b, small, (size_t)n);
        return;
    }
    if (!buf_reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

osap_err osap__buf_take(struct osap__buf *b, char **out)
{
    if (!buf_reserve(b, 0)) {
        osap__buf_release(b);
        return OSAP_ENOMEM;
    }
    *out = b->data;
    osap__buf_init(b);
    return OSAP_OK;
}
