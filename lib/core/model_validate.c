/*
 * Validation of wire values (cJSON) against the model. Messages name the field
 * path from a root ("value", "input", "output", "payload"), e.g.
 * "input.points[2].x: 12 is above the maximum 10".
 */
#include "model_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define PATH_MAX_LEN  256
#define ENUM_LIST_MAX 8

static osap_err invalid(struct osap__diag *d, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static osap_err invalid(struct osap__diag *d, const char *path, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    osap__diag_plain(d, "%s: %s", path, msg);
    return OSAP_EMODEL_VALIDATION;
}

static const char *json_phrase(const cJSON *v)
{
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    if (cJSON_IsNull(v)) return "null";
    return "an invalid value";
}

static const char *kind_phrase(enum osap_model_kind k)
{
    switch (k) {
    case OSAP_MODEL_BOOL: return "a boolean";
    case OSAP_MODEL_INT: return "an integer";
    case OSAP_MODEL_NUMBER: return "a number";
    case OSAP_MODEL_STRING: return "a string";
    case OSAP_MODEL_ARRAY: return "an array";
    case OSAP_MODEL_OBJECT: return "an object";
    }
    return "a value";
}

/* Append ".name" or "[i]" to the path; returns the old length to restore. */
static size_t path_member(char *path, size_t len, size_t cap, const char *name)
{
    snprintf(path + len, cap - len, ".%.40s", name);
    return len;
}

static size_t path_index(char *path, size_t len, size_t cap, size_t i)
{
    snprintf(path + len, cap - len, "[%zu]", i);
    return len;
}

static void enum_list(const struct osap_model_type *t, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < t->n_enum && n < len; i++) {
        int w;
        if (i == ENUM_LIST_MAX) {
            snprintf(buf + n, len - n, ", ...");
            return;
        }
        if (t->kind == OSAP_MODEL_STRING)
            w = snprintf(buf + n, len - n, "%s\"%.32s\"", i ? ", " : "", t->enum_values[i].text);
        else
            w = snprintf(buf + n, len - n, "%s%lld", i ? ", " : "",
                         (long long)t->enum_values[i].number);
        if (w < 0) return;
        n += (size_t)w;
    }
}

static osap_err check_number(const struct osap_model_type *t, double v, const char *path,
                             struct osap__diag *d)
{
    char a[40], b[40];
    osap__num_text(v, a, sizeof(a));
    if (!isfinite(v)) return invalid(d, path, "%s is not a finite number", a);
    if (t->kind == OSAP_MODEL_INT) {
        if (v != floor(v)) return invalid(d, path, "%s is not an integer", a);
        if (v < (double)INT32_MIN || v > (double)INT32_MAX)
            return invalid(d, path, "%s is outside the 32-bit integer range", a);
    }
    if (t->n_enum) {
        for (size_t i = 0; i < t->n_enum; i++)
            if ((double)t->enum_values[i].number == v) return OSAP_OK;
        char list[200];
        enum_list(t, list, sizeof(list));
        return invalid(d, path, "%s is not one of %s", a, list);
    }
    if (t->flags & OSAP_MODEL_F_MIN) {
        osap__num_text(t->min, b, sizeof(b));
        if (t->flags & OSAP_MODEL_F_MIN_EXCL) {
            if (!(v > t->min)) return invalid(d, path, "%s is not above %s", a, b);
        } else if (v < t->min) {
            return invalid(d, path, "%s is below the minimum %s", a, b);
        }
    }
    if (t->flags & OSAP_MODEL_F_MAX) {
        osap__num_text(t->max, b, sizeof(b));
        if (t->flags & OSAP_MODEL_F_MAX_EXCL) {
            if (!(v < t->max)) return invalid(d, path, "%s is not below %s", a, b);
        } else if (v > t->max) {
            return invalid(d, path, "%s is above the maximum %s", a, b);
        }
    }
    if (t->flags & OSAP_MODEL_F_STEP) {
        bool ok;
        if (t->kind == OSAP_MODEL_INT) {
            ok = fmod(v, t->step) == 0;
        } else {
            double q = v / t->step;
            ok = fabs(q - nearbyint(q)) <= 1e-9 * (fabs(q) > 1 ? fabs(q) : 1);
        }
        osap__num_text(t->step, b, sizeof(b));
        if (!ok) return invalid(d, path, "%s is not a multiple of %s", a, b);
    }
    return OSAP_OK;
}

static osap_err check_string(const struct osap_model_type *t, const char *s, const char *path,
                             struct osap__diag *d)
{
    size_t n = strlen(s);
    if (t->n_enum) {
        for (size_t i = 0; i < t->n_enum; i++)
            if (strcmp(t->enum_values[i].text, s) == 0) return OSAP_OK;
        char list[200];
        enum_list(t, list, sizeof(list));
        return invalid(d, path, "\"%.40s%s\" is not one of %s", s, n > 40 ? "..." : "", list);
    }
    if (t->flags & OSAP_MODEL_F_LENGTH) {
        if (n < t->min_length)
            return invalid(d, path, "length %zu is below the minimum length %zu", n, t->min_length);
        if (n > t->max_length)
            return invalid(d, path, "length %zu is above the maximum length %zu", n, t->max_length);
    }
    return OSAP_OK;
}

static osap_err check_array(const struct osap_model_type *t, const cJSON *v, char *path, size_t len,
                            size_t cap, struct osap__diag *d)
{
    size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
    osap_err rc;
    if (t->flags & OSAP_MODEL_F_ITEMS) {
        if (n < t->min_items)
            return invalid(d, path, "%zu item%s, fewer than the minimum %zu", n, n == 1 ? "" : "s",
                           t->min_items);
        if (n > t->max_items)
            return invalid(d, path, "%zu item%s, more than the maximum %zu", n, n == 1 ? "" : "s",
                           t->max_items);
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, v)
    {
        size_t old = path_index(path, len, cap, i);
        size_t sub = strlen(path);
        rc = osap__validate(t->items, item, path, sub, cap, false, d);
        if (rc) return rc;
        if (t->flags & OSAP_MODEL_F_UNIQUE) {
            size_t j = 0;
            for (const cJSON *o = v->child; o != item; o = o->next, j++) {
                if (cJSON_Compare(o, item, true))
                    return invalid(d, path, "duplicate of item [%zu]", j);
            }
        }
        path[old] = '\0';
        i++;
    }
    return OSAP_OK;
}

static osap_err check_object(const struct osap_model_type *t, const cJSON *v, char *path,
                             size_t len, size_t cap, bool event_root, struct osap__diag *d)
{
    osap_err rc;
    for (size_t i = 0; i < t->n_members; i++) {
        const struct osap_model_member *m = &t->members[i];
        if (m->required && !cJSON_GetObjectItemCaseSensitive(v, m->name))
            return invalid(d, path, "missing required member '%s'", m->name);
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, v)
    {
        const char *key = item->string ? item->string : "";
        if (event_root && strcmp(key, "basic") == 0) continue;
        const struct osap_model_member *m = NULL;
        for (size_t i = 0; i < t->n_members; i++)
            if (strcmp(t->members[i].name, key) == 0) m = &t->members[i];
        size_t old = path_member(path, len, cap, key);
        if (!m) return invalid(d, path, "unknown member");
        /* A name given twice in the JSON text is seen twice here. */
        for (const cJSON *o = v->child; o != item; o = o->next)
            if (o->string && strcmp(o->string, key) == 0)
                return invalid(d, path, "member given twice");
        if ((rc = osap__validate(m->type, item, path, strlen(path), cap, false, d))) return rc;
        path[old] = '\0';
    }
    return OSAP_OK;
}

osap_err osap__validate(const struct osap_model_type *t, const cJSON *v, char *path, size_t pathlen,
                        size_t pathcap, bool event_root, struct osap__diag *d)
{
    bool ok;
    path[pathlen] = '\0';
    if (!v) return invalid(d, path, "missing");
    switch (t->kind) {
    case OSAP_MODEL_BOOL: ok = cJSON_IsBool(v); break;
    case OSAP_MODEL_INT:
    case OSAP_MODEL_NUMBER: ok = cJSON_IsNumber(v); break;
    case OSAP_MODEL_STRING: ok = cJSON_IsString(v) && v->valuestring; break;
    case OSAP_MODEL_ARRAY: ok = cJSON_IsArray(v); break;
    case OSAP_MODEL_OBJECT: ok = cJSON_IsObject(v); break;
    default: ok = false; break;
    }
    if (!ok) return invalid(d, path, "expected %s, found %s", kind_phrase(t->kind), json_phrase(v));
    switch (t->kind) {
    case OSAP_MODEL_INT:
    case OSAP_MODEL_NUMBER: return check_number(t, v->valuedouble, path, d);
    case OSAP_MODEL_STRING: return check_string(t, v->valuestring, path, d);
    case OSAP_MODEL_ARRAY: return check_array(t, v, path, pathlen, pathcap, d);
    case OSAP_MODEL_OBJECT: return check_object(t, v, path, pathlen, pathcap, event_root, d);
    default: return OSAP_OK;
    }
}

osap_err osap_model_validate_type(const struct osap_model_type *t, const cJSON *value,
                                  const char *root, char *err, size_t errlen)
{
    char path[PATH_MAX_LEN];
    struct osap__diag d;
    osap__diag_init(&d, err, errlen);
    if (!t) {
        osap__diag_plain(&d, "invalid argument");
        return OSAP_EINVAL;
    }
    snprintf(path, sizeof(path), "%.64s", root ? root : "value");
    return osap__validate(t, value, path, strlen(path), sizeof(path), false, &d);
}

/* A value that stands for "nothing": absent, null or {}. */
static bool is_nothing(const cJSON *v)
{
    return !v || cJSON_IsNull(v) || (cJSON_IsObject(v) && !v->child);
}

static osap_err check_io(const struct osap_model_type *t, const cJSON *v, const char *root,
                         struct osap__diag *d)
{
    char path[PATH_MAX_LEN];
    snprintf(path, sizeof(path), "%s", root);
    if (!t) {
        if (is_nothing(v)) return OSAP_OK;
        return invalid(d, path, "the operation has no %s, found %s", root, json_phrase(v));
    }
    if (!v && t->kind == OSAP_MODEL_OBJECT) {
        for (size_t i = 0; i < t->n_members; i++)
            if (t->members[i].required)
                return invalid(d, path, "missing required member '%s'", t->members[i].name);
        return OSAP_OK;
    }
    return osap__validate(t, v, path, strlen(path), sizeof(path), false, d);
}

osap_err osap_model_validate(const osap_model_t *m, enum osap_model_check check,
                             const char *resource, const char *domain, const char *identifier,
                             const cJSON *value, char *err, size_t errlen)
{
    struct osap__diag d;
    char rid[8] = "";
    const char *category = resource;
    char path[PATH_MAX_LEN];

    osap__diag_init(&d, err, errlen);
    if (!m || !resource || !domain || !identifier) {
        osap__diag_plain(&d, "invalid argument");
        return OSAP_EINVAL;
    }
    const char *dash = strchr(resource, '-');
    if (dash) {
        size_t n = (size_t)(dash - resource);
        if (n == 0 || n >= sizeof(rid)) {
            osap__diag_plain(&d, "resource '%.64s' has no valid local index", resource);
            return OSAP_EMODEL_UNKNOWN;
        }
        memcpy(rid, resource, n);
        rid[n] = '\0';
        category = dash + 1;
    }
    const struct osap_model_resource *r = osap_model_find_resource(m, category);
    if (!r) {
        osap__diag_plain(&d, "unknown resource category '%.64s'", category);
        return OSAP_EMODEL_UNKNOWN;
    }
    if (dash && !osap_model_resource_has_index(r, rid)) {
        osap__diag_plain(&d, "resource '%s' has no index %s", r->category, rid);
        return OSAP_EMODEL_UNKNOWN;
    }
    const struct osap_model_domain *dom = osap_model_find_domain(r, domain);
    if (!dom) {
        osap__diag_plain(&d, "resource '%s' has no domain '%.64s'", r->category, domain);
        return OSAP_EMODEL_UNKNOWN;
    }
    switch (check) {
    case OSAP_MODEL_CHECK_SET:
    case OSAP_MODEL_CHECK_REPORT: {
        const struct osap_model_attribute *a = osap_model_find_attribute(dom, identifier);
        if (!a) {
            osap__diag_plain(&d, "domain '%s' has no attribute '%.64s'", dom->identifier,
                             identifier);
            return OSAP_EMODEL_UNKNOWN;
        }
        if (check == OSAP_MODEL_CHECK_SET && !(a->access & OSAP_MODEL_ACCESS_W)) {
            osap__diag_plain(&d, "attribute '%s' is read-only", a->identifier);
            return OSAP_EMODEL_ACCESS;
        }
        snprintf(path, sizeof(path), "value");
        return osap__validate(a->type, value, path, strlen(path), sizeof(path), false, &d);
    }
    case OSAP_MODEL_CHECK_INPUT:
    case OSAP_MODEL_CHECK_OUTPUT: {
        const struct osap_model_operation *o = osap_model_find_operation(dom, identifier);
        if (!o) {
            osap__diag_plain(&d, "domain '%s' has no operation '%.64s'", dom->identifier,
                             identifier);
            return OSAP_EMODEL_UNKNOWN;
        }
        if (check == OSAP_MODEL_CHECK_INPUT) return check_io(o->input, value, "input", &d);
        return check_io(o->output, value, "output", &d);
    }
    case OSAP_MODEL_CHECK_EVENT: {
        const struct osap_model_event *ev = osap_model_find_event(dom, identifier);
        if (!ev) {
            osap__diag_plain(&d, "domain '%s' has no event '%.64s'", dom->identifier, identifier);
            return OSAP_EMODEL_UNKNOWN;
        }
        snprintf(path, sizeof(path), "payload");
        return osap__validate(ev->payload, value, path, strlen(path), sizeof(path), true, &d);
    }
    }
    osap__diag_plain(&d, "invalid argument");
    return OSAP_EINVAL;
}
