/* Positioned diagnostics of the model compiler and validator: the first wins. */
#include "model_internal.h"

#include <stdio.h>

void osap__diag_init(struct osap__diag *d, char *buf, size_t len)
{
    d->buf = buf;
    d->len = buf ? len : 0;
    d->set = false;
    if (d->len) d->buf[0] = '\0';
}

void osap__diag_vat(struct osap__diag *d, struct osap__pos pos, const char *fmt, va_list ap)
{
    if (d->set) return;
    d->set = true;
    if (!d->len) return;
    int n = 0;
    if (pos.file) n = snprintf(d->buf, d->len, "%s:%u:%u: ", pos.file, pos.line, pos.col);
    if (n < 0) n = 0;
    if ((size_t)n < d->len) vsnprintf(d->buf + n, d->len - (size_t)n, fmt, ap);
}

void osap__diag_at(struct osap__diag *d, struct osap__pos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    osap__diag_vat(d, pos, fmt, ap);
    va_end(ap);
}

void osap__diag_plain(struct osap__diag *d, const char *fmt, ...)
{
    va_list ap;
    struct osap__pos none = {NULL, 0, 0};
    va_start(ap, fmt);
    osap__diag_vat(d, none, fmt, ap);
    va_end(ap);
}
