/*
 * The [osapd] section: settings of the daemon itself (data directory, which
 * services run, logging, threads, pid file). Services read it through
 * osapd_core_config() (service.h); the table is registered by osapd's main.
 */
#ifndef OSAP_SERVER_CONFIG_CORE_H
#define OSAP_SERVER_CONFIG_CORE_H

#include "config.h"

#include <stdbool.h>
#include <stdint.h>

/** Values of [osapd]. Paths are absolute; "" means not set. */
struct osap_core_config {
    char *data_dir;               /* everything osapd stores lives below it */
    struct osap_strlist services; /* the services to start */
    char *log_level;              /* error|warn|info|debug */
    char *log_file;               /* "" = standard error */
    bool log_json;                /* JSON lines instead of text */
    int64_t worker_threads;       /* 0 = one per CPU core */
    char *pid_file;               /* "" = none */
};

/** The [osapd] table. */
extern const struct osap_cfg_table osap_core_settings;

#endif /* OSAP_SERVER_CONFIG_CORE_H */
