/*
 * The HTTP server end to end: a server runs on its own loop in a thread, the
 * test drives it over real sockets with hand-written requests and reads the
 * exact responses. Every test gets a fresh server (short limits and timeouts).
 */
#include "testutil.h"

#include "http.h"
#include "osap/alloc.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- an allocator that counts live bytes and can fail (server thread only) ---- */

static atomic_long live_bytes;
static atomic_long fail_countdown = -1; /* >= 0: allocations left before failing */

struct hdr {
    size_t size;
    size_t pad;
};

static bool should_fail(void)
{
    long n = atomic_load(&fail_countdown);
    if (n < 0) return false;
    if (n == 0) return true;
    atomic_fetch_sub(&fail_countdown, 1);
    return false;
}

static void *c_malloc(size_t n, void *ud)
{
    if (should_fail()) return NULL;
    struct hdr *h = malloc(sizeof(*h) + n);
    if (!h) return NULL;
    h->size = n;
    atomic_fetch_add(&live_bytes, (long)n);
    return h + 1;
}

static void c_free(void *p, void *ud)
{
    if (!p) return;
    struct hdr *h = (struct hdr *)p - 1;
    atomic_fetch_sub(&live_bytes, (long)h->size);
    free(h);
}

static void *c_realloc(void *p, size_t n, void *ud)
{
    if (!p) return c_malloc(n, ud);
    if (should_fail()) return NULL;
    struct hdr *h = (struct hdr *)p - 1;
    size_t old = h->size;
    struct hdr *nh = realloc(h, sizeof(*nh) + n);
    if (!nh) return NULL;
    nh->size = n;
    atomic_fetch_add(&live_bytes, (long)n - (long)old);
    return nh + 1;
}

/* ---- the server thread ---- */

struct harness {
    uv_loop_t loop;
    uv_async_t async;
    uv_thread_t thread;
    uv_mutex_t mu;
    uv_cond_t cv;
    struct osap_http_config cfg;
    osap_http_server_t *srv;
    osap_err start_err;
    uint16_t port;
    bool started;
    bool head; /* head_handler decides on every request at its head */
    /* commands from the test thread */
    bool want_stats, stats_ready, want_close, closed_done;
    struct osap_http_stats stats;
    int loop_close_rc;
};

static atomic_int aborts;
static atomic_int sse_events_sent;
static atomic_int heads_seen;
static atomic_int last_accept; /* the result of the last osap_http_accept_body() */
static char static_dir[256];

/* A deferred response: a timer that answers later, unless the client leaves. */
struct deferred {
    uv_timer_t timer;
    struct osap_http_request *req;
};

static void deferred_closed(uv_handle_t *h)
{
    free(h->data);
}

static void deferred_fire(uv_timer_t *t)
{
    struct deferred *d = t->data;
    if (d->req) {
        osap_http_header(d->req, "X-Deferred", "yes");
        osap_http_respond(d->req, 200, "text/plain", "deferred", 8);
        d->req = NULL;
    }
    uv_close((uv_handle_t *)&d->timer, deferred_closed);
}

static void deferred_abort(struct osap_http_request *req, void *ud)
{
    struct deferred *d = ud;
    atomic_fetch_add(&aborts, 1);
    /* calls that finish the request are refused inside the abort callback */
    if (osap_http_respond(req, 200, NULL, NULL, 0) != OSAP_ECLOSED) abort();
    d->req = NULL;
    uv_timer_stop(&d->timer);
    uv_close((uv_handle_t *)&d->timer, deferred_closed);
}

/* An SSE stream fed by a timer (flood: as fast as possible, large events). */
struct stream {
    uv_timer_t timer;
    struct osap_http_request *req;
    bool flood;
    size_t limit; /* flood: stop after this many bytes (0 = never) */
    size_t sent;
};

static void stream_closed(uv_handle_t *h)
{
    free(h->data);
}

static void stream_abort(struct osap_http_request *req, void *ud)
{
    struct stream *s = ud;
    atomic_fetch_add(&aborts, 1);
    s->req = NULL;
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, stream_closed);
}

static void stream_tick(uv_timer_t *t)
{
    struct stream *s = t->data;
    static char big[16384];
    if (!s->req) return;
    if (s->flood) {
        memset(big, 'f', sizeof(big) - 1);
        for (int i = 0; i < 8; i++) {
            if (s->limit && s->sent >= s->limit) return;
            s->sent += sizeof(big);
            if (osap_http_sse_send(s->req, NULL, "flood", big) != OSAP_OK) {
                /* dropped: the request stays valid until its abort callback */
                uv_timer_stop(&s->timer);
                return;
            }
            atomic_fetch_add(&sse_events_sent, 1);
        }
    }
}

static void handle_echo(struct osap_http_request *req)
{
    char out[8192];
    size_t o = 0;
    o += (size_t)snprintf(out + o, sizeof(out) - o, "method=%s\npath=%s\nsegs=", req->method_name,
                          req->path);
    for (size_t i = 0; i < req->nsegments; i++)
        o += (size_t)snprintf(out + o, sizeof(out) - o, "%s[%s]", i ? "|" : "", req->segments[i]);
    o += (size_t)snprintf(out + o, sizeof(out) - o, "\nparams=");
    for (size_t i = 0; i < req->nparams; i++)
        o += (size_t)snprintf(out + o, sizeof(out) - o, "%s[%s]=[%s]", i ? "&" : "",
                              req->params[i].name, req->params[i].value);
    const char *xt = osap_http_request_header(req, "x-TEST");
    o += (size_t)snprintf(out + o, sizeof(out) - o,
                          "\nxtest=%s\nremote=%s\nbody=%zu:", xt ? xt : "(none)", req->remote_addr,
                          req->body_len);
    if (req->body_len < sizeof(out) - o) {
        memcpy(out + o, req->body, req->body_len);
        o += req->body_len;
    }
    osap_http_respond(req, 200, "text/plain", out, o);
}

static void handle_upload(struct osap_http_request *req)
{
    struct osap_http_multipart *mp = NULL;
    char out[1024];
    osap_err err = osap_http_multipart_parse(osap_http_request_header(req, "Content-Type"),
                                             req->body, req->body_len, NULL, &mp);
    if (err) {
        int n = snprintf(out, sizeof(out), "error=%s", osap_errname(err));
        osap_http_respond(req, 400, "text/plain", out, (size_t)n);
        return;
    }
    size_t o = (size_t)snprintf(out, sizeof(out), "parts=%zu", mp->nparts);
    for (size_t i = 0; i < mp->nparts; i++)
        o += (size_t)snprintf(out + o, sizeof(out) - o, " %s:%s:%s:%zu", mp->parts[i].name,
                              mp->parts[i].filename ? mp->parts[i].filename : "-",
                              mp->parts[i].content_type ? mp->parts[i].content_type : "-",
                              mp->parts[i].len);
    osap_http_multipart_free(mp);
    osap_http_respond(req, 200, "text/plain", out, o);
}

/* ---- the head handler: decisions before the body (paths /hd/...) ---- */

/* A decision taken later, from a timer (or never), unless the client leaves. */
struct decision {
    uv_timer_t timer;
    struct osap_http_request *req;
    uint64_t max;
    int status; /* 0: admit the body; else answer with it */
};

static void decision_closed(uv_handle_t *h)
{
    free(h->data);
}

static void decision_fire(uv_timer_t *t)
{
    struct decision *d = t->data;
    if (d->req) {
        osap_http_on_abort(d->req, NULL, NULL);
        if (d->status)
            osap_http_respond(d->req, d->status, "text/plain", "later", 5);
        else
            atomic_store(&last_accept, osap_http_accept_body(d->req, d->max));
        d->req = NULL;
    }
    uv_close((uv_handle_t *)&d->timer, decision_closed);
}

static void decision_abort(struct osap_http_request *req, void *ud)
{
    struct decision *d = ud;
    atomic_fetch_add(&aborts, 1);
    if (osap_http_accept_body(req, 10) != OSAP_ECLOSED) abort();
    d->req = NULL;
    uv_timer_stop(&d->timer);
    uv_close((uv_handle_t *)&d->timer, decision_closed);
}

static void head_handler(struct osap_http_request *req, void *ud)
{
    struct harness *h = ud;
    const char *first = req->nsegments ? req->segments[0] : "";
    const char *what = req->nsegments > 1 ? req->segments[1] : "";
    const char *max = osap_http_request_param(req, "max");
    uint64_t ceiling = max ? strtoull(max, NULL, 10) : h->cfg.max_body_bytes;

    atomic_fetch_add(&heads_seen, 1);
    /* at the head the body is empty, whatever is announced */
    if (req->body_len != 0 || !req->body) abort();
    if (strcmp(first, "hd") != 0) {
        atomic_store(&last_accept, osap_http_accept_body(req, ceiling));
        return;
    }
    if (strcmp(what, "deny") == 0) {
        osap_http_header(req, "WWW-Authenticate", "Bearer");
        osap_http_respond(req, 401, "text/plain", "denied", 6);
        /* decided: a second decision is refused */
        if (osap_http_accept_body(req, ceiling) != OSAP_ESTATE) abort();
        return;
    }
    if (strcmp(what, "later") == 0 || strcmp(what, "later-deny") == 0 ||
        strcmp(what, "never") == 0) {
        const char *ms = osap_http_request_param(req, "ms");
        struct decision *d = calloc(1, sizeof(*d));
        d->req = req;
        d->max = ceiling;
        d->status = strcmp(what, "later-deny") == 0 ? 401 : 0;
        uv_timer_init(&h->loop, &d->timer);
        d->timer.data = d;
        if (strcmp(what, "never") != 0)
            uv_timer_start(&d->timer, decision_fire, ms ? strtoul(ms, NULL, 10) : 100, 0);
        osap_http_on_abort(req, decision_abort, d);
        return;
    }
    /* streams start from the handler only */
    if (osap_http_sse_start(req) != OSAP_ESTATE) abort();
    if (osap_http_stream_start(req, 200, "text/plain") != OSAP_ESTATE) abort();
    atomic_store(&last_accept, osap_http_accept_body(req, ceiling));
    if (atomic_load(&last_accept) == OSAP_OK && osap_http_accept_body(req, ceiling) != OSAP_ESTATE)
        abort();
}

/* The handler of /hd/...: what was announced and what arrived. */
static void handle_hd(struct osap_http_request *req)
{
    char out[256];
    int n = snprintf(out, sizeof(out), "cl=%lld body=%zu:%.40s", (long long)req->content_length,
                     req->body_len, (const char *)req->body);
    osap_http_respond(req, 200, "text/plain", out, (size_t)n);
}

static void handler(struct osap_http_request *req, void *ud)
{
    struct harness *h = ud;
    const char *first = req->nsegments ? req->segments[0] : "";
    if (strcmp(first, "hd") == 0) {
        handle_hd(req);
    } else if (strcmp(first, "hello") == 0) {
        osap_http_respond(req, 200, "text/plain", "hello", 5);
    } else if (strcmp(first, "echo") == 0) {
        handle_echo(req);
    } else if (strcmp(first, "json") == 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "device", "DS-1");
        cJSON_AddNumberToObject(o, "online", 1);
        osap_http_respond_json(req, 201, o);
        cJSON_Delete(o);
    } else if (strcmp(first, "defer") == 0) {
        const char *ms = osap_http_request_param(req, "ms");
        struct deferred *d = calloc(1, sizeof(*d));
        d->req = req;
        uv_timer_init(&h->loop, &d->timer);
        d->timer.data = d;
        uv_timer_start(&d->timer, deferred_fire, ms ? strtoul(ms, NULL, 10) : 100, 0);
        osap_http_on_abort(req, deferred_abort, d);
    } else if (strcmp(first, "sse") == 0 || strcmp(first, "flood") == 0 ||
               strcmp(first, "stall") == 0) {
        if (osap_http_sse_start(req) != OSAP_OK) return;
        if (strcmp(first, "sse") == 0) {
            osap_http_sse_send(req, "1", "greet", "line1\nline2\r\nline3");
            osap_http_sse_send(req, NULL, NULL, "x");
            if (osap_http_sse_send(req, "a\nb", NULL, "x") != OSAP_EINVAL) abort();
            if (osap_http_request_param(req, "end")) {
                osap_http_stream_end(req);
                return;
            }
        }
        struct stream *s = calloc(1, sizeof(*s));
        s->req = req;
        s->flood = strcmp(first, "sse") != 0;
        if (strcmp(first, "stall") == 0) s->limit = 16u << 20;
        uv_timer_init(&h->loop, &s->timer);
        s->timer.data = s;
        uv_timer_start(&s->timer, stream_tick, 1, s->flood ? 1 : 1000);
        osap_http_on_abort(req, stream_abort, s);
    } else if (strcmp(first, "chunked") == 0) {
        osap_http_stream_start(req, 200, "text/plain");
        osap_http_stream_write(req, "abc", 3);
        osap_http_stream_write(req, "", 0);
        osap_http_stream_write(req, "defg", 4);
        osap_http_stream_end(req);
    } else if (strcmp(first, "static") == 0) {
        osap_http_serve_static(req, static_dir, 1);
    } else if (strcmp(first, "upload") == 0) {
        handle_upload(req);
    } else if (strcmp(first, "big") == 0) {
        size_t n = strtoul(osap_http_request_param(req, "n"), NULL, 10);
        char *b = malloc(n);
        for (size_t i = 0; i < n; i++)
            b[i] = (char)('a' + i % 26);
        osap_http_respond(req, 200, "application/octet-stream", b, n);
        free(b);
    } else if (strcmp(first, "headers") == 0) {
        /* header validation results, then a custom header */
        char out[64];
        int n = snprintf(
            out, sizeof(out), "%d %d %d %d %d %d",
            osap_http_header(req, "X-Bad", "a\r\nInjected: 1"),
            osap_http_header(req, "Bad Name", "v"), osap_http_header(req, "Content-Length", "1"),
            osap_http_header(req, "X-Control", "a\x1d\x0eb"),
            osap_http_header(req, "X-Tab", "a\tb"), osap_http_header(req, "X-Good", "yes"));
        osap_http_respond(req, 200, "text/plain", out, (size_t)n);
    } else {
        osap_http_respond(req, 404, "text/plain", "not found", 9);
    }
}

static void on_server_closed(void *ud)
{
    struct harness *h = ud;
    uv_close((uv_handle_t *)&h->async, NULL);
}

static void on_async(uv_async_t *a)
{
    struct harness *h = a->data;
    uv_mutex_lock(&h->mu);
    if (h->want_stats) {
        osap_http_server_stats(h->srv, &h->stats);
        h->want_stats = false;
        h->stats_ready = true;
        uv_cond_broadcast(&h->cv);
    }
    bool close = h->want_close;
    h->want_close = false;
    uv_mutex_unlock(&h->mu);
    if (close) osap_http_server_close(h->srv, on_server_closed, h);
}

static void server_thread(void *arg)
{
    struct harness *h = arg;
    uv_loop_init(&h->loop);
    uv_async_init(&h->loop, &h->async, on_async);
    h->async.data = h;
    osap_err err = osap_http_server_new(&h->loop, &h->cfg, handler, h, &h->srv);
    if (!err && h->head) osap_http_server_on_head(h->srv, head_handler);
    uv_mutex_lock(&h->mu);
    h->start_err = err;
    h->port = err ? 0 : osap_http_server_port(h->srv);
    h->started = true;
    uv_cond_broadcast(&h->cv);
    uv_mutex_unlock(&h->mu);
    if (err) uv_close((uv_handle_t *)&h->async, NULL);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    h->loop_close_rc = uv_loop_close(&h->loop);
}

static void test_cfg(struct osap_http_config *cfg)
{
    osap_http_config_init(cfg);
    cfg->port = 0;
    cfg->max_header_bytes = 2048;
    cfg->max_header_count = 20;
    cfg->max_url_bytes = 512;
    cfg->max_body_bytes = 65536;
    cfg->header_timeout_ms = 3000;
    cfg->body_timeout_ms = 3000;
    cfg->idle_timeout_ms = 3000;
    cfg->max_requests_per_conn = 50;
    cfg->max_stream_queue_bytes = 65536;
    cfg->sse_heartbeat_ms = 0;
    cfg->close_timeout_ms = 1000;
    cfg->linger_ms = 500;
}

static struct harness *harness_start_with(const struct osap_http_config *cfg, bool head)
{
    struct harness *h = calloc(1, sizeof(*h));
    h->head = head;
    atomic_store(&aborts, 0);
    atomic_store(&heads_seen, 0);
    atomic_store(&last_accept, -1);
    atomic_store(&sse_events_sent, 0);
    atomic_store(&fail_countdown, -1);
    struct osap_allocator a = {c_malloc, c_realloc, c_free, NULL};
    osap_set_allocator(&a);
    h->cfg = *cfg;
    uv_mutex_init(&h->mu);
    uv_cond_init(&h->cv);
    assert_int_equal(uv_thread_create(&h->thread, server_thread, h), 0);
    uv_mutex_lock(&h->mu);
    while (!h->started)
        uv_cond_wait(&h->cv, &h->mu);
    uv_mutex_unlock(&h->mu);
    assert_int_equal(h->start_err, OSAP_OK);
    return h;
}

static struct harness *harness_start(const struct osap_http_config *cfg)
{
    return harness_start_with(cfg, false);
}

static struct osap_http_stats harness_stats(struct harness *h)
{
    uv_mutex_lock(&h->mu);
    h->want_stats = true;
    h->stats_ready = false;
    uv_async_send(&h->async);
    while (!h->stats_ready)
        uv_cond_wait(&h->cv, &h->mu);
    struct osap_http_stats s = h->stats;
    uv_mutex_unlock(&h->mu);
    return s;
}

static void harness_request_close(struct harness *h)
{
    uv_mutex_lock(&h->mu);
    h->want_close = true;
    uv_async_send(&h->async);
    uv_mutex_unlock(&h->mu);
}

static void harness_stop(struct harness *h)
{
    harness_request_close(h);
    uv_thread_join(&h->thread);
    assert_int_equal(h->loop_close_rc, 0); /* every handle was closed */
    atomic_store(&fail_countdown, -1);
    assert_int_equal(atomic_load(&live_bytes), 0); /* and every byte freed */
    osap_set_allocator(NULL);
    uv_mutex_destroy(&h->mu);
    uv_cond_destroy(&h->cv);
    free(h);
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

/* ---- a small blocking client ---- */

struct client {
    int fd;
    char *buf;
    size_t len, cap;
};

struct resp {
    int status;
    char head[4096];
    char *body;
    size_t body_len;
};

/* A connected client; @p rcvbuf > 0 shrinks its receive buffer (a slow reader). */
static struct client *client_new_rcvbuf(uint16_t port, int rcvbuf)
{
    struct client *c = calloc(1, sizeof(*c));
    c->cap = 32 << 20;
    c->buf = malloc(c->cap);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(c->fd >= 0);
    if (rcvbuf > 0) setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct timeval tv = {5, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        fail_msg("connect: %s", strerror(errno));
    return c;
}

static struct client *client_new(uint16_t port)
{
    return client_new_rcvbuf(port, 0);
}

static void client_free(struct client *c)
{
    if (c->fd >= 0) close(c->fd);
    free(c->buf);
    free(c);
}

static void client_send_n(struct client *c, const void *data, size_t n)
{
    const char *p = data;
    while (n) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) fail_msg("send: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
}

static void client_send(struct client *c, const char *s)
{
    client_send_n(c, s, strlen(s));
}

/* Read more bytes: > 0 read, 0 peer closed, < 0 error or timeout. */
static ssize_t client_fill(struct client *c)
{
    if (c->len == c->cap) fail_msg("client buffer full");
    ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    if (n > 0) c->len += (size_t)n;
    return n;
}

static void consume(struct client *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

static const char *resp_header(const struct resp *r, const char *name)
{
    static char value[1024];
    size_t nl = strlen(name);
    for (const char *l = strstr(r->head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
        const char *s = l + 2;
        if (strncasecmp(s, name, nl) == 0 && s[nl] == ':') {
            s += nl + 1;
            while (*s == ' ')
                s++;
            const char *e = strstr(s, "\r\n");
            snprintf(value, sizeof(value), "%.*s", (int)(e - s), s);
            return value;
        }
    }
    return NULL;
}

/* Read one response; @p no_body for HEAD. Returns false if the connection ended first. */
static bool client_response(struct client *c, struct resp *r, bool no_body)
{
    char *e;
    memset(r, 0, sizeof(*r));
    while (!(e = memmem(c->buf, c->len, "\r\n\r\n", 4)))
        if (client_fill(c) <= 0) return false;
    size_t hl = (size_t)(e + 4 - c->buf);
    if (hl >= sizeof(r->head)) fail_msg("response head too long");
    memcpy(r->head, c->buf, hl);
    r->head[hl] = '\0';
    consume(c, hl);
    if (sscanf(r->head, "HTTP/1.1 %d", &r->status) != 1) fail_msg("bad status line: %s", r->head);
    if (no_body || r->status < 200 || r->status == 204 || r->status == 304) return true;
    const char *cl = resp_header(r, "Content-Length");
    const char *te = resp_header(r, "Transfer-Encoding");
    if (cl) {
        size_t n = strtoul(cl, NULL, 10);
        while (c->len < n)
            if (client_fill(c) <= 0) return false;
        r->body = malloc(n + 1);
        memcpy(r->body, c->buf, n);
        r->body[n] = '\0';
        r->body_len = n;
        consume(c, n);
    } else if (te && strcasecmp(te, "chunked") == 0) {
        r->body = malloc(1);
        for (;;) {
            while (!(e = memmem(c->buf, c->len, "\r\n", 2)))
                if (client_fill(c) <= 0) return false;
            size_t n = strtoul(c->buf, NULL, 16);
            size_t line = (size_t)(e + 2 - c->buf);
            while (c->len < line + n + 2)
                if (client_fill(c) <= 0) return false;
            r->body = realloc(r->body, r->body_len + n + 1);
            memcpy(r->body + r->body_len, c->buf + line, n);
            r->body_len += n;
            r->body[r->body_len] = '\0';
            consume(c, line + n + 2);
            if (n == 0) break;
        }
    } else {
        while (client_fill(c) > 0)
            ;
        r->body = malloc(c->len + 1);
        memcpy(r->body, c->buf, c->len);
        r->body[c->len] = '\0';
        r->body_len = c->len;
        consume(c, c->len);
    }
    return true;
}

static void resp_free(struct resp *r)
{
    free(r->body);
    r->body = NULL;
}

/* Whether the server closed the connection (EOF or reset) within the receive timeout. */
static bool client_closed(struct client *c)
{
    for (;;) {
        ssize_t n = client_fill(c);
        if (n == 0) return true;
        if (n < 0) return errno == ECONNRESET;
        c->len = 0; /* discard */
    }
}

/* One request, one response on a new connection. */
static int request(uint16_t port, const char *raw, struct resp *r)
{
    struct client *c = client_new(port);
    client_send(c, raw);
    if (!client_response(c, r, strncmp(raw, "HEAD", 4) == 0)) fail_msg("no response");
    client_free(c);
    return r->status;
}

static bool wait_for(atomic_int *v, int want, long ms)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (atomic_load(v) < want) {
        if (ms_since(&t0) > ms) return false;
        sleep_ms(10);
    }
    return true;
}

/* The head handler's last osap_http_accept_body() result (it is stored after the call,
 * which may have answered already). */
static bool accept_was(int want)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (atomic_load(&last_accept) != want) {
        if (ms_since(&t0) > 2000) return false;
        sleep_ms(5);
    }
    return true;
}

/* ---- tests ---- */

static void test_routing_and_request_fields(void **state)
{
    (void)state;
    struct osap_http_config cfg;
    test_cfg(&cfg);
    struct harness *h = harness_start(&cfg);
    struct resp r;

    assert_int_equal(request(h->port, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200);
    assert_string_equal(r.body, "hello");
    assert_string_equal(resp_header(&r, "Content-Type"), "text/plain");
    assert_string_equal(resp_header(&r, "Content-Length"), "5");
    assert_non_null(resp_header(&r, "Date"));
    assert_null(resp_header(&r, "Connection"));
    resp_free(&r);

    assert_int_equal(request(h->port,
                             "GET /echo/a%20b//c%2Fd/?x=1&y=hello+world&z&e=%C3%A9 HTTP/1.1\r\n"
                             "Host: x\r\nX-Test: t1\r\n\r\n",
                             &r),
                     200);
    assert_string_equal(r.body, "method=GET\npath=/echo/a%20b//c%2Fd/\n"
                                "segs=[echo]|[a b]|[c/d]\n"
                                "params=[x]=[1]&[y]=[hello world]&[z]=[]&[e]=[\xc3\xa9]\n"
                                "xtest=t1\nremote=127.0.0.1\nbody=0:");
    resp_free(&r);

    assert_int_equal(request(h->port, "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n", &r), 404);
    resp_free(&r);

    assert_int_equal(request(h->port, "GET /json HTTP/1.1\r\nHost: x\r\n\r\n", &r), 201);
    assert_string_equal(resp_header(&r, "Content-Type"), "application/json");
    assert_string_equal(r.body, "{\"device\":\"DS-1\",\"online\":1}");
    resp_free(&r);

    /* response header validation, custom header */
    assert_int_equal(request(h->port, "GET /headers HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200);
    char want[64];
    snprintf(want, sizeof(want), "%d %d %d %d 0 0", OSAP_EINVAL, OSAP_EINVAL, OSAP_EINVAL,
             OSAP_EINVAL);
    assert_string_equal(r.body, want);
    assert_string_equal(resp_header(&r, "X-Good"), "yes");
    assert_string_equal(resp_header(&r, "X-Tab"), "a\tb");
    assert_null(resp_header(&r, "X-Control"));
    assert_null(resp_header(&r, "Injected"));
    resp_free(&r);

    struct osap_http_stats s = harness_stats(h);
    assert_int_equal(s.requests, 5);
    assert_int_equal(s.errors, 0);
    harness_stop(h);
}

static void test_keep_alive_and_pipelining(void **state)
{
    (void)state;
    struct osap_http_config cfg;
    test_cfg(&cfg);
    struct harness *h = harness_start(&cfg);
    struct client *c = client_new(h->port);
    struct resp r;

    for (int i = 0; i < 5; i++) {
        client_send(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_true(client_response(c, &r, false));
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "hello");
        resp_free(&r);
    }
    /* three requests in one write, a deferred one in the middle: answered in order */
    client_send(c, "GET /echo/1 HTTP/1.1\r\nHost: x\r\n\r\n"
                   "GET /defer?ms=150 HTTP/1.1\r\nHost: x\r\n\r\n"
                   "POST /echo/3 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    assert_true(client_response(c, &r, false));
    assert_non_null(strstr(r.body, "segs=[echo]|[1]"));
    resp_free(&r);
    assert_true(client_response(c, &r, false));
    assert_string_equal(r.body, "deferred");
    assert_string_equal(resp_header(&r, "X-Deferred"), "yes");
    resp_free(&r);
    assert_true(client_response(c, &r, false));
    assert_non_null(strstr(r.body, "segs=[echo]|[3]"));
    assert_non_null(strstr(r.body, "body=3:abc"));
    resp_free(&r);
    client_free(c);

    struct osap_http_stats s = harness_stats(h);
    assert_int_equal(s.accepted, 1);
    assert_int_equal(s.requests, 8);
    harness_stop(h);
}

static void test_request_bodies(void **state)
{
    (void)state;
    struct osap_http_config cfg;
    test_cfg(&cfg);
    struct harness *h = harness_start(&cfg);
    struct resp r;
    struct client *c = client_new(h->port);

    /* chunked request body, sent in pieces, with a trailer */
    client_send(c, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
    sleep_ms(20);
    client_send(c, "lo\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_non_null(strstr(r.body, "body=11:hello world"));
    resp_free(&r);

    /* the same, one byte per read: every span of the parser split across reads */
    const char *split = "POST /echo/a%20b?q=1 HTTP/1.1\r\nHost: x\r\nX-Test: split value\r\n"
                        "Empty:\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "3\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n";
    for (const char *p = split; *p; p++) {
        client_send_n(c, p, 1);
        sleep_ms(1);
    }
    assert_true(client_response(c, &r, false));
    assert_non_null(strstr(r.body, "segs=[echo]|[a b]\nparams=[q]=[1]\nxtest=split value\n"));
    assert_non_null(strstr(r.body, "body=5:abcde"));
    resp_free(&r);

    /* Expect: 100-continue: the interim response comes before the body is sent */
    client_send(c, "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                   "Expect: 100-continue\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 100);
    client_send(c, "data");
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "method=PUT"));
    assert_non_null(strstr(r.body, "body=4:data"));
    resp_free(&r);

    /* HEAD: the length of the body, no body, and the connection stays usable */
    client_send(c, "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(client_response(c, &r, true));
    assert_int_equal(r.status, 200);
    assert_string_equal(resp_header(&r, "Content-Length"), "5");
    client_send(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_string_equal(r.body, "hello");
    resp_free(&r);

    /* chunked response */
    client_send(c, "GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_string_equal(resp_header(&r, "Transfer-Encoding"), "chunked");
    assert_string_equal(r.body, "abcdefg");
    resp_free(&r);

    /* a large response body */
    client_send(c, "GET /big?n=300000 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.body_len, 300000);
    assert_int_equal(r.body[299999], 'a' + 299999 % 26);
    resp_free(&r);

    /* multipart upload parsed by the handler */
    static const char mp[] =
        "--bnd\r\nContent-Disposition: form-data; name=\"serial\"\r\n\r\nDS1\r\n"
        "--bnd\r\nContent-Disposition: form-data; name=\"pic\"; "
        "filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff"
        "\r\n--bnd--\r\n";
    char req[512];
    snprintf(req, sizeof(req),
             "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
             "boundary=bnd\r\nContent-Length: %zu\r\n\r\n%s",
             sizeof(mp) - 1, mp);
    client_send(c, req);
    assert_true(client_response(c, &r, false));
    assert_string_equal(r.body, "parts=2 serial:-:-:3 pic:a.jpg:image/jpeg:3");
    resp_free(&r);
    client_free(c);
    harness_stop(h);
}

static void test_http10_and_connection_close(void **state)
{
    (void)state;
    struct osap_http_config cfg;
    test_cfg(&cfg);
    cfg.max_requests_per_conn = 3;
    struct harness *h = harness_start(&cfg);
    struct resp r;

    struct client *c = client_new(h->port);
    client_send(c, "GET /hello HTTP/1.0\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_string_equal(resp_header(&r, "Connection"), "close");
    resp_free(&r);
    assert_true(client_closed(c));
    client_free(c);

    c = client_new(h->port);
    client_send(c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_string_equal(resp_header(&r, "Connection"), "keep-alive");
    resp_free(&r);
    client_send(c, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_string_equal(resp_header(&r, "Connection"), "close");
    resp_free(&r);
    assert_true(client_closed(c));
    client_free(c);

    /* max_requests_per_conn: the third response closes */
    c = client_new(h->port);
    for (int i = 0; i < 3; i++) {
        client_send(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_true(client_response(c, &r, false));
        if (i < 2)
            assert_null(resp_header(&r, "Connection"));
        else
            assert_string_equal(resp_header(&r, "Connection"), "close");
        resp_free(&r);
    }
    assert_true(client_closed(c));
    client_free(c);

    /* an Upgrade request is answered normally, then the connection closes */
    c = client_new(h->port);
    client_send(c, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                   "Upgrade: websocket\r\n\r\n\x81\x85garbage");
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 200);
    assert_string_equal(resp_header(&r, "Connection"), "close");
    resp_free(&r);
    assert_true(client_closed(c));
    client_free(c);
    harness_stop(h);
}

/* Send @p raw, expect status @p status and a closed connection; the handler is not called. */
static void expect_refused(struct harness *h, const char *raw, size_t len, int status)
{
    struct osap_http_stats before = harness_stats(h);
    struct client *c = client_new(h->port);
    struct resp r;
    client_send_n(c, raw, len);
    if (!client_response(c, &r, false)) fail_msg("no response to: %.60s", raw);
    if (r.status != status) fail_msg("got %d, want %d for: %.60s", r.status, status, raw);
    assert_string_equal(resp_header(&r, "Connection"), "close");
    resp_free(&r);
    assert_true(client_closed(c));
    client_free(c);
    struct osap_http_stats after = harness_stats(h);
    assert_int_equal(after.requests, before.requests);
    assert_int_equal(after.errors, before.errors + 1);
}

static void test_limits_and_malformed(void **state)
{
    (void)state;
    struct osap_http_config cfg;
    test_cfg(&cfg);
    cfg.max_body_bytes = 1000;
    struct harness *h = harness_start(&cfg);
    char *buf = malloc(100000);

#define REFUSED(raw, status) expect_refused(h, raw, strlen(raw), status)
    /* 400: garbage, bad versions, smuggling shapes, bad escapes, no Host */
    REFUSED("HELLO WORLD\r\n\r\n", 400);
    REFUSED("GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400);
    REFUSED("GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    REFUSED("GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    REFUSED("GET relative HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    REFUSED("GET / HTTP/1.1\r\n\r\n", 400);
    REFUSED("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400);
    REFUSED("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
            "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400);
    REFUSED("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400);
    REFUSED("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505);
    REFUSED("POST / HTTP/1.1\r\nHost: x\r\nExpect: magic\r\nContent-Length: 1\r\n\r\nx", 417);

    /* 413: Content-Length over the limit, refused before any body byte is read */
    REFUSED("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n", 413);
    REFUSED("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999\r\n\r\n", 413);
    /* ... also with Expect: 100-continue (no 100 first) */
    REFUSED("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
            "Expect: 100-continue\r\n\r\n",
            413);
    /* ... and a chunked body that grows past it */
    int n = sprintf(buf, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 5; i++) {
        n += sprintf(buf + n, "190\r\n");
        memset(buf + n, 'b', 400);
        n += 400;
        n += sprintf(buf + n, "\r\n");
    }
    expect_refused(h, buf, (size_t)n, 413);
    /* ... a chunk whose announced size alone is too big */
    REFUSED("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n", 413);
    /* exactly the limit is fine */
    n = sprintf(buf, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
    memset(buf + n, 'c', 1000);
    struct client *c = client_new(h->port);
    struct resp r;
    client_send_n(c, buf, (size_t)n + 1000);
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "body=1000:ccc"));
    resp_free(&r);
    client_free(c);

    /* 414: a target over max_url_bytes */
    n = sprintf(buf, "GET /");
    memset(buf + n, 'u', 600);
    n += 600;
    n += sprintf(buf + n, " HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_refused(h, buf, (size_t)n, 414);

    /* 431: too many header fields, or too many header bytes */
    n = sprintf(buf, "GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 21; i++)
        n += sprintf(buf + n, "X-H%d: v\r\n", i);
    n += sprintf(buf + n, "\r\n");
    expect_refused(h, buf, (size_t)n, 431);
    n = sprintf(buf, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(buf + n, 'h', 2100);
    n += 2100;
    n += sprintf(buf + n, "\r\n\r\n");
    expect_refused(h, buf, (size_t)n, 431);
    /* a huge header sent without end is refused as soon as it passes the limit */
    c = client_new(h->port);
    n = sprintf(buf, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(buf + n, 'h', 50000);
    client_send_n(c, buf, (size_t)n + 50000);
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 431);
    resp_free(&r);
    client_free(c);
#undef REFUSED
    free(buf);
    harness_stop(h);
}

static void test_timeouts(void **state)
{
    (void)state;
    struct osap_http_config cfg;
    test_cfg(&cfg);
    cfg.header_timeout_ms = 600;
    cfg.body_timeout_ms = 400;
    cfg.idle_timeout_ms = 400;
    struct harness *h = harness_start(&cfg);
    struct resp r;
    struct timespec t0;

    /* slowloris: one byte every 100 ms never finishes the head -> 408 at the deadline */
    struct client *c = client_new(h->port);
    const char *slow = "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool got = false;
    for (size_t i = 0; slow[i]; i++) {
        if (send(c->fd, slow + i, 1, MSG_NOSIGNAL) != 1) break;
        struct pollfd p = {c->fd, POLLIN, 0};
        if (poll(&p, 1, 100) == 1) {
            got = true;
            break;
        }
    }
    assert_true(got);
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 408);
    resp_free(&r);
    long elapsed = ms_since(&t0);
    assert_true(elapsed >= 550 && elapsed < 2000);
    assert_true(client_closed(c));
    client_free(c);

    /* a body that stops arriving -> 408 */
    c = client_new(h->port);
    client_send(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 408);
    resp_free(&r);
    assert_true(client_closed(c));
    client_free(c);

    /* a connection that never sends anything is closed silently */
    c = client_new(h->port);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_true(client_closed(c));
    assert_int_equal(c->len, 0);
    assert_true(ms_since(&t0) >= 550);
    client_free(c);

    /* an idle keep-alive connection is closed after idle_timeout */
    c = client_new(h->port);
    client_send(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(client_response(c, &r, false));
    resp_free(&r);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_true(client_closed(c));
    elapsed = ms_since(&t0);
    assert_true(elapsed >= 350 && elapsed < 2000);
    client_free(c);

    /* a deferred response is not subject to the read timeouts */
    c = client_new(h->port);
    client_send(c, "GET /defer?ms=900 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "deferred");
    resp_free(&r);
    client_free(c);
    harness_stop(h);
}

static void test_many_connections_and_idle_memory(void **state)
{
    (void)state;
    enum { N = 500 };
    struct osap_http_config cfg;
    test_cfg(&cfg);
    cfg.header_timeout_ms = 20000;
    cfg.idle_timeout_ms = 20000;
    struct harness *h = harness_start(&cfg);
    struct client **cs = calloc(N, sizeof(*cs));
    struct resp r;

    long base = atomic_load(&live_bytes);
    for (int i = 0; i < N; i++)
        cs[i] = client_new(h->port);
    for (int i = 0; i < N; i++)
        client_send(cs[i], "GET /echo/x HTTP/1.1\r\nHost: x\r\n\r\n");
    for (int i = 0; i < N; i++) {
        assert_true(client_response(cs[i], &r, false));
        assert_int_equal(r.status, 200);
        resp_free(&r);
    }
    struct osap_http_stats s = harness_stats(h);
    assert_int_equal(s.connections, N);
    assert_int_equal(s.requests, N);
    /* idle keep-alive connections hold no buffers: only their small state */
    long per_conn = (atomic_load(&live_bytes) - base) / N;
    print_message("live bytes per idle keep-alive connection: %ld\n", per_conn);
    assert_true(per_conn < 1024);
    for (int i = 0; i < N; i++)
        client_free(cs[i]);
    free(cs);
    harness_stop(h);
}

static void test_connection_limit(void **state)
{
    (void)state;
    struct osap_http_config cfg;
    test_cfg(&cfg);
    cfg.max_connections = 8;
    struct harness *h = harness_start(&cfg);
    struct client *cs[8];
    struct resp r;

    for (int i = 0; i < 8; i++) {
        cs[i] = client_new(h->port);
        client_send(cs[i], "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_true(client_response(cs[i], &r, false));
        resp_free(&r);
    }
    struct client *extra = client_new(h->port);
    assert_true(client_response(extra, &r, false));
    assert_int_equal(r.status, 503);
    resp_free(&r);
    assert_true(client_closed(extra));
    client_free(extra);
    assert_int_equal(harness_stats(h).rejected, 1);

    /* a slot frees when a connection goes */
    client_free(cs[0]);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (harness_stats(h).connections != 7 && ms_since(&t0) < 2000)
        sleep_ms(10);
    cs[0] = client_new(h->port);
    client_send(cs[0], "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(client_response(cs[0], &r, false));
    assert_int_equal(r.status, 200);
    resp_free(&r);
    for (int i = 0; i < 8; i++)
        client_free(cs[i]);
    harness_stop(h);
}

static void test_abort_callbacks(void **state)
{
    (void)state;
    struct osap_http_config cfg;
    test_cfg(&cfg);
    struct harness *h = harness_start(&cfg);
    struct resp r;

    /* client leaves during a deferred response */
    struct client *c = client_new(h->port);
    client_send(c, "GET /defer?ms=3000 HTTP/1.1\r\nHost: x\r\n\r\n");
    sleep_ms(100);
    client_free(c);
    assert_true(wait_for(&aborts, 1, 2000));

    /* client leaves during an SSE stream */
    c = client_new(h->port);
    client_send(c, "GET /sse HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(client_response(c, &r, true));
    assert_int_equal(r.status, 200);
    client_free(c);
    assert_true(wait_for(&aborts, 2, 2000));

    /* client half-closes right after a request that is answered later */
    c = client_new(h->port);
    client_send(c, "GET /defer?ms=3000 HTTP/1.1\r\nHost: x\r\n\r\n");
    shutdown(c->fd, SHUT_WR);
    assert_true(wait_for(&aborts, 3, 2000));
    client_free(c);

    struct osap_http_stats s = harness_stats(h);
    assert_int_equal(s.aborted, 3);
    harness_stop(h);
}

static void test_sse(void **state)
{
    (void)state;
    struct osap_http_config cfg;
    test_cfg(&cfg);
    cfg.sse_heartbeat_ms = 100;
    struct harness *h = harness_start(&cfg);
    struct resp r;

    /* exact framing of a finished stream (chunked) */
    struct client *c = client_new(h->port);
    client_send(c, "GET /sse?end=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 200);
    assert_string_equal(resp_header(&r, "Content-Type"), "text/event-stream");
    assert_string_equal(resp_header(&r, "Cache-Control"), "no-cache");
    assert_string_equal(resp_header(&r, "Transfer-Encoding"), "chunked");
    assert_string_equal(r.body, "id: 1\nevent: greet\ndata: line1\ndata: line2\ndata: line3\n\n"
                                "data: x\n\n");
    resp_free(&r);
    /* keep-alive continues after the stream */
    client_send(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_string_equal(r.body, "hello");
    resp_free(&r);
    client_free(c);

    /* heartbeats while the stream is open */
    c = client_new(h->port);
    client_send(c, "GET /sse HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(client_response(c, &r, true));
    sleep_ms(450);
    while (!memmem(c->buf, c->len, "3\r\n:\n\n\r\n", 8))
        assert_true(client_fill(c) > 0);
    client_free(c);
    assert_true(wait_for(&aborts, 1, 2000));

    /* HTTP/1.0: no chunked encoding, the body ends with the connection */
    c = client_new(h->port);
    client_send(c, "GET /sse?end=1 HTTP/1.0\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_null(resp_header(&r, "Transfer-Encoding"));
    assert_string_equal(resp_header(&r, "Connection"), "close");
    assert_string_equal(r.body, "id: 1\nevent: greet\ndata: line1\ndata: line2\ndata: line3\n\n"
                                "data: x\n\n");
    resp_free(&r);
    client_free(c);
    harness_stop(h);
}

static void test_slow_sse_reader_dropped(void **state)
{
    (void)state;
    struct osap_http_config cfg;
    test_cfg(&cfg);
    cfg.max_stream_queue_bytes = 65536;
    struct harness *h = harness_start(&cfg);
    struct client *c = client_new_rcvbuf(h->port, 4096);
    client_send(c, "GET /flood HTTP/1.1\r\nHost: x\r\n\r\n");
    /* never read: the server must drop the stream, not queue without end */
    assert_true(wait_for(&aborts, 1, 10000));
    struct osap_http_stats s = harness_stats(h);
    assert_int_equal(s.streams_dropped, 1);
    print_message("events queued before the drop: %d\n", atomic_load(&sse_events_sent));
    /* the server holds no queued stream bytes any more */
    assert_true(atomic_load(&live_bytes) < 200000);
    client_free(c);
    harness_stop(h);
}

static void test_pipelining_write_backpressure(void **state)
{
    (void)state;
    enum { N = 40, SIZE = 500000 };
    struct osap_http_config cfg;
    test_cfg(&cfg);
    cfg.max_pipeline_bytes = 16384;
    struct harness *h = harness_start(&cfg);
    struct client *c = client_new_rcvbuf(h->port, 4096);
    char *reqs = malloc(N * 64);
    size_t n = 0;
    for (int i = 0; i < N; i++)
        n += (size_t)sprintf(reqs + n, "GET /big?n=%d HTTP/1.1\r\nHost: x\r\n\r\n", SIZE + i);
    client_send_n(c, reqs, n);
    free(reqs);
    /* the client reads nothing: the server stops answering once its queue is full */
    sleep_ms(500);
    struct osap_http_stats s = harness_stats(h);
    print_message("answered before the client read anything: %lu of %d\n",
                  (unsigned long)s.requests, N);
    assert_true(s.requests < N);
    assert_true(atomic_load(&live_bytes) < 2 * SIZE + 200000);
    /* then everything arrives, in order */
    for (int i = 0; i < N; i++) {
        struct resp r;
        assert_true(client_response(c, &r, false));
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body_len, SIZE + i);
        resp_free(&r);
    }
    assert_int_equal(harness_stats(h).requests, N);
    client_free(c);
    harness_stop(h);
}

static void write_file(const char *dir, const char *name, const char *content)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static void test_static_files(void **state)
{
    (void)state;
    char base[200];
    assert_int_equal(test_scratch_dir(base, sizeof(base), "http-static"), 0);
    char path[512];
    snprintf(static_dir, sizeof(static_dir), "%s/web", base);
    assert_int_equal(mkdir(static_dir, 0755), 0);
    write_file(base, "secret.txt", "secret");
    write_file(static_dir, "index.html", "<h1>console</h1>");
    write_file(static_dir, "app.js", "console.log(1)");
    write_file(static_dir, "style.CSS", "body{}");
    write_file(static_dir, "logo.png", "\x89PNG");
    write_file(static_dir, "data.bin", "bin");
    write_file(static_dir, ".env", "hidden");
    snprintf(path, sizeof(path), "%s/sub", static_dir);
    assert_int_equal(mkdir(path, 0755), 0);
    write_file(path, "index.html", "sub index");
    snprintf(path, sizeof(path), "%s/escape.txt", static_dir);
    char target[512];
    snprintf(target, sizeof(target), "%s/secret.txt", base);
    assert_int_equal(symlink(target, path), 0);

    struct osap_http_config cfg;
    test_cfg(&cfg);
    struct harness *h = harness_start(&cfg);
    struct resp r;
    static const struct {
        const char *path, *type, *body;
    } ok[] = {
        {"/static/", "text/html; charset=utf-8", "<h1>console</h1>"},
        {"/static", "text/html; charset=utf-8", "<h1>console</h1>"},
        {"/static/app.js", "text/javascript; charset=utf-8", "console.log(1)"},
        {"/static/style.CSS", "text/css; charset=utf-8", "body{}"},
        {"/static/logo.png", "image/png", "\x89PNG"},
        {"/static/data.bin", "application/octet-stream", "bin"},
        {"/static/sub/", "text/html; charset=utf-8", "sub index"},
        {"/static/app%2Ejs", "text/javascript; charset=utf-8", "console.log(1)"},
    };
    char raw[1024];
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", ok[i].path);
        assert_int_equal(request(h->port, raw, &r), 200);
        assert_string_equal(resp_header(&r, "Content-Type"), ok[i].type);
        assert_string_equal(r.body, ok[i].body);
        assert_string_equal(resp_header(&r, "X-Content-Type-Options"), "nosniff");
        resp_free(&r);
    }

    /* validators: ETag -> 304, Last-Modified -> 304 */
    assert_int_equal(request(h->port, "GET /static/app.js HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200);
    char etag[128], lm[64];
    snprintf(etag, sizeof(etag), "%s", resp_header(&r, "ETag"));
    snprintf(lm, sizeof(lm), "%s", resp_header(&r, "Last-Modified"));
    resp_free(&r);
    assert_true(etag[0] == '"');
    snprintf(raw, sizeof(raw),
             "GET /static/app.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"other\", W/%s\r\n\r\n",
             etag);
    assert_int_equal(request(h->port, raw, &r), 304);
    assert_string_equal(resp_header(&r, "ETag"), etag);
    assert_null(r.body);
    snprintf(raw, sizeof(raw),
             "GET /static/app.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"other\"\r\n\r\n");
    assert_int_equal(request(h->port, raw, &r), 200);
    resp_free(&r);
    snprintf(raw, sizeof(raw),
             "GET /static/app.js HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: %s\r\n\r\n", lm);
    assert_int_equal(request(h->port, raw, &r), 304);
    /* HEAD: headers and length only */
    assert_int_equal(request(h->port, "HEAD /static/app.js HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200);
    assert_string_equal(resp_header(&r, "Content-Length"), "14");
    /* other methods */
    assert_int_equal(request(h->port, "DELETE /static/app.js HTTP/1.1\r\nHost: x\r\n\r\n", &r),
                     405);
    assert_string_equal(resp_header(&r, "Allow"), "GET, HEAD");
    resp_free(&r);

    /* traversal and hidden files: never served */
    static const char *const denied[] = {
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/sub/..%2F..%2Fsecret.txt",
        "/static/.env",
        "/static/%2eenv",
        "/static/sub%5c..%5c..%5csecret.txt",
        "/static/escape.txt",
        "/static/missing.js",
        "/static/./app.js",
    };
    for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
        snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", denied[i]);
        int st = request(h->port, raw, &r);
        if (st != 404) fail_msg("%s: %d", denied[i], st);
        assert_null(strstr(r.body ? r.body : "", "secret"));
        resp_free(&r);
    }
    /* NUL, encoded or not, never reaches the handler */
    assert_int_equal(request(h->port, "GET /static/app.js%00.png HTTP/1.1\r\nHost: x\r\n\r\n", &r),
                     400);
    resp_free(&r);
    harness_stop(h);

    assert_int_equal(test_rmtree(base), 0);
}

static void test_graceful_close(void **state)
{
    (void)state;
    struct osap_http_config cfg;
    test_cfg(&cfg);
    cfg.close_timeout_ms = 500;
    struct harness *h = harness_start(&cfg);
    struct resp r;

    struct client *idle = client_new(h->port);
    struct client *soon = client_new(h->port);
    struct client *late = client_new(h->port);
    client_send(soon, "GET /defer?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n");
    client_send(late, "GET /defer?ms=5000 HTTP/1.1\r\nHost: x\r\n\r\n");
    sleep_ms(100);
    harness_request_close(h);
    /* idle connections go at once */
    assert_true(client_closed(idle));
    /* an in-flight response finishes, with Connection: close */
    assert_true(client_response(soon, &r, false));
    assert_string_equal(r.body, "deferred");
    assert_string_equal(resp_header(&r, "Connection"), "close");
    resp_free(&r);
    assert_true(client_closed(soon));
    /* one that takes longer than the deadline is cut, and its abort callback fires */
    assert_true(client_closed(late));
    assert_true(wait_for(&aborts, 1, 2000));
    client_free(idle);
    client_free(soon);
    client_free(late);
    uv_thread_join(&h->thread);
    assert_int_equal(h->loop_close_rc, 0);
    assert_int_equal(atomic_load(&live_bytes), 0);
    osap_set_allocator(NULL);
    uv_mutex_destroy(&h->mu);
    uv_cond_destroy(&h->cv);
    free(h);
}

static void test_out_of_memory(void **state)
{
    (void)state;
    struct osap_http_config cfg;
    test_cfg(&cfg);
    struct harness *h = harness_start(&cfg);
    /* fail the n-th allocation of each request: the server answers or closes, never
     * crashes or leaks, and works again afterwards */
    for (long n = 0; n < 16; n++) {
        atomic_store(&fail_countdown, n);
        struct client *c = client_new(h->port);
        client_send(c, "POST /echo/a?b=c HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
        struct resp r;
        if (client_response(c, &r, false)) {
            assert_true(r.status == 200 || r.status == 503);
            resp_free(&r);
        }
        client_free(c);
        atomic_store(&fail_countdown, -1);
    }
    struct resp r;
    assert_int_equal(request(h->port, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200);
    resp_free(&r);
    harness_stop(h);
}

/* ---- decisions at the head ---- */

static void test_head_answer_before_body(void **state)
{
    (void)state;
    struct osap_http_config cfg;
    test_cfg(&cfg);
    cfg.max_pipeline_bytes = 16384;
    struct harness *h = harness_start_with(&cfg, true);
    struct resp r;
    char buf[512];

    /* a small body after an early answer is read and discarded: the connection goes on */
    struct client *c = client_new(h->port);
    client_send(c, "POST /hd/deny HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789"
                   "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 401);
    assert_string_equal(r.body, "denied");
    assert_string_equal(resp_header(&r, "WWW-Authenticate"), "Bearer");
    assert_null(resp_header(&r, "Connection"));
    resp_free(&r);
    assert_true(client_response(c, &r, false));
    assert_string_equal(r.body, "hello");
    resp_free(&r);
    /* ... also when the body comes after the answer, in pieces */
    client_send(c, "PUT /hd/deny HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 401);
    resp_free(&r);
    client_send(c, "abc");
    sleep_ms(20);
    client_send(c, "defGET /hd/x HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_string_equal(r.body, "cl=0 body=0:");
    resp_free(&r);
    client_free(c);

    /* a large body is never read: the answer comes first, with Connection: close */
    c = client_new(h->port);
    client_send(c, "POST /hd/deny HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 401);
    assert_string_equal(resp_header(&r, "Connection"), "close");
    resp_free(&r);
    assert_true(client_closed(c));
    client_free(c);

    /* the head handler sees a body over the transport ceiling (max_body_bytes) too: it
     * answers first, and cannot admit more than the ceiling */
    c = client_new(h->port);
    client_send(c, "POST /hd/deny HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 401);
    assert_string_equal(resp_header(&r, "Connection"), "close");
    resp_free(&r);
    client_free(c);
    c = client_new(h->port);
    client_send(c, "POST /hd/accept?max=999999999 HTTP/1.1\r\nHost: x\r\n"
                   "Content-Length: 65537\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 413);
    resp_free(&r);
    assert_true(accept_was(OSAP_ETOOBIG));
    client_free(c);

    /* a chunked body has no size to skip: close */
    c = client_new(h->port);
    client_send(c, "POST /hd/deny HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "3\r\nabc\r\n0\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 401);
    assert_string_equal(resp_header(&r, "Connection"), "close");
    resp_free(&r);
    assert_true(client_closed(c));
    client_free(c);

    /* Expect: 100-continue refused: the final answer, no 100 first, and close (the client
     * may or may not send the body it was not asked for) */
    c = client_new(h->port);
    client_send(c, "POST /hd/deny HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                   "Expect: 100-continue\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 401);
    assert_string_equal(resp_header(&r, "Connection"), "close");
    resp_free(&r);
    assert_true(client_closed(c));
    client_free(c);

    /* a body over the ceiling the head handler gives: 413 before any body byte */
    c = client_new(h->port);
    client_send(c, "POST /hd/accept?max=100 HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n"
                   "Expect: 100-continue\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 413);
    assert_string_equal(resp_header(&r, "Connection"), "close");
    resp_free(&r);
    assert_true(accept_was(OSAP_ETOOBIG));
    assert_true(client_closed(c));
    client_free(c);
    /* exactly the ceiling is fine; 100 Continue once admitted */
    c = client_new(h->port);
    client_send(c, "POST /hd/accept?max=100 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
                   "Expect: 100-continue\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 100);
    memset(buf, 'a', 100);
    client_send_n(c, buf, 100);
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "cl=100 body=100:aaaa"));
    resp_free(&r);
    /* a chunked body that grows past it: 413 when it gets there */
    client_send(c, "POST /hd/accept?max=100 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                   "\r\n\r\n32\r\n");
    client_send_n(c, buf, 50);
    client_send(c, "\r\n33\r\n");
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 413);
    resp_free(&r);
    assert_true(client_closed(c));
    client_free(c);

    struct osap_http_stats st = harness_stats(h);
    assert_int_equal(st.answered_early, 8);
    assert_int_equal(st.requests, 3); /* /hello, /hd/x, the 100-byte upload */
    assert_int_equal(st.body_bytes, 0);
    assert_int_equal(atomic_load(&heads_seen), 12);
    harness_stop(h);
}

static void test_head_pause_resume(void **state)
{
    (void)state;
    struct osap_http_config cfg;
    test_cfg(&cfg);
    cfg.max_pipeline_bytes = 16384;
    struct harness *h = harness_start_with(&cfg, true);
    struct resp r;
    struct timespec t0;
    char *buf = malloc(70000);

    /* the decision comes later: the body sent meanwhile waits, then arrives whole */
    struct client *c = client_new(h->port);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    client_send(c, "POST /hd/later?ms=200 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                   "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_true(ms_since(&t0) >= 180);
    assert_string_equal(r.body, "cl=5 body=5:hello");
    resp_free(&r);
    assert_true(client_response(c, &r, false));
    assert_string_equal(r.body, "hello");
    resp_free(&r);
    assert_true(accept_was(OSAP_OK));

    /* a body larger than what is buffered while paused (reading stops, then resumes) */
    int n =
        sprintf(buf, "POST /hd/later?ms=150 HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n");
    memset(buf + n, 'z', 60000);
    client_send_n(c, buf, (size_t)n + 60000);
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "cl=60000 body=60000:zzz"));
    resp_free(&r);

    /* no body: the request goes on to the handler at once once admitted */
    client_send(c, "GET /hd/later?ms=50 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_string_equal(r.body, "cl=0 body=0:");
    resp_free(&r);

    /* a later refusal with a small body keeps the connection */
    client_send(c, "POST /hd/later-deny?ms=100 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n"
                   "abcGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 401);
    assert_string_equal(r.body, "later");
    resp_free(&r);
    assert_true(client_response(c, &r, false));
    assert_string_equal(r.body, "hello");
    resp_free(&r);

    /* 100 Continue only once the later decision admits the body */
    client_send(c, "POST /hd/later?ms=150 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                   "Expect: 100-continue\r\n\r\n");
    struct pollfd p = {c->fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 80), 0); /* nothing yet */
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 100);
    client_send(c, "data");
    assert_true(client_response(c, &r, false));
    assert_string_equal(r.body, "cl=4 body=4:data");
    resp_free(&r);
    client_free(c);

    /* a refused head over TLS-free HTTP/1.0 closes as HTTP/1.0 does */
    assert_int_equal(request(h->port, "GET /hd/deny HTTP/1.0\r\n\r\n", &r), 401);
    assert_string_equal(resp_header(&r, "Connection"), "close");
    resp_free(&r);

    struct osap_http_stats st = harness_stats(h);
    assert_int_equal(st.answered_early, 2);
    assert_int_equal(st.body_bytes, 0);
    free(buf);
    harness_stop(h);
}

static void test_head_abort_and_response_timeout(void **state)
{
    (void)state;
    struct osap_http_config cfg;
    test_cfg(&cfg);
    cfg.response_timeout_ms = 300;
    struct harness *h = harness_start_with(&cfg, true);
    struct resp r;
    struct timespec t0;

    /* the client leaves while the decision is pending: abort callback */
    struct client *c = client_new(h->port);
    client_send(c, "POST /hd/later?ms=5000 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n");
    assert_true(wait_for(&heads_seen, 1, 2000));
    client_free(c);
    assert_true(wait_for(&aborts, 1, 2000));

    /* no decision at all: cut at response_timeout with 503 (abort callback too) */
    c = client_new(h->port);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    client_send(c, "POST /hd/never HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 503);
    assert_string_equal(resp_header(&r, "Retry-After"), "1");
    assert_string_equal(resp_header(&r, "Connection"), "close");
    resp_free(&r);
    long elapsed = ms_since(&t0);
    assert_true(elapsed >= 250 && elapsed < 3000);
    assert_true(client_closed(c));
    client_free(c);
    assert_true(wait_for(&aborts, 2, 2000));

    /* the same for a handler that never answers */
    c = client_new(h->port);
    client_send(c, "GET /defer?ms=5000 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(client_response(c, &r, false));
    assert_int_equal(r.status, 503);
    resp_free(&r);
    client_free(c);
    assert_true(wait_for(&aborts, 3, 2000));

    /* the client leaves while an admitted body arrives: abort for the held request */
    c = client_new(h->port);
    client_send(c, "POST /hd/later?ms=10 HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\n\r\nab");
    sleep_ms(100);
    client_free(c);

    struct osap_http_stats st = harness_stats(h);
    assert_int_equal(st.response_timeouts, 2);
    assert_int_equal(st.aborted, 3);
    harness_stop(h);
}

static void test_body_budget(void **state)
{
    (void)state;
    struct osap_http_config cfg;
    test_cfg(&cfg);
    cfg.max_body_bytes = 60000;
    cfg.max_body_buffer_bytes = 100000;
    cfg.max_pipeline_bytes = 48000; /* unread bodies up to this are skipped */
    struct harness *h = harness_start(&cfg);
    struct resp r;
    char *body = malloc(60000);
    memset(body, 'q', 60000);

    /* one body of 60000 is reserved whole from its Content-Length ... */
    struct client *a = client_new(h->port);
    client_send(a, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\nqq");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (harness_stats(h).body_bytes == 0 && ms_since(&t0) < 2000)
        sleep_ms(5);
    assert_int_equal(harness_stats(h).body_bytes, 60001);
    /* ... so a second one does not fit: 503 before its body */
    struct client *b = client_new(h->port);
    client_send(b, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n");
    assert_true(client_response(b, &r, false));
    assert_int_equal(r.status, 503);
    assert_string_equal(resp_header(&r, "Retry-After"), "1");
    resp_free(&r);
    client_free(b);
    /* ... nor a chunked one growing past what is left */
    b = client_new(h->port);
    client_send(b, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "3\r\nabc\r\n");
    char chunk[64];
    snprintf(chunk, sizeof(chunk), "%x\r\n", 50000);
    client_send(b, chunk);
    assert_true(client_response(b, &r, false));
    assert_int_equal(r.status, 503);
    resp_free(&r);
    client_free(b);
    /* the first completes; then there is room again */
    client_send_n(a, body, 59998);
    assert_true(client_response(a, &r, false));
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "body=60000:"));
    resp_free(&r);
    client_free(a);
    b = client_new(h->port);
    client_send(b, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n");
    client_send_n(b, body, 60000);
    assert_true(client_response(b, &r, false));
    assert_int_equal(r.status, 200);
    resp_free(&r);
    client_free(b);
    struct osap_http_stats st = harness_stats(h);
    assert_int_equal(st.body_refused, 2);
    assert_int_equal(st.body_bytes, 0);
    harness_stop(h);

    /* with a head handler: the refusal is an early answer (a small body is skipped) */
    h = harness_start_with(&cfg, true);
    a = client_new(h->port);
    client_send(a, "POST /hd/accept HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (harness_stats(h).body_bytes == 0 && ms_since(&t0) < 2000)
        sleep_ms(5);
    b = client_new(h->port);
    client_send(b, "POST /hd/accept HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n");
    assert_true(client_response(b, &r, false));
    assert_int_equal(r.status, 503);
    assert_string_equal(resp_header(&r, "Retry-After"), "1");
    assert_string_equal(resp_header(&r, "Connection"), "close");
    resp_free(&r);
    assert_true(accept_was(OSAP_EBUSY));
    client_free(b);
    b = client_new(h->port);
    client_send(b, "POST /hd/accept HTTP/1.1\r\nHost: x\r\nContent-Length: 45000\r\n\r\n");
    client_send_n(b, body, 45000);
    assert_true(client_response(b, &r, false));
    assert_int_equal(r.status, 503);
    assert_null(resp_header(&r, "Connection")); /* skipped: 45000 <= max_pipeline_bytes */
    resp_free(&r);
    client_send(b, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(client_response(b, &r, false));
    assert_string_equal(r.body, "hello");
    resp_free(&r);
    client_free(b);
    client_send_n(a, body, 60000);
    assert_true(client_response(a, &r, false));
    assert_string_equal(r.body, "cl=60000 body=60000:qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq");
    resp_free(&r);
    client_free(a);
    assert_int_equal(harness_stats(h).body_bytes, 0);
    free(body);
    harness_stop(h);
}

static void test_stalled_stream_dropped(void **state)
{
    (void)state;
    struct osap_http_config cfg;
    test_cfg(&cfg);
    /* a ceiling the test never reaches: only the stall can end the stream */
    cfg.max_stream_queue_bytes = 64u << 20;
    cfg.idle_timeout_ms = 300;
    struct harness *h = harness_start(&cfg);
    struct client *c = client_new_rcvbuf(h->port, 4096);
    client_send(c, "GET /stall HTTP/1.1\r\nHost: x\r\n\r\n");
    /* never read: the unsent bytes stop moving; the stream is dropped */
    assert_true(wait_for(&aborts, 1, 10000));
    struct osap_http_stats s = harness_stats(h);
    assert_int_equal(s.streams_dropped, 1);
    client_free(c);
    harness_stop(h);
}

static void test_config_errors(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct osap_http_config cfg;
    osap_http_server_t *srv = NULL;
    test_cfg(&cfg);
    cfg.host = "not-an-address";
    assert_int_equal(osap_http_server_new(&loop, &cfg, handler, NULL, &srv), OSAP_ECONFIG);
    test_cfg(&cfg);
    cfg.max_header_count = 0;
    assert_int_equal(osap_http_server_new(&loop, &cfg, handler, NULL, &srv), OSAP_ECONFIG);
    test_cfg(&cfg);
    cfg.tls_cert_file = "/nonexistent/cert.pem";
    assert_int_equal(osap_http_server_new(&loop, &cfg, handler, NULL, &srv), OSAP_ECONFIG);
    cfg.tls_key_file = "/nonexistent/key.pem";
    assert_int_equal(osap_http_server_new(&loop, &cfg, handler, NULL, &srv), OSAP_EHTTP_TLS);
    test_cfg(&cfg);
    cfg.host = "192.0.2.1"; /* not ours: bind fails */
    assert_int_equal(osap_http_server_new(&loop, &cfg, handler, NULL, &srv), OSAP_EHTTP_LISTEN);
    assert_null(srv);
    uv_run(&loop, UV_RUN_DEFAULT); /* the failed server's handles close */
    assert_int_equal(uv_loop_close(&loop), 0);

    /* IPv6 */
    test_cfg(&cfg);
    cfg.host = "::1";
    struct harness *h = harness_start(&cfg);
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(h->port)};
    a.sin6_addr = in6addr_loopback;
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    const char *req = "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
    char buf[2048];
    size_t len = 0;
    ssize_t n;
    while ((n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    assert_non_null(strstr(buf, "remote=::1"));
    close(fd);
    harness_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing_and_request_fields),
        cmocka_unit_test(test_keep_alive_and_pipelining),
        cmocka_unit_test(test_request_bodies),
        cmocka_unit_test(test_http10_and_connection_close),
        cmocka_unit_test(test_limits_and_malformed),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_many_connections_and_idle_memory),
        cmocka_unit_test(test_connection_limit),
        cmocka_unit_test(test_abort_callbacks),
        cmocka_unit_test(test_sse),
        cmocka_unit_test(test_slow_sse_reader_dropped),
        cmocka_unit_test(test_pipelining_write_backpressure),
        cmocka_unit_test(test_static_files),
        cmocka_unit_test(test_graceful_close),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_head_answer_before_body),
        cmocka_unit_test(test_head_pause_resume),
        cmocka_unit_test(test_head_abort_and_response_timeout),
        cmocka_unit_test(test_body_budget),
        cmocka_unit_test(test_stalled_stream_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
