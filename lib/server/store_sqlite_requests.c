/* Store, SQLite backend: platform requests (see store_requests.h). */
#include "store_sqlite.h"

#include <string.h>

static osap_err request_add(struct osap_store *st, const struct osap_request *r, int64_t now,
                            int64_t *id)
{
    static const char sql[] =
        "INSERT INTO requests (serial, kind, child, resource, domain, identifier, input,"
        " status, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8)";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    sqlite3_bind_text(stmt, 1, r->serial, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, r->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, r->child, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, r->resource, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, r->domain, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 6, r->identifier, -1, SQLITE_STATIC);
    if (r->input) sqlite3_bind_text(stmt, 7, r->input, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 8, now);
    err = osap__sqlite_exec(st, stmt, "record a request", NULL);
    osap__sqlite_done(stmt);
    if (err == OSAP_OK) *id = sqlite3_last_insert_rowid(osap__sqlite_db(st));
    return err;
}

static osap_err request_complete(struct osap_store *st, int64_t id, const char *status, int64_t seq,
                                 bool has_code, int64_t code, const char *output, int64_t now)
{
    static const char sql[] = "UPDATE requests SET status = ?2, seq = ?3, code = ?4, output = ?5,"
                              " completed_at = ?6 WHERE id = ?1 AND status = 'pending'";
    sqlite3_stmt *stmt;
    int changes = 0;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_text(stmt, 2, status, -1, SQLITE_STATIC);
    if (seq >= 0) sqlite3_bind_int64(stmt, 3, seq);
    if (has_code) sqlite3_bind_int64(stmt, 4, code);
    if (output) sqlite3_bind_text(stmt, 5, output, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 6, now);
    err = osap__sqlite_exec(st, stmt, "complete a request", &changes);
    osap__sqlite_done(stmt);
    if (err == OSAP_OK && changes == 0) err = OSAP_ENOTFOUND;
    return err;
}

static osap_err request_get(struct osap_store *st, int64_t id,
                            osap_err (*fn)(const struct osap_request *r, void *userdata),
                            void *userdata)
{
    static const char sql[] =
        "SELECT id, serial, kind, child, resource, domain, identifier, input, status, seq,"
        " code, output, created_at, completed_at FROM requests WHERE id = ?1";
    sqlite3_stmt *stmt;
    struct osap_request r;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    int rc;

    if (err) return err;
    sqlite3_bind_int64(stmt, 1, id);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        memset(&r, 0, sizeof(r));
        r.id = sqlite3_column_int64(stmt, 0);
        r.serial = (const char *)sqlite3_column_text(stmt, 1);
        r.kind = (const char *)sqlite3_column_text(stmt, 2);
        r.child = (const char *)sqlite3_column_text(stmt, 3);
        r.resource = (const char *)sqlite3_column_text(stmt, 4);
        r.domain = (const char *)sqlite3_column_text(stmt, 5);
        r.identifier = (const char *)sqlite3_column_text(stmt, 6);
        r.input = (const char *)sqlite3_column_text(stmt, 7);
        r.status = (const char *)sqlite3_column_text(stmt, 8);
        r.seq = sqlite3_column_type(stmt, 9) == SQLITE_NULL ? -1 : sqlite3_column_int64(stmt, 9);
        r.has_code = sqlite3_column_type(stmt, 10) != SQLITE_NULL;
        r.code = sqlite3_column_int64(stmt, 10);
        r.output = (const char *)sqlite3_column_text(stmt, 11);
        r.created_at = sqlite3_column_int64(stmt, 12);
        r.completed_at = sqlite3_column_int64(stmt, 13);
        if (!r.serial || !r.kind || !r.child || !r.resource || !r.domain || !r.identifier ||
            !r.status)
            err = osap__sqlite_error(st, SQLITE_NOMEM, "read a request");
        else
            err = fn(&r, userdata);
    } else if (rc == SQLITE_DONE) {
        err = OSAP_ENOTFOUND;
    } else {
        err = osap__sqlite_error(st, rc, "read a request");
    }
    osap__sqlite_done(stmt);
    return err;
}

static osap_err request_interrupt(struct osap_store *st, int64_t before, int64_t now,
                                  uint64_t *count)
{
    static const char sql[] = "UPDATE requests SET status = 'interrupted', completed_at = ?2"
                              " WHERE status IN ('pending', 'sent') AND created_at < ?1";
    sqlite3_stmt *stmt;
    int changes = 0;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    sqlite3_bind_int64(stmt, 1, before);
    sqlite3_bind_int64(stmt, 2, now);
    err = osap__sqlite_exec(st, stmt, "interrupt requests", &changes);
    osap__sqlite_done(stmt);
    if (err == OSAP_OK) *count = (uint64_t)changes;
    return err;
}

static osap_err request_prune(struct osap_store *st, int64_t before, uint64_t *count)
{
    static const char sql[] = "DELETE FROM requests WHERE created_at < ?1";
    sqlite3_stmt *stmt;
    int changes = 0;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    sqlite3_bind_int64(stmt, 1, before);
    err = osap__sqlite_exec(st, stmt, "prune requests", &changes);
    osap__sqlite_done(stmt);
    if (err == OSAP_OK) *count = (uint64_t)changes;
    return err;
}

const struct osap_store_request_ops osap__sqlite_request_ops = {
    .add = request_add,
    .complete = request_complete,
    .get = request_get,
    .interrupt = request_interrupt,
    .prune = request_prune,
};
