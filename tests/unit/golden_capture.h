/*
 * What the tests that read the golden captures share (tests/data/captures, one
 * JSON file per recorded session of a real device): the list of the captures
 * and checked accessors of their JSON, which fail the test on a malformed
 * capture. Header-only (static inline) so that each test executable includes
 * what it uses.
 */
#ifndef TEST_GOLDEN_CAPTURE_H
#define TEST_GOLDEN_CAPTURE_H

#include "testutil.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <string.h>

/* Every capture, relative to the test data directory. */
static const char *const golden_files[] = {
    "captures/sap_a_first_start.json",
    "captures/sap_b_restart_path_c.json",
    "captures/sap_c_masterkey_lost_path_b.json",
    "captures/sap_d_wrong_vcode.json",
    "captures/sap_e_lowercase_sharekey_accepted.json",
    "captures/licence_a_first_start.json",
    "captures/licence_b_restart_path_c.json",
    "captures/licence_c_masterkey_lost_path_b.json",
    "captures/licence_d_wrong_vcode.json",
    "captures/licence_e_lowercase_sharekey_accepted.json",
};
#define GOLDEN_NFILES (sizeof(golden_files) / sizeof(golden_files[0]))

/* Member @p name of @p obj (the test fails when it is missing). */
static inline const cJSON *golden_get(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v) fail_msg("capture: member '%s' missing", name);
    return v;
}

/* String member @p name of @p obj (the test fails when it is not a string). */
static inline const char *golden_str(const cJSON *obj, const char *name)
{
    const cJSON *v = golden_get(obj, name);
    if (!cJSON_IsString(v)) fail_msg("capture: member '%s' is not a string", name);
    return v->valuestring;
}

/* String member @p name of @p obj, or NULL when it is absent or not a string. */
static inline const char *golden_str_or_null(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Number member @p name of @p obj (the test fails when it is not a number). */
static inline int golden_int(const cJSON *obj, const char *name)
{
    const cJSON *v = golden_get(obj, name);
    if (!cJSON_IsNumber(v)) fail_msg("capture: member '%s' is not a number", name);
    return v->valueint;
}

/* Decode hex text of exactly @p n bytes into @p out (the test fails otherwise). */
static inline void golden_hex_into(const char *hex, uint8_t *out, size_t n)
{
    size_t len;
    uint8_t *b = test_hex(hex, &len);
    if (len != n) fail_msg("capture: expected %zu bytes of hex, got %zu", n, len);
    memcpy(out, b, n);
    test_free_buf(b);
}

#endif
