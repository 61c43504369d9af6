/* Small helpers to build the model's JSON documents with one failure check at the end. */
#include "model_internal.h"

#include "osap/alloc.h"

cJSON *osap__jadd(struct osap__jb *b, cJSON *parent, const char *key, cJSON *item)
{
    if (!item || !parent || b->failed) goto fail;
    if (key) {
        if (!cJSON_AddItemToObject(parent, key, item)) goto fail;
    } else if (!cJSON_AddItemToArray(parent, item)) {
        goto fail;
    }
    return item;
fail:
    cJSON_Delete(item);
    b->failed = true;
    return NULL;
}

void osap__jstr(struct osap__jb *b, cJSON *parent, const char *key, const char *s)
{
    osap__jadd(b, parent, key, s ? cJSON_CreateString(s) : NULL);
}

void osap__jnum(struct osap__jb *b, cJSON *parent, const char *key, double v)
{
    osap__jadd(b, parent, key, cJSON_CreateNumber(v));
}

void osap__jbool(struct osap__jb *b, cJSON *parent, const char *key, bool v)
{
    osap__jadd(b, parent, key, cJSON_CreateBool(v));
}

osap_err osap__jprint(struct osap__jb *b, cJSON *root, bool pretty, char **out)
{
    char *text = NULL, *copy = NULL;
    if (!b->failed && root) text = pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (text) copy = osap_strdup(text);
    cJSON_free(text);
    if (!copy) return OSAP_ENOMEM;
    *out = copy;
    return OSAP_OK;
}
