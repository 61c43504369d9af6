/* multipart/form-data (RFC 7578 over RFC 2046): split a complete in-memory
 * body into parts. Strict and small: CRLF line ends only, the body must end
 * with the close delimiter, every part needs Content-Disposition: form-data
 * with a name. Part data are views into the caller's body. */
#include "http_internal.h"

#include "osap/alloc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MULTIPART_MAX_BOUNDARY 70

static const struct osap_http_multipart_limits default_limits = {
    .max_parts = 16,
    .max_part_bytes = 16u << 20,
    .max_header_bytes = 1024,
};

static const char *skip_ws(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    return s;
}

/*
 * Find parameter @p name in a header value like `form-data; name="x"; filename="y"`
 * (the first item, before ';', is skipped). Writes a new string to *out (NULL when the
 * parameter is absent). Quoted strings may contain backslash escapes.
 */
static osap_err header_param(const char *v, const char *end, const char *name, char **out)
{
    size_t nl = strlen(name);
    const char *s = memchr(v, ';', (size_t)(end - v));
    *out = NULL;
    while (s && s < end) {
        s = skip_ws(s + 1, end);
        const char *eq = s;
        while (eq < end && *eq != '=' && *eq != ';')
            eq++;
        const char *ne = eq;
        while (ne > s && (ne[-1] == ' ' || ne[-1] == '\t'))
            ne--;
        if (eq == end || *eq == ';') { /* a parameter without value */
            s = eq < end ? eq : NULL;
            continue;
        }
        const char *val = skip_ws(eq + 1, end);
        const char *vend;
        char *text = NULL;
        size_t tl = 0;
        if (val < end && *val == '"') {
            const char *q = val + 1;
            text = osap_malloc((size_t)(end - q) + 1);
            if (!text) return OSAP_ENOMEM;
            while (q < end && *q != '"') {
                if (*q == '\\' && q + 1 < end) q++;
                text[tl++] = *q++;
            }
            if (q == end) {
                osap_free(text);
                return OSAP_EHTTP_MULTIPART; /* unterminated quote */
            }
            vend = q + 1;
        } else {
            vend = val;
            while (vend < end && *vend != ';' && *vend != ' ' && *vend != '\t')
                vend++;
            text = osap_malloc((size_t)(vend - val) + 1);
            if (!text) return OSAP_ENOMEM;
            memcpy(text, val, (size_t)(vend - val));
            tl = (size_t)(vend - val);
        }
        text[tl] = '\0';
        if ((size_t)(ne - s) == nl && strncasecmp(s, name, nl) == 0) {
            *out = text;
            return OSAP_OK;
        }
        osap_free(text);
        s = memchr(vend, ';', (size_t)(end - vend));
    }
    return OSAP_OK;
}

/* The boundary from a Content-Type value, into @p out (NUL-terminated). */
static osap_err get_boundary(const char *ct, char out[MULTIPART_MAX_BOUNDARY + 1])
{
    static const char type[] = "multipart/form-data";
    if (!ct || strncasecmp(ct, type, sizeof(type) - 1) != 0) return OSAP_EHTTP_MULTIPART;
    const char *end = ct + strlen(ct);
    const char *after = skip_ws(ct + sizeof(type) - 1, end);
    if (after < end && *after != ';') return OSAP_EHTTP_MULTIPART;
    char *b = NULL;
    osap_err err = header_param(ct, end, "boundary", &b);
    if (err) return err;
    size_t bl = b ? strlen(b) : 0;
    if (bl == 0 || bl > MULTIPART_MAX_BOUNDARY || b[bl - 1] == ' ') {
        osap_free(b);
        return OSAP_EHTTP_MULTIPART;
    }
    memcpy(out, b, bl + 1);
    osap_free(b);
    return OSAP_OK;
}

static const uint8_t *find(const uint8_t *hay, size_t hl, const char *needle, size_t nl)
{
    return memmem(hay, hl, needle, nl);
}

static void part_release(struct osap_http_part *p)
{
    osap_free((char *)p->name);
    osap_free((char *)p->filename);
    osap_free((char *)p->content_type);
}

/* Parse the header block [h, end) of one part into @p part. */
static osap_err parse_part_headers(const char *h, const char *end, struct osap_http_part *part)
{
    osap_err err;
    bool disposition = false;
    while (h < end) {
        const char *eol = memchr(h, '\r', (size_t)(end - h));
        if (!eol) eol = end;
        if (eol < end && (eol + 1 >= end || eol[1] != '\n')) return OSAP_EHTTP_MULTIPART;
        const char *colon = memchr(h, ':', (size_t)(eol - h));
        if (!colon || colon == h) return OSAP_EHTTP_MULTIPART;
        size_t nl = (size_t)(colon - h);
        const char *v = skip_ws(colon + 1, eol);
        const char *ve = eol;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        if (nl == 19 && strncasecmp(h, "Content-Disposition", nl) == 0) {
            static const char fd[] = "form-data";
            if (disposition || (size_t)(ve - v) < sizeof(fd) - 1 ||
                strncasecmp(v, fd, sizeof(fd) - 1) != 0)
                return OSAP_EHTTP_MULTIPART;
            disposition = true;
            char *name = NULL, *filename = NULL;
            err = header_param(v, ve, "name", &name);
            if (!err) err = header_param(v, ve, "filename", &filename);
            part->name = name;
            part->filename = filename;
            if (err) return err;
        } else if (nl == 12 && strncasecmp(h, "Content-Type", nl) == 0) {
            if (part->content_type) return OSAP_EHTTP_MULTIPART;
            part->content_type = osap_strndup(v, (size_t)(ve - v));
            if (!part->content_type) return OSAP_ENOMEM;
        }
        h = eol + 2;
    }
    return disposition && part->name && *part->name ? OSAP_OK : OSAP_EHTTP_MULTIPART;
}

osap_err osap_http_multipart_parse(const char *content_type, const uint8_t *body, size_t len,
                                   const struct osap_http_multipart_limits *limits,
                                   struct osap_http_multipart **out)
{
    char boundary[MULTIPART_MAX_BOUNDARY + 1];
    char delim[MULTIPART_MAX_BOUNDARY + 5]; /* CRLF "--" boundary */
    struct osap_http_multipart *mp = NULL;
    osap_err err;

    if (!limits) limits = &default_limits;
    err = get_boundary(content_type, boundary);
    if (err) return err;
    size_t dl = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", boundary);

    mp = osap_calloc(1, sizeof(*mp));
    if (!mp) return OSAP_ENOMEM;
    err = OSAP_EHTTP_MULTIPART;

    /* the first delimiter: at the very start, or after a preamble and CRLF */
    const uint8_t *p;
    if (len >= dl - 2 && memcmp(body, delim + 2, dl - 2) == 0) {
        p = body + dl - 2;
    } else {
        p = find(body, len, delim, dl);
        if (!p) goto fail;
        p += dl;
    }
    const uint8_t *end = body + len;
    for (;;) {
        /* after a delimiter: "--" closes, otherwise optional blanks then CRLF */
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') break;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n') goto fail;
        p += 2;

        const uint8_t *hend;
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            hend = p; /* no headers at all */
        } else {
            hend = find(p, (size_t)(end - p), "\r\n\r\n", 4);
            if (!hend) goto fail;
        }
        if ((size_t)(hend - p) > limits->max_header_bytes) {
            err = OSAP_ETOOBIG;
            goto fail;
        }
        const uint8_t *data = hend + (hend == p ? 2 : 4);
        const uint8_t *next = find(data, (size_t)(end - data), delim, dl);
        if (!next) goto fail; /* truncated */
        if ((size_t)(next - data) > limits->max_part_bytes || mp->nparts >= limits->max_parts) {
            err = OSAP_ETOOBIG;
            goto fail;
        }
        struct osap_http_part *parts =
            osap_realloc(mp->parts, (mp->nparts + 1) * sizeof(*mp->parts));
        if (!parts) {
            err = OSAP_ENOMEM;
            goto fail;
        }
        mp->parts = parts;
        struct osap_http_part *part = &parts[mp->nparts++];
        memset(part, 0, sizeof(*part));
        err = parse_part_headers((const char *)p, (const char *)hend, part);
        if (err) goto fail;
        err = OSAP_EHTTP_MULTIPART;
        part->data = data;
        part->len = (size_t)(next - data);
        p = next + dl;
    }
    if (mp->nparts == 0) goto fail;
    *out = mp;
    return OSAP_OK;

fail:
    osap_http_multipart_free(mp);
    return err;
}

const struct osap_http_part *osap_http_multipart_find(const struct osap_http_multipart *mp,
                                                      const char *name)
{
    for (size_t i = 0; mp && i < mp->nparts; i++)
        if (strcmp(mp->parts[i].name, name) == 0) return &mp->parts[i];
    return NULL;
}

void osap_http_multipart_free(struct osap_http_multipart *mp)
{
    if (!mp) return;
    for (size_t i = 0; i < mp->nparts; i++)
        part_release(&mp->parts[i]);
    osap_free(mp->parts);
    osap_free(mp);
}
