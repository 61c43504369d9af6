/* Store, SQLite backend: the device registry (see store_devices.h). */
#include "store_sqlite.h"

#include <string.h>

#define DEVICE_COLUMNS                                                                      \
    "serial, auth_mode, secret, model, name, firmware, devid, master_key, share_key_case, " \
    "blocked, online, created_at, last_seen, das_node, address, dev_type"

static void read_device(sqlite3_stmt *stmt, struct osap_device *d)
{
    const unsigned char *mode = sqlite3_column_text(stmt, 1);

    memset(d, 0, sizeof(*d));
    osap__sqlite_column_copy(stmt, 0, d->serial, sizeof(d->serial));
    d->auth_mode =
        mode && strcmp((const char *)mode, "licence") == 0 ? OSAP_AUTH_LICENCE : OSAP_AUTH_SAP;
    osap__sqlite_column_copy(stmt, 2, d->secret, sizeof(d->secret));
    osap__sqlite_column_copy(stmt, 3, d->model, sizeof(d->model));
    osap__sqlite_column_copy(stmt, 4, d->name, sizeof(d->name));
    osap__sqlite_column_copy(stmt, 5, d->firmware, sizeof(d->firmware));
    osap__sqlite_column_copy(stmt, 6, d->devid, sizeof(d->devid));
    osap__sqlite_column_copy(stmt, 7, d->master_key, sizeof(d->master_key));
    d->share_key_case = sqlite3_column_type(stmt, 8) == SQLITE_NULL
                            ? OSAP_SHARE_KEY_CASE_UNKNOWN
                            : (enum osap_share_key_case)sqlite3_column_int(stmt, 8);
    d->blocked = sqlite3_column_int(stmt, 9) != 0;
    d->online = sqlite3_column_int(stmt, 10) != 0;
    d->created_at = sqlite3_column_int64(stmt, 11);
    d->last_seen = sqlite3_column_int64(stmt, 12);
    osap__sqlite_column_copy(stmt, 13, d->das_node, sizeof(d->das_node));
    osap__sqlite_column_copy(stmt, 14, d->address, sizeof(d->address));
    osap__sqlite_column_copy(stmt, 15, d->dev_type, sizeof(d->dev_type));
}

/* Run a one-row lookup whose only parameter is @p key. */
static osap_err get_one(struct osap_store *st, const char *sql, const char *key,
                        struct osap_device *out)
{
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    int rc;

    if (err) return err;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        read_device(stmt, out);
    else if (rc == SQLITE_DONE)
        err = OSAP_ENOTFOUND;
    else
        err = osap__sqlite_error(st, rc, "read a device");
    osap__sqlite_done(stmt);
    return err;
}

/* Run an UPDATE/DELETE prepared by the caller; no row changed = not found. */
static osap_err finish_change(struct osap_store *st, sqlite3_stmt *stmt, const char *what)
{
    int changes = 0;
    osap_err err = osap__sqlite_exec(st, stmt, what, &changes);
    osap__sqlite_done(stmt);
    if (err == OSAP_OK && changes == 0) err = OSAP_ENOTFOUND;
    return err;
}

static osap_err device_add(struct osap_store *st, const struct osap_device *dev, int64_t now)
{
    static const char sql[] = "INSERT INTO devices (serial, auth_mode, secret, model, name, "
                              "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    sqlite3_bind_text(stmt, 1, dev->serial, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, dev->auth_mode == OSAP_AUTH_LICENCE ? "licence" : "sap", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, dev->secret, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, dev->model, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, dev->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 6, now);
    err = osap__sqlite_exec(st, stmt, "add a device", NULL);
    osap__sqlite_done(stmt);
    return err;
}

static osap_err device_get(struct osap_store *st, const char *serial, struct osap_device *out)
{
    static const char sql[] = "SELECT " DEVICE_COLUMNS " FROM devices WHERE serial = ?1";
    return get_one(st, sql, serial, out);
}

static osap_err device_get_by_devid(struct osap_store *st, const char *devid,
                                    struct osap_device *out)
{
    static const char sql[] = "SELECT " DEVICE_COLUMNS " FROM devices WHERE devid = ?1";
    return get_one(st, sql, devid, out);
}

static void bind_flag(sqlite3_stmt *stmt, int idx, enum osap_filter_flag f)
{
    if (f == OSAP_FILTER_YES)
        sqlite3_bind_int(stmt, idx, 1);
    else if (f == OSAP_FILTER_NO)
        sqlite3_bind_int(stmt, idx, 0);
    else
        sqlite3_bind_null(stmt, idx);
}

static osap_err device_list(struct osap_store *st, const struct osap_device_filter *f,
                            osap_err (*fn)(const struct osap_device *dev, void *userdata),
                            void *userdata)
{
    static const char sql[] = "SELECT " DEVICE_COLUMNS " FROM devices"
                              " WHERE (?1 IS NULL OR substr(serial, 1, length(?1)) = ?1)"
                              "   AND (?2 IS NULL OR model = ?2)"
                              "   AND (?3 IS NULL OR online = ?3)"
                              "   AND (?4 IS NULL OR blocked = ?4)"
                              "   AND (?5 IS NULL OR serial > ?5)"
                              "   AND (?7 IS NULL OR instr(lower(serial), lower(?7)) > 0"
                              "        OR instr(lower(name), lower(?7)) > 0)"
                              " ORDER BY serial LIMIT ?6";
    sqlite3_stmt *stmt;
    struct osap_device dev;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    int rc;

    if (err) return err;
    osap__sqlite_bind_opt(stmt, 1, f->serial_prefix);
    osap__sqlite_bind_opt(stmt, 2, f->model);
    bind_flag(stmt, 3, f->online);
    bind_flag(stmt, 4, f->blocked);
    osap__sqlite_bind_opt(stmt, 5, f->after);
    sqlite3_bind_int64(stmt, 6, f->limit ? (sqlite3_int64)f->limit : -1);
    osap__sqlite_bind_opt(stmt, 7, f->search);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        read_device(stmt, &dev);
        err = fn(&dev, userdata);
        if (err) break;
    }
    if (err == OSAP_OK && rc != SQLITE_DONE) err = osap__sqlite_error(st, rc, "list devices");
    osap__sqlite_done(stmt);
    return err;
}

static osap_err device_remove(struct osap_store *st, const char *serial)
{
    static const char sql[] = "DELETE FROM devices WHERE serial = ?1";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    if (err) return err;
    sqlite3_bind_text(stmt, 1, serial, -1, SQLITE_STATIC);
    return finish_change(st, stmt, "remove a device");
}

static osap_err device_set_blocked(struct osap_store *st, const char *serial, bool blocked)
{
    static const char sql[] = "UPDATE devices SET blocked = ?2 WHERE serial = ?1";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    if (err) return err;
    sqlite3_bind_text(stmt, 1, serial, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 2, blocked ? 1 : 0);
    return finish_change(st, stmt, "block or unblock a device");
}

static osap_err device_set_keys(struct osap_store *st, const char *serial, const char *devid,
                                const char *master_key, enum osap_share_key_case sk_case)
{
    static const char sql[] = "UPDATE devices SET devid = ?2, master_key = ?3, share_key_case = ?4"
                              " WHERE serial = ?1";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    if (err) return err;
    sqlite3_bind_text(stmt, 1, serial, -1, SQLITE_STATIC);
    osap__sqlite_bind_opt(stmt, 2, devid);
    osap__sqlite_bind_opt(stmt, 3, master_key);
    if (sk_case == OSAP_SHARE_KEY_CASE_UNKNOWN)
        sqlite3_bind_null(stmt, 4);
    else
        sqlite3_bind_int(stmt, 4, (int)sk_case);
    return finish_change(st, stmt, "set device keys");
}

static osap_err device_set_online(struct osap_store *st, const char *serial, bool online,
                                  const char *das_node, const char *address, int64_t now)
{
    static const char sql[] = "UPDATE devices SET online = ?2, last_seen = ?3,"
                              " das_node = coalesce(?4, das_node), address = coalesce(?5, address)"
                              " WHERE serial = ?1";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    if (err) return err;
    sqlite3_bind_text(stmt, 1, serial, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 2, online ? 1 : 0);
    sqlite3_bind_int64(stmt, 3, now);
    osap__sqlite_bind_opt(stmt, 4, das_node);
    osap__sqlite_bind_opt(stmt, 5, address);
    return finish_change(st, stmt, "set device presence");
}

static osap_err device_touch(struct osap_store *st, const char *serial, int64_t now)
{
    static const char sql[] = "UPDATE devices SET last_seen = ?2 WHERE serial = ?1";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    if (err) return err;
    sqlite3_bind_text(stmt, 1, serial, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now);
    return finish_change(st, stmt, "touch a device");
}

static osap_err device_set_info(struct osap_store *st, const char *serial, const char *dev_type,
                                const char *firmware)
{
    /* the provisioned model stays; an empty one takes the DevType */
    static const char sql[] = "UPDATE devices SET dev_type = coalesce(?2, dev_type),"
                              " model = CASE WHEN model = '' THEN coalesce(?2, '') ELSE model END,"
                              " firmware = coalesce(?3, firmware) WHERE serial = ?1";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    if (err) return err;
    sqlite3_bind_text(stmt, 1, serial, -1, SQLITE_STATIC);
    if (dev_type) sqlite3_bind_text(stmt, 2, dev_type, -1, SQLITE_STATIC);
    if (firmware) sqlite3_bind_text(stmt, 3, firmware, -1, SQLITE_STATIC);
    return finish_change(st, stmt, "set device information");
}

static osap_err device_offline_node(struct osap_store *st, const char *das_node, int64_t now,
                                    uint64_t *count)
{
    static const char sql[] = "UPDATE devices SET online = 0, last_seen = ?2"
                              " WHERE das_node = ?1 AND online = 1";
    sqlite3_stmt *stmt;
    int changes = 0;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    if (err) return err;
    sqlite3_bind_text(stmt, 1, das_node, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now);
    err = osap__sqlite_exec(st, stmt, "mark a node's devices offline", &changes);
    osap__sqlite_done(stmt);
    if (err == OSAP_OK && count) *count = (uint64_t)changes;
    return err;
}

static osap_err device_update(struct osap_store *st, const char *serial,
                              const struct osap_device_update *u)
{
    static const char sql[] = "UPDATE devices SET name = coalesce(?2, name),"
                              " model = coalesce(?3, model), secret = coalesce(?4, secret)"
                              " WHERE serial = ?1";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    if (err) return err;
    sqlite3_bind_text(stmt, 1, serial, -1, SQLITE_STATIC);
    if (u->name) sqlite3_bind_text(stmt, 2, u->name, -1, SQLITE_STATIC);
    if (u->model) sqlite3_bind_text(stmt, 3, u->model, -1, SQLITE_STATIC);
    if (u->secret) sqlite3_bind_text(stmt, 4, u->secret, -1, SQLITE_STATIC);
    return finish_change(st, stmt, "update a device");
}

static osap_err device_count(struct osap_store *st, struct osap_device_counts *out)
{
    static const char sql[] = "SELECT count(*), coalesce(sum(online), 0), coalesce(sum(blocked), 0)"
                              " FROM devices";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    int rc;

    if (err) return err;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        out->total = (uint64_t)sqlite3_column_int64(stmt, 0);
        out->online = (uint64_t)sqlite3_column_int64(stmt, 1);
        out->blocked = (uint64_t)sqlite3_column_int64(stmt, 2);
    } else {
        err = osap__sqlite_error(st, rc, "count devices");
    }
    osap__sqlite_done(stmt);
    return err;
}

const struct osap_store_device_ops osap__sqlite_device_ops = {
    .add = device_add,
    .get = device_get,
    .get_by_devid = device_get_by_devid,
    .list = device_list,
    .remove = device_remove,
    .set_blocked = device_set_blocked,
    .set_keys = device_set_keys,
    .set_online = device_set_online,
    .touch = device_touch,
    .set_info = device_set_info,
    .update = device_update,
    .count = device_count,
    .offline_node = device_offline_node,
};
