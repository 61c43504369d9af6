/* Store: the invalid mark of events and attribute values (schema v3): a value
 * that does not match the device's thing model is stored with the reason; event
 * lists filter on it (marked only, unmarked only) both ways of walking; a
 * redelivered event keeps its first mark; the next report of an attribute sets
 * or clears it; a v2 database moves to v3 with every old row unmarked. */
#include "testutil.h"

#include "store_fixture.h"

#include "store.h"
#include "store_sqlite.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int setup(void **state)
{
    return store_fixture_setup(state, "invalid", false, NULL);
}

static int teardown(void **state)
{
    return store_fixture_teardown(state);
}

static void add_device(struct store_fixture *fx, const char *serial)
{
    struct osap_device d;
    memset(&d, 0, sizeof(d));
    strcpy(d.serial, serial);
    strcpy(d.secret, "ABCDEF");
    assert_int_equal(osap_store_device_add(fx->st, &d), OSAP_OK);
}

/* What a list visits: "id:identifier:mark" per event, mark "-" when none. */
struct seen {
    char text[1024];
};

static osap_err collect(const struct osap_event *ev, void *userdata)
{
    struct seen *s = userdata;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof(s->text) - n, "%s%lld:%s:%s", n ? " " : "", (long long)ev->id,
             ev->identifier, ev->invalid ? ev->invalid : "-");
    return OSAP_OK;
}

static const char *list(struct store_fixture *fx, int invalid, bool oldest_first,
                        const char *serial, struct seen *s)
{
    struct osap_event_filter f;
    memset(&f, 0, sizeof(f));
    memset(s, 0, sizeof(*s));
    f.serial = serial;
    f.invalid = invalid;
    f.oldest_first = oldest_first;
    assert_int_equal(osap_store_event_list(fx->st, &f, collect, s), OSAP_OK);
    return s->text;
}

static int64_t add_event(struct store_fixture *fx, const char *serial, const char *identifier,
                         const char *uuid, const char *invalid, bool *dup)
{
    struct osap_event ev;
    int64_t id = 0;
    memset(&ev, 0, sizeof(ev));
    ev.serial = serial;
    ev.child = "global";
    ev.resource = "0-global";
    ev.domain = "Audio";
    ev.identifier = identifier;
    ev.seq = 1;
    ev.uuid = uuid;
    ev.payload = "{\"level\":140}";
    ev.received_at = 1000;
    ev.invalid = invalid;
    assert_int_equal(osap_store_event_add(fx->st, &ev, 0, &id, dup), OSAP_OK);
    return id;
}

static void test_events_marked_and_filtered(void **state)
{
    struct store_fixture *fx = *state;
    char reason[OSAP_STORE_INVALID_MAX + 2];
    struct osap_event ev;
    struct seen s;
    bool dup = true;

    assert_int_equal(osap_store_open(&fx->cfg, fx->dir, &fx->st), OSAP_OK);
    add_device(fx, "Q1");
    add_device(fx, "Q2");
    assert_int_equal(add_event(fx, "Q1", "A", "u1", NULL, &dup), 1);
    assert_false(dup);
    assert_int_equal(
        add_event(fx, "Q1", "B", "u2", "payload.level: 140 is above the maximum 130", &dup), 2);
    assert_int_equal(
        add_event(fx, "Q2", "C", "u3", "model x: domain 'Audio' has no event 'C'", &dup), 3);
    assert_int_equal(add_event(fx, "Q1", "D", "u4", "", &dup), 4); /* "" is no mark */

    assert_string_equal(list(fx, OSAP_FILTER_ANY, false, NULL, &s),
                        "4:D:- 3:C:model x: domain 'Audio' has no event 'C' "
                        "2:B:payload.level: 140 is above the maximum 130 1:A:-");
    assert_string_equal(list(fx, OSAP_FILTER_YES, false, NULL, &s),
                        "3:C:model x: domain 'Audio' has no event 'C' "
                        "2:B:payload.level: 140 is above the maximum 130");
    assert_string_equal(list(fx, OSAP_FILTER_YES, true, NULL, &s),
                        "2:B:payload.level: 140 is above the maximum 130 "
                        "3:C:model x: domain 'Audio' has no event 'C'");
    assert_string_equal(list(fx, OSAP_FILTER_NO, false, NULL, &s), "4:D:- 1:A:-");
    assert_string_equal(list(fx, OSAP_FILTER_YES, false, "Q1", &s),
                        "2:B:payload.level: 140 is above the maximum 130");
    assert_string_equal(list(fx, OSAP_FILTER_NO, true, "Q2", &s), "");

    /* A redelivery keeps the mark of the copy stored first. */
    assert_int_equal(add_event(fx, "Q1", "A", "u1", "now marked", &dup), 1);
    assert_true(dup);
    assert_string_equal(list(fx, OSAP_FILTER_YES, false, "Q1", &s),
                        "2:B:payload.level: 140 is above the maximum 130");

    /* A reason longer than the column's limit is refused. */
    memset(reason, 'x', sizeof(reason) - 1);
    reason[sizeof(reason) - 1] = '\0';
    memset(&ev, 0, sizeof(ev));
    ev.serial = "Q1";
    ev.child = "global";
    ev.resource = "0-global";
    ev.domain = "Audio";
    ev.identifier = "E";
    ev.seq = -1;
    ev.payload = "{}";
    ev.invalid = reason;
    assert_int_equal(osap_store_event_add(fx->st, &ev, 0, NULL, NULL), OSAP_EINVAL);
    reason[OSAP_STORE_INVALID_MAX] = '\0';
    assert_int_equal(osap_store_event_add(fx->st, &ev, 0, NULL, NULL), OSAP_OK);
}

static osap_err collect_attribute(const struct osap_attribute *a, void *userdata)
{
    struct seen *s = userdata;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof(s->text) - n, "%s%s=%s:%s", n ? " " : "", a->identifier, a->value,
             a->invalid ? a->invalid : "-");
    return OSAP_OK;
}

static void test_attribute_mark_follows_the_last_report(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_attribute a;
    struct osap_attribute_filter f = {"Q1", NULL, NULL, NULL, NULL};
    struct seen s;

    assert_int_equal(osap_store_open(&fx->cfg, fx->dir, &fx->st), OSAP_OK);
    add_device(fx, "Q1");
    memset(&a, 0, sizeof(a));
    a.serial = "Q1";
    a.child = "global";
    a.resource = "0-global";
    a.domain = "Audio";
    a.identifier = "MicGain";
    a.value = "150";
    a.version = 1;
    a.reported_at = 1000;
    a.invalid = "value: 150 is above the maximum 100";
    assert_int_equal(osap_store_attribute_put(fx->st, &a), OSAP_OK);
    memset(&s, 0, sizeof(s));
    assert_int_equal(osap_store_attribute_list(fx->st, &f, collect_attribute, &s), OSAP_OK);
    assert_string_equal(s.text, "MicGain=150:value: 150 is above the maximum 100");
    a.value = "50";
    a.invalid = NULL;
    assert_int_equal(osap_store_attribute_put(fx->st, &a), OSAP_OK);
    memset(&s, 0, sizeof(s));
    assert_int_equal(osap_store_attribute_list(fx->st, &f, collect_attribute, &s), OSAP_OK);
    assert_string_equal(s.text, "MicGain=50:-");
}

/* A v2 database: its events and attributes come through unmarked. */
static void test_upgrade_v2_to_v3(void **state)
{
    struct store_fixture *fx = *state;
    sqlite3 *db = NULL;
    char err[256] = "";
    int version = -1;
    struct seen s;

    assert_int_equal(sqlite3_open(fx->db, &db), SQLITE_OK);
    assert_int_equal(
        osap__sqlite_migrate(db, osap__sqlite_migrations, 2, &version, err, sizeof(err)), OSAP_OK);
    assert_int_equal(version, 2);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO devices (serial, auth_mode, secret, created_at)"
                                  " VALUES ('OLD1', 'sap', 'CODE', 1);"
                                  "INSERT INTO events (serial, domain, identifier, payload,"
                                  " received_at) VALUES ('OLD1', 'D', 'E', '{}', 5);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(osap_store_open(&fx->cfg, fx->dir, &fx->st), OSAP_OK);
    assert_int_equal(osap_store_schema_version(fx->st), 3);
    assert_string_equal(list(fx, OSAP_FILTER_ANY, false, NULL, &s), "1:E:-");
    assert_string_equal(list(fx, OSAP_FILTER_YES, false, NULL, &s), "");
    assert_string_equal(list(fx, OSAP_FILTER_NO, false, NULL, &s), "1:E:-");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_events_marked_and_filtered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attribute_mark_follows_the_last_report, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_v2_to_v3, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
