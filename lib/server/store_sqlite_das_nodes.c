/* Store, SQLite backend: DAS nodes (see store_das_nodes.h). */
#include "store_sqlite.h"

#include <string.h>

static osap_err node_heartbeat(struct osap_store *st, const struct osap_das_node *n)
{
    static const char sql[] =
        "INSERT INTO das_nodes (id, address, port, udp_port, domain, connections, last_heartbeat)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        " ON CONFLICT (id) DO UPDATE SET address = excluded.address, port = excluded.port,"
        " udp_port = excluded.udp_port, domain = excluded.domain,"
        " connections = excluded.connections, last_heartbeat = excluded.last_heartbeat";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    sqlite3_bind_text(stmt, 1, n->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, n->address, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 3, n->port);
    sqlite3_bind_int(stmt, 4, n->udp_port);
    sqlite3_bind_text(stmt, 5, n->domain, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 6, n->connections);
    sqlite3_bind_int64(stmt, 7, n->last_heartbeat);
    err = osap__sqlite_exec(st, stmt, "record a DAS heartbeat", NULL);
    osap__sqlite_done(stmt);
    return err;
}

static osap_err node_list(struct osap_store *st, int64_t since, struct osap_das_node *out,
                          size_t cap, size_t *n)
{
    static const char sql[] =
        "SELECT id, address, port, udp_port, domain, connections, last_heartbeat FROM das_nodes"
        " WHERE last_heartbeat >= ?1 ORDER BY connections, last_heartbeat DESC, id LIMIT ?2";
    sqlite3_stmt *stmt;
    size_t count = 0;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    int rc;

    if (err) return err;
    sqlite3_bind_int64(stmt, 1, since);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)cap);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW && count < cap) {
        struct osap_das_node *d = &out[count++];
        memset(d, 0, sizeof(*d));
        osap__sqlite_column_copy(stmt, 0, d->id, sizeof(d->id));
        osap__sqlite_column_copy(stmt, 1, d->address, sizeof(d->address));
        d->port = sqlite3_column_int(stmt, 2);
        d->udp_port = sqlite3_column_int(stmt, 3);
        osap__sqlite_column_copy(stmt, 4, d->domain, sizeof(d->domain));
        d->connections = sqlite3_column_int64(stmt, 5);
        d->last_heartbeat = sqlite3_column_int64(stmt, 6);
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) err = osap__sqlite_error(st, rc, "list DAS nodes");
    osap__sqlite_done(stmt);
    if (err == OSAP_OK) *n = count;
    return err;
}

static osap_err node_remove(struct osap_store *st, const char *id)
{
    static const char sql[] = "DELETE FROM das_nodes WHERE id = ?1";
    sqlite3_stmt *stmt;
    int changes = 0;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);

    if (err) return err;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    err = osap__sqlite_exec(st, stmt, "remove a DAS node", &changes);
    osap__sqlite_done(stmt);
    if (err == OSAP_OK && changes == 0) err = OSAP_ENOTFOUND;
    return err;
}

const struct osap_store_das_node_ops osap__sqlite_das_node_ops = {
    .heartbeat = node_heartbeat,
    .list = node_list,
    .remove = node_remove,
};
