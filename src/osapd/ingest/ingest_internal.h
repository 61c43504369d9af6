/*
 * Internal to ingest (src/osapd/ingest/): the object, the queued record and the
 * functions shared by its files: ingest.c (queue, thread, life cycle),
 * ingest_apply.c (one record -> the store), ingest_listen.c (listeners).
 */
#ifndef OSAPD_INGEST_INTERNAL_H
#define OSAPD_INGEST_INTERNAL_H

#include "ingest/ingest.h"

#include <pthread.h>
#include <stdbool.h>

/** A queued record: the submitted record with its strings copied behind it. */
struct ingest_item {
    struct ingest_item *next;
    struct ingest_record rec; /* strings point into text[] */
    ingest_done_cb done;
    void *userdata;
    size_t size;  /* bytes of this allocation (queue accounting) */
    osap_err err; /* outcome, set by the thread */
    bool duplicate;
    int64_t id; /* events.id */
    char text[];
};

struct ingest_listener {
    ingest_listener_cb cb;
    void *userdata;
    int handle; /* 0 = free slot */
};

struct ingest {
    struct ingest_config cfg; /* strings not owned (synchronous is copied below) */
    struct osap_store_config store_cfg;
    char synchronous[8];
    char *data_dir;

    pthread_mutex_t lock; /* queue, flags, counters */
    pthread_cond_t wake;  /* the thread: records queued or stopping */
    pthread_cond_t started;
    struct ingest_item *head, *tail;
    uint64_t queued, queued_bytes;
    bool stopping;
    bool open_done; /* the thread tried to open its store */
    osap_err open_err;
    pthread_t thread;
    struct osap_store *st; /* the thread's own */

    pthread_mutex_t listen_lock; /* held while listeners run */
    struct ingest_listener listeners[INGEST_LISTENERS_MAX];
    int next_handle;

    struct ingest_stats stats; /* under lock */
};

/** Write @p it to the store inside the open transaction; sets it->err, ->duplicate
 *  and ->id. Returns OSAP_OK unless the transaction itself is broken (then the
 *  batch must be rolled back). */
osap_err osap__ingest_apply(struct ingest *ing, struct osap_store *st, struct ingest_item *it);

/** Tell the listeners about the committed records of a batch. */
void osap__ingest_notify(struct ingest *ing, struct ingest_item *batch);

#endif /* OSAPD_INGEST_INTERNAL_H */
