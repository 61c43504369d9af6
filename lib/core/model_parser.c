/*
 * Recursive-descent parser of the OSAP model language (grammar in docs/MODEL.md).
 * It builds the syntax tree of one file and applies the checks that need only
 * that file: name rules, bounds, duplicates inside one list. Templates, named
 * types and defaults are the compiler's business (model_compile.c).
 */
#include "model_internal.h"

#include <stdio.h>
#include <string.h>

#define ENUM_VALUES_MAX 1024
#define VALUE_DEPTH_MAX 16

struct parser {
    struct osap__mctx *ctx;
    struct osap__lexer lx;
    struct osap__token tok;
    struct osap__munit *unit;
    int depth;
};

static const char *const builtin_types[] = {"bool", "int",   "number", "string",
                                            "enum", "array", "object"};

static const char *const clause_words[] = {"range", "min",  "max",    "above", "below",
                                           "step",  "unit", "length", "items", "unique"};

static osap_err next(struct parser *p)
{
    return osap__lex_next(&p->lx, &p->tok);
}

static bool at(const struct parser *p, enum osap__tok kind)
{
    return p->tok.kind == kind;
}

static bool at_kw(const struct parser *p, const char *kw)
{
    size_t n = strlen(kw);
    return p->tok.kind == OSAP__TOK_NAME && p->tok.len == n && memcmp(p->tok.start, kw, n) == 0;
}

static osap_err expected(struct parser *p, const char *what)
{
    char found[80];
    osap__tok_describe(&p->tok, found, sizeof(found));
    osap__diag_at(p->ctx->diag, p->tok.pos, "expected %s, found %s", what, found);
    return OSAP_EMODEL_SYNTAX;
}

static osap_err semantic(struct parser *p, struct osap__pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static osap_err semantic(struct parser *p, struct osap__pos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    osap__diag_vat(p->ctx->diag, pos, fmt, ap);
    va_end(ap);
    return OSAP_EMODEL_SEMANTIC;
}

static osap_err expect(struct parser *p, enum osap__tok kind, const char *what)
{
    if (!at(p, kind)) return expected(p, what);
    return next(p);
}

static osap_err expect_kw(struct parser *p, const char *kw)
{
    char what[40];
    if (at_kw(p, kw)) return next(p);
    snprintf(what, sizeof(what), "'%s'", kw);
    return expected(p, what);
}

static void *alloc(struct parser *p, size_t size)
{
    return osap__arena_alloc(p->ctx->arena, size);
}

/* A name token: copied, checked against the name rules, consumed. */
static osap_err take_name(struct parser *p, const char *what, const char **out,
                          struct osap__pos *pos)
{
    if (!at(p, OSAP__TOK_NAME)) {
        char buf[48];
        snprintf(buf, sizeof(buf), "%s name", what);
        return expected(p, buf);
    }
    char *s = osap__arena_strndup(p->ctx->arena, p->tok.start, p->tok.len);
    if (!s) return OSAP_ENOMEM;
    const char *why = osap__name_problem(s);
    if (why) {
        const char *bare = strncmp(what, "an ", 3) == 0  ? what + 3
                           : strncmp(what, "a ", 2) == 0 ? what + 2
                                                         : what;
        return semantic(p, p->tok.pos, "invalid %s name '%.40s': %s", bare, s, why);
    }
    *out = s;
    if (pos) *pos = p->tok.pos;
    return next(p);
}

static osap_err opt_doc(struct parser *p, const char **doc)
{
    if (!at(p, OSAP__TOK_STRING)) return OSAP_OK;
    *doc = p->tok.sval;
    return next(p);
}

static void pos_text(struct osap__pos pos, char *buf, size_t len)
{
    snprintf(buf, len, "%s:%u:%u", pos.file, pos.line, pos.col);
}

/* ---- values (defaults) ---- */

static osap_err parse_value(struct parser *p, int depth, cJSON **out);

static osap_err parse_array_value(struct parser *p, int depth, cJSON **out)
{
    osap_err rc;
    cJSON *arr = cJSON_CreateArray();
    if (!arr) return OSAP_ENOMEM;
    if ((rc = next(p))) goto fail;
    while (!at(p, OSAP__TOK_RBRACKET)) {
        cJSON *item = NULL;
        if ((rc = parse_value(p, depth + 1, &item))) goto fail;
        cJSON_AddItemToArray(arr, item);
        if (at(p, OSAP__TOK_COMMA)) {
            if ((rc = next(p))) goto fail;
        } else if (!at(p, OSAP__TOK_RBRACKET)) {
            rc = expected(p, "',' or ']'");
            goto fail;
        }
    }
    if ((rc = next(p))) goto fail;
    *out = arr;
    return OSAP_OK;
fail:
    cJSON_Delete(arr);
    return rc;
}

static osap_err parse_object_value(struct parser *p, int depth, cJSON **out)
{
    osap_err rc;
    cJSON *obj = cJSON_CreateObject();
    if (!obj) return OSAP_ENOMEM;
    if ((rc = next(p))) goto fail;
    while (!at(p, OSAP__TOK_RBRACE)) {
        char key[OSAP_MODEL_NAME_MAX + 1];
        struct osap__pos kpos = p->tok.pos;
        const char *name = NULL;
        if (at(p, OSAP__TOK_STRING)) {
            name = p->tok.sval;
            const char *why = osap__name_problem(name);
            if (why) {
                rc = semantic(p, kpos, "invalid member name \"%.40s\": %s", name, why);
                goto fail;
            }
            snprintf(key, sizeof(key), "%s", name);
            if ((rc = next(p))) goto fail;
        } else {
            if ((rc = take_name(p, "a member", &name, NULL))) goto fail;
            snprintf(key, sizeof(key), "%s", name);
        }
        if (cJSON_GetObjectItemCaseSensitive(obj, key)) {
            rc = semantic(p, kpos, "member '%s' is given twice", key);
            goto fail;
        }
        if ((rc = expect(p, OSAP__TOK_COLON, "':'"))) goto fail;
        cJSON *item = NULL;
        if ((rc = parse_value(p, depth + 1, &item))) goto fail;
        if (!cJSON_AddItemToObject(obj, key, item)) {
            cJSON_Delete(item);
            rc = OSAP_ENOMEM;
            goto fail;
        }
        if (at(p, OSAP__TOK_COMMA)) {
            if ((rc = next(p))) goto fail;
        } else if (!at(p, OSAP__TOK_RBRACE)) {
            rc = expected(p, "',' or '}'");
            goto fail;
        }
    }
    if ((rc = next(p))) goto fail;
    *out = obj;
    return OSAP_OK;
fail:
    cJSON_Delete(obj);
    return rc;
}

static osap_err parse_value(struct parser *p, int depth, cJSON **out)
{
    cJSON *v = NULL;
    if (depth > VALUE_DEPTH_MAX)
        return semantic(p, p->tok.pos, "value nested more than %d levels deep", VALUE_DEPTH_MAX);
    switch (p->tok.kind) {
    case OSAP__TOK_INT:
    case OSAP__TOK_NUMBER: v = cJSON_CreateNumber(p->tok.dval); break;
    case OSAP__TOK_STRING: v = cJSON_CreateString(p->tok.sval); break;
    case OSAP__TOK_NAME:
        if (at_kw(p, "true")) {
            v = cJSON_CreateTrue();
        } else if (at_kw(p, "false")) {
            v = cJSON_CreateFalse();
        } else if (at_kw(p, "null")) {
            return semantic(p, p->tok.pos, "null is not a value in OSAP models");
        } else {
            /* A bare name is a string: handy for enumerations ("default auto"). */
            char *s = osap__arena_strndup(p->ctx->arena, p->tok.start, p->tok.len);
            if (!s) return OSAP_ENOMEM;
            v = cJSON_CreateString(s);
        }
        break;
    case OSAP__TOK_LBRACKET: return parse_array_value(p, depth, out);
    case OSAP__TOK_LBRACE: return parse_object_value(p, depth, out);
    default: return expected(p, "a value");
    }
    if (!v) return OSAP_ENOMEM;
    osap_err rc = next(p);
    if (rc) {
        cJSON_Delete(v);
        return rc;
    }
    *out = v;
    return OSAP_OK;
}

/* A default value, owned by the compilation's value list. */
static osap_err parse_default(struct parser *p, cJSON **out, struct osap__pos *pos)
{
    cJSON *v = NULL;
    *pos = p->tok.pos;
    osap_err rc = parse_value(p, 0, &v);
    if (rc) return rc;
    cJSON_AddItemToArray(p->ctx->values, v);
    *out = v;
    return OSAP_OK;
}

/* ---- types ---- */

static osap_err parse_type(struct parser *p, bool in_array, struct osap__mtype **out);

static const char *type_phrase(const struct osap__mtype *n, char *buf, size_t len)
{
    if (n->ref) {
        snprintf(buf, len, "the named type '%s'", n->ref);
    } else if (n->t.n_enum) {
        snprintf(buf, len, "an enum");
    } else {
        const char *k = osap__kind_name(n->t.kind);
        snprintf(buf, len, "%s %s", (k[0] == 'i' || k[0] == 'a' || k[0] == 'o') ? "an" : "a", k);
    }
    return buf;
}

static bool clause_applies(const struct osap__mtype *n, const char *kw)
{
    if (n->ref || n->t.n_enum) return false;
    switch (n->t.kind) {
    case OSAP_MODEL_INT:
    case OSAP_MODEL_NUMBER:
        return strcmp(kw, "length") != 0 && strcmp(kw, "items") != 0 && strcmp(kw, "unique") != 0;
    case OSAP_MODEL_STRING: return strcmp(kw, "length") == 0;
    case OSAP_MODEL_ARRAY: return strcmp(kw, "items") == 0 || strcmp(kw, "unique") == 0;
    default: return false;
    }
}

static osap_err take_number(struct parser *p, const struct osap__mtype *n, double *out)
{
    if (n->t.kind == OSAP_MODEL_INT) {
        if (!at(p, OSAP__TOK_INT)) return expected(p, "an integer");
        if (p->tok.ival < INT32_MIN || p->tok.ival > INT32_MAX)
            return semantic(p, p->tok.pos, "%lld is outside the 32-bit integer range",
                            (long long)p->tok.ival);
    } else if (!at(p, OSAP__TOK_INT) && !at(p, OSAP__TOK_NUMBER)) {
        return expected(p, "a number");
    }
    *out = p->tok.dval;
    return next(p);
}

/* "A..B" or "A" (exactly A) of non-negative integers: lengths and item counts. */
static osap_err take_count_range(struct parser *p, size_t *lo, size_t *hi)
{
    int64_t a, b;
    osap_err rc;
    if (!at(p, OSAP__TOK_INT)) return expected(p, "a count");
    if (p->tok.ival < 0) return semantic(p, p->tok.pos, "a count cannot be negative");
    a = b = p->tok.ival;
    if ((rc = next(p))) return rc;
    if (at(p, OSAP__TOK_DOTDOT)) {
        if ((rc = next(p))) return rc;
        if (!at(p, OSAP__TOK_INT)) return expected(p, "a count");
        if (p->tok.ival < 0) return semantic(p, p->tok.pos, "a count cannot be negative");
        b = p->tok.ival;
        if ((rc = next(p))) return rc;
    }
    *lo = (size_t)a;
    *hi = (size_t)b;
    return OSAP_OK;
}

static osap_err parse_clauses(struct parser *p, struct osap__mtype *n, bool in_array)
{
    osap_err rc;
    struct osap__pos cpos = n->pos;
    bool any = false;
    struct osap_model_type *t = &n->t;
    while (at(p, OSAP__TOK_NAME)) {
        const char *kw = NULL;
        for (size_t i = 0; i < sizeof(clause_words) / sizeof(clause_words[0]); i++)
            if (at_kw(p, clause_words[i])) kw = clause_words[i];
        if (!kw) break;
        if (!clause_applies(n, kw)) {
            char phrase[64];
            if (in_array && (strcmp(kw, "items") == 0 || strcmp(kw, "unique") == 0)) break;
            return semantic(p, p->tok.pos, "'%s' does not apply to %s", kw,
                            type_phrase(n, phrase, sizeof(phrase)));
        }
        cpos = p->tok.pos;
        any = true;
        if ((rc = next(p))) return rc;
        bool lower = !strcmp(kw, "range") || !strcmp(kw, "min") || !strcmp(kw, "above");
        bool upper = !strcmp(kw, "range") || !strcmp(kw, "max") || !strcmp(kw, "below");
        if ((lower && (t->flags & OSAP_MODEL_F_MIN)) || (upper && (t->flags & OSAP_MODEL_F_MAX)))
            return semantic(p, cpos, "duplicate %s bound", lower ? "lower" : "upper");
        if (!strcmp(kw, "range")) {
            if ((rc = take_number(p, n, &t->min))) return rc;
            if ((rc = expect(p, OSAP__TOK_DOTDOT, "'..'"))) return rc;
            if ((rc = take_number(p, n, &t->max))) return rc;
            t->flags |= OSAP_MODEL_F_MIN | OSAP_MODEL_F_MAX;
        } else if (!strcmp(kw, "min") || !strcmp(kw, "above")) {
            if ((rc = take_number(p, n, &t->min))) return rc;
            t->flags |= OSAP_MODEL_F_MIN | (kw[0] == 'a' ? OSAP_MODEL_F_MIN_EXCL : 0);
        } else if (!strcmp(kw, "max") || !strcmp(kw, "below")) {
            if ((rc = take_number(p, n, &t->max))) return rc;
            t->flags |= OSAP_MODEL_F_MAX | (kw[0] == 'b' ? OSAP_MODEL_F_MAX_EXCL : 0);
        } else if (!strcmp(kw, "step")) {
            if (t->flags & OSAP_MODEL_F_STEP) return semantic(p, cpos, "duplicate 'step'");
            if ((rc = take_number(p, n, &t->step))) return rc;
            t->flags |= OSAP_MODEL_F_STEP;
        } else if (!strcmp(kw, "unit")) {
            if (t->unit) return semantic(p, cpos, "duplicate 'unit'");
            if (!at(p, OSAP__TOK_STRING)) return expected(p, "a unit string");
            t->unit = p->tok.sval;
            if ((rc = next(p))) return rc;
        } else if (!strcmp(kw, "length")) {
            if (t->flags & OSAP_MODEL_F_LENGTH) return semantic(p, cpos, "duplicate 'length'");
            if ((rc = take_count_range(p, &t->min_length, &t->max_length))) return rc;
            t->flags |= OSAP_MODEL_F_LENGTH;
        } else if (!strcmp(kw, "items")) {
            if (t->flags & OSAP_MODEL_F_ITEMS) return semantic(p, cpos, "duplicate 'items'");
            if ((rc = take_count_range(p, &t->min_items, &t->max_items))) return rc;
            t->flags |= OSAP_MODEL_F_ITEMS;
        } else { /* unique */
            if (t->flags & OSAP_MODEL_F_UNIQUE) return semantic(p, cpos, "duplicate 'unique'");
            t->flags |= OSAP_MODEL_F_UNIQUE;
        }
    }
    if (any) {
        char why[160];
        if (!osap__type_sane(t, why, sizeof(why))) return semantic(p, cpos, "%s", why);
    }
    return OSAP_OK;
}

struct enum_node {
    struct osap_model_enum_value v;
    struct osap__pos pos;
    struct enum_node *next;
};

static osap_err parse_enum(struct parser *p, struct osap__mtype *n)
{
    osap_err rc;
    struct enum_node *head = NULL, **tail = &head;
    size_t count = 0;
    enum osap_model_kind kind = 0;
    if ((rc = expect(p, OSAP__TOK_LBRACE, "'{'"))) return rc;
    if (at(p, OSAP__TOK_RBRACE)) return semantic(p, p->tok.pos, "an enum needs at least one value");
    for (;;) {
        struct enum_node *e = alloc(p, sizeof(*e));
        enum osap_model_kind k;
        if (!e) return OSAP_ENOMEM;
        e->pos = p->tok.pos;
        if (at(p, OSAP__TOK_STRING)) {
            k = OSAP_MODEL_STRING;
            e->v.text = p->tok.sval;
        } else if (at(p, OSAP__TOK_NAME)) {
            k = OSAP_MODEL_STRING;
            e->v.text = osap__arena_strndup(p->ctx->arena, p->tok.start, p->tok.len);
            if (!e->v.text) return OSAP_ENOMEM;
        } else if (at(p, OSAP__TOK_INT)) {
            k = OSAP_MODEL_INT;
            e->v.number = p->tok.ival;
            if (e->v.number < INT32_MIN || e->v.number > INT32_MAX)
                return semantic(p, e->pos, "%lld is outside the 32-bit integer range",
                                (long long)e->v.number);
        } else {
            return expected(p, "an enum value");
        }
        if (kind && k != kind) return semantic(p, e->pos, "an enum mixes strings and integers");
        kind = k;
        for (struct enum_node *o = head; o; o = o->next) {
            bool same = k == OSAP_MODEL_STRING ? strcmp(o->v.text, e->v.text) == 0
                                               : o->v.number == e->v.number;
            if (same) {
                if (k == OSAP_MODEL_STRING)
                    return semantic(p, e->pos, "duplicate enum value \"%.40s\"", e->v.text);
                return semantic(p, e->pos, "duplicate enum value %lld", (long long)e->v.number);
            }
        }
        if (++count > ENUM_VALUES_MAX)
            return semantic(p, e->pos, "an enum has at most %d values", ENUM_VALUES_MAX);
        *tail = e;
        tail = &e->next;
        if ((rc = next(p))) return rc;
        if ((rc = opt_doc(p, &e->v.doc))) return rc;
        if (at(p, OSAP__TOK_COMMA)) {
            if ((rc = next(p))) return rc;
            if (at(p, OSAP__TOK_RBRACE)) break;
        } else if (at(p, OSAP__TOK_RBRACE)) {
            break;
        } else {
            return expected(p, "',' or '}'");
        }
    }
    if ((rc = next(p))) return rc;
    struct osap_model_enum_value *values = osap__arena_array(p->ctx->arena, count, sizeof(*values));
    if (!values) return OSAP_ENOMEM;
    size_t i = 0;
    for (struct enum_node *e = head; e; e = e->next)
        values[i++] = e->v;
    n->t.kind = kind;
    n->t.n_enum = count;
    n->t.enum_values = values;
    return OSAP_OK;
}

/* "{" { member } "}" into object type @p n. */
static osap_err parse_object_body(struct parser *p, struct osap__mtype *n, bool event)
{
    osap_err rc;
    struct osap__mmember *head = NULL, **tail = &head;
    size_t count = 0;
    n->t.kind = OSAP_MODEL_OBJECT;
    if ((rc = expect(p, OSAP__TOK_LBRACE, "'{'"))) return rc;
    while (!at(p, OSAP__TOK_RBRACE)) {
        struct osap__mmember *m = alloc(p, sizeof(*m));
        if (!m) return OSAP_ENOMEM;
        if (!at(p, OSAP__TOK_NAME)) return expected(p, "a member name or '}'");
        if ((rc = take_name(p, "a member", &m->name, &m->pos))) return rc;
        if (event && strcmp(m->name, "basic") == 0)
            return semantic(p, m->pos,
                            "'basic' is reserved in event payloads (devices add it themselves)");
        for (struct osap__mmember *o = head; o; o = o->next) {
            if (strcmp(o->name, m->name) == 0) {
                char where[300];
                pos_text(o->pos, where, sizeof(where));
                return semantic(p, m->pos, "duplicate member '%s' (first defined at %s)", m->name,
                                where);
            }
        }
        if ((rc = expect(p, OSAP__TOK_COLON, "':'"))) return rc;
        if ((rc = parse_type(p, false, &m->type))) return rc;
        bool has_required = false, has_default = false;
        for (;;) {
            if (at_kw(p, "required")) {
                if (has_required) return semantic(p, p->tok.pos, "duplicate 'required'");
                has_required = m->required = true;
                if ((rc = next(p))) return rc;
            } else if (at_kw(p, "default")) {
                if (has_default) return semantic(p, p->tok.pos, "duplicate 'default'");
                has_default = true;
                if ((rc = next(p))) return rc;
                if ((rc = parse_default(p, &m->def, &m->def_pos))) return rc;
            } else {
                break;
            }
        }
        if (m->required && m->def)
            return semantic(p, m->def_pos, "a required member cannot have a default");
        if ((rc = opt_doc(p, &m->doc))) return rc;
        if ((rc = expect(p, OSAP__TOK_SEMI, "';'"))) return rc;
        *tail = m;
        tail = &m->next;
        count++;
    }
    if ((rc = next(p))) return rc;
    struct osap_model_member *members = osap__arena_array(p->ctx->arena, count, sizeof(*members));
    if (!members) return OSAP_ENOMEM;
    size_t i = 0;
    for (struct osap__mmember *m = head; m; m = m->next, i++) {
        members[i].name = m->name;
        members[i].doc = m->doc;
        members[i].type = &m->type->t;
        members[i].required = m->required;
        members[i].default_value = m->def;
    }
    n->member_nodes = head;
    n->t.n_members = count;
    n->t.members = members;
    return OSAP_OK;
}

static osap_err parse_type_inner(struct parser *p, bool in_array, struct osap__mtype *n)
{
    osap_err rc;
    if (at(p, OSAP__TOK_LBRACE)) {
        if ((rc = parse_object_body(p, n, false))) return rc;
        return parse_clauses(p, n, in_array);
    }
    if (!at(p, OSAP__TOK_NAME)) return expected(p, "a type");
    if (at_kw(p, "bool")) {
        n->t.kind = OSAP_MODEL_BOOL;
        if ((rc = next(p))) return rc;
    } else if (at_kw(p, "int") || at_kw(p, "number") || at_kw(p, "string")) {
        n->t.kind = at_kw(p, "int")      ? OSAP_MODEL_INT
                    : at_kw(p, "number") ? OSAP_MODEL_NUMBER
                                         : OSAP_MODEL_STRING;
        if ((rc = next(p))) return rc;
    } else if (at_kw(p, "enum")) {
        if ((rc = next(p))) return rc;
        if ((rc = parse_enum(p, n))) return rc;
    } else if (at_kw(p, "array")) {
        if ((rc = next(p))) return rc;
        if ((rc = expect_kw(p, "of"))) return rc;
        n->t.kind = OSAP_MODEL_ARRAY;
        if ((rc = parse_type(p, true, &n->item_node))) return rc;
        n->t.items = &n->item_node->t;
    } else if (at_kw(p, "object")) {
        if ((rc = next(p))) return rc;
        if (!at(p, OSAP__TOK_LBRACE)) return expected(p, "'{'");
        if ((rc = parse_object_body(p, n, false))) return rc;
    } else {
        if ((rc = take_name(p, "a type", &n->ref, NULL))) return rc;
    }
    return parse_clauses(p, n, in_array);
}

static osap_err parse_type(struct parser *p, bool in_array, struct osap__mtype **out)
{
    struct osap__mtype *n = alloc(p, sizeof(*n));
    if (!n) return OSAP_ENOMEM;
    n->pos = p->tok.pos;
    if (++p->depth > OSAP_MODEL_DEPTH_MAX)
        return semantic(p, n->pos, "type nested more than %d levels deep", OSAP_MODEL_DEPTH_MAX);
    osap_err rc = parse_type_inner(p, in_array, n);
    p->depth--;
    if (rc) return rc;
    *out = n;
    return OSAP_OK;
}

/* ---- declarations ---- */

static osap_err parse_attribute(struct parser *p, struct osap__mdef *d)
{
    osap_err rc;
    bool has_access = false, has_default = false;
    d->kind = OSAP__DEF_ATTRIBUTE;
    d->access = OSAP_MODEL_ACCESS_R;
    if ((rc = take_name(p, "an attribute", &d->id, &d->pos))) return rc;
    if ((rc = expect(p, OSAP__TOK_COLON, "':'"))) return rc;
    if ((rc = parse_type(p, false, &d->type))) return rc;
    for (;;) {
        if (at_kw(p, "access")) {
            if (has_access) return semantic(p, p->tok.pos, "duplicate 'access'");
            has_access = true;
            if ((rc = next(p))) return rc;
            char word[4] = "";
            if (at(p, OSAP__TOK_NAME) && p->tok.len < sizeof(word))
                memcpy(word, p->tok.start, p->tok.len), word[p->tok.len] = '\0';
            if (!osap__access_parse(word, &d->access)) return expected(p, "'r', 'w' or 'rw'");
            if ((rc = next(p))) return rc;
        } else if (at_kw(p, "default")) {
            if (has_default) return semantic(p, p->tok.pos, "duplicate 'default'");
            has_default = true;
            if ((rc = next(p))) return rc;
            if ((rc = parse_default(p, &d->def, &d->def_pos))) return rc;
        } else {
            break;
        }
    }
    if ((rc = opt_doc(p, &d->doc))) return rc;
    return expect(p, OSAP__TOK_SEMI, "';'");
}

static osap_err parse_operation(struct parser *p, struct osap__mdef *d)
{
    osap_err rc;
    d->kind = OSAP__DEF_OPERATION;
    if ((rc = take_name(p, "an operation", &d->id, &d->pos))) return rc;
    if ((rc = opt_doc(p, &d->doc))) return rc;
    if (at(p, OSAP__TOK_SEMI)) return next(p);
    if (!at(p, OSAP__TOK_LBRACE)) return expected(p, "'{' or ';'");
    if ((rc = next(p))) return rc;
    while (!at(p, OSAP__TOK_RBRACE)) {
        bool input = at_kw(p, "input");
        if (!input && !at_kw(p, "output")) return expected(p, "'input', 'output' or '}'");
        struct osap__mtype **slot = input ? &d->input : &d->output;
        if (*slot) return semantic(p, p->tok.pos, "duplicate '%s'", input ? "input" : "output");
        if ((rc = next(p))) return rc;
        if ((rc = parse_type(p, false, slot))) return rc;
        if (at(p, OSAP__TOK_SEMI) && (rc = next(p))) return rc;
    }
    return next(p);
}

static osap_err parse_event(struct parser *p, struct osap__mdef *d)
{
    osap_err rc;
    d->kind = OSAP__DEF_EVENT;
    d->level = OSAP_MODEL_LEVEL_INFO;
    if ((rc = take_name(p, "an event", &d->id, &d->pos))) return rc;
    if (at_kw(p, "level")) {
        if ((rc = next(p))) return rc;
        char word[8] = "";
        if (at(p, OSAP__TOK_NAME) && p->tok.len < sizeof(word))
            memcpy(word, p->tok.start, p->tok.len), word[p->tok.len] = '\0';
        if (!osap__level_parse(word, &d->level)) return expected(p, "'info', 'warning' or 'alarm'");
        if ((rc = next(p))) return rc;
    }
    if ((rc = opt_doc(p, &d->doc))) return rc;
    d->payload = alloc(p, sizeof(*d->payload));
    if (!d->payload) return OSAP_ENOMEM;
    d->payload->pos = p->tok.pos;
    if (at(p, OSAP__TOK_SEMI)) {
        d->payload->t.kind = OSAP_MODEL_OBJECT;
        return next(p);
    }
    if (!at(p, OSAP__TOK_LBRACE)) return expected(p, "'{' or ';'");
    return parse_object_body(p, d->payload, true);
}

static const char *def_kind_name(enum osap__def_kind k)
{
    return k == OSAP__DEF_ATTRIBUTE   ? "an attribute"
           : k == OSAP__DEF_OPERATION ? "an operation"
                                      : "an event";
}

static osap_err parse_domain(struct parser *p, struct osap__mdomain *dom)
{
    osap_err rc;
    struct osap__mdef **tail = &dom->defs;
    if ((rc = next(p))) return rc;
    if ((rc = take_name(p, "a domain", &dom->id, &dom->pos))) return rc;
    if ((rc = opt_doc(p, &dom->doc))) return rc;
    if ((rc = expect(p, OSAP__TOK_LBRACE, "'{'"))) return rc;
    while (!at(p, OSAP__TOK_RBRACE)) {
        struct osap__mdef *d = alloc(p, sizeof(*d));
        if (!d) return OSAP_ENOMEM;
        d->from = p->unit->name;
        if (at_kw(p, "override")) {
            d->override = true;
            if ((rc = next(p))) return rc;
        }
        if (at_kw(p, "attribute")) {
            if ((rc = next(p)) || (rc = parse_attribute(p, d))) return rc;
        } else if (at_kw(p, "operation")) {
            if ((rc = next(p)) || (rc = parse_operation(p, d))) return rc;
        } else if (at_kw(p, "event")) {
            if ((rc = next(p)) || (rc = parse_event(p, d))) return rc;
        } else {
            return expected(p, d->override ? "'attribute', 'operation' or 'event'"
                                           : "'attribute', 'operation', 'event' or '}'");
        }
        for (struct osap__mdef *o = dom->defs; o; o = o->next) {
            if (strcmp(o->id, d->id) == 0) {
                char where[300];
                pos_text(o->pos, where, sizeof(where));
                return semantic(p, d->pos, "'%s' is already defined in domain '%s' as %s at %s",
                                d->id, dom->id, def_kind_name(o->kind), where);
            }
        }
        *tail = d;
        tail = &d->next;
    }
    return next(p);
}

static osap_err parse_indexes(struct parser *p, struct osap__mresource *r)
{
    osap_err rc;
    bool seen[OSAP_MODEL_INDEX_MAX + 1] = {false};
    size_t count = 0;
    r->indexes_pos = p->tok.pos;
    for (;;) {
        struct osap__pos pos = p->tok.pos;
        if (!at(p, OSAP__TOK_INT)) return expected(p, "an index");
        int64_t a = p->tok.ival, b = a;
        if (a < 0 || a > OSAP_MODEL_INDEX_MAX)
            return semantic(p, pos, "index %lld is outside 0..%d", (long long)a,
                            OSAP_MODEL_INDEX_MAX);
        if ((rc = next(p))) return rc;
        if (at(p, OSAP__TOK_DOTDOT)) {
            if ((rc = next(p))) return rc;
            if (!at(p, OSAP__TOK_INT)) return expected(p, "an index");
            b = p->tok.ival;
            if (b < 0 || b > OSAP_MODEL_INDEX_MAX)
                return semantic(p, p->tok.pos, "index %lld is outside 0..%d", (long long)b,
                                OSAP_MODEL_INDEX_MAX);
            if (b < a)
                return semantic(p, pos, "index range %lld..%lld is empty", (long long)a,
                                (long long)b);
            if ((rc = next(p))) return rc;
        }
        for (int64_t i = a; i <= b; i++) {
            if (seen[i]) return semantic(p, pos, "index %lld is listed twice", (long long)i);
            seen[i] = true;
            count++;
        }
        if (!at(p, OSAP__TOK_COMMA)) break;
        if ((rc = next(p))) return rc;
    }
    r->indexes = osap__arena_array(p->ctx->arena, count, sizeof(*r->indexes));
    if (!r->indexes) return OSAP_ENOMEM;
    r->n_indexes = 0;
    for (unsigned i = 0; i <= OSAP_MODEL_INDEX_MAX; i++)
        if (seen[i]) r->indexes[r->n_indexes++] = i;
    r->has_indexes = true;
    return OSAP_OK;
}

static osap_err parse_resource(struct parser *p, struct osap__mresource *r)
{
    osap_err rc;
    struct osap__mdomain **tail = &r->domains;
    if ((rc = next(p))) return rc;
    if ((rc = take_name(p, "a resource", &r->category, &r->pos))) return rc;
    if (at_kw(p, "indexes") || at_kw(p, "index")) {
        if ((rc = next(p)) || (rc = parse_indexes(p, r))) return rc;
    }
    if ((rc = opt_doc(p, &r->doc))) return rc;
    if ((rc = expect(p, OSAP__TOK_LBRACE, "'{'"))) return rc;
    while (!at(p, OSAP__TOK_RBRACE)) {
        if (!at_kw(p, "domain")) return expected(p, "'domain' or '}'");
        struct osap__mdomain *d = alloc(p, sizeof(*d));
        if (!d) return OSAP_ENOMEM;
        if ((rc = parse_domain(p, d))) return rc;
        for (struct osap__mdomain *o = r->domains; o; o = o->next) {
            if (strcmp(o->id, d->id) == 0) {
                char where[300];
                pos_text(o->pos, where, sizeof(where));
                return semantic(p, d->pos, "duplicate domain '%s' in resource '%s' (first at %s)",
                                d->id, r->category, where);
            }
        }
        *tail = d;
        tail = &d->next;
    }
    return next(p);
}

static osap_err parse_typedef(struct parser *p, struct osap__mtypedef *td)
{
    osap_err rc;
    if ((rc = next(p))) return rc;
    struct osap__pos pos = p->tok.pos;
    for (size_t i = 0; i < sizeof(builtin_types) / sizeof(builtin_types[0]); i++)
        if (at_kw(p, builtin_types[i]))
            return semantic(p, pos, "'%s' is a built-in type", builtin_types[i]);
    if ((rc = take_name(p, "a type", &td->name, &td->pos))) return rc;
    if ((rc = expect(p, OSAP__TOK_EQUALS, "'='"))) return rc;
    if ((rc = parse_type(p, false, &td->type))) return rc;
    td->type->t.name = td->name;
    return expect(p, OSAP__TOK_SEMI, "';'");
}

static osap_err parse_header(struct parser *p, struct osap__munit *u)
{
    osap_err rc;
    if (!at_kw(p, "model")) return expected(p, "'model'");
    if ((rc = next(p))) return rc;
    if (!at(p, OSAP__TOK_NAME)) return expected(p, "a model name");
    char *name = osap__arena_strndup(p->ctx->arena, p->tok.start, p->tok.len);
    if (!name) return OSAP_ENOMEM;
    const char *why = osap__model_name_problem(name);
    if (why) return semantic(p, p->tok.pos, "invalid model name '%.40s': %s", name, why);
    u->name = name;
    u->name_pos = p->tok.pos;
    if ((rc = next(p))) return rc;
    if ((rc = expect_kw(p, "version"))) return rc;
    if (!at(p, OSAP__TOK_STRING)) return expected(p, "a version string");
    why = osap__version_problem(p->tok.sval);
    if (why) return semantic(p, p->tok.pos, "invalid version \"%.40s\": %s", p->tok.sval, why);
    u->version = p->tok.sval;
    if ((rc = next(p))) return rc;
    if ((rc = opt_doc(p, &u->doc))) return rc;
    if ((rc = expect(p, OSAP__TOK_SEMI, "';'"))) return rc;

    struct osap__mextends **tail = &u->extends;
    while (at_kw(p, "extends")) {
        if ((rc = next(p))) return rc;
        for (;;) {
            struct osap__mextends *e = alloc(p, sizeof(*e));
            if (!e) return OSAP_ENOMEM;
            e->pos = p->tok.pos;
            if (!at(p, OSAP__TOK_NAME)) return expected(p, "a template name");
            char *tname = osap__arena_strndup(p->ctx->arena, p->tok.start, p->tok.len);
            if (!tname) return OSAP_ENOMEM;
            why = osap__model_name_problem(tname);
            if (why) return semantic(p, e->pos, "invalid template name '%.40s': %s", tname, why);
            for (struct osap__mextends *o = u->extends; o; o = o->next)
                if (strcmp(o->name, tname) == 0)
                    return semantic(p, e->pos, "'%s' is extended twice", tname);
            e->name = tname;
            *tail = e;
            tail = &e->next;
            if ((rc = next(p))) return rc;
            if (!at(p, OSAP__TOK_COMMA)) break;
            if ((rc = next(p))) return rc;
        }
        if ((rc = expect(p, OSAP__TOK_SEMI, "';'"))) return rc;
    }
    return OSAP_OK;
}

osap_err osap__model_parse_unit(struct osap__mctx *ctx, const char *path, const char *text,
                                size_t len, struct osap__munit *unit)
{
    struct parser parser = {.ctx = ctx, .unit = unit};
    struct parser *p = &parser;
    struct osap__mtypedef **td_tail = &unit->typedefs;
    struct osap__mresource **res_tail = &unit->resources;
    osap_err rc;

    memset(unit, 0, sizeof(*unit));
    unit->path = osap__arena_strdup(ctx->arena, path);
    if (!unit->path) return OSAP_ENOMEM;
    unit->name = "";
    osap__lex_init(&p->lx, unit->path, text, len, ctx->arena, ctx->diag);
    if ((rc = next(p))) return rc;
    if ((rc = parse_header(p, unit))) return rc;

    while (!at(p, OSAP__TOK_EOF)) {
        if (at_kw(p, "type")) {
            struct osap__mtypedef *td = alloc(p, sizeof(*td));
            if (!td) return OSAP_ENOMEM;
            if ((rc = parse_typedef(p, td))) return rc;
            for (struct osap__mtypedef *o = unit->typedefs; o; o = o->next) {
                if (strcmp(o->name, td->name) == 0) {
                    char where[300];
                    pos_text(o->pos, where, sizeof(where));
                    return semantic(p, td->pos, "type '%s' is already defined at %s", td->name,
                                    where);
                }
            }
            *td_tail = td;
            td_tail = &td->next;
        } else if (at_kw(p, "resource")) {
            struct osap__mresource *r = alloc(p, sizeof(*r));
            if (!r) return OSAP_ENOMEM;
            if ((rc = parse_resource(p, r))) return rc;
            for (struct osap__mresource *o = unit->resources; o; o = o->next) {
                if (strcmp(o->category, r->category) == 0) {
                    char where[300];
                    pos_text(o->pos, where, sizeof(where));
                    return semantic(p, r->pos, "resource '%s' is already declared at %s",
                                    r->category, where);
                }
            }
            *res_tail = r;
            res_tail = &r->next;
        } else if (at_kw(p, "extends")) {
            return semantic(p, p->tok.pos, "'extends' must come before types and resources");
        } else {
            return expected(p, "'type', 'resource' or end of file");
        }
    }
    return OSAP_OK;
}
