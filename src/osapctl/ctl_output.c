/* Output: messages, API errors and their exit codes, aligned tables, JSON.
 * Text that came from the platform (names, values) is printed with control
 * characters replaced, so that a device cannot drive the operator's terminal. */
#include "ctl.h"

#include "osap/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ctl_error(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("osapctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* A copy of @p s with control characters (and DEL) replaced by '?'. */
static char *clean_copy(const char *s)
{
    char *c = osap_strdup(s ? s : "-");

    if (!c) return NULL;
    for (unsigned char *p = (unsigned char *)c; *p; p++)
        if (*p < 0x20 || *p == 0x7f) *p = '?';
    return c;
}

static const char *status_text(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
    }
}

int ctl_check(const struct ctl *ctl, const struct ctl_response *resp)
{
    const cJSON *err, *code, *msg, *field;
    cJSON *doc;
    int rc = CTL_EAPI;

    if (resp->status >= 200 && resp->status < 300) return CTL_OK;
    if (ctl->json && resp->body.len) ctl_print_body(resp);
    doc = resp->body.data ? cJSON_ParseWithLength(resp->body.data, resp->body.len) : NULL;
    err = cJSON_GetObjectItemCaseSensitive(doc, "error");
    code = cJSON_GetObjectItemCaseSensitive(err, "code");
    msg = cJSON_GetObjectItemCaseSensitive(err, "message");
    field = cJSON_GetObjectItemCaseSensitive(err, "field");
    if (cJSON_IsString(code)) {
        char *c = clean_copy(code->valuestring);
        char *m = clean_copy(cJSON_IsString(msg) ? msg->valuestring : "");
        char *f = cJSON_IsString(field) ? clean_copy(field->valuestring) : NULL;

        ctl_error("%s: %s%s%s%s (HTTP %d)", c ? c : "?", m ? m : "", f ? " [field " : "",
                  f ? f : "", f ? "]" : "", resp->status);
        if (strcmp(code->valuestring, "device_offline") == 0 ||
            strcmp(code->valuestring, "device_timeout") == 0 ||
            strcmp(code->valuestring, "device_disconnected") == 0)
            rc = CTL_ETIMEOUT;
        osap_free(c);
        osap_free(m);
        osap_free(f);
    } else {
        ctl_error("HTTP %d %s (the response is not an API error)", resp->status,
                  status_text(resp->status));
    }
    cJSON_Delete(doc);
    return rc;
}

int ctl_call(const struct ctl *ctl, const struct ctl_request *rq, struct ctl_response *resp,
             cJSON **out)
{
    int rc = ctl_http(ctl, rq, resp);

    if (rc) return rc;
    rc = ctl_check(ctl, resp);
    if (rc) return rc;
    if (out) {
        *out = NULL;
        if (resp->body.len) {
            *out = cJSON_ParseWithLength(resp->body.data, resp->body.len);
            if (!*out) {
                ctl_error("the response is not valid JSON");
                return CTL_ECONN;
            }
        }
    }
    return CTL_OK;
}

void ctl_print_body(const struct ctl_response *resp)
{
    if (!resp->body.len) return;
    fwrite(resp->body.data, 1, resp->body.len, stdout);
    if (resp->body.data[resp->body.len - 1] != '\n') fputc('\n', stdout);
}

char *ctl_json_text(const cJSON *v)
{
    char *t, *copy;

    if (!v) return osap_strdup("null");
    t = cJSON_PrintUnformatted(v);
    if (!t) return NULL;
    copy = osap_strdup(t);
    cJSON_free(t);
    return copy;
}

const char *ctl_json_str(const cJSON *o, const char *name, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) ? v->valuestring : dflt;
}

/* ---- tables ---- */

void ctl_table_init(struct ctl_table *t, const char *const *heads)
{
    memset(t, 0, sizeof(*t));
    while (heads[t->ncols] && t->ncols < 12) {
        t->heads[t->ncols] = heads[t->ncols];
        t->ncols++;
    }
}

int ctl_table_row(struct ctl_table *t, const char *const *cells)
{
    size_t base;

    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **c = osap_realloc(t->cells, cap * (size_t)t->ncols * sizeof(*c));
        if (!c) return -1;
        t->cells = c;
        t->cap = cap;
    }
    base = t->nrows * (size_t)t->ncols;
    for (int i = 0; i < t->ncols; i++) {
        t->cells[base + (size_t)i] = clean_copy(cells[i]);
        if (!t->cells[base + (size_t)i]) {
            for (int j = 0; j < i; j++)
                osap_free(t->cells[base + (size_t)j]);
            return -1;
        }
    }
    t->nrows++;
    return 0;
}

/* Display width of UTF-8 text (code points; wide characters are rare here). */
static size_t text_width(const char *s)
{
    size_t w = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80) w++;
    return w;
}

/* Cut @p s to @p max code points, ending with "...". */
static void cut(char *s, size_t max)
{
    size_t w = 0;

    if (max < 4 || text_width(s) <= max) return;
    for (char *p = s; *p; p++) {
        if (((unsigned char)*p & 0xc0) != 0x80) {
            if (w == max - 3) {
                strcpy(p, "...");
                return;
            }
            w++;
        }
    }
}

void ctl_table_print(const struct ctl_table *t, bool quiet_empty)
{
    size_t width[12] = {0};

    if (t->nrows == 0) {
        if (!quiet_empty) puts("(none)");
        return;
    }
    for (int i = 0; i < t->ncols; i++)
        width[i] = text_width(t->heads[i]);
    for (size_t r = 0; r < t->nrows; r++)
        for (int i = 0; i < t->ncols; i++) {
            char *cell = t->cells[r * (size_t)t->ncols + (size_t)i];
            size_t w;
            if (t->max_width[i]) cut(cell, t->max_width[i]);
            w = text_width(cell);
            if (w > width[i]) width[i] = w;
        }
    for (int i = 0; i < t->ncols; i++)
        printf("%s%-*s", i ? "  " : "", i == t->ncols - 1 ? 0 : (int)width[i], t->heads[i]);
    putchar('\n');
    for (size_t r = 0; r < t->nrows; r++) {
        for (int i = 0; i < t->ncols; i++) {
            const char *cell = t->cells[r * (size_t)t->ncols + (size_t)i];
            size_t pad = width[i] - text_width(cell);
            printf("%s%s", i ? "  " : "", cell);
            if (i < t->ncols - 1)
                for (size_t k = 0; k < pad; k++)
                    putchar(' ');
        }
        putchar('\n');
    }
}

void ctl_table_release(struct ctl_table *t)
{
    for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
        osap_free(t->cells[i]);
    osap_free(t->cells);
    t->cells = NULL;
    t->nrows = t->cap = 0;
}

void ctl_print_fields(const cJSON *o)
{
    const cJSON *m;
    size_t w = 0;

    cJSON_ArrayForEach(m, o)
    {
        if (m->string && strlen(m->string) > w) w = strlen(m->string);
    }
    cJSON_ArrayForEach(m, o)
    {
        char *text = cJSON_IsString(m) ? osap_strdup(m->valuestring[0] ? m->valuestring : "-")
                     : cJSON_IsNull(m) ? osap_strdup("-")
                                       : ctl_json_text(m);
        char *shown = clean_copy(text ? text : "?");
        const char *name = m->string ? m->string : "";

        printf("%s:%*s %s\n", name, (int)(w - strlen(name)), "", shown ? shown : "?");
        osap_free(shown);
        osap_free(text);
    }
}
