/* Packets the broker sends, encoded with the libosap MQTT codec straight into the
 * connection's output queue. PUBLISH payloads are not copied: the queue references
 * the message. */
#include "das/das_internal.h"

#include "osap/alloc.h"

static osap_err queue_packet(struct das_conn *c, const struct osap_mqtt_packet *pkt)
{
    size_t size, len;
    uint8_t *p;
    osap_err err = osap_mqtt_encoded_size(pkt, &size);

    if (err) return err;
    p = das_out_reserve(c, size);
    if (!p) return OSAP_ENOMEM;
    err = osap_mqtt_encode(pkt, p, size, &len);
    if (err) return err;
    return das_out_commit(c, len, NULL);
}

osap_err das_send_connack(struct das_conn *c, bool session_present, uint8_t code)
{
    struct osap_mqtt_packet pkt = {.type = OSAP_MQTT_CONNACK};
    pkt.connack.session_present = session_present && code == 0;
    pkt.connack.return_code = code;
    return queue_packet(c, &pkt);
}

osap_err das_send_ack(struct das_conn *c, uint8_t type, uint16_t pid)
{
    struct osap_mqtt_packet pkt = {.type = type};
    pkt.ack.packet_id = pid;
    return queue_packet(c, &pkt);
}

osap_err das_send_suback(struct das_conn *c, uint16_t pid, const uint8_t *codes, size_t n)
{
    struct osap_mqtt_packet pkt = {.type = OSAP_MQTT_SUBACK};
    pkt.suback.packet_id = pid;
    pkt.suback.count = n;
    pkt.suback.codes = codes;
    return queue_packet(c, &pkt);
}

osap_err das_send_pingresp(struct das_conn *c)
{
    struct osap_mqtt_packet pkt = {.type = OSAP_MQTT_PINGRESP};
    return queue_packet(c, &pkt);
}

osap_err das_send_publish(struct das_conn *c, struct das_msg *m, int qos, int retain, int dup,
                          uint16_t pid)
{
    struct osap_mqtt_publish pub = {0};
    size_t len, cap = OSAP_MQTT_HEADER_MAX + 2 + (size_t)m->topic_len + 2;
    uint8_t *p = das_out_reserve(c, cap);
    osap_err err;

    if (!p) return OSAP_ENOMEM;
    pub.dup = dup && qos > 0;
    pub.qos = (uint8_t)qos;
    pub.retain = retain != 0;
    pub.topic.ptr = m->topic;
    pub.topic.len = m->topic_len;
    pub.packet_id = qos ? pid : 0;
    pub.payload.len = m->payload_len;
    err = osap_mqtt_encode_publish_header(&pub, p, cap, &len);
    if (err) return err;
    err = das_out_commit(c, len, m->payload_len ? m : NULL);
    if (err == OSAP_OK) atomic_fetch_add_explicit(&c->w->msgs_out, 1, memory_order_relaxed);
    return err;
}
