/* PINGREQ: answer PINGRESP (the receipt itself refreshed the keepalive). */
#include "das/das_internal.h"

osap_err das_handle_pingreq(struct das_conn *c, const struct osap_mqtt_packet *pkt)
{
    (void)pkt;
    return das_send_pingresp(c);
}
