/* Store: DAS nodes, validation and dispatch (see store_das_nodes.h). */
#include "store_backend.h"

#include "config.h"

#include <string.h>

osap_err osap_store_das_node_heartbeat(struct osap_store *st, const struct osap_das_node *n)
{
    if (!n->id[0] || !osap_cfg_address_valid(n->address)) return OSAP_EINVAL;
    if (n->port < 1 || n->port > 65535 || n->udp_port < 0 || n->udp_port > 65535)
        return OSAP_EINVAL;
    if (n->connections < 0) return OSAP_EINVAL;
    return st->be->das_nodes->heartbeat(st, n);
}

osap_err osap_store_das_node_list(struct osap_store *st, int64_t since, struct osap_das_node *out,
                                  size_t cap, size_t *n)
{
    return st->be->das_nodes->list(st, since, out, cap, n);
}

osap_err osap_store_das_node_remove(struct osap_store *st, const char *id)
{
    if (!id) return OSAP_EINVAL;
    return st->be->das_nodes->remove(st, id);
}
