/* Routing: /api/v1 routes to their handlers (404 for unknown paths, 405 with
 * Allow for known paths with another method, 413 for JSON bodies over the
 * setting, 401 without a bearer token), everything else to the console files. */
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
    {OSAP_HTTP_GET, "/api/v1/models/{name}", false, false, api_model_get},
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

static void serve_console(struct api *api, struct osap_http_request *req)
{
    if (req->method != OSAP_HTTP_GET && req->method != OSAP_HTTP_HEAD) {
        osap_http_header(req, "Allow", "GET, HEAD");
        api_respond_error(req, 405, API_E_METHOD, NULL, "the console is read-only");
        return;
    }
    if (!api->cfg->web_root[0]) {
        api_respond_error(req, 404, API_E_NOT_FOUND, NULL, "no web console is configured");
        return;
    }
    osap_http_serve_static(req, api->cfg->web_root, 0);
}

void api_router_handle(struct osap_http_request *req, void *userdata)
{
    struct api *api = userdata;
    const struct api_route *route = NULL;
    const char *args[API_ARGS_MAX];
    char allow[96] = "";
    char token[API_TOKEN_MAX + 1];
    enum osap_http_method m = req->method == OSAP_HTTP_HEAD ? OSAP_HTTP_GET : req->method;
    size_t nargs = 0;
    struct api_call *c;

    if (req->nsegments == 0 || strcmp(req->segments[0], "api") != 0) {
        serve_console(api, req);
        return;
    }
    if (api->stopping) {
        api_respond_error(req, 503, API_E_UNAVAILABLE, NULL, "the service is stopping");
        return;
    }
    for (size_t i = 0; i < api_route_count; i++) {
        const struct api_route *r = &api_routes[i];
        if (!path_matches(r->pattern, req, NULL, NULL)) continue;
        if (r->method == m) {
            route = r;
            path_matches(r->pattern, req, args, &nargs);
            break;
        }
        if (!strstr(allow, method_text(r->method))) {
            size_t n = strlen(allow);
            snprintf(allow + n, sizeof(allow) - n, "%s%s", n ? ", " : "", method_text(r->method));
            if (r->method == OSAP_HTTP_GET) {
                n = strlen(allow);
                snprintf(allow + n, sizeof(allow) - n, ", HEAD");
            }
        }
    }
    if (!route) {
        if (allow[0]) {
            osap_http_header(req, "Allow", allow);
            api_respond_error(req, 405, API_E_METHOD, NULL, "%s is not allowed here (allowed: %s)",
                              req->method_name, allow);
        } else {
            api_respond_error(req, 404, API_E_NOT_FOUND, NULL, "no such resource");
        }
        return;
    }
    if (!route->raw_body && req->body_len > api->cfg->max_json_body) {
        api_respond_error(req, 413, API_E_TOO_LARGE, NULL,
                          "the body is larger than %llu bytes (max_json_body)",
                          (unsigned long long)api->cfg->max_json_body);
        return;
    }
    token[0] = '\0';
    if (!route->is_public &&
        !api_auth_token(req, route->start == api_events_stream, token, sizeof(token))) {
        osap_http_header(req, "WWW-Authenticate", "Bearer realm=\"osap\"");
        api_respond_error(req, 401, API_E_UNAUTHORIZED, NULL,
                          "a bearer token is required (Authorization: Bearer <token>)");
        return;
    }
    c = api_call_new(api, req, route);
    if (!c) goto nomem;
    for (size_t i = 0; i < nargs; i++) {
        size_t n = strlen(args[i]);
        c->args[i] = osap_malloc(n + 1);
        if (!c->args[i]) goto nomem_call;
        memcpy(c->args[i], args[i], n + 1);
    }
    if (token[0]) {
        size_t n = strlen(token);
        c->token = osap_malloc(n + 1);
        if (!c->token) goto nomem_call;
        memcpy(c->token, token, n + 1);
    }
    route->start(c);
    return;
nomem_call:
    c->req = NULL;
    osap_http_on_abort(req, NULL, NULL);
    api_call_free(c);
nomem:
    api_respond_error(req, 500, API_E_INTERNAL, NULL, "out of memory");
}
