/* Device profiles (wire spec 7.6): a device whose firmware checks values against
 * its thing model asks for its profile with base-domain command 0x3870; the
 * platform answers 0x3871 {"url","expire","md5","devSerial"} and the device
 * downloads http://<url> and checks the MD5. This file holds both halves:
 *
 *   - the handler the api installs in the DAS (osapd_das_set_profile_handler()),
 *     which runs on the device's DAS worker: it finds the device's model in the
 *     registry and answers with the url of the route below and the MD5 of the
 *     exact bytes that route serves (both come from the same catalog entry);
 *   - GET /api/v1/profiles/{model}/{version}.json, public and read-only (devices
 *     have no token), which serves the profile document of the model's current
 *     version; another version is 404.
 *
 * A device without a model (or whose model is not loaded) gets no answer: that is
 * what any platform that does not serve profiles does, and a lost QoS 0 answer
 * looks the same to the device, so its SDK must live with it; an answer with an
 * empty url would send it into a download of "http://" instead.
 *
 * The handler's userdata is the osapd context, which outlives the DAS: a worker
 * may still run the handler after the api removed it while stopping. It reads
 * only the context (registry, settings), never the api's state. */
#include "api/api_internal.h"

#include "log.h"
#include "models.h"
#include "osap/alloc.h"
#include "osap/proto.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* ---- the answer to 0x3870 ---- */

/* host[:port] devices download from: [api] advertise, else [das] advertise and
 * this API's port. */
static void advertised(const struct osapd_context *ctx, const struct api_config *cfg, char *out,
                       size_t cap)
{
    const char *host;

    if (cfg->advertise[0]) {
        snprintf(out, cap, "%s", cfg->advertise);
        return;
    }
    host = osap_config_text(osapd_config(ctx), "das", "advertise");
    if (!host || !host[0]) host = cfg->listen;
    if (strchr(host, ':') && host[0] != '[')
        snprintf(out, cap, "[%s]:%d", host, (int)cfg->port); /* an IPv6 literal */
    else
        snprintf(out, cap, "%s:%d", host, (int)cfg->port);
}

static const char *str_member(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void api_profile_query(struct osapd_das *das, const char *serial, const char *model,
                       const char *body_json, uint32_t seq, void *userdata)
{
    const struct osapd_context *ctx = userdata;
    const struct api_config *cfg = osap_config_section(osapd_config(ctx), "api");
    struct osap_models *reg = osapd_models(ctx);
    struct osap_catalog *cat = NULL;
    const struct osap_catalog_model *m = NULL;
    cJSON *req = cJSON_Parse(body_json), *ans = NULL;
    const char *dev_serial, *pid;
    char host[300], *version = NULL, *url = NULL, *text = NULL;
    size_t n;
    osap_err err = OSAP_ENOMEM;

    dev_serial = str_member(req, "devSerial");
    pid = str_member(req, "pid");
    if (reg && model && model[0]) {
        cat = osap_models_acquire(reg);
        m = osap_catalog_find(cat, model);
    }
    if (!m) {
        OSAP_LOGI(API_LOG,
                  "device %s asks for its thing-model profile (pid %s): it has no thing model "
                  "here, not answered",
                  serial, pid ? pid : "-");
        goto out;
    }
    advertised(ctx, cfg, host, sizeof(host));
    version = api_path_escape(osap_model_version(m->model));
    if (!version) goto fail;
    n = strlen(host) + strlen(m->name) + strlen(version) + 40;
    url = osap_malloc(n);
    if (!url) goto fail;
    snprintf(url, n, "%s/api/v1/profiles/%s/%s.json", host, m->name, version);
    ans = cJSON_CreateObject();
    if (!ans || !cJSON_AddStringToObject(ans, "url", url) ||
        !cJSON_AddNumberToObject(ans, "expire", (double)(cfg->profile_expire / 1000)) ||
        !cJSON_AddStringToObject(ans, "md5", m->profile_md5) ||
        !cJSON_AddStringToObject(ans, "devSerial", dev_serial ? dev_serial : serial))
        goto fail;
    text = cJSON_PrintUnformatted(ans);
    if (!text) goto fail;
    err = osapd_das_send_v2(das, serial, OSAP_DOMAIN_BASE, OSAP_CMD_BASE_PROFILE_URL,
                            OSAP_CMD_VERSION_BASE, seq, OSAP_V2_MSGTYPE_RESPONSE,
                            (const uint8_t *)text, strlen(text));
    if (err) goto fail;
    OSAP_LOGI(API_LOG, "device %s: thing-model profile %s %s at http://%s (md5 %s)", serial,
              m->name, osap_model_version(m->model), url, m->profile_md5);
    goto out;
fail:
    OSAP_LOGW(API_LOG, "device %s: the profile answer was not sent: %s", serial,
              osap_strerror(err));
out:
    cJSON_free(text);
    cJSON_Delete(ans);
    osap_free(url);
    osap_free(version);
    osap_catalog_release(cat);
    cJSON_Delete(req);
}

/* ---- GET /api/v1/profiles/{model}/{version}.json ---- */

void api_profile_get(struct api_call *c)
{
    struct osap_catalog *cat = api_catalog(c->api);
    const struct osap_catalog_model *m = cat ? osap_catalog_find(cat, c->args[0]) : NULL;
    const char *file = c->args[1];
    size_t n = strlen(file);
    const char *version = m ? osap_model_version(m->model) : NULL;

    if (!m || n != strlen(version) + 5 || memcmp(file, version, n - 5) != 0 ||
        strcmp(file + n - 5, ".json") != 0) {
        if (m)
            api_reply_error(c, 404, API_E_PROFILE_NOT_FOUND, NULL,
                            "thing model %s is at version %s", m->name, version);
        else
            api_reply_error(c, 404, API_E_PROFILE_NOT_FOUND, NULL, "no thing model %s", c->args[0]);
    } else {
        api_reply_header(c, "ETag", "\"%s\"", m->profile_md5);
        api_reply_header(c, "Cache-Control", "no-cache");
        api_reply_body(c, 200, "application/json", m->profile, m->profile_len);
    }
    osap_catalog_release(cat);
    api_call_finish(c);
}
