/* Ingest: group commit (one transaction per batch), completion order, duplicate
 * events, the queue ceiling, listeners after commit, status and attribute
 * records, failures of single records, and draining at stop. */
#include "testutil.h"

#include "store_fixture.h"

#include "ingest/ingest.h"
#include "store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct fixture {
    char dir[4096];
    char db[4200];
    struct osap_store_config scfg;
    struct ingest_config icfg;
    struct osap_store *st; /* the test thread's own handle */
    struct ingest *ing;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    if (test_scratch_dir(fx->dir, sizeof(fx->dir), "ingest")) return -1;
    snprintf(fx->db, sizeof(fx->db), "%s/osap.db", fx->dir);
    store_fixture_config(&fx->scfg, 5000);
    fx->icfg.queue_max = 100000;
    fx->icfg.queue_max_bytes = 64u << 20;
    fx->icfg.max_batch = 1000;
    fx->icfg.batch_delay = 0;
    fx->icfg.synchronous = "normal";
    fx->icfg.dedup_window = 600000;
    if (osap_store_open(&fx->scfg, fx->dir, &fx->st)) return -1;
    if (store_fixture_device(fx->st, "Q12345678")) return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    int rc;
    ingest_free(fx->ing);
    osap_store_close(fx->st);
    rc = test_rmtree(fx->dir);
    free(fx);
    return rc;
}

static void start(struct fixture *fx)
{
    assert_int_equal(ingest_new(&fx->icfg, &fx->scfg, fx->dir, &fx->ing), OSAP_OK);
}

static int count_rows(struct fixture *fx, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    int n = -1;
    if (sqlite3_open_v2(fx->db, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
}

/* ------------------------------------------------------------------------ */
/* Completion tracking                                                      */
/* ------------------------------------------------------------------------ */

#define MAX_DONE 4096

struct tracker {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int n;
    int order[MAX_DONE];
    osap_err err[MAX_DONE];
    int dup[MAX_DONE];
    /* Blocking the ingest thread inside a completion, to make batches. */
    int block_at; /* index whose completion waits until released (-1 = none) */
    int blocked;
    int released;
};

struct ticket {
    struct tracker *t;
    int index;
};

static void tracker_init(struct tracker *t)
{
    memset(t, 0, sizeof(*t));
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    t->block_at = -1;
}

static void tracker_release(struct tracker *t)
{
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->cond);
}

static void on_done(osap_err err, int duplicate, void *userdata)
{
    struct ticket *tk = userdata;
    struct tracker *t = tk->t;

    pthread_mutex_lock(&t->lock);
    if (t->n < MAX_DONE) {
        t->order[t->n] = tk->index;
        t->err[t->n] = err;
        t->dup[t->n] = duplicate;
    }
    t->n++;
    pthread_cond_broadcast(&t->cond);
    if (tk->index == t->block_at) {
        t->blocked = 1;
        pthread_cond_broadcast(&t->cond);
        while (!t->released)
            pthread_cond_wait(&t->cond, &t->lock);
    }
    pthread_mutex_unlock(&t->lock);
}

static void wait_until(struct tracker *t, int *field, int value)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&t->lock);
    while (*field < value) {
        if (pthread_cond_timedwait(&t->cond, &t->lock, &until) != 0) break;
    }
    pthread_mutex_unlock(&t->lock);
    assert_true(*field >= value);
}

static void release_blocked(struct tracker *t)
{
    pthread_mutex_lock(&t->lock);
    t->released = 1;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
}

static struct ingest_record event_record(const char *uuid, uint32_t seq)
{
    struct ingest_record r;
    memset(&r, 0, sizeof(r));
    r.kind = INGEST_EVENT;
    r.serial = "Q12345678";
    r.domain = "golden_domain";
    r.identifier = "golden_event";
    r.payload_json = "{\"alarm\":{\"level\":1}}";
    r.uuid = uuid;
    r.seq = seq;
    r.version = -1;
    return r;
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */
/* ------------------------------------------------------------------------ */

static void test_event_is_committed_before_completion(void **state)
{
    struct fixture *fx = *state;
    struct tracker t;
    struct ticket tk;
    struct ingest_record r = event_record("8d2e90feeba811f18000ccc3405de671", 1);
    struct ingest_stats stats;

    tracker_init(&t);
    tk.t = &t;
    tk.index = 0;
    start(fx);
    r.child = NULL; /* defaults: global, 0-global */
    r.level = 3;
    r.device_time_ms = 1795924458086;
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tk), OSAP_OK);
    wait_until(&t, &t.n, 1);
    assert_int_equal(t.err[0], OSAP_OK);
    assert_int_equal(t.dup[0], 0);
    /* Visible to another connection as soon as it completed. */
    assert_int_equal(count_rows(fx, "SELECT count(*) FROM events WHERE serial = 'Q12345678'"
                                    " AND uuid = '8d2e90feeba811f18000ccc3405de671'"
                                    " AND child = 'global' AND resource = '0-global'"
                                    " AND level = 3 AND device_time = 1795924458086"
                                    " AND payload = '{\"alarm\":{\"level\":1}}' AND seq = 1"),
                     1);
    ingest_stats(fx->ing, &stats);
    assert_int_equal(stats.submitted, 1);
    assert_int_equal(stats.committed, 1);
    assert_int_equal(stats.batches, 1);
    assert_int_equal(stats.queued, 0);
    tracker_release(&t);
}

/* The thread is held inside the completion of record 0 while 199 more records
 * are queued: they must all go into the next transaction, and complete in the
 * order they were submitted. */
static void test_group_commit_and_completion_order(void **state)
{
    struct fixture *fx = *state;
    static struct ticket tks[200];
    struct tracker t;
    struct ingest_stats stats;
    char uuid[32];

    tracker_init(&t);
    t.block_at = 0;
    start(fx);
    for (int i = 0; i < 200; i++) {
        struct ingest_record r = event_record(uuid, (uint32_t)i);
        snprintf(uuid, sizeof(uuid), "uuid-%03d", i);
        if (i % 3 == 1) {
            r.kind = INGEST_ATTRIBUTE;
            r.domain = "golden_domain";
            r.identifier = uuid; /* one attribute per record */
            r.payload_json = "42";
            r.version = i;
        }
        tks[i].t = &t;
        tks[i].index = i;
        assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[i]), OSAP_OK);
        if (i == 0) wait_until(&t, &t.blocked, 1);
    }
    ingest_stats(fx->ing, &stats);
    assert_int_equal(stats.queued, 199);
    release_blocked(&t);
    wait_until(&t, &t.n, 200);
    for (int i = 0; i < 200; i++) {
        assert_int_equal(t.order[i], i);
        assert_int_equal(t.err[i], OSAP_OK);
    }
    ingest_stats(fx->ing, &stats);
    assert_int_equal(stats.batches, 2);
    assert_int_equal(stats.largest_batch, 199);
    assert_int_equal(stats.committed, 200);
    assert_int_equal(count_rows(fx, "SELECT count(*) FROM events"), 133);
    assert_int_equal(count_rows(fx, "SELECT count(*) FROM attributes"), 67);
    tracker_release(&t);
}

static void test_max_batch(void **state)
{
    struct fixture *fx = *state;
    static struct ticket tks[51];
    struct tracker t;
    struct ingest_stats stats;
    char uuid[32];

    tracker_init(&t);
    t.block_at = 0;
    fx->icfg.max_batch = 20;
    start(fx);
    for (int i = 0; i < 51; i++) {
        struct ingest_record r = event_record(uuid, (uint32_t)i);
        snprintf(uuid, sizeof(uuid), "u%d", i);
        tks[i].t = &t;
        tks[i].index = i;
        assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[i]), OSAP_OK);
        if (i == 0) wait_until(&t, &t.blocked, 1);
    }
    release_blocked(&t);
    wait_until(&t, &t.n, 51);
    ingest_stats(fx->ing, &stats);
    /* 1, then 50 in batches of at most 20: 20, 20, 10. */
    assert_int_equal(stats.batches, 4);
    assert_int_equal(stats.largest_batch, 20);
    tracker_release(&t);
}

static void test_batch_delay_groups_a_burst(void **state)
{
    struct fixture *fx = *state;
    static struct ticket tks[50];
    struct tracker t;
    struct ingest_stats stats;
    char uuid[32];

    tracker_init(&t);
    fx->icfg.batch_delay = 300; /* ms: the burst below takes far less */
    start(fx);
    for (int i = 0; i < 50; i++) {
        struct ingest_record r = event_record(uuid, (uint32_t)i);
        snprintf(uuid, sizeof(uuid), "u%d", i);
        tks[i].t = &t;
        tks[i].index = i;
        assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[i]), OSAP_OK);
    }
    wait_until(&t, &t.n, 50);
    ingest_stats(fx->ing, &stats);
    assert_int_equal(stats.batches, 1);
    assert_int_equal(stats.largest_batch, 50);
    tracker_release(&t);
}

static void test_duplicates_complete_and_are_stored_once(void **state)
{
    struct fixture *fx = *state;
    static struct ticket tks[6];
    struct tracker t;
    struct ingest_record r;
    struct ingest_stats stats;

    tracker_init(&t);
    start(fx);
    for (int i = 0; i < 6; i++) {
        tks[i].t = &t;
        tks[i].index = i;
    }
    /* Same uuid twice (a redelivery after a reconnection carries the same Seq). */
    r = event_record("aaaa", 5);
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[0]), OSAP_OK);
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[1]), OSAP_OK);
    /* No uuid, same Seq: a repetition... */
    r = event_record(NULL, 9);
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[2]), OSAP_OK);
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[3]), OSAP_OK);
    wait_until(&t, &t.n, 4);
    /* ...unless the device started a new session after the stored copy. */
    r.dedup_since_ms = r.received_ms = 0;
    r.dedup_since_ms = 4102444800000; /* in the future: nothing stored is that recent */
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[4]), OSAP_OK);
    /* Another Seq. */
    r = event_record(NULL, 10);
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[5]), OSAP_OK);
    wait_until(&t, &t.n, 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(t.err[i], OSAP_OK);
    assert_int_equal(t.dup[0], 0);
    assert_int_equal(t.dup[1], 1);
    assert_int_equal(t.dup[2], 0);
    assert_int_equal(t.dup[3], 1);
    assert_int_equal(t.dup[4], 0);
    assert_int_equal(t.dup[5], 0);
    assert_int_equal(count_rows(fx, "SELECT count(*) FROM events WHERE uuid = 'aaaa'"), 1);
    assert_int_equal(count_rows(fx, "SELECT count(*) FROM events WHERE seq = 9"), 2);
    assert_int_equal(count_rows(fx, "SELECT count(*) FROM events"), 4);
    ingest_stats(fx->ing, &stats);
    assert_int_equal(stats.duplicates, 2);
    tracker_release(&t);
}

static void test_queue_ceiling(void **state)
{
    struct fixture *fx = *state;
    static struct ticket tks[12];
    struct tracker t;
    struct ingest_record r;
    struct ingest_stats stats;
    char uuid[32];

    tracker_init(&t);
    t.block_at = 0;
    fx->icfg.queue_max = 10;
    start(fx);
    for (int i = 0; i < 12; i++) {
        tks[i].t = &t;
        tks[i].index = i;
    }
    r = event_record("first", 0);
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[0]), OSAP_OK);
    wait_until(&t, &t.blocked, 1);
    for (int i = 1; i <= 10; i++) {
        snprintf(uuid, sizeof(uuid), "u%d", i);
        r = event_record(uuid, (uint32_t)i);
        assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[i]), OSAP_OK);
    }
    r = event_record("one-too-many", 11);
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[11]), OSAP_EBUSY);
    ingest_stats(fx->ing, &stats);
    assert_int_equal(stats.rejected, 1);
    assert_int_equal(stats.queued, 10);
    release_blocked(&t);
    wait_until(&t, &t.n, 11);
    /* Room again. */
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[11]), OSAP_OK);
    wait_until(&t, &t.n, 12);
    assert_int_equal(count_rows(fx, "SELECT count(*) FROM events"), 12);
    tracker_release(&t);
}

static void test_queue_ceiling_bytes(void **state)
{
    struct fixture *fx = *state;
    static struct ticket tks[3];
    struct tracker t;
    struct ingest_record r;
    char *big = malloc(40000);

    tracker_init(&t);
    t.block_at = 0;
    fx->icfg.queue_max_bytes = 65536;
    start(fx);
    for (int i = 0; i < 3; i++) {
        tks[i].t = &t;
        tks[i].index = i;
    }
    memset(big, ' ', 39999);
    big[0] = '1';
    big[39999] = '\0';
    r = event_record("a", 0);
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[0]), OSAP_OK);
    wait_until(&t, &t.blocked, 1);
    r = event_record("b", 1);
    r.payload_json = big;
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[1]), OSAP_OK);
    r = event_record("c", 2);
    r.payload_json = big;
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[2]), OSAP_EBUSY);
    release_blocked(&t);
    wait_until(&t, &t.n, 2);
    free(big);
    tracker_release(&t);
}

/* A listener runs after the commit: the record is already visible to others. */
struct listen_state {
    struct fixture *fx;
    int calls;
    int visible;
    int64_t last_id;
    int kinds[8];
};

static void on_committed(const struct ingest_committed *c, void *userdata)
{
    struct listen_state *ls = userdata;
    char sql[128];
    if (ls->calls < 8) ls->kinds[ls->calls] = c->rec->kind;
    ls->calls++;
    if (c->rec->kind == INGEST_EVENT) {
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE id = %lld", (long long)c->id);
        ls->visible += count_rows(ls->fx, sql);
        ls->last_id = c->id;
    }
}

/* Listeners of a batch run before the completions of the next one (same
 * thread): once a record submitted later has completed, they have run. The
 * barrier is a record that fails (unknown device), so listeners never see it. */
static void barrier(struct fixture *fx, struct tracker *t, struct ticket *tk)
{
    struct ingest_record r;
    int n = t->n;
    memset(&r, 0, sizeof(r));
    r.kind = INGEST_STATUS;
    r.serial = "NO-SUCH-DEVICE";
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, tk), OSAP_OK);
    wait_until(t, &t->n, n + 1);
}

static void test_listeners_after_commit(void **state)
{
    struct fixture *fx = *state;
    static struct ticket tks[5], bar = {NULL, 100};
    struct listen_state ls = {fx, 0, 0, 0, {0}};
    struct tracker t;
    struct ingest_record r;
    int h1 = 0, h2 = 0;

    tracker_init(&t);
    bar.t = &t;
    start(fx);
    for (int i = 0; i < 5; i++) {
        tks[i].t = &t;
        tks[i].index = i;
    }
    assert_int_equal(ingest_listen(fx->ing, on_committed, &ls, &h1), OSAP_OK);
    r = event_record("e1", 1);
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[0]), OSAP_OK);
    /* A duplicate is not shown again. */
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[1]), OSAP_OK);
    memset(&r, 0, sizeof(r));
    r.kind = INGEST_REPLY;
    r.serial = "Q12345678";
    r.payload_json = "{\"code\":0}";
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[2]), OSAP_OK);
    wait_until(&t, &t.n, 3);
    barrier(fx, &t, &bar);
    assert_int_equal(ls.calls, 2);
    assert_int_equal(ls.kinds[0], INGEST_EVENT);
    assert_int_equal(ls.kinds[1], INGEST_REPLY);
    assert_int_equal(ls.visible, 1);
    assert_true(ls.last_id > 0);
    /* A second listener; after unlisten the first one is never called again. */
    assert_int_equal(ingest_listen(fx->ing, on_committed, &ls, &h2), OSAP_OK);
    assert_true(h2 != h1);
    ingest_unlisten(fx->ing, h1);
    r = event_record("e2", 2);
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[3]), OSAP_OK);
    wait_until(&t, &t.n, 5);
    barrier(fx, &t, &bar);
    assert_int_equal(ls.calls, 3);
    ingest_unlisten(fx->ing, h2);
    r = event_record("e3", 3);
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[4]), OSAP_OK);
    wait_until(&t, &t.n, 7);
    barrier(fx, &t, &bar);
    assert_int_equal(ls.calls, 3);
    tracker_release(&t);
}

static void test_status_and_failures(void **state)
{
    struct fixture *fx = *state;
    static struct ticket tks[4];
    struct tracker t;
    struct ingest_record r;
    struct osap_device d;

    tracker_init(&t);
    start(fx);
    for (int i = 0; i < 4; i++) {
        tks[i].t = &t;
        tks[i].index = i;
    }
    memset(&r, 0, sizeof(r));
    r.kind = INGEST_STATUS;
    r.serial = "Q12345678";
    r.online = 1;
    r.address = "127.0.0.1:55610";
    r.firmware = "V1.2.0 build 201212";
    r.model = "GOLDEN_MODEL";
    r.node = "das-1";
    r.received_ms = 1795924458000;
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[0]), OSAP_OK);
    /* An unknown device fails alone; the rest of the batch is written. */
    r = event_record("x", 1);
    r.serial = "NOSUCHDEVICE";
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[1]), OSAP_OK);
    r = event_record("y", 2);
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[2]), OSAP_OK);
    wait_until(&t, &t.n, 3);
    assert_int_equal(t.err[0], OSAP_OK);
    assert_int_equal(t.err[1], OSAP_ENOTFOUND);
    assert_int_equal(t.err[2], OSAP_OK);
    assert_int_equal(osap_store_device_get(fx->st, "Q12345678", &d), OSAP_OK);
    assert_true(d.online);
    assert_string_equal(d.address, "127.0.0.1:55610");
    assert_string_equal(d.firmware, "V1.2.0 build 201212");
    assert_string_equal(d.model, "GOLDEN_MODEL");
    assert_string_equal(d.das_node, "das-1");
    assert_int_equal(d.last_seen, 1795924458000);
    memset(&r, 0, sizeof(r));
    r.kind = INGEST_STATUS;
    r.serial = "Q12345678";
    r.online = 0;
    assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[3]), OSAP_OK);
    wait_until(&t, &t.n, 4);
    assert_int_equal(osap_store_device_get(fx->st, "Q12345678", &d), OSAP_OK);
    assert_false(d.online);
    assert_string_equal(d.address, "127.0.0.1:55610"); /* kept */
    assert_string_equal(d.firmware, "V1.2.0 build 201212");
    tracker_release(&t);
}

static void test_refused_submissions(void **state)
{
    struct fixture *fx = *state;
    struct ingest_record r;

    start(fx);
    r = event_record("u", 1);
    r.serial = NULL;
    assert_int_equal(ingest_submit(fx->ing, &r, NULL, NULL), OSAP_EINVAL);
    r = event_record("u", 1);
    r.payload_json = NULL;
    assert_int_equal(ingest_submit(fx->ing, &r, NULL, NULL), OSAP_EINVAL);
    r = event_record("u", 1);
    r.kind = (enum ingest_kind)99;
    assert_int_equal(ingest_submit(fx->ing, &r, NULL, NULL), OSAP_EINVAL);
    /* Out of memory while copying the record. */
    test_alloc_install();
    test_alloc_fail_after(0);
    r = event_record("u", 1);
    assert_int_equal(ingest_submit(fx->ing, &r, NULL, NULL), OSAP_ENOMEM);
    test_alloc_reset();
}

/* Stopping commits and completes everything queued. */
static void test_free_drains_the_queue(void **state)
{
    struct fixture *fx = *state;
    static struct ticket tks[1000];
    struct tracker t;
    char uuid[32];

    tracker_init(&t);
    start(fx);
    for (int i = 0; i < 1000; i++) {
        struct ingest_record r = event_record(uuid, (uint32_t)i);
        snprintf(uuid, sizeof(uuid), "u%d", i);
        tks[i].t = &t;
        tks[i].index = i;
        assert_int_equal(ingest_submit(fx->ing, &r, on_done, &tks[i]), OSAP_OK);
    }
    ingest_free(fx->ing);
    fx->ing = NULL;
    assert_int_equal(t.n, 1000);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(t.err[i], OSAP_OK);
    assert_int_equal(count_rows(fx, "SELECT count(*) FROM events"), 1000);
    tracker_release(&t);
}

static void test_open_failure(void **state)
{
    struct fixture *fx = *state;
    struct ingest *ing = NULL;
    char missing[4300];

    snprintf(missing, sizeof(missing), "%s/no/such/dir", fx->dir);
    assert_int_not_equal(ingest_new(&fx->icfg, &fx->scfg, missing, &ing), OSAP_OK);
    assert_null(ing);
    fx->icfg.max_batch = 0;
    assert_int_equal(ingest_new(&fx->icfg, &fx->scfg, fx->dir, &ing), OSAP_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_event_is_committed_before_completion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_commit_and_completion_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_delay_groups_a_burst, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_complete_and_are_stored_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_queue_ceiling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_ceiling_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listeners_after_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_and_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_submissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_drains_the_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_failure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
