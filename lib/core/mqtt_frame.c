/* MQTT fixed header: first-byte rules and framing of the byte stream. */
#include "osap/mqtt.h"

/* Flags nibble each type must carry; PUBLISH (3) has its own rules. */
static const uint8_t required_flags[16] = {
    [OSAP_MQTT_PUBREL] = OSAP_MQTT_FLAGS_PUBREL,
    [OSAP_MQTT_SUBSCRIBE] = OSAP_MQTT_FLAGS_SUBSCRIBE,
    [OSAP_MQTT_UNSUBSCRIBE] = OSAP_MQTT_FLAGS_UNSUBSCRIBE,
};

/* Remaining length of the packets that have a fixed size, or -1. */
static int fixed_remaining(uint8_t type)
{
    switch (type) {
    case OSAP_MQTT_CONNACK:
    case OSAP_MQTT_PUBACK:
    case OSAP_MQTT_PUBREC:
    case OSAP_MQTT_PUBREL:
    case OSAP_MQTT_PUBCOMP:
    case OSAP_MQTT_UNSUBACK: return 2;
    case OSAP_MQTT_PINGREQ:
    case OSAP_MQTT_PINGRESP:
    case OSAP_MQTT_DISCONNECT: return 0;
    default: return -1;
    }
}

osap_err osap_mqtt_header_check(uint8_t byte0)
{
    uint8_t type = byte0 >> 4;
    uint8_t flags = byte0 & 0x0F;

    if (type < OSAP_MQTT_CONNECT || type > OSAP_MQTT_DISCONNECT) return OSAP_EMQTT_TYPE;
    if (type == OSAP_MQTT_PUBLISH) {
        unsigned qos = OSAP_MQTT_PUBLISH_QOS(flags);
        if (qos > OSAP_MQTT_QOS_MAX) return OSAP_EMQTT_QOS;
        if (qos == 0 && (flags & OSAP_MQTT_PUBLISH_DUP)) return OSAP_EMQTT_FLAGS;
        return OSAP_OK;
    }
    return flags == required_flags[type] ? OSAP_OK : OSAP_EMQTT_FLAGS;
}

osap_err osap_mqtt_frame(const uint8_t *buf, size_t len, size_t max_packet,
                         struct osap_mqtt_header *hdr)
{
    uint32_t remaining;
    size_t n;
    osap_err err;

    if (len == 0) return OSAP_ENEED_MORE;
    err = osap_mqtt_header_check(buf[0]);
    if (err) return err;
    err = osap_mqtt_remlen_decode(buf + 1, len - 1, &remaining, &n);
    if (err) return err;

    uint8_t type = buf[0] >> 4;
    int fixed = fixed_remaining(type);
    if (fixed >= 0 && remaining != (uint32_t)fixed) return OSAP_EMQTT_LENGTH;

    size_t total = 1 + n + (size_t)remaining;
    if (max_packet && total > max_packet) return OSAP_ETOOBIG;

    hdr->type = type;
    hdr->flags = buf[0] & 0x0F;
    hdr->header_len = (uint8_t)(1 + n);
    hdr->remaining_len = remaining;
    hdr->total_len = total;
    return OSAP_OK;
}

const char *osap_mqtt_type_name(uint8_t type)
{
    static const char *const names[16] = {
        "RESERVED", "CONNECT",  "CONNACK",    "PUBLISH",  "PUBACK",      "PUBREC",
        "PUBREL",   "PUBCOMP",  "SUBSCRIBE",  "SUBACK",   "UNSUBSCRIBE", "UNSUBACK",
        "PINGREQ",  "PINGRESP", "DISCONNECT", "RESERVED",
    };
    return type < 16 ? names[type] : "RESERVED";
}
