/* UNSUBSCRIBE: remove each filter of the session (absent ones are fine), then
 * UNSUBACK. */
#include "das/das_internal.h"

osap_err das_handle_unsubscribe(struct das_conn *c, const struct osap_mqtt_packet *pkt)
{
    struct osap_mqtt_filter_iter it;
    struct osap_mqtt_str f;

    osap_mqtt_filter_iter_unsubscribe(&it, &pkt->unsubscribe);
    while (osap_mqtt_filter_iter_next(&it, &f, NULL))
        if (c->session) das_subs_remove(c->w, c->session, f.ptr, f.len);
    return das_send_ack(c, OSAP_MQTT_UNSUBACK, pkt->unsubscribe.packet_id);
}
