/* libFuzzer target: the request side of osapd's HTTP server (lib/server/http_*.c)
 * with the limits the api service runs it with (api_http_config() on the [api]
 * defaults): llhttp over the bytes of one connection, cut at data-derived points,
 * request assembly (target, headers, bodies plain and chunked, pipelining, Expect,
 * HEAD, upgrades), the decisions at the head, and the responses the application
 * makes (at once, later, streamed, Server-Sent Events, with extra header fields).
 *
 * Input: a split seed, a flags byte, then the bytes the client sends. Flags:
 *   bit 0  the client half-closes before leaving (else it just goes away);
 *   bit 1  a head handler decides on each body (else the server admits it).
 * What the application does with a request depends on its first path segment:
 *   /later   answered at the next piece of input (an abort callback is set)
 *   /stream  a chunked stream, ended at the next piece
 *   /sse     Server-Sent Events from the query (id, event, data), then the end
 *   /header  an extra response field from the query (name, value)
 *   /early   (with a head handler) answered 403 before its body is read
 *   /hold    (with a head handler) the decision waits for the next piece
 *   anything else: 200 with the body echoed.
 * Checks: every request handed over is within the limits and consistent (target,
 * segments, parameters, header fields, a NUL after the body, the body as long as
 * Content-Length says); the calls the application makes succeed or fail as the
 * API says; the server only ever sends well-formed responses, in order, and lets
 * go of the connection. Seeds: the requests of tests/unit/server/
 * test_http_server.c and tests/interop/test_http_clients.py. */
#include "api/api_internal.h"
#include "fuzz_http_peer.h"
#include "osapd.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fz_http h;
static struct osap_http_config cfg;

/* The one request the application holds between pieces, if any. */
static struct app {
    struct osap_http_request *held;
    enum { HELD_NONE, HELD_ANSWER, HELD_STREAM, HELD_DECISION } what;
    bool use_head;
} app;

/* The settings of the api service's server (api_http_config()) with the defaults of
 * [api]. */
static void production_config(struct osap_http_config *c)
{
    static struct osap_config *conf; /* kept: the settings point into it */

    CHECK(osapd_config_new(&conf) == OSAP_OK);
    CHECK(api_http_config(osap_config_section(conf, "api"), c) == OSAP_OK);
}

static const char *segment0(const struct osap_http_request *req)
{
    return req->nsegments ? req->segments[0] : "";
}

static void on_abort(struct osap_http_request *req, void *userdata)
{
    (void)userdata;
    CHECK(app.held == req);
    app.held = NULL;
    app.what = HELD_NONE;
    h.progress++;
}

static void hold(struct osap_http_request *req, int what)
{
    CHECK(app.held == NULL); /* one request at a time per connection */
    app.held = req;
    app.what = what;
    osap_http_on_abort(req, on_abort, NULL);
}

static void let_go(void)
{
    osap_http_on_abort(app.held, NULL, NULL);
    app.held = NULL;
    app.what = HELD_NONE;
}

/* The request as the API promises it. */
static void check_request(const struct osap_http_request *req)
{
    const char *cl, *te;

    CHECK(req->method_name && req->method_name[0]);
    CHECK(req->target && strlen(req->target) <= cfg.max_url_bytes);
    CHECK(req->path && req->path[0] == '/');
    CHECK(strlen(req->path) <= strlen(req->target) || strcmp(req->path, "/") == 0);
    for (size_t i = 0; i < req->nsegments; i++)
        CHECK(req->segments[i] && req->segments[i][0] != '\0');
    for (size_t i = 0; i < req->nparams; i++)
        CHECK(req->params[i].name && req->params[i].value);
    CHECK(req->nheaders <= cfg.max_header_count);
    for (size_t i = 0; i < req->nheaders; i++)
        CHECK(req->headers[i].name && req->headers[i].value);
    CHECK(req->http_minor == 0 || req->http_minor == 1);
    if (req->http_minor == 1) CHECK(osap_http_request_header(req, "Host") != NULL);
    CHECK(req->body && req->body[req->body_len] == '\0');
    CHECK(req->body_len <= cfg.max_body_bytes);
    cl = osap_http_request_header(req, "Content-Length");
    te = osap_http_request_header(req, "Transfer-Encoding");
    if (cl && !te) CHECK(strtoull(cl, NULL, 10) == req->body_len);
    if (req->userdata) CHECK(req->body_len < (uintptr_t)req->userdata); /* the head's ceiling */
}

/* ---- the application ---- */

static void answer_echo(struct osap_http_request *req)
{
    osap_err err =
        osap_http_respond(req, 200, "application/octet-stream", req->body, req->body_len);
    CHECK(err == OSAP_OK || err == OSAP_ECLOSED);
}

static void answer_sse(struct osap_http_request *req)
{
    const char *id = osap_http_request_param(req, "id");
    const char *event = osap_http_request_param(req, "event");
    const char *data = osap_http_request_param(req, "data");
    osap_err err = osap_http_sse_start(req);

    CHECK(err == OSAP_OK || err == OSAP_ECLOSED);
    if (err) return;
    err = osap_http_sse_send(req, id, event, data);
    if ((id && strpbrk(id, "\r\n")) || (event && strpbrk(event, "\r\n")))
        CHECK(err == OSAP_EINVAL);
    else
        CHECK(err == OSAP_OK || err == OSAP_ECLOSED);
    err = osap_http_stream_end(req);
    CHECK(err == OSAP_OK || err == OSAP_ECLOSED);
}

static void answer_header(struct osap_http_request *req)
{
    const char *name = osap_http_request_param(req, "name");
    const char *value = osap_http_request_param(req, "value");
    osap_err err = osap_http_header(req, name ? name : "X-Fuzz", value ? value : "");

    for (const char *c = value; c && *c; c++)
        if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f) CHECK(err == OSAP_EINVAL);
    if (name && (!name[0] || strpbrk(name, " :\r\n\t"))) CHECK(err == OSAP_EINVAL);
    answer_echo(req);
}

static void on_request(struct osap_http_request *req, void *userdata)
{
    const char *s = segment0(req);

    (void)userdata;
    if (!app.use_head) fz_http_seen(&h, req);
    h.progress++;
    check_request(req);
    if (strcmp(s, "later") == 0) {
        hold(req, HELD_ANSWER);
    } else if (strcmp(s, "stream") == 0) {
        osap_err err = osap_http_stream_start(req, 200, "text/plain");
        CHECK(err == OSAP_OK || err == OSAP_ECLOSED);
        if (err) return;
        err = osap_http_stream_write(req, req->body, req->body_len);
        CHECK(err == OSAP_OK || err == OSAP_ECLOSED);
        hold(req, HELD_STREAM);
    } else if (strcmp(s, "sse") == 0) {
        answer_sse(req);
    } else if (strcmp(s, "header") == 0) {
        answer_header(req);
    } else if (strcmp(s, "json") == 0) {
        cJSON *j = cJSON_ParseWithLength((const char *)req->body, req->body_len);
        osap_err err = osap_http_respond_json(req, j ? 200 : 400, j);
        CHECK(err == OSAP_OK || err == OSAP_ECLOSED || err == OSAP_EJSON);
        cJSON_Delete(j);
    } else {
        answer_echo(req);
    }
}

static void decide(struct osap_http_request *req)
{
    const char *max = osap_http_request_param(req, "max");
    uint64_t limit = max ? strtoull(max, NULL, 10) : cfg.max_body_bytes;
    osap_err err;

    /* the handler checks the body against it (userdata is the application's) */
    req->userdata = (void *)(uintptr_t)(limit < UINTPTR_MAX ? limit + 1 : limit);
    err = osap_http_accept_body(req, limit);
    CHECK(err == OSAP_OK || err == OSAP_ETOOBIG || err == OSAP_EBUSY || err == OSAP_ECLOSED);
}

static void on_head(struct osap_http_request *req, void *userdata)
{
    const char *s = segment0(req);

    (void)userdata;
    fz_http_seen(&h, req);
    CHECK(req->body_len == 0 && req->body && req->body[0] == '\0');
    CHECK(req->content_length >= -1);
    if (strcmp(s, "early") == 0) {
        osap_err err = osap_http_respond(req, 403, "text/plain", "no\n", 3);
        CHECK(err == OSAP_OK || err == OSAP_ECLOSED);
    } else if (strcmp(s, "hold") == 0) {
        hold(req, HELD_DECISION);
    } else {
        decide(req);
    }
}

/* Between two pieces of input: what the application held goes on. */
static void app_tick(void)
{
    struct osap_http_request *req = app.held;
    int what = app.what;
    osap_err err;

    if (!req) return;
    let_go();
    h.progress++;
    switch (what) {
    case HELD_ANSWER: answer_echo(req); break;
    case HELD_STREAM:
        err = osap_http_stream_write(req, "end\n", 4);
        CHECK(err == OSAP_OK || err == OSAP_ECLOSED);
        err = osap_http_stream_end(req);
        CHECK(err == OSAP_OK || err == OSAP_ECLOSED);
        break;
    case HELD_DECISION: decide(req); break;
    default: break;
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    production_config(&cfg);
    fz_http_init(&h, &cfg, on_request, NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_split split;
    uint8_t flags;
    size_t off = 0;

    if (size < 2) return 0;
    fz_split_init(&split, data[0]);
    flags = data[1];
    data += 2;
    size -= 2;

    app.use_head = (flags & 2) != 0;
    osap_http_server_on_head(h.srv, app.use_head ? on_head : NULL);
    fz_http_connect(&h);
    while (off < size) {
        size_t n = fz_split_next(&split, size - off);
        app_tick();
        fz_http_send(&h, data + off, n);
        off += n;
    }
    app_tick();
    fz_http_pump(&h);
    app_tick();
    fz_http_close(&h, flags & 1);
    CHECK(app.held == NULL);
    return 0;
}
