/*
 * The JSON bodies of LBS 0xA (the device asks for a DAS) and 0xB (the DAS
 * address), spec 4.7.
 */
#include "osap/devjson.h"

#include "devjson_internal.h"

#include <string.h>

/* Ceilings on the documents read (the longest legitimate ones, every string
 * character escaped, are well below). */
#define REQUEST_JSON_MAX 1024
#define DAS_JSON_MAX     2048

osap_err osap_das_request_format(const char *dev_serial, int mode, char *out, size_t cap,
                                 size_t *len)
{
    struct osap__jw w;
    size_t n;

    if (!dev_serial || !out || !len || (mode != 0 && mode != 1)) return OSAP_EINVAL;
    n = strnlen(dev_serial, OSAP_SUBSERIAL_MAX + 1);
    if (n == 0 || n > OSAP_SUBSERIAL_MAX) return OSAP_EINVAL;
    osap__jw_init(&w, out, cap);
    osap__jw_lit(&w, "{\"DevSerial\":");
    osap__jw_str(&w, dev_serial, n);
    osap__jw_lit(&w, ",\"Type\":\"DAS\",\"Mode\":");
    osap__jw_i64(&w, mode);
    osap__jw_lit(&w, "}");
    return osap__jw_finish(&w, len);
}

osap_err osap_das_request_parse(const char *json, size_t len, struct osap_das_request *out)
{
    struct osap_das_request r;
    const cJSON *sn, *type, *mode;
    cJSON *root = NULL;
    int64_t m;
    osap_err err;

    if (!out || (len && !json)) return OSAP_EINVAL;
    if (len > REQUEST_JSON_MAX) return OSAP_EDAS_REQUEST_JSON;
    err = osap__json_parse(json, len, OSAP_EDAS_REQUEST_JSON, &root);
    if (err) return err;

    err = OSAP_EDAS_REQUEST_JSON;
    if (!cJSON_IsObject(root) || cJSON_GetArraySize(root) != 3) goto out;
    if (osap__json_member(root, "DevSerial", &sn) || osap__json_member(root, "Type", &type) ||
        osap__json_member(root, "Mode", &mode))
        goto out;
    if (!osap__json_str_copy(sn, r.dev_serial, OSAP_SUBSERIAL_MAX) || r.dev_serial[0] == '\0')
        goto out;
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "DAS") != 0) goto out;
    if (!osap__json_int_in(mode, 0, 1, &m)) goto out;
    r.mode = (int)m;
    *out = r;
    err = OSAP_OK;
out:
    cJSON_Delete(root);
    return err;
}

/* The strict reader and writer of 0xB; the LBS handshake has its own, lenient
 * one (lbs_json.c, which says why both exist). */

static int terminated(const char *s)
{
    return memchr(s, '\0', OSAP_DAS_STR_MAX + 1) != NULL;
}

osap_err osap_das_json_format(const struct osap_das_info *info, char *out, size_t cap, size_t *len)
{
    struct osap__jw w;

    if (!info || !out || !len) return OSAP_EINVAL;
    if (!terminated(info->address) || !terminated(info->domain) || !terminated(info->server_id))
        return OSAP_EINVAL;
    if (info->address[0] == '\0' || info->port == 0) return OSAP_EINVAL;
    osap__jw_init(&w, out, cap);
    osap__jw_lit(&w, "{\"Type\":\"DAS\",\"DasInfo\":{\"Address\":");
    osap__jw_str(&w, info->address, strlen(info->address));
    osap__jw_lit(&w, ",\"Port\":");
    osap__jw_u64(&w, info->port);
    osap__jw_lit(&w, ",\"UdpPort\":");
    osap__jw_u64(&w, info->udp_port);
    osap__jw_lit(&w, ",\"Domain\":");
    osap__jw_str(&w, info->domain, strlen(info->domain));
    osap__jw_lit(&w, ",\"ServerID\":");
    osap__jw_str(&w, info->server_id, strlen(info->server_id));
    osap__jw_lit(&w, "}}");
    return osap__jw_finish(&w, len);
}

osap_err osap_das_json_parse(const char *json, size_t len, struct osap_das_info *out)
{
    struct osap_das_info d;
    const cJSON *type, *info, *addr, *port, *udp, *domain, *sid;
    cJSON *root = NULL;
    int64_t v;
    osap_err err;

    if (!out || (len && !json)) return OSAP_EINVAL;
    if (len > DAS_JSON_MAX) return OSAP_EDAS_JSON;
    err = osap__json_parse(json, len, OSAP_EDAS_JSON, &root);
    if (err) return err;

    memset(&d, 0, sizeof(d));
    err = OSAP_EDAS_JSON;
    if (!cJSON_IsObject(root)) goto out;
    if (osap__json_member(root, "Type", &type) || osap__json_member(root, "DasInfo", &info))
        goto out;
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "DAS") != 0) goto out;
    if (!cJSON_IsObject(info)) goto out;
    if (osap__json_member(info, "Address", &addr) || osap__json_member(info, "Port", &port) ||
        osap__json_member(info, "UdpPort", &udp) || osap__json_member(info, "Domain", &domain) ||
        osap__json_member(info, "ServerID", &sid))
        goto out;
    if (!osap__json_str_copy(addr, d.address, OSAP_DAS_STR_MAX) || d.address[0] == '\0') goto out;
    if (!osap__json_int_in(port, 1, 65535, &v)) goto out;
    d.port = (uint16_t)v;
    if (!osap__json_int_in(udp, 0, 65535, &v)) goto out;
    d.udp_port = (uint16_t)v;
    if (!osap__json_str_copy(domain, d.domain, OSAP_DAS_STR_MAX)) goto out;
    if (!osap__json_str_copy(sid, d.server_id, OSAP_DAS_STR_MAX)) goto out;
    *out = d;
    err = OSAP_OK;
out:
    cJSON_Delete(root);
    return err;
}
