/* PUBREC: a QoS 2 message we sent is received; answer PUBREL (also for an unknown
 * packet id, so that the client can finish its side of the exchange). */
#include "das/das_internal.h"

osap_err das_handle_pubrec(struct das_conn *c, const struct osap_mqtt_packet *pkt)
{
    uint16_t pid = pkt->ack.packet_id;
    if (c->session && das_session_ack(c->w, c->session, pid, OSAP_MQTT_PUBREC)) return OSAP_OK;
    return das_send_ack(c, OSAP_MQTT_PUBREL, pid);
}
