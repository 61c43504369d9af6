/*
 * The MQTT session with the DAS (wire spec 6): full and light registration
 * (CONNECT with the encrypted registration record as will), the CONNACK codes of
 * the device profile, the two subscriptions, PINGREQ every keep-alive, the
 * liveness limit of twice the keep-alive, PUBACK of QoS 1 downlinks, reconnection
 * after a loss and the graceful stop (UNSUBSCRIBE x2, DISCONNECT).
 */
#include "device_internal.h"

#include "osap/devjson.h"
#include "osap/envelope.h"

#include <stdio.h>
#include <string.h>

#define SDK_ACCESS_DOMAIN  "1000"
#define SDK_ACCESS_VERSION "V3.0.0"
#define SDK_UNUSED_SLOTS   8 /* unused extension slots appear as "0":"" */
#define REG_JSON_MAX       2048

/* ------------------------------------------------------------------------ */
/* Packets                                                                  */
/* ------------------------------------------------------------------------ */

static int pid_in_use(const struct osap_device *dev, uint16_t pid)
{
    for (size_t i = 0; i < OSAP_DEVICE_INFLIGHT_MAX; i++)
        if (dev->flights[i].kind != FL_FREE && dev->flights[i].pid == pid) return 1;
    return 0;
}

/* The packet id the next QoS 1 packet takes (ids start at 2 on a connection,
 * as the real device's do). Committed by storing it in pid_counter. */
static uint16_t peek_pid(const struct osap_device *dev)
{
    uint16_t pid = dev->pid_counter;

    do {
        pid = pid == 65535 ? 1 : (uint16_t)(pid + 1);
    } while (pid_in_use(dev, pid));
    return pid;
}

static osap_err send_packet(struct osap_device *dev, const struct osap_mqtt_packet *pkt)
{
    size_t size = 0, len = 0;
    uint8_t *p;
    osap_err err = osap_mqtt_encoded_size(pkt, &size);

    if (err) return err;
    p = osap__conn_reserve(dev, size);
    if (!p) return OSAP_EBUFSIZE;
    err = osap_mqtt_encode(pkt, p, size, &len);
    if (err) return err;
    osap__conn_commit(dev, len);
    return OSAP_OK;
}

static osap_err send_simple(struct osap_device *dev, uint8_t type)
{
    struct osap_mqtt_packet pkt;

    memset(&pkt, 0, sizeof(pkt));
    pkt.type = type;
    return send_packet(dev, &pkt);
}

static osap_err send_ack(struct osap_device *dev, uint8_t type, uint16_t pid)
{
    struct osap_mqtt_packet pkt;

    memset(&pkt, 0, sizeof(pkt));
    pkt.type = type;
    pkt.ack.packet_id = pid;
    return send_packet(dev, &pkt);
}

osap_err osap__das_publish(struct osap_device *dev, const char *topic, int qos, uint32_t seq,
                           const uint8_t *body, size_t body_len, uint16_t *pid)
{
    struct osap_mqtt_publish pub;
    uint8_t hdr[OSAP_MQTT_HEADER_MAX + 2 + OSAP_TOPIC_V3_MAX + 2];
    char common[OSAP_ENVELOPE_COMMON_BUF];
    size_t clen = 0, hlen = 0, sealed, out_len = 0;
    uint8_t *p;
    osap_err err;

    if (!dev->conn.open) return OSAP_ECLOSED;
    err = osap_envelope_common_v3(seq, common, sizeof(common), &clen);
    if (err) return err;
    sealed = osap_envelope_sealed_len(clen, body_len);
    if (!sealed) return OSAP_ETOOBIG;
    memset(&pub, 0, sizeof(pub));
    pub.qos = (uint8_t)qos;
    pub.retain = true; /* every device publish carries RETAIN (spec 6.6) */
    pub.topic.ptr = topic;
    pub.topic.len = strlen(topic);
    pub.packet_id = qos ? peek_pid(dev) : 0;
    pub.payload.len = sealed;
    err = osap_mqtt_encode_publish_header(&pub, hdr, sizeof(hdr), &hlen);
    if (err) return err;
    p = osap__conn_reserve(dev, hlen + sealed);
    if (!p) return OSAP_EBUFSIZE;
    memcpy(p, hdr, hlen);
    err = osap_envelope_seal(dev->session_key, common, clen, body, body_len, p + hlen, sealed,
                             &out_len);
    if (err) return err;
    osap__conn_commit(dev, hlen + out_len);
    if (qos) dev->pid_counter = pub.packet_id;
    if (pid) *pid = pub.packet_id;
    return OSAP_OK;
}

struct dev_flight *osap__das_flight_alloc(struct osap_device *dev)
{
    for (size_t i = 0; i < OSAP_DEVICE_INFLIGHT_MAX; i++)
        if (dev->flights[i].kind == FL_FREE) return &dev->flights[i];
    return NULL;
}

size_t osap__das_flights(const struct osap_device *dev, enum dev_flight_kind kind)
{
    size_t n = 0;

    for (size_t i = 0; i < OSAP_DEVICE_INFLIGHT_MAX; i++)
        if (dev->flights[i].kind == (uint8_t)kind) n++;
    return n;
}

/* ------------------------------------------------------------------------ */
/* Registration                                                             */
/* ------------------------------------------------------------------------ */

void osap__das_schedule(struct osap_device *dev, int light, int runtime, uint64_t delay_ms)
{
    osap__conn_close(dev);
    dev->phase = PH_DAS_WAIT;
    dev->reg_light = light;
    dev->reg_runtime = runtime;
    dev->t_due = dev->now + delay_ms;
    osap__dev_set_state(dev, runtime ? OSAP_DEVICE_RECONNECTING : OSAP_DEVICE_REGISTERING,
                        dev->stats.last_error);
}

static void go_lbs(struct osap_device *dev)
{
    dev->das_fail_n = dev->light_fail_n = 0;
    osap__lbs_schedule(dev, 0);
}

static void reg_failed(struct osap_device *dev, osap_err why)
{
    dev->stats.das_failures++;
    dev->stats.last_error = why ? why : OSAP_EIO;
    osap__conn_close(dev);
    if (dev->reg_runtime) {
        if (++dev->light_fail_n >= DEV_LIGHT_FAIL_MAX) {
            go_lbs(dev); /* the offline event: the state becomes LBS */
            return;
        }
        osap__das_schedule(dev, 1, 1, osap__backoff_light_ms(dev->light_fail_n + 1));
        return;
    }
    if (++dev->das_fail_n >= DEV_DAS_FAIL_MAX) {
        go_lbs(dev);
        return;
    }
    osap__das_schedule(dev, 0, 0, osap__backoff_das_ms(dev->das_fail_n));
}

void osap__das_block(struct osap_device *dev, osap_err why)
{
    osap__conn_close(dev);
    osap__biz_on_offline(dev);
    dev->stats.last_error = why;
    dev->phase = PH_BLOCKED;
    osap__dev_set_state(dev, OSAP_DEVICE_BLOCKED, why);
}

void osap__das_leave(struct osap_device *dev, osap_err why)
{
    osap__conn_close(dev);
    osap__biz_on_offline(dev);
    dev->stats.last_error = why;
    go_lbs(dev);
}

static osap_err build_will(struct osap_device *dev, char *json, size_t cap, size_t *len)
{
    struct osap_reg_info info;
    size_t i = 0;

    memset(&info, 0, sizeof(info));
    info.light = dev->reg_light;
    memcpy(info.sub_serial, dev->subserial, strlen(dev->subserial));
    memcpy(info.device_id, dev->devid, OSAP_DEVID_LEN);
    if (!info.light) {
        snprintf(info.firmware_version, sizeof(info.firmware_version), "%s", dev->firmware_version);
        snprintf(info.dev_type, sizeof(info.dev_type), "%s", dev->dev_type);
        snprintf(info.dev_type_display, sizeof(info.dev_type_display), "%s", dev->dev_type_display);
        snprintf(info.mac, sizeof(info.mac), "%s", dev->mac);
        info.status = 1;
        snprintf(info.lbs_domain, sizeof(info.lbs_domain), "%s", dev->lbs_domain);
        info.reg_mode = 1;
        snprintf(info.sdk_version[i].domain, sizeof(info.sdk_version[i].domain), "%s",
                 SDK_ACCESS_DOMAIN);
        snprintf(info.sdk_version[i].version, sizeof(info.sdk_version[i].version), "%s",
                 SDK_ACCESS_VERSION);
        for (i = 1; i <= SDK_UNUSED_SLOTS; i++)
            info.sdk_version[i].domain[0] = '0';
        info.sdk_version_count = i;
    }
    return osap_reg_json_format(&info, json, cap, len);
}

static osap_err send_connect(struct osap_device *dev)
{
    struct osap_mqtt_packet pkt;
    char json[REG_JSON_MAX];
    char topic[OSAP_WILL_TOPIC_LEN + 1];
    size_t json_len = 0, ct_len = 0;
    int n;
    osap_err err = build_will(dev, json, sizeof(json), &json_len);

    if (err) return err;
    n = snprintf(topic, sizeof(topic), "%s%s/%s", OSAP_WILL_TOPIC_PREFIX, dev->subserial,
                 dev->first_connect_done ? OSAP_WILL_BREAKCONNECT : OSAP_WILL_FIRSTCONNECT);
    if (n < 0 || (size_t)n > OSAP_WILL_TOPIC_LEN) return OSAP_EINVAL;
    err = osap_cbc_ez_encrypt(dev->session_key, (const uint8_t *)json, json_len, dev->work,
                              dev->message_max, &ct_len);
    osap_cleanse(json, sizeof(json));
    if (err) return err;

    memset(&pkt, 0, sizeof(pkt));
    pkt.type = OSAP_MQTT_CONNECT;
    pkt.connect.clean_session = !dev->reg_light;
    pkt.connect.will = true;
    pkt.connect.will_qos = 1;
    pkt.connect.will_retain = true;
    pkt.connect.has_username = true;
    pkt.connect.has_password = true;
    pkt.connect.keepalive = dev->keepalive_s;
    pkt.connect.client_id.ptr = "";
    pkt.connect.will_topic.ptr = topic;
    pkt.connect.will_topic.len = (size_t)n;
    pkt.connect.will_topic_pad = OSAP_WILL_TOPIC_LEN - (size_t)n;
    pkt.connect.will_message.ptr = dev->work;
    pkt.connect.will_message.len = ct_len;
    pkt.connect.username.ptr = dev->subserial;
    pkt.connect.username.len = strlen(dev->subserial);
    pkt.connect.password.ptr = (const uint8_t *)OSAP_DAS_PASSWORD;
    pkt.connect.password.len = sizeof(OSAP_DAS_PASSWORD) - 1;
    return send_packet(dev, &pkt);
}

static void attempt_start(struct osap_device *dev)
{
    osap_err err;

    if (!dev->has_das) {
        go_lbs(dev);
        return;
    }
    err = osap__conn_open(dev, dev->das.address, dev->das.port);
    if (err) {
        reg_failed(dev, err);
        return;
    }
    dev->phase = PH_DAS_CONNECT;
    dev->t_due = dev->now + dev->connect_timeout_ms;
}

static void connected(struct osap_device *dev)
{
    osap_err err;

    dev->pid_counter = 1;
    dev->session++;
    err = send_connect(dev);
    if (err) {
        reg_failed(dev, err);
        return;
    }
    dev->stats.das_attempts++;
    dev->phase = PH_DAS_CONNACK;
    dev->t_due = dev->now + dev->mqtt_timeout_ms;
    dev->t_ping = dev->now + (uint64_t)dev->keepalive_s * 1000u;
    dev->t_last_rx = dev->now;
}

static int subscribe(struct osap_device *dev, int index)
{
    struct osap_mqtt_packet pkt;
    struct osap_mqtt_subscription sub;
    char filter[OSAP_SUBSERIAL_MAX + 8];
    int n = snprintf(filter, sizeof(filter), "%s%s/#", index == 0 ? OSAP_TOPIC_V3_PREFIX : "/",
                     dev->subserial);
    uint16_t pid = peek_pid(dev);
    osap_err err;

    memset(&pkt, 0, sizeof(pkt));
    sub.filter.ptr = filter;
    sub.filter.len = (size_t)n;
    sub.qos = 1;
    pkt.type = OSAP_MQTT_SUBSCRIBE;
    pkt.subscribe.packet_id = pid;
    pkt.subscribe.count = 1;
    pkt.subscribe.entries = &sub;
    err = send_packet(dev, &pkt);
    if (err) {
        reg_failed(dev, err);
        return -1;
    }
    dev->pid_counter = pid;
    dev->sub_pid = pid;
    dev->sub_index = index;
    dev->phase = PH_DAS_SUBACK;
    dev->t_due = dev->now + dev->mqtt_timeout_ms;
    return 0;
}

static void go_online(struct osap_device *dev)
{
    dev->phase = PH_ONLINE;
    dev->das_fail_n = dev->light_fail_n = 0;
    dev->stats.online_count++;
    dev->stats.last_error = OSAP_OK;
    osap__dev_set_state(dev, OSAP_DEVICE_ONLINE, OSAP_OK);
    osap__biz_on_online(dev);
}

static void on_connack(struct osap_device *dev, const struct osap_mqtt_connack *ca)
{
    switch (ca->return_code) {
    case OSAP_CONNACK_ACCEPTED:
        dev->first_connect_done = 1;
        /* A light registration keeps the subscriptions of the session; when the
         * server has no session (restarted), subscribe again. */
        if (dev->reg_light && ca->session_present)
            go_online(dev);
        else
            subscribe(dev, 0);
        return;
    case OSAP_CONNACK_DEVICE_BLOCKED:
        dev->stats.das_failures++;
        osap__das_block(dev, OSAP_ECONNACK_BLOCKED);
        return;
    case OSAP_CONNACK_SESSION_INVALID:
        dev->stats.das_failures++;
        dev->stats.last_error = OSAP_ECONNACK_SESSION_INVALID;
        go_lbs(dev);
        return;
    case OSAP_CONNACK_SESSION_EXISTS:
        if (!dev->reg_light) {
            dev->stats.das_failures++;
            dev->stats.last_error = OSAP_ECONNACK_SESSION_EXISTS;
            osap__das_schedule(dev, 1, dev->reg_runtime, 0);
            return;
        }
        reg_failed(dev, OSAP_ECONNACK_SESSION_EXISTS);
        return;
    default: reg_failed(dev, osap_err_from_connack(ca->return_code)); return;
    }
}

/* ------------------------------------------------------------------------ */
/* Session                                                                  */
/* ------------------------------------------------------------------------ */

void osap__das_lost(struct osap_device *dev, osap_err why)
{
    if (dev->phase == PH_STOPPING) {
        osap__conn_close(dev);
        osap__biz_on_offline(dev);
        dev->phase = PH_STOPPED;
        osap__dev_set_state(dev, OSAP_DEVICE_STOPPED, why);
        return;
    }
    dev->stats.connection_losses++;
    dev->stats.last_error = why ? why : OSAP_ECLOSED;
    osap__conn_close(dev);
    osap__biz_on_offline(dev);
    dev->light_fail_n = 0;
    osap__das_schedule(dev, 1, 1, osap__backoff_light_ms(1));
}

/* An I/O failure or protocol error on the connection, whatever the phase. */
static void conn_failed(struct osap_device *dev, osap_err why)
{
    if (dev->phase == PH_ONLINE || dev->phase == PH_STOPPING)
        osap__das_lost(dev, why);
    else
        reg_failed(dev, why);
}

static void stop_done(struct osap_device *dev)
{
    osap__conn_close(dev);
    osap__biz_on_offline(dev);
    dev->phase = PH_STOPPED;
    osap__dev_set_state(dev, OSAP_DEVICE_STOPPED, OSAP_OK);
}

/* Stop stages: sub_index 0 and 1 wait for the UNSUBACKs, 2 flushes DISCONNECT. */
static void stop_advance(struct osap_device *dev)
{
    struct osap_mqtt_packet pkt;
    struct osap_mqtt_str filter;
    char buf[OSAP_SUBSERIAL_MAX + 8];
    uint16_t pid;

    if (dev->sub_index >= 2) {
        if (send_simple(dev, OSAP_MQTT_DISCONNECT)) {
            stop_done(dev);
            return;
        }
        dev->sub_index = 3;
        dev->t_due = dev->now + dev->mqtt_timeout_ms;
        return;
    }
    filter.len = (size_t)snprintf(buf, sizeof(buf), "%s%s/#",
                                  dev->sub_index == 0 ? OSAP_TOPIC_V3_PREFIX : "/", dev->subserial);
    filter.ptr = buf;
    pid = peek_pid(dev);
    memset(&pkt, 0, sizeof(pkt));
    pkt.type = OSAP_MQTT_UNSUBSCRIBE;
    pkt.unsubscribe.packet_id = pid;
    pkt.unsubscribe.count = 1;
    pkt.unsubscribe.filters = &filter;
    if (send_packet(dev, &pkt)) {
        stop_done(dev);
        return;
    }
    dev->pid_counter = pid;
    dev->sub_pid = pid;
    dev->t_due = dev->now + dev->mqtt_timeout_ms;
}

void osap__das_begin_stop(struct osap_device *dev)
{
    if (dev->phase != PH_ONLINE) {
        stop_done(dev);
        return;
    }
    dev->phase = PH_STOPPING;
    dev->sub_index = 0;
    stop_advance(dev);
}

static void on_publish(struct osap_device *dev, const struct osap_mqtt_publish *pub)
{
    osap_err err = OSAP_OK;

    /* PUBACK (or PUBREC) first, then the business reply (as the real device). */
    if (pub->qos == 1) err = send_ack(dev, OSAP_MQTT_PUBACK, pub->packet_id);
    if (pub->qos == 2) err = send_ack(dev, OSAP_MQTT_PUBREC, pub->packet_id);
    if (err) {
        conn_failed(dev, err);
        return;
    }
    if (dev->phase == PH_STOPPING) return;
    osap__biz_on_publish(dev, pub);
}

static void on_puback(struct osap_device *dev, uint16_t pid)
{
    for (size_t i = 0; i < OSAP_DEVICE_INFLIGHT_MAX; i++) {
        struct dev_flight *fl = &dev->flights[i];
        if (fl->kind == FL_FREE || fl->pid != pid) continue;
        osap__biz_on_puback(dev, fl);
        memset(fl, 0, sizeof(*fl));
        return;
    }
}

static void on_packet(struct osap_device *dev, struct osap_mqtt_packet *pkt)
{
    dev->t_last_rx = dev->now;
    if (dev->phase == PH_DAS_CONNACK) {
        if (pkt->type != OSAP_MQTT_CONNACK) {
            reg_failed(dev, OSAP_EMQTT_TYPE);
            return;
        }
        on_connack(dev, &pkt->connack);
        return;
    }
    switch (pkt->type) {
    case OSAP_MQTT_PUBLISH: on_publish(dev, &pkt->publish); return;
    case OSAP_MQTT_PUBACK: on_puback(dev, pkt->ack.packet_id); return;
    case OSAP_MQTT_PUBREL:
        if (send_ack(dev, OSAP_MQTT_PUBCOMP, pkt->ack.packet_id)) conn_failed(dev, OSAP_EBUFSIZE);
        return;
    case OSAP_MQTT_SUBACK:
        if (dev->phase != PH_DAS_SUBACK || pkt->suback.packet_id != dev->sub_pid) return;
        if (pkt->suback.count < 1 || pkt->suback.codes[0] == OSAP_SUBACK_FAILURE) {
            reg_failed(dev, OSAP_EPERM);
            return;
        }
        if (dev->sub_index == 0)
            subscribe(dev, 1);
        else
            go_online(dev);
        return;
    case OSAP_MQTT_UNSUBACK:
        if (dev->phase == PH_STOPPING && pkt->ack.packet_id == dev->sub_pid && dev->sub_index < 2) {
            dev->sub_index++;
            stop_advance(dev);
        }
        return;
    case OSAP_MQTT_PINGRESP:
    case OSAP_MQTT_PUBREC:
    case OSAP_MQTT_PUBCOMP: return;
    default: conn_failed(dev, OSAP_EMQTT_TYPE); return;
    }
}

/* Decode and handle every whole packet received, while the output has room for
 * the answers they may need. */
static void process_input(struct osap_device *dev)
{
    while (dev->conn.open && dev->conn.rx_len > 0) {
        struct osap_mqtt_header hdr;
        struct osap_mqtt_packet pkt;
        osap_err err;

        if (osap__conn_room(dev) < dev->message_max) return;
        err = osap_mqtt_frame(dev->rx, dev->conn.rx_len, dev->message_max, &hdr);
        if (err == OSAP_ENEED_MORE) return;
        if (err) {
            conn_failed(dev, err);
            return;
        }
        if (dev->conn.rx_len < hdr.total_len) return;
        err = osap_mqtt_decode_body(&hdr, dev->rx + hdr.header_len, OSAP_MQTT_STRICT, &pkt);
        if (err) {
            conn_failed(dev, err);
            return;
        }
        on_packet(dev, &pkt);
        if (!dev->conn.open) return;
        osap__conn_consume(dev, hdr.total_len);
    }
}

static void online_timers(struct osap_device *dev)
{
    uint64_t ka = (uint64_t)dev->keepalive_s * 1000u;

    if (ka) {
        uint64_t dead = dev->t_last_rx + 2 * ka;
        if (dev->now > dead) {
            osap__das_lost(dev, OSAP_ETIMEDOUT);
            return;
        }
        osap__dev_wake_at(dev, dead + 1);
        if (dev->now >= dev->t_ping) {
            if (send_simple(dev, OSAP_MQTT_PINGREQ) == OSAP_OK) {
                dev->t_ping += ka;
                if (dev->t_ping <= dev->now) dev->t_ping = dev->now + ka;
            }
        }
        osap__dev_wake_at(dev, dev->t_ping);
    }
    for (size_t i = 0; i < OSAP_DEVICE_INFLIGHT_MAX; i++) {
        const struct dev_flight *fl = &dev->flights[i];
        if (fl->kind != FL_EVENT) continue;
        if (dev->now >= fl->t_sent + dev->ack_timeout_ms) {
            osap__das_lost(dev, OSAP_ETIMEDOUT);
            return;
        }
        osap__dev_wake_at(dev, fl->t_sent + dev->ack_timeout_ms);
    }
}

static void session_step(struct osap_device *dev)
{
    osap_err err, fill_err;

    err = osap__conn_flush(dev);
    if (err) {
        conn_failed(dev, err);
        return;
    }
    /* What arrived before a close is still handled (e.g. CONNACK 10, then EOF). */
    fill_err = osap__conn_fill(dev);
    process_input(dev);
    if (!dev->conn.open) return;
    if (fill_err) {
        conn_failed(dev, fill_err);
        return;
    }
    if (dev->conn.rx_len >= dev->message_max) {
        /* rx is full and holds no whole packet the buffer can take */
        if (osap__conn_room(dev) >= dev->message_max) {
            conn_failed(dev, OSAP_ETOOBIG);
            return;
        }
    }

    switch (dev->phase) {
    case PH_DAS_CONNACK:
    case PH_DAS_SUBACK:
        if (dev->now >= dev->t_due) {
            reg_failed(dev, OSAP_ETIMEDOUT);
            return;
        }
        osap__dev_wake_at(dev, dev->t_due);
        break;
    case PH_ONLINE:
        online_timers(dev);
        if (dev->phase != PH_ONLINE) return;
        err = osap__biz_pump(dev);
        if (err && err != OSAP_EBUFSIZE) {
            conn_failed(dev, err);
            return;
        }
        break;
    case PH_STOPPING:
        if (dev->sub_index == 3 && !osap__conn_pending(dev)) {
            stop_done(dev);
            return;
        }
        if (dev->now >= dev->t_due) {
            if (dev->sub_index >= 2) {
                stop_done(dev);
                return;
            }
            dev->sub_index++;
            stop_advance(dev);
            if (dev->phase != PH_STOPPING) return;
        }
        osap__dev_wake_at(dev, dev->t_due);
        break;
    default: break;
    }
    err = osap__conn_flush(dev);
    if (err) {
        conn_failed(dev, err);
        return;
    }
    if (dev->phase == PH_STOPPING && dev->sub_index == 3 && !osap__conn_pending(dev))
        stop_done(dev);
}

osap_err osap__das_step(struct osap_device *dev)
{
    osap_err err;

    switch (dev->phase) {
    case PH_DAS_WAIT:
        if (dev->now < dev->t_due) {
            osap__dev_wake_at(dev, dev->t_due);
            return OSAP_OK;
        }
        attempt_start(dev);
        return OSAP_OK;
    case PH_DAS_CONNECT:
        err = osap__conn_check(dev);
        if (err == OSAP_ENEED_MORE) {
            if (dev->now >= dev->t_due)
                reg_failed(dev, OSAP_ETIMEDOUT);
            else
                osap__dev_wake_at(dev, dev->t_due);
            return OSAP_OK;
        }
        if (err) {
            reg_failed(dev, err);
            return OSAP_OK;
        }
        connected(dev);
        if (dev->phase == PH_DAS_CONNACK) session_step(dev);
        return OSAP_OK;
    case PH_DAS_CONNACK:
    case PH_DAS_SUBACK:
    case PH_ONLINE:
    case PH_STOPPING: session_step(dev); return OSAP_OK;
    default: return OSAP_OK;
    }
}
