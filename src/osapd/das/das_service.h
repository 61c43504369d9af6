/*
 * The DAS service of osapd: the MQTT 3.1.1 server devices and applications connect
 * to. Its state, as osapd_service_find(ctx, "das") returns it, is a struct das
 * (das_hooks.h), which das_api.h calls struct osapd_das.
 */
#ifndef OSAPD_DAS_SERVICE_H
#define OSAPD_DAS_SERVICE_H

#include "service.h"

/** The "das" service descriptor, listed in src/osapd/services.c. */
extern const struct osapd_service das_service;

#endif /* OSAPD_DAS_SERVICE_H */
