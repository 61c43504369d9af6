/* The store schema as an ordered list of migrations, and the runner that applies
 * them (see store_sqlite.h). docs/ARCHITECTURE.md describes every table.
 *
 * Rules: never edit a migration that has shipped; append a new one that moves the
 * schema forward. Each migration runs inside the transaction that records it. */
#include "store_sqlite.h"

#include "util.h"

#include <stdio.h>
#include <string.h>

static const char schema_v1[] =
    /* Devices known to the platform (provisioned by an operator). */
    "CREATE TABLE devices ("
    "  serial         TEXT PRIMARY KEY NOT NULL,"
    "  auth_mode      TEXT NOT NULL CHECK (auth_mode IN ('sap', 'licence')),"
    "  secret         TEXT NOT NULL,"
    "  model          TEXT NOT NULL DEFAULT '',"
    "  name           TEXT NOT NULL DEFAULT '',"
    "  firmware       TEXT NOT NULL DEFAULT '',"
    "  devid          TEXT UNIQUE,"
    "  master_key     TEXT,"
    "  share_key_case INTEGER CHECK (share_key_case IN (0, 1)),"
    "  blocked        INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),"
    "  created_at     INTEGER NOT NULL,"
    "  last_seen      INTEGER,"
    "  online         INTEGER NOT NULL DEFAULT 0 CHECK (online IN (0, 1)),"
    "  das_node       TEXT,"
    "  address        TEXT"
    ");"
    "CREATE INDEX devices_node ON devices (das_node, online);"
    /* The session key the LBS issued last, per device. */
    "CREATE TABLE sessions ("
    "  serial      TEXT PRIMARY KEY NOT NULL REFERENCES devices (serial) ON DELETE CASCADE,"
    "  devid       TEXT NOT NULL,"
    "  session_key BLOB NOT NULL CHECK (length(session_key) = 16),"
    "  issued_at   INTEGER NOT NULL,"
    "  das_node    TEXT"
    ");"
    /* DAS nodes and their load, refreshed by heartbeats. */
    "CREATE TABLE das_nodes ("
    "  id             TEXT PRIMARY KEY NOT NULL,"
    "  address        TEXT NOT NULL,"
    "  port           INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),"
    "  udp_port       INTEGER NOT NULL DEFAULT 0 CHECK (udp_port BETWEEN 0 AND 65535),"
    "  domain         TEXT NOT NULL DEFAULT '',"
    "  connections    INTEGER NOT NULL DEFAULT 0,"
    "  last_heartbeat INTEGER NOT NULL"
    ");"
    /* Users of the MQTT server (applications, tools) and their ACLs. */
    "CREATE TABLE mqtt_users ("
    "  username      TEXT PRIMARY KEY NOT NULL,"
    "  password_hash TEXT NOT NULL,"
    "  created_at    INTEGER NOT NULL,"
    "  updated_at    INTEGER NOT NULL"
    ");"
    "CREATE TABLE mqtt_acls ("
    "  username TEXT NOT NULL REFERENCES mqtt_users (username) ON DELETE CASCADE,"
    "  pattern  TEXT NOT NULL,"
    "  access   TEXT NOT NULL CHECK (access IN ('read', 'write', 'readwrite')),"
    "  PRIMARY KEY (username, pattern)"
    ") WITHOUT ROWID;"
    /* REST API bearer tokens (SHA-256 of the token only). */
    "CREATE TABLE api_tokens ("
    "  id         INTEGER PRIMARY KEY,"
    "  name       TEXT NOT NULL UNIQUE,"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  created_at INTEGER NOT NULL,"
    "  last_used  INTEGER"
    ");"
    /* Device events (model/event/report), stored once per (serial, uuid). */
    "CREATE TABLE events ("
    "  id          INTEGER PRIMARY KEY,"
    "  serial      TEXT NOT NULL REFERENCES devices (serial) ON DELETE CASCADE,"
    "  child       TEXT NOT NULL DEFAULT 'global',"
    "  resource    TEXT NOT NULL DEFAULT '0-global',"
    "  domain      TEXT NOT NULL,"
    "  identifier  TEXT NOT NULL,"
    "  seq         INTEGER,"
    "  uuid        TEXT,"
    "  level       INTEGER NOT NULL DEFAULT 0,"
    "  payload     TEXT NOT NULL,"
    "  device_time INTEGER,"
    "  received_at INTEGER NOT NULL,"
    "  UNIQUE (serial, uuid)"
    ");"
    "CREATE INDEX events_serial_time ON events (serial, received_at);"
    "CREATE INDEX events_time ON events (received_at);"
    /* Last reported value of each attribute (shadow report, attribute report). */
    "CREATE TABLE attributes ("
    "  serial      TEXT NOT NULL REFERENCES devices (serial) ON DELETE CASCADE,"
    "  child       TEXT NOT NULL,"
    "  resource    TEXT NOT NULL,"
    "  domain      TEXT NOT NULL,"
    "  identifier  TEXT NOT NULL,"
    "  value       TEXT NOT NULL,"
    "  version     INTEGER,"
    "  reported_at INTEGER NOT NULL,"
    "  PRIMARY KEY (serial, child, resource, domain, identifier)"
    ") WITHOUT ROWID;"
    /* Desired values, answered to basic/shadow/query. */
    "CREATE TABLE desired ("
    "  serial     TEXT NOT NULL REFERENCES devices (serial) ON DELETE CASCADE,"
    "  child      TEXT NOT NULL,"
    "  resource   TEXT NOT NULL,"
    "  domain     TEXT NOT NULL,"
    "  identifier TEXT NOT NULL,"
    "  value      TEXT NOT NULL,"
    "  version    INTEGER NOT NULL DEFAULT 1,"
    "  updated_at INTEGER NOT NULL,"
    "  PRIMARY KEY (serial, child, resource, domain, identifier)"
    ") WITHOUT ROWID;"
    /* Pictures: content-addressed files below data_dir, described here. */
    "CREATE TABLE pictures ("
    "  sha256       TEXT PRIMARY KEY NOT NULL CHECK (length(sha256) = 64),"
    "  content_type TEXT NOT NULL,"
    "  size         INTEGER NOT NULL CHECK (size >= 0),"
    "  serial       TEXT REFERENCES devices (serial) ON DELETE SET NULL,"
    "  event_id     INTEGER REFERENCES events (id) ON DELETE SET NULL,"
    "  created_at   INTEGER NOT NULL"
    ");"
    "CREATE INDEX pictures_serial ON pictures (serial, created_at);"
    "CREATE INDEX pictures_event ON pictures (event_id);"
    /* Platform requests to devices (attribute set, operation) and their outcome. */
    "CREATE TABLE requests ("
    "  id           INTEGER PRIMARY KEY,"
    "  serial       TEXT NOT NULL REFERENCES devices (serial) ON DELETE CASCADE,"
    "  kind         TEXT NOT NULL,"
    "  child        TEXT NOT NULL DEFAULT 'global',"
    "  resource     TEXT NOT NULL DEFAULT '0-global',"
    "  domain       TEXT NOT NULL,"
    "  identifier   TEXT NOT NULL,"
    "  seq          INTEGER,"
    "  input        TEXT,"
    "  status       TEXT NOT NULL DEFAULT 'pending',"
    "  code         INTEGER,"
    "  output       TEXT,"
    "  created_at   INTEGER NOT NULL,"
    "  completed_at INTEGER"
    ");"
    "CREATE INDEX requests_serial_time ON requests (serial, created_at);"
    "CREATE INDEX requests_open ON requests (status) WHERE status IN ('pending', 'sent');";

/* v2: what a device reports at registration (DevType) is kept apart from the thing
 * model it was provisioned with. Rows from v1 get "" (filled at the next
 * registration). */
static const char schema_v2[] = "ALTER TABLE devices ADD COLUMN dev_type TEXT NOT NULL DEFAULT '';";

/* v3: events and attribute reports that do not match the device's thing model are
 * stored all the same, marked with the reason (NULL = it matches, or the device
 * has no model, as every row from before v3). The partial indexes serve the
 * queries for marked events without growing with the rest. */
static const char schema_v3[] =
    "ALTER TABLE events ADD COLUMN invalid TEXT;"
    "ALTER TABLE attributes ADD COLUMN invalid TEXT;"
    "CREATE INDEX events_invalid ON events (id) WHERE invalid IS NOT NULL;"
    "CREATE INDEX events_serial_invalid ON events (serial, id) WHERE invalid IS NOT NULL;";

const struct osap__sqlite_migration osap__sqlite_migrations[] = {
    {1, "initial schema", schema_v1},
    {2, "devices.dev_type", schema_v2},
    {3, "events.invalid, attributes.invalid", schema_v3},
};
const size_t osap__sqlite_migration_count =
    sizeof(osap__sqlite_migrations) / sizeof(osap__sqlite_migrations[0]);

/* ------------------------------------------------------------------------ */
/* Runner                                                                   */
/* ------------------------------------------------------------------------ */

/* The recorded version, or 0 for a database without the table; -1 on error. */
static int read_version(sqlite3 *db)
{
    sqlite3_stmt *stmt = NULL;
    int version = -1, rc;

    rc = sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_version", -1, &stmt,
                            NULL);
    if (rc != SQLITE_OK) {
        /* "no such table" on a new database; anything else is an error. */
        version = strstr(sqlite3_errmsg(db), "no such table") ? 0 : -1;
        goto out;
    }
    if (sqlite3_step(stmt) == SQLITE_ROW) version = sqlite3_column_int(stmt, 0);
out:
    sqlite3_finalize(stmt);
    return version;
}

static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen, const char *what)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) snprintf(err, errlen, "%s: %s", what, msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return rc;
}

osap_err osap__sqlite_migrate(sqlite3 *db, const struct osap__sqlite_migration *migrations,
                              size_t n, int *version, char *err, size_t errlen)
{
    int latest = n ? migrations[n - 1].version : 0;
    int current, rc;
    sqlite3_stmt *stmt = NULL;
    osap_err result = OSAP_ESTORE;

    for (size_t i = 0; i < n; i++) {
        if (migrations[i].version != (int)i + 1) {
            snprintf(err, errlen, "migration list out of order at version %d",
                     migrations[i].version);
            return OSAP_ESTORE;
        }
    }
    /* Fast path, without the write lock: already up to date. */
    current = read_version(db);
    if (current == latest) {
        *version = current;
        return OSAP_OK;
    }
    rc = exec(db, "BEGIN IMMEDIATE", err, errlen, "begin the schema update");
    if (rc != SQLITE_OK) return (rc & 0xff) == SQLITE_BUSY ? OSAP_ESTORE_BUSY : OSAP_ESTORE;
    rc = exec(db,
              "CREATE TABLE IF NOT EXISTS schema_version ("
              "  version    INTEGER PRIMARY KEY,"
              "  name       TEXT NOT NULL,"
              "  applied_at INTEGER NOT NULL)",
              err, errlen, "create table schema_version");
    if (rc != SQLITE_OK) goto rollback;
    /* Read again under the lock: another process may have migrated meanwhile. */
    current = read_version(db);
    if (current < 0) {
        snprintf(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(db));
        goto rollback;
    }
    if (current > latest) {
        snprintf(err, errlen,
                 "the database has schema version %d, newer than this program knows (%d): "
                 "use a newer osapd",
                 current, latest);
        result = OSAP_ESTORE_SCHEMA;
        goto rollback;
    }
    rc = sqlite3_prepare_v2(
        db, "INSERT INTO schema_version (version, name, applied_at) VALUES (?1, ?2, ?3)", -1, &stmt,
        NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "prepare: %s", sqlite3_errmsg(db));
        goto rollback;
    }
    for (size_t i = (size_t)current; i < n; i++) {
        char what[96];
        snprintf(what, sizeof(what), "schema migration %d (%s)", migrations[i].version,
                 migrations[i].name);
        rc = exec(db, migrations[i].sql, err, errlen, what);
        if (rc != SQLITE_OK) goto rollback;
        sqlite3_bind_int(stmt, 1, migrations[i].version);
        sqlite3_bind_text(stmt, 2, migrations[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, osap_time_now_ms());
        rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        if (rc != SQLITE_DONE) {
            snprintf(err, errlen, "record %s: %s", what, sqlite3_errmsg(db));
            goto rollback;
        }
    }
    sqlite3_finalize(stmt);
    stmt = NULL;
    rc = exec(db, "COMMIT", err, errlen, "commit the schema update");
    if (rc != SQLITE_OK) goto rollback;
    *version = latest;
    return OSAP_OK;
rollback:
    sqlite3_finalize(stmt);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return result;
}
