/*
 * Store: LBS sessions (table sessions): the session key the LBS issued to a
 * device, which the DAS needs to decrypt the device's registration. One row per
 * device. See store.h for the threading rule and the error conventions.
 */
#ifndef OSAP_SERVER_STORE_SESSIONS_H
#define OSAP_SERVER_STORE_SESSIONS_H

#include "osap/err.h"
#include "osap/proto.h"
#include "store_devices.h"

#include <stdint.h>

struct osap_store;

/** A device's current session. */
struct osap_session {
    char serial[OSAP_SUBSERIAL_MAX + 1];
    char devid[OSAP_DEVID_LEN + 1];
    uint8_t session_key[OSAP_SESSION_KEY_LEN];
    int64_t issued_at;
    char das_node[OSAP_NODE_ID_MAX + 1]; /* the node the device was sent to ("" = any) */
};

/** Store (insert or replace) the session of @p s->serial; issued_at is taken from
 *  @p s. OSAP_ENOTFOUND when the device does not exist. */
osap_err osap_store_session_put(struct osap_store *st, const struct osap_session *s);

/** Read the session of @p serial. */
osap_err osap_store_session_get(struct osap_store *st, const char *serial,
                                struct osap_session *out);

/** Forget the session of @p serial. */
osap_err osap_store_session_remove(struct osap_store *st, const char *serial);

/** Backend operations behind the functions above. */
struct osap_store_session_ops {
    osap_err (*put)(struct osap_store *st, const struct osap_session *s);
    osap_err (*get)(struct osap_store *st, const char *serial, struct osap_session *out);
    osap_err (*remove)(struct osap_store *st, const char *serial);
};

#endif /* OSAP_SERVER_STORE_SESSIONS_H */
