/* Attributes: GET /api/v1/devices/{serial}/attributes (the last reported values,
 * written by ingest, and the desired values waiting for the device) and
 * PUT /api/v1/devices/{serial}/attributes/{domain}/{identifier} (check against
 * the thing model, store the desired value, send model/attribute/set). */
#include "api/api_internal.h"

#include "osap/alloc.h"
#include "util.h"

#include <string.h>

/* Attributes listed per device at most (a device has tens to hundreds). */
#define ATTRIBUTES_MAX 10000

struct attr_list {
    cJSON *reported, *desired;
    size_t n;
    bool truncated;
};

static void attr_list_free(void *p)
{
    struct attr_list *l = p;
    if (!l) return;
    cJSON_Delete(l->reported);
    cJSON_Delete(l->desired);
    osap_free(l);
}

static cJSON *key_json(const char *child, const char *resource, const char *domain,
                       const char *identifier)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "child", child);
    cJSON_AddStringToObject(o, "resource", resource);
    cJSON_AddStringToObject(o, "domain", domain);
    cJSON_AddStringToObject(o, "identifier", identifier);
    return o;
}

static osap_err reported_row(const struct osap_attribute *a, void *userdata)
{
    struct attr_list *l = userdata;
    cJSON *o;

    if (l->n++ >= ATTRIBUTES_MAX) {
        l->truncated = true;
        return OSAP_ETOOBIG;
    }
    o = key_json(a->child, a->resource, a->domain, a->identifier);
    if (!o) return OSAP_ENOMEM;
    cJSON_AddItemToObject(o, "value", api_json_value(a->value));
    if (a->version >= 0)
        cJSON_AddNumberToObject(o, "version", (double)a->version);
    else
        cJSON_AddNullToObject(o, "version");
    cJSON_AddItemToObject(o, "reported_at", api_time_json(a->reported_at));
    if (a->invalid && a->invalid[0])
        cJSON_AddStringToObject(o, "invalid", a->invalid);
    else
        cJSON_AddNullToObject(o, "invalid");
    cJSON_AddItemToArray(l->reported, o);
    return OSAP_OK;
}

static osap_err desired_row(const struct osap_desired *d, void *userdata)
{
    struct attr_list *l = userdata;
    cJSON *o;

    if (l->n++ >= ATTRIBUTES_MAX) {
        l->truncated = true;
        return OSAP_ETOOBIG;
    }
    o = key_json(d->child, d->resource, d->domain, d->identifier);
    if (!o) return OSAP_ENOMEM;
    cJSON_AddItemToObject(o, "value", api_json_value(d->value));
    cJSON_AddNumberToObject(o, "version", (double)d->version);
    cJSON_AddItemToObject(o, "updated_at", api_time_json(d->updated_at));
    cJSON_AddItemToArray(l->desired, o);
    return OSAP_OK;
}

static void get_work(struct api_call *c, struct osap_store *st)
{
    struct attr_list *l = c->data;
    struct osap_attribute_filter f = {0};
    struct osap_device dev;
    osap_err err;
    cJSON *o;

    err = osap_store_device_get(st, c->args[0], &dev);
    if (err) {
        api_reply_store_error(c, err, API_E_DEVICE_NOT_FOUND, "device");
        return;
    }
    f.serial = c->args[0];
    l->reported = cJSON_CreateArray();
    l->desired = cJSON_CreateArray();
    if (!l->reported || !l->desired) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        return;
    }
    err = osap_store_attribute_list(st, &f, reported_row, l);
    if (err == OSAP_OK || err == OSAP_ETOOBIG) {
        l->n = 0;
        err = osap_store_desired_list(st, &f, desired_row, l);
    }
    if (err && err != OSAP_ETOOBIG) {
        api_reply_store_error(c, err, API_E_DEVICE_NOT_FOUND, "list attributes");
        return;
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "serial", dev.serial);
    cJSON_AddItemToObject(o, "items", l->reported);
    cJSON_AddItemToObject(o, "desired", l->desired);
    cJSON_AddBoolToObject(o, "truncated", l->truncated);
    l->reported = l->desired = NULL;
    api_reply_json(c, 200, o);
}

void api_attributes_get(struct api_call *c)
{
    struct attr_list *l;

    if (!osap_serial_valid(c->args[0])) {
        api_reply_error(c, 404, API_E_DEVICE_NOT_FOUND, NULL, "no such device");
        api_call_finish(c);
        return;
    }
    l = osap_calloc(1, sizeof(*l));
    if (!l) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        api_call_finish(c);
        return;
    }
    c->data = l;
    c->data_free = attr_list_free;
    api_call_submit(c, get_work, NULL);
}

/* ---- PUT .../attributes/{domain}/{identifier} ---- */

static void set_work(struct api_call *c, struct osap_store *st)
{
    struct api_devreq *r = c->data;
    struct osap_desired d = {r->serial,     r->child,      r->resource, r->domain,
                             r->identifier, r->value_json, 0,           0};
    struct osap_attribute_filter key = {r->serial, r->child, r->resource, r->domain, r->identifier};
    cJSON *value = cJSON_Parse(r->value_json);
    osap_err err;
    bool ok;

    if (!value) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        return;
    }
    ok = api_devreq_check(c, st, r, OSAP_MODEL_CHECK_SET, value);
    cJSON_Delete(value);
    if (!ok) return;
    /* The desired value and its version, together. */
    err = osap_store_begin(st);
    if (err == OSAP_OK) err = osap_store_desired_put(st, &d);
    if (err == OSAP_OK)
        err = osap_store_desired_list(st, &key, api_devreq_desired_version, &r->desired_version);
    if (err == OSAP_OK) err = osap_store_commit(st);
    if (err) {
        osap_store_rollback(st);
        api_reply_store_error(c, err, API_E_DEVICE_NOT_FOUND, "store the desired value");
        return;
    }
    if (r->async) api_devreq_record(c, st);
}

void api_attribute_set(struct api_call *c)
{
    static const char *const known[] = {"value", NULL};
    struct api_devreq *r;
    cJSON *body = NULL, *value;

    if (!api_devreq_begin(c, OSAPD_DAS_ATTRIBUTE_SET, false, known, &body)) goto fail;
    r = c->data;
    value = cJSON_GetObjectItemCaseSensitive(body, "value");
    if (!value) {
        api_reply_error(c, 400, API_E_MISSING_FIELD, "value", "value is required");
        goto fail;
    }
    if (!(r->value_json = api_json_print(value))) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        goto fail;
    }
    cJSON_Delete(body);
    api_call_submit(c, set_work, api_devreq_send);
    return;
fail:
    cJSON_Delete(body);
    api_call_finish(c);
}
