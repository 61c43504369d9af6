/*
 * Store: DAS nodes (table das_nodes). Every DAS node heartbeats its address and
 * load; the LBS sends each device to the least-loaded healthy node. See store.h
 * for the threading rule and the error conventions.
 */
#ifndef OSAP_SERVER_STORE_DAS_NODES_H
#define OSAP_SERVER_STORE_DAS_NODES_H

#include "osap/err.h"
#include "store_devices.h"

#include <stddef.h>
#include <stdint.h>

struct osap_store;

/** One DAS node, as handed to devices in the LBS 0xB DasInfo (spec 4.7). */
struct osap_das_node {
    char id[OSAP_NODE_ID_MAX + 1];          /* ServerID */
    char address[OSAP_NET_ADDRESS_MAX + 1]; /* Address: what devices connect to */
    int port;                               /* Port (MQTT) */
    int udp_port;                           /* UdpPort (0 = none) */
    char domain[OSAP_NET_ADDRESS_MAX + 1];  /* Domain */
    int64_t connections;                    /* current device connections */
    int64_t last_heartbeat;
};

/** Insert or update node @p n->id with all its fields (last_heartbeat included). */
osap_err osap_store_das_node_heartbeat(struct osap_store *st, const struct osap_das_node *n);

/** Up to @p cap nodes whose last heartbeat is at or after @p since, least loaded
 *  first (then most recent heartbeat, then id); @p n receives how many. */
osap_err osap_store_das_node_list(struct osap_store *st, int64_t since, struct osap_das_node *out,
                                  size_t cap, size_t *n);

/** Remove node @p id. */
osap_err osap_store_das_node_remove(struct osap_store *st, const char *id);

/** Backend operations behind the functions above. */
struct osap_store_das_node_ops {
    osap_err (*heartbeat)(struct osap_store *st, const struct osap_das_node *n);
    osap_err (*list)(struct osap_store *st, int64_t since, struct osap_das_node *out, size_t cap,
                     size_t *n);
    osap_err (*remove)(struct osap_store *st, const char *id);
};

#endif /* OSAP_SERVER_STORE_DAS_NODES_H */
