/*
 * The [api] section: settings of the platform's REST API and console. The api
 * owner extends this table (src/osapd/api/api_config.c); each new setting also
 * goes into etc/osapd.conf (a unit test checks that).
 */
#ifndef OSAPD_API_CONFIG_H
#define OSAPD_API_CONFIG_H

#include "config.h"

#include <stdint.h>

/** Values of [api]. */
struct api_config {
    char *listen; /* address to listen on */
    int64_t port; /* HTTP TCP port */
};

/** The [api] table. */
extern const struct osap_cfg_table api_config_table;

#endif /* OSAPD_API_CONFIG_H */
