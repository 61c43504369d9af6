/* The [osapd] settings table (see config_core.h). */
#include "config_core.h"

#include <stddef.h>

#define F(field) offsetof(struct osap_core_config, field)

static const struct osap_cfg_item core_items[] = {
    {"data_dir", OSAP_CFG_PATH, "./var", 0, 4096, F(data_dir),
     "Directory for the database and every other file osapd keeps; created with mode 0700 "
     "if missing. Relative paths are taken from the directory osapd is started in.",
     NULL, 0},
    {"services", OSAP_CFG_LIST, "lbs, das, api", 0, 32, F(services),
     "Services this process runs (an empty list runs none). They start in the order in which "
     "osapd knows them, whatever the order here, and stop in reverse.",
     NULL, 0},
    {"log_level", OSAP_CFG_STRING, "info", 0, 0, F(log_level),
     "Least severe level written to the log; each -v on the command line raises it by one.",
     "error|warn|info|debug", 0},
    {"log_file", OSAP_CFG_PATH, "", 0, 4096, F(log_file),
     "Append the log to this file instead of standard error; SIGHUP reopens it (log "
     "rotation).",
     NULL, 0},
    {"log_json", OSAP_CFG_BOOL, "no", 0, 0, F(log_json),
     "Write the log as JSON lines (one object per event) instead of text; --log-json sets it.",
     NULL, 0},
    {"worker_threads", OSAP_CFG_INT, "0", 0, 256, F(worker_threads),
     "Worker threads for services that use a pool (DAS event loops, LBS crypto); 0 = one per "
     "CPU core.",
     NULL, 0},
    {"pid_file", OSAP_CFG_PATH, "", 0, 4096, F(pid_file),
     "Write the process id to this file while osapd runs (locked; removed at exit); empty = "
     "none. --pid-file sets it.",
     NULL, 0},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL, 0},
};

const struct osap_cfg_table osap_core_settings = {
    "osapd",
    "The daemon: where it keeps its data, which services it runs, how it logs.",
    sizeof(struct osap_core_config),
    core_items,
};
