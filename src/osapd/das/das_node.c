/* This node's row in the das_nodes table: written when the DAS starts, then on the
 * heartbeat timer of worker 0 with the current connection count (the LBS hands each
 * device the least-loaded live node), removed when the DAS stops.
 *
 * The periodic write runs on the libuv thread pool with a store handle of its own,
 * opened and closed around the write: a database busy with other writers delays
 * the heartbeat, never the connections of worker 0. */
#include "das/das_internal.h"

#include "log.h"
#include "osap/alloc.h"
#include "store.h"
#include "util.h"

#include <string.h>

static osap_err node_write(struct das *das, struct osap_store *st)
{
    const struct das_config *cfg = das->cfg;
    struct osap_das_node n;
    osap_err err;

    memset(&n, 0, sizeof(n));
    osap_str_copy(n.id, sizeof(n.id), das->node_id);
    osap_str_copy(n.address, sizeof(n.address), cfg->advertise);
    n.port = das->port;
    n.udp_port = (int)cfg->udp_port;
    osap_str_copy(n.domain, sizeof(n.domain), cfg->domain[0] ? cfg->domain : cfg->advertise);
    n.connections = (int64_t)atomic_load_explicit(&das->nconns_total, memory_order_relaxed);
    n.last_heartbeat = osap_time_now_ms();
    err = osap_store_das_node_heartbeat(st, &n);
    if (err)
        OSAP_LOGW(DAS_LOG, "das_nodes heartbeat of %s failed: %s", n.id,
                  osap_store_errmsg(st)[0] ? osap_store_errmsg(st) : osap_strerror(err));
    return err;
}

osap_err das_node_register(struct das *das)
{
    struct osap_store *st = NULL;
    osap_err err = osapd_store_open(das->ctx, &st);

    if (err) return err;
    err = node_write(das, st);
    osap_store_close(st);
    return err;
}

struct heartbeat {
    uv_work_t req;
    struct das_worker *w;
};

static void heartbeat_run(uv_work_t *req)
{
    struct heartbeat *hb = das_container_of(req, struct heartbeat, req);
    struct osap_store *st = NULL;
    osap_err err = osapd_store_open(hb->w->das->ctx, &st);

    if (err) {
        OSAP_LOGW(DAS_LOG, "das_nodes heartbeat: cannot open the store: %s", osap_strerror(err));
        return;
    }
    node_write(hb->w->das, st);
    osap_store_close(st);
}

static void heartbeat_done(uv_work_t *req, int status)
{
    struct heartbeat *hb = das_container_of(req, struct heartbeat, req);
    (void)status;
    hb->w->heartbeat_running = false;
    osap_free(hb);
}

void das_node_heartbeat(struct das_worker *w)
{
    struct heartbeat *hb;

    if (w->heartbeat_running || w->stopping) return; /* the last one is still writing */
    hb = osap_malloc(sizeof(*hb));
    if (!hb) return;
    hb->w = w;
    if (uv_queue_work(&w->loop, &hb->req, heartbeat_run, heartbeat_done) != 0) {
        osap_free(hb);
        return;
    }
    w->heartbeat_running = true;
}

void das_node_remove(struct das *das)
{
    struct osap_store *st = NULL;
    osap_err err = osapd_store_open(das->ctx, &st);

    if (err == OSAP_OK) err = osap_store_das_node_remove(st, das->node_id);
    if (err && err != OSAP_ENOTFOUND)
        OSAP_LOGW(DAS_LOG, "cannot remove node %s from das_nodes: %s", das->node_id,
                  osap_strerror(err));
    osap_store_close(st);
}
