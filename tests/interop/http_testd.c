/*
 * http-testd: a small server on the HTTP layer of lib/server, for the interop
 * tests (tests/interop/test_http_*.py) that drive it with real clients (curl,
 * python http.client and ssl). Prints "PORT <n>" once listening; exits 0 after
 * a graceful close on SIGTERM, SIGINT or end of stdin.
 *
 *   http-testd [--host A] [--port N] [--tls-cert F --tls-key F] [--static DIR]
 *              [--max-body N] [--header-timeout MS] [--idle-timeout MS]
 *              [--heartbeat MS] [--max-conns N]
 */
#include "http.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *static_dir = ".";
static uv_loop_t *loop;
static osap_http_server_t *server;
static uv_signal_t sigterm, sigint;
static uv_pipe_t stdin_pipe;

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void handle_echo(struct osap_http_request *req)
{
    char hex[65];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "method", req->method_name);
    cJSON_AddStringToObject(o, "path", req->path);
    cJSON *segs = cJSON_AddArrayToObject(o, "segments");
    for (size_t i = 0; i < req->nsegments; i++)
        cJSON_AddItemToArray(segs, cJSON_CreateString(req->segments[i]));
    cJSON *params = cJSON_AddObjectToObject(o, "params");
    for (size_t i = 0; i < req->nparams; i++)
        cJSON_AddStringToObject(params, req->params[i].name, req->params[i].value);
    cJSON *headers = cJSON_AddObjectToObject(o, "headers");
    for (size_t i = 0; i < req->nheaders; i++)
        cJSON_AddStringToObject(headers, req->headers[i].name, req->headers[i].value);
    cJSON_AddNumberToObject(o, "body_len", (double)req->body_len);
    sha256_hex(req->body, req->body_len, hex);
    cJSON_AddStringToObject(o, "body_sha256", hex);
    cJSON_AddBoolToObject(o, "tls", req->tls);
    cJSON_AddNumberToObject(o, "http_minor", req->http_minor);
    osap_http_respond_json(req, 200, o);
    cJSON_Delete(o);
}

static void handle_upload(struct osap_http_request *req)
{
    struct osap_http_multipart *mp = NULL;
    struct osap_http_multipart_limits lim = {
        .max_parts = 8, .max_part_bytes = 4u << 20, .max_header_bytes = 1024};
    osap_err err = osap_http_multipart_parse(osap_http_request_header(req, "Content-Type"),
                                             req->body, req->body_len, &lim, &mp);
    cJSON *o = cJSON_CreateObject();
    if (err) {
        cJSON_AddStringToObject(o, "error", osap_errname(err));
        osap_http_respond_json(req, err == OSAP_ETOOBIG ? 413 : 400, o);
        cJSON_Delete(o);
        return;
    }
    cJSON *parts = cJSON_AddArrayToObject(o, "parts");
    for (size_t i = 0; i < mp->nparts; i++) {
        const struct osap_http_part *p = &mp->parts[i];
        char hex[65];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "name", p->name);
        if (p->filename) cJSON_AddStringToObject(j, "filename", p->filename);
        if (p->content_type) cJSON_AddStringToObject(j, "content_type", p->content_type);
        cJSON_AddNumberToObject(j, "len", (double)p->len);
        sha256_hex(p->data, p->len, hex);
        cJSON_AddStringToObject(j, "sha256", hex);
        cJSON_AddItemToArray(parts, j);
    }
    osap_http_multipart_free(mp);
    osap_http_respond_json(req, 200, o);
    cJSON_Delete(o);
}

struct timed {
    uv_timer_t timer;
    struct osap_http_request *req;
    int left; /* SSE: events still to send; -1 forever */
    int seq;
};

static void timed_closed(uv_handle_t *h)
{
    free(h->data);
}

static void timed_abort(struct osap_http_request *req, void *ud)
{
    struct timed *t = ud;
    t->req = NULL;
    uv_timer_stop(&t->timer);
    uv_close((uv_handle_t *)&t->timer, timed_closed);
}

static void defer_fire(uv_timer_t *tm)
{
    struct timed *t = tm->data;
    osap_http_respond(t->req, 200, "text/plain", "deferred", 8);
    uv_close((uv_handle_t *)&t->timer, timed_closed);
}

static void sse_tick(uv_timer_t *tm)
{
    struct timed *t = tm->data;
    char id[16], data[64];
    if (t->left == 0) {
        osap_http_stream_end(t->req);
        uv_timer_stop(&t->timer);
        uv_close((uv_handle_t *)&t->timer, timed_closed);
        return;
    }
    snprintf(id, sizeof(id), "%d", ++t->seq);
    snprintf(data, sizeof(data), "{\"seq\":%d}\nsecond line", t->seq);
    if (osap_http_sse_send(t->req, id, "tick", data) != OSAP_OK) {
        uv_timer_stop(&t->timer); /* dropped: the abort callback follows */
        return;
    }
    if (t->left > 0) t->left--;
}

static void handler(struct osap_http_request *req, void *ud)
{
    const char *first = req->nsegments ? req->segments[0] : "";
    if (strcmp(first, "hello") == 0) {
        osap_http_respond(req, 200, "text/plain", "hello", 5);
    } else if (strcmp(first, "json") == 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "serial", "DS-2CD2042");
        cJSON_AddBoolToObject(o, "online", 1);
        osap_http_respond_json(req, 200, o);
        cJSON_Delete(o);
    } else if (strcmp(first, "echo") == 0) {
        handle_echo(req);
    } else if (strcmp(first, "upload") == 0) {
        handle_upload(req);
    } else if (strcmp(first, "big") == 0) {
        const char *n = osap_http_request_param(req, "n");
        size_t len = n ? strtoul(n, NULL, 10) : 0;
        unsigned char *b = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++)
            b[i] = (unsigned char)(i * 7 % 251);
        osap_http_respond(req, 200, "application/octet-stream", b, len);
        free(b);
    } else if (strcmp(first, "defer") == 0 || strcmp(first, "sse") == 0) {
        struct timed *t = calloc(1, sizeof(*t));
        const char *ms = osap_http_request_param(req, "ms");
        const char *n = osap_http_request_param(req, "n");
        t->req = req;
        t->left = n ? atoi(n) : -1;
        uv_timer_init(loop, &t->timer);
        t->timer.data = t;
        osap_http_on_abort(req, timed_abort, t);
        uint64_t period = ms ? strtoul(ms, NULL, 10) : 100;
        if (first[0] == 'd') {
            uv_timer_start(&t->timer, defer_fire, period, 0);
        } else {
            osap_http_sse_start(req);
            uv_timer_start(&t->timer, sse_tick, period, period);
        }
    } else if (strcmp(first, "static") == 0) {
        osap_http_serve_static(req, static_dir, 1);
    } else {
        osap_http_respond(req, 404, "text/plain", "not found\n", 10);
    }
}

static void on_closed(void *ud)
{
    uv_close((uv_handle_t *)&sigterm, NULL);
    uv_close((uv_handle_t *)&sigint, NULL);
    if (!uv_is_closing((uv_handle_t *)&stdin_pipe)) uv_close((uv_handle_t *)&stdin_pipe, NULL);
}

static void shutdown_server(void)
{
    static bool done;
    if (done) return;
    done = true;
    osap_http_server_close(server, on_closed, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
    shutdown_server();
}

static void on_stdin_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    static char b[256];
    *buf = uv_buf_init(b, sizeof(b));
}

static void on_stdin(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    if (n < 0) shutdown_server();
}

static unsigned long num_arg(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s needs a value\n", argv[*i]);
        exit(2);
    }
    return strtoul(argv[++*i], NULL, 10);
}

int main(int argc, char **argv)
{
    struct osap_http_config cfg;
    osap_http_config_init(&cfg);
    cfg.port = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--host") == 0 && i + 1 < argc)
            cfg.host = argv[++i];
        else if (strcmp(a, "--port") == 0)
            cfg.port = (uint16_t)num_arg(argc, argv, &i);
        else if (strcmp(a, "--tls-cert") == 0 && i + 1 < argc)
            cfg.tls_cert_file = argv[++i];
        else if (strcmp(a, "--tls-key") == 0 && i + 1 < argc)
            cfg.tls_key_file = argv[++i];
        else if (strcmp(a, "--static") == 0 && i + 1 < argc)
            static_dir = argv[++i];
        else if (strcmp(a, "--max-body") == 0)
            cfg.max_body_bytes = num_arg(argc, argv, &i);
        else if (strcmp(a, "--header-timeout") == 0)
            cfg.header_timeout_ms = (uint32_t)num_arg(argc, argv, &i);
        else if (strcmp(a, "--idle-timeout") == 0)
            cfg.idle_timeout_ms = (uint32_t)num_arg(argc, argv, &i);
        else if (strcmp(a, "--heartbeat") == 0)
            cfg.sse_heartbeat_ms = (uint32_t)num_arg(argc, argv, &i);
        else if (strcmp(a, "--max-conns") == 0)
            cfg.max_connections = (uint32_t)num_arg(argc, argv, &i);
        else {
            fprintf(stderr, "unknown argument %s\n", a);
            return 2;
        }
    }
    loop = uv_default_loop();
    osap_err err = osap_http_server_new(loop, &cfg, handler, NULL, &server);
    if (err) {
        fprintf(stderr, "http-testd: %s\n", osap_strerror(err));
        return 1;
    }
    uv_signal_init(loop, &sigterm);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    uv_signal_init(loop, &sigint);
    uv_signal_start(&sigint, on_signal, SIGINT);
    uv_pipe_init(loop, &stdin_pipe, 0);
    if (uv_pipe_open(&stdin_pipe, 0) == 0)
        uv_read_start((uv_stream_t *)&stdin_pipe, on_stdin_alloc, on_stdin);
    printf("PORT %u\n", osap_http_server_port(server));
    fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(loop) == 0 ? 0 : 3;
    return rc;
}
