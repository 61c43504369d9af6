/* The DAS's saved state: the binary form of a persistent session (byte-exact,
 * round trip, every truncation and corruption refused without a crash, counts that
 * promise more than the blob holds, allocation failures) and the state file (save,
 * reload, per-worker replacement, a damaged file, setting it aside). */
#include "testutil.h"

#include "osap/alloc.h"
#include "store_das_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* next pid 0x0102; subscription "a/#" QoS 1; incoming QoS 2 id 7; in flight: id 5,
 * QoS 2, PUBREL sent; queued: QoS 1, RETAIN 1, published at QoS 2 on "t", "hi". */
static const char small_hex[] = "01"
                                "0102"
                                "00000001"
                                "0003612f2301"
                                "00000001"
                                "0007"
                                "00000001"
                                "0005020300"
                                "00000001"
                                "0101"
                                "02000174000000026869";

static void small_state(struct osap_das_session_state *st, struct osap_das_state_sub *sub,
                        uint16_t *rel, struct osap_das_state_item *inflight,
                        struct osap_das_state_item *queued)
{
    memset(st, 0, sizeof(*st));
    memset(sub, 0, sizeof(*sub));
    memset(inflight, 0, sizeof(*inflight));
    memset(queued, 0, sizeof(*queued));
    st->next_pid = 0x0102;
    sub->filter = "a/#";
    sub->len = 3;
    sub->qos = 1;
    *rel = 7;
    inflight->pid = 5;
    inflight->qos = 2;
    inflight->state = OSAP_DAS_STATE_WAIT_PUBCOMP;
    queued->qos = 1;
    queued->retain = 1;
    queued->pub_qos = 2;
    queued->topic = "t";
    queued->topic_len = 1;
    queued->payload = (const uint8_t *)"hi";
    queued->payload_len = 2;
    st->subs = sub;
    st->nsubs = 1;
    st->rel = rel;
    st->nrel = 1;
    st->inflight = inflight;
    st->ninflight = 1;
    st->queued = queued;
    st->nqueued = 1;
}

static void test_encode_exact_bytes(void **state)
{
    struct osap_das_session_state st;
    struct osap_das_state_sub sub;
    struct osap_das_state_item inflight, queued;
    uint16_t rel;
    uint8_t *blob = NULL;
    size_t len = 0, want_len;
    uint8_t *want = test_hex(small_hex, &want_len);
    (void)state;

    small_state(&st, &sub, &rel, &inflight, &queued);
    assert_int_equal(osap_das_state_encode(&st, &blob, &len), OSAP_OK);
    assert_bytes_equal(blob, len, want, want_len);
    osap_free(blob);
    test_free_buf(want);
}

static void test_decode_exact_bytes(void **state)
{
    struct osap_das_session_state st;
    size_t len;
    uint8_t *blob = test_hex(small_hex, &len);
    (void)state;

    assert_int_equal(osap_das_state_decode(blob, len, &st), OSAP_OK);
    assert_int_equal(st.next_pid, 0x0102);
    assert_int_equal(st.nsubs, 1);
    assert_int_equal(st.subs[0].len, 3);
    assert_memory_equal(st.subs[0].filter, "a/#", 3);
    assert_int_equal(st.subs[0].qos, 1);
    assert_int_equal(st.nrel, 1);
    assert_int_equal(st.rel[0], 7);
    assert_int_equal(st.ninflight, 1);
    assert_int_equal(st.inflight[0].pid, 5);
    assert_int_equal(st.inflight[0].qos, 2);
    assert_int_equal(st.inflight[0].state, OSAP_DAS_STATE_WAIT_PUBCOMP);
    assert_null(st.inflight[0].topic);
    assert_int_equal(st.nqueued, 1);
    assert_int_equal(st.queued[0].qos, 1);
    assert_int_equal(st.queued[0].retain, 1);
    assert_int_equal(st.queued[0].pub_qos, 2);
    assert_int_equal(st.queued[0].topic_len, 1);
    assert_memory_equal(st.queued[0].topic, "t", 1);
    assert_int_equal(st.queued[0].payload_len, 2);
    assert_memory_equal(st.queued[0].payload, "hi", 2);
    osap_das_state_release(&st);
    test_free_buf(blob);
}

/* A larger state: every in-flight state, empty payloads, many entries. */
static void big_blob(uint8_t **blob, size_t *len)
{
    struct osap_das_state_sub subs[3] = {{"x/+/y", 5, 0}, {"#", 1, 2}, {"/", 1, 1}};
    uint16_t rel[4] = {1, 2, 65535, 300};
    struct osap_das_state_item inflight[3], queued[4];
    struct osap_das_session_state st;

    memset(inflight, 0, sizeof(inflight));
    memset(queued, 0, sizeof(queued));
    inflight[0] = (struct osap_das_state_item){"a", (const uint8_t *)"1", 1, 1, 10, 1, 1, 0, 1};
    inflight[1] = (struct osap_das_state_item){"bb", (const uint8_t *)"", 0, 2, 11, 2, 2, 1, 2};
    inflight[2] = (struct osap_das_state_item){NULL, NULL, 0, 0, 12, 2, 3, 0, 0};
    for (int i = 0; i < 4; i++)
        queued[i] = (struct osap_das_state_item){"q/t",
                                                 (const uint8_t *)"payload",
                                                 7,
                                                 3,
                                                 0,
                                                 (uint8_t)(i % 3),
                                                 0,
                                                 (uint8_t)(i & 1),
                                                 (uint8_t)(i % 3)};
    memset(&st, 0, sizeof(st));
    st.next_pid = 13;
    st.subs = subs;
    st.nsubs = 3;
    st.rel = rel;
    st.nrel = 4;
    st.inflight = inflight;
    st.ninflight = 3;
    st.queued = queued;
    st.nqueued = 4;
    assert_int_equal(osap_das_state_encode(&st, blob, len), OSAP_OK);
}

static void test_round_trip(void **state)
{
    struct osap_das_session_state st;
    uint8_t *blob, *again;
    size_t len, again_len;
    (void)state;

    big_blob(&blob, &len);
    assert_int_equal(osap_das_state_decode(blob, len, &st), OSAP_OK);
    assert_int_equal(st.nsubs, 3);
    assert_int_equal(st.nrel, 4);
    assert_int_equal(st.rel[2], 65535);
    assert_int_equal(st.ninflight, 3);
    assert_int_equal(st.inflight[1].payload_len, 0);
    assert_int_equal(st.inflight[1].retain, 1);
    assert_int_equal(st.nqueued, 4);
    assert_int_equal(st.queued[2].qos, 2);
    assert_int_equal(osap_das_state_encode(&st, &again, &again_len), OSAP_OK);
    assert_bytes_equal(again, again_len, blob, len);
    osap_das_state_release(&st);
    osap_free(again);
    osap_free(blob);
}

static void test_every_truncation_refused(void **state)
{
    struct osap_das_session_state st;
    uint8_t *blob;
    size_t len;
    (void)state;

    big_blob(&blob, &len);
    for (size_t n = 0; n < len; n++) {
        /* a copy of exactly n bytes, so that ASan sees any read beyond them */
        uint8_t *cut = osap_malloc(n ? n : 1);
        assert_non_null(cut);
        memcpy(cut, blob, n);
        assert_int_not_equal(osap_das_state_decode(cut, n, &st), OSAP_OK);
        osap_free(cut);
    }
    osap_free(blob);
}

static void test_trailing_and_version(void **state)
{
    struct osap_das_session_state st;
    uint8_t *blob, *longer;
    size_t len;
    (void)state;

    big_blob(&blob, &len);
    longer = osap_malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, blob, len);
    longer[len] = 0;
    assert_int_equal(osap_das_state_decode(longer, len + 1, &st), OSAP_ETRAILING);
    blob[0] = OSAP_DAS_STATE_VERSION + 1;
    assert_int_equal(osap_das_state_decode(blob, len, &st), OSAP_ESTORE_SCHEMA);
    osap_free(longer);
    osap_free(blob);
}

static void test_every_byte_corrupted(void **state)
{
    struct osap_das_session_state st;
    uint8_t *blob;
    size_t len;
    static const uint8_t values[] = {0x00, 0x03, 0x7f, 0x80, 0xff};
    (void)state;

    big_blob(&blob, &len);
    for (size_t i = 0; i < len; i++) {
        uint8_t keep = blob[i];
        for (size_t k = 0; k < sizeof(values); k++) {
            blob[i] = values[k];
            if (osap_das_state_decode(blob, len, &st) == OSAP_OK) {
                /* accepted: then every field is in range */
                for (uint32_t j = 0; j < st.nqueued; j++)
                    assert_true(st.queued[j].qos <= 2 && st.queued[j].retain <= 1);
                for (uint32_t j = 0; j < st.ninflight; j++)
                    assert_true(st.inflight[j].pid != 0);
                assert_true(st.next_pid != 0);
                osap_das_state_release(&st);
            }
        }
        blob[i] = keep;
    }
    osap_free(blob);
}

static void test_counts_beyond_the_blob(void **state)
{
    struct osap_das_session_state st;
    size_t len;
    /* 0xffffffff subscriptions promised, none there: refused before any allocation */
    uint8_t *blob = test_hex("010001ffffffff", &len);
    (void)state;

    test_alloc_install();
    test_alloc_fail_after(0);
    assert_int_equal(osap_das_state_decode(blob, len, &st), OSAP_EINVAL);
    test_alloc_reset();
    osap_set_allocator(NULL);
    test_free_buf(blob);
    /* next packet id 0 */
    blob = test_hex("01000000000000000000000000000000000000", &len);
    assert_int_equal(osap_das_state_decode(blob, len, &st), OSAP_EINVAL);
    test_free_buf(blob);
    /* an empty filter */
    blob = test_hex("01000100000001000001000000000000000000000000", &len);
    assert_int_equal(osap_das_state_decode(blob, len, &st), OSAP_EINVAL);
    test_free_buf(blob);
}

static void test_encode_refuses_invalid(void **state)
{
    struct osap_das_session_state st;
    struct osap_das_state_sub sub;
    struct osap_das_state_item inflight, queued;
    uint16_t rel;
    uint8_t *blob = NULL;
    size_t len = 0;
    (void)state;

    small_state(&st, &sub, &rel, &inflight, &queued);
    st.next_pid = 0;
    assert_int_equal(osap_das_state_encode(&st, &blob, &len), OSAP_EINVAL);
    small_state(&st, &sub, &rel, &inflight, &queued);
    sub.qos = 3;
    assert_int_equal(osap_das_state_encode(&st, &blob, &len), OSAP_EINVAL);
    small_state(&st, &sub, &rel, &inflight, &queued);
    rel = 0;
    assert_int_equal(osap_das_state_encode(&st, &blob, &len), OSAP_EINVAL);
    small_state(&st, &sub, &rel, &inflight, &queued);
    inflight.qos = 1; /* QoS 1 waits for PUBACK only */
    assert_int_equal(osap_das_state_encode(&st, &blob, &len), OSAP_EINVAL);
    small_state(&st, &sub, &rel, &inflight, &queued);
    inflight.pid = 0;
    assert_int_equal(osap_das_state_encode(&st, &blob, &len), OSAP_EINVAL);
    small_state(&st, &sub, &rel, &inflight, &queued);
    queued.topic_len = 0;
    assert_int_equal(osap_das_state_encode(&st, &blob, &len), OSAP_EINVAL);
    small_state(&st, &sub, &rel, &inflight, &queued);
    queued.retain = 2;
    assert_int_equal(osap_das_state_encode(&st, &blob, &len), OSAP_EINVAL);
    assert_null(blob);
}

static void test_decode_allocation_failures(void **state)
{
    struct osap_das_session_state st;
    uint8_t *blob;
    size_t len;
    osap_err err = OSAP_ENOMEM;
    (void)state;

    big_blob(&blob, &len);
    test_alloc_install();
    for (long n = 0; n < 20 && err != OSAP_OK; n++) {
        test_alloc_fail_after(n);
        err = osap_das_state_decode(blob, len, &st);
        test_alloc_reset();
        assert_true(err == OSAP_OK || err == OSAP_ENOMEM);
        if (err == OSAP_OK) osap_das_state_release(&st);
    }
    osap_set_allocator(NULL);
    assert_int_equal(err, OSAP_OK);
    osap_free(blob);
}

/* ------------------------------------------------------------------------ */
/* The file                                                                 */
/* ------------------------------------------------------------------------ */

struct seen {
    int retained, sessions;
    char topics[512];
    char ids[512];
    int workers_blob_ok;
};

static osap_err see_retained(void *ctx, const char *topic, size_t tlen, const uint8_t *payload,
                             size_t len, int qos)
{
    struct seen *s = ctx;
    size_t used = strlen(s->topics);
    snprintf(s->topics + used, sizeof(s->topics) - used, "%.*s=%.*s/%d;", (int)tlen, topic,
             (int)len, (const char *)payload, qos);
    s->retained++;
    return OSAP_OK;
}

static osap_err see_session(void *ctx, const char *id, size_t id_len, const uint8_t *blob,
                            size_t len)
{
    struct seen *s = ctx;
    struct osap_das_session_state st;
    size_t used = strlen(s->ids);
    snprintf(s->ids + used, sizeof(s->ids) - used, "%.*s;", (int)id_len, id);
    if (osap_das_state_decode(blob, len, &st) == OSAP_OK) {
        s->workers_blob_ok++;
        osap_das_state_release(&st);
    }
    s->sessions++;
    return OSAP_OK;
}

static const struct osap_das_state_visitor visitor = {see_retained, see_session};

static void temp_path(char *dir, size_t dcap, char *path, size_t pcap)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, dcap, "%s/osap-test-das-state-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    assert_non_null(mkdtemp(dir));
    snprintf(path, pcap, "%s/das_state.db", dir);
}

static void test_file_save_and_load(void **state)
{
    char dir[1024], path[1100], aside[1200];
    struct osap_das_state_db *db = NULL;
    struct seen seen;
    uint8_t *blob;
    size_t len;
    (void)state;

    temp_path(dir, sizeof(dir), path, sizeof(path));
    big_blob(&blob, &len);
    assert_int_equal(osap_das_state_open(path, &db), OSAP_OK);
    assert_int_equal(osap_das_state_begin(db), OSAP_OK);
    assert_int_equal(osap_das_state_put_retained(db, "r/1", 3, (const uint8_t *)"one", 3, 1),
                     OSAP_OK);
    assert_int_equal(osap_das_state_put_retained(db, "r/2", 3, (const uint8_t *)"two", 3, 2),
                     OSAP_OK);
    assert_int_equal(osap_das_state_put_session(db, "c0", 2, 0, blob, len), OSAP_OK);
    assert_int_equal(osap_das_state_put_session(db, "c1", 2, 1, blob, len), OSAP_OK);
    assert_int_equal(osap_das_state_commit(db), OSAP_OK);
    /* an abandoned snapshot changes nothing */
    assert_int_equal(osap_das_state_begin(db), OSAP_OK);
    assert_int_equal(osap_das_state_clear_retained(db), OSAP_OK);
    assert_int_equal(osap_das_state_clear_sessions(db, -1), OSAP_OK);
    osap_das_state_rollback(db);
    osap_das_state_close(db);

    db = NULL;
    assert_int_equal(osap_das_state_open(path, &db), OSAP_OK);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(osap_das_state_load(db, &visitor, &seen), OSAP_OK);
    assert_int_equal(seen.retained, 2);
    assert_non_null(strstr(seen.topics, "r/1=one/1;"));
    assert_non_null(strstr(seen.topics, "r/2=two/2;"));
    assert_int_equal(seen.sessions, 2);
    assert_int_equal(seen.workers_blob_ok, 2);
    /* worker 1's sessions replaced: c0 stays */
    assert_int_equal(osap_das_state_begin(db), OSAP_OK);
    assert_int_equal(osap_das_state_clear_sessions(db, 1), OSAP_OK);
    assert_int_equal(osap_das_state_put_session(db, "c2", 2, 1, blob, len), OSAP_OK);
    assert_int_equal(osap_das_state_commit(db), OSAP_OK);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(osap_das_state_load(db, &visitor, &seen), OSAP_OK);
    assert_int_equal(seen.sessions, 2);
    assert_non_null(strstr(seen.ids, "c0;"));
    assert_non_null(strstr(seen.ids, "c2;"));
    assert_null(strstr(seen.ids, "c1;"));
    osap_das_state_close(db);

    /* damaged: refused as unreadable, set aside, a new file starts empty */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    for (int i = 0; i < 64; i++)
        fputs("garbage!", f);
    fclose(f);
    db = NULL;
    assert_int_equal(osap_das_state_open(path, &db), OSAP_ESTORE);
    assert_null(db);
    assert_int_equal(osap_das_state_set_aside(path), OSAP_OK);
    snprintf(aside, sizeof(aside), "%s.corrupt", path);
    assert_int_equal(access(aside, F_OK), 0);
    assert_int_equal(osap_das_state_open(path, &db), OSAP_OK);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(osap_das_state_load(db, &visitor, &seen), OSAP_OK);
    assert_int_equal(seen.retained + seen.sessions, 0);
    osap_das_state_close(db);

    osap_free(blob);
    unlink(path);
    unlink(aside);
    rmdir(dir);
}

static void test_file_not_ours(void **state)
{
    char dir[1024], path[1100];
    struct osap_das_state_db *db = NULL;
    FILE *f;
    (void)state;

    temp_path(dir, sizeof(dir), path, sizeof(path));
    /* an empty file is a new database; a text file is not a database */
    f = fopen(path, "wb");
    assert_non_null(f);
    fputs("SQLite format 3 but not really\n", f);
    fclose(f);
    assert_int_equal(osap_das_state_open(path, &db), OSAP_ESTORE);
    assert_null(db);
    unlink(path);
    assert_int_equal(osap_das_state_set_aside(path), OSAP_OK); /* nothing to move: fine */
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_exact_bytes),
        cmocka_unit_test(test_decode_exact_bytes),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_every_truncation_refused),
        cmocka_unit_test(test_trailing_and_version),
        cmocka_unit_test(test_every_byte_corrupted),
        cmocka_unit_test(test_counts_beyond_the_blob),
        cmocka_unit_test(test_encode_refuses_invalid),
        cmocka_unit_test(test_decode_allocation_failures),
        cmocka_unit_test(test_file_save_and_load),
        cmocka_unit_test(test_file_not_ours),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
