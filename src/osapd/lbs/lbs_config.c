/* The [lbs] settings table (see lbs_config.h). The LBS service extends it. */
#include "lbs/lbs_config.h"

#include <stddef.h>

#define F(field) offsetof(struct lbs_config, field)

static const struct osap_cfg_item lbs_items[] = {
    {"listen", OSAP_CFG_ADDRESS, "127.0.0.1", 0, 0, F(listen),
     "Address the LBS accepts device connections on (0.0.0.0 = every IPv4 address).", NULL, 0},
    {"port", OSAP_CFG_INT, "8666", 1, 65535, F(port),
     "TCP port of the LBS; devices are configured with it (8666 in the device SDK examples).", NULL,
     0},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL, 0},
};

const struct osap_cfg_table lbs_config_table = {
    "lbs",
    "Load Balancing Service: device authentication, devid and session keys, DAS assignment.",
    sizeof(struct lbs_config),
    lbs_items,
};
