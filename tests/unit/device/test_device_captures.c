/*
 * The SDK against every golden capture: a scripted in-memory server plays the
 * capture's server messages and every message the SDK sends (LBS frames, MQTT
 * packets, encrypted payloads) must equal the real device's byte for byte. The
 * recorded key material (device public key, master key), random bytes and wall
 * clock are injected; the session keys come from the server messages. Also:
 * reads of one byte at a time and writes of a few bytes, what is persisted,
 * the retry timing, and that corrupted or truncated server answers never make
 * the SDK accept other data.
 */
#include "capture_replay.h"

#include "osap/alloc.h"

static void check_outcome(struct replay *r, struct fake *f, osap_device_t *dev)
{
    const cJSON *st = golden_get(golden_get(r->root, "device"), "stored_before");
    const char *path = golden_str_or_null(golden_get(r->root, "derived"), "path");
    uint8_t buf[64];
    size_t len = 0;
    struct osap_device_stats s;
    int wrong_code = strstr(r->file, "_d_wrong_vcode") != NULL;

    osap_device_stats(dev, &s);
    if (wrong_code) {
        /* nothing persisted; the device keeps trying with the LBS */
        assert_int_equal(f->port.kv_get(f->port.ctx, "devid", buf, sizeof(buf), &len),
                         OSAP_ENOTFOUND);
        assert_int_equal(f->port.kv_get(f->port.ctx, "masterkey", buf, sizeof(buf), &len),
                         OSAP_ENOTFOUND);
        assert_int_equal(s.last_error, OSAP_ELBS_RESULT_SIGN);
        assert_int_equal(s.online_count, 0);
        /* upper then lower at once; then 2 s, then 4 s (connections 1..6) */
        assert_true(f->nconns == 6);
        assert_int_equal(f->conns[1].t_open, f->conns[0].t_close);
        assert_int_equal(f->conns[2].t_open - f->conns[1].t_close, 2000);
        assert_int_equal(f->conns[3].t_open, f->conns[2].t_close);
        assert_int_equal(f->conns[4].t_open - f->conns[3].t_close, 4000);
        for (int i = 0; i < f->nconns; i++)
            assert_true(f->conns[i].closed);
        return;
    }
    assert_int_equal(s.online_count, 1);
    assert_int_equal(s.last_path, path ? path[0] : 0);
    assert_int_equal(f->port.kv_get(f->port.ctx, "devid", buf, sizeof(buf), &len), OSAP_OK);
    assert_int_equal(len, OSAP_DEVID_LEN);
    assert_memory_equal(buf, "GOLDEN0123456789ABCDEF0123456789", OSAP_DEVID_LEN);
    assert_int_equal(f->port.kv_get(f->port.ctx, "masterkey", buf, sizeof(buf), &len), OSAP_OK);
    assert_int_equal(len, OSAP_MASTER_KEY_LEN);
    if (golden_str_or_null(st, "masterkey"))
        assert_memory_equal(buf, golden_str(st, "masterkey"), OSAP_MASTER_KEY_LEN);
    else
        assert_memory_equal(buf, r->master_key, OSAP_MASTER_KEY_LEN);
    /* the LBS connection was closed by the device before the DAS one opened */
    assert_true(f->conns[f->nconns - 2].closed);
    assert_true(f->conns[f->nconns - 2].t_close <= f->conns[f->nconns - 1].t_open);
    /* clean stop: DISCONNECT, then the connection closed */
    assert_true(f->conns[f->nconns - 1].closed);
    assert_int_equal(osap_device_state(dev), OSAP_DEVICE_STOPPED);
    if (strstr(r->file, "_a_first_start")) {
        assert_int_equal(r->sets, 1);
        assert_int_equal(r->operates, 1);
        assert_int_equal(r->shadow_sets, 1);
        assert_int_equal(r->desired, 0); /* the query_reply had no desired values */
        assert_int_equal(s.events_sent, 1);
        assert_int_equal(s.events_acked, 1);
        assert_int_equal(s.events_queued, 0);
        assert_int_equal(s.reports_acked, 1);
    }
}

static void replay_one(const char *file, size_t read_chunk, size_t write_chunk)
{
    struct replay r;
    struct fake f;
    struct osap_device_config cfg;
    osap_device_t *dev = NULL;

    replay_load(&r, file);
    fake_setup(&f, NULL);
    f.read_chunk = read_chunk;
    f.write_chunk = write_chunk;
    rp_preload(&r, &f);
    rp_device_config(&r, &f, &cfg);
    assert_int_equal(osap_device_new(&cfg, &dev), OSAP_OK);
    rp_run(&r, &f, dev);
    if (strstr(file, "_d_wrong_vcode")) {
        check_outcome(&r, &f, dev);
        assert_int_equal(osap_device_stop(dev), OSAP_OK);
        assert_int_equal(osap_device_state(dev), OSAP_DEVICE_STOPPED);
    } else {
        check_outcome(&r, &f, dev);
    }
    osap_device_free(dev);
    fake_free(&f);
    replay_free(&r);
}

static void test_replay_all(void **state)
{
    (void)state;
    for (size_t i = 0; i < GOLDEN_NFILES; i++)
        replay_one(golden_files[i], 0, 0);
}

static void test_replay_byte_by_byte(void **state)
{
    (void)state;
    for (size_t i = 0; i < GOLDEN_NFILES; i++)
        replay_one(golden_files[i], 1, 3);
}

/* The same replay in memory the caller gives (osap_device_init). */
static void test_replay_caller_memory(void **state)
{
    struct replay r;
    struct fake f;
    struct osap_device_config cfg;
    osap_device_t *dev = NULL;
    size_t size;
    void *mem;

    (void)state;
    replay_load(&r, "captures/sap_a_first_start.json");
    fake_setup(&f, NULL);
    rp_device_config(&r, &f, &cfg);
    size = osap_device_size(&cfg);
    assert_true(size > 0);
    mem = aligned_alloc(16, (size + 15) / 16 * 16);
    assert_non_null(mem);
    assert_int_equal(osap_device_init(mem, size - 1, &cfg, &dev), OSAP_EBUFSIZE);
    assert_int_equal(osap_device_init(mem, size, &cfg, &dev), OSAP_OK);
    assert_ptr_equal(dev, mem);
    rp_run(&r, &f, dev);
    check_outcome(&r, &f, dev);
    osap_device_release(dev);
    free(mem);
    fake_free(&f);
    replay_free(&r);
}

/* ------------------------------------------------------------------------ */
/* Corrupted and truncated LBS answers                                      */
/* ------------------------------------------------------------------------ */

/* Run sap_a up to server message @p target (an LBS answer), replaced by @p bytes
 * (@p len; the server closes after it). The device must not complete this
 * attempt with other data: either the attempt fails (and a retry is scheduled,
 * nothing persisted) or, when the change is one the device ignores, the result
 * is exactly the recorded one. */
static void lbs_answer_variant(size_t target, const uint8_t *bytes, size_t len)
{
    struct replay r;
    struct fake f;
    struct osap_device_config cfg;
    osap_device_t *dev = NULL;
    struct osap_device_stats s;
    struct osap_lbs_das_info das;
    uint8_t buf[64];
    size_t klen;
    int stopped = 0;

    replay_load(&r, "captures/sap_a_first_start.json");
    fake_setup(&f, NULL);
    rp_device_config(&r, &f, &cfg);
    assert_int_equal(osap_device_new(&cfg, &dev), OSAP_OK);
    assert_int_equal(osap_device_start(dev), OSAP_OK);
    for (size_t i = 0; i <= target; i++) {
        const struct replay_msg *m = &r.msgs[i];
        int ci = m->conn - 1;
        if (!m->to_server) {
            if (i == target) {
                fake_feed(&f, ci, bytes, len);
                f.conns[ci].eof = 1;
            } else {
                fake_feed(&f, ci, m->bytes, m->len);
            }
            continue;
        }
        rp_before(&r, &f, dev, m, &stopped);
        assert_true(fake_run_until_output(&f, dev, ci, m->len, 10000));
        f.conns[ci].out_seen += m->len;
    }
    fake_step(&f, dev);
    osap_device_stats(dev, &s);
    if (s.lbs_failures == 0) {
        /* accepted: it must be what was recorded */
        assert_int_equal(osap_device_das(dev, &das), OSAP_OK);
        assert_string_equal(das.address, "127.0.0.1");
        assert_int_equal(das.port, 18667);
        assert_int_equal(f.port.kv_get(f.port.ctx, "devid", buf, sizeof(buf), &klen), OSAP_OK);
        assert_memory_equal(buf, "GOLDEN0123456789ABCDEF0123456789", OSAP_DEVID_LEN);
    } else {
        assert_int_equal(osap_device_state(dev), OSAP_DEVICE_LBS);
        assert_int_equal(f.port.kv_get(f.port.ctx, "devid", buf, sizeof(buf), &klen),
                         OSAP_ENOTFOUND);
        assert_true(f.conns[0].closed);
        assert_int_equal(osap_device_das(dev, &das), OSAP_ESTATE);
    }
    osap_device_free(dev);
    fake_free(&f);
    replay_free(&r);
}

static void test_lbs_answers_corrupted(void **state)
{
    struct replay r;

    (void)state;
    replay_load(&r, "captures/sap_a_first_start.json");
    for (size_t t = 0; t < r.n; t++) {
        const struct replay_msg *m = &r.msgs[t];
        if (m->to_server || m->conn != 1) continue;
        uint8_t *copy = malloc(m->len);
        assert_non_null(copy);
        for (size_t i = 0; i < m->len; i++) {
            memcpy(copy, m->bytes, m->len);
            copy[i] ^= 0x01;
            lbs_answer_variant(t, copy, m->len);
            copy[i] ^= 0xFF;
            lbs_answer_variant(t, copy, m->len);
        }
        free(copy);
    }
    replay_free(&r);
}

static void test_lbs_answers_truncated(void **state)
{
    struct replay r;

    (void)state;
    replay_load(&r, "captures/sap_a_first_start.json");
    for (size_t t = 0; t < r.n; t++) {
        const struct replay_msg *m = &r.msgs[t];
        if (m->to_server || m->conn != 1) continue;
        for (size_t n = 0; n < m->len; n++)
            lbs_answer_variant(t, m->bytes, n);
    }
    replay_free(&r);
}

/* Allocation failures while the whole first start runs: no crash, no leak. */
static void test_alloc_failures(void **state)
{
    (void)state;
    test_alloc_install();
    for (long n = 0; n < 400; n += 7) {
        struct replay r;
        struct fake f;
        struct osap_device_config cfg;
        osap_device_t *dev = NULL;
        int stopped = 0;

        replay_load(&r, "captures/sap_a_first_start.json");
        r.lenient = 1;
        fake_setup(&f, NULL);
        rp_device_config(&r, &f, &cfg);
        test_alloc_fail_after(n);
        if (osap_device_new(&cfg, &dev) == OSAP_OK) {
            if (osap_device_start(dev) == OSAP_OK) {
                for (size_t i = 0; i < r.n; i++) {
                    const struct replay_msg *m = &r.msgs[i];
                    int ci = m->conn - 1;
                    if (!m->to_server) {
                        rp_before_feed(&r, &f, i);
                        if (ci < f.nconns) fake_feed(&f, ci, m->bytes, m->len);
                        continue;
                    }
                    rp_before(&r, &f, dev, m, &stopped);
                    if (!fake_run_until_output(&f, dev, ci, m->len, 5000)) break;
                    f.conns[ci].out_seen += m->len;
                }
            }
            osap_device_free(dev);
        }
        test_alloc_reset();
        fake_free(&f);
        replay_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_all),
        cmocka_unit_test(test_replay_byte_by_byte),
        cmocka_unit_test(test_replay_caller_memory),
        cmocka_unit_test(test_lbs_answers_corrupted),
        cmocka_unit_test(test_lbs_answers_truncated),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
