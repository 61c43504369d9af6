/* Store (SQLite backend): schema creation and migrations, file modes, and every
 * operation of every concern. Concurrency is in test_store_concurrency.c. */
#include "testutil.h"

#include "store_fixture.h"

#include "store.h"
#include "store_sqlite.h"
#include "util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int setup(void **state)
{
    return store_fixture_setup(state, "store", false, NULL);
}

static int teardown(void **state)
{
    return store_fixture_teardown(state);
}

static struct osap_store *open_store(struct store_fixture *fx)
{
    struct osap_store *st = NULL;
    assert_int_equal(osap_store_open(&fx->cfg, fx->dir, &st), OSAP_OK);
    return st;
}

/* Run SQL on the database file with a connection of our own. */
static int raw_sql(struct store_fixture *fx, const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open(fx->db, &db);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static int raw_count(struct store_fixture *fx, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    int n = -1;
    if (sqlite3_open(fx->db, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
}

static struct osap_device make_device(const char *serial, const char *secret)
{
    struct osap_device d;
    memset(&d, 0, sizeof(d));
    strcpy(d.serial, serial);
    strcpy(d.secret, secret);
    d.auth_mode = strchr(serial, ':') ? OSAP_AUTH_LICENCE : OSAP_AUTH_SAP;
    return d;
}

/* ------------------------------------------------------------------------ */
/* Schema                                                                   */
/* ------------------------------------------------------------------------ */

static void test_create_from_empty(void **state)
{
    static const char *const tables[] = {
        "schema_version", "devices", "sessions",   "das_nodes", "mqtt_users", "mqtt_acls",
        "api_tokens",     "events",  "attributes", "desired",   "pictures",   "requests",
    };
    struct store_fixture *fx = *state;
    struct stat sb;
    char sql[160], wal[4300];
    (void)state;

    fx->st = open_store(fx);
    assert_int_equal(osap_store_schema_version(fx->st), osap_store_schema_latest());
    assert_int_equal(osap_store_schema_latest(), 3);
    assert_string_equal(osap_store_backend(fx->st), "sqlite");
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'",
                 tables[i]);
        if (raw_count(fx, sql) != 1) fail_msg("table %s missing", tables[i]);
    }
    assert_int_equal(raw_count(fx, "SELECT max(version) FROM schema_version"), 3);
    /* The database and its WAL are private to the owner. */
    assert_int_equal(stat(fx->db, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    snprintf(wal, sizeof(wal), "%s-wal", fx->db);
    assert_int_equal(stat(wal, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(raw_count(fx, "SELECT count(*) FROM pragma_journal_mode WHERE "
                                   "journal_mode = 'wal'"),
                     1);
    /* Opening again changes nothing. */
    osap_store_close(fx->st);
    fx->st = open_store(fx);
    assert_int_equal(raw_count(fx, "SELECT count(*) FROM schema_version"), 3);
}

/* A database of schema v1 (devices whose model the DAS had overwritten) is moved to
 * v2: every row keeps its model and gets an empty dev_type, filled by the next
 * registration without touching a provisioned model. */
static void test_upgrade_v1_to_v2(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_device got;
    sqlite3 *db = NULL;
    char err[256] = "";
    int version = -1;

    assert_int_equal(sqlite3_open(fx->db, &db), SQLITE_OK);
    assert_int_equal(
        osap__sqlite_migrate(db, osap__sqlite_migrations, 1, &version, err, sizeof(err)), OSAP_OK);
    assert_int_equal(version, 1);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO devices (serial, auth_mode, secret, model, "
                                  "created_at) VALUES ('OLD1', 'sap', 'CODE', 'ip_camera', 1),"
                                  " ('OLD2', 'sap', 'CODE', '', 1)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(raw_count(fx, "SELECT count(*) FROM pragma_table_info('devices') WHERE "
                                   "name = 'dev_type'"),
                     0);

    fx->st = open_store(fx);
    assert_int_equal(osap_store_schema_version(fx->st), osap_store_schema_latest());
    assert_int_equal(osap_store_device_get(fx->st, "OLD1", &got), OSAP_OK);
    assert_string_equal(got.model, "ip_camera");
    assert_string_equal(got.dev_type, "");
    assert_int_equal(osap_store_device_set_info(fx->st, "OLD1", "CS-C6N", NULL), OSAP_OK);
    assert_int_equal(osap_store_device_set_info(fx->st, "OLD2", "CS-C6N", NULL), OSAP_OK);
    assert_int_equal(osap_store_device_get(fx->st, "OLD1", &got), OSAP_OK);
    assert_string_equal(got.model, "ip_camera");
    assert_string_equal(got.dev_type, "CS-C6N");
    assert_int_equal(osap_store_device_get(fx->st, "OLD2", &got), OSAP_OK);
    assert_string_equal(got.model, "CS-C6N");
    assert_string_equal(got.dev_type, "CS-C6N");
}

static void test_refuse_newer_schema(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_store *st = NULL;

    fx->st = open_store(fx);
    assert_int_equal(osap_store_device_add(fx->st, (struct osap_device[]){make_device("K1", "C")}),
                     OSAP_OK);
    osap_store_close(fx->st);
    fx->st = NULL;
    assert_int_equal(raw_sql(fx, "INSERT INTO schema_version VALUES (99, 'from the future', 0)"),
                     SQLITE_OK);
    assert_int_equal(osap_store_open(&fx->cfg, fx->dir, &st), OSAP_ESTORE_SCHEMA);
    assert_null(st);
    /* Nothing was changed. */
    assert_int_equal(raw_count(fx, "SELECT max(version) FROM schema_version"), 99);
    assert_int_equal(raw_count(fx, "SELECT count(*) FROM devices"), 1);
}

static void test_migration_runner(void **state)
{
    static const struct osap__sqlite_migration good[] = {
        {1, "one", "CREATE TABLE t1 (x INTEGER)"},
        {2, "two", "CREATE TABLE t2 (x INTEGER); INSERT INTO t1 VALUES (2)"},
    };
    static const struct osap__sqlite_migration failing[] = {
        {1, "one", "CREATE TABLE t1 (x INTEGER)"},
        {2, "two", "CREATE TABLE t2 (x INTEGER); INSERT INTO t1 VALUES (2)"},
        {3, "three", "CREATE TABLE t3 (x INTEGER); THIS IS NOT SQL"},
        {4, "four", "CREATE TABLE t4 (x INTEGER)"},
    };
    static const struct osap__sqlite_migration unordered[] = {
        {1, "one", "CREATE TABLE t1 (x INTEGER)"},
        {3, "three", "CREATE TABLE t3 (x INTEGER)"},
    };
    struct store_fixture *fx = *state;
    sqlite3 *db = NULL;
    char err[256] = "";
    int version = -1;

    assert_int_equal(sqlite3_open(fx->db, &db), SQLITE_OK);
    /* From empty: both run. */
    assert_int_equal(osap__sqlite_migrate(db, good, 1, &version, err, sizeof(err)), OSAP_OK);
    assert_int_equal(version, 1);
    assert_int_equal(osap__sqlite_migrate(db, good, 2, &version, err, sizeof(err)), OSAP_OK);
    assert_int_equal(version, 2);
    assert_int_equal(raw_count(fx, "SELECT count(*) FROM t1"), 1);
    /* A failing migration rolls back every pending one of the same run. */
    version = -1;
    assert_int_equal(osap__sqlite_migrate(db, failing, 4, &version, err, sizeof(err)), OSAP_ESTORE);
    assert_int_equal(version, -1);
    assert_non_null(strstr(err, "schema migration 3 (three)"));
    assert_int_equal(raw_count(fx, "SELECT max(version) FROM schema_version"), 2);
    assert_int_equal(raw_count(fx, "SELECT count(*) FROM sqlite_master WHERE name IN ('t3', 't4')"),
                     0);
    /* A newer database than the list. */
    assert_int_equal(osap__sqlite_migrate(db, good, 1, &version, err, sizeof(err)),
                     OSAP_ESTORE_SCHEMA);
    assert_non_null(strstr(err, "schema version 2, newer than this program knows (1)"));
    assert_int_equal(osap__sqlite_migrate(db, unordered, 2, &version, err, sizeof(err)),
                     OSAP_ESTORE);
    sqlite3_close(db);
}

static void test_unknown_backend(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_store *st = NULL;
    fx->cfg.backend = "postgresql";
    assert_int_equal(osap_store_open(&fx->cfg, fx->dir, &st), OSAP_ESTORE_BACKEND);
    assert_null(st);
}

static void test_not_a_database(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_store *st = NULL;
    FILE *f = fopen(fx->db, "w");
    assert_non_null(f);
    fputs("this is not a database, just some text that is long enough........................."
          "...............................................................................",
          f);
    fclose(f);
    assert_int_equal(osap_store_open(&fx->cfg, fx->dir, &st), OSAP_ESTORE);
    assert_null(st);
}

/* ------------------------------------------------------------------------ */
/* Devices                                                                  */
/* ------------------------------------------------------------------------ */

static void test_device_add_get(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_device d = make_device("Q12345678", "ABCDEF"), got;
    int64_t before = osap_time_now_ms();
    char serial72[80];

    fx->st = open_store(fx);
    strcpy(d.model, "C6N");
    strcpy(d.name, "front door");
    strcpy(d.devid, "ignored on add");
    d.blocked = true;
    assert_int_equal(osap_store_device_add(fx->st, &d), OSAP_OK);
    assert_int_equal(osap_store_device_add(fx->st, &d), OSAP_EEXISTS);
    assert_int_equal(osap_store_device_get(fx->st, "Q12345678", &got), OSAP_OK);
    assert_string_equal(got.serial, "Q12345678");
    assert_int_equal(got.auth_mode, OSAP_AUTH_SAP);
    assert_string_equal(got.secret, "ABCDEF");
    assert_string_equal(got.model, "C6N");
    assert_string_equal(got.name, "front door");
    assert_string_equal(got.devid, "");
    assert_string_equal(got.master_key, "");
    assert_int_equal(got.share_key_case, OSAP_SHARE_KEY_CASE_UNKNOWN);
    assert_false(got.blocked);
    assert_false(got.online);
    assert_true(got.created_at >= before && got.created_at <= osap_time_now_ms());
    assert_true(got.last_seen == 0);
    assert_int_equal(osap_store_device_get(fx->st, "Q1234567", &got), OSAP_ENOTFOUND);

    /* Licence mode. */
    d = make_device("pk1:dev1", "LICENCE-123");
    assert_int_equal(osap_store_device_add(fx->st, &d), OSAP_OK);
    assert_int_equal(osap_store_device_get(fx->st, "pk1:dev1", &got), OSAP_OK);
    assert_int_equal(got.auth_mode, OSAP_AUTH_LICENCE);
    assert_string_equal(got.secret, "LICENCE-123");

    /* Validation: spec sizes and characters, mode and serial form agree. */
    memset(serial72, 'S', 71); /* OSAP_SUBSERIAL_MAX: the struct cannot hold more */
    serial72[71] = '\0';
    d = make_device(serial72, "C");
    assert_int_equal(osap_store_device_add(fx->st, &d), OSAP_OK);
    static const char *const bad_serials[] = {"",    "a/b",         "a+b",      "a#b",
                                              "a b", "caf\xc3\xa9", "tab\there"};
    for (size_t i = 0; i < sizeof(bad_serials) / sizeof(bad_serials[0]); i++) {
        d = make_device("X", "C");
        strcpy(d.serial, bad_serials[i]);
        if (osap_store_device_add(fx->st, &d) != OSAP_EINVAL)
            fail_msg("serial '%s' accepted", bad_serials[i]);
    }
    d = make_device("X2", "0123456789012345678901234567890"); /* 31: fits */
    assert_int_equal(osap_store_device_add(fx->st, &d), OSAP_OK);
    d = make_device("X3", "");
    assert_int_equal(osap_store_device_add(fx->st, &d), OSAP_EINVAL);
    d = make_device("X4", "with space");
    assert_int_equal(osap_store_device_add(fx->st, &d), OSAP_EINVAL);
    d = make_device("pk2:dev", "L");
    d.auth_mode = OSAP_AUTH_SAP; /* a licence serial in SAP mode */
    assert_int_equal(osap_store_device_add(fx->st, &d), OSAP_EINVAL);
    d = make_device("plain", "L");
    d.auth_mode = OSAP_AUTH_LICENCE; /* a licence without productKey:deviceName */
    assert_int_equal(osap_store_device_add(fx->st, &d), OSAP_EINVAL);
    d = make_device("X5", "C");
    strcpy(d.name, "bad\nname");
    assert_int_equal(osap_store_device_add(fx->st, &d), OSAP_EINVAL);
}

static void test_device_keys_and_presence(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_device d = make_device("DEV1", "CODE"), got;
    const char *devid = "0123456789ABCDEF0123456789ABCDEF";
    uint64_t count = 99;

    fx->st = open_store(fx);
    assert_int_equal(osap_store_device_add(fx->st, &d), OSAP_OK);
    d = make_device("DEV2", "CODE");
    assert_int_equal(osap_store_device_add(fx->st, &d), OSAP_OK);

    assert_int_equal(osap_store_device_set_keys(fx->st, "DEV1", devid, "0123456789ABCDEF",
                                                OSAP_SHARE_KEY_CASE_LOWER),
                     OSAP_OK);
    assert_int_equal(osap_store_device_get_by_devid(fx->st, devid, &got), OSAP_OK);
    assert_string_equal(got.serial, "DEV1");
    assert_string_equal(got.devid, devid);
    assert_string_equal(got.master_key, "0123456789ABCDEF");
    assert_int_equal(got.share_key_case, OSAP_SHARE_KEY_CASE_LOWER);
    /* devid is unique across devices */
    assert_int_equal(
        osap_store_device_set_keys(fx->st, "DEV2", devid, NULL, OSAP_SHARE_KEY_CASE_UNKNOWN),
        OSAP_EEXISTS);
    assert_int_equal(
        osap_store_device_set_keys(fx->st, "DEV2", "short", NULL, OSAP_SHARE_KEY_CASE_UNKNOWN),
        OSAP_EINVAL);
    assert_int_equal(osap_store_device_set_keys(fx->st, "DEV2", NULL, "0123456789abcdef",
                                                OSAP_SHARE_KEY_CASE_UNKNOWN),
                     OSAP_EINVAL);
    assert_int_equal(
        osap_store_device_set_keys(fx->st, "NOPE", NULL, NULL, OSAP_SHARE_KEY_CASE_UPPER),
        OSAP_ENOTFOUND);
    /* Clearing the master key (path B: device lost it), keeping the devid. */
    assert_int_equal(
        osap_store_device_set_keys(fx->st, "DEV1", devid, "", OSAP_SHARE_KEY_CASE_UPPER), OSAP_OK);
    assert_int_equal(osap_store_device_get(fx->st, "DEV1", &got), OSAP_OK);
    assert_string_equal(got.master_key, "");
    assert_int_equal(got.share_key_case, OSAP_SHARE_KEY_CASE_UPPER);
    assert_int_equal(
        osap_store_device_get_by_devid(fx->st, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", &got),
        OSAP_ENOTFOUND);

    /* Presence. */
    assert_int_equal(
        osap_store_device_set_online(fx->st, "DEV1", true, "das-1", "10.0.0.5:40000", 1000),
        OSAP_OK);
    assert_int_equal(osap_store_device_set_online(fx->st, "DEV2", true, "das-1", NULL, 1001),
                     OSAP_OK);
    assert_int_equal(osap_store_device_get(fx->st, "DEV1", &got), OSAP_OK);
    assert_true(got.online);
    assert_true(got.last_seen == 1000);
    assert_string_equal(got.das_node, "das-1");
    assert_string_equal(got.address, "10.0.0.5:40000");
    assert_int_equal(osap_store_device_touch(fx->st, "DEV1", 2000), OSAP_OK);
    assert_int_equal(osap_store_device_set_online(fx->st, "DEV1", false, NULL, NULL, 3000),
                     OSAP_OK);
    assert_int_equal(osap_store_device_get(fx->st, "DEV1", &got), OSAP_OK);
    assert_false(got.online);
    assert_true(got.last_seen == 3000);
    assert_string_equal(got.das_node, "das-1"); /* kept */
    assert_string_equal(got.address, "10.0.0.5:40000");
    assert_int_equal(osap_store_device_touch(fx->st, "NOPE", 1), OSAP_ENOTFOUND);
    assert_int_equal(osap_store_device_set_online(fx->st, "NOPE", true, NULL, NULL, 1),
                     OSAP_ENOTFOUND);

    /* A node going down takes its online devices offline. */
    assert_int_equal(osap_store_device_offline_node(fx->st, "das-1", 4000, &count), OSAP_OK);
    assert_true(count == 1);
    assert_int_equal(osap_store_device_get(fx->st, "DEV2", &got), OSAP_OK);
    assert_false(got.online);
    assert_true(got.last_seen == 4000);
    assert_int_equal(osap_store_device_offline_node(fx->st, "das-1", 5000, &count), OSAP_OK);
    assert_true(count == 0);

    /* Information the device reports: its DevType fills an empty model ... */
    assert_int_equal(osap_store_device_set_info(fx->st, "DEV1", NULL, "V5.3.0"), OSAP_OK);
    assert_int_equal(osap_store_device_set_info(fx->st, "DEV1", "CS-C6N", NULL), OSAP_OK);
    assert_int_equal(osap_store_device_get(fx->st, "DEV1", &got), OSAP_OK);
    assert_string_equal(got.firmware, "V5.3.0");
    assert_string_equal(got.model, "CS-C6N");
    assert_string_equal(got.dev_type, "CS-C6N");
    /* ... but never replaces one: a later DevType goes to dev_type only. */
    assert_int_equal(osap_store_device_set_info(fx->st, "DEV1", "CS-C6N-A0", NULL), OSAP_OK);
    assert_int_equal(osap_store_device_get(fx->st, "DEV1", &got), OSAP_OK);
    assert_string_equal(got.model, "CS-C6N");
    assert_string_equal(got.dev_type, "CS-C6N-A0");
    assert_int_equal(osap_store_device_update(fx->st, "DEV2",
                                              &(struct osap_device_update){.model = "ip_camera"}),
                     OSAP_OK);
    assert_int_equal(osap_store_device_set_info(fx->st, "DEV2", "CS-C6N", "V1"), OSAP_OK);
    assert_int_equal(osap_store_device_get(fx->st, "DEV2", &got), OSAP_OK);
    assert_string_equal(got.model, "ip_camera");
    assert_string_equal(got.dev_type, "CS-C6N");
    assert_string_equal(got.firmware, "V1");
    assert_int_equal(osap_store_device_set_info(fx->st, "NOPE", "m", NULL), OSAP_ENOTFOUND);

    /* Block and unblock. */
    assert_int_equal(osap_store_device_set_blocked(fx->st, "DEV1", true), OSAP_OK);
    assert_int_equal(osap_store_device_get(fx->st, "DEV1", &got), OSAP_OK);
    assert_true(got.blocked);
    assert_int_equal(osap_store_device_set_blocked(fx->st, "DEV1", false), OSAP_OK);
    assert_int_equal(osap_store_device_get(fx->st, "DEV1", &got), OSAP_OK);
    assert_false(got.blocked);
    assert_int_equal(osap_store_device_set_blocked(fx->st, "NOPE", true), OSAP_ENOTFOUND);
}

struct collected {
    char serials[16][80];
    int n;
    int stop_after;
};

static osap_err collect(const struct osap_device *d, void *userdata)
{
    struct collected *c = userdata;
    if (c->stop_after && c->n == c->stop_after) return OSAP_ECLOSED;
    strcpy(c->serials[c->n++], d->serial);
    return OSAP_OK;
}

static void list(struct osap_store *st, const struct osap_device_filter *f, struct collected *c,
                 const char *expected)
{
    char got[512] = "";
    memset(c, 0, sizeof(*c));
    assert_int_equal(osap_store_device_list(st, f, collect, c), OSAP_OK);
    for (int i = 0; i < c->n; i++) {
        if (i) strcat(got, " ");
        strcat(got, c->serials[i]);
    }
    assert_string_equal(got, expected);
}

static void test_device_list_filters(void **state)
{
    static const char *const serials[] = {"B2", "A1", "A%2", "A_3", "C4", "pk:d"};
    struct store_fixture *fx = *state;
    struct osap_device_filter f;
    struct collected c;

    fx->st = open_store(fx);
    for (size_t i = 0; i < sizeof(serials) / sizeof(serials[0]); i++) {
        struct osap_device d = make_device(serials[i], "C");
        strcpy(d.model, i % 2 ? "odd" : "even");
        assert_int_equal(osap_store_device_add(fx->st, &d), OSAP_OK);
    }
    assert_int_equal(osap_store_device_set_online(fx->st, "A1", true, "n", NULL, 1), OSAP_OK);
    assert_int_equal(osap_store_device_set_online(fx->st, "C4", true, "n", NULL, 1), OSAP_OK);
    assert_int_equal(osap_store_device_set_blocked(fx->st, "C4", true), OSAP_OK);

    list(fx->st, NULL, &c, "A%2 A1 A_3 B2 C4 pk:d");
    memset(&f, 0, sizeof(f));
    list(fx->st, &f, &c, "A%2 A1 A_3 B2 C4 pk:d");
    f.serial_prefix = "A";
    list(fx->st, &f, &c, "A%2 A1 A_3");
    f.serial_prefix = "A%"; /* LIKE wildcards are plain characters */
    list(fx->st, &f, &c, "A%2");
    f.serial_prefix = "A_";
    list(fx->st, &f, &c, "A_3");
    memset(&f, 0, sizeof(f));
    f.model = "odd";
    list(fx->st, &f, &c, "A1 A_3 pk:d");
    memset(&f, 0, sizeof(f));
    f.online = OSAP_FILTER_YES;
    list(fx->st, &f, &c, "A1 C4");
    f.online = OSAP_FILTER_NO;
    list(fx->st, &f, &c, "A%2 A_3 B2 pk:d");
    memset(&f, 0, sizeof(f));
    f.blocked = OSAP_FILTER_YES;
    list(fx->st, &f, &c, "C4");
    f.blocked = OSAP_FILTER_NO;
    f.online = OSAP_FILTER_YES;
    list(fx->st, &f, &c, "A1");
    /* Paging. */
    memset(&f, 0, sizeof(f));
    f.limit = 2;
    list(fx->st, &f, &c, "A%2 A1");
    f.after = "A1";
    list(fx->st, &f, &c, "A_3 B2");
    f.after = "B2";
    list(fx->st, &f, &c, "C4 pk:d");
    f.after = "pk:d";
    list(fx->st, &f, &c, "");
    /* The callback can stop the walk; its error is returned. */
    memset(&c, 0, sizeof(c));
    c.stop_after = 2;
    assert_int_equal(osap_store_device_list(fx->st, NULL, collect, &c), OSAP_ECLOSED);
    assert_int_equal(c.n, 2);
    /* The store is usable after a stopped walk. */
    list(fx->st, NULL, &c, "A%2 A1 A_3 B2 C4 pk:d");
}

/* ------------------------------------------------------------------------ */
/* Sessions                                                                 */
/* ------------------------------------------------------------------------ */

static void test_sessions(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_device d = make_device("S1", "CODE");
    struct osap_session s, got;

    fx->st = open_store(fx);
    memset(&s, 0, sizeof(s));
    strcpy(s.serial, "S1");
    strcpy(s.devid, "0123456789ABCDEF0123456789ABCDEF");
    for (int i = 0; i < 16; i++)
        s.session_key[i] = (uint8_t)(0xf0 + i);
    s.issued_at = 1234;
    strcpy(s.das_node, "das-1");
    /* The device must exist. */
    assert_int_equal(osap_store_session_put(fx->st, &s), OSAP_ENOTFOUND);
    assert_int_equal(osap_store_device_add(fx->st, &d), OSAP_OK);
    assert_int_equal(osap_store_session_put(fx->st, &s), OSAP_OK);
    assert_int_equal(osap_store_session_get(fx->st, "S1", &got), OSAP_OK);
    assert_memory_equal(&got, &s, sizeof(s));
    /* Put again replaces. */
    s.session_key[0] = 0;
    s.issued_at = 5678;
    s.das_node[0] = '\0';
    assert_int_equal(osap_store_session_put(fx->st, &s), OSAP_OK);
    assert_int_equal(osap_store_session_get(fx->st, "S1", &got), OSAP_OK);
    assert_int_equal(got.session_key[0], 0);
    assert_true(got.issued_at == 5678);
    assert_string_equal(got.das_node, "");
    assert_int_equal(osap_store_session_remove(fx->st, "S1"), OSAP_OK);
    assert_int_equal(osap_store_session_get(fx->st, "S1", &got), OSAP_ENOTFOUND);
    assert_int_equal(osap_store_session_remove(fx->st, "S1"), OSAP_ENOTFOUND);
    /* Removing a device removes its session. */
    assert_int_equal(osap_store_session_put(fx->st, &s), OSAP_OK);
    assert_int_equal(osap_store_device_remove(fx->st, "S1"), OSAP_OK);
    assert_int_equal(osap_store_session_get(fx->st, "S1", &got), OSAP_ENOTFOUND);
    assert_int_equal(osap_store_device_remove(fx->st, "S1"), OSAP_ENOTFOUND);
    strcpy(s.devid, "short");
    assert_int_equal(osap_store_session_put(fx->st, &s), OSAP_EINVAL);
}

/* ------------------------------------------------------------------------ */
/* DAS nodes                                                                */
/* ------------------------------------------------------------------------ */

static struct osap_das_node make_node(const char *id, int64_t conns, int64_t hb)
{
    struct osap_das_node n;
    memset(&n, 0, sizeof(n));
    strcpy(n.id, id);
    strcpy(n.address, "127.0.0.1");
    n.port = 1883;
    n.connections = conns;
    n.last_heartbeat = hb;
    return n;
}

static void test_das_nodes(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_das_node n, out[4];
    size_t count = 99;

    fx->st = open_store(fx);
    n = make_node("das-a", 10, 1000);
    assert_int_equal(osap_store_das_node_heartbeat(fx->st, &n), OSAP_OK);
    n = make_node("das-b", 5, 1000);
    strcpy(n.address, "das-b.example");
    n.udp_port = 1884;
    strcpy(n.domain, "b.example");
    assert_int_equal(osap_store_das_node_heartbeat(fx->st, &n), OSAP_OK);
    n = make_node("das-c", 1, 100); /* stale */
    assert_int_equal(osap_store_das_node_heartbeat(fx->st, &n), OSAP_OK);
    n = make_node("das-d", 5, 1500); /* as loaded as b, fresher */
    assert_int_equal(osap_store_das_node_heartbeat(fx->st, &n), OSAP_OK);

    assert_int_equal(osap_store_das_node_list(fx->st, 500, out, 4, &count), OSAP_OK);
    assert_int_equal(count, 3);
    assert_string_equal(out[0].id, "das-d");
    assert_string_equal(out[1].id, "das-b");
    assert_string_equal(out[1].address, "das-b.example");
    assert_int_equal(out[1].udp_port, 1884);
    assert_string_equal(out[1].domain, "b.example");
    assert_string_equal(out[2].id, "das-a");
    /* Heartbeat updates load; capacity limits the answer. */
    n = make_node("das-a", 0, 2000);
    assert_int_equal(osap_store_das_node_heartbeat(fx->st, &n), OSAP_OK);
    assert_int_equal(osap_store_das_node_list(fx->st, 500, out, 1, &count), OSAP_OK);
    assert_int_equal(count, 1);
    assert_string_equal(out[0].id, "das-a");
    assert_true(out[0].connections == 0 && out[0].last_heartbeat == 2000);
    assert_int_equal(osap_store_das_node_list(fx->st, 0, out, 4, &count), OSAP_OK);
    assert_int_equal(count, 4);
    assert_string_equal(out[1].id, "das-c");
    assert_int_equal(osap_store_das_node_remove(fx->st, "das-c"), OSAP_OK);
    assert_int_equal(osap_store_das_node_remove(fx->st, "das-c"), OSAP_ENOTFOUND);
    assert_int_equal(osap_store_das_node_list(fx->st, 0, out, 4, &count), OSAP_OK);
    assert_int_equal(count, 3);
    n = make_node("bad", 0, 1);
    n.port = 0;
    assert_int_equal(osap_store_das_node_heartbeat(fx->st, &n), OSAP_EINVAL);
    n = make_node("bad", 0, 1);
    strcpy(n.address, "not an address");
    assert_int_equal(osap_store_das_node_heartbeat(fx->st, &n), OSAP_EINVAL);
}

/* ------------------------------------------------------------------------ */
/* MQTT users and ACLs                                                      */
/* ------------------------------------------------------------------------ */

static char acl_text[512];

static osap_err collect_acl(const struct osap_mqtt_acl *acl, void *userdata)
{
    (void)userdata;
    snprintf(acl_text + strlen(acl_text), sizeof(acl_text) - strlen(acl_text), "%s:%s:%s;",
             acl->username, acl->pattern, osap_mqtt_access_name(acl->access));
    return OSAP_OK;
}

static osap_err collect_user(const struct osap_mqtt_user *u, void *userdata)
{
    strcat(userdata, u->username);
    strcat(userdata, ";");
    return OSAP_OK;
}

static void test_users_and_acls(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_mqtt_user u;
    enum osap_mqtt_access a;
    char names[256] = "";

    fx->st = open_store(fx);
    assert_int_equal(osap_store_user_add(fx->st, "bob", "$7$1000$aaa$bbb"), OSAP_OK);
    assert_int_equal(osap_store_user_add(fx->st, "alice", "$7$1000$ccc$ddd"), OSAP_OK);
    assert_int_equal(osap_store_user_add(fx->st, "alice", "$7$1000$eee$fff"), OSAP_EEXISTS);
    assert_int_equal(osap_store_user_add(fx->st, "", "h"), OSAP_EINVAL);
    assert_int_equal(osap_store_user_add(fx->st, "x", ""), OSAP_EINVAL);
    assert_int_equal(osap_store_user_get(fx->st, "alice", &u), OSAP_OK);
    assert_string_equal(u.password_hash, "$7$1000$ccc$ddd");
    assert_true(u.created_at > 0 && u.created_at == u.updated_at);
    assert_int_equal(osap_store_user_set_password(fx->st, "alice", "$7$1000$new$hash"), OSAP_OK);
    assert_int_equal(osap_store_user_get(fx->st, "alice", &u), OSAP_OK);
    assert_string_equal(u.password_hash, "$7$1000$new$hash");
    assert_int_equal(osap_store_user_set_password(fx->st, "nobody", "h"), OSAP_ENOTFOUND);
    assert_int_equal(osap_store_user_get(fx->st, "nobody", &u), OSAP_ENOTFOUND);
    assert_int_equal(osap_store_user_list(fx->st, collect_user, names), OSAP_OK);
    assert_string_equal(names, "alice;bob;");

    assert_int_equal(osap_store_acl_set(fx->st, "alice", "$osap/#", OSAP_ACCESS_READ), OSAP_OK);
    assert_int_equal(osap_store_acl_set(fx->st, "alice", "cmd/+", OSAP_ACCESS_WRITE), OSAP_OK);
    assert_int_equal(osap_store_acl_set(fx->st, "bob", "#", OSAP_ACCESS_READWRITE), OSAP_OK);
    assert_int_equal(osap_store_acl_set(fx->st, "alice", "$osap/#", OSAP_ACCESS_READWRITE),
                     OSAP_OK); /* replaces */
    assert_int_equal(osap_store_acl_set(fx->st, "nobody", "#", OSAP_ACCESS_READ), OSAP_ENOTFOUND);
    assert_int_equal(osap_store_acl_set(fx->st, "bob", "", OSAP_ACCESS_READ), OSAP_EINVAL);
    acl_text[0] = '\0';
    assert_int_equal(osap_store_acl_list(fx->st, "alice", collect_acl, NULL), OSAP_OK);
    assert_string_equal(acl_text, "alice:$osap/#:readwrite;alice:cmd/+:write;");
    acl_text[0] = '\0';
    assert_int_equal(osap_store_acl_list(fx->st, NULL, collect_acl, NULL), OSAP_OK);
    assert_string_equal(acl_text, "alice:$osap/#:readwrite;alice:cmd/+:write;bob:#:readwrite;");
    assert_int_equal(osap_store_acl_remove(fx->st, "alice", "cmd/+"), OSAP_OK);
    assert_int_equal(osap_store_acl_remove(fx->st, "alice", "cmd/+"), OSAP_ENOTFOUND);
    /* Removing a user removes its ACL rows. */
    assert_int_equal(osap_store_user_remove(fx->st, "alice"), OSAP_OK);
    assert_int_equal(osap_store_user_remove(fx->st, "alice"), OSAP_ENOTFOUND);
    acl_text[0] = '\0';
    assert_int_equal(osap_store_acl_list(fx->st, NULL, collect_acl, NULL), OSAP_OK);
    assert_string_equal(acl_text, "bob:#:readwrite;");

    assert_int_equal(osap_mqtt_access_parse("readwrite", &a), OSAP_OK);
    assert_int_equal(a, OSAP_ACCESS_READWRITE);
    assert_int_equal(osap_mqtt_access_parse("rw", &a), OSAP_EINVAL);
}

/* ------------------------------------------------------------------------ */
/* API tokens                                                               */
/* ------------------------------------------------------------------------ */

static osap_err count_tokens(const struct osap_api_token *t, void *userdata)
{
    (void)t;
    (*(int *)userdata)++;
    return OSAP_OK;
}

static void test_tokens(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_api_token t;
    int64_t id = 0, id2 = 0;
    int n = 0;

    fx->st = open_store(fx);
    assert_int_equal(osap_store_token_create(fx->st, "ci", "osap_token-one", &id), OSAP_OK);
    assert_true(id > 0);
    assert_int_equal(osap_store_token_create(fx->st, "ci", "osap_token-two", NULL), OSAP_EEXISTS);
    assert_int_equal(osap_store_token_create(fx->st, "ops", "osap_token-one", NULL),
                     OSAP_EEXISTS); /* same secret */
    assert_int_equal(osap_store_token_create(fx->st, "ops", "osap_token-two", &id2), OSAP_OK);
    assert_int_equal(osap_store_token_create(fx->st, "", "x", NULL), OSAP_EINVAL);

    assert_int_equal(osap_store_token_verify(fx->st, "osap_token-one", 100000, &t), OSAP_OK);
    assert_true(t.id == id);
    assert_string_equal(t.name, "ci");
    assert_true(t.last_used == 100000);
    /* last_used moves at most once a minute */
    assert_int_equal(osap_store_token_verify(fx->st, "osap_token-one", 130000, &t), OSAP_OK);
    assert_true(t.last_used == 100000);
    assert_int_equal(osap_store_token_verify(fx->st, "osap_token-one", 170000, &t), OSAP_OK);
    assert_true(t.last_used == 170000);
    assert_int_equal(osap_store_token_verify(fx->st, "osap_token-on", 1, &t), OSAP_ENOTFOUND);
    assert_int_equal(osap_store_token_verify(fx->st, "", 1, &t), OSAP_ENOTFOUND);
    assert_int_equal(osap_store_token_verify(fx->st, "osap_token-two", 1, NULL), OSAP_OK);
    /* Only the hash is stored. */
    assert_int_equal(raw_count(fx, "SELECT count(*) FROM api_tokens WHERE token_hash LIKE "
                                   "'%token%' OR name LIKE 'osap_%'"),
                     0);
    assert_int_equal(osap_store_token_list(fx->st, count_tokens, &n), OSAP_OK);
    assert_int_equal(n, 2);
    assert_int_equal(osap_store_token_revoke(fx->st, "ci"), OSAP_OK);
    assert_int_equal(osap_store_token_revoke(fx->st, "ci"), OSAP_ENOTFOUND);
    assert_int_equal(osap_store_token_verify(fx->st, "osap_token-one", 1, &t), OSAP_ENOTFOUND);
}

/* ------------------------------------------------------------------------ */
/* Transactions                                                             */
/* ------------------------------------------------------------------------ */

static void test_transactions(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_device d, got;

    fx->st = open_store(fx);
    assert_int_equal(osap_store_commit(fx->st), OSAP_ESTATE);
    assert_int_equal(osap_store_begin(fx->st), OSAP_OK);
    assert_int_equal(osap_store_begin(fx->st), OSAP_ESTATE);
    d = make_device("T1", "C");
    assert_int_equal(osap_store_device_add(fx->st, &d), OSAP_OK);
    osap_store_rollback(fx->st);
    assert_int_equal(osap_store_device_get(fx->st, "T1", &got), OSAP_ENOTFOUND);
    assert_int_equal(osap_store_begin(fx->st), OSAP_OK);
    assert_int_equal(osap_store_device_add(fx->st, &d), OSAP_OK);
    d = make_device("T2", "C");
    assert_int_equal(osap_store_device_add(fx->st, &d), OSAP_OK);
    assert_int_equal(osap_store_device_add(fx->st, &d), OSAP_EEXISTS); /* tx still usable */
    assert_int_equal(osap_store_commit(fx->st), OSAP_OK);
    assert_int_equal(osap_store_device_get(fx->st, "T2", &got), OSAP_OK);
    assert_int_equal(raw_count(fx, "SELECT count(*) FROM devices"), 2);
    /* Closing with an open transaction rolls it back. */
    assert_int_equal(osap_store_begin(fx->st), OSAP_OK);
    d = make_device("T3", "C");
    assert_int_equal(osap_store_device_add(fx->st, &d), OSAP_OK);
    osap_store_close(fx->st);
    fx->st = NULL;
    assert_int_equal(raw_count(fx, "SELECT count(*) FROM devices"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_from_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_newer_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_v1_to_v2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_runner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_backend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_add_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_keys_and_presence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_list_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_das_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users_and_acls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
