/*
 * OSAP thing model: typed descriptions of what a device offers, and validation
 * of the JSON values that travel on the wire against them.
 *
 * A model is organised as the draft describes it: resources (independently
 * managed parts of a device, addressed on the wire as "<local index>-<category>",
 * e.g. "0-global" or "3-video") contain domains (areas of related functions);
 * a domain holds attributes (state that can be read and set), operations (typed
 * input, typed output) and events (reported by the device, with a level).
 *
 * Models are written in the OSAP model language (files with the extension .osm, see
 * docs/MODEL.md) and compiled by osap-modelc into a JSON document that the
 * platform loads at run time with osap_model_load_json(). Both paths give the
 * same read-only model: an opaque handle plus const views of its parts, valid
 * until osap_model_free().
 */
#ifndef OSAP_MODEL_H
#define OSAP_MODEL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "osap/err.h"

/** Longest model, resource, domain, identifier, member or type name (device buffers
 *  hold 32 bytes including the terminating NUL). */
#define OSAP_MODEL_NAME_MAX 31
/** Largest local index of a resource (devices keep local indexes in 4-byte buffers). */
#define OSAP_MODEL_INDEX_MAX 999
/** Deepest nesting of arrays and objects inside one type. */
#define OSAP_MODEL_DEPTH_MAX 16

/** A loaded model (opaque). */
typedef struct osap_model osap_model_t;

/** The JSON kind of a value. Enumerations are strings or integers with an enum list. */
enum osap_model_kind {
    OSAP_MODEL_BOOL = 1,
    OSAP_MODEL_INT,    /**< integral JSON number within the signed 32-bit range */
    OSAP_MODEL_NUMBER, /**< any finite JSON number */
    OSAP_MODEL_STRING,
    OSAP_MODEL_ARRAY,
    OSAP_MODEL_OBJECT,
};

/** Which optional constraints of struct osap_model_type are present. */
enum osap_model_flag {
    OSAP_MODEL_F_MIN = 1 << 0,      /**< min is a lower bound */
    OSAP_MODEL_F_MIN_EXCL = 1 << 1, /**< ... and it is exclusive ("above") */
    OSAP_MODEL_F_MAX = 1 << 2,      /**< max is an upper bound */
    OSAP_MODEL_F_MAX_EXCL = 1 << 3, /**< ... and it is exclusive ("below") */
    OSAP_MODEL_F_STEP = 1 << 4,     /**< values are multiples of step */
    OSAP_MODEL_F_LENGTH = 1 << 5,   /**< min_length/max_length apply */
    OSAP_MODEL_F_ITEMS = 1 << 6,    /**< min_items/max_items apply */
    OSAP_MODEL_F_UNIQUE = 1 << 7,   /**< array items are pairwise different */
};

/** Attribute access bits. */
enum osap_model_access {
    OSAP_MODEL_ACCESS_R = 1, /**< the device reports it; applications read it */
    OSAP_MODEL_ACCESS_W = 2, /**< applications may set it */
    OSAP_MODEL_ACCESS_RW = 3,
};

/** Event levels, from least to most severe. */
enum osap_model_level {
    OSAP_MODEL_LEVEL_INFO = 0,
    OSAP_MODEL_LEVEL_WARNING,
    OSAP_MODEL_LEVEL_ALARM,
};

struct osap_model_member;

/** One allowed value of an enumeration. */
struct osap_model_enum_value {
    const char *text; /**< the value of a string enumeration, else NULL */
    int64_t number;   /**< the value of an integer enumeration */
    const char *doc;  /**< description, or NULL */
};

/** A value type. Only the fields of its kind are meaningful. */
struct osap_model_type {
    enum osap_model_kind kind;
    const char *name;              /**< name of the "type" definition it comes from, or NULL */
    unsigned flags;                /**< enum osap_model_flag bits */
    double min, max;               /**< INT, NUMBER: bounds (see flags) */
    double step;                   /**< INT, NUMBER: values are multiples of step (F_STEP) */
    const char *unit;              /**< INT, NUMBER: unit of measure, or NULL */
    size_t min_length, max_length; /**< STRING: length in bytes (F_LENGTH) */
    size_t n_enum;                 /**< STRING, INT: 0 = no enumeration */
    const struct osap_model_enum_value *enum_values; /**< STRING, INT: the allowed values */
    const struct osap_model_type *items;             /**< ARRAY: type of every item */
    size_t min_items, max_items;                     /**< ARRAY: item count (F_ITEMS) */
    size_t n_members;                                /**< OBJECT: number of members */
    const struct osap_model_member *members;         /**< OBJECT: members, in model order */
};

/** A named member of an object type. */
struct osap_model_member {
    const char *name;
    const char *doc; /**< or NULL */
    const struct osap_model_type *type;
    bool required;
    const cJSON *default_value; /**< value assumed when absent, or NULL */
};

/** An attribute: state the device reports and, if writable, applications set. */
struct osap_model_attribute {
    const char *identifier;
    const char *doc;  /**< or NULL */
    const char *from; /**< name of the model (or template) that defines it */
    unsigned access;  /**< enum osap_model_access bits */
    const struct osap_model_type *type;
    const cJSON *default_value; /**< or NULL */
};

/** An operation: applications invoke it with an input, the device replies with an output. */
struct osap_model_operation {
    const char *identifier;
    const char *doc;                      /**< or NULL */
    const char *from;                     /**< name of the model (or template) that defines it */
    const struct osap_model_type *input;  /**< NULL: takes no input */
    const struct osap_model_type *output; /**< NULL: returns no data */
};

/** An event: reported by the device with an object payload. */
struct osap_model_event {
    const char *identifier;
    const char *doc;  /**< or NULL */
    const char *from; /**< name of the model (or template) that defines it */
    enum osap_model_level level;
    const struct osap_model_type *payload; /**< always an OBJECT type */
};

/** A domain (area): related attributes, operations and events. */
struct osap_model_domain {
    const char *identifier;
    const char *doc; /**< or NULL */
    size_t n_attributes;
    const struct osap_model_attribute *attributes;
    size_t n_operations;
    const struct osap_model_operation *operations;
    size_t n_events;
    const struct osap_model_event *events;
};

/** A resource category with its local indexes and domains. */
struct osap_model_resource {
    const char *category; /**< e.g. "global", "video" */
    const char *doc;      /**< or NULL */
    size_t n_indexes;
    const unsigned *indexes; /**< ascending */
    size_t n_domains;
    const struct osap_model_domain *domains;
};

/**
 * Reads the templates a model extends. The library itself touches no files
 * through this path: the caller decides where "extends NAME" comes from.
 */
struct osap_model_loader {
    /**
     * Find template @p name, extended by the model in @p from_path. On success
     * store in *path a display path for messages and in *text and *len the template
     * text; both are allocated with osap_malloc() and freed by the library.
     * Return OSAP_ENOTFOUND when there is no such template, another error when it
     * cannot be read; on failure the library ignores *path and *text.
     */
    osap_err (*read)(void *userdata, const char *name, const char *from_path, char **path,
                     char **text, size_t *len);
    void *userdata;
};

/**
 * Parse and check a model written in the OSAP model language.
 *
 * @param path    name used in messages ("file:line:column: ...") and to resolve
 *                templates; need not exist
 * @param text    the model text, @p len bytes (no NUL needed)
 * @param loader  how to read extended templates; NULL: "extends" is an error
 * @param out     receives the model on success (free with osap_model_free())
 * @param err     receives "file:line:column: message" on failure (may be NULL)
 * @return OSAP_OK, OSAP_EMODEL_SYNTAX, OSAP_EMODEL_SEMANTIC, OSAP_EMODEL_TEMPLATE,
 *         OSAP_ENOMEM or OSAP_EINVAL
 */
osap_err osap_model_parse(const char *path, const char *text, size_t len,
                          const struct osap_model_loader *loader, osap_model_t **out, char *err,
                          size_t errlen);

/**
 * Read and parse the model file @p path. "extends NAME" loads NAME.osm from the
 * @p n_include_dirs directories in order, then from the directory of the file
 * that extends, then from its "models" subdirectory.
 * @return as osap_model_parse(), or OSAP_EIO when @p path cannot be read
 */
osap_err osap_model_load_file(const char *path, const char *const *include_dirs,
                              size_t n_include_dirs, osap_model_t **out, char *err, size_t errlen);

/**
 * Load a compiled model (the JSON document written by osap-modelc, see
 * docs/MODEL.md) from @p len bytes of @p text.
 * @return OSAP_OK, OSAP_EMODEL_FORMAT (with the offending member path in @p err),
 *         OSAP_EJSON, OSAP_ENOMEM
 */
osap_err osap_model_load_json(const char *text, size_t len, osap_model_t **out, char *err,
                              size_t errlen);

/** osap_model_load_json() on the contents of file @p path (OSAP_EIO if unreadable). */
osap_err osap_model_load_json_file(const char *path, osap_model_t **out, char *err, size_t errlen);

/** Free a model and every view into it. NULL is ignored. */
void osap_model_free(osap_model_t *m);

/** The model's name, e.g. "ip_camera". */
const char *osap_model_name(const osap_model_t *m);
/** The model's version string. */
const char *osap_model_version(const osap_model_t *m);
/** The model's description, or NULL. */
const char *osap_model_doc(const osap_model_t *m);
/** Number of templates the model extends directly. */
size_t osap_model_extends_count(const osap_model_t *m);
/** Name of the @p i-th extended template (NULL when out of range). */
const char *osap_model_extends_at(const osap_model_t *m, size_t i);

/** Number of resource categories. */
size_t osap_model_resource_count(const osap_model_t *m);
/** The @p i-th resource category, or NULL when out of range. */
const struct osap_model_resource *osap_model_resource_at(const osap_model_t *m, size_t i);
/** The resource category @p category, or NULL. */
const struct osap_model_resource *osap_model_find_resource(const osap_model_t *m,
                                                           const char *category);
/** True if @p r has the local index written as decimal text @p rid (e.g. "3"). */
bool osap_model_resource_has_index(const struct osap_model_resource *r, const char *rid);
/** The domain @p identifier of resource @p r, or NULL. */
const struct osap_model_domain *osap_model_find_domain(const struct osap_model_resource *r,
                                                       const char *identifier);
/** The attribute @p identifier of domain @p d, or NULL. */
const struct osap_model_attribute *osap_model_find_attribute(const struct osap_model_domain *d,
                                                             const char *identifier);
/** The operation @p identifier of domain @p d, or NULL. */
const struct osap_model_operation *osap_model_find_operation(const struct osap_model_domain *d,
                                                             const char *identifier);
/** The event @p identifier of domain @p d, or NULL. */
const struct osap_model_event *osap_model_find_event(const struct osap_model_domain *d,
                                                     const char *identifier);

/** "info", "warning" or "alarm". */
const char *osap_model_level_name(enum osap_model_level level);
/** "r", "w" or "rw". */
const char *osap_model_access_name(unsigned access);

/** What a value is checked as by osap_model_validate(). */
enum osap_model_check {
    OSAP_MODEL_CHECK_SET,    /**< attribute value sent to the device (must be writable) */
    OSAP_MODEL_CHECK_REPORT, /**< attribute value reported by the device */
    OSAP_MODEL_CHECK_INPUT,  /**< operation input ("data" of the request) */
    OSAP_MODEL_CHECK_OUTPUT, /**< operation output ("data" of the reply) */
    OSAP_MODEL_CHECK_EVENT,  /**< event payload; the device-added "basic" member is ignored */
};

/**
 * Check @p value against the model.
 *
 * @param resource   "<local index>-<category>" as in topics (e.g. "3-video"), or a
 *                   bare category (index not checked)
 * @param domain     domain identifier
 * @param identifier attribute, operation or event identifier
 * @param value      the bare value (attribute value, operation "data", event
 *                   payload); NULL when absent
 * @param err        receives a message naming the field, e.g.
 *                   "input.speed: 12 is above the maximum 10" (may be NULL)
 * @return OSAP_OK; OSAP_EMODEL_UNKNOWN (no such resource, index, domain or
 *         identifier); OSAP_EMODEL_ACCESS (setting a read-only attribute);
 *         OSAP_EMODEL_VALIDATION (value does not match); OSAP_EINVAL
 */
osap_err osap_model_validate(const osap_model_t *m, enum osap_model_check check,
                             const char *resource, const char *domain, const char *identifier,
                             const cJSON *value, char *err, size_t errlen);

/**
 * Check @p value against type @p t; messages name fields from @p root (e.g.
 * "value", "input"). @return OSAP_OK or OSAP_EMODEL_VALIDATION.
 */
osap_err osap_model_validate_type(const struct osap_model_type *t, const cJSON *value,
                                  const char *root, char *err, size_t errlen);

/**
 * The compiled model document (docs/MODEL.md, "Compiled model"), pretty-printed.
 * *out is allocated with osap_malloc(). @return OSAP_OK or OSAP_ENOMEM.
 */
osap_err osap_model_to_json(const osap_model_t *m, char **out);

/**
 * The thing-model profile document devices fetch (wire spec section 7.6),
 * compact. *out is allocated with osap_malloc(). @return OSAP_OK or OSAP_ENOMEM.
 */
osap_err osap_model_to_profile(const osap_model_t *m, char **out);

/**
 * A self-contained C11 header for firmware: constants, typed structs, handler
 * function types and a handler table (docs/MODEL.md, "C header").
 * @return OSAP_OK, OSAP_ENOMEM, or OSAP_EMODEL_SEMANTIC when two model names map
 *         to the same C name (explained in @p err)
 */
osap_err osap_model_to_c_header(const osap_model_t *m, char **out, char *err, size_t errlen);

/** Human documentation of the model in Markdown. @return OSAP_OK or OSAP_ENOMEM. */
osap_err osap_model_to_markdown(const osap_model_t *m, char **out);

#endif /* OSAP_MODEL_H */
