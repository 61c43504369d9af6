/* Validation of wire values against a model: types, ranges, enums, lengths, arrays,
 * objects, required members, access, addressing. */
#include "testutil.h"

#include "osap/model.h"

#include <stdio.h>
#include <string.h>

static const char model_text[] =
    "model v version \"1\";\n"
    "type Point = object { x: int range 0..10 required; y: int range 0..10 required; };\n"
    "resource global {\n"
    "  domain T {\n"
    "    attribute B: bool access rw;\n"
    "    attribute I: int range -5..5 access rw;\n"
    "    attribute I2: int access rw;\n"
    "    attribute IE: int above 0 below 10 step 2 access rw;\n"
    "    attribute N: number min -1.5 max 2.5 access rw;\n"
    "    attribute NS: number step 0.1 access rw;\n"
    "    attribute S: string length 2..4 access rw;\n"
    "    attribute E: enum { low, mid, high } access rw;\n"
    "    attribute EI: enum { 1, 2, 4 } access rw;\n"
    "    attribute A: array of int range 0..9 items 1..3 unique access rw;\n"
    "    attribute P: Point access rw;\n"
    "    attribute O: object {\n"
    "      name: string length 1..8 required;\n"
    "      tags: array of string items 0..2;\n"
    "      inner: object { on: bool required; };\n"
    "    } access rw;\n"
    "    attribute RO: int;\n"
    "    attribute WO: int access w;\n"
    "    operation Move {\n"
    "      input { speed: int range 1..10 required; dir: enum { l, r }; }\n"
    "      output { ok: bool required; }\n"
    "    }\n"
    "    operation Stop;\n"
    "    operation Opt { input { a: int; } }\n"
    "    operation Zoom { input number range 1..40; output array of Point; }\n"
    "    event Alarm level alarm { region: int range 0..3 required; points: array of Point; }\n"
    "    event Ping;\n"
    "  }\n"
    "}\n"
    "resource video indexes 0..3 { domain V { attribute Rate: int range 1..30 access rw; } }\n";

static osap_model_t *model;

static int setup(void **state)
{
    (void)state;
    char err[256];
    if (osap_model_parse("v.osm", model_text, strlen(model_text), NULL, &model, err, sizeof(err)) !=
        OSAP_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    osap_model_free(model);
    return 0;
}

#define SET    OSAP_MODEL_CHECK_SET
#define REPORT OSAP_MODEL_CHECK_REPORT
#define IN     OSAP_MODEL_CHECK_INPUT
#define OUT    OSAP_MODEL_CHECK_OUTPUT
#define EVENT  OSAP_MODEL_CHECK_EVENT
#define OK     OSAP_OK
#define BAD    OSAP_EMODEL_VALIDATION

struct vcase {
    enum osap_model_check check;
    const char *resource, *domain, *id;
    const char *json; /* NULL: value absent */
    osap_err rc;
    const char *msg; /* expected message when rc != OK */
};

static const struct vcase cases[] = {
    /* bool */
    {SET, "global", "T", "B", "true", OK, NULL},
    {SET, "global", "T", "B", "false", OK, NULL},
    {SET, "global", "T", "B", "1", BAD, "value: expected a boolean, found a number"},
    {SET, "global", "T", "B", "null", BAD, "value: expected a boolean, found null"},
    {SET, "global", "T", "B", NULL, BAD, "value: missing"},
    /* int with range */
    {SET, "global", "T", "I", "5", OK, NULL},
    {SET, "global", "T", "I", "-5", OK, NULL},
    {SET, "global", "T", "I", "6", BAD, "value: 6 is above the maximum 5"},
    {SET, "global", "T", "I", "-6", BAD, "value: -6 is below the minimum -5"},
    {SET, "global", "T", "I", "2.5", BAD, "value: 2.5 is not an integer"},
    {SET, "global", "T", "I", "1e0", OK, NULL},
    {SET, "global", "T", "I", "\"1\"", BAD, "value: expected an integer, found a string"},
    /* int without range: 32 bits */
    {SET, "global", "T", "I2", "2147483647", OK, NULL},
    {SET, "global", "T", "I2", "-2147483648", OK, NULL},
    {SET, "global", "T", "I2", "2147483648", BAD,
     "value: 2147483648 is outside the 32-bit integer range"},
    {SET, "global", "T", "I2", "-1e300", BAD, "value: -1e+300 is outside the 32-bit integer range"},
    /* exclusive bounds and step */
    {SET, "global", "T", "IE", "2", OK, NULL},
    {SET, "global", "T", "IE", "8", OK, NULL},
    {SET, "global", "T", "IE", "0", BAD, "value: 0 is not above 0"},
    {SET, "global", "T", "IE", "10", BAD, "value: 10 is not below 10"},
    {SET, "global", "T", "IE", "3", BAD, "value: 3 is not a multiple of 2"},
    /* number */
    {SET, "global", "T", "N", "2.5", OK, NULL},
    {SET, "global", "T", "N", "-1.5", OK, NULL},
    {SET, "global", "T", "N", "1", OK, NULL},
    {SET, "global", "T", "N", "2.51", BAD, "value: 2.51 is above the maximum 2.5"},
    {SET, "global", "T", "N", "-1.6", BAD, "value: -1.6 is below the minimum -1.5"},
    {SET, "global", "T", "N", "true", BAD, "value: expected a number, found a boolean"},
    {SET, "global", "T", "NS", "0.3", OK, NULL},
    {SET, "global", "T", "NS", "-12.7", OK, NULL},
    {SET, "global", "T", "NS", "0.35", BAD, "value: 0.35 is not a multiple of 0.1"},
    /* string length in bytes */
    {SET, "global", "T", "S", "\"ab\"", OK, NULL},
    {SET, "global", "T", "S", "\"abcd\"", OK, NULL},
    {SET, "global", "T", "S", "\"\xC3\xA9\xC3\xA9\"", OK, NULL},
    {SET, "global", "T", "S", "\"a\"", BAD, "value: length 1 is below the minimum length 2"},
    {SET, "global", "T", "S", "\"abcde\"", BAD, "value: length 5 is above the maximum length 4"},
    {SET, "global", "T", "S", "\"\xC3\xA9\xC3\xA9\xC3\xA9\"", BAD,
     "value: length 6 is above the maximum length 4"},
    {SET, "global", "T", "S", "[]", BAD, "value: expected a string, found an array"},
    /* enumerations */
    {SET, "global", "T", "E", "\"mid\"", OK, NULL},
    {SET, "global", "T", "E", "\"MID\"", BAD,
     "value: \"MID\" is not one of \"low\", \"mid\", \"high\""},
    {SET, "global", "T", "EI", "4", OK, NULL},
    {SET, "global", "T", "EI", "3", BAD, "value: 3 is not one of 1, 2, 4"},
    {SET, "global", "T", "EI", "1.5", BAD, "value: 1.5 is not an integer"},
    /* arrays */
    {SET, "global", "T", "A", "[1, 2]", OK, NULL},
    {SET, "global", "T", "A", "[]", BAD, "value: 0 items, fewer than the minimum 1"},
    {SET, "global", "T", "A", "[1, 2, 3, 4]", BAD, "value: 4 items, more than the maximum 3"},
    {SET, "global", "T", "A", "[1, 1]", BAD, "value[1]: duplicate of item [0]"},
    {SET, "global", "T", "A", "[1, \"x\"]", BAD, "value[1]: expected an integer, found a string"},
    {SET, "global", "T", "A", "[10]", BAD, "value[0]: 10 is above the maximum 9"},
    {SET, "global", "T", "A", "{}", BAD, "value: expected an array, found an object"},
    /* objects */
    {SET, "global", "T", "P", "{\"x\": 1, \"y\": 2}", OK, NULL},
    {SET, "global", "T", "P", "{\"x\": 1}", BAD, "value: missing required member 'y'"},
    {SET, "global", "T", "P", "{\"x\": 1, \"y\": 2, \"z\": 3}", BAD, "value.z: unknown member"},
    {SET, "global", "T", "P", "{\"x\": 1, \"y\": 11}", BAD, "value.y: 11 is above the maximum 10"},
    {SET, "global", "T", "P", "{\"x\": 1, \"x\": 2, \"y\": 1}", BAD, "value.x: member given twice"},
    {SET, "global", "T", "P", "{\"X\": 1, \"y\": 2}", BAD, "value: missing required member 'x'"},
    {SET, "global", "T", "O", "{\"name\": \"n\"}", OK, NULL},
    {SET, "global", "T", "O", "{\"name\": \"n\", \"tags\": [\"a\"], \"inner\": {\"on\": true}}", OK,
     NULL},
    {SET, "global", "T", "O", "{\"name\": \"n\", \"inner\": {}}", BAD,
     "value.inner: missing required member 'on'"},
    {SET, "global", "T", "O", "{\"name\": \"n\", \"tags\": [\"a\", \"b\", \"c\"]}", BAD,
     "value.tags: 3 items, more than the maximum 2"},
    {SET, "global", "T", "O", "{\"name\": \"n\", \"tags\": [1]}", BAD,
     "value.tags[0]: expected a string, found a number"},
    {SET, "global", "T", "O", "{\"name\": \"n\", \"inner\": {\"on\": \"yes\"}}", BAD,
     "value.inner.on: expected a boolean, found a string"},
    {SET, "global", "T", "O", "{\"name\": \"\"}", BAD,
     "value.name: length 0 is below the minimum length 1"},
    /* access */
    {SET, "global", "T", "RO", "5", OSAP_EMODEL_ACCESS, "attribute 'RO' is read-only"},
    {REPORT, "global", "T", "RO", "5", OK, NULL},
    {REPORT, "global", "T", "RO", "\"5\"", BAD, "value: expected an integer, found a string"},
    {SET, "global", "T", "WO", "1", OK, NULL},
    {REPORT, "global", "T", "WO", "1", OK, NULL},
    /* addressing */
    {SET, "audio", "T", "B", "true", OSAP_EMODEL_UNKNOWN, "unknown resource category 'audio'"},
    {SET, "global", "X", "B", "true", OSAP_EMODEL_UNKNOWN, "resource 'global' has no domain 'X'"},
    {SET, "global", "T", "Nope", "1", OSAP_EMODEL_UNKNOWN, "domain 'T' has no attribute 'Nope'"},
    {SET, "global", "T", "Move", "1", OSAP_EMODEL_UNKNOWN, "domain 'T' has no attribute 'Move'"},
    {IN, "global", "T", "B", "1", OSAP_EMODEL_UNKNOWN, "domain 'T' has no operation 'B'"},
    {EVENT, "global", "T", "Move", "{}", OSAP_EMODEL_UNKNOWN, "domain 'T' has no event 'Move'"},
    {SET, "0-global", "T", "B", "true", OK, NULL},
    {SET, "1-global", "T", "B", "true", OSAP_EMODEL_UNKNOWN, "resource 'global' has no index 1"},
    {SET, "3-video", "V", "Rate", "30", OK, NULL},
    {SET, "video", "V", "Rate", "30", OK, NULL},
    {SET, "3-video", "V", "Rate", "31", BAD, "value: 31 is above the maximum 30"},
    {SET, "4-video", "V", "Rate", "1", OSAP_EMODEL_UNKNOWN, "resource 'video' has no index 4"},
    {SET, "03-video", "V", "Rate", "1", OSAP_EMODEL_UNKNOWN, "resource 'video' has no index 03"},
    {SET, "-video", "V", "Rate", "1", OSAP_EMODEL_UNKNOWN,
     "resource '-video' has no valid local index"},
    {SET, "12345678-video", "V", "Rate", "1", OSAP_EMODEL_UNKNOWN,
     "resource '12345678-video' has no valid local index"},
    {SET, "0-video-x", "V", "Rate", "1", OSAP_EMODEL_UNKNOWN,
     "unknown resource category 'video-x'"},
    /* operations */
    {IN, "global", "T", "Move", "{\"speed\": 3}", OK, NULL},
    {IN, "global", "T", "Move", "{\"speed\": 3, \"dir\": \"l\"}", OK, NULL},
    {IN, "global", "T", "Move", "{\"speed\": 11}", BAD, "input.speed: 11 is above the maximum 10"},
    {IN, "global", "T", "Move", "{}", BAD, "input: missing required member 'speed'"},
    {IN, "global", "T", "Move", NULL, BAD, "input: missing required member 'speed'"},
    {IN, "global", "T", "Move", "{\"speed\": 3, \"dir\": \"x\"}", BAD,
     "input.dir: \"x\" is not one of \"l\", \"r\""},
    {IN, "global", "T", "Move", "[]", BAD, "input: expected an object, found an array"},
    {OUT, "global", "T", "Move", "{\"ok\": true}", OK, NULL},
    {OUT, "global", "T", "Move", "{\"ok\": 1}", BAD,
     "output.ok: expected a boolean, found a number"},
    {OUT, "global", "T", "Move", NULL, BAD, "output: missing required member 'ok'"},
    {IN, "global", "T", "Stop", NULL, OK, NULL},
    {IN, "global", "T", "Stop", "null", OK, NULL},
    {IN, "global", "T", "Stop", "{}", OK, NULL},
    {IN, "global", "T", "Stop", "{\"a\": 1}", BAD,
     "input: the operation has no input, found an object"},
    {IN, "global", "T", "Stop", "5", BAD, "input: the operation has no input, found a number"},
    {OUT, "global", "T", "Stop", NULL, OK, NULL},
    {OUT, "global", "T", "Stop", "\"done\"", BAD,
     "output: the operation has no output, found a string"},
    {IN, "global", "T", "Opt", NULL, OK, NULL},
    {IN, "global", "T", "Opt", "{}", OK, NULL},
    {IN, "global", "T", "Opt", "{\"a\": \"1\"}", BAD,
     "input.a: expected an integer, found a string"},
    {IN, "global", "T", "Zoom", "40", OK, NULL},
    {IN, "global", "T", "Zoom", "41", BAD, "input: 41 is above the maximum 40"},
    {IN, "global", "T", "Zoom", NULL, BAD, "input: missing"},
    {OUT, "global", "T", "Zoom", "[{\"x\": 1, \"y\": 1}]", OK, NULL},
    {OUT, "global", "T", "Zoom", "[{\"x\": 1}]", BAD, "output[0]: missing required member 'y'"},
    /* events: the device-added "basic" member is ignored at the top only */
    {EVENT, "global", "T", "Alarm", "{\"region\": 1}", OK, NULL},
    {EVENT, "global", "T", "Alarm",
     "{\"region\": 1, \"basic\": {\"dateTime\": \"2024-01-01T00:00:00.000+00:00\", \"UUID\": "
     "\"u\"}}",
     OK, NULL},
    {EVENT, "global", "T", "Alarm", "{\"region\": 1, \"basic\": 5}", OK, NULL},
    {EVENT, "global", "T", "Alarm", "{}", BAD, "payload: missing required member 'region'"},
    {EVENT, "global", "T", "Alarm", "{\"region\": 1, \"points\": [{\"x\": 1, \"y\": 20}]}", BAD,
     "payload.points[0].y: 20 is above the maximum 10"},
    {EVENT, "global", "T", "Alarm", "{\"region\": 1, \"extra\": 1}", BAD,
     "payload.extra: unknown member"},
    {EVENT, "global", "T", "Alarm",
     "{\"region\": 1, \"points\": [{\"x\": 1, \"y\": 1, \"basic\": 1}]}", BAD,
     "payload.points[0].basic: unknown member"},
    {EVENT, "global", "T", "Alarm", "[]", BAD, "payload: expected an object, found an array"},
    {EVENT, "global", "T", "Alarm", NULL, BAD, "payload: missing"},
    {EVENT, "global", "T", "Ping", "{}", OK, NULL},
    {EVENT, "global", "T", "Ping", "{\"basic\": {}}", OK, NULL},
    {EVENT, "global", "T", "Ping", "{\"a\": 1}", BAD, "payload.a: unknown member"},
};

static void test_validation_table(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct vcase *c = &cases[i];
        cJSON *v = c->json ? cJSON_Parse(c->json) : NULL;
        if (c->json && !v) fail_msg("case %zu: bad test JSON %s", i, c->json);
        char err[256] = "junk";
        osap_err rc = osap_model_validate(model, c->check, c->resource, c->domain, c->id, v, err,
                                          sizeof(err));
        const char *want = c->msg ? c->msg : "";
        if (rc != c->rc || strcmp(err, want) != 0) {
            print_error("case %zu (%s %s/%s %s):\n  want: %s (%s)\n  got:  %s (%s)\n", i,
                        c->resource, c->domain, c->id, c->json ? c->json : "(absent)", want,
                        osap_errname(c->rc), err, osap_errname(rc));
            failures++;
        }
        cJSON_Delete(v);
    }
    assert_int_equal(failures, 0);
}

static void test_validate_type(void **state)
{
    (void)state;
    const struct osap_model_domain *d =
        osap_model_find_domain(osap_model_find_resource(model, "global"), "T");
    const struct osap_model_type *point = osap_model_find_attribute(d, "P")->type;
    cJSON *v = cJSON_Parse("{\"x\": 1}");
    char err[128];
    assert_int_equal(osap_model_validate_type(point, v, "form.point", err, sizeof(err)),
                     OSAP_EMODEL_VALIDATION);
    assert_string_equal(err, "form.point: missing required member 'y'");
    assert_int_equal(osap_model_validate_type(point, v, NULL, err, sizeof(err)),
                     OSAP_EMODEL_VALIDATION);
    assert_string_equal(err, "value: missing required member 'y'");
    assert_int_equal(osap_model_validate_type(NULL, v, NULL, err, sizeof(err)), OSAP_EINVAL);
    /* Small or no buffer: cut, never overflowed. */
    char small[10];
    assert_int_equal(osap_model_validate_type(point, v, NULL, small, sizeof(small)),
                     OSAP_EMODEL_VALIDATION);
    assert_string_equal(small, "value: mi");
    assert_int_equal(osap_model_validate_type(point, v, NULL, NULL, 0), OSAP_EMODEL_VALIDATION);
    cJSON_Delete(v);

    assert_int_equal(osap_model_validate(NULL, SET, "global", "T", "B", NULL, err, sizeof(err)),
                     OSAP_EINVAL);
    assert_int_equal(osap_model_validate(model, SET, NULL, "T", "B", NULL, err, sizeof(err)),
                     OSAP_EINVAL);
    assert_int_equal(osap_model_validate(model, (enum osap_model_check)99, "global", "T", "B", NULL,
                                         err, sizeof(err)),
                     OSAP_EINVAL);
}

/* A deep value: the path names every level, and a long one is cut safely. */
static void test_deep_paths(void **state)
{
    (void)state;
    static const char text[] =
        "model deep version \"1\";\n"
        "type L3 = object { leaf: int range 0..1 required; };\n"
        "type L2 = object { levelThreeMemberWithALongName: array of L3; };\n"
        "type L1 = object { levelTwoMemberWithAVeryLongName: array of L2; };\n"
        "resource global { domain D { attribute X: array of array of L1 access rw; } }\n";
    char err[512];
    osap_model_t *m = NULL;
    assert_int_equal(osap_model_parse("d.osm", text, strlen(text), NULL, &m, err, sizeof(err)),
                     OSAP_OK);
    cJSON *v = cJSON_Parse("[[], [{\"levelTwoMemberWithAVeryLongName\": [{}, "
                           "{\"levelThreeMemberWithALongName\": [{\"leaf\": 2}]}]}]]");
    assert_int_equal(osap_model_validate(m, SET, "global", "D", "X", v, err, sizeof(err)),
                     OSAP_EMODEL_VALIDATION);
    assert_string_equal(err, "value[1][0].levelTwoMemberWithAVeryLongName[1]."
                             "levelThreeMemberWithALongName[0].leaf: 2 is above the maximum 1");
    cJSON_Delete(v);
    osap_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validation_table),
        cmocka_unit_test(test_validate_type),
        cmocka_unit_test(test_deep_paths),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
