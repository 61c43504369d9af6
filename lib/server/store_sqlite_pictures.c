/* Store, SQLite backend: pictures (see store_pictures.h). */
#include "store_sqlite.h"

#include <string.h>

#define PICTURE_COLUMNS "rowid, sha256, content_type, size, serial, event_id, created_at"

static void read_picture(sqlite3_stmt *stmt, struct osap_picture *p)
{
    memset(p, 0, sizeof(*p));
    p->seqno = sqlite3_column_int64(stmt, 0);
    osap__sqlite_column_copy(stmt, 1, p->sha256, sizeof(p->sha256));
    osap__sqlite_column_copy(stmt, 2, p->content_type, sizeof(p->content_type));
    p->size = sqlite3_column_int64(stmt, 3);
    osap__sqlite_column_copy(stmt, 4, p->serial, sizeof(p->serial));
    p->event_id = sqlite3_column_int64(stmt, 5);
    p->created_at = sqlite3_column_int64(stmt, 6);
}

static osap_err picture_get(struct osap_store *st, const char *sha256, struct osap_picture *out)
{
    static const char sql[] = "SELECT " PICTURE_COLUMNS " FROM pictures WHERE sha256 = ?1";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    int rc;

    if (err) return err;
    sqlite3_bind_text(stmt, 1, sha256, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        read_picture(stmt, out);
    else if (rc == SQLITE_DONE)
        err = OSAP_ENOTFOUND;
    else
        err = osap__sqlite_error(st, rc, "read a picture");
    osap__sqlite_done(stmt);
    return err;
}

static osap_err picture_add(struct osap_store *st, const struct osap_picture *pic, int64_t now,
                            bool *existed, struct osap_picture *out)
{
    /* One statement: a new row, or the links the stored row lacks. */
    static const char sql[] =
        "INSERT INTO pictures (sha256, content_type, size, serial, event_id, created_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        " ON CONFLICT (sha256) DO UPDATE SET"
        "   serial = coalesce(serial, excluded.serial),"
        "   event_id = coalesce(event_id, excluded.event_id)";
    static const char exists_sql[] = "SELECT 1 FROM pictures WHERE sha256 = ?1";
    sqlite3_stmt *stmt;
    osap_err err;
    bool ex;
    int rc;

    /* Runs on one handle: the existence check and the insert cannot interleave with
     * another writer of this handle; another handle racing on the same content only
     * makes both report "new", which is harmless (same bytes, same row). */
    err = osap__sqlite_stmt(st, exists_sql, &stmt);
    if (err) return err;
    sqlite3_bind_text(stmt, 1, pic->sha256, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    osap__sqlite_done(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return osap__sqlite_error(st, rc, "look for a picture");
    ex = rc == SQLITE_ROW;

    err = osap__sqlite_stmt(st, sql, &stmt);
    if (err) return err;
    sqlite3_bind_text(stmt, 1, pic->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, pic->content_type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, pic->size);
    osap__sqlite_bind_opt(stmt, 4, pic->serial);
    if (pic->event_id > 0) sqlite3_bind_int64(stmt, 5, pic->event_id);
    sqlite3_bind_int64(stmt, 6, now);
    err = osap__sqlite_exec(st, stmt, "store a picture", NULL);
    osap__sqlite_done(stmt);
    if (err) return err;
    err = picture_get(st, pic->sha256, out);
    if (err == OSAP_OK) *existed = ex;
    return err;
}

static osap_err picture_list(struct osap_store *st, const struct osap_picture_filter *f,
                             osap_err (*fn)(const struct osap_picture *pic, void *userdata),
                             void *userdata)
{
    static const char sql[] = "SELECT " PICTURE_COLUMNS " FROM pictures"
                              " WHERE (?1 IS NULL OR serial = ?1)"
                              "   AND (?2 = 0 OR event_id = ?2)"
                              "   AND (?3 = 0 OR rowid < ?3)"
                              " ORDER BY rowid DESC LIMIT ?4";
    sqlite3_stmt *stmt;
    struct osap_picture p;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    int rc;

    if (err) return err;
    osap__sqlite_bind_opt(stmt, 1, f->serial);
    sqlite3_bind_int64(stmt, 2, f->event_id);
    sqlite3_bind_int64(stmt, 3, f->before_seqno);
    sqlite3_bind_int64(stmt, 4, f->limit ? (sqlite3_int64)f->limit : -1);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        read_picture(stmt, &p);
        err = fn(&p, userdata);
        if (err) break;
    }
    if (err == OSAP_OK && rc != SQLITE_DONE) err = osap__sqlite_error(st, rc, "list pictures");
    osap__sqlite_done(stmt);
    return err;
}

static osap_err picture_remove(struct osap_store *st, const char *sha256)
{
    static const char sql[] = "DELETE FROM pictures WHERE sha256 = ?1";
    sqlite3_stmt *stmt;
    int changes = 0;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    sqlite3_bind_text(stmt, 1, sha256, -1, SQLITE_STATIC);
    err = osap__sqlite_exec(st, stmt, "remove a picture", &changes);
    osap__sqlite_done(stmt);
    if (err == OSAP_OK && changes == 0) err = OSAP_ENOTFOUND;
    return err;
}

const struct osap_store_picture_ops osap__sqlite_picture_ops = {
    .add = picture_add,
    .get = picture_get,
    .list = picture_list,
    .remove = picture_remove,
};
