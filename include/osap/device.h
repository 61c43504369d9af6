/*
 * libosap-device: the device side of OSAP, in C, portable.
 *
 * One handle (osap_device_t) is one device: it authenticates with the LBS
 * (paths A, B, C of the legacy profile), registers with the DAS over MQTT 3.1.1,
 * keeps the session alive, answers attribute sets and operations, reports
 * attributes as versioned shadow reports and raises events through a persistent
 * offline queue. On the wire it behaves like a device built with the EZVIZ SDK
 * (docs/SDK.md lists the few, deliberate differences).
 *
 * Threading: single-threaded and non-blocking. osap_device_step() does all work
 * that is due and returns the time it wants to be called again; osap_device_fd()
 * gives the socket to poll. One thread may drive thousands of handles (see
 * osap-sim); osap_device_run_thread() runs one handle on its own thread, after
 * which every public function may be called from any thread.
 *
 * Callbacks run inside osap_device_step() (or the run thread). They may call the
 * business functions of the same handle (report, raise, reply) but must not free
 * it or call osap_device_step() on it.
 *
 * Memory: osap_device_new() allocates the handle with osap_malloc(); with
 * osap_device_init() the handle and its buffers live in memory the caller gives
 * (osap_device_size() bytes). The attribute table, the LBS handshake state and
 * the crypto and JSON libraries still allocate through osap_malloc(), which a
 * firmware can point at a static pool (osap_set_allocator()).
 */
#ifndef OSAP_DEVICE_H
#define OSAP_DEVICE_H

#include "osap/device_port.h"
#include "osap/err.h"
#include "osap/lbs_handshake.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

/** A device (opaque). */
typedef struct osap_device osap_device_t;

/** "Never": no timer is pending (osap_device_step()). */
#define OSAP_DEVICE_NEVER UINT64_MAX

/** Return value of a request handler that answers later with osap_device_reply(). */
#define OSAP_DEVICE_REPLY_LATER INT_MIN
/** The code the device answers when no handler takes a request. */
#define OSAP_DEVICE_CODE_NO_HANDLER (-1)

/** Largest number of events in flight (sent, PUBACK not yet received). */
#define OSAP_DEVICE_INFLIGHT_MAX 32
/** Largest number of requests answered later (OSAP_DEVICE_REPLY_LATER) at once. */
#define OSAP_DEVICE_PENDING_MAX 16

/** Where the device is. */
enum osap_device_state {
    OSAP_DEVICE_STOPPED = 0,  /**< not started, or stopped by osap_device_stop() */
    OSAP_DEVICE_LBS,          /**< authenticating with the LBS, or waiting to retry */
    OSAP_DEVICE_REGISTERING,  /**< registering with the DAS (CONNECT, SUBSCRIBE) */
    OSAP_DEVICE_ONLINE,       /**< registered: business traffic flows */
    OSAP_DEVICE_RECONNECTING, /**< lost the DAS; light reconnection in progress */
    OSAP_DEVICE_BLOCKED,      /**< CONNACK 10 or a forced offline: stopped until restart */
};

/** What the offline queue does when it is full. */
enum osap_device_queue_full {
    OSAP_DEVICE_QUEUE_DROP_OLDEST = 0, /**< drop the oldest events (counted) */
    OSAP_DEVICE_QUEUE_REFUSE_NEW = 1,  /**< refuse the new event (OSAP_EBUSY) */
};

/** When the offline queue makes its file durable (fsync). Appends are written to
 *  the file at once in every mode, so a killed process loses nothing; the mode
 *  only matters for power loss. */
enum osap_device_fsync {
    OSAP_DEVICE_FSYNC_ALWAYS = 0,   /**< after every append and removal */
    OSAP_DEVICE_FSYNC_INTERVAL = 1, /**< at most every fsync_interval_ms */
    OSAP_DEVICE_FSYNC_NEVER = 2,    /**< leave it to the operating system */
};

/** Offline queue settings (0 = default). */
struct osap_device_queue_config {
    uint32_t max_events; /**< default 1000 */
    uint32_t max_bytes;  /**< bytes of stored records; default 1 MiB */
    enum osap_device_queue_full when_full;
    enum osap_device_fsync fsync;
    uint32_t fsync_interval_ms; /**< default 1000 */
    uint32_t inflight_max;      /**< events in flight, 1..OSAP_DEVICE_INFLIGHT_MAX; default 8 */
    const char *file_name;      /**< port file name; default "events.q" */
};

/** A key of the thing model. Strings are NUL-terminated. */
struct osap_device_key {
    const char *resource;   /**< "<index>-<category>"; NULL = "0-global" */
    const char *domain;     /**< area, at most 31 characters */
    const char *identifier; /**< attribute, operation or event, at most 31 characters */
};

/** The kinds of requests the server sends. */
enum osap_device_request_kind {
    OSAP_DEVICE_REQ_SET = 1,        /**< model/attribute/set: answered {"code":n} */
    OSAP_DEVICE_REQ_SHADOW_SET = 2, /**< basic/shadow/set: answered set_reply */
    OSAP_DEVICE_REQ_DESIRED = 3,    /**< a desired value of shadow query_reply: not answered */
    OSAP_DEVICE_REQ_OPERATE = 4,    /**< model/service/...: answered {"code":n,"data":out} */
};

/** One request, valid during the handler call. */
struct osap_device_request {
    enum osap_device_request_kind kind;
    uint32_t id;                /**< for osap_device_reply() */
    uint32_t seq;               /**< the server's Seq (echoed in the reply) */
    struct osap_device_key key; /**< resource, domain, identifier */
    const char *json;           /**< the value (sets) or input (operate): compact JSON,
                                     NUL-terminated */
    size_t json_len;
};

/**
 * A request handler. Returns the code to answer (0 = success) or
 * OSAP_DEVICE_REPLY_LATER to answer later with osap_device_reply() (not for
 * OSAP_DEVICE_REQ_DESIRED). An operation handler may write its output, JSON
 * text, into @p out (@p out_cap bytes) and its length into *@p out_len (left 0:
 * no "data" member).
 */
typedef int (*osap_device_handler_fn)(void *userdata, const struct osap_device_request *req,
                                      char *out, size_t out_cap, size_t *out_len);

/** Application callbacks. Every member is optional. */
struct osap_device_callbacks {
    /** The state changed; @p reason says why (OSAP_OK for normal progress). */
    void (*state_changed)(void *userdata, enum osap_device_state state, osap_err reason);
    /** Requests without a handler of their own (osap_device_on_attribute(),
     *  osap_device_on_operation()). */
    osap_device_handler_fn request;
    /** An event was acknowledged by the server (PUBACK) and left the queue. */
    void (*event_acked)(void *userdata, uint64_t event_id);
    /** A QoS 1 attribute report was acknowledged. */
    void (*report_acked)(void *userdata, const struct osap_device_key *key, uint32_t version);
};

/** Test hooks: inject key material to reproduce recorded sessions byte for byte.
 *  Not for production. */
struct osap_device_test_hooks {
    /** The device's ECDH step (public key sent in 0x1, master key derived). */
    const struct osap_lbs_client_ecdh *ecdh;
};

/** Device configuration. Strings are copied by osap_device_new()/_init(). */
struct osap_device_config {
    /* LBS */
    const char *lbs_host;   /**< host name or IPv4 address (required) */
    uint16_t lbs_port;      /**< 0 = 8666 */
    const char *lbs_domain; /**< "LbsDomain" of the registration; NULL = lbs_host */

    /* identity */
    uint8_t auth_mode;     /**< OSAP_LBS_AUTH_MODE_SAP or _LICENCE */
    const char *subserial; /**< serial, or productKey:deviceName (licence) */
    const char *vcode;     /**< verification code or licence */

    /* registration record */
    const char *dev_type;         /**< "DevType" (model) */
    const char *dev_type_display; /**< "DevTypeDisplay"; NULL = "" */
    const char *firmware_version; /**< "FirmwareVersion" */
    const char *mac;              /**< "MAC"; NULL = "" */

    /* timing (0 = the real device's value) */
    uint16_t keepalive_s;        /**< MQTT keep-alive, default 30 s */
    uint32_t lbs_timeout_ms;     /**< per LBS read, default 5000 */
    uint32_t mqtt_timeout_ms;    /**< CONNACK / SUBACK / UNSUBACK, default 6000 */
    uint32_t connect_timeout_ms; /**< TCP connect, default 5000 */
    uint32_t ack_timeout_ms;     /**< event PUBACK before the link is deemed dead,
                                      default 30000 */

    /** Largest MQTT packet / LBS frame, and the size of each of the three
     *  buffers of the handle. 0 = 16384 + 8 (the real device's buffers). */
    size_t message_max;

    struct osap_device_queue_config queue;

    /** The port (copied; required). */
    const struct osap_device_port *port;
    struct osap_device_callbacks cb;
    void *userdata; /**< passed to every callback */

    const struct osap_device_test_hooks *test; /**< NULL in production */
};

/** Counters of one device. */
struct osap_device_stats {
    enum osap_device_state state;
    enum osap_lbs_path last_path; /**< path of the last successful LBS attempt */
    osap_err last_error;          /**< why the last attempt or session failed */
    uint64_t lbs_attempts, lbs_failures;
    uint64_t das_attempts, das_failures; /**< CONNECTs sent, refused or failed registrations */
    uint64_t online_count;               /**< times the device came online */
    uint64_t connection_losses;          /**< online sessions that broke */
    uint64_t events_raised, events_sent, events_acked, events_dropped, events_refused;
    uint32_t events_queued; /**< in the queue now (sent or not) */
    uint64_t queue_bytes;   /**< bytes of the queue file now */
    uint64_t reports_sent, reports_acked;
    uint64_t requests; /**< server requests handled */
};

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                */
/* ------------------------------------------------------------------------ */

/** Bytes a handle needs for @p cfg (NULL: the defaults), for osap_device_init(). */
size_t osap_device_size(const struct osap_device_config *cfg);

/** Create a device (heap). OSAP_EINVAL / OSAP_ECONFIG for a bad configuration,
 *  OSAP_ENOMEM. Nothing happens on the network before osap_device_start(). */
osap_err osap_device_new(const struct osap_device_config *cfg, osap_device_t **out);

/** Create a device in caller memory @p mem of @p size bytes (at least
 *  osap_device_size(cfg), aligned for any type). Release with
 *  osap_device_release(); the memory is the caller's again afterwards. */
osap_err osap_device_init(void *mem, size_t size, const struct osap_device_config *cfg,
                          osap_device_t **out);

/** Free a device from osap_device_new() (NULL is a no-op). The connection is
 *  closed without goodbye, like a power cut; the queue stays on storage. */
void osap_device_free(osap_device_t *dev);

/** Release a device from osap_device_init() (NULL is a no-op). */
void osap_device_release(osap_device_t *dev);

/** Start: load devid and master key from the KV store, open the offline queue,
 *  start with the LBS. OSAP_ESTATE when already started; OSAP_ESTORE when the
 *  queue cannot be opened. */
osap_err osap_device_start(osap_device_t *dev);

/** Stop: when online, unsubscribe both filters, wait for the UNSUBACKs (at most
 *  the MQTT timeout each) and DISCONNECT; otherwise close at once. The state
 *  becomes OSAP_DEVICE_STOPPED once done (keep stepping until then). */
osap_err osap_device_stop(osap_device_t *dev);

/**
 * Do all work that is due without blocking: connections, handshakes, reads and
 * writes, timers, business traffic. *@p next_wakeup_ms receives the port
 * (monotonic) time at which to call again at the latest, or OSAP_DEVICE_NEVER;
 * call earlier when osap_device_fd() is ready. Returns OSAP_OK, or an error of
 * the port or of storage that the device could not handle (it keeps running).
 */
osap_err osap_device_step(osap_device_t *dev, uint64_t *next_wakeup_ms);

/** The descriptor to poll and the interest (OSAP_DEVICE_POLLIN / _POLLOUT) in
 *  *@p events, or -1 when there is no connection. Changes after every step. */
int osap_device_fd(const osap_device_t *dev, unsigned *events);

/** The state now. */
enum osap_device_state osap_device_state(const osap_device_t *dev);

/** Counters. */
void osap_device_stats(const osap_device_t *dev, struct osap_device_stats *out);

/** The DAS the device was sent to by the last LBS round (OSAP_ESTATE before). */
osap_err osap_device_das(const osap_device_t *dev, struct osap_lbs_das_info *out);

/** A static name for @p state ("stopped", "lbs", ...). */
const char *osap_device_state_name(enum osap_device_state state);

/** Start the device and run it on its own thread (port threads required).
 *  From now on every public function may be called from any thread. */
osap_err osap_device_run_thread(osap_device_t *dev);

/** Stop the device gracefully (osap_device_stop()), wait at most @p timeout_ms
 *  for it, and join its thread. */
osap_err osap_device_join_thread(osap_device_t *dev, uint32_t timeout_ms);

/* ------------------------------------------------------------------------ */
/* Business                                                                 */
/* ------------------------------------------------------------------------ */

/** Handle sets of the attribute @p key (model/attribute/set, shadow set and the
 *  desired values of query_reply) with @p fn. Registering declares the attribute
 *  (its value is reported once osap_device_attr_report() gives one). */
osap_err osap_device_on_attribute(osap_device_t *dev, const struct osap_device_key *key,
                                  osap_device_handler_fn fn, void *userdata);

/** Handle the operation @p key (model/service/<any>/<domain>/<identifier>). */
osap_err osap_device_on_operation(osap_device_t *dev, const struct osap_device_key *key,
                                  osap_device_handler_fn fn, void *userdata);

/**
 * Report the value of attribute @p key (@p value_json: any JSON value). The value
 * is kept, its version incremented, and a shadow report
 * {"method":"report","spv":3,"state":{"reported":{...},"version":n}} is sent
 * when online (QoS 1). All values are reported at the first online of the
 * process; reports not acknowledged are sent again after a reconnection.
 * OSAP_EJSON for invalid JSON, OSAP_ETOOBIG over the message size.
 */
osap_err osap_device_attr_report(osap_device_t *dev, const struct osap_device_key *key,
                                 const char *value_json);

/**
 * Raise an event: @p body_json (a JSON object) gets "basic":{"dateTime","UUID"}
 * appended when it has none, is appended to the offline queue and sent in order
 * when online (model/event/report/<domain>/<identifier>, QoS 1). It leaves the
 * queue only when its PUBACK arrives; after a reconnection or a restart it is
 * sent again with the same UUID. *@p event_id (may be NULL) identifies it in the
 * event_acked callback. OSAP_EBUSY when the queue is full and refuses new events;
 * OSAP_EJSON; OSAP_ESTORE.
 */
osap_err osap_device_event_raise(osap_device_t *dev, const struct osap_device_key *key,
                                 const char *body_json, uint64_t *event_id);

/** Answer a request whose handler returned OSAP_DEVICE_REPLY_LATER. @p output_json
 *  (operations only; may be NULL) becomes "data". OSAP_ENOTFOUND for an unknown
 *  or expired @p request_id (the reply is dropped when the session ended). */
osap_err osap_device_reply(osap_device_t *dev, uint32_t request_id, int code,
                           const char *output_json);

#endif /* OSAP_DEVICE_H */
