/* The industry templates in models/: each compiles; every prefix of each parses or fails
 * cleanly with a position inside the prefix; allocation failures are handled. */
#include "testutil.h"

#include "osap/alloc.h"
#include "osap/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODELS_DIR OSAP_TEST_DATA_DIR "/../../models"

static const char *const names[] = {"base",           "ip_camera", "nvr",
                                    "access_control", "radar",     "generic_sensor"};
#define N (sizeof(names) / sizeof(names[0]))

static char *texts[N];

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < N; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s.osm", MODELS_DIR, names[i]);
        FILE *f = fopen(path, "rb");
        if (!f) return -1;
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        texts[i] = malloc((size_t)n + 1);
        if (!texts[i] || fread(texts[i], 1, (size_t)n, f) != (size_t)n) return -1;
        texts[i][n] = '\0';
        fclose(f);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < N; i++)
        free(texts[i]);
    return 0;
}

static osap_err read_template(void *ud, const char *name, const char *from, char **path,
                              char **text, size_t *len)
{
    (void)ud, (void)from;
    for (size_t i = 0; i < N; i++) {
        if (strcmp(names[i], name) != 0) continue;
        char p[64];
        snprintf(p, sizeof(p), "%s.osm", name);
        *path = osap_strdup(p);
        *text = osap_strdup(texts[i]);
        if (!*path || !*text) {
            osap_free(*path);
            osap_free(*text);
            *path = *text = NULL;
            return OSAP_ENOMEM;
        }
        *len = strlen(texts[i]);
        return OSAP_OK;
    }
    return OSAP_ENOTFOUND;
}

static const struct osap_model_loader loader = {read_template, NULL};

static osap_err parse(size_t i, size_t len, osap_model_t **m, char *err, size_t errlen)
{
    char path[64];
    snprintf(path, sizeof(path), "%s.osm", names[i]);
    return osap_model_parse(path, texts[i], len, &loader, m, err, errlen);
}

static void test_templates_compile(void **state)
{
    (void)state;
    for (size_t i = 0; i < N; i++) {
        char err[512];
        osap_model_t *m = NULL;
        osap_err rc = parse(i, strlen(texts[i]), &m, err, sizeof(err));
        if (rc) fail_msg("%s", err);
        assert_string_equal(osap_model_name(m), names[i]);
        /* Industry templates extend base and so carry its public attributes. */
        const struct osap_model_domain *info =
            osap_model_find_domain(osap_model_find_resource(m, "global"), "DeviceInfo");
        assert_non_null(info);
        assert_string_equal(osap_model_find_attribute(info, "FirmwareVersion")->from, "base");
        if (i > 0) {
            assert_int_equal(osap_model_extends_count(m), 1);
            assert_string_equal(osap_model_extends_at(m, 0), "base");
        }
        char *h = NULL;
        assert_int_equal(osap_model_to_c_header(m, &h, err, sizeof(err)), OSAP_OK);
        osap_free(h);
        osap_model_free(m);
    }
}

/* A few facts the templates promise (resources with indexes, levels, access). */
static void test_template_contents(void **state)
{
    (void)state;
    char err[512];
    osap_model_t *m = NULL;
    assert_int_equal(parse(2, strlen(texts[2]), &m, err, sizeof(err)), OSAP_OK); /* nvr */
    const struct osap_model_resource *video = osap_model_find_resource(m, "video");
    assert_int_equal(video->n_indexes, 16);
    assert_int_equal(video->indexes[15], 15);
    const struct osap_model_domain *ch = osap_model_find_domain(video, "Channel");
    assert_int_equal(osap_model_find_event(ch, "VideoLoss")->level, OSAP_MODEL_LEVEL_ALARM);
    cJSON *v = cJSON_Parse("{\"range\": {\"start\": \"2024-05-01T00:00:00\", "
                           "\"end\": \"2024-05-01T23:59:59\"}, \"maxResults\": 10}");
    assert_int_equal(osap_model_validate(m, OSAP_MODEL_CHECK_INPUT, "15-video", "Recording",
                                         "SearchRecords", v, err, sizeof(err)),
                     OSAP_OK);
    assert_int_equal(osap_model_validate(m, OSAP_MODEL_CHECK_INPUT, "16-video", "Recording",
                                         "SearchRecords", v, err, sizeof(err)),
                     OSAP_EMODEL_UNKNOWN);
    cJSON_Delete(v);
    osap_model_free(m);

    assert_int_equal(parse(3, strlen(texts[3]), &m, err, sizeof(err)), OSAP_OK); /* access */
    v = cJSON_Parse("{\"duration\": 301}");
    assert_int_equal(osap_model_validate(m, OSAP_MODEL_CHECK_INPUT, "2-door", "Door", "Unlock", v,
                                         err, sizeof(err)),
                     OSAP_EMODEL_VALIDATION);
    assert_string_equal(err, "input.duration: 301 is above the maximum 300");
    cJSON_Delete(v);
    v = cJSON_Parse("\"unlocked\"");
    assert_int_equal(osap_model_validate(m, OSAP_MODEL_CHECK_SET, "0-door", "Door", "LockState", v,
                                         err, sizeof(err)),
                     OSAP_EMODEL_ACCESS);
    cJSON_Delete(v);
    v = cJSON_Parse("{\"cardNumber\": \"12345678\", \"result\": \"granted\", \"reason\": \"ok\", "
                    "\"basic\": {\"dateTime\": \"2024-05-01T08:00:00.000+08:00\", \"UUID\": "
                    "\"0b6c\"}}");
    assert_int_equal(osap_model_validate(m, OSAP_MODEL_CHECK_EVENT, "0-door", "Access",
                                         "CardSwiped", v, err, sizeof(err)),
                     OSAP_OK);
    cJSON_Delete(v);
    osap_model_free(m);

    assert_int_equal(parse(4, strlen(texts[4]), &m, err, sizeof(err)), OSAP_OK); /* radar */
    v = cJSON_Parse("[{\"x\": 0, \"y\": 0}, {\"x\": 10, \"y\": 10}]");
    assert_int_equal(osap_model_validate(m, OSAP_MODEL_CHECK_SET, "7-zone", "Zone", "Polygon", v,
                                         err, sizeof(err)),
                     OSAP_EMODEL_VALIDATION);
    assert_string_equal(err, "value: 2 items, fewer than the minimum 3");
    cJSON_Delete(v);
    osap_model_free(m);
}

/* Every prefix: OK or a model error whose position lies inside the prefix. */
static void test_every_prefix(void **state)
{
    (void)state;
    for (size_t i = 0; i < N; i++) {
        size_t total = strlen(texts[i]);
        size_t ok = 0;
        for (size_t len = 0; len <= total; len++) {
            char err[512] = "";
            osap_model_t *m = NULL;
            osap_err rc = parse(i, len, &m, err, sizeof(err));
            if (rc == OSAP_OK) {
                ok++;
                osap_model_free(m);
                continue;
            }
            if (rc != OSAP_EMODEL_SYNTAX && rc != OSAP_EMODEL_SEMANTIC)
                fail_msg("%s prefix %zu: %s (%s)", names[i], len, err, osap_errname(rc));
            assert_null(m);
            char path[64];
            unsigned line = 0, col = 0;
            int n = snprintf(path, sizeof(path), "%s.osm:", names[i]);
            if (strncmp(err, path, (size_t)n) != 0 || sscanf(err + n, "%u:%u:", &line, &col) != 2)
                fail_msg("%s prefix %zu: no position in \"%s\"", names[i], len, err);
            /* Line and column within the prefix (the end counts as one past it). */
            unsigned lines = 1, last = 0;
            for (size_t k = 0; k < len; k++)
                if (texts[i][k] == '\n') lines++, last = (unsigned)k + 1;
            if (line == 0 || line > lines || col == 0 || (line == lines && col > len - last + 1))
                fail_msg("%s prefix %zu: position %u:%u outside the text", names[i], len, line,
                         col);
        }
        assert_true(ok >= 1); /* at least the whole text */
    }
}

static void test_alloc_failures(void **state)
{
    (void)state;
    test_alloc_install();
    for (size_t i = 0; i < N; i++) {
        long n;
        for (n = 0; n < 100000; n++) {
            char err[256];
            osap_model_t *m = NULL;
            test_alloc_fail_after(n);
            osap_err rc = parse(i, strlen(texts[i]), &m, err, sizeof(err));
            if (rc == OSAP_OK) {
                osap_model_free(m);
                break;
            }
            if (rc != OSAP_ENOMEM) fail_msg("%s, allocation %ld: %s", names[i], n, err);
            assert_null(m);
        }
        assert_true(n > 2);
    }
    test_alloc_reset();
    osap_set_allocator(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_templates_compile),
        cmocka_unit_test(test_template_contents),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
