/*
 * Loading a compiled model document (docs/MODEL.md, "Compiled model"). The
 * document is checked as strictly as the DSL: unknown members, bad names,
 * empty ranges, defaults that do not match their type are all refused, with the
 * member path in the message ("resources[0].domains[2].attributes[1].type.min: ...").
 */
#include "model_internal.h"

#include "osap/alloc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DOC_MAX     (4u << 20)
#define COUNT_LIMIT 1048576.0

struct reader {
    struct osap_model *m;
    struct osap__diag *diag;
    char path[512];
    size_t len;
};

static osap_err bad(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static osap_err bad(struct reader *r, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    osap__diag_plain(r->diag, "%s: %s", r->len ? r->path : "(document)", msg);
    return OSAP_EMODEL_FORMAT;
}

static size_t push_key(struct reader *r, const char *key)
{
    size_t old = r->len;
    int n = snprintf(r->path + r->len, sizeof(r->path) - r->len, "%s%.40s", r->len ? "." : "", key);
    if (n > 0) r->len += (size_t)n;
    if (r->len >= sizeof(r->path)) r->len = sizeof(r->path) - 1;
    return old;
}

static size_t push_index(struct reader *r, size_t i)
{
    size_t old = r->len;
    int n = snprintf(r->path + r->len, sizeof(r->path) - r->len, "[%zu]", i);
    if (n > 0) r->len += (size_t)n;
    if (r->len >= sizeof(r->path)) r->len = sizeof(r->path) - 1;
    return old;
}

static void pop(struct reader *r, size_t old)
{
    r->len = old;
    r->path[old] = '\0';
}

static const cJSON *get(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static osap_err only_keys(struct reader *r, const cJSON *obj, const char *const *allowed)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, obj)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            if (c->string && strcmp(c->string, *a) == 0) ok = true;
        if (!ok) {
            push_key(r, c->string ? c->string : "");
            return bad(r, "unknown member");
        }
        for (const cJSON *o = obj->child; o != c; o = o->next)
            if (o->string && c->string && strcmp(o->string, c->string) == 0) {
                push_key(r, c->string);
                return bad(r, "member given twice");
            }
    }
    return OSAP_OK;
}

/* A string member (optional if @p out_if_absent is allowed to stay NULL). */
static osap_err get_string(struct reader *r, const cJSON *obj, const char *key, bool required,
                           const char **out)
{
    const cJSON *v = get(obj, key);
    *out = NULL;
    if (!v) {
        if (required) return bad(r, "missing member '%s'", key);
        return OSAP_OK;
    }
    size_t old = push_key(r, key);
    if (!cJSON_IsString(v) || !v->valuestring) return bad(r, "expected a string");
    *out = osap__arena_strdup(&r->m->arena, v->valuestring);
    if (!*out) return OSAP_ENOMEM;
    pop(r, old);
    return OSAP_OK;
}

static osap_err get_name(struct reader *r, const cJSON *obj, const char *key, const char **out)
{
    osap_err rc = get_string(r, obj, key, true, out);
    if (rc) return rc;
    const char *why = osap__name_problem(*out);
    if (why) {
        push_key(r, key);
        return bad(r, "invalid name '%.40s': %s", *out, why);
    }
    return OSAP_OK;
}

static osap_err get_number(struct reader *r, const cJSON *obj, const char *key, double *out)
{
    const cJSON *v = get(obj, key);
    size_t old = push_key(r, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return bad(r, "expected a number");
    *out = v->valuedouble;
    pop(r, old);
    return OSAP_OK;
}

static osap_err get_count(struct reader *r, const cJSON *obj, const char *key, size_t *out)
{
    double v;
    osap_err rc = get_number(r, obj, key, &v);
    if (rc) return rc;
    if (v < 0 || v > COUNT_LIMIT || v != floor(v)) {
        push_key(r, key);
        return bad(r, "expected an integer between 0 and %.0f", COUNT_LIMIT);
    }
    *out = (size_t)v;
    return OSAP_OK;
}

static osap_err get_flag(struct reader *r, const cJSON *obj, const char *key, bool *out)
{
    const cJSON *v = get(obj, key);
    *out = false;
    if (!v) return OSAP_OK;
    if (!cJSON_IsBool(v)) {
        push_key(r, key);
        return bad(r, "expected true or false");
    }
    *out = cJSON_IsTrue(v);
    return OSAP_OK;
}

static const cJSON *get_array(struct reader *r, const cJSON *obj, const char *key, bool required,
                              osap_err *rc)
{
    const cJSON *v = get(obj, key);
    *rc = OSAP_OK;
    if (!v) {
        if (required) *rc = bad(r, "missing member '%s'", key);
        return NULL;
    }
    if (!cJSON_IsArray(v)) {
        push_key(r, key);
        *rc = bad(r, "expected an array");
        return NULL;
    }
    return v;
}

/* A copy of @p v owned by the model. */
static osap_err keep_value(struct reader *r, const cJSON *v, const cJSON **out)
{
    cJSON *copy = cJSON_Duplicate(v, true);
    if (!copy) return OSAP_ENOMEM;
    cJSON_AddItemToArray(r->m->values, copy);
    *out = copy;
    return OSAP_OK;
}

/* The message names the default by its path in the document. */
static osap_err check_default(struct reader *r, const struct osap_model_type *t, const cJSON *v)
{
    char path[sizeof(r->path) + 16];
    snprintf(path, sizeof(path), "%s%sdefault", r->path, r->len ? "." : "");
    osap_err rc = osap__validate(t, v, path, strlen(path), sizeof(path), false, r->diag);
    return rc == OSAP_EMODEL_VALIDATION ? OSAP_EMODEL_FORMAT : rc;
}

static osap_err read_type(struct reader *r, const cJSON *j, int depth,
                          const struct osap_model_type **out);

static const char *const keys_bool[] = {"kind", "typeName", NULL};
static const char *const keys_int[] = {"kind",         "typeName", "min",  "max",  "minExclusive",
                                       "maxExclusive", "step",     "unit", "enum", NULL};
static const char *const keys_number[] = {"kind",         "typeName", "min",  "max", "minExclusive",
                                          "maxExclusive", "step",     "unit", NULL};
static const char *const keys_string[] = {"kind",      "typeName", "minLength",
                                          "maxLength", "enum",     NULL};
static const char *const keys_array[] = {"kind",     "typeName", "items", "minItems",
                                         "maxItems", "unique",   NULL};
static const char *const keys_object[] = {"kind", "typeName", "members", NULL};
static const char *const keys_enum[] = {"value", "doc", NULL};
static const char *const keys_member[] = {"name", "doc", "required", "default", "type", NULL};

static osap_err read_numeric(struct reader *r, const cJSON *j, struct osap_model_type *t)
{
    osap_err rc;
    bool excl;
    if (get(j, "min")) {
        if ((rc = get_number(r, j, "min", &t->min))) return rc;
        t->flags |= OSAP_MODEL_F_MIN;
    }
    if (get(j, "max")) {
        if ((rc = get_number(r, j, "max", &t->max))) return rc;
        t->flags |= OSAP_MODEL_F_MAX;
    }
    if ((rc = get_flag(r, j, "minExclusive", &excl))) return rc;
    if (excl) t->flags |= OSAP_MODEL_F_MIN_EXCL;
    if ((rc = get_flag(r, j, "maxExclusive", &excl))) return rc;
    if (excl) t->flags |= OSAP_MODEL_F_MAX_EXCL;
    if (get(j, "step")) {
        if ((rc = get_number(r, j, "step", &t->step))) return rc;
        t->flags |= OSAP_MODEL_F_STEP;
    }
    return get_string(r, j, "unit", false, &t->unit);
}

static osap_err read_enum(struct reader *r, const cJSON *j, struct osap_model_type *t)
{
    osap_err rc;
    const cJSON *arr = get_array(r, j, "enum", false, &rc);
    if (!arr) return rc;
    size_t old = push_key(r, "enum"), n = (size_t)cJSON_GetArraySize(arr), i = 0;
    if (n == 0) return bad(r, "an enumeration needs at least one value");
    struct osap_model_enum_value *vals = osap__arena_array(&r->m->arena, n, sizeof(*vals));
    if (!vals) return OSAP_ENOMEM;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        size_t o2 = push_index(r, i);
        if (!cJSON_IsObject(e)) return bad(r, "expected an object");
        if ((rc = only_keys(r, e, keys_enum))) return rc;
        const cJSON *v = get(e, "value");
        if (!v) return bad(r, "missing member 'value'");
        size_t o3 = push_key(r, "value");
        if (t->kind == OSAP_MODEL_STRING) {
            if (!cJSON_IsString(v) || !v->valuestring) return bad(r, "expected a string");
            if (!(vals[i].text = osap__arena_strdup(&r->m->arena, v->valuestring)))
                return OSAP_ENOMEM;
        } else {
            double d = cJSON_IsNumber(v) ? v->valuedouble : 0.5;
            if (d != floor(d) || d < INT32_MIN || d > INT32_MAX)
                return bad(r, "expected a 32-bit integer");
            vals[i].number = (int64_t)d;
        }
        pop(r, o3);
        if ((rc = get_string(r, e, "doc", false, &vals[i].doc))) return rc;
        pop(r, o2);
        i++;
    }
    pop(r, old);
    t->n_enum = n;
    t->enum_values = vals;
    return OSAP_OK;
}

static osap_err read_members(struct reader *r, const cJSON *j, int depth, struct osap_model_type *t)
{
    osap_err rc;
    const cJSON *arr = get_array(r, j, "members", true, &rc);
    if (!arr) return rc;
    size_t old = push_key(r, "members"), n = (size_t)cJSON_GetArraySize(arr), i = 0;
    struct osap_model_member *mem = osap__arena_array(&r->m->arena, n, sizeof(*mem));
    if (!mem) return OSAP_ENOMEM;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        size_t o2 = push_index(r, i);
        if (!cJSON_IsObject(e)) return bad(r, "expected an object");
        if ((rc = only_keys(r, e, keys_member))) return rc;
        if ((rc = get_name(r, e, "name", &mem[i].name))) return rc;
        for (size_t k = 0; k < i; k++)
            if (strcmp(mem[k].name, mem[i].name) == 0)
                return bad(r, "duplicate member '%s'", mem[i].name);
        if ((rc = get_string(r, e, "doc", false, &mem[i].doc))) return rc;
        if ((rc = get_flag(r, e, "required", &mem[i].required))) return rc;
        const cJSON *ty = get(e, "type");
        if (!ty) return bad(r, "missing member 'type'");
        size_t o3 = push_key(r, "type");
        if ((rc = read_type(r, ty, depth + 1, &mem[i].type))) return rc;
        pop(r, o3);
        const cJSON *def = get(e, "default");
        if (def) {
            if (mem[i].required) {
                push_key(r, "default");
                return bad(r, "a required member cannot have a default");
            }
            if ((rc = check_default(r, mem[i].type, def))) return rc;
            if ((rc = keep_value(r, def, &mem[i].default_value))) return rc;
        }
        pop(r, o2);
        i++;
    }
    pop(r, old);
    t->n_members = n;
    t->members = mem;
    return OSAP_OK;
}

static osap_err read_type(struct reader *r, const cJSON *j, int depth,
                          const struct osap_model_type **out)
{
    osap_err rc;
    const char *kind;
    if (depth > OSAP_MODEL_DEPTH_MAX)
        return bad(r, "type nested more than %d levels deep", OSAP_MODEL_DEPTH_MAX);
    if (!cJSON_IsObject(j)) return bad(r, "expected an object");
    struct osap_model_type *t = osap__arena_alloc(&r->m->arena, sizeof(*t));
    if (!t) return OSAP_ENOMEM;
    if ((rc = get_string(r, j, "kind", true, &kind))) return rc;
    static const char *const *const key_sets[] = {NULL,        keys_bool,  keys_int,   keys_number,
                                                  keys_string, keys_array, keys_object};
    for (int k = OSAP_MODEL_BOOL; k <= OSAP_MODEL_OBJECT; k++)
        if (strcmp(kind, osap__kind_name((enum osap_model_kind)k)) == 0)
            t->kind = (enum osap_model_kind)k;
    if (!t->kind) {
        push_key(r, "kind");
        return bad(r, "unknown kind '%.20s'", kind);
    }
    if ((rc = only_keys(r, j, key_sets[t->kind]))) return rc;
    if (get(j, "typeName")) {
        if ((rc = get_name(r, j, "typeName", &t->name))) return rc;
    }
    switch (t->kind) {
    case OSAP_MODEL_INT:
        if ((rc = read_numeric(r, j, t)) || (rc = read_enum(r, j, t))) return rc;
        break;
    case OSAP_MODEL_NUMBER:
        if ((rc = read_numeric(r, j, t))) return rc;
        break;
    case OSAP_MODEL_STRING:
        if (get(j, "minLength") || get(j, "maxLength")) {
            if ((rc = get_count(r, j, "minLength", &t->min_length))) return rc;
            if ((rc = get_count(r, j, "maxLength", &t->max_length))) return rc;
            t->flags |= OSAP_MODEL_F_LENGTH;
        }
        if ((rc = read_enum(r, j, t))) return rc;
        break;
    case OSAP_MODEL_ARRAY: {
        bool unique;
        const cJSON *items = get(j, "items");
        if (!items) return bad(r, "missing member 'items'");
        size_t old = push_key(r, "items");
        if ((rc = read_type(r, items, depth + 1, &t->items))) return rc;
        pop(r, old);
        if (get(j, "minItems") || get(j, "maxItems")) {
            if ((rc = get_count(r, j, "minItems", &t->min_items))) return rc;
            if ((rc = get_count(r, j, "maxItems", &t->max_items))) return rc;
            t->flags |= OSAP_MODEL_F_ITEMS;
        }
        if ((rc = get_flag(r, j, "unique", &unique))) return rc;
        if (unique) t->flags |= OSAP_MODEL_F_UNIQUE;
        break;
    }
    case OSAP_MODEL_OBJECT:
        if ((rc = read_members(r, j, depth, t))) return rc;
        break;
    default: break;
    }
    char why[160];
    if (!osap__type_sane(t, why, sizeof(why))) return bad(r, "%s", why);
    *out = t;
    return OSAP_OK;
}

/* A type member of @p obj under @p key (NULL if absent and not required). */
static osap_err read_type_member(struct reader *r, const cJSON *obj, const char *key, bool required,
                                 const struct osap_model_type **out)
{
    const cJSON *j = get(obj, key);
    *out = NULL;
    if (!j) return required ? bad(r, "missing member '%s'", key) : OSAP_OK;
    size_t old = push_key(r, key);
    osap_err rc = read_type(r, j, 1, out);
    if (rc) return rc;
    pop(r, old);
    return OSAP_OK;
}

static const char *const keys_attr[] = {"identifier", "doc",     "from", "access",
                                        "type",       "default", NULL};
static const char *const keys_op[] = {"identifier", "doc", "from", "input", "output", NULL};
static const char *const keys_event[] = {"identifier", "doc", "from", "level", "payload", NULL};
static const char *const keys_domain[] = {"identifier", "doc",    "attributes",
                                          "operations", "events", NULL};
static const char *const keys_resource[] = {"category", "doc", "indexes", "domains", NULL};
static const char *const keys_root[] = {"osapModel", "name",      "version", "doc",
                                        "extends",   "resources", NULL};

static osap_err read_from(struct reader *r, const cJSON *j, const char **out)
{
    osap_err rc = get_string(r, j, "from", false, out);
    if (rc) return rc;
    if (!*out) {
        *out = r->m->name;
    } else if (osap__model_name_problem(*out)) {
        push_key(r, "from");
        return bad(r, "invalid model name '%.40s'", *out);
    }
    return OSAP_OK;
}

/* Identifier must be unique across attributes, operations and events of a domain. */
static osap_err unique_id(struct reader *r, const struct osap_model_domain *d, const char *id)
{
    size_t hits = 0;
    for (size_t i = 0; i < d->n_attributes; i++)
        hits += strcmp(d->attributes[i].identifier, id) == 0;
    for (size_t i = 0; i < d->n_operations; i++)
        hits += strcmp(d->operations[i].identifier, id) == 0;
    for (size_t i = 0; i < d->n_events; i++)
        hits += strcmp(d->events[i].identifier, id) == 0;
    return hits > 1 ? bad(r, "'%s' is defined twice in domain '%s'", id, d->identifier) : OSAP_OK;
}

static osap_err read_domain(struct reader *r, const cJSON *j, struct osap_model_domain *d)
{
    osap_err rc;
    const cJSON *arr, *e;
    size_t i;
    if (!cJSON_IsObject(j)) return bad(r, "expected an object");
    if ((rc = only_keys(r, j, keys_domain))) return rc;
    if ((rc = get_name(r, j, "identifier", &d->identifier))) return rc;
    if ((rc = get_string(r, j, "doc", false, &d->doc))) return rc;

    struct osap_model_attribute *attrs;
    if (!(arr = get_array(r, j, "attributes", false, &rc)) && rc) return rc;
    d->n_attributes = arr ? (size_t)cJSON_GetArraySize(arr) : 0;
    if (!(attrs = osap__arena_array(&r->m->arena, d->n_attributes, sizeof(*attrs))))
        return OSAP_ENOMEM;
    d->attributes = attrs;
    i = 0;
    size_t old = push_key(r, "attributes");
    cJSON_ArrayForEach(e, arr)
    {
        struct osap_model_attribute *a = &attrs[i];
        size_t o2 = push_index(r, i++);
        const char *access;
        if (!cJSON_IsObject(e)) return bad(r, "expected an object");
        if ((rc = only_keys(r, e, keys_attr))) return rc;
        if ((rc = get_name(r, e, "identifier", &a->identifier))) return rc;
        if ((rc = get_string(r, e, "doc", false, &a->doc))) return rc;
        if ((rc = read_from(r, e, &a->from))) return rc;
        if ((rc = get_string(r, e, "access", true, &access))) return rc;
        if (!osap__access_parse(access, &a->access)) {
            push_key(r, "access");
            return bad(r, "expected \"r\", \"w\" or \"rw\"");
        }
        if ((rc = read_type_member(r, e, "type", true, &a->type))) return rc;
        const cJSON *def = get(e, "default");
        if (def) {
            if ((rc = check_default(r, a->type, def))) return rc;
            if ((rc = keep_value(r, def, &a->default_value))) return rc;
        }
        pop(r, o2);
    }
    pop(r, old);

    struct osap_model_operation *ops;
    if (!(arr = get_array(r, j, "operations", false, &rc)) && rc) return rc;
    d->n_operations = arr ? (size_t)cJSON_GetArraySize(arr) : 0;
    if (!(ops = osap__arena_array(&r->m->arena, d->n_operations, sizeof(*ops)))) return OSAP_ENOMEM;
    d->operations = ops;
    i = 0;
    old = push_key(r, "operations");
    cJSON_ArrayForEach(e, arr)
    {
        struct osap_model_operation *o = &ops[i];
        size_t o2 = push_index(r, i++);
        if (!cJSON_IsObject(e)) return bad(r, "expected an object");
        if ((rc = only_keys(r, e, keys_op))) return rc;
        if ((rc = get_name(r, e, "identifier", &o->identifier))) return rc;
        if ((rc = get_string(r, e, "doc", false, &o->doc))) return rc;
        if ((rc = read_from(r, e, &o->from))) return rc;
        if ((rc = read_type_member(r, e, "input", false, &o->input))) return rc;
        if ((rc = read_type_member(r, e, "output", false, &o->output))) return rc;
        pop(r, o2);
    }
    pop(r, old);

    struct osap_model_event *evs;
    if (!(arr = get_array(r, j, "events", false, &rc)) && rc) return rc;
    d->n_events = arr ? (size_t)cJSON_GetArraySize(arr) : 0;
    if (!(evs = osap__arena_array(&r->m->arena, d->n_events, sizeof(*evs)))) return OSAP_ENOMEM;
    d->events = evs;
    i = 0;
    old = push_key(r, "events");
    cJSON_ArrayForEach(e, arr)
    {
        struct osap_model_event *ev = &evs[i];
        size_t o2 = push_index(r, i++);
        const char *level;
        if (!cJSON_IsObject(e)) return bad(r, "expected an object");
        if ((rc = only_keys(r, e, keys_event))) return rc;
        if ((rc = get_name(r, e, "identifier", &ev->identifier))) return rc;
        if ((rc = get_string(r, e, "doc", false, &ev->doc))) return rc;
        if ((rc = read_from(r, e, &ev->from))) return rc;
        if ((rc = get_string(r, e, "level", true, &level))) return rc;
        if (!osap__level_parse(level, &ev->level)) {
            push_key(r, "level");
            return bad(r, "expected \"info\", \"warning\" or \"alarm\"");
        }
        if ((rc = read_type_member(r, e, "payload", true, &ev->payload))) return rc;
        push_key(r, "payload");
        if (ev->payload->kind != OSAP_MODEL_OBJECT) return bad(r, "an event payload is an object");
        for (size_t k = 0; k < ev->payload->n_members; k++)
            if (strcmp(ev->payload->members[k].name, "basic") == 0)
                return bad(r, "'basic' is reserved in event payloads");
        pop(r, o2);
    }
    pop(r, old);

    for (i = 0; i < d->n_attributes; i++)
        if ((rc = unique_id(r, d, attrs[i].identifier))) return rc;
    for (i = 0; i < d->n_operations; i++)
        if ((rc = unique_id(r, d, ops[i].identifier))) return rc;
    for (i = 0; i < d->n_events; i++)
        if ((rc = unique_id(r, d, evs[i].identifier))) return rc;
    return OSAP_OK;
}

static osap_err read_resource(struct reader *r, const cJSON *j, struct osap_model_resource *res)
{
    osap_err rc;
    const cJSON *arr, *e;
    size_t i = 0;
    if (!cJSON_IsObject(j)) return bad(r, "expected an object");
    if ((rc = only_keys(r, j, keys_resource))) return rc;
    if ((rc = get_name(r, j, "category", &res->category))) return rc;
    if ((rc = get_string(r, j, "doc", false, &res->doc))) return rc;

    if (!(arr = get_array(r, j, "indexes", true, &rc))) return rc;
    size_t n = (size_t)cJSON_GetArraySize(arr);
    size_t old = push_key(r, "indexes");
    if (n == 0) return bad(r, "a resource needs at least one index");
    unsigned *idx = osap__arena_array(&r->m->arena, n, sizeof(*idx));
    if (!idx) return OSAP_ENOMEM;
    cJSON_ArrayForEach(e, arr)
    {
        size_t o2 = push_index(r, i);
        double v = cJSON_IsNumber(e) ? e->valuedouble : -1;
        if (v < 0 || v > OSAP_MODEL_INDEX_MAX || v != floor(v))
            return bad(r, "expected an index between 0 and %d", OSAP_MODEL_INDEX_MAX);
        idx[i] = (unsigned)v;
        if (i && idx[i] <= idx[i - 1]) return bad(r, "indexes must be ascending and unique");
        pop(r, o2);
        i++;
    }
    pop(r, old);
    res->indexes = idx;
    res->n_indexes = n;

    if (!(arr = get_array(r, j, "domains", true, &rc))) return rc;
    n = (size_t)cJSON_GetArraySize(arr);
    old = push_key(r, "domains");
    if (n == 0) return bad(r, "a resource needs at least one domain");
    struct osap_model_domain *doms = osap__arena_array(&r->m->arena, n, sizeof(*doms));
    if (!doms) return OSAP_ENOMEM;
    i = 0;
    cJSON_ArrayForEach(e, arr)
    {
        size_t o2 = push_index(r, i);
        if ((rc = read_domain(r, e, &doms[i]))) return rc;
        for (size_t k = 0; k < i; k++)
            if (strcmp(doms[k].identifier, doms[i].identifier) == 0)
                return bad(r, "duplicate domain '%s'", doms[i].identifier);
        pop(r, o2);
        i++;
    }
    pop(r, old);
    res->domains = doms;
    res->n_domains = n;
    return OSAP_OK;
}

static osap_err read_root(struct reader *r, const cJSON *root)
{
    osap_err rc;
    const cJSON *arr, *e;
    struct osap_model *m = r->m;
    size_t i = 0;
    const char *why;

    if (!cJSON_IsObject(root)) return bad(r, "expected an object");
    if ((rc = only_keys(r, root, keys_root))) return rc;
    const cJSON *fmt = get(root, "osapModel");
    if (!cJSON_IsNumber(fmt) || fmt->valuedouble != 1) {
        push_key(r, "osapModel");
        return bad(r, "expected 1 (the format of this document)");
    }
    if ((rc = get_string(r, root, "name", true, &m->name))) return rc;
    if ((why = osap__model_name_problem(m->name))) {
        push_key(r, "name");
        return bad(r, "invalid model name '%.40s': %s", m->name, why);
    }
    if ((rc = get_string(r, root, "version", true, &m->version))) return rc;
    if ((why = osap__version_problem(m->version))) {
        push_key(r, "version");
        return bad(r, "%s", why);
    }
    if ((rc = get_string(r, root, "doc", false, &m->doc))) return rc;

    if (!(arr = get_array(r, root, "extends", false, &rc)) && rc) return rc;
    m->n_extends = arr ? (size_t)cJSON_GetArraySize(arr) : 0;
    if (!(m->extends = osap__arena_array(&m->arena, m->n_extends, sizeof(*m->extends))))
        return OSAP_ENOMEM;
    size_t old = push_key(r, "extends");
    cJSON_ArrayForEach(e, arr)
    {
        size_t o2 = push_index(r, i);
        if (!cJSON_IsString(e) || !e->valuestring || osap__model_name_problem(e->valuestring))
            return bad(r, "expected a model name");
        if (!(m->extends[i++] = osap__arena_strdup(&m->arena, e->valuestring))) return OSAP_ENOMEM;
        pop(r, o2);
    }
    pop(r, old);

    if (!(arr = get_array(r, root, "resources", true, &rc))) return rc;
    m->n_resources = (size_t)cJSON_GetArraySize(arr);
    old = push_key(r, "resources");
    if (m->n_resources == 0) return bad(r, "a model needs at least one resource");
    if (!(m->resources = osap__arena_array(&m->arena, m->n_resources, sizeof(*m->resources))))
        return OSAP_ENOMEM;
    i = 0;
    cJSON_ArrayForEach(e, arr)
    {
        size_t o2 = push_index(r, i);
        if ((rc = read_resource(r, e, &m->resources[i]))) return rc;
        for (size_t k = 0; k < i; k++)
            if (strcmp(m->resources[k].category, m->resources[i].category) == 0)
                return bad(r, "duplicate resource '%s'", m->resources[i].category);
        pop(r, o2);
        i++;
    }
    pop(r, old);
    return OSAP_OK;
}

osap_err osap_model_load_json(const char *text, size_t len, osap_model_t **out, char *err,
                              size_t errlen)
{
    struct osap__diag diag;
    struct reader r;
    const char *end = NULL;
    cJSON *root = NULL;
    osap_err rc;

    osap__diag_init(&diag, err, errlen);
    if ((!text && len) || !out) {
        osap__diag_plain(&diag, "invalid argument");
        return OSAP_EINVAL;
    }
    if (len > DOC_MAX) {
        osap__diag_plain(&diag, "model document larger than 4 MiB");
        return OSAP_ETOOBIG;
    }
    memset(&r, 0, sizeof(r));
    r.diag = &diag;
    if (!(r.m = osap__model_new())) {
        rc = OSAP_ENOMEM;
        goto out;
    }
    root = cJSON_ParseWithLengthOpts(text ? text : "", len, &end, false);
    if (!root) {
        size_t at = end && text && end >= text ? (size_t)(end - text) : 0;
        osap__diag_plain(&diag, "malformed JSON at byte %zu", at);
        rc = OSAP_EJSON;
        goto out;
    }
    for (size_t k = (size_t)(end - text); k < len; k++) {
        if (text[k] != ' ' && text[k] != '\n' && text[k] != '\r' && text[k] != '\t' &&
            text[k] != '\0') {
            osap__diag_plain(&diag, "unexpected text after the JSON document at byte %zu", k);
            rc = OSAP_EJSON;
            goto out;
        }
    }
    if ((rc = read_root(&r, root))) goto out;
    *out = r.m;
    r.m = NULL;
out:
    if (rc == OSAP_ENOMEM) osap__diag_plain(&diag, "out of memory");
    cJSON_Delete(root);
    osap_model_free(r.m);
    return rc;
}
