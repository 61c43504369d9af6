/*
 * The [das_device] section: settings of the DAS's OSAP device layer (device_*.c):
 * platform requests to devices and the $osap/ application namespace. The broker
 * core's settings are in [das] (das_config.h).
 */
#ifndef OSAPD_DEVICE_CONFIG_H
#define OSAPD_DEVICE_CONFIG_H

#include "config.h"

#include <stdbool.h>
#include <stdint.h>

/** Values of [das_device]. */
struct device_config {
    int64_t request_timeout; /* ms a platform request waits for the device's reply */
    int64_t max_requests;    /* platform requests in flight per device */
    bool republish;          /* decrypted device messages on $osap/... */
    bool republish_raw;      /* also every v3 message on $osap/<sn>/raw/... */
};

/** The [das_device] table. */
extern const struct osap_cfg_table device_config_table;

#endif /* OSAPD_DEVICE_CONFIG_H */
