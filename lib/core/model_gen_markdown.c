/* Human documentation of a model, in Markdown, written by osap-modelc next to the code. */
#include "model_internal.h"

#include <stdio.h>
#include <string.h>

/* Text safe inside a table cell: no line breaks, no unescaped '|'. */
static void cell(struct osap__buf *b, const char *s)
{
    if (!s) return;
    for (; *s; s++) {
        if (*s == '|')
            osap__buf_puts(b, "\\|");
        else if (*s == '\n' || *s == '\r')
            osap__buf_puts(b, " ");
        else
            osap__buf_put(b, s, 1);
    }
}

static void type_text(struct osap__buf *b, const struct osap_model_type *t)
{
    char x[32], y[32];
    if (t->name) osap__buf_printf(b, "%s: ", t->name);
    if (t->n_enum) {
        osap__buf_puts(b, "one of ");
        for (size_t i = 0; i < t->n_enum; i++) {
            if (i) osap__buf_puts(b, ", ");
            if (t->kind == OSAP_MODEL_STRING) {
                osap__buf_puts(b, "`\"");
                cell(b, t->enum_values[i].text);
                osap__buf_puts(b, "\"`");
            } else {
                osap__buf_printf(b, "`%lld`", (long long)t->enum_values[i].number);
            }
            if (t->enum_values[i].doc) {
                osap__buf_puts(b, " (");
                cell(b, t->enum_values[i].doc);
                osap__buf_puts(b, ")");
            }
        }
        return;
    }
    osap__buf_puts(b, osap__kind_name(t->kind));
    switch (t->kind) {
    case OSAP_MODEL_INT:
    case OSAP_MODEL_NUMBER:
        if (t->flags & OSAP_MODEL_F_MIN) {
            osap__num_text(t->min, x, sizeof(x));
            osap__buf_printf(b, (t->flags & OSAP_MODEL_F_MIN_EXCL) ? ", > %s" : ", ≥ %s", x);
        }
        if (t->flags & OSAP_MODEL_F_MAX) {
            osap__num_text(t->max, y, sizeof(y));
            osap__buf_printf(b, (t->flags & OSAP_MODEL_F_MAX_EXCL) ? ", < %s" : ", ≤ %s", y);
        }
        if (t->flags & OSAP_MODEL_F_STEP) {
            osap__num_text(t->step, x, sizeof(x));
            osap__buf_printf(b, ", multiple of %s", x);
        }
        if (t->unit) {
            osap__buf_puts(b, ", unit ");
            cell(b, t->unit);
        }
        break;
    case OSAP_MODEL_STRING:
        if (t->flags & OSAP_MODEL_F_LENGTH)
            osap__buf_printf(b, ", %zu to %zu bytes", t->min_length, t->max_length);
        break;
    case OSAP_MODEL_ARRAY:
        osap__buf_puts(b, " of ");
        type_text(b, t->items);
        if (t->flags & OSAP_MODEL_F_ITEMS)
            osap__buf_printf(b, "; %zu to %zu items", t->min_items, t->max_items);
        if (t->flags & OSAP_MODEL_F_UNIQUE) osap__buf_puts(b, "; unique");
        break;
    default: break;
    }
}

static void value_text(struct osap__buf *b, const cJSON *v)
{
    if (!v) return;
    char *s = cJSON_PrintUnformatted(v);
    if (!s) {
        b->failed = true;
        return;
    }
    osap__buf_puts(b, "`");
    cell(b, s);
    osap__buf_puts(b, "`");
    cJSON_free(s);
}

/* One table row per member, nested members as "a.b" and "list[].x". */
static void member_rows(struct osap__buf *b, const struct osap_model_type *t, const char *prefix)
{
    for (size_t i = 0; i < t->n_members; i++) {
        const struct osap_model_member *m = &t->members[i];
        char path[256];
        snprintf(path, sizeof(path), "%s%s", prefix, m->name);
        osap__buf_printf(b, "| `%s` | ", path);
        type_text(b, m->type);
        osap__buf_printf(b, " | %s | ", m->required ? "yes" : "no");
        value_text(b, m->default_value);
        osap__buf_puts(b, " | ");
        cell(b, m->doc);
        osap__buf_puts(b, " |\n");
        const struct osap_model_type *sub = m->type;
        char next[300];
        if (sub->kind == OSAP_MODEL_ARRAY && sub->items->kind == OSAP_MODEL_OBJECT) {
            snprintf(next, sizeof(next), "%s[].", path);
            member_rows(b, sub->items, next);
        } else if (sub->kind == OSAP_MODEL_OBJECT) {
            snprintf(next, sizeof(next), "%s.", path);
            member_rows(b, sub, next);
        }
    }
}

static void value_block(struct osap__buf *b, const char *what, const struct osap_model_type *t)
{
    if (!t) {
        osap__buf_printf(b, "%s: none.\n\n", what);
        return;
    }
    if (t->kind != OSAP_MODEL_OBJECT) {
        osap__buf_printf(b, "%s: ", what);
        type_text(b, t);
        osap__buf_puts(b, ".\n\n");
        if (!(t->kind == OSAP_MODEL_ARRAY && t->items->kind == OSAP_MODEL_OBJECT)) return;
        t = t->items;
        osap__buf_puts(b, "Each item:\n\n");
    } else if (t->n_members == 0) {
        osap__buf_printf(b, "%s: an empty object.\n\n", what);
        return;
    } else {
        osap__buf_printf(b, "%s: an object%s%s.\n\n", what, t->name ? " of type " : "",
                         t->name ? t->name : "");
    }
    osap__buf_puts(b, "| Member | Type | Required | Default | Description |\n");
    osap__buf_puts(b, "|---|---|---|---|---|\n");
    member_rows(b, t, "");
    osap__buf_puts(b, "\n");
}

static void index_text(struct osap__buf *b, const struct osap_model_resource *r)
{
    for (size_t i = 0; i < r->n_indexes;) {
        size_t j = i;
        while (j + 1 < r->n_indexes && r->indexes[j + 1] == r->indexes[j] + 1)
            j++;
        if (i) osap__buf_puts(b, ", ");
        if (j > i)
            osap__buf_printf(b, "%u–%u", r->indexes[i], r->indexes[j]);
        else
            osap__buf_printf(b, "%u", r->indexes[i]);
        i = j + 1;
    }
}

static void domain_md(struct osap__buf *b, const char *model, const struct osap_model_resource *r,
                      const struct osap_model_domain *d)
{
    osap__buf_printf(b, "### Domain `%s`\n\n", d->identifier);
    if (d->doc) osap__buf_printf(b, "%s\n\n", d->doc);
    if (d->n_attributes) {
        osap__buf_puts(b, "#### Attributes\n\n");
        osap__buf_puts(b, "| Identifier | Type | Access | Default | Description |\n");
        osap__buf_puts(b, "|---|---|---|---|---|\n");
        for (size_t i = 0; i < d->n_attributes; i++) {
            const struct osap_model_attribute *a = &d->attributes[i];
            osap__buf_printf(b, "| `%s` | ", a->identifier);
            type_text(b, a->type);
            osap__buf_printf(b, " | %s | ", osap_model_access_name(a->access));
            value_text(b, a->default_value);
            osap__buf_puts(b, " | ");
            cell(b, a->doc);
            if (strcmp(a->from, model) != 0) osap__buf_printf(b, " *(from `%s`)*", a->from);
            osap__buf_puts(b, " |\n");
        }
        osap__buf_printf(b,
                         "\nSet with `model/attribute/set/%s/<Identifier>` and "
                         "`{\"data\":{\"Value\":<value>}}` on resource `<index>-%s`; the device "
                         "reports values through `basic/shadow/report`.\n\n",
                         d->identifier, r->category);
        for (size_t i = 0; i < d->n_attributes; i++)
            if (d->attributes[i].type->kind == OSAP_MODEL_OBJECT ||
                (d->attributes[i].type->kind == OSAP_MODEL_ARRAY &&
                 d->attributes[i].type->items->kind == OSAP_MODEL_OBJECT)) {
                char what[80];
                snprintf(what, sizeof(what), "Value of `%s`", d->attributes[i].identifier);
                value_block(b, what, d->attributes[i].type);
            }
    }
    if (d->n_operations) {
        osap__buf_puts(b, "#### Operations\n\n");
        for (size_t i = 0; i < d->n_operations; i++) {
            const struct osap_model_operation *o = &d->operations[i];
            osap__buf_printf(b, "##### `%s`\n\n", o->identifier);
            if (strcmp(o->from, model) != 0) osap__buf_printf(b, "From `%s`.\n\n", o->from);
            if (o->doc) osap__buf_printf(b, "%s\n\n", o->doc);
            osap__buf_printf(b,
                             "Invoke with `model/service/operate/%s/%s` and `{\"data\":<input>}`; "
                             "the reply is `{\"code\":<n>,\"data\":<output>}`.\n\n",
                             d->identifier, o->identifier);
            value_block(b, "Input", o->input);
            value_block(b, "Output", o->output);
        }
    }
    if (d->n_events) {
        osap__buf_puts(b, "#### Events\n\n");
        for (size_t i = 0; i < d->n_events; i++) {
            const struct osap_model_event *ev = &d->events[i];
            osap__buf_printf(b, "##### `%s` (%s)\n\n", ev->identifier,
                             osap_model_level_name(ev->level));
            if (ev->doc) osap__buf_printf(b, "%s\n\n", ev->doc);
            if (strcmp(ev->from, model) != 0) osap__buf_printf(b, "From `%s`.\n\n", ev->from);
            osap__buf_printf(b,
                             "Reported on `model/event/report/%s/%s`; devices add "
                             "`\"basic\":{\"dateTime\",\"UUID\"}`.\n\n",
                             d->identifier, ev->identifier);
            value_block(b, "Payload", ev->payload);
        }
    }
}

osap_err osap_model_to_markdown(const osap_model_t *m, char **out)
{
    struct osap__buf b;
    if (!m || !out) return OSAP_EINVAL;
    osap__buf_init(&b);
    osap__buf_printf(&b, "# Thing model `%s` %s\n\n", m->name, m->version);
    osap__buf_puts(&b, "Generated by osap-modelc; do not edit.\n\n");
    if (m->doc) osap__buf_printf(&b, "%s\n\n", m->doc);
    if (m->n_extends) {
        osap__buf_puts(&b, "Extends ");
        for (size_t i = 0; i < m->n_extends; i++)
            osap__buf_printf(&b, "%s`%s`", i ? ", " : "", m->extends[i]);
        osap__buf_puts(&b, ".\n\n");
    }
    osap__buf_puts(&b, "| Resource | Local indexes | Domains | Description |\n");
    osap__buf_puts(&b, "|---|---|---|---|\n");
    for (size_t i = 0; i < m->n_resources; i++) {
        const struct osap_model_resource *r = &m->resources[i];
        osap__buf_printf(&b, "| `%s` | ", r->category);
        index_text(&b, r);
        osap__buf_puts(&b, " | ");
        for (size_t j = 0; j < r->n_domains; j++)
            osap__buf_printf(&b, "%s`%s`", j ? ", " : "", r->domains[j].identifier);
        osap__buf_puts(&b, " | ");
        cell(&b, r->doc);
        osap__buf_puts(&b, " |\n");
    }
    osap__buf_puts(&b, "\n");
    for (size_t i = 0; i < m->n_resources; i++) {
        const struct osap_model_resource *r = &m->resources[i];
        osap__buf_printf(&b, "## Resource `%s` (indexes ", r->category);
        index_text(&b, r);
        osap__buf_puts(&b, ")\n\n");
        if (r->doc) osap__buf_printf(&b, "%s\n\n", r->doc);
        osap__buf_printf(&b, "Addressed on the wire as `<index>-%s`, e.g. `%u-%s`.\n\n",
                         r->category, r->indexes[0], r->category);
        for (size_t j = 0; j < r->n_domains; j++)
            domain_md(&b, m->name, r, &r->domains[j]);
    }
    return osap__buf_take(&b, out);
}
