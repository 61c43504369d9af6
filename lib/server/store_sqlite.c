/* The SQLite backend of the store: handles, pragmas, transactions, statement
 * cache and error mapping (see store.h and store_sqlite.h). */
#include "store_sqlite.h"

#include "log.h"
#include "osap/alloc.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct osap__sqlite *handle_of(struct osap_store *st)
{
    return (struct osap__sqlite *)st;
}

sqlite3 *osap__sqlite_db(struct osap_store *st)
{
    return handle_of(st)->db;
}

osap_err osap__sqlite_error(struct osap_store *st, int rc, const char *what)
{
    sqlite3 *db = handle_of(st)->db;
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    osap_err err;

    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY: err = OSAP_EEXISTS; break;
    case SQLITE_CONSTRAINT_FOREIGNKEY: err = OSAP_ENOTFOUND; break;
    case SQLITE_CONSTRAINT_CHECK:
    case SQLITE_CONSTRAINT_NOTNULL: err = OSAP_EINVAL; break;
    case SQLITE_NOMEM: err = OSAP_ENOMEM; break;
    default:
        if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
            err = OSAP_ESTORE_BUSY;
        else
            err = OSAP_ESTORE;
        break;
    }
    osap__store_set_error(st, "%s: %s", what, msg);
    if (err == OSAP_ESTORE)
        OSAP_LOGE("store", "%s: %s (sqlite %d)", what, msg, rc);
    else if (err == OSAP_ESTORE_BUSY)
        OSAP_LOGW("store", "%s: database busy: %s", what, msg);
    return err;
}

osap_err osap__sqlite_stmt(struct osap_store *st, const char *sql, sqlite3_stmt **out)
{
    struct osap__sqlite *h = handle_of(st);
    sqlite3_stmt *stmt = NULL;
    int rc;

    for (size_t i = 0; i < h->n_cache; i++) {
        if (h->cache[i].sql == sql) {
            *out = h->cache[i].stmt;
            return OSAP_OK;
        }
    }
    rc = sqlite3_prepare_v3(h->db, sql, -1,
                            h->n_cache < OSAP__SQLITE_CACHE ? SQLITE_PREPARE_PERSISTENT : 0, &stmt,
                            NULL);
    if (rc != SQLITE_OK) return osap__sqlite_error(st, rc, "prepare");
    if (h->n_cache < OSAP__SQLITE_CACHE) {
        h->cache[h->n_cache].sql = sql;
        h->cache[h->n_cache].stmt = stmt;
        h->n_cache++;
    } else {
        /* Cache full (more distinct statements than expected): keep the oldest
         * ones and replace the last slot. */
        sqlite3_finalize(h->cache[OSAP__SQLITE_CACHE - 1].stmt);
        h->cache[OSAP__SQLITE_CACHE - 1].sql = sql;
        h->cache[OSAP__SQLITE_CACHE - 1].stmt = stmt;
    }
    *out = stmt;
    return OSAP_OK;
}

void osap__sqlite_done(sqlite3_stmt *stmt)
{
    if (!stmt) return;
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

osap_err osap__sqlite_exec(struct osap_store *st, sqlite3_stmt *stmt, const char *what,
                           int *changes)
{
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return osap__sqlite_error(st, rc, what);
    if (changes) *changes = sqlite3_changes(handle_of(st)->db);
    return OSAP_OK;
}

int osap__sqlite_bind_opt(sqlite3_stmt *stmt, int idx, const char *s)
{
    if (!osap_str_set(s)) return sqlite3_bind_null(stmt, idx);
    return sqlite3_bind_text(stmt, idx, s, -1, SQLITE_TRANSIENT);
}

void osap__sqlite_column_copy(sqlite3_stmt *stmt, int col, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(stmt, col);
    size_t n = t ? (size_t)sqlite3_column_bytes(stmt, col) : 0;
    if (cap == 0) return;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(dst, t, n);
    dst[n] = '\0';
}

/* ------------------------------------------------------------------------ */
/* Open and close                                                           */
/* ------------------------------------------------------------------------ */

/* Create the database file with mode 0600 before SQLite opens it (SQLite would
 * use 0644 minus the umask); its -wal and -shm files inherit the mode. */
static osap_err create_private(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
        return OSAP_OK;
    }
    if (errno == EEXIST) return OSAP_OK;
    OSAP_LOGE("store", "cannot create %s: %s", path, strerror(errno));
    return errno == EACCES ? OSAP_EPERM : OSAP_EIO;
}

static osap_err exec_sql(struct osap_store *st, const char *sql, const char *what)
{
    char *msg = NULL;
    int rc = sqlite3_exec(handle_of(st)->db, sql, NULL, NULL, &msg);
    sqlite3_free(msg);
    return rc == SQLITE_OK ? OSAP_OK : osap__sqlite_error(st, rc, what);
}

static void sqlite_close(struct osap_store *st)
{
    struct osap__sqlite *h = handle_of(st);
    for (size_t i = 0; i < h->n_cache; i++)
        sqlite3_finalize(h->cache[i].stmt);
    sqlite3_close(h->db);
    osap_free(h);
}

static osap_err sqlite_open(const struct osap_store_config *cfg, const char *data_dir,
                            struct osap_store **out)
{
    struct osap__sqlite *h = NULL;
    char *path = NULL, pragmas[256], msg[256];
    osap_err err;
    int rc, version = 0;

    err = osap_path_join(data_dir, OSAP_STORE_SQLITE_FILE, &path);
    if (err) return err;
    err = create_private(path);
    if (err) goto fail;
    h = osap_calloc(1, sizeof(*h));
    if (!h) {
        err = OSAP_ENOMEM;
        goto fail;
    }
    h->base.be = &osap__store_sqlite;
    rc = sqlite3_open_v2(path, &h->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        OSAP_LOGE("store", "cannot open %s: %s", path,
                  h->db ? sqlite3_errmsg(h->db) : sqlite3_errstr(rc));
        err = rc == SQLITE_NOMEM ? OSAP_ENOMEM : OSAP_ESTORE;
        goto fail;
    }
    sqlite3_extended_result_codes(h->db, 1);
    sqlite3_busy_timeout(h->db, (int)cfg->busy_timeout_ms);
    /* WAL: readers do not block the writer; the daemon and admin commands share
     * the file. Changing the journal mode needs a moment of exclusive access, so
     * it too runs under the busy timeout. */
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s; PRAGMA foreign_keys = ON;"
             " PRAGMA cache_size = -%llu;",
             strcmp(cfg->synchronous, "full") == 0 ? "FULL" : "NORMAL",
             (unsigned long long)(cfg->cache_size / 1024));
    err = exec_sql(&h->base, pragmas, "configure the database");
    if (err) goto fail;
    err = osap__sqlite_migrate(h->db, osap__sqlite_migrations, osap__sqlite_migration_count,
                               &version, msg, sizeof(msg));
    if (err) {
        OSAP_LOGE("store", "%s: %s", path, msg);
        goto fail;
    }
    h->base.schema_version = version;
    osap_free(path);
    *out = &h->base;
    return OSAP_OK;
fail:
    if (h) sqlite_close(&h->base);
    osap_free(path);
    return err;
}

static int schema_latest(void)
{
    return osap__sqlite_migrations[osap__sqlite_migration_count - 1].version;
}

/* ------------------------------------------------------------------------ */
/* Transactions                                                             */
/* ------------------------------------------------------------------------ */

static osap_err sqlite_begin(struct osap_store *st)
{
    static const char sql[] = "BEGIN IMMEDIATE";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    if (err) return err;
    err = osap__sqlite_exec(st, stmt, "begin a transaction", NULL);
    osap__sqlite_done(stmt);
    return err;
}

static osap_err sqlite_commit(struct osap_store *st)
{
    static const char sql[] = "COMMIT";
    sqlite3_stmt *stmt;
    osap_err err = osap__sqlite_stmt(st, sql, &stmt);
    if (err) return err;
    err = osap__sqlite_exec(st, stmt, "commit", NULL);
    osap__sqlite_done(stmt);
    return err;
}

static void sqlite_rollback(struct osap_store *st)
{
    if (!sqlite3_get_autocommit(handle_of(st)->db))
        sqlite3_exec(handle_of(st)->db, "ROLLBACK", NULL, NULL, NULL);
}

const struct osap_store_backend osap__store_sqlite = {
    .name = "sqlite",
    .schema_latest = schema_latest,
    .open = sqlite_open,
    .close = sqlite_close,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .devices = &osap__sqlite_device_ops,
    .sessions = &osap__sqlite_session_ops,
    .das_nodes = &osap__sqlite_das_node_ops,
    .users = &osap__sqlite_user_ops,
    .tokens = &osap__sqlite_token_ops,
    .events = &osap__sqlite_event_ops,
    .attributes = &osap__sqlite_attribute_ops,
    .desired = &osap__sqlite_desired_ops,
    .pictures = &osap__sqlite_picture_ops,
    .requests = &osap__sqlite_request_ops,
};
