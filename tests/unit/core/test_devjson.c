/*
 * Device JSON documents: the registration record (will plaintext), the LBS 0xA
 * request and the 0xB DAS address, checked byte for byte against the captures
 * and vectors, against cJSON's own printing, and with malformed input: every
 * prefix, corruptions, missing members, wrong types, repeated members.
 */
#include "test_crypto_vec.h"

#include "osap/alloc.h"
#include "osap/devjson.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>

/* ------------------------------------------------------------------ capture access */

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsString(v)) fail_msg("capture: no string \"%s\"", k);
    return v->valuestring;
}

typedef void (*capture_fn)(const cJSON *root, void *arg);

static int for_each_capture(capture_fn fn, void *arg)
{
    DIR *d = opendir(OSAP_TEST_DATA_DIR "/captures");
    struct dirent *e;
    int files = 0;
    assert_non_null(d);
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l <= 5 || strcmp(e->d_name + l - 5, ".json") != 0) continue;
        char rel[512];
        snprintf(rel, sizeof(rel), "captures/%s", e->d_name);
        char *text = test_read_data(rel, NULL);
        cJSON *root = cJSON_Parse(text);
        assert_non_null(root);
        fn(root, arg);
        cJSON_Delete(root);
        test_free_buf(text);
        files++;
    }
    closedir(d);
    return files;
}

/* The decrypted plaintext of every message whose kind starts with @p kind. */
static int plaintexts(const cJSON *root, const char *kind, const char **out, int max)
{
    const cJSON *m;
    int n = 0;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(root, "messages"))
    {
        if (strncmp(jstr(m, "kind"), kind, strlen(kind)) != 0) continue;
        const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "decrypted"), 0);
        if (d && n < max) out[n++] = jstr(d, "plaintext_text");
    }
    return n;
}

/* ------------------------------------------------------------------ shared checks */

typedef osap_err (*parse_fn)(const char *json, size_t len, void *out);

/* Every strict prefix fails with @p err; so does every change of a structural
 * character; other one-byte changes either fail or parse to something stable. */
static void check_prefixes_and_corruptions(const char *doc, parse_fn parse, osap_err err,
                                           size_t out_size)
{
    size_t len = strlen(doc);
    char *copy = malloc(len + 1);
    void *out = malloc(out_size);
    assert_non_null(copy);
    assert_non_null(out);
    for (size_t n = 0; n < len; n++) {
        if (parse(doc, n, out) != err)
            fail_msg("prefix of %zu bytes accepted: %.*s", n, (int)n, doc);
    }
    assert_int_equal(parse(doc, len, out), OSAP_OK);
    int in_string = 0, escaped = 0;
    for (size_t i = 0; i < len; i++) {
        /* is doc[i] a brace, colon or comma of the structure (not inside a string)? */
        int structural = !in_string && strchr("{}:,", doc[i]) != NULL;
        if (in_string && !escaped && doc[i] == '"')
            in_string = 0;
        else if (!in_string && doc[i] == '"')
            in_string = 1;
        escaped = in_string && !escaped && doc[i] == '\\';

        static const char repl[] = {'x', '"', '}', '\0', '\\', ' '};
        for (size_t r = 0; r < sizeof(repl); r++) {
            if (repl[r] == doc[i]) continue;
            memcpy(copy, doc, len + 1);
            copy[i] = repl[r];
            osap_err e = parse(copy, len, out);
            if (structural && e == OSAP_OK)
                fail_msg("corruption at %zu ('%c' -> 0x%02x) accepted", i, doc[i], repl[r]);
            /* a NUL byte would cut a value short: never accepted */
            if (repl[r] == '\0' && e == OSAP_OK) fail_msg("NUL at %zu accepted", i);
            assert_true(e == OSAP_OK || e == err);
        }
    }
    free(copy);
    free(out);
}

/* ------------------------------------------------------------------ registration */

static osap_err reg_parse(const char *json, size_t len, void *out)
{
    return osap_reg_json_parse(json, len, out);
}

static void expect_format(const struct osap_reg_info *r, const char *want)
{
    char out[OSAP_REG_JSON_MAX];
    size_t n;
    assert_int_equal(osap_reg_json_format(r, out, sizeof(out), &n), OSAP_OK);
    assert_bytes_equal((const uint8_t *)out, n, (const uint8_t *)want, strlen(want));
    assert_int_equal(out[n], '\0');
}

struct reg_count {
    int wills;
};

static void reg_capture(const cJSON *root, void *arg)
{
    struct reg_count *cnt = arg;
    const cJSON *device = cJSON_GetObjectItemCaseSensitive(root, "device");
    const cJSON *fixed = cJSON_GetObjectItemCaseSensitive(root, "server_fixed");
    const char *wills[8];
    int n = plaintexts(root, "CONNECT", wills, 8);
    for (int i = 0; i < n; i++) {
        struct osap_reg_info r;
        assert_int_equal(osap_reg_json_parse(wills[i], strlen(wills[i]), &r), OSAP_OK);
        assert_int_equal(r.light, 0);
        assert_string_equal(r.sub_serial, jstr(device, "subserial"));
        assert_string_equal(r.device_id, jstr(fixed, "devid"));
        assert_string_equal(r.firmware_version, jstr(device, "firmware_version"));
        assert_string_equal(r.dev_type, jstr(device, "dev_type"));
        assert_string_equal(r.dev_type_display, jstr(device, "display_model"));
        assert_string_equal(r.mac, jstr(device, "mac"));
        assert_string_equal(r.dev_serial, "");
        assert_int_equal(r.status, 1);
        assert_int_equal(r.reg_mode, 1);
        assert_string_equal(r.lbs_domain, "127.0.0.1");
        /* "1000":"V3.0.0" and eight unused slots, each "0":"" */
        assert_int_equal(r.sdk_version_count, 9);
        assert_string_equal(r.sdk_version[0].domain, "1000");
        assert_string_equal(r.sdk_version[0].version, "V3.0.0");
        for (size_t k = 1; k < 9; k++) {
            assert_string_equal(r.sdk_version[k].domain, "0");
            assert_string_equal(r.sdk_version[k].version, "");
        }
        expect_format(&r, wills[i]);
        if (cnt->wills == 0)
            check_prefixes_and_corruptions(wills[i], reg_parse, OSAP_EREG_JSON, sizeof(r));
        cnt->wills++;
    }
}

static void test_reg_captures(void **state)
{
    (void)state;
    struct reg_count cnt = {0};
    assert_true(for_each_capture(reg_capture, &cnt) >= 10);
    assert_true(cnt.wills >= 8);
}

static void test_reg_vectors(void **state)
{
    (void)state;
    char *vec = vec_load();
    struct osap_reg_info r;
    char *full = vec_line(vec, "7. DAS MQTT CONNECT", "will plaintext:");
    char *light = vec_line(vec, "7. DAS MQTT CONNECT", "light-registration will plaintext:");

    assert_int_equal(osap_reg_json_parse(full, strlen(full), &r), OSAP_OK);
    assert_int_equal(r.light, 0);
    assert_string_equal(r.mac, "00:11:22:33:44:55");
    assert_int_equal(r.sdk_version_count, 9);
    assert_string_equal(r.sdk_version[1].domain, "1100");
    assert_string_equal(r.sdk_version[1].version, "v2.0.0");
    expect_format(&r, full);

    assert_int_equal(osap_reg_json_parse(light, strlen(light), &r), OSAP_OK);
    assert_int_equal(r.light, 1);
    assert_string_equal(r.sub_serial, "Q12345678");
    assert_string_equal(r.device_id, "0123456789ABCDEF0123456789ABCDEF");
    expect_format(&r, light);
    check_prefixes_and_corruptions(light, reg_parse, OSAP_EREG_JSON, sizeof(r));
    free(full);
    free(light);
    test_free_buf(vec);
}

static void test_reg_malformed(void **state)
{
    (void)state;
    struct osap_reg_info r;
    static const char *bad[] = {
        "[]",
        "{}",
        "{\"SubSerial\":\"S\"}",
        "{\"DeviceID\":\"D\"}",
        "{\"SubSerial\":\"\",\"DeviceID\":\"D\"}",
        "{\"SubSerial\":\"S\",\"DeviceID\":\"\"}",
        "{\"SubSerial\":1,\"DeviceID\":\"D\"}",
        "{\"SubSerial\":\"S\",\"DeviceID\":null}",
        "{\"SubSerial\":\"S\",\"SubSerial\":\"T\",\"DeviceID\":\"D\"}",
        "{\"SubSerial\":\"S\",\"DeviceID\":\"D\",\"DeviceID\":\"D\"}",
        "{\"SubSerial\":\"S\",\"DeviceID\":\"D\",\"Status\":\"1\"}",
        "{\"SubSerial\":\"S\",\"DeviceID\":\"D\",\"Status\":1.5}",
        "{\"SubSerial\":\"S\",\"DeviceID\":\"D\",\"Status\":1,\"Status\":1}",
        "{\"SubSerial\":\"S\",\"DeviceID\":\"D\",\"RegMode\":2147483648}",
        "{\"SubSerial\":\"S\",\"DeviceID\":\"D\",\"MAC\":5}",
        "{\"SubSerial\":\"S\",\"DeviceID\":\"D\",\"LbsDomain\":[]}",
        "{\"SubSerial\":\"S\",\"DeviceID\":\"D\",\"SDKVersion\":[]}",
        "{\"SubSerial\":\"S\",\"DeviceID\":\"D\",\"SDKVersion\":\"x\"}",
        "{\"SubSerial\":\"S\",\"DeviceID\":\"D\",\"SDKVersion\":{\"1000\":3}}",
        "{\"SubSerial\":\"S\",\"DeviceID\":\"D\",\"SDKVersion\":{\"0123456789abcdef\":\"\"}}",
        "{\"SubSerial\":\"S\",\"DeviceID\":\"D\",\"SDKVersion\":{},\"SDKVersion\":{}}",
        "{\"SubSerial\":\"S\\u0000T\",\"DeviceID\":\"D\"}",
        "{\"SubSerial\":\"S\",\"DeviceID\":\"D\"} x",
        /* a DeviceID of 33 characters */
        "{\"SubSerial\":\"S\",\"DeviceID\":\"0123456789ABCDEF0123456789ABCDEF0\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&r, 0x5A, sizeof(r));
        if (osap_reg_json_parse(bad[i], strlen(bad[i]), &r) != OSAP_EREG_JSON)
            fail_msg("accepted: %s", bad[i]);
        assert_int_equal((unsigned char)r.sub_serial[0], 0x5A); /* untouched */
    }

    /* limits: 71-character SubSerial, 127-character strings, 32 SDKVersion entries */
    char doc[8192], s71[72], s72[73], s127[128], s128[129];
    memset(s71, 'S', 71), s71[71] = '\0';
    memset(s72, 'S', 72), s72[72] = '\0';
    memset(s127, 'f', 127), s127[127] = '\0';
    memset(s128, 'f', 128), s128[128] = '\0';
    snprintf(doc, sizeof(doc), "{\"SubSerial\":\"%s\",\"DeviceID\":\"D\",\"DevType\":\"%s\"}", s71,
             s127);
    assert_int_equal(osap_reg_json_parse(doc, strlen(doc), &r), OSAP_OK);
    assert_int_equal(r.light, 0);
    snprintf(doc, sizeof(doc), "{\"SubSerial\":\"%s\",\"DeviceID\":\"D\"}", s72);
    assert_int_equal(osap_reg_json_parse(doc, strlen(doc), &r), OSAP_EREG_JSON);
    snprintf(doc, sizeof(doc), "{\"SubSerial\":\"S\",\"DeviceID\":\"D\",\"DevType\":\"%s\"}", s128);
    assert_int_equal(osap_reg_json_parse(doc, strlen(doc), &r), OSAP_EREG_JSON);
    for (int entries = 32; entries <= 33; entries++) {
        size_t o = (size_t)snprintf(doc, sizeof(doc),
                                    "{\"SubSerial\":\"S\",\"DeviceID\":\"D\",\"SDKVersion\":{");
        for (int i = 0; i < entries; i++)
            o += (size_t)snprintf(doc + o, sizeof(doc) - o, "%s\"0\":\"\"", i ? "," : "");
        snprintf(doc + o, sizeof(doc) - o, "}}");
        assert_int_equal(osap_reg_json_parse(doc, strlen(doc), &r),
                         entries == 32 ? OSAP_OK : OSAP_EREG_JSON);
    }
    static char huge[OSAP_REG_JSON_MAX + 2];
    memset(huge, ' ', sizeof(huge) - 1);
    memcpy(huge, "{\"SubSerial\":\"S\",\"DeviceID\":\"D\"}", 32);
    assert_int_equal(osap_reg_json_parse(huge, OSAP_REG_JSON_MAX, &r), OSAP_OK);
    assert_int_equal(osap_reg_json_parse(huge, OSAP_REG_JSON_MAX + 1, &r), OSAP_EREG_JSON);

    /* unknown members (other SDK generations add NickName, dev_oeminfo) are ignored */
    const char *other = "{\"DevSerial\":\"\",\"SubSerial\":\"S\",\"NickName\":\"n\","
                        "\"dev_oeminfo\":0,\"DeviceID\":\"D\"}";
    assert_int_equal(osap_reg_json_parse(other, strlen(other), &r), OSAP_OK);
    assert_int_equal(r.light, 0);
    const char *light_plus = "{\"SubSerial\":\"S\",\"DeviceID\":\"D\",\"Extra\":true}";
    assert_int_equal(osap_reg_json_parse(light_plus, strlen(light_plus), &r), OSAP_OK);
    assert_int_equal(r.light, 1);
}

/* The formatter prints what cJSON prints for the same members in the same order,
 * including strings that need escaping and repeated SDKVersion keys. */
static void test_reg_format_matches_cjson(void **state)
{
    (void)state;
    struct osap_reg_info r;
    memset(&r, 0, sizeof(r));
    strcpy(r.dev_serial, "D\"1\\");
    strcpy(r.sub_serial, "Q\t1");
    strcpy(r.firmware_version, "V1.0 \x01\x1f\x7f\xe4\xb8\xad");
    strcpy(r.dev_type, "\b\f\n\r");
    strcpy(r.dev_type_display, "/slash/");
    strcpy(r.mac, "");
    r.status = -5;
    strcpy(r.firmware_ident_code, "fic");
    strcpy(r.lbs_domain, "lbs.example");
    r.reg_mode = 2147483647;
    strcpy(r.sdk_main_version, "m");
    strcpy(r.device_id, "0123456789ABCDEF0123456789ABCDEF");
    r.sdk_version_count = 4;
    strcpy(r.sdk_version[0].domain, "1000");
    strcpy(r.sdk_version[0].version, "V3.0.0");
    strcpy(r.sdk_version[1].domain, "0");
    strcpy(r.sdk_version[2].domain, "0");
    strcpy(r.sdk_version[3].domain, "7\"002");
    strcpy(r.sdk_version[3].version, "x\ny");

    cJSON *o = cJSON_CreateObject(), *sv = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "DevSerial", r.dev_serial);
    cJSON_AddStringToObject(o, "SubSerial", r.sub_serial);
    cJSON_AddStringToObject(o, "FirmwareVersion", r.firmware_version);
    cJSON_AddStringToObject(o, "DevType", r.dev_type);
    cJSON_AddStringToObject(o, "DevTypeDisplay", r.dev_type_display);
    cJSON_AddStringToObject(o, "MAC", r.mac);
    cJSON_AddNumberToObject(o, "Status", r.status);
    cJSON_AddStringToObject(o, "FirmwareIdentificationCode", r.firmware_ident_code);
    cJSON_AddStringToObject(o, "LbsDomain", r.lbs_domain);
    cJSON_AddNumberToObject(o, "RegMode", r.reg_mode);
    cJSON_AddStringToObject(o, "SDKMainVersion", r.sdk_main_version);
    cJSON_AddStringToObject(o, "DeviceID", r.device_id);
    for (size_t i = 0; i < r.sdk_version_count; i++)
        cJSON_AddStringToObject(sv, r.sdk_version[i].domain, r.sdk_version[i].version);
    cJSON_AddItemToObject(o, "SDKVersion", sv);
    char *ref = cJSON_PrintUnformatted(o);
    expect_format(&r, ref);

    /* and it parses back to the same record */
    struct osap_reg_info back;
    assert_int_equal(osap_reg_json_parse(ref, strlen(ref), &back), OSAP_OK);
    assert_memory_equal(&back, &r, sizeof(r));
    cJSON_free(ref);
    cJSON_Delete(o);

    /* buffers: every capacity up to the length (no room for the NUL) fails */
    char out[1024];
    size_t n, full;
    assert_int_equal(osap_reg_json_format(&r, out, sizeof(out), &full), OSAP_OK);
    for (size_t cap = 0; cap <= full; cap++) {
        n = 4242;
        assert_int_equal(osap_reg_json_format(&r, out, cap, &n), OSAP_EBUFSIZE);
        assert_int_equal(n, 4242);
    }
    /* invalid records */
    r.sdk_version_count = OSAP_REG_SDKVER_MAX + 1;
    assert_int_equal(osap_reg_json_format(&r, out, sizeof(out), &n), OSAP_EINVAL);
    r.sdk_version_count = 0;
    memset(r.mac, 'm', sizeof(r.mac));
    assert_int_equal(osap_reg_json_format(&r, out, sizeof(out), &n), OSAP_EINVAL);
    assert_int_equal(osap_reg_json_format(NULL, out, sizeof(out), &n), OSAP_EINVAL);
}

/* ------------------------------------------------------------------ 0xA request */

static osap_err req_parse(const char *json, size_t len, void *out)
{
    return osap_das_request_parse(json, len, out);
}

static void req_capture(const cJSON *root, void *arg)
{
    int *count = arg;
    const char *reqs[8];
    const char *sn = jstr(cJSON_GetObjectItemCaseSensitive(root, "device"), "subserial");
    int n = plaintexts(root, "0xA", reqs, 8);
    for (int i = 0; i < n; i++) {
        char out[256];
        size_t len;
        struct osap_das_request r;
        assert_int_equal(osap_das_request_format(sn, 0, out, sizeof(out), &len), OSAP_OK);
        assert_bytes_equal((const uint8_t *)out, len, (const uint8_t *)reqs[i], strlen(reqs[i]));
        assert_int_equal(osap_das_request_parse(reqs[i], strlen(reqs[i]), &r), OSAP_OK);
        assert_string_equal(r.dev_serial, sn);
        assert_int_equal(r.mode, 0);
        check_prefixes_and_corruptions(reqs[i], req_parse, OSAP_EDAS_REQUEST_JSON, sizeof(r));
        (*count)++;
    }
}

static void test_das_request(void **state)
{
    (void)state;
    int count = 0;
    for_each_capture(req_capture, &count);
    assert_true(count >= 8);

    char *vec = vec_load();
    char *want = vec_line(vec, "4. FIRST AUTHENTICATION", "0xA plaintext:");
    char out[256];
    size_t n;
    assert_int_equal(osap_das_request_format("Q12345678", 0, out, sizeof(out), &n), OSAP_OK);
    assert_string_equal(out, want);
    free(want);
    test_free_buf(vec);

    struct osap_das_request r;
    assert_int_equal(osap_das_request_format("H1", 1, out, sizeof(out), &n), OSAP_OK);
    assert_string_equal(out, "{\"DevSerial\":\"H1\",\"Type\":\"DAS\",\"Mode\":1}");
    assert_int_equal(osap_das_request_parse(out, n, &r), OSAP_OK);
    assert_int_equal(r.mode, 1);

    static const char *bad[] = {
        "{\"DevSerial\":\"S\",\"Type\":\"DAS\"}",
        "{\"DevSerial\":\"S\",\"Type\":\"STUN\",\"Mode\":0}",
        "{\"DevSerial\":\"S\",\"Type\":\"das\",\"Mode\":0}",
        "{\"DevSerial\":\"S\",\"Type\":\"DAS\",\"Mode\":2}",
        "{\"DevSerial\":\"S\",\"Type\":\"DAS\",\"Mode\":\"0\"}",
        "{\"DevSerial\":\"S\",\"Type\":\"DAS\",\"Mode\":0.5}",
        "{\"DevSerial\":\"\",\"Type\":\"DAS\",\"Mode\":0}",
        "{\"DevSerial\":7,\"Type\":\"DAS\",\"Mode\":0}",
        "{\"DevSerial\":\"S\",\"Type\":\"DAS\",\"Mode\":0,\"X\":1}",
        "{\"DevSerial\":\"S\",\"DevSerial\":\"S\",\"Mode\":0}",
        "{\"DevSerial\":\"S\",\"Type\":\"DAS\",\"Mode\":0,\"Mode\":0}",
        "[\"S\",\"DAS\",0]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (osap_das_request_parse(bad[i], strlen(bad[i]), &r) != OSAP_EDAS_REQUEST_JSON)
            fail_msg("accepted: %s", bad[i]);
    char s72[73];
    memset(s72, 'S', 72), s72[72] = '\0';
    assert_int_equal(osap_das_request_format(s72, 0, out, sizeof(out), &n), OSAP_EINVAL);
    assert_int_equal(osap_das_request_format("", 0, out, sizeof(out), &n), OSAP_EINVAL);
    assert_int_equal(osap_das_request_format("S", 2, out, sizeof(out), &n), OSAP_EINVAL);
    s72[71] = '\0';
    assert_int_equal(osap_das_request_format(s72, 0, out, sizeof(out), &n), OSAP_OK);
    assert_int_equal(osap_das_request_parse(out, n, &r), OSAP_OK);
    assert_string_equal(r.dev_serial, s72);
    /* a serial with characters that need escaping round-trips */
    assert_int_equal(osap_das_request_format("a\"b\\c", 0, out, sizeof(out), &n), OSAP_OK);
    assert_string_equal(out, "{\"DevSerial\":\"a\\\"b\\\\c\",\"Type\":\"DAS\",\"Mode\":0}");
    assert_int_equal(osap_das_request_parse(out, n, &r), OSAP_OK);
    assert_string_equal(r.dev_serial, "a\"b\\c");
}

/* ------------------------------------------------------------------ 0xB DAS info */

static osap_err das_parse(const char *json, size_t len, void *out)
{
    return osap_das_json_parse(json, len, out);
}

static void das_capture(const cJSON *root, void *arg)
{
    int *count = arg;
    const cJSON *fixed = cJSON_GetObjectItemCaseSensitive(root, "server_fixed");
    const cJSON *das = cJSON_GetObjectItemCaseSensitive(fixed, "das");
    const char *want = jstr(fixed, "das_json");
    struct osap_das_info d;
    char out[512];
    size_t n;

    memset(&d, 0, sizeof(d));
    strcpy(d.address, jstr(das, "address"));
    d.port = (uint16_t)cJSON_GetObjectItemCaseSensitive(das, "port")->valueint;
    d.udp_port = (uint16_t)cJSON_GetObjectItemCaseSensitive(das, "udp_port")->valueint;
    strcpy(d.domain, jstr(das, "domain"));
    strcpy(d.server_id, jstr(das, "server_id"));
    assert_int_equal(osap_das_json_format(&d, out, sizeof(out), &n), OSAP_OK);
    assert_bytes_equal((const uint8_t *)out, n, (const uint8_t *)want, strlen(want));

    /* the 0xB plaintexts the device received are that document */
    const char *rsps[8];
    int k = plaintexts(root, "0xB", rsps, 8);
    for (int i = 0; i < k; i++) {
        struct osap_das_info back;
        assert_string_equal(rsps[i], want);
        assert_int_equal(osap_das_json_parse(rsps[i], strlen(rsps[i]), &back), OSAP_OK);
        assert_memory_equal(&back, &d, sizeof(d));
        (*count)++;
    }
    if (*count == k && k)
        check_prefixes_and_corruptions(want, das_parse, OSAP_EDAS_JSON, sizeof(d));
}

static void test_das_info(void **state)
{
    (void)state;
    int count = 0;
    for_each_capture(das_capture, &count);
    assert_true(count >= 8);

    char *vec = vec_load();
    char *want = vec_line(vec, "4. FIRST AUTHENTICATION", "0xB plaintext:");
    struct osap_das_info d;
    char out[512];
    size_t n;
    assert_int_equal(osap_das_json_parse(want, strlen(want), &d), OSAP_OK);
    assert_string_equal(d.address, "192.0.2.10");
    assert_int_equal(d.port, 8883);
    assert_int_equal(d.udp_port, 6371);
    assert_string_equal(d.domain, "das.example");
    assert_string_equal(d.server_id, "das-01");
    assert_int_equal(osap_das_json_format(&d, out, sizeof(out), &n), OSAP_OK);
    assert_string_equal(out, want);
    free(want);
    test_free_buf(vec);

#define INFO(body) "{\"Type\":\"DAS\",\"DasInfo\":{" body "}}"
    static const char *bad[] = {
        "{\"DasInfo\":{\"Address\":\"a\",\"Port\":1,\"UdpPort\":1,\"Domain\":\"\",\"ServerID\":"
        "\"\"}}",
        "{\"Type\":\"STUN\",\"DasInfo\":{\"Address\":\"a\",\"Port\":1,\"UdpPort\":1,\"Domain\":"
        "\"\","
        "\"ServerID\":\"\"}}",
        "{\"Type\":\"DAS\"}",
        "{\"Type\":\"DAS\",\"DasInfo\":[]}",
        "{\"Type\":\"DAS\",\"DasInfo\":\"a\"}",
        INFO("\"Port\":1,\"UdpPort\":1,\"Domain\":\"\",\"ServerID\":\"\""),
        INFO("\"Address\":\"a\",\"UdpPort\":1,\"Domain\":\"\",\"ServerID\":\"\""),
        INFO("\"Address\":\"a\",\"Port\":1,\"Domain\":\"\",\"ServerID\":\"\""),
        INFO("\"Address\":\"a\",\"Port\":1,\"UdpPort\":1,\"ServerID\":\"\""),
        INFO("\"Address\":\"a\",\"Port\":1,\"UdpPort\":1,\"Domain\":\"\""),
        INFO("\"Address\":1,\"Port\":1,\"UdpPort\":1,\"Domain\":\"\",\"ServerID\":\"\""),
        INFO("\"Address\":null,\"Port\":1,\"UdpPort\":1,\"Domain\":\"\",\"ServerID\":\"\""),
        INFO("\"Address\":\"\",\"Port\":1,\"UdpPort\":1,\"Domain\":\"\",\"ServerID\":\"\""),
        INFO("\"Address\":\"a\",\"Port\":\"1\",\"UdpPort\":1,\"Domain\":\"\",\"ServerID\":\"\""),
        INFO("\"Address\":\"a\",\"Port\":0,\"UdpPort\":1,\"Domain\":\"\",\"ServerID\":\"\""),
        INFO("\"Address\":\"a\",\"Port\":65536,\"UdpPort\":1,\"Domain\":\"\",\"ServerID\":\"\""),
        INFO("\"Address\":\"a\",\"Port\":-1,\"UdpPort\":1,\"Domain\":\"\",\"ServerID\":\"\""),
        INFO("\"Address\":\"a\",\"Port\":1.5,\"UdpPort\":1,\"Domain\":\"\",\"ServerID\":\"\""),
        INFO("\"Address\":\"a\",\"Port\":1,\"UdpPort\":-1,\"Domain\":\"\",\"ServerID\":\"\""),
        INFO("\"Address\":\"a\",\"Port\":1,\"UdpPort\":true,\"Domain\":\"\",\"ServerID\":\"\""),
        INFO("\"Address\":\"a\",\"Port\":1,\"UdpPort\":1,\"Domain\":0,\"ServerID\":\"\""),
        INFO("\"Address\":\"a\",\"Port\":1,\"UdpPort\":1,\"Domain\":\"\",\"ServerID\":{}"),
        INFO("\"Address\":\"a\",\"Address\":\"b\",\"Port\":1,\"UdpPort\":1,\"Domain\":\"\","
             "\"ServerID\":\"\""),
        "{\"Type\":\"DAS\",\"Type\":\"DAS\",\"DasInfo\":{\"Address\":\"a\",\"Port\":1,\"UdpPort\":"
        "1,"
        "\"Domain\":\"\",\"ServerID\":\"\"}}",
        INFO("\"Address\":\"0123456789012345678901234567890123456789012345678901234567890123\","
             "\"Port\":1,\"UdpPort\":1,\"Domain\":\"\",\"ServerID\":\"\""),
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&d, 0x5A, sizeof(d));
        if (osap_das_json_parse(bad[i], strlen(bad[i]), &d) != OSAP_EDAS_JSON)
            fail_msg("accepted: %s", bad[i]);
        assert_int_equal((unsigned char)d.address[0], 0x5A);
    }
    const char *ok63 =
        INFO("\"Address\":\"012345678901234567890123456789012345678901234567890123456789012\","
             "\"Port\":65535,\"UdpPort\":0,\"Domain\":\"\",\"ServerID\":\"\",\"Extra\":1");
    assert_int_equal(osap_das_json_parse(ok63, strlen(ok63), &d), OSAP_OK);
    assert_int_equal(d.port, 65535);
#undef INFO

    /* format refuses records a device could not use */
    memset(&d, 0, sizeof(d));
    d.port = 1;
    assert_int_equal(osap_das_json_format(&d, out, sizeof(out), &n), OSAP_EINVAL);
    strcpy(d.address, "h");
    d.port = 0;
    assert_int_equal(osap_das_json_format(&d, out, sizeof(out), &n), OSAP_EINVAL);
    d.port = 1;
    memset(d.domain, 'd', sizeof(d.domain));
    assert_int_equal(osap_das_json_format(&d, out, sizeof(out), &n), OSAP_EINVAL);
    d.domain[0] = '\0';
    assert_int_equal(osap_das_json_format(&d, out, sizeof(out), &n), OSAP_OK);
    for (size_t cap = 0; cap <= n; cap++)
        assert_int_equal(osap_das_json_format(&d, out, cap, &n), OSAP_EBUFSIZE);
}

/* ------------------------------------------------------------------ allocation */

static void test_alloc_failures(void **state)
{
    (void)state;
    char *vec = vec_load();
    char *full = vec_line(vec, "7. DAS MQTT CONNECT", "will plaintext:");
    char *das = vec_line(vec, "4. FIRST AUTHENTICATION", "0xB plaintext:");
    char *req = vec_line(vec, "4. FIRST AUTHENTICATION", "0xA plaintext:");
    struct osap_reg_info r;
    struct osap_das_info d;
    struct osap_das_request q;
    int failures = 0;

    test_alloc_install();
    for (int doc = 0; doc < 3; doc++) {
        for (long i = 0;; i++) {
            osap_err e;
            test_alloc_fail_after(i);
            if (doc == 0)
                e = osap_reg_json_parse(full, strlen(full), &r);
            else if (doc == 1)
                e = osap_das_json_parse(das, strlen(das), &d);
            else
                e = osap_das_request_parse(req, strlen(req), &q);
            test_alloc_reset();
            if (e == OSAP_OK) break;
            assert_int_equal(e, OSAP_ENOMEM);
            failures++;
        }
    }
    osap_set_allocator(NULL);
    assert_true(failures > 20);
    assert_int_equal(d.port, 8883);
    free(full);
    free(das);
    free(req);
    test_free_buf(vec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reg_captures),   cmocka_unit_test(test_reg_vectors),
        cmocka_unit_test(test_reg_malformed),  cmocka_unit_test(test_reg_format_matches_cjson),
        cmocka_unit_test(test_das_request),    cmocka_unit_test(test_das_info),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
