/* The api service: its settings, thread and loop, HTTP server, store threads,
 * link, and the order of start and stop (see api_internal.h). */
#include "api/api_internal.h"

#include "log.h"
#include "osap/alloc.h"
#include "util.h"

#include <signal.h>
#include <unistd.h>
#include <string.h>

uint16_t api_port(const struct api *api)
{
    return api->http ? osap_http_server_port(api->http) : 0;
}

static void *api_main(void *arg)
{
    struct api *api = arg;

    api_stream_listen(api);
    uv_run(&api->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* ---- stop, on the API thread ---- */

static void handle_closed(uv_handle_t *h)
{
    (void)h;
}

static void http_closed(void *userdata)
{
    struct api *api = userdata;

    api->http = NULL;
    /* Work under way finishes; its completions wait in the link and are dropped
     * (their requests were aborted by the server's close). */
    api_pool_free(api->pool);
    api->pool = NULL;
    api_link_close(api->link);
    uv_close((uv_handle_t *)&api->stop_async, handle_closed);
}

static void stop_requested(uv_async_t *async)
{
    struct api *api = async->data;

    if (api->stopping) return;
    api->stopping = true;
    api_stream_shutdown(api);
    if (api->http)
        osap_http_server_close(api->http, http_closed, api);
    else
        http_closed(api);
}

/* ---- start, on the main thread ---- */

static void api_free(struct api *api)
{
    if (!api) return;
    api_link_unref(api->link);
    osap_free(api->pictures_dir);
    osap_free(api);
}

/* Close what start() made on the loop before the thread ran. */
static void abort_start(struct api *api)
{
    api->stopping = true;
    if (api->http) osap_http_server_close(api->http, NULL, NULL);
    api->http = NULL;
    api_pool_free(api->pool);
    api->pool = NULL;
    if (api->link) api_link_close(api->link);
    uv_close((uv_handle_t *)&api->stop_async, handle_closed);
    uv_run(&api->loop, UV_RUN_DEFAULT);
    uv_loop_close(&api->loop);
}

osap_err api_http_config(const struct api_config *cfg, struct osap_http_config *h)
{
    osap_http_config_init(h);
    h->host = cfg->listen;
    h->port = (uint16_t)cfg->port;
    h->max_connections = (uint32_t)cfg->max_connections;
    /* the transport ceiling; each route gets its own at the head (api_head.c) */
    h->max_body_bytes = cfg->picture_max_size + API_MULTIPART_SLACK;
    if (h->max_body_bytes < cfg->max_json_body) h->max_body_bytes = cfg->max_json_body;
    h->max_body_buffer_bytes = cfg->max_body_buffer;
    if (h->max_body_buffer_bytes < h->max_body_bytes) {
        OSAP_LOGW(API_LOG, "[api] max_body_buffer is below one largest upload: raised to %llu",
                  (unsigned long long)h->max_body_bytes);
        h->max_body_buffer_bytes = h->max_body_bytes;
    }
    /* a backstop: every wait of a request has its own, shorter bound (a device's
     * reply: request_timeout_max; the database: its busy timeout) */
    h->response_timeout_ms = (uint32_t)(cfg->request_timeout_max + API_RESPONSE_SLACK_MS);
    h->header_timeout_ms = (uint32_t)cfg->header_timeout;
    h->body_timeout_ms = (uint32_t)cfg->body_timeout;
    h->idle_timeout_ms = (uint32_t)cfg->idle_timeout;
    h->close_timeout_ms = (uint32_t)cfg->close_timeout;
    h->sse_heartbeat_ms = (uint32_t)cfg->stream_heartbeat;
    h->max_stream_queue_bytes = (uint32_t)cfg->stream_buffer;
    if (cfg->tls_cert[0] || cfg->tls_key[0]) {
        if (!cfg->tls_cert[0] || !cfg->tls_key[0]) {
            OSAP_LOGE(API_LOG, "[api] tls_cert and tls_key must be set together");
            return OSAP_ECONFIG;
        }
        h->tls_cert_file = cfg->tls_cert;
        h->tls_key_file = cfg->tls_key;
    }
    return OSAP_OK;
}

/* Requests left pending by a previous run will never see their outcome. */
static void interrupt_stale_requests(struct api *api)
{
    struct osap_store *st = NULL;
    uint64_t n = 0;

    if (osapd_store_open(api->ctx, &st) != OSAP_OK) return;
    if (osap_store_request_interrupt(st, api->started_at, &n) == OSAP_OK && n)
        OSAP_LOGI(API_LOG, "%llu requests to devices left pending by the last run: interrupted",
                  (unsigned long long)n);
    osap_store_close(st);
}

static osap_err api_start(struct osapd_context *ctx, void **state)
{
    struct api *api = osap_calloc(1, sizeof(*api));
    struct osap_http_config hcfg;
    bool loop_ready = false;
    osap_err err;

    if (!api) return OSAP_ENOMEM;
    api->ctx = ctx;
    api->cfg = osap_config_section(osapd_config(ctx), "api");
    api->started_at = osap_time_now_ms();
    atomic_init(&api->live_lost, false);
    atomic_init(&api->live_dropped, 0);
    atomic_init(&api->streams_open, 0);
    err = api_http_config(api->cfg, &hcfg);
    if (err) goto fail;
    err = osap_path_join(osapd_data_dir(ctx), "pictures", &api->pictures_dir);
    if (err) goto fail;
    interrupt_stale_requests(api);
    api->models = osapd_models(ctx);
    api->das = osapd_service_find(ctx, "das");
    api->ingest = api->das ? osapd_das_ingest(api->das) : NULL;
    if (!api->das)
        OSAP_LOGW(API_LOG, "the das service does not run in this process: requests to devices "
                           "are answered 503 and no live events are streamed");
    if (uv_loop_init(&api->loop) != 0) {
        err = OSAP_ESERVER;
        goto fail;
    }
    loop_ready = true;
    uv_async_init(&api->loop, &api->stop_async, stop_requested);
    api->stop_async.data = api;
    err = api_link_new(&api->loop, &api->link);
    if (err) goto fail;
    err = api_pool_new(ctx, (unsigned)api->cfg->store_threads, api->link, &api->pool);
    if (err) goto fail;
    err = osap_http_server_new(&api->loop, &hcfg, api_router_handle, api, &api->http);
    if (err) {
        api->http = NULL;
        OSAP_LOGE(API_LOG, "cannot listen on %s port %u: %s", hcfg.host, (unsigned)hcfg.port,
                  osap_strerror(err));
        goto fail;
    }
    osap_http_server_on_head(api->http, api_router_head);
    if (api->cfg->web_root[0] && access(api->cfg->web_root, R_OK | X_OK) != 0)
        OSAP_LOGW(API_LOG, "the web console directory %s is not readable: / answers 404",
                  api->cfg->web_root);
    if (pthread_create(&api->thread, NULL, api_main, api) != 0) {
        err = OSAP_ESERVER;
        goto fail;
    }
    api->thread_started = true;
    OSAP_LOGI(API_LOG, "REST API on %s://%s:%u/api/v1 (console: %s)",
              hcfg.tls_cert_file ? "https" : "http", hcfg.host,
              (unsigned)osap_http_server_port(api->http),
              api->cfg->web_root[0] ? api->cfg->web_root : "none");
    if (api->das) {
        /* Device profiles: the handler reads only the context, which outlives the DAS. */
        osapd_das_set_profile_handler(api->das, api_profile_query, ctx);
        if (hcfg.tls_cert_file && !api->cfg->advertise[0])
            OSAP_LOGW(API_LOG, "devices download thing-model profiles over plain HTTP, but this "
                               "API speaks HTTPS: set [api] advertise to a plain-HTTP address "
                               "that serves /api/v1/profiles/");
    }
    *state = api;
    return OSAP_OK;
fail:
    if (loop_ready) abort_start(api);
    api_free(api);
    return err;
}

static void api_stop(void *state)
{
    struct api *api = state;

    if (!api) return;
    if (api->das) osapd_das_set_profile_handler(api->das, NULL, NULL);
    if (api->thread_started) {
        uv_async_send(&api->stop_async);
        pthread_join(api->thread, NULL);
    }
    /* Handles closed by the stop sequence still need their close callbacks. */
    uv_run(&api->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&api->loop) != 0) OSAP_LOGW(API_LOG, "the API loop closed with handles open");
    OSAP_LOGI(API_LOG, "stopped");
    api_free(api);
}

const struct osapd_service osapd_api_service = {
    "api",
    "platform: REST API, event stream, pictures, web console",
    api_start,
    api_stop,
};
