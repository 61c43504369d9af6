/*
 * The thing-model registry of osapd: every model of [models] models_dir, loaded
 * once at start (and again on SIGHUP), shared read-only by every service of the
 * process (the DAS checks device events and attribute reports, the api checks
 * attribute sets and operation inputs and serves the models and their device
 * profiles). See docs/MODEL.md, "The platform".
 *
 * Loading. Every NAME.osm of the directory is compiled (templates it extends are
 * found in the same directory) and every NAME.json is loaded as a compiled model
 * document; when both exist, NAME.json is used. NAME must be a model name
 * ([a-z][a-z0-9_]*, at most 31 characters; other files such as NAME.profile.json
 * are ignored) and the model must say "model NAME". A file that does not load is
 * logged and left out; on a reload, the version loaded before stays in use. Each
 * model's device profile (osap_model_to_profile()) is written once, with the MD5 of
 * exactly those bytes, so that what a device downloads is what its answer names.
 *
 * A device's model: its provisioned model (devices.model) when that names a
 * model of the registry; otherwise the model that [models] map gives for the
 * DevType of its registration ("DevType:model" items; "Prefix*:model" matches
 * every DevType that starts with Prefix, the longest prefix winning; an exact
 * item wins over prefixes); otherwise none (its values are not checked).
 *
 * Catalogs. The registry hands out catalogs: immutable, reference-counted sets of
 * loaded models. A reload builds a new catalog and makes it current; users of the
 * old one keep it until they release it. Everything here is thread-safe; a thread
 * that looks models up often keeps a catalog and compares osap_models_generation()
 * with the generation it holds (one atomic load) instead of taking the lock.
 */
#ifndef OSAP_SERVER_MODELS_H
#define OSAP_SERVER_MODELS_H

#include "config.h"
#include "osap/err.h"
#include "osap/model.h"

#include <stddef.h>
#include <stdint.h>

/** Most models one registry holds (further files are logged and left out). */
#define OSAP_MODELS_MAX 1024
/** Longest DevType (or prefix) in a [models] map item, as registrations carry it. */
#define OSAP_MODELS_DEVTYPE_MAX 127
/** Most [models] map items. */
#define OSAP_MODELS_MAP_MAX 4096

/** Values of [models]. */
struct osap_models_config {
    char *models_dir;        /* directory of NAME.osm / NAME.json; "" = no models */
    struct osap_strlist map; /* "DevType:model" or "Prefix*:model" items */
};

/** The [models] table. */
extern const struct osap_cfg_table osap_models_settings;

/** The registry (opaque). */
struct osap_models;

/** An immutable set of loaded models (opaque). */
struct osap_catalog;

/** One model of a catalog and its device profile. Valid while the catalog is held. */
struct osap_catalog_model {
    const char *name;          /* the model name, e.g. "ip_camera" */
    const osap_model_t *model; /* the loaded model */
    const char *path;          /* the file it was loaded from */
    const char *profile;       /* the device profile document (compact JSON) */
    size_t profile_len;        /* its length in bytes (no NUL counted) */
    char profile_md5[33];      /* MD5 of exactly those bytes, lower-case hex */
};

/** How osap_catalog_for_device() found a device's model. */
enum osap_catalog_match {
    OSAP_CATALOG_NONE = 0,    /* no model: values are not checked */
    OSAP_CATALOG_PROVISIONED, /* the device's provisioned model */
    OSAP_CATALOG_MAPPED,      /* [models] map, from the DevType */
};

/**
 * A registry for @p cfg: checks the map (an item that is not "DevType:model" with
 * a model name after the last ':' is OSAP_ECONFIG, explained in @p err) and loads
 * the directory (problems with model files are logged, never fatal; a missing
 * directory is logged and gives an empty catalog). @p cfg may be NULL (no models).
 * @return OSAP_OK, OSAP_ECONFIG, OSAP_ENOMEM
 */
osap_err osap_models_new(const struct osap_models_config *cfg, struct osap_models **out, char *err,
                         size_t errlen);

/** Free the registry. Every catalog acquired from it must have been released.
 *  NULL is a no-op. */
void osap_models_free(struct osap_models *r);

/** Load the directory again and make the result current (a model whose file no
 *  longer loads keeps its previous version; a removed file removes the model).
 *  Reloads are serialized. Logs a summary line. @return OSAP_OK or OSAP_ENOMEM
 *  (the current catalog then stays). */
osap_err osap_models_reload(struct osap_models *r);

/** The current catalog, held until osap_catalog_release(). Never NULL. */
struct osap_catalog *osap_models_acquire(struct osap_models *r);

/** A number that changes whenever a reload makes a new catalog current. */
uint64_t osap_models_generation(const struct osap_models *r);

/** The model name [models] map gives for @p dev_type (whether or not such a
 *  model is loaded), or NULL. The map never changes (it is configuration), so
 *  the name may be kept for the life of the registry. */
const char *osap_models_map_lookup(const struct osap_models *r, const char *dev_type);

/** The directory models are loaded from ("" when none). */
const char *osap_models_dir(const struct osap_models *r);

/** Release a catalog (NULL is a no-op). Any thread. */
void osap_catalog_release(struct osap_catalog *c);

/** The generation the catalog was made current with. */
uint64_t osap_catalog_generation(const struct osap_catalog *c);

/** Number of models in @p c. */
size_t osap_catalog_count(const struct osap_catalog *c);

/** The @p i-th model of @p c in name order, or NULL when out of range. */
const struct osap_catalog_model *osap_catalog_at(const struct osap_catalog *c, size_t i);

/** The model named @p name, or NULL (also for NULL or ""). */
const struct osap_catalog_model *osap_catalog_find(const struct osap_catalog *c, const char *name);

/** The model [models] map gives for @p dev_type, or NULL (no item matches, or the
 *  item names a model this catalog does not have). */
const struct osap_catalog_model *osap_catalog_map(const struct osap_catalog *c,
                                                  const char *dev_type);

/** A device's model (the rule at the top of this file) from its provisioned
 *  @p model and the @p dev_type of its registration (either may be NULL or "").
 *  @p how (may be NULL) receives which rule found it. NULL when none applies. */
const struct osap_catalog_model *osap_catalog_for_device(const struct osap_catalog *c,
                                                         const char *model, const char *dev_type,
                                                         enum osap_catalog_match *how);

#endif /* OSAP_SERVER_MODELS_H */
