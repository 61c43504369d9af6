/*
 * Ingest: the Event Service's write path. The DAS hands it every decrypted device
 * record that must be stored; ingest writes them in batches (group commit) on its
 * own thread with its own store handle, and only then reports completion, so the
 * DAS acknowledges a device's event (PUBACK) after it is durable. Listeners (the
 * api's live streams) are told about records after they are committed.
 *
 * Thread-safety: ingest_submit_*() may be called from any thread and never block
 * on the database (they enqueue; OSAP_EBUSY when the queue is at its ceiling, so
 * the DAS can stop reading from that device instead of growing memory).
 * Completion and listener callbacks run on the ingest thread: they must be quick
 * and must not call ingest synchronously.
 *
 * Group commit: the thread takes everything queued (at most [ingest] max_batch
 * records; after the first record of a batch it waits at most [ingest]
 * batch_delay for more), writes it in ONE transaction, commits, and then runs the
 * completions in submission order, then the listeners. A failed commit fails
 * every record of the batch (their completions get the error).
 *
 * Durability: the ingest store handle runs with [ingest] synchronous. "full" (the
 * default): a committed batch survives a crash of the process and of the
 * operating system or a power loss (SQLite syncs the WAL at every commit).
 * "normal": a committed batch survives a crash of the process; the last batches
 * may be lost when the host itself crashes. Completions run only after the
 * commit, so with "full" an acknowledged event is never lost.
 *
 * Duplicates: events are stored once per (serial, uuid); an event without uuid
 * once per (serial, seq) among the UUID-less events of the device received since
 * max(rec.dedup_since_ms, receipt - [ingest] dedup_window) (see store_events.h).
 * A duplicate completes with OSAP_OK and duplicate = 1 and is not shown to
 * listeners again.
 *
 * Life cycle: the DAS device layer starts ingest (ingest_new) when the DAS starts
 * and frees it when the DAS stops (after its workers are joined); the platform
 * finds it with osapd_das_ingest() (das_api.h). ingest_free() commits what is
 * queued and runs every completion before it returns.
 */
#ifndef OSAPD_INGEST_H
#define OSAPD_INGEST_H

#include "config.h"
#include "osap/err.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

struct ingest;

/** Kinds of records. */
enum ingest_kind {
    INGEST_EVENT = 1,     /* model/event/report: stored once per (serial, uuid or seq) */
    INGEST_ATTRIBUTE = 2, /* basic/shadow/report or model/attribute/report: last value wins */
    INGEST_STATUS = 3,    /* online/offline change: devices.online, last_seen, address */
    INGEST_REPLY = 4,     /* a device reply to a platform request: listeners only (the
                             request's outcome is the caller's; nothing is written) */
};

/** One record. All strings are copied by ingest_submit() before it returns. */
struct ingest_record {
    enum ingest_kind kind;
    const char *serial;
    const char *child;    /* "global" for the device itself (NULL = "global") */
    const char *resource; /* "<index>-<category>" (NULL = "0-global") */
    const char *domain;
    const char *identifier;
    const char *payload_json; /* event body / attribute value / reply body (JSON text) */
    const char *uuid;         /* event basic.UUID when present, else NULL */
    uint32_t seq;             /* the envelope Seq */
    int64_t version;          /* attribute version, -1 when absent */
    int level;                /* event level when present, else 0 */
    int64_t device_time_ms;   /* event basic.dateTime as ms since the epoch, 0 = none */
    int online;               /* INGEST_STATUS: 1 online, 0 offline */
    const char *address;      /* INGEST_STATUS: peer address */
    const char *firmware;     /* INGEST_STATUS: FirmwareVersion from the registration */
    const char *model;        /* INGEST_STATUS: DevType from the registration */
    /* Added with the implementation: */
    const char *node;       /* INGEST_STATUS: the DAS node id (NULL = unchanged) */
    int64_t dedup_since_ms; /* INGEST_EVENT without uuid: earliest receipt time of a
                               stored copy (the start of the device's SDK session);
                               0 = the dedup window alone */
    int64_t received_ms;    /* server time of receipt; 0 = when submitted */
    const char *invalid;    /* INGEST_EVENT, INGEST_ATTRIBUTE: why the value does not match
                               the device's thing model (stored with it, marked); NULL =
                               it matches, or the device has no model */
};

/** Called once per submitted record after its transaction committed (err = OSAP_OK)
 *  or failed (err != OSAP_OK: the DAS must not acknowledge). For an event that was
 *  already stored (a redelivery), err is OSAP_OK and @p duplicate is 1. */
typedef void (*ingest_done_cb)(osap_err err, int duplicate, void *userdata);

/** Queue @p rec; @p done may be NULL (fire and forget). OSAP_EINVAL for a record
 *  without serial (or, for events and attributes, without domain, identifier or
 *  payload), OSAP_EBUSY when the queue is at its ceiling ([ingest] queue_max
 *  records or queue_max_bytes bytes), OSAP_ESTATE once ingest is stopping,
 *  OSAP_ENOMEM. On error @p done is not called. */
osap_err ingest_submit(struct ingest *ing, const struct ingest_record *rec, ingest_done_cb done,
                       void *userdata);

/** A committed record, as listeners see it (valid during the callback only). */
struct ingest_committed {
    const struct ingest_record *rec;
    int64_t id;          /* events.id for events, 0 otherwise */
    int64_t received_ms; /* server time of receipt */
};

typedef void (*ingest_listener_cb)(const struct ingest_committed *c, void *userdata);

/** Register a listener for committed records (events, attributes, status changes,
 *  replies). Returns a handle for ingest_unlisten(). OSAP_EBUSY beyond
 *  INGEST_LISTENERS_MAX listeners. */
osap_err ingest_listen(struct ingest *ing, ingest_listener_cb cb, void *userdata, int *handle);

/** Remove a listener. When it returns, the callback is not running and will not be
 *  called again (so its userdata may be freed). Not from inside a callback. */
void ingest_unlisten(struct ingest *ing, int handle);

/** Most listeners at once. */
#define INGEST_LISTENERS_MAX 64

/* ------------------------------------------------------------------------ */
/* Settings, life cycle, counters                                           */
/* ------------------------------------------------------------------------ */

/** Values of [ingest]. */
struct ingest_config {
    int64_t queue_max;        /* records waiting at most */
    uint64_t queue_max_bytes; /* bytes of queued records at most */
    int64_t max_batch;        /* records per transaction at most */
    int64_t batch_delay;      /* ms to wait for more records after the first */
    char *synchronous;        /* "full" or "normal" */
    int64_t dedup_window;     /* ms: UUID-less events are duplicates within it */
};

/** The [ingest] table. */
extern const struct osap_cfg_table ingest_config_table;

/** Start ingest: a thread that opens its own store handle (@p store_cfg with
 *  synchronous replaced by cfg->synchronous) on the database below @p data_dir.
 *  Returns once the handle is open; its error otherwise. @p cfg, @p store_cfg and
 *  @p data_dir are copied as needed. */
osap_err ingest_new(const struct ingest_config *cfg, const struct osap_store_config *store_cfg,
                    const char *data_dir, struct ingest **out);

/** Stop: new submissions fail with OSAP_ESTATE, everything queued is committed and
 *  completed, the thread is joined and everything freed. NULL is a no-op. */
void ingest_free(struct ingest *ing);

/** Counters (approximate when read while ingest runs). */
struct ingest_stats {
    uint64_t submitted;  /* records accepted by ingest_submit() */
    uint64_t committed;  /* records written (duplicates included) */
    uint64_t duplicates; /* events that were already stored */
    uint64_t failed;     /* records completed with an error */
    uint64_t rejected;   /* submissions refused with OSAP_EBUSY */
    uint64_t batches;    /* transactions committed */
    uint64_t largest_batch;
    uint64_t queued;  /* records waiting now */
    uint64_t invalid; /* events and attributes stored with an invalid mark */
};
void ingest_stats(struct ingest *ing, struct ingest_stats *out);

#endif /* OSAPD_INGEST_H */
