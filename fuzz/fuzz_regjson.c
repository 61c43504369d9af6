/*
 * libFuzzer target for the device JSON documents: the registration record,
 * the LBS 0xA request and the 0xB DAS address.
 *
 * Every input is offered to the three parsers (seeds: the will plaintexts,
 * 0xA and 0xB plaintexts of the golden captures and vectors). Whatever parses
 * must format without error, and the formatted text must parse to the same
 * values.
 */
#include "osap/devjson.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
    if (!cond) abort();
}

static void same_reg(const struct osap_reg_info *a, const struct osap_reg_info *b)
{
    must(a->light == b->light);
    must(strcmp(a->sub_serial, b->sub_serial) == 0 && strcmp(a->device_id, b->device_id) == 0);
    if (a->light) return;
    must(strcmp(a->dev_serial, b->dev_serial) == 0);
    must(strcmp(a->firmware_version, b->firmware_version) == 0);
    must(strcmp(a->dev_type, b->dev_type) == 0);
    must(strcmp(a->dev_type_display, b->dev_type_display) == 0);
    must(strcmp(a->mac, b->mac) == 0);
    must(a->status == b->status && a->reg_mode == b->reg_mode);
    must(strcmp(a->firmware_ident_code, b->firmware_ident_code) == 0);
    must(strcmp(a->lbs_domain, b->lbs_domain) == 0);
    must(strcmp(a->sdk_main_version, b->sdk_main_version) == 0);
    must(a->sdk_version_count == b->sdk_version_count);
    for (size_t i = 0; i < a->sdk_version_count; i++) {
        must(strcmp(a->sdk_version[i].domain, b->sdk_version[i].domain) == 0);
        must(strcmp(a->sdk_version[i].version, b->sdk_version[i].version) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct osap_reg_info r, r2;
    static char out[OSAP_REG_JSON_MAX * 2];
    const char *json = (const char *)data;
    struct osap_das_info d, d2;
    struct osap_das_request q, q2;
    size_t n;

    if (osap_reg_json_parse(json, size, &r) == OSAP_OK) {
        must(r.sub_serial[0] != '\0' && r.device_id[0] != '\0');
        must(r.sdk_version_count <= OSAP_REG_SDKVER_MAX);
        must(osap_reg_json_format(&r, out, sizeof(out), &n) == OSAP_OK);
        must(osap_reg_json_parse(out, n, &r2) == OSAP_OK);
        same_reg(&r, &r2);
    }
    if (osap_das_json_parse(json, size, &d) == OSAP_OK) {
        must(d.address[0] != '\0' && d.port != 0);
        must(osap_das_json_format(&d, out, sizeof(out), &n) == OSAP_OK);
        must(osap_das_json_parse(out, n, &d2) == OSAP_OK);
        must(strcmp(d.address, d2.address) == 0 && d.port == d2.port && d.udp_port == d2.udp_port &&
             strcmp(d.domain, d2.domain) == 0 && strcmp(d.server_id, d2.server_id) == 0);
    }
    if (osap_das_request_parse(json, size, &q) == OSAP_OK) {
        must(osap_das_request_format(q.dev_serial, q.mode, out, sizeof(out), &n) == OSAP_OK);
        must(osap_das_request_parse(out, n, &q2) == OSAP_OK);
        must(strcmp(q.dev_serial, q2.dev_serial) == 0 && q.mode == q2.mode);
    }
    return 0;
}
