/* SUBSCRIBE: judge each filter (ACL for clients, the device layer for devices), add
 * or replace the subscription, answer SUBACK with one code per filter (0x80 for a
 * refusal, also for a new filter beyond [das] max_subscriptions), then send the retained messages
 * that match each granted filter, with RETAIN set, at the lower of the message's and the granted
 * QoS. */
#include "das/das_internal.h"

#include "log.h"
#include "osap/alloc.h"

#define SUBACK_REFUSED 0x80

static uint8_t judge(struct das_conn *c, const struct osap_mqtt_str *f, uint8_t qos)
{
    struct das *das = c->w->das;

    if (c->is_device) {
        if (!das->hooks.on_subscribe ||
            !das->hooks.on_subscribe(das->hooks.userdata, c, (const uint8_t *)f->ptr, f->len))
            return SUBACK_REFUSED;
        if (qos > 1) qos = 1; /* a device never gets QoS 2 (spec 6.6) */
    } else if (!das_acl_can_read(c->acl, f->ptr, f->len)) {
        OSAP_LOGD(DAS_LOG, "client %s: subscription to %.*s refused (ACL)", c->session->key,
                  (int)f->len, f->ptr);
        return SUBACK_REFUSED;
    }
    switch (das_subs_add(c->w, c->session, f->ptr, f->len, qos)) {
    case OSAP_OK: break;
    case OSAP_EBUSY:
        OSAP_LOGD(DAS_LOG, "%s %s: subscription to %.*s refused: max_subscriptions (%u) reached",
                  c->is_device ? "device" : "client", c->session->key, (int)f->len, f->ptr,
                  das->set.max_subscriptions);
        return SUBACK_REFUSED;
    default: return SUBACK_REFUSED;
    }
    return qos;
}

static void send_retained(struct das_conn *c, const struct osap_mqtt_str *f, uint8_t granted)
{
    struct das_msg **list = NULL;
    size_t n = 0;

    if (das_retain_match(c->w->das, f->ptr, f->len, &list, &n) != OSAP_OK) return;
    for (size_t i = 0; i < n && c->session; i++) {
        int qos = list[i]->qos < granted ? list[i]->qos : granted;
        das_session_deliver(c->w, c->session, list[i], qos, 1);
    }
    das_retain_free_list(list, n);
}

osap_err das_handle_subscribe(struct das_conn *c, const struct osap_mqtt_packet *pkt)
{
    const struct osap_mqtt_subscribe *sub = &pkt->subscribe;
    struct osap_mqtt_filter_iter it;
    struct osap_mqtt_str f;
    uint8_t qos, local[16], *codes = local;
    size_t i = 0;
    osap_err err;

    if (!c->session) return OSAP_ESTATE;
    if (sub->count > sizeof(local)) {
        codes = osap_malloc(sub->count);
        if (!codes) return OSAP_ENOMEM;
    }
    osap_mqtt_filter_iter_subscribe(&it, sub);
    while (i < sub->count && osap_mqtt_filter_iter_next(&it, &f, &qos))
        codes[i++] = judge(c, &f, qos);
    err = das_send_suback(c, sub->packet_id, codes, i);
    if (err == OSAP_OK) {
        osap_mqtt_filter_iter_subscribe(&it, sub);
        for (size_t k = 0; k < i && osap_mqtt_filter_iter_next(&it, &f, &qos); k++)
            if (codes[k] != SUBACK_REFUSED) send_retained(c, &f, codes[k]);
    }
    if (codes != local) osap_free(codes);
    return err;
}
