/*
 * The C header osap-modelc writes for firmware (docs/MODEL.md, "C header"):
 * constants for resources, domains and identifiers, typed structs for values,
 * operation inputs and outputs and event payloads, handler function types and
 * a handler table. Self-contained C11: it includes only standard headers.
 */
#include "model_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

struct reg {
    const char *name;
    const char *what;
    struct reg *next;
};

struct gen {
    const struct osap_model *m;
    struct osap__arena tmp;
    struct osap__buf consts, enums, types, fns, table;
    struct reg *names; /* ordinary identifiers: macros, typedefs */
    struct reg *tags;  /* struct tags */
    struct osap__diag *diag;
    osap_err rc;
    bool any_handler;
};

static const char *const c_reserved[] = {"auto",          "break",
                                         "case",          "char",
                                         "const",         "continue",
                                         "default",       "do",
                                         "double",        "else",
                                         "enum",          "extern",
                                         "float",         "for",
                                         "goto",          "if",
                                         "inline",        "int",
                                         "long",          "register",
                                         "restrict",      "return",
                                         "short",         "signed",
                                         "sizeof",        "static",
                                         "struct",        "switch",
                                         "typedef",       "union",
                                         "unsigned",      "void",
                                         "volatile",      "while",
                                         "bool",          "true",
                                         "false",         "_Alignas",
                                         "_Alignof",      "_Atomic",
                                         "_Bool",         "_Complex",
                                         "_Generic",      "_Imaginary",
                                         "_Noreturn",     "_Static_assert",
                                         "_Thread_local", NULL};

static char *tmp_printf(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *tmp_printf(struct gen *g, const char *fmt, ...)
{
    char small[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    char *s = osap__arena_strdup(&g->tmp, small);
    if (!s && !g->rc) g->rc = OSAP_ENOMEM;
    return s ? s : "";
}

/* "DeviceInfo" -> "device_info", "NTPServer" -> "ntp_server", "IpAddress" -> "ip_address". */
static char *snake(struct gen *g, const char *s)
{
    char out[128];
    size_t n = 0, len = strlen(s);
    for (size_t i = 0; i < len && n + 2 < sizeof(out); i++) {
        char c = s[i];
        if (isupper((unsigned char)c)) {
            char prev = i ? s[i - 1] : '_';
            char nxt = i + 1 < len ? s[i + 1] : '_';
            bool brk = i > 0 && prev != '_' &&
                       (islower((unsigned char)prev) || isdigit((unsigned char)prev) ||
                        (isupper((unsigned char)prev) && islower((unsigned char)nxt)));
            if (brk && n && out[n - 1] != '_') out[n++] = '_';
            out[n++] = (char)tolower((unsigned char)c);
        } else {
            out[n++] = c;
        }
    }
    out[n] = '\0';
    return tmp_printf(g, "%s", out);
}

static char *upper(struct gen *g, const char *s)
{
    char *u = tmp_printf(g, "%s", s);
    for (char *p = u; *p; p++)
        *p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
    return u;
}

/* A struct field name: snake case, with '_' appended to C keywords. */
static char *field_name(struct gen *g, const char *member)
{
    char *f = snake(g, member);
    for (const char *const *k = c_reserved; *k; k++)
        if (strcmp(f, *k) == 0) return tmp_printf(g, "%s_", f);
    return f;
}

/* 1: new name; 0: already registered for the same thing; -1: conflict (diagnosed). */
static int reg(struct gen *g, struct reg **list, const char *name, const char *what)
{
    for (struct reg *r = *list; r; r = r->next) {
        if (strcmp(r->name, name) != 0) continue;
        if (strcmp(r->what, what) == 0) return 0;
        osap__diag_plain(g->diag, "C name '%s' would stand for both %s and %s; rename one of them",
                         name, r->what, what);
        if (!g->rc) g->rc = OSAP_EMODEL_SEMANTIC;
        return -1;
    }
    struct reg *r = osap__arena_alloc(&g->tmp, sizeof(*r));
    if (!r) {
        if (!g->rc) g->rc = OSAP_ENOMEM;
        return -1;
    }
    r->name = name;
    r->what = what;
    r->next = *list;
    *list = r;
    return 1;
}

/* A doc comment at @p indent; "*" "/" inside the text is broken apart. */
/* A doc comment at @p indent, wrapped at spaces near 96 columns; "*" "/" inside the
 * text is broken apart. */
static void comment(struct osap__buf *b, const char *indent, const char *doc, const char *extra)
{
    if ((!doc || !*doc) && (!extra || !*extra)) return;
    osap__buf_printf(b, "%s/** ", indent);
    size_t col = strlen(indent) + 4;
    const char *parts[2] = {doc, extra};
    bool first = true;
    for (int k = 0; k < 2; k++) {
        const char *s = parts[k];
        if (!s || !*s) continue;
        if (!first) {
            osap__buf_puts(b, " ");
            col++;
        }
        first = false;
        for (; *s; s++) {
            size_t word = 0;
            if (*s == ' ')
                while (s[1 + word] && s[1 + word] != ' ' && s[1 + word] != '\n')
                    word++;
            if (*s == '\n' || (*s == ' ' && col + 1 + word > 96)) {
                osap__buf_printf(b, "\n%s * ", indent);
                col = strlen(indent) + 3;
            } else if (*s == '*' && s[1] == '/') {
                osap__buf_puts(b, "* ");
                col += 2;
            } else if ((unsigned char)*s >= 0x20 || *s == '\t') {
                osap__buf_put(b, s, 1);
                /* Count characters, not UTF-8 continuation bytes. */
                if (((unsigned char)*s & 0xC0) != 0x80) col++;
            }
        }
    }
    osap__buf_puts(b, " */\n");
}

static void constraints(const struct osap_model_type *t, char *buf, size_t len)
{
    char a[32], b[32];
    size_t n = 0;
    buf[0] = '\0';
#define ADD(...)                                                         \
    do {                                                                 \
        int w_ = snprintf(buf + n, len - n, __VA_ARGS__);                \
        if (w_ > 0) n = n + (size_t)w_ < len ? n + (size_t)w_ : len - 1; \
    } while (0)
    if (t->n_enum) {
        ADD("[one of:");
        for (size_t i = 0; i < t->n_enum && i < 12; i++) {
            if (t->kind == OSAP_MODEL_STRING)
                ADD(" \"%.24s\"", t->enum_values[i].text);
            else
                ADD(" %lld", (long long)t->enum_values[i].number);
        }
        ADD("%s]", t->n_enum > 12 ? " ..." : "");
        return;
    }
    if ((t->kind == OSAP_MODEL_INT || t->kind == OSAP_MODEL_NUMBER) &&
        (t->flags & (OSAP_MODEL_F_MIN | OSAP_MODEL_F_MAX | OSAP_MODEL_F_STEP) || t->unit)) {
        ADD("[");
        if (t->flags & OSAP_MODEL_F_MIN) {
            osap__num_text(t->min, a, sizeof(a));
            ADD("%s%s", (t->flags & OSAP_MODEL_F_MIN_EXCL) ? ">" : "", a);
        }
        if (t->flags & (OSAP_MODEL_F_MIN | OSAP_MODEL_F_MAX)) ADD("..");
        if (t->flags & OSAP_MODEL_F_MAX) {
            osap__num_text(t->max, b, sizeof(b));
            ADD("%s%s", (t->flags & OSAP_MODEL_F_MAX_EXCL) ? "<" : "", b);
        }
        if (t->flags & OSAP_MODEL_F_STEP) {
            osap__num_text(t->step, a, sizeof(a));
            ADD(" step %s", a);
        }
        if (t->unit) ADD(" %s", t->unit);
        ADD("]");
    }
    if (t->kind == OSAP_MODEL_STRING && (t->flags & OSAP_MODEL_F_LENGTH))
        ADD("[%zu..%zu bytes]", t->min_length, t->max_length);
    if (t->kind == OSAP_MODEL_ARRAY && (t->flags & OSAP_MODEL_F_ITEMS))
        ADD("[%zu..%zu items%s]", t->min_items, t->max_items,
            (t->flags & OSAP_MODEL_F_UNIQUE) ? ", unique" : "");
#undef ADD
}

static const char *ctype(struct gen *g, const struct osap_model_type *t, const char *ctx);

/* Macros for the values of a string enumeration. */
static void enum_macros(struct gen *g, const struct osap_model_type *t, const char *ctx)
{
    const char *prefix = t->name ? tmp_printf(g, "%s_%s", g->m->name, snake(g, t->name)) : ctx;
    char *up = upper(g, prefix);
    for (size_t i = 0; i < t->n_enum; i++) {
        const char *v = t->enum_values[i].text;
        const char *mac = tmp_printf(g, "%s_%s", up, *v ? upper(g, v) : "EMPTY");
        char *quoted = tmp_printf(g, "\"%s\"", v);
        int r = reg(g, &g->names, mac, tmp_printf(g, "the enum value %s", quoted));
        if (r <= 0) continue;
        comment(&g->enums, "", t->enum_values[i].doc, NULL);
        osap__buf_printf(&g->enums, "#define %s ", mac);
        /* A C string literal: escape what C needs. */
        osap__buf_puts(&g->enums, "\"");
        for (const char *s = v; *s; s++) {
            if (*s == '"' || *s == '\\')
                osap__buf_printf(&g->enums, "\\%c", *s);
            else if ((unsigned char)*s < 0x20)
                osap__buf_printf(&g->enums, "\\%03o", (unsigned char)*s);
            else
                osap__buf_put(&g->enums, s, 1);
        }
        osap__buf_puts(&g->enums, "\"\n");
    }
}

/* What a struct tag stands for: a named type by its name (one name, one type, even
 * where loading made copies), an anonymous one by where its members live. */
static const char *identity(struct gen *g, const struct osap_model_type *t, const char *name)
{
    const void *p = t->kind == OSAP_MODEL_ARRAY ? (const void *)t->items : (const void *)t->members;
    if (t->name) return tmp_printf(g, "the type %s", t->name);
    return p ? tmp_printf(g, "the values at %p", p) : tmp_printf(g, "the values of %s", name);
}

static void emit_object(struct gen *g, const struct osap_model_type *t, const char *name)
{
    struct osap__buf body;
    struct reg *fields = NULL;
    osap__buf_init(&body);
    for (size_t i = 0; i < t->n_members && !g->rc; i++) {
        const struct osap_model_member *mb = &t->members[i];
        char *f = field_name(g, mb->name);
        const char *ft = ctype(g, mb->type, tmp_printf(g, "%s_%s", name, snake(g, mb->name)));
        char cons[200];
        constraints(mb->type, cons, sizeof(cons));
        const char *what = tmp_printf(g, "member '%s'", mb->name);
        if (reg(g, &fields, f, what) < 0) break;
        comment(&body, "    ", mb->doc, cons);
        size_t fl = strlen(ft);
        osap__buf_printf(&body, "    %s%s%s;\n", ft, fl && ft[fl - 1] == '*' ? "" : " ", f);
        if (!mb->required) {
            char *has = tmp_printf(g, "has_%s", f);
            if (reg(g, &fields, has, tmp_printf(g, "the presence of member '%s'", mb->name)) < 0)
                break;
            osap__buf_printf(&body, "    bool %s; /**< '%s' is present */\n", has, mb->name);
        }
    }
    if (t->n_members == 0) osap__buf_puts(&body, "    char unused; /**< C needs a member */\n");
    osap__buf_printf(&g->types, "struct %s {\n", name);
    osap__buf_put(&g->types, body.data ? body.data : "", body.len);
    osap__buf_puts(&g->types, "};\n\n");
    if (body.failed && !g->rc) g->rc = OSAP_ENOMEM;
    osap__buf_release(&body);
}

static void emit_array(struct gen *g, const struct osap_model_type *t, const char *name)
{
    const char *et = ctype(g, t->items, tmp_printf(g, "%s_item", name));
    size_t el = strlen(et);
    char cons[200];
    constraints(t, cons, sizeof(cons));
    osap__buf_printf(&g->types, "struct %s {\n", name);
    if (el && et[el - 1] == '*')
        osap__buf_printf(&g->types, "    %sconst *items;\n", et);
    else
        osap__buf_printf(&g->types, "    const %s *items;\n", et);
    osap__buf_printf(&g->types, "    size_t count;%s%s%s\n};\n\n", *cons ? " /**< " : "", cons,
                     *cons ? " */" : "");
}

/* The C type of a value of @p t; emits the structs and macros it needs. */
static const char *ctype(struct gen *g, const struct osap_model_type *t, const char *ctx)
{
    switch (t->kind) {
    case OSAP_MODEL_BOOL: return "bool";
    case OSAP_MODEL_INT: return "int32_t";
    case OSAP_MODEL_NUMBER: return "double";
    case OSAP_MODEL_STRING:
        if (t->n_enum) enum_macros(g, t, ctx);
        return "const char *";
    case OSAP_MODEL_ARRAY:
    case OSAP_MODEL_OBJECT: {
        const char *name = t->name ? tmp_printf(g, "%s_%s", g->m->name, snake(g, t->name)) : ctx;
        if (reg(g, &g->tags, name, identity(g, t, name)) == 1) {
            if (t->kind == OSAP_MODEL_ARRAY)
                emit_array(g, t, name);
            else
                emit_object(g, t, name);
        }
        return tmp_printf(g, "struct %s", name);
    }
    }
    return "void";
}

static void define(struct gen *g, struct osap__buf *b, const char *name, const char *value,
                   const char *doc)
{
    if (reg(g, &g->names, name, tmp_printf(g, "the constant %s", value)) != 1) return;
    comment(b, "", doc, NULL);
    osap__buf_printf(b, "#define %s %s\n", name, value);
}

/* "T value" for a parameter that passes a value in. */
static const char *param_in(struct gen *g, const char *ct, const char *name)
{
    if (strncmp(ct, "struct ", 7) == 0) return tmp_printf(g, "const %s *%s", ct, name);
    size_t n = strlen(ct);
    return tmp_printf(g, "%s%s%s", ct, ct[n - 1] == '*' ? "" : " ", name);
}

/* "T *value" for a parameter the handler fills. */
static const char *param_out(struct gen *g, const char *ct, const char *name)
{
    size_t n = strlen(ct);
    return tmp_printf(g, "%s%s*%s", ct, ct[n - 1] == '*' ? "" : " ", name);
}

/* A handler type; parameters go to a line of their own, or one per line, when long. */
static void fn_type(struct gen *g, const char *fn, const char *doc, const char *params)
{
    if (reg(g, &g->names, fn, tmp_printf(g, "the handler type %s", fn)) != 1) return;
    comment(&g->fns, "", doc, NULL);
    const char *all =
        tmp_printf(g, "const char *rid, %s%svoid *userdata", params, *params ? ", " : "");
    size_t head = strlen("typedef int (*") + strlen(fn) + strlen(")(");
    if (head + strlen(all) + 2 <= 100) {
        osap__buf_printf(&g->fns, "typedef int (*%s)(%s);\n\n", fn, all);
    } else if (4 + strlen(all) + 2 <= 100) {
        osap__buf_printf(&g->fns, "typedef int (*%s)(\n    %s);\n\n", fn, all);
    } else {
        osap__buf_printf(&g->fns, "typedef int (*%s)(\n    const char *rid,\n", fn);
        for (const char *p = params; *p;) {
            const char *comma = strstr(p, ", ");
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            osap__buf_printf(&g->fns, "    %.*s,\n", (int)n, p);
            p += n + (comma ? 2 : 0);
        }
        osap__buf_puts(&g->fns, "    void *userdata);\n\n");
    }
}

static void table_field(struct gen *g, const char *type, const char *field, const char *doc)
{
    comment(&g->table, "    ", doc, NULL);
    if (4 + strlen(type) + 1 + strlen(field) + 1 <= 100)
        osap__buf_printf(&g->table, "    %s %s;\n", type, field);
    else
        osap__buf_printf(&g->table, "    %s\n        %s;\n", type, field);
    g->any_handler = true;
}

static void gen_domain(struct gen *g, const struct osap_model_resource *r,
                       const struct osap_model_domain *d, struct reg **table_fields)
{
    const char *p = g->m->name;
    const char *rs = snake(g, r->category), *ds = snake(g, d->identifier);
    const char *du = upper(g, ds);
    define(g, &g->consts, tmp_printf(g, "%s_DOMAIN_%s", upper(g, p), du),
           tmp_printf(g, "\"%s\"", d->identifier), d->doc);

    for (size_t i = 0; i < d->n_attributes && !g->rc; i++) {
        const struct osap_model_attribute *a = &d->attributes[i];
        const char *is = snake(g, a->identifier);
        const char *ctx = tmp_printf(g, "%s_%s_%s_%s", p, rs, ds, is);
        const char *field = tmp_printf(g, "%s_%s_%s", rs, ds, is);
        define(g, &g->consts, upper(g, tmp_printf(g, "%s_%s_%s", p, ds, is)),
               tmp_printf(g, "\"%s\"", a->identifier), a->doc);
        const char *ct = ctype(g, a->type, ctx);
        char cons[200];
        constraints(a->type, cons, sizeof(cons));
        const char *doc = tmp_printf(g, "Attribute %s/%s of resource %s (access %s)%s%s",
                                     d->identifier, a->identifier, r->category,
                                     osap_model_access_name(a->access), *cons ? " " : "", cons);
        if (a->access & OSAP_MODEL_ACCESS_R) {
            const char *fn = tmp_printf(g, "%s_get_fn", ctx);
            fn_type(g, fn, tmp_printf(g, "%s: read the current value into *value.", doc),
                    param_out(g, ct, "value"));
            const char *f = tmp_printf(g, "%s_get", field);
            if (reg(g, table_fields, f, ctx) >= 0) table_field(g, fn, f, a->doc);
        }
        if (a->access & OSAP_MODEL_ACCESS_W) {
            const char *fn = tmp_printf(g, "%s_set_fn", ctx);
            fn_type(g, fn, tmp_printf(g, "%s: apply a value set by the platform.", doc),
                    param_in(g, ct, "value"));
            const char *f = tmp_printf(g, "%s_set", field);
            if (reg(g, table_fields, f, ctx) >= 0) table_field(g, fn, f, a->doc);
        }
    }
    for (size_t i = 0; i < d->n_operations && !g->rc; i++) {
        const struct osap_model_operation *o = &d->operations[i];
        const char *is = snake(g, o->identifier);
        const char *ctx = tmp_printf(g, "%s_%s_%s_%s", p, rs, ds, is);
        define(g, &g->consts, upper(g, tmp_printf(g, "%s_%s_%s", p, ds, is)),
               tmp_printf(g, "\"%s\"", o->identifier), o->doc);
        const char *params = "";
        if (o->input)
            params = param_in(g, ctype(g, o->input, tmp_printf(g, "%s_input", ctx)), "input");
        if (o->output) {
            const char *po =
                param_out(g, ctype(g, o->output, tmp_printf(g, "%s_output", ctx)), "output");
            params = *params ? tmp_printf(g, "%s, %s", params, po) : po;
        }
        const char *fn = tmp_printf(g, "%s_fn", ctx);
        fn_type(g, fn,
                tmp_printf(g,
                           "Operation %s/%s of resource %s: return 0 on success, else the "
                           "code the reply carries.",
                           d->identifier, o->identifier, r->category),
                params);
        const char *f = tmp_printf(g, "%s_%s_%s", rs, ds, is);
        if (reg(g, table_fields, f, ctx) >= 0) table_field(g, fn, f, o->doc);
    }
    for (size_t i = 0; i < d->n_events && !g->rc; i++) {
        const struct osap_model_event *ev = &d->events[i];
        const char *is = snake(g, ev->identifier);
        const char *ctx = tmp_printf(g, "%s_%s_%s_%s", p, rs, ds, is);
        define(g, &g->consts, upper(g, tmp_printf(g, "%s_%s_%s", p, ds, is)),
               tmp_printf(g, "\"%s\"", ev->identifier), ev->doc);
        define(g, &g->consts, tmp_printf(g, "%s_LEVEL", upper(g, ctx)),
               tmp_printf(g, "\"%s\"", osap_model_level_name(ev->level)), NULL);
        ctype(g, ev->payload, tmp_printf(g, "%s_event", ctx));
    }
}

osap_err osap_model_to_c_header(const osap_model_t *m, char **out, char *err, size_t errlen)
{
    struct osap__diag diag;
    struct gen g;
    struct reg *table_fields = NULL;
    osap_err rc;

    osap__diag_init(&diag, err, errlen);
    if (!m || !out) {
        osap__diag_plain(&diag, "invalid argument");
        return OSAP_EINVAL;
    }
    memset(&g, 0, sizeof(g));
    g.m = m;
    g.diag = &diag;
    osap__arena_init(&g.tmp);
    osap__buf_init(&g.consts);
    osap__buf_init(&g.enums);
    osap__buf_init(&g.types);
    osap__buf_init(&g.fns);
    osap__buf_init(&g.table);

    const char *pu = upper(&g, m->name);
    define(&g, &g.consts, tmp_printf(&g, "%s_MODEL_NAME", pu), tmp_printf(&g, "\"%s\"", m->name),
           "Name of the thing model.");
    define(&g, &g.consts, tmp_printf(&g, "%s_MODEL_VERSION", pu),
           tmp_printf(&g, "\"%s\"", m->version), "Version of the thing model.");
    for (size_t i = 0; i < m->n_resources && !g.rc; i++) {
        const struct osap_model_resource *r = &m->resources[i];
        const char *ru = upper(&g, snake(&g, r->category));
        osap__buf_puts(&g.consts, "\n");
        define(&g, &g.consts, tmp_printf(&g, "%s_RESOURCE_%s", pu, ru),
               tmp_printf(&g, "\"%s\"", r->category),
               r->doc ? r->doc : "Resource category (the part after '-' in topics).");
        define(&g, &g.consts, tmp_printf(&g, "%s_RESOURCE_%s_INDEX_COUNT", pu, ru),
               tmp_printf(&g, "%zu", r->n_indexes), "Number of local indexes.");
        struct osap__buf list;
        osap__buf_init(&list);
        osap__buf_puts(&list, "{");
        for (size_t j = 0; j < r->n_indexes; j++)
            osap__buf_printf(&list, "%s%u", j ? ", " : "", r->indexes[j]);
        osap__buf_puts(&list, "}");
        char *idx = list.failed ? NULL : osap__arena_strdup(&g.tmp, list.data);
        osap__buf_release(&list);
        if (!idx) {
            g.rc = OSAP_ENOMEM;
            break;
        }
        define(&g, &g.consts, tmp_printf(&g, "%s_RESOURCE_%s_INDEXES", pu, ru), idx,
               "Initializer listing the local indexes.");
        for (size_t j = 0; j < r->n_domains && !g.rc; j++)
            gen_domain(&g, r, &r->domains[j], &table_fields);
    }
    if (!g.any_handler) osap__buf_puts(&g.table, "    char unused; /**< C needs a member */\n");
    if ((rc = g.rc)) goto out;

    struct osap__buf h;
    osap__buf_init(&h);
    osap__buf_printf(&h,
                     "/*\n"
                     " * Thing model \"%s\" version %s, for firmware.\n"
                     " * Generated by osap-modelc from the OSAP thing model; do not edit.\n"
                     " *\n"
                     " * Strings and arrays in inputs point into the request and are valid\n"
                     " * during the handler call only. Strings and arrays a handler returns\n"
                     " * must stay valid until the handler is called again. Optional members\n"
                     " * carry a has_<member> flag. Handlers return 0 on success, otherwise the\n"
                     " * code reported to the platform.\n"
                     " */\n",
                     m->name, m->version);
    if (m->doc) {
        osap__buf_puts(&h, "\n");
        comment(&h, "", m->doc, NULL);
    }
    osap__buf_printf(&h, "#ifndef %s_MODEL_H\n#define %s_MODEL_H\n\n", pu, pu);
    osap__buf_puts(&h, "#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n\n");
    osap__buf_puts(&h, "/* ---- names on the wire ---- */\n\n");
    osap__buf_put(&h, g.consts.data ? g.consts.data : "", g.consts.len);
    if (g.enums.len) {
        osap__buf_puts(&h, "\n/* ---- enumeration values ---- */\n\n");
        osap__buf_put(&h, g.enums.data, g.enums.len);
    }
    osap__buf_puts(&h, "\n/* ---- values ---- */\n\n");
    osap__buf_put(&h, g.types.data ? g.types.data : "", g.types.len);
    osap__buf_puts(&h, "/* ---- handlers ---- */\n\n");
    osap__buf_put(&h, g.fns.data ? g.fns.data : "", g.fns.len);
    osap__buf_printf(&h, "/** Every handler of model \"%s\"; NULL for those not implemented. */\n",
                     m->name);
    osap__buf_printf(&h, "struct %s_handlers {\n", m->name);
    osap__buf_put(&h, g.table.data ? g.table.data : "", g.table.len);
    osap__buf_puts(&h, "};\n\n");
    osap__buf_printf(&h, "#endif /* %s_MODEL_H */\n", pu);
    if (g.consts.failed || g.enums.failed || g.types.failed || g.fns.failed || g.table.failed)
        h.failed = true;
    rc = osap__buf_take(&h, out);
out:
    if (rc == OSAP_ENOMEM) osap__diag_plain(&diag, "out of memory");
    osap__buf_release(&g.consts);
    osap__buf_release(&g.enums);
    osap__buf_release(&g.types);
    osap__buf_release(&g.fns);
    osap__buf_release(&g.table);
    osap__arena_release(&g.tmp);
    return rc;
}
