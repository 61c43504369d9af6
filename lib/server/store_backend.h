/*
 * Internal to the store: what a backend provides, and the common part of every
 * handle. A backend (store_sqlite*.c; later store_pg*.c) fills one struct
 * osap_store_backend with its functions and one ops table per concern; the
 * dispatch functions (store_devices.c, ...) validate arguments and call through
 * it. A new concern (events, attributes, ...) adds its ops pointer at the end of
 * struct osap_store_backend and its table to each backend.
 */
#ifndef OSAP_SERVER_STORE_BACKEND_H
#define OSAP_SERVER_STORE_BACKEND_H

#include "store.h"

#include <stdbool.h>

struct osap_store_backend {
    const char *name;
    int (*schema_latest)(void);
    osap_err (*open)(const struct osap_store_config *cfg, const char *data_dir,
                     struct osap_store **out);
    void (*close)(struct osap_store *st);
    osap_err (*begin)(struct osap_store *st);
    osap_err (*commit)(struct osap_store *st);
    void (*rollback)(struct osap_store *st);
    const struct osap_store_device_ops *devices;
    const struct osap_store_session_ops *sessions;
    const struct osap_store_das_node_ops *das_nodes;
    const struct osap_store_user_ops *users;
    const struct osap_store_token_ops *tokens;
    const struct osap_store_event_ops *events;
    const struct osap_store_attribute_ops *attributes;
    const struct osap_store_desired_ops *desired;
    const struct osap_store_picture_ops *pictures;
    const struct osap_store_request_ops *requests;
};

/** The part every backend's handle starts with. */
struct osap_store {
    const struct osap_store_backend *be;
    int schema_version;
    bool in_tx;
    char errmsg[256];
};

/** The backends built in. */
extern const struct osap_store_backend osap__store_sqlite;

/** True when the device-keyed columns of an event, attribute or desired value
 *  are within their limits (store_events.c). */
bool osap__store_keys_valid(const char *serial, const char *child, const char *resource,
                            const char *domain, const char *identifier);

/** Record a failure description on @p st (see osap_store_errmsg()). */
void osap__store_set_error(struct osap_store *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* OSAP_SERVER_STORE_BACKEND_H */
