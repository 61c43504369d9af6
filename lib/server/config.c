/* The configuration registry and loader (see config.h). */
#include "config.h"

#include "osap/alloc.h"
#include "util.h"

#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

/* Stop collecting messages after this many: the first ones are what matters. */
#define MAX_ERRORS 50

/* Where a value came from. */
#define ORIGIN_DEFAULT 0
#define ORIGIN_SET     (-1)
#define ORIGIN_NONE    (-2)

struct slot {
    char *text;    /* the value as given */
    int origin;    /* file line, ORIGIN_DEFAULT or ORIGIN_SET */
    unsigned load; /* which load set it (duplicate detection) */
};

struct section {
    const struct osap_cfg_table *table;
    void *data;
    struct slot *slots;
    size_t n_items;
};

struct osap_config {
    struct section *sections;
    size_t n_sections;
    size_t cap_sections;
    char *path;
    char *errors;
    size_t errors_len;
    size_t n_errors;
    unsigned loads;
};

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

__attribute__((format(printf, 2, 3))) static void cfg_error(struct osap_config *cfg,
                                                            const char *fmt, ...)
{
    char line[512];
    va_list ap;
    size_t n;
    char *grown;

    if (cfg->n_errors >= MAX_ERRORS) return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (++cfg->n_errors == MAX_ERRORS) snprintf(line, sizeof(line), "(more errors not shown)");
    n = strlen(line);
    grown = osap_realloc(cfg->errors, cfg->errors_len + n + 2);
    if (!grown) return;
    cfg->errors = grown;
    memcpy(cfg->errors + cfg->errors_len, line, n);
    cfg->errors[cfg->errors_len + n] = '\n';
    cfg->errors[cfg->errors_len + n + 1] = '\0';
    cfg->errors_len += n + 1;
}

const char *osap_config_errors(const struct osap_config *cfg)
{
    return cfg->errors ? cfg->errors : "";
}

/* ------------------------------------------------------------------------ */
/* Lookup                                                                   */
/* ------------------------------------------------------------------------ */

static struct section *find_section(const struct osap_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_sections; i++)
        if (strcmp(cfg->sections[i].table->section, name) == 0) return &cfg->sections[i];
    return NULL;
}

static long find_item(const struct section *sec, const char *name)
{
    for (size_t i = 0; i < sec->n_items; i++)
        if (strcmp(sec->table->items[i].name, name) == 0) return (long)i;
    return -1;
}

const void *osap_config_section(const struct osap_config *cfg, const char *section)
{
    const struct section *sec = find_section(cfg, section);
    return sec ? sec->data : NULL;
}

size_t osap_config_table_count(const struct osap_config *cfg)
{
    return cfg->n_sections;
}

const struct osap_cfg_table *osap_config_table_at(const struct osap_config *cfg, size_t i)
{
    return i < cfg->n_sections ? cfg->sections[i].table : NULL;
}

const char *osap_config_path(const struct osap_config *cfg)
{
    return cfg->path;
}

int osap_config_origin(const struct osap_config *cfg, const char *section, const char *name)
{
    const struct section *sec = find_section(cfg, section);
    long i = sec ? find_item(sec, name) : -1;
    return i < 0 ? ORIGIN_NONE : sec->slots[i].origin;
}

const char *osap_config_text(const struct osap_config *cfg, const char *section, const char *name)
{
    const struct section *sec = find_section(cfg, section);
    long i = sec ? find_item(sec, name) : -1;
    return i < 0 ? NULL : sec->slots[i].text;
}

const char *osap_cfg_type_name(enum osap_cfg_type type)
{
    switch (type) {
    case OSAP_CFG_STRING: return "string";
    case OSAP_CFG_INT: return "int";
    case OSAP_CFG_BOOL: return "bool";
    case OSAP_CFG_SIZE: return "size";
    case OSAP_CFG_DURATION: return "duration";
    case OSAP_CFG_LIST: return "list";
    case OSAP_CFG_ADDRESS: return "address";
    case OSAP_CFG_PATH: return "path";
    }
    return "?";
}

/* ------------------------------------------------------------------------ */
/* Formatting of limits                                                     */
/* ------------------------------------------------------------------------ */

static void format_size(uint64_t v, char *buf, size_t cap)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    while (u + 1 < sizeof(units) / sizeof(units[0]) && v >= 1024 && v % 1024 == 0) {
        v /= 1024;
        u++;
    }
    snprintf(buf, cap, "%" PRIu64 "%s", v, units[u]);
}

static void format_duration(int64_t ms, char *buf, size_t cap)
{
    static const struct {
        const char *name;
        int64_t ms;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"min", 60000}, {"s", 1000}};
    if (ms == 0) {
        snprintf(buf, cap, "0");
        return;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (ms % units[i].ms == 0) {
            snprintf(buf, cap, "%" PRId64 "%s", ms / units[i].ms, units[i].name);
            return;
        }
    }
    snprintf(buf, cap, "%" PRId64 "ms", ms);
}

static void format_limit(const struct osap_cfg_item *it, int64_t v, char *buf, size_t cap)
{
    if (it->type == OSAP_CFG_SIZE)
        format_size((uint64_t)v, buf, cap);
    else if (it->type == OSAP_CFG_DURATION)
        format_duration(v, buf, cap);
    else
        snprintf(buf, cap, "%" PRId64, v);
}

static bool has_range(const struct osap_cfg_item *it)
{
    return it->min != 0 || it->max != 0;
}

/* "a, b, c" from "a|b|c". */
static void format_choices(const char *choices, char *buf, size_t cap)
{
    size_t o = 0;
    for (const char *p = choices; *p && o + 3 < cap; p++) {
        if (*p == '|') {
            buf[o++] = ',';
            buf[o++] = ' ';
        } else {
            buf[o++] = *p;
        }
    }
    buf[o] = '\0';
}

static bool choice_ok(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0) return true;
        if (!bar) break;
        p = bar + 1;
    }
    return false;
}

/* ------------------------------------------------------------------------ */
/* Applying a value                                                         */
/* ------------------------------------------------------------------------ */

static void *field(struct section *sec, const struct osap_cfg_item *it)
{
    return (char *)sec->data + it->offset;
}

static void release_value(struct section *sec, const struct osap_cfg_item *it)
{
    switch (it->type) {
    case OSAP_CFG_STRING:
    case OSAP_CFG_ADDRESS:
    case OSAP_CFG_PATH: {
        char **p = field(sec, it);
        osap_free(*p);
        *p = NULL;
        break;
    }
    case OSAP_CFG_LIST: osap_strlist_release(field(sec, it)); break;
    default: break;
    }
}

/* Parse @p text for item @p idx of @p sec and store it. @p where prefixes messages
 * ("file:12" or "--log-json" or "built-in default"). */
static osap_err apply(struct osap_config *cfg, struct section *sec, size_t idx, const char *text,
                      int origin, const char *where)
{
    const struct osap_cfg_item *it = &sec->table->items[idx];
    const char *sname = sec->table->section;
    const char *shown = (it->flags & OSAP_CFG_SECRET) ? "(secret)" : text;
    char lo[32], hi[32], choices[256];
    char *copy = NULL, *strval = NULL;
    int64_t i64 = 0;
    uint64_t u64 = 0;
    bool b = false;
    struct osap_strlist list = {0, NULL};
    osap_err err;

    if (has_range(it)) {
        format_limit(it, it->min, lo, sizeof(lo));
        format_limit(it, it->max, hi, sizeof(hi));
    }
    switch (it->type) {
    case OSAP_CFG_INT:
        if (osap_cfg_parse_int(text, &i64) != OSAP_OK) {
            cfg_error(cfg, "%s: [%s] %s: '%s' is not an integer", where, sname, it->name, shown);
            return OSAP_ECONFIG;
        }
        if (has_range(it) && (i64 < it->min || i64 > it->max)) {
            cfg_error(cfg, "%s: [%s] %s: %s is out of range (%s..%s)", where, sname, it->name,
                      shown, lo, hi);
            return OSAP_ECONFIG;
        }
        *(int64_t *)field(sec, it) = i64;
        break;
    case OSAP_CFG_BOOL:
        if (osap_cfg_parse_bool(text, &b) != OSAP_OK) {
            cfg_error(cfg, "%s: [%s] %s: '%s' is not a boolean (yes/no, true/false, on/off, 1/0)",
                      where, sname, it->name, shown);
            return OSAP_ECONFIG;
        }
        *(bool *)field(sec, it) = b;
        break;
    case OSAP_CFG_SIZE:
        if (osap_cfg_parse_size(text, &u64) != OSAP_OK) {
            cfg_error(cfg, "%s: [%s] %s: '%s' is not a size (e.g. 512, 16KiB, 1MiB, 2GiB)", where,
                      sname, it->name, shown);
            return OSAP_ECONFIG;
        }
        if (has_range(it) && ((int64_t)u64 < it->min || (int64_t)u64 > it->max)) {
            cfg_error(cfg, "%s: [%s] %s: %s is out of range (%s..%s)", where, sname, it->name,
                      shown, lo, hi);
            return OSAP_ECONFIG;
        }
        *(uint64_t *)field(sec, it) = u64;
        break;
    case OSAP_CFG_DURATION:
        if (osap_cfg_parse_duration(text, &i64) != OSAP_OK) {
            cfg_error(cfg,
                      "%s: [%s] %s: '%s' is not a duration (e.g. 100ms, 5s, 2min, 1h, 1d; a unit "
                      "is required)",
                      where, sname, it->name, shown);
            return OSAP_ECONFIG;
        }
        if (has_range(it) && (i64 < it->min || i64 > it->max)) {
            cfg_error(cfg, "%s: [%s] %s: %s is out of range (%s..%s)", where, sname, it->name,
                      shown, lo, hi);
            return OSAP_ECONFIG;
        }
        *(int64_t *)field(sec, it) = i64;
        break;
    case OSAP_CFG_LIST:
        err = osap_cfg_parse_list(text, &list);
        if (err == OSAP_ENOMEM) return err;
        if (err != OSAP_OK) {
            cfg_error(cfg,
                      "%s: [%s] %s: '%s' is not a list (comma-separated, no empty or "
                      "repeated items)",
                      where, sname, it->name, shown);
            return OSAP_ECONFIG;
        }
        if (it->max > 0 && list.n > (size_t)it->max) {
            cfg_error(cfg, "%s: [%s] %s: more than %" PRId64 " items", where, sname, it->name,
                      it->max);
            osap_strlist_release(&list);
            return OSAP_ECONFIG;
        }
        for (size_t k = 0; it->choices && k < list.n; k++) {
            if (!choice_ok(it->choices, list.v[k])) {
                format_choices(it->choices, choices, sizeof(choices));
                cfg_error(cfg, "%s: [%s] %s: '%s' is not one of %s", where, sname, it->name,
                          list.v[k], choices);
                osap_strlist_release(&list);
                return OSAP_ECONFIG;
            }
        }
        osap_strlist_release(field(sec, it));
        *(struct osap_strlist *)field(sec, it) = list;
        break;
    case OSAP_CFG_STRING:
    case OSAP_CFG_ADDRESS:
    case OSAP_CFG_PATH:
        if (it->max > 0 && strlen(text) > (size_t)it->max) {
            cfg_error(cfg, "%s: [%s] %s: longer than %" PRId64 " characters", where, sname,
                      it->name, it->max);
            return OSAP_ECONFIG;
        }
        if (it->type == OSAP_CFG_STRING && it->choices && !choice_ok(it->choices, text)) {
            format_choices(it->choices, choices, sizeof(choices));
            cfg_error(cfg, "%s: [%s] %s: '%s' is not one of %s", where, sname, it->name, shown,
                      choices);
            return OSAP_ECONFIG;
        }
        if (it->type == OSAP_CFG_ADDRESS && !osap_cfg_address_valid(text)) {
            cfg_error(cfg, "%s: [%s] %s: '%s' is not an IP address or host name", where, sname,
                      it->name, shown);
            return OSAP_ECONFIG;
        }
        if (it->type == OSAP_CFG_PATH)
            err = osap_path_absolute(text, &strval);
        else
            err = (strval = osap_strdup(text)) ? OSAP_OK : OSAP_ENOMEM;
        if (err == OSAP_ENOMEM) return err;
        if (err) {
            cfg_error(cfg, "%s: [%s] %s: cannot resolve '%s' (working directory unknown)", where,
                      sname, it->name, shown);
            return OSAP_ECONFIG;
        }
        release_value(sec, it);
        *(char **)field(sec, it) = strval;
        break;
    }
    copy = osap_strdup(text);
    if (!copy) return OSAP_ENOMEM;
    osap_free(sec->slots[idx].text);
    sec->slots[idx].text = copy;
    sec->slots[idx].origin = origin;
    sec->slots[idx].load = cfg->loads;
    return OSAP_OK;
}

/* ------------------------------------------------------------------------ */
/* Life cycle                                                               */
/* ------------------------------------------------------------------------ */

osap_err osap_config_new(struct osap_config **out)
{
    struct osap_config *cfg = osap_calloc(1, sizeof(*cfg));
    if (!cfg) return OSAP_ENOMEM;
    *out = cfg;
    return OSAP_OK;
}

static void section_release(struct section *sec)
{
    for (size_t i = 0; i < sec->n_items; i++) {
        if (sec->data) release_value(sec, &sec->table->items[i]);
        if (sec->slots) osap_free(sec->slots[i].text);
    }
    osap_free(sec->slots);
    osap_free(sec->data);
}

void osap_config_free(struct osap_config *cfg)
{
    if (!cfg) return;
    for (size_t i = 0; i < cfg->n_sections; i++)
        section_release(&cfg->sections[i]);
    osap_free(cfg->sections);
    osap_free(cfg->path);
    osap_free(cfg->errors);
    osap_free(cfg);
}

osap_err osap_config_register(struct osap_config *cfg, const struct osap_cfg_table *table)
{
    struct section sec = {table, NULL, NULL, 0};
    osap_err err = OSAP_OK;

    if (find_section(cfg, table->section)) return OSAP_EEXISTS;
    while (table->items[sec.n_items].name)
        sec.n_items++;
    sec.data = osap_calloc(1, table->size ? table->size : 1);
    sec.slots = osap_calloc(sec.n_items ? sec.n_items : 1, sizeof(*sec.slots));
    if (!sec.data || !sec.slots) {
        err = OSAP_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < sec.n_items; i++) {
        const struct osap_cfg_item *it = &table->items[i];
        if (it->offset >= table->size) {
            cfg_error(cfg, "built-in table [%s]: %s lies outside its struct", table->section,
                      it->name);
            err = OSAP_ECONFIG;
            goto fail;
        }
        err = apply(cfg, &sec, i, it->def ? it->def : "", ORIGIN_DEFAULT, "built-in default");
        if (err) goto fail;
    }
    if (cfg->n_sections == cfg->cap_sections) {
        size_t ncap = cfg->cap_sections ? cfg->cap_sections * 2 : 8;
        struct section *s = osap_realloc(cfg->sections, ncap * sizeof(*s));
        if (!s) {
            err = OSAP_ENOMEM;
            goto fail;
        }
        cfg->sections = s;
        cfg->cap_sections = ncap;
    }
    cfg->sections[cfg->n_sections++] = sec;
    return OSAP_OK;
fail:
    section_release(&sec);
    return err;
}

osap_err osap_config_set(struct osap_config *cfg, const char *section, const char *name,
                         const char *value, const char *origin)
{
    struct section *sec = find_section(cfg, section);
    long i = sec ? find_item(sec, name) : -1;

    if (i < 0) {
        cfg_error(cfg, "%s: unknown setting [%s] %s", origin, section, name);
        return OSAP_ECONFIG;
    }
    return apply(cfg, sec, (size_t)i, value, ORIGIN_SET, origin);
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */
/* ------------------------------------------------------------------------ */

/* Line source for inih: counts lines (so each handler call knows its line) and
 * checks what inih does not report: section headers and over-long lines. */
struct reader {
    struct osap_config *cfg;
    const char *name;
    FILE *file;
    const char *text;
    size_t pos;
    int line;
    bool indented;      /* the current line starts with a blank */
    char last_key[128]; /* "section\nname" of the previous setting */
    int last_line;
    osap_err fatal; /* OSAP_ENOMEM while applying */
};

static char *reader_next(char *str, int num, void *stream)
{
    struct reader *r = stream;
    size_t n = 0, max = (size_t)num - 2; /* room for "\n" and the NUL */
    bool too_long = false;
    int c;

    /* Read one whole line; keep at most max characters of it. */
    for (;;) {
        if (r->file) {
            c = fgetc(r->file);
        } else {
            c = r->text[r->pos] ? (unsigned char)r->text[r->pos++] : EOF;
        }
        if (c == EOF) {
            if (n == 0 && !too_long) return NULL;
            break;
        }
        if (c == '\n') break;
        if (n < max)
            str[n++] = (char)c;
        else
            too_long = true;
    }
    r->line++;
    if (too_long) {
        cfg_error(r->cfg, "%s:%d: line too long (at most %zu characters)", r->name, r->line, max);
        n = 0; /* hand inih a blank line */
    }
    str[n++] = '\n';
    str[n] = '\0';
    r->indented = str[0] == ' ' || str[0] == '\t';

    /* Section headers: inih does not tell the handler about them. */
    {
        const char *p = str;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '[') {
            const char *end = strchr(p, ']');
            if (end) {
                char sname[128];
                size_t len = (size_t)(end - p - 1);
                if (len >= sizeof(sname)) len = sizeof(sname) - 1;
                memcpy(sname, p + 1, len);
                sname[len] = '\0';
                if (!find_section(r->cfg, sname))
                    cfg_error(r->cfg, "%s:%d: unknown section [%s]", r->name, r->line, sname);
            }
        }
    }
    return str;
}

static int handle_setting(void *user, const char *section, const char *name, const char *value)
{
    struct reader *r = user;
    struct osap_config *cfg = r->cfg;
    struct section *sec;
    char key[128], where[512];
    long i;
    osap_err err;

    snprintf(key, sizeof(key), "%s\n%s", section, name);
    if (r->indented && r->last_line > 0 && strcmp(key, r->last_key) == 0) {
        cfg_error(cfg, "%s:%d: continuation lines are not supported (remove the indentation)",
                  r->name, r->line);
        return 1;
    }
    snprintf(r->last_key, sizeof(r->last_key), "%s", key);
    r->last_line = r->line;
    if (section[0] == '\0') {
        cfg_error(cfg, "%s:%d: '%s' is set outside a section", r->name, r->line, name);
        return 1;
    }
    sec = find_section(cfg, section);
    if (!sec) return 1; /* reported at the section header */
    i = find_item(sec, name);
    if (i < 0) {
        cfg_error(cfg, "%s:%d: unknown setting '%s' in section [%s]", r->name, r->line, name,
                  section);
        return 1;
    }
    if (sec->slots[i].load == cfg->loads && sec->slots[i].origin > 0) {
        cfg_error(cfg, "%s:%d: [%s] %s is set twice (first at line %d)", r->name, r->line, section,
                  name, sec->slots[i].origin);
        return 1;
    }
    snprintf(where, sizeof(where), "%s:%d", r->name, r->line);
    err = apply(cfg, sec, (size_t)i, value, r->line, where);
    if (err == OSAP_ENOMEM) r->fatal = err;
    return 1;
}

static osap_err load(struct osap_config *cfg, struct reader *r)
{
    size_t errors_before = cfg->n_errors;
    int rc;

    cfg->loads++;
    rc = ini_parse_stream(reader_next, r, handle_setting, r);
    if (r->fatal) return r->fatal;
    if (rc == -2) return OSAP_ENOMEM;
    /* The handler never fails, so a positive result is inih's own syntax error. */
    if (rc > 0)
        cfg_error(cfg, "%s:%d: syntax error (expected [section] or key = value)", r->name, rc);
    return cfg->n_errors == errors_before ? OSAP_OK : OSAP_ECONFIG;
}

osap_err osap_config_load(struct osap_config *cfg, const char *path)
{
    struct reader r = {0};
    struct stat sb;
    char *copy;
    osap_err err;

    r.cfg = cfg;
    r.name = path;
    r.file = fopen(path, "r");
    if (!r.file) {
        cfg_error(cfg, "%s: cannot open: %s", path, strerror(errno));
        return OSAP_EIO;
    }
    if (fstat(fileno(r.file), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        cfg_error(cfg, "%s: cannot open: %s", path, strerror(EISDIR));
        fclose(r.file);
        return OSAP_EIO;
    }
    err = load(cfg, &r);
    fclose(r.file);
    copy = osap_strdup(path);
    if (!copy) return OSAP_ENOMEM;
    osap_free(cfg->path);
    cfg->path = copy;
    return err;
}

osap_err osap_config_load_string(struct osap_config *cfg, const char *text, const char *name)
{
    struct reader r = {0};
    r.cfg = cfg;
    r.name = name;
    r.text = text;
    return load(cfg, &r);
}

/* ------------------------------------------------------------------------ */
/* Printing                                                                 */
/* ------------------------------------------------------------------------ */

/* Print @p text as "# " comment lines of at most 80 columns. */
static void print_wrapped(FILE *out, const char *text)
{
    const size_t width = 78;
    const char *p = text;

    while (*p) {
        size_t len = strlen(p), cut = len;
        if (len > width) {
            cut = width;
            while (cut > 0 && p[cut] != ' ')
                cut--;
            if (cut == 0) cut = width;
        }
        fprintf(out, "# %.*s\n", (int)cut, p);
        p += cut;
        while (*p == ' ')
            p++;
    }
}

static void print_item_doc(FILE *out, const struct osap_cfg_item *it)
{
    char lo[32], hi[32], choices[256];

    print_wrapped(out, it->help ? it->help : "");
    fprintf(out, "# (%s", osap_cfg_type_name(it->type));
    if (it->choices) {
        format_choices(it->choices, choices, sizeof(choices));
        fprintf(out, ": %s", choices);
    }
    if ((it->type == OSAP_CFG_INT || it->type == OSAP_CFG_SIZE || it->type == OSAP_CFG_DURATION) &&
        has_range(it)) {
        format_limit(it, it->min, lo, sizeof(lo));
        format_limit(it, it->max, hi, sizeof(hi));
        fprintf(out, ", %s..%s", lo, hi);
    } else if (it->max > 0 && it->type == OSAP_CFG_LIST) {
        fprintf(out, ", at most %" PRId64 " items", it->max);
    } else if (it->max > 0 && it->type != OSAP_CFG_BOOL) {
        fprintf(out, ", at most %" PRId64 " characters", it->max);
    }
    fprintf(out, ")\n");
}

osap_err osap_config_print(const struct osap_config *cfg, FILE *out, enum osap_cfg_print how)
{
    for (size_t s = 0; s < cfg->n_sections; s++) {
        const struct section *sec = &cfg->sections[s];
        if (s) fputc('\n', out);
        if (how == OSAP_CFG_PRINT_DEFAULTS && sec->table->help)
            print_wrapped(out, sec->table->help);
        fprintf(out, "[%s]\n", sec->table->section);
        for (size_t i = 0; i < sec->n_items; i++) {
            const struct osap_cfg_item *it = &sec->table->items[i];
            const char *v;
            if (how == OSAP_CFG_PRINT_DEFAULTS) {
                fputc('\n', out);
                print_item_doc(out, it);
                v = it->def ? it->def : "";
                fprintf(out, "%s =%s%s\n", it->name, v[0] ? " " : "", v);
                continue;
            }
            if (it->flags & OSAP_CFG_SECRET)
                v = "(secret)";
            else if (it->type == OSAP_CFG_PATH)
                v = *(char *const *)((const char *)sec->data + it->offset);
            else
                v = sec->slots[i].text;
            if (!v) v = "";
            fprintf(out, "%s =%s%s\n", it->name, v[0] ? " " : "", v);
        }
    }
    return ferror(out) ? OSAP_EIO : OSAP_OK;
}
