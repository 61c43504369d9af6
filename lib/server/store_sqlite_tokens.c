/* Store, SQLite backend: API tokens (see store_tokens.h). */
#include "store_sqlite.h"

#include <string.h>

static osap_err token_create(struct osap_store *st, const char *name, const char *hash, int64_t now,
                             int64_t *id)
{
    static const char sql[] = "INSERT INTO api_tokens (name, token_hash, created_at)"
                              " VALUES (?1, ?2, ?3)";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, now);
    err = osap__sqlite_exec(st, stmt, "create a token", NULL);
    osap__sqlite_done(stmt);
    if (err == OSAP_OK && id) *id = sqlite3_last_insert_rowid(osap__sqlite_db(st));
    return err;
}

static void read_token(sqlite3_stmt *stmt, struct osap_api_token *t)
{
    memset(t, 0, sizeof(*t));
    t->id = sqlite3_column_int64(stmt, 0);
    osap__sqlite_column_copy(stmt, 1, t->name, sizeof(t->name));
    t->created_at = sqlite3_column_int64(stmt, 2);
    t->last_used = sqlite3_column_int64(stmt, 3);
}

static osap_err token_verify(struct osap_store *st, const char *hash, int64_t now,
                             struct osap_api_token *out)
{
    static const char sel[] = "SELECT id, name, created_at, last_used FROM api_tokens"
                              " WHERE token_hash = ?1";
    static const char touch[] = "UPDATE api_tokens SET last_used = ?2 WHERE id = ?1";
    sqlite3_stmt *stmt;
    struct osap_api_token t;
    osap_err err = osap__sqlite_stmt(st, sel, &stmt);
    int rc;

    if (err) return err;
    sqlite3_bind_text(stmt, 1, hash, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        read_token(stmt, &t);
    else if (rc == SQLITE_DONE)
        err = OSAP_ENOTFOUND;
    else
        err = osap__sqlite_error(st, rc, "verify a token");
    osap__sqlite_done(stmt);
    if (err) return err;
    if (now - t.last_used >= OSAP_TOKEN_TOUCH_INTERVAL) {
        err = osap__sqlite_stmt(st, touch, &stmt);
        if (err) return err;
        sqlite3_bind_int64(stmt, 1, t.id);
        sqlite3_bind_int64(stmt, 2, now);
        /* A busy database must not fail an otherwise valid token. */
        if (osap__sqlite_exec(st, stmt, "record token use", NULL) == OSAP_OK) t.last_used = now;
        osap__sqlite_done(stmt);
    }
    *out = t;
    return OSAP_OK;
}

static osap_err token_list(struct osap_store *st,
                           osap_err (*fn)(const struct osap_api_token *t, void *userdata),
                           void *userdata)
{
    static const char sql[] = "SELECT id, name, created_at, last_used FROM api_tokens ORDER BY id";
    sqlite3_stmt *stmt;
    struct osap_api_token t;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    int rc;

    if (err) return err;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        read_token(stmt, &t);
        err = fn(&t, userdata);
        if (err) break;
    }
    if (err == OSAP_OK && rc != SQLITE_DONE) err = osap__sqlite_error(st, rc, "list tokens");
    osap__sqlite_done(stmt);
    return err;
}

static osap_err token_revoke(struct osap_store *st, const char *name)
{
    static const char sql[] = "DELETE FROM api_tokens WHERE name = ?1";
    sqlite3_stmt *stmt;
    int changes = 0;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    err = osap__sqlite_exec(st, stmt, "revoke a token", &changes);
    osap__sqlite_done(stmt);
    if (err == OSAP_OK && changes == 0) err = OSAP_ENOTFOUND;
    return err;
}

const struct osap_store_token_ops osap__sqlite_token_ops = {
    .create = token_create,
    .verify = token_verify,
    .list = token_list,
    .revoke = token_revoke,
};
