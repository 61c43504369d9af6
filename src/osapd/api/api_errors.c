/* Error replies: {"error":{"code":"<stable code>","message":"...","field":"..."}}.
 * The codes are the API_E_* of api_internal.h, listed in docs/API.md. */
#include "api/api_internal.h"

#include "log.h"

#include <stdio.h>
#include <string.h>

cJSON *api_error_object(const char *code, const char *field, const char *message)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(root, "error");

    if (!e || !cJSON_AddStringToObject(e, "code", code) ||
        !cJSON_AddStringToObject(e, "message", message) ||
        (field && !cJSON_AddStringToObject(e, "field", field))) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

static char *error_text(const char *code, const char *field, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* The body text, or a fixed fallback when memory is short. */
static char *error_text(const char *code, const char *field, const char *fmt, va_list ap)
{
    char message[512];
    cJSON *obj;
    char *text;

    vsnprintf(message, sizeof(message), fmt, ap);
    obj = api_error_object(code, field, message);
    text = obj ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    return text;
}

static const char fallback[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";

void api_reply_error(struct api_call *c, int status, const char *code, const char *field,
                     const char *fmt, ...)
{
    va_list ap;
    char *text;

    va_start(ap, fmt);
    text = error_text(code, field, fmt, ap);
    va_end(ap);
    if (!text) {
        api_reply_body(c, 500, "application/json", fallback, sizeof(fallback) - 1);
        return;
    }
    api_reply_body(c, status, "application/json", text, strlen(text));
    cJSON_free(text);
}

void api_respond_error(struct osap_http_request *req, int status, const char *code,
                       const char *field, const char *fmt, ...)
{
    va_list ap;
    char *text;

    va_start(ap, fmt);
    text = error_text(code, field, fmt, ap);
    va_end(ap);
    if (!text) {
        osap_http_respond(req, 500, "application/json", fallback, sizeof(fallback) - 1);
        return;
    }
    osap_http_respond_json_str(req, status, text);
    cJSON_free(text);
}

void api_reply_store_error(struct api_call *c, osap_err err, const char *notfound_code,
                           const char *what)
{
    switch (err) {
    case OSAP_ENOTFOUND: api_reply_error(c, 404, notfound_code, NULL, "%s: not found", what); break;
    case OSAP_EEXISTS: api_reply_error(c, 409, API_E_BAD_REQUEST, NULL, "%s: exists", what); break;
    case OSAP_EINVAL:
        api_reply_error(c, 400, API_E_BAD_REQUEST, NULL, "%s: a value breaks a limit", what);
        break;
    case OSAP_ESTORE_BUSY:
        api_reply_header(c, "Retry-After", "1");
        api_reply_error(c, 503, API_E_STORE_BUSY, NULL, "%s: the database is busy, try again",
                        what);
        break;
    default:
        OSAP_LOGE(API_LOG, "%s: %s", what, osap_strerror(err));
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "%s: %s", what, osap_strerror(err));
        break;
    }
}
