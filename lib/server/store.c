/* Store handles: backend choice, transactions, error text (see store.h). */
#include "store_backend.h"

#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct osap_store_backend *const backends[] = {
    &osap__store_sqlite,
};

void osap__store_set_error(struct osap_store *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
    va_end(ap);
}

osap_err osap_store_open(const struct osap_store_config *cfg, const char *data_dir,
                         struct osap_store **out)
{
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
        if (strcmp(backends[i]->name, cfg->backend) == 0)
            return backends[i]->open(cfg, data_dir, out);
    }
    OSAP_LOGE("store", "unknown store backend '%s'", cfg->backend);
    return OSAP_ESTORE_BACKEND;
}

void osap_store_close(struct osap_store *st)
{
    if (!st) return;
    if (st->in_tx) st->be->rollback(st);
    st->be->close(st);
}

osap_err osap_store_begin(struct osap_store *st)
{
    osap_err err;
    if (st->in_tx) return OSAP_ESTATE;
    err = st->be->begin(st);
    if (err == OSAP_OK) st->in_tx = true;
    return err;
}

osap_err osap_store_commit(struct osap_store *st)
{
    osap_err err;
    if (!st->in_tx) return OSAP_ESTATE;
    err = st->be->commit(st);
    /* A failed COMMIT (busy) leaves the transaction open: the caller rolls back. */
    if (err == OSAP_OK) st->in_tx = false;
    return err;
}

void osap_store_rollback(struct osap_store *st)
{
    if (!st->in_tx) return;
    st->be->rollback(st);
    st->in_tx = false;
}

int osap_store_schema_version(const struct osap_store *st)
{
    return st->schema_version;
}

int osap_store_schema_latest(void)
{
    return osap__store_sqlite.schema_latest();
}

const char *osap_store_errmsg(const struct osap_store *st)
{
    return st->errmsg;
}

const char *osap_store_backend(const struct osap_store *st)
{
    return st->be->name;
}
