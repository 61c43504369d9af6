/* This node's row in the das_nodes table: written when the DAS starts and then on the
 * heartbeat timer of worker 0 with the current connection count (the LBS hands each
 * device the least-loaded live node), removed when the DAS stops. */
#include "das/das_internal.h"

#include "log.h"
#include "store.h"
#include "util.h"

#include <string.h>

void das_node_heartbeat(struct das_worker *w)
{
    struct das *das = w->das;
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
    err = osap_store_das_node_heartbeat(w->store, &n);
    if (err)
        OSAP_LOGW(DAS_LOG, "das_nodes heartbeat of %s failed: %s", n.id,
                  osap_store_errmsg(w->store)[0] ? osap_store_errmsg(w->store)
                                                 : osap_strerror(err));
}

void das_node_remove(struct das_worker *w)
{
    osap_err err = osap_store_das_node_remove(w->store, w->das->node_id);
    if (err && err != OSAP_ENOTFOUND)
        OSAP_LOGW(DAS_LOG, "cannot remove node %s from das_nodes: %s", w->das->node_id,
                  osap_strerror(err));
}
