/* MQTT remaining length: the variable-length integer of the fixed header. */
#include "osap/mqtt.h"

size_t osap_mqtt_remlen_size(uint32_t value)
{
    if (value < 128u) return 1;
    if (value < 16384u) return 2;
    if (value < 2097152u) return 3;
    if (value <= OSAP_MQTT_REMLEN_MAX) return 4;
    return 0;
}

osap_err osap_mqtt_remlen_encode(uint32_t value, uint8_t *out, size_t cap, size_t *n)
{
    size_t size = osap_mqtt_remlen_size(value);

    if (size == 0) return OSAP_EINVAL;
    if (cap < size) return OSAP_EBUFSIZE;
    for (size_t i = 0; i < size; i++) {
        uint8_t b = (uint8_t)(value & 0x7F);
        value >>= 7;
        out[i] = (uint8_t)(i + 1 < size ? b | 0x80 : b);
    }
    *n = size;
    return OSAP_OK;
}

osap_err osap_mqtt_remlen_decode(const uint8_t *buf, size_t len, uint32_t *value, size_t *n)
{
    uint32_t v = 0;

    for (size_t i = 0; i < OSAP_MQTT_REMLEN_MAX_BYTES; i++) {
        if (i == len) return OSAP_ENEED_MORE;
        uint8_t b = buf[i];
        v |= (uint32_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            /* A last byte of zero after continuation bytes adds nothing: the
             * same value has a shorter encoding. */
            if (b == 0 && i > 0) return OSAP_EMQTT_REMLEN;
            *value = v;
            *n = i + 1;
            return OSAP_OK;
        }
    }
    return OSAP_EMQTT_REMLEN;
}
