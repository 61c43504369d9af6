/* The [models] settings table (see models.h). */
#include "models.h"

#include <stddef.h>

#define F(field) offsetof(struct osap_models_config, field)

static const struct osap_cfg_item models_items[] = {
    {"models_dir", OSAP_CFG_PATH, "./models", 0, 4095, F(models_dir),
     "Directory of thing models, loaded at start and on SIGHUP: NAME.osm (compiled, templates "
     "found here) and NAME.json (compiled by osap-modelc). The default is the models/ directory "
     "of the source tree when osapd starts there, as `make run` does. Empty = no models.",
     NULL, 0},
    {"map", OSAP_CFG_LIST, "", 0, 4096, F(map),
     "Models of devices whose provisioned model names none: DevType:model items (the DevType "
     "of the device's registration), or Prefix*:model for every DevType starting with Prefix.",
     NULL, 0},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL, 0},
};

const struct osap_cfg_table osap_models_settings = {
    "models",
    "Thing models: what devices offer, used to check their values and served as device "
    "profiles.",
    sizeof(struct osap_models_config),
    models_items,
};
