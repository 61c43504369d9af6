/*
 * Store: device events (table events), written by ingest (model/event/report)
 * and read by the platform. See store.h for the threading rule and the error
 * conventions.
 *
 * Duplicates: a device may send an event twice (a publish re-sent after a
 * reconnection). An event with a UUID (the TSL layer adds basic.UUID) is stored
 * once per (serial, uuid). An event without one is stored once per (serial, seq)
 * among the UUID-less events of that device received since a caller-given time
 * (ingest passes the start of the device's SDK session, bounded by a window:
 * device Seq values restart at 1 when the device software restarts).
 */
#ifndef OSAP_SERVER_STORE_EVENTS_H
#define OSAP_SERVER_STORE_EVENTS_H

#include "osap/err.h"

#include <stdbool.h>
#include <stdint.h>

struct osap_store;

/* Limits of the text columns of events, attributes and desired values (bytes). */
#define OSAP_STORE_CHILD_MAX    72  /* sub-device serial or "global" (topic level) */
#define OSAP_STORE_RESOURCE_MAX 129 /* "<rid>-<rtype>" */
#define OSAP_STORE_KEY_MAX      127 /* domain and identifier */
#define OSAP_EVENT_UUID_MAX     64
#define OSAP_STORE_INVALID_MAX  255 /* the reason an event or a report is marked with */

/** One event. As input every string but uuid is required; as output (list
 *  callbacks) the strings point into the store and live during the callback. */
struct osap_event {
    int64_t id; /* output only */
    const char *serial;
    const char *child;    /* "global" for the device itself */
    const char *resource; /* "<rid>-<rtype>", e.g. "0-global" */
    const char *domain;
    const char *identifier;
    int64_t seq;         /* the envelope Seq, 0..4294967295; -1 = none */
    const char *uuid;    /* basic.UUID; NULL or "" = none */
    int level;           /* 0 when the device gave none */
    const char *payload; /* the event body (JSON text) */
    int64_t device_time; /* basic.dateTime, ms since the epoch; 0 = none */
    int64_t received_at; /* when the DAS received it */
    const char *invalid; /* why the payload does not match the device's thing model;
                            NULL or "" = it matches, or it was not checked */
};

/** Which events osap_store_event_list() visits: newest first (by id) unless
 *  oldest_first. Zero/NULL/false members do not filter. */
struct osap_event_filter {
    const char *serial;
    const char *domain;
    const char *identifier;
    int64_t since;     /* received_at >= since */
    int64_t until;     /* received_at < until (0 = no bound) */
    int64_t before_id; /* id < before_id (paging; 0 = from the newest) */
    int64_t after_id;  /* id > after_id (catching up; 0 = no bound) */
    uint32_t limit;    /* 0 = no limit */
    bool by_level;     /* only events whose level is @c level */
    int level;
    int invalid;       /* enum osap_filter_flag (store_devices.h): YES = marked only,
                          NO = unmarked only */
    bool oldest_first; /* visit by ascending id instead (catching up after after_id) */
};

/** Store @p ev unless it is already stored (see the rules above; without a uuid,
 *  @p dedup_since bounds the search and ev->seq must be set, else no duplicate
 *  check is made). @p id (may be NULL) receives the id of the new row or of the
 *  copy already stored; @p duplicate (may be NULL) whether it was already stored.
 *  OSAP_ENOTFOUND when the device does not exist, OSAP_EINVAL for a value that
 *  breaks a limit. */
osap_err osap_store_event_add(struct osap_store *st, const struct osap_event *ev,
                              int64_t dedup_since, int64_t *id, bool *duplicate);

/** Call @p fn for each event matching @p filter (NULL = all), newest first. A
 *  non-OK return from @p fn stops the walk and is returned; @p fn must not use
 *  @p st. */
osap_err osap_store_event_list(struct osap_store *st, const struct osap_event_filter *filter,
                               osap_err (*fn)(const struct osap_event *ev, void *userdata),
                               void *userdata);

/** Delete the events received before @p before; @p count (may be NULL) receives
 *  how many (retention). */
osap_err osap_store_event_prune(struct osap_store *st, int64_t before, uint64_t *count);

/** Backend operations behind the functions above (arguments already validated). */
struct osap_store_event_ops {
    osap_err (*add)(struct osap_store *st, const struct osap_event *ev, int64_t dedup_since,
                    int64_t *id, bool *duplicate);
    osap_err (*list)(struct osap_store *st, const struct osap_event_filter *filter,
                     osap_err (*fn)(const struct osap_event *ev, void *userdata), void *userdata);
    osap_err (*prune)(struct osap_store *st, int64_t before, uint64_t *count);
};

#endif /* OSAP_SERVER_STORE_EVENTS_H */
