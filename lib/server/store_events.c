/* Store: device events, validation and dispatch (see store_events.h). */
#include "store_backend.h"

#include "util.h"

#include <string.h>

static bool part_valid(const char *s, size_t max)
{
    return osap_str_set(s) && osap_label_valid(s, max);
}

/* The columns every device-keyed record shares (events, attributes, desired). */
static bool keys_valid(const char *serial, const char *child, const char *resource,
                       const char *domain, const char *identifier)
{
    return osap_serial_valid(serial) && part_valid(child, OSAP_STORE_CHILD_MAX) &&
           part_valid(resource, OSAP_STORE_RESOURCE_MAX) &&
           part_valid(domain, OSAP_STORE_KEY_MAX) && part_valid(identifier, OSAP_STORE_KEY_MAX);
}

osap_err osap_store_event_add(struct osap_store *st, const struct osap_event *ev,
                              int64_t dedup_since, int64_t *id, bool *duplicate)
{
    int64_t new_id = 0;
    bool dup = false;
    osap_err err;

    if (!keys_valid(ev->serial, ev->child, ev->resource, ev->domain, ev->identifier))
        return OSAP_EINVAL;
    if (!ev->payload || ev->seq < -1 || ev->seq > (int64_t)UINT32_MAX) return OSAP_EINVAL;
    if (osap_str_set(ev->uuid) && !part_valid(ev->uuid, OSAP_EVENT_UUID_MAX)) return OSAP_EINVAL;
    if (osap_str_set(ev->invalid) && strlen(ev->invalid) > OSAP_STORE_INVALID_MAX)
        return OSAP_EINVAL;
    err = st->be->events->add(st, ev, dedup_since, &new_id, &dup);
    if (err) return err;
    if (id) *id = new_id;
    if (duplicate) *duplicate = dup;
    return OSAP_OK;
}

osap_err osap_store_event_list(struct osap_store *st, const struct osap_event_filter *filter,
                               osap_err (*fn)(const struct osap_event *ev, void *userdata),
                               void *userdata)
{
    static const struct osap_event_filter all;
    if (!fn) return OSAP_EINVAL;
    return st->be->events->list(st, filter ? filter : &all, fn, userdata);
}

osap_err osap_store_event_prune(struct osap_store *st, int64_t before, uint64_t *count)
{
    uint64_t n = 0;
    osap_err err = st->be->events->prune(st, before, &n);
    if (err == OSAP_OK && count) *count = n;
    return err;
}

bool osap__store_keys_valid(const char *serial, const char *child, const char *resource,
                            const char *domain, const char *identifier)
{
    return keys_valid(serial, child, resource, domain, identifier);
}
