/*
 * Store: the last reported value of each device attribute (table attributes),
 * from basic/shadow/report and model/attribute/report, written by ingest; the
 * platform's readable attribute state. See store.h for the threading rule and
 * the error conventions; limits are in store_events.h.
 */
#ifndef OSAP_SERVER_STORE_ATTRIBUTES_H
#define OSAP_SERVER_STORE_ATTRIBUTES_H

#include "osap/err.h"
#include "store_events.h"

#include <stdint.h>

struct osap_store;

/** One attribute value. As input every string is required; as output (list
 *  callbacks) the strings live during the callback. */
struct osap_attribute {
    const char *serial;
    const char *child;    /* "global" for the device itself */
    const char *resource; /* "<rid>-<rtype>" */
    const char *domain;
    const char *identifier;
    const char *value;   /* JSON text */
    int64_t version;     /* the device's per-key counter; -1 = none */
    int64_t reported_at; /* ms since the epoch */
    const char *invalid; /* why the value does not match the device's thing model (at
                            most OSAP_STORE_INVALID_MAX bytes); NULL or "" = it matches,
                            or it was not checked */
};

/** Which attributes a list visits: @c serial is required, NULL members do not
 *  filter. Ordered by child, resource, domain, identifier. */
struct osap_attribute_filter {
    const char *serial;
    const char *child;
    const char *resource;
    const char *domain;
    const char *identifier;
};

/** Insert or replace the value of (serial, child, resource, domain, identifier):
 *  the last report wins (device versions restart at every device start, so they
 *  are kept, not compared), with its invalid mark. OSAP_ENOTFOUND when the device
 *  does not exist. */
osap_err osap_store_attribute_put(struct osap_store *st, const struct osap_attribute *a);

/** Call @p fn for each attribute matching @p filter. A non-OK return from @p fn
 *  stops the walk and is returned; @p fn must not use @p st. */
osap_err osap_store_attribute_list(struct osap_store *st,
                                   const struct osap_attribute_filter *filter,
                                   osap_err (*fn)(const struct osap_attribute *a, void *userdata),
                                   void *userdata);

/** Backend operations behind the functions above (arguments already validated). */
struct osap_store_attribute_ops {
    osap_err (*put)(struct osap_store *st, const struct osap_attribute *a);
    osap_err (*list)(struct osap_store *st, const struct osap_attribute_filter *filter,
                     osap_err (*fn)(const struct osap_attribute *a, void *userdata),
                     void *userdata);
};

#endif /* OSAP_SERVER_STORE_ATTRIBUTES_H */
