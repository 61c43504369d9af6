/*
 * The registration record a device sends, encrypted, as its MQTT will message
 * (spec 6.2): the full form on a first registration, the light form
 * {"SubSerial","DeviceID"} on a reconnection.
 */
#include "osap/devjson.h"

#include "devjson_internal.h"

#include <stddef.h>
#include <string.h>

/* Text members of the full form, in the device's order (Status and RegMode, the
 * two numbers, and the trailing DeviceID and SDKVersion are handled around them). */
struct text_member {
    const char *key;
    size_t off;
    size_t max;
};

#define TEXT(key, field)                                                                           \
    {                                                                                              \
        key, offsetof(struct osap_reg_info, field), sizeof(((struct osap_reg_info *)0)->field) - 1 \
    }

static const struct text_member text_members[] = {
    TEXT("DevSerial", dev_serial),
    TEXT("SubSerial", sub_serial),
    TEXT("FirmwareVersion", firmware_version),
    TEXT("DevType", dev_type),
    TEXT("DevTypeDisplay", dev_type_display),
    TEXT("MAC", mac),
    TEXT("FirmwareIdentificationCode", firmware_ident_code),
    TEXT("LbsDomain", lbs_domain),
    TEXT("SDKMainVersion", sdk_main_version),
    TEXT("DeviceID", device_id),
};

#define N_TEXT (sizeof(text_members) / sizeof(text_members[0]))

static char *field(struct osap_reg_info *r, const struct text_member *m)
{
    return (char *)r + m->off;
}

static const char *cfield(const struct osap_reg_info *r, const struct text_member *m)
{
    return (const char *)r + m->off;
}

static const struct text_member *member(const char *key)
{
    for (size_t i = 0; i < N_TEXT; i++)
        if (strcmp(text_members[i].key, key) == 0) return &text_members[i];
    return NULL;
}

static int parse_sdk_versions(const cJSON *obj, struct osap_reg_info *r)
{
    const cJSON *it;

    if (!cJSON_IsObject(obj)) return 0;
    cJSON_ArrayForEach(it, obj)
    {
        struct osap_reg_sdk_version *v;
        size_t klen;

        if (r->sdk_version_count >= OSAP_REG_SDKVER_MAX || !it->string) return 0;
        v = &r->sdk_version[r->sdk_version_count];
        klen = strnlen(it->string, OSAP_REG_SDKVER_KEY_MAX + 1);
        if (klen > OSAP_REG_SDKVER_KEY_MAX) return 0;
        memcpy(v->domain, it->string, klen);
        v->domain[klen] = '\0';
        if (!osap__json_str_copy(it, v->version, OSAP_REG_SDKVER_VALUE_MAX)) return 0;
        r->sdk_version_count++;
    }
    return 1;
}

static int parse_int32(const cJSON *root, const char *key, int32_t *out, int *present)
{
    const cJSON *it;
    int64_t v;

    if (osap__json_member(root, key, &it)) return 0;
    if (!it) return 1;
    if (!osap__json_int_in(it, -2147483648.0, 2147483647.0, &v)) return 0;
    *out = (int32_t)v;
    *present = 1;
    return 1;
}

osap_err osap_reg_json_parse(const char *json, size_t len, struct osap_reg_info *out)
{
    struct osap_reg_info r;
    cJSON *root = NULL;
    const cJSON *it;
    int full = 0;
    osap_err err;

    if (!out || (len && !json)) return OSAP_EINVAL;
    if (len > OSAP_REG_JSON_MAX) return OSAP_EREG_JSON;
    err = osap__json_parse(json, len, OSAP_EREG_JSON, &root);
    if (err) return err;

    memset(&r, 0, sizeof(r));
    err = OSAP_EREG_JSON;
    if (!cJSON_IsObject(root)) goto out;
    for (size_t i = 0; i < N_TEXT; i++) {
        const struct text_member *m = &text_members[i];
        if (osap__json_member(root, m->key, &it)) goto out;
        if (!it) continue;
        if (!osap__json_str_copy(it, field(&r, m), m->max)) goto out;
        if (m->off != offsetof(struct osap_reg_info, sub_serial) &&
            m->off != offsetof(struct osap_reg_info, device_id))
            full = 1;
    }
    if (r.sub_serial[0] == '\0' || r.device_id[0] == '\0') goto out;
    if (!parse_int32(root, "Status", &r.status, &full)) goto out;
    if (!parse_int32(root, "RegMode", &r.reg_mode, &full)) goto out;
    if (osap__json_member(root, "SDKVersion", &it)) goto out;
    if (it) {
        if (!parse_sdk_versions(it, &r)) goto out;
        full = 1;
    }
    r.light = !full;
    *out = r;
    err = OSAP_OK;
out:
    cJSON_Delete(root);
    return err;
}

static int terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

static void put_text(struct osap__jw *w, const struct osap_reg_info *r, const char *key)
{
    const struct text_member *m = member(key);
    const char *s = cfield(r, m);

    osap__jw_str(w, key, strlen(key));
    osap__jw_raw(w, ":", 1);
    osap__jw_str(w, s, strlen(s));
}

osap_err osap_reg_json_format(const struct osap_reg_info *info, char *out, size_t cap, size_t *len)
{
    struct osap__jw w;

    if (!info || !out || !len) return OSAP_EINVAL;
    for (size_t i = 0; i < N_TEXT; i++)
        if (!terminated(cfield(info, &text_members[i]), text_members[i].max + 1))
            return OSAP_EINVAL;
    if (info->sdk_version_count > OSAP_REG_SDKVER_MAX) return OSAP_EINVAL;
    for (size_t i = 0; i < info->sdk_version_count; i++)
        if (!terminated(info->sdk_version[i].domain, sizeof(info->sdk_version[i].domain)) ||
            !terminated(info->sdk_version[i].version, sizeof(info->sdk_version[i].version)))
            return OSAP_EINVAL;

    osap__jw_init(&w, out, cap);
    if (info->light) {
        osap__jw_raw(&w, "{", 1);
        put_text(&w, info, "SubSerial");
        osap__jw_raw(&w, ",", 1);
        put_text(&w, info, "DeviceID");
        osap__jw_raw(&w, "}", 1);
        return osap__jw_finish(&w, len);
    }
    osap__jw_raw(&w, "{", 1);
    put_text(&w, info, "DevSerial");
    osap__jw_raw(&w, ",", 1);
    put_text(&w, info, "SubSerial");
    osap__jw_raw(&w, ",", 1);
    put_text(&w, info, "FirmwareVersion");
    osap__jw_raw(&w, ",", 1);
    put_text(&w, info, "DevType");
    osap__jw_raw(&w, ",", 1);
    put_text(&w, info, "DevTypeDisplay");
    osap__jw_raw(&w, ",", 1);
    put_text(&w, info, "MAC");
    osap__jw_lit(&w, ",\"Status\":");
    osap__jw_i64(&w, info->status);
    osap__jw_raw(&w, ",", 1);
    put_text(&w, info, "FirmwareIdentificationCode");
    osap__jw_raw(&w, ",", 1);
    put_text(&w, info, "LbsDomain");
    osap__jw_lit(&w, ",\"RegMode\":");
    osap__jw_i64(&w, info->reg_mode);
    osap__jw_raw(&w, ",", 1);
    put_text(&w, info, "SDKMainVersion");
    osap__jw_raw(&w, ",", 1);
    put_text(&w, info, "DeviceID");
    osap__jw_lit(&w, ",\"SDKVersion\":{");
    for (size_t i = 0; i < info->sdk_version_count; i++) {
        const struct osap_reg_sdk_version *v = &info->sdk_version[i];
        if (i) osap__jw_raw(&w, ",", 1);
        osap__jw_str(&w, v->domain, strlen(v->domain));
        osap__jw_raw(&w, ":", 1);
        osap__jw_str(&w, v->version, strlen(v->version));
    }
    osap__jw_lit(&w, "}}");
    return osap__jw_finish(&w, len);
}
