/* Ingest durability: a child process submits events and reports every completion
 * on a pipe; it is killed with SIGKILL in the middle of its work. Every event
 * whose completion was reported (the DAS would have acknowledged it) must be in
 * the database afterwards, for both synchronous modes. */
#include "testutil.h"

#include "ingest/ingest.h"
#include "store.h"

#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define EVENTS     20000
#define KILL_AFTER 1500

static int completion_fd = -1;

static void on_done(osap_err err, int duplicate, void *userdata)
{
    uint32_t index = (uint32_t)(uintptr_t)userdata;
    (void)duplicate;
    if (err != OSAP_OK) return; /* not acknowledged */
    if (write(completion_fd, &index, sizeof(index)) != (ssize_t)sizeof(index)) _exit(3);
}

/* The child: never returns. */
static void child_main(const char *dir, const char *synchronous, int fd)
{
    struct osap_store_config scfg = {"sqlite", 5000, "normal", 1 << 20};
    struct ingest_config icfg = {EVENTS + 1, 256u << 20, 100, 0, NULL, 600000};
    struct ingest *ing = NULL;
    char uuid[32];

    icfg.synchronous = (char *)synchronous;
    completion_fd = fd;
    if (ingest_new(&icfg, &scfg, dir, &ing) != OSAP_OK) _exit(2);
    for (uint32_t i = 0; i < EVENTS; i++) {
        struct ingest_record r;
        memset(&r, 0, sizeof(r));
        snprintf(uuid, sizeof(uuid), "crash-%05u", i);
        r.kind = INGEST_EVENT;
        r.serial = "Q12345678";
        r.domain = "alarm";
        r.identifier = "motion";
        r.payload_json = "{\"level\":1}";
        r.uuid = uuid;
        r.seq = i;
        if (ingest_submit(ing, &r, on_done, (void *)(uintptr_t)i) != OSAP_OK) _exit(4);
        if (i % 64 == 0) usleep(200); /* like devices: a stream, not one burst */
    }
    pause(); /* wait to be killed */
    _exit(0);
}

static int stored(sqlite3 *db, uint32_t index)
{
    sqlite3_stmt *stmt = NULL;
    char uuid[32];
    int n = 0;
    snprintf(uuid, sizeof(uuid), "crash-%05u", index);
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM events WHERE uuid = ?1", -1, &stmt, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, uuid, -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return n;
}

static void run_crash(const char *synchronous)
{
    const char *tmp = getenv("TMPDIR");
    char dir[4096], db_path[4200], cmd[4300];
    struct osap_store_config scfg = {"sqlite", 5000, "normal", 1 << 20};
    struct osap_store *st = NULL;
    struct osap_device d;
    static uint32_t done[EVENTS];
    size_t n = 0;
    int fds[2], status = 0;
    sqlite3 *db = NULL;
    pid_t pid;

    snprintf(dir, sizeof(dir), "%s/osap-test-crash-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    assert_non_null(mkdtemp(dir));
    snprintf(db_path, sizeof(db_path), "%s/osap.db", dir);
    assert_int_equal(osap_store_open(&scfg, dir, &st), OSAP_OK);
    memset(&d, 0, sizeof(d));
    strcpy(d.serial, "Q12345678");
    strcpy(d.secret, "ABCDEF");
    assert_int_equal(osap_store_device_add(st, &d), OSAP_OK);
    osap_store_close(st);

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child_main(dir, synchronous, fds[1]);
    }
    close(fds[1]);
    /* Read completions until enough were reported, then kill at once. */
    while (n < KILL_AFTER) {
        ssize_t r = read(fds[0], &done[n], sizeof(done[0]));
        if (r < 0 && errno == EINTR) continue;
        assert_int_equal(r, (ssize_t)sizeof(done[0]));
        n++;
    }
    kill(pid, SIGKILL);
    /* Completions written before the kill are still in the pipe. */
    for (;;) {
        ssize_t r = read(fds[0], &done[n], sizeof(done[0]));
        if (r <= 0) break;
        assert_int_equal(r, (ssize_t)sizeof(done[0]));
        n++;
    }
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    print_message("synchronous=%s: %zu of %d events acknowledged before the kill\n", synchronous, n,
                  EVENTS);

    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    for (size_t i = 0; i < n; i++) {
        if (stored(db, done[i]) != 1) fail_msg("acknowledged event %u is not stored", done[i]);
    }
    sqlite3_close(db);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_crash_full(void **state)
{
    (void)state;
    run_crash("full");
}

static void test_crash_normal(void **state)
{
    (void)state;
    run_crash("normal");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_full),
        cmocka_unit_test(test_crash_normal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
