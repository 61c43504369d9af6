/* The standard subscriptions of a device, /iot/<sn>/# and /<sn>/# (QoS 1), for its
 * light registrations (spec 6.3): a device reconnecting after a lost link sends
 * CONNECT with clean session 0 and never SUBSCRIBE again. Its first registration was
 * a full one (clean session 1), so the broker did not keep that session, and after
 * an osapd restart it keeps none at all: the device layer subscribes the new session
 * itself, every time (subscribing again to a filter is harmless). */
#include "das/device_internal.h"

#include "log.h"
#include "osap/alloc.h"

#include <stdio.h>
#include <string.h>

struct restore_job {
    struct das_conn_ref ref;
    char serial[OSAP_SUBSERIAL_MAX + 1];
};

static void restore_run(struct das_worker *w, void *arg)
{
    struct restore_job *job = arg;
    struct das_conn *c = das_conn_resolve(w, job->ref);
    char filter[OSAP_SUBSERIAL_MAX + 16];
    osap_err e1, e2;
    int n;

    if (c) {
        n = snprintf(filter, sizeof(filter), "/iot/%s/#", job->serial);
        e1 = das_conn_subscribe(c, filter, (size_t)n, 1);
        n = snprintf(filter, sizeof(filter), "/%s/#", job->serial);
        e2 = das_conn_subscribe(c, filter, (size_t)n, 1);
        if (e1 || e2)
            OSAP_LOGW(DEVICE_LOG, "device %s: subscriptions not restored: %s", job->serial,
                      osap_strerror(e1 ? e1 : e2));
    }
    osap_free(job);
}

void device_subscriptions_restore(struct device *dev)
{
    struct device_layer *l = dev->dw->layer;
    struct restore_job *job = osap_malloc(sizeof(*job));

    if (!job) {
        OSAP_LOGW(DEVICE_LOG, "device %s: subscriptions not restored: %s", dev->serial,
                  osap_strerror(OSAP_ENOMEM));
        return;
    }
    job->ref = das_conn_ref(dev->conn);
    memcpy(job->serial, dev->serial, dev->serial_len + 1);
    /* The connect hook runs before the broker attaches the session: run after it, on
     * the same worker. (Only messages of other MQTT clients travel through these
     * subscriptions; the platform's requests are sent to the connection directly.) */
    if (das_post(l->das, dev->dw->index, restore_run, job) != OSAP_OK) osap_free(job);
}
