/*
 * The platform service of osapd ("api"): the REST API under /api/v1 (devices,
 * attributes, operations, events and their live stream, pictures, tokens),
 * the OpenAPI document and the web console's files. See docs/API.md for the
 * API and docs/ARCHITECTURE.md ("Platform (api)") for its design.
 *
 * Its state, as osapd_service_find(ctx, "api") returns it, is a struct api
 * (opaque outside src/osapd/api).
 */
#ifndef OSAPD_API_H
#define OSAPD_API_H

#include "service.h"

#include <stdint.h>

/** The "api" service descriptor, listed in src/osapd/services.c. */
extern const struct osapd_service osapd_api_service;

struct api;

/** The TCP port the running api listens on (useful with port 0 in tests). */
uint16_t api_port(const struct api *api);

#endif /* OSAPD_API_H */
