/* Thing models in the api: GET /api/v1/models and GET /api/v1/models/{name} (the
 * compiled document of a model, what the console builds its forms from), and the
 * device's model for the checks of attribute sets and operation inputs. Models
 * come from the process's registry (lib/server/models.h: [models] models_dir,
 * loaded at start and on SIGHUP); the api only reads it. */
#include "api/api_internal.h"

#include "osap/alloc.h"
#include "util.h"

#include <string.h>

struct osap_catalog *api_catalog(struct api *api)
{
    return api->models ? osap_models_acquire(api->models) : NULL;
}

/* ---- GET /api/v1/models ---- */

void api_models_list(struct api_call *c)
{
    struct osap_catalog *cat = api_catalog(c->api);
    cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "items");

    for (size_t i = 0; cat && items && i < osap_catalog_count(cat); i++) {
        const struct osap_catalog_model *m = osap_catalog_at(cat, i);
        cJSON *x = cJSON_CreateObject();
        if (!x) break;
        cJSON_AddStringToObject(x, "name", m->name);
        cJSON_AddStringToObject(x, "version", osap_model_version(m->model));
        if (osap_model_doc(m->model)) cJSON_AddStringToObject(x, "doc", osap_model_doc(m->model));
        cJSON_AddNumberToObject(x, "profile_size", (double)m->profile_len);
        cJSON_AddStringToObject(x, "profile_md5", m->profile_md5);
        cJSON_AddItemToArray(items, x);
    }
    osap_catalog_release(cat);
    api_reply_json(c, 200, o);
    api_call_finish(c);
}

/* ---- GET /api/v1/models/{name} ---- */

static void model_work(struct api_call *c, struct osap_store *st)
{
    struct osap_catalog *cat = api_catalog(c->api);
    const struct osap_catalog_model *m = cat ? osap_catalog_find(cat, c->args[0]) : NULL;
    char *doc = NULL;
    osap_err err;

    (void)st;
    if (!m) {
        osap_catalog_release(cat);
        api_reply_error(c, 404, API_E_MODEL_NOT_FOUND, NULL, "no thing model %s in models_dir",
                        c->args[0]);
        return;
    }
    err = osap_model_to_json(m->model, &doc);
    osap_catalog_release(cat);
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
    api_call_submit(c, model_work, NULL);
}
