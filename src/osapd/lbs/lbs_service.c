/*
 * The LBS service: start (settings, listener, loop thread), graceful stop, and the
 * descriptor osapd lists in services.c.
 */
#include "lbs/lbs_internal.h"

#include "log.h"
#include "osap/alloc.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <string.h>

/* Backlog of the listening socket (the kernel caps it at net.core.somaxconn). */
#define LISTEN_BACKLOG 4096

/* ------------------------------------------------------------------------ */
/* Loop thread                                                              */
/* ------------------------------------------------------------------------ */

static void thread_main(void *arg)
{
    struct osapd_lbs *lbs = arg;
    uv_run(&lbs->loop, UV_RUN_DEFAULT);
}

static void close_if_open(uv_handle_t *h)
{
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

void lbs_service_maybe_done(struct osapd_lbs *lbs)
{
    if (!lbs->stopping || lbs->finished || lbs->conns.n) return;
    lbs->finished = true;
    close_if_open((uv_handle_t *)&lbs->wakeup);
    close_if_open((uv_handle_t *)&lbs->stop_timer);
    close_if_open((uv_handle_t *)&lbs->stats_timer);
}

static void close_all(struct osapd_lbs *lbs, bool idle_only)
{
    struct lbs_conn *c = lbs->conns.head, *next;

    for (; c; c = next) {
        next = c->next;
        if (idle_only && c->seen_frame) continue;
        lbs_conn_close(c);
    }
}

static void on_stop_deadline(uv_timer_t *t)
{
    struct osapd_lbs *lbs = t->data;

    if (lbs->conns.n)
        OSAP_LOGW(LBS_LOG, "stop: closing %zu connections still under way", lbs->conns.n);
    close_all(lbs, false);
}

/* Stop accepting; connections that have not sent anything go now, handshakes
 * under way get stop_timeout. */
static void begin_stop(struct osapd_lbs *lbs)
{
    if (lbs->stopping) return;
    lbs->stopping = true;
    close_if_open((uv_handle_t *)&lbs->listener);
    uv_timer_stop(&lbs->stats_timer);
    close_all(lbs, true);
    if (lbs->conns.n && lbs->cfg->stop_timeout_ms > 0) {
        lbs->stop_timer.data = lbs;
        uv_timer_start(&lbs->stop_timer, on_stop_deadline, (uint64_t)lbs->cfg->stop_timeout_ms, 0);
    } else {
        close_all(lbs, false);
    }
    lbs_service_maybe_done(lbs);
}

static void on_wakeup(uv_async_t *a)
{
    struct osapd_lbs *lbs = a->data;
    if (atomic_load(&lbs->stop_requested)) begin_stop(lbs);
}

/* ------------------------------------------------------------------------ */
/* Start and stop                                                           */
/* ------------------------------------------------------------------------ */

static osap_err resolve(const char *host, int port, struct sockaddr_storage *ss)
{
    struct addrinfo hints, *res = NULL;
    char service[8];

    memset(ss, 0, sizeof(*ss));
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0) return OSAP_OK;
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0) return OSAP_OK;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    snprintf(service, sizeof(service), "%d", port);
    if (getaddrinfo(host, service, &hints, &res) != 0 || !res) return OSAP_ENOTFOUND;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return OSAP_OK;
}

static osap_err listen_on(struct osapd_lbs *lbs)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss), rc;

    if (resolve(lbs->cfg->listen, (int)lbs->cfg->port, &ss) != OSAP_OK) {
        OSAP_LOGE(LBS_LOG, "cannot resolve the listen address %s", lbs->cfg->listen);
        return OSAP_ECONFIG;
    }
    rc = uv_tcp_bind(&lbs->listener, (const struct sockaddr *)&ss, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&lbs->listener, LISTEN_BACKLOG, lbs_on_connection);
    if (rc != 0) {
        OSAP_LOGE(LBS_LOG, "cannot listen on %s port %lld: %s", lbs->cfg->listen,
                  (long long)lbs->cfg->port, uv_strerror(rc));
        return OSAP_EIO;
    }
    if (uv_tcp_getsockname(&lbs->listener, (struct sockaddr *)&ss, &len) == 0)
        lbs->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                             : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return OSAP_OK;
}

/* Free what start() built; the loop, when set up, must have no active handles. */
static void lbs_free(struct osapd_lbs *lbs, bool loop_ready)
{
    if (loop_ready) {
        uv_run(&lbs->loop, UV_RUN_DEFAULT); /* run the close callbacks */
        uv_loop_close(&lbs->loop);
    }
    lbs_work_close_slots(lbs);
    pthread_key_delete(lbs->slot_key);
    pthread_mutex_destroy(&lbs->slots_mu);
    pthread_mutex_destroy(&lbs->commit_mu);
    lbs_budget_free(lbs->by_addr);
    lbs_budget_free(lbs->by_serial);
    lbs_table_free(lbs->per_addr);
    lbs_keys_free(lbs->keys);
    osap_free(lbs);
}

osap_err osapd_lbs_start(struct osapd_context *ctx, const struct osapd_lbs_hooks *hooks,
                         struct osapd_lbs **out)
{
    const struct lbs_config *cfg = osap_config_section(osapd_config(ctx), "lbs");
    struct lbs_budget_config bc;
    struct osapd_lbs *lbs;
    osap_err err;

    if (!cfg || !out) return OSAP_EINVAL;
    if (hooks && (!hooks->key_acquire) != (!hooks->key_release)) return OSAP_EINVAL;
    lbs = osap_calloc(1, sizeof(*lbs));
    if (!lbs) return OSAP_ENOMEM;
    lbs->ctx = ctx;
    lbs->cfg = cfg;
    if (hooks) lbs->hooks = *hooks;
    if (pthread_key_create(&lbs->slot_key, NULL) != 0) {
        osap_free(lbs);
        return OSAP_ENOMEM;
    }
    pthread_mutex_init(&lbs->slots_mu, NULL);
    pthread_mutex_init(&lbs->commit_mu, NULL);

    err = OSAP_OK;
    if (!lbs->hooks.key_acquire)
        err = lbs_keys_new(cfg->ecdh_key_uses, cfg->ecdh_key_lifetime_ms,
                           (int64_t)osapd_worker_threads(ctx) - 1, lbs->hooks.rng, &lbs->keys);
    bc.refusal_ms = cfg->refusal_ms;
    bc.refusal_max_ms = cfg->refusal_max_ms;
    bc.entries = (size_t)cfg->budget_entries;
    bc.failures = cfg->address_failures;
    bc.window_ms = cfg->address_window_ms;
    if (!err) err = lbs_budget_new(&bc, &lbs->by_addr);
    bc.failures = cfg->serial_failures;
    bc.window_ms = cfg->serial_window_ms;
    if (!err) err = lbs_budget_new(&bc, &lbs->by_serial);
    if (!err) err = lbs_table_new(sizeof(size_t), 0, &lbs->per_addr);
    if (err) {
        lbs_free(lbs, false);
        return err;
    }

    if (uv_loop_init(&lbs->loop) != 0) {
        lbs_free(lbs, false);
        return OSAP_ENOMEM;
    }
    uv_tcp_init(&lbs->loop, &lbs->listener);
    lbs->listener.data = lbs;
    uv_async_init(&lbs->loop, &lbs->wakeup, on_wakeup);
    lbs->wakeup.data = lbs;
    uv_timer_init(&lbs->loop, &lbs->stats_timer);
    uv_timer_init(&lbs->loop, &lbs->stop_timer);
    lbs->stats_timer.data = lbs->stop_timer.data = lbs;

    err = listen_on(lbs);
    if (!err) {
        lbs_stats_start(lbs);
        if (uv_thread_create(&lbs->thread, thread_main, lbs) != 0) err = OSAP_ENOMEM;
    }
    if (err) {
        close_if_open((uv_handle_t *)&lbs->listener);
        close_if_open((uv_handle_t *)&lbs->wakeup);
        close_if_open((uv_handle_t *)&lbs->stats_timer);
        close_if_open((uv_handle_t *)&lbs->stop_timer);
        lbs_free(lbs, true);
        return err;
    }
    OSAP_LOG_KV(OSAP_LOG_INFO, LBS_LOG,
                OSAP_LOG_FIELDS(OSAP_LOG_STR("listen", cfg->listen),
                                OSAP_LOG_INT("port", lbs->port),
                                OSAP_LOG_INT("max_connections", cfg->max_connections),
                                OSAP_LOG_INT("ecdh_key_uses", cfg->ecdh_key_uses)),
                "listening");
    *out = lbs;
    return OSAP_OK;
}

void osapd_lbs_stop(struct osapd_lbs *lbs)
{
    if (!lbs) return;
    atomic_store(&lbs->stop_requested, true);
    uv_async_send(&lbs->wakeup);
    uv_thread_join(&lbs->thread);
    lbs_stats_log(lbs, OSAP_LOG_INFO);
    lbs_free(lbs, true);
    OSAP_LOGI(LBS_LOG, "stopped");
}

int osapd_lbs_port(const struct osapd_lbs *lbs)
{
    return lbs->port;
}

/* ------------------------------------------------------------------------ */
/* Service descriptor                                                       */
/* ------------------------------------------------------------------------ */

static osap_err service_start(struct osapd_context *ctx, void **state)
{
    struct osapd_lbs *lbs = NULL;
    osap_err err = osapd_lbs_start(ctx, NULL, &lbs);

    if (!err) *state = lbs;
    return err;
}

static void service_stop(void *state)
{
    osapd_lbs_stop(state);
}

const struct osapd_service osapd_lbs_service = {
    "lbs",
    "Load Balancing Service: device authentication, devids, session keys, DAS assignment",
    service_start,
    service_stop,
};
