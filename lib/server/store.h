/*
 * The store: osapd's database (devices, sessions, DAS nodes, MQTT users, API
 * tokens, events, attributes, requests ...), behind a small interface so that a
 * PostgreSQL backend can be added next to SQLite without touching its users.
 *
 * A struct osap_store is one connection ("handle"). THREADING RULE: a handle is
 * used by one thread only. Every thread that touches the store opens its own
 * handle (osapd_store_open() in service.h, or osap_store_open()) and closes it
 * when done; SQLite connections are not shared across threads. Handles in the
 * same or in other processes (the daemon and the `osapd device ...` admin
 * commands) may work at the same time: SQLite runs in WAL mode (readers never
 * block), writes are serialized by the database and wait up to [store]
 * busy_timeout for each other (then OSAP_ESTORE_BUSY). Keep write transactions
 * short.
 *
 * Operations are grouped by concern, one header each: store_devices.h,
 * store_sessions.h, store_das_nodes.h, store_users.h, store_tokens.h. Every
 * operation is one atomic statement or its own short transaction; wrap several in
 * osap_store_begin()/osap_store_commit() to make them atomic together. Outputs are
 * written only on success. Errors: OSAP_ENOTFOUND, OSAP_EEXISTS (a unique key is
 * taken), OSAP_EINVAL (a value breaks a documented limit), OSAP_ESTORE_BUSY,
 * OSAP_ESTORE (anything else; osap_store_errmsg() says what).
 *
 * Times are milliseconds since the Unix epoch.
 */
#ifndef OSAP_SERVER_STORE_H
#define OSAP_SERVER_STORE_H

#include "config.h"
#include "osap/err.h"

#include <stdbool.h>
#include <stdint.h>

struct osap_store;

/** Values of [store]. */
struct osap_store_config {
    char *backend;           /* "sqlite" */
    int64_t busy_timeout_ms; /* how long a write waits for another writer */
    char *synchronous;       /* sqlite: "normal" or "full" */
    uint64_t cache_size;     /* sqlite: page cache per handle, bytes */
};

/** The [store] table. */
extern const struct osap_cfg_table osap_store_settings;

/** Name of the SQLite database file inside the data directory. */
#define OSAP_STORE_SQLITE_FILE "osap.db"

/** Open a handle on the store below @p data_dir (which must exist), creating the
 *  database (mode 0600) and bringing its schema up to date on first use.
 *  OSAP_ESTORE_BACKEND for an unknown backend; OSAP_ESTORE_SCHEMA when the database
 *  was written by a newer program (its schema version is higher than this one
 *  knows): nothing is changed then. Details are logged (component "store"). */
osap_err osap_store_open(const struct osap_store_config *cfg, const char *data_dir,
                         struct osap_store **out);

/** Close a handle (rolls back an open transaction). NULL is a no-op. */
void osap_store_close(struct osap_store *st);

/** Start a write transaction (it takes the write lock at once, waiting up to the busy
 *  timeout). Transactions do not nest: OSAP_ESTATE when one is open. */
osap_err osap_store_begin(struct osap_store *st);

/** Commit the open transaction. */
osap_err osap_store_commit(struct osap_store *st);

/** Roll back the open transaction, if any. */
void osap_store_rollback(struct osap_store *st);

/** The schema version of the open database (1 = the first). */
int osap_store_schema_version(const struct osap_store *st);

/** The schema version this program writes. */
int osap_store_schema_latest(void);

/** A description of the last failure on @p st (for messages; "" when none). */
const char *osap_store_errmsg(const struct osap_store *st);

/** The backend name of @p st ("sqlite"). */
const char *osap_store_backend(const struct osap_store *st);

#include "store_attributes.h"
#include "store_das_nodes.h"
#include "store_desired.h"
#include "store_devices.h"
#include "store_events.h"
#include "store_pictures.h"
#include "store_requests.h"
#include "store_sessions.h"
#include "store_tokens.h"
#include "store_users.h"

#endif /* OSAP_SERVER_STORE_H */
