/*
 * What the store tests share: a scratch directory for the database, the store
 * settings they open it with, and a device to hang rows on. Header-only
 * (static inline) so each test executable takes what it uses.
 */
#ifndef TEST_STORE_FIXTURE_H
#define TEST_STORE_FIXTURE_H

#include "store.h"
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The settings the tests open their store with: SQLite, synchronous=normal, a
 * 1 MiB page cache, @p busy_timeout_ms to wait for a lock. */
static inline void store_fixture_config(struct osap_store_config *cfg, int64_t busy_timeout_ms)
{
    cfg->backend = "sqlite";
    cfg->busy_timeout_ms = busy_timeout_ms;
    cfg->synchronous = "normal";
    cfg->cache_size = 1 << 20;
}

/* Add the device @p serial (SAP, code ABCDEF) to @p st. */
static inline osap_err store_fixture_device(struct osap_store *st, const char *serial)
{
    struct osap_device d;
    memset(&d, 0, sizeof(d));
    d.auth_mode = OSAP_AUTH_SAP;
    strcpy(d.secret, "ABCDEF");
    snprintf(d.serial, sizeof(d.serial), "%s", serial);
    return osap_store_device_add(st, &d);
}

/* A store test's state: its scratch directory, the database path in it, the
 * settings and (once opened) the handle. */
struct store_fixture {
    char dir[4096];
    char db[4200];
    struct osap_store_config cfg;
    struct osap_store *st;
};

/* A cmocka setup: a new fixture in @p state with the scratch directory
 * osap-test-NAME-XXXXXX and the settings (2 s busy timeout); with @p open the
 * store is opened and gets the devices of the NULL-terminated @p serials (may be
 * NULL). 0, or -1. */
static inline int store_fixture_setup(void **state, const char *name, bool open,
                                      const char *const *serials)
{
    struct store_fixture *fx = calloc(1, sizeof(*fx));

    if (!fx) return -1;
    *state = fx;
    if (test_scratch_dir(fx->dir, sizeof(fx->dir), name)) return -1;
    snprintf(fx->db, sizeof(fx->db), "%s/osap.db", fx->dir);
    store_fixture_config(&fx->cfg, 2000);
    if (!open) return 0;
    if (osap_store_open(&fx->cfg, fx->dir, &fx->st) != OSAP_OK) return -1;
    for (; serials && *serials; serials++)
        if (store_fixture_device(fx->st, *serials) != OSAP_OK) return -1;
    return 0;
}

/* The cmocka teardown of store_fixture_setup(): the store closed, the scratch
 * directory removed, the fixture freed. */
static inline int store_fixture_teardown(void **state)
{
    struct store_fixture *fx = *state;
    int rc;

    if (!fx) return 0;
    osap_store_close(fx->st);
    rc = fx->dir[0] ? test_rmtree(fx->dir) : 0;
    free(fx);
    *state = NULL;
    return rc;
}

#endif
