/* The JSON bodies of LBS 0xA (what the device asks for) and 0xB (the DAS address). */
#include "lbs_codec.h"

#include "osap/lbs_handshake.h"

#include <cjson/cJSON.h>
#include <string.h>

/* Render @p root compactly into @p out without allocating. */
static osap_err json_render(cJSON *root, char *out, size_t cap, size_t *len)
{
    if (cap > (size_t)INT32_MAX) cap = INT32_MAX;
    if (!cJSON_PrintPreallocated(root, out, (int)cap, 0)) return OSAP_EBUFSIZE;
    *len = strlen(out);
    return OSAP_OK;
}

osap_err osap__lbs_req_json_encode(const char *subserial, uint8_t mode, char *out, size_t cap,
                                   size_t *len)
{
    osap_err err = OSAP_ENOMEM;
    cJSON *root = cJSON_CreateObject();

    if (!root) goto out;
    if (!cJSON_AddStringToObject(root, "DevSerial", subserial)) goto out;
    if (!cJSON_AddStringToObject(root, "Type", "DAS")) goto out;
    if (!cJSON_AddNumberToObject(root, "Mode", mode)) goto out;
    err = json_render(root, out, cap, len);
out:
    cJSON_Delete(root);
    return err;
}

osap_err osap__lbs_req_json_check(const uint8_t *json, size_t len, const char *subserial,
                                  size_t subserial_len)
{
    osap_err err = OSAP_EJSON;
    cJSON *root = cJSON_ParseWithLength((const char *)json, len);
    const cJSON *sn, *type;

    if (!root || !cJSON_IsObject(root)) goto out;
    err = OSAP_ELBS_FIELD;
    sn = cJSON_GetObjectItemCaseSensitive(root, "DevSerial");
    type = cJSON_GetObjectItemCaseSensitive(root, "Type");
    if (!cJSON_IsString(sn) || !cJSON_IsString(type)) goto out;
    if (strlen(sn->valuestring) != subserial_len ||
        memcmp(sn->valuestring, subserial, subserial_len) != 0)
        goto out;
    err = strcmp(type->valuestring, "DAS") == 0 ? OSAP_OK : OSAP_EUNSUPPORTED;
out:
    cJSON_Delete(root);
    return err;
}

/*
 * The 0xB DAS address exists twice on purpose: here for the LBS handshake
 * (struct osap_lbs_das_info, the type of the handshake machines, the device SDK
 * and the LBS service), and in devjson_das.c for the public device-JSON API
 * (struct osap_das_info). They do not accept the same documents: this reader
 * reads 0xB as a device does (Type unchecked, repeated and unknown members
 * tolerated, ports 0..65535, an empty Address accepted) and this writer prints
 * whatever the LBS was configured with, while devjson_das.c refuses a Type
 * other than "DAS", repeated members, port 0, an empty Address and documents
 * over 2 KiB. Folding one into the other would change which answers a device
 * takes or which configurations the LBS serves, so both stay.
 */

static int das_str_ok(const char *s)
{
    return memchr(s, '\0', OSAP_LBS_DAS_STR_MAX + 1) != NULL;
}

osap_err osap__lbs_das_json_encode(const struct osap_lbs_das_info *info, char *out, size_t cap,
                                   size_t *len)
{
    osap_err err = OSAP_EINVAL;
    cJSON *root = NULL, *das;

    if (!das_str_ok(info->address) || !das_str_ok(info->domain) || !das_str_ok(info->server_id))
        goto out;
    err = OSAP_ENOMEM;
    if (!(root = cJSON_CreateObject())) goto out;
    if (!cJSON_AddStringToObject(root, "Type", "DAS")) goto out;
    if (!(das = cJSON_AddObjectToObject(root, "DasInfo"))) goto out;
    if (!cJSON_AddStringToObject(das, "Address", info->address)) goto out;
    if (!cJSON_AddNumberToObject(das, "Port", info->port)) goto out;
    if (!cJSON_AddNumberToObject(das, "UdpPort", info->udp_port)) goto out;
    if (!cJSON_AddStringToObject(das, "Domain", info->domain)) goto out;
    if (!cJSON_AddStringToObject(das, "ServerID", info->server_id)) goto out;
    err = json_render(root, out, cap, len);
out:
    cJSON_Delete(root);
    return err;
}

static int copy_str(const cJSON *obj, const char *name, char out[OSAP_LBS_DAS_STR_MAX + 1])
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    size_t n;

    if (!cJSON_IsString(v)) return 0;
    n = strlen(v->valuestring);
    if (n > OSAP_LBS_DAS_STR_MAX) return 0;
    memcpy(out, v->valuestring, n + 1);
    return 1;
}

static int get_port(const cJSON *obj, const char *name, uint16_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 65535 ||
        v->valuedouble != (double)v->valueint)
        return 0;
    *out = (uint16_t)v->valueint;
    return 1;
}

osap_err osap__lbs_das_json_decode(const uint8_t *json, size_t len, struct osap_lbs_das_info *out)
{
    struct osap_lbs_das_info info;
    osap_err err = OSAP_EDAS_JSON;
    cJSON *root = cJSON_ParseWithLength((const char *)json, len);
    const cJSON *das;

    memset(&info, 0, sizeof(info));
    if (!root || !cJSON_IsObject(root)) goto out;
    das = cJSON_GetObjectItemCaseSensitive(root, "DasInfo");
    if (!cJSON_IsObject(das)) goto out;
    if (!copy_str(das, "Address", info.address) || !get_port(das, "Port", &info.port) ||
        !get_port(das, "UdpPort", &info.udp_port) || !copy_str(das, "Domain", info.domain) ||
        !copy_str(das, "ServerID", info.server_id))
        goto out;
    *out = info;
    err = OSAP_OK;
out:
    cJSON_Delete(root);
    return err;
}
