/* Stand-in for the OSAP device layer when osapd is built without it (no device_*.c
 * in this directory): no hooks are installed, every client is an ordinary MQTT
 * client. The build uses this file only then (see CMakeLists.txt). */
#include "das/das_internal.h"

osap_err das_device_layer_start(struct das *das, struct osapd_context *ctx)
{
    (void)das;
    (void)ctx;
    return OSAP_OK;
}

void das_device_layer_stop(struct das *das)
{
    (void)das;
}
