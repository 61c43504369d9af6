/*
 * The seam between the DAS's MQTT broker core (das_*.c, handle_*.c) and its OSAP
 * device layer (device_*.c): how the broker hands device connections and their
 * packets to the device layer, and what the device layer may ask of the broker.
 *
 * Threading: the DAS runs N worker threads, each with its own libuv loop. Every
 * connection and every MQTT session belongs to exactly one worker, its "home",
 * chosen by hashing the session key (the client id, or, for OSAP devices, which
 * connect with an empty client id, the user name = the device serial). A
 * connection accepted by another worker is moved to its home worker before its
 * CONNECT is judged, so all hooks for a device run on one thread, and all state of
 * a device (connection, session, pending requests) is touched by that thread only.
 *
 * Functions taking a struct das_conn * must be called on that connection's worker
 * thread. Other threads refer to a connection by a struct das_conn_ref (a generation-
 * checked handle) and reach its worker with das_post().
 *
 * Life cycle: the DAS service's start() sets up the broker (settings, workers, listening
 * sockets), then calls das_device_layer_start(), which installs the hooks with
 * das_set_device_hooks(), and only then starts the worker threads. stop() stops and
 * joins the workers (every connection is closed, on_close runs for each device), then
 * calls das_device_layer_stop(). When osapd is built without device_*.c files, a
 * stand-in (das_nodevice.c) starts nothing and every client is an ordinary one.
 *
 * Changes to this header by the broker core (documented here as the seam evolves):
 *   - das_device_layer_start/stop: how the device layer is started and stopped;
 *   - worker_start/worker_stop hooks (optional): per-worker set-up on the worker thread;
 *   - das_worker_loop(), das_device_userdata(), das_device_conn(), das_counters();
 *   - das_from_api()/das_to_api(): struct osapd_das (das_api.h) is this struct das;
 *   - das_conn_peer(): the text lives in a per-worker buffer (copy it to keep it);
 *   - the wills of devices are never published by the broker (their will is the
 *     registration record): on_close tells the device layer instead.
 * Changes by the device layer (device_*.c):
 *   - das_conn_subscribe(): restore a device's standard subscriptions.
 */
#ifndef OSAPD_DAS_HOOKS_H
#define OSAPD_DAS_HOOKS_H

#include "osap/err.h"
#include "osap/mqtt.h"

#include <stddef.h>
#include <stdint.h>

struct das; /* the service: all workers */
struct osapd_context;
struct osapd_das; /* das_api.h: the same object as struct das */
struct osap_store;
typedef struct uv_loop_s uv_loop_t;
struct das_worker; /* one worker thread and its loop */
struct das_conn;   /* one client connection */

/** A handle to a connection that stays safe to hold on any thread: resolving it
 *  after the connection closed yields NULL. */
struct das_conn_ref {
    uint32_t worker;
    uint32_t slot;
    uint32_t generation;
};

/* ------------------------------------------------------------------------ */
/* Broker -> device layer                                                   */
/* ------------------------------------------------------------------------ */

/** The device layer's verdict on a CONNECT. */
struct das_connect_verdict {
    int is_device;        /* 0: an ordinary MQTT client (user/password + ACL apply) */
    uint8_t connack_code; /* for devices: 0, 4, 5, 10 (blocked), 11 (no/stale session:
                             back to the LBS), 12 (session exists: light registration) */
    int session_present;  /* for devices with code 0: the CONNACK session-present flag */
    void *device;         /* the device layer's per-connection state (accepted devices) */
};

/** Hooks the device layer installs. All run on the connection's home worker. */
struct das_device_hooks {
    /** A syntactically valid CONNECT arrived (decoded in lenient device mode). Decide
     *  whether it is an OSAP device and, if so, the CONNACK code. May read the store
     *  (the worker's own store handle, das_worker_store()). A device connection is
     *  keyed by its user name; the broker keeps its MQTT session (subscriptions,
     *  QoS 1 in flight) across light reconnects (clean session 0). */
    void (*on_connect)(void *ud, struct das_conn *c, const struct osap_mqtt_connect *pkt,
                       struct das_connect_verdict *verdict);

    /** A PUBLISH from an accepted device (RETAIN already ignored). Return one of
     *  DAS_PUB_ACK_NOW (the broker acknowledges a QoS 1 publish at once),
     *  DAS_PUB_ACK_LATER (the device layer calls das_conn_puback() when the record is
     *  durable), DAS_PUB_DROP (acknowledge and discard; e.g. undecryptable), or
     *  DAS_PUB_CLOSE (protocol violation: the broker closes the connection). The
     *  device layer decides whether the raw message is also routed to MQTT
     *  subscribers of the device topic: set *route to 1 to do so. */
    int (*on_publish)(void *ud, struct das_conn *c, const struct osap_mqtt_publish *pkt,
                      int *route);

    /** A device asks to subscribe to @p filter: return 1 to allow (granted QoS as
     *  requested, max 1 for devices), 0 to refuse (SUBACK 0x80). Devices may only
     *  subscribe under their own /iot/<sn>/ and /<sn>/. */
    int (*on_subscribe)(void *ud, struct das_conn *c, const uint8_t *filter, size_t len);

    /** The connection of an accepted device ended; @p abnormal is 1 unless the device
     *  sent DISCONNECT. The device pointer of the verdict is released here. */
    void (*on_close)(void *ud, struct das_conn *c, int abnormal);

    void *userdata;

    /** Optional (may be NULL): run on worker @p w's thread when it starts, before it
     *  accepts connections, and when it stops, after its connections are closed (e.g.
     *  to create and close timers on das_worker_loop(w)). */
    void (*worker_start)(void *ud, struct das_worker *w);
    void (*worker_stop)(void *ud, struct das_worker *w);
};

enum { DAS_PUB_ACK_NOW = 0, DAS_PUB_ACK_LATER = 1, DAS_PUB_DROP = 2, DAS_PUB_CLOSE = 3 };

/** Install the device layer's hooks; called once before the workers start. */
void das_set_device_hooks(struct das *das, const struct das_device_hooks *hooks);

/** The userdata of the installed hooks (NULL when none). */
void *das_device_userdata(struct das *das);

/* ------------------------------------------------------------------------ */
/* Device layer life cycle (implemented by the device layer, device_*.c)    */
/* ------------------------------------------------------------------------ */

/** Called by the DAS service's start() on the main thread, after the broker is set up
 *  and before its workers run: create the device layer's state and install the hooks.
 *  An error stops the DAS from starting. */
osap_err das_device_layer_start(struct das *das, struct osapd_context *ctx);

/** Called by the DAS service's stop() on the main thread after the workers are joined
 *  (no hook runs any more); releases the device layer's state. Also called when
 *  das_device_layer_start() succeeded but a later step of start() failed. */
void das_device_layer_stop(struct das *das);

/** The DAS service's state (what osapd_service_find(ctx, "das") returns) is a struct
 *  das; das_api.h names the same object struct osapd_das for the platform. */
static inline struct das *das_from_api(struct osapd_das *api)
{
    return (struct das *)(void *)api;
}
static inline struct osapd_das *das_to_api(struct das *das)
{
    return (struct osapd_das *)(void *)das;
}

/* ------------------------------------------------------------------------ */
/* Device layer -> broker (on the connection's worker thread)               */
/* ------------------------------------------------------------------------ */

/** The device state attached by the verdict, or NULL for ordinary clients. */
void *das_conn_device(struct das_conn *c);

/** A cross-thread handle to @p c. */
struct das_conn_ref das_conn_ref(struct das_conn *c);

/** The peer address as text ("127.0.0.1:50514"), in a buffer of the worker that stays
 *  valid until the next das_conn_peer() call on that worker thread. */
const char *das_conn_peer(struct das_conn *c);

/** Send a PUBLISH to this connection only (QoS 0 or 1; never 2 to a device), written
 *  as one packet in one write. For QoS 1 the broker tracks it in the session and
 *  redelivers it with DUP after a light reconnect. @p pid receives the packet id
 *  (0 for QoS 0). */
osap_err das_conn_publish(struct das_conn *c, const char *topic, size_t topic_len,
                          const uint8_t *payload, size_t len, int qos, uint16_t *pid);

/** Acknowledge a QoS 1 publish whose hook returned DAS_PUB_ACK_LATER. */
void das_conn_puback(struct das_conn *c, uint16_t pid);

/** Subscribe the MQTT session of the accepted connection @p c to @p filter with
 *  @p qos (0 or 1), as if the client had sent SUBSCRIBE but without a SUBACK and
 *  without sending retained messages; subscribing again to the same filter keeps
 *  one subscription (with the new QoS). OSAP_ECLOSED when @p c is not an accepted
 *  connection. (Added by the device layer: a device whose light registration finds
 *  no session, e.g. after an osapd restart, never subscribes again (spec 6.3), so the
 *  device layer restores its two standard subscriptions.) */
osap_err das_conn_subscribe(struct das_conn *c, const char *filter, size_t len, int qos);

/** Close the connection (the will is published unless @p suppress_will). */
void das_conn_close(struct das_conn *c, const char *reason, int suppress_will);

/** The worker that owns @p c, and that worker's index and store handle. */
struct das_worker *das_conn_worker(struct das_conn *c);
uint32_t das_worker_index(struct das_worker *w);
struct osap_store *das_worker_store(struct das_worker *w);

/** The libuv loop of worker @p w (use it on that worker's thread only). */
uv_loop_t *das_worker_loop(struct das_worker *w);

/** Whether worker @p w is stopping (closing its connections); on its thread only. */
bool das_worker_stopping(const struct das_worker *w);

/** The connection of the accepted device @p serial if it is connected to worker @p w
 *  (its home worker: das_home_worker()), else NULL. */
struct das_conn *das_device_conn(struct das_worker *w, const char *serial, size_t len);

/* ------------------------------------------------------------------------ */
/* Any thread                                                               */
/* ------------------------------------------------------------------------ */

/** Counters of the whole DAS (approximate: read without locks). */
struct das_counters {
    uint64_t connections;  /* open MQTT connections (devices and clients) */
    uint64_t devices;      /* connections of accepted devices */
    uint64_t messages_in;  /* PUBLISH packets received */
    uint64_t messages_out; /* PUBLISH packets sent */
};
void das_counters(struct das *das, struct das_counters *out);

/** The home worker index of a session key (client id, or a device serial). */
uint32_t das_home_worker(struct das *das, const char *key, size_t len);

/** Run @p fn(worker, arg) on worker @p index's thread, soon. Calls are batched and
 *  run in the order posted from one thread. OSAP_ESTATE when the DAS is stopping
 *  (then @p fn is not called and the caller keeps ownership of @p arg). */
osap_err das_post(struct das *das, uint32_t index, void (*fn)(struct das_worker *w, void *arg),
                  void *arg);

/** Resolve a handle on its worker thread: NULL when the connection is gone. */
struct das_conn *das_conn_resolve(struct das_worker *w, struct das_conn_ref ref);

/** Publish a message to MQTT subscribers as if a client had published it (used for
 *  the $osap/... application namespace). Callable from a worker thread; the broker
 *  routes it to every worker with matching subscriptions. */
osap_err das_publish(struct das_worker *w, const char *topic, size_t topic_len,
                     const uint8_t *payload, size_t len, int qos, int retain);

#endif /* OSAPD_DAS_HOOKS_H */
