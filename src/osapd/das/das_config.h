/*
 * The [das] section: settings of the Device Access Service (the MQTT server).
 * The DAS owner extends this table (src/osapd/das/das_config.c); each new setting
 * also goes into etc/osapd.conf (a unit test checks that).
 */
#ifndef OSAPD_DAS_CONFIG_H
#define OSAPD_DAS_CONFIG_H

#include "config.h"

#include <stdbool.h>
#include <stdint.h>

/** Values of [das]. */
struct das_config {
    char *listen;                /* address to listen on */
    int64_t port;                /* MQTT TCP port */
    char *advertise;             /* address the LBS hands to devices for this node */
    bool allow_anonymous;        /* MQTT clients without user name */
    int64_t password_iterations; /* PBKDF2 iterations of new MQTT user passwords */
};

/** The [das] table. */
extern const struct osap_cfg_table das_config_table;

#endif /* OSAPD_DAS_CONFIG_H */
