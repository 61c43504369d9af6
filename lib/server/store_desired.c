/* Store: desired attribute values, validation and dispatch (see store_desired.h). */
#include "store_backend.h"

#include "util.h"

osap_err osap_store_desired_put(struct osap_store *st, const struct osap_desired *d)
{
    if (!osap__store_keys_valid(d->serial, d->child, d->resource, d->domain, d->identifier))
        return OSAP_EINVAL;
    if (!d->value) return OSAP_EINVAL;
    return st->be->desired->put(st, d, osap_time_now_ms());
}

osap_err osap_store_desired_remove(struct osap_store *st, const struct osap_attribute_filter *key)
{
    if (!osap__store_keys_valid(key->serial, key->child, key->resource, key->domain,
                                key->identifier))
        return OSAP_EINVAL;
    return st->be->desired->remove(st, key);
}

osap_err osap_store_desired_list(struct osap_store *st, const struct osap_attribute_filter *filter,
                                 osap_err (*fn)(const struct osap_desired *d, void *userdata),
                                 void *userdata)
{
    if (!filter || !osap_str_set(filter->serial) || !fn) return OSAP_EINVAL;
    return st->be->desired->list(st, filter, fn, userdata);
}
