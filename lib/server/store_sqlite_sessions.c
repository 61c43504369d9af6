/* Store, SQLite backend: LBS sessions (see store_sessions.h). */
#include "store_sqlite.h"

#include <string.h>

static osap_err session_put(struct osap_store *st, const struct osap_session *s)
{
    static const char sql[] =
        "INSERT INTO sessions (serial, devid, session_key, issued_at, das_node)"
        " VALUES (?1, ?2, ?3, ?4, ?5)"
        " ON CONFLICT (serial) DO UPDATE SET devid = excluded.devid,"
        " session_key = excluded.session_key,"
        " issued_at = excluded.issued_at, das_node = excluded.das_node";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    sqlite3_bind_text(stmt, 1, s->serial, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, s->devid, -1, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 3, s->session_key, sizeof(s->session_key), SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, s->issued_at);
    osap__sqlite_bind_opt(stmt, 5, s->das_node);
    err = osap__sqlite_exec(st, stmt, "store a session", NULL);
    osap__sqlite_done(stmt);
    return err;
}

static osap_err session_get(struct osap_store *st, const char *serial, struct osap_session *out)
{
    static const char sql[] = "SELECT serial, devid, session_key, issued_at, das_node"
                              " FROM sessions WHERE serial = ?1";
    sqlite3_stmt *stmt;
    struct osap_session s;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    int rc;

    if (err) return err;
    sqlite3_bind_text(stmt, 1, serial, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        memset(&s, 0, sizeof(s));
        osap__sqlite_column_copy(stmt, 0, s.serial, sizeof(s.serial));
        osap__sqlite_column_copy(stmt, 1, s.devid, sizeof(s.devid));
        if (sqlite3_column_bytes(stmt, 2) == (int)sizeof(s.session_key))
            memcpy(s.session_key, sqlite3_column_blob(stmt, 2), sizeof(s.session_key));
        else
            err = OSAP_ESTORE;
        s.issued_at = sqlite3_column_int64(stmt, 3);
        osap__sqlite_column_copy(stmt, 4, s.das_node, sizeof(s.das_node));
        if (err == OSAP_OK) *out = s;
        memset(&s, 0, sizeof(s));
    } else if (rc == SQLITE_DONE) {
        err = OSAP_ENOTFOUND;
    } else {
        err = osap__sqlite_error(st, rc, "read a session");
    }
    osap__sqlite_done(stmt);
    return err;
}

static osap_err session_remove(struct osap_store *st, const char *serial)
{
    static const char sql[] = "DELETE FROM sessions WHERE serial = ?1";
    sqlite3_stmt *stmt;
    int changes = 0;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    sqlite3_bind_text(stmt, 1, serial, -1, SQLITE_STATIC);
    err = osap__sqlite_exec(st, stmt, "remove a session", &changes);
    osap__sqlite_done(stmt);
    if (err == OSAP_OK && changes == 0) err = OSAP_ENOTFOUND;
    return err;
}

const struct osap_store_session_ops osap__sqlite_session_ops = {
    .put = session_put,
    .get = session_get,
    .remove = session_remove,
};
