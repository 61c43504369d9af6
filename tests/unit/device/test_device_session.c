/*
 * The device's behaviour against a scripted server (libosap's LBS machine and a
 * controllable MQTT responder) on fake time: the path chosen from the stored
 * state, forgetting on results 4 and 10, the share-key retry and back-off, the
 * CONNACK codes 10/11/12, registration and reconnection back-off, keep-alive and
 * liveness, and the graceful stop.
 */
#include "device_env.h"

/* ------------------------------------------------------------------------ */

static void test_paths_a_c_b(void **state)
{
    struct env e;
    uint8_t buf[64], devid[OSAP_DEVID_LEN];
    size_t len;
    struct osap_device_stats st;
    const struct fs_pub *c;
    cJSON *reg;

    (void)state;
    env_init(&e);
    env_start(&e);
    assert_online(&e, 5000);
    osap_device_stats(e.dev, &st);
    assert_int_equal(st.last_path, OSAP_LBS_PATH_A);
    assert_int_equal(e.s.last_path, OSAP_LBS_PATH_A);
    assert_int_equal(first_byte(&e, 0), 0x1A);
    assert_true(e.f.conns[0].closed);
    /* devid and master key persisted as the server issued them */
    assert_int_equal(e.f.port.kv_get(e.f.port.ctx, "devid", buf, sizeof(buf), &len), OSAP_OK);
    assert_int_equal(len, OSAP_DEVID_LEN);
    assert_memory_equal(buf, e.s.devid, OSAP_DEVID_LEN);
    memcpy(devid, buf, sizeof(devid));
    assert_int_equal(e.f.port.kv_get(e.f.port.ctx, "masterkey", buf, sizeof(buf), &len), OSAP_OK);
    assert_memory_equal(buf, e.s.master_key, OSAP_MASTER_KEY_LEN);
    /* full registration: 0xEE, firstconnect, the registration record */
    c = fs_nth(&e.s, OSAP_MQTT_CONNECT, NULL, 0);
    assert_non_null(c);
    assert_int_equal(c->flags, 0xEE);
    assert_string_equal(c->topic, "/Basic/pu2cenplt/Q12345678/firstconnect");
    reg = cJSON_Parse(c->body);
    assert_non_null(reg);
    assert_string_equal(cJSON_GetObjectItem(reg, "SubSerial")->valuestring, "Q12345678");
    assert_string_equal(cJSON_GetObjectItem(reg, "DevType")->valuestring, "CS-TEST");
    assert_string_equal(cJSON_GetObjectItem(reg, "LbsDomain")->valuestring, "127.0.0.1");
    assert_memory_equal(cJSON_GetObjectItem(reg, "DeviceID")->valuestring, devid, OSAP_DEVID_LEN);
    cJSON_Delete(reg);
    assert_string_equal(fs_nth(&e.s, OSAP_MQTT_SUBSCRIBE, NULL, 0)->topic, "/iot/Q12345678/#");
    assert_string_equal(fs_nth(&e.s, OSAP_MQTT_SUBSCRIBE, NULL, 1)->topic, "/Q12345678/#");
    assert_int_equal(fs_nth(&e.s, OSAP_MQTT_SUBSCRIBE, NULL, 0)->pid, 2);
    assert_int_equal(fs_nth(&e.s, OSAP_MQTT_SUBSCRIBE, NULL, 1)->qos, 1);

    /* restart with devid and master key: path C */
    env_kill(&e);
    int before = e.f.nconns;
    env_start(&e);
    assert_online(&e, 5000);
    osap_device_stats(e.dev, &st);
    assert_int_equal(st.last_path, OSAP_LBS_PATH_C);
    assert_int_equal(first_byte(&e, before), 0x70);
    assert_int_equal(e.s.last_path, OSAP_LBS_PATH_C);

    /* master key lost: path B, the devid is kept */
    assert_int_equal(osap_device_stop(e.dev), OSAP_OK);
    fs_run(&e.s, e.dev, 100);
    assert_int_equal(osap_device_state(e.dev), OSAP_DEVICE_STOPPED);
    env_kill(&e);
    assert_int_equal(e.f.port.kv_del(e.f.port.ctx, "masterkey"), OSAP_OK);
    before = e.f.nconns;
    env_start(&e);
    assert_online(&e, 5000);
    osap_device_stats(e.dev, &st);
    assert_int_equal(st.last_path, OSAP_LBS_PATH_B);
    assert_int_equal(first_byte(&e, before), 0x1A);
    assert_int_equal(e.f.port.kv_get(e.f.port.ctx, "devid", buf, sizeof(buf), &len), OSAP_OK);
    assert_memory_equal(buf, devid, OSAP_DEVID_LEN);
    env_free(&e);
}

static void test_result_4_and_10(void **state)
{
    struct env e;
    int n;

    (void)state;
    env_init(&e);
    env_start(&e);
    assert_online(&e, 5000);
    env_kill(&e);

    /* result 4 to path C: devid forgotten, the next attempt is path A (after 2 s) */
    e.s.lbs_force_result = OSAP_LBS_DEVID_MISMATCH;
    n = e.f.nconns;
    env_start(&e);
    fs_run(&e.s, e.dev, 100);
    assert_int_equal(first_byte(&e, n), 0x70);
    e.s.lbs_force_result = 0;
    fs_run(&e.s, e.dev, 2100);
    assert_int_equal(first_byte(&e, n + 1), 0x1A);
    assert_int_equal(e.f.conns[n + 1].t_open - e.f.conns[n].t_close, 2000);
    assert_online(&e, 1000);
    assert_int_equal(e.s.last_path, OSAP_LBS_PATH_A);
    env_kill(&e);

    /* result 10 to path C: master key forgotten, the next attempt is path B */
    e.s.lbs_force_result = OSAP_LBS_MASTERKEY_INVALID;
    n = e.f.nconns;
    env_start(&e);
    fs_run(&e.s, e.dev, 100);
    assert_int_equal(first_byte(&e, n), 0x70);
    e.s.lbs_force_result = 0;
    assert_online(&e, 3000);
    assert_int_equal(first_byte(&e, n + 1), 0x1A);
    assert_int_equal(e.s.last_path, OSAP_LBS_PATH_B);
    env_free(&e);
}

/* Both share-key cases refused: pairs of attempts, 2 s x n apart, capped at 120 s. */
static void test_wrong_code_backoff(void **state)
{
    struct env e;
    struct osap_device_stats st;
    uint8_t buf[64];
    size_t len;

    (void)state;
    env_init(&e);
    snprintf(e.s.vcode, sizeof(e.s.vcode), "ZZZZZZ");
    env_start(&e);
    fs_run(&e.s, e.dev, 30 * 60 * 1000);
    assert_int_not_equal(osap_device_state(e.dev), OSAP_DEVICE_ONLINE);
    osap_device_stats(e.dev, &st);
    assert_int_equal(st.last_error, OSAP_ELBS_RESULT_SIGN);
    assert_int_equal(e.f.port.kv_get(e.f.port.ctx, "devid", buf, sizeof(buf), &len),
                     OSAP_ENOTFOUND);
    for (int pair = 0; 2 * pair + 2 < e.f.nconns; pair++) {
        const struct fake_conn *lower = &e.f.conns[2 * pair + 1];
        const struct fake_conn *next = &e.f.conns[2 * pair + 2];
        uint64_t want = 2000u * (uint64_t)(pair + 1 > 60 ? 60 : pair + 1);
        assert_int_equal(lower->t_open, e.f.conns[2 * pair].t_close); /* at once */
        assert_int_equal(next->t_open - lower->t_close, want);
    }
    assert_true(e.f.nconns > 40);
    env_free(&e);
}

static void test_connack_10_blocked(void **state)
{
    struct env e;
    int n;

    (void)state;
    env_init(&e);
    e.s.connack_code = OSAP_CONNACK_DEVICE_BLOCKED;
    env_start(&e);
    assert_true(fs_run_until_state(&e.s, e.dev, OSAP_DEVICE_BLOCKED, 5000));
    n = e.f.nconns;
    fs_run(&e.s, e.dev, 3600 * 1000);
    assert_int_equal(e.f.nconns, n); /* stopped: no more connections */
    assert_int_equal(osap_device_state(e.dev), OSAP_DEVICE_BLOCKED);
    assert_true(e.f.conns[n - 1].closed);
    env_free(&e);
}

static void test_connack_11_back_to_lbs(void **state)
{
    struct env e;

    (void)state;
    env_init(&e);
    e.s.connack_codes[0] = OSAP_CONNACK_SESSION_INVALID;
    e.s.connack_codes[1] = -1;
    e.s.n_connack_codes = 2;
    env_start(&e);
    assert_online(&e, 5000);
    /* LBS (A), DAS refused with 11, LBS again (C, at once), DAS accepted */
    assert_int_equal(e.f.nconns, 4);
    assert_int_equal(first_byte(&e, 0), 0x1A);
    assert_int_equal(first_byte(&e, 2), 0x70);
    assert_int_equal(e.f.conns[2].t_open, e.f.conns[1].t_close);
    env_free(&e);
}

static void test_connack_12_light(void **state)
{
    struct env e;
    const struct fs_pub *c;
    cJSON *reg;

    (void)state;
    env_init(&e);
    e.s.connack_codes[0] = OSAP_CONNACK_SESSION_EXISTS;
    e.s.connack_codes[1] = -1;
    e.s.n_connack_codes = 2;
    env_start(&e);
    assert_online(&e, 5000);
    c = fs_nth(&e.s, OSAP_MQTT_CONNECT, NULL, 1);
    assert_non_null(c);
    assert_int_equal(c->flags, 0xEC);
    /* no CONNECT was accepted before: still firstconnect */
    assert_string_equal(c->topic, "/Basic/pu2cenplt/Q12345678/firstconnect");
    reg = cJSON_Parse(c->body);
    assert_non_null(reg);
    assert_int_equal(cJSON_GetArraySize(reg), 2);
    assert_string_equal(cJSON_GetObjectItem(reg, "SubSerial")->valuestring, "Q12345678");
    assert_memory_equal(cJSON_GetObjectItem(reg, "DeviceID")->valuestring, e.s.devid,
                        OSAP_DEVID_LEN);
    cJSON_Delete(reg);
    /* the server had no session: the device subscribed */
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_SUBSCRIBE, NULL), 2);
    env_free(&e);
}

/* Refused registrations: 2 s x n apart, the 6th failure goes back to the LBS. */
static void test_registration_backoff(void **state)
{
    struct env e;
    int das[16], nd = 0;

    (void)state;
    env_init(&e);
    e.s.connack_code = OSAP_CONNACK_UNAVAILABLE;
    env_start(&e);
    fs_run(&e.s, e.dev, 60 * 1000);
    for (int i = 0; i < e.f.nconns && nd < 16; i++)
        if (e.f.conns[i].port == FS_DAS_PORT) das[nd++] = i;
    assert_true(nd >= 7);
    for (int k = 1; k < 6; k++)
        assert_int_equal(e.f.conns[das[k]].t_open - e.f.conns[das[k - 1]].t_close, 2000u * k);
    /* after the 6th: an LBS connection (path C), then registration again */
    assert_int_equal(e.f.conns[das[5] + 1].port, FS_LBS_PORT);
    assert_int_equal(first_byte(&e, das[5] + 1), 0x70);
    env_free(&e);
}

/* A lost session: light reconnection after 1 s, breakconnect, no SUBSCRIBE when
 * the server kept the session; 4 failures in a row go back to the LBS. */
static void test_runtime_loss(void **state)
{
    struct env e;
    const struct fs_pub *c;
    int online_conn, n;

    (void)state;
    env_init(&e);
    e.s.session_present = 1;
    env_start(&e);
    assert_online(&e, 5000);
    online_conn = fs_last_conn(&e.s);
    e.f.conns[online_conn].eof = 1; /* the DAS goes away */
    fs_run(&e.s, e.dev, 10);
    assert_int_equal(osap_device_state(e.dev), OSAP_DEVICE_RECONNECTING);
    assert_online(&e, 5000);
    assert_int_equal(e.f.conns[online_conn + 1].t_open - e.f.conns[online_conn].t_close, 1000);
    c = fs_nth(&e.s, OSAP_MQTT_CONNECT, NULL, 1);
    assert_int_equal(c->flags, 0xEC);
    assert_string_equal(c->topic, "/Basic/pu2cenplt/Q12345678/breakconnect");
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_SUBSCRIBE, NULL), 2); /* none after the light one */

    /* now the DAS is down: 1, 2, 3, 4 s, then the LBS */
    e.s.das_down = 1;
    n = e.f.nconns;
    e.f.conns[n - 1].eof = 1;
    fs_run(&e.s, e.dev, 10 * 1000 + 10);
    assert_int_equal(e.f.conns[n].port, FS_DAS_PORT);
    assert_int_equal(e.f.conns[n].t_open - e.f.conns[n - 1].t_close, 1000);
    for (int k = 1; k < 4; k++) {
        assert_int_equal(e.f.conns[n + k].port, FS_DAS_PORT);
        assert_int_equal(e.f.conns[n + k].t_open - e.f.conns[n + k - 1].t_open, 1000u * (k + 1));
    }
    assert_int_equal(e.f.conns[n + 4].port, FS_LBS_PORT);
    env_free(&e);
}

static void test_keepalive_and_liveness(void **state)
{
    struct env e;
    int pings, conn;

    (void)state;
    env_init(&e);
    env_start(&e);
    assert_online(&e, 5000);
    conn = fs_last_conn(&e.s);
    fs_run(&e.s, e.dev, 125 * 1000);
    pings = fs_count(&e.s, OSAP_MQTT_PINGREQ, NULL);
    assert_int_equal(pings, 4); /* at 30, 60, 90, 120 s after CONNECT */
    for (int k = 1; k < pings; k++)
        assert_int_equal(fs_nth(&e.s, OSAP_MQTT_PINGREQ, NULL, k)->t -
                             fs_nth(&e.s, OSAP_MQTT_PINGREQ, NULL, k - 1)->t,
                         30000);
    assert_int_equal(fs_last_conn(&e.s), conn);
    /* no answers any more: the link is dead after 2 x keep-alive */
    e.s.no_pingresp = 1;
    fs_run(&e.s, e.dev, 61 * 1000);
    assert_true(e.f.conns[conn].closed);
    assert_true(fs_last_conn(&e.s) > conn);
    env_free(&e);
}

static void test_stop_graceful(void **state)
{
    struct env e;
    int conn;

    (void)state;
    env_init(&e);
    env_start(&e);
    assert_online(&e, 5000);
    conn = fs_last_conn(&e.s);
    assert_int_equal(osap_device_stop(e.dev), OSAP_OK);
    fs_run(&e.s, e.dev, 100);
    assert_int_equal(osap_device_state(e.dev), OSAP_DEVICE_STOPPED);
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_UNSUBSCRIBE, NULL), 2);
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_DISCONNECT, NULL), 1);
    assert_true(e.f.conns[conn].closed);
    /* restartable */
    assert_int_equal(osap_device_start(e.dev), OSAP_OK);
    assert_online(&e, 5000);
    env_free(&e);
}

static void test_config_checks(void **state)
{
    struct env e;
    struct osap_device_config c;
    osap_device_t *dev = NULL;

    (void)state;
    env_init(&e);
    c = e.cfg;
    c.lbs_host = NULL;
    assert_int_equal(osap_device_new(&c, &dev), OSAP_ECONFIG);
    c = e.cfg;
    c.subserial = "has/slash";
    assert_int_equal(osap_device_new(&c, &dev), OSAP_ECONFIG);
    c = e.cfg;
    c.auth_mode = 7;
    assert_int_equal(osap_device_new(&c, &dev), OSAP_ECONFIG);
    c = e.cfg;
    c.message_max = 100;
    assert_int_equal(osap_device_new(&c, &dev), OSAP_ECONFIG);
    assert_int_equal(osap_device_size(&c), 0);
    c = e.cfg;
    c.port = NULL;
    assert_int_equal(osap_device_new(&c, &dev), OSAP_EINVAL);
    c = e.cfg;
    c.queue.inflight_max = OSAP_DEVICE_INFLIGHT_MAX + 1;
    assert_int_equal(osap_device_new(&c, &dev), OSAP_ECONFIG);
    assert_null(dev);
    assert_true(osap_device_size(NULL) > 4 * OSAP_MESSAGE_MAX);
    env_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_a_c_b),
        cmocka_unit_test(test_result_4_and_10),
        cmocka_unit_test(test_wrong_code_backoff),
        cmocka_unit_test(test_connack_10_blocked),
        cmocka_unit_test(test_connack_11_back_to_lbs),
        cmocka_unit_test(test_connack_12_light),
        cmocka_unit_test(test_registration_backoff),
        cmocka_unit_test(test_runtime_loss),
        cmocka_unit_test(test_keepalive_and_liveness),
        cmocka_unit_test(test_stop_graceful),
        cmocka_unit_test(test_config_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
