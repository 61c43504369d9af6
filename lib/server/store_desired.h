/*
 * Store: desired attribute values (table desired), set by the platform and
 * handed to a device when it asks for them (basic/shadow/query -> query_reply).
 * See store.h for the threading rule and the error conventions; limits are in
 * store_events.h.
 */
#ifndef OSAP_SERVER_STORE_DESIRED_H
#define OSAP_SERVER_STORE_DESIRED_H

#include "osap/err.h"
#include "store_attributes.h"

#include <stdint.h>

struct osap_store;

/** One desired value. As input every string is required (version and updated_at
 *  are ignored); as output the strings live during the callback. */
struct osap_desired {
    const char *serial;
    const char *child;
    const char *resource;
    const char *domain;
    const char *identifier;
    const char *value;  /* JSON text */
    int64_t version;    /* 1 for a new key, +1 at every change */
    int64_t updated_at; /* ms since the epoch */
};

/** Set the desired value of (serial, child, resource, domain, identifier); the
 *  version starts at 1 and grows by one with every put. OSAP_ENOTFOUND when the
 *  device does not exist. */
osap_err osap_store_desired_put(struct osap_store *st, const struct osap_desired *d);

/** Forget one desired value (@p key: every member of the filter is required).
 *  OSAP_ENOTFOUND when there is none. */
osap_err osap_store_desired_remove(struct osap_store *st, const struct osap_attribute_filter *key);

/** Call @p fn for each desired value matching @p filter (serial required; NULL
 *  members do not filter), ordered by child, resource, domain, identifier. A
 *  non-OK return from @p fn stops the walk and is returned; @p fn must not use
 *  @p st. */
osap_err osap_store_desired_list(struct osap_store *st, const struct osap_attribute_filter *filter,
                                 osap_err (*fn)(const struct osap_desired *d, void *userdata),
                                 void *userdata);

/** Backend operations behind the functions above (arguments already validated). */
struct osap_store_desired_ops {
    osap_err (*put)(struct osap_store *st, const struct osap_desired *d, int64_t now);
    osap_err (*remove)(struct osap_store *st, const struct osap_attribute_filter *key);
    osap_err (*list)(struct osap_store *st, const struct osap_attribute_filter *filter,
                     osap_err (*fn)(const struct osap_desired *d, void *userdata), void *userdata);
};

#endif /* OSAP_SERVER_STORE_DESIRED_H */
