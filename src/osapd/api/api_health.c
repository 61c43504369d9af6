/* GET /api/v1/health (no token) and GET /api/v1/stats. */
#include "api/api_internal.h"

#include "osap/alloc.h"
#include "util.h"

#ifndef OSAP_VERSION
#define OSAP_VERSION "unknown"
#endif

void api_health_get(struct api_call *c)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "status", "ok");
    cJSON_AddStringToObject(o, "version", OSAP_VERSION);
    cJSON_AddItemToObject(o, "time", api_time_json(osap_time_now_ms()));
    cJSON_AddItemToObject(o, "started_at", api_time_json(c->api->started_at));
    cJSON_AddBoolToObject(o, "das", c->api->das != NULL);
    api_reply_json(c, 200, o);
    api_call_finish(c);
}

static void stats_work(struct api_call *c, struct osap_store *st)
{
    struct osap_device_counts *n = osap_calloc(1, sizeof(*n));
    osap_err err;

    if (!n) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        return;
    }
    c->data = n;
    c->data_free = osap_free;
    err = osap_store_device_count(st, n);
    if (err) api_reply_store_error(c, err, API_E_NOT_FOUND, "count devices");
}

static void stats_then(struct api_call *c)
{
    const struct osap_device_counts *n = c->data;
    struct api *api = c->api;
    struct osap_http_stats hs;
    cJSON *o = cJSON_CreateObject(), *x;

    x = cJSON_AddObjectToObject(o, "devices");
    cJSON_AddNumberToObject(x, "total", (double)n->total);
    cJSON_AddNumberToObject(x, "online", (double)n->online);
    cJSON_AddNumberToObject(x, "blocked", (double)n->blocked);
    if (api->das) {
        struct osapd_das_stats ds;
        osapd_das_stats(api->das, &ds);
        x = cJSON_AddObjectToObject(o, "das");
        cJSON_AddNumberToObject(x, "connections", (double)ds.connections);
        cJSON_AddNumberToObject(x, "devices_online", (double)ds.devices_online);
        cJSON_AddNumberToObject(x, "messages_in", (double)ds.messages_in);
        cJSON_AddNumberToObject(x, "messages_out", (double)ds.messages_out);
    } else {
        cJSON_AddNullToObject(o, "das");
    }
    if (api->ingest) {
        struct ingest_stats is;
        ingest_stats(api->ingest, &is);
        x = cJSON_AddObjectToObject(o, "ingest");
        cJSON_AddNumberToObject(x, "committed", (double)is.committed);
        cJSON_AddNumberToObject(x, "duplicates", (double)is.duplicates);
        cJSON_AddNumberToObject(x, "invalid", (double)is.invalid);
        cJSON_AddNumberToObject(x, "failed", (double)is.failed);
        cJSON_AddNumberToObject(x, "rejected", (double)is.rejected);
        cJSON_AddNumberToObject(x, "batches", (double)is.batches);
        cJSON_AddNumberToObject(x, "queued", (double)is.queued);
    } else {
        cJSON_AddNullToObject(o, "ingest");
    }
    osap_http_server_stats(api->http, &hs);
    x = cJSON_AddObjectToObject(o, "api");
    cJSON_AddNumberToObject(x, "connections", (double)hs.connections);
    cJSON_AddNumberToObject(x, "requests", (double)hs.requests);
    cJSON_AddNumberToObject(x, "refused", (double)hs.errors);
    cJSON_AddNumberToObject(x, "streams", (double)api->n_streams);
    cJSON_AddNumberToObject(x, "device_requests", (double)api->device_requests);
    cJSON_AddNumberToObject(x, "live_dropped", (double)atomic_load(&api->live_dropped));
    api_reply_json(c, 200, o);
    api_call_finish(c);
}

void api_stats_get(struct api_call *c)
{
    api_call_submit(c, stats_work, stats_then);
}
