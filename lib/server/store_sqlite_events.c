/* Store, SQLite backend: device events (see store_events.h). */
#include "store_sqlite.h"

#include <string.h>

/* The id of the stored copy of @p ev, or 0 when there is none. */
static osap_err find_copy(struct osap_store *st, const struct osap_event *ev, int64_t dedup_since,
                          int64_t *id)
{
    static const char by_uuid[] = "SELECT id FROM events WHERE serial = ?1 AND uuid = ?2";
    static const char by_seq[] = "SELECT id FROM events WHERE serial = ?1 AND uuid IS NULL"
                                 " AND seq = ?2 AND received_at >= ?3"
                                 " ORDER BY received_at DESC LIMIT 1";
    bool uuid = ev->uuid && ev->uuid[0];
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, uuid ? by_uuid : by_seq, &stmt);
    int rc;

    if (err) return err;
    sqlite3_bind_text(stmt, 1, ev->serial, -1, SQLITE_STATIC);
    if (uuid) {
        sqlite3_bind_text(stmt, 2, ev->uuid, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_int64(stmt, 2, ev->seq);
        sqlite3_bind_int64(stmt, 3, dedup_since);
    }
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(stmt, 0);
    else if (rc == SQLITE_DONE)
        *id = 0;
    else
        err = osap__sqlite_error(st, rc, "look for a stored event");
    osap__sqlite_done(stmt);
    return err;
}

static osap_err event_add(struct osap_store *st, const struct osap_event *ev, int64_t dedup_since,
                          int64_t *id, bool *duplicate)
{
    /* With a uuid the UNIQUE (serial, uuid) constraint decides; without one, the
     * lookup below does (NULLs never conflict). */
    static const char sql[] =
        "INSERT INTO events (serial, child, resource, domain, identifier, seq, uuid, level,"
        " payload, device_time, received_at, invalid)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
        " ON CONFLICT (serial, uuid) DO NOTHING";
    bool uuid = ev->uuid && ev->uuid[0];
    sqlite3_stmt *stmt;
    int64_t copy = 0;
    int changes = 0;
    osap_err err;

    if (!uuid && ev->seq >= 0) {
        err = find_copy(st, ev, dedup_since, &copy);
        if (err) return err;
        if (copy) {
            *id = copy;
            *duplicate = true;
            return OSAP_OK;
        }
    }
    err = osap__sqlite_stmt(st, sql, &stmt);
    if (err) return err;
    osap__sqlite_bind_key(stmt, ev->serial, ev->child, ev->resource, ev->domain, ev->identifier);
    if (ev->seq >= 0) sqlite3_bind_int64(stmt, 6, ev->seq);
    osap__sqlite_bind_opt(stmt, 7, ev->uuid);
    sqlite3_bind_int(stmt, 8, ev->level);
    sqlite3_bind_text(stmt, 9, ev->payload, -1, SQLITE_STATIC);
    if (ev->device_time) sqlite3_bind_int64(stmt, 10, ev->device_time);
    sqlite3_bind_int64(stmt, 11, ev->received_at);
    osap__sqlite_bind_opt(stmt, 12, ev->invalid);
    err = osap__sqlite_exec(st, stmt, "store an event", &changes);
    osap__sqlite_done(stmt);
    if (err) return err;
    if (changes == 1) {
        *id = sqlite3_last_insert_rowid(osap__sqlite_db(st));
        *duplicate = false;
        return OSAP_OK;
    }
    /* The uuid was taken: a redelivery. */
    err = find_copy(st, ev, dedup_since, &copy);
    if (err) return err;
    if (!copy) return OSAP_ESTORE;
    *id = copy;
    *duplicate = true;
    return OSAP_OK;
}

#define EVENT_SELECT                                                                     \
    "SELECT id, serial, child, resource, domain, identifier, seq, uuid, level, payload," \
    " device_time, received_at, invalid FROM events"                                     \
    " WHERE (?1 IS NULL OR serial = ?1) AND (?2 IS NULL OR domain = ?2)"                 \
    "   AND (?3 IS NULL OR identifier = ?3) AND received_at >= ?4"                       \
    "   AND (?5 = 0 OR received_at < ?5) AND (?6 = 0 OR id < ?6) AND id > ?7"            \
    "   AND (?9 IS NULL OR level = ?9)"

/* Marked events only: the condition the partial indexes of v3 are made for. */
#define EVENT_SELECT_INVALID EVENT_SELECT " AND invalid IS NOT NULL"
#define EVENT_SELECT_VALID   EVENT_SELECT " AND invalid IS NULL"

static osap_err event_list(struct osap_store *st, const struct osap_event_filter *f,
                           osap_err (*fn)(const struct osap_event *ev, void *userdata),
                           void *userdata)
{
    static const char *const sql[3][2] = {
        {EVENT_SELECT " ORDER BY id DESC LIMIT ?8", EVENT_SELECT " ORDER BY id ASC LIMIT ?8"},
        {EVENT_SELECT_INVALID " ORDER BY id DESC LIMIT ?8",
         EVENT_SELECT_INVALID " ORDER BY id ASC LIMIT ?8"},
        {EVENT_SELECT_VALID " ORDER BY id DESC LIMIT ?8",
         EVENT_SELECT_VALID " ORDER BY id ASC LIMIT ?8"},
    };
    int which = f->invalid == OSAP_FILTER_YES ? 1 : f->invalid == OSAP_FILTER_NO ? 2 : 0;
    sqlite3_stmt *stmt;
    struct osap_event ev;
    osap_err err = osap__sqlite_stmt(st, sql[which][f->oldest_first ? 1 : 0], &stmt);
    int rc;

    if (err) return err;
    osap__sqlite_bind_opt(stmt, 1, f->serial);
    osap__sqlite_bind_opt(stmt, 2, f->domain);
    osap__sqlite_bind_opt(stmt, 3, f->identifier);
    sqlite3_bind_int64(stmt, 4, f->since);
    sqlite3_bind_int64(stmt, 5, f->until);
    sqlite3_bind_int64(stmt, 6, f->before_id);
    sqlite3_bind_int64(stmt, 7, f->after_id);
    sqlite3_bind_int64(stmt, 8, f->limit ? (sqlite3_int64)f->limit : -1);
    if (f->by_level) sqlite3_bind_int(stmt, 9, f->level);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        memset(&ev, 0, sizeof(ev));
        ev.id = sqlite3_column_int64(stmt, 0);
        osap__sqlite_column_key(stmt, 1, &ev.serial, &ev.child, &ev.resource, &ev.domain,
                                &ev.identifier);
        ev.seq = sqlite3_column_type(stmt, 6) == SQLITE_NULL ? -1 : sqlite3_column_int64(stmt, 6);
        ev.uuid = (const char *)sqlite3_column_text(stmt, 7);
        ev.level = sqlite3_column_int(stmt, 8);
        ev.payload = (const char *)sqlite3_column_text(stmt, 9);
        ev.device_time = sqlite3_column_int64(stmt, 10);
        ev.received_at = sqlite3_column_int64(stmt, 11);
        ev.invalid = (const char *)sqlite3_column_text(stmt, 12);
        if (!ev.serial || !ev.child || !ev.resource || !ev.domain || !ev.identifier ||
            !ev.payload) {
            err = osap__sqlite_error(st, SQLITE_NOMEM, "read an event");
            break;
        }
        err = fn(&ev, userdata);
        if (err) break;
    }
    if (err == OSAP_OK && rc != SQLITE_DONE) err = osap__sqlite_error(st, rc, "list events");
    osap__sqlite_done(stmt);
    return err;
}

static osap_err event_prune(struct osap_store *st, int64_t before, uint64_t *count)
{
    static const char sql[] = "DELETE FROM events WHERE received_at < ?1";
    sqlite3_stmt *stmt;
    int changes = 0;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    sqlite3_bind_int64(stmt, 1, before);
    err = osap__sqlite_exec(st, stmt, "prune events", &changes);
    osap__sqlite_done(stmt);
    if (err == OSAP_OK) *count = (uint64_t)changes;
    return err;
}

const struct osap_store_event_ops osap__sqlite_event_ops = {
    .add = event_add,
    .list = event_list,
    .prune = event_prune,
};
