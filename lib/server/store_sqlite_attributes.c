/* Store, SQLite backend: reported attribute values (see store_attributes.h). */
#include "store_sqlite.h"

#include <string.h>

static osap_err attribute_put(struct osap_store *st, const struct osap_attribute *a)
{
    static const char sql[] =
        "INSERT INTO attributes (serial, child, resource, domain, identifier, value, version,"
        " reported_at, invalid) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        " ON CONFLICT (serial, child, resource, domain, identifier) DO UPDATE SET"
        " value = excluded.value, version = excluded.version,"
        " reported_at = excluded.reported_at, invalid = excluded.invalid";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    osap__sqlite_bind_key(stmt, a->serial, a->child, a->resource, a->domain, a->identifier);
    sqlite3_bind_text(stmt, 6, a->value, -1, SQLITE_STATIC);
    if (a->version >= 0) sqlite3_bind_int64(stmt, 7, a->version);
    sqlite3_bind_int64(stmt, 8, a->reported_at);
    osap__sqlite_bind_opt(stmt, 9, a->invalid);
    err = osap__sqlite_exec(st, stmt, "store an attribute", NULL);
    osap__sqlite_done(stmt);
    return err;
}

static osap_err attribute_list(struct osap_store *st, const struct osap_attribute_filter *f,
                               osap_err (*fn)(const struct osap_attribute *a, void *userdata),
                               void *userdata)
{
    static const char sql[] =
        "SELECT serial, child, resource, domain, identifier, value, version, reported_at,"
        " invalid FROM attributes WHERE serial = ?1 AND (?2 IS NULL OR child = ?2)"
        " AND (?3 IS NULL OR resource = ?3) AND (?4 IS NULL OR domain = ?4)"
        " AND (?5 IS NULL OR identifier = ?5)"
        " ORDER BY child, resource, domain, identifier";
    sqlite3_stmt *stmt;
    struct osap_attribute a;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    int rc;

    if (err) return err;
    osap__sqlite_bind_filter(stmt, f);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        memset(&a, 0, sizeof(a));
        osap__sqlite_column_key(stmt, 0, &a.serial, &a.child, &a.resource, &a.domain,
                                &a.identifier);
        a.value = (const char *)sqlite3_column_text(stmt, 5);
        a.version =
            sqlite3_column_type(stmt, 6) == SQLITE_NULL ? -1 : sqlite3_column_int64(stmt, 6);
        a.reported_at = sqlite3_column_int64(stmt, 7);
        a.invalid = (const char *)sqlite3_column_text(stmt, 8);
        if (!a.serial || !a.child || !a.resource || !a.domain || !a.identifier || !a.value) {
            err = osap__sqlite_error(st, SQLITE_NOMEM, "read an attribute");
            break;
        }
        err = fn(&a, userdata);
        if (err) break;
    }
    if (err == OSAP_OK && rc != SQLITE_DONE) err = osap__sqlite_error(st, rc, "list attributes");
    osap__sqlite_done(stmt);
    return err;
}

const struct osap_store_attribute_ops osap__sqlite_attribute_ops = {
    .put = attribute_put,
    .list = attribute_list,
};
