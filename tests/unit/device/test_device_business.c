/*
 * Business traffic of the device against the scripted server: events through
 * the offline queue (order, PUBACK before removal, resend with the same UUID
 * after a loss or a kill, bounds), shadow reports and the desired-state query,
 * server requests and their replies (PUBACK first, Seq echoed, answers given
 * later), and the access commands of domain 1000.
 */
#include "device_env.h"

#include <stdlib.h>
#include <unistd.h>

#define EVT "/model/event/report/alarm/motion"

static const struct osap_device_key motion = {NULL, "alarm", "motion"};

static uint64_t raise_n(struct env *e, int n)
{
    char body[64];
    uint64_t id = 0;
    snprintf(body, sizeof(body), "{\"n\":%d,\"level\":1}", n);
    assert_int_equal(osap_device_event_raise(e->dev, &motion, body, &id), OSAP_OK);
    return id;
}

/* The "n" member and the UUID of an event body; checks the basic member. */
static int event_n(const char *body, char uuid[40])
{
    cJSON *j = cJSON_Parse(body);
    const cJSON *basic, *u, *d, *n;
    int v;

    assert_non_null(j);
    n = cJSON_GetObjectItem(j, "n");
    basic = cJSON_GetObjectItem(j, "basic");
    assert_non_null(basic);
    /* "basic" is the last member */
    assert_ptr_equal(basic, cJSON_GetArrayItem(j, cJSON_GetArraySize(j) - 1));
    u = cJSON_GetObjectItem(basic, "UUID");
    d = cJSON_GetObjectItem(basic, "dateTime");
    assert_true(cJSON_IsString(u) && strlen(u->valuestring) == 32);
    for (const char *p = u->valuestring; *p; p++)
        assert_non_null(strchr("0123456789abcdef", *p));
    assert_true(cJSON_IsString(d) && strlen(d->valuestring) == 29);
    assert_string_equal(d->valuestring + 23, "+00:00");
    if (uuid) snprintf(uuid, 40, "%s", u->valuestring);
    v = n ? n->valueint : -1;
    cJSON_Delete(j);
    return v;
}

static void test_events_offline_in_order(void **state)
{
    struct env e;
    struct osap_device_stats st;
    uint32_t last_seq = 0;

    (void)state;
    env_init(&e);
    e.s.das_down = 1;
    env_start(&e);
    fs_run(&e.s, e.dev, 3000);
    for (int i = 0; i < 5; i++)
        assert_int_equal(raise_n(&e, i), (uint64_t)i + 1);
    osap_device_stats(e.dev, &st);
    assert_int_equal(st.events_queued, 5);
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_PUBLISH, EVT), 0);
    e.s.das_down = 0;
    assert_online(&e, 30000);
    fs_run(&e.s, e.dev, 1000);
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_PUBLISH, EVT), 5);
    for (int i = 0; i < 5; i++) {
        const struct fs_pub *p = fs_nth(&e.s, OSAP_MQTT_PUBLISH, EVT, i);
        assert_int_equal(event_n(p->body, NULL), i);
        assert_int_equal(p->qos, 1);
        assert_true(p->retain);
        assert_true(p->seq > last_seq);
        assert_string_equal(p->topic, "/iot/Q12345678/global/0-global" EVT);
        last_seq = p->seq;
    }
    assert_int_equal(e.nacked, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(e.acked[i], (uint64_t)i + 1);
    osap_device_stats(e.dev, &st);
    assert_int_equal(st.events_queued, 0);
    assert_int_equal(st.events_acked, 5);
    env_free(&e);
}

static void test_event_resent_after_loss(void **state)
{
    struct env e;
    char u1[40], u2[40];
    struct osap_device_stats st;
    int conn;

    (void)state;
    env_init(&e);
    env_start(&e);
    assert_online(&e, 5000);
    e.s.drop_pubacks = 1;
    raise_n(&e, 7);
    fs_run(&e.s, e.dev, 1000);
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_PUBLISH, EVT), 1);
    osap_device_stats(e.dev, &st);
    assert_int_equal(st.events_queued, 1); /* no PUBACK: still queued */
    assert_int_equal(e.nacked, 0);
    /* the session breaks; the event goes again, same body, same UUID */
    e.s.drop_pubacks = 0;
    conn = fs_last_conn(&e.s);
    e.f.conns[conn].eof = 1;
    fs_run(&e.s, e.dev, 3000);
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_PUBLISH, EVT), 2);
    assert_int_equal(event_n(fs_nth(&e.s, OSAP_MQTT_PUBLISH, EVT, 0)->body, u1), 7);
    assert_int_equal(event_n(fs_nth(&e.s, OSAP_MQTT_PUBLISH, EVT, 1)->body, u2), 7);
    assert_string_equal(u1, u2);
    assert_string_equal(fs_nth(&e.s, OSAP_MQTT_PUBLISH, EVT, 0)->body,
                        fs_nth(&e.s, OSAP_MQTT_PUBLISH, EVT, 1)->body);
    assert_int_equal(e.nacked, 1);
    osap_device_stats(e.dev, &st);
    assert_int_equal(st.events_queued, 0);
    env_free(&e);
}

/* A PUBACK that never comes: the device does not count the event as delivered;
 * after the acknowledgement time-out it reconnects and sends it again. */
static void test_event_ack_timeout(void **state)
{
    struct env e;
    int conn;

    (void)state;
    env_init(&e);
    env_start(&e);
    assert_online(&e, 5000);
    conn = fs_last_conn(&e.s);
    e.s.drop_pubacks = 1;
    raise_n(&e, 1);
    fs_run(&e.s, e.dev, 29000);
    assert_int_equal(fs_last_conn(&e.s), conn);
    e.s.drop_pubacks = 0;
    fs_run(&e.s, e.dev, 3000);
    assert_true(e.f.conns[conn].closed);
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_PUBLISH, EVT), 2);
    assert_int_equal(e.nacked, 1);
    env_free(&e);
}

/* Raised while the DAS is down, then the process dies (no goodbye): after a
 * restart the events are still there and are delivered, in order. A torn
 * record at the end of the file (a write cut short) is dropped on open. */
static void test_events_survive_kill(void **state)
{
    struct env e;
    char dir[256], path[600];
    FILE *fp;
    long size;

    (void)state;
    assert_int_equal(test_scratch_dir(dir, sizeof(dir), "sdk"), 0);
    env_init_dir(&e, dir);
    e.s.das_down = 1;
    env_start(&e);
    fs_run(&e.s, e.dev, 2000);
    for (int i = 0; i < 3; i++)
        raise_n(&e, i);
    env_kill(&e);
    snprintf(path, sizeof(path), "%s/events.q", dir);
    fp = fopen(path, "ab");
    assert_non_null(fp);
    fwrite("\xA5\x01\x00\x00\x40\x00", 1, 6, fp); /* half a header */
    fclose(fp);

    e.s.das_down = 0;
    env_start(&e);
    assert_online(&e, 30000);
    fs_run(&e.s, e.dev, 1000);
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_PUBLISH, EVT), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(event_n(fs_nth(&e.s, OSAP_MQTT_PUBLISH, EVT, i)->body, NULL), i);
    assert_int_equal(e.nacked, 3);
    /* restart again: nothing left to send */
    env_kill(&e);
    env_start(&e);
    assert_online(&e, 30000);
    fs_run(&e.s, e.dev, 1000);
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_PUBLISH, EVT), 3);
    fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    size = ftell(fp);
    fclose(fp);
    assert_true(size > 0 && size < 4096);
    env_free(&e);
    assert_int_equal(test_rmtree(dir), 0);
}

static void test_queue_bounds(void **state)
{
    for (int refuse = 0; refuse < 2; refuse++) {
        struct env e;
        struct osap_device_stats st;
        uint64_t id;

        (void)state;
        env_init(&e);
        e.cfg.queue.max_events = 3;
        e.cfg.queue.when_full =
            refuse ? OSAP_DEVICE_QUEUE_REFUSE_NEW : OSAP_DEVICE_QUEUE_DROP_OLDEST;
        e.s.das_down = 1;
        env_start(&e);
        fs_run(&e.s, e.dev, 1000);
        for (int i = 0; i < 5; i++) {
            char body[32];
            snprintf(body, sizeof(body), "{\"n\":%d}", i);
            osap_err err = osap_device_event_raise(e.dev, &motion, body, &id);
            assert_int_equal(err, refuse && i >= 3 ? OSAP_EBUSY : OSAP_OK);
        }
        osap_device_stats(e.dev, &st);
        assert_int_equal(st.events_queued, 3);
        assert_int_equal(refuse ? st.events_refused : st.events_dropped, 2);
        e.s.das_down = 0;
        assert_online(&e, 30000);
        fs_run(&e.s, e.dev, 1000);
        assert_int_equal(fs_count(&e.s, OSAP_MQTT_PUBLISH, EVT), 3);
        for (int i = 0; i < 3; i++)
            assert_int_equal(event_n(fs_nth(&e.s, OSAP_MQTT_PUBLISH, EVT, i)->body, NULL),
                             refuse ? i : i + 2);
        env_free(&e);
    }
}

static void test_event_api_checks(void **state)
{
    struct env e;
    struct osap_device_key bad = {NULL, "a/b", "x"};
    struct osap_device_key bad_res = {"nodash", "a", "x"};

    (void)state;
    env_init(&e);
    assert_int_equal(osap_device_new(&e.cfg, &e.dev), OSAP_OK);
    /* before start the queue is not open */
    assert_int_equal(osap_device_event_raise(e.dev, &motion, "{}", NULL), OSAP_ESTATE);
    assert_int_equal(osap_device_start(e.dev), OSAP_OK);
    assert_int_equal(osap_device_start(e.dev), OSAP_ESTATE);
    assert_int_equal(osap_device_event_raise(e.dev, &motion, "[1]", NULL), OSAP_EJSON);
    assert_int_equal(osap_device_event_raise(e.dev, &motion, "{\"a\":", NULL), OSAP_EJSON);
    assert_int_equal(osap_device_event_raise(e.dev, &motion, "{} x", NULL), OSAP_EJSON);
    assert_int_equal(osap_device_event_raise(e.dev, &bad, "{}", NULL), OSAP_EINVAL);
    assert_int_equal(osap_device_event_raise(e.dev, &bad_res, "{}", NULL), OSAP_EINVAL);
    assert_int_equal(osap_device_attr_report(e.dev, &motion, "nope"), OSAP_EJSON);
    /* an application "basic" is kept as it is */
    assert_int_equal(
        osap_device_event_raise(e.dev, &motion, "{\"basic\":{\"UUID\":\"mine\"},\"n\":1}", NULL),
        OSAP_OK);
    assert_online(&e, 5000);
    fs_run(&e.s, e.dev, 100);
    assert_string_equal(fs_nth(&e.s, OSAP_MQTT_PUBLISH, EVT, 0)->body,
                        "{\"basic\":{\"UUID\":\"mine\"},\"n\":1}");
    env_free(&e);
}

/* ------------------------------------------------------------------------ */
/* Shadow                                                                   */
/* ------------------------------------------------------------------------ */

static char last_desired[64];
static int desired_calls;

static int shadow_handler(void *ud, const struct osap_device_request *req, char *out, size_t cap,
                          size_t *out_len)
{
    (void)ud, (void)out, (void)cap, (void)out_len;
    if (req->kind == OSAP_DEVICE_REQ_DESIRED) {
        desired_calls++;
        snprintf(last_desired, sizeof(last_desired), "%s.%s=%s", req->key.domain,
                 req->key.identifier, req->json);
    }
    return 0;
}

static const struct fs_pub *report_of(struct env *e, int k)
{
    return fs_nth(&e->s, OSAP_MQTT_PUBLISH, "/basic/shadow/report", k);
}

static void test_shadow_reports_and_query(void **state)
{
    struct env e;
    const struct osap_device_key k1 = {NULL, "light", "on"}, k2 = {"1-channel", "video", "fps"};
    const struct fs_pub *q;
    char reply_topic[600];
    int conn;

    (void)state;
    env_init(&e);
    e.handler = shadow_handler;
    desired_calls = 0;
    assert_int_equal(osap_device_new(&e.cfg, &e.dev), OSAP_OK);
    assert_int_equal(osap_device_attr_report(e.dev, &k1, "true"), OSAP_OK);
    assert_int_equal(osap_device_attr_report(e.dev, &k2, " 25 "), OSAP_OK);
    assert_int_equal(osap_device_start(e.dev), OSAP_OK);
    assert_online(&e, 5000);
    fs_run(&e.s, e.dev, 500);
    /* the full report at the first online: one message per key, version 1 */
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_PUBLISH, "/basic/shadow/report"), 2);
    assert_string_equal(report_of(&e, 0)->topic,
                        "/iot/Q12345678/global/0-global/basic/shadow/report");
    assert_string_equal(report_of(&e, 0)->body,
                        "{\"method\":\"report\",\"spv\":3,\"state\":{\"reported\":{\"domain\":"
                        "\"light\",\"identifier\":\"on\",\"value\":true},\"version\":1}}");
    assert_string_equal(report_of(&e, 1)->topic,
                        "/iot/Q12345678/global/1-channel/basic/shadow/report");
    assert_string_equal(report_of(&e, 1)->body,
                        "{\"method\":\"report\",\"spv\":3,\"state\":{\"reported\":{\"domain\":"
                        "\"video\",\"identifier\":\"fps\",\"value\":25},\"version\":1}}");
    assert_int_equal(report_of(&e, 0)->qos, 1);
    /* a query per resource a second after online */
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_PUBLISH, "/basic/shadow/query"), 0);
    fs_run(&e.s, e.dev, 600);
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_PUBLISH, "/basic/shadow/query"), 2);
    q = fs_nth(&e.s, OSAP_MQTT_PUBLISH, "/global/0-global/basic/shadow/query", 0);
    assert_non_null(q);
    assert_string_equal(q->body, "{\"method\":\"query\",\"windowsize\":16256}");
    assert_int_equal(q->qos, 1);
    /* the desired values are applied through the handler */
    snprintf(reply_topic, sizeof(reply_topic), "%s_reply", q->topic);
    fs_publish(&e.s, fs_last_conn(&e.s), reply_topic, 0, q->seq,
               "{\"code\":0,\"state\":{\"desired\":[{\"domain\":\"light\",\"identifier\":\"on\","
               "\"value\":false}]}}");
    fs_run(&e.s, e.dev, 100);
    assert_int_equal(desired_calls, 1);
    assert_string_equal(last_desired, "light.on=false");
    /* a new value: version 2 */
    assert_int_equal(osap_device_attr_report(e.dev, &k1, "false"), OSAP_OK);
    fs_run(&e.s, e.dev, 100);
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_PUBLISH, "/basic/shadow/report"), 3);
    assert_non_null(strstr(report_of(&e, 2)->body, "\"value\":false},\"version\":2}"));
    /* a report that is not acknowledged is sent again after a reconnection;
     * acknowledged ones are not */
    e.s.drop_pubacks = 1;
    assert_int_equal(osap_device_attr_report(e.dev, &k2, "30"), OSAP_OK);
    fs_run(&e.s, e.dev, 100);
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_PUBLISH, "/basic/shadow/report"), 4);
    e.s.drop_pubacks = 0;
    conn = fs_last_conn(&e.s);
    e.f.conns[conn].eof = 1;
    fs_run(&e.s, e.dev, 3000);
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_PUBLISH, "/basic/shadow/report"), 5);
    assert_string_equal(report_of(&e, 4)->body, report_of(&e, 3)->body);
    assert_non_null(strstr(report_of(&e, 4)->body, "\"value\":30},\"version\":2}"));
    /* and the desired state is asked again after the reconnection */
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_PUBLISH, "/basic/shadow/query"), 4);
    env_free(&e);
}

static void test_shadow_query_retries(void **state)
{
    struct env e;
    const struct osap_device_key k = {NULL, "d", "k"};

    (void)state;
    env_init(&e);
    env_start(&e);
    assert_online(&e, 5000);
    /* the resource's first report while online: query a second later */
    assert_int_equal(osap_device_attr_report(e.dev, &k, "1"), OSAP_OK);
    fs_run(&e.s, e.dev, 999);
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_PUBLISH, "/basic/shadow/query"), 0);
    fs_run(&e.s, e.dev, 2);
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_PUBLISH, "/basic/shadow/query"), 1);
    /* no answer: every 30 s, 3 times in all */
    fs_run(&e.s, e.dev, 200 * 1000);
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_PUBLISH, "/basic/shadow/query"), 3);
    assert_int_equal(fs_nth(&e.s, OSAP_MQTT_PUBLISH, "/basic/shadow/query", 1)->t -
                         fs_nth(&e.s, OSAP_MQTT_PUBLISH, "/basic/shadow/query", 0)->t,
                     30000);
    env_free(&e);
}

/* ------------------------------------------------------------------------ */
/* Requests from the server                                                 */
/* ------------------------------------------------------------------------ */

static uint32_t later_id;

static int request_handler(void *ud, const struct osap_device_request *req, char *out, size_t cap,
                           size_t *out_len)
{
    (void)ud;
    if (strcmp(req->key.identifier, "nohandler") == 0) return OSAP_DEVICE_CODE_NO_HANDLER;
    switch (req->kind) {
    case OSAP_DEVICE_REQ_SET: return strcmp(req->json, "7") == 0 ? 0 : 5;
    case OSAP_DEVICE_REQ_OPERATE:
        if (strcmp(req->key.identifier, "slow") == 0) {
            later_id = req->id;
            return OSAP_DEVICE_REPLY_LATER;
        }
        *out_len = (size_t)snprintf(out, cap, "{\"echo\":%s}", req->json);
        return 0;
    case OSAP_DEVICE_REQ_SHADOW_SET: return 0;
    default: return 0;
    }
}

static int per_key_handler(void *ud, const struct osap_device_request *req, char *out, size_t cap,
                           size_t *out_len)
{
    (void)ud, (void)out, (void)cap, (void)out_len, (void)req;
    return 42;
}

static int index_of(const struct fsrv *s, const struct fs_pub *p)
{
    return (int)(p - s->recs);
}

static void test_requests(void **state)
{
    struct env e;
    const struct fs_pub *r, *ack;
    const struct osap_device_key special = {NULL, "d", "special"};
    int conn, n;
    const char *base = "/iot/Q12345678/global/0-global";
    char topic[256];

    (void)state;
    env_init(&e);
    e.handler = request_handler;
    env_start(&e);
    assert_online(&e, 5000);
    assert_int_equal(osap_device_on_attribute(e.dev, &special, per_key_handler, NULL), OSAP_OK);
    conn = fs_last_conn(&e.s);

    /* attribute set: PUBACK first, then set_reply with the server's Seq, QoS 1 */
    snprintf(topic, sizeof(topic), "%s/model/attribute/set/d/k", base);
    fs_publish(&e.s, conn, topic, 1, 900, "{\"data\":{\"Value\":7}}");
    fs_run(&e.s, e.dev, 10);
    r = fs_nth(&e.s, OSAP_MQTT_PUBLISH, "/model/attribute/set_reply/d/k", 0);
    assert_non_null(r);
    ack = fs_nth(&e.s, OSAP_MQTT_PUBACK, NULL, 0);
    assert_non_null(ack);
    assert_int_equal(ack->pid, 100);
    assert_true(index_of(&e.s, ack) < index_of(&e.s, r));
    assert_int_equal(r->seq, 900);
    assert_int_equal(r->qos, 1);
    assert_string_equal(r->body, "{\"code\":0}");
    /* {"data":v} works too; the handler's code is answered */
    fs_publish(&e.s, conn, topic, 1, 901, "{\"data\":8}");
    fs_run(&e.s, e.dev, 10);
    r = fs_nth(&e.s, OSAP_MQTT_PUBLISH, "/model/attribute/set_reply/d/k", 1);
    assert_string_equal(r->body, "{\"code\":5}");
    assert_int_equal(r->seq, 901);
    /* a key with its own handler */
    snprintf(topic, sizeof(topic), "%s/model/attribute/set/d/special", base);
    fs_publish(&e.s, conn, topic, 0, 902, "{\"data\":{\"Value\":1}}");
    fs_run(&e.s, e.dev, 10);
    r = fs_nth(&e.s, OSAP_MQTT_PUBLISH, "/model/attribute/set_reply/d/special", 0);
    assert_string_equal(r->body, "{\"code\":42}");
    /* no handler takes it */
    snprintf(topic, sizeof(topic), "%s/model/attribute/set/d/nohandler", base);
    fs_publish(&e.s, conn, topic, 1, 903, "{\"data\":{\"Value\":1}}");
    fs_run(&e.s, e.dev, 10);
    r = fs_nth(&e.s, OSAP_MQTT_PUBLISH, "/model/attribute/set_reply/d/nohandler", 0);
    assert_string_equal(r->body, "{\"code\":-1}");

    /* operation answered at once, with data */
    snprintf(topic, sizeof(topic), "%s/model/service/operate/d/op", base);
    fs_publish(&e.s, conn, topic, 1, 910, "{\"data\":{\"speed\":3}}");
    fs_run(&e.s, e.dev, 10);
    r = fs_nth(&e.s, OSAP_MQTT_PUBLISH, "/model/service/operate_reply/d/op", 0);
    assert_non_null(r);
    assert_string_equal(r->body, "{\"code\":0,\"data\":{\"echo\":{\"speed\":3}}}");
    assert_int_equal(r->seq, 910);
    /* operation answered later */
    snprintf(topic, sizeof(topic), "%s/model/service/operate/d/slow", base);
    fs_publish(&e.s, conn, topic, 1, 911, "{\"data\":1}");
    fs_run(&e.s, e.dev, 10);
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_PUBLISH, "/operate_reply/d/slow"), 0);
    assert_int_equal(osap_device_reply(e.dev, later_id, 3, "{\"done\":true}"), OSAP_OK);
    assert_int_equal(osap_device_reply(e.dev, later_id, 3, NULL), OSAP_ENOTFOUND);
    fs_run(&e.s, e.dev, 10);
    r = fs_nth(&e.s, OSAP_MQTT_PUBLISH, "/model/service/operate_reply/d/slow", 0);
    assert_non_null(r);
    assert_string_equal(r->body, "{\"code\":3,\"data\":{\"done\":true}}");
    assert_int_equal(r->seq, 911);

    /* shadow set: set_reply, QoS 0, with the device's time */
    e.f.wall = 1795924459123;
    snprintf(topic, sizeof(topic), "%s/basic/shadow/set", base);
    fs_publish(&e.s, conn, topic, 1, 920,
               "{\"state\":{\"desired\":{\"domain\":\"d\",\"identifier\":\"k\",\"value\":9}}}");
    fs_run(&e.s, e.dev, 10);
    r = fs_nth(&e.s, OSAP_MQTT_PUBLISH, "/basic/shadow/set_reply", 0);
    assert_non_null(r);
    assert_int_equal(r->qos, 0);
    assert_int_equal(r->seq, 920);
    assert_string_equal(
        r->body, "{\"method\":\"set_reply\",\"payload\":{\"code\":0},\"timestamp\":1795924459}");

    /* ignored: a server "report", replies, another serial, an undecryptable
     * payload; the device stays online and answers nothing */
    n = fs_count(&e.s, OSAP_MQTT_PUBLISH, NULL);
    snprintf(topic, sizeof(topic), "%s/basic/shadow/report", base);
    fs_publish(&e.s, conn, topic, 0, 930, "{\"method\":\"report\"}");
    snprintf(topic, sizeof(topic), "%s/model/attribute/set_reply/d/k", base);
    fs_publish(&e.s, conn, topic, 0, 931, "{\"code\":0}");
    fs_publish(&e.s, conn, "/iot/OTHER/global/0-global/model/attribute/set/d/k", 0, 932,
               "{\"data\":7}");
    {
        struct osap_mqtt_packet pkt;
        uint8_t junk[32] = {1, 2, 3};
        memset(&pkt, 0, sizeof(pkt));
        pkt.type = OSAP_MQTT_PUBLISH;
        pkt.publish.topic.ptr = "/iot/Q12345678/global/0-global/model/attribute/set/d/k";
        pkt.publish.topic.len = strlen(pkt.publish.topic.ptr);
        pkt.publish.payload.ptr = junk;
        pkt.publish.payload.len = sizeof(junk);
        fs_send(&e.s, conn, &pkt);
    }
    fs_run(&e.s, e.dev, 100);
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_PUBLISH, NULL), n);
    assert_int_equal(osap_device_state(e.dev), OSAP_DEVICE_ONLINE);
    assert_int_equal(fs_last_conn(&e.s), conn);

    /* a reply for a session that ended is dropped */
    snprintf(topic, sizeof(topic), "%s/model/service/operate/d/slow", base);
    fs_publish(&e.s, conn, topic, 1, 940, "{\"data\":2}");
    fs_run(&e.s, e.dev, 10);
    e.f.conns[conn].eof = 1;
    fs_run(&e.s, e.dev, 3000);
    assert_int_equal(osap_device_reply(e.dev, later_id, 0, NULL), OSAP_ENOTFOUND);
    env_free(&e);
}

/* A request that arrives between the two SUBACKs is answered too. */
static void test_request_before_online(void **state)
{
    struct env e;
    const struct fs_pub *r;

    (void)state;
    env_init(&e);
    e.handler = request_handler;
    e.s.early_topic = "/iot/Q12345678/global/0-global/model/attribute/set/d/k";
    e.s.early_body = "{\"data\":{\"Value\":7}}";
    env_start(&e);
    assert_online(&e, 5000);
    fs_run(&e.s, e.dev, 10);
    r = fs_nth(&e.s, OSAP_MQTT_PUBLISH, "/model/attribute/set_reply/d/k", 0);
    assert_non_null(r);
    assert_int_equal(r->seq, 77);
    assert_string_equal(r->body, "{\"code\":0}");
    env_free(&e);
}

/* ------------------------------------------------------------------------ */
/* Domain 1000                                                              */
/* ------------------------------------------------------------------------ */

static void test_access_domain(void **state)
{
    struct env e;
    int pings, n;

    (void)state;
    env_init(&e);
    env_start(&e);
    assert_online(&e, 5000);
    /* keep-alive interval from the platform */
    fs_publish_v2(&e.s, fs_last_conn(&e.s), "/Q12345678/1000/1", 1,
                  "{\"KeepAlive\":{\"Interval\":10},\"NTP\":{}}");
    fs_run(&e.s, e.dev, 10);
    pings = fs_count(&e.s, OSAP_MQTT_PINGREQ, NULL);
    fs_run(&e.s, e.dev, 35000);
    assert_int_equal(fs_count(&e.s, OSAP_MQTT_PINGREQ, NULL) - pings, 3);

    /* redirect to another LBS: master key forgotten, path B at the new host */
    n = e.f.nconns;
    fs_publish_v2(&e.s, fs_last_conn(&e.s), "/Q12345678/1000/13433", 2,
                  "<Request><DomainName>127.0.0.9</DomainName></Request>");
    fs_run(&e.s, e.dev, 10);
    assert_true(e.f.nconns > n);
    assert_string_equal(e.f.conns[n].host, "127.0.0.9");
    assert_int_equal(first_byte(&e, n), 0x1A);
    assert_online(&e, 5000);
    assert_int_equal(e.s.last_path, OSAP_LBS_PATH_B);

    /* forced offline: stopped until restart */
    fs_publish_v2(&e.s, fs_last_conn(&e.s), "/Q12345678/1000/3", 3, "");
    fs_run(&e.s, e.dev, 10);
    assert_int_equal(osap_device_state(e.dev), OSAP_DEVICE_BLOCKED);
    n = e.f.nconns;
    fs_run(&e.s, e.dev, 600000);
    assert_int_equal(e.f.nconns, n);
    env_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_offline_in_order),
        cmocka_unit_test(test_event_resent_after_loss),
        cmocka_unit_test(test_event_ack_timeout),
        cmocka_unit_test(test_events_survive_kill),
        cmocka_unit_test(test_queue_bounds),
        cmocka_unit_test(test_event_api_checks),
        cmocka_unit_test(test_shadow_reports_and_query),
        cmocka_unit_test(test_shadow_query_retries),
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_request_before_online),
        cmocka_unit_test(test_access_domain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
