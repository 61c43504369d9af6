/* The model language: lexer, parser and checker, every error path with its position. */
#include "testutil.h"

#include "osap/alloc.h"
#include "osap/model.h"

#include <stdio.h>
#include <string.h>

/* ---- an in-memory template loader ---- */

struct mem_file {
    const char *name; /* template name */
    const char *path; /* display path */
    const char *text;
};

struct mem_loader {
    const struct mem_file *files;
    size_t n;
};

static osap_err mem_read(void *ud, const char *name, const char *from_path, char **path,
                         char **text, size_t *len)
{
    const struct mem_loader *ml = ud;
    (void)from_path;
    for (size_t i = 0; i < ml->n; i++) {
        if (strcmp(ml->files[i].name, name) != 0) continue;
        *path = osap_strdup(ml->files[i].path);
        *text = osap_strdup(ml->files[i].text);
        if (!*path || !*text) {
            osap_free(*path);
            osap_free(*text);
            *path = *text = NULL;
            return OSAP_ENOMEM;
        }
        *len = strlen(ml->files[i].text);
        return OSAP_OK;
    }
    return OSAP_ENOTFOUND;
}

static osap_err parse_with(const struct mem_file *files, size_t n, const char *text,
                           osap_model_t **m, char *err, size_t errlen)
{
    struct mem_loader ml = {files, n};
    struct osap_model_loader loader = {mem_read, &ml};
    return osap_model_parse("t.osm", text, strlen(text), &loader, m, err, errlen);
}

/* ---- error table ---- */

#define H "model x version \"1\";\n"
/* A body at line 4 of a model with one resource and one domain. */
#define R(body) H "resource global {\ndomain D {\n" body "\n}\n}\n"

struct err_case {
    const char *text;
    osap_err rc;
    const char *msg;
};

static const struct err_case err_cases[] = {
    /* lexical */
    {H "@", OSAP_EMODEL_SYNTAX, "t.osm:2:1: invalid character '@'"},
    {"model x version \"1", OSAP_EMODEL_SYNTAX, "t.osm:1:17: unterminated string"},
    {H "/* never closed", OSAP_EMODEL_SYNTAX, "t.osm:2:1: unterminated comment"},
    {"model x version \"a\\qb\";", OSAP_EMODEL_SYNTAX,
     "t.osm:1:19: invalid escape '\\q' in string"},
    {H "resource global indexes 12abc {}", OSAP_EMODEL_SYNTAX,
     "t.osm:2:25: invalid number '12abc'"},
    {"model x version \"1\" \"\xff\";", OSAP_EMODEL_SYNTAX, "t.osm:1:22: invalid UTF-8 in string"},
    {"model x version \"1\" \"a\tb\";", OSAP_EMODEL_SYNTAX,
     "t.osm:1:23: control character 0x09 in string"},
    {"model x version \"1\" \"\\u0000\";", OSAP_EMODEL_SYNTAX,
     "t.osm:1:22: NUL character in string"},
    {"model x version \"1\" \"\\ud800\";", OSAP_EMODEL_SYNTAX,
     "t.osm:1:22: surrogate \\ud800 in string"},
    {H "resource global indexes 99999999999999999999 {}", OSAP_EMODEL_SYNTAX,
     "t.osm:2:25: integer 99999999999999999999 is out of range"},
    {H "\x01", OSAP_EMODEL_SYNTAX, "t.osm:2:1: invalid byte 0x01"},
    {H "resource global indexes 1.x", OSAP_EMODEL_SYNTAX, "t.osm:2:26: invalid character '.'"},
    {"model x version \"1\"\n\"unterminated\n\";", OSAP_EMODEL_SYNTAX,
     "t.osm:2:1: unterminated string"},

    /* syntax */
    {"", OSAP_EMODEL_SYNTAX, "t.osm:1:1: expected 'model', found end of file"},
    {"// only a comment\n", OSAP_EMODEL_SYNTAX, "t.osm:2:1: expected 'model', found end of file"},
    {"model x \"1\";", OSAP_EMODEL_SYNTAX, "t.osm:1:9: expected 'version', found string \"1\""},
    {"model x version 1;", OSAP_EMODEL_SYNTAX,
     "t.osm:1:17: expected a version string, found number 1"},
    {"model x version \"1\"", OSAP_EMODEL_SYNTAX, "t.osm:1:20: expected ';', found end of file"},
    {"model 1x version \"1\";", OSAP_EMODEL_SYNTAX, "t.osm:1:7: invalid number '1x'"},
    {"model version \"1\";", OSAP_EMODEL_SYNTAX,
     "t.osm:1:15: expected 'version', found string \"1\""},
    {R("attribute A int;"), OSAP_EMODEL_SYNTAX, "t.osm:4:13: expected ':', found 'int'"},
    {R("attribute A: ;"), OSAP_EMODEL_SYNTAX, "t.osm:4:14: expected a type, found ';'"},
    {R("attribute A: int access x;"), OSAP_EMODEL_SYNTAX,
     "t.osm:4:25: expected 'r', 'w' or 'rw', found 'x'"},
    {R("attribute A: int"), OSAP_EMODEL_SYNTAX, "t.osm:5:1: expected ';', found '}'"},
    {R("event E level critical;"), OSAP_EMODEL_SYNTAX,
     "t.osm:4:15: expected 'info', 'warning' or 'alarm', found 'critical'"},
    {R("event E level alarm x"), OSAP_EMODEL_SYNTAX, "t.osm:4:21: expected '{' or ';', found 'x'"},
    {R("operation O { inputs int; }"), OSAP_EMODEL_SYNTAX,
     "t.osm:4:15: expected 'input', 'output' or '}', found 'inputs'"},
    {R("operation O int"), OSAP_EMODEL_SYNTAX, "t.osm:4:13: expected '{' or ';', found 'int'"},
    {R("property P: int;"), OSAP_EMODEL_SYNTAX,
     "t.osm:4:1: expected 'attribute', 'operation', 'event' or '}', found 'property'"},
    {R("override P: int;"), OSAP_EMODEL_SYNTAX,
     "t.osm:4:10: expected 'attribute', 'operation' or 'event', found 'P'"},
    {H "resource global { attribute A: int; }", OSAP_EMODEL_SYNTAX,
     "t.osm:2:19: expected 'domain' or '}', found 'attribute'"},
    {H "domain D {}", OSAP_EMODEL_SYNTAX,
     "t.osm:2:1: expected 'type', 'resource' or end of file, found 'domain'"},
    {H "resource {", OSAP_EMODEL_SYNTAX, "t.osm:2:10: expected a resource name, found '{'"},
    {H "resource global indexes {", OSAP_EMODEL_SYNTAX, "t.osm:2:25: expected an index, found '{'"},
    {H "resource global indexes 1..{", OSAP_EMODEL_SYNTAX,
     "t.osm:2:28: expected an index, found '{'"},
    {H "resource global", OSAP_EMODEL_SYNTAX, "t.osm:2:16: expected '{', found end of file"},
    {R("attribute A: array int;"), OSAP_EMODEL_SYNTAX, "t.osm:4:20: expected 'of', found 'int'"},
    {R("attribute A: object int;"), OSAP_EMODEL_SYNTAX, "t.osm:4:21: expected '{', found 'int'"},
    {R("attribute A: int range 1 10;"), OSAP_EMODEL_SYNTAX,
     "t.osm:4:26: expected '..', found number 10"},
    {R("attribute A: int range 1..2.5;"), OSAP_EMODEL_SYNTAX,
     "t.osm:4:27: expected an integer, found number 2.5"},
    {R("attribute A: number min x;"), OSAP_EMODEL_SYNTAX,
     "t.osm:4:25: expected a number, found 'x'"},
    {R("attribute A: string length x;"), OSAP_EMODEL_SYNTAX,
     "t.osm:4:28: expected a count, found 'x'"},
    {R("attribute A: int unit 5;"), OSAP_EMODEL_SYNTAX,
     "t.osm:4:23: expected a unit string, found number 5"},
    {R("attribute A: enum { a b };"), OSAP_EMODEL_SYNTAX,
     "t.osm:4:23: expected ',' or '}', found 'b'"},
    {R("attribute A: enum { ; };"), OSAP_EMODEL_SYNTAX,
     "t.osm:4:21: expected an enum value, found ';'"},
    {R("attribute A: int default;"), OSAP_EMODEL_SYNTAX, "t.osm:4:25: expected a value, found ';'"},
    {R("attribute A: array of int default [1, 2;"), OSAP_EMODEL_SYNTAX,
     "t.osm:4:40: expected ',' or ']', found ';'"},
    {R("attribute A: object { a: int; } default { a 1 };"), OSAP_EMODEL_SYNTAX,
     "t.osm:4:45: expected ':', found number 1"},
    {R("attribute A: object { a: int; } default { a: 1 b: 2 };"), OSAP_EMODEL_SYNTAX,
     "t.osm:4:48: expected ',' or '}', found 'b'"},
    {R("attribute A: object { 1: int; };"), OSAP_EMODEL_SYNTAX,
     "t.osm:4:23: expected a member name or '}', found number 1"},
    {H "extends ;", OSAP_EMODEL_SYNTAX, "t.osm:2:9: expected a template name, found ';'"},
    {H "type T = int", OSAP_EMODEL_SYNTAX, "t.osm:2:13: expected ';', found end of file"},
    {H "type T int;", OSAP_EMODEL_SYNTAX, "t.osm:2:8: expected '=', found 'int'"},

    /* names and values */
    {"model Cam version \"1\";", OSAP_EMODEL_SEMANTIC,
     "t.osm:1:7: invalid model name 'Cam': a model name must start with a lower case letter"},
    {"model x version \"1 0\";", OSAP_EMODEL_SEMANTIC,
     "t.osm:1:17: invalid version \"1 0\": the version uses printable ASCII characters without "
     "spaces or quotes"},
    {"model x version \"\";", OSAP_EMODEL_SEMANTIC,
     "t.osm:1:17: invalid version \"\": the version is empty"},
    {R("attribute ABCDEFGHIJKLMNOPQRSTUVWXYZ012345: int;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:11: invalid attribute name 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345': it is longer than "
     "31 characters"},
    {H "resource ABCDEFGHIJKLMNOPQRSTUVWXYZ012345 {}", OSAP_EMODEL_SEMANTIC,
     "t.osm:2:10: invalid resource name 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345': it is longer than "
     "31 characters"},
    {R("attribute A: null;"), OSAP_EMODEL_SEMANTIC, "t.osm:4:14: unknown type 'null'"},
    {R("attribute A: int default null;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:26: null is not a value in OSAP models"},
    {R("attribute A: object { a: int; } default { a: 1, a: 2 };"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:49: member 'a' is given twice"},

    /* types */
    {R("attribute A: int range 10..1;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:18: the minimum 10 is above the maximum 1"},
    {R("attribute A: int min 5 max 2;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:24: the minimum 5 is above the maximum 2"},
    {R("attribute A: int above 5 below 6;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:26: no value lies between 5 and 6"},
    {R("attribute A: number above 1.5 max 1.5;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:31: no value lies between 1.5 and 1.5"},
    {R("attribute A: int min 0 range 1..2;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:24: duplicate lower bound"},
    {R("attribute A: int max 0 below 2;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:24: duplicate upper bound"},
    {R("attribute A: int step 0;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:18: the step must be a positive number"},
    {R("attribute A: int step 2 step 3;"), OSAP_EMODEL_SEMANTIC, "t.osm:4:25: duplicate 'step'"},
    {R("attribute A: int unit \"\";"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:18: a unit has 1 to 31 bytes"},
    {R("attribute A: int range 0..3000000000;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:27: 3000000000 is outside the 32-bit integer range"},
    {R("attribute A: string length 5..2;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:21: the minimum length 5 is above the maximum 2"},
    {R("attribute A: string length -1..2;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:28: a count cannot be negative"},
    {R("attribute A: array of int items 4..1;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:27: the minimum item count 4 is above the maximum 1"},
    {R("attribute A: array of int unique unique;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:34: duplicate 'unique'"},
    {R("attribute A: array of int unique;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:27: a unique array needs 'items' with a maximum of at most 1024"},
    {R("attribute A: array of int unique items 0..1025;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:34: a unique array needs 'items' with a maximum of at most 1024"},
    {R("attribute A: string range 1..2;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:21: 'range' does not apply to a string"},
    {R("attribute A: bool unique;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:19: 'unique' does not apply to a bool"},
    {R("attribute A: enum { a } length 1..2;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:25: 'length' does not apply to an enum"},
    {R("attribute A: array of string range 1..2;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:30: 'range' does not apply to a string"},
    {H "type P = int;\nresource global {\ndomain D {\nattribute A: P range 1..2;\n}\n}\n",
     OSAP_EMODEL_SEMANTIC, "t.osm:5:16: 'range' does not apply to the named type 'P'"},
    {R("attribute A: object { a: int; } items 1..2;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:33: 'items' does not apply to an object"},
    {R("attribute A: enum { a, a };"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:24: duplicate enum value \"a\""},
    {R("attribute A: enum { 1, 2, 1 };"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:27: duplicate enum value 1"},
    {R("attribute A: enum { a, 1 };"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:24: an enum mixes strings and integers"},
    {R("attribute A: enum { };"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:21: an enum needs at least one value"},
    {R("attribute A: enum { 4294967296 };"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:21: 4294967296 is outside the 32-bit integer range"},
    {R("attribute A: Foo;"), OSAP_EMODEL_SEMANTIC, "t.osm:4:14: unknown type 'Foo'"},
    {H "type int = bool;", OSAP_EMODEL_SEMANTIC, "t.osm:2:6: 'int' is a built-in type"},
    {H "type T = int;\ntype T = bool;", OSAP_EMODEL_SEMANTIC,
     "t.osm:3:6: type 'T' is already defined at t.osm:2:6"},
    {H "type A = object { b: B; };\ntype B = array of A;\nresource global { domain D { "
       "attribute X: A; } }",
     OSAP_EMODEL_SEMANTIC, "t.osm:3:19: type 'A' contains itself"},
    {H "type A = A;\nresource global { domain D { attribute X: A; } }", OSAP_EMODEL_SEMANTIC,
     "t.osm:2:10: type 'A' contains itself"},
    {R("attribute A: array of array of array of array of array of array of array of array of "
       "array of array of array of array of array of array of array of array of int;"),
     OSAP_EMODEL_SEMANTIC, "t.osm:4:158: type nested more than 16 levels deep"},
    {H "type T0 = array of int;\ntype T1 = array of T0;\ntype T2 = array of T1;\n"
       "type T3 = array of T2;\ntype T4 = array of T3;\ntype T5 = array of T4;\n"
       "type T6 = array of T5;\ntype T7 = array of T6;\ntype T8 = array of T7;\n"
       "type T9 = array of T8;\ntype TA = array of T9;\ntype TB = array of TA;\n"
       "type TC = array of TB;\ntype TD = array of TC;\ntype TE = array of TD;\n"
       "type TF = array of TE;\nresource global { domain D { attribute X: TF; } }",
     OSAP_EMODEL_SEMANTIC, "t.osm:17:11: type nested more than 16 levels deep"},

    /* members, defaults */
    {R("attribute A: object { a: int; b: int; a: bool; };"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:39: duplicate member 'a' (first defined at t.osm:4:23)"},
    {R("attribute A: object { a: int required default 1; };"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:47: a required member cannot have a default"},
    {R("attribute A: object { a: int required required; };"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:39: duplicate 'required'"},
    {R("attribute A: int access r access rw;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:27: duplicate 'access'"},
    {R("attribute A: int default 1 default 2;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:28: duplicate 'default'"},
    {R("attribute A: int range 1..10 default 11;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:38: default: 11 is above the maximum 10"},
    {R("attribute A: int default 1.5;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:26: default: 1.5 is not an integer"},
    {R("attribute A: int default \"1\";"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:26: default: expected an integer, found a string"},
    {R("attribute A: string length 2..5 default \"a\";"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:41: default: length 1 is below the minimum length 2"},
    {R("attribute A: enum { a, b } default c;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:36: default: \"c\" is not one of \"a\", \"b\""},
    {R("attribute A: array of int items 1..2 default [];"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:46: default: 0 items, fewer than the minimum 1"},
    {R("attribute A: array of int unique items 0..4 default [1, 2, 1];"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:53: default[2]: duplicate of item [0]"},
    {R("attribute A: object { a: int required; } default { b: 1 };"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:50: default: missing required member 'a'"},
    {R("attribute A: object { a: int range 0..1 default 2; };"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:49: default: 2 is above the maximum 1"},
    {H "type P = object { p: int range 0..9 default 10; };\nresource global { domain D { "
       "attribute X: P; } }",
     OSAP_EMODEL_SEMANTIC, "t.osm:2:45: default: 10 is above the maximum 9"},
    {R("event E { basic: int; }"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:11: 'basic' is reserved in event payloads (devices add it themselves)"},
    {R("operation O { input int; input bool; }"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:26: duplicate 'input'"},

    /* declarations */
    {R("attribute A: int;\noperation A;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:5:11: 'A' is already defined in domain 'D' as an attribute at t.osm:4:11"},
    {H "resource global {\ndomain D { attribute A: int; }\ndomain D { attribute B: int; }\n}",
     OSAP_EMODEL_SEMANTIC,
     "t.osm:4:8: duplicate domain 'D' in resource 'global' (first at t.osm:3:8)"},
    {H "resource global { domain D { attribute A: int; } }\nresource global { domain E { "
       "attribute B: int; } }",
     OSAP_EMODEL_SEMANTIC, "t.osm:3:10: resource 'global' is already declared at t.osm:2:10"},
    {H "resource video indexes 1000 { domain D {} }", OSAP_EMODEL_SEMANTIC,
     "t.osm:2:24: index 1000 is outside 0..999"},
    {H "resource video indexes -1 { domain D {} }", OSAP_EMODEL_SEMANTIC,
     "t.osm:2:24: index -1 is outside 0..999"},
    {H "resource video indexes 5..3 { domain D {} }", OSAP_EMODEL_SEMANTIC,
     "t.osm:2:24: index range 5..3 is empty"},
    {H "resource video indexes 0..3, 2 { domain D {} }", OSAP_EMODEL_SEMANTIC,
     "t.osm:2:30: index 2 is listed twice"},
    {H "resource video indexes 0 { }", OSAP_EMODEL_SEMANTIC,
     "t.osm:2:10: resource 'video' has no domains"},
    {H, OSAP_EMODEL_SEMANTIC, "t.osm:1:7: model 'x' defines no resources"},
    {H "type T = int;", OSAP_EMODEL_SEMANTIC, "t.osm:1:7: model 'x' defines no resources"},
    {H "resource global { domain D {} }\nextends base;", OSAP_EMODEL_SEMANTIC,
     "t.osm:3:1: 'extends' must come before types and resources"},
    {H "extends base, base;", OSAP_EMODEL_SEMANTIC, "t.osm:2:15: 'base' is extended twice"},
    {H "extends Base;", OSAP_EMODEL_SEMANTIC,
     "t.osm:2:9: invalid template name 'Base': a model name must start with a lower case letter"},
    {R("override attribute A: int;"), OSAP_EMODEL_SEMANTIC,
     "t.osm:4:20: nothing to override: no template defines 'A' in domain 'D' of resource "
     "'global'"},
};

static void test_error_table(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
        const struct err_case *c = &err_cases[i];
        char err[512] = "";
        osap_model_t *m = NULL;
        osap_err rc =
            osap_model_parse("t.osm", c->text, strlen(c->text), NULL, &m, err, sizeof(err));
        if (rc != c->rc || strcmp(err, c->msg) != 0) {
            print_error("case %zu:\n  text: %s\n  want: %s (%s)\n  got:  %s (%s)\n", i, c->text,
                        c->msg, osap_errname(c->rc), err, osap_errname(rc));
            failures++;
        }
        assert_null(m);
    }
    assert_int_equal(failures, 0);
}

/* ---- what a good model turns into ---- */

static const char good_model[] =
    "// comment\n"
    "/* block\n comment */\n"
    "model cam version \"2.1.0\" \"A camera\";\n"
    "type Point = object { x: int range 0..100 required; y: int range 0..100 required; };\n"
    "type Pct = int range 0..100 unit \"%\";\n"
    "resource global \"Device\" {\n"
    "  domain PTZ \"Pan and tilt\" {\n"
    "    attribute Speed: int range 1..10 step 1 unit \"step\" access rw default 5 \"Speed\";\n"
    "    attribute Mode: enum { auto \"Automatic\", manual } access rw default auto;\n"
    "    attribute Serial: string length 1..31;\n"
    "    attribute Secret: string access w;\n"
    "    attribute Ratio: number above 0 below 1.5;\n"
    "    attribute Path: array of Point items 0..8 unique access rw default [{x: 1, y: 2}];\n"
    "    attribute Levels: enum { 0 \"off\", 1, 2 } access rw;\n"
    "    operation Move \"Move\" {\n"
    "      input { direction: enum { up, down } required; speed: Pct default 30; }\n"
    "      output { ok: bool required; }\n"
    "    }\n"
    "    operation Stop;\n"
    "    operation Zoom { input number range 1..40; output number; }\n"
    "    event Moved level warning \"Moved\" { at: Point required; }\n"
    "    event Ping;\n"
    "  }\n"
    "}\n"
    "resource video indexes 0..3, 7, 9..10 {\n"
    "  domain Stream { attribute Bitrate: int min 64 unit \"kbit/s\" access rw; }\n"
    "}\n";

static void test_good_model(void **state)
{
    (void)state;
    char err[256];
    osap_model_t *m = NULL;
    assert_int_equal(
        osap_model_parse("cam.osm", good_model, strlen(good_model), NULL, &m, err, sizeof(err)),
        OSAP_OK);
    assert_string_equal(osap_model_name(m), "cam");
    assert_string_equal(osap_model_version(m), "2.1.0");
    assert_string_equal(osap_model_doc(m), "A camera");
    assert_int_equal(osap_model_extends_count(m), 0);
    assert_null(osap_model_extends_at(m, 0));
    assert_int_equal(osap_model_resource_count(m), 2);

    const struct osap_model_resource *g = osap_model_find_resource(m, "global");
    assert_non_null(g);
    assert_ptr_equal(g, osap_model_resource_at(m, 0));
    assert_null(osap_model_resource_at(m, 2));
    assert_string_equal(g->doc, "Device");
    assert_int_equal(g->n_indexes, 1); /* default: index 0 */
    assert_int_equal(g->indexes[0], 0);
    assert_true(osap_model_resource_has_index(g, "0"));
    assert_false(osap_model_resource_has_index(g, "1"));

    const struct osap_model_resource *v = osap_model_find_resource(m, "video");
    static const unsigned want_idx[] = {0, 1, 2, 3, 7, 9, 10};
    assert_int_equal(v->n_indexes, 7);
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(v->indexes[i], want_idx[i]);
    assert_true(osap_model_resource_has_index(v, "10"));
    assert_false(osap_model_resource_has_index(v, "8"));
    assert_false(osap_model_resource_has_index(v, "07"));
    assert_false(osap_model_resource_has_index(v, "+7"));
    assert_false(osap_model_resource_has_index(v, ""));
    assert_null(osap_model_find_resource(m, "audio"));

    const struct osap_model_domain *d = osap_model_find_domain(g, "PTZ");
    assert_non_null(d);
    assert_string_equal(d->doc, "Pan and tilt");
    assert_null(osap_model_find_domain(g, "Stream"));
    assert_int_equal(d->n_attributes, 7);
    assert_int_equal(d->n_operations, 3);
    assert_int_equal(d->n_events, 2);

    const struct osap_model_attribute *a = osap_model_find_attribute(d, "Speed");
    assert_int_equal(a->access, OSAP_MODEL_ACCESS_RW);
    assert_string_equal(a->from, "cam");
    assert_string_equal(a->doc, "Speed");
    assert_int_equal(a->type->kind, OSAP_MODEL_INT);
    assert_int_equal(a->type->flags, OSAP_MODEL_F_MIN | OSAP_MODEL_F_MAX | OSAP_MODEL_F_STEP);
    assert_true(a->type->min == 1 && a->type->max == 10 && a->type->step == 1);
    assert_string_equal(a->type->unit, "step");
    assert_true(cJSON_IsNumber(a->default_value) && a->default_value->valuedouble == 5);

    a = osap_model_find_attribute(d, "Mode");
    assert_int_equal(a->type->kind, OSAP_MODEL_STRING);
    assert_int_equal(a->type->n_enum, 2);
    assert_string_equal(a->type->enum_values[0].text, "auto");
    assert_string_equal(a->type->enum_values[0].doc, "Automatic");
    assert_null(a->type->enum_values[1].doc);
    assert_string_equal(a->default_value->valuestring, "auto");

    a = osap_model_find_attribute(d, "Serial");
    assert_int_equal(a->access, OSAP_MODEL_ACCESS_R); /* default access */
    assert_int_equal(a->type->flags, OSAP_MODEL_F_LENGTH);
    assert_true(a->type->min_length == 1 && a->type->max_length == 31);
    assert_null(a->default_value);
    assert_int_equal(osap_model_find_attribute(d, "Secret")->access, OSAP_MODEL_ACCESS_W);

    a = osap_model_find_attribute(d, "Ratio");
    assert_int_equal(a->type->kind, OSAP_MODEL_NUMBER);
    assert_int_equal(a->type->flags, OSAP_MODEL_F_MIN | OSAP_MODEL_F_MIN_EXCL | OSAP_MODEL_F_MAX |
                                         OSAP_MODEL_F_MAX_EXCL);
    assert_true(a->type->max == 1.5);

    a = osap_model_find_attribute(d, "Path");
    assert_int_equal(a->type->kind, OSAP_MODEL_ARRAY);
    assert_int_equal(a->type->flags, OSAP_MODEL_F_ITEMS | OSAP_MODEL_F_UNIQUE);
    assert_int_equal(a->type->items->kind, OSAP_MODEL_OBJECT);
    assert_string_equal(a->type->items->name, "Point");
    assert_int_equal(a->type->items->n_members, 2);
    assert_string_equal(a->type->items->members[1].name, "y");
    assert_true(a->type->items->members[1].required);
    assert_int_equal(a->type->items->members[1].type->max, 100);
    assert_int_equal(cJSON_GetArraySize(a->default_value), 1);

    a = osap_model_find_attribute(d, "Levels");
    assert_int_equal(a->type->kind, OSAP_MODEL_INT);
    assert_int_equal(a->type->n_enum, 3);
    assert_int_equal(a->type->enum_values[2].number, 2);
    assert_string_equal(a->type->enum_values[0].doc, "off");

    const struct osap_model_operation *o = osap_model_find_operation(d, "Move");
    assert_string_equal(o->doc, "Move");
    assert_int_equal(o->input->kind, OSAP_MODEL_OBJECT);
    assert_int_equal(o->input->n_members, 2);
    assert_string_equal(o->input->members[1].type->name, "Pct");
    assert_string_equal(o->input->members[1].type->unit, "%");
    assert_int_equal(o->input->members[1].default_value->valuedouble, 30);
    assert_false(o->input->members[1].required);
    assert_int_equal(o->output->members[0].type->kind, OSAP_MODEL_BOOL);
    o = osap_model_find_operation(d, "Stop");
    assert_null(o->input);
    assert_null(o->output);
    o = osap_model_find_operation(d, "Zoom");
    assert_int_equal(o->input->kind, OSAP_MODEL_NUMBER);
    assert_int_equal(o->output->kind, OSAP_MODEL_NUMBER);
    assert_null(osap_model_find_operation(d, "Speed"));

    const struct osap_model_event *e = osap_model_find_event(d, "Moved");
    assert_int_equal(e->level, OSAP_MODEL_LEVEL_WARNING);
    assert_string_equal(e->payload->members[0].type->name, "Point");
    e = osap_model_find_event(d, "Ping");
    assert_int_equal(e->level, OSAP_MODEL_LEVEL_INFO);
    assert_int_equal(e->payload->kind, OSAP_MODEL_OBJECT);
    assert_int_equal(e->payload->n_members, 0);
    assert_null(osap_model_find_event(d, "Move"));

    assert_string_equal(osap_model_level_name(OSAP_MODEL_LEVEL_ALARM), "alarm");
    assert_string_equal(osap_model_access_name(OSAP_MODEL_ACCESS_W), "w");
    osap_model_free(m);
}

static void test_lexical_details(void **state)
{
    (void)state;
    /* BOM, CRLF line ends, escapes, \u, raw UTF-8, negative and exponent numbers. */
    static const char text[] = "\xEF\xBB\xBFmodel x version \"1.0-rc1\" \"Tab\\there \\\"q\\\" "
                               "\\\\ \\/ \\u00e9 \xC3\xA9\";\r\n"
                               "resource global {\r\n domain D {\r\n"
                               "  attribute T: number range -1.5e2..2E+3 default -25e-1;\r\n"
                               "  attribute U: string default \"\\u20ac\";\r\n"
                               " }\r\n}\r\n";
    char err[256];
    osap_model_t *m = NULL;
    assert_int_equal(osap_model_parse("x.osm", text, strlen(text), NULL, &m, err, sizeof(err)),
                     OSAP_OK);
    assert_string_equal(osap_model_version(m), "1.0-rc1");
    assert_string_equal(osap_model_doc(m), "Tab\there \"q\" \\ / \xC3\xA9 \xC3\xA9");
    const struct osap_model_domain *d =
        osap_model_find_domain(osap_model_find_resource(m, "global"), "D");
    const struct osap_model_attribute *a = osap_model_find_attribute(d, "T");
    assert_true(a->type->min == -150 && a->type->max == 2000);
    assert_true(a->default_value->valuedouble == -2.5);
    assert_string_equal(osap_model_find_attribute(d, "U")->default_value->valuestring,
                        "\xE2\x82\xAC");
    osap_model_free(m);

    /* Names that are keywords elsewhere are fine as names. */
    static const char kw[] = "model x version \"1\";\n"
                             "resource global { domain type { attribute level: object {"
                             " range: int; input: int; unit: string; level: bool; } access rw; "
                             "event input level info { output: int; } } }";
    assert_int_equal(osap_model_parse("k.osm", kw, strlen(kw), NULL, &m, err, sizeof(err)),
                     OSAP_OK);
    osap_model_free(m);

    /* Text is taken by length: a NUL byte inside is an error, not an end. */
    static const char nul[] = "model x version \"1\";\0 resource";
    assert_int_equal(osap_model_parse("n.osm", nul, sizeof(nul) - 1, NULL, &m, err, sizeof(err)),
                     OSAP_EMODEL_SYNTAX);
    assert_string_equal(err, "n.osm:1:21: invalid byte 0x00");
}

static void test_bad_arguments(void **state)
{
    (void)state;
    char err[64];
    osap_model_t *m = NULL;
    assert_int_equal(osap_model_parse(NULL, "", 0, NULL, &m, err, sizeof(err)), OSAP_EINVAL);
    assert_int_equal(osap_model_parse("a", NULL, 3, NULL, &m, err, sizeof(err)), OSAP_EINVAL);
    assert_int_equal(osap_model_parse("a", "", 0, NULL, NULL, err, sizeof(err)), OSAP_EINVAL);
    /* No error buffer, and a tiny one: messages are cut, never overflow. */
    assert_int_equal(osap_model_parse("a", "x", 1, NULL, &m, NULL, 0), OSAP_EMODEL_SYNTAX);
    char tiny[8];
    assert_int_equal(osap_model_parse("abc.osm", "x", 1, NULL, &m, tiny, sizeof(tiny)),
                     OSAP_EMODEL_SYNTAX);
    assert_string_equal(tiny, "abc.osm");
    assert_null(m);
}

/* ---- templates and overrides ---- */

static const char base_text[] = "model base version \"1.0\";\n"
                                "type Pct = int range 0..100;\n"
                                "resource global \"Device\" { domain Info \"About\" {\n"
                                "  attribute Name: string length 1..8 access rw default \"dev\";\n"
                                "  operation Reboot;\n"
                                "  event Up level info;\n"
                                "} }\n";

static const struct mem_file files[] = {
    {"base", "tpl/base.osm", base_text},
    {"cams", "tpl/cams.osm",
     "model cams version \"1\"; extends base;\n"
     "resource video indexes 0..3 { domain Stream { attribute Rate: Pct access rw; } }\n"},
    {"lights", "tpl/lights.osm",
     "model lights version \"1\"; extends base;\n"
     "resource global { domain Light { attribute On: bool access rw; } }\n"},
    {"clash", "tpl/clash.osm",
     "model clash version \"1\"; extends base;\n"
     "resource global { domain Light { attribute On: int; } }\n"},
    {"wide", "tpl/wide.osm",
     "model wide version \"1\";\n"
     "resource video indexes 0..7 { domain Stream { attribute Other: bool; } }\n"},
    {"types", "tpl/types.osm",
     "model types version \"1\";\ntype Pct = number;\n"
     "resource global { domain T { attribute X: Pct; } }\n"},
    {"named", "tpl/named.osm", "model other version \"1\";\n"},
    {"broken", "tpl/broken.osm", "model broken version \"1\";\nresource global {\n  domain }\n"},
    {"loop_a", "tpl/loop_a.osm", "model loop_a version \"1\"; extends loop_b;\n"},
    {"loop_b", "tpl/loop_b.osm", "model loop_b version \"1\"; extends loop_a;\n"},
};
#define N_FILES (sizeof(files) / sizeof(files[0]))

static void test_extends_merge(void **state)
{
    (void)state;
    static const char child[] =
        "model child version \"3\";\n"
        "extends cams, lights;\n"
        "resource global { domain Info { attribute Extra: Pct default 7; } }\n"
        "resource video indexes 0..31 { domain Stream { attribute Codec: enum { h264 }; } }\n";
    char err[256];
    osap_model_t *m = NULL;
    assert_int_equal(parse_with(files, N_FILES, child, &m, err, sizeof(err)), OSAP_OK);
    assert_int_equal(osap_model_extends_count(m), 2);
    assert_string_equal(osap_model_extends_at(m, 1), "lights");
    /* Template resources first, in extends order, then the model's own. */
    assert_string_equal(osap_model_resource_at(m, 0)->category, "global");
    assert_string_equal(osap_model_resource_at(m, 1)->category, "video");
    const struct osap_model_resource *g = osap_model_resource_at(m, 0);
    assert_string_equal(g->doc, "Device");
    assert_int_equal(g->n_domains, 2); /* Info (base, diamond: once), Light (lights) */
    const struct osap_model_domain *info = osap_model_find_domain(g, "Info");
    assert_string_equal(info->doc, "About");
    assert_int_equal(info->n_attributes, 2);
    assert_string_equal(info->attributes[0].identifier, "Name");
    assert_string_equal(info->attributes[0].from, "base");
    assert_string_equal(info->attributes[1].identifier, "Extra");
    assert_string_equal(info->attributes[1].from, "child");
    assert_string_equal(info->attributes[1].type->name, "Pct");
    assert_int_equal(info->n_operations, 1);
    assert_int_equal(info->n_events, 1);
    assert_non_null(osap_model_find_attribute(osap_model_find_domain(g, "Light"), "On"));
    /* The model's indexes replace the template's. */
    const struct osap_model_resource *v = osap_model_find_resource(m, "video");
    assert_int_equal(v->n_indexes, 32);
    const struct osap_model_domain *st = osap_model_find_domain(v, "Stream");
    assert_int_equal(st->n_attributes, 2);
    assert_string_equal(st->attributes[0].from, "cams");
    osap_model_free(m);
}

static void test_extends_override(void **state)
{
    (void)state;
    static const char child[] =
        "model child version \"3\"; extends base;\n"
        "resource global \"Mine\" { domain Info {\n"
        "  override attribute Name: string length 1..16 access r \"Longer\";\n"
        "  override event Up level alarm { why: string; }\n"
        "} }\n";
    char err[256];
    osap_model_t *m = NULL;
    assert_int_equal(parse_with(files, N_FILES, child, &m, err, sizeof(err)), OSAP_OK);
    const struct osap_model_resource *g = osap_model_find_resource(m, "global");
    assert_string_equal(g->doc, "Mine");
    const struct osap_model_domain *info = osap_model_find_domain(g, "Info");
    const struct osap_model_attribute *a = osap_model_find_attribute(info, "Name");
    assert_ptr_equal(a, &info->attributes[0]); /* keeps its place */
    assert_string_equal(a->from, "child");
    assert_int_equal(a->access, OSAP_MODEL_ACCESS_R);
    assert_int_equal(a->type->max_length, 16);
    assert_null(a->default_value);
    const struct osap_model_event *e = osap_model_find_event(info, "Up");
    assert_int_equal(e->level, OSAP_MODEL_LEVEL_ALARM);
    assert_string_equal(e->from, "child");
    osap_model_free(m);
}

static void test_extends_errors(void **state)
{
    (void)state;
    static const struct err_case cases[] = {
        {"model c version \"1\"; extends nope;", OSAP_EMODEL_TEMPLATE,
         "t.osm:1:30: template 'nope' not found"},
        {"model c version \"1\"; extends named;", OSAP_EMODEL_SEMANTIC,
         "tpl/named.osm:1:7: this file defines model 'other' but was loaded as template 'named'"},
        {"model c version \"1\"; extends broken;", OSAP_EMODEL_SYNTAX,
         "tpl/broken.osm:3:10: expected a domain name, found '}'"},
        {"model loop_a version \"1\"; extends loop_b;", OSAP_EMODEL_SEMANTIC,
         "tpl/loop_b.osm:1:35: extends cycle: loop_a -> loop_b -> loop_a"},
        {"model c version \"1\"; extends loop_a;", OSAP_EMODEL_SEMANTIC,
         "tpl/loop_b.osm:1:35: extends cycle: loop_a -> loop_b -> loop_a"},
        {"model c version \"1\"; extends c;", OSAP_EMODEL_SEMANTIC,
         "t.osm:1:30: extends cycle: c -> c"},
        {"model c version \"1\"; extends lights, clash;", OSAP_EMODEL_SEMANTIC,
         "t.osm:1:38: 'On' in domain 'Light' of resource 'global' is defined by both 'lights' "
         "(tpl/lights.osm:2:44) and 'clash' (tpl/clash.osm:2:44)"},
        {"model c version \"1\"; extends cams, wide;", OSAP_EMODEL_SEMANTIC,
         "t.osm:1:36: templates 'cams' and 'wide' give resource 'video' different indexes"},
        {"model c version \"1\"; extends base, types;", OSAP_EMODEL_SEMANTIC,
         "t.osm:1:36: type 'Pct' is defined by both 'base' and 'types'"},
        {"model c version \"1\"; extends base;\ntype Pct = bool;", OSAP_EMODEL_SEMANTIC,
         "t.osm:2:6: type 'Pct' is already defined by template 'base' at tpl/base.osm:2:6"},
        {"model c version \"1\"; extends base;\n"
         "resource global { domain Info { attribute Name: int; } }",
         OSAP_EMODEL_SEMANTIC,
         "t.osm:2:43: 'Name' in domain 'Info' is already defined by template 'base' at "
         "tpl/base.osm:4:13 (write 'override' to redefine it)"},
        {"model c version \"1\"; extends base;\n"
         "resource global { domain Info { override operation Name; } }",
         OSAP_EMODEL_SEMANTIC,
         "t.osm:2:52: 'Name' is an attribute in template 'base' (tpl/base.osm:4:13); an override "
         "must be an attribute too"},
        {"model c version \"1\"; extends base;\n"
         "resource global { domain Info { attribute Extra: Pct default 101; } }",
         OSAP_EMODEL_SEMANTIC, "t.osm:2:62: default: 101 is above the maximum 100"},
        {"model c version \"1\"; extends base;\n"
         "resource global { domain Info { override attribute Other: int; } }",
         OSAP_EMODEL_SEMANTIC,
         "t.osm:2:52: nothing to override: no template defines 'Other' in domain 'Info' of "
         "resource 'global'"},
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[512] = "";
        osap_model_t *m = NULL;
        osap_err rc = parse_with(files, N_FILES, cases[i].text, &m, err, sizeof(err));
        if (rc != cases[i].rc || strcmp(err, cases[i].msg) != 0) {
            print_error("case %zu:\n  want: %s (%s)\n  got:  %s (%s)\n", i, cases[i].msg,
                        osap_errname(cases[i].rc), err, osap_errname(rc));
            failures++;
        }
        assert_null(m);
    }
    assert_int_equal(failures, 0);

    /* Without a loader, extends cannot be resolved. */
    char err[256];
    osap_model_t *m = NULL;
    static const char text[] = "model c version \"1\"; extends base;";
    assert_int_equal(osap_model_parse("t.osm", text, strlen(text), NULL, &m, err, sizeof(err)),
                     OSAP_EMODEL_TEMPLATE);
    assert_string_equal(err, "t.osm:1:30: template 'base' not found (no template loader)");
}

static osap_err failing_read(void *ud, const char *name, const char *from, char **path, char **text,
                             size_t *len)
{
    (void)ud, (void)name, (void)from, (void)path, (void)text, (void)len;
    return OSAP_EIO;
}

static void test_loader_failure(void **state)
{
    (void)state;
    struct osap_model_loader loader = {failing_read, NULL};
    static const char text[] = "model c version \"1\";\nextends base;";
    char err[256];
    osap_model_t *m = NULL;
    assert_int_equal(osap_model_parse("t.osm", text, strlen(text), &loader, &m, err, sizeof(err)),
                     OSAP_EMODEL_TEMPLATE);
    assert_string_equal(err, "t.osm:2:9: cannot read template 'base': input/output error");
}

/* Allocation failures anywhere in parsing, templates included, give OSAP_ENOMEM and leak
 * nothing (ASan checks the leaks). */
static void test_parse_alloc_failures(void **state)
{
    (void)state;
    static const char child[] =
        "model child version \"3\"; extends cams, lights;\n"
        "resource global { domain Info { attribute Extra: Pct default 7;\n"
        "  override attribute Name: string default \"x\"; } }\n"
        "resource video indexes 0..31 { domain Stream { attribute Codec: enum { h264 }; } }\n";
    const char *texts[] = {good_model, child};
    test_alloc_install();
    for (size_t t = 0; t < 2; t++) {
        long n;
        for (n = 0; n < 100000; n++) {
            char err[256];
            osap_model_t *m = NULL;
            test_alloc_fail_after(n);
            osap_err rc = parse_with(files, N_FILES, texts[t], &m, err, sizeof(err));
            if (rc == OSAP_OK) {
                osap_model_free(m);
                break;
            }
            assert_int_equal(rc, OSAP_ENOMEM);
            assert_string_equal(err, "out of memory");
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
        cmocka_unit_test(test_error_table),          cmocka_unit_test(test_good_model),
        cmocka_unit_test(test_lexical_details),      cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_extends_merge),        cmocka_unit_test(test_extends_override),
        cmocka_unit_test(test_extends_errors),       cmocka_unit_test(test_loader_failure),
        cmocka_unit_test(test_parse_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
