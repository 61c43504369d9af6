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
 */
#ifndef OSAPD_INGEST_H
#define OSAPD_INGEST_H

#include "osap/err.h"

#include <stddef.h>
#include <stdint.h>

struct ingest;

/** Kinds of records. */
enum ingest_kind {
    INGEST_EVENT = 1,     /* model/event/report: stored once per (serial, uuid or seq) */
    INGEST_ATTRIBUTE = 2, /* basic/shadow/report or model/attribute/report: last value wins */
    INGEST_STATUS = 3,    /* online/offline change: devices.online, last_seen, address */
    INGEST_REPLY = 4,     /* a device reply to a platform request (for the request log) */
};

/** One record. All strings are copied by ingest_submit() before it returns. */
struct ingest_record {
    enum ingest_kind kind;
    const char *serial;
    const char *child;        /* "global" for the device itself */
    const char *resource;     /* "<index>-<category>" */
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
};

/** Called once per submitted record after its transaction committed (err = OSAP_OK)
 *  or failed (err != OSAP_OK: the DAS must not acknowledge). For an event that was
 *  already stored (a redelivery), err is OSAP_OK and @p duplicate is 1. */
typedef void (*ingest_done_cb)(osap_err err, int duplicate, void *userdata);

/** Queue @p rec; @p done may be NULL (fire and forget). */
osap_err ingest_submit(struct ingest *ing, const struct ingest_record *rec, ingest_done_cb done,
                       void *userdata);

/** A committed record, as listeners see it (valid during the callback only). */
struct ingest_committed {
    const struct ingest_record *rec;
    int64_t id;          /* events.id for events, 0 otherwise */
    int64_t received_ms; /* server time of receipt */
};

typedef void (*ingest_listener_cb)(const struct ingest_committed *c, void *userdata);

/** Register a listener for committed records (events, attributes, status changes).
 *  Returns a handle for ingest_unlisten(). */
osap_err ingest_listen(struct ingest *ing, ingest_listener_cb cb, void *userdata, int *handle);
void ingest_unlisten(struct ingest *ing, int handle);

#endif /* OSAPD_INGEST_H */
