/* The [ingest] settings table (see ingest.h). */
#include "ingest/ingest.h"

#include <stddef.h>

#define F(field) offsetof(struct ingest_config, field)

static const struct osap_cfg_item ingest_items[] = {
    {"queue_max", OSAP_CFG_INT, "100000", 1, 100000000, F(queue_max),
     "Device records (events, attribute reports, status changes) waiting to be written at "
     "most; an event that finds the queue full is not acknowledged (the DAS closes the "
     "device's connection and the device sends it again after reconnecting).",
     NULL, 0},
    {"queue_max_bytes", OSAP_CFG_SIZE, "64MiB", 65536, 1099511627776, F(queue_max_bytes),
     "Bytes of records waiting to be written at most (same rule as queue_max).", NULL, 0},
    {"max_batch", OSAP_CFG_INT, "1000", 1, 1000000, F(max_batch),
     "Records written in one transaction at most (group commit).", NULL, 0},
    {"batch_delay", OSAP_CFG_DURATION, "1ms", 0, 1000, F(batch_delay),
     "After the first record of a batch, how long the writer waits for more before it "
     "commits; 0 = commit at once what is queued (records still group while a commit runs).",
     NULL, 0},
    {"synchronous", OSAP_CFG_STRING, "full", 0, 0, F(synchronous),
     "Durability of the ingest writer: full (an acknowledged event survives a power loss or "
     "an OS crash; one sync per batch) or normal (it survives a crash of osapd; the last "
     "batches may be lost when the host crashes).",
     "full|normal", 0},
    {"dedup_window", OSAP_CFG_DURATION, "10min", 0, 86400000, F(dedup_window),
     "An event without UUID is a repetition of a stored one of the same device with the "
     "same Seq received within this time (and since the device's last full registration).",
     NULL, 0},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL, 0},
};

const struct osap_cfg_table ingest_config_table = {
    "ingest",
    "Ingest: the writer that stores device events, attribute reports and status changes.",
    sizeof(struct ingest_config),
    ingest_items,
};
