/* Thing models for validation (and GET /api/v1/models/{name}, the compiled
 * document of one, for the console's forms): a device whose model is NAME is checked against
 * models_dir/NAME.json (a document compiled by osap-modelc) or NAME.osm (the
 * model language, templates found in the same directory). Loaded models are
 * cached and reloaded when their file changes; a model in use by a check stays
 * valid until released, even when a newer file replaces it. Thread-safe: the
 * store threads share the cache. */
#include "api/api_internal.h"

#include "log.h"
#include "osap/alloc.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define MODELS_CACHED_MAX 256

struct model_entry {
    struct model_entry *next;
    char name[OSAP_DEVICE_MODEL_MAX + 1];
    char path[4096];
    struct timespec mtime;
    off_t size;
    osap_model_t *model; /* NULL: the file did not load (logged once) */
    unsigned refs;
    bool retired; /* replaced or uncached: freed at the last release */
};

struct api_models {
    char *dir;
    pthread_mutex_t lock;
    struct model_entry *entries; /* current ones */
    struct model_entry *retired; /* replaced, still in use */
    size_t n;
};

osap_err api_models_new(const char *dir, struct api_models **out)
{
    struct api_models *m = osap_calloc(1, sizeof(*m));

    if (!m) return OSAP_ENOMEM;
    m->dir = osap_strdup(dir ? dir : "");
    if (!m->dir || pthread_mutex_init(&m->lock, NULL) != 0) {
        osap_free(m->dir);
        osap_free(m);
        return OSAP_ENOMEM;
    }
    *out = m;
    return OSAP_OK;
}

static void entry_free(struct model_entry *e)
{
    osap_model_free(e->model);
    osap_free(e);
}

void api_models_free(struct api_models *m)
{
    struct model_entry *e, *next;

    if (!m) return;
    for (e = m->entries; e; e = next) {
        next = e->next;
        entry_free(e);
    }
    for (e = m->retired; e; e = next) {
        next = e->next;
        entry_free(e);
    }
    pthread_mutex_destroy(&m->lock);
    osap_free(m->dir);
    osap_free(m);
}

/* A model name is a plain file name: letters, digits, '_', '-', '.' (not first). */
static bool name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > OSAP_DEVICE_MODEL_MAX || name[0] == '.') return false;
    for (; *name; name++) {
        char ch = *name;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.'))
            return false;
    }
    return true;
}

/* The file of model @p name and its status; false when there is none. */
static bool find_file(const struct api_models *m, const char *name, char *path, size_t cap,
                      struct stat *sb)
{
    static const char *const ext[] = {".json", ".osm"};

    for (size_t i = 0; i < 2; i++) {
        snprintf(path, cap, "%s/%s%s", m->dir, name, ext[i]);
        if (stat(path, sb) == 0 && S_ISREG(sb->st_mode)) return true;
    }
    return false;
}

static osap_model_t *load(const struct api_models *m, const char *path)
{
    const char *dirs[1] = {m->dir};
    osap_model_t *model = NULL;
    char err[512] = "";
    size_t n = strlen(path);
    osap_err e;

    if (n > 5 && strcmp(path + n - 5, ".json") == 0)
        e = osap_model_load_json_file(path, &model, err, sizeof(err));
    else
        e = osap_model_load_file(path, dirs, 1, &model, err, sizeof(err));
    if (e) {
        OSAP_LOGW(API_LOG,
                  "thing model %s does not load (%s): %s; values for its devices are "
                  "not checked",
                  path, osap_strerror(e), err);
        return NULL;
    }
    return model;
}

const osap_model_t *api_models_get(struct api_models *m, const char *name)
{
    struct model_entry *e, **pp;
    char path[4096];
    struct stat sb;
    osap_model_t *model;

    if (!m->dir[0] || !name || !name_ok(name)) return NULL;
    if (!find_file(m, name, path, sizeof(path), &sb)) return NULL;
    pthread_mutex_lock(&m->lock);
    for (pp = &m->entries; (e = *pp); pp = &e->next) {
        if (strcmp(e->name, name) != 0) continue;
        if (strcmp(e->path, path) == 0 && e->size == sb.st_size &&
            e->mtime.tv_sec == sb.st_mtim.tv_sec && e->mtime.tv_nsec == sb.st_mtim.tv_nsec) {
            if (e->model) e->refs++;
            model = e->model;
            pthread_mutex_unlock(&m->lock);
            return model;
        }
        /* The file changed: retire the old entry. */
        *pp = e->next;
        m->n--;
        if (e->refs) {
            e->retired = true;
            e->next = m->retired;
            m->retired = e;
        } else {
            entry_free(e);
        }
        break;
    }
    pthread_mutex_unlock(&m->lock);

    /* Load outside the lock; two threads may load the same file once each. */
    e = osap_calloc(1, sizeof(*e));
    if (!e) return NULL;
    osap_str_copy(e->name, sizeof(e->name), name);
    osap_str_copy(e->path, sizeof(e->path), path);
    e->mtime = sb.st_mtim;
    e->size = sb.st_size;
    e->model = load(m, path);
    if (e->model) e->refs = 1;
    model = e->model;
    pthread_mutex_lock(&m->lock);
    if (m->n < MODELS_CACHED_MAX) {
        e->next = m->entries;
        m->entries = e;
        m->n++;
    } else if (e->model) {
        e->retired = true; /* not cached: freed at release */
        e->next = m->retired;
        m->retired = e;
    } else {
        entry_free(e);
    }
    pthread_mutex_unlock(&m->lock);
    return model;
}

void api_models_release(struct api_models *m, const osap_model_t *model)
{
    struct model_entry *e, **pp;

    if (!model) return;
    pthread_mutex_lock(&m->lock);
    for (e = m->entries; e; e = e->next) {
        if (e->model == model) {
            e->refs--;
            pthread_mutex_unlock(&m->lock);
            return;
        }
    }
    for (pp = &m->retired; (e = *pp); pp = &e->next) {
        if (e->model == model) {
            if (--e->refs == 0) {
                *pp = e->next;
                entry_free(e);
            }
            break;
        }
    }
    pthread_mutex_unlock(&m->lock);
}

/* ---- GET /api/v1/models/{name} ---- */

static void model_work(struct api_call *c, struct osap_store *st)
{
    const osap_model_t *m = api_models_get(c->api->models, c->args[0]);
    char *doc = NULL;
    osap_err err;

    (void)st;
    if (!m) {
        api_reply_error(c, 404, API_E_MODEL_NOT_FOUND, NULL, "no thing model %s in models_dir",
                        c->args[0]);
        return;
    }
    err = osap_model_to_json(m, &doc);
    api_models_release(c->api->models, m);
    if (err) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "cannot write the model: %s",
                        osap_strerror(err));
        return;
    }
    api_reply_body(c, 200, "application/json", doc, strlen(doc));
    osap_free(doc);
}

void api_model_get(struct api_call *c)
{
    if (!name_ok(c->args[0])) {
        api_reply_error(c, 404, API_E_MODEL_NOT_FOUND, NULL, "no such thing model");
        api_call_finish(c);
        return;
    }
    api_call_submit(c, model_work, NULL);
}
