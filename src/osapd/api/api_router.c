/* Routing: the table of /api/v1 routes and their lookup (404 for unknown
 * paths, 405 with Allow for known paths with another method), and the handler
 * that runs a complete request's route; everything else goes to the console
 * files. What is refused before the body is read is in api_head.c. */
#include "api/api_internal.h"

#include "osap/alloc.h"
#include "util.h"

#include <string.h>

/* Literal routes come before parameterised ones of the same shape. */
const struct api_route api_routes[] = {
    {OSAP_HTTP_GET, "/api/v1/health", true, false, api_health_get},
    {OSAP_HTTP_GET, "/api/v1/openapi.json", true, false, api_openapi_get},
    {OSAP_HTTP_GET, "/api/v1/stats", false, false, api_stats_get},
    {OSAP_HTTP_POST, "/api/v1/devices", false, false, api_devices_create},
    {OSAP_HTTP_GET, "/api/v1/devices", false, false, api_devices_list},
    {OSAP_HTTP_GET, "/api/v1/devices/{serial}", false, false, api_device_get},
    {OSAP_HTTP_PATCH, "/api/v1/devices/{serial}", false, false, api_device_update},
    {OSAP_HTTP_DELETE, "/api/v1/devices/{serial}", false, false, api_device_delete},
    {OSAP_HTTP_POST, "/api/v1/devices/{serial}/block", false, false, api_device_block},
    {OSAP_HTTP_POST, "/api/v1/devices/{serial}/unblock", false, false, api_device_unblock},
    {OSAP_HTTP_GET, "/api/v1/devices/{serial}/attributes", false, false, api_attributes_get},
    {OSAP_HTTP_PUT, "/api/v1/devices/{serial}/attributes/{domain}/{identifier}", false, false,
     api_attribute_set},
    {OSAP_HTTP_POST, "/api/v1/devices/{serial}/operations/{domain}/{identifier}", false, false,
     api_operation_invoke},
    {OSAP_HTTP_GET, "/api/v1/devices/{serial}/events", false, false, api_device_events_list},
    {OSAP_HTTP_GET, "/api/v1/requests/{id}", false, false, api_request_get},
    {OSAP_HTTP_GET, "/api/v1/events", false, false, api_events_list},
    {OSAP_HTTP_GET, "/api/v1/events/stream", false, false, api_events_stream},
    {OSAP_HTTP_GET, "/api/v1/models", false, false, api_models_list},
    {OSAP_HTTP_GET, "/api/v1/models/{name}", false, false, api_model_get},
    {OSAP_HTTP_GET, "/api/v1/profiles/{model}/{file}", true, false, api_profile_get},
    {OSAP_HTTP_POST, "/api/v1/pictures", false, true, api_pictures_upload},
    {OSAP_HTTP_GET, "/api/v1/pictures", false, false, api_pictures_list},
    {OSAP_HTTP_GET, "/api/v1/pictures/{sha256}", false, false, api_picture_get},
    {OSAP_HTTP_DELETE, "/api/v1/pictures/{sha256}", false, false, api_picture_delete},
};
const size_t api_route_count = sizeof(api_routes) / sizeof(api_routes[0]);

static const char *method_text(enum osap_http_method m)
{
    switch (m) {
    case OSAP_HTTP_GET: return "GET";
    case OSAP_HTTP_HEAD: return "HEAD";
    case OSAP_HTTP_POST: return "POST";
    case OSAP_HTTP_PUT: return "PUT";
    case OSAP_HTTP_DELETE: return "DELETE";
    case OSAP_HTTP_PATCH: return "PATCH";
    case OSAP_HTTP_OPTIONS: return "OPTIONS";
    default: return "";
    }
}

/* Does the pattern match the request's segments? Parameters go to @p args
 * (pointers into the request) when given. */
static bool path_matches(const char *pattern, const struct osap_http_request *req,
                         const char **args, size_t *nargs)
{
    const char *p = pattern;
    size_t seg = 0, n = 0;

    while (*p) {
        const char *start, *end;
        size_t len;

        while (*p == '/')
            p++;
        if (!*p) break;
        start = p;
        end = strchr(p, '/');
        if (!end) end = p + strlen(p);
        len = (size_t)(end - start);
        if (seg >= req->nsegments) return false;
        if (start[0] == '{') {
            if (req->segments[seg][0] == '\0' || n == API_ARGS_MAX) return false;
            if (args) args[n] = req->segments[seg];
            n++;
        } else if (strlen(req->segments[seg]) != len ||
                   memcmp(req->segments[seg], start, len) != 0) {
            return false;
        }
        seg++;
        p = end;
    }
    if (seg != req->nsegments) return false;
    if (nargs) *nargs = n;
    return true;
}

const struct api_route *api_route_find(const struct osap_http_request *req, const char **args,
                                       size_t *nargs, char *allow, size_t allow_cap)
{
    enum osap_http_method m = req->method == OSAP_HTTP_HEAD ? OSAP_HTTP_GET : req->method;

    allow[0] = '\0';
    for (size_t i = 0; i < api_route_count; i++) {
        const struct api_route *r = &api_routes[i];
        if (!path_matches(r->pattern, req, NULL, NULL)) continue;
        if (r->method == m) {
            path_matches(r->pattern, req, args, nargs);
            return r;
        }
        if (!strstr(allow, method_text(r->method))) {
            size_t n = strlen(allow);
            snprintf(allow + n, allow_cap - n, "%s%s", n ? ", " : "", method_text(r->method));
            if (r->method == OSAP_HTTP_GET) {
                n = strlen(allow);
                snprintf(allow + n, allow_cap - n, ", HEAD");
            }
        }
    }
    return NULL;
}

static void serve_console(struct api *api, struct osap_http_request *req)
{
    if (!api->cfg->web_root[0]) {
        api_respond_error(req, 404, API_E_NOT_FOUND, NULL, "no web console is configured");
        return;
    }
    osap_http_serve_static(req, api->cfg->web_root, 0);
}

void api_router_handle(struct osap_http_request *req, void *userdata)
{
    struct api *api = userdata;
    struct api_call *c = req->userdata;

    /* Everything was decided at the head (api_head.c): the route, its path
     * parameters and token in the call, the body within the route's ceiling. */
    if (!c) {
        serve_console(api, req);
        return;
    }
    req->userdata = NULL;
    c->at_head = false;
    c->route->start(c);
}
