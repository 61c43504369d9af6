/*
 * Strict reading of small JSON documents with cJSON: an exact byte range, no
 * duplicated members where a document needs one value, integers and bounded
 * strings checked before they are used.
 */
#include "devjson_internal.h"

#include "osap/alloc.h"

#include <string.h>

/* 1 when the text holds the escape \u0000, which cJSON would turn into a C string
 * cut short (and so a different value from the one on the wire). */
static int has_nul_escape(const char *text, size_t len)
{
    for (size_t i = 0; i + 6 <= len; i++) {
        if (text[i] != '\\' || memcmp(text + i + 1, "u0000", 5) != 0) continue;
        size_t run = 0; /* backslashes ending at i */
        while (run <= i && text[i - run] == '\\')
            run++;
        if (run % 2 == 1) return 1;
    }
    return 0;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

osap_err osap__json_parse(const char *text, size_t len, osap_err syntax_err, cJSON **out)
{
    const char *end = NULL;
    cJSON *root;

    if (!text || len == 0) return syntax_err;
    /* A NUL, raw or escaped, would end the C string cJSON hands back. */
    if (memchr(text, '\0', len) || has_nul_escape(text, len)) return syntax_err;
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        /* cJSON reports running out of memory like a syntax error. Memory that is
         * exhausted stays exhausted for the next request: ask for a node's worth. */
        void *probe = osap_malloc(sizeof(cJSON));
        if (!probe) return OSAP_ENOMEM;
        osap_free(probe);
        return syntax_err;
    }
    if (!end || end < text || end > text + len) goto bad;
    for (; end < text + len; end++)
        if (!is_blank(*end)) goto bad;
    *out = root;
    return OSAP_OK;
bad:
    cJSON_Delete(root);
    return syntax_err;
}

int osap__json_member(const cJSON *obj, const char *key, const cJSON **out)
{
    const cJSON *found = NULL, *it;

    *out = NULL;
    for (it = obj ? obj->child : NULL; it; it = it->next) {
        if (!it->string || strcmp(it->string, key) != 0) continue;
        if (found) return -1;
        found = it;
    }
    *out = found;
    return 0;
}

int osap__json_int_in(const cJSON *item, double min, double max, int64_t *out)
{
    double d;
    int64_t v;

    if (!cJSON_IsNumber(item)) return 0;
    d = item->valuedouble;
    if (!(d >= min && d <= max)) return 0; /* also refuses NaN */
    v = (int64_t)d;
    if ((double)v != d) return 0; /* fractional */
    *out = v;
    return 1;
}

int osap__json_str_copy(const cJSON *item, char *out, size_t max)
{
    size_t n;

    if (!cJSON_IsString(item) || !item->valuestring) return 0;
    n = strnlen(item->valuestring, max + 1);
    if (n > max) return 0;
    memcpy(out, item->valuestring, n);
    out[n] = '\0';
    return 1;
}
