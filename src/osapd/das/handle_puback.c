/* PUBACK: a QoS 1 message we sent is delivered; its in-flight slot frees up. An
 * unknown packet id is ignored (e.g. an acknowledgement of a message sent before a
 * clean reconnect). */
#include "das/das_internal.h"

osap_err das_handle_puback(struct das_conn *c, const struct osap_mqtt_packet *pkt)
{
    if (c->session) das_session_ack(c->w, c->session, pkt->ack.packet_id, OSAP_MQTT_PUBACK);
    return OSAP_OK;
}
