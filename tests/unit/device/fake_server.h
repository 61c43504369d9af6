/*
 * A scripted OSAP server for the device SDK tests, on the fake port: the LBS
 * is libosap's own server machine (real ECDH, real keys), the DAS a small MQTT
 * responder whose answers the test controls (CONNACK code, SUBACK failure,
 * withheld PUBACKs and PINGRESPs, downlinks). Everything the device publishes
 * is decrypted and recorded. Header-only (static inline).
 */
#ifndef TEST_FAKE_SERVER_H
#define TEST_FAKE_SERVER_H

#include "fake_port.h"

#include "osap/crypto.h"
#include "osap/devjson.h"
#include "osap/envelope.h"
#include "osap/lbs.h"
#include "osap/lbs_handshake.h"
#include "osap/mqtt.h"

#include <cjson/cJSON.h>

#define FS_LBS_PORT 8666
#define FS_DAS_PORT 1883
#define FS_RECORDS  512

/* One packet the device sent to the DAS. */
struct fs_pub {
    int conn;
    uint8_t type;
    uint8_t qos;
    uint16_t pid;
    int dup, retain;
    char topic[512];
    uint32_t seq;
    char body[4096]; /* decrypted body (PUBLISH) or will JSON (CONNECT) */
    uint8_t flags;   /* CONNECT flags byte */
    uint64_t t;
};

struct fsrv {
    struct fake *f;
    /* registry of the one device */
    char vcode[32];
    int blocked;
    int has_devid, has_master_key;
    uint8_t devid[OSAP_DEVID_LEN];
    uint8_t master_key[OSAP_MASTER_KEY_LEN];
    uint8_t session_key[OSAP_SESSION_KEY_LEN];
    int has_session_key;
    enum osap_lbs_path last_path;
    int lbs_force_result; /* answer every 0x1 / path-C 0x7 with this result (0 = off) */
    int lbs_handshakes;   /* completed */
    /* DAS behaviour */
    int connack_code;
    int connack_codes[16]; /* per CONNECT, taking precedence while non-negative */
    int n_connack_codes, connect_count;
    int session_present;
    int suback_fail;
    int drop_pubacks;
    int no_pingresp;
    int das_down;            /* refuse DAS connections */
    const char *early_topic; /* a QoS 1 request sent right after the first SUBACK */
    const char *early_body;
    int lbs_down; /* refuse LBS connections */
    /* per connection */
    osap_lbs_server_t *lbs[FAKE_CONNS_MAX];
    int handled[FAKE_CONNS_MAX]; /* connection known (refusal decided) */
    /* what the device sent */
    struct fs_pub recs[FS_RECORDS];
    int nrecs;
    uint16_t next_pid;
};

static inline osap_err fs_lookup(void *ud, uint8_t auth_mode, const char *sn,
                                 struct osap_lbs_device *out)
{
    struct fsrv *s = ud;
    (void)auth_mode;
    (void)sn;
    memset(out, 0, sizeof(*out));
    snprintf(out->vcode, sizeof(out->vcode), "%s", s->vcode);
    out->blocked = s->blocked;
    out->has_devid = s->has_devid;
    memcpy(out->devid, s->devid, OSAP_DEVID_LEN);
    out->has_master_key = s->has_master_key;
    memcpy(out->master_key, s->master_key, OSAP_MASTER_KEY_LEN);
    return OSAP_OK;
}

static inline osap_err fs_commit(void *ud, const struct osap_lbs_commit *c)
{
    struct fsrv *s = ud;
    memcpy(s->devid, c->devid, OSAP_DEVID_LEN);
    memcpy(s->master_key, c->master_key, OSAP_MASTER_KEY_LEN);
    memcpy(s->session_key, c->session_key, OSAP_SESSION_KEY_LEN);
    s->has_devid = s->has_master_key = s->has_session_key = 1;
    s->last_path = c->path;
    s->lbs_handshakes++;
    return OSAP_OK;
}

static inline osap_err fs_das_info(void *ud, const char *sn, struct osap_lbs_das_info *out)
{
    (void)ud;
    (void)sn;
    memset(out, 0, sizeof(*out));
    snprintf(out->address, sizeof(out->address), "127.0.0.1");
    out->port = FS_DAS_PORT;
    out->udp_port = 6371;
    snprintf(out->domain, sizeof(out->domain), "das.test");
    snprintf(out->server_id, sizeof(out->server_id), "das-1");
    return OSAP_OK;
}

static inline void fs_init(struct fsrv *s, struct fake *f, const char *vcode)
{
    memset(s, 0, sizeof(*s));
    s->f = f;
    snprintf(s->vcode, sizeof(s->vcode), "%s", vcode);
    s->next_pid = 100;
}

static inline void fs_free(struct fsrv *s)
{
    for (int i = 0; i < FAKE_CONNS_MAX; i++)
        osap_lbs_server_free(s->lbs[i]);
}

static inline void fs_send(struct fsrv *s, int conn, const struct osap_mqtt_packet *pkt)
{
    uint8_t buf[8192];
    size_t len = 0;
    assert_int_equal(osap_mqtt_encode(pkt, buf, sizeof(buf), &len), OSAP_OK);
    fake_feed(s->f, conn, buf, len);
}

/* A downlink PUBLISH (v3 envelope) to the device on connection @p conn. */
static inline void fs_publish(struct fsrv *s, int conn, const char *topic, int qos, uint32_t seq,
                              const char *body)
{
    struct osap_mqtt_packet pkt;
    char common[64];
    size_t clen = 0, plen = 0;
    uint8_t payload[4096];

    assert_int_equal(osap_envelope_common_v3(seq, common, sizeof(common), &clen), OSAP_OK);
    assert_int_equal(osap_envelope_seal(s->session_key, common, clen, (const uint8_t *)body,
                                        strlen(body), payload, sizeof(payload), &plen),
                     OSAP_OK);
    memset(&pkt, 0, sizeof(pkt));
    pkt.type = OSAP_MQTT_PUBLISH;
    pkt.publish.qos = (uint8_t)qos;
    pkt.publish.topic.ptr = topic;
    pkt.publish.topic.len = strlen(topic);
    pkt.publish.packet_id = qos ? s->next_pid++ : 0;
    pkt.publish.payload.ptr = payload;
    pkt.publish.payload.len = plen;
    fs_send(s, conn, &pkt);
}

/* A v2 downlink (e.g. domain 1000). */
static inline void fs_publish_v2(struct fsrv *s, int conn, const char *topic, uint32_t seq,
                                 const char *body)
{
    struct osap_mqtt_packet pkt;
    char common[128];
    size_t clen = 0, plen = 0;
    uint8_t payload[4096];

    assert_int_equal(osap_envelope_common_v2("V1.0.0", seq, OSAP_V2_MSGTYPE_REQUEST, common,
                                             sizeof(common), &clen),
                     OSAP_OK);
    assert_int_equal(osap_envelope_seal(s->session_key, common, clen, (const uint8_t *)body,
                                        strlen(body), payload, sizeof(payload), &plen),
                     OSAP_OK);
    memset(&pkt, 0, sizeof(pkt));
    pkt.type = OSAP_MQTT_PUBLISH;
    pkt.publish.topic.ptr = topic;
    pkt.publish.topic.len = strlen(topic);
    pkt.publish.payload.ptr = payload;
    pkt.publish.payload.len = plen;
    fs_send(s, conn, &pkt);
}

static inline struct fs_pub *fs_record(struct fsrv *s, int conn, uint8_t type)
{
    struct fs_pub *p;
    assert_true(s->nrecs < FS_RECORDS);
    p = &s->recs[s->nrecs++];
    memset(p, 0, sizeof(*p));
    p->conn = conn;
    p->type = type;
    p->t = s->f->now;
    return p;
}

static inline void fs_das_packet(struct fsrv *s, int conn, const struct osap_mqtt_packet *pkt,
                                 const uint8_t *raw)
{
    struct osap_mqtt_packet ans;
    struct fs_pub *p = fs_record(s, conn, pkt->type);
    uint8_t plain[4096];
    struct osap_envelope_view v;
    struct osap_envelope_common common;
    size_t plen = 0;

    memset(&ans, 0, sizeof(ans));
    switch (pkt->type) {
    case OSAP_MQTT_CONNECT: {
        const struct osap_mqtt_connect *c = &pkt->connect;
        int code = s->connack_code;
        struct osap_mqtt_header h;
        assert_int_equal(osap_mqtt_frame(raw, 8, 0, &h), OSAP_OK);
        p->flags = raw[h.header_len + 7];
        snprintf(p->topic, sizeof(p->topic), "%.*s", (int)c->will_topic.len, c->will_topic.ptr);
        assert_int_equal(c->will_topic.len + c->will_topic_pad, OSAP_WILL_TOPIC_LEN);
        if (s->has_session_key &&
            osap_cbc_ez_decrypt(s->session_key, c->will_message.ptr, c->will_message.len, plain,
                                sizeof(plain) - 1, &plen) == OSAP_OK) {
            plain[plen] = '\0';
            snprintf(p->body, sizeof(p->body), "%s", (const char *)plain);
        } else if (!code) {
            code = OSAP_CONNACK_NOT_AUTHORIZED;
        }
        if (s->connect_count < s->n_connack_codes && s->connack_codes[s->connect_count] >= 0)
            code = s->connack_codes[s->connect_count];
        s->connect_count++;
        ans.type = OSAP_MQTT_CONNACK;
        ans.connack.return_code = (uint8_t)code;
        ans.connack.session_present = !code && s->session_present && !c->clean_session;
        fs_send(s, conn, &ans);
        return;
    }
    case OSAP_MQTT_SUBSCRIBE: {
        uint8_t code = s->suback_fail ? OSAP_SUBACK_FAILURE : 1;
        struct osap_mqtt_filter_iter it;
        struct osap_mqtt_str filt;
        osap_mqtt_filter_iter_subscribe(&it, &pkt->subscribe);
        assert_true(osap_mqtt_filter_iter_next(&it, &filt, &p->qos));
        snprintf(p->topic, sizeof(p->topic), "%.*s", (int)filt.len, filt.ptr);
        p->pid = pkt->subscribe.packet_id;
        ans.type = OSAP_MQTT_SUBACK;
        ans.suback.packet_id = pkt->subscribe.packet_id;
        ans.suback.count = 1;
        ans.suback.codes = &code;
        fs_send(s, conn, &ans);
        if (s->early_topic && strstr(p->topic, "/iot/")) {
            fs_publish(s, conn, s->early_topic, 1, 77, s->early_body);
            s->early_topic = NULL;
        }
        return;
    }
    case OSAP_MQTT_UNSUBSCRIBE:
        p->pid = pkt->unsubscribe.packet_id;
        ans.type = OSAP_MQTT_UNSUBACK;
        ans.ack.packet_id = pkt->unsubscribe.packet_id;
        fs_send(s, conn, &ans);
        return;
    case OSAP_MQTT_PINGREQ:
        if (s->no_pingresp) return;
        ans.type = OSAP_MQTT_PINGRESP;
        fs_send(s, conn, &ans);
        return;
    case OSAP_MQTT_PUBLISH: {
        const struct osap_mqtt_publish *pub = &pkt->publish;
        p->qos = pub->qos;
        p->pid = pub->packet_id;
        p->dup = pub->dup;
        p->retain = pub->retain;
        snprintf(p->topic, sizeof(p->topic), "%.*s", (int)pub->topic.len, pub->topic.ptr);
        assert_true(pub->payload.len < sizeof(plain));
        assert_int_equal(osap_envelope_open(s->session_key, pub->payload.ptr, pub->payload.len,
                                            plain, sizeof(plain), &v),
                         OSAP_OK);
        assert_int_equal(
            osap_envelope_common_parse(OSAP_ENVELOPE_V3, v.common, v.common_len, &common), OSAP_OK);
        p->seq = common.seq;
        snprintf(p->body, sizeof(p->body), "%.*s", (int)v.body_len, (const char *)v.body);
        if (pub->qos == 1 && !s->drop_pubacks) {
            ans.type = OSAP_MQTT_PUBACK;
            ans.ack.packet_id = pub->packet_id;
            fs_send(s, conn, &ans);
        }
        return;
    }
    case OSAP_MQTT_PUBACK: p->pid = pkt->ack.packet_id; return;
    default: return;
    }
}

/* Answer everything the device sent so far. */
static inline void fs_pump(struct fsrv *s)
{
    struct fake *f = s->f;

    for (int i = 0; i < f->nconns; i++) {
        struct fake_conn *c = &f->conns[i];
        if (!s->handled[i]) {
            s->handled[i] = 1;
            if ((c->port == FS_LBS_PORT && s->lbs_down) || (c->port == FS_DAS_PORT && s->das_down))
                c->refused = 1;
        }
        if (c->eof || c->refused) continue; /* output written before a close is still read */
        while (fake_unseen(f, i)) {
            const uint8_t *p = c->out + c->out_seen;
            size_t n = fake_unseen(f, i), flen = 0;
            if (c->port == FS_LBS_PORT) {
                struct osap_lbs_step st;
                if (osap_lbs_frame_length(p, n, 0, &flen) != OSAP_OK) break;
                if (!s->lbs[i]) {
                    struct osap_lbs_server_config cfg;
                    memset(&cfg, 0, sizeof(cfg));
                    cfg.cb.lookup = fs_lookup;
                    cfg.cb.commit = fs_commit;
                    cfg.cb.das_info = fs_das_info;
                    cfg.userdata = s;
                    assert_int_equal(osap_lbs_server_new(&cfg, &s->lbs[i]), OSAP_OK);
                    if (s->lbs_force_result) {
                        uint8_t ans[16];
                        size_t alen = 0;
                        int type = (p[0] >> 4) == OSAP_LBS_AUTH_I ? OSAP_LBS_AUTH_II
                                                                  : OSAP_LBS_RESPONSE_DEVID;
                        assert_int_equal(osap_lbs_error_encode((uint8_t)type, p[0] == 0x70, 1,
                                                               (uint8_t)s->lbs_force_result, ans,
                                                               sizeof(ans), &alen),
                                         OSAP_OK);
                        c->out_seen += flen;
                        fake_feed(f, i, ans, alen);
                        c->eof = 1;
                        break;
                    }
                }
                assert_int_equal(osap_lbs_server_feed(s->lbs[i], p, flen, &st), OSAP_OK);
                c->out_seen += flen;
                if (st.out_len) fake_feed(f, i, st.out, st.out_len);
                if (st.close) c->eof = 1;
            } else {
                struct osap_mqtt_packet pkt;
                if (osap_mqtt_decode(p, n, 0, OSAP_MQTT_LENIENT, &pkt, &flen) != OSAP_OK) break;
                fs_das_packet(s, i, &pkt, p);
                c->out_seen += flen;
            }
        }
    }
}

static inline size_t fs_activity(const struct fsrv *s)
{
    size_t n = (size_t)s->f->nconns;
    for (int i = 0; i < s->f->nconns; i++)
        n += s->f->conns[i].out_len + s->f->conns[i].in_len + (size_t)s->f->conns[i].checks +
             (size_t)s->f->conns[i].closed;
    return n;
}

/* Step the device and answer it until nothing moves at this instant; returns
 * the device's next wake-up. */
static inline uint64_t fs_settle(struct fsrv *s, osap_device_t *dev)
{
    uint64_t next = OSAP_DEVICE_NEVER;
    for (int k = 0; k < 1000; k++) {
        size_t before = fs_activity(s);
        next = fake_step(s->f, dev);
        fs_pump(s);
        if (fs_activity(s) == before) break;
    }
    return next;
}

/* Run device and server together for @p ms of fake time. */
static inline void fs_run(struct fsrv *s, osap_device_t *dev, uint64_t ms)
{
    struct fake *f = s->f;
    uint64_t end = f->now + ms;

    for (int i = 0; i < 200000; i++) {
        uint64_t next = fs_settle(s, dev);
        if (next > end) break;
        if (next > f->now) f->now = next;
    }
    f->now = end;
    fs_settle(s, dev);
}

/* Run until the device is in @p st (at most @p max_ms). Returns 1 when it is. */
static inline int fs_run_until_state(struct fsrv *s, osap_device_t *dev, enum osap_device_state st,
                                     uint64_t max_ms)
{
    struct fake *f = s->f;
    uint64_t end = f->now + max_ms;

    for (int i = 0; i < 200000; i++) {
        uint64_t next = fs_settle(s, dev);
        if (osap_device_state(dev) == st) return 1;
        if (next > end) return 0;
        if (next > f->now) f->now = next;
    }
    return 0;
}

/* The index of the current (last opened) connection. */
static inline int fs_last_conn(const struct fsrv *s)
{
    return s->f->nconns - 1;
}

/* Records of @p type whose topic contains @p topic_part (NULL: any). */
static inline int fs_count(const struct fsrv *s, uint8_t type, const char *topic_part)
{
    int n = 0;
    for (int i = 0; i < s->nrecs; i++)
        if (s->recs[i].type == type && (!topic_part || strstr(s->recs[i].topic, topic_part))) n++;
    return n;
}

/* The @p k-th (0-based) record of @p type matching @p topic_part, or NULL. */
static inline const struct fs_pub *fs_nth(const struct fsrv *s, uint8_t type,
                                          const char *topic_part, int k)
{
    for (int i = 0; i < s->nrecs; i++)
        if (s->recs[i].type == type && (!topic_part || strstr(s->recs[i].topic, topic_part)) &&
            k-- == 0)
            return &s->recs[i];
    return NULL;
}

#endif
