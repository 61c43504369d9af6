/* The [das_device] settings table (see device_config.h). */
#include "das/device_config.h"

#include <stddef.h>

#define F(field) offsetof(struct device_config, field)

static const struct osap_cfg_item device_items[] = {
    {"request_timeout", OSAP_CFG_DURATION, "10s", 100, 3600000, F(request_timeout),
     "How long a platform request (attribute set, operation, shadow set) waits for the "
     "device's reply before it fails with a time-out.",
     NULL, 0},
    {"max_requests", OSAP_CFG_INT, "16", 1, 65535, F(max_requests),
     "Platform requests one device may have in flight (sent, not answered); more are "
     "refused as busy.",
     NULL, 0},
    {"republish", OSAP_CFG_BOOL, "yes", 0, 0, F(republish),
     "Publish every decrypted device message as JSON on the $osap/ namespace for MQTT "
     "applications (see docs/TOPICS.md).",
     NULL, 0},
    {"republish_raw", OSAP_CFG_BOOL, "yes", 0, 0, F(republish_raw),
     "With republish: also publish every v3 device message on $osap/<sn>/raw/<rest of its "
     "topic>, next to the event, attribute and reply topics.",
     NULL, 0},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL, 0},
};

const struct osap_cfg_table device_config_table = {
    "das_device",
    "The DAS's OSAP device layer: platform requests to devices and the $osap/ namespace.",
    sizeof(struct device_config),
    device_items,
};
