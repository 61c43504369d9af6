/* Small JSON helpers of the device layer: reply codes, event fields, dates, and
 * bodies as JSON text (see device_internal.h). */
#include "das/device_internal.h"

#include "osap/alloc.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <string.h>
#include <time.h>

/* Parse the whole of @p body as one JSON value (trailing blanks and NUL bytes
 * allowed, anything else after the value refused). A NUL byte inside the value is
 * not JSON (cJSON would end a string there and drop the rest). */
cJSON *device_json_parse(const uint8_t *body, size_t len)
{
    const char *end = NULL;
    cJSON *root;

    if (!body || len == 0) return NULL;
    root = cJSON_ParseWithLengthOpts((const char *)body, len, &end, 0);
    if (!root) return NULL;
    if (memchr(body, '\0', (size_t)(end - (const char *)body))) {
        cJSON_Delete(root);
        return NULL;
    }
    for (size_t i = (size_t)(end - (const char *)body); i < len; i++) {
        if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' && body[i] != '\n' &&
            body[i] != '\0') {
            cJSON_Delete(root);
            return NULL;
        }
    }
    return root;
}

/* The length of @p body without trailing NUL bytes. */
static size_t text_len(const uint8_t *body, size_t len)
{
    while (len && body[len - 1] == '\0')
        len--;
    return len;
}

static bool int_of(const cJSON *item, int *out)
{
    double d;
    if (!cJSON_IsNumber(item)) return false;
    d = item->valuedouble;
    if (d < (double)INT_MIN || d > (double)INT_MAX || d != (double)(int)d) return false;
    *out = (int)d;
    return true;
}

bool device_json_reply(const uint8_t *body, size_t len, int *code, char **output_json)
{
    cJSON *root = device_json_parse(body, len), *item, *data;
    bool found = false;
    int v = 0;

    *output_json = NULL;
    if (!cJSON_IsObject(root)) goto out;
    /* TSL {"code":n,...}; older model API {"status":n,"code":"..",...}; shadow
     * set_reply {"method":"set_reply","payload":{"code":n},...}. */
    item = cJSON_GetObjectItemCaseSensitive(root, "code");
    if (int_of(item, &v)) {
        found = true;
    } else if (int_of(cJSON_GetObjectItemCaseSensitive(root, "status"), &v)) {
        found = true;
    } else {
        item = cJSON_GetObjectItemCaseSensitive(root, "payload");
        if (cJSON_IsObject(item) && int_of(cJSON_GetObjectItemCaseSensitive(item, "code"), &v))
            found = true;
    }
    data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (data) *output_json = cJSON_PrintUnformatted(data);
out:
    cJSON_Delete(root);
    if (found) *code = v;
    return found;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool device_json_datetime(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec, frac = 0, tzh = 0, tzm = 0, sign = 0;
    size_t n = strlen(s), p = 19;
    int64_t t;

    /* YYYY-MM-DDThh:mm:ss */
    if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' ||
        s[16] != ':')
        return false;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return false;
    if (s[p] == '.') { /* fraction: milliseconds from the first three digits */
        size_t q = p + 1, k = 0;
        while (q < n && s[q] >= '0' && s[q] <= '9') {
            if (k < 3) frac = frac * 10 + (s[q] - '0');
            k++;
            q++;
        }
        if (k == 0) return false;
        for (; k < 3; k++)
            frac *= 10;
        p = q;
    }
    if (p == n - 1 && s[p] == 'Z') {
        sign = 0;
    } else if (p + 6 == n && (s[p] == '+' || s[p] == '-') && s[p + 3] == ':') {
        if (!digits(s + p + 1, 2, &tzh) || !digits(s + p + 4, 2, &tzm) || tzh > 23 || tzm > 59)
            return false;
        sign = s[p] == '+' ? 1 : -1;
    } else {
        return false;
    }
    t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
    t -= sign * (tzh * 3600 + tzm * 60);
    *ms = t * 1000 + frac;
    return true;
}

void device_json_event(const uint8_t *body, size_t len, char uuid[65], int64_t *time_ms, int *level)
{
    cJSON *root = device_json_parse(body, len), *basic, *item;

    uuid[0] = '\0';
    *time_ms = 0;
    *level = 0;
    if (!cJSON_IsObject(root)) goto out;
    basic = cJSON_GetObjectItemCaseSensitive(root, "basic");
    if (cJSON_IsObject(basic)) {
        item = cJSON_GetObjectItemCaseSensitive(basic, "UUID");
        if (cJSON_IsString(item) && item->valuestring[0] && strlen(item->valuestring) <= 64) {
            bool ok = true;
            for (const char *p = item->valuestring; *p; p++)
                if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) ok = false;
            if (ok) memcpy(uuid, item->valuestring, strlen(item->valuestring) + 1);
        }
        item = cJSON_GetObjectItemCaseSensitive(basic, "dateTime");
        if (cJSON_IsString(item) && !device_json_datetime(item->valuestring, time_ms)) *time_ms = 0;
    }
    /* "level" at the top ({"level":1,...}) or in the event's own object
     * ({"alarm":{"level":1,...},"basic":{...}}). */
    if (!int_of(cJSON_GetObjectItemCaseSensitive(root, "level"), level)) {
        cJSON_ArrayForEach(item, root)
        {
            if (item == basic || !cJSON_IsObject(item)) continue;
            if (int_of(cJSON_GetObjectItemCaseSensitive(item, "level"), level)) break;
        }
    }
out:
    cJSON_Delete(root);
}

bool device_utf8_valid(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = p[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (p[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

char *device_json_text(const uint8_t *body, size_t len)
{
    cJSON *root = device_json_parse(body, len), *str;
    char *text, *out;

    len = text_len(body, len);
    if (root) {
        /* JSON already: keep the device's own bytes. */
        cJSON_Delete(root);
        return osap_strndup((const char *)body, len);
    }
    if (!device_utf8_valid(body, len) || memchr(body, '\0', len)) return NULL;
    text = osap_strndup((const char *)body, len);
    if (!text) return NULL;
    str = cJSON_CreateString(text);
    osap_free(text);
    if (!str) return NULL;
    text = cJSON_PrintUnformatted(str);
    cJSON_Delete(str);
    if (!text) return NULL;
    out = osap_strdup(text);
    cJSON_free(text);
    return out;
}
