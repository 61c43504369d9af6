/* Store (SQLite backend): device records written by ingest and read by the
 * platform and the DAS — events (once per uuid, or per seq within a window),
 * reported attributes (last report wins) and desired values (versioned). */
#include "testutil.h"

#include "store_fixture.h"

#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int setup(void **state)
{
    return store_fixture_setup(state, "records", true,
                               (const char *const[]){"Q12345678", "Q87654321", NULL});
}

static int teardown(void **state)
{
    return store_fixture_teardown(state);
}

static struct osap_event event(const char *serial, const char *uuid, int64_t seq, int64_t at)
{
    struct osap_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.serial = serial;
    ev.child = "global";
    ev.resource = "0-global";
    ev.domain = "alarm";
    ev.identifier = "motion";
    ev.seq = seq;
    ev.uuid = uuid;
    ev.level = 2;
    ev.payload = "{\"level\":2}";
    ev.device_time = 1700000000123;
    ev.received_at = at;
    return ev;
}

/* Collects what a list walk visits. */
struct seen {
    int n;
    int64_t ids[16];
    char text[16][64];
    int64_t numbers[16];
    int stop_after;
};

static osap_err collect_event(const struct osap_event *ev, void *userdata)
{
    struct seen *s = userdata;
    if (s->n < 16) {
        s->ids[s->n] = ev->id;
        snprintf(s->text[s->n], sizeof(s->text[0]), "%s/%s/%lld", ev->serial,
                 ev->uuid ? ev->uuid : "-", (long long)ev->seq);
        s->numbers[s->n] = ev->device_time;
    }
    s->n++;
    return s->stop_after && s->n >= s->stop_after ? OSAP_EEXISTS : OSAP_OK;
}

static void test_events_once_per_uuid(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_event ev = event("Q12345678", "8d2e90feeba811f18000ccc3405de671", 7, 1000);
    struct seen seen = {0};
    int64_t id1 = 0, id2 = 0;
    bool dup = true;

    assert_int_equal(osap_store_event_add(fx->st, &ev, 0, &id1, &dup), OSAP_OK);
    assert_false(dup);
    assert_true(id1 > 0);
    /* A redelivery (even with another Seq, received later) is the same event. */
    ev.seq = 9;
    ev.received_at = 5000;
    assert_int_equal(osap_store_event_add(fx->st, &ev, 0, &id2, &dup), OSAP_OK);
    assert_true(dup);
    assert_int_equal(id2, id1);
    /* The same uuid from another device is another event. */
    ev.serial = "Q87654321";
    assert_int_equal(osap_store_event_add(fx->st, &ev, 0, &id2, &dup), OSAP_OK);
    assert_false(dup);
    assert_true(id2 > id1);

    assert_int_equal(osap_store_event_list(fx->st, NULL, collect_event, &seen), OSAP_OK);
    assert_int_equal(seen.n, 2);
    /* Newest first. */
    assert_string_equal(seen.text[0], "Q87654321/8d2e90feeba811f18000ccc3405de671/9");
    assert_string_equal(seen.text[1], "Q12345678/8d2e90feeba811f18000ccc3405de671/7");
    assert_int_equal(seen.numbers[1], 1700000000123);
}

static void test_events_without_uuid_once_per_seq_in_window(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_event ev = event("Q12345678", NULL, 3, 10000);
    struct osap_event_filter f = {0};
    struct seen seen = {0};
    int64_t id1 = 0, id2 = 0;
    bool dup = false;

    assert_int_equal(osap_store_event_add(fx->st, &ev, 0, &id1, &dup), OSAP_OK);
    assert_false(dup);
    /* Same seq, stored copy received within the window: a repetition. */
    ev.received_at = 12000;
    assert_int_equal(osap_store_event_add(fx->st, &ev, 9000, &id2, &dup), OSAP_OK);
    assert_true(dup);
    assert_int_equal(id2, id1);
    /* The stored copy is older than the window (the device restarted since): new. */
    assert_int_equal(osap_store_event_add(fx->st, &ev, 10001, &id2, &dup), OSAP_OK);
    assert_false(dup);
    assert_true(id2 > id1);
    /* Another seq: new. An empty uuid counts as none. */
    ev.seq = 4;
    ev.uuid = "";
    assert_int_equal(osap_store_event_add(fx->st, &ev, 0, &id2, &dup), OSAP_OK);
    assert_false(dup);
    /* Without seq there is nothing to compare: always stored. */
    ev.seq = -1;
    assert_int_equal(osap_store_event_add(fx->st, &ev, 0, NULL, &dup), OSAP_OK);
    assert_int_equal(osap_store_event_add(fx->st, &ev, 0, NULL, &dup), OSAP_OK);
    assert_false(dup);
    f.serial = "Q12345678";
    assert_int_equal(osap_store_event_list(fx->st, &f, collect_event, &seen), OSAP_OK);
    assert_int_equal(seen.n, 5);
    assert_string_equal(seen.text[0], "Q12345678/-/-1");
    assert_string_equal(seen.text[2], "Q12345678/-/4");
}

static void test_events_refused(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_event ev = event("NOSUCHDEV", "u1", 1, 1);
    char longkey[200];

    /* The device must exist. */
    assert_int_equal(osap_store_event_add(fx->st, &ev, 0, NULL, NULL), OSAP_ENOTFOUND);
    ev = event("Q12345678", "u1", 1, 1);
    ev.domain = "";
    assert_int_equal(osap_store_event_add(fx->st, &ev, 0, NULL, NULL), OSAP_EINVAL);
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    ev = event("Q12345678", "u1", 1, 1);
    ev.identifier = longkey;
    assert_int_equal(osap_store_event_add(fx->st, &ev, 0, NULL, NULL), OSAP_EINVAL);
    ev = event("Q12345678", "u1", 4294967296LL, 1);
    assert_int_equal(osap_store_event_add(fx->st, &ev, 0, NULL, NULL), OSAP_EINVAL);
    ev = event("Q12345678", "u1", 1, 1);
    ev.payload = NULL;
    assert_int_equal(osap_store_event_add(fx->st, &ev, 0, NULL, NULL), OSAP_EINVAL);
    ev = event("Q12345678", "bad\nuuid", 1, 1);
    assert_int_equal(osap_store_event_add(fx->st, &ev, 0, NULL, NULL), OSAP_EINVAL);
}

static void test_events_filter_paging_prune(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_event_filter f = {0};
    struct seen seen = {0};
    char uuid[16];
    int64_t ids[10];
    uint64_t n = 0;

    for (int i = 0; i < 10; i++) {
        struct osap_event ev;
        snprintf(uuid, sizeof(uuid), "u%d", i);
        ev = event(i % 2 ? "Q87654321" : "Q12345678", uuid, i, 1000 * (i + 1));
        if (i == 9) ev.identifier = "tamper";
        assert_int_equal(osap_store_event_add(fx->st, &ev, 0, &ids[i], NULL), OSAP_OK);
    }
    f.serial = "Q12345678";
    f.limit = 2;
    assert_int_equal(osap_store_event_list(fx->st, &f, collect_event, &seen), OSAP_OK);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.ids[0], ids[8]);
    assert_int_equal(seen.ids[1], ids[6]);
    /* The next page. */
    f.before_id = seen.ids[1];
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(osap_store_event_list(fx->st, &f, collect_event, &seen), OSAP_OK);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.ids[0], ids[4]);
    /* Catching up after an id, within a time range, by identifier. */
    memset(&f, 0, sizeof(f));
    f.after_id = ids[6];
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(osap_store_event_list(fx->st, &f, collect_event, &seen), OSAP_OK);
    assert_int_equal(seen.n, 3);
    memset(&f, 0, sizeof(f));
    f.since = 3000;
    f.until = 5000;
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(osap_store_event_list(fx->st, &f, collect_event, &seen), OSAP_OK);
    assert_int_equal(seen.n, 2);
    memset(&f, 0, sizeof(f));
    f.identifier = "tamper";
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(osap_store_event_list(fx->st, &f, collect_event, &seen), OSAP_OK);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.ids[0], ids[9]);
    /* A callback error stops the walk and is returned. */
    memset(&seen, 0, sizeof(seen));
    seen.stop_after = 3;
    assert_int_equal(osap_store_event_list(fx->st, NULL, collect_event, &seen), OSAP_EEXISTS);
    assert_int_equal(seen.n, 3);
    /* Retention. */
    assert_int_equal(osap_store_event_prune(fx->st, 4001, &n), OSAP_OK);
    assert_int_equal(n, 4);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(osap_store_event_list(fx->st, NULL, collect_event, &seen), OSAP_OK);
    assert_int_equal(seen.n, 6);
    /* Removing a device removes its events. */
    assert_int_equal(osap_store_device_remove(fx->st, "Q87654321"), OSAP_OK);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(osap_store_event_list(fx->st, NULL, collect_event, &seen), OSAP_OK);
    assert_int_equal(seen.n, 3);
}

static osap_err collect_attribute(const struct osap_attribute *a, void *userdata)
{
    struct seen *s = userdata;
    if (s->n < 16) {
        snprintf(s->text[s->n], sizeof(s->text[0]), "%s/%s/%s/%s=%s", a->child, a->resource,
                 a->domain, a->identifier, a->value);
        s->numbers[s->n] = a->version;
        s->ids[s->n] = a->reported_at;
    }
    s->n++;
    return OSAP_OK;
}

static void test_attributes_last_report_wins(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_attribute a = {
        "Q12345678", "global", "0-global", "golden_domain", "golden_prop", "42", 1, 1000, NULL};
    struct osap_attribute_filter f = {"Q12345678", NULL, NULL, NULL, NULL};
    struct seen seen = {0};

    assert_int_equal(osap_store_attribute_put(fx->st, &a), OSAP_OK);
    a.identifier = "brightness";
    a.value = "{\"on\":true}";
    a.version = -1;
    assert_int_equal(osap_store_attribute_put(fx->st, &a), OSAP_OK);
    /* A device restart resets versions: a lower version still replaces the value. */
    a.identifier = "golden_prop";
    a.value = "7";
    a.version = 0;
    a.reported_at = 2000;
    assert_int_equal(osap_store_attribute_put(fx->st, &a), OSAP_OK);
    a.resource = "1-camera";
    a.value = "\"x\"";
    assert_int_equal(osap_store_attribute_put(fx->st, &a), OSAP_OK);

    assert_int_equal(osap_store_attribute_list(fx->st, &f, collect_attribute, &seen), OSAP_OK);
    assert_int_equal(seen.n, 3);
    assert_string_equal(seen.text[0], "global/0-global/golden_domain/brightness={\"on\":true}");
    assert_int_equal(seen.numbers[0], -1);
    assert_string_equal(seen.text[1], "global/0-global/golden_domain/golden_prop=7");
    assert_int_equal(seen.numbers[1], 0);
    assert_int_equal(seen.ids[1], 2000);
    assert_string_equal(seen.text[2], "global/1-camera/golden_domain/golden_prop=\"x\"");
    f.resource = "1-camera";
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(osap_store_attribute_list(fx->st, &f, collect_attribute, &seen), OSAP_OK);
    assert_int_equal(seen.n, 1);

    a.serial = "NOSUCH";
    assert_int_equal(osap_store_attribute_put(fx->st, &a), OSAP_ENOTFOUND);
    a.serial = "Q12345678";
    a.child = "";
    assert_int_equal(osap_store_attribute_put(fx->st, &a), OSAP_EINVAL);
    f.serial = NULL;
    assert_int_equal(osap_store_attribute_list(fx->st, &f, collect_attribute, &seen), OSAP_EINVAL);
}

static osap_err collect_desired(const struct osap_desired *d, void *userdata)
{
    struct seen *s = userdata;
    if (s->n < 16) {
        snprintf(s->text[s->n], sizeof(s->text[0]), "%s/%s/%s/%s=%s", d->child, d->resource,
                 d->domain, d->identifier, d->value);
        s->numbers[s->n] = d->version;
    }
    s->n++;
    return OSAP_OK;
}

static void test_desired_versions(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_desired d = {"Q12345678",   "global", "0-global", "golden_domain",
                             "golden_prop", "9",      0,          0};
    struct osap_attribute_filter f = {"Q12345678", "global", "0-global", NULL, NULL};
    struct osap_attribute_filter key = {"Q12345678", "global", "0-global", "golden_domain",
                                        "golden_prop"};
    struct seen seen = {0};

    /* Nothing desired yet: an empty walk. */
    assert_int_equal(osap_store_desired_list(fx->st, &f, collect_desired, &seen), OSAP_OK);
    assert_int_equal(seen.n, 0);
    assert_int_equal(osap_store_desired_put(fx->st, &d), OSAP_OK);
    d.value = "10";
    assert_int_equal(osap_store_desired_put(fx->st, &d), OSAP_OK);
    d.identifier = "mode";
    d.value = "\"auto\"";
    assert_int_equal(osap_store_desired_put(fx->st, &d), OSAP_OK);
    d.resource = "1-camera";
    assert_int_equal(osap_store_desired_put(fx->st, &d), OSAP_OK);
    assert_int_equal(osap_store_desired_list(fx->st, &f, collect_desired, &seen), OSAP_OK);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.text[0], "global/0-global/golden_domain/golden_prop=10");
    assert_int_equal(seen.numbers[0], 2);
    assert_string_equal(seen.text[1], "global/0-global/golden_domain/mode=\"auto\"");
    assert_int_equal(seen.numbers[1], 1);

    assert_int_equal(osap_store_desired_remove(fx->st, &key), OSAP_OK);
    assert_int_equal(osap_store_desired_remove(fx->st, &key), OSAP_ENOTFOUND);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(osap_store_desired_list(fx->st, &f, collect_desired, &seen), OSAP_OK);
    assert_int_equal(seen.n, 1);
    key.domain = NULL;
    assert_int_equal(osap_store_desired_remove(fx->st, &key), OSAP_EINVAL);
    d.serial = "NOSUCH";
    assert_int_equal(osap_store_desired_put(fx->st, &d), OSAP_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_events_once_per_uuid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_without_uuid_once_per_seq_in_window, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_events_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_filter_paging_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attributes_last_report_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_desired_versions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
