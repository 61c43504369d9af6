/* Decisions at the head of every request, before any byte of its body is read
 * (the HTTP layer's head handler, http.h osap_http_head_fn): the route (404,
 * 405), the service stopping (503), the bearer token's presence and form (401),
 * the body against the route's ceiling (413: max_json_body, or picture_max_size
 * for picture uploads); then, for a request with a body, the token itself on a
 * store thread (401 without reading the body). Only then is the body admitted.
 * The call made here carries the route, its path parameters and the token on to
 * api_router_handle(); a request without a body has its token checked by its
 * route's first store step, as before. Limits before authentication are the
 * head's (HTTP layer), after it the route's. */
#include "api/api_internal.h"

#include "osap/alloc.h"

#include <openssl/crypto.h>
#include <string.h>

uint64_t api_body_max(const struct api *api, const struct api_route *route)
{
    if (!route) return 0;
    if (route->raw_body) return api->cfg->picture_max_size + API_MULTIPART_SLACK;
    return api->cfg->max_json_body;
}

/* Read the body now; on refusal (413 over the ceiling, 503 over the server's body
 * budget) or when the client has gone, the request is finished: the call goes. */
static void admit(struct api_call *c)
{
    uint64_t max = api_body_max(c->api, c->route);

    if (osap_http_accept_body(c->req, max) == OSAP_OK) return; /* on to the handler */
    c->req = NULL;
    api_call_free(c);
}

/* The token alone: call_work() checks it before the (empty) work. */
static void verify_work(struct api_call *c, struct osap_store *st)
{
    (void)c;
    (void)st;
}

static void verified(struct api_call *c)
{
    if (!c->req) {
        api_call_free(c); /* the client left meanwhile */
        return;
    }
    admit(c);
}

static void console_head(struct osap_http_request *req)
{
    if (req->method != OSAP_HTTP_GET && req->method != OSAP_HTTP_HEAD) {
        osap_http_header(req, "Allow", "GET, HEAD");
        api_respond_error(req, 405, API_E_METHOD, NULL, "the console is read-only");
        return;
    }
    if (req->content_length != 0) {
        api_respond_error(req, 413, API_E_TOO_LARGE, NULL, "the console takes no body");
        return;
    }
    (void)osap_http_accept_body(req, 0);
}

void api_router_head(struct osap_http_request *req, void *userdata)
{
    struct api *api = userdata;
    const struct api_route *route;
    const char *args[API_ARGS_MAX];
    char allow[96];
    char token[API_TOKEN_MAX + 1];
    size_t nargs = 0;
    uint64_t max;
    struct api_call *c;

    req->userdata = NULL;
    if (req->nsegments == 0 || strcmp(req->segments[0], "api") != 0) {
        console_head(req);
        return;
    }
    if (api->stopping) {
        api_respond_error(req, 503, API_E_UNAVAILABLE, NULL, "the service is stopping");
        return;
    }
    route = api_route_find(req, args, &nargs, allow, sizeof(allow));
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
    token[0] = '\0';
    if (!route->is_public &&
        !api_auth_token(req, route->start == api_events_stream, token, sizeof(token))) {
        osap_http_header(req, "WWW-Authenticate", "Bearer realm=\"osap\"");
        api_respond_error(req, 401, API_E_UNAUTHORIZED, NULL,
                          "a bearer token is required (Authorization: Bearer <token>)");
        return;
    }
    max = api_body_max(api, route);
    if (req->content_length > 0 && (uint64_t)req->content_length > max) {
        api_respond_error(req, 413, API_E_TOO_LARGE, NULL,
                          "the body is larger than %llu bytes (%s)", (unsigned long long)max,
                          route->raw_body ? "picture_max_size" : "max_json_body");
        goto out;
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
    c->at_head = true;
    req->userdata = c;
    if (c->token && req->content_length != 0) {
        /* no body byte before the token is known good */
        api_call_submit(c, verify_work, verified);
        goto out;
    }
    admit(c);
    goto out;
nomem_call:
    osap_http_on_abort(req, NULL, NULL);
    c->req = NULL;
    api_call_free(c);
nomem:
    api_respond_error(req, 500, API_E_INTERNAL, NULL, "out of memory");
out:
    OPENSSL_cleanse(token, sizeof(token));
}
