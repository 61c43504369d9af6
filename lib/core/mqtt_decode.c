/* MQTT 3.1.1 packet decoding: zero-copy views into the caller's bytes. */
#include "osap/mqtt.h"

#include <string.h>

/* A cursor over the body of one packet. */
struct reader {
    const uint8_t *p;
    size_t left;
};

static bool read_u8(struct reader *r, uint8_t *v)
{
    if (r->left < 1) return false;
    *v = r->p[0];
    r->p++;
    r->left--;
    return true;
}

static bool read_u16(struct reader *r, uint16_t *v)
{
    if (r->left < 2) return false;
    *v = (uint16_t)(r->p[0] << 8 | r->p[1]);
    r->p += 2;
    r->left -= 2;
    return true;
}

/* A two-byte length followed by that many bytes. */
static bool read_field(struct reader *r, const uint8_t **ptr, size_t *len)
{
    uint16_t n;
    if (!read_u16(r, &n) || r->left < n) return false;
    *ptr = r->p;
    *len = n;
    r->p += n;
    r->left -= n;
    return true;
}

static bool read_str(struct reader *r, struct osap_mqtt_str *s)
{
    const uint8_t *p;
    if (!read_field(r, &p, &s->len)) return false;
    s->ptr = (const char *)p;
    return true;
}

static bool read_bytes(struct reader *r, struct osap_mqtt_bytes *b)
{
    return read_field(r, &b->ptr, &b->len);
}

static osap_err read_packet_id(struct reader *r, uint16_t *id)
{
    if (!read_u16(r, id)) return OSAP_EMQTT_LENGTH;
    return *id ? OSAP_OK : OSAP_EMQTT_PACKET_ID;
}

static osap_err decode_connect_flags(uint8_t f, struct osap_mqtt_connect *c)
{
    c->clean_session = f & OSAP_MQTT_CONNECT_CLEAN;
    c->will = f & OSAP_MQTT_CONNECT_WILL;
    c->will_qos = (f & OSAP_MQTT_CONNECT_WILL_QOS) >> 3;
    c->will_retain = f & OSAP_MQTT_CONNECT_WILL_RET;
    c->has_username = f & OSAP_MQTT_CONNECT_USERNAME;
    c->has_password = f & OSAP_MQTT_CONNECT_PASSWORD;

    if (f & OSAP_MQTT_CONNECT_RESERVED) return OSAP_EMQTT_CONNECT_FLAGS;
    if (c->will && c->will_qos > OSAP_MQTT_QOS_MAX) return OSAP_EMQTT_QOS;
    if (!c->will && (c->will_qos || c->will_retain)) return OSAP_EMQTT_CONNECT_FLAGS;
    if (c->has_password && !c->has_username) return OSAP_EMQTT_CONNECT_FLAGS;
    return OSAP_OK;
}

/* The will topic; in lenient mode trailing NUL padding is stripped first. */
static osap_err check_will_topic(struct osap_mqtt_connect *c, unsigned mode)
{
    osap_err err;

    if (mode & OSAP_MQTT_LENIENT_WILL_PAD) {
        size_t len = c->will_topic.len;
        while (len > 0 && c->will_topic.ptr[len - 1] == '\0')
            len--;
        c->will_topic_pad = c->will_topic.len - len;
        c->will_topic.len = len;
    }
    err = osap_mqtt_topic_validate(c->will_topic.ptr, c->will_topic.len);
    return err == OSAP_EMQTT_TOPIC ? OSAP_EMQTT_WILL_TOPIC : err;
}

static osap_err decode_connect(struct reader *r, unsigned mode, struct osap_mqtt_connect *c)
{
    struct osap_mqtt_str name;
    uint8_t level, flags;
    osap_err err;

    /* Name and level first: a client of another protocol version gets
     * OSAP_EMQTT_PROTO_* (CONNACK 1) whatever the rest of its packet holds. */
    if (!read_str(r, &name)) return OSAP_EMQTT_LENGTH;
    if (name.len != 4 || memcmp(name.ptr, OSAP_MQTT_PROTOCOL_NAME, 4) != 0)
        return OSAP_EMQTT_PROTO_NAME;
    if (!read_u8(r, &level)) return OSAP_EMQTT_LENGTH;
    if (level != OSAP_MQTT_PROTOCOL_LEVEL) return OSAP_EMQTT_PROTO_LEVEL;
    if (!read_u8(r, &flags) || !read_u16(r, &c->keepalive)) return OSAP_EMQTT_LENGTH;
    err = decode_connect_flags(flags, c);
    if (err) return err;

    if (!read_str(r, &c->client_id)) return OSAP_EMQTT_LENGTH;
    err = osap_mqtt_utf8_validate(c->client_id.ptr, c->client_id.len);
    if (err) return err;
    if (c->client_id.len == 0 && !c->clean_session && !(mode & OSAP_MQTT_LENIENT_EMPTY_CLIENT_ID))
        return OSAP_EMQTT_CLIENT_ID;

    if (c->will) {
        if (!read_str(r, &c->will_topic)) return OSAP_EMQTT_LENGTH;
        err = check_will_topic(c, mode);
        if (err) return err;
        if (!read_bytes(r, &c->will_message)) return OSAP_EMQTT_LENGTH;
    }
    if (c->has_username) {
        if (!read_str(r, &c->username)) return OSAP_EMQTT_LENGTH;
        err = osap_mqtt_utf8_validate(c->username.ptr, c->username.len);
        if (err) return err;
    }
    if (c->has_password && !read_bytes(r, &c->password)) return OSAP_EMQTT_LENGTH;
    return r->left ? OSAP_EMQTT_LENGTH : OSAP_OK;
}

static osap_err decode_connack(struct reader *r, struct osap_mqtt_connack *c)
{
    uint8_t flags;

    if (!read_u8(r, &flags) || !read_u8(r, &c->return_code) || r->left) return OSAP_EMQTT_LENGTH;
    if (flags & OSAP_MQTT_CONNACK_RESERVED) return OSAP_EMQTT_CONNACK_FLAGS;
    c->session_present = flags & OSAP_MQTT_CONNACK_SESSION_PRESENT;
    /* MQTT-3.2.2-4: a refusal never claims a session. */
    if (c->session_present && c->return_code != 0) return OSAP_EMQTT_CONNACK_FLAGS;
    return OSAP_OK;
}

static osap_err decode_publish(struct reader *r, uint8_t flags, struct osap_mqtt_publish *p)
{
    osap_err err;

    p->dup = flags & OSAP_MQTT_PUBLISH_DUP;
    p->qos = OSAP_MQTT_PUBLISH_QOS(flags);
    p->retain = flags & OSAP_MQTT_PUBLISH_RETAIN;
    if (!read_str(r, &p->topic)) return OSAP_EMQTT_LENGTH;
    err = osap_mqtt_topic_validate(p->topic.ptr, p->topic.len);
    if (err) return err;
    if (p->qos > 0) {
        err = read_packet_id(r, &p->packet_id);
        if (err) return err;
    }
    p->payload.ptr = r->p;
    p->payload.len = r->left;
    return OSAP_OK;
}

static osap_err decode_ack(struct reader *r, struct osap_mqtt_ack *a)
{
    osap_err err;

    if (r->left != 2) return OSAP_EMQTT_LENGTH;
    err = read_packet_id(r, &a->packet_id);
    return err;
}

/* The filter list of SUBSCRIBE (with_qos) or UNSUBSCRIBE. */
static osap_err decode_filters(struct reader *r, bool with_qos, size_t *count,
                               struct osap_mqtt_bytes *list)
{
    size_t n = 0;

    if (r->left == 0) return OSAP_EMQTT_NO_TOPICS;
    list->ptr = r->p;
    list->len = r->left;
    while (r->left) {
        struct osap_mqtt_str filter;
        uint8_t qos;
        osap_err err;

        if (!read_str(r, &filter)) return OSAP_EMQTT_LENGTH;
        err = osap_mqtt_filter_validate(filter.ptr, filter.len);
        if (err) return err;
        if (with_qos) {
            if (!read_u8(r, &qos)) return OSAP_EMQTT_LENGTH;
            if ((qos & OSAP_MQTT_SUB_QOS_RESERVED) || qos > OSAP_MQTT_QOS_MAX)
                return OSAP_EMQTT_QOS;
        }
        n++;
    }
    *count = n;
    return OSAP_OK;
}

static osap_err decode_subscribe(struct reader *r, struct osap_mqtt_subscribe *s)
{
    osap_err err = read_packet_id(r, &s->packet_id);
    if (err) return err;
    s->entries = NULL;
    return decode_filters(r, true, &s->count, &s->list);
}

static osap_err decode_unsubscribe(struct reader *r, struct osap_mqtt_unsubscribe *u)
{
    osap_err err = read_packet_id(r, &u->packet_id);
    if (err) return err;
    u->filters = NULL;
    return decode_filters(r, false, &u->count, &u->list);
}

static osap_err decode_suback(struct reader *r, struct osap_mqtt_suback *s)
{
    osap_err err = read_packet_id(r, &s->packet_id);
    if (err) return err;
    if (r->left == 0) return OSAP_EMQTT_LENGTH;
    for (size_t i = 0; i < r->left; i++) {
        uint8_t c = r->p[i];
        if (c > OSAP_MQTT_QOS_MAX && c != OSAP_SUBACK_FAILURE) return OSAP_EMQTT_RETURN_CODE;
    }
    s->codes = r->p;
    s->count = r->left;
    return OSAP_OK;
}

osap_err osap_mqtt_decode_body(const struct osap_mqtt_header *hdr, const uint8_t *body,
                               unsigned mode, struct osap_mqtt_packet *pkt)
{
    struct osap_mqtt_packet out;
    struct reader r = {body, hdr->remaining_len};
    osap_err err;

    if (hdr->type > 0x0F || hdr->flags > 0x0F) return OSAP_EMQTT_TYPE;
    err = osap_mqtt_header_check((uint8_t)(hdr->type << 4 | hdr->flags));
    if (err) return err;

    memset(&out, 0, sizeof(out));
    out.type = hdr->type;
    out.flags = hdr->flags;
    switch (hdr->type) {
    case OSAP_MQTT_CONNECT: err = decode_connect(&r, mode, &out.connect); break;
    case OSAP_MQTT_CONNACK: err = decode_connack(&r, &out.connack); break;
    case OSAP_MQTT_PUBLISH: err = decode_publish(&r, hdr->flags, &out.publish); break;
    case OSAP_MQTT_PUBACK:
    case OSAP_MQTT_PUBREC:
    case OSAP_MQTT_PUBREL:
    case OSAP_MQTT_PUBCOMP:
    case OSAP_MQTT_UNSUBACK: err = decode_ack(&r, &out.ack); break;
    case OSAP_MQTT_SUBSCRIBE: err = decode_subscribe(&r, &out.subscribe); break;
    case OSAP_MQTT_SUBACK: err = decode_suback(&r, &out.suback); break;
    case OSAP_MQTT_UNSUBSCRIBE: err = decode_unsubscribe(&r, &out.unsubscribe); break;
    default: err = r.left ? OSAP_EMQTT_LENGTH : OSAP_OK; break; /* PINGREQ, PINGRESP, DISCONNECT */
    }
    if (err) return err;
    *pkt = out;
    return OSAP_OK;
}

osap_err osap_mqtt_decode(const uint8_t *buf, size_t len, size_t max_packet, unsigned mode,
                          struct osap_mqtt_packet *pkt, size_t *consumed)
{
    struct osap_mqtt_header hdr;
    osap_err err = osap_mqtt_frame(buf, len, max_packet, &hdr);

    if (err) return err;
    if (len < hdr.total_len) return OSAP_ENEED_MORE;
    err = osap_mqtt_decode_body(&hdr, buf + hdr.header_len, mode, pkt);
    if (err) return err;
    *consumed = hdr.total_len;
    return OSAP_OK;
}

static void filter_iter_init(struct osap_mqtt_filter_iter *it, const struct osap_mqtt_bytes *list,
                             bool with_qos)
{
    it->pos = list->ptr;
    it->end = list->len ? list->ptr + list->len : list->ptr;
    it->with_qos = with_qos;
}

void osap_mqtt_filter_iter_subscribe(struct osap_mqtt_filter_iter *it,
                                     const struct osap_mqtt_subscribe *sub)
{
    filter_iter_init(it, &sub->list, true);
}

void osap_mqtt_filter_iter_unsubscribe(struct osap_mqtt_filter_iter *it,
                                       const struct osap_mqtt_unsubscribe *unsub)
{
    filter_iter_init(it, &unsub->list, false);
}

bool osap_mqtt_filter_iter_next(struct osap_mqtt_filter_iter *it, struct osap_mqtt_str *filter,
                                uint8_t *qos)
{
    struct reader r;
    struct osap_mqtt_str f;
    uint8_t q = 0;

    if (it->pos == it->end) return false;
    r.p = it->pos;
    r.left = (size_t)(it->end - it->pos);
    if (!read_str(&r, &f)) return false;
    if (it->with_qos && !read_u8(&r, &q)) return false;
    it->pos = r.p;
    *filter = f;
    if (qos) *qos = q;
    return true;
}
