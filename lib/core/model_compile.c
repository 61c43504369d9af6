/*
 * The model compiler: loads the templates a model extends, resolves named
 * types, checks defaults, merges templates and model by the rules of
 * docs/MODEL.md ("Templates and overrides") and builds the read-only model.
 */
#include "model_internal.h"

#include "osap/alloc.h"

#include <stdio.h>
#include <string.h>

#define EXTENDS_DEPTH_MAX 16
#define TEXT_MAX          (1u << 20)

/* Per-unit merged view: shells that point at the (shared, immutable) definitions. */
struct mdefref {
    struct osap__mdef *def;
    struct mdefref *next;
};

struct mdom {
    const char *id, *doc;
    struct osap__pos pos;
    struct mdefref *defs;
    struct mdom *next;
};

struct mres {
    const char *category, *doc;
    struct osap__pos pos;
    bool has_indexes;
    size_t n_indexes;
    const unsigned *indexes;
    const char *indexes_from;
    struct mdom *doms;
    struct mres *next;
};

struct mtdref {
    struct osap__mtypedef *td;
    const char *from;
    struct mtdref *next;
};

enum { UNIT_VISITING = 1, UNIT_DONE = 2 };

struct cunit {
    struct osap__munit unit;
    int state;
    struct mres *res;
    struct mtdref *scope;
    struct cunit *next;
};

struct compiler {
    struct osap__mctx ctx;
    const struct osap_model_loader *loader;
    struct cunit *units;
    const char *stack[EXTENDS_DEPTH_MAX + 2];
    int depth;
};

static osap_err fail_at(struct compiler *c, osap_err rc, struct osap__pos pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static osap_err fail_at(struct compiler *c, osap_err rc, struct osap__pos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    osap__diag_vat(c->ctx.diag, pos, fmt, ap);
    va_end(ap);
    return rc;
}

static void pos_text(struct osap__pos pos, char *buf, size_t len)
{
    snprintf(buf, len, "%s:%u:%u", pos.file, pos.line, pos.col);
}

static void *alloc(struct compiler *c, size_t size)
{
    return osap__arena_alloc(c->ctx.arena, size);
}

static struct cunit *find_unit(struct compiler *c, const char *name)
{
    for (struct cunit *u = c->units; u; u = u->next)
        if (u->unit.name && strcmp(u->unit.name, name) == 0) return u;
    return NULL;
}

static struct mtdref *find_typedef(struct cunit *u, const char *name)
{
    for (struct mtdref *r = u->scope; r; r = r->next)
        if (strcmp(r->td->name, name) == 0) return r;
    return NULL;
}

static struct mres *find_res(struct cunit *u, const char *category)
{
    for (struct mres *r = u->res; r; r = r->next)
        if (strcmp(r->category, category) == 0) return r;
    return NULL;
}

static struct mdom *find_dom(struct mres *r, const char *id)
{
    for (struct mdom *d = r->doms; d; d = d->next)
        if (strcmp(d->id, id) == 0) return d;
    return NULL;
}

static struct mdefref *find_def(struct mdom *d, const char *id)
{
    for (struct mdefref *x = d->defs; x; x = x->next)
        if (strcmp(x->def->id, id) == 0) return x;
    return NULL;
}

static struct mres *add_res(struct compiler *c, struct cunit *u, const char *category,
                            struct osap__pos pos)
{
    struct mres *r = alloc(c, sizeof(*r)), **tail = &u->res;
    if (!r) return NULL;
    r->category = category;
    r->pos = pos;
    while (*tail)
        tail = &(*tail)->next;
    *tail = r;
    return r;
}

static struct mdom *add_dom(struct compiler *c, struct mres *r, const char *id,
                            struct osap__pos pos)
{
    struct mdom *d = alloc(c, sizeof(*d)), **tail = &r->doms;
    if (!d) return NULL;
    d->id = id;
    d->pos = pos;
    while (*tail)
        tail = &(*tail)->next;
    *tail = d;
    return d;
}

static bool add_def(struct compiler *c, struct mdom *d, struct osap__mdef *def)
{
    struct mdefref *x = alloc(c, sizeof(*x)), **tail = &d->defs;
    if (!x) return false;
    x->def = def;
    while (*tail)
        tail = &(*tail)->next;
    *tail = x;
    return true;
}

static const char *kind_phrase(enum osap__def_kind k)
{
    return k == OSAP__DEF_ATTRIBUTE   ? "an attribute"
           : k == OSAP__DEF_OPERATION ? "an operation"
                                      : "an event";
}

/* ---- templates ---- */

static bool same_indexes(const struct mres *a, const struct mres *b)
{
    return a->n_indexes == b->n_indexes &&
           (a->n_indexes == 0 ||
            memcmp(a->indexes, b->indexes, a->n_indexes * sizeof(*a->indexes)) == 0);
}

/* Bring what template @p t provides into @p u; conflicts between two templates are errors. */
static osap_err merge_template(struct compiler *c, struct cunit *u, struct cunit *t,
                               const struct osap__mextends *e)
{
    char a[300], b[300];
    for (struct mtdref *r = t->scope; r; r = r->next) {
        struct mtdref *have = find_typedef(u, r->td->name);
        if (have) {
            if (have->td == r->td) continue;
            return fail_at(c, OSAP_EMODEL_SEMANTIC, e->pos,
                           "type '%s' is defined by both '%s' and '%s'", r->td->name, have->from,
                           r->from);
        }
        struct mtdref *n = alloc(c, sizeof(*n)), **tail = &u->scope;
        if (!n) return OSAP_ENOMEM;
        *n = *r;
        n->next = NULL;
        while (*tail)
            tail = &(*tail)->next;
        *tail = n;
    }
    for (struct mres *r = t->res; r; r = r->next) {
        struct mres *R = find_res(u, r->category);
        if (!R) {
            if (!(R = add_res(c, u, r->category, r->pos))) return OSAP_ENOMEM;
            R->doc = r->doc;
        } else if (!R->doc) {
            R->doc = r->doc;
        }
        if (r->has_indexes) {
            if (!R->has_indexes) {
                R->has_indexes = true;
                R->n_indexes = r->n_indexes;
                R->indexes = r->indexes;
                R->indexes_from = r->indexes_from;
            } else if (!same_indexes(R, r)) {
                return fail_at(c, OSAP_EMODEL_SEMANTIC, e->pos,
                               "templates '%s' and '%s' give resource '%s' different indexes",
                               R->indexes_from, r->indexes_from, r->category);
            }
        }
        for (struct mdom *d = r->doms; d; d = d->next) {
            struct mdom *D = find_dom(R, d->id);
            if (!D) {
                if (!(D = add_dom(c, R, d->id, d->pos))) return OSAP_ENOMEM;
                D->doc = d->doc;
            } else if (!D->doc) {
                D->doc = d->doc;
            }
            for (struct mdefref *x = d->defs; x; x = x->next) {
                struct mdefref *have = find_def(D, x->def->id);
                if (have) {
                    if (have->def == x->def) continue;
                    pos_text(have->def->pos, a, sizeof(a));
                    pos_text(x->def->pos, b, sizeof(b));
                    return fail_at(c, OSAP_EMODEL_SEMANTIC, e->pos,
                                   "'%s' in domain '%s' of resource '%s' is defined by both '%s' "
                                   "(%s) and '%s' (%s)",
                                   x->def->id, d->id, r->category, have->def->from, a, x->def->from,
                                   b);
                }
                if (!add_def(c, D, x->def)) return OSAP_ENOMEM;
            }
        }
    }
    return OSAP_OK;
}

static osap_err compile_unit(struct compiler *c, struct cunit *u);

static osap_err load_template(struct compiler *c, struct cunit *u, const struct osap__mextends *e,
                              struct cunit **out)
{
    char *path = NULL, *text = NULL;
    size_t len = 0;
    osap_err rc;
    struct cunit *t;

    if (c->depth >= EXTENDS_DEPTH_MAX)
        return fail_at(c, OSAP_EMODEL_SEMANTIC, e->pos, "templates nested more than %d deep",
                       EXTENDS_DEPTH_MAX);
    if (!c->loader || !c->loader->read)
        return fail_at(c, OSAP_EMODEL_TEMPLATE, e->pos,
                       "template '%s' not found (no template loader)", e->name);
    rc = c->loader->read(c->loader->userdata, e->name, u->unit.path, &path, &text, &len);
    if (rc) path = text = NULL; /* not ours on failure */
    if (rc == OSAP_ENOMEM) goto out;
    if (rc == OSAP_ENOTFOUND) {
        rc = fail_at(c, OSAP_EMODEL_TEMPLATE, e->pos, "template '%s' not found", e->name);
        goto out;
    }
    if (rc) {
        rc = fail_at(c, OSAP_EMODEL_TEMPLATE, e->pos, "cannot read template '%s': %s", e->name,
                     osap_strerror(rc));
        goto out;
    }
    if (len > TEXT_MAX) {
        rc =
            fail_at(c, OSAP_EMODEL_TEMPLATE, e->pos, "template '%s' is larger than 1 MiB", e->name);
        goto out;
    }
    if (!(t = alloc(c, sizeof(*t)))) {
        rc = OSAP_ENOMEM;
        goto out;
    }
    rc = osap__model_parse_unit(&c->ctx, path ? path : e->name, text ? text : "", len, &t->unit);
    if (rc) goto out;
    if (strcmp(t->unit.name, e->name) != 0) {
        rc = fail_at(c, OSAP_EMODEL_SEMANTIC, t->unit.name_pos,
                     "this file defines model '%s' but was loaded as template '%s'", t->unit.name,
                     e->name);
        goto out;
    }
    t->state = UNIT_VISITING;
    t->next = c->units;
    c->units = t;
    rc = compile_unit(c, t);
    if (rc) goto out;
    *out = t;
out:
    osap_free(path);
    osap_free(text);
    return rc;
}

/* ---- named types ---- */

static osap_err resolve(struct compiler *c, struct cunit *u, struct osap__mtype *n)
{
    osap_err rc;
    if (n->state == 2) return OSAP_OK;
    n->state = 1;
    if (n->ref) {
        struct mtdref *r = find_typedef(u, n->ref);
        if (!r) return fail_at(c, OSAP_EMODEL_SEMANTIC, n->pos, "unknown type '%s'", n->ref);
        struct osap__mtype *target = r->td->type;
        if (target->state == 1)
            return fail_at(c, OSAP_EMODEL_SEMANTIC, n->pos, "type '%s' contains itself", n->ref);
        if ((rc = resolve(c, u, target))) return rc;
        const char *keep = n->t.name;
        n->t = target->t;
        if (keep) n->t.name = keep;
        n->depth = target->depth;
    } else if (n->t.kind == OSAP_MODEL_ARRAY) {
        if ((rc = resolve(c, u, n->item_node))) return rc;
        n->depth = n->item_node->depth + 1;
    } else if (n->t.kind == OSAP_MODEL_OBJECT) {
        int deepest = 0;
        for (struct osap__mmember *m = n->member_nodes; m; m = m->next) {
            if ((rc = resolve(c, u, m->type))) return rc;
            if (m->type->depth > deepest) deepest = m->type->depth;
        }
        n->depth = deepest + 1;
    } else {
        n->depth = 1;
    }
    if (n->depth > OSAP_MODEL_DEPTH_MAX)
        return fail_at(c, OSAP_EMODEL_SEMANTIC, n->pos, "type nested more than %d levels deep",
                       OSAP_MODEL_DEPTH_MAX);
    n->state = 2;
    return OSAP_OK;
}

static osap_err check_default(struct compiler *c, const struct osap_model_type *t, const cJSON *v,
                              struct osap__pos pos)
{
    char path[256] = "default";
    char msg[400];
    struct osap__diag d;
    osap__diag_init(&d, msg, sizeof(msg));
    osap_err rc = osap__validate(t, v, path, strlen(path), sizeof(path), false, &d);
    if (rc == OSAP_EMODEL_VALIDATION) return fail_at(c, OSAP_EMODEL_SEMANTIC, pos, "%s", msg);
    return rc;
}

/* Defaults of members written in this unit (named types are walked once, as typedefs). */
static osap_err check_member_defaults(struct compiler *c, const struct osap__mtype *n)
{
    osap_err rc;
    if (!n || n->ref) return OSAP_OK;
    if (n->item_node && (rc = check_member_defaults(c, n->item_node))) return rc;
    for (const struct osap__mmember *m = n->member_nodes; m; m = m->next) {
        if (m->def && (rc = check_default(c, &m->type->t, m->def, m->def_pos))) return rc;
        if ((rc = check_member_defaults(c, m->type))) return rc;
    }
    return OSAP_OK;
}

static osap_err resolve_def(struct compiler *c, struct cunit *u, struct osap__mdef *d)
{
    osap_err rc;
    struct osap__mtype *types[3] = {d->type, d->input, d->output};
    if (d->kind == OSAP__DEF_EVENT) types[0] = d->payload;
    for (int i = 0; i < 3; i++) {
        if (!types[i]) continue;
        if ((rc = resolve(c, u, types[i]))) return rc;
        if ((rc = check_member_defaults(c, types[i]))) return rc;
    }
    if (d->kind == OSAP__DEF_ATTRIBUTE && d->def)
        return check_default(c, &d->type->t, d->def, d->def_pos);
    return OSAP_OK;
}

/* ---- one unit ---- */

static osap_err merge_own(struct compiler *c, struct cunit *u)
{
    char where[300];
    for (struct osap__mresource *r = u->unit.resources; r; r = r->next) {
        struct mres *R = find_res(u, r->category);
        if (!R && !(R = add_res(c, u, r->category, r->pos))) return OSAP_ENOMEM;
        if (r->doc) R->doc = r->doc;
        if (r->has_indexes) {
            R->has_indexes = true;
            R->n_indexes = r->n_indexes;
            R->indexes = r->indexes;
            R->indexes_from = u->unit.name;
        }
        for (struct osap__mdomain *d = r->domains; d; d = d->next) {
            struct mdom *D = find_dom(R, d->id);
            if (!D && !(D = add_dom(c, R, d->id, d->pos))) return OSAP_ENOMEM;
            if (d->doc) D->doc = d->doc;
            for (struct osap__mdef *def = d->defs; def; def = def->next) {
                struct mdefref *have = find_def(D, def->id);
                if (have) {
                    pos_text(have->def->pos, where, sizeof(where));
                    if (!def->override)
                        return fail_at(c, OSAP_EMODEL_SEMANTIC, def->pos,
                                       "'%s' in domain '%s' is already defined by template '%s' "
                                       "at %s (write 'override' to redefine it)",
                                       def->id, d->id, have->def->from, where);
                    if (have->def->kind != def->kind)
                        return fail_at(c, OSAP_EMODEL_SEMANTIC, def->pos,
                                       "'%s' is %s in template '%s' (%s); an override must be "
                                       "%s too",
                                       def->id, kind_phrase(have->def->kind), have->def->from,
                                       where, kind_phrase(have->def->kind));
                    have->def = def;
                } else {
                    if (def->override)
                        return fail_at(c, OSAP_EMODEL_SEMANTIC, def->pos,
                                       "nothing to override: no template defines '%s' in domain "
                                       "'%s' of resource '%s'",
                                       def->id, d->id, r->category);
                    if (!add_def(c, D, def)) return OSAP_ENOMEM;
                }
            }
        }
    }
    return OSAP_OK;
}

static osap_err compile_unit(struct compiler *c, struct cunit *u)
{
    osap_err rc;
    c->stack[c->depth++] = u->unit.name;
    for (const struct osap__mextends *e = u->unit.extends; e; e = e->next) {
        struct cunit *t = find_unit(c, e->name);
        if (t && t->state == UNIT_VISITING) {
            char chain[400] = "";
            size_t n = 0;
            int i = 0;
            while (i < c->depth && strcmp(c->stack[i], e->name) != 0)
                i++;
            for (; i < c->depth && n < sizeof(chain); i++) {
                int w = snprintf(chain + n, sizeof(chain) - n, "%s -> ", c->stack[i]);
                if (w > 0) n += (size_t)w;
            }
            return fail_at(c, OSAP_EMODEL_SEMANTIC, e->pos, "extends cycle: %s%s", chain, e->name);
        }
        if (!t && (rc = load_template(c, u, e, &t))) return rc;
        if ((rc = merge_template(c, u, t, e))) return rc;
    }

    /* Named types of this unit, then every type it writes. */
    for (struct osap__mtypedef *td = u->unit.typedefs; td; td = td->next) {
        struct mtdref *have = find_typedef(u, td->name);
        if (have) {
            char where[300];
            pos_text(have->td->pos, where, sizeof(where));
            return fail_at(c, OSAP_EMODEL_SEMANTIC, td->pos,
                           "type '%s' is already defined by template '%s' at %s", td->name,
                           have->from, where);
        }
        struct mtdref *n = alloc(c, sizeof(*n)), **tail = &u->scope;
        if (!n) return OSAP_ENOMEM;
        n->td = td;
        n->from = u->unit.name;
        while (*tail)
            tail = &(*tail)->next;
        *tail = n;
    }
    for (struct osap__mtypedef *td = u->unit.typedefs; td; td = td->next) {
        if ((rc = resolve(c, u, td->type))) return rc;
        if ((rc = check_member_defaults(c, td->type))) return rc;
    }
    for (struct osap__mresource *r = u->unit.resources; r; r = r->next)
        for (struct osap__mdomain *d = r->domains; d; d = d->next)
            for (struct osap__mdef *def = d->defs; def; def = def->next)
                if ((rc = resolve_def(c, u, def))) return rc;

    if ((rc = merge_own(c, u))) return rc;
    u->state = UNIT_DONE;
    c->depth--;
    return OSAP_OK;
}

/* ---- the model ---- */

static osap_err finalize(struct compiler *c, struct cunit *u, struct osap_model *m)
{
    static const unsigned index_zero = 0;
    size_t n = 0;
    for (struct mres *r = u->res; r; r = r->next)
        n++;
    if (n == 0)
        return fail_at(c, OSAP_EMODEL_SEMANTIC, u->unit.name_pos, "model '%s' defines no resources",
                       u->unit.name);
    m->name = u->unit.name;
    m->version = u->unit.version;
    m->doc = u->unit.doc;
    for (const struct osap__mextends *e = u->unit.extends; e; e = e->next)
        m->n_extends++;
    m->extends = osap__arena_array(&m->arena, m->n_extends, sizeof(*m->extends));
    m->resources = osap__arena_array(&m->arena, n, sizeof(*m->resources));
    if (!m->extends || !m->resources) return OSAP_ENOMEM;
    size_t i = 0;
    for (const struct osap__mextends *e = u->unit.extends; e; e = e->next)
        m->extends[i++] = e->name;
    m->n_resources = n;

    i = 0;
    for (struct mres *r = u->res; r; r = r->next, i++) {
        struct osap_model_resource *R = &m->resources[i];
        size_t nd = 0;
        for (struct mdom *d = r->doms; d; d = d->next)
            nd++;
        if (nd == 0)
            return fail_at(c, OSAP_EMODEL_SEMANTIC, r->pos, "resource '%s' has no domains",
                           r->category);
        R->category = r->category;
        R->doc = r->doc;
        R->n_indexes = r->has_indexes ? r->n_indexes : 1;
        R->indexes = r->has_indexes ? r->indexes : &index_zero;
        struct osap_model_domain *doms = osap__arena_array(&m->arena, nd, sizeof(*doms));
        if (!doms) return OSAP_ENOMEM;
        R->domains = doms;
        R->n_domains = nd;
        size_t j = 0;
        for (struct mdom *d = r->doms; d; d = d->next, j++) {
            struct osap_model_domain *D = &doms[j];
            size_t na = 0, no = 0, ne = 0;
            for (struct mdefref *x = d->defs; x; x = x->next) {
                if (x->def->kind == OSAP__DEF_ATTRIBUTE) na++;
                if (x->def->kind == OSAP__DEF_OPERATION) no++;
                if (x->def->kind == OSAP__DEF_EVENT) ne++;
            }
            struct osap_model_attribute *attrs = osap__arena_array(&m->arena, na, sizeof(*attrs));
            struct osap_model_operation *ops = osap__arena_array(&m->arena, no, sizeof(*ops));
            struct osap_model_event *evs = osap__arena_array(&m->arena, ne, sizeof(*evs));
            if (!attrs || !ops || !evs) return OSAP_ENOMEM;
            D->identifier = d->id;
            D->doc = d->doc;
            D->attributes = attrs;
            D->operations = ops;
            D->events = evs;
            for (struct mdefref *x = d->defs; x; x = x->next) {
                const struct osap__mdef *def = x->def;
                if (def->kind == OSAP__DEF_ATTRIBUTE) {
                    struct osap_model_attribute *a = &attrs[D->n_attributes++];
                    a->identifier = def->id;
                    a->doc = def->doc;
                    a->from = def->from;
                    a->access = def->access;
                    a->type = &def->type->t;
                    a->default_value = def->def;
                } else if (def->kind == OSAP__DEF_OPERATION) {
                    struct osap_model_operation *o = &ops[D->n_operations++];
                    o->identifier = def->id;
                    o->doc = def->doc;
                    o->from = def->from;
                    o->input = def->input ? &def->input->t : NULL;
                    o->output = def->output ? &def->output->t : NULL;
                } else {
                    struct osap_model_event *ev = &evs[D->n_events++];
                    ev->identifier = def->id;
                    ev->doc = def->doc;
                    ev->from = def->from;
                    ev->level = def->level;
                    ev->payload = &def->payload->t;
                }
            }
        }
    }
    return OSAP_OK;
}

osap_err osap_model_parse(const char *path, const char *text, size_t len,
                          const struct osap_model_loader *loader, osap_model_t **out, char *err,
                          size_t errlen)
{
    struct osap__diag diag;
    struct compiler c;
    struct osap_model *m = NULL;
    struct cunit *u;
    osap_err rc;

    osap__diag_init(&diag, err, errlen);
    if (!path || (!text && len) || !out) {
        osap__diag_plain(&diag, "invalid argument");
        return OSAP_EINVAL;
    }
    if (len > TEXT_MAX) {
        struct osap__pos pos = {path, 1, 1};
        osap__diag_at(&diag, pos, "model text is larger than 1 MiB");
        return OSAP_ETOOBIG;
    }
    if (!(m = osap__model_new())) {
        rc = OSAP_ENOMEM;
        goto out;
    }
    memset(&c, 0, sizeof(c));
    c.ctx.arena = &m->arena;
    c.ctx.values = m->values;
    c.ctx.diag = &diag;
    c.loader = loader;
    if (!(u = alloc(&c, sizeof(*u)))) {
        rc = OSAP_ENOMEM;
        goto out;
    }
    if ((rc = osap__model_parse_unit(&c.ctx, path, text ? text : "", len, &u->unit))) goto out;
    u->state = UNIT_VISITING;
    c.units = u;
    if ((rc = compile_unit(&c, u))) goto out;
    if ((rc = finalize(&c, u, m))) goto out;
    *out = m;
    m = NULL;
out:
    if (rc == OSAP_ENOMEM) osap__diag_plain(&diag, "out of memory");
    osap_model_free(m);
    return rc;
}
