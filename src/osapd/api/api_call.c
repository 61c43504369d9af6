/* Calls: one deferred HTTP request of the API, its reply, and its trips to the
 * store threads (see api_internal.h for the ownership rules). */
#include "api/api_internal.h"

#include "log.h"
#include "osap/alloc.h"

#include <stdio.h>
#include <string.h>

static void call_abort(struct osap_http_request *req, void *userdata)
{
    struct api_call *c = userdata;

    (void)req;
    c->req = NULL;
    /* A busy call is freed by whoever holds it when it comes back; one made at
     * the head whose body was arriving has no other holder. */
    if (c->stream)
        api_stream_abort(c);
    else if (c->at_head && !c->busy)
        api_call_free(c);
}

struct api_call *api_call_new(struct api *api, struct osap_http_request *req,
                              const struct api_route *route)
{
    struct api_call *c = osap_calloc(1, sizeof(*c));

    if (!c) return NULL;
    c->api = api;
    c->req = req;
    c->route = route;
    osap_http_on_abort(req, call_abort, c);
    api->calls++;
    return c;
}

void api_reply_clear(struct api_reply *r)
{
    osap_free(r->body);
    memset(r, 0, sizeof(*r));
}

void api_call_free(struct api_call *c)
{
    if (!c) return;
    for (size_t i = 0; i < API_ARGS_MAX; i++)
        osap_free(c->args[i]);
    osap_free(c->token);
    api_reply_clear(&c->reply);
    if (c->data_free) c->data_free(c->data);
    osap_free((void *)c->das_result.output_json);
    api_link_unref(c->link);
    osap_free(c);
}

void api_reply_body(struct api_call *c, int status, const char *content_type, const void *body,
                    size_t len)
{
    char *copy = NULL;

    if (len) {
        copy = osap_malloc(len);
        if (!copy) {
            status = 500;
            content_type = NULL;
            len = 0;
        } else {
            memcpy(copy, body, len);
        }
    }
    osap_free(c->reply.body);
    c->reply.status = status;
    c->reply.content_type = content_type;
    c->reply.body = copy;
    c->reply.len = len;
}

void api_reply_json(struct api_call *c, int status, cJSON *json)
{
    char *text = json ? cJSON_PrintUnformatted(json) : NULL;

    cJSON_Delete(json);
    if (!text) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        return;
    }
    api_reply_body(c, status, "application/json", text, strlen(text));
    cJSON_free(text);
}

void api_reply_header(struct api_call *c, const char *name, const char *fmt, ...)
{
    va_list ap;

    if (c->reply.nheaders == API_HEADERS_MAX) return;
    c->reply.headers[c->reply.nheaders].name = name;
    va_start(ap, fmt);
    vsnprintf(c->reply.headers[c->reply.nheaders].value, sizeof(c->reply.headers[0].value), fmt,
              ap);
    va_end(ap);
    c->reply.nheaders++;
}

void api_call_respond(struct api_call *c)
{
    struct osap_http_request *req = c->req;
    struct api_reply *r = &c->reply;

    if (!req) return;
    c->req = NULL;
    osap_http_on_abort(req, NULL, NULL);
    if (r->status == 0) api_reply_error(c, 500, API_E_INTERNAL, NULL, "no reply");
    for (size_t i = 0; i < r->nheaders; i++)
        osap_http_header(req, r->headers[i].name, r->headers[i].value);
    osap_http_respond(req, r->status, r->content_type, r->body, r->len);
}

void api_call_finish(struct api_call *c)
{
    api_call_respond(c);
    api_call_free(c);
}

/* ---- trips to the store threads ---- */

static void call_work(struct api_job *job, struct osap_store *st)
{
    struct api_call *c = API_CONTAINER_OF(job, struct api_call, job);

    if (!st) {
        api_reply_error(c, 503, API_E_UNAVAILABLE, NULL, "the store is not available");
        return;
    }
    if (c->token && !api_auth_verify(c, st)) return;
    c->work(c, st);
}

static void call_done(struct api_link_item *item, bool live)
{
    struct api_call *c = API_CONTAINER_OF(item, struct api_call, job.item);

    if (!live) {
        api_call_free(c);
        return;
    }
    c->busy = false;
    if (c->stream) {
        /* The stream code decides (it may have been aborted meanwhile). */
        if (c->then) c->then(c);
        return;
    }
    if (!c->req && !c->then) {
        api_call_free(c);
        return;
    }
    if (c->reply.status == 0 && c->then) {
        c->then(c);
        return;
    }
    api_call_finish(c);
}

void api_call_submit(struct api_call *c, void (*work)(struct api_call *c, struct osap_store *st),
                     void (*then)(struct api_call *c))
{
    c->work = work;
    c->then = then;
    c->job.work = call_work;
    c->job.done = call_done;
    c->busy = true;
    if (api_pool_submit(c->api->pool, &c->job) != OSAP_OK) {
        c->busy = false;
        if (c->stream) {
            /* Stream set-up: let its next step see the failure. */
            api_reply_error(c, 503, API_E_UNAVAILABLE, NULL, "the service is stopping");
            if (c->then) c->then(c);
            return;
        }
        api_reply_error(c, 503, API_E_UNAVAILABLE, NULL, "the service is stopping");
        api_call_finish(c);
    }
}
