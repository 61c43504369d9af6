/*
 * osapd configuration: INI files (libinih) checked against declarative tables.
 *
 * Every setting is declared once, in a table that belongs to the code that uses
 * it: a struct osap_cfg_table names a [section], the size of the C struct that
 * holds the section's values, and its items. Each item gives the key, the type,
 * the default (as text, in the same syntax as the file), the range, the offset of
 * its field in the struct and a one-line help text. Tables are registered on a
 * struct osap_config; registering fills the struct with the defaults, loading a
 * file overrides them, and osap_config_set() overrides both (command-line
 * options). Nobody edits a central list to add a setting: a service declares its
 * table next to its code and lists it in src/osapd/services.c.
 *
 * Value syntax, by type (C field type in brackets):
 *   string    any text; `choices` may restrict it to "a|b|c"       [char *]
 *   int       decimal integer within [min, max]                    [int64_t]
 *   bool      yes/no, true/false, on/off, 1/0                      [bool]
 *   size      bytes: 512, 512B, 16KiB, 1MiB, 2GiB, 1TiB; K/M/G/T are
 *             the binary units too, KB/MB/GB/TB decimal (1000)      [uint64_t]
 *   duration  integer and unit: 100ms, 5s, 2min (or 2m), 1h, 1d; "0"
 *             alone needs no unit. Stored in milliseconds           [int64_t]
 *   list      comma-separated items, blanks around items ignored;
 *             empty text = empty list; no empty or repeated items  [struct osap_strlist]
 *   address   an IPv4 or IPv6 literal, or a host name (<= 63 chars) [char *]
 *   path      a file or directory; a relative path is made absolute
 *             against the working directory when it is set; ""
 *             means "not set"                                       [char *]
 * For int, size and duration, min and max bound the value (duration: in ms);
 * for string, address and path, max bounds the length in bytes (0 = no limit);
 * for list, max bounds the number of items (0 = no limit).
 *
 * File syntax: "[section]" headers, "key = value" lines, whole-line comments
 * starting with '#' or ';', inline comments after " ;". Every error names
 * file:line: unknown sections and keys, keys outside a section, repeated keys,
 * malformed values, values out of range.
 *
 * Threading: build and load on one thread; afterwards the object and the section
 * structs are read-only and may be read from any thread.
 */
#ifndef OSAP_SERVER_CONFIG_H
#define OSAP_SERVER_CONFIG_H

#include "osap/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** The type of a setting (see the table above). */
enum osap_cfg_type {
    OSAP_CFG_STRING,
    OSAP_CFG_INT,
    OSAP_CFG_BOOL,
    OSAP_CFG_SIZE,
    OSAP_CFG_DURATION,
    OSAP_CFG_LIST,
    OSAP_CFG_ADDRESS,
    OSAP_CFG_PATH,
};

/** Item flags. */
enum osap_cfg_flag {
    OSAP_CFG_SECRET = 1 << 0, /* never printed: shown as "(secret)" */
};

/** One setting. */
struct osap_cfg_item {
    const char *name; /* key in the section; NULL ends the item list */
    enum osap_cfg_type type;
    const char *def; /* default, in file syntax; NULL = "" */
    int64_t min;     /* see "For int, size and duration..." above */
    int64_t max;
    size_t offset;       /* offsetof(the section struct, field) */
    const char *help;    /* one line: what it does, units */
    const char *choices; /* string and list: allowed values "a|b|c", or NULL */
    unsigned flags;      /* enum osap_cfg_flag */
};

/** A section's table. The items and the strings it points to must outlive every
 *  struct osap_config it is registered on (static storage in practice). */
struct osap_cfg_table {
    const char *section;               /* "lbs" for [lbs] */
    const char *help;                  /* one line about the section */
    size_t size;                       /* sizeof the section struct */
    const struct osap_cfg_item *items; /* terminated by an item with name NULL */
};

/** A list value: @p n NUL-terminated strings. */
struct osap_strlist {
    size_t n;
    char **v;
};

struct osap_config;

/** A new configuration with no tables. */
osap_err osap_config_new(struct osap_config **out);

/** Free @p cfg, its section structs and every value (NULL is a no-op). */
void osap_config_free(struct osap_config *cfg);

/** Register @p table and fill its struct with the defaults. OSAP_EEXISTS when the
 *  section is already registered; OSAP_ECONFIG when a default does not parse or is
 *  out of range (a programming error; the message is in osap_config_errors()). */
osap_err osap_config_register(struct osap_config *cfg, const struct osap_cfg_table *table);

/** Read @p path and apply its settings. On OSAP_ECONFIG every problem found is in
 *  osap_config_errors(), one "file:line: message" per line; OSAP_EIO when the file
 *  cannot be read. Settings that were valid are applied even when others fail. */
osap_err osap_config_load(struct osap_config *cfg, const char *path);

/** Same as osap_config_load() for text in memory; @p name stands for the file name
 *  in messages. */
osap_err osap_config_load_string(struct osap_config *cfg, const char *text, const char *name);

/** Set one value (e.g. from a command-line option); @p origin names it in
 *  messages ("--log-json"). OSAP_ECONFIG with a message on an unknown key or a bad
 *  value. */
osap_err osap_config_set(struct osap_config *cfg, const char *section, const char *name,
                         const char *value, const char *origin);

/** All error messages so far, one per line ("" when none). Valid until the next
 *  call on @p cfg. */
const char *osap_config_errors(const struct osap_config *cfg);

/** The path given to osap_config_load(), or NULL. */
const char *osap_config_path(const struct osap_config *cfg);

/** The struct of @p section (cast it to the section's type), or NULL when no table
 *  has that name. */
const void *osap_config_section(const struct osap_config *cfg, const char *section);

/** The number of registered tables, and the table at @p i (registration order). */
size_t osap_config_table_count(const struct osap_config *cfg);
const struct osap_cfg_table *osap_config_table_at(const struct osap_config *cfg, size_t i);

/** Where a setting's value came from: the file line (> 0), 0 for the built-in
 *  default, -1 for osap_config_set(), or -2 when the setting does not exist. */
int osap_config_origin(const struct osap_config *cfg, const char *section, const char *name);

/** The text of a setting's current value as it was given (default, file or set),
 *  or NULL when the setting does not exist. */
const char *osap_config_text(const struct osap_config *cfg, const char *section, const char *name);

/** Print flags. */
enum osap_cfg_print {
    OSAP_CFG_PRINT_EFFECTIVE = 0, /* "key = value" of every setting, secrets hidden */
    OSAP_CFG_PRINT_DEFAULTS = 1,  /* a commented sample: help, type, range, default */
};

/** Write the configuration in INI syntax to @p out. */
osap_err osap_config_print(const struct osap_config *cfg, FILE *out, enum osap_cfg_print how);

/** The name of a type ("duration"). */
const char *osap_cfg_type_name(enum osap_cfg_type type);

/* ------------------------------------------------------------------------ */
/* Value syntax (used by the loader; public for tests and command options)  */
/* ------------------------------------------------------------------------ */

/** Parse a decimal integer (optional sign, no blanks). OSAP_EINVAL when malformed. */
osap_err osap_cfg_parse_int(const char *s, int64_t *out);

/** Parse yes/no, true/false, on/off, 1/0 (case-insensitive). */
osap_err osap_cfg_parse_bool(const char *s, bool *out);

/** Parse a size in bytes (see the table above). OSAP_EINVAL when malformed or when it
 *  does not fit in 63 bits. */
osap_err osap_cfg_parse_size(const char *s, uint64_t *out);

/** Parse a duration into milliseconds (see the table above). */
osap_err osap_cfg_parse_duration(const char *s, int64_t *out_ms);

/** Parse a comma-separated list into @p out (new strings; release with
 *  osap_strlist_release()). OSAP_EINVAL on an empty or repeated item. */
osap_err osap_cfg_parse_list(const char *s, struct osap_strlist *out);

/** True when @p s is an IPv4 or IPv6 literal, or a syntactically valid host name. */
bool osap_cfg_address_valid(const char *s);

/** Free the strings of @p l and empty it. */
void osap_strlist_release(struct osap_strlist *l);

/** True when @p l contains @p s. */
bool osap_strlist_contains(const struct osap_strlist *l, const char *s);

#endif /* OSAP_SERVER_CONFIG_H */
