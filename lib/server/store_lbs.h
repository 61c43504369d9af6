/*
 * Store: what the LBS writes when a handshake succeeds, as one transaction, and
 * how it picks a DAS node. Built on the device, session and DAS-node operations
 * (store_devices.h, store_sessions.h, store_das_nodes.h), so every backend has it.
 * See store.h for the threading rule and the error conventions.
 */
#ifndef OSAP_SERVER_STORE_LBS_H
#define OSAP_SERVER_STORE_LBS_H

#include "osap/err.h"
#include "store.h"

#include <stdbool.h>
#include <stdint.h>

/** The outcome of one successful LBS handshake. */
struct osap_lbs_record {
    /** true: write devid, master key and share-key case to the device (paths A and
     *  B); false: keep the device's keys as they are (path C). */
    bool set_keys;
    const char *master_key;              /* 16 upper-hex characters (set_keys only) */
    enum osap_share_key_case share_case; /* the case that matched (set_keys only) */
    struct osap_session session;         /* serial, devid, session key, issued_at, das_node */
};

/** Write @p rec in one transaction: the device's devid, master key and share-key
 *  case (when rec->set_keys), then its session. Either all of it is stored or
 *  nothing. OSAP_ENOTFOUND when the device does not exist, OSAP_EEXISTS when
 *  another device holds the devid, OSAP_EINVAL for malformed values, OSAP_ESTATE
 *  when a transaction is already open on @p st, the store's errors otherwise. */
osap_err osap_store_lbs_commit(struct osap_store *st, const struct osap_lbs_record *rec);

/** The least-loaded DAS node whose last heartbeat is at or after @p since (ties:
 *  the most recent heartbeat, then the id). OSAP_ENOTFOUND when none is. */
osap_err osap_store_das_node_pick(struct osap_store *st, int64_t since, struct osap_das_node *out);

#endif /* OSAP_SERVER_STORE_LBS_H */
