/* MQTT 3.1.1 packet encoding into the caller's buffer. */
#include "osap/mqtt.h"

#include <string.h>

/* ---- sizes and checks --------------------------------------------------- */

static bool field_ok(size_t len)
{
    return len <= OSAP_MQTT_STRING_MAX;
}

static osap_err connect_size(const struct osap_mqtt_connect *c, size_t *size)
{
    size_t n = 2 + 4 + 1 + 1 + 2; /* protocol name, level, flags, keep alive */

    if (c->has_password && !c->has_username) return OSAP_EINVAL;
    if (!field_ok(c->client_id.len)) return OSAP_EINVAL;
    n += 2 + c->client_id.len;
    if (c->will) {
        if (c->will_qos > OSAP_MQTT_QOS_MAX || c->will_topic.len == 0) return OSAP_EINVAL;
        if (c->will_topic_pad > OSAP_MQTT_STRING_MAX ||
            !field_ok(c->will_topic.len + c->will_topic_pad) || !field_ok(c->will_message.len))
            return OSAP_EINVAL;
        n += 2 + c->will_topic.len + c->will_topic_pad + 2 + c->will_message.len;
    } else if (c->will_qos || c->will_retain) {
        return OSAP_EINVAL;
    }
    if (c->has_username) {
        if (!field_ok(c->username.len)) return OSAP_EINVAL;
        n += 2 + c->username.len;
    }
    if (c->has_password) {
        if (!field_ok(c->password.len)) return OSAP_EINVAL;
        n += 2 + c->password.len;
    }
    *size = n;
    return OSAP_OK;
}

/* Bytes of a PUBLISH after the fixed header, the payload included. */
static osap_err publish_size(const struct osap_mqtt_publish *p, size_t *size)
{
    size_t n;

    if (p->qos > OSAP_MQTT_QOS_MAX || (p->dup && p->qos == 0)) return OSAP_EINVAL;
    if (p->topic.len == 0 || !field_ok(p->topic.len)) return OSAP_EINVAL;
    if (p->qos > 0 && p->packet_id == 0) return OSAP_EINVAL;
    n = 2 + p->topic.len + (p->qos > 0 ? 2 : 0);
    if (p->payload.len > OSAP_MQTT_REMLEN_MAX - n) return OSAP_EINVAL;
    *size = n + p->payload.len;
    return OSAP_OK;
}

/* A wire-form filter list (from a decoder): whole entries, @p count of them. */
static osap_err raw_list_check(const struct osap_mqtt_bytes *list, size_t count, bool with_qos)
{
    const uint8_t *p = list->ptr;
    size_t left = list->len;
    size_t n = 0;

    while (left) {
        if (left < 2) return OSAP_EINVAL;
        size_t len = (size_t)(p[0] << 8 | p[1]);
        size_t entry = 2 + len + (with_qos ? 1 : 0);
        if (len == 0 || left < entry) return OSAP_EINVAL;
        if (with_qos && p[entry - 1] > OSAP_MQTT_QOS_MAX) return OSAP_EINVAL;
        p += entry;
        left -= entry;
        n++;
    }
    return n == count && n > 0 ? OSAP_OK : OSAP_EINVAL;
}

static osap_err subscribe_size(const struct osap_mqtt_subscribe *s, size_t *size)
{
    size_t n = 2;

    if (s->packet_id == 0) return OSAP_EINVAL;
    if (!s->entries) {
        osap_err err = raw_list_check(&s->list, s->count, true);
        if (err) return err;
        n += s->list.len;
    } else {
        if (s->count == 0) return OSAP_EINVAL;
        for (size_t i = 0; i < s->count; i++) {
            const struct osap_mqtt_subscription *e = &s->entries[i];
            if (e->filter.len == 0 || !field_ok(e->filter.len) || e->qos > OSAP_MQTT_QOS_MAX)
                return OSAP_EINVAL;
            n += 2 + e->filter.len + 1;
            if (n > OSAP_MQTT_REMLEN_MAX) return OSAP_EINVAL;
        }
    }
    *size = n;
    return OSAP_OK;
}

static osap_err unsubscribe_size(const struct osap_mqtt_unsubscribe *u, size_t *size)
{
    size_t n = 2;

    if (u->packet_id == 0) return OSAP_EINVAL;
    if (!u->filters) {
        osap_err err = raw_list_check(&u->list, u->count, false);
        if (err) return err;
        n += u->list.len;
    } else {
        if (u->count == 0) return OSAP_EINVAL;
        for (size_t i = 0; i < u->count; i++) {
            if (u->filters[i].len == 0 || !field_ok(u->filters[i].len)) return OSAP_EINVAL;
            n += 2 + u->filters[i].len;
            if (n > OSAP_MQTT_REMLEN_MAX) return OSAP_EINVAL;
        }
    }
    *size = n;
    return OSAP_OK;
}

static osap_err suback_size(const struct osap_mqtt_suback *s, size_t *size)
{
    if (s->packet_id == 0 || s->count == 0 || s->count > OSAP_MQTT_REMLEN_MAX - 2)
        return OSAP_EINVAL;
    for (size_t i = 0; i < s->count; i++)
        if (s->codes[i] > OSAP_MQTT_QOS_MAX && s->codes[i] != OSAP_SUBACK_FAILURE)
            return OSAP_EINVAL;
    *size = 2 + s->count;
    return OSAP_OK;
}

/* Remaining length of @p pkt, after every check. */
static osap_err body_size(const struct osap_mqtt_packet *pkt, size_t *size)
{
    osap_err err = OSAP_OK;
    size_t n = 0;

    switch (pkt->type) {
    case OSAP_MQTT_CONNECT: err = connect_size(&pkt->connect, &n); break;
    case OSAP_MQTT_CONNACK:
        if (pkt->connack.session_present && pkt->connack.return_code != 0) err = OSAP_EINVAL;
        n = 2;
        break;
    case OSAP_MQTT_PUBLISH: err = publish_size(&pkt->publish, &n); break;
    case OSAP_MQTT_PUBACK:
    case OSAP_MQTT_PUBREC:
    case OSAP_MQTT_PUBREL:
    case OSAP_MQTT_PUBCOMP:
    case OSAP_MQTT_UNSUBACK:
        if (pkt->ack.packet_id == 0) err = OSAP_EINVAL;
        n = 2;
        break;
    case OSAP_MQTT_SUBSCRIBE: err = subscribe_size(&pkt->subscribe, &n); break;
    case OSAP_MQTT_SUBACK: err = suback_size(&pkt->suback, &n); break;
    case OSAP_MQTT_UNSUBSCRIBE: err = unsubscribe_size(&pkt->unsubscribe, &n); break;
    case OSAP_MQTT_PINGREQ:
    case OSAP_MQTT_PINGRESP:
    case OSAP_MQTT_DISCONNECT: n = 0; break;
    default: err = OSAP_EINVAL; break;
    }
    if (err) return err;
    if (n > OSAP_MQTT_REMLEN_MAX) return OSAP_EINVAL;
    *size = n;
    return OSAP_OK;
}

static uint8_t fixed_flags(const struct osap_mqtt_packet *pkt)
{
    switch (pkt->type) {
    case OSAP_MQTT_PUBLISH:
        return (uint8_t)((pkt->publish.dup ? OSAP_MQTT_PUBLISH_DUP : 0) | pkt->publish.qos << 1 |
                         (pkt->publish.retain ? OSAP_MQTT_PUBLISH_RETAIN : 0));
    case OSAP_MQTT_PUBREL: return OSAP_MQTT_FLAGS_PUBREL;
    case OSAP_MQTT_SUBSCRIBE: return OSAP_MQTT_FLAGS_SUBSCRIBE;
    case OSAP_MQTT_UNSUBSCRIBE: return OSAP_MQTT_FLAGS_UNSUBSCRIBE;
    default: return 0;
    }
}

/* ---- writing ------------------------------------------------------------ */

static uint8_t *put_u8(uint8_t *p, uint8_t v)
{
    *p = v;
    return p + 1;
}

static uint8_t *put_u16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

static uint8_t *put_raw(uint8_t *p, const void *data, size_t len)
{
    if (len) memcpy(p, data, len);
    return p + len;
}

static uint8_t *put_field(uint8_t *p, const void *data, size_t len)
{
    return put_raw(put_u16(p, len), data, len);
}

static uint8_t *put_header(uint8_t *p, uint8_t byte0, size_t remaining)
{
    size_t n = 0;
    *p++ = byte0;
    osap_mqtt_remlen_encode((uint32_t)remaining, p, OSAP_MQTT_REMLEN_MAX_BYTES, &n);
    return p + n;
}

static uint8_t *put_connect(uint8_t *p, const struct osap_mqtt_connect *c)
{
    uint8_t flags = (uint8_t)((c->has_username ? OSAP_MQTT_CONNECT_USERNAME : 0) |
                              (c->has_password ? OSAP_MQTT_CONNECT_PASSWORD : 0) |
                              (c->will_retain ? OSAP_MQTT_CONNECT_WILL_RET : 0) | c->will_qos << 3 |
                              (c->will ? OSAP_MQTT_CONNECT_WILL : 0) |
                              (c->clean_session ? OSAP_MQTT_CONNECT_CLEAN : 0));

    p = put_field(p, OSAP_MQTT_PROTOCOL_NAME, 4);
    p = put_u8(p, OSAP_MQTT_PROTOCOL_LEVEL);
    p = put_u8(p, flags);
    p = put_u16(p, c->keepalive);
    p = put_field(p, c->client_id.ptr, c->client_id.len);
    if (c->will) {
        p = put_u16(p, c->will_topic.len + c->will_topic_pad);
        p = put_raw(p, c->will_topic.ptr, c->will_topic.len);
        memset(p, 0, c->will_topic_pad);
        p += c->will_topic_pad;
        p = put_field(p, c->will_message.ptr, c->will_message.len);
    }
    if (c->has_username) p = put_field(p, c->username.ptr, c->username.len);
    if (c->has_password) p = put_field(p, c->password.ptr, c->password.len);
    return p;
}

static uint8_t *put_publish_start(uint8_t *p, const struct osap_mqtt_publish *pub)
{
    p = put_field(p, pub->topic.ptr, pub->topic.len);
    if (pub->qos > 0) p = put_u16(p, pub->packet_id);
    return p;
}

static uint8_t *put_body(uint8_t *p, const struct osap_mqtt_packet *pkt)
{
    switch (pkt->type) {
    case OSAP_MQTT_CONNECT: return put_connect(p, &pkt->connect);
    case OSAP_MQTT_CONNACK:
        p = put_u8(p, pkt->connack.session_present ? OSAP_MQTT_CONNACK_SESSION_PRESENT : 0);
        return put_u8(p, pkt->connack.return_code);
    case OSAP_MQTT_PUBLISH:
        p = put_publish_start(p, &pkt->publish);
        return put_raw(p, pkt->publish.payload.ptr, pkt->publish.payload.len);
    case OSAP_MQTT_PUBACK:
    case OSAP_MQTT_PUBREC:
    case OSAP_MQTT_PUBREL:
    case OSAP_MQTT_PUBCOMP:
    case OSAP_MQTT_UNSUBACK: return put_u16(p, pkt->ack.packet_id);
    case OSAP_MQTT_SUBSCRIBE: {
        const struct osap_mqtt_subscribe *s = &pkt->subscribe;
        p = put_u16(p, s->packet_id);
        if (!s->entries) return put_raw(p, s->list.ptr, s->list.len);
        for (size_t i = 0; i < s->count; i++) {
            p = put_field(p, s->entries[i].filter.ptr, s->entries[i].filter.len);
            p = put_u8(p, s->entries[i].qos);
        }
        return p;
    }
    case OSAP_MQTT_SUBACK:
        p = put_u16(p, pkt->suback.packet_id);
        return put_raw(p, pkt->suback.codes, pkt->suback.count);
    case OSAP_MQTT_UNSUBSCRIBE: {
        const struct osap_mqtt_unsubscribe *u = &pkt->unsubscribe;
        p = put_u16(p, u->packet_id);
        if (!u->filters) return put_raw(p, u->list.ptr, u->list.len);
        for (size_t i = 0; i < u->count; i++)
            p = put_field(p, u->filters[i].ptr, u->filters[i].len);
        return p;
    }
    default: return p; /* PINGREQ, PINGRESP, DISCONNECT */
    }
}

/* ---- public ------------------------------------------------------------- */

osap_err osap_mqtt_encoded_size(const struct osap_mqtt_packet *pkt, size_t *size)
{
    size_t rem;
    osap_err err = body_size(pkt, &rem);

    if (err) return err;
    *size = 1 + osap_mqtt_remlen_size((uint32_t)rem) + rem;
    return OSAP_OK;
}

osap_err osap_mqtt_encode(const struct osap_mqtt_packet *pkt, uint8_t *out, size_t cap, size_t *len)
{
    size_t rem, total;
    uint8_t *p;
    osap_err err = body_size(pkt, &rem);

    if (err) return err;
    total = 1 + osap_mqtt_remlen_size((uint32_t)rem) + rem;
    if (cap < total) return OSAP_EBUFSIZE;
    p = put_header(out, (uint8_t)(pkt->type << 4 | fixed_flags(pkt)), rem);
    p = put_body(p, pkt);
    *len = (size_t)(p - out);
    return OSAP_OK;
}

osap_err osap_mqtt_encode_publish_header(const struct osap_mqtt_publish *pub, uint8_t *out,
                                         size_t cap, size_t *len)
{
    struct osap_mqtt_packet pkt = {.type = OSAP_MQTT_PUBLISH, .publish = *pub};
    size_t rem, head;
    uint8_t *p;
    osap_err err = publish_size(pub, &rem);

    if (err) return err;
    head = 1 + osap_mqtt_remlen_size((uint32_t)rem) + (rem - pub->payload.len);
    if (cap < head) return OSAP_EBUFSIZE;
    p = put_header(out, (uint8_t)(OSAP_MQTT_PUBLISH << 4 | fixed_flags(&pkt)), rem);
    p = put_publish_start(p, pub);
    *len = (size_t)(p - out);
    return OSAP_OK;
}
