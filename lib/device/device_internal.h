/*
 * libosap-device internals shared by the files of lib/device (osap__dev_* and
 * struct osap_device). Not installed.
 */
#ifndef OSAP_DEVICE_INTERNAL_H
#define OSAP_DEVICE_INTERNAL_H

#include "osap/crypto.h"
#include "osap/device.h"
#include "osap/lbs_handshake.h"
#include "osap/mqtt.h"
#include "osap/topic.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Defaults (Appendix A of the wire spec: what the real device does). */
#define DEV_MESSAGE_MAX_DEFAULT (OSAP_MESSAGE_MAX + 8)
#define DEV_MESSAGE_MIN         2048
#define DEV_LBS_TIMEOUT_MS      5000
#define DEV_MQTT_TIMEOUT_MS     6000
#define DEV_CONNECT_TIMEOUT_MS  5000
#define DEV_ACK_TIMEOUT_MS      30000
#define DEV_QUERY_DELAY_MS      1000  /* shadow query after a resource's first report */
#define DEV_QUERY_RETRY_MS      30000 /* shadow query retry interval */
#define DEV_QUERY_TRIES         3
#define DEV_QUERY_WINDOW        16256 /* "windowsize" of the shadow query */

/* Text limits of the handle (bytes, without the NUL). */
#define DEV_HOST_MAX     127
#define DEV_TEXT_MAX     127 /* registration text members (OSAP_REG_STR_MAX) */
#define DEV_RESOURCE_MAX 80  /* "<index>-<category>" */
#define DEV_NAME_MAX     31  /* domain, identifier */

/* The phases of the connection state machine. */
enum dev_phase {
    PH_IDLE = 0,    /* created, not started */
    PH_LBS_WAIT,    /* back-off before the next LBS attempt (t_due) */
    PH_LBS_CONNECT, /* TCP connect to the LBS in progress */
    PH_LBS_XCHG,    /* LBS frames in flight */
    PH_DAS_WAIT,    /* back-off before the next registration (t_due) */
    PH_DAS_CONNECT, /* TCP connect to the DAS in progress */
    PH_DAS_CONNACK, /* CONNECT sent */
    PH_DAS_SUBACK,  /* SUBSCRIBE sub_index sent */
    PH_ONLINE,
    PH_STOPPING, /* UNSUBSCRIBE / DISCONNECT of a graceful stop */
    PH_STOPPED,
    PH_BLOCKED,
};

/* One TCP connection (LBS or DAS; never both at once). */
struct dev_conn {
    int open;
    int connected;
    intptr_t sock;
    size_t rx_len;         /* bytes held in dev->rx */
    size_t tx_off, tx_len; /* pending bytes are dev->tx[tx_off..tx_len) */
};

/* What a tracked QoS 1 publish was. */
enum dev_flight_kind {
    FL_FREE = 0,
    FL_EVENT,
    FL_REPORT,
    FL_QUERY,
    FL_OTHER, /* replies: nothing to do on PUBACK */
};

struct dev_flight {
    uint8_t kind;
    uint16_t pid;
    uint32_t ref;      /* attribute or resource index */
    uint32_t version;  /* attribute version reported */
    uint64_t event_id; /* queue record id */
    uint64_t t_sent;
};

/* An attribute (or operation) of the thing model. */
struct dev_attr {
    char resource[DEV_RESOURCE_MAX + 1];
    char domain[DEV_NAME_MAX + 1];
    char identifier[DEV_NAME_MAX + 1];
    osap_device_handler_fn fn;
    void *userdata;
    char *value;      /* canonical JSON of the last value, or NULL (osap_malloc) */
    uint32_t version; /* per-key counter, 1 for the first report of the process */
    uint8_t pending;  /* a report of the current value is to be sent */
    uint8_t acked;    /* the current version was acknowledged */
    uint8_t is_operation;
};

/* A resource that has attributes: its desired-state query. */
struct dev_resource {
    char name[DEV_RESOURCE_MAX + 1];
    uint64_t t_query; /* next query, 0 = none scheduled */
    uint8_t tries;
    uint8_t done; /* query_reply received in this session */
};

/* A request answered later (OSAP_DEVICE_REPLY_LATER). */
struct dev_pending {
    uint32_t id; /* 0 = free */
    uint32_t session;
    uint32_t seq;
    enum osap_device_request_kind kind;
    char resource[DEV_RESOURCE_MAX + 1];
    char domain[DEV_NAME_MAX + 1];
    char identifier[DEV_NAME_MAX + 1];
};

/* The offline event queue: an append-only file of records (device_queue.c). */
struct dev_queue {
    const struct osap_device_port *port;
    void *file;
    char name[64];
    char tmp_name[72];
    uint32_t max_events;
    uint64_t max_bytes;
    enum osap_device_queue_full when_full;
    enum osap_device_fsync fsync;
    uint32_t fsync_interval_ms;
    size_t record_max; /* largest payload accepted */

    uint64_t file_size;
    uint64_t head_id;   /* every id below is removed */
    uint64_t next_id;   /* id of the next appended record */
    uint64_t head_off;  /* offset of the first live record (file_size: none) */
    uint64_t send_off;  /* where osap__queue_peek() starts looking */
    uint64_t sent_upto; /* records up to this id were handed out since the rewind */
    uint64_t peek_off, peek_size, peek_id; /* the record osap__queue_peek() returned */
    uint64_t head_size;                    /* size of the record at head_off */
    uint32_t count;                        /* live records */
    uint64_t live_bytes;
    uint64_t dropped;                         /* persisted in HEAD records */
    uint64_t acked[OSAP_DEVICE_INFLIGHT_MAX]; /* acknowledged past the head */
    size_t n_acked;
    int dirty; /* appended or removed since the last sync */
    uint64_t t_dirty;
};

struct osap_device {
    /* ---- configuration (copied) ---- */
    struct osap_device_port port;
    struct osap_device_callbacks cb;
    void *userdata;
    char lbs_host[DEV_HOST_MAX + 1];
    uint16_t lbs_port;
    char lbs_domain[DEV_HOST_MAX + 1];
    uint8_t auth_mode;
    char subserial[OSAP_SUBSERIAL_MAX + 1];
    char vcode[OSAP_VCODE_MAX + 1];
    char dev_type[DEV_TEXT_MAX + 1];
    char dev_type_display[DEV_TEXT_MAX + 1];
    char firmware_version[DEV_TEXT_MAX + 1];
    char mac[DEV_TEXT_MAX + 1];
    uint16_t keepalive_s;
    uint32_t lbs_timeout_ms, mqtt_timeout_ms, connect_timeout_ms, ack_timeout_ms;
    uint32_t inflight_events_max;
    struct osap_device_queue_config qcfg; /* file_name points at queue_file */
    char queue_file[64];
    int has_test_ecdh;
    struct osap_lbs_client_ecdh test_ecdh;
    int heap;        /* 1: osap_device_new(), 0: caller memory */
    int threaded;    /* runs on its own thread: public calls lock */
    int thread_quit; /* the run thread ends once stopped (or at thread_deadline) */
    uint64_t thread_deadline;

    /* ---- identity and keys ---- */
    struct osap_rng rng; /* the port's random source */
    osap_lbs_client_t *lbs;
    int has_devid, has_master_key;
    uint8_t devid[OSAP_DEVID_LEN];
    uint8_t master_key[OSAP_MASTER_KEY_LEN];
    uint8_t session_key[OSAP_SESSION_KEY_LEN];
    int has_das;
    struct osap_lbs_das_info das;

    /* ---- connection state machine ---- */
    enum dev_phase phase;
    enum osap_device_state state; /* last state reported */
    uint64_t now;                 /* time of the current step */
    uint64_t wake;                /* earliest timer registered during the step */
    uint64_t t_due;               /* back-off end or deadline of the phase */
    unsigned lbs_fail_n;          /* LBS back-off multiplier, 1..60 */
    unsigned das_fail_n;          /* consecutive failed full registrations */
    unsigned light_fail_n;        /* consecutive failed light reconnections */
    int reg_light;                /* the registration in progress is light */
    int reg_runtime;              /* ... and follows a lost session (1 s x n) */
    int first_connect_done;       /* a CONNECT was accepted since start */
    int ever_online;
    int stop_requested;
    int sub_index; /* 0: /iot/<sn>/#, 1: /<sn>/# */
    uint16_t sub_pid;
    uint16_t pid_counter;
    uint64_t t_ping;    /* next PINGREQ */
    uint64_t t_last_rx; /* last packet from the DAS (liveness) */
    uint32_t session;   /* DAS sessions so far (stale deferred replies) */
    struct dev_conn conn;

    /* ---- business ---- */
    uint32_t seq; /* next Seq of a device request (1 after start) */
    struct dev_attr *attrs;
    size_t n_attrs, cap_attrs;
    struct dev_resource *resources;
    size_t n_resources, cap_resources;
    struct dev_flight flights[OSAP_DEVICE_INFLIGHT_MAX];
    struct dev_pending pending[OSAP_DEVICE_PENDING_MAX];
    uint32_t next_request_id;
    struct dev_queue queue;
    int queue_open;

    struct osap_device_stats stats;

    /* ---- buffers: rx (message_max), tx (2 x message_max), work (message_max) ---- */
    size_t message_max;
    uint8_t *rx, *tx, *work;
    size_t tx_cap;
};

/* A topic level equals the NUL-terminated @p s. */
static inline int dev_span_is(struct osap_topic_span sp, const char *s)
{
    size_t n = strlen(s);
    return sp.len == n && memcmp(sp.ptr, s, n) == 0;
}

/* The session is registered (CONNACK 0 received): answers may be sent. */
static inline int dev_can_answer(const struct osap_device *dev)
{
    return dev->conn.open && (dev->phase == PH_ONLINE || dev->phase == PH_DAS_SUBACK);
}

/* ---- device.c ---- */
void osap__dev_set_state(struct osap_device *dev, enum osap_device_state st, osap_err reason);
void osap__dev_wake_at(struct osap_device *dev, uint64_t t);
void osap__dev_lock(struct osap_device *dev);
void osap__dev_unlock(struct osap_device *dev);
/* After a business call: let a run thread notice new work. */
void osap__dev_kick(struct osap_device *dev);

/* ---- device_io.c: the connection ---- */
osap_err osap__conn_open(struct osap_device *dev, const char *host, uint16_t port);
/* OSAP_OK connected, OSAP_ENEED_MORE in progress, else failed. */
osap_err osap__conn_check(struct osap_device *dev);
void osap__conn_close(struct osap_device *dev);
/* Free bytes in the output buffer. */
size_t osap__conn_room(const struct osap_device *dev);
/* Reserve @p len bytes at the end of the output (compacting); NULL without room. */
uint8_t *osap__conn_reserve(struct osap_device *dev, size_t len);
/* Commit @p len bytes written at the pointer osap__conn_reserve() returned. */
void osap__conn_commit(struct osap_device *dev, size_t len);
osap_err osap__conn_send(struct osap_device *dev, const uint8_t *buf, size_t len);
/* Write pending output: OSAP_OK (maybe some left), or the connection's error. */
osap_err osap__conn_flush(struct osap_device *dev);
/* Read what is available into rx: OSAP_OK (maybe nothing new), OSAP_ECLOSED, OSAP_EIO,
 * OSAP_ETOOBIG when rx is full. */
osap_err osap__conn_fill(struct osap_device *dev);
/* Drop @p n bytes from the front of rx. */
void osap__conn_consume(struct osap_device *dev, size_t n);
int osap__conn_pending(const struct osap_device *dev);

/* ---- device_backoff.c ---- */
uint64_t osap__backoff_lbs_ms(unsigned n);
uint64_t osap__backoff_das_ms(unsigned n);
uint64_t osap__backoff_light_ms(unsigned n);
#define DEV_LBS_FAIL_CAP   60 /* 2 s x 60 = 120 s */
#define DEV_DAS_FAIL_MAX   6  /* the 6th failed registration goes back to the LBS */
#define DEV_LIGHT_FAIL_MAX 4  /* the 4th failed light reconnection goes to the LBS */

/* ---- device_lbs.c ---- */
osap_err osap__lbs_load_keys(struct osap_device *dev);
void osap__lbs_schedule(struct osap_device *dev, uint64_t delay_ms);
osap_err osap__lbs_step(struct osap_device *dev);
void osap__lbs_forget_master_key(struct osap_device *dev);

/* ---- device_das.c ---- */
void osap__das_schedule(struct osap_device *dev, int light, int runtime, uint64_t delay_ms);
osap_err osap__das_step(struct osap_device *dev);
/* Encode and queue a PUBLISH of the v3 envelope (@p common_seq, @p body) on @p topic.
 * *@p pid receives the packet id (QoS 1). OSAP_EBUFSIZE when the output has no room. */
osap_err osap__das_publish(struct osap_device *dev, const char *topic, int qos, uint32_t seq,
                           const uint8_t *body, size_t body_len, uint16_t *pid);
/* A free slot of the in-flight table (NULL when full). */
struct dev_flight *osap__das_flight_alloc(struct osap_device *dev);
size_t osap__das_flights(const struct osap_device *dev, enum dev_flight_kind kind);
void osap__das_lost(struct osap_device *dev, osap_err why);
void osap__das_begin_stop(struct osap_device *dev);
/* Domain 1000: stop until restart (force offline). */
void osap__das_block(struct osap_device *dev, osap_err why);
/* Domain 1000 redirect: leave the DAS for the LBS at once. */
void osap__das_leave(struct osap_device *dev, osap_err why);

/* ---- device_business.c: dispatch, handlers, replies ---- */
/* Dispatch a PUBLISH received from the DAS (after the PUBACK was queued). The
 * payload is decrypted in place. */
void osap__biz_on_publish(struct osap_device *dev, const struct osap_mqtt_publish *pub);
/* Send what is due (reports, queries, events) while there is room. */
osap_err osap__biz_pump(struct osap_device *dev);
void osap__biz_on_online(struct osap_device *dev);
void osap__biz_on_offline(struct osap_device *dev);
void osap__biz_on_puback(struct osap_device *dev, struct dev_flight *fl);
void osap__biz_free(struct osap_device *dev);
/* The v3 topic "/iot/<sn>/global/<resource>/<module>/<method>/<msg_type>[/<d>/<k>]". */
osap_err osap__biz_topic(const struct osap_device *dev, const char *resource, const char *module,
                         const char *method, const char *msg_type, const char *domain,
                         const char *identifier, char *out, size_t cap);
/* Check a key and fill @p res with its resource ("0-global" when NULL). */
osap_err osap__biz_key_check(const struct osap_device_key *key, char res[DEV_RESOURCE_MAX + 1]);
/* The attribute (is_op 0) or operation (1) entry, or -1. */
long osap__biz_find(const struct osap_device *dev, const char *resource, const char *domain,
                    const char *identifier, int is_op);
/* Add an entry (or return the existing one); -1 on allocation failure. */
long osap__biz_add(struct osap_device *dev, const char *resource, const char *domain,
                   const char *identifier, int is_op);
/* Run the handler of a request: returns the code, or OSAP_DEVICE_REPLY_LATER with the
 * request kept under *@p id. The output (operations) is at *@p out. */
int osap__biz_call(struct osap_device *dev, enum osap_device_request_kind kind,
                   const char *resource, const char *domain, const char *identifier,
                   const char *json, size_t json_len, uint32_t seq, char *out, size_t out_cap,
                   size_t *out_len);

/* ---- device_shadow.c: attribute reports and desired state ---- */
osap_err osap__shadow_pump(struct osap_device *dev);
void osap__shadow_on_online(struct osap_device *dev);
void osap__shadow_on_offline(struct osap_device *dev);
void osap__shadow_on_puback(struct osap_device *dev, const struct dev_flight *fl);
/* basic/shadow/set: apply and answer set_reply. */
void osap__shadow_on_set(struct osap_device *dev, const char *resource, uint32_t seq,
                         const uint8_t *body, size_t len);
/* basic/shadow/query_reply: apply the desired values. */
void osap__shadow_on_query_reply(struct osap_device *dev, const char *resource, const uint8_t *body,
                                 size_t len);
/* Answer a shadow set (now or later). */
osap_err osap__shadow_send_set_reply(struct osap_device *dev, const char *resource, uint32_t seq,
                                     int code);

/* ---- device_event.c: events through the offline queue ---- */
osap_err osap__event_pump(struct osap_device *dev);
void osap__event_on_puback(struct osap_device *dev, const struct dev_flight *fl);

/* ---- device_queue.c ---- */
osap_err osap__queue_open(struct dev_queue *q, const struct osap_device_port *port,
                          const struct osap_device_queue_config *cfg, size_t record_max);
void osap__queue_close(struct dev_queue *q);
/* Bytes around a payload in a record: header before, CRC after. */
#define DEV_QUEUE_HDR 16
#define DEV_QUEUE_CRC 4
/* Append a record. @p rec holds DEV_QUEUE_HDR free bytes, @p len bytes of payload and
 * DEV_QUEUE_CRC free bytes (filled in place). *@p id receives its id, *@p dropped the
 * number of old records dropped to make room. OSAP_EBUSY when full and refusing,
 * OSAP_ETOOBIG for a record larger than the limits. */
osap_err osap__queue_append(struct dev_queue *q, uint8_t *rec, size_t len, uint64_t now,
                            uint64_t *id, uint32_t *dropped);
/* The oldest record not handed out since the last rewind, without handing it out:
 * payload into @p buf. OSAP_ENOTFOUND when none. */
osap_err osap__queue_peek(struct dev_queue *q, uint8_t *buf, size_t cap, size_t *len, uint64_t *id);
/* Hand out the record osap__queue_peek() returned. */
void osap__queue_advance(struct dev_queue *q);
/* Hand out records again from the head (after a reconnection). */
void osap__queue_rewind(struct dev_queue *q);
/* Remove record @p id (acknowledged). OSAP_ENOTFOUND when it is not in the queue. */
osap_err osap__queue_ack(struct dev_queue *q, uint64_t id, uint64_t now);
/* Interval fsync; returns the time it wants to run again (or OSAP_DEVICE_NEVER). */
uint64_t osap__queue_tick(struct dev_queue *q, uint64_t now);
/* Unsent records are waiting. */
int osap__queue_has_next(const struct dev_queue *q);
/* CRC-32 (IEEE 802.3) of @p len bytes, continuing from @p crc (0 to start). */
uint32_t osap__crc32(uint32_t crc, const void *buf, size_t len);

#endif /* OSAP_DEVICE_INTERNAL_H */
