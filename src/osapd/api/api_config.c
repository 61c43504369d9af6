/* The [api] settings table (see api_config.h). The api service extends it. */
#include "api/api_config.h"

#include <stddef.h>

#define F(field) offsetof(struct api_config, field)

static const struct osap_cfg_item api_items[] = {
    {"listen", OSAP_CFG_ADDRESS, "127.0.0.1", 0, 0, F(listen),
     "Address the REST API and web console listen on.", NULL, 0},
    {"port", OSAP_CFG_INT, "8080", 1, 65535, F(port), "TCP port of the REST API (HTTP).", NULL, 0},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL, 0},
};

const struct osap_cfg_table api_config_table = {
    "api",
    "Platform: REST API (/api/v1), web console, event and picture services.",
    sizeof(struct api_config),
    api_items,
};
