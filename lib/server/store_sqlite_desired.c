/* Store, SQLite backend: desired attribute values (see store_desired.h). */
#include "store_sqlite.h"

#include <string.h>

static osap_err desired_put(struct osap_store *st, const struct osap_desired *d, int64_t now)
{
    static const char sql[] =
        "INSERT INTO desired (serial, child, resource, domain, identifier, value, version,"
        " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7)"
        " ON CONFLICT (serial, child, resource, domain, identifier) DO UPDATE SET"
        " value = excluded.value, version = desired.version + 1,"
        " updated_at = excluded.updated_at";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    osap__sqlite_bind_key(stmt, d->serial, d->child, d->resource, d->domain, d->identifier);
    sqlite3_bind_text(stmt, 6, d->value, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 7, now);
    err = osap__sqlite_exec(st, stmt, "store a desired value", NULL);
    osap__sqlite_done(stmt);
    return err;
}

static osap_err desired_remove(struct osap_store *st, const struct osap_attribute_filter *k)
{
    static const char sql[] = "DELETE FROM desired WHERE serial = ?1 AND child = ?2"
                              " AND resource = ?3 AND domain = ?4 AND identifier = ?5";
    sqlite3_stmt *stmt;
    int changes = 0;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    osap__sqlite_bind_key(stmt, k->serial, k->child, k->resource, k->domain, k->identifier);
    err = osap__sqlite_exec(st, stmt, "remove a desired value", &changes);
    osap__sqlite_done(stmt);
    if (err == OSAP_OK && changes == 0) err = OSAP_ENOTFOUND;
    return err;
}

static osap_err desired_list(struct osap_store *st, const struct osap_attribute_filter *f,
                             osap_err (*fn)(const struct osap_desired *d, void *userdata),
                             void *userdata)
{
    static const char sql[] =
        "SELECT serial, child, resource, domain, identifier, value, version, updated_at"
        " FROM desired WHERE serial = ?1 AND (?2 IS NULL OR child = ?2)"
        " AND (?3 IS NULL OR resource = ?3) AND (?4 IS NULL OR domain = ?4)"
        " AND (?5 IS NULL OR identifier = ?5)"
        " ORDER BY child, resource, domain, identifier";
    sqlite3_stmt *stmt;
    struct osap_desired d;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    int rc;

    if (err) return err;
    osap__sqlite_bind_filter(stmt, f);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        memset(&d, 0, sizeof(d));
        osap__sqlite_column_key(stmt, 0, &d.serial, &d.child, &d.resource, &d.domain,
                                &d.identifier);
        d.value = (const char *)sqlite3_column_text(stmt, 5);
        d.version = sqlite3_column_int64(stmt, 6);
        d.updated_at = sqlite3_column_int64(stmt, 7);
        if (!d.serial || !d.child || !d.resource || !d.domain || !d.identifier || !d.value) {
            err = osap__sqlite_error(st, SQLITE_NOMEM, "read a desired value");
            break;
        }
        err = fn(&d, userdata);
        if (err) break;
    }
    if (err == OSAP_OK && rc != SQLITE_DONE)
        err = osap__sqlite_error(st, rc, "list desired values");
    osap__sqlite_done(stmt);
    return err;
}

const struct osap_store_desired_ops osap__sqlite_desired_ops = {
    .put = desired_put,
    .remove = desired_remove,
    .list = desired_list,
};
