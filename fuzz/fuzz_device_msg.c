/* libFuzzer target: what the DAS device layer reads from a device's decrypted
 * message (src/osapd/das/device_msg.c): the topic rules, the envelope's common
 * JSON and, by kind, the JSON bodies (events, attribute and shadow reports,
 * shadow queries, replies to platform requests, OTA, profile queries), then the
 * checks against the device's thing model (device_models.c, the project's
 * models/ loaded as osapd loads them).
 *
 * Input: one byte N, the topic, a newline, then the plaintext as the device
 * encrypts it (u16be common length, common JSON, body). The device is Q12345678,
 * provisioned with the model named by N's low bits. With N's high bit set,
 * allocation number (N & 0x3f) and every later one fail while decoding.
 * Checks: the route matches the topic; what is decoded is consistent with the
 * kind; every JSON text handed on (event payload, attribute value, reply body and
 * data) parses as JSON, and event fields are within their bounds; the shadow
 * query window is within the device's buffer; nothing leaks, with or without
 * allocation failures. Seeds: the device messages of the golden captures
 * (tests/data/captures, decrypted) and of test_das_device_messages.py. */
#include "das/device_internal.h"
#include "fuzz_alloc.h"
#include "fuzz_split.h"

#include <cjson/cJSON.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SERIAL "Q12345678"

static struct device_layer layer;
static struct device_worker worker;
static struct device dev;

static const char *const models[] = {"ip_camera", "generic_sensor", "nvr", ""};

static void check_json(const char *text)
{
    cJSON *j;

    if (!text) return;
    j = cJSON_ParseWithOpts(text, NULL, 1);
    CHECK(j != NULL);
    cJSON_Delete(j);
}

/* As device_publish.c checks a value against the device's model. */
static void check_model(enum osap_model_check check, const struct device_msg *m, const char *domain,
                        const char *identifier, const uint8_t *body, size_t len)
{
    char reason[DEVICE_INVALID_MAX + 1];
    cJSON *value = device_json_parse(body, len);
    const char *why = device_model_check(&dev, check, m->resource, domain, identifier, value,
                                         value != NULL, reason, sizeof(reason));

    CHECK(!why || strlen(why) <= DEVICE_INVALID_MAX);
    cJSON_Delete(value);
}

static void check_msg(const struct device_msg *m)
{
    CHECK(strlen(m->child) <= OSAP_TOPIC_CHILD_MAX);
    CHECK(strlen(m->domain) <= OSAP_TOPIC_EXT_PART_MAX);
    CHECK(strlen(m->identifier) <= OSAP_TOPIC_EXT_PART_MAX);
    switch (m->kind) {
    case DEVICE_MSG_EVENT:
        CHECK(m->route == DEVICE_MSG_V3);
        check_json(m->payload_json);
        CHECK(strlen(m->uuid) <= 64);
        for (const char *p = m->uuid; *p; p++)
            CHECK((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f);
        if (m->payload_json)
            check_model(OSAP_MODEL_CHECK_EVENT, m, m->domain, m->identifier, m->body, m->body_len);
        break;
    case DEVICE_MSG_ATTRIBUTE:
        check_json(m->value_json);
        if (m->value_json)
            check_model(OSAP_MODEL_CHECK_REPORT, m, m->domain, m->identifier,
                        (const uint8_t *)m->value_json, strlen(m->value_json));
        break;
    case DEVICE_MSG_SHADOW_REPORT:
        check_json(m->value_json);
        CHECK(m->version >= -1 && m->version < 9000000000000000);
        if (m->value_json) {
            CHECK(m->report_domain && m->report_identifier);
            check_model(OSAP_MODEL_CHECK_REPORT, m, m->report_domain, m->report_identifier,
                        (const uint8_t *)m->value_json, strlen(m->value_json));
        }
        break;
    case DEVICE_MSG_SHADOW_QUERY: CHECK(m->window >= 64 && m->window <= OSAP_MESSAGE_MAX); break;
    case DEVICE_MSG_REPLY:
        CHECK(m->method && m->method[0]);
        check_json(m->body_json);
        check_json(m->output_json);
        break;
    case DEVICE_MSG_PROFILE_QUERY:
    case DEVICE_MSG_V2_OTHER: CHECK(m->route == DEVICE_MSG_V2); break;
    default: CHECK(m->route == DEVICE_MSG_V3); break;
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct osap_models_config cfg;
    char err[256];

    (void)argc;
    (void)argv;
    fz_alloc_install();
    memset(&cfg, 0, sizeof(cfg));
    cfg.models_dir = (char *)OSAP_FUZZ_MODELS_DIR;
    CHECK(osap_models_new(&cfg, &layer.models, err, sizeof(err)) == OSAP_OK);
    worker.layer = &layer;
    dev.dw = &worker;
    dev.serial_len = strlen(SERIAL);
    memcpy(dev.serial, SERIAL, dev.serial_len + 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl;
    struct device_msg m;
    struct osap_envelope_view view;
    enum device_msg_route route;
    uint8_t n;

    if (size < 1) return 0;
    n = data[0];
    nl = memchr(data + 1, '\n', size - 1);
    if (!nl) return 0;
    snprintf(dev.model, sizeof(dev.model), "%s", models[n & 3]);

    route = device_msg_route(SERIAL, strlen(SERIAL), (const char *)data + 1,
                             (size_t)(nl - data - 1), &m);
    switch (route) {
    case DEVICE_MSG_V3:
    case DEVICE_MSG_MALFORMED:
        CHECK(m.topic_len > 5 + strlen(SERIAL) && memcmp(m.topic, "/iot/" SERIAL "/", 15) == 0);
        break;
    case DEVICE_MSG_OWN: CHECK(memcmp(m.topic, "/" SERIAL "/", 11) == 0); break;
    default: break;
    }
    if ((route == DEVICE_MSG_V3 || route == DEVICE_MSG_V2) &&
        osap_envelope_split(nl + 1, size - (size_t)(nl + 1 - data), &view) == OSAP_OK) {
        if (n & 0x80) fz_alloc_fail(n & 0x3f ? n & 0x3f : 1);
        if (device_msg_decode(&m, &view) == OSAP_OK) {
            fz_alloc_fail(0);
            check_msg(&m);
        }
        fz_alloc_fail(0);
    }
    device_msg_release(&m);
    return 0;
}
