/*
 * Store, SQLite backend: the key of a device value (serial, child, resource,
 * domain, identifier) as statement parameters and as result columns, shared by
 * the events, attributes and desired values.
 */
#include "store_sqlite.h"

void osap__sqlite_bind_key(sqlite3_stmt *stmt, const char *serial, const char *child,
                           const char *resource, const char *domain, const char *identifier)
{
    sqlite3_bind_text(stmt, 1, serial, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, child, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, resource, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, domain, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, identifier, -1, SQLITE_STATIC);
}

void osap__sqlite_bind_filter(sqlite3_stmt *stmt, const struct osap_attribute_filter *f)
{
    sqlite3_bind_text(stmt, 1, f->serial, -1, SQLITE_STATIC);
    osap__sqlite_bind_opt(stmt, 2, f->child);
    osap__sqlite_bind_opt(stmt, 3, f->resource);
    osap__sqlite_bind_opt(stmt, 4, f->domain);
    osap__sqlite_bind_opt(stmt, 5, f->identifier);
}

void osap__sqlite_column_key(sqlite3_stmt *stmt, int col, const char **serial, const char **child,
                             const char **resource, const char **domain, const char **identifier)
{
    *serial = (const char *)sqlite3_column_text(stmt, col);
    *child = (const char *)sqlite3_column_text(stmt, col + 1);
    *resource = (const char *)sqlite3_column_text(stmt, col + 2);
    *domain = (const char *)sqlite3_column_text(stmt, col + 3);
    *identifier = (const char *)sqlite3_column_text(stmt, col + 4);
}
