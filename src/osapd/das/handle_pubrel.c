/* PUBREL: the client releases a QoS 2 message it sent us; the id may be reused.
 * Answer PUBCOMP, also for an id we do not hold (a repeated PUBREL). */
#include "das/das_internal.h"

osap_err das_handle_pubrel(struct das_conn *c, const struct osap_mqtt_packet *pkt)
{
    if (c->session) das_session_rel_done(c->session, pkt->ack.packet_id);
    return das_send_ack(c, OSAP_MQTT_PUBCOMP, pkt->ack.packet_id);
}
