/* Configuration: value syntax, tables, defaults, ranges, file errors with
 * file:line, overrides, printing, allocation failures. */
#include "testutil.h"

#include "config.h"
#include "osap/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A table with one item of every type. */
struct every {
    char *name;
    int64_t port;
    bool enabled;
    uint64_t buffer;
    int64_t timeout_ms;
    struct osap_strlist services;
    char *listen;
    char *dir;
    char *level;
    char *password;
};

#define F(f) offsetof(struct every, f)
static const struct osap_cfg_item every_items[] = {
    {"name", OSAP_CFG_STRING, "osap", 0, 16, F(name), "a name", NULL, 0},
    {"port", OSAP_CFG_INT, "8666", 1, 65535, F(port), "a port", NULL, 0},
    {"enabled", OSAP_CFG_BOOL, "yes", 0, 0, F(enabled), "a switch", NULL, 0},
    {"buffer", OSAP_CFG_SIZE, "16KiB", 1024, 16 << 20, F(buffer), "a size", NULL, 0},
    {"timeout", OSAP_CFG_DURATION, "5s", 100, 3600000, F(timeout_ms), "a duration", NULL, 0},
    {"services", OSAP_CFG_LIST, "lbs, das, api", 0, 4, F(services), "a list", NULL, 0},
    {"listen", OSAP_CFG_ADDRESS, "127.0.0.1", 0, 0, F(listen), "an address", NULL, 0},
    {"dir", OSAP_CFG_PATH, "./var", 0, 0, F(dir), "a path", NULL, 0},
    {"level", OSAP_CFG_STRING, "info", 0, 0, F(level), "a choice", "error|warn|info|debug", 0},
    {"password", OSAP_CFG_STRING, "", 0, 0, F(password), "a secret", NULL, OSAP_CFG_SECRET},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL, 0},
};
static const struct osap_cfg_table every_table = {"every", "every type", sizeof(struct every),
                                                  every_items};

struct other {
    int64_t n;
};
static const struct osap_cfg_item other_items[] = {
    {"n", OSAP_CFG_INT, "1", 0, 0, offsetof(struct other, n), "unbounded", NULL, 0},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL, 0},
};
static const struct osap_cfg_table other_table = {"other", NULL, sizeof(struct other), other_items};

static struct osap_config *new_config(void)
{
    struct osap_config *cfg = NULL;
    assert_int_equal(osap_config_new(&cfg), OSAP_OK);
    assert_int_equal(osap_config_register(cfg, &every_table), OSAP_OK);
    assert_int_equal(osap_config_register(cfg, &other_table), OSAP_OK);
    return cfg;
}

/* Assert that the error text contains @p needle. */
static void assert_error(const struct osap_config *cfg, const char *needle)
{
    if (!strstr(osap_config_errors(cfg), needle))
        fail_msg("expected \"%s\" in errors:\n%s", needle, osap_config_errors(cfg));
}

static void test_parse_size(void **state)
{
    static const struct {
        const char *text;
        uint64_t value;
    } ok[] = {
        {"0", 0},          {"512", 512},         {"512B", 512},
        {"16KiB", 16384},  {"16 KiB", 16384},    {"16K", 16384},
        {"1MiB", 1 << 20}, {"2GiB", 2ULL << 30}, {"1TiB", 1ULL << 40},
        {"3KB", 3000},     {"2MB", 2000000},     {"1GB", 1000000000},
    };
    static const char *const bad[] = {
        "",    "KiB", "-1",   "1.5MiB",         "12QB",
        "1 2", " 1",  "1kib", "99999999999TiB", "18446744073709551616"};
    uint64_t v;
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(osap_cfg_parse_size(ok[i].text, &v), OSAP_OK);
        assert_true(v == ok[i].value);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (osap_cfg_parse_size(bad[i], &v) == OSAP_OK) fail_msg("'%s' parsed as a size", bad[i]);
}

static void test_parse_duration(void **state)
{
    static const struct {
        const char *text;
        int64_t ms;
    } ok[] = {
        {"0", 0},       {"100ms", 100},  {"5s", 5000},     {"5 s", 5000}, {"2min", 120000},
        {"2m", 120000}, {"1h", 3600000}, {"1d", 86400000}, {"0s", 0},     {"30sec", 30000},
    };
    static const char *const bad[] = {"", "5", "5x", "-5s", "1.5s", "s", "5S", "5ms5"};
    int64_t v;
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(osap_cfg_parse_duration(ok[i].text, &v), OSAP_OK);
        assert_true(v == ok[i].ms);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (osap_cfg_parse_duration(bad[i], &v) == OSAP_OK)
            fail_msg("'%s' parsed as a duration", bad[i]);
}

static void test_parse_bool_int_address(void **state)
{
    static const char *const yes[] = {"yes", "YES", "true", "on", "1"};
    static const char *const no[] = {"no", "False", "off", "0"};
    static const char *const addr_ok[] = {
        "127.0.0.1", "0.0.0.0", "::1", "::", "example.com", "das-1.local", "localhost"};
    static const char *const addr_bad[] = {"",     "300.1.1.1", "1.2.3", "bad_host", "-a.com",
                                           "a..b", "a b",       "host-", "[::1]"};
    bool b;
    int64_t i64;
    (void)state;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        assert_int_equal(osap_cfg_parse_bool(yes[i], &b), OSAP_OK);
        assert_true(b);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        assert_int_equal(osap_cfg_parse_bool(no[i], &b), OSAP_OK);
        assert_false(b);
    }
    assert_int_equal(osap_cfg_parse_bool("maybe", &b), OSAP_EINVAL);
    assert_int_equal(osap_cfg_parse_bool("", &b), OSAP_EINVAL);
    assert_int_equal(osap_cfg_parse_int("-42", &i64), OSAP_OK);
    assert_true(i64 == -42);
    assert_int_equal(osap_cfg_parse_int("9223372036854775807", &i64), OSAP_OK);
    assert_int_equal(osap_cfg_parse_int("9223372036854775808", &i64), OSAP_EINVAL);
    assert_int_equal(osap_cfg_parse_int("12a", &i64), OSAP_EINVAL);
    assert_int_equal(osap_cfg_parse_int(" 1", &i64), OSAP_EINVAL);
    assert_int_equal(osap_cfg_parse_int("", &i64), OSAP_EINVAL);
    for (size_t i = 0; i < sizeof(addr_ok) / sizeof(addr_ok[0]); i++)
        if (!osap_cfg_address_valid(addr_ok[i])) fail_msg("'%s' refused", addr_ok[i]);
    for (size_t i = 0; i < sizeof(addr_bad) / sizeof(addr_bad[0]); i++)
        if (osap_cfg_address_valid(addr_bad[i])) fail_msg("'%s' accepted", addr_bad[i]);
}

static void test_parse_list(void **state)
{
    struct osap_strlist l = {0, NULL};
    (void)state;
    assert_int_equal(osap_cfg_parse_list("lbs, das,api ", &l), OSAP_OK);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.v[0], "lbs");
    assert_string_equal(l.v[1], "das");
    assert_string_equal(l.v[2], "api");
    assert_true(osap_strlist_contains(&l, "das"));
    assert_false(osap_strlist_contains(&l, "da"));
    osap_strlist_release(&l);
    assert_int_equal(osap_cfg_parse_list("", &l), OSAP_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(osap_cfg_parse_list("   ", &l), OSAP_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(osap_cfg_parse_list("a,,b", &l), OSAP_EINVAL);
    assert_int_equal(osap_cfg_parse_list("a, b, a", &l), OSAP_EINVAL);
    assert_int_equal(osap_cfg_parse_list("a,", &l), OSAP_EINVAL);
    assert_int_equal(osap_cfg_parse_list(",a", &l), OSAP_EINVAL);
    assert_int_equal(l.n, 0);
}

static void test_defaults(void **state)
{
    struct osap_config *cfg = new_config();
    const struct every *e = osap_config_section(cfg, "every");
    char cwd[4096], want[4200];
    (void)state;

    assert_non_null(e);
    assert_string_equal(e->name, "osap");
    assert_true(e->port == 8666);
    assert_true(e->enabled);
    assert_true(e->buffer == 16384);
    assert_true(e->timeout_ms == 5000);
    assert_int_equal(e->services.n, 3);
    assert_string_equal(e->services.v[2], "api");
    assert_string_equal(e->listen, "127.0.0.1");
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    snprintf(want, sizeof(want), "%s/var", cwd);
    assert_string_equal(e->dir, want);
    assert_string_equal(e->password, "");
    assert_int_equal(osap_config_origin(cfg, "every", "port"), 0);
    assert_int_equal(osap_config_origin(cfg, "every", "nope"), -2);
    assert_int_equal(osap_config_origin(cfg, "nope", "port"), -2);
    assert_string_equal(osap_config_text(cfg, "every", "buffer"), "16KiB");
    assert_null(osap_config_text(cfg, "every", "nope"));
    assert_null(osap_config_section(cfg, "nope"));
    assert_int_equal(osap_config_table_count(cfg), 2);
    assert_ptr_equal(osap_config_table_at(cfg, 1), &other_table);
    assert_null(osap_config_table_at(cfg, 2));
    assert_string_equal(osap_config_errors(cfg), "");
    assert_int_equal(osap_config_register(cfg, &other_table), OSAP_EEXISTS);
    osap_config_free(cfg);
}

static void test_load_every_type(void **state)
{
    static const char text[] = "# comment\n"
                               "; another comment\n"
                               "[every]\n"
                               "name = gateway ; inline comment\n"
                               "port=9000\n"
                               "enabled = off\n"
                               "buffer = 1MiB\n"
                               "timeout = 250ms\n"
                               "services = das\n"
                               "listen = ::1\n"
                               "dir = /srv/osap\n"
                               "level = debug\n"
                               "password = hunter2\n"
                               "\n"
                               "[other]\n"
                               "n = -7\n";
    struct osap_config *cfg = new_config();
    const struct every *e = osap_config_section(cfg, "every");
    const struct other *o = osap_config_section(cfg, "other");
    (void)state;

    assert_int_equal(osap_config_load_string(cfg, text, "t.conf"), OSAP_OK);
    assert_string_equal(e->name, "gateway");
    assert_true(e->port == 9000);
    assert_false(e->enabled);
    assert_true(e->buffer == 1 << 20);
    assert_true(e->timeout_ms == 250);
    assert_int_equal(e->services.n, 1);
    assert_string_equal(e->services.v[0], "das");
    assert_string_equal(e->listen, "::1");
    assert_string_equal(e->dir, "/srv/osap");
    assert_string_equal(e->level, "debug");
    assert_string_equal(e->password, "hunter2");
    assert_true(o->n == -7);
    assert_int_equal(osap_config_origin(cfg, "every", "port"), 5);
    assert_int_equal(osap_config_origin(cfg, "other", "n"), 16);
    assert_string_equal(osap_config_text(cfg, "every", "timeout"), "250ms");
    osap_config_free(cfg);
}

static void test_empty_values(void **state)
{
    struct osap_config *cfg = new_config();
    const struct every *e = osap_config_section(cfg, "every");
    (void)state;
    assert_int_equal(osap_config_load_string(cfg, "[every]\nservices =\ndir =\n", "t"), OSAP_OK);
    assert_int_equal(e->services.n, 0);
    assert_string_equal(e->dir, "");
    osap_config_free(cfg);
}

static void test_errors_name_file_and_line(void **state)
{
    static const char text[] = "stray = 1\n"                    /* 1 */
                               "[every]\n"                      /* 2 */
                               "port = 70000\n"                 /* 3 */
                               "prot = 1\n"                     /* 4 */
                               "buffer = 12QB\n"                /* 5 */
                               "timeout = 5\n"                  /* 6 */
                               "enabled = maybe\n"              /* 7 */
                               "services = a,,b\n"              /* 8 */
                               "listen = bad_host\n"            /* 9 */
                               "level = verbose\n"              /* 10 */
                               "name = this-name-is-too-long\n" /* 11 */
                               "[nope]\n"                       /* 12 */
                               "x = 1\n"                        /* 13 */
                               "[every]\n"                      /* 14 */
                               "this line has no equals\n"      /* 15 */
                               "buffer = 512\n"                 /* 16 */
                               "timeout = 1h\n"                 /* 17 */
                               "timeout = 2h\n"                 /* 18 */
                               "services = a, b, c, d, e\n"     /* 19 */
                               "password = also bad ; sure\n"   /* 20 */
                               "port = 99999\n";                /* 21 */
    struct osap_config *cfg = new_config();
    const struct every *e = osap_config_section(cfg, "every");
    (void)state;

    assert_int_equal(osap_config_load_string(cfg, text, "bad.conf"), OSAP_ECONFIG);
    assert_error(cfg, "bad.conf:1: 'stray' is set outside a section");
    assert_error(cfg, "bad.conf:3: [every] port: 70000 is out of range (1..65535)");
    assert_error(cfg, "bad.conf:4: unknown setting 'prot' in section [every]");
    assert_error(cfg, "bad.conf:5: [every] buffer: '12QB' is not a size");
    assert_error(cfg, "bad.conf:6: [every] timeout: '5' is not a duration");
    assert_error(cfg, "bad.conf:7: [every] enabled: 'maybe' is not a boolean");
    assert_error(cfg, "bad.conf:8: [every] services: 'a,,b' is not a list");
    assert_error(cfg, "bad.conf:9: [every] listen: 'bad_host' is not an IP address or host name");
    assert_error(cfg, "bad.conf:10: [every] level: 'verbose' is not one of error, warn, info, "
                      "debug");
    assert_error(cfg, "bad.conf:11: [every] name: longer than 16 characters");
    assert_error(cfg, "bad.conf:12: unknown section [nope]");
    assert_error(cfg, "bad.conf:15: syntax error");
    assert_error(cfg, "bad.conf:16: [every] buffer: 512 is out of range (1KiB..16MiB)");
    assert_error(cfg, "bad.conf:18: [every] timeout is set twice (first at line 17)");
    assert_error(cfg, "bad.conf:19: [every] services: more than 4 items");
    assert_error(cfg, "bad.conf:21: [every] port: 99999 is out of range");
    /* Keys of the unknown section are not reported one by one. */
    assert_null(strstr(osap_config_errors(cfg), "bad.conf:13"));
    /* Valid lines were applied; invalid ones left the default. */
    assert_true(e->timeout_ms == 3600000);
    assert_true(e->port == 8666);
    assert_string_equal(e->password, "also bad");
    osap_config_free(cfg);
}

static void test_secret_not_echoed(void **state)
{
    static const struct osap_cfg_item items[] = {
        {"token", OSAP_CFG_INT, "1", 1, 5, 0, "secret number", NULL, OSAP_CFG_SECRET},
        {NULL, 0, NULL, 0, 0, 0, NULL, NULL, 0},
    };
    static const struct osap_cfg_table table = {"s", NULL, sizeof(int64_t), items};
    struct osap_config *cfg = NULL;
    (void)state;
    assert_int_equal(osap_config_new(&cfg), OSAP_OK);
    assert_int_equal(osap_config_register(cfg, &table), OSAP_OK);
    assert_int_equal(osap_config_load_string(cfg, "[s]\ntoken = 987654\n", "s.conf"), OSAP_ECONFIG);
    assert_error(cfg, "s.conf:2: [s] token: (secret) is out of range");
    assert_null(strstr(osap_config_errors(cfg), "987654"));
    osap_config_free(cfg);
}

static void test_long_and_continued_lines(void **state)
{
    char text[1024];
    struct osap_config *cfg = new_config();
    const struct every *e = osap_config_section(cfg, "every");
    (void)state;

    memset(text, 0, sizeof(text));
    strcpy(text, "[every]\nname = ");
    memset(text + strlen(text), 'x', 400);
    strcat(text, "\nport = 1234\n");
    assert_int_equal(osap_config_load_string(cfg, text, "long.conf"), OSAP_ECONFIG);
    assert_error(cfg, "long.conf:2: line too long");
    /* The line after the long one is read normally. */
    assert_true(e->port == 1234);
    osap_config_free(cfg);

    cfg = new_config();
    assert_int_equal(osap_config_load_string(cfg, "[every]\nservices = lbs,\n  das\n", "c.conf"),
                     OSAP_ECONFIG);
    assert_error(cfg, "c.conf:3: continuation lines are not supported");
    osap_config_free(cfg);
}

static void test_load_file(void **state)
{
    char dir[4096], path[4200];
    const char *tmp = getenv("TMPDIR");
    struct osap_config *cfg = new_config();
    const struct every *e = osap_config_section(cfg, "every");
    FILE *f;
    (void)state;

    snprintf(dir, sizeof(dir), "%s/osap-test-config-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/osapd.conf", dir);
    assert_int_equal(osap_config_load(cfg, path), OSAP_EIO);
    assert_error(cfg, "osapd.conf: cannot open");
    assert_int_equal(osap_config_load(cfg, dir), OSAP_EIO); /* a directory */
    assert_error(cfg, "cannot open: Is a directory");
    osap_config_free(cfg);

    cfg = new_config();
    e = osap_config_section(cfg, "every");
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("\xef\xbb\xbf[every]\nport = 1\nport = 2\n", f); /* with a UTF-8 BOM */
    fclose(f);
    assert_int_equal(osap_config_load(cfg, path), OSAP_ECONFIG);
    assert_string_equal(osap_config_path(cfg), path);
    {
        char want[4400];
        snprintf(want, sizeof(want), "%s:3: [every] port is set twice (first at line 2)", path);
        assert_error(cfg, want);
    }
    assert_true(e->port == 1);
    osap_config_free(cfg);
    unlink(path);
    rmdir(dir);
}

static void test_set_overrides(void **state)
{
    struct osap_config *cfg = new_config();
    const struct every *e = osap_config_section(cfg, "every");
    (void)state;

    assert_int_equal(osap_config_load_string(cfg, "[every]\nport = 9000\n", "t"), OSAP_OK);
    assert_int_equal(osap_config_set(cfg, "every", "port", "9001", "--port"), OSAP_OK);
    assert_true(e->port == 9001);
    assert_int_equal(osap_config_origin(cfg, "every", "port"), -1);
    assert_int_equal(osap_config_set(cfg, "every", "port", "0", "--port"), OSAP_ECONFIG);
    assert_error(cfg, "--port: [every] port: 0 is out of range (1..65535)");
    assert_true(e->port == 9001);
    assert_int_equal(osap_config_set(cfg, "every", "nope", "1", "--set every.nope"), OSAP_ECONFIG);
    assert_error(cfg, "--set every.nope: unknown setting [every] nope");
    assert_int_equal(osap_config_set(cfg, "every", "services", "api", "--set"), OSAP_OK);
    assert_int_equal(e->services.n, 1);
    osap_config_free(cfg);
}

static void test_bad_default_is_refused(void **state)
{
    static const struct osap_cfg_item items[] = {
        {"port", OSAP_CFG_INT, "0", 1, 65535, 0, "bad default", NULL, 0},
        {NULL, 0, NULL, 0, 0, 0, NULL, NULL, 0},
    };
    static const struct osap_cfg_table table = {"bad", NULL, sizeof(int64_t), items};
    static const struct osap_cfg_item outside[] = {
        {"port", OSAP_CFG_INT, "1", 1, 65535, 64, "offset beyond the struct", NULL, 0},
        {NULL, 0, NULL, 0, 0, 0, NULL, NULL, 0},
    };
    static const struct osap_cfg_table table2 = {"bad2", NULL, sizeof(int64_t), outside};
    struct osap_config *cfg = NULL;
    (void)state;
    assert_int_equal(osap_config_new(&cfg), OSAP_OK);
    assert_int_equal(osap_config_register(cfg, &table), OSAP_ECONFIG);
    assert_error(cfg, "built-in default: [bad] port: 0 is out of range");
    assert_null(osap_config_section(cfg, "bad"));
    assert_int_equal(osap_config_register(cfg, &table2), OSAP_ECONFIG);
    assert_null(osap_config_section(cfg, "bad2"));
    osap_config_free(cfg);
}

static char *print_to_string(const struct osap_config *cfg, enum osap_cfg_print how)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(osap_config_print(cfg, f, how), OSAP_OK);
    fclose(f);
    return buf;
}

static void test_print(void **state)
{
    struct osap_config *cfg = new_config(), *again;
    const struct every *e;
    char *text;
    (void)state;

    assert_int_equal(osap_config_load_string(cfg, "[every]\npassword = hunter2\nport = 9\n", "t"),
                     OSAP_OK);
    text = print_to_string(cfg, OSAP_CFG_PRINT_EFFECTIVE);
    assert_non_null(strstr(text, "[every]\nname = osap\nport = 9\n"));
    assert_non_null(strstr(text, "password = (secret)\n"));
    assert_null(strstr(text, "hunter2"));
    free(text);

    /* The sample with every default parses back to the defaults. */
    text = print_to_string(cfg, OSAP_CFG_PRINT_DEFAULTS);
    assert_non_null(strstr(text, "# a size\n# (size, 1KiB..16MiB)\nbuffer = 16KiB\n"));
    assert_non_null(strstr(text, "# a choice\n# (string: error, warn, info, debug)\nlevel = info"));
    assert_non_null(strstr(text, "# a duration\n# (duration, 100ms..1h)\ntimeout = 5s\n"));
    assert_non_null(strstr(text, "password =\n"));
    again = new_config();
    assert_int_equal(osap_config_load_string(again, text, "sample"), OSAP_OK);
    e = osap_config_section(again, "every");
    assert_true(e->port == 8666);
    assert_true(osap_config_origin(again, "every", "password") > 0);
    free(text);
    osap_config_free(again);
    osap_config_free(cfg);
}

/* Every prefix of a valid file loads without crashing, and errors only where a
 * cut value is no longer valid. */
static void test_every_prefix(void **state)
{
    static const char text[] = "# sample\n[every]\nname = gateway\nport = 9000\nenabled = off\n"
                               "buffer = 1MiB\ntimeout = 250ms\nservices = das, api\n"
                               "listen = ::1\ndir = /srv\nlevel = debug\n[other]\nn = -7\n";
    char buf[sizeof(text)];
    (void)state;
    for (size_t n = 0; n < sizeof(text); n++) {
        struct osap_config *cfg = new_config();
        osap_err err;
        memcpy(buf, text, n);
        buf[n] = '\0';
        err = osap_config_load_string(cfg, buf, "prefix");
        assert_true(err == OSAP_OK || err == OSAP_ECONFIG);
        if (n == sizeof(text) - 1) assert_int_equal(err, OSAP_OK);
        osap_config_free(cfg);
    }
}

static void test_allocation_failures(void **state)
{
    static const char text[] = "[every]\nname = n\nservices = a, b, c\ndir = rel/dir\n"
                               "[other]\nn = 2\n";
    (void)state;
    test_alloc_install();
    for (long n = 0; n < 200; n++) {
        struct osap_config *cfg = NULL;
        osap_err err;
        test_alloc_fail_after(n);
        err = osap_config_new(&cfg);
        if (err == OSAP_OK) err = osap_config_register(cfg, &every_table);
        if (err == OSAP_OK) err = osap_config_load_string(cfg, text, "t");
        assert_true(err == OSAP_OK || err == OSAP_ENOMEM || err == OSAP_ECONFIG);
        test_alloc_reset();
        osap_config_free(cfg);
        if (err == OSAP_OK) break;
    }
    test_alloc_reset();
    osap_set_allocator(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_parse_bool_int_address),
        cmocka_unit_test(test_parse_list),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_load_every_type),
        cmocka_unit_test(test_empty_values),
        cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_secret_not_echoed),
        cmocka_unit_test(test_long_and_continued_lines),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_set_overrides),
        cmocka_unit_test(test_bad_default_is_refused),
        cmocka_unit_test(test_print),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
