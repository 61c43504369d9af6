/* The [store] settings table (see store.h). */
#include "store.h"

#include <stddef.h>

#define F(field) offsetof(struct osap_store_config, field)

static const struct osap_cfg_item store_items[] = {
    {"backend", OSAP_CFG_STRING, "sqlite", 0, 0, F(backend),
     "Database backend. sqlite keeps everything in data_dir/osap.db.", "sqlite", 0},
    {"busy_timeout", OSAP_CFG_DURATION, "5s", 0, 600000, F(busy_timeout_ms),
     "How long a write waits for another writer (daemon threads, admin commands) before it "
     "fails as busy.",
     NULL, 0},
    {"synchronous", OSAP_CFG_STRING, "normal", 0, 0, F(synchronous),
     "sqlite: normal = durable across crashes of osapd, a power loss may drop the last "
     "commits; full = also durable across power loss, slower.",
     "normal|full", 0},
    {"cache_size", OSAP_CFG_SIZE, "8MiB", 64 * 1024, (int64_t)1 << 34, F(cache_size),
     "sqlite: page cache of each handle (every thread that uses the store has one).", NULL, 0},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL, 0},
};

const struct osap_cfg_table osap_store_settings = {
    "store",
    "The database: devices, sessions, DAS nodes, users, tokens, events, attributes.",
    sizeof(struct osap_store_config),
    store_items,
};
