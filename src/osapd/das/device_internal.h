/*
 * Internal to the DAS's OSAP device layer (device_*.c, das_api.c): its state, per
 * worker and per device, and the functions its files share.
 *
 *   device_layer.c      life cycle, hooks table, worker start/stop
 *   device_registry.c   per-worker serial -> device map, online/offline
 *   device_connect.c    CONNECT -> verdict (registration, CONNACK codes)
 *   device_subscribe.c  the standard subscriptions of light registrations
 *   device_msg.c        what a device's message is and says (topic, envelope, body)
 *   device_publish.c    decrypt + dispatch of device publishes, subscribe rules
 *   device_shadow.c     basic/shadow/query -> query_reply from the desired table
 *   device_requests.c   platform requests: Seq, pending, replies, time-outs
 *   device_republish.c  the $osap/ application namespace
 *   device_json.c       small JSON helpers (reply codes, event fields, dates)
 *   device_models.c     the device's thing model, checks of events and reports
 *   das_api.c           das_api.h: the platform's entry points
 *
 * Threading: everything of a device (its struct device, registry entry, pending
 * requests) belongs to its home worker and is touched on that worker's thread only.
 * The layer's counters are atomics; its settings are read-only.
 */
#ifndef OSAPD_DEVICE_INTERNAL_H
#define OSAPD_DEVICE_INTERNAL_H

#include "das/das_api.h"
#include "das/das_hooks.h"
#include "das/device_config.h"
#include "ingest/ingest.h"
#include "models.h"
#include "osap/envelope.h"
#include "osap/model.h"
#include "osap/proto.h"
#include "osap/topic.h"
#include "store.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define DEVICE_LOG "das"

/** Most DAS workers ([osapd] worker_threads is at most 256). */
#define DEVICE_WORKERS_MAX 256

/** The first Seq of the platform's requests to a device, and the wrap point. */
#define DEVICE_SEQ_FIRST 1001u
#define DEVICE_SEQ_LAST  0x7FFFFFFFu

struct device;
struct device_request;

/** Registry entry: one per serial seen on a worker since the DAS started. */
struct device_entry {
    struct device_entry *next; /* hash chain */
    struct device *dev;        /* the accepted connection now, or NULL */
    uint32_t next_seq;         /* platform Seq counter (kept across connections) */
    int64_t session_since;     /* start of the device's SDK session: its last full
                                  registration (ms); 0 = unknown */
    char *dev_type;            /* DevType of its last registration on this worker that
                                  named one (heap), or NULL */
    size_t serial_len;
    char serial[];
};

/** One accepted device connection. */
struct device {
    struct device_worker *dw;
    struct device_entry *entry;
    struct das_conn *conn;
    uint8_t key[OSAP_SESSION_KEY_LEN];
    bool full;     /* registered with clean session 1 */
    bool replaced; /* a newer connection of the device took over */
    bool kicked;   /* closed by osapd_das_disconnect() */
    int64_t connected_at;
    char address[OSAP_NET_ADDRESS_MAX + 1];
    char model[OSAP_MODEL_NAME_MAX + 1]; /* provisioned model ("" = none or not a model name) */
    const char *mapped; /* [models] map of its DevType (the registry's string), or NULL */
    struct device_request *requests; /* pending platform requests (doubly linked) */
    uint32_t n_requests;
    size_t serial_len;
    char serial[OSAP_SUBSERIAL_MAX + 1];
};

/** The device layer's part of one DAS worker. */
struct device_worker {
    struct device_layer *layer;
    struct das_worker *w;
    uint32_t index;
    struct device_entry **buckets;
    size_t nbuckets, count;
    uv_timer_t timer; /* the earliest request deadline */
    bool timer_ready;
    struct device_request *timeouts; /* pending requests by deadline (doubly linked) */
    struct device_request *timeouts_tail;
    uint8_t *scratch; /* decryption buffer, grown as needed */
    size_t scratch_cap;
    struct osap_catalog *catalog; /* thing models, refreshed after a reload */
};

/** Counters (see struct osapd_das_stats). */
struct device_stats {
    atomic_uint_fast64_t refused_connects;
    atomic_uint_fast64_t undecryptable;
    atomic_uint_fast64_t refused;
    atomic_uint_fast64_t events;
    atomic_uint_fast64_t requests;
    atomic_uint_fast64_t replies;
    atomic_uint_fast64_t timeouts;
    atomic_uint_fast64_t unmatched;
};

/** The device layer of one DAS. */
struct device_layer {
    struct das *das;
    struct osapd_context *ctx;
    const struct device_config *cfg;
    struct ingest *ing;
    struct osap_models *models; /* the process's thing models (NULL: none) */
    int64_t dedup_window;       /* [ingest] dedup_window */
    char node_id[OSAP_NODE_ID_MAX + 1];
    struct device_worker *workers[DEVICE_WORKERS_MAX];
    struct device_stats stats;
    _Atomic(osapd_das_profile_cb) profile_cb;
    void *_Atomic profile_ud;
};

static inline void device_count(atomic_uint_fast64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* device_layer.c */
/** The layer of @p das (NULL when the device layer is not installed). */
struct device_layer *device_layer_of(struct das *das);
/** The device layer's part of worker @p w (NULL before worker_start). */
struct device_worker *device_worker_of(struct device_layer *l, struct das_worker *w);
/** A buffer of at least @p n bytes owned by the worker (valid until the next call). */
uint8_t *device_scratch(struct device_worker *dw, size_t n);

/* device_registry.c */
osap_err device_registry_init(struct device_worker *dw);
void device_registry_release(struct device_worker *dw);
/** The entry of @p serial, created when @p create (NULL when absent or on ENOMEM). */
struct device_entry *device_registry_entry(struct device_worker *dw, const char *serial, size_t len,
                                           bool create);
/** The accepted device @p serial on this worker, or NULL. */
struct device *device_registry_find(struct device_worker *dw, const char *serial, size_t len);
/** The DevType that maps a new connection of @p e to its model: the registration's
 *  own @p reg_dev_type when it has one (remembered in @p e), else the one of the
 *  device's last registration on this worker that named one (its full one), else
 *  @p stored (the store's: it holds a registration's DevType only once ingest
 *  committed it, which a light registration right after the full one may not wait
 *  for). */
const char *device_registry_dev_type(struct device_entry *e, const char *reg_dev_type,
                                     const char *stored);
/** @p dev becomes the device's current connection: records it online (ingest,
 *  $osap status). */
void device_registry_online(struct device *dev, const char *firmware, const char *model);
/** The connection of @p dev ended: fails its requests, records it offline unless a
 *  newer connection took over, and frees @p dev. */
void device_registry_closed(struct device *dev, int abnormal);

/* device_connect.c */
void device_on_connect(void *ud, struct das_conn *c, const struct osap_mqtt_connect *pkt,
                       struct das_connect_verdict *verdict);

/* device_subscribe.c */
/** Give the session of @p dev's light registration the device's two standard
 *  subscriptions, right after the broker attached it. */
void device_subscriptions_restore(struct device *dev);

/* device_msg.c: a device's message without I/O (device_publish.c acts on it) */
/** True when @p p (@p len bytes) starts with "<pre><serial>/". */
bool device_topic_under(const char *p, size_t len, const char *pre, const char *serial,
                        size_t serial_len);
/** How a device's publish is read, by its topic alone. */
enum device_msg_route {
    DEVICE_MSG_FOREIGN,   /* not one of the device's topics: dropped */
    DEVICE_MSG_MALFORMED, /* below /iot/<sn>/ but not a v3 topic: dropped */
    DEVICE_MSG_OWN,       /* /<sn>/...: accepted, not interpreted */
    DEVICE_MSG_V3,        /* /iot/<sn>/...: envelope v3 */
    DEVICE_MSG_V2,        /* /<domain>/<cmd>: envelope v2 */
};
/** What a decrypted message is. */
enum device_msg_kind {
    DEVICE_MSG_EVENT,         /* model/event/report/<d>/<k>: stored (not when not text) */
    DEVICE_MSG_ATTRIBUTE,     /* model/attribute/report/<d>/<k>: its value stored */
    DEVICE_MSG_SHADOW_REPORT, /* basic/shadow/report: the reported value stored */
    DEVICE_MSG_SHADOW_QUERY,  /* basic/shadow/query: answered from the desired values */
    DEVICE_MSG_REPLY,         /* set_reply, operate_reply: matched to a pending request */
    DEVICE_MSG_OTA,           /* ota/...: logged */
    DEVICE_MSG_OTHER,         /* any other v3 message: logged */
    DEVICE_MSG_PROFILE_QUERY, /* v2 1100/0x3870: to the profile handler */
    DEVICE_MSG_V2_OTHER,      /* any other v2 message */
};
/** A device's message: what device_msg_route() and device_msg_decode() read. Strings
 *  are NUL-terminated; the pointers are NULL when absent (or out of memory). */
struct device_msg {
    enum device_msg_route route;
    const char *topic; /* as given */
    size_t topic_len;
    struct osap_topic_v3 t3; /* DEVICE_MSG_V3 */
    struct osap_topic_v2 t2; /* DEVICE_MSG_V2 */
    /* decoded */
    enum device_msg_kind kind;
    struct osap_envelope_common common;
    const uint8_t *body; /* the plaintext's body */
    size_t body_len;
    char child[OSAP_TOPIC_CHILD_MAX + 1];         /* v3 */
    char resource[OSAP_STORE_RESOURCE_MAX + 1];   /* v3: "<rid>-<rtype>" */
    char domain[OSAP_TOPIC_EXT_PART_MAX + 1];     /* v3 model topics, else "" */
    char identifier[OSAP_TOPIC_EXT_PART_MAX + 1]; /* likewise */
    char *payload_json; /* EVENT: the body as JSON text (device_json_text()); NULL: not text */
    char uuid[65];      /* EVENT: basic.UUID, "" when none */
    int64_t time_ms;    /* EVENT: basic.dateTime, 0 when none */
    int level;          /* EVENT */
    char *value_json;   /* ATTRIBUTE, SHADOW_REPORT: the value (cJSON_free); NULL: none */
    char *report_domain, *report_identifier; /* SHADOW_REPORT: state.reported */
    int64_t version;                         /* SHADOW_REPORT: state.version, -1 = none */
    enum osapd_das_request_kind request;     /* REPLY: what it answers */
    const char *method;                      /* REPLY: "attribute/set_reply", ... */
    bool has_code;                           /* REPLY */
    int code;
    char *output_json;  /* REPLY: "data" (cJSON_free) */
    char *body_json;    /* REPLY: the body as JSON text */
    size_t window;      /* SHADOW_QUERY: bytes of reply body the device takes */
    bool text;          /* OTA: the body is UTF-8 text */
    char *profile_json; /* PROFILE_QUERY: the body as text */
};
/** Read the route of @p topic, published by the device @p serial, into @p m (reset
 *  first; release it with device_msg_release() in any case). */
enum device_msg_route device_msg_route(const char *serial, size_t serial_len, const char *topic,
                                       size_t topic_len, struct device_msg *m);
/** Read a decrypted payload of a DEVICE_MSG_V3 or DEVICE_MSG_V2 message: the common
 *  JSON, then the body (pointers into @p view stay in @p m). The envelope's errors when
 *  the common JSON is malformed; OSAP_EINVAL for another route. */
osap_err device_msg_decode(struct device_msg *m, const struct osap_envelope_view *view);
/** Free what decoding allocated. */
void device_msg_release(struct device_msg *m);

/* device_publish.c */
int device_on_publish(void *ud, struct das_conn *c, const struct osap_mqtt_publish *pkt,
                      int *route);
int device_on_subscribe(void *ud, struct das_conn *c, const uint8_t *filter, size_t len);
/** Seal @p body with @p dev's key under the common JSON @p common and send it to the
 *  device (QoS 0 or 1); @p pid may be NULL. */
osap_err device_send(struct device *dev, const char *topic, size_t topic_len, const char *common,
                     size_t common_len, const uint8_t *body, size_t body_len, int qos,
                     uint16_t *pid);

/* device_shadow.c */
/** Answer a basic/shadow/query of @p dev on topic @p t with Seq @p seq, in at most
 *  @p window bytes of reply body (struct device_msg). */
void device_shadow_query(struct device *dev, const struct osap_topic_v3 *t, uint32_t seq,
                         size_t window);

/* device_requests.c */
/** A platform request, checked and formatted by das_api.c, run by the device's home
 *  worker. */
struct device_request_job {
    struct device_layer *layer;
    enum osapd_das_request_kind kind;
    osapd_das_result_cb cb;
    void *userdata;
    uint32_t timeout_ms;
    char serial[OSAP_SUBSERIAL_MAX + 1];
    char child[OSAP_TOPIC_CHILD_MAX + 1];
    char resource[OSAP_TOPIC_RID_MAX + OSAP_TOPIC_RTYPE_MAX + 2];
    char domain[OSAP_TOPIC_EXT_PART_MAX + 1];
    char identifier[OSAP_TOPIC_EXT_PART_MAX + 1];
    char topic[OSAP_TOPIC_V3_MAX]; /* the request topic */
    size_t topic_len;
    char *body; /* the business body (osap_malloc), freed with the job */
};
/** Run @p job on its home worker @p w (frees it). */
void device_request_run(struct das_worker *w, void *job);
/** Free a job that was not run. */
void device_request_job_free(struct device_request_job *job);
/** Fail every pending request of @p dev with @p err. */
void device_requests_fail_all(struct device *dev, osap_err err);
/** Match a device reply: @p kind of request, topic parts @p t (domain and identifier
 *  taken from the request for shadow replies), Seq. On a match: complete it with
 *  @p code and @p output_json, copy the request's domain/identifier into @p domain /
 *  @p identifier (32 bytes each) and return true. */
bool device_requests_reply(struct device *dev, enum osapd_das_request_kind kind,
                           const struct osap_topic_v3 *t, uint32_t seq, int code,
                           const char *output_json, char domain[32], char identifier[32]);
/** Worker set-up and tear-down of the request timer. */
void device_requests_worker_start(struct device_worker *dw);
void device_requests_worker_stop(struct device_worker *dw);

/* device_republish.c */
enum device_app_kind {
    DEVICE_APP_EVENT,
    DEVICE_APP_ATTRIBUTE,
    DEVICE_APP_REPLY,
    DEVICE_APP_RAW,
};
/** What a v3 message is republished with. */
struct device_app_msg {
    enum device_app_kind kind;
    const struct osap_topic_v3 *t;
    const char *topic; /* the device topic (raw) */
    size_t topic_len;
    uint32_t seq;
    const uint8_t *body;
    size_t body_len;
    struct osap_topic_span domain, identifier; /* event, attribute, reply */
    const char *value_json;                    /* attribute: the value alone */
    const char *method;                        /* reply: "attribute/set_reply", ... */
    bool has_code;                             /* reply */
    int code;
};
void device_republish(struct device *dev, const struct device_app_msg *m);
void device_republish_v2(struct device *dev, const struct osap_topic_v2 *t,
                         const struct osap_envelope_common *common, const uint8_t *body,
                         size_t len);
/** $osap/<sn>/status (retained): "online", or "offline" with @p reason. */
void device_republish_status(struct device_worker *dw, const char *serial, size_t len, bool online,
                             const char *reason);

/* device_models.c */
struct cJSON;
/** Longest reason an invalid event or attribute report is marked with. */
#define DEVICE_INVALID_MAX 255
/** The worker's catalog of thing models (the registry's current one), or NULL. */
struct osap_catalog *device_catalog(struct device_worker *dw);
/** Release the worker's catalog (at worker shutdown). */
void device_catalog_release(struct device_worker *dw);
/** Remember @p dev's provisioned @p model and the [models] map of @p dev_type. */
void device_model_set(struct device *dev, const char *model, const char *dev_type);
/** @p dev's thing model now (provisioned, else mapped), or NULL. */
const struct osap_catalog_model *device_model(struct device *dev);
/** Check @p value (parsed from the device's body; @p parsed false when the body is
 *  not JSON) against @p dev's model. Returns NULL when it matches or the device has
 *  no model, else the reason, written to @p reason ("payload.level: 140 is above
 *  the maximum 130"). */
const char *device_model_check(struct device *dev, enum osap_model_check check,
                               const char *resource, const char *domain, const char *identifier,
                               const struct cJSON *value, bool parsed, char *reason, size_t cap);

/* device_json.c */
struct cJSON;
/** @p body parsed as one JSON value (trailing blanks and NUL bytes allowed), or NULL. */
struct cJSON *device_json_parse(const uint8_t *body, size_t len);
/** The result code of a device reply body: {"code":n}, {"status":n,...} or
 *  {"payload":{"code":n}}; false when there is none. @p output_json receives the
 *  printed "data" member (free with cJSON_free), or NULL. */
bool device_json_reply(const uint8_t *body, size_t len, int *code, char **output_json);
/** Event fields: basic.UUID (copied, at most 64 bytes), basic.dateTime as ms since
 *  the epoch (0 when absent or malformed), and the level (0 when absent). */
void device_json_event(const uint8_t *body, size_t len, char uuid[65], int64_t *time_ms,
                       int *level);
/** Parse "YYYY-MM-DDThh:mm:ss[.mmm](Z|+hh:mm|-hh:mm)" into ms since the epoch. */
bool device_json_datetime(const char *s, int64_t *ms);
/** @p body as a JSON text for storage: its own bytes when it is JSON, else a JSON
 *  string of its text. A new string (osap_free); NULL when it is neither JSON nor
 *  UTF-8 text, or on ENOMEM. */
char *device_json_text(const uint8_t *body, size_t len);
/** True when @p body is valid UTF-8. */
bool device_utf8_valid(const uint8_t *p, size_t len);

#endif /* OSAPD_DEVICE_INTERNAL_H */
