/* Decode a packet received from a client and hand it to its handler (handle_*.c). */
#include "das/das_internal.h"

osap_err das_handle_packet(struct das_conn *c, const struct osap_mqtt_header *hdr,
                           const uint8_t *body)
{
    struct osap_mqtt_packet pkt;
    osap_err err;

    c->w->changes++; /* persistence: this worker's sessions may have changed */
    if (hdr->type == OSAP_MQTT_CONNECT) {
        if (c->state != DAS_CONN_NEW) return OSAP_ESTATE; /* a second CONNECT */
        return das_handle_connect(c, hdr, body);
    }
    err = osap_mqtt_decode_body(hdr, body, OSAP_MQTT_STRICT, &pkt);
    if (err) return err;
    switch (pkt.type) {
    case OSAP_MQTT_PUBLISH: return das_handle_publish(c, &pkt);
    case OSAP_MQTT_PUBACK: return das_handle_puback(c, &pkt);
    case OSAP_MQTT_PUBREC: return das_handle_pubrec(c, &pkt);
    case OSAP_MQTT_PUBREL: return das_handle_pubrel(c, &pkt);
    case OSAP_MQTT_PUBCOMP: return das_handle_pubcomp(c, &pkt);
    case OSAP_MQTT_SUBSCRIBE: return das_handle_subscribe(c, &pkt);
    case OSAP_MQTT_UNSUBSCRIBE: return das_handle_unsubscribe(c, &pkt);
    case OSAP_MQTT_PINGREQ: return das_handle_pingreq(c, &pkt);
    case OSAP_MQTT_DISCONNECT: return das_handle_disconnect(c, &pkt);
    default: return OSAP_EMQTT_TYPE; /* CONNACK, SUBACK, UNSUBACK, PINGRESP: server to client */
    }
}
