/* Request input: JSON bodies, query parameters, cursors, times and the words of
 * device topics. Every failure leaves a 400 reply naming the field. */
#include "api/api_internal.h"

#include "osap/alloc.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool api_input_object(struct api_call *c, bool empty_ok, cJSON **out)
{
    const struct osap_http_request *req = c->req;
    const char *end = NULL;
    cJSON *json;
    size_t i = 0;

    while (i < req->body_len && strchr(" \t\r\n", req->body[i]))
        i++;
    if (i == req->body_len) {
        if (!empty_ok) {
            api_reply_error(c, 400, API_E_INVALID_JSON, NULL, "a JSON object is required");
            return false;
        }
        *out = cJSON_CreateObject();
        if (!*out) api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        return *out != NULL;
    }
    /* The body is followed by a NUL (http.h): parse up to it, and refuse a NUL
     * inside the body. */
    json = cJSON_ParseWithLengthOpts((const char *)req->body, req->body_len + 1, &end, true);
    if (json && end != (const char *)req->body + req->body_len) {
        cJSON_Delete(json);
        json = NULL;
    }
    if (!json) {
        size_t at = end ? (size_t)(end - (const char *)req->body) : 0;
        api_reply_error(c, 400, API_E_INVALID_JSON, NULL, "malformed JSON near byte %zu", at);
        return false;
    }
    if (!cJSON_IsObject(json)) {
        cJSON_Delete(json);
        api_reply_error(c, 400, API_E_INVALID_JSON, NULL, "the body must be a JSON object");
        return false;
    }
    *out = json;
    return true;
}

bool api_input_known(struct api_call *c, const cJSON *obj, const char *const *known)
{
    const cJSON *m;

    cJSON_ArrayForEach(m, obj)
    {
        size_t i;
        for (i = 0; known[i]; i++)
            if (m->string && strcmp(m->string, known[i]) == 0) break;
        if (!known[i]) {
            api_reply_error(c, 400, API_E_UNKNOWN_FIELD, m->string ? m->string : "",
                            "unknown member");
            return false;
        }
    }
    return true;
}

bool api_input_string(struct api_call *c, const cJSON *obj, const char *name, size_t max,
                      bool required, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

    *out = NULL;
    if (!v || cJSON_IsNull(v)) {
        if (required) {
            api_reply_error(c, 400, API_E_MISSING_FIELD, name, "%s is required", name);
            return false;
        }
        return true;
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        api_reply_error(c, 400, API_E_INVALID_FIELD, name, "%s must be a string", name);
        return false;
    }
    if (strlen(v->valuestring) > max) {
        api_reply_error(c, 400, API_E_INVALID_FIELD, name, "%s is longer than %zu bytes", name,
                        max);
        return false;
    }
    *out = v->valuestring;
    return true;
}

static bool parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (!s || !*s || isspace((unsigned char)*s)) return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

bool api_query_int(struct api_call *c, const char *name, int64_t min, int64_t max, int64_t def,
                   int64_t *out)
{
    const char *s = osap_http_request_param(c->req, name);
    int64_t v;

    if (!s) {
        *out = def;
        return true;
    }
    if (!parse_i64(s, &v) || v < min || v > max) {
        api_reply_error(c, 400, API_E_INVALID_PARAMETER, name,
                        "%s must be an integer from %lld to %lld", name, (long long)min,
                        (long long)max);
        return false;
    }
    *out = v;
    return true;
}

bool api_query_bool(struct api_call *c, const char *name, int *out)
{
    const char *s = osap_http_request_param(c->req, name);
    bool b;

    *out = -1;
    if (!s) return true;
    if (*s == '\0') { /* "?async" alone means yes */
        *out = 1;
        return true;
    }
    if (osap_cfg_parse_bool(s, &b) != OSAP_OK) {
        api_reply_error(c, 400, API_E_INVALID_PARAMETER, name, "%s must be true or false", name);
        return false;
    }
    *out = b ? 1 : 0;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

osap_err api_time_parse(const char *s, int64_t *out)
{
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec, ms = 0, oh = 0, om = 0;
    int64_t v;
    const char *p;

    if (parse_i64(s, &v)) {
        if (v < 0) return OSAP_EINVAL;
        *out = v;
        return OSAP_OK;
    }
    /* YYYY-MM-DDThh:mm:ss[.fff]Z|+hh:mm|-hh:mm */
    if (!s || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &sec))
        return OSAP_EINVAL;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || (unsigned)d > mdays[mo - 1] || h > 23 ||
        mi > 59 || sec > 60)
        return OSAP_EINVAL;
    p = s + 19;
    if (*p == '.') {
        int scale = 100, n = 0;
        for (p++; isdigit((unsigned char)*p); p++, n++) {
            ms += (*p - '0') * scale;
            scale /= 10;
        }
        if (n == 0) return OSAP_EINVAL;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return OSAP_EINVAL;
        if (*p == '-') {
            oh = -oh;
            om = -om;
        }
        p += 6;
    } else {
        return OSAP_EINVAL;
    }
    if (*p) return OSAP_EINVAL;
    v = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec -
        (oh * 3600 + om * 60);
    if (v < 0) return OSAP_EINVAL;
    *out = v * 1000 + ms;
    return OSAP_OK;
}

bool api_query_time(struct api_call *c, const char *name, int64_t *out)
{
    const char *s = osap_http_request_param(c->req, name);

    *out = 0;
    if (!s) return true;
    if (api_time_parse(s, out) != OSAP_OK) {
        api_reply_error(c, 400, API_E_INVALID_PARAMETER, name,
                        "%s must be an RFC 3339 time (2026-01-31T12:00:00Z) or milliseconds "
                        "since the epoch",
                        name);
        return false;
    }
    return true;
}

bool api_query_limit(struct api_call *c, uint32_t *out)
{
    const struct api_config *cfg = c->api->cfg;
    int64_t v;

    if (!api_query_int(c, "limit", 1, cfg->page_size_max, cfg->page_size, &v)) return false;
    *out = (uint32_t)v;
    return true;
}

char *api_cursor_encode(char kind, const char *value)
{
    size_t n = strlen(value) + 2;
    char *plain = osap_malloc(n + 1);
    char *out = plain ? osap_malloc(4 * ((n + 2) / 3) + 1) : NULL;
    int len;

    if (!out) {
        osap_free(plain);
        return NULL;
    }
    snprintf(plain, n + 1, "%c:%s", kind, value);
    len = EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)plain, (int)n);
    osap_free(plain);
    while (len > 0 && out[len - 1] == '=')
        len--;
    out[len] = '\0';
    for (char *p = out; *p; p++) {
        if (*p == '+') *p = '-';
        if (*p == '/') *p = '_';
    }
    return out;
}

bool api_cursor_decode(struct api_call *c, char kind, char *value, size_t cap)
{
    const char *s = osap_http_request_param(c->req, "cursor");
    unsigned char buf[512];
    char in[700];
    size_t n;
    int len;

    value[0] = '\0';
    if (!s) return true;
    n = strlen(s);
    if (n == 0 || n + 3 >= sizeof(in)) goto bad;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '-')
            ch = '+';
        else if (ch == '_')
            ch = '/';
        else if (!isalnum((unsigned char)ch))
            goto bad;
        in[i] = ch;
    }
    while (n % 4)
        in[n++] = '=';
    in[n] = '\0';
    if (n / 4 * 3 > sizeof(buf)) goto bad;
    len = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)n);
    if (len < 0) goto bad;
    /* EVP_DecodeBlock counts padding bytes as zeros: drop them. */
    for (size_t i = n; i > 0 && in[i - 1] == '='; i--)
        len--;
    if (len < 2 || buf[0] != (unsigned char)kind || buf[1] != ':' || (size_t)(len - 2) >= cap)
        goto bad;
    for (int i = 2; i < len; i++)
        if (buf[i] == '\0') goto bad;
    memcpy(value, buf + 2, (size_t)len - 2);
    value[len - 2] = '\0';
    if (value[0] == '\0') goto bad;
    return true;
bad:
    value[0] = '\0';
    api_reply_error(c, 400, API_E_INVALID_CURSOR, "cursor",
                    "cursor is not one this list handed out");
    return false;
}

bool api_cursor_decode_id(struct api_call *c, char kind, int64_t *out)
{
    char text[32];

    *out = 0;
    if (!api_cursor_decode(c, kind, text, sizeof(text))) return false;
    if (!text[0]) return true;
    if (!parse_i64(text, out) || *out <= 0) {
        api_reply_error(c, 400, API_E_INVALID_CURSOR, "cursor",
                        "cursor is not one this list handed out");
        return false;
    }
    return true;
}

cJSON *api_time_json(int64_t ms)
{
    char iso[OSAP_ISO_TIME_LEN + 1];

    if (ms <= 0) return cJSON_CreateNull();
    return cJSON_CreateString(osap_time_iso(ms, iso));
}

cJSON *api_json_value(const char *text)
{
    cJSON *v;

    if (!text) return cJSON_CreateNull();
    v = cJSON_Parse(text);
    return v ? v : cJSON_CreateString(text);
}

char *api_json_print(const cJSON *v)
{
    char *text = cJSON_PrintUnformatted(v);
    char *copy = text ? osap_strdup(text) : NULL;

    cJSON_free(text);
    return copy;
}

bool api_word_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > OSAP_MODEL_NAME_MAX) return false;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch <= 0x20 || ch == 0x7f || ch == '/' || ch == '+' || ch == '#') return false;
    }
    return true;
}

bool api_resource_valid(const char *s)
{
    const char *dash = s ? strchr(s, '-') : NULL;
    size_t n = s ? strlen(s) : 0;

    if (!dash || dash == s || n > OSAP_STORE_RESOURCE_MAX || dash - s > 64) return false;
    for (const char *p = s; p < dash; p++)
        if (!isdigit((unsigned char)*p)) return false;
    return strlen(dash + 1) <= 64 && dash[1] && !strchr(dash + 1, '-') && api_word_valid(dash + 1);
}

bool api_child_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > OSAP_STORE_CHILD_MAX) return false;
    return strcmp(s, "global") == 0 || osap_serial_valid(s);
}

char *api_path_escape(const char *s)
{
    static const char keep[] = "-._~:@!$&'()*,;=";
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    char *out, *o;

    for (const char *p = s; *p; p++)
        n += (isalnum((unsigned char)*p) || strchr(keep, *p)) ? 1 : 3;
    out = osap_malloc(n + 1);
    if (!out) return NULL;
    o = out;
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (isalnum(ch) || strchr(keep, ch)) {
            *o++ = (char)ch;
        } else {
            *o++ = '%';
            *o++ = hex[ch >> 4];
            *o++ = hex[ch & 15];
        }
    }
    *o = '\0';
    return out;
}
