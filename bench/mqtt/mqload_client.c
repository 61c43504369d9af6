/*
 * The MQTT side of each role: CONNECT, SUBSCRIBE, publishing with sequence
 * numbers and timestamps, PUBACK windows, receiving and checking deliveries.
 *
 * Payload of every message (native byte order: sender and receiver are the
 * same process), padded to the run's payload size:
 *   0  u32 magic  MQLOAD_MAGIC
 *   4  u32 stream pair number (p2p) or 0 (fanout)
 *   8  u64 seq    0, 1, 2, ... per stream
 *  16  u64 sent   CLOCK_MONOTONIC ns when the PUBLISH was queued
 */
#include "mqload.h"

#include <stdio.h>
#include <string.h>

#define MQLOAD_MAGIC 0x4c514d4fu /* "OMQL" */

/* Smallest payload that holds the header above. */
#define PAYLOAD_HEAD MQLOAD_PAYLOAD_MIN
#define PAYLOAD_MAX  MQLOAD_PAYLOAD_MAX

static uint8_t pub_qos(const struct mqload_opts *o)
{
    return o->scenario == MQLOAD_P2P ? 1 : 0;
}

static bool in_window(const struct mqload_shared *sh, uint64_t t)
{
    return t >= sh->t_measure && t < sh->t_end;
}

/* Encode @p pkt onto @p c's output. */
static void queue_packet(struct mqload_conn *c, const struct osap_mqtt_packet *pkt)
{
    size_t size, len;
    uint8_t *p;

    if (osap_mqtt_encoded_size(pkt, &size) != OSAP_OK) {
        mqload_conn_close(c, "cannot encode a packet", false);
        return;
    }
    p = mqload_conn_reserve(c, size);
    if (!p) return;
    if (osap_mqtt_encode(pkt, p, size, &len) != OSAP_OK) {
        mqload_conn_close(c, "cannot encode a packet", false);
        return;
    }
    mqload_conn_commit(c, len);
}

void mqload_client_connected(struct mqload_conn *c)
{
    const struct mqload_opts *o = c->w->sh->o;
    struct osap_mqtt_packet pkt;
    char id[64];
    int n;

    n = snprintf(id, sizeof(id), "mqload-%s-%c%u", o->run_id,
                 c->role == MQLOAD_PUB   ? 'p'
                 : c->role == MQLOAD_SUB ? 's'
                                         : 'i',
                 c->index);
    memset(&pkt, 0, sizeof(pkt));
    pkt.type = OSAP_MQTT_CONNECT;
    pkt.connect.clean_session = true;
    pkt.connect.keepalive = (uint16_t)o->keepalive;
    pkt.connect.client_id.ptr = id;
    pkt.connect.client_id.len = (size_t)n;
    queue_packet(c, &pkt);
}

static void subscribe(struct mqload_conn *c)
{
    struct osap_mqtt_subscription sub = {{c->topic, c->topic_len}, pub_qos(c->w->sh->o)};
    struct osap_mqtt_packet pkt;

    memset(&pkt, 0, sizeof(pkt));
    pkt.type = OSAP_MQTT_SUBSCRIBE;
    pkt.subscribe.packet_id = 1;
    pkt.subscribe.count = 1;
    pkt.subscribe.entries = &sub;
    queue_packet(c, &pkt);
    c->state = MQLOAD_SUBSCRIBING;
}

/* Publish the next message of @p c's stream. */
static void publish_one(struct mqload_conn *c, uint32_t stream)
{
    struct mqload_worker *w = c->w;
    const struct mqload_opts *o = w->sh->o;
    uint8_t payload[PAYLOAD_MAX];
    struct osap_mqtt_packet pkt;
    uint32_t magic = MQLOAD_MAGIC;
    uint64_t seq = c->pub.next, sent;
    size_t len;
    uint8_t *p;

    memset(&pkt, 0, sizeof(pkt));
    pkt.type = OSAP_MQTT_PUBLISH;
    pkt.publish.qos = pub_qos(o);
    pkt.publish.topic.ptr = c->topic;
    pkt.publish.topic.len = c->topic_len;
    if (pkt.publish.qos) pkt.publish.packet_id = (uint16_t)(seq % 65535u + 1);
    p = mqload_conn_reserve(c, o->publish_size);
    if (!p) return;
    sent = mqload_now();
    memcpy(payload, &magic, 4);
    memcpy(payload + 4, &stream, 4);
    memcpy(payload + 8, &seq, 8);
    memcpy(payload + 16, &sent, 8);
    memset(payload + PAYLOAD_HEAD, 0xa5, o->payload - PAYLOAD_HEAD);
    pkt.publish.payload.ptr = payload;
    pkt.publish.payload.len = o->payload;
    if (osap_mqtt_encode(&pkt, p, o->publish_size, &len) != OSAP_OK) {
        mqload_conn_close(c, "cannot encode PUBLISH", false);
        return;
    }
    mqload_conn_commit(c, len);
    c->pub.next++;
    w->st.published++;
    if (in_window(w->sh, sent)) w->st.published_window++;
    if (pkt.publish.qos) {
        c->pub.acked[seq % o->window] = 0;
        c->pub.inflight++;
        w->inflight++;
    }
}

/* p2p: publish while the window has room. */
static void p2p_fill(struct mqload_conn *c)
{
    const struct mqload_opts *o = c->w->sh->o;

    while (c->state == MQLOAD_READY && c->pub.next - c->pub.low < o->window)
        publish_one(c, c->index);
}

void mqload_client_start(struct mqload_worker *w)
{
    if (w->sh->o->scenario != MQLOAD_P2P) return;
    for (size_t i = 0; i < w->n_conns; i++)
        if (w->conns[i]->role == MQLOAD_PUB) p2p_fill(w->conns[i]);
}

/* Messages delivered for the first time, by every worker: the fanout window. */
static uint64_t fan_delivered(struct mqload_worker *w)
{
    struct mqload_shared *sh = w->sh;
    uint64_t total = w->st.unique;

    for (unsigned i = 0; i < sh->n_workers; i++)
        if (&sh->workers[i] != w)
            total += atomic_load_explicit(&sh->workers[i].unique_total, memory_order_relaxed);
    return total;
}

/** After this long without a delivery, the fanout publisher gives up on the
 *  messages in flight (counts them as written off) and goes on. */
#define FAN_STALL_NS 1000000000u

void mqload_client_fanout_pump(struct mqload_worker *w)
{
    struct mqload_conn *c = w->fan_pub;
    const struct mqload_opts *o = w->sh->o;
    uint64_t limit = (uint64_t)o->window * o->fan, delivered, outstanding;

    if (!c || c->state != MQLOAD_READY) return;
    for (;;) {
        delivered = fan_delivered(w);
        /* a message written off may still arrive: never count below zero */
        if (delivered + w->fan_written_off > c->pub.next * o->fan)
            w->fan_written_off = c->pub.next * o->fan - delivered;
        outstanding = c->pub.next * o->fan - delivered - w->fan_written_off;
        if (outstanding + o->fan <= limit) { /* room for one more message */
            atomic_store_explicit(&w->pub_waiting, false, memory_order_relaxed);
            w->fan_last_delivered = delivered;
            w->fan_last_progress = w->now;
            publish_one(c, 0);
            if (c->state != MQLOAD_READY) return;
            continue;
        }
        if (delivered != w->fan_last_delivered) {
            w->fan_last_delivered = delivered;
            w->fan_last_progress = w->now;
        } else if (w->now - w->fan_last_progress > FAN_STALL_NS) {
            w->fan_written_off += outstanding;
            w->st.written_off += outstanding;
            w->st.stalls++;
            w->fan_last_progress = w->now;
            continue;
        }
        /* closed: ask the other workers to wake us, then look once more */
        if (!atomic_load_explicit(&w->pub_waiting, memory_order_relaxed)) {
            atomic_store_explicit(&w->pub_waiting, true, memory_order_seq_cst);
            continue;
        }
        return;
    }
}

void mqload_client_ping(struct mqload_conn *c)
{
    static const uint8_t pingreq[2] = {OSAP_MQTT_PINGREQ << 4, 0};

    if (mqload_conn_write(c, pingreq, sizeof(pingreq))) c->w->st.pings++;
}

void mqload_client_disconnect(struct mqload_conn *c)
{
    static const uint8_t disconnect[2] = {OSAP_MQTT_DISCONNECT << 4, 0};

    mqload_conn_write(c, disconnect, sizeof(disconnect));
}

static void on_connack(struct mqload_conn *c, const struct osap_mqtt_connack *ack)
{
    char why[64];

    if (c->state != MQLOAD_CONNECTING) {
        c->w->st.protocol_errors++;
        mqload_conn_close(c, "unexpected CONNACK", false);
        return;
    }
    if (ack->return_code != 0) {
        c->w->st.connack_refused++;
        snprintf(why, sizeof(why), "CONNACK refused the connection (code %u)", ack->return_code);
        mqload_conn_close(c, why, false);
        return;
    }
    if (c->role == MQLOAD_SUB)
        subscribe(c);
    else
        mqload_conn_ready(c);
}

static void on_suback(struct mqload_conn *c, const struct osap_mqtt_suback *ack)
{
    char why[64];

    if (c->state != MQLOAD_SUBSCRIBING || ack->packet_id != 1 || ack->count != 1) {
        c->w->st.protocol_errors++;
        mqload_conn_close(c, "unexpected SUBACK", false);
        return;
    }
    if (ack->codes[0] == 0x80 || ack->codes[0] < pub_qos(c->w->sh->o)) {
        c->w->st.suback_refused++;
        snprintf(why, sizeof(why), "SUBACK granted code 0x%02x", ack->codes[0]);
        mqload_conn_close(c, why, false);
        return;
    }
    mqload_conn_ready(c);
}

static void on_puback(struct mqload_conn *c, uint16_t id)
{
    struct mqload_pubwin *pw = &c->pub;
    const struct mqload_opts *o = c->w->sh->o;
    uint64_t seq;

    if (c->role != MQLOAD_PUB || pub_qos(o) != 1) {
        c->w->st.protocol_errors++;
        mqload_conn_close(c, "unexpected PUBACK", false);
        return;
    }
    /* the outstanding number whose packet id is @p id: ids are seq % 65535 + 1
     * and fewer than 65535 numbers are ever outstanding */
    seq = pw->low + ((uint64_t)id + 65535u - 1 - pw->low % 65535u) % 65535u;
    if (id == 0 || seq >= pw->next || pw->acked[seq % o->window]) {
        c->w->st.bad_acks++;
        return;
    }
    pw->acked[seq % o->window] = 1;
    pw->inflight--;
    c->w->inflight--;
    c->w->st.acked++;
    while (pw->low < pw->next && pw->acked[pw->low % o->window])
        pw->low++;
    if (c->w->seen_phase == MQLOAD_PH_RUN) p2p_fill(c);
}

static void on_publish(struct mqload_conn *c, const struct osap_mqtt_publish *pub)
{
    struct mqload_worker *w = c->w;
    const struct mqload_opts *o = w->sh->o;
    uint32_t magic, stream;
    uint64_t seq, sent;

    if (c->role != MQLOAD_SUB || c->state < MQLOAD_SUBSCRIBING) {
        w->st.protocol_errors++;
        mqload_conn_close(c, "PUBLISH on a connection that did not subscribe", false);
        return;
    }
    if (pub->qos == 1) {
        uint8_t puback[4] = {OSAP_MQTT_PUBACK << 4, 2, (uint8_t)(pub->packet_id >> 8),
                             (uint8_t)pub->packet_id};
        if (!mqload_conn_write(c, puback, sizeof(puback))) return;
    } else if (pub->qos == 2) {
        w->st.protocol_errors++;
        mqload_conn_close(c, "PUBLISH with QoS 2", false);
        return;
    }
    w->st.delivered++;
    if (pub->payload.len < PAYLOAD_HEAD) {
        w->st.misrouted++;
        return;
    }
    memcpy(&magic, pub->payload.ptr, 4);
    memcpy(&stream, pub->payload.ptr + 4, 4);
    memcpy(&seq, pub->payload.ptr + 8, 8);
    memcpy(&sent, pub->payload.ptr + 16, 8);
    if (magic != MQLOAD_MAGIC || pub->payload.len != o->payload ||
        stream != (o->scenario == MQLOAD_P2P ? c->index : 0) || pub->topic.len != c->topic_len ||
        memcmp(pub->topic.ptr, c->topic, c->topic_len) != 0) {
        w->st.misrouted++;
        return;
    }
    if (!mqload_seq_add(c->seq, seq)) return;
    w->st.unique++;
    if (in_window(w->sh, w->now)) {
        w->st.delivered_window++;
        mqload_hist_add(&w->st.hist, w->now > sent ? w->now - sent : 0);
    }
}

void mqload_client_packet(struct mqload_conn *c, const struct osap_mqtt_packet *pkt)
{
    switch (pkt->type) {
    case OSAP_MQTT_CONNACK: on_connack(c, &pkt->connack); break;
    case OSAP_MQTT_SUBACK: on_suback(c, &pkt->suback); break;
    case OSAP_MQTT_PUBACK: on_puback(c, pkt->ack.packet_id); break;
    case OSAP_MQTT_PUBLISH: on_publish(c, &pkt->publish); break;
    case OSAP_MQTT_PINGRESP: c->w->st.pongs++; break;
    default: {
        char why[64];
        snprintf(why, sizeof(why), "unexpected %s", osap_mqtt_type_name(pkt->type));
        c->w->st.protocol_errors++;
        mqload_conn_close(c, why, false);
    }
    }
}

int mqload_client_topic(const struct mqload_opts *o, unsigned index, char *buf, size_t cap)
{
    if (o->scenario == MQLOAD_P2P)
        return snprintf(buf, cap, "%s/%s/p2p/%u", o->topic_prefix, o->run_id, index);
    return snprintf(buf, cap, "%s/%s/fanout", o->topic_prefix, o->run_id);
}

osap_err mqload_client_publish_size(const struct mqload_opts *o, size_t *size)
{
    struct osap_mqtt_packet pkt;
    char topic[256];
    int n;

    /* the longest topic of the run */
    n = mqload_client_topic(o, o->pairs, topic, sizeof(topic));
    if (n <= 0 || (size_t)n >= sizeof(topic) || o->payload < PAYLOAD_HEAD ||
        o->payload > PAYLOAD_MAX)
        return OSAP_EINVAL;
    memset(&pkt, 0, sizeof(pkt));
    pkt.type = OSAP_MQTT_PUBLISH;
    pkt.publish.qos = 1;
    pkt.publish.packet_id = 1;
    pkt.publish.topic.ptr = topic;
    pkt.publish.topic.len = (size_t)n;
    pkt.publish.payload.len = o->payload;
    return osap_mqtt_encoded_size(&pkt, size);
}
