/* The compiled model document and the generated artefacts: round trip (DSL -> JSON ->
 * load -> same documents and same validation results), loader errors, profile shape,
 * C name collisions, allocation failures. */
#include "testutil.h"

#include "osap/alloc.h"
#include "osap/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODELS_DIR OSAP_TEST_DATA_DIR "/../../models"

static const char *const templates[] = {"base",           "ip_camera", "nvr",
                                        "access_control", "radar",     "generic_sensor"};
#define N_TEMPLATES (sizeof(templates) / sizeof(templates[0]))

static osap_model_t *load_template(const char *name)
{
    char path[1024], err[512];
    osap_model_t *m = NULL;
    snprintf(path, sizeof(path), "%s/%s.osm", MODELS_DIR, name);
    osap_err rc = osap_model_load_file(path, NULL, 0, &m, err, sizeof(err));
    if (rc) fail_msg("%s: %s", name, err);
    return m;
}

static osap_model_t *reload(const osap_model_t *m)
{
    char *json = NULL, err[512];
    osap_model_t *copy = NULL;
    assert_int_equal(osap_model_to_json(m, &json), OSAP_OK);
    osap_err rc = osap_model_load_json(json, strlen(json), &copy, err, sizeof(err));
    if (rc) fail_msg("reload %s: %s", osap_model_name(m), err);
    osap_free(json);
    return copy;
}

static void assert_same_text(osap_err (*gen)(const osap_model_t *, char **), const osap_model_t *a,
                             const osap_model_t *b)
{
    char *x = NULL, *y = NULL;
    assert_int_equal(gen(a, &x), OSAP_OK);
    assert_int_equal(gen(b, &y), OSAP_OK);
    assert_string_equal(x, y);
    osap_free(x);
    osap_free(y);
}

static osap_err header_of(const osap_model_t *m, char **out)
{
    char err[256];
    return osap_model_to_c_header(m, out, err, sizeof(err));
}

/* Values tried against every attribute, input, output and payload of both models. */
static const char *const probe_values[] = {
    NULL,
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1",
    "7",
    "2.5",
    "100",
    "101",
    "1e9",
    "65535",
    "\"\"",
    "\"x\"",
    "\"auto\"",
    "\"ok\"",
    "\"1920x1080\"",
    "\"+08:00\"",
    "\"2024-05-01T08:30:00\"",
    "[]",
    "[1, 2]",
    "[true]",
    "[\"person\", \"vehicle\"]",
    "{}",
    "{\"x\": 1}",
    "{\"speed\": 3, \"direction\": \"up\"}",
    "{\"reason\": \"reboot\"}",
    "{\"region\": 1, \"confidence\": 50, \"basic\": {}}",
};

static int compare_validation(const osap_model_t *a, const osap_model_t *b)
{
    int compared = 0;
    for (size_t p = 0; p < sizeof(probe_values) / sizeof(probe_values[0]); p++) {
        cJSON *v = probe_values[p] ? cJSON_Parse(probe_values[p]) : NULL;
        for (size_t i = 0; i < osap_model_resource_count(a); i++) {
            const struct osap_model_resource *r = osap_model_resource_at(a, i);
            for (size_t j = 0; j < r->n_domains; j++) {
                const struct osap_model_domain *d = &r->domains[j];
                struct {
                    enum osap_model_check check;
                    size_t n;
                } groups[] = {{OSAP_MODEL_CHECK_SET, d->n_attributes},
                              {OSAP_MODEL_CHECK_REPORT, d->n_attributes},
                              {OSAP_MODEL_CHECK_INPUT, d->n_operations},
                              {OSAP_MODEL_CHECK_OUTPUT, d->n_operations},
                              {OSAP_MODEL_CHECK_EVENT, d->n_events}};
                for (size_t g = 0; g < 5; g++) {
                    for (size_t k = 0; k < groups[g].n; k++) {
                        const char *id = g < 2   ? d->attributes[k].identifier
                                         : g < 4 ? d->operations[k].identifier
                                                 : d->events[k].identifier;
                        char ea[256], eb[256];
                        osap_err ra = osap_model_validate(a, groups[g].check, r->category,
                                                          d->identifier, id, v, ea, sizeof(ea));
                        osap_err rb = osap_model_validate(b, groups[g].check, r->category,
                                                          d->identifier, id, v, eb, sizeof(eb));
                        if (ra != rb || strcmp(ea, eb) != 0)
                            fail_msg("%s/%s %s: %s vs %s", d->identifier, id,
                                     probe_values[p] ? probe_values[p] : "(absent)", ea, eb);
                        compared++;
                    }
                }
                /* Defaults are valid values of their attribute. */
                for (size_t k = 0; k < d->n_attributes; k++) {
                    if (!d->attributes[k].default_value) continue;
                    char e[256];
                    assert_int_equal(osap_model_validate(b, OSAP_MODEL_CHECK_REPORT, r->category,
                                                         d->identifier, d->attributes[k].identifier,
                                                         d->attributes[k].default_value, e,
                                                         sizeof(e)),
                                     OSAP_OK);
                }
            }
        }
        cJSON_Delete(v);
    }
    return compared;
}

static void test_round_trip_templates(void **state)
{
    (void)state;
    for (size_t t = 0; t < N_TEMPLATES; t++) {
        osap_model_t *m = load_template(templates[t]);
        osap_model_t *copy = reload(m);
        assert_same_text(osap_model_to_json, m, copy);
        assert_same_text(osap_model_to_profile, m, copy);
        assert_same_text(header_of, m, copy);
        assert_same_text(osap_model_to_markdown, m, copy);
        assert_true(compare_validation(m, copy) > 1000);
        osap_model_free(copy);
        osap_model_free(m);
    }
}

static void test_file_loaders(void **state)
{
    (void)state;
    char err[512], path[1024];
    osap_model_t *m = NULL;
    assert_int_equal(osap_model_load_file("/nonexistent/x.osm", NULL, 0, &m, err, sizeof(err)),
                     OSAP_EIO);
    assert_string_equal(err, "/nonexistent/x.osm: No such file or directory");
    assert_int_equal(osap_model_load_json_file("/nonexistent/x.json", &m, err, sizeof(err)),
                     OSAP_EIO);
    assert_null(m);

    /* Include directories are searched first. */
    const char *dirs[] = {"/nonexistent", MODELS_DIR};
    snprintf(path, sizeof(path), "%s/radar.osm", MODELS_DIR);
    assert_int_equal(osap_model_load_file(path, dirs, 2, &m, err, sizeof(err)), OSAP_OK);
    assert_string_equal(osap_model_extends_at(m, 0), "base");
    osap_model_free(m);

    /* A template found through a "models" subdirectory of the extending file. */
    snprintf(path, sizeof(path), "%s/../tests/data/none.osm", MODELS_DIR);
    assert_int_equal(osap_model_load_file(path, NULL, 0, &m, err, sizeof(err)), OSAP_EIO);
}

/* ---- the loader refuses what the DSL would refuse, naming the member ---- */

static const char good_doc[] =
    "{\"osapModel\":1,\"name\":\"m\",\"version\":\"1\",\"resources\":[{\"category\":\"global\","
    "\"indexes\":[0],\"domains\":[{\"identifier\":\"D\",\"attributes\":[{\"identifier\":\"A\","
    "\"access\":\"rw\",\"type\":{\"kind\":\"int\",\"min\":0,\"max\":9},\"default\":1}],"
    "\"operations\":[{\"identifier\":\"O\",\"input\":{\"kind\":\"object\",\"members\":[{\"name\":"
    "\"a\",\"required\":true,\"type\":{\"kind\":\"string\",\"enum\":[{\"value\":\"x\"}]}}]}}],"
    "\"events\":[{\"identifier\":\"E\",\"level\":\"alarm\",\"payload\":{\"kind\":\"object\","
    "\"members\":[]}}]}]}]}";

#define ATTR "resources[0].domains[0].attributes[0]"
#define OPIN "resources[0].domains[0].operations[0].input"
#define EV   "resources[0].domains[0].events[0]"

struct mutation {
    const char *from, *to;
    osap_err rc;
    const char *msg;
};

static const struct mutation mutations[] = {
    {"\"osapModel\":1", "\"osapModel\":2", OSAP_EMODEL_FORMAT,
     "osapModel: expected 1 (the format of this document)"},
    {"\"name\":\"m\"", "\"name\":\"M\"", OSAP_EMODEL_FORMAT,
     "name: invalid model name 'M': a model name must start with a lower case letter"},
    {"\"version\":\"1\",", "", OSAP_EMODEL_FORMAT, "(document): missing member 'version'"},
    {"\"version\":\"1\"", "\"version\":\"1\",\"extra\":0", OSAP_EMODEL_FORMAT,
     "extra: unknown member"},
    {"\"version\":\"1\"", "\"version\":\"1\",\"version\":\"2\"", OSAP_EMODEL_FORMAT,
     "version: member given twice"},
    {"\"indexes\":[0]", "\"indexes\":[1,1]", OSAP_EMODEL_FORMAT,
     "resources[0].indexes[1]: indexes must be ascending and unique"},
    {"\"indexes\":[0]", "\"indexes\":[1000]", OSAP_EMODEL_FORMAT,
     "resources[0].indexes[0]: expected an index between 0 and 999"},
    {"\"indexes\":[0]", "\"indexes\":[]", OSAP_EMODEL_FORMAT,
     "resources[0].indexes: a resource needs at least one index"},
    {"\"category\":\"global\"", "\"category\":\"glo-bal\"", OSAP_EMODEL_FORMAT,
     "resources[0].category: invalid name 'glo-bal': only letters, digits and '_' are allowed"},
    {"\"max\":9", "\"max\":-1", OSAP_EMODEL_FORMAT,
     ATTR ".type: the minimum 0 is above the maximum -1"},
    {"\"max\":9", "\"max\":\"9\"", OSAP_EMODEL_FORMAT, ATTR ".type.max: expected a number"},
    {"\"default\":1", "\"default\":10", OSAP_EMODEL_FORMAT,
     ATTR ".default: 10 is above the maximum 9"},
    {"\"access\":\"rw\"", "\"access\":\"x\"", OSAP_EMODEL_FORMAT,
     ATTR ".access: expected \"r\", \"w\" or \"rw\""},
    {"\"kind\":\"int\"", "\"kind\":\"integer\"", OSAP_EMODEL_FORMAT,
     ATTR ".type.kind: unknown kind 'integer'"},
    {"\"min\":0", "\"minimum\":0", OSAP_EMODEL_FORMAT, ATTR ".type.minimum: unknown member"},
    {"\"min\":0,\"max\":9", "\"minLength\":0", OSAP_EMODEL_FORMAT,
     ATTR ".type.minLength: unknown member"},
    {"\"type\":{\"kind\":\"int\",\"min\":0,\"max\":9}", "\"type\":[]", OSAP_EMODEL_FORMAT,
     ATTR ".type: expected an object"},
    {"\"level\":\"alarm\"", "\"level\":\"critical\"", OSAP_EMODEL_FORMAT,
     EV ".level: expected \"info\", \"warning\" or \"alarm\""},
    {"\"members\":[]}", "\"members\":[{\"name\":\"basic\",\"type\":{\"kind\":\"bool\"}}]}",
     OSAP_EMODEL_FORMAT, EV ".payload: 'basic' is reserved in event payloads"},
    {"\"payload\":{\"kind\":\"object\",\"members\":[]}", "\"payload\":{\"kind\":\"bool\"}",
     OSAP_EMODEL_FORMAT, EV ".payload: an event payload is an object"},
    {"\"identifier\":\"O\"", "\"identifier\":\"A\"", OSAP_EMODEL_FORMAT,
     "resources[0].domains[0]: 'A' is defined twice in domain 'D'"},
    {"{\"value\":\"x\"}", "{\"value\":1}", OSAP_EMODEL_FORMAT,
     OPIN ".members[0].type.enum[0].value: expected a string"},
    {"[{\"value\":\"x\"}]", "[]", OSAP_EMODEL_FORMAT,
     OPIN ".members[0].type.enum: an enumeration needs at least one value"},
    {"\"required\":true", "\"required\":\"yes\"", OSAP_EMODEL_FORMAT,
     OPIN ".members[0].required: expected true or false"},
    {"\"required\":true,", "\"default\":\"y\",", OSAP_EMODEL_FORMAT,
     OPIN ".members[0].default: \"y\" is not one of \"x\""},
    {"\"required\":true,", "\"required\":true,\"default\":\"x\",", OSAP_EMODEL_FORMAT,
     OPIN ".members[0].default: a required member cannot have a default"},
    {"\"name\":\"a\"", "\"name\":\"\"", OSAP_EMODEL_FORMAT,
     OPIN ".members[0].name: invalid name '': it is empty"},
    {"\"domains\":[{", "\"domains\":[{\"identifier\":\"D\"},{", OSAP_EMODEL_FORMAT,
     "resources[0].domains[1]: duplicate domain 'D'"},
    {"\"resources\":[{",
     "\"resources\":[{\"category\":\"global\",\"indexes\":[0],"
     "\"domains\":[{\"identifier\":\"X\"}]},{",
     OSAP_EMODEL_FORMAT, "resources[1]: duplicate resource 'global'"},
};

static char *replace(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    if (!at) fail_msg("mutation source not found: %s", from);
    size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    assert_non_null(out);
    snprintf(out, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
    return out;
}

static void test_loader_errors(void **state)
{
    (void)state;
    char err[512];
    osap_model_t *m = NULL;
    assert_int_equal(osap_model_load_json(good_doc, strlen(good_doc), &m, err, sizeof(err)),
                     OSAP_OK);
    osap_model_free(m);
    m = NULL;

    int failures = 0;
    for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
        char *doc = replace(good_doc, mutations[i].from, mutations[i].to);
        err[0] = '\0';
        osap_err rc = osap_model_load_json(doc, strlen(doc), &m, err, sizeof(err));
        if (rc != mutations[i].rc || strcmp(err, mutations[i].msg) != 0) {
            print_error("mutation %zu:\n  want: %s (%s)\n  got:  %s (%s)\n", i, mutations[i].msg,
                        osap_errname(mutations[i].rc), err, osap_errname(rc));
            failures++;
        }
        assert_null(m);
        free(doc);
    }
    assert_int_equal(failures, 0);

    assert_int_equal(osap_model_load_json("{", 1, &m, err, sizeof(err)), OSAP_EJSON);
    assert_int_equal(strncmp(err, "malformed JSON at byte ", 23), 0);
    static const char trailing[] = "{} x";
    assert_int_equal(osap_model_load_json(trailing, strlen(trailing), &m, err, sizeof(err)),
                     OSAP_EJSON);
    assert_string_equal(err, "unexpected text after the JSON document at byte 3");
    static const char no_domain[] = "{\"osapModel\":1,\"name\":\"m\",\"version\":\"1\","
                                    "\"resources\":[{\"category\":\"g\",\"indexes\":[0],"
                                    "\"domains\":[]}]}";
    assert_int_equal(osap_model_load_json(no_domain, strlen(no_domain), &m, err, sizeof(err)),
                     OSAP_EMODEL_FORMAT);
    assert_string_equal(err, "resources[0].domains: a resource needs at least one domain");
    static const char no_res[] = "{\"osapModel\":1,\"name\":\"m\",\"version\":\"1\","
                                 "\"resources\":[]}";
    assert_int_equal(osap_model_load_json(no_res, strlen(no_res), &m, err, sizeof(err)),
                     OSAP_EMODEL_FORMAT);
    assert_string_equal(err, "resources: a model needs at least one resource");
    assert_int_equal(osap_model_load_json("[]", 2, &m, err, sizeof(err)), OSAP_EMODEL_FORMAT);
    assert_string_equal(err, "(document): expected an object");
    assert_int_equal(osap_model_load_json(NULL, 1, &m, err, sizeof(err)), OSAP_EINVAL);

    /* Nesting is limited like in the DSL. */
    char deep[4096] = "";
    size_t n = 0;
    n += (size_t)snprintf(deep + n, sizeof(deep) - n,
                          "{\"osapModel\":1,\"name\":\"m\",\"version\":\"1\",\"resources\":[{"
                          "\"category\":\"g\",\"indexes\":[0],\"domains\":[{\"identifier\":\"D\","
                          "\"attributes\":[{\"identifier\":\"A\",\"access\":\"r\",\"type\":");
    for (int i = 0; i < 17; i++)
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"kind\":\"array\",\"items\":");
    n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"kind\":\"int\"}");
    for (int i = 0; i < 17; i++)
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "}");
    snprintf(deep + n, sizeof(deep) - n, "}]}]}]}");
    assert_int_equal(osap_model_load_json(deep, strlen(deep), &m, err, sizeof(err)),
                     OSAP_EMODEL_FORMAT);
    assert_string_equal(err,
                        ATTR ".type.items.items.items.items.items.items.items.items.items."
                             "items.items.items.items.items.items.items: type nested more than "
                             "16 levels deep");
}

/* ---- the profile document of section 7.6 ---- */

static const char *const schema_keys[] = {"type", "key", "enum",  "mnl", "mxl",   "mn",    "emn",
                                          "mx",   "emx", "multi", "itm", "mnitm", "mxitm", "unq",
                                          "req",  "mnp", "mxp",   "dep", "prop",  NULL};

static void check_schema(const cJSON *s, int depth)
{
    assert_true(cJSON_IsObject(s));
    assert_true(depth < 20);
    const cJSON *c;
    cJSON_ArrayForEach(c, s)
    {
        bool known = false;
        for (const char *const *k = schema_keys; *k; k++)
            if (strcmp(c->string, *k) == 0) known = true;
        if (!known) fail_msg("unexpected schema key %s", c->string);
    }
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "type"));
    assert_non_null(type);
    static const char *const types[] = {"str", "bool", "int", "num", "arr", "obj"};
    bool ok = false;
    for (int i = 0; i < 6; i++)
        ok |= strcmp(type, types[i]) == 0;
    assert_true(ok);
    if (strcmp(type, "arr") == 0)
        check_schema(cJSON_GetObjectItemCaseSensitive(s, "itm"), depth + 1);
    if (strcmp(type, "obj") == 0) {
        const cJSON *prop = cJSON_GetObjectItemCaseSensitive(s, "prop");
        assert_true(cJSON_IsArray(prop));
        cJSON_ArrayForEach(c, prop)
        {
            assert_non_null(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "key")));
            check_schema(c, depth + 1);
        }
    }
}

static void test_profile_shape(void **state)
{
    (void)state;
    osap_model_t *m = load_template("ip_camera");
    char *text = NULL;
    assert_int_equal(osap_model_to_profile(m, &text), OSAP_OK);
    cJSON *p = cJSON_Parse(text);
    assert_non_null(p);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(p, "version")), "1.0.0");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(p, "resources"), *r;
    assert_int_equal(cJSON_GetArraySize(res), 2);
    int props = 0, actions = 0, events = 0;
    cJSON_ArrayForEach(r, res)
    {
        assert_non_null(cJSON_GetStringValue(cJSON_GetObjectItem(r, "resourceCategory")));
        const cJSON *idx = cJSON_GetObjectItemCaseSensitive(r, "localIndex"), *i;
        assert_true(cJSON_GetArraySize(idx) >= 1);
        cJSON_ArrayForEach(i, idx) assert_true(cJSON_IsString(i));
        const cJSON *doms = cJSON_GetObjectItemCaseSensitive(r, "domains"), *d;
        assert_true(cJSON_GetArraySize(doms) >= 1);
        cJSON_ArrayForEach(d, doms)
        {
            const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(d, "identifier"));
            assert_true(id && strlen(id) <= 31);
            const cJSON *x;
            cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(d, "props"))
            {
                const char *acc = cJSON_GetStringValue(cJSON_GetObjectItem(x, "access"));
                assert_true(!strcmp(acc, "r") || !strcmp(acc, "w") || !strcmp(acc, "rw"));
                assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(x, "version")),
                                    "1.0.0");
                check_schema(cJSON_GetObjectItemCaseSensitive(x, "schema"), 0);
                props++;
            }
            cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(d, "actions"))
            {
                assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(x, "direction")),
                                    "Plt2Dev");
                const cJSON *in = cJSON_GetObjectItemCaseSensitive(x, "input");
                if (in) check_schema(cJSON_GetObjectItemCaseSensitive(in, "schema"), 0);
                actions++;
            }
            cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(d, "events"))
            {
                const cJSON *et = cJSON_GetObjectItemCaseSensitive(x, "eventType");
                assert_int_equal(cJSON_GetArraySize(et), 1);
                const cJSON *s =
                    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(x, "input"), "schema");
                check_schema(s, 0);
                /* The device-added "basic" member is declared. */
                const cJSON *last =
                    cJSON_GetArrayItem(cJSON_GetObjectItem(s, "prop"),
                                       cJSON_GetArraySize(cJSON_GetObjectItem(s, "prop")) - 1);
                assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(last, "key")),
                                    "basic");
                events++;
            }
        }
    }
    assert_true(props > 30 && actions > 5 && events > 5);

    /* One attribute in detail: MainBitrate of the video resource. */
    const cJSON *video = cJSON_GetArrayItem(res, 1);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(video, "resourceCategory")),
                        "video");
    const cJSON *stream = cJSON_GetArrayItem(cJSON_GetObjectItem(video, "domains"), 0);
    const cJSON *prop = cJSON_GetArrayItem(cJSON_GetObjectItem(stream, "props"), 2);
    char *ps = cJSON_PrintUnformatted(prop);
    assert_string_equal(ps, "{\"identifier\":\"MainBitrate\",\"access\":\"rw\",\"version\":"
                            "\"1.0.0\",\"schema\":{\"type\":\"int\",\"mn\":256,\"mx\":16384}}");
    cJSON_free(ps);
    cJSON_Delete(p);
    osap_free(text);
    osap_model_free(m);

    /* Every schema key OSAP emits, in one small model. */
    static const char all[] =
        "model k version \"1\";\n"
        "resource global { domain D {\n"
        " attribute A: object { a: int above 0 below 9 step 3; b: string length 1..2;"
        " c: array of enum { x } items 1..2 unique required; } access rw;\n"
        "} }\n";
    char err[256];
    assert_int_equal(osap_model_parse("k.osm", all, strlen(all), NULL, &m, err, sizeof(err)),
                     OSAP_OK);
    assert_int_equal(osap_model_to_profile(m, &text), OSAP_OK);
    assert_string_equal(
        text, "{\"version\":\"1\",\"resources\":[{\"resourceCategory\":\"global\",\"localIndex\":"
              "[\"0\"],\"domains\":[{\"identifier\":\"D\",\"props\":[{\"identifier\":\"A\","
              "\"access\":\"rw\",\"version\":\"1\",\"schema\":{\"type\":\"obj\",\"prop\":["
              "{\"type\":\"int\",\"key\":\"a\",\"emn\":0,\"emx\":9,\"multi\":3},"
              "{\"type\":\"str\",\"key\":\"b\",\"mnl\":1,\"mxl\":2},"
              "{\"type\":\"arr\",\"key\":\"c\",\"itm\":{\"type\":\"str\",\"enum\":[\"x\"]},"
              "\"mnitm\":1,\"mxitm\":2,\"unq\":true}],\"req\":[\"c\"]}}],\"actions\":[],"
              "\"events\":[]}]}]}");
    osap_free(text);
    osap_model_free(m);
}

static void test_header_name_collision(void **state)
{
    (void)state;
    static const char text[] = "model k version \"1\";\n"
                               "resource global { domain PTZ { attribute A: int; }\n"
                               "  domain Ptz { attribute B: int; } }\n";
    char err[256], *h = NULL;
    osap_model_t *m = NULL;
    assert_int_equal(osap_model_parse("k.osm", text, strlen(text), NULL, &m, err, sizeof(err)),
                     OSAP_OK);
    assert_int_equal(osap_model_to_c_header(m, &h, err, sizeof(err)), OSAP_EMODEL_SEMANTIC);
    assert_null(h);
    assert_string_equal(err, "C name 'K_DOMAIN_PTZ' would stand for both the constant \"PTZ\" "
                             "and the constant \"Ptz\"; rename one of them");
    osap_model_free(m);

    /* Members that snake-case to the same field. */
    static const char text2[] = "model k version \"1\";\n"
                                "resource global { domain D { attribute A: object {"
                                " dateTime: int; date_time: int; }; } }\n";
    assert_int_equal(osap_model_parse("k.osm", text2, strlen(text2), NULL, &m, err, sizeof(err)),
                     OSAP_OK);
    assert_int_equal(osap_model_to_c_header(m, &h, err, sizeof(err)), OSAP_EMODEL_SEMANTIC);
    assert_string_equal(err, "C name 'date_time' would stand for both member 'dateTime' and "
                             "member 'date_time'; rename one of them");
    osap_model_free(m);

    /* C keywords as member names get a trailing '_'. */
    static const char text3[] = "model k version \"1\";\n"
                                "resource global { domain D { attribute A: object {"
                                " int: int; default: bool; } access rw; } }\n";
    assert_int_equal(osap_model_parse("k.osm", text3, strlen(text3), NULL, &m, err, sizeof(err)),
                     OSAP_OK);
    assert_int_equal(osap_model_to_c_header(m, &h, err, sizeof(err)), OSAP_OK);
    assert_non_null(strstr(h, "    int32_t int_;\n"));
    assert_non_null(strstr(h, "    bool default_;\n"));
    assert_non_null(strstr(h, "typedef int (*k_global_d_a_set_fn)(\n"
                              "    const char *rid, const struct k_global_d_a *value, "
                              "void *userdata);"));
    osap_free(h);
    osap_model_free(m);
}

/* Allocation failures in the JSON loader and in every generator. */
static void test_alloc_failures(void **state)
{
    (void)state;
    osap_model_t *m = load_template("nvr");
    char *json = NULL;
    assert_int_equal(osap_model_to_json(m, &json), OSAP_OK);
    test_alloc_install();

    long n;
    for (n = 0; n < 1000000; n++) {
        char err[256];
        osap_model_t *copy = NULL;
        test_alloc_fail_after(n);
        osap_err rc = osap_model_load_json(json, strlen(json), &copy, err, sizeof(err));
        if (rc == OSAP_OK) {
            osap_model_free(copy);
            break;
        }
        /* cJSON's parser cannot tell "out of memory" from "malformed". */
        assert_true(rc == OSAP_ENOMEM || rc == OSAP_EJSON);
        assert_null(copy);
    }
    assert_true(n > 10);

    osap_err (*gens[])(const osap_model_t *, char **) = {osap_model_to_json, osap_model_to_profile,
                                                         osap_model_to_markdown, header_of};
    for (size_t g = 0; g < 4; g++) {
        for (n = 0; n < 1000000; n++) {
            char *out = NULL;
            test_alloc_fail_after(n);
            osap_err rc = gens[g](m, &out);
            if (rc == OSAP_OK) {
                osap_free(out);
                break;
            }
            assert_int_equal(rc, OSAP_ENOMEM);
            assert_null(out);
        }
        assert_true(n > 1);
    }
    test_alloc_reset();
    osap_set_allocator(NULL);
    osap_free(json);
    osap_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_templates),  cmocka_unit_test(test_file_loaders),
        cmocka_unit_test(test_loader_errors),         cmocka_unit_test(test_profile_shape),
        cmocka_unit_test(test_header_name_collision), cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
