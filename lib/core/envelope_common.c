/*
 * The common JSON at the head of every envelope: {"Seq":n} (v3) and
 * {"CmdVer":"v","Seq":n,"MsgType":1|2} (v2), printed exactly as devices print it.
 */
#include "osap/envelope.h"

#include "devjson_internal.h"

#include <string.h>

osap_err osap_envelope_common_v3(uint32_t seq, char *out, size_t cap, size_t *len)
{
    struct osap__jw w;

    if (!out || !len) return OSAP_EINVAL;
    osap__jw_init(&w, out, cap);
    osap__jw_lit(&w, "{\"Seq\":");
    osap__jw_u64(&w, seq);
    osap__jw_lit(&w, "}");
    return osap__jw_finish(&w, len);
}

osap_err osap_envelope_common_v2(const char *cmd_ver, uint32_t seq, int msg_type, char *out,
                                 size_t cap, size_t *len)
{
    struct osap__jw w;
    size_t vlen;

    if (!cmd_ver || !out || !len) return OSAP_EINVAL;
    if (msg_type != OSAP_V2_MSGTYPE_REQUEST && msg_type != OSAP_V2_MSGTYPE_RESPONSE)
        return OSAP_EINVAL;
    vlen = strnlen(cmd_ver, OSAP_ENVELOPE_CMDVER_MAX + 1);
    if (vlen > OSAP_ENVELOPE_CMDVER_MAX) return OSAP_EINVAL;
    osap__jw_init(&w, out, cap);
    osap__jw_lit(&w, "{\"CmdVer\":");
    osap__jw_str(&w, cmd_ver, vlen);
    osap__jw_lit(&w, ",\"Seq\":");
    osap__jw_u64(&w, seq);
    osap__jw_lit(&w, ",\"MsgType\":");
    osap__jw_i64(&w, msg_type);
    osap__jw_lit(&w, "}");
    return osap__jw_finish(&w, len);
}

osap_err osap_envelope_common_parse(int version, const char *json, size_t len,
                                    struct osap_envelope_common *out)
{
    struct osap_envelope_common c;
    const cJSON *seq, *ver, *type;
    cJSON *root = NULL;
    int64_t v;
    osap_err err;

    if (!out || (len && !json)) return OSAP_EINVAL;
    if (version != OSAP_ENVELOPE_V2 && version != OSAP_ENVELOPE_V3) return OSAP_EINVAL;
    if (len > OSAP_ENVELOPE_COMMON_MAX) return OSAP_ECOMMON_JSON;
    err = osap__json_parse(json, len, OSAP_ECOMMON_JSON, &root);
    if (err) return err;

    memset(&c, 0, sizeof(c));
    err = OSAP_ECOMMON_JSON;
    if (!cJSON_IsObject(root)) goto out;
    if (osap__json_member(root, "Seq", &seq) || osap__json_member(root, "CmdVer", &ver) ||
        osap__json_member(root, "MsgType", &type))
        goto out;
    if (!osap__json_int_in(seq, 0, 4294967295.0, &v)) goto out;
    c.seq = (uint32_t)v;
    if (version == OSAP_ENVELOPE_V2) {
        if (!osap__json_str_copy(ver, c.cmd_ver, OSAP_ENVELOPE_CMDVER_MAX)) goto out;
        if (type) {
            if (!osap__json_int_in(type, OSAP_V2_MSGTYPE_REQUEST, OSAP_V2_MSGTYPE_RESPONSE, &v))
                goto out;
            c.msg_type = (int)v;
        }
    }
    *out = c;
    err = OSAP_OK;
out:
    cJSON_Delete(root);
    return err;
}
