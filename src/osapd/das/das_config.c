/* The [das] settings table (see das_config.h). The DAS service extends it. */
#include "das/das_config.h"

#include <stddef.h>

#define F(field) offsetof(struct das_config, field)

static const struct osap_cfg_item das_items[] = {
    {"listen", OSAP_CFG_ADDRESS, "127.0.0.1", 0, 0, F(listen),
     "Address the MQTT server accepts connections on (devices and MQTT clients).", NULL, 0},
    {"port", OSAP_CFG_INT, "1883", 1, 65535, F(port), "TCP port of the MQTT server.", NULL, 0},
    {"advertise", OSAP_CFG_ADDRESS, "127.0.0.1", 0, 0, F(advertise),
     "Address of this DAS node as devices must reach it; the LBS hands it to them "
     "(DasInfo.Address, under 64 characters).",
     NULL, 0},
    {"allow_anonymous", OSAP_CFG_BOOL, "no", 0, 0, F(allow_anonymous),
     "Accept MQTT clients that send no user name (devices always authenticate with their "
     "session).",
     NULL, 0},
    {"password_iterations", OSAP_CFG_INT, "20000", 1000, 10000000, F(password_iterations),
     "PBKDF2-HMAC-SHA512 iterations for MQTT user passwords set by `osapd user`; each "
     "CONNECT with a password costs about 1 ms per 1000.",
     NULL, 0},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL, 0},
};

const struct osap_cfg_table das_config_table = {
    "das",
    "Device Access Service: the MQTT 3.1.1 server for devices and applications.",
    sizeof(struct das_config),
    das_items,
};
