/*
 * The offline event queue on its own: order, removal only on acknowledgement
 * (also out of order), rewinding, reopening, a torn or corrupted file cut at
 * every byte, the count and byte bounds, compaction and the fsync policies.
 */
#include "testutil.h"

#include "device_internal.h"

#include "osap/device_port.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct qenv {
    char dir[256];
    struct osap_device_port store; /* POSIX port on dir */
    struct osap_device_port port;  /* the same, counting syncs */
    int syncs;
    struct dev_queue q;
    struct osap_device_queue_config cfg;
};

static struct qenv *current;

static osap_err counting_sync(void *ctx, void *file)
{
    current->syncs++;
    return current->store.file_sync(ctx, file);
}

static void qenv_init(struct qenv *e)
{
    struct osap_device_posix_config pc;

    memset(e, 0, sizeof(*e));
    assert_int_equal(test_scratch_dir(e->dir, sizeof(e->dir), "queue"), 0);
    pc.state_dir = e->dir;
    pc.bind_addr = NULL;
    assert_int_equal(osap_device_port_posix_new(&pc, &e->store), OSAP_OK);
    e->port = e->store;
    e->port.file_sync = counting_sync;
    current = e;
}

static void qenv_open(struct qenv *e)
{
    assert_int_equal(osap__queue_open(&e->q, &e->port, &e->cfg, 4096), OSAP_OK);
}

static void qenv_free(struct qenv *e)
{
    osap__queue_close(&e->q);
    osap_device_port_posix_free(&e->store);
    assert_int_equal(test_rmtree(e->dir), 0);
}

static uint64_t put(struct qenv *e, const char *text)
{
    size_t n = strlen(text);
    uint8_t *rec = malloc(DEV_QUEUE_HDR + n + DEV_QUEUE_CRC);
    uint64_t id = 0;
    uint32_t dropped = 0;

    assert_non_null(rec);
    memcpy(rec + DEV_QUEUE_HDR, text, n);
    assert_int_equal(osap__queue_append(&e->q, rec, n, 0, &id, &dropped), OSAP_OK);
    free(rec);
    return id;
}

/* Peek and hand out the next record; its text into @p out. */
static uint64_t take(struct qenv *e, char *out, size_t cap)
{
    size_t len = 0;
    uint64_t id = 0;
    assert_int_equal(osap__queue_peek(&e->q, (uint8_t *)out, cap - 1, &len, &id), OSAP_OK);
    out[len] = '\0';
    osap__queue_advance(&e->q);
    return id;
}

static void path_of(const struct qenv *e, char *out, size_t cap)
{
    snprintf(out, cap, "%s/events.q", e->dir);
}

static long file_len(const struct qenv *e)
{
    char p[320];
    FILE *f;
    long n;
    path_of(e, p, sizeof(p));
    f = fopen(p, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fclose(f);
    return n;
}

static void test_crc32(void **state)
{
    (void)state;
    assert_int_equal(osap__crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(osap__crc32(osap__crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
    assert_int_equal(osap__crc32(0, "", 0), 0);
}

static void test_order_and_acks(void **state)
{
    struct qenv e;
    char buf[64];
    uint64_t a, b, c;
    size_t len;
    uint64_t id;

    (void)state;
    qenv_init(&e);
    qenv_open(&e);
    a = put(&e, "one");
    b = put(&e, "two");
    c = put(&e, "three");
    assert_true(a < b && b < c);
    assert_int_equal(e.q.count, 3);
    assert_true(osap__queue_has_next(&e.q));
    assert_int_equal(take(&e, buf, sizeof(buf)), a);
    assert_string_equal(buf, "one");
    /* peek without advancing returns the same record */
    assert_int_equal(osap__queue_peek(&e.q, (uint8_t *)buf, sizeof(buf), &len, &id), OSAP_OK);
    assert_int_equal(id, b);
    assert_int_equal(take(&e, buf, sizeof(buf)), b);
    assert_int_equal(take(&e, buf, sizeof(buf)), c);
    assert_string_equal(buf, "three");
    assert_false(osap__queue_has_next(&e.q));
    assert_int_equal(osap__queue_peek(&e.q, (uint8_t *)buf, sizeof(buf), &len, &id),
                     OSAP_ENOTFOUND);
    /* acknowledged out of order: nothing leaves before the oldest is acknowledged */
    assert_int_equal(osap__queue_ack(&e.q, b, 0), OSAP_OK);
    assert_int_equal(osap__queue_ack(&e.q, b, 0), OSAP_ENOTFOUND);
    assert_int_equal(e.q.count, 3);
    /* a rewind (reconnection) hands out what is not acknowledged */
    osap__queue_rewind(&e.q);
    assert_int_equal(take(&e, buf, sizeof(buf)), a);
    assert_int_equal(take(&e, buf, sizeof(buf)), c);
    assert_int_equal(osap__queue_ack(&e.q, a, 0), OSAP_OK);
    assert_int_equal(e.q.count, 1); /* a and b gone */
    assert_int_equal(osap__queue_ack(&e.q, a, 0), OSAP_ENOTFOUND);
    assert_int_equal(osap__queue_ack(&e.q, 999, 0), OSAP_ENOTFOUND);
    /* reopen: c is still there, ids keep growing */
    osap__queue_close(&e.q);
    qenv_open(&e);
    assert_int_equal(e.q.count, 1);
    assert_int_equal(take(&e, buf, sizeof(buf)), c);
    assert_string_equal(buf, "three");
    assert_true(put(&e, "four") > c);
    assert_int_equal(osap__queue_ack(&e.q, c, 0), OSAP_OK);
    osap__queue_close(&e.q);
    qenv_open(&e);
    assert_int_equal(e.q.count, 1);
    assert_int_equal(take(&e, buf, sizeof(buf)), c + 1);
    assert_string_equal(buf, "four");
    qenv_free(&e);
}

/* Cut the file at every length: what is read back is exactly the records that
 * were whole before the cut, and the tail is truncated away. */
static void test_torn_tail_every_length(void **state)
{
    struct qenv e;
    char path[320], buf[64];
    uint8_t *copy;
    long full;
    long ends[4];

    (void)state;
    qenv_init(&e);
    qenv_open(&e);
    put(&e, "alpha");
    ends[0] = file_len(&e);
    put(&e, "beta");
    ends[1] = file_len(&e);
    put(&e, "gamma-gamma");
    ends[2] = file_len(&e);
    osap__queue_close(&e.q);
    full = file_len(&e);
    path_of(&e, path, sizeof(path));
    copy = malloc((size_t)full);
    assert_non_null(copy);
    {
        FILE *f = fopen(path, "rb");
        assert_int_equal(fread(copy, 1, (size_t)full, f), (size_t)full);
        fclose(f);
    }
    for (long cut = 0; cut <= full; cut++) {
        FILE *f = fopen(path, "wb");
        uint32_t whole = cut >= ends[2] ? 3 : cut >= ends[1] ? 2 : cut >= ends[0] ? 1 : 0;
        fwrite(copy, 1, (size_t)cut, f);
        fclose(f);
        qenv_open(&e);
        assert_int_equal(e.q.count, whole);
        assert_int_equal(file_len(&e), whole ? ends[whole - 1] : 0);
        if (whole) {
            take(&e, buf, sizeof(buf));
            assert_string_equal(buf, "alpha");
        }
        /* the queue works on: a new record goes after the valid ones */
        put(&e, "next");
        osap__queue_close(&e.q);
        qenv_open(&e);
        assert_int_equal(e.q.count, whole + 1);
        osap__queue_close(&e.q);
    }
    free(copy);
    qenv_free(&e);
}

/* Change each byte: the records before the damaged one survive intact; the
 * damaged one and everything after it are cut off (never misread). */
static void test_corruption_every_byte(void **state)
{
    struct qenv e;
    char path[320], buf[64];
    uint8_t *copy;
    long full, ends[3];
    const char *texts[3] = {"first", "second", "third"};

    (void)state;
    qenv_init(&e);
    qenv_open(&e);
    for (int i = 0; i < 3; i++) {
        put(&e, texts[i]);
        ends[i] = file_len(&e);
    }
    osap__queue_close(&e.q);
    full = file_len(&e);
    path_of(&e, path, sizeof(path));
    copy = malloc((size_t)full);
    {
        FILE *f = fopen(path, "rb");
        assert_int_equal(fread(copy, 1, (size_t)full, f), (size_t)full);
        fclose(f);
    }
    for (long pos = 0; pos < full; pos++) {
        FILE *f = fopen(path, "wb");
        uint32_t before = pos >= ends[1] ? 2 : pos >= ends[0] ? 1 : 0;
        copy[pos] ^= 0x5A;
        fwrite(copy, 1, (size_t)full, f);
        fclose(f);
        copy[pos] ^= 0x5A;
        qenv_open(&e);
        assert_int_equal(e.q.count, before);
        for (uint32_t i = 0; i < before; i++) {
            take(&e, buf, sizeof(buf));
            assert_string_equal(buf, texts[i]);
        }
        osap__queue_close(&e.q);
    }
    free(copy);
    qenv_free(&e);
}

static void test_bounds(void **state)
{
    struct qenv e;
    char buf[64];
    uint8_t rec[DEV_QUEUE_HDR + 5000 + DEV_QUEUE_CRC];
    uint64_t id;
    uint32_t dropped = 0;

    (void)state;
    qenv_init(&e);
    e.cfg.max_events = 2;
    qenv_open(&e);
    put(&e, "a");
    put(&e, "b");
    memcpy(rec + DEV_QUEUE_HDR, "c", 1);
    assert_int_equal(osap__queue_append(&e.q, rec, 1, 0, &id, &dropped), OSAP_OK);
    assert_int_equal(dropped, 1);
    assert_int_equal(e.q.dropped, 1);
    assert_int_equal(take(&e, buf, sizeof(buf)), id - 1);
    assert_string_equal(buf, "b");
    /* the drop count survives a reopen */
    osap__queue_close(&e.q);
    qenv_open(&e);
    assert_int_equal(e.q.dropped, 1);
    assert_int_equal(e.q.count, 2);
    /* larger than a record may be */
    assert_int_equal(osap__queue_append(&e.q, rec, 5000, 0, &id, &dropped), OSAP_ETOOBIG);
    osap__queue_close(&e.q);

    /* refuse new ones; byte bound */
    e.cfg.max_events = 100;
    e.cfg.max_bytes = 3 * (DEV_QUEUE_HDR + 10 + DEV_QUEUE_CRC);
    e.cfg.when_full = OSAP_DEVICE_QUEUE_REFUSE_NEW;
    {
        char p[320];
        path_of(&e, p, sizeof(p));
        unlink(p);
    }
    qenv_open(&e);
    for (int i = 0; i < 3; i++)
        put(&e, "0123456789");
    memcpy(rec + DEV_QUEUE_HDR, "0123456789", 10);
    assert_int_equal(osap__queue_append(&e.q, rec, 10, 0, &id, &dropped), OSAP_EBUSY);
    assert_int_equal(e.q.count, 3);
    qenv_free(&e);
}

/* Many events through the queue: the file stays small (compaction), the order
 * holds, and a reopen in between changes nothing. */
static void test_compaction(void **state)
{
    struct qenv e;
    char text[300], buf[400];
    uint64_t ids[8];
    int n = 0, next_take = 0;

    (void)state;
    qenv_init(&e);
    e.cfg.fsync = OSAP_DEVICE_FSYNC_NEVER;
    qenv_open(&e);
    memset(text, 'x', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    for (int i = 0; i < 3000; i++) {
        snprintf(text, 16, "%08d", i);
        text[8] = 'x';
        ids[n++ % 8] = put(&e, text);
        if (i % 3 == 2) {
            /* take and acknowledge the oldest three */
            for (int k = 0; k < 3; k++) {
                uint64_t id = take(&e, buf, sizeof(buf));
                int want = next_take++;
                char head[16];
                snprintf(head, sizeof(head), "%08d", want);
                assert_memory_equal(buf, head, 8);
                assert_int_equal(osap__queue_ack(&e.q, id, 0), OSAP_OK);
            }
        }
        if (i % 500 == 250) {
            osap__queue_close(&e.q);
            qenv_open(&e);
            osap__queue_rewind(&e.q);
        }
        assert_true(e.q.file_size < 3 * 64 * 1024);
    }
    (void)ids;
    assert_int_equal(e.q.count, 0);
    assert_true(file_len(&e) < 3 * 64 * 1024);
    qenv_free(&e);
}

static void test_fsync_policies(void **state)
{
    struct qenv e;
    char buf[64];
    uint64_t id;

    (void)state;
    qenv_init(&e);
    qenv_open(&e); /* ALWAYS by default */
    e.syncs = 0;
    id = put(&e, "a");
    assert_int_equal(e.syncs, 1);
    take(&e, buf, sizeof(buf));
    assert_int_equal(osap__queue_ack(&e.q, id, 0), OSAP_OK);
    assert_int_equal(e.syncs, 2);
    osap__queue_close(&e.q);

    e.cfg.fsync = OSAP_DEVICE_FSYNC_INTERVAL;
    e.cfg.fsync_interval_ms = 500;
    qenv_open(&e);
    e.syncs = 0;
    {
        uint8_t rec[DEV_QUEUE_HDR + 1 + DEV_QUEUE_CRC];
        uint32_t dropped;
        rec[DEV_QUEUE_HDR] = 'b';
        assert_int_equal(osap__queue_append(&e.q, rec, 1, 1000, &id, &dropped), OSAP_OK);
    }
    assert_int_equal(e.syncs, 0);
    assert_int_equal(osap__queue_tick(&e.q, 1200), 1500);
    assert_int_equal(e.syncs, 0);
    assert_int_equal(osap__queue_tick(&e.q, 1500), OSAP_DEVICE_NEVER);
    assert_int_equal(e.syncs, 1);
    assert_int_equal(osap__queue_tick(&e.q, 3000), OSAP_DEVICE_NEVER);
    assert_int_equal(e.syncs, 1);
    osap__queue_close(&e.q);

    e.cfg.fsync = OSAP_DEVICE_FSYNC_NEVER;
    qenv_open(&e);
    e.syncs = 0;
    put(&e, "c");
    assert_int_equal(osap__queue_tick(&e.q, 1000000), OSAP_DEVICE_NEVER);
    osap__queue_close(&e.q);
    assert_int_equal(e.syncs, 0);
    qenv_open(&e);
    assert_int_equal(e.q.count, 2); /* b and c, written even without fsync */
    qenv_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_order_and_acks),
        cmocka_unit_test(test_torn_tail_every_length),
        cmocka_unit_test(test_corruption_every_byte),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_compaction),
        cmocka_unit_test(test_fsync_policies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
