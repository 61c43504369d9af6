/* Store concurrency: handles in several threads writing at once, and another
 * process holding the write lock (busy waiting, busy failure, readers unblocked). */
#include "testutil.h"

#include "store_fixture.h"

#include "store.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#define PER_THREAD 300

static char dir[4096];
static struct osap_store_config cfg;

static int setup(void **state)
{
    struct osap_store *st = NULL;
    (void)state;
    if (test_scratch_dir(dir, sizeof(dir), "storecc")) return -1;
    store_fixture_config(&cfg, 5000);
    /* Create the database before any thread or process uses it. */
    if (osap_store_open(&cfg, dir, &st) != OSAP_OK) return -1;
    osap_store_close(st);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return test_rmtree(dir);
}

static struct osap_device make_device(const char *serial)
{
    struct osap_device d;
    memset(&d, 0, sizeof(d));
    snprintf(d.serial, sizeof(d.serial), "%s", serial);
    strcpy(d.secret, "CODE");
    return d;
}

struct worker {
    int id;
    int failures;
    int last_error;
};

/* Each thread opens its own handle: the threading rule of the store. */
static void writer(void *arg)
{
    struct worker *w = arg;
    struct osap_store *st = NULL;
    char serial[32];
    osap_err err = osap_store_open(&cfg, dir, &st);

    if (err) {
        w->failures++;
        w->last_error = err;
        return;
    }
    for (int i = 0; i < PER_THREAD; i++) {
        struct osap_device d, got;
        snprintf(serial, sizeof(serial), "T%d-%04d", w->id, i);
        d = make_device(serial);
        err = osap_store_device_add(st, &d);
        if (err == OSAP_OK) err = osap_store_device_set_online(st, serial, true, "n", NULL, i);
        if (err == OSAP_OK) err = osap_store_device_get(st, serial, &got);
        if (err) {
            w->failures++;
            w->last_error = err;
        }
    }
    osap_store_close(st);
}

static osap_err count_cb(const struct osap_device *d, void *userdata)
{
    (void)d;
    (*(int *)userdata)++;
    return OSAP_OK;
}

static void test_threads_write_concurrently(void **state)
{
    uv_thread_t t[3];
    struct worker w[3] = {{0, 0, 0}, {1, 0, 0}, {2, 0, 0}};
    struct osap_store *st = NULL;
    int n = 0;
    (void)state;

    for (int i = 0; i < 3; i++)
        assert_int_equal(uv_thread_create(&t[i], writer, &w[i]), 0);
    for (int i = 0; i < 3; i++)
        uv_thread_join(&t[i]);
    for (int i = 0; i < 3; i++)
        if (w[i].failures)
            fail_msg("thread %d: %d failures, last %s", i, w[i].failures,
                     osap_errname(w[i].last_error));
    assert_int_equal(osap_store_open(&cfg, dir, &st), OSAP_OK);
    assert_int_equal(osap_store_device_list(st, NULL, count_cb, &n), OSAP_OK);
    assert_int_equal(n, 3 * PER_THREAD);
    osap_store_close(st);
}

/* A child process takes the write lock, tells the parent, holds it for
 * @p hold_ms, then commits its own device. */
static pid_t spawn_lock_holder(int hold_ms, int *ready_fd)
{
    int fds[2];
    pid_t pid;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct osap_store *st = NULL;
        struct osap_device d = make_device("CHILD");
        int rc = 1;
        close(fds[0]);
        if (osap_store_open(&cfg, dir, &st) == OSAP_OK && osap_store_begin(st) == OSAP_OK &&
            osap_store_device_add(st, &d) == OSAP_OK) {
            if (write(fds[1], "x", 1) == 1) {
                usleep((useconds_t)hold_ms * 1000);
                rc = osap_store_commit(st) == OSAP_OK ? 0 : 2;
            }
        }
        osap_store_close(st);
        _exit(rc);
    }
    close(fds[1]);
    *ready_fd = fds[0];
    return pid;
}

static void wait_ready(int fd)
{
    char c;
    assert_int_equal(read(fd, &c, 1), 1);
    close(fd);
}

static void expect_child_ok(pid_t pid)
{
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_other_process_holds_lock_wait(void **state)
{
    struct osap_store *st = NULL;
    struct osap_device d = make_device("PARENT"), got;
    int64_t t0, waited;
    int fd;
    pid_t pid;
    (void)state;

    pid = spawn_lock_holder(400, &fd);
    wait_ready(fd);
    cfg.busy_timeout_ms = 5000;
    assert_int_equal(osap_store_open(&cfg, dir, &st), OSAP_OK);
    /* Readers are not blocked by the writer (WAL), and do not see its rows yet. */
    t0 = osap_time_now_ms();
    assert_int_equal(osap_store_device_get(st, "CHILD", &got), OSAP_ENOTFOUND);
    assert_true(osap_time_now_ms() - t0 < 200);
    /* A write waits for the other process's transaction, then succeeds. */
    t0 = osap_time_now_ms();
    assert_int_equal(osap_store_device_add(st, &d), OSAP_OK);
    waited = osap_time_now_ms() - t0;
    if (waited < 200) fail_msg("the write did not wait for the lock (%lld ms)", (long long)waited);
    assert_int_equal(osap_store_device_get(st, "CHILD", &got), OSAP_OK);
    osap_store_close(st);
    expect_child_ok(pid);
}

static void test_other_process_holds_lock_busy(void **state)
{
    struct osap_store *st = NULL;
    struct osap_device d = make_device("IMPATIENT"), got;
    int fd;
    pid_t pid;
    (void)state;

    pid = spawn_lock_holder(1000, &fd);
    wait_ready(fd);
    cfg.busy_timeout_ms = 50;
    assert_int_equal(osap_store_open(&cfg, dir, &st), OSAP_OK);
    assert_int_equal(osap_store_device_add(st, &d), OSAP_ESTORE_BUSY);
    assert_non_null(strstr(osap_store_errmsg(st), "locked"));
    assert_int_equal(osap_store_begin(st), OSAP_ESTORE_BUSY);
    /* Nothing half-done: no transaction is left open. */
    assert_int_equal(osap_store_commit(st), OSAP_ESTATE);
    expect_child_ok(pid);
    /* Once the other process is done, the same handle works. */
    assert_int_equal(osap_store_device_add(st, &d), OSAP_OK);
    assert_int_equal(osap_store_device_get(st, "IMPATIENT", &got), OSAP_OK);
    osap_store_close(st);
    cfg.busy_timeout_ms = 5000;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_threads_write_concurrently, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_process_holds_lock_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_process_holds_lock_busy, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
