/* The model object: lifetime and read-only lookups. */
#include "model_internal.h"

#include "osap/alloc.h"

#include <string.h>

struct osap_model *osap__model_new(void)
{
    struct osap_model *m = osap_calloc(1, sizeof(*m));
    if (!m) return NULL;
    osap__arena_init(&m->arena);
    m->values = cJSON_CreateArray();
    if (!m->values) {
        osap_free(m);
        return NULL;
    }
    m->name = m->version = "";
    return m;
}

void osap_model_free(osap_model_t *m)
{
    if (!m) return;
    cJSON_Delete(m->values);
    osap__arena_release(&m->arena);
    osap_free(m);
}

const char *osap_model_name(const osap_model_t *m)
{
    return m->name;
}

const char *osap_model_version(const osap_model_t *m)
{
    return m->version;
}

const char *osap_model_doc(const osap_model_t *m)
{
    return m->doc;
}

size_t osap_model_extends_count(const osap_model_t *m)
{
    return m->n_extends;
}

const char *osap_model_extends_at(const osap_model_t *m, size_t i)
{
    return i < m->n_extends ? m->extends[i] : NULL;
}

size_t osap_model_resource_count(const osap_model_t *m)
{
    return m->n_resources;
}

const struct osap_model_resource *osap_model_resource_at(const osap_model_t *m, size_t i)
{
    return i < m->n_resources ? &m->resources[i] : NULL;
}

const struct osap_model_resource *osap_model_find_resource(const osap_model_t *m,
                                                           const char *category)
{
    if (!m || !category) return NULL;
    for (size_t i = 0; i < m->n_resources; i++)
        if (strcmp(m->resources[i].category, category) == 0) return &m->resources[i];
    return NULL;
}

bool osap_model_resource_has_index(const struct osap_model_resource *r, const char *rid)
{
    unsigned v = 0;
    size_t n = rid ? strlen(rid) : 0;
    if (!r || n == 0 || n > 3) return false;
    /* Canonical decimal only: "3", never "03" or "+3". */
    if (n > 1 && rid[0] == '0') return false;
    for (size_t i = 0; i < n; i++) {
        if (rid[i] < '0' || rid[i] > '9') return false;
        v = v * 10 + (unsigned)(rid[i] - '0');
    }
    for (size_t i = 0; i < r->n_indexes; i++)
        if (r->indexes[i] == v) return true;
    return false;
}

const struct osap_model_domain *osap_model_find_domain(const struct osap_model_resource *r,
                                                       const char *identifier)
{
    if (!r || !identifier) return NULL;
    for (size_t i = 0; i < r->n_domains; i++)
        if (strcmp(r->domains[i].identifier, identifier) == 0) return &r->domains[i];
    return NULL;
}

const struct osap_model_attribute *osap_model_find_attribute(const struct osap_model_domain *d,
                                                             const char *identifier)
{
    if (!d || !identifier) return NULL;
    for (size_t i = 0; i < d->n_attributes; i++)
        if (strcmp(d->attributes[i].identifier, identifier) == 0) return &d->attributes[i];
    return NULL;
}

const struct osap_model_operation *osap_model_find_operation(const struct osap_model_domain *d,
                                                             const char *identifier)
{
    if (!d || !identifier) return NULL;
    for (size_t i = 0; i < d->n_operations; i++)
        if (strcmp(d->operations[i].identifier, identifier) == 0) return &d->operations[i];
    return NULL;
}

const struct osap_model_event *osap_model_find_event(const struct osap_model_domain *d,
                                                     const char *identifier)
{
    if (!d || !identifier) return NULL;
    for (size_t i = 0; i < d->n_events; i++)
        if (strcmp(d->events[i].identifier, identifier) == 0) return &d->events[i];
    return NULL;
}
