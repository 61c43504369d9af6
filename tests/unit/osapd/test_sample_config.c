/* etc/osapd.conf stays true: it must load without errors, list every setting
 * osapd registers (the core tables and every service's table), and show each
 * one with its default value. A setting added to any table without a line in the
 * sample fails here. */
#include "testutil.h"

#include "osapd.h"

#include <stdio.h>
#include <string.h>

#ifndef OSAP_TEST_DATA_DIR
#error "OSAP_TEST_DATA_DIR must be defined by the build"
#endif
#define SAMPLE OSAP_TEST_DATA_DIR "/../../etc/osapd.conf"

/* Compare two values ignoring blanks around list items ("a, b" == "a,b"). */
static void squeeze(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (; *in && o + 1 < cap; in++)
        if (*in != ' ' && *in != '\t') out[o++] = *in;
    out[o] = '\0';
}

static void test_sample_lists_every_setting_with_its_default(void **state)
{
    struct osap_config *cfg = NULL;
    int missing = 0;
    (void)state;

    assert_int_equal(osapd_config_new(&cfg), OSAP_OK);
    if (osap_config_load(cfg, SAMPLE) != OSAP_OK)
        fail_msg("etc/osapd.conf does not load:\n%s", osap_config_errors(cfg));
    for (size_t t = 0; t < osap_config_table_count(cfg); t++) {
        const struct osap_cfg_table *table = osap_config_table_at(cfg, t);
        for (const struct osap_cfg_item *it = table->items; it->name; it++) {
            char want[512], got[512];
            if (osap_config_origin(cfg, table->section, it->name) <= 0) {
                print_error("etc/osapd.conf: [%s] %s is missing: add it, with a comment and "
                            "its default (%s)\n",
                            table->section, it->name, it->def ? it->def : "");
                missing++;
                continue;
            }
            squeeze(it->def ? it->def : "", want, sizeof(want));
            squeeze(osap_config_text(cfg, table->section, it->name), got, sizeof(got));
            if (strcmp(want, got) != 0) {
                print_error("etc/osapd.conf: [%s] %s = %s, but its default is %s\n", table->section,
                            it->name, osap_config_text(cfg, table->section, it->name),
                            it->def ? it->def : "");
                missing++;
            }
        }
    }
    assert_int_equal(missing, 0);
    osap_config_free(cfg);
}

static void test_required_defaults(void **state)
{
    struct osap_config *cfg = NULL;
    (void)state;
    assert_int_equal(osapd_config_new(&cfg), OSAP_OK);
    assert_string_equal(osap_config_text(cfg, "osapd", "data_dir"), "./var");
    assert_string_equal(osap_config_text(cfg, "osapd", "services"), "lbs, das, api");
    assert_string_equal(osap_config_text(cfg, "lbs", "listen"), "127.0.0.1");
    assert_string_equal(osap_config_text(cfg, "lbs", "port"), "8666");
    assert_string_equal(osap_config_text(cfg, "das", "listen"), "127.0.0.1");
    assert_string_equal(osap_config_text(cfg, "das", "port"), "1883");
    assert_string_equal(osap_config_text(cfg, "das", "advertise"), "127.0.0.1");
    assert_string_equal(osap_config_text(cfg, "das", "allow_anonymous"), "no");
    assert_string_equal(osap_config_text(cfg, "api", "listen"), "127.0.0.1");
    assert_string_equal(osap_config_text(cfg, "api", "port"), "8080");
    assert_string_equal(osap_config_text(cfg, "store", "backend"), "sqlite");
    osap_config_free(cfg);
}

static void test_builtin_services_are_well_formed(void **state)
{
    (void)state;
    for (size_t i = 0; i < osapd_builtin_service_count; i++) {
        const struct osapd_service *s = osapd_builtin_services[i];
        assert_non_null(s);
        assert_non_null(s->name);
        assert_non_null(s->start);
        assert_non_null(s->stop);
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(osapd_builtin_services[k]->name, s->name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_lists_every_setting_with_its_default),
        cmocka_unit_test(test_required_defaults),
        cmocka_unit_test(test_builtin_services_are_well_formed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
