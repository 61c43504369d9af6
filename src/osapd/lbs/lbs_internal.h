/*
 * Internal to the LBS service (the .c files of src/osapd/lbs): the service state, one
 * connection, and the functions the files share. See lbs.h for the model.
 *
 * Who touches what:
 *   - struct osapd_lbs: set up in osapd_lbs_start(); afterwards the loop thread owns
 *     the loop, the connection lists, the budgets and the address counts; pool
 *     threads use only the read-only settings, the hooks, the key source (locked),
 *     the store slots (locked list, one slot per pool thread) and the commit mutex;
 *     the counters are atomics that any thread may read.
 *   - struct lbs_conn: owned by the loop thread, except while its frame is in
 *     flight (state CONN_WORKING): then the pool thread running it owns the state
 *     machine and the fields marked "work" until the after-work callback runs on
 *     the loop.
 */
#ifndef OSAPD_LBS_INTERNAL_H
#define OSAPD_LBS_INTERNAL_H

#include "lbs/lbs.h"
#include "lbs/lbs_config.h"
#include "osap/lbs.h"
#include "osap/lbs_handshake.h"
#include "store.h"
#include "store_lbs.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/** Log component of the service. */
#define LBS_LOG "lbs"

/** Longest key of the address and serial tables (an IPv6 literal, or a subserial). */
#define LBS_KEY_MAX (OSAP_SUBSERIAL_MAX + 1)

/** Text form of a peer address (IPv6 literal at most), NUL included. */
#define LBS_PEER_MAX 48

/* ------------------------------------------------------------------------ */
/* lbs_table.c: string-keyed table with a size limit and LRU eviction       */
/* ------------------------------------------------------------------------ */

struct lbs_table;

/** A table of entries with @p payload_size bytes each (zeroed when created), at most
 *  @p max_entries of them (0 = no limit). The hash is seeded from the CSPRNG. */
osap_err lbs_table_new(size_t payload_size, size_t max_entries, struct lbs_table **out);
void lbs_table_free(struct lbs_table *t);

/** The payload of @p key, or NULL. Marks the entry as used most recently. */
void *lbs_table_find(struct lbs_table *t, const char *key);

/** The payload of @p key, created (zeroed; *@p created = true) when missing. When the
 *  table is full the least recently used entry is forgotten first. NULL when out of
 *  memory. Keys longer than LBS_KEY_MAX - 1 bytes are cut. */
void *lbs_table_get(struct lbs_table *t, const char *key, bool *created);

/** Forget @p key (no-op when missing). */
void lbs_table_remove(struct lbs_table *t, const char *key);

/** Number of entries. */
size_t lbs_table_count(const struct lbs_table *t);

/* ------------------------------------------------------------------------ */
/* lbs_budget.c: attempt budgets (token buckets with growing refusals)      */
/* ------------------------------------------------------------------------ */

/** A budget: @p failures per @p window_ms, refill continuous; when spent, refuse
 *  for @p refusal_ms, doubled on each further refusal (at most @p refusal_max_ms)
 *  until a whole window passes without one. */
struct lbs_budget_config {
    int64_t failures;
    int64_t window_ms;
    int64_t refusal_ms;
    int64_t refusal_max_ms;
    size_t entries; /* keys tracked at most */
};

struct lbs_budget;

osap_err lbs_budget_new(const struct lbs_budget_config *cfg, struct lbs_budget **out);
void lbs_budget_free(struct lbs_budget *b);

/** 0 when @p key may try at @p now (ms, monotonic); otherwise the milliseconds
 *  left of its refusal. */
int64_t lbs_budget_refused(struct lbs_budget *b, const char *key, int64_t now);

/** Like lbs_budget_refused(), but also refuses while the attempts already under
 *  way could spend the rest of the budget; an admitted attempt is counted as under
 *  way until lbs_budget_done(). Returns 0 (admitted) or the milliseconds to wait
 *  (at least 1). */
int64_t lbs_budget_admit(struct lbs_budget *b, const char *key, int64_t now);

/** An admitted attempt of @p key ended; @p failed counts it as a failure. Returns
 *  the refusal it starts, as lbs_budget_fail(). */
int64_t lbs_budget_done(struct lbs_budget *b, const char *key, int64_t now, bool failed);

/** Count one failure of @p key at @p now. Returns the length of the refusal this
 *  failure starts (0 = the budget is not spent). */
int64_t lbs_budget_fail(struct lbs_budget *b, const char *key, int64_t now);

/** Forget @p key's failures (it proved it knows its code). */
void lbs_budget_forgive(struct lbs_budget *b, const char *key);

/** Keys tracked now. */
size_t lbs_budget_count(const struct lbs_budget *b);

/* ------------------------------------------------------------------------ */
/* lbs_keys.c: the server's ECDH key pairs, reused within bounds            */
/* ------------------------------------------------------------------------ */

struct lbs_keys;

/** A key source handing one key pair to at most @p uses handshakes and for at
 *  most @p lifetime_ms, plus at most @p slack more while its successor is being
 *  generated; key pairs come from osap_p384_generate(@p rng). */
osap_err lbs_keys_new(int64_t uses, int64_t lifetime_ms, int64_t slack, const struct osap_rng *rng,
                      struct lbs_keys **out);

/** Free the source; every acquired key must have been released. NULL is a no-op. */
void lbs_keys_free(struct lbs_keys *k);

/** The key pair for one handshake (thread-safe); @p keys is the struct lbs_keys.
 *  Signature of struct osap_lbs_server_callbacks.key_acquire. */
osap_err lbs_keys_acquire(void *keys, osap_p384_key **key);

/** Give back a key pair from lbs_keys_acquire() (thread-safe). */
void lbs_keys_release(void *keys, osap_p384_key *key);

/** Key pairs generated so far. */
uint64_t lbs_keys_generated(const struct lbs_keys *k);

/* ------------------------------------------------------------------------ */
/* The service                                                              */
/* ------------------------------------------------------------------------ */

/** A pool thread's store handle, opened on that thread at its first frame. */
struct lbs_slot {
    struct osap_store *store;
    struct lbs_slot *next;
};

/** Counters (atomics: written on the loop thread, read anywhere). */
struct lbs_counters {
    atomic_uint_fast64_t accepted, open, refused_limit, evicted, refused_address, refused_serial,
        timeouts, frames;
    atomic_uint_fast64_t results[4][OSAPD_LBS_RESULTS];
};

struct lbs_conn;

/** A doubly linked list of connections through one pair of link fields. */
struct lbs_conn_list {
    struct lbs_conn *head, *tail;
    size_t n;
};

struct osapd_lbs {
    struct osapd_context *ctx;
    const struct lbs_config *cfg;
    struct osapd_lbs_hooks hooks;
    struct lbs_keys *keys; /* NULL when the hooks provide key pairs */
    int port;

    /* Loop thread */
    uv_thread_t thread;
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_async_t wakeup; /* stop requests */
    uv_timer_t stats_timer;
    uv_timer_t stop_timer;
    atomic_bool stop_requested;
    bool stopping;
    bool finished;                /* the service's own handles are closing */
    struct lbs_conn_list conns;   /* every open connection */
    struct lbs_conn_list idle;    /* those that have not sent a whole frame yet, oldest first */
    struct lbs_table *per_addr;   /* address -> open connections (size_t) */
    struct lbs_budget *by_addr;   /* address -> failure budget */
    struct lbs_budget *by_serial; /* serial -> failure budget */
    uv_tcp_t spare;               /* accepts (and closes) a connection when out of memory */
    bool spare_busy;
    char scratch[4096];   /* input discarded while lingering */
    int64_t log_second;   /* refusal log rate limit: current second */
    unsigned log_lines;   /* refusal lines logged in it */
    uint64_t log_dropped; /* refusal lines not logged since the last summary */

    /* Pool threads */
    pthread_key_t slot_key;
    pthread_mutex_t slots_mu;
    struct lbs_slot *slots;
    pthread_mutex_t commit_mu; /* one LBS commit at a time: no SQLite busy waits */

    struct lbs_counters counters;
};

/** Connection states. */
enum lbs_conn_state {
    CONN_READING, /* waiting for (the rest of) a frame; the step timer runs */
    CONN_WORKING, /* a frame is in the pool */
    CONN_WRITING, /* an answer is being written */
    CONN_LINGER,  /* our side is shut down; discarding input until the device closes */
    CONN_CLOSING, /* handles are closing */
};

/** One device connection. */
struct lbs_conn {
    struct osapd_lbs *lbs;
    uv_tcp_t tcp;
    uv_timer_t timer; /* step timeout, then linger */
    uv_work_t work;
    uv_write_t write_req;
    uv_shutdown_t shutdown_req;
    int open_handles;
    enum lbs_conn_state state;
    bool close_after_work; /* a close was asked for while the frame was in the pool */
    bool seen_frame;       /* a whole frame arrived (no longer idle) */
    bool in_idle;
    bool reading;
    bool serial_admitted;    /* holds a reservation of the serial budget (c->serial) */
    char peer[LBS_PEER_MAX]; /* address text, without the port */
    int peer_port;
    uint64_t accepted_at;                   /* uv_now() at accept */
    struct lbs_conn *prev, *next;           /* lbs->conns */
    struct lbs_conn *idle_prev, *idle_next; /* lbs->idle */

    osap_lbs_server_t *machine;
    uint8_t *rx; /* max_frame bytes */
    size_t rx_len;
    size_t frame_len; /* length of the frame at rx[0] handed to the pool */

    /* work: written on the pool thread, read by the after-work callback */
    struct osap_lbs_step step;
    osap_err feed_err;
    uint8_t tx[OSAP_LBS_OUT_MAX];
    size_t tx_len;
    struct lbs_slot *slot;
    bool have_dev; /* dev holds the record found by the lookup */
    struct osap_device dev;
    char serial[OSAP_SUBSERIAL_MAX + 1]; /* the subserial the device named */
    bool have_das;                       /* das: chosen at commit */
    struct osap_lbs_das_info das;
    char das_node[OSAP_NODE_ID_MAX + 1];
    uint8_t path; /* 'A', 'B', 'C' once committed */
};

/* lbs_service.c */
/** When stopping and the last connection has gone: close the service's handles,
 *  which ends the loop. */
void lbs_service_maybe_done(struct osapd_lbs *lbs);

/* lbs_accept.c */
/** The listener's connection callback: admission (limits, budgets), then
 *  lbs_conn_start(). */
void lbs_on_connection(uv_stream_t *server, int status);
/** A connection from @p peer has closed (the per-address count). */
void lbs_addr_release(struct osapd_lbs *lbs, const char *peer);

/* lbs_conn.c */
/** Set up a connection that was accepted into @p c->tcp (handles initialised,
 *  counted, in both lists) and start reading. */
void lbs_conn_start(struct lbs_conn *c);
/** Close @p c now (after the frame in the pool, if any). */
void lbs_conn_close(struct lbs_conn *c);
/** The frame handed to the pool has been handled: send its answer, then go on. */
void lbs_conn_after_work(struct lbs_conn *c);
/** Send @p len bytes of @p c->tx (an answer made on the loop: a refusal) and close. */
void lbs_conn_answer_and_close(struct lbs_conn *c, size_t len);
/** List helpers (@p idle selects the idle links). */
void lbs_list_push(struct lbs_conn_list *l, struct lbs_conn *c, bool idle);
void lbs_list_remove(struct lbs_conn_list *l, struct lbs_conn *c, bool idle);

/* lbs_work.c */
/** Hand the frame at c->rx (c->frame_len bytes) to the pool. */
osap_err lbs_work_queue(struct lbs_conn *c);
/** Close every pool thread's store handle (after the last frame). */
void lbs_work_close_slots(struct osapd_lbs *lbs);

/* lbs_store.c */
/** The state machine's callbacks for connections of @p lbs (userdata: the conn). */
void lbs_store_callbacks(const struct osapd_lbs *lbs, struct osap_lbs_server_callbacks *cb);

/* lbs_stats.c */
/** Account for the outcome of the frame just handled (counters, budgets, log). */
void lbs_stats_outcome(struct lbs_conn *c);
/** Log a refusal (rate-limited: bursts are summarised). */
void lbs_stats_refusal(struct osapd_lbs *lbs, const char *reason, const char *peer,
                       const char *serial, int64_t for_ms);
/** Start the periodic debug log of the counters (no-op when stats_interval is 0). */
void lbs_stats_start(struct osapd_lbs *lbs);
/** Log the counters once at @p level (enum osap_log_level). */
void lbs_stats_log(struct osapd_lbs *lbs, int level);

#endif /* OSAPD_LBS_INTERNAL_H */
