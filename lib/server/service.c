/* The service framework: context, start/stop in order, the main thread's signal
 * loop (see service.h). */
#include "service.h"

#include "log.h"
#include "models.h"
#include "osap/alloc.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

struct running {
    const struct osapd_service *svc;
    void *state;
};

struct osapd_context {
    const struct osap_config *cfg;
    const struct osap_core_config *core;
    const struct osap_store_config *store_cfg;
    unsigned workers;
    atomic_bool stopping;
    atomic_int stop_reason;
    atomic_bool stop_requested;
    uv_loop_t loop;
    uv_async_t wakeup;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    uv_signal_t sighup;
    bool signals_armed;
    struct running *running; /* entries written before n_running counts them */
    atomic_size_t n_running;
    struct osap_models *models; /* loaded by osapd_context_start(), freed with the context */
};

/* ------------------------------------------------------------------------ */
/* Accessors                                                                */
/* ------------------------------------------------------------------------ */

const struct osap_config *osapd_config(const struct osapd_context *ctx)
{
    return ctx->cfg;
}

const struct osap_core_config *osapd_core_config(const struct osapd_context *ctx)
{
    return ctx->core;
}

const char *osapd_data_dir(const struct osapd_context *ctx)
{
    return ctx->core->data_dir;
}

unsigned osapd_worker_threads(const struct osapd_context *ctx)
{
    return ctx->workers;
}

osap_err osapd_store_open(const struct osapd_context *ctx, struct osap_store **out)
{
    return osap_store_open(ctx->store_cfg, ctx->core->data_dir, out);
}

bool osapd_stopping(const struct osapd_context *ctx)
{
    return atomic_load(&ctx->stopping);
}

void *osapd_service_state(const struct osapd_context *ctx, const struct osapd_service *svc)
{
    size_t n = atomic_load(&ctx->n_running);
    for (size_t i = 0; i < n; i++)
        if (ctx->running[i].svc == svc) return ctx->running[i].state;
    return NULL;
}

struct osap_models *osapd_models(const struct osapd_context *ctx)
{
    return ctx->models;
}

void *osapd_service_find(const struct osapd_context *ctx, const char *name)
{
    size_t n = atomic_load(&ctx->n_running);
    for (size_t i = 0; i < n; i++)
        if (strcmp(ctx->running[i].svc->name, name) == 0) return ctx->running[i].state;
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Signals and stop requests                                                */
/* ------------------------------------------------------------------------ */

static void exit_now(int sig)
{
    static const char msg[] = "osapd: second signal while stopping, exiting at once\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)w;
    (void)sig;
    _exit(1);
}

/* Leave the loop; from now on SIGTERM/SIGINT end the process at once. */
static void begin_stop(struct osapd_context *ctx)
{
    struct sigaction sa;

    if (atomic_exchange(&ctx->stopping, true)) return;
    if (ctx->signals_armed) {
        uv_signal_stop(&ctx->sigterm);
        uv_signal_stop(&ctx->sigint);
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = exit_now;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
    }
    uv_stop(&ctx->loop);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct osapd_context *ctx = h->data;

    if (signum == SIGHUP) {
        osap_err err = osap_log_reopen();
        if (err)
            OSAP_LOGE("osapd", "SIGHUP: cannot reopen the log file: %s", osap_strerror(err));
        else
            OSAP_LOGI("osapd", "SIGHUP: log reopened");
        if (ctx->models) osap_models_reload(ctx->models);
        return;
    }
    OSAP_LOGI("osapd", "%s received, stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    begin_stop(ctx);
}

static void on_wakeup(uv_async_t *h)
{
    struct osapd_context *ctx = h->data;
    if (atomic_load(&ctx->stop_requested)) begin_stop(ctx);
}

void osapd_request_stop(struct osapd_context *ctx, osap_err reason)
{
    bool expected = false;
    if (atomic_compare_exchange_strong(&ctx->stop_requested, &expected, true)) {
        atomic_store(&ctx->stop_reason, (int)reason);
        if (reason)
            OSAP_LOGE("osapd", "stop requested: %s", osap_strerror(reason));
        else
            OSAP_LOGI("osapd", "stop requested");
    }
    uv_async_send(&ctx->wakeup);
}

/* ------------------------------------------------------------------------ */
/* Life cycle                                                               */
/* ------------------------------------------------------------------------ */

osap_err osapd_context_new(const struct osap_config *cfg, struct osapd_context **out)
{
    struct osapd_context *ctx;
    const struct osap_core_config *core = osap_config_section(cfg, "osapd");
    const struct osap_store_config *store_cfg = osap_config_section(cfg, "store");

    if (!core || !store_cfg) return OSAP_EINVAL;
    ctx = osap_calloc(1, sizeof(*ctx));
    if (!ctx) return OSAP_ENOMEM;
    ctx->cfg = cfg;
    ctx->core = core;
    ctx->store_cfg = store_cfg;
    ctx->workers =
        core->worker_threads > 0 ? (unsigned)core->worker_threads : uv_available_parallelism();
    if (ctx->workers == 0) ctx->workers = 1;
    if (uv_loop_init(&ctx->loop) != 0) {
        osap_free(ctx);
        return OSAP_ENOMEM;
    }
    uv_async_init(&ctx->loop, &ctx->wakeup, on_wakeup);
    ctx->wakeup.data = ctx;
    uv_signal_init(&ctx->loop, &ctx->sigterm);
    uv_signal_init(&ctx->loop, &ctx->sigint);
    uv_signal_init(&ctx->loop, &ctx->sighup);
    ctx->sigterm.data = ctx->sigint.data = ctx->sighup.data = ctx;
    uv_signal_start(&ctx->sigterm, on_signal, SIGTERM);
    uv_signal_start(&ctx->sigint, on_signal, SIGINT);
    uv_signal_start(&ctx->sighup, on_signal, SIGHUP);
    ctx->signals_armed = true;
    *out = ctx;
    return OSAP_OK;
}

void osapd_context_free(struct osapd_context *ctx)
{
    if (!ctx) return;
    uv_close((uv_handle_t *)&ctx->wakeup, NULL);
    uv_close((uv_handle_t *)&ctx->sigterm, NULL);
    uv_close((uv_handle_t *)&ctx->sigint, NULL);
    uv_close((uv_handle_t *)&ctx->sighup, NULL);
    uv_run(&ctx->loop, UV_RUN_DEFAULT);
    uv_loop_close(&ctx->loop);
    osap_models_free(ctx->models);
    osap_free(ctx->running);
    osap_free(ctx);
}

static const struct osapd_service *find_builtin(const struct osapd_service *const *builtin,
                                                size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(builtin[i]->name, name) == 0) return builtin[i];
    return NULL;
}

osap_err osapd_context_start(struct osapd_context *ctx, const struct osapd_service *const *builtin,
                             size_t n)
{
    const struct osap_strlist *wanted = &ctx->core->services;
    osap_err err = OSAP_OK;

    for (size_t i = 0; i < wanted->n; i++) {
        if (!find_builtin(builtin, n, wanted->v[i])) {
            char avail[256] = "";
            size_t o = 0;
            for (size_t k = 0; k < n && o < sizeof(avail); k++)
                o += (size_t)snprintf(avail + o, sizeof(avail) - o, "%s%s", k ? ", " : "",
                                      builtin[k]->name);
            OSAP_LOGE("osapd",
                      "service '%s' is not available in this build of osapd (built in: %s)",
                      wanted->v[i], n ? avail : "none");
            return OSAP_ESERVICE_UNKNOWN;
        }
    }
    if (!ctx->models && wanted->n && osap_config_section(ctx->cfg, "models")) {
        char msg[512];
        err = osap_models_new(osap_config_section(ctx->cfg, "models"), &ctx->models, msg,
                              sizeof(msg));
        if (err) {
            OSAP_LOGE("osapd", "thing models: %s", msg);
            return err;
        }
    }
    ctx->running = osap_calloc(n ? n : 1, sizeof(*ctx->running));
    if (!ctx->running) return OSAP_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        void *state = NULL;
        if (!osap_strlist_contains(wanted, builtin[i]->name)) continue;
        OSAP_LOGI("osapd", "starting service %s", builtin[i]->name);
        err = builtin[i]->start(ctx, &state);
        if (err) {
            OSAP_LOGE("osapd", "service %s failed to start: %s", builtin[i]->name,
                      osap_strerror(err));
            osapd_context_stop(ctx);
            return err;
        }
        ctx->running[atomic_load(&ctx->n_running)].svc = builtin[i];
        ctx->running[atomic_load(&ctx->n_running)].state = state;
        atomic_fetch_add(&ctx->n_running, 1);
    }
    return OSAP_OK;
}

osap_err osapd_context_run(struct osapd_context *ctx)
{
    if (!atomic_load(&ctx->stopping)) uv_run(&ctx->loop, UV_RUN_DEFAULT);
    return (osap_err)atomic_load(&ctx->stop_reason);
}

void osapd_context_stop(struct osapd_context *ctx)
{
    atomic_store(&ctx->stopping, true);
    while (atomic_load(&ctx->n_running) > 0) {
        struct running *r = &ctx->running[atomic_fetch_sub(&ctx->n_running, 1) - 1];
        OSAP_LOGI("osapd", "stopping service %s", r->svc->name);
        r->svc->stop(r->state);
        r->svc = NULL;
        r->state = NULL;
    }
}
