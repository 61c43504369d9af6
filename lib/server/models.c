/* The thing-model registry (see models.h): loading a directory into an immutable
 * catalog, the DevType map, reloads and the catalogs' reference counts. */
#include "models.h"

#include "log.h"
#include "osap/alloc.h"
#include "util.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MODELS_LOG "models"

/* One loaded model; shared by the catalogs that contain it. */
struct entry {
    atomic_uint refs;
    struct osap_catalog_model pub;
    osap_model_t *model;
    char *name, *path, *profile;
};

/* One [models] map item. */
struct map_item {
    char *dev_type; /* without the '*' of a prefix item */
    size_t len;
    char *model;
};

struct models_map {
    struct map_item *exact; /* sorted by dev_type */
    size_t n_exact;
    struct map_item *prefix; /* longest first */
    size_t n_prefix;
};

struct osap_catalog {
    atomic_uint refs;
    uint64_t generation;
    const struct models_map *map; /* the registry's (it outlives its catalogs) */
    size_t n;
    struct entry **entries; /* sorted by name */
};

struct osap_models {
    char *dir;
    struct models_map map;
    pthread_mutex_t lock;        /* current */
    pthread_mutex_t reload_lock; /* one load at a time */
    struct osap_catalog *current;
    atomic_uint_fast64_t generation;
};

/* ------------------------------------------------------------------------ */
/* Entries and catalogs                                                     */
/* ------------------------------------------------------------------------ */

static void entry_unref(struct entry *e)
{
    if (!e || atomic_fetch_sub(&e->refs, 1) != 1) return;
    osap_model_free(e->model);
    osap_free(e->name);
    osap_free(e->path);
    osap_free(e->profile);
    osap_free(e);
}

void osap_catalog_release(struct osap_catalog *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1) return;
    for (size_t i = 0; i < c->n; i++)
        entry_unref(c->entries[i]);
    osap_free(c->entries);
    osap_free(c);
}

uint64_t osap_catalog_generation(const struct osap_catalog *c)
{
    return c->generation;
}

size_t osap_catalog_count(const struct osap_catalog *c)
{
    return c->n;
}

const struct osap_catalog_model *osap_catalog_at(const struct osap_catalog *c, size_t i)
{
    return i < c->n ? &c->entries[i]->pub : NULL;
}

static int entry_cmp_key(const void *key, const void *elem)
{
    const struct entry *const *e = elem;
    return strcmp(key, (*e)->name);
}

const struct osap_catalog_model *osap_catalog_find(const struct osap_catalog *c, const char *name)
{
    struct entry **e;

    if (!name || !name[0] || c->n == 0) return NULL;
    e = bsearch(name, c->entries, c->n, sizeof(*c->entries), entry_cmp_key);
    return e ? &(*e)->pub : NULL;
}

static int item_cmp_key(const void *key, const void *elem)
{
    const struct map_item *it = elem;
    return strcmp(key, it->dev_type);
}

static const char *map_lookup(const struct models_map *map, const char *dev_type)
{
    const struct map_item *it = NULL;

    if (!dev_type || !dev_type[0] || !map) return NULL;
    if (map->n_exact)
        it = bsearch(dev_type, map->exact, map->n_exact, sizeof(*map->exact), item_cmp_key);
    for (size_t i = 0; !it && i < map->n_prefix; i++)
        if (strncmp(dev_type, map->prefix[i].dev_type, map->prefix[i].len) == 0)
            it = &map->prefix[i];
    return it ? it->model : NULL;
}

const struct osap_catalog_model *osap_catalog_map(const struct osap_catalog *c,
                                                  const char *dev_type)
{
    return osap_catalog_find(c, map_lookup(c->map, dev_type));
}

const struct osap_catalog_model *osap_catalog_for_device(const struct osap_catalog *c,
                                                         const char *model, const char *dev_type,
                                                         enum osap_catalog_match *how)
{
    const struct osap_catalog_model *m = osap_catalog_find(c, model);
    enum osap_catalog_match found = OSAP_CATALOG_PROVISIONED;

    if (!m) {
        m = osap_catalog_map(c, dev_type);
        found = m ? OSAP_CATALOG_MAPPED : OSAP_CATALOG_NONE;
    }
    if (how) *how = found;
    return m;
}

/* ------------------------------------------------------------------------ */
/* The map                                                                  */
/* ------------------------------------------------------------------------ */

/* [a-z][a-z0-9_]*, at most OSAP_MODEL_NAME_MAX characters. */
static bool model_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > OSAP_MODEL_NAME_MAX || !(s[0] >= 'a' && s[0] <= 'z')) return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* A DevType as registrations carry it: printable ASCII, no blanks. */
static bool dev_type_ok(const char *s, size_t n)
{
    if (n == 0 || n > OSAP_MODELS_DEVTYPE_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f) return false;
    return true;
}

static int item_cmp(const void *a, const void *b)
{
    const struct map_item *x = a, *y = b;
    return strcmp(x->dev_type, y->dev_type);
}

static int prefix_cmp(const void *a, const void *b)
{
    const struct map_item *x = a, *y = b;
    if (x->len != y->len) return x->len < y->len ? 1 : -1;
    return strcmp(x->dev_type, y->dev_type);
}

static void map_release(struct models_map *map)
{
    for (size_t i = 0; i < map->n_exact; i++) {
        osap_free(map->exact[i].dev_type);
        osap_free(map->exact[i].model);
    }
    for (size_t i = 0; i < map->n_prefix; i++) {
        osap_free(map->prefix[i].dev_type);
        osap_free(map->prefix[i].model);
    }
    osap_free(map->exact);
    osap_free(map->prefix);
    memset(map, 0, sizeof(*map));
}

static osap_err map_parse(const struct osap_strlist *items, struct models_map *map, char *err,
                          size_t errlen)
{
    osap_err rc = OSAP_ECONFIG;

    memset(map, 0, sizeof(*map));
    if (!items || items->n == 0) return OSAP_OK;
    if (items->n > OSAP_MODELS_MAP_MAX) {
        snprintf(err, errlen, "[models] map: more than %d items", OSAP_MODELS_MAP_MAX);
        return OSAP_ECONFIG;
    }
    map->exact = osap_calloc(items->n, sizeof(*map->exact));
    map->prefix = osap_calloc(items->n, sizeof(*map->prefix));
    if (!map->exact || !map->prefix) {
        rc = OSAP_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < items->n; i++) {
        const char *s = items->v[i], *colon = strrchr(s, ':');
        size_t dlen = colon ? (size_t)(colon - s) : 0;
        bool prefix = dlen > 0 && s[dlen - 1] == '*';
        struct map_item *it;

        if (prefix) dlen--;
        if (!colon || !dev_type_ok(s, dlen) || memchr(s, '*', dlen) ||
            !model_name_ok(colon + 1, strlen(colon + 1))) {
            snprintf(err, errlen,
                     "[models] map: \"%s\" is not DevType:model or Prefix*:model (a DevType of "
                     "1..%d printable characters, a model name of [a-z][a-z0-9_]*)",
                     s, OSAP_MODELS_DEVTYPE_MAX);
            goto fail;
        }
        it = prefix ? &map->prefix[map->n_prefix++] : &map->exact[map->n_exact++];
        it->dev_type = osap_strndup(s, dlen);
        it->len = dlen;
        it->model = osap_strdup(colon + 1);
        if (!it->dev_type || !it->model) {
            rc = OSAP_ENOMEM;
            goto fail;
        }
    }
    qsort(map->exact, map->n_exact, sizeof(*map->exact), item_cmp);
    qsort(map->prefix, map->n_prefix, sizeof(*map->prefix), prefix_cmp);
    for (size_t i = 1; i < map->n_exact; i++)
        if (strcmp(map->exact[i - 1].dev_type, map->exact[i].dev_type) == 0) {
            snprintf(err, errlen, "[models] map: DevType %s is mapped twice",
                     map->exact[i].dev_type);
            goto fail;
        }
    for (size_t i = 1; i < map->n_prefix; i++)
        if (strcmp(map->prefix[i - 1].dev_type, map->prefix[i].dev_type) == 0) {
            snprintf(err, errlen, "[models] map: prefix %s* is mapped twice",
                     map->prefix[i].dev_type);
            goto fail;
        }
    return OSAP_OK;
fail:
    if (rc == OSAP_ENOMEM) snprintf(err, errlen, "out of memory");
    map_release(map);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Loading a directory                                                      */
/* ------------------------------------------------------------------------ */

/* A model file found in the directory. */
struct found {
    char name[OSAP_MODEL_NAME_MAX + 1];
    bool osm, json;
};

static int found_cmp(const void *a, const void *b)
{
    const struct found *x = a, *y = b;
    return strcmp(x->name, y->name);
}

/* NAME.osm / NAME.json files of @p dir, sorted by name. *n = 0 when the directory
 * cannot be read (logged). */
static osap_err scan(const char *dir, struct found **out, size_t *n)
{
    struct found *f = NULL;
    size_t count = 0, cap = 0;
    struct dirent *de;
    DIR *d;

    *out = NULL;
    *n = 0;
    d = opendir(dir);
    if (!d) {
        OSAP_LOGW(MODELS_LOG, "models_dir %s cannot be read: no thing models", dir);
        return OSAP_OK;
    }
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name), stem;
        bool osm = len > 4 && strcmp(de->d_name + len - 4, ".osm") == 0;
        bool json = len > 5 && strcmp(de->d_name + len - 5, ".json") == 0;
        size_t i;

        if (!osm && !json) continue;
        stem = len - (osm ? 4 : 5);
        if (!model_name_ok(de->d_name, stem)) continue; /* NAME.profile.json and the like */
        for (i = 0; i < count; i++)
            if (strlen(f[i].name) == stem && memcmp(f[i].name, de->d_name, stem) == 0) break;
        if (i == count) {
            if (count == OSAP_MODELS_MAX) {
                OSAP_LOGW(MODELS_LOG, "models_dir %s: more than %d models, %s left out", dir,
                          OSAP_MODELS_MAX, de->d_name);
                continue;
            }
            if (count == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                struct found *nf = osap_realloc(f, ncap * sizeof(*f));
                if (!nf) {
                    closedir(d);
                    osap_free(f);
                    return OSAP_ENOMEM;
                }
                f = nf;
                cap = ncap;
            }
            memset(&f[count], 0, sizeof(f[count]));
            memcpy(f[count].name, de->d_name, stem);
            count++;
        }
        if (osm)
            f[i].osm = true;
        else
            f[i].json = true;
    }
    closedir(d);
    if (count) qsort(f, count, sizeof(*f), found_cmp);
    *out = f;
    *n = count;
    return OSAP_OK;
}

static void md5_hex(const char *p, size_t len, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_Digest(p, len, md, &mdlen, EVP_md5(), NULL) != 1 || mdlen != 16) {
        out[0] = '\0';
        return;
    }
    osap_hex_encode(md, 16, out);
}

/* Load model @p name from @p path. OSAP_ENOMEM is the only error that stops a
 * load; anything else is in @p msg and the model is left out. */
static osap_err load_entry(const char *dir, const char *name, const char *path, struct entry **out,
                           char *msg, size_t msglen)
{
    const char *dirs[1] = {dir};
    struct entry *e = NULL;
    osap_model_t *m = NULL;
    char *profile = NULL;
    struct stat sb;
    size_t n = strlen(path);
    osap_err err;

    *out = NULL;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(msg, msglen, "not a readable file");
        return OSAP_EIO;
    }
    if (n > 5 && strcmp(path + n - 5, ".json") == 0)
        err = osap_model_load_json_file(path, &m, msg, msglen);
    else
        err = osap_model_load_file(path, dirs, 1, &m, msg, msglen);
    if (err) {
        if (!msg[0]) snprintf(msg, msglen, "%s", osap_strerror(err));
        return err;
    }
    if (strcmp(osap_model_name(m), name) != 0) {
        snprintf(msg, msglen, "the file says model %s, its name says %s", osap_model_name(m), name);
        osap_model_free(m);
        return OSAP_EMODEL_SEMANTIC;
    }
    err = osap_model_to_profile(m, &profile);
    e = err ? NULL : osap_calloc(1, sizeof(*e));
    if (e) {
        e->name = osap_strdup(name);
        e->path = osap_strdup(path);
    }
    if (!e || !e->name || !e->path) {
        if (e) {
            osap_free(e->name);
            osap_free(e->path);
            osap_free(e);
        }
        osap_free(profile);
        osap_model_free(m);
        snprintf(msg, msglen, "out of memory");
        return OSAP_ENOMEM;
    }
    atomic_init(&e->refs, 1);
    e->model = m;
    e->profile = profile;
    e->pub.name = e->name;
    e->pub.model = m;
    e->pub.path = e->path;
    e->pub.profile = profile;
    e->pub.profile_len = strlen(profile);
    md5_hex(profile, e->pub.profile_len, e->pub.profile_md5);
    *out = e;
    return OSAP_OK;
}

/* The entry of @p name in @p c (held by the caller), or NULL. */
static struct entry *old_entry(const struct osap_catalog *c, const char *name)
{
    struct entry **e;
    if (!c || c->n == 0) return NULL;
    e = bsearch(name, c->entries, c->n, sizeof(*c->entries), entry_cmp_key);
    return e ? *e : NULL;
}

/* A new catalog from the directory; @p old (may be NULL) supplies the versions of
 * models whose file no longer loads. */
static osap_err load_catalog(struct osap_models *r, const struct osap_catalog *old,
                             struct osap_catalog **out, size_t *failed)
{
    struct osap_catalog *c;
    struct found *f = NULL;
    size_t n = 0;
    char *path = NULL;
    osap_err err = OSAP_OK;

    *failed = 0;
    c = osap_calloc(1, sizeof(*c));
    if (!c) return OSAP_ENOMEM;
    atomic_init(&c->refs, 1);
    c->map = &r->map;
    if (r->dir[0]) err = scan(r->dir, &f, &n);
    if (err) goto fail;
    if (n) {
        c->entries = osap_calloc(n, sizeof(*c->entries));
        if (!c->entries) {
            err = OSAP_ENOMEM;
            goto fail;
        }
    }
    for (size_t i = 0; i < n; i++) {
        char file[OSAP_MODEL_NAME_MAX + 8], msg[512] = "";
        struct entry *e = NULL, *prev;

        snprintf(file, sizeof(file), "%s%s", f[i].name, f[i].json ? ".json" : ".osm");
        osap_free(path);
        path = NULL;
        err = osap_path_join(r->dir, file, &path);
        if (err) goto fail;
        err = load_entry(r->dir, f[i].name, path, &e, msg, sizeof(msg));
        if (err == OSAP_ENOMEM) goto fail;
        if (err == OSAP_OK) {
            if (f[i].json && f[i].osm)
                OSAP_LOGI(MODELS_LOG, "%s/%s.osm is not loaded: %s is the compiled model", r->dir,
                          f[i].name, file);
            OSAP_LOGD(MODELS_LOG, "model %s %s loaded from %s (profile %zu bytes, md5 %s)",
                      f[i].name, osap_model_version(e->model), path, e->pub.profile_len,
                      e->pub.profile_md5);
            c->entries[c->n++] = e;
            continue;
        }
        err = OSAP_OK;
        (*failed)++;
        prev = old_entry(old, f[i].name);
        if (prev) {
            OSAP_LOGE(MODELS_LOG, "%s does not load: %s; model %s keeps its version loaded before",
                      path, msg, f[i].name);
            atomic_fetch_add(&prev->refs, 1);
            c->entries[c->n++] = prev;
        } else {
            OSAP_LOGE(MODELS_LOG, "%s does not load: %s; devices of model %s are not checked", path,
                      msg, f[i].name);
        }
    }
    osap_free(path);
    osap_free(f);
    *out = c;
    return OSAP_OK;
fail:
    osap_free(path);
    osap_free(f);
    osap_catalog_release(c);
    return err;
}

/* The summary line of a load: what it holds and the map items that name nothing. */
static void log_catalog(const struct osap_models *r, const struct osap_catalog *c, size_t failed,
                        const char *what)
{
    char names[1024];
    size_t o = 0;

    names[0] = '\0';
    for (size_t i = 0; i < c->n && o < sizeof(names); i++)
        o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s %s", i ? ", " : "",
                              c->entries[i]->name, osap_model_version(c->entries[i]->model));
    OSAP_LOGI(MODELS_LOG, "%s: %zu thing models from %s%s%s%s", what, c->n,
              r->dir[0] ? r->dir : "(no models_dir)", c->n ? ": " : "", names,
              failed ? " (some files do not load, see above)" : "");
    for (size_t i = 0; i < r->map.n_exact; i++)
        if (!osap_catalog_find(c, r->map.exact[i].model))
            OSAP_LOGW(MODELS_LOG, "[models] map: DevType %s names model %s, which is not loaded",
                      r->map.exact[i].dev_type, r->map.exact[i].model);
    for (size_t i = 0; i < r->map.n_prefix; i++)
        if (!osap_catalog_find(c, r->map.prefix[i].model))
            OSAP_LOGW(MODELS_LOG, "[models] map: %s* names model %s, which is not loaded",
                      r->map.prefix[i].dev_type, r->map.prefix[i].model);
}

/* ------------------------------------------------------------------------ */
/* The registry                                                             */
/* ------------------------------------------------------------------------ */

osap_err osap_models_new(const struct osap_models_config *cfg, struct osap_models **out, char *err,
                         size_t errlen)
{
    struct osap_models *r;
    char local[8];
    size_t failed = 0;
    osap_err rc;

    if (!err || !errlen) {
        err = local;
        errlen = sizeof(local);
    }
    err[0] = '\0';
    r = osap_calloc(1, sizeof(*r));
    if (!r) return OSAP_ENOMEM;
    r->dir = osap_strdup(cfg && cfg->models_dir ? cfg->models_dir : "");
    if (!r->dir) {
        osap_free(r);
        return OSAP_ENOMEM;
    }
    rc = map_parse(cfg ? &cfg->map : NULL, &r->map, err, errlen);
    if (rc) {
        osap_free(r->dir);
        osap_free(r);
        return rc;
    }
    atomic_init(&r->generation, 1);
    rc = load_catalog(r, NULL, &r->current, &failed);
    if (rc) {
        snprintf(err, errlen, "out of memory");
        map_release(&r->map);
        osap_free(r->dir);
        osap_free(r);
        return rc;
    }
    r->current->generation = 1;
    pthread_mutex_init(&r->lock, NULL);
    pthread_mutex_init(&r->reload_lock, NULL);
    log_catalog(r, r->current, failed, "loaded");
    *out = r;
    return OSAP_OK;
}

void osap_models_free(struct osap_models *r)
{
    if (!r) return;
    osap_catalog_release(r->current);
    pthread_mutex_destroy(&r->lock);
    pthread_mutex_destroy(&r->reload_lock);
    map_release(&r->map);
    osap_free(r->dir);
    osap_free(r);
}

osap_err osap_models_reload(struct osap_models *r)
{
    struct osap_catalog *old, *c = NULL;
    size_t failed = 0;
    osap_err err;

    pthread_mutex_lock(&r->reload_lock);
    old = osap_models_acquire(r);
    err = load_catalog(r, old, &c, &failed);
    if (err) {
        OSAP_LOGE(MODELS_LOG, "reload failed (%s): the models loaded before stay in use",
                  osap_strerror(err));
        osap_catalog_release(old);
        pthread_mutex_unlock(&r->reload_lock);
        return err;
    }
    c->generation = osap_catalog_generation(old) + 1;
    osap_catalog_release(old);
    pthread_mutex_lock(&r->lock);
    old = r->current;
    r->current = c;
    atomic_store(&r->generation, c->generation);
    pthread_mutex_unlock(&r->lock);
    osap_catalog_release(old);
    log_catalog(r, c, failed, "reloaded");
    pthread_mutex_unlock(&r->reload_lock);
    return OSAP_OK;
}

struct osap_catalog *osap_models_acquire(struct osap_models *r)
{
    struct osap_catalog *c;

    pthread_mutex_lock(&r->lock);
    c = r->current;
    atomic_fetch_add(&c->refs, 1);
    pthread_mutex_unlock(&r->lock);
    return c;
}

uint64_t osap_models_generation(const struct osap_models *r)
{
    return atomic_load(&r->generation);
}

const char *osap_models_map_lookup(const struct osap_models *r, const char *dev_type)
{
    return map_lookup(&r->map, dev_type);
}

const char *osap_models_dir(const struct osap_models *r)
{
    return r->dir;
}
