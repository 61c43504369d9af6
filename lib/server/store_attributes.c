/* Store: reported attribute values, validation and dispatch (see store_attributes.h). */
#include "store_backend.h"

#include "util.h"

#include <string.h>

osap_err osap_store_attribute_put(struct osap_store *st, const struct osap_attribute *a)
{
    if (!osap__store_keys_valid(a->serial, a->child, a->resource, a->domain, a->identifier))
        return OSAP_EINVAL;
    if (!a->value) return OSAP_EINVAL;
    if (osap_str_set(a->invalid) && strlen(a->invalid) > OSAP_STORE_INVALID_MAX) return OSAP_EINVAL;
    return st->be->attributes->put(st, a);
}

osap_err osap_store_attribute_list(struct osap_store *st,
                                   const struct osap_attribute_filter *filter,
                                   osap_err (*fn)(const struct osap_attribute *a, void *userdata),
                                   void *userdata)
{
    if (!filter || !osap_str_set(filter->serial) || !fn) return OSAP_EINVAL;
    return st->be->attributes->list(st, filter, fn, userdata);
}
