/* The file of the DAS's saved state (see store_das_state.h): a SQLite database of
 * its own, marked by PRAGMA application_id, versioned by PRAGMA user_version.
 *
 *   retained(topic BLOB PRIMARY KEY, qos INTEGER, payload BLOB)
 *   sessions(client_id BLOB PRIMARY KEY, worker INTEGER, state BLOB)
 *
 * A snapshot is one transaction; the rollback journal keeps the previous one whole
 * when the process dies in the middle. */
#include "store_das_state.h"

#include "log.h"
#include "osap/alloc.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#define STATE_LOG    "das"
#define STATE_APP_ID 0x4f534153 /* "OSAS" */

struct osap_das_state_db {
    sqlite3 *db;
    sqlite3_stmt *put_retained;
    sqlite3_stmt *put_session;
};

static osap_err db_error(struct osap_das_state_db *s, int rc, const char *what)
{
    OSAP_LOGE(STATE_LOG, "state file: %s: %s (sqlite %d)", what,
              s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc), rc);
    return rc == SQLITE_NOMEM ? OSAP_ENOMEM : OSAP_ESTORE;
}

static osap_err exec_sql(struct osap_das_state_db *s, const char *sql, const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? OSAP_OK : db_error(s, rc, what);
}

/* The single integer or text row of @p sql ("ok" checks of quick_check). */
static osap_err query_int(struct osap_das_state_db *s, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        osap_err err = db_error(s, rc, sql);
        sqlite3_finalize(st);
        return err;
    }
    *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return OSAP_OK;
}

static osap_err quick_check(struct osap_das_state_db *s)
{
    sqlite3_stmt *st = NULL;
    const unsigned char *res;
    osap_err err = OSAP_OK;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL);

    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        err = db_error(s, rc, "integrity check");
    } else {
        res = sqlite3_column_text(st, 0);
        if (!res || strcmp((const char *)res, "ok") != 0) {
            OSAP_LOGE(STATE_LOG, "state file: integrity check: %s", res ? (const char *)res : "?");
            err = OSAP_ESTORE;
        }
    }
    sqlite3_finalize(st);
    return err;
}

static const char schema_sql[] =
    "BEGIN;"
    "CREATE TABLE retained(topic BLOB PRIMARY KEY NOT NULL, qos INTEGER NOT NULL,"
    " payload BLOB NOT NULL);"
    "CREATE TABLE sessions(client_id BLOB PRIMARY KEY NOT NULL, worker INTEGER NOT NULL,"
    " state BLOB NOT NULL);"
    "PRAGMA application_id = 1330856275;"
    "PRAGMA user_version = 1;"
    "COMMIT;";

/* Create the tables of a new file, or check those of an existing one. */
static osap_err prepare_schema(struct osap_das_state_db *s)
{
    int64_t version = 0, app = 0, tables = 0;
    osap_err err;

    if ((err = query_int(s, "PRAGMA user_version", &version)) != OSAP_OK) return err;
    if ((err = query_int(s, "PRAGMA application_id", &app)) != OSAP_OK) return err;
    if (version > OSAP_DAS_STATE_VERSION) {
        OSAP_LOGE(STATE_LOG,
                  "state file: format version %lld is newer than this program's (%d): "
                  "upgrade osapd or remove the file",
                  (long long)version, OSAP_DAS_STATE_VERSION);
        return OSAP_ESTORE_SCHEMA;
    }
    if (version == 0) {
        err = query_int(s, "SELECT count(*) FROM sqlite_master", &tables);
        if (err) return err;
        if (tables != 0 || app != 0) {
            OSAP_LOGE(STATE_LOG, "state file: not an OSAP DAS state file");
            return OSAP_ESTORE;
        }
        err = exec_sql(s, schema_sql, "create the tables");
        if (err) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return err;
    }
    if (app != STATE_APP_ID) {
        OSAP_LOGE(STATE_LOG, "state file: not an OSAP DAS state file (application id %lld)",
                  (long long)app);
        return OSAP_ESTORE;
    }
    return quick_check(s);
}

void osap_das_state_close(struct osap_das_state_db *s)
{
    if (!s) return;
    sqlite3_finalize(s->put_retained);
    sqlite3_finalize(s->put_session);
    sqlite3_close(s->db);
    osap_free(s);
}

osap_err osap_das_state_open(const char *path, struct osap_das_state_db **out)
{
    struct osap_das_state_db *s;
    osap_err err;
    int rc;

    if (!path || !out) return OSAP_EINVAL;
    s = osap_calloc(1, sizeof(*s));
    if (!s) return OSAP_ENOMEM;
    rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        err = db_error(s, rc, "open");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 5000);
    err = exec_sql(s, "PRAGMA synchronous = NORMAL", "configure");
    if (err) goto fail;
    err = prepare_schema(s);
    if (err) goto fail;
    rc = sqlite3_prepare_v2(s->db,
                            "INSERT OR REPLACE INTO retained(topic, qos, payload) VALUES (?, ?, ?)",
                            -1, &s->put_retained, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(
            s->db, "INSERT OR REPLACE INTO sessions(client_id, worker, state) VALUES (?, ?, ?)", -1,
            &s->put_session, NULL);
    if (rc != SQLITE_OK) {
        err = db_error(s, rc, "prepare");
        goto fail;
    }
    *out = s;
    return OSAP_OK;
fail:
    osap_das_state_close(s);
    return err;
}

osap_err osap_das_state_set_aside(const char *path)
{
    char aside[4096], journal[4096], aside_journal[4096];

    if (snprintf(aside, sizeof(aside), "%s.corrupt", path) >= (int)sizeof(aside) ||
        snprintf(journal, sizeof(journal), "%s-journal", path) >= (int)sizeof(journal) ||
        snprintf(aside_journal, sizeof(aside_journal), "%s.corrupt-journal", path) >=
            (int)sizeof(aside_journal))
        return OSAP_EINVAL;
    if (rename(path, aside) != 0 && errno != ENOENT) {
        OSAP_LOGE(STATE_LOG, "state file: cannot rename %s: %s", path, strerror(errno));
        return OSAP_EIO;
    }
    if (rename(journal, aside_journal) != 0 && errno != ENOENT) {
        OSAP_LOGE(STATE_LOG, "state file: cannot rename %s: %s", journal, strerror(errno));
        return OSAP_EIO;
    }
    return OSAP_OK;
}

osap_err osap_das_state_load(struct osap_das_state_db *s, const struct osap_das_state_visitor *v,
                             void *ctx)
{
    sqlite3_stmt *st = NULL;
    osap_err err = OSAP_OK;
    int rc;

    rc = sqlite3_prepare_v2(s->db, "SELECT topic, qos, payload FROM retained", -1, &st, NULL);
    if (rc != SQLITE_OK) return db_error(s, rc, "read retained messages");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && !err) {
        const void *topic = sqlite3_column_blob(st, 0);
        int tlen = sqlite3_column_bytes(st, 0);
        int qos = sqlite3_column_int(st, 1);
        const void *payload = sqlite3_column_blob(st, 2);
        int plen = sqlite3_column_bytes(st, 2);
        err = v->retained(ctx, topic ? topic : "", (size_t)tlen, payload ? payload : "",
                          (size_t)plen, qos);
    }
    if (!err && rc != SQLITE_DONE) err = db_error(s, rc, "read retained messages");
    sqlite3_finalize(st);
    if (err) return err;

    rc = sqlite3_prepare_v2(s->db, "SELECT client_id, state FROM sessions", -1, &st, NULL);
    if (rc != SQLITE_OK) return db_error(s, rc, "read sessions");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && !err) {
        const void *id = sqlite3_column_blob(st, 0);
        int idlen = sqlite3_column_bytes(st, 0);
        const void *blob = sqlite3_column_blob(st, 1);
        int blen = sqlite3_column_bytes(st, 1);
        err = v->session(ctx, id ? id : "", (size_t)idlen, blob ? blob : (const void *)"",
                         (size_t)blen);
    }
    if (!err && rc != SQLITE_DONE) err = db_error(s, rc, "read sessions");
    sqlite3_finalize(st);
    return err;
}

osap_err osap_das_state_begin(struct osap_das_state_db *s)
{
    return exec_sql(s, "BEGIN IMMEDIATE", "begin");
}

osap_err osap_das_state_commit(struct osap_das_state_db *s)
{
    osap_err err = exec_sql(s, "COMMIT", "commit");
    if (err) osap_das_state_rollback(s);
    return err;
}

void osap_das_state_rollback(struct osap_das_state_db *s)
{
    if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

osap_err osap_das_state_clear_retained(struct osap_das_state_db *s)
{
    return exec_sql(s, "DELETE FROM retained", "clear retained messages");
}

osap_err osap_das_state_put_retained(struct osap_das_state_db *s, const char *topic,
                                     size_t topic_len, const uint8_t *payload, size_t len, int qos)
{
    sqlite3_stmt *st = s->put_retained;
    int rc;

    if (topic_len > INT32_MAX || len > INT32_MAX) return OSAP_EINVAL;
    sqlite3_reset(st);
    sqlite3_bind_blob(st, 1, topic, (int)topic_len, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, qos);
    sqlite3_bind_blob(st, 3, len ? (const void *)payload : "", (int)len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? OSAP_OK : db_error(s, rc, "save a retained message");
}

osap_err osap_das_state_clear_sessions(struct osap_das_state_db *s, int worker)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (worker < 0) return exec_sql(s, "DELETE FROM sessions", "clear sessions");
    rc = sqlite3_prepare_v2(s->db, "DELETE FROM sessions WHERE worker = ?", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int(st, 1, worker);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? OSAP_OK : db_error(s, rc, "clear sessions");
}

osap_err osap_das_state_put_session(struct osap_das_state_db *s, const char *client_id,
                                    size_t id_len, int worker, const uint8_t *blob, size_t len)
{
    sqlite3_stmt *st = s->put_session;
    int rc;

    if (id_len > INT32_MAX || len > INT32_MAX) return OSAP_EINVAL;
    sqlite3_reset(st);
    sqlite3_bind_blob(st, 1, client_id, (int)id_len, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, worker);
    sqlite3_bind_blob(st, 3, blob, (int)len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? OSAP_OK : db_error(s, rc, "save a session");
}
