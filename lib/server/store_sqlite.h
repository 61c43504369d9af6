/*
 * Internal to the SQLite backend of the store: the handle, prepared-statement
 * cache, error mapping and the migration runner shared by store_sqlite_*.c.
 */
#ifndef OSAP_SERVER_STORE_SQLITE_H
#define OSAP_SERVER_STORE_SQLITE_H

#include "store_backend.h"

#include <sqlite3.h>
#include <stddef.h>

/* Statements kept prepared per handle (keyed by the address of their SQL text). */
#define OSAP__SQLITE_CACHE 64

struct osap__sqlite_stmt {
    const char *sql;
    sqlite3_stmt *stmt;
};

/** A SQLite handle. */
struct osap__sqlite {
    struct osap_store base;
    sqlite3 *db;
    struct osap__sqlite_stmt cache[OSAP__SQLITE_CACHE];
    size_t n_cache;
};

/** The sqlite3 connection of @p st. */
sqlite3 *osap__sqlite_db(struct osap_store *st);

/** A reset, unbound statement for @p sql (a string with static storage: the cache
 *  is keyed by its address). Call osap__sqlite_done() after use. */
osap_err osap__sqlite_stmt(struct osap_store *st, const char *sql, sqlite3_stmt **out);

/** Reset @p stmt and clear its bindings (NULL is a no-op). */
void osap__sqlite_done(sqlite3_stmt *stmt);

/** Map a SQLite result code to an error, record the message on @p st, and log
 *  the unexpected ones. @p what names the operation. */
osap_err osap__sqlite_error(struct osap_store *st, int rc, const char *what);

/** Step @p stmt to completion (a statement without rows); @p changes (may be NULL)
 *  receives the number of rows changed. Does not reset. */
osap_err osap__sqlite_exec(struct osap_store *st, sqlite3_stmt *stmt, const char *what,
                           int *changes);

/** Bind @p s as text, or NULL when @p s is NULL or empty. */
int osap__sqlite_bind_opt(sqlite3_stmt *stmt, int idx, const char *s);

/** Copy text column @p col into @p dst (cap bytes; "" for NULL, cut when longer). */
void osap__sqlite_column_copy(sqlite3_stmt *stmt, int col, char *dst, size_t cap);

struct osap_attribute_filter;

/** Bind the key of a device value as text to ?1 serial, ?2 child, ?3 resource,
 *  ?4 domain, ?5 identifier (the strings must outlive the statement's use). */
void osap__sqlite_bind_key(sqlite3_stmt *stmt, const char *serial, const char *child,
                           const char *resource, const char *domain, const char *identifier);

/** Bind the filter @p f the same way: ?1 its serial, ?2..?5 NULL where unset
 *  (NULL or empty), for conditions "(?N IS NULL OR column = ?N)". */
void osap__sqlite_bind_filter(sqlite3_stmt *stmt, const struct osap_attribute_filter *f);

/** Point the five outputs at result columns @p col..col+4 of the current row
 *  (serial, child, resource, domain, identifier; NULL when out of memory). */
void osap__sqlite_column_key(sqlite3_stmt *stmt, int col, const char **serial, const char **child,
                             const char **resource, const char **domain, const char **identifier);

/* Operations of each concern (store_sqlite_<concern>.c). */
extern const struct osap_store_device_ops osap__sqlite_device_ops;
extern const struct osap_store_session_ops osap__sqlite_session_ops;
extern const struct osap_store_das_node_ops osap__sqlite_das_node_ops;
extern const struct osap_store_user_ops osap__sqlite_user_ops;
extern const struct osap_store_token_ops osap__sqlite_token_ops;
extern const struct osap_store_event_ops osap__sqlite_event_ops;
extern const struct osap_store_attribute_ops osap__sqlite_attribute_ops;
extern const struct osap_store_desired_ops osap__sqlite_desired_ops;
extern const struct osap_store_picture_ops osap__sqlite_picture_ops;
extern const struct osap_store_request_ops osap__sqlite_request_ops;

/** One schema migration: the SQL that takes the schema from version - 1 to version. */
struct osap__sqlite_migration {
    int version;
    const char *name;
    const char *sql;
};

/** The migrations of the store schema, in order (store_sqlite_schema.c). */
extern const struct osap__sqlite_migration osap__sqlite_migrations[];
extern const size_t osap__sqlite_migration_count;

/** Bring @p db to the last of @p migrations (versions 1..n in order), each pending
 *  one in the same transaction, recorded in table schema_version. @p version gets
 *  the resulting version. OSAP_ESTORE_SCHEMA when the database is newer than the
 *  last migration; nothing is changed then, nor when any migration fails. @p err
 *  (errlen bytes) receives a message on failure. */
osap_err osap__sqlite_migrate(sqlite3 *db, const struct osap__sqlite_migration *migrations,
                              size_t n, int *version, char *err, size_t errlen);

#endif /* OSAP_SERVER_STORE_SQLITE_H */
