/*
 * The saved state of the DAS (retained messages and persistent MQTT sessions, see
 * docs/ARCHITECTURE.md, "DAS service", Persistence): the binary form of one
 * session (store_das_state_codec.c) and the SQLite file that holds the snapshot
 * (store_das_state_file.c, das_state.db under data_dir; not the main store).
 */
#ifndef OSAP_SERVER_STORE_DAS_STATE_H
#define OSAP_SERVER_STORE_DAS_STATE_H

#include "osap/err.h"

#include <stddef.h>
#include <stdint.h>

/** Format version of the session blob (its first byte) and of the file. */
#define OSAP_DAS_STATE_VERSION 1

/** Outgoing in-flight states (as the DAS keeps them). */
enum osap_das_state_inflight {
    OSAP_DAS_STATE_WAIT_PUBACK = 1,  /* QoS 1 sent */
    OSAP_DAS_STATE_WAIT_PUBREC = 2,  /* QoS 2 sent */
    OSAP_DAS_STATE_WAIT_PUBCOMP = 3, /* PUBREL sent: no message any more */
};

/** A message of a session (in flight or queued). Views: the bytes belong to the
 *  caller (encode) or to the decoded blob (decode). */
struct osap_das_state_item {
    const char *topic; /* NULL only for OSAP_DAS_STATE_WAIT_PUBCOMP */
    const uint8_t *payload;
    uint32_t payload_len;
    uint16_t topic_len;
    uint16_t pid;    /* in flight: its packet id (not 0); queued: 0 */
    uint8_t qos;     /* the QoS it is (to be) sent with */
    uint8_t state;   /* in flight: enum osap_das_state_inflight; queued: 0 */
    uint8_t retain;  /* the RETAIN flag it is sent with (0/1) */
    uint8_t pub_qos; /* the QoS it was published with */
};

/** A subscription. */
struct osap_das_state_sub {
    const char *filter;
    uint16_t len;
    uint8_t qos;
};

/** The state of one persistent session (without its client id, the row's key). */
struct osap_das_session_state {
    uint16_t next_pid;
    uint32_t nsubs, nrel, ninflight, nqueued;
    struct osap_das_state_sub *subs;
    uint16_t *rel;                        /* incoming QoS 2 packet ids awaiting PUBREL */
    struct osap_das_state_item *inflight; /* in send order */
    struct osap_das_state_item *queued;   /* in order */
};

/** Encode @p st into a new buffer (*out, *out_len; free with osap_free()).
 *  OSAP_EINVAL when a field is out of range (QoS > 2, packet id 0, ...). */
osap_err osap_das_state_encode(const struct osap_das_session_state *st, uint8_t **out,
                               size_t *out_len);

/** Decode @p len bytes at @p blob into @p out, whose strings and payloads point into
 *  @p blob (keep it while @p out is used); release with osap_das_state_release().
 *  Every count is checked against the bytes left and every field against its
 *  range: OSAP_EINVAL for a malformed or truncated blob, OSAP_ESTORE_SCHEMA for
 *  another version, OSAP_ETRAILING for bytes after the end. */
osap_err osap_das_state_decode(const uint8_t *blob, size_t len, struct osap_das_session_state *out);

/** Free the arrays of a state filled by osap_das_state_decode(). */
void osap_das_state_release(struct osap_das_session_state *st);

/* ------------------------------------------------------------------------ */
/* The file                                                                 */
/* ------------------------------------------------------------------------ */

/** An open state file. Used by one thread at a time. */
struct osap_das_state_db;

/** Open (creating it if needed) the state file @p path. OSAP_ESTORE_SCHEMA when its
 *  format version is newer than OSAP_DAS_STATE_VERSION; OSAP_ESTORE when it is not
 *  a readable OSAP state file or fails SQLite's integrity check (the file is left
 *  as it is: see osap_das_state_set_aside()). */
osap_err osap_das_state_open(const char *path, struct osap_das_state_db **out);

/** Close @p db (NULL is ignored). */
void osap_das_state_close(struct osap_das_state_db *db);

/** Rename the damaged file @p path (and its journal) to @p path ".corrupt",
 *  replacing an older one. */
osap_err osap_das_state_set_aside(const char *path);

/** Callbacks of osap_das_state_load(); the views are valid during the call only.
 *  A callback's error stops the load and is returned. */
struct osap_das_state_visitor {
    osap_err (*retained)(void *ctx, const char *topic, size_t topic_len, const uint8_t *payload,
                         size_t len, int qos);
    osap_err (*session)(void *ctx, const char *client_id, size_t id_len, const uint8_t *blob,
                        size_t len);
};

/** Read every retained message, then every session. OSAP_ESTORE on a read error. */
osap_err osap_das_state_load(struct osap_das_state_db *db, const struct osap_das_state_visitor *v,
                             void *ctx);

/** Start the transaction of a snapshot. */
osap_err osap_das_state_begin(struct osap_das_state_db *db);
/** Commit it. */
osap_err osap_das_state_commit(struct osap_das_state_db *db);
/** Abandon it. */
void osap_das_state_rollback(struct osap_das_state_db *db);
/** Remove every retained message. */
osap_err osap_das_state_clear_retained(struct osap_das_state_db *db);
/** Add a retained message. */
osap_err osap_das_state_put_retained(struct osap_das_state_db *db, const char *topic,
                                     size_t topic_len, const uint8_t *payload, size_t len, int qos);
/** Remove the sessions saved by worker @p worker, or every session when it is < 0. */
osap_err osap_das_state_clear_sessions(struct osap_das_state_db *db, int worker);
/** Add (or replace) the session of @p client_id, saved by worker @p worker. */
osap_err osap_das_state_put_session(struct osap_das_state_db *db, const char *client_id,
                                    size_t id_len, int worker, const uint8_t *blob, size_t len);

#endif /* OSAP_SERVER_STORE_DAS_STATE_H */
