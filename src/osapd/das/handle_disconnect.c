/* DISCONNECT: a normal end; the will is discarded (MQTT 3.1.1 section 3.14). */
#include "das/das_internal.h"

osap_err das_handle_disconnect(struct das_conn *c, const struct osap_mqtt_packet *pkt)
{
    (void)pkt;
    c->disconnected = true;
    das_msg_unref(c->will);
    c->will = NULL;
    das_conn_close_now(c, "DISCONNECT", true);
    return OSAP_OK;
}
