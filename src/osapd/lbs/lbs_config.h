/*
 * The [lbs] section: settings of the Load Balancing Service. The LBS owner
 * extends this table (src/osapd/lbs/lbs_config.c); each new setting also goes
 * into etc/osapd.conf (a unit test checks that).
 */
#ifndef OSAPD_LBS_CONFIG_H
#define OSAPD_LBS_CONFIG_H

#include "config.h"

#include <stdint.h>

/** Values of [lbs]. */
struct lbs_config {
    char *listen; /* address to listen on */
    int64_t port; /* TCP port */
};

/** The [lbs] table. */
extern const struct osap_cfg_table lbs_config_table;

#endif /* OSAPD_LBS_CONFIG_H */
