/* Store additions of the LBS (store_lbs.h): the handshake commit is one
 * transaction (all or nothing), and the DAS node choice. */
#include "testutil.h"

#include "store_fixture.h"

#include "store.h"
#include "store_lbs.h"
#include "util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int setup(void **state)
{
    return store_fixture_setup(state, "lbs-store", true, (const char *const[]){"Q1", "Q2", NULL});
}

static int teardown(void **state)
{
    return store_fixture_teardown(state);
}

/* Run SQL on the database with a connection of our own. */
static int raw_sql(struct store_fixture *fx, const char *sql)
{
    char path[4200];
    sqlite3 *db = NULL;
    int rc;

    snprintf(path, sizeof(path), "%s/osap.db", fx->dir);
    rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static struct osap_lbs_record record(const char *serial, const char *devid, const char *mk,
                                     uint8_t key_byte)
{
    struct osap_lbs_record r;
    memset(&r, 0, sizeof(r));
    r.set_keys = true;
    r.master_key = mk;
    r.share_case = OSAP_SHARE_KEY_CASE_LOWER;
    strcpy(r.session.serial, serial);
    strcpy(r.session.devid, devid);
    memset(r.session.session_key, key_byte, sizeof(r.session.session_key));
    r.session.issued_at = 1234;
    strcpy(r.session.das_node, "das-1");
    return r;
}

#define DEVID1 "D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1"
#define DEVID2 "D2D2D2D2D2D2D2D2D2D2D2D2D2D2D2D2"

static void test_commit_writes_keys_and_session(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_lbs_record r = record("Q1", DEVID1, "0123456789ABCDEF", 0x11);
    struct osap_device d;
    struct osap_session s;
    uint8_t want[16];

    assert_int_equal(osap_store_lbs_commit(fx->st, &r), OSAP_OK);
    assert_int_equal(osap_store_device_get(fx->st, "Q1", &d), OSAP_OK);
    assert_string_equal(d.devid, DEVID1);
    assert_string_equal(d.master_key, "0123456789ABCDEF");
    assert_int_equal(d.share_key_case, OSAP_SHARE_KEY_CASE_LOWER);
    assert_int_equal(osap_store_session_get(fx->st, "Q1", &s), OSAP_OK);
    assert_string_equal(s.devid, DEVID1);
    memset(want, 0x11, sizeof(want));
    assert_memory_equal(s.session_key, want, 16);
    assert_int_equal(s.issued_at, 1234);
    assert_string_equal(s.das_node, "das-1");

    /* Path C: only the session changes. */
    r = record("Q1", DEVID1, NULL, 0x22);
    r.set_keys = false;
    r.session.das_node[0] = '\0';
    assert_int_equal(osap_store_lbs_commit(fx->st, &r), OSAP_OK);
    assert_int_equal(osap_store_device_get(fx->st, "Q1", &d), OSAP_OK);
    assert_string_equal(d.master_key, "0123456789ABCDEF");
    assert_int_equal(d.share_key_case, OSAP_SHARE_KEY_CASE_LOWER);
    assert_int_equal(osap_store_session_get(fx->st, "Q1", &s), OSAP_OK);
    memset(want, 0x22, sizeof(want));
    assert_memory_equal(s.session_key, want, 16);
    assert_string_equal(s.das_node, "");
}

static void test_commit_is_all_or_nothing(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_lbs_record r1 = record("Q1", DEVID1, "0123456789ABCDEF", 0x11);
    struct osap_lbs_record r2 = record("Q2", DEVID1, "FEDCBA9876543210", 0x33);
    struct osap_device d;
    struct osap_session s;

    assert_int_equal(osap_store_lbs_commit(fx->st, &r1), OSAP_OK);
    /* Q2 may not take Q1's devid: nothing of Q2's record is written. */
    assert_int_equal(osap_store_lbs_commit(fx->st, &r2), OSAP_EEXISTS);
    assert_int_equal(osap_store_device_get(fx->st, "Q2", &d), OSAP_OK);
    assert_string_equal(d.devid, "");
    assert_string_equal(d.master_key, "");
    assert_int_equal(osap_store_session_get(fx->st, "Q2", &s), OSAP_ENOTFOUND);

    /* An unknown device: nothing to update. */
    r2 = record("NOSUCH", DEVID2, "FEDCBA9876543210", 0x33);
    assert_int_equal(osap_store_lbs_commit(fx->st, &r2), OSAP_ENOTFOUND);
    r2.set_keys = false;
    assert_int_equal(osap_store_lbs_commit(fx->st, &r2), OSAP_ENOTFOUND);

    /* The keys are written, then the session fails: the keys are rolled back. */
    assert_int_equal(raw_sql(fx, "CREATE TRIGGER no_sessions BEFORE INSERT ON sessions"
                                 " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"),
                     SQLITE_OK);
    r2 = record("Q2", DEVID2, "FEDCBA9876543210", 0x33);
    assert_int_not_equal(osap_store_lbs_commit(fx->st, &r2), OSAP_OK);
    assert_int_equal(osap_store_device_get(fx->st, "Q2", &d), OSAP_OK);
    assert_string_equal(d.devid, "");
    assert_string_equal(d.master_key, "");
    assert_int_equal(raw_sql(fx, "DROP TRIGGER no_sessions"), SQLITE_OK);

    /* Malformed values are refused before anything is written. */
    r2 = record("Q2", DEVID2, "not-hex-at-all!!", 0x33);
    assert_int_equal(osap_store_lbs_commit(fx->st, &r2), OSAP_EINVAL);
    r2 = record("Q2", "SHORT", "FEDCBA9876543210", 0x33);
    assert_int_equal(osap_store_lbs_commit(fx->st, &r2), OSAP_EINVAL);
    assert_int_equal(osap_store_session_get(fx->st, "Q2", &s), OSAP_ENOTFOUND);

    /* The handle is usable afterwards (no transaction left open). */
    r2 = record("Q2", DEVID2, "FEDCBA9876543210", 0x33);
    assert_int_equal(osap_store_lbs_commit(fx->st, &r2), OSAP_OK);
}

static void test_commit_inside_open_transaction(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_lbs_record r = record("Q1", DEVID1, "0123456789ABCDEF", 0x11);

    assert_int_equal(osap_store_begin(fx->st), OSAP_OK);
    assert_int_equal(osap_store_lbs_commit(fx->st, &r), OSAP_ESTATE);
    osap_store_rollback(fx->st);
    assert_int_equal(osap_store_lbs_commit(NULL, &r), OSAP_EINVAL);
    assert_int_equal(osap_store_lbs_commit(fx->st, NULL), OSAP_EINVAL);
}

static void node(struct osap_store *st, const char *id, int64_t conns, int64_t hb)
{
    struct osap_das_node n;
    memset(&n, 0, sizeof(n));
    strcpy(n.id, id);
    strcpy(n.address, "10.0.0.1");
    n.port = 1883;
    n.connections = conns;
    n.last_heartbeat = hb;
    assert_int_equal(osap_store_das_node_heartbeat(st, &n), OSAP_OK);
}

static void test_das_node_pick(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_das_node n;

    assert_int_equal(osap_store_das_node_pick(fx->st, 0, &n), OSAP_ENOTFOUND);
    node(fx->st, "busy", 50, 1000);
    node(fx->st, "idle-but-stale", 0, 100);
    node(fx->st, "light", 3, 900);
    assert_int_equal(osap_store_das_node_pick(fx->st, 500, &n), OSAP_OK);
    assert_string_equal(n.id, "light");
    assert_int_equal(osap_store_das_node_pick(fx->st, 0, &n), OSAP_OK);
    assert_string_equal(n.id, "idle-but-stale");
    assert_int_equal(osap_store_das_node_pick(fx->st, 2000, &n), OSAP_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_writes_keys_and_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_is_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_inside_open_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_das_node_pick, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
