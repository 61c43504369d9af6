/* The device layer and the thing models (lib/server/models.h). A device's model is
 * decided from what its CONNECT gives: its provisioned model (the devices row read
 * to authenticate it) and the [models] map of the DevType in its registration;
 * the model itself is looked up in the worker's catalog whenever it is needed, so
 * a reload (SIGHUP) applies to connected devices at once. Each worker keeps the
 * catalog it last took and takes the registry's current one when the generation
 * changed (one atomic load per look-up, no lock).
 *
 * Checks never refuse anything: a value the device sent that its model does not
 * allow is stored and acknowledged like any other, marked with the reason
 * (ingest_record.invalid), and counted. */
#include "das/device_internal.h"

#include "log.h"
#include "osap/alloc.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

struct osap_catalog *device_catalog(struct device_worker *dw)
{
    struct osap_models *reg = dw->layer->models;

    if (!reg) return NULL;
    if (!dw->catalog || osap_catalog_generation(dw->catalog) != osap_models_generation(reg)) {
        osap_catalog_release(dw->catalog);
        dw->catalog = osap_models_acquire(reg);
    }
    return dw->catalog;
}

void device_catalog_release(struct device_worker *dw)
{
    osap_catalog_release(dw->catalog);
    dw->catalog = NULL;
}

void device_model_set(struct device *dev, const char *model, const char *dev_type)
{
    struct osap_models *reg = dev->dw->layer->models;

    /* A name longer than a model name cannot name one. */
    if (!osap_str_copy(dev->model, sizeof(dev->model), model)) dev->model[0] = '\0';
    dev->mapped = reg ? osap_models_map_lookup(reg, dev_type) : NULL;
}

const struct osap_catalog_model *device_model(struct device *dev)
{
    struct osap_catalog *c = device_catalog(dev->dw);
    const struct osap_catalog_model *m;

    if (!c) return NULL;
    m = osap_catalog_find(c, dev->model);
    return m ? m : osap_catalog_find(c, dev->mapped);
}

const char *device_model_check(struct device *dev, enum osap_model_check check,
                               const char *resource, const char *domain, const char *identifier,
                               const cJSON *value, bool parsed, char *reason, size_t cap)
{
    const struct osap_catalog_model *m = device_model(dev);
    char msg[400] = "";
    osap_err err;

    if (!m) return NULL;
    if (!parsed) {
        snprintf(reason, cap, "model %s: the %s is not JSON", m->name,
                 check == OSAP_MODEL_CHECK_EVENT ? "payload" : "value");
        return reason;
    }
    err =
        osap_model_validate(m->model, check, resource, domain, identifier, value, msg, sizeof(msg));
    if (err == OSAP_OK) return NULL;
    if (err == OSAP_EMODEL_VALIDATION)
        snprintf(reason, cap, "%s", msg);
    else
        snprintf(reason, cap, "model %s: %s", m->name, msg[0] ? msg : osap_strerror(err));
    return reason;
}
