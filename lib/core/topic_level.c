/* Topic levels: the character and length rules shared by every topic form. */
#include "topic_internal.h"

static int byte_ok(unsigned char c)
{
    return c > 0x20 && c != 0x7F && c != '/' && c != '+' && c != '#';
}

int osap__topic_level_ok(struct osap_topic_span s, size_t max)
{
    if (!s.ptr || s.len == 0 || s.len > max) return 0;
    for (size_t i = 0; i < s.len; i++)
        if (!byte_ok((unsigned char)s.ptr[i])) return 0;
    return 1;
}

int osap__topic_levels_ok(struct osap_topic_span s, size_t max)
{
    size_t start = 0;

    if (!s.ptr || s.len == 0 || (max && s.len > max)) return 0;
    for (size_t i = 0; i <= s.len; i++) {
        if (i < s.len && s.ptr[i] != '/') continue;
        struct osap_topic_span level = {s.ptr + start, i - start};
        if (!osap__topic_level_ok(level, s.len)) return 0;
        start = i + 1;
    }
    return 1;
}

int osap__topic_next_level(const char **p, const char *end, struct osap_topic_span *out)
{
    const char *s = *p, *q = s;

    while (q < end && *q != '/')
        q++;
    out->ptr = s;
    out->len = (size_t)(q - s);
    if (q < end) {
        *p = q + 1;
        return 1;
    }
    *p = end;
    return 0;
}

int osap__topic_span_is(struct osap_topic_span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && (n == 0 || memcmp(s.ptr, lit, n) == 0);
}
