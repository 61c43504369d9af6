/*
 * Internals of the thing model shared by the lib/core/model_*.c files:
 * the arena every model lives in, a growable text buffer, positioned
 * diagnostics, the lexer, the syntax tree the parser builds, and the
 * constructors and checks the DSL compiler and the JSON loader share.
 */
#ifndef OSAP_MODEL_INTERNAL_H
#define OSAP_MODEL_INTERNAL_H

#include "osap/model.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- arena: every part of a model is allocated here and freed at once ---- */

struct osap__arena_block;

struct osap__arena {
    struct osap__arena_block *head;
    size_t used; /* bytes used in head */
};

void osap__arena_init(struct osap__arena *a);
void osap__arena_release(struct osap__arena *a);
/* Zeroed, suitably aligned memory of @p size bytes, or NULL. */
void *osap__arena_alloc(struct osap__arena *a, size_t size);
/* Zeroed array of @p n elements of @p size bytes, or NULL (also on overflow). */
void *osap__arena_array(struct osap__arena *a, size_t n, size_t size);
char *osap__arena_strndup(struct osap__arena *a, const char *s, size_t len);
char *osap__arena_strdup(struct osap__arena *a, const char *s);

/* ---- growable text buffer (osap_malloc); errors are sticky ---- */

struct osap__buf {
    char *data;
    size_t len, cap;
    bool failed;
};

void osap__buf_init(struct osap__buf *b);
void osap__buf_release(struct osap__buf *b);
void osap__buf_put(struct osap__buf *b, const char *s, size_t len);
void osap__buf_puts(struct osap__buf *b, const char *s);
void osap__buf_printf(struct osap__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hand the NUL-terminated text to the caller (osap_free), or OSAP_ENOMEM. */
osap_err osap__buf_take(struct osap__buf *b, char **out);

/* ---- building cJSON documents; a failure is sticky and leaks nothing ---- */

struct osap__jb {
    bool failed;
};

/* Attach @p item to @p parent under @p key (NULL: append to an array). Returns
 * @p item, or NULL (item freed, failure recorded) if anything is NULL or fails. */
cJSON *osap__jadd(struct osap__jb *b, cJSON *parent, const char *key, cJSON *item);
void osap__jstr(struct osap__jb *b, cJSON *parent, const char *key, const char *s);
void osap__jnum(struct osap__jb *b, cJSON *parent, const char *key, double v);
void osap__jbool(struct osap__jb *b, cJSON *parent, const char *key, bool v);
/* Print @p root (pretty or compact) into an osap_malloc() string and delete it. */
osap_err osap__jprint(struct osap__jb *b, cJSON *root, bool pretty, char **out);

/* ---- diagnostics: the first message wins ---- */

struct osap__pos {
    const char *file;
    unsigned line, col;
};

struct osap__diag {
    char *buf; /* caller's buffer, may be NULL */
    size_t len;
    bool set;
};

void osap__diag_init(struct osap__diag *d, char *buf, size_t len);
/* "file:line:col: message" */
void osap__diag_at(struct osap__diag *d, struct osap__pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void osap__diag_vat(struct osap__diag *d, struct osap__pos pos, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* "message" (no position) */
void osap__diag_plain(struct osap__diag *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- lexer ---- */

enum osap__tok {
    OSAP__TOK_EOF,
    OSAP__TOK_NAME,
    OSAP__TOK_INT,
    OSAP__TOK_NUMBER,
    OSAP__TOK_STRING,
    OSAP__TOK_LBRACE,
    OSAP__TOK_RBRACE,
    OSAP__TOK_LBRACKET,
    OSAP__TOK_RBRACKET,
    OSAP__TOK_COLON,
    OSAP__TOK_SEMI,
    OSAP__TOK_COMMA,
    OSAP__TOK_EQUALS,
    OSAP__TOK_DOTDOT,
};

struct osap__token {
    enum osap__tok kind;
    struct osap__pos pos;
    const char *start; /* source text of the token */
    size_t len;
    int64_t ival; /* INT */
    double dval;  /* INT and NUMBER */
    char *sval;   /* STRING: decoded text in the arena */
};

struct osap__lexer {
    const char *src;
    size_t len, off;
    struct osap__pos pos;
    struct osap__arena *arena;
    struct osap__diag *diag;
};

void osap__lex_init(struct osap__lexer *lx, const char *file, const char *src, size_t len,
                    struct osap__arena *arena, struct osap__diag *diag);
/* Next token; OSAP_EMODEL_SYNTAX (diagnosed) or OSAP_ENOMEM on failure. */
osap_err osap__lex_next(struct osap__lexer *lx, struct osap__token *tok);
/* Short description of a token for "expected X, found Y" messages. */
void osap__tok_describe(const struct osap__token *tok, char *buf, size_t len);

/* ---- syntax tree built by the parser, resolved by the compiler ---- */

/* A type as written. Once resolved, `t` is the public view. */
struct osap__mtype {
    struct osap_model_type t;
    struct osap__pos pos;
    const char *ref;                    /* a named type reference, else NULL */
    struct osap__mtype *item_node;      /* ARRAY: item type as written */
    struct osap__mmember *member_nodes; /* OBJECT: members as written (list) */
    int state;                          /* resolution: 0 new, 1 visiting, 2 done */
    int depth;                          /* nesting depth once resolved (scalar = 1) */
};

struct osap__mmember {
    const char *name;
    const char *doc;
    struct osap__pos pos;
    struct osap__mtype *type;
    bool required;
    cJSON *def; /* owned by the compilation's value list */
    struct osap__pos def_pos;
    struct osap__mmember *next;
};

enum osap__def_kind { OSAP__DEF_ATTRIBUTE, OSAP__DEF_OPERATION, OSAP__DEF_EVENT };

struct osap__mdef {
    enum osap__def_kind kind;
    const char *id;
    const char *doc;
    const char *from; /* the model (unit) that wrote it */
    struct osap__pos pos;
    bool override;
    /* attribute */
    struct osap__mtype *type;
    unsigned access;
    cJSON *def;
    struct osap__pos def_pos;
    /* operation */
    struct osap__mtype *input, *output;
    /* event */
    enum osap_model_level level;
    struct osap__mtype *payload;
    struct osap__mdef *next;
};

struct osap__mdomain {
    const char *id;
    const char *doc;
    struct osap__pos pos;
    struct osap__mdef *defs;
    struct osap__mdomain *next;
};

struct osap__mresource {
    const char *category;
    const char *doc;
    struct osap__pos pos;
    bool has_indexes;
    size_t n_indexes;
    unsigned *indexes; /* ascending, unique */
    struct osap__pos indexes_pos;
    struct osap__mdomain *domains;
    struct osap__mresource *next;
};

struct osap__mtypedef {
    const char *name;
    struct osap__pos pos;
    struct osap__mtype *type;
    struct osap__mtypedef *next;
};

struct osap__mextends {
    const char *name;
    struct osap__pos pos;
    struct osap__mextends *next;
};

/* One parsed model file. */
struct osap__munit {
    const char *path;
    const char *name;
    struct osap__pos name_pos;
    const char *version;
    const char *doc;
    struct osap__mextends *extends;
    struct osap__mtypedef *typedefs;
    struct osap__mresource *resources;
};

/* Where the parser and the compiler put what they create. */
struct osap__mctx {
    struct osap__arena *arena;
    cJSON *values; /* array owning every default value */
    struct osap__diag *diag;
};

/* Parse one file into @p unit. OSAP_EMODEL_SYNTAX / OSAP_EMODEL_SEMANTIC (diagnosed)
 * or OSAP_ENOMEM. Checks that need only the file itself (name rules, ranges,
 * duplicates inside a list) happen here. */
osap_err osap__model_parse_unit(struct osap__mctx *ctx, const char *path, const char *text,
                                size_t len, struct osap__munit *unit);

/* ---- the model object ---- */

struct osap_model {
    struct osap__arena arena;
    cJSON *values; /* owns every default value */
    const char *name, *version, *doc;
    size_t n_extends;
    const char **extends;
    size_t n_resources;
    struct osap_model_resource *resources;
};

/* An empty model with its arena and value list, or NULL. */
struct osap_model *osap__model_new(void);

/* ---- checks shared by the DSL compiler and the JSON loader ---- */

/* NULL if @p s is a valid name (letter or '_' first, then letters, digits, '_', at
 * most OSAP_MODEL_NAME_MAX bytes), else a static reason. */
const char *osap__name_problem(const char *s);
/* NULL if @p s is a valid model name (lower case letter first, then lower case
 * letters, digits, '_'), else a static reason. */
const char *osap__model_name_problem(const char *s);
/* NULL if @p s is a valid version string, else a static reason. */
const char *osap__version_problem(const char *s);
/* Check a fully built type's own constraints (bounds, lengths, enumeration) and
 * write a reason into @p why. Does not descend into items or members. */
bool osap__type_sane(const struct osap_model_type *t, char *why, size_t len);
/* Parse "info"/"warning"/"alarm"; false if unknown. */
bool osap__level_parse(const char *s, enum osap_model_level *out);
/* Parse "r"/"w"/"rw"; false if unknown. */
bool osap__access_parse(const char *s, unsigned *out);
/* A number as text: integral values without exponent, others round-trip exact. */
void osap__num_text(double v, char *buf, size_t len);
/* Name of a kind for messages and documents: "bool", "int", ... */
const char *osap__kind_name(enum osap_model_kind kind);

/* Validate @p v against @p t; @p path is the current field path (modified and
 * restored). Message "path: reason" goes to @p diag. */
osap_err osap__validate(const struct osap_model_type *t, const cJSON *v, char *path, size_t pathlen,
                        size_t pathcap, bool event_root, struct osap__diag *diag);

#endif /* OSAP_MODEL_INTERNAL_H */
