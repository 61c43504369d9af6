/* Store, SQLite backend: MQTT users and ACLs (see store_users.h). */
#include "store_sqlite.h"

#include <string.h>

static osap_err change_one(struct osap_store *st, sqlite3_stmt *stmt, const char *what)
{
    int changes = 0;
    osap_err err = osap__sqlite_exec(st, stmt, what, &changes);
    osap__sqlite_done(stmt);
    if (err == OSAP_OK && changes == 0) err = OSAP_ENOTFOUND;
    return err;
}

static osap_err user_add(struct osap_store *st, const char *username, const char *hash, int64_t now)
{
    static const char sql[] = "INSERT INTO mqtt_users (username, password_hash, created_at,"
                              " updated_at) VALUES (?1, ?2, ?3, ?3)";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    sqlite3_bind_text(stmt, 1, username, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, now);
    err = osap__sqlite_exec(st, stmt, "add a user", NULL);
    osap__sqlite_done(stmt);
    return err;
}

static osap_err user_set_password(struct osap_store *st, const char *username, const char *hash,
                                  int64_t now)
{
    static const char sql[] = "UPDATE mqtt_users SET password_hash = ?2, updated_at = ?3"
                              " WHERE username = ?1";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    sqlite3_bind_text(stmt, 1, username, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, now);
    return change_one(st, stmt, "set a password");
}

static void read_user(sqlite3_stmt *stmt, struct osap_mqtt_user *u)
{
    memset(u, 0, sizeof(*u));
    osap__sqlite_column_copy(stmt, 0, u->username, sizeof(u->username));
    osap__sqlite_column_copy(stmt, 1, u->password_hash, sizeof(u->password_hash));
    u->created_at = sqlite3_column_int64(stmt, 2);
    u->updated_at = sqlite3_column_int64(stmt, 3);
}

static osap_err user_get(struct osap_store *st, const char *username, struct osap_mqtt_user *out)
{
    static const char sql[] = "SELECT username, password_hash, created_at, updated_at"
                              " FROM mqtt_users WHERE username = ?1";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    int rc;

    if (err) return err;
    sqlite3_bind_text(stmt, 1, username, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        read_user(stmt, out);
    else if (rc == SQLITE_DONE)
        err = OSAP_ENOTFOUND;
    else
        err = osap__sqlite_error(st, rc, "read a user");
    osap__sqlite_done(stmt);
    return err;
}

static osap_err user_remove(struct osap_store *st, const char *username)
{
    static const char sql[] = "DELETE FROM mqtt_users WHERE username = ?1";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    sqlite3_bind_text(stmt, 1, username, -1, SQLITE_STATIC);
    return change_one(st, stmt, "remove a user");
}

static osap_err user_list(struct osap_store *st,
                          osap_err (*fn)(const struct osap_mqtt_user *u, void *userdata),
                          void *userdata)
{
    static const char sql[] = "SELECT username, password_hash, created_at, updated_at"
                              " FROM mqtt_users ORDER BY username";
    sqlite3_stmt *stmt;
    struct osap_mqtt_user u;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    int rc;

    if (err) return err;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        read_user(stmt, &u);
        err = fn(&u, userdata);
        if (err) break;
    }
    if (err == OSAP_OK && rc != SQLITE_DONE) err = osap__sqlite_error(st, rc, "list users");
    osap__sqlite_done(stmt);
    return err;
}

static osap_err acl_set(struct osap_store *st, const char *username, const char *pattern,
                        enum osap_mqtt_access access)
{
    static const char sql[] = "INSERT INTO mqtt_acls (username, pattern, access)"
                              " VALUES (?1, ?2, ?3)"
                              " ON CONFLICT (username, pattern) DO UPDATE SET access = "
                              "excluded.access";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    sqlite3_bind_text(stmt, 1, username, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, pattern, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, osap_mqtt_access_name(access), -1, SQLITE_STATIC);
    err = osap__sqlite_exec(st, stmt, "set an ACL row", NULL);
    osap__sqlite_done(stmt);
    return err;
}

static osap_err acl_remove(struct osap_store *st, const char *username, const char *pattern)
{
    static const char sql[] = "DELETE FROM mqtt_acls WHERE username = ?1 AND pattern = ?2";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    sqlite3_bind_text(stmt, 1, username, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, pattern, -1, SQLITE_STATIC);
    return change_one(st, stmt, "remove an ACL row");
}

static osap_err acl_list(struct osap_store *st, const char *username,
                         osap_err (*fn)(const struct osap_mqtt_acl *acl, void *userdata),
                         void *userdata)
{
    static const char sql[] = "SELECT username, pattern, access FROM mqtt_acls"
                              " WHERE (?1 IS NULL OR username = ?1) ORDER BY username, pattern";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    int rc;

    if (err) return err;
    if (username) sqlite3_bind_text(stmt, 1, username, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct osap_mqtt_acl acl;
        acl.username = (const char *)sqlite3_column_text(stmt, 0);
        acl.pattern = (const char *)sqlite3_column_text(stmt, 1);
        if (osap_mqtt_access_parse((const char *)sqlite3_column_text(stmt, 2), &acl.access))
            acl.access = OSAP_ACCESS_READ;
        err = fn(&acl, userdata);
        if (err) break;
    }
    if (err == OSAP_OK && rc != SQLITE_DONE) err = osap__sqlite_error(st, rc, "list ACL rows");
    osap__sqlite_done(stmt);
    return err;
}

const struct osap_store_user_ops osap__sqlite_user_ops = {
    .add = user_add,
    .set_password = user_set_password,
    .get = user_get,
    .remove = user_remove,
    .list = user_list,
    .acl_set = acl_set,
    .acl_remove = acl_remove,
    .acl_list = acl_list,
};
