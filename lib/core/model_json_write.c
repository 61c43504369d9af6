/* The compiled model document (docs/MODEL.md, "Compiled model"): the whole model as JSON. */
#include "model_internal.h"

static void type_json(struct osap__jb *b, cJSON *parent, const char *key,
                      const struct osap_model_type *t)
{
    cJSON *o = osap__jadd(b, parent, key, cJSON_CreateObject());
    osap__jstr(b, o, "kind", osap__kind_name(t->kind));
    if (t->name) osap__jstr(b, o, "typeName", t->name);
    if (t->kind == OSAP_MODEL_INT || t->kind == OSAP_MODEL_NUMBER) {
        if (t->flags & OSAP_MODEL_F_MIN) {
            osap__jnum(b, o, "min", t->min);
            if (t->flags & OSAP_MODEL_F_MIN_EXCL) osap__jbool(b, o, "minExclusive", true);
        }
        if (t->flags & OSAP_MODEL_F_MAX) {
            osap__jnum(b, o, "max", t->max);
            if (t->flags & OSAP_MODEL_F_MAX_EXCL) osap__jbool(b, o, "maxExclusive", true);
        }
        if (t->flags & OSAP_MODEL_F_STEP) osap__jnum(b, o, "step", t->step);
        if (t->unit) osap__jstr(b, o, "unit", t->unit);
    }
    if (t->kind == OSAP_MODEL_STRING && (t->flags & OSAP_MODEL_F_LENGTH)) {
        osap__jnum(b, o, "minLength", (double)t->min_length);
        osap__jnum(b, o, "maxLength", (double)t->max_length);
    }
    if (t->n_enum) {
        cJSON *arr = osap__jadd(b, o, "enum", cJSON_CreateArray());
        for (size_t i = 0; i < t->n_enum; i++) {
            const struct osap_model_enum_value *e = &t->enum_values[i];
            cJSON *v = osap__jadd(b, arr, NULL, cJSON_CreateObject());
            if (t->kind == OSAP_MODEL_STRING)
                osap__jstr(b, v, "value", e->text);
            else
                osap__jnum(b, v, "value", (double)e->number);
            if (e->doc) osap__jstr(b, v, "doc", e->doc);
        }
    }
    if (t->kind == OSAP_MODEL_ARRAY) {
        type_json(b, o, "items", t->items);
        if (t->flags & OSAP_MODEL_F_ITEMS) {
            osap__jnum(b, o, "minItems", (double)t->min_items);
            osap__jnum(b, o, "maxItems", (double)t->max_items);
        }
        if (t->flags & OSAP_MODEL_F_UNIQUE) osap__jbool(b, o, "unique", true);
    }
    if (t->kind == OSAP_MODEL_OBJECT) {
        cJSON *arr = osap__jadd(b, o, "members", cJSON_CreateArray());
        for (size_t i = 0; i < t->n_members; i++) {
            const struct osap_model_member *m = &t->members[i];
            cJSON *v = osap__jadd(b, arr, NULL, cJSON_CreateObject());
            osap__jstr(b, v, "name", m->name);
            if (m->doc) osap__jstr(b, v, "doc", m->doc);
            if (m->required) osap__jbool(b, v, "required", true);
            if (m->default_value)
                osap__jadd(b, v, "default", cJSON_Duplicate(m->default_value, true));
            type_json(b, v, "type", m->type);
        }
    }
}

static void domain_json(struct osap__jb *b, cJSON *parent, const struct osap_model_domain *d)
{
    cJSON *o = osap__jadd(b, parent, NULL, cJSON_CreateObject());
    osap__jstr(b, o, "identifier", d->identifier);
    if (d->doc) osap__jstr(b, o, "doc", d->doc);
    cJSON *arr = osap__jadd(b, o, "attributes", cJSON_CreateArray());
    for (size_t i = 0; i < d->n_attributes; i++) {
        const struct osap_model_attribute *a = &d->attributes[i];
        cJSON *v = osap__jadd(b, arr, NULL, cJSON_CreateObject());
        osap__jstr(b, v, "identifier", a->identifier);
        if (a->doc) osap__jstr(b, v, "doc", a->doc);
        osap__jstr(b, v, "from", a->from);
        osap__jstr(b, v, "access", osap_model_access_name(a->access));
        type_json(b, v, "type", a->type);
        if (a->default_value) osap__jadd(b, v, "default", cJSON_Duplicate(a->default_value, true));
    }
    arr = osap__jadd(b, o, "operations", cJSON_CreateArray());
    for (size_t i = 0; i < d->n_operations; i++) {
        const struct osap_model_operation *op = &d->operations[i];
        cJSON *v = osap__jadd(b, arr, NULL, cJSON_CreateObject());
        osap__jstr(b, v, "identifier", op->identifier);
        if (op->doc) osap__jstr(b, v, "doc", op->doc);
        osap__jstr(b, v, "from", op->from);
        if (op->input) type_json(b, v, "input", op->input);
        if (op->output) type_json(b, v, "output", op->output);
    }
    arr = osap__jadd(b, o, "events", cJSON_CreateArray());
    for (size_t i = 0; i < d->n_events; i++) {
        const struct osap_model_event *ev = &d->events[i];
        cJSON *v = osap__jadd(b, arr, NULL, cJSON_CreateObject());
        osap__jstr(b, v, "identifier", ev->identifier);
        if (ev->doc) osap__jstr(b, v, "doc", ev->doc);
        osap__jstr(b, v, "from", ev->from);
        osap__jstr(b, v, "level", osap_model_level_name(ev->level));
        type_json(b, v, "payload", ev->payload);
    }
}

osap_err osap_model_to_json(const osap_model_t *m, char **out)
{
    struct osap__jb b = {false};
    if (!m || !out) return OSAP_EINVAL;
    cJSON *root = cJSON_CreateObject();
    if (!root) return OSAP_ENOMEM;
    osap__jnum(&b, root, "osapModel", 1);
    osap__jstr(&b, root, "name", m->name);
    osap__jstr(&b, root, "version", m->version);
    if (m->doc) osap__jstr(&b, root, "doc", m->doc);
    cJSON *ext = osap__jadd(&b, root, "extends", cJSON_CreateArray());
    for (size_t i = 0; i < m->n_extends; i++)
        osap__jstr(&b, ext, NULL, m->extends[i]);
    cJSON *res = osap__jadd(&b, root, "resources", cJSON_CreateArray());
    for (size_t i = 0; i < m->n_resources; i++) {
        const struct osap_model_resource *r = &m->resources[i];
        cJSON *o = osap__jadd(&b, res, NULL, cJSON_CreateObject());
        osap__jstr(&b, o, "category", r->category);
        if (r->doc) osap__jstr(&b, o, "doc", r->doc);
        cJSON *idx = osap__jadd(&b, o, "indexes", cJSON_CreateArray());
        for (size_t j = 0; j < r->n_indexes; j++)
            osap__jnum(&b, idx, NULL, r->indexes[j]);
        cJSON *doms = osap__jadd(&b, o, "domains", cJSON_CreateArray());
        for (size_t j = 0; j < r->n_domains; j++)
            domain_json(&b, doms, &r->domains[j]);
    }
    return osap__jprint(&b, root, true, out);
}
