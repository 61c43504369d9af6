/* Operations: POST /api/v1/devices/{serial}/operations/{domain}/{identifier}
 * with {"input": ...} (checked against the thing model, sent as
 * model/service/operate, answered with the device's code and output), and
 * GET /api/v1/requests/{id} for the asynchronous form. */
#include "api/api_internal.h"

#include "osap/alloc.h"
#include "util.h"

#include <string.h>

static void invoke_work(struct api_call *c, struct osap_store *st)
{
    struct api_devreq *r = c->data;
    cJSON *input = r->value_json ? cJSON_Parse(r->value_json) : NULL;
    bool ok;

    if (r->value_json && !input) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        return;
    }
    ok = api_devreq_check(c, st, r, OSAP_MODEL_CHECK_INPUT, input);
    cJSON_Delete(input);
    if (ok && r->async) api_devreq_record(c, st);
}

void api_operation_invoke(struct api_call *c)
{
    static const char *const known[] = {"input", NULL};
    struct api_devreq *r;
    cJSON *body = NULL, *input;

    if (!api_devreq_begin(c, OSAPD_DAS_OPERATE, true, known, &body)) goto fail;
    r = c->data;
    /* No input (or null) sends {"data":{}}: what an operation without input takes. */
    input = cJSON_GetObjectItemCaseSensitive(body, "input");
    if (input && !cJSON_IsNull(input) && !(r->value_json = api_json_print(input))) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        goto fail;
    }
    if (!r->value_json && !(r->value_json = osap_strdup("{}"))) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        goto fail;
    }
    cJSON_Delete(body);
    api_call_submit(c, invoke_work, api_devreq_send);
    return;
fail:
    cJSON_Delete(body);
    api_call_finish(c);
}

/* ---- GET /api/v1/requests/{id} ---- */

static osap_err request_row(const struct osap_request *r, void *userdata)
{
    struct api_call *c = userdata;
    cJSON *o = cJSON_CreateObject();

    if (!o) return OSAP_ENOMEM;
    cJSON_AddNumberToObject(o, "id", (double)r->id);
    cJSON_AddStringToObject(o, "serial", r->serial);
    cJSON_AddStringToObject(o, "kind", r->kind);
    cJSON_AddStringToObject(o, "child", r->child);
    cJSON_AddStringToObject(o, "resource", r->resource);
    cJSON_AddStringToObject(o, "domain", r->domain);
    cJSON_AddStringToObject(o, "identifier", r->identifier);
    cJSON_AddItemToObject(o, "input", api_json_value(r->input));
    cJSON_AddStringToObject(o, "status", r->status);
    if (r->has_code)
        cJSON_AddNumberToObject(o, "code", (double)r->code);
    else
        cJSON_AddNullToObject(o, "code");
    cJSON_AddItemToObject(o, "output", api_json_value(r->output));
    if (r->seq >= 0)
        cJSON_AddNumberToObject(o, "seq", (double)r->seq);
    else
        cJSON_AddNullToObject(o, "seq");
    cJSON_AddItemToObject(o, "created_at", api_time_json(r->created_at));
    cJSON_AddItemToObject(o, "completed_at", api_time_json(r->completed_at));
    api_reply_json(c, 200, o);
    return OSAP_OK;
}

static void request_work(struct api_call *c, struct osap_store *st)
{
    int64_t id = *(int64_t *)c->data;
    osap_err err = osap_store_request_get(st, id, request_row, c);

    if (err) api_reply_store_error(c, err, API_E_REQUEST_NOT_FOUND, "request");
}

void api_request_get(struct api_call *c)
{
    int64_t *id = osap_malloc(sizeof(*id));
    const char *s = c->args[0];

    if (!id) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        api_call_finish(c);
        return;
    }
    c->data = id;
    c->data_free = osap_free;
    *id = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || *id > (INT64_MAX - 9) / 10) {
            *id = 0;
            break;
        }
        *id = *id * 10 + (*s - '0');
    }
    if (*id <= 0) {
        api_reply_error(c, 404, API_E_REQUEST_NOT_FOUND, NULL, "no such request");
        api_call_finish(c);
        return;
    }
    api_call_submit(c, request_work, NULL);
}
