/*
 * The thing-model profile document devices fetch (wire spec section 7.6), with
 * the short schema keys the device SDK parses. Mapping in docs/MODEL.md.
 */
#include "model_internal.h"

#include <stdio.h>

static const char *schema_type(enum osap_model_kind k)
{
    switch (k) {
    case OSAP_MODEL_BOOL: return "bool";
    case OSAP_MODEL_INT: return "int";
    case OSAP_MODEL_NUMBER: return "num";
    case OSAP_MODEL_STRING: return "str";
    case OSAP_MODEL_ARRAY: return "arr";
    case OSAP_MODEL_OBJECT: return "obj";
    }
    return "str";
}

static void schema(struct osap__jb *b, cJSON *parent, const char *slot, const char *key,
                   const struct osap_model_type *t, bool event_root)
{
    cJSON *o = osap__jadd(b, parent, slot, cJSON_CreateObject());
    osap__jstr(b, o, "type", schema_type(t->kind));
    if (key) osap__jstr(b, o, "key", key);
    if (t->n_enum) {
        cJSON *arr = osap__jadd(b, o, "enum", cJSON_CreateArray());
        for (size_t i = 0; i < t->n_enum; i++) {
            if (t->kind == OSAP_MODEL_STRING)
                osap__jstr(b, arr, NULL, t->enum_values[i].text);
            else
                osap__jnum(b, arr, NULL, (double)t->enum_values[i].number);
        }
    }
    switch (t->kind) {
    case OSAP_MODEL_INT:
    case OSAP_MODEL_NUMBER:
        if (t->flags & OSAP_MODEL_F_MIN)
            osap__jnum(b, o, (t->flags & OSAP_MODEL_F_MIN_EXCL) ? "emn" : "mn", t->min);
        if (t->flags & OSAP_MODEL_F_MAX)
            osap__jnum(b, o, (t->flags & OSAP_MODEL_F_MAX_EXCL) ? "emx" : "mx", t->max);
        if (t->flags & OSAP_MODEL_F_STEP) osap__jnum(b, o, "multi", t->step);
        break;
    case OSAP_MODEL_STRING:
        if (t->flags & OSAP_MODEL_F_LENGTH) {
            osap__jnum(b, o, "mnl", (double)t->min_length);
            osap__jnum(b, o, "mxl", (double)t->max_length);
        }
        break;
    case OSAP_MODEL_ARRAY:
        schema(b, o, "itm", NULL, t->items, false);
        if (t->flags & OSAP_MODEL_F_ITEMS) {
            osap__jnum(b, o, "mnitm", (double)t->min_items);
            osap__jnum(b, o, "mxitm", (double)t->max_items);
        }
        if (t->flags & OSAP_MODEL_F_UNIQUE) osap__jbool(b, o, "unq", true);
        break;
    case OSAP_MODEL_OBJECT: {
        bool any_required = false;
        cJSON *props = osap__jadd(b, o, "prop", cJSON_CreateArray());
        for (size_t i = 0; i < t->n_members; i++) {
            schema(b, props, NULL, t->members[i].name, t->members[i].type, false);
            any_required |= t->members[i].required;
        }
        if (event_root) {
            /* Devices add "basic" to every event payload; declare it so that a
             * device checking its own events against this profile accepts it. */
            cJSON *basic = osap__jadd(b, props, NULL, cJSON_CreateObject());
            osap__jstr(b, basic, "type", "obj");
            osap__jstr(b, basic, "key", "basic");
            cJSON *bp = osap__jadd(b, basic, "prop", cJSON_CreateArray());
            cJSON *dt = osap__jadd(b, bp, NULL, cJSON_CreateObject());
            osap__jstr(b, dt, "type", "str");
            osap__jstr(b, dt, "key", "dateTime");
            cJSON *uuid = osap__jadd(b, bp, NULL, cJSON_CreateObject());
            osap__jstr(b, uuid, "type", "str");
            osap__jstr(b, uuid, "key", "UUID");
        }
        if (any_required) {
            cJSON *req = osap__jadd(b, o, "req", cJSON_CreateArray());
            for (size_t i = 0; i < t->n_members; i++)
                if (t->members[i].required) osap__jstr(b, req, NULL, t->members[i].name);
        }
        break;
    }
    default: break;
    }
}

static void domain_profile(struct osap__jb *b, cJSON *parent, const struct osap_model_domain *d,
                           const char *version)
{
    cJSON *o = osap__jadd(b, parent, NULL, cJSON_CreateObject());
    osap__jstr(b, o, "identifier", d->identifier);
    cJSON *props = osap__jadd(b, o, "props", cJSON_CreateArray());
    for (size_t i = 0; i < d->n_attributes; i++) {
        const struct osap_model_attribute *a = &d->attributes[i];
        cJSON *p = osap__jadd(b, props, NULL, cJSON_CreateObject());
        osap__jstr(b, p, "identifier", a->identifier);
        osap__jstr(b, p, "access", osap_model_access_name(a->access));
        osap__jstr(b, p, "version", version);
        schema(b, p, "schema", NULL, a->type, false);
    }
    cJSON *actions = osap__jadd(b, o, "actions", cJSON_CreateArray());
    for (size_t i = 0; i < d->n_operations; i++) {
        const struct osap_model_operation *op = &d->operations[i];
        cJSON *p = osap__jadd(b, actions, NULL, cJSON_CreateObject());
        osap__jstr(b, p, "identifier", op->identifier);
        osap__jstr(b, p, "version", version);
        osap__jstr(b, p, "direction", "Plt2Dev");
        if (op->input) {
            cJSON *in = osap__jadd(b, p, "input", cJSON_CreateObject());
            schema(b, in, "schema", NULL, op->input, false);
        }
        if (op->output) {
            cJSON *out = osap__jadd(b, p, "output", cJSON_CreateObject());
            schema(b, out, "schema", NULL, op->output, false);
        }
    }
    cJSON *events = osap__jadd(b, o, "events", cJSON_CreateArray());
    for (size_t i = 0; i < d->n_events; i++) {
        const struct osap_model_event *ev = &d->events[i];
        cJSON *p = osap__jadd(b, events, NULL, cJSON_CreateObject());
        osap__jstr(b, p, "identifier", ev->identifier);
        osap__jstr(b, p, "version", version);
        cJSON *types = osap__jadd(b, p, "eventType", cJSON_CreateArray());
        osap__jstr(b, types, NULL, osap_model_level_name(ev->level));
        cJSON *in = osap__jadd(b, p, "input", cJSON_CreateObject());
        schema(b, in, "schema", NULL, ev->payload, true);
    }
}

osap_err osap_model_to_profile(const osap_model_t *m, char **out)
{
    struct osap__jb b = {false};
    char text[16];
    if (!m || !out) return OSAP_EINVAL;
    cJSON *root = cJSON_CreateObject();
    if (!root) return OSAP_ENOMEM;
    osap__jstr(&b, root, "version", m->version);
    cJSON *res = osap__jadd(&b, root, "resources", cJSON_CreateArray());
    for (size_t i = 0; i < m->n_resources; i++) {
        const struct osap_model_resource *r = &m->resources[i];
        cJSON *o = osap__jadd(&b, res, NULL, cJSON_CreateObject());
        osap__jstr(&b, o, "resourceCategory", r->category);
        cJSON *idx = osap__jadd(&b, o, "localIndex", cJSON_CreateArray());
        for (size_t j = 0; j < r->n_indexes; j++) {
            snprintf(text, sizeof(text), "%u", r->indexes[j]);
            osap__jstr(&b, idx, NULL, text);
        }
        cJSON *doms = osap__jadd(&b, o, "domains", cJSON_CreateArray());
        for (size_t j = 0; j < r->n_domains; j++)
            domain_profile(&b, doms, &r->domains[j], m->version);
    }
    return osap__jprint(&b, root, false, out);
}
