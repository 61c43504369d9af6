/* PUBLISH from a client or a device.
 *
 * Clients: the ACL decides; a refused message is dropped silently at QoS 0, and
 * acknowledged then dropped at QoS 1 and 2 (as Mosquitto does), so a client cannot
 * learn the ACL by probing. QoS 2 is exactly-once by packet id: the message is
 * routed when its PUBLISH first arrives, the id is remembered until PUBREL, and a
 * repeated PUBLISH with that id is only answered with PUBREC.
 *
 * Back-pressure: a client's acknowledgements go through das_flow_ack(), which holds
 * them back while a congested subscriber holds this client (das_flow.c); messages
 * carry the publishing connection (origin) for that.
 *
 * Devices: the device layer's on_publish hook decides, including whether the raw
 * message also reaches MQTT subscribers; RETAIN from devices is ignored (they set it
 * on every publish, spec 6.6). */
#include "das/das_internal.h"

#include "log.h"

static osap_err route_copy(struct das_conn *c, const struct osap_mqtt_publish *p, int retain)
{
    struct das_msg *m;
    osap_err err =
        das_msg_new(p->topic.ptr, p->topic.len, p->payload.ptr, p->payload.len, p->qos, retain, &m);
    if (err) return err;
    if (!c->is_device && p->qos > 0) m->origin = das_conn_ref(c);
    das_route(c->w, m);
    das_msg_unref(m);
    return OSAP_OK;
}

static osap_err from_device(struct das_conn *c, const struct osap_mqtt_publish *p)
{
    struct das *das = c->w->das;
    int route = 0, verdict;

    verdict = das->hooks.on_publish ? das->hooks.on_publish(das->hooks.userdata, c, p, &route)
                                    : DAS_PUB_DROP;
    if (verdict == DAS_PUB_CLOSE) return OSAP_EPERM;
    if (c->state != DAS_CONN_ACTIVE) return OSAP_OK;
    if (route) route_copy(c, p, 0);
    if (p->qos == 1 && verdict != DAS_PUB_ACK_LATER)
        return das_send_ack(c, OSAP_MQTT_PUBACK, p->packet_id);
    if (p->qos == 2) return das_send_ack(c, OSAP_MQTT_PUBREC, p->packet_id);
    return OSAP_OK;
}

osap_err das_handle_publish(struct das_conn *c, const struct osap_mqtt_packet *pkt)
{
    const struct osap_mqtt_publish *p = &pkt->publish;
    struct das_worker *w = c->w;
    osap_err err;

    if (!c->session) return OSAP_ESTATE;
    atomic_fetch_add_explicit(&w->msgs_in, 1, memory_order_relaxed);
    if (p->qos == 2) {
        if (das_session_rel_seen(c->session, p->packet_id, w->das->set.max_inflight, &err))
            return c->is_device ? das_send_ack(c, OSAP_MQTT_PUBREC, p->packet_id)
                                : das_flow_ack(c, OSAP_MQTT_PUBREC, p->packet_id); /* duplicate */
        if (err) return err;
    }
    if (atomic_load_explicit(&w->outstanding, memory_order_relaxed) > w->das->set.forward_high)
        das_conn_backpressure(c); /* after this read: the other workers lag behind */
    if (c->is_device) return from_device(c, p);

    if (das_acl_can_write(c->acl, p->topic.ptr, p->topic.len)) {
        err = route_copy(c, p, p->retain);
        if (err) return err;
    } else {
        OSAP_LOGD(DAS_LOG, "client %s: publish to %.*s refused (ACL)", c->session->key,
                  (int)p->topic.len, p->topic.ptr);
    }
    if (p->qos == 1) return das_flow_ack(c, OSAP_MQTT_PUBACK, p->packet_id);
    if (p->qos == 2) return das_flow_ack(c, OSAP_MQTT_PUBREC, p->packet_id);
    return OSAP_OK;
}
