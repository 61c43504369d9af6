/* Devices: POST/GET /api/v1/devices, GET/PATCH/DELETE /api/v1/devices/{serial},
 * POST .../block and .../unblock. The JSON form never carries the verification
 * code, the licence or any key. */
#include "api/api_internal.h"

#include "log.h"
#include "osap/alloc.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

cJSON *api_device_json(const struct osap_device *d)
{
    cJSON *o = cJSON_CreateObject();

    if (!o) return NULL;
    cJSON_AddStringToObject(o, "serial", d->serial);
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "model", d->model);
    cJSON_AddStringToObject(o, "dev_type", d->dev_type);
    cJSON_AddStringToObject(o, "firmware", d->firmware);
    cJSON_AddStringToObject(o, "auth_mode", d->auth_mode == OSAP_AUTH_LICENCE ? "licence" : "code");
    cJSON_AddBoolToObject(o, "online", d->online);
    cJSON_AddBoolToObject(o, "blocked", d->blocked);
    cJSON_AddItemToObject(o, "last_seen", api_time_json(d->last_seen));
    cJSON_AddItemToObject(o, "created_at", api_time_json(d->created_at));
    if (d->das_node[0])
        cJSON_AddStringToObject(o, "das_node", d->das_node);
    else
        cJSON_AddNullToObject(o, "das_node");
    if (d->address[0])
        cJSON_AddStringToObject(o, "address", d->address);
    else
        cJSON_AddNullToObject(o, "address");
    cJSON_AddBoolToObject(o, "registered", d->devid[0] != '\0');
    return o;
}

/* The device's JSON with "thing_model": the model its values are checked against
 * (its provisioned one, else the [models] map of its DevType), or null. */
static cJSON *device_json(struct api *api, const struct osap_device *d)
{
    cJSON *o = api_device_json(d);
    struct osap_catalog *cat;
    const struct osap_catalog_model *m;

    if (!o) return NULL;
    cat = api_catalog(api);
    m = cat ? osap_catalog_for_device(cat, d->model, d->dev_type, NULL) : NULL;
    if (m)
        cJSON_AddStringToObject(o, "thing_model", m->name);
    else
        cJSON_AddNullToObject(o, "thing_model");
    osap_catalog_release(cat);
    return o;
}

/* The {serial} of the path, checked; 404 when it cannot be a serial. */
static bool serial_arg(struct api_call *c)
{
    if (osap_serial_valid(c->args[0])) return true;
    api_reply_error(c, 404, API_E_DEVICE_NOT_FOUND, NULL, "no such device");
    api_call_finish(c);
    return false;
}

/* Reply with the device as stored now (200, or @p status). */
static void reply_device(struct api_call *c, struct osap_store *st, int status)
{
    struct osap_device dev;
    osap_err err = osap_store_device_get(st, c->args[0], &dev);

    if (err) {
        api_reply_store_error(c, err, API_E_DEVICE_NOT_FOUND, "device");
        return;
    }
    api_reply_json(c, status, device_json(c->api, &dev));
}

/* ---- POST /api/v1/devices ---- */

static void create_work(struct api_call *c, struct osap_store *st)
{
    const struct osap_device *dev = c->data;
    char *path;
    osap_err err = osap_store_device_add(st, dev);

    if (err == OSAP_EEXISTS) {
        api_reply_error(c, 409, API_E_DEVICE_EXISTS, "serial", "a device %s exists already",
                        dev->serial);
        return;
    }
    if (err) {
        api_reply_store_error(c, err, API_E_DEVICE_NOT_FOUND, "add the device");
        return;
    }
    OSAP_LOGI(API_LOG, "device %s added", dev->serial);
    c->args[0] = osap_strdup(dev->serial);
    if (!c->args[0]) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        return;
    }
    reply_device(c, st, 201);
    path = api_path_escape(dev->serial);
    if (path) api_reply_header(c, "Location", "/api/v1/devices/%s", path);
    osap_free(path);
}

static bool label_field(struct api_call *c, const cJSON *body, const char *name, size_t max,
                        char *dst, size_t cap)
{
    const char *v;

    if (!api_input_string(c, body, name, max, false, &v)) return false;
    if (!v) return true;
    if (!osap_label_valid(v, max)) {
        api_reply_error(c, 400, API_E_INVALID_FIELD, name,
                        "%s must be at most %zu bytes without control characters", name, max);
        return false;
    }
    osap_str_copy(dst, cap, v);
    return true;
}

/* The secret of a body: "code" (verification code, SAP devices) or "licence"
 * (licence-mode devices); exactly one when @p required, at most one otherwise. */
static bool secret_field(struct api_call *c, const cJSON *body, bool required, const char **secret,
                         const char **which)
{
    const char *code, *licence;

    if (!api_input_string(c, body, "code", OSAP_VCODE_MAX, false, &code) ||
        !api_input_string(c, body, "licence", OSAP_VCODE_MAX, false, &licence))
        return false;
    if (code && licence) {
        api_reply_error(c, 400, API_E_INVALID_FIELD, "licence",
                        "give either code (verification code) or licence, not both");
        return false;
    }
    *secret = code ? code : licence;
    *which = code ? "code" : licence ? "licence" : NULL;
    if (!*secret && required) {
        api_reply_error(c, 400, API_E_MISSING_FIELD, "code",
                        "code (verification code) or licence is required");
        return false;
    }
    if (*secret && !osap_secret_valid(*secret)) {
        api_reply_error(c, 400, API_E_INVALID_FIELD, *which,
                        "%s must be 1..%d printable characters without blanks", *which,
                        OSAP_VCODE_MAX);
        return false;
    }
    return true;
}

void api_devices_create(struct api_call *c)
{
    static const char *const known[] = {"serial", "code", "licence", "model", "name", NULL};
    struct osap_device *dev = NULL;
    const char *serial, *secret, *which;
    cJSON *body = NULL;

    if (!api_input_object(c, false, &body) || !api_input_known(c, body, known) ||
        !api_input_string(c, body, "serial", 255, true, &serial) ||
        !secret_field(c, body, true, &secret, &which))
        goto fail;
    if (!osap_serial_valid(serial)) {
        api_reply_error(c, 400, API_E_INVALID_FIELD, "serial",
                        "serial must be 1..%d printable characters without blanks, '/', '+' "
                        "or '#'",
                        OSAP_SUBSERIAL_MAX);
        goto fail;
    }
    if (strcmp(which, "licence") == 0 && !osap_serial_is_licence(serial)) {
        api_reply_error(c, 400, API_E_INVALID_FIELD, "serial",
                        "a licence-mode device has a serial of the form productKey:deviceName");
        goto fail;
    }
    if (strcmp(which, "code") == 0 && strchr(serial, ':')) {
        api_reply_error(c, 400, API_E_INVALID_FIELD, "serial",
                        "a serial with ':' is a licence-mode device: give a licence");
        goto fail;
    }
    dev = osap_calloc(1, sizeof(*dev));
    if (!dev) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        goto fail;
    }
    osap_str_copy(dev->serial, sizeof(dev->serial), serial);
    osap_str_copy(dev->secret, sizeof(dev->secret), secret);
    dev->auth_mode = strcmp(which, "licence") == 0 ? OSAP_AUTH_LICENCE : OSAP_AUTH_SAP;
    if (!label_field(c, body, "model", OSAP_DEVICE_MODEL_MAX, dev->model, sizeof(dev->model)) ||
        !label_field(c, body, "name", OSAP_DEVICE_NAME_MAX, dev->name, sizeof(dev->name)))
        goto fail;
    cJSON_Delete(body);
    c->data = dev;
    c->data_free = osap_free;
    api_call_submit(c, create_work, NULL);
    return;
fail:
    osap_free(dev);
    cJSON_Delete(body);
    api_call_finish(c);
}

/* ---- GET /api/v1/devices ---- */

struct list_state {
    struct api *api;
    struct osap_device_filter f;
    char after[OSAP_SUBSERIAL_MAX + 1];
    char *model, *search;
    cJSON *items;
    uint32_t n, limit;
    char last[OSAP_SUBSERIAL_MAX + 1];
    bool more;
};

static void list_free(void *p)
{
    struct list_state *ls = p;
    if (!ls) return;
    osap_free(ls->model);
    osap_free(ls->search);
    cJSON_Delete(ls->items);
    osap_free(ls);
}

static osap_err list_row(const struct osap_device *d, void *userdata)
{
    struct list_state *ls = userdata;
    cJSON *o;

    if (ls->n == ls->limit) {
        ls->more = true;
        return OSAP_OK;
    }
    o = device_json(ls->api, d);
    if (!o) return OSAP_ENOMEM;
    cJSON_AddItemToArray(ls->items, o);
    osap_str_copy(ls->last, sizeof(ls->last), d->serial);
    ls->n++;
    return OSAP_OK;
}

static void list_work(struct api_call *c, struct osap_store *st)
{
    struct list_state *ls = c->data;
    osap_err err;
    cJSON *o;

    ls->items = cJSON_CreateArray();
    if (!ls->items) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        return;
    }
    err = osap_store_device_list(st, &ls->f, list_row, ls);
    if (err) {
        api_reply_store_error(c, err, API_E_NOT_FOUND, "list devices");
        return;
    }
    o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "items", ls->items);
    ls->items = NULL;
    if (ls->more) {
        char *cur = api_cursor_encode('d', ls->last);
        if (cur) cJSON_AddStringToObject(o, "next_cursor", cur);
        osap_free(cur);
    } else {
        cJSON_AddNullToObject(o, "next_cursor");
    }
    api_reply_json(c, 200, o);
}

static bool dup_param(struct api_call *c, const char *name, size_t max, char **out)
{
    const char *v = osap_http_request_param(c->req, name);

    if (!v || !*v) return true;
    if (strlen(v) > max) {
        api_reply_error(c, 400, API_E_INVALID_PARAMETER, name, "%s is too long", name);
        return false;
    }
    *out = osap_strdup(v);
    if (!*out) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        return false;
    }
    return true;
}

void api_devices_list(struct api_call *c)
{
    struct list_state *ls = osap_calloc(1, sizeof(*ls));
    int online, blocked;

    if (!ls) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        goto fail;
    }
    c->data = ls;
    c->data_free = list_free;
    ls->api = c->api;
    if (!api_query_bool(c, "online", &online) || !api_query_bool(c, "blocked", &blocked) ||
        !api_query_limit(c, &ls->limit) ||
        !api_cursor_decode(c, 'd', ls->after, sizeof(ls->after)) ||
        !dup_param(c, "model", OSAP_DEVICE_MODEL_MAX, &ls->model) ||
        !dup_param(c, "q", OSAP_DEVICE_NAME_MAX, &ls->search))
        goto fail;
    ls->f.online = online < 0 ? OSAP_FILTER_ANY : online ? OSAP_FILTER_YES : OSAP_FILTER_NO;
    ls->f.blocked = blocked < 0 ? OSAP_FILTER_ANY : blocked ? OSAP_FILTER_YES : OSAP_FILTER_NO;
    ls->f.model = ls->model;
    ls->f.search = ls->search;
    ls->f.after = ls->after[0] ? ls->after : NULL;
    ls->f.limit = ls->limit + 1; /* one more tells whether a next page exists */
    api_call_submit(c, list_work, NULL);
    return;
fail:
    api_call_finish(c);
}

/* ---- GET /api/v1/devices/{serial} ---- */

static void get_work(struct api_call *c, struct osap_store *st)
{
    reply_device(c, st, 200);
}

void api_device_get(struct api_call *c)
{
    if (serial_arg(c)) api_call_submit(c, get_work, NULL);
}

/* ---- PATCH /api/v1/devices/{serial} ---- */

struct patch {
    char name[OSAP_DEVICE_NAME_MAX + 1];
    char model[OSAP_DEVICE_MODEL_MAX + 1];
    char secret[OSAP_VCODE_MAX + 1];
    bool has_name, has_model, licence;
    const char *which; /* "code", "licence" or NULL */
};

static void patch_work(struct api_call *c, struct osap_store *st)
{
    struct patch *p = c->data;
    struct osap_device_update u = {0};
    struct osap_device dev;
    osap_err err;

    if (p->which) {
        err = osap_store_device_get(st, c->args[0], &dev);
        if (err) {
            api_reply_store_error(c, err, API_E_DEVICE_NOT_FOUND, "device");
            return;
        }
        if ((dev.auth_mode == OSAP_AUTH_LICENCE) != p->licence) {
            api_reply_error(c, 400, API_E_INVALID_FIELD, p->which,
                            "this device authenticates with a %s",
                            dev.auth_mode == OSAP_AUTH_LICENCE ? "licence" : "verification code");
            return;
        }
        u.secret = p->secret;
    }
    if (p->has_name) u.name = p->name;
    if (p->has_model) u.model = p->model;
    err = osap_store_device_update(st, c->args[0], &u);
    if (err) {
        api_reply_store_error(c, err, API_E_DEVICE_NOT_FOUND, "update the device");
        return;
    }
    reply_device(c, st, 200);
}

void api_device_update(struct api_call *c)
{
    static const char *const known[] = {"code", "licence", "model", "name", NULL};
    struct patch *p;
    const char *secret, *which, *v;
    cJSON *body = NULL;

    if (!serial_arg(c)) return;
    p = osap_calloc(1, sizeof(*p));
    if (!p) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        goto fail;
    }
    c->data = p;
    c->data_free = osap_free;
    if (!api_input_object(c, false, &body) || !api_input_known(c, body, known) ||
        !secret_field(c, body, false, &secret, &which) ||
        !label_field(c, body, "model", OSAP_DEVICE_MODEL_MAX, p->model, sizeof(p->model)) ||
        !label_field(c, body, "name", OSAP_DEVICE_NAME_MAX, p->name, sizeof(p->name)))
        goto fail;
    p->has_name = api_input_string(c, body, "name", OSAP_DEVICE_NAME_MAX, false, &v) && v;
    p->has_model = api_input_string(c, body, "model", OSAP_DEVICE_MODEL_MAX, false, &v) && v;
    if (secret) {
        osap_str_copy(p->secret, sizeof(p->secret), secret);
        p->which = strcmp(which, "code") == 0 ? "code" : "licence";
        p->licence = strcmp(which, "licence") == 0;
    }
    cJSON_Delete(body);
    api_call_submit(c, patch_work, NULL);
    return;
fail:
    cJSON_Delete(body);
    api_call_finish(c);
}

/* ---- DELETE /api/v1/devices/{serial}, POST .../block, .../unblock ---- */

/* After the store changed: a connected device goes now (it is refused when it
 * comes back: the DAS and the LBS read the flag from the store). */
static void disconnect_then(struct api_call *c)
{
    struct osap_device *dev = c->data;

    if (c->api->das) osapd_das_disconnect(c->api->das, c->args[0]);
    if (dev)
        api_reply_json(c, 200, device_json(c->api, dev));
    else
        api_reply_body(c, 204, NULL, NULL, 0);
    api_call_finish(c);
}

static void delete_work(struct api_call *c, struct osap_store *st)
{
    osap_err err = osap_store_device_remove(st, c->args[0]);

    if (err) {
        api_reply_store_error(c, err, API_E_DEVICE_NOT_FOUND, "remove the device");
        return;
    }
    OSAP_LOGI(API_LOG, "device %s removed", c->args[0]);
}

void api_device_delete(struct api_call *c)
{
    if (serial_arg(c)) api_call_submit(c, delete_work, disconnect_then);
}

static void block_work(struct api_call *c, struct osap_store *st, bool blocked)
{
    struct osap_device *dev = osap_calloc(1, sizeof(*dev));
    osap_err err = dev ? osap_store_device_set_blocked(st, c->args[0], blocked) : OSAP_ENOMEM;

    if (err == OSAP_OK) err = osap_store_device_get(st, c->args[0], dev);
    if (err) {
        osap_free(dev);
        api_reply_store_error(c, err, API_E_DEVICE_NOT_FOUND, "block the device");
        return;
    }
    OSAP_LOGI(API_LOG, "device %s %s", c->args[0], blocked ? "blocked" : "unblocked");
    c->data = dev;
    c->data_free = osap_free;
    if (!blocked) {
        api_reply_json(c, 200, device_json(c->api, dev));
        return;
    }
}

static void block_on(struct api_call *c, struct osap_store *st)
{
    block_work(c, st, true);
}

static void block_off(struct api_call *c, struct osap_store *st)
{
    block_work(c, st, false);
}

void api_device_block(struct api_call *c)
{
    if (serial_arg(c)) api_call_submit(c, block_on, disconnect_then);
}

void api_device_unblock(struct api_call *c)
{
    if (serial_arg(c)) api_call_submit(c, block_off, NULL);
}
