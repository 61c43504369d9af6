/*
 * Internals of the DAS broker core, shared by das_*.c and handle_*.c. Not for the
 * device layer (it uses das_hooks.h only).
 *
 * Threads and ownership (see docs/ARCHITECTURE.md, "DAS service"):
 *   - struct das: the service; read-only after start except the atomics, the retained
 *     store (its own mutex) and the workers' mailboxes.
 *   - struct das_worker: one thread, one libuv loop, one listening socket
 *     (SO_REUSEPORT), its connections, its sessions (those whose key hashes to it),
 *     its subscription trie. Only its own thread touches these.
 *   - struct das_msg: an immutable published message, reference-counted with atomics
 *     and shared by every queue, in-flight slot and write that holds it.
 */
#ifndef OSAPD_DAS_INTERNAL_H
#define OSAPD_DAS_INTERNAL_H

#include "das/das_config.h"
#include "das/das_hooks.h"
#include "osap/err.h"
#include "osap/mqtt.h"
#include "service.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define DAS_LOG "das"

#define das_container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* ------------------------------------------------------------------------ */
/* Intrusive doubly linked lists                                            */
/* ------------------------------------------------------------------------ */

struct das_link {
    struct das_link *prev, *next;
};

static inline void das_list_init(struct das_link *head)
{
    head->prev = head->next = head;
}
static inline bool das_list_empty(const struct das_link *head)
{
    return head->next == head;
}
static inline void das_list_add_tail(struct das_link *head, struct das_link *l)
{
    l->prev = head->prev;
    l->next = head;
    head->prev->next = l;
    head->prev = l;
}
static inline void das_list_remove(struct das_link *l)
{
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->prev = l->next = l;
}
static inline bool das_linked(const struct das_link *l)
{
    return l->next != NULL && l->next != l;
}

/* ------------------------------------------------------------------------ */
/* Messages (das_msg.c)                                                     */
/* ------------------------------------------------------------------------ */

/** An immutable published message: topic (NUL-terminated) then payload, in one
 *  allocation. Shared by reference (das_msg_ref/das_msg_unref, atomic). */
struct das_msg {
    atomic_uint refs;
    uint32_t payload_len;
    uint16_t topic_len;
    uint8_t qos;    /* QoS it was published with */
    uint8_t retain; /* RETAIN it was published with */
    uint32_t hint;  /* das_hint_of() of the topic */
    /* The client connection that published it (generation 0 = none: a will, a device,
     * the device layer): a congested subscriber holds back its acknowledgements
     * (das_flow.c). */
    struct das_conn_ref origin;
    char topic[]; /* topic_len bytes, NUL, then the payload */
};

static inline const uint8_t *das_msg_payload(const struct das_msg *m)
{
    return (const uint8_t *)m->topic + m->topic_len + 1;
}

/** A new message (refs = 1) holding copies of @p topic and @p payload. */
osap_err das_msg_new(const char *topic, size_t topic_len, const uint8_t *payload, size_t len,
                     int qos, int retain, struct das_msg **out);
static inline struct das_msg *das_msg_ref(struct das_msg *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}
void das_msg_unref(struct das_msg *m);

/* ------------------------------------------------------------------------ */
/* Settings (das_service.c)                                                 */
/* ------------------------------------------------------------------------ */

struct das_settings {
    size_t max_packet;
    size_t connect_max_packet;
    uint64_t connect_max_total;
    uint64_t connect_timeout_ms;
    uint64_t max_connections; /* resolved: never 0 */
    uint32_t max_inflight;
    uint64_t max_queued_messages;
    uint64_t max_queued_bytes;
    bool queue_qos0;
    uint64_t max_output_bytes;
    bool slow_disconnect;
    uint64_t session_expiry_ms;  /* 0 = never */
    uint64_t max_sessions;       /* offline persistent sessions; 0 = no limit */
    uint64_t max_retained;       /* 0 = no limit */
    uint64_t max_retained_bytes; /* 0 = no limit */
    uint32_t max_subscriptions;  /* per session; 0 = no limit */
    uint64_t max_hold_ms;        /* 0 = no back-pressure from congested subscribers */
    int64_t forward_high;        /* inter-worker back-pressure thresholds */
    int64_t forward_low;
    uint32_t auth_threads;
    uint32_t auth_queue;
    bool allow_anonymous;
    struct das_acl *anon_acl; /* anonymous clients' rules (anonymous_deny); NULL = none */
};

/* ------------------------------------------------------------------------ */
/* Level trie (das_trie.c): subscriptions per worker, retained messages     */
/* ------------------------------------------------------------------------ */

struct das_sub;

/** One level of a topic tree. Children are found through the tree's hash table
 *  (keyed by parent and level text) and listed through first_child/next_sibling. */
struct das_tnode {
    struct das_tnode *parent;
    struct das_tnode *hnext; /* hash chain */
    struct das_tnode *first_child, *next_sibling, *prev_sibling;
    struct das_tnode *plus, *hash; /* the '+' and '#' children (subscription trie) */
    uint32_t hval;
    uint32_t nchildren;
    /* payload */
    struct das_sub **subs; /* subscription trie: subscriptions ending here */
    uint32_t nsubs, capsubs;
    struct das_msg *retained; /* retained trie: the message of this topic */
    uint16_t len;
    char level[];
};

struct das_trie {
    struct das_tnode *root;
    struct das_tnode **buckets;
    size_t nbuckets; /* power of two */
    size_t nnodes;
};

osap_err das_trie_init(struct das_trie *t);
/** Free every node (payloads must already be empty or released by the caller). */
void das_trie_release(struct das_trie *t);
/** The child of @p parent named @p level, or NULL. */
struct das_tnode *das_trie_child(const struct das_trie *t, const struct das_tnode *parent,
                                 const char *level, size_t len);
/** The node of the '/'-separated path @p path, created as needed. */
osap_err das_trie_insert(struct das_trie *t, const char *path, size_t len, struct das_tnode **out);
/** The node of @p path, or NULL. */
struct das_tnode *das_trie_find(const struct das_trie *t, const char *path, size_t len);
/** Remove @p n and its ancestors while they hold nothing (no payload, no child). */
void das_trie_prune(struct das_trie *t, struct das_tnode *n);

/* ------------------------------------------------------------------------ */
/* Retained messages (das_retain.c): one store for the whole DAS, locked    */
/* ------------------------------------------------------------------------ */

struct das_retain {
    uv_mutex_t lock;
    struct das_trie trie;
    uint64_t count;
    uint64_t bytes;   /* topics and payloads of the retained messages */
    bool full_logged; /* "not kept" was logged since the store was last below its limits */
    uint64_t changes; /* bumped by every change (persistence: autosave only what changed) */
};

osap_err das_retain_init(struct das_retain *r);
void das_retain_release(struct das_retain *r);
/** Store @p m as the retained message of its topic (an empty payload clears it). */
void das_retain_store(struct das *das, struct das_msg *m);
/** Every retained message matching @p filter, referenced, in @p *out (an array the
 *  caller frees with das_retain_free_list()). */
osap_err das_retain_match(struct das *das, const char *filter, size_t len, struct das_msg ***out,
                          size_t *n);
void das_retain_free_list(struct das_msg **list, size_t n);
/** The store's change count (see das_retain_snapshot()). */
uint64_t das_retain_changes(struct das *das);
/** Every retained message, referenced, in @p *out (free with das_retain_free_list()),
 *  and the change count they correspond to in @p *changes. */
osap_err das_retain_snapshot(struct das *das, struct das_msg ***out, size_t *n, uint64_t *changes);

/* ------------------------------------------------------------------------ */
/* Mailboxes (das_mailbox.c): multi-producer, single-consumer, batched      */
/* ------------------------------------------------------------------------ */

/** An item posted to a worker. */
struct das_mail {
    struct das_mail *next;
    void (*run)(struct das_worker *w, struct das_mail *m); /* consumes (frees) m */
};

/** Push @p m to worker @p w. OSAP_ESTATE when the worker has stopped (then the caller
 *  still owns @p m). The worker is woken once per batch. */
osap_err das_mail_push(struct das_worker *w, struct das_mail *m);
/** Run every item in the mailbox (the async callback). */
void das_mailbox_drain(struct das_worker *w);
/** Close the mailbox for good and run what is left. */
void das_mailbox_close(struct das_worker *w);

/** A batch of messages forwarded to another worker for matching. */
struct das_batch {
    struct das_mail mail;
    struct das_worker *origin; /* its outstanding count drops once this ran */
    uint32_t n, cap;
    struct das_msg *msgs[];
};
/** Add @p m (a reference is taken) to the batch for worker @p target. */
void das_forward(struct das_worker *w, uint32_t target, struct das_msg *m);
/** Post every batch built during this loop iteration. */
void das_forward_flush(struct das_worker *w);

/* Back-pressure between workers: a worker stops reading from the clients that
 * publish to it while more than [das] forward_high_water of the messages it forwarded
 * have not been matched by their target workers yet, and reads again at or below
 * forward_low_water. This ties the pace of intake to the pace of the busiest worker
 * (as in a single loop), so queues do not build up behind a lagging worker; it
 * never waits on clients, only on workers. */
/** Wake worker @p w's loop (thread-safe; no-op once it stopped). */
void das_worker_wake(struct das_worker *w);
/** Stop reading from @p c until the worker's forwarded messages drain. */
void das_conn_backpressure(struct das_conn *c);
/** Read again from the connections paused by das_conn_backpressure(). */
void das_worker_resume_paused(struct das_worker *w);

/* ------------------------------------------------------------------------ */
/* Sessions (das_session.c)                                                 */
/* ------------------------------------------------------------------------ */

enum das_session_kind { DAS_SESSION_CLIENT = 0, DAS_SESSION_DEVICE = 1 };

/** A queued message (session queue). */
struct das_qentry {
    struct das_qentry *next;
    struct das_msg *msg;
    uint8_t qos;
    uint8_t retain;
};

enum das_inflight_state {
    DAS_WAIT_PUBACK = 1, /* QoS 1 sent */
    DAS_WAIT_PUBREC = 2, /* QoS 2 sent */
    DAS_WAIT_PUBCOMP = 3 /* PUBREL sent */
};

/** A QoS 1/2 message sent and not yet acknowledged. */
struct das_inflight {
    struct das_msg *msg; /* NULL once PUBREC arrived */
    uint16_t pid;
    uint8_t qos;
    uint8_t state; /* enum das_inflight_state; 0 = free slot */
    uint8_t retain;
};

/** One subscription of a session (also an entry of a trie node). */
struct das_sub {
    struct das_session *session;
    struct das_tnode *node;
    struct das_sub *next_in_session;
    uint32_t index; /* in node->subs */
    uint8_t qos;
    uint8_t hint; /* das_hint_of() bucket of the filter */
};

struct das_session {
    struct das_session *hnext; /* worker session table chain */
    struct das_conn *conn;     /* NULL while offline */
    struct das_sub *subs;
    struct das_inflight *inflight; /* outgoing QoS 1/2 in flight: a ring in send order */
    struct das_qentry *q_head, *q_tail;
    uint16_t *rel;                /* incoming QoS 2 packet ids awaiting PUBREL */
    struct das_link offline_link; /* persistent sessions without a client */
    uint64_t q_bytes;
    uint64_t offline_since;
    /* back-pressure (das_flow.c): publishers whose acknowledgements are held back
     * while the queue is congested */
    struct das_hold *holds;
    struct das_link hold_link; /* in the worker's holding list while holds != NULL */
    uint64_t hold_since;
    uint32_t nholds;
    uint32_t nsubs;                     /* subscriptions (max_subscriptions) */
    uint32_t if_cap, if_head, if_count; /* if_count: slots used from head, holes included */
    uint32_t if_live;                   /* slots holding a message */
    uint32_t q_count;
    uint32_t nrel, caprel;
    uint32_t match_epoch;
    uint32_t hval;
    uint16_t next_pid;
    uint16_t key_len;
    uint8_t match_qos;
    uint8_t kind; /* enum das_session_kind */
    bool clean;
    bool flow_off; /* congested past max_hold_time: no holds until it drains */
    char key[];    /* NUL-terminated */
};

struct das_session_table {
    struct das_session **buckets;
    size_t nbuckets;
    size_t count;
};

osap_err das_sessions_init(struct das_session_table *t);
/** Free every session (the worker is stopping). */
void das_sessions_release(struct das_worker *w);
struct das_session *das_session_find(struct das_worker *w, int kind, const char *key, size_t len);
osap_err das_session_new(struct das_worker *w, int kind, const char *key, size_t len,
                         struct das_session **out);
/** Remove and free @p s: subscriptions, queue, in-flight messages. */
void das_session_destroy(struct das_worker *w, struct das_session *s);
/** A client takes up the offline session @p s again. */
void das_session_online(struct das_worker *w, struct das_session *s);
/** The client of @p s went away: clean sessions are destroyed, others kept (at most
 *  max_sessions offline ones in the DAS: beyond it the worker's oldest goes). */
void das_session_detach(struct das_worker *w, struct das_session *s);
/** Discard offline sessions older than the session_expiry setting. */
void das_session_expire(struct das_worker *w, uint64_t now);

/** Deliver @p m to session @p s at QoS @p qos (already the minimum of the message's
 *  and the subscription's), with @p retain as the RETAIN flag. */
void das_session_deliver(struct das_worker *w, struct das_session *s, struct das_msg *m, int qos,
                         int retain);
/** Send what the session may send now: queued messages into free in-flight slots. */
void das_session_pump(struct das_worker *w, struct das_session *s);
/** After a reconnect: resend every in-flight message (DUP) or PUBREL, then pump. */
void das_session_resend(struct das_worker *w, struct das_session *s);
/** An acknowledgement for @p pid: PUBACK (qos 1), PUBREC, PUBCOMP. Returns false
 *  when no matching in-flight message exists. */
bool das_session_ack(struct das_worker *w, struct das_session *s, uint16_t pid, int type);
/** Send @p m to the connected client of @p s at QoS 1 outside the in-flight window
 *  (device layer requests). */
osap_err das_session_send_direct(struct das_worker *w, struct das_session *s, struct das_msg *m,
                                 int qos, uint16_t *pid);
/** Incoming QoS 2 ids: returns true when @p pid was already recorded; otherwise
 *  records it (OSAP_EBUSY in *err when the limit is reached). */
bool das_session_rel_seen(struct das_session *s, uint16_t pid, uint32_t limit, osap_err *err);
void das_session_rel_done(struct das_session *s, uint16_t pid);
/* Restoring a saved session (das_persist.c), before the worker runs. */
/** Put @p m (NULL once PUBREC arrived: state DAS_WAIT_PUBCOMP) back into the
 *  in-flight window with packet id @p pid. OSAP_EINVAL when @p pid is 0 or taken. */
osap_err das_session_restore_inflight(struct das_session *s, struct das_msg *m, uint16_t pid,
                                      int qos, int state, int retain);
/** Queue @p m again, under the queue limits of a message arriving while offline. */
void das_session_restore_queued(struct das_worker *w, struct das_session *s, struct das_msg *m,
                                int qos, int retain);
/** Make the restored session @p s an offline session of @p w. */
void das_session_park(struct das_worker *w, struct das_session *s);

/* ------------------------------------------------------------------------ */
/* Back-pressure from congested subscribers (das_flow.c)                    */
/* ------------------------------------------------------------------------ */

/* A connected session whose queue holds half of max_queued_messages (or bytes) is
 * congested: each client connection that publishes a QoS 1/2 message into it is
 * held, i.e. its PUBACKs and PUBRECs are held back (in order) until every session
 * holding it has drained to a quarter. Its packets are still read (its own
 * acknowledgements among them, so two clients feeding each other cannot lock up);
 * one that keeps publishing without acknowledgements is no longer read once it has
 * 1024 (or max_inflight, if more) of them waiting. While a session holds, messages
 * already acknowledged and in transit are queued up to twice the queue limits plus
 * forward_high_water per other worker. A session congested for max_hold_time lets
 * its publishers go and is a slow consumer. */

/** A publisher held by a session (listed in the session; also the release mail). */
struct das_hold {
    struct das_mail mail;
    struct das_hold *next;
    struct das_conn_ref pub;
};

/** @p m (from a client publisher) was queued for the connected session @p s. */
void das_flow_queued(struct das_worker *w, struct das_session *s, const struct das_msg *m);
/** The queue of @p s shrank: release its publishers once it has drained. */
void das_flow_drained(struct das_worker *w, struct das_session *s);
/** Release every publisher held by @p s (offline, destroyed, timed out). */
void das_flow_release(struct das_worker *w, struct das_session *s);
/** Sessions congested for longer than max_hold_time: slow consumers. */
void das_flow_tick(struct das_worker *w, uint64_t now);
/** Whether @p s may queue one more message of @p len bytes beyond its limits (it
 *  holds publishers back and is below the ceiling above). */
bool das_flow_overflow_ok(const struct das_worker *w, const struct das_session *s, size_t len);
/** Send PUBACK/PUBREC @p type for @p pid now, or hold it back (in order) while the
 *  connection is held. */
osap_err das_flow_ack(struct das_conn *c, uint8_t type, uint16_t pid);
/** Drop what the connection holds back (it is closing). */
void das_flow_conn_release(struct das_conn *c);

/* Subscriptions (das_subs.c) */
/** Add or replace the subscription of @p s to @p filter; OSAP_EBUSY when @p s has
 *  max_subscriptions already and @p filter is a new one. */
osap_err das_subs_add(struct das_worker *w, struct das_session *s, const char *filter, size_t len,
                      int qos);
/** Remove the subscription of @p s to @p filter (no-op when absent). */
void das_subs_remove(struct das_worker *w, struct das_session *s, const char *filter, size_t len);
/** Remove every subscription of @p s. */
void das_subs_clear(struct das_worker *w, struct das_session *s);
/** Deliver @p m to every matching session of worker @p w (once each, highest QoS). */
void das_subs_deliver(struct das_worker *w, struct das_msg *m);

/** The hint bucket (0..62) of a topic's first level; 63 = a filter whose first level
 *  is a wildcard. */
#define DAS_HINTS         64
#define DAS_HINT_WILDCARD 63
uint32_t das_hint_of(const char *topic, size_t len);

/* ------------------------------------------------------------------------ */
/* Access control (das_acl.c)                                               */
/* ------------------------------------------------------------------------ */

/** A rule that closes its filter instead of opening it (anonymous_deny). */
#define DAS_ACL_DENY 0x80

struct das_acl_rule {
    char *pattern;
    uint16_t len;
    uint8_t access; /* enum osap_mqtt_access, or DAS_ACL_DENY */
};

/** The rules of one client: an authenticated user's, loaded at CONNECT, or an
 *  anonymous client's (anonymous: the anonymous defaults, minus its deny rules). */
struct das_acl {
    uint32_t n;
    bool anonymous;
    struct das_acl_rule rules[];
};

/** Load the ACL rows of @p username from the store, with %u and %c substituted. */
osap_err das_acl_load(struct osap_store *st, const char *username, const char *client_id,
                      struct das_acl **out);
/** The anonymous clients' rules: one deny rule per filter of @p deny (every item
 *  must be a valid topic filter: OSAP_ECONFIG, logged, otherwise). An empty list
 *  gives *out = NULL (no rules: the anonymous defaults). The DAS keeps one, shared
 *  read-only by every anonymous connection (das_conn_release does not free it). */
osap_err das_acl_anonymous_new(const struct osap_strlist *deny, struct das_acl **out);
void das_acl_free(struct das_acl *acl);
/** May a client publish to @p topic? (NULL acl = anonymous: anything but $ topics;
 *  a deny rule that matches the topic refuses it) */
bool das_acl_can_write(const struct das_acl *acl, const char *topic, size_t len);
/** May a client subscribe to @p filter? (every topic it matches must be readable;
 *  a deny rule that covers the filter refuses it) */
bool das_acl_can_read(const struct das_acl *acl, const char *filter, size_t len);
/** Whether pattern @p p (a filter) covers every topic filter @p f matches. */
bool das_filter_covers(const char *p, size_t plen, const char *f, size_t flen);

/* ------------------------------------------------------------------------ */
/* Connections (das_conn.c, das_read.c, das_out.c)                          */
/* ------------------------------------------------------------------------ */

enum das_conn_state {
    DAS_CONN_NEW = 0, /* waiting for CONNECT */
    DAS_CONN_AUTH,    /* CONNECT read, password being verified: reading paused */
    DAS_CONN_ACTIVE,  /* CONNACK 0 sent */
    DAS_CONN_MOVING,  /* handed to its home worker */
    DAS_CONN_CLOSING, /* uv_close issued */
};

/** One segment of the output queue: header bytes in the queue's byte buffer, then
 *  optionally the payload of a message (not copied). */
struct das_seg {
    uint32_t off, len;   /* bytes in out->bytes */
    struct das_msg *msg; /* payload to send after them, or NULL */
};

struct das_out {
    uint8_t *bytes;
    uint32_t blen, bcap;
    struct das_seg *segs;
    uint32_t nsegs, capsegs;
};

/** A write handed to uv_write: the queue as it was, owned until the callback. */
struct das_wreq {
    uv_write_t req;
    struct das_out out;
    struct das_conn *conn;
    size_t pending; /* bytes handed to uv_write */
};

struct das_conn {
    uv_tcp_t tcp;
    struct das_worker *w;
    struct das_session *session;
    uint32_t slot, generation;
    uint8_t state;                      /* enum das_conn_state */
    uint8_t refs;                       /* the handle + a pending password check */
    uint8_t move_to;                    /* DAS_CONN_MOVING: the home worker */
    uint8_t hlen;                       /* bytes in hbuf */
    uint8_t hbuf[OSAP_MQTT_HEADER_MAX]; /* a partial fixed header */
    bool is_device : 1;                 /* accepted by the device layer */
    bool disconnected : 1;              /* DISCONNECT received: no will */
    bool suppress_will : 1;             /* das_conn_close(..., 1), shutdown */
    bool reading : 1;                   /* uv_read_start active */
    bool in_flushq : 1;                 /* queued for the end-of-iteration flush */
    bool no_device : 1;                 /* judged an ordinary client already (moved twice) */
    bool throttled : 1;                 /* reading stopped: output over max_output_bytes */
    bool close_pending : 1;             /* das_conn_close(): closed at the end of the iteration */
    bool clean : 1;                     /* CONNECT clean session */
    bool held : 1;                      /* pkt holds bytes read while reading is paused */
    bool backpressured : 1;             /* reading stopped by das_conn_backpressure() */
    bool ack_stalled : 1;               /* reading stopped: too many acks held back */
    uint16_t keepalive;                 /* seconds, from CONNECT */
    uint32_t holds;                     /* sessions holding this publisher (das_flow.c) */
    /* A packet cut by the end of a read, in a buffer of exactly its total length;
     * or, while a password is checked (held), the bytes read after the CONNECT. */
    uint8_t *pkt;
    uint32_t pkt_len, pkt_cap;
    /* memory held before CONNACK, charged to connect_max_total */
    uint32_t pkt_charge; /* for pkt (a partial CONNECT, or the held bytes) */
    uint32_t preauth;    /* for the will */
    /* back-pressure (das_flow.c): the publisher's acknowledgements held back while
     * sessions hold it (holds): (type << 16) | packet id */
    uint32_t *acks;
    uint32_t nacks, capacks;
    /* output */
    struct das_out out;
    uint64_t out_bytes; /* queued + being written */
    struct das_wreq *writing;
    struct das_link flush_link;
    /* timers: a slot of the worker's timing wheel */
    struct das_link wheel_link;
    uint64_t last_rx; /* loop time (ms): of the last read once active, else of the accept */
    /* identity: client_id and username are kept only until the CONNACK */
    char *client_id;
    char *username;
    union {
        struct das_acl *acl; /* ordinary clients: NULL = anonymous */
        void *device;        /* devices: the device layer's state */
    };
    struct das_msg *will;
};

/** A connection handed over by another worker: socket @p fd (owned from now on,
 *  closed on failure) and the @p len bytes that worker read from it. */
osap_err das_conn_open_fd(struct das_worker *w, int fd, const uint8_t *data, size_t len,
                          bool no_device);
/** Accept the pending connection of worker @p w's listener. */
void das_conn_accept(struct das_worker *w);
/** Close: publish the will unless the client sent DISCONNECT or @p suppress_will,
 *  detach the session, run the device hook, flush what can be flushed, close. */
void das_conn_close_now(struct das_conn *c, const char *reason, bool suppress_will);
/** Feed bytes read from the socket. */
void das_conn_feed(struct das_conn *c, const uint8_t *data, size_t len);
/** Read again (after a password check, a throttled output, back-pressure): process
 *  the held bytes, then restart reading unless another reason still holds it. */
void das_conn_resume(struct das_conn *c);
/** Charge @p n bytes held before CONNACK (the will) to connect_max_total; false
 *  (nothing charged) when that would exceed it. Released by das_conn_preauth_done(). */
bool das_conn_preauth_charge(struct das_conn *c, size_t n);
/** The CONNECT was accepted: the will no longer counts as pre-authentication memory. */
void das_conn_preauth_done(struct das_conn *c);
/** Hand the connection to worker c->move_to with the CONNECT bytes @p raw and the
 *  bytes after them. */
void das_conn_move(struct das_conn *c, const uint8_t *raw, size_t raw_len, const uint8_t *rest,
                   size_t rest_len);
/** The keepalive/connect deadline changed: put @p c back into the timing wheel. */
void das_conn_schedule(struct das_conn *c);
void das_conn_release(struct das_conn *c);

/* Output (das_out.c) */
/** Room for @p n more header bytes; returns where to write them or NULL (ENOMEM). */
uint8_t *das_out_reserve(struct das_conn *c, size_t n);
/** Commit @p n bytes written at the pointer returned by das_out_reserve(), then the
 *  payload of @p msg (a reference is taken) when not NULL. */
osap_err das_out_commit(struct das_conn *c, size_t n, struct das_msg *msg);
/** Write what is queued now (uv_try_write, then uv_write for the rest). */
void das_out_flush(struct das_conn *c);
/** Drop the queue's references; its buffers go back to the worker's spares. */
void das_out_release(struct das_worker *w, struct das_out *o);
/** Free the worker's spare output buffers. */
void das_out_spares_free(struct das_worker *w);

/* Packet writers (das_send.c) */
osap_err das_send_connack(struct das_conn *c, bool session_present, uint8_t code);
osap_err das_send_ack(struct das_conn *c, uint8_t type, uint16_t pid);
osap_err das_send_suback(struct das_conn *c, uint16_t pid, const uint8_t *codes, size_t n);
osap_err das_send_pingresp(struct das_conn *c);
osap_err das_send_publish(struct das_conn *c, struct das_msg *m, int qos, int retain, int dup,
                          uint16_t pid);

/* Packet handlers (handle_*.c): each returns OSAP_OK, or an error that closes the
 * connection (as a protocol error: the will is published). */
osap_err das_handle_packet(struct das_conn *c, const struct osap_mqtt_header *hdr,
                           const uint8_t *body);
/* CONNECT may leave the connection in DAS_CONN_MOVING (to be handed to its home
 * worker) or DAS_CONN_AUTH (password check running; reading paused). */
osap_err das_handle_connect(struct das_conn *c, const struct osap_mqtt_header *hdr,
                            const uint8_t *body);
osap_err das_handle_publish(struct das_conn *c, const struct osap_mqtt_packet *pkt);
osap_err das_handle_puback(struct das_conn *c, const struct osap_mqtt_packet *pkt);
osap_err das_handle_pubrec(struct das_conn *c, const struct osap_mqtt_packet *pkt);
osap_err das_handle_pubrel(struct das_conn *c, const struct osap_mqtt_packet *pkt);
osap_err das_handle_pubcomp(struct das_conn *c, const struct osap_mqtt_packet *pkt);
osap_err das_handle_subscribe(struct das_conn *c, const struct osap_mqtt_packet *pkt);
osap_err das_handle_unsubscribe(struct das_conn *c, const struct osap_mqtt_packet *pkt);
osap_err das_handle_pingreq(struct das_conn *c, const struct osap_mqtt_packet *pkt);
osap_err das_handle_disconnect(struct das_conn *c, const struct osap_mqtt_packet *pkt);

/* CONNECT, second half (handle_connect.c): credentials checked; @p code 0 accepts
 * (after the will's ACL check). An error return means the connection must close
 * (a refusal CONNACK is queued). */
osap_err das_connect_finish(struct das_conn *c, uint8_t code);

/* Password checks (das_auth_pool.c): threads of the DAS's own, so that the slow
 * hash never occupies libuv's thread pool (heartbeats, the store). */
struct das_auth_job {
    struct das_mail mail; /* posted back to the worker with the result */
    struct das_auth_job *next;
    struct das_worker *w;
    void (*work)(struct das_auth_job *j); /* on an auth thread */
    bool cancelled;                       /* the DAS stopped before work() ran */
};
struct das_auth_pool;
osap_err das_auth_pool_new(uint32_t threads, uint32_t queue_max, struct das_auth_pool **out);
/** Queue @p j: work() runs on an auth thread, then j->mail runs on j->w. OSAP_EBUSY
 *  when queue_max checks wait already, OSAP_ESTATE once stopping. */
osap_err das_auth_pool_submit(struct das_auth_pool *p, struct das_auth_job *j);
/** Stop (the workers still run): jobs not started are posted back cancelled. */
void das_auth_pool_free(struct das_auth_pool *p);

/* Authentication (das_auth.c) */
/** Check user name and password of an ordinary client: the user and its ACL are
 *  read from the store now, the slow hash is verified on the libuv thread pool
 *  (the connection waits in DAS_CONN_AUTH), then das_connect_finish() runs with
 *  the CONNACK code. Returns an error (after queueing a refusal) when the
 *  connection must close at once. */
osap_err das_auth_start(struct das_conn *c, const struct osap_mqtt_connect *cp);

/* Routing (das_route.c) */
/** Route @p m (the caller keeps its reference): retained store, this worker's
 *  subscribers, other workers that may have matching subscriptions. */
void das_route(struct das_worker *w, struct das_msg *m);

/* ------------------------------------------------------------------------ */
/* Workers (das_worker.c)                                                   */
/* ------------------------------------------------------------------------ */

/* Timing wheel: 100 ms slots over 51.2 s; longer deadlines wrap and are re-checked. */
#define DAS_WHEEL_TICK_MS 100
#define DAS_WHEEL_SLOTS   512

/** Largest buffer read from a socket at once (one per worker). */
#define DAS_READ_BUF 65536

struct das_worker {
    struct das *das;
    uint32_t index;
    uv_thread_t thread;
    uv_sem_t ready;
    osap_err start_err;
    bool thread_started;
    bool stopping;
    uv_loop_t loop;
    bool loop_ready;
    uv_poll_t listener; /* readable listening socket: das_conn_accept() */
    int listen_fd;
    bool listening;
    bool accept_paused;                  /* out of descriptors: retried at the next tick */
    uint64_t refused, refused_logged_at; /* connections over max_connections */
    uv_async_t wake;                     /* mailbox */
    uv_async_t stop;                     /* stop request, first step: connections closed */
    uv_async_t finish;                   /* second step: mailbox closed, loop ends */
    uv_sem_t quiet;                      /* posted once the first step is done */
    uv_check_t check;                    /* end of I/O phase: flush */
    uv_prepare_t prepare;                /* before polling: flush (after timers) */
    uv_timer_t tick;                     /* timing wheel */
    uv_timer_t heartbeat;                /* worker 0: das_nodes */
    bool heartbeat_running;
    struct osap_store *store;
    _Atomic(struct das_mail *) inbox;
    atomic_uint pushers;             /* producers inside das_mail_push() */
    atomic_int_fast64_t outstanding; /* messages forwarded, not yet matched by targets */
    atomic_bool has_paused;
    struct das_conn_ref *paused; /* connections stopped by back-pressure */
    uint32_t npaused, cappaused;
    /* connections */
    struct das_conn **slots;
    uint32_t *gens;
    uint32_t nslots, capslots;
    uint32_t *free_slots;
    uint32_t nfree;
    struct das_link flushq;
    struct das_link holding; /* sessions holding publishers back (das_flow.c) */
    struct das_link wheel[DAS_WHEEL_SLOTS];
    uint64_t wheel_now; /* tick processed last (ms, multiple of the tick) */
    uint8_t *rbuf;
    /* spare output buffers of the smallest size (a busy connection takes and gives
     * back one per flush; idle connections hold none) */
#define DAS_OUT_SPARES 128
    uint8_t *spare_bytes[DAS_OUT_SPARES];
    struct das_seg *spare_segs[DAS_OUT_SPARES];
    uint32_t nspare_bytes, nspare_segs;
    /* sessions and subscriptions */
    struct das_session_table sessions;
    struct das_link offline; /* persistent sessions without a client, oldest first */
    struct das_trie subs;
    atomic_uint hints[DAS_HINTS];
    atomic_uint nsubs;
    uint32_t match_epoch;
    struct das_session **matched;
    size_t nmatched, capmatched;
    /* forwarding batches being built, one per worker */
    struct das_batch **outbox;
    /* persistence (das_persist.c): changes since the start (packets, deliveries, session
     * changes; this thread only), the count at the last snapshot, the snapshot taken
     * after the loop ended */
    uint64_t changes, saved_changes;
    struct das_snap *final_snap;
    /* counters */
    atomic_uint_fast64_t nconns, ndevices, msgs_in, msgs_out;
    uint64_t id_counter;
    char peerbuf[64];
};

struct das {
    struct osapd_context *ctx;
    const struct das_config *cfg;
    struct das_settings set;
    uint32_t nworkers;
    struct das_worker **workers;
    struct das_device_hooks hooks;
    bool have_hooks;
    bool device_started;
    bool registered; /* this node's das_nodes row exists */
    struct das_retain retain;
    struct das_auth_pool *auth;
    struct das_persist *persist; /* NULL: [das] persistence = no */
    atomic_bool stopping;
    atomic_uint_fast64_t nconns_total;
    atomic_uint_fast64_t preauth_bytes;    /* charged to connect_max_total */
    atomic_uint_fast64_t offline_sessions; /* persistent sessions without a client */
    int port;                              /* the port actually listened on */
    char node_id[64];
};

/** Create worker @p index (loop, handles, listening socket on @p fd). */
osap_err das_worker_new(struct das *das, uint32_t index, int fd, struct das_worker **out);
osap_err das_worker_run(struct das_worker *w);
/** Stop in two steps, so that messages in transit between workers reach their
 *  sessions (and the saved state): das_worker_request_stop() closes the listener and
 *  the connections and posts what is forwarded; once das_worker_wait_quiet() returned
 *  for every worker, nothing new is routed, and das_worker_request_finish() closes
 *  the mailbox (running what is left) and ends the loop. */
void das_worker_request_stop(struct das_worker *w);
void das_worker_wait_quiet(struct das_worker *w);
void das_worker_request_finish(struct das_worker *w);
void das_worker_join(struct das_worker *w);
void das_worker_free(struct das_worker *w);
/** Queue @p c for the end-of-iteration flush. */
void das_worker_want_flush(struct das_worker *w, struct das_conn *c);
/** Register/unregister a connection in the worker's slot table. */
osap_err das_worker_slot_add(struct das_worker *w, struct das_conn *c);
void das_worker_slot_remove(struct das_worker *w, struct das_conn *c);
/** Put @p c into the wheel slot of @p deadline (ms, loop time). */
void das_worker_wheel_add(struct das_worker *w, struct das_conn *c, uint64_t deadline);
/** A fresh client identifier whose home is worker @p w ("osap-<hex>"). */
void das_worker_assign_id(struct das_worker *w, char *out, size_t cap);

/* das_node.c: the das_nodes row of this node */
/** Write the row now, on the calling thread (start). */
osap_err das_node_register(struct das *das);
/** Refresh the row from worker @p w, on the libuv thread pool. */
void das_node_heartbeat(struct das_worker *w);
/** Remove the row, on the calling thread (stop, after the workers ended). */
void das_node_remove(struct das *das);

/* das_persist.c: retained messages and persistent client sessions across restarts
 * (docs/ARCHITECTURE.md, "DAS service", Persistence) */
struct das_snap;
/** Open the state file and restore what it holds into the workers (created, not
 *  running yet) and the retained store. No-op with persistence = no. A damaged
 *  file is set aside (the DAS starts empty); OSAP_ESTORE_SCHEMA for a newer one. */
osap_err das_persist_load(struct das *das);
/** Start the autosave thread (after the workers run). */
osap_err das_persist_run(struct das *das);
/** Stop the autosave thread (the workers still run). */
void das_persist_stop(struct das *das);
/** On worker @p w's thread once its loop ended: serialise its persistent sessions. */
void das_persist_worker_final(struct das_worker *w);
/** After the workers were joined: write the final snapshot. */
void das_persist_save_final(struct das *das);
/** Free the state of a worker's final snapshot (das_worker_free()). */
void das_persist_snap_free(struct das_snap *snap);
/** Close the state file and free everything. */
void das_persist_free(struct das *das);

/** FNV-1a, the hash of session keys and trie levels. */
static inline uint32_t das_hash(const void *p, size_t len, uint32_t seed)
{
    const uint8_t *b = p;
    uint32_t h = 2166136261u ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= b[i];
        h *= 16777619u;
    }
    return h;
}

#endif /* OSAPD_DAS_INTERNAL_H */
