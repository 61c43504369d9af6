/* The thing-model registry (lib/server/models.h): loading a directory (.osm and
 * .json, which wins, names that are not model names ignored, a file that says
 * another model left out), profiles and their MD5, the DevType map (exact,
 * prefix, longest prefix, bad items), a device's model, reloads (new, changed,
 * broken and removed files, catalogs held across a reload) and allocation
 * failures. */
#include "testutil.h"

#include "log.h"
#include "models.h"
#include "osap/alloc.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fixture {
    char dir[256];
};

static const char LAMP[] = "model lamp version \"1.0.0\";\n"
                           "resource global {\n"
                           "  domain Light {\n"
                           "    attribute Brightness: int range 0..100 access rw;\n"
                           "    event Failed level alarm { code: int range 1..9 required; }\n"
                           "  }\n"
                           "}\n";

static const char SOCKET[] = "model socket version \"2.1\";\n"
                             "resource global { domain Power { attribute On: bool access rw; } }\n";

static void write_file(const struct fixture *fx, const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void remove_file(const struct fixture *fx, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
    assert_int_equal(unlink(path), 0);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    const char *tmp = getenv("TMPDIR");

    snprintf(fx->dir, sizeof(fx->dir), "%s/osap-test-models-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    if (!mkdtemp(fx->dir)) return -1;
    osap_log_set_level(OSAP_LOG_ERROR); /* only the expected complaints */
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    if (system(cmd) != 0) return -1;
    free(fx);
    return 0;
}

static struct osap_models *registry(const struct fixture *fx, const char *const *map, size_t n)
{
    struct osap_models_config cfg;
    struct osap_models *r = NULL;
    char err[256];

    cfg.models_dir = (char *)fx->dir;
    cfg.map.n = n;
    cfg.map.v = (char **)map;
    assert_int_equal(osap_models_new(&cfg, &r, err, sizeof(err)), OSAP_OK);
    return r;
}

static void assert_md5(const char *p, size_t len, const char *hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char want[33];

    assert_int_equal(EVP_Digest(p, len, md, &n, EVP_md5(), NULL), 1);
    assert_int_equal(n, 16);
    for (unsigned i = 0; i < 16; i++)
        snprintf(want + 2 * i, 3, "%02x", md[i]);
    assert_string_equal(hex, want);
}

static void test_load_directory(void **state)
{
    struct fixture *fx = *state;
    struct osap_models *r;
    struct osap_catalog *c;
    const struct osap_catalog_model *m;
    char *profile = NULL;

    write_file(fx, "lamp.osm", LAMP);
    write_file(fx, "socket.osm", SOCKET);
    write_file(fx, "Upper.osm", SOCKET);             /* not a model name */
    write_file(fx, "lamp.profile.json", "{}");       /* osap-modelc output, not a model */
    write_file(fx, "plug.osm", SOCKET);              /* says "model socket" */
    write_file(fx, "broken.osm", "model broken;\n"); /* does not compile */
    write_file(fx, "notes.txt", "hello");
    r = registry(fx, NULL, 0);
    c = osap_models_acquire(r);
    assert_int_equal(osap_catalog_count(c), 2);
    assert_string_equal(osap_catalog_at(c, 0)->name, "lamp");
    assert_string_equal(osap_catalog_at(c, 1)->name, "socket");
    assert_null(osap_catalog_at(c, 2));
    assert_null(osap_catalog_find(c, "plug"));
    assert_null(osap_catalog_find(c, "broken"));
    assert_null(osap_catalog_find(c, ""));
    assert_null(osap_catalog_find(c, NULL));

    m = osap_catalog_find(c, "lamp");
    assert_non_null(m);
    assert_string_equal(osap_model_version(m->model), "1.0.0");
    assert_non_null(strstr(m->path, "/lamp.osm"));
    /* The profile is exactly osap_model_to_profile()'s, and its MD5 is of those bytes. */
    assert_int_equal(osap_model_to_profile(m->model, &profile), OSAP_OK);
    assert_int_equal(m->profile_len, strlen(profile));
    assert_memory_equal(m->profile, profile, m->profile_len);
    assert_md5(m->profile, m->profile_len, m->profile_md5);
    osap_free(profile);
    assert_string_equal(osap_models_dir(r), fx->dir);
    osap_catalog_release(c);
    osap_models_free(r);
}

static void test_json_wins_over_osm(void **state)
{
    struct fixture *fx = *state;
    osap_model_t *m = NULL;
    struct osap_models *r;
    struct osap_catalog *c;
    char *doc = NULL, err[256];

    /* lamp.json says version 9.9 (a compiled document), lamp.osm 1.0.0. */
    assert_int_equal(osap_model_parse("lamp.osm", LAMP, strlen(LAMP), NULL, &m, err, sizeof(err)),
                     OSAP_OK);
    assert_int_equal(osap_model_to_json(m, &doc), OSAP_OK);
    osap_model_free(m);
    {
        char *v = strstr(doc, "\"1.0.0\"");
        assert_non_null(v);
        memcpy(v, "\"9.9.9\"", 7);
    }
    write_file(fx, "lamp.json", doc);
    write_file(fx, "lamp.osm", LAMP);
    osap_free(doc);
    r = registry(fx, NULL, 0);
    c = osap_models_acquire(r);
    assert_int_equal(osap_catalog_count(c), 1);
    assert_string_equal(osap_model_version(osap_catalog_find(c, "lamp")->model), "9.9.9");
    assert_non_null(strstr(osap_catalog_find(c, "lamp")->path, "/lamp.json"));
    osap_catalog_release(c);
    osap_models_free(r);
}

static void test_map_and_device_model(void **state)
{
    struct fixture *fx = *state;
    static const char *const map[] = {"CS-*:socket", "CS-L*:lamp", "CS-LX1:socket", "Q:ghost"};
    struct osap_models *r;
    struct osap_catalog *c;
    enum osap_catalog_match how;
    const struct osap_catalog_model *m;

    write_file(fx, "lamp.osm", LAMP);
    write_file(fx, "socket.osm", SOCKET);
    r = registry(fx, map, 4);
    c = osap_models_acquire(r);
    /* Exact beats prefixes; the longest prefix wins. */
    assert_string_equal(osap_catalog_map(c, "CS-LX1")->name, "socket");
    assert_string_equal(osap_catalog_map(c, "CS-LX2")->name, "lamp");
    assert_string_equal(osap_catalog_map(c, "CS-L")->name, "lamp");
    assert_string_equal(osap_catalog_map(c, "CS-")->name, "socket");
    assert_null(osap_catalog_map(c, "CS"));
    assert_null(osap_catalog_map(c, "Q"));  /* names a model that is not loaded */
    assert_null(osap_catalog_map(c, "QQ")); /* not a prefix item */
    assert_null(osap_catalog_map(c, ""));
    assert_string_equal(osap_models_map_lookup(r, "Q"), "ghost");
    assert_null(osap_models_map_lookup(r, "nothing"));

    /* Provisioned model first, then the map, then none. */
    m = osap_catalog_for_device(c, "socket", "CS-L9", &how);
    assert_string_equal(m->name, "socket");
    assert_int_equal(how, OSAP_CATALOG_PROVISIONED);
    m = osap_catalog_for_device(c, "CS-L9", "CS-L9", &how);
    assert_string_equal(m->name, "lamp");
    assert_int_equal(how, OSAP_CATALOG_MAPPED);
    m = osap_catalog_for_device(c, "", "CS-L9", NULL);
    assert_string_equal(m->name, "lamp");
    assert_null(osap_catalog_for_device(c, "nope", "XX", &how));
    assert_int_equal(how, OSAP_CATALOG_NONE);
    assert_null(osap_catalog_for_device(c, NULL, NULL, &how));
    osap_catalog_release(c);
    osap_models_free(r);
}

static void test_bad_map(void **state)
{
    struct fixture *fx = *state;
    static const char *const bad[][2] = {
        {"nocolon", NULL},        {":lamp", NULL},    {"CS:", NULL},    {"CS:Lamp", NULL},
        {"CS:lamp-1", NULL},      {"C S:lamp", NULL}, {"*:lamp", NULL}, {"C*S:lamp", NULL},
        {"CS:lamp", "CS:socket"}, {"CS*:a", "CS*:b"},
    };
    char err[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct osap_models_config cfg;
        struct osap_models *r = NULL;
        cfg.models_dir = fx->dir;
        cfg.map.v = (char **)bad[i];
        cfg.map.n = bad[i][1] ? 2 : 1;
        err[0] = '\0';
        assert_int_equal(osap_models_new(&cfg, &r, err, sizeof(err)), OSAP_ECONFIG);
        assert_null(r);
        assert_non_null(strstr(err, "[models] map"));
    }
    {
        /* DevTypes may contain ':' (the model is after the last one). */
        static const char *const ok[] = {"A:B:lamp"};
        struct osap_models *r = registry(fx, ok, 1);
        assert_string_equal(osap_models_map_lookup(r, "A:B"), "lamp");
        osap_models_free(r);
    }
}

static void test_missing_directory_and_no_config(void **state)
{
    struct fixture *fx = *state;
    struct osap_models_config cfg = {0};
    struct osap_models *r = NULL;
    struct osap_catalog *c;
    char dir[300];

    snprintf(dir, sizeof(dir), "%s/absent", fx->dir);
    cfg.models_dir = dir;
    assert_int_equal(osap_models_new(&cfg, &r, NULL, 0), OSAP_OK);
    c = osap_models_acquire(r);
    assert_int_equal(osap_catalog_count(c), 0);
    assert_null(osap_catalog_find(c, "lamp"));
    osap_catalog_release(c);
    osap_models_free(r);
    assert_int_equal(osap_models_new(NULL, &r, NULL, 0), OSAP_OK);
    assert_string_equal(osap_models_dir(r), "");
    c = osap_models_acquire(r);
    assert_int_equal(osap_catalog_count(c), 0);
    osap_catalog_release(c);
    osap_models_free(r);
}

static void test_reload(void **state)
{
    struct fixture *fx = *state;
    struct osap_models *r;
    struct osap_catalog *before, *after;
    const struct osap_catalog_model *lamp;
    uint64_t gen;

    write_file(fx, "lamp.osm", LAMP);
    write_file(fx, "socket.osm", SOCKET);
    r = registry(fx, NULL, 0);
    before = osap_models_acquire(r);
    gen = osap_models_generation(r);
    assert_int_equal(osap_catalog_generation(before), gen);
    lamp = osap_catalog_find(before, "lamp");

    /* lamp breaks (keeps its version), socket goes, switch comes. */
    write_file(fx, "lamp.osm", "model lamp version \"2\"; resource global {");
    remove_file(fx, "socket.osm");
    write_file(fx, "switch.osm",
               "model switch version \"1\";\n"
               "resource global { domain S { attribute On: bool; } }\n");
    assert_int_equal(osap_models_reload(r), OSAP_OK);
    assert_int_equal(osap_models_generation(r), gen + 1);
    after = osap_models_acquire(r);
    assert_int_equal(osap_catalog_generation(after), gen + 1);
    assert_int_equal(osap_catalog_count(after), 2);
    assert_ptr_equal(osap_catalog_find(after, "lamp")->model, lamp->model);
    assert_null(osap_catalog_find(after, "socket"));
    assert_non_null(osap_catalog_find(after, "switch"));
    /* The catalog held from before is intact. */
    assert_int_equal(osap_catalog_count(before), 2);
    assert_string_equal(osap_model_version(osap_catalog_find(before, "socket")->model), "2.1");
    osap_catalog_release(before);
    osap_catalog_release(after);

    /* lamp fixed with a new version: the new one is used. */
    write_file(fx, "lamp.osm",
               "model lamp version \"3.0\";\n"
               "resource global { domain Light { attribute B: int; } }\n");
    assert_int_equal(osap_models_reload(r), OSAP_OK);
    after = osap_models_acquire(r);
    assert_string_equal(osap_model_version(osap_catalog_find(after, "lamp")->model), "3.0");
    osap_catalog_release(after);
    osap_models_free(r);
}

static void test_validation_through_the_catalog(void **state)
{
    struct fixture *fx = *state;
    struct osap_models *r;
    struct osap_catalog *c;
    const osap_model_t *m;
    cJSON *v = cJSON_Parse("{\"code\":12,\"basic\":{\"UUID\":\"x\"}}");
    char err[256];

    write_file(fx, "lamp.osm", LAMP);
    r = registry(fx, NULL, 0);
    c = osap_models_acquire(r);
    m = osap_catalog_find(c, "lamp")->model;
    assert_int_equal(osap_model_validate(m, OSAP_MODEL_CHECK_EVENT, "0-global", "Light", "Failed",
                                         v, err, sizeof(err)),
                     OSAP_EMODEL_VALIDATION);
    assert_string_equal(err, "payload.code: 12 is above the maximum 9");
    cJSON_Delete(v);
    osap_catalog_release(c);
    osap_models_free(r);
}

static void test_allocation_failures(void **state)
{
    struct fixture *fx = *state;
    static const char *const map[] = {"CS-*:socket", "CS-LX1:lamp"};
    long n;

    write_file(fx, "lamp.osm", LAMP);
    write_file(fx, "socket.osm", SOCKET);
    test_alloc_install();
    for (n = 0; n < 100000; n++) {
        struct osap_models_config cfg;
        struct osap_models *r = NULL;
        size_t loaded = 0;
        osap_err err;

        cfg.models_dir = fx->dir;
        cfg.map.n = 2;
        cfg.map.v = (char **)map;
        test_alloc_fail_after(n);
        err = osap_models_new(&cfg, &r, NULL, 0);
        if (err == OSAP_OK) err = osap_models_reload(r);
        test_alloc_reset();
        assert_true(err == OSAP_OK || err == OSAP_ENOMEM);
        if (r) {
            /* Whatever loaded is consistent. */
            struct osap_catalog *c = osap_models_acquire(r);
            loaded = osap_catalog_count(c);
            for (size_t i = 0; i < loaded; i++)
                assert_non_null(osap_catalog_at(c, i)->profile);
            osap_catalog_release(c);
        }
        osap_models_free(r);
        if (err == OSAP_OK && loaded == 2) break; /* no failure on the way: done */
    }
    assert_true(n > 100); /* every allocation of the loads failed once */
    test_alloc_reset();
    osap_set_allocator(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_wins_over_osm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_and_device_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_directory_and_no_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation_through_the_catalog, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
