/* PUBCOMP: the QoS 2 exchange of a message we sent is complete. */
#include "das/das_internal.h"

osap_err das_handle_pubcomp(struct das_conn *c, const struct osap_mqtt_packet *pkt)
{
    if (c->session) das_session_ack(c->w, c->session, pkt->ack.packet_id, OSAP_MQTT_PUBCOMP);
    return OSAP_OK;
}
