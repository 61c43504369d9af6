/* Event queries: GET /api/v1/events and GET /api/v1/devices/{serial}/events,
 * newest first, filtered by serial, domain, identifier, level, a time range
 * (received_at) and the thing-model mark (?invalid=), paged with an opaque
 * cursor. The live stream is api_stream.c. */
#include "api/api_internal.h"

#include "osap/alloc.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

cJSON *api_event_json(const struct osap_event *ev)
{
    cJSON *o = cJSON_CreateObject();

    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "id", (double)ev->id);
    cJSON_AddStringToObject(o, "serial", ev->serial);
    cJSON_AddStringToObject(o, "child", ev->child);
    cJSON_AddStringToObject(o, "resource", ev->resource);
    cJSON_AddStringToObject(o, "domain", ev->domain);
    cJSON_AddStringToObject(o, "identifier", ev->identifier);
    cJSON_AddNumberToObject(o, "level", ev->level);
    if (ev->seq >= 0)
        cJSON_AddNumberToObject(o, "seq", (double)ev->seq);
    else
        cJSON_AddNullToObject(o, "seq");
    if (ev->uuid && ev->uuid[0])
        cJSON_AddStringToObject(o, "uuid", ev->uuid);
    else
        cJSON_AddNullToObject(o, "uuid");
    cJSON_AddItemToObject(o, "payload", api_json_value(ev->payload));
    cJSON_AddItemToObject(o, "device_time", api_time_json(ev->device_time));
    cJSON_AddItemToObject(o, "received_at", api_time_json(ev->received_at));
    if (ev->invalid && ev->invalid[0])
        cJSON_AddStringToObject(o, "invalid", ev->invalid);
    else
        cJSON_AddNullToObject(o, "invalid");
    return o;
}

struct event_query {
    struct osap_event_filter f;
    char *serial, *domain, *identifier;
    bool check_device; /* the device of the path must exist */
    uint32_t limit, n;
    int64_t last_id;
    bool more;
    cJSON *items;
};

static void query_free(void *p)
{
    struct event_query *q = p;
    if (!q) return;
    osap_free(q->serial);
    osap_free(q->domain);
    osap_free(q->identifier);
    cJSON_Delete(q->items);
    osap_free(q);
}

static osap_err event_row(const struct osap_event *ev, void *userdata)
{
    struct event_query *q = userdata;
    cJSON *o;

    if (q->n == q->limit) {
        q->more = true;
        return OSAP_OK;
    }
    o = api_event_json(ev);
    if (!o) return OSAP_ENOMEM;
    cJSON_AddItemToArray(q->items, o);
    q->last_id = ev->id;
    q->n++;
    return OSAP_OK;
}

static void query_work(struct api_call *c, struct osap_store *st)
{
    struct event_query *q = c->data;
    osap_err err;
    cJSON *o;

    if (q->check_device) {
        struct osap_device dev;
        err = osap_store_device_get(st, q->serial, &dev);
        if (err) {
            api_reply_store_error(c, err, API_E_DEVICE_NOT_FOUND, "device");
            return;
        }
    }
    q->items = cJSON_CreateArray();
    if (!q->items) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        return;
    }
    err = osap_store_event_list(st, &q->f, event_row, q);
    if (err) {
        api_reply_store_error(c, err, API_E_NOT_FOUND, "list events");
        return;
    }
    o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "items", q->items);
    q->items = NULL;
    if (q->more) {
        char id[24], *cur;
        snprintf(id, sizeof(id), "%lld", (long long)q->last_id);
        cur = api_cursor_encode('e', id);
        if (cur) cJSON_AddStringToObject(o, "next_cursor", cur);
        osap_free(cur);
    } else {
        cJSON_AddNullToObject(o, "next_cursor");
    }
    api_reply_json(c, 200, o);
}

static bool word_param(struct api_call *c, const char *name, char **out)
{
    const char *v = osap_http_request_param(c->req, name);

    if (!v) return true;
    if (!api_word_valid(v)) {
        api_reply_error(c, 400, API_E_INVALID_PARAMETER, name,
                        "%s must be 1..%d characters without blanks, '/', '+' or '#'", name,
                        OSAP_MODEL_NAME_MAX);
        return false;
    }
    *out = osap_strdup(v);
    if (!*out) api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
    return *out != NULL;
}

static void list(struct api_call *c, const char *path_serial)
{
    struct event_query *q = osap_calloc(1, sizeof(*q));
    const char *serial = path_serial ? path_serial : osap_http_request_param(c->req, "serial");
    int64_t level;
    int invalid;

    if (!q) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        goto fail;
    }
    c->data = q;
    c->data_free = query_free;
    if (serial) {
        if (!osap_serial_valid(serial)) {
            if (path_serial)
                api_reply_error(c, 404, API_E_DEVICE_NOT_FOUND, NULL, "no such device");
            else
                api_reply_error(c, 400, API_E_INVALID_PARAMETER, "serial", "not a device serial");
            goto fail;
        }
        q->serial = osap_strdup(serial);
        if (!q->serial) {
            api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
            goto fail;
        }
        q->check_device = path_serial != NULL;
    }
    if (!word_param(c, "domain", &q->domain) || !word_param(c, "identifier", &q->identifier) ||
        !api_query_int(c, "level", -2147483648LL, 2147483647LL, INT64_MIN, &level) ||
        !api_query_time(c, "since", &q->f.since) || !api_query_time(c, "until", &q->f.until) ||
        !api_query_limit(c, &q->limit) || !api_cursor_decode_id(c, 'e', &q->f.before_id) ||
        !api_query_bool(c, "invalid", &invalid))
        goto fail;
    q->f.invalid = invalid < 0 ? OSAP_FILTER_ANY : invalid ? OSAP_FILTER_YES : OSAP_FILTER_NO;
    if (level != INT64_MIN) {
        q->f.by_level = true;
        q->f.level = (int)level;
    }
    q->f.serial = q->serial;
    q->f.domain = q->domain;
    q->f.identifier = q->identifier;
    q->f.limit = q->limit + 1;
    api_call_submit(c, query_work, NULL);
    return;
fail:
    api_call_finish(c);
}

void api_events_list(struct api_call *c)
{
    list(c, NULL);
}

void api_device_events_list(struct api_call *c)
{
    list(c, c->args[0]);
}
