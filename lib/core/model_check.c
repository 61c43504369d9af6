/* Rules every model obeys, whether it comes from the DSL or from a compiled document. */
#include "model_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNIT_MAX         31
#define VERSION_MAX      31
#define LENGTH_LIMIT     1048576u
#define ITEMS_LIMIT      1048576u
#define UNIQUE_ITEMS_MAX 1024u

const char *osap__name_problem(const char *s)
{
    size_t n = strlen(s);
    if (n == 0) return "it is empty";
    if (n > OSAP_MODEL_NAME_MAX) return "it is longer than 31 characters";
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return "it must start with a letter or '_'";
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return "only letters, digits and '_' are allowed";
    }
    return NULL;
}

const char *osap__model_name_problem(const char *s)
{
    const char *why = osap__name_problem(s);
    if (why) return why;
    if (!(s[0] >= 'a' && s[0] <= 'z')) return "a model name must start with a lower case letter";
    for (const char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            return "a model name uses lower case letters, digits and '_' only";
    return NULL;
}

const char *osap__version_problem(const char *s)
{
    size_t n = strlen(s);
    if (n == 0) return "the version is empty";
    if (n > VERSION_MAX) return "the version is longer than 31 characters";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7F || c == '"' || c == '\\')
            return "the version uses printable ASCII characters without spaces or quotes";
    }
    return NULL;
}

const char *osap__kind_name(enum osap_model_kind kind)
{
    switch (kind) {
    case OSAP_MODEL_BOOL: return "bool";
    case OSAP_MODEL_INT: return "int";
    case OSAP_MODEL_NUMBER: return "number";
    case OSAP_MODEL_STRING: return "string";
    case OSAP_MODEL_ARRAY: return "array";
    case OSAP_MODEL_OBJECT: return "object";
    }
    return "?";
}

void osap__num_text(double v, char *buf, size_t len)
{
    if (!isfinite(v)) {
        snprintf(buf, len, "%s", isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
    } else if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, len, "%.0f", v);
    } else {
        snprintf(buf, len, "%.15g", v);
        if (strtod(buf, NULL) != v) snprintf(buf, len, "%.17g", v);
    }
}

static bool in_int32(double v)
{
    return v == floor(v) && v >= (double)INT32_MIN && v <= (double)INT32_MAX;
}

static bool numeric_sane(const struct osap_model_type *t, char *why, size_t len)
{
    char a[32], b[32];
    bool is_int = t->kind == OSAP_MODEL_INT;
    if ((t->flags & OSAP_MODEL_F_MIN_EXCL) && !(t->flags & OSAP_MODEL_F_MIN)) {
        snprintf(why, len, "an exclusive minimum needs a minimum");
        return false;
    }
    if ((t->flags & OSAP_MODEL_F_MAX_EXCL) && !(t->flags & OSAP_MODEL_F_MAX)) {
        snprintf(why, len, "an exclusive maximum needs a maximum");
        return false;
    }
    if ((t->flags & OSAP_MODEL_F_MIN) && !isfinite(t->min)) {
        snprintf(why, len, "the minimum is not a finite number");
        return false;
    }
    if ((t->flags & OSAP_MODEL_F_MAX) && !isfinite(t->max)) {
        snprintf(why, len, "the maximum is not a finite number");
        return false;
    }
    if (is_int && (t->flags & OSAP_MODEL_F_MIN) && !in_int32(t->min)) {
        osap__num_text(t->min, a, sizeof(a));
        snprintf(why, len, "the minimum %s is not a 32-bit integer", a);
        return false;
    }
    if (is_int && (t->flags & OSAP_MODEL_F_MAX) && !in_int32(t->max)) {
        osap__num_text(t->max, a, sizeof(a));
        snprintf(why, len, "the maximum %s is not a 32-bit integer", a);
        return false;
    }
    if ((t->flags & OSAP_MODEL_F_MIN) && (t->flags & OSAP_MODEL_F_MAX)) {
        double lo = t->min, hi = t->max;
        bool empty;
        if (is_int) {
            if (t->flags & OSAP_MODEL_F_MIN_EXCL) lo += 1;
            if (t->flags & OSAP_MODEL_F_MAX_EXCL) hi -= 1;
            empty = lo > hi;
        } else {
            bool excl = t->flags & (OSAP_MODEL_F_MIN_EXCL | OSAP_MODEL_F_MAX_EXCL);
            empty = excl ? lo >= hi : lo > hi;
        }
        if (empty) {
            osap__num_text(t->min, a, sizeof(a));
            osap__num_text(t->max, b, sizeof(b));
            if (t->min > t->max)
                snprintf(why, len, "the minimum %s is above the maximum %s", a, b);
            else
                snprintf(why, len, "no value lies between %s and %s", a, b);
            return false;
        }
    }
    if (t->flags & OSAP_MODEL_F_STEP) {
        if (!isfinite(t->step) || t->step <= 0) {
            snprintf(why, len, "the step must be a positive number");
            return false;
        }
        if (is_int && !in_int32(t->step)) {
            snprintf(why, len, "the step of an int must be a positive 32-bit integer");
            return false;
        }
    }
    if (t->unit && (strlen(t->unit) == 0 || strlen(t->unit) > UNIT_MAX)) {
        snprintf(why, len, "a unit has 1 to %d bytes", UNIT_MAX);
        return false;
    }
    return true;
}

static bool enum_sane(const struct osap_model_type *t, char *why, size_t len)
{
    if (t->kind != OSAP_MODEL_STRING && t->kind != OSAP_MODEL_INT) {
        snprintf(why, len, "only strings and ints can be enumerations");
        return false;
    }
    for (size_t i = 0; i < t->n_enum; i++) {
        const struct osap_model_enum_value *e = &t->enum_values[i];
        if (t->kind == OSAP_MODEL_STRING && !e->text) {
            snprintf(why, len, "enum value %zu is not a string", i + 1);
            return false;
        }
        if (t->kind == OSAP_MODEL_INT && (e->number < INT32_MIN || e->number > INT32_MAX)) {
            snprintf(why, len, "enum value %lld is not a 32-bit integer", (long long)e->number);
            return false;
        }
        for (size_t j = 0; j < i; j++) {
            const struct osap_model_enum_value *f = &t->enum_values[j];
            bool same = t->kind == OSAP_MODEL_STRING ? strcmp(e->text, f->text) == 0
                                                     : e->number == f->number;
            if (same) {
                if (t->kind == OSAP_MODEL_STRING)
                    snprintf(why, len, "duplicate enum value \"%s\"", e->text);
                else
                    snprintf(why, len, "duplicate enum value %lld", (long long)e->number);
                return false;
            }
        }
    }
    return true;
}

bool osap__type_sane(const struct osap_model_type *t, char *why, size_t len)
{
    switch (t->kind) {
    case OSAP_MODEL_BOOL:
    case OSAP_MODEL_OBJECT: break;
    case OSAP_MODEL_INT:
    case OSAP_MODEL_NUMBER:
        if (!numeric_sane(t, why, len)) return false;
        break;
    case OSAP_MODEL_STRING:
        if ((t->flags & OSAP_MODEL_F_LENGTH) &&
            (t->min_length > t->max_length || t->max_length > LENGTH_LIMIT)) {
            if (t->max_length > LENGTH_LIMIT)
                snprintf(why, len, "a string is at most %u bytes long", LENGTH_LIMIT);
            else
                snprintf(why, len, "the minimum length %zu is above the maximum %zu", t->min_length,
                         t->max_length);
            return false;
        }
        break;
    case OSAP_MODEL_ARRAY:
        if (!t->items) {
            snprintf(why, len, "an array needs an item type");
            return false;
        }
        if ((t->flags & OSAP_MODEL_F_ITEMS) &&
            (t->min_items > t->max_items || t->max_items > ITEMS_LIMIT)) {
            if (t->max_items > ITEMS_LIMIT)
                snprintf(why, len, "an array has at most %u items", ITEMS_LIMIT);
            else
                snprintf(why, len, "the minimum item count %zu is above the maximum %zu",
                         t->min_items, t->max_items);
            return false;
        }
        /* Uniqueness costs a comparison per pair of items: keep it bounded. */
        if ((t->flags & OSAP_MODEL_F_UNIQUE) &&
            (!(t->flags & OSAP_MODEL_F_ITEMS) || t->max_items > UNIQUE_ITEMS_MAX)) {
            snprintf(why, len, "a unique array needs 'items' with a maximum of at most %u",
                     UNIQUE_ITEMS_MAX);
            return false;
        }
        break;
    default: snprintf(why, len, "unknown kind"); return false;
    }
    if (t->n_enum && !enum_sane(t, why, len)) return false;
    return true;
}

bool osap__level_parse(const char *s, enum osap_model_level *out)
{
    static const char *const names[] = {"info", "warning", "alarm"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum osap_model_level)i;
            return true;
        }
    }
    return false;
}

bool osap__access_parse(const char *s, unsigned *out)
{
    if (strcmp(s, "r") == 0)
        *out = OSAP_MODEL_ACCESS_R;
    else if (strcmp(s, "w") == 0)
        *out = OSAP_MODEL_ACCESS_W;
    else if (strcmp(s, "rw") == 0)
        *out = OSAP_MODEL_ACCESS_RW;
    else
        return false;
    return true;
}

const char *osap_model_level_name(enum osap_model_level level)
{
    switch (level) {
    case OSAP_MODEL_LEVEL_INFO: return "info";
    case OSAP_MODEL_LEVEL_WARNING: return "warning";
    case OSAP_MODEL_LEVEL_ALARM: return "alarm";
    }
    return "info";
}

const char *osap_model_access_name(unsigned access)
{
    switch (access & OSAP_MODEL_ACCESS_RW) {
    case OSAP_MODEL_ACCESS_W: return "w";
    case OSAP_MODEL_ACCESS_RW: return "rw";
    default: return "r";
    }
}
