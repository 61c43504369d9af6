/* The OSAP device layer of the DAS: life cycle, the hooks it installs, and the
 * per-worker state (see device_internal.h and das_hooks.h). */
#include "das/device_internal.h"

#include "das/das_config.h"
#include "log.h"
#include "osap/alloc.h"
#include "service.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

struct device_layer *device_layer_of(struct das *das)
{
    return das_device_userdata(das);
}

struct device_worker *device_worker_of(struct device_layer *l, struct das_worker *w)
{
    uint32_t i = das_worker_index(w);
    return i < DEVICE_WORKERS_MAX ? l->workers[i] : NULL;
}

uint8_t *device_scratch(struct device_worker *dw, size_t n)
{
    if (n > dw->scratch_cap) {
        size_t cap = dw->scratch_cap ? dw->scratch_cap : 4096;
        uint8_t *p;
        while (cap < n)
            cap *= 2;
        p = osap_realloc(dw->scratch, cap);
        if (!p) return NULL;
        dw->scratch = p;
        dw->scratch_cap = cap;
    }
    return dw->scratch;
}

/* ------------------------------------------------------------------------ */
/* Workers                                                                  */
/* ------------------------------------------------------------------------ */

static void worker_start(void *ud, struct das_worker *w)
{
    struct device_layer *l = ud;
    uint32_t i = das_worker_index(w);
    struct device_worker *dw;

    if (i >= DEVICE_WORKERS_MAX || l->workers[i]) return;
    dw = osap_calloc(1, sizeof(*dw));
    if (!dw) {
        OSAP_LOGE(DEVICE_LOG, "worker %u: out of memory: its devices will be refused", i);
        return;
    }
    dw->layer = l;
    dw->w = w;
    dw->index = i;
    if (device_registry_init(dw) != OSAP_OK) {
        OSAP_LOGE(DEVICE_LOG, "worker %u: out of memory: its devices will be refused", i);
        osap_free(dw);
        return;
    }
    device_requests_worker_start(dw);
    l->workers[i] = dw;
}

static void worker_stop(void *ud, struct das_worker *w)
{
    struct device_layer *l = ud;
    struct device_worker *dw = device_worker_of(l, w);
    if (dw) device_requests_worker_stop(dw);
}

static void worker_free(struct device_worker *dw)
{
    device_catalog_release(dw);
    device_registry_release(dw);
    osap_free(dw->scratch);
    osap_free(dw);
}

static void on_close(void *ud, struct das_conn *c, int abnormal)
{
    struct device *dev = das_conn_device(c);
    (void)ud;
    if (dev) device_registry_closed(dev, abnormal);
}

/* ------------------------------------------------------------------------ */
/* Life cycle (das_hooks.h)                                                 */
/* ------------------------------------------------------------------------ */

static void node_id_of(const struct osap_config *cfg, char *out, size_t cap)
{
    const struct das_config *das = osap_config_section(cfg, "das");
    /* The same rule as the broker's das_nodes row: node_id, else advertise:port. */
    if (das && das->node_id && das->node_id[0])
        snprintf(out, cap, "%s", das->node_id);
    else if (das)
        snprintf(out, cap, "%s:%d", das->advertise, (int)das->port);
    else
        out[0] = '\0';
}

osap_err das_device_layer_start(struct das *das, struct osapd_context *ctx)
{
    const struct osap_config *cfg = osapd_config(ctx);
    const struct ingest_config *icfg = osap_config_section(cfg, "ingest");
    const struct osap_store_config *scfg = osap_config_section(cfg, "store");
    struct das_device_hooks hooks;
    struct device_layer *l;
    osap_err err;

    l = osap_calloc(1, sizeof(*l));
    if (!l) return OSAP_ENOMEM;
    l->das = das;
    l->ctx = ctx;
    l->cfg = osap_config_section(cfg, "das_device");
    if (!l->cfg || !icfg || !scfg) {
        OSAP_LOGE(DEVICE_LOG, "the [das_device] or [ingest] settings are not registered");
        osap_free(l);
        return OSAP_ECONFIG;
    }
    l->dedup_window = icfg->dedup_window;
    l->models = osapd_models(ctx);
    node_id_of(cfg, l->node_id, sizeof(l->node_id));
    err = ingest_new(icfg, scfg, osapd_data_dir(ctx), &l->ing);
    if (err) {
        OSAP_LOGE(DEVICE_LOG, "cannot start ingest: %s", osap_strerror(err));
        osap_free(l);
        return err;
    }
    memset(&hooks, 0, sizeof(hooks));
    hooks.on_connect = device_on_connect;
    hooks.on_publish = device_on_publish;
    hooks.on_subscribe = device_on_subscribe;
    hooks.on_close = on_close;
    hooks.worker_start = worker_start;
    hooks.worker_stop = worker_stop;
    hooks.userdata = l;
    das_set_device_hooks(das, &hooks);
    return OSAP_OK;
}

void das_device_layer_stop(struct das *das)
{
    struct device_layer *l = device_layer_of(das);
    struct das_device_hooks hooks;

    if (!l) return;
    memset(&hooks, 0, sizeof(hooks));
    das_set_device_hooks(das, &hooks); /* nothing refers to the layer any more */
    /* The workers are joined: no hook runs any more. Ingest commits what is queued;
     * completions that would acknowledge a device find the DAS stopped. */
    ingest_free(l->ing);
    l->ing = NULL;
    for (size_t i = 0; i < DEVICE_WORKERS_MAX; i++)
        if (l->workers[i]) worker_free(l->workers[i]);
    osap_free(l);
}
