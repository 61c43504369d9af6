/* HTTP helpers: bounded buffers, percent-decoding, request-target splitting,
 * header and parameter lookup, HTTP dates, reason phrases. No I/O. */
#include "http_internal.h"

#include "osap/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void osap__http_buf_init(struct osap__http_buf *b, size_t max)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void osap__http_buf_release(struct osap__http_buf *b)
{
    osap_free(b->p);
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

size_t osap__http_buf_cap_for(const struct osap__http_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra) return 0;
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return b->cap;
    size_t cap = b->cap;
    if (cap == 0) cap = need > 256 ? need : 256; /* e.g. a whole Content-Length body at once */
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max + 1) cap = b->max + 1;
    if (cap < need) cap = need;
    return cap;
}

osap_err osap__http_buf_reserve(struct osap__http_buf *b, size_t extra)
{
    size_t cap = osap__http_buf_cap_for(b, extra);
    if (cap == 0) return OSAP_ETOOBIG;
    if (cap == b->cap) return OSAP_OK;
    char *p = osap_realloc(b->p, cap);
    if (!p) return OSAP_ENOMEM;
    p[b->len] = '\0'; /* terminated even if nothing is appended (an empty chunked body) */
    b->p = p;
    b->cap = cap;
    return OSAP_OK;
}

osap_err osap__http_buf_append(struct osap__http_buf *b, const void *data, size_t len)
{
    osap_err err = osap__http_buf_reserve(b, len);
    if (err) return err;
    if (len) memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
    return OSAP_OK;
}

osap_err osap__http_buf_puts(struct osap__http_buf *b, const char *s)
{
    return osap__http_buf_append(b, s, strlen(s));
}

osap_err osap__http_buf_printf(struct osap__http_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) return OSAP_EINVAL;
    if ((size_t)n < sizeof(small)) return osap__http_buf_append(b, small, (size_t)n);
    osap_err err = osap__http_buf_reserve(b, (size_t)n);
    if (err) return err;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return OSAP_OK;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

osap_err osap_http_percent_decode(const char *in, size_t len, bool plus_is_space, char *out,
                                  size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            if (len - i < 3) return OSAP_EINVAL;
            int hi = hex_digit(in[i + 1]), lo = hex_digit(in[i + 2]);
            if (hi < 0 || lo < 0) return OSAP_EINVAL;
            c = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == '\0') return OSAP_EINVAL;
        out[o++] = c;
    }
    *outlen = o;
    return OSAP_OK;
}

/* Decode [s, s+n) to *strings (NUL-terminated), advancing *strings. */
static osap_err decode_into(const char *s, size_t n, bool plus, char **strings, const char **res)
{
    size_t dl;
    osap_err err = osap_http_percent_decode(s, n, plus, *strings, &dl);
    if (err) return err;
    (*strings)[dl] = '\0';
    *res = *strings;
    *strings += dl + 1;
    return OSAP_OK;
}

osap_err osap__http_url_parse(const char *target, size_t len, struct osap__http_url *out)
{
    static const char root[] = "/";
    const char *p = target, *end = target + len;
    osap_err err = OSAP_EINVAL;
    void *mem = NULL;

    const char *frag = memchr(target, '#', len);
    if (frag) end = frag;
    if (len == 1 && target[0] == '*') {
        p = root;
        end = root + 1;
    } else if (len >= 7 && (strncasecmp(p, "http://", 7) == 0 ||
                            (len >= 8 && strncasecmp(p, "https://", 8) == 0))) {
        p += p[4] == ':' ? 7 : 8;
        while (p < end && *p != '/' && *p != '?')
            p++;
    } else if (len == 0 || target[0] != '/') {
        return OSAP_EINVAL;
    }

    const char *q = memchr(p, '?', (size_t)(end - p));
    const char *path = p, *path_end = q ? q : end;
    if (path == path_end) {
        path = root; /* absolute-form without a path */
        path_end = root + 1;
    }
    const char *query = q ? q + 1 : NULL, *query_end = end;
    size_t path_len = (size_t)(path_end - path);
    size_t query_len = query ? (size_t)(query_end - query) : 0;

    size_t max_segs = 1, max_params = 1;
    for (const char *c = path; c < path_end; c++)
        max_segs += *c == '/';
    for (size_t i = 0; i < query_len; i++)
        max_params += query[i] == '&';

    size_t arrays = max_segs * sizeof(char *) + max_params * sizeof(struct osap_http_kv);
    size_t strings = (path_len + 1) + (path_len + max_segs) + (query_len + 2 * max_params);
    mem = osap_malloc(arrays + strings);
    if (!mem) return OSAP_ENOMEM;
    const char **segs = mem;
    struct osap_http_kv *params = (void *)((char *)mem + max_segs * sizeof(char *));
    char *str = (char *)mem + arrays;

    memcpy(str, path, path_len);
    str[path_len] = '\0';
    const char *path_copy = str;
    str += path_len + 1;

    size_t nsegs = 0;
    for (const char *s = path; s < path_end;) {
        const char *e = memchr(s, '/', (size_t)(path_end - s));
        if (!e) e = path_end;
        if (e > s) {
            err = decode_into(s, (size_t)(e - s), false, &str, &segs[nsegs]);
            if (err) goto fail;
            nsegs++;
        }
        s = e + 1;
    }

    size_t nparams = 0;
    for (const char *s = query; s && s < query_end;) {
        const char *e = memchr(s, '&', (size_t)(query_end - s));
        if (!e) e = query_end;
        if (e > s) {
            const char *eq = memchr(s, '=', (size_t)(e - s));
            const char *name_end = eq ? eq : e;
            err = decode_into(s, (size_t)(name_end - s), true, &str, &params[nparams].name);
            if (err) goto fail;
            if (eq)
                err = decode_into(eq + 1, (size_t)(e - eq - 1), true, &str, &params[nparams].value);
            else
                err = decode_into("", 0, true, &str, &params[nparams].value);
            if (err) goto fail;
            nparams++;
        }
        s = e + 1;
    }

    out->mem = mem;
    out->path = path_copy;
    out->segments = segs;
    out->nsegments = nsegs;
    out->params = params;
    out->nparams = nparams;
    return OSAP_OK;

fail:
    osap_free(mem);
    return err;
}

void osap__http_url_release(struct osap__http_url *u)
{
    osap_free(u->mem);
    memset(u, 0, sizeof(*u));
}

bool osap__http_has_token(const char *s, const char *token)
{
    size_t tl = strlen(token);
    while (s && *s) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        const char *e = s;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if ((size_t)(t - s) == tl && strncasecmp(s, token, tl) == 0) return true;
        s = e;
    }
    return false;
}

const char *osap_http_request_header(const struct osap_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0) return req->headers[i].value;
    return NULL;
}

const char *osap_http_request_param(const struct osap_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nparams; i++)
        if (strcmp(req->params[i].name, name) == 0) return req->params[i].value;
    return NULL;
}

static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void osap_http_date(int64_t t, char out[30])
{
    time_t tt = (time_t)t;
    struct tm tm;
    char tmp[128];
    if (!gmtime_r(&tt, &tm)) memset(&tm, 0, sizeof(tm));
    snprintf(tmp, sizeof(tmp), "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[tm.tm_wday % 7],
             tm.tm_mday, months[tm.tm_mon % 12], (tm.tm_year + 1900) % 10000, tm.tm_hour, tm.tm_min,
             tm.tm_sec);
    memcpy(out, tmp, 29);
    out[29] = '\0';
}

static int parse_num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

osap_err osap_http_date_parse(const char *s, int64_t *t)
{
    /* "Sun, 06 Nov 1994 08:49:37 GMT": exactly 29 characters */
    if (strlen(s) != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || s[19] != ':' || s[22] != ':' || strcmp(s + 25, " GMT") != 0)
        return OSAP_EINVAL;
    int mon = -1;
    for (int i = 0; i < 12; i++)
        if (strncmp(s + 8, months[i], 3) == 0) mon = i;
    int day = parse_num(s + 5, 2), year = parse_num(s + 12, 4), h = parse_num(s + 17, 2),
        m = parse_num(s + 20, 2), sec = parse_num(s + 23, 2);
    if (mon < 0 || day < 1 || day > 31 || year < 1970 || h < 0 || h > 23 || m < 0 || m > 59 ||
        sec < 0 || sec > 60)
        return OSAP_EINVAL;
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = mon,
                    .tm_mday = day,
                    .tm_hour = h,
                    .tm_min = m,
                    .tm_sec = sec};
    *t = (int64_t)timegm(&tm);
    return OSAP_OK;
}

const char *osap_http_status_text(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}
