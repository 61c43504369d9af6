/* HTTP server core: listener, connection lifecycle, reading and writing,
 * timeouts, pipelining order, graceful close. See http.h for the lifetimes and
 * docs/HTTP.md for the design. */
#include "http_internal.h"

#include "osap/alloc.h"

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* A write in flight: the bytes live right after the libuv request. */
struct http_write {
    uv_write_t req;
    struct osap__http_conn *conn;
    size_t len;
    char data[];
};

/* A connection refused at the limit: answered 503 (plain) and closed. */
struct http_reject {
    uv_tcp_t tcp;
    uv_write_t wreq;
    uv_shutdown_t sreq;
    struct osap_http_server *srv;
};

static const char busy_response[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                    "Content-Length: 0\r\n"
                                    "Retry-After: 1\r\n"
                                    "Connection: close\r\n\r\n";

static void conn_feed(struct osap__http_conn *conn, const char *data, size_t len);
static void conn_resume(struct osap__http_conn *conn);
static void server_maybe_done(struct osap_http_server *srv);

void osap_http_config_init(struct osap_http_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->host = "127.0.0.1";
    cfg->port = 8080;
    cfg->backlog = 511;
    cfg->max_connections = 4096;
    cfg->max_header_bytes = 16384;
    cfg->max_header_count = 64;
    cfg->max_url_bytes = 4096;
    cfg->max_body_bytes = 8u << 20;
    cfg->max_body_buffer_bytes = 64u << 20;
    cfg->header_timeout_ms = 10000;
    cfg->body_timeout_ms = 60000;
    cfg->response_timeout_ms = 120000;
    cfg->idle_timeout_ms = 30000;
    cfg->max_requests_per_conn = 1000;
    cfg->max_pipeline_bytes = 65536;
    cfg->max_stream_queue_bytes = 262144;
    cfg->sse_heartbeat_ms = 15000;
    cfg->close_timeout_ms = 5000;
    cfg->linger_ms = 2000;
    cfg->max_static_file_bytes = 16u << 20;
}

/* ---- timers and states ---- */

static uint64_t now_ms(const struct osap__http_conn *conn)
{
    return uv_now(conn->srv->loop);
}

static void on_conn_timer(uv_timer_t *t);

/* (Re)arm the connection timer for its current state. */
static void conn_arm(struct osap__http_conn *conn)
{
    const struct osap_http_config *cfg = &conn->srv->cfg;
    switch (conn->state) {
    case HTTP_C_DECIDE:
    case HTTP_C_HANDLER:
        if (!cfg->response_timeout_ms) {
            uv_timer_stop(&conn->timer);
            return;
        }
        break;
    case HTTP_C_STREAM: {
        /* heartbeats (SSE), and a look at whether the unsent bytes move */
        uint32_t period = conn->req && conn->req->sse && cfg->sse_heartbeat_ms
                              ? cfg->sse_heartbeat_ms
                              : cfg->idle_timeout_ms;
        uv_timer_start(&conn->timer, on_conn_timer, period, period);
        return;
    }
    default: break;
    }
    uint64_t now = now_ms(conn);
    uv_timer_start(&conn->timer, on_conn_timer, conn->deadline > now ? conn->deadline - now : 0, 0);
}

void osap__http_conn_enter(struct osap__http_conn *conn, enum osap__http_cstate st)
{
    const struct osap_http_config *cfg = &conn->srv->cfg;
    uint64_t now = now_ms(conn);
    conn->state = st;
    switch (st) {
    case HTTP_C_IDLE:
        /* a new connection has header_timeout from accept for its first request */
        conn->deadline = now + (conn->nrequests ? cfg->idle_timeout_ms : cfg->header_timeout_ms);
        break;
    case HTTP_C_HEAD:
        if (conn->nrequests) conn->deadline = now + cfg->header_timeout_ms;
        break;
    case HTTP_C_BODY: conn->deadline = now + cfg->body_timeout_ms; break;
    case HTTP_C_DRAIN: conn->deadline = now + cfg->idle_timeout_ms; break;
    case HTTP_C_LINGER: conn->deadline = now + cfg->linger_ms; break;
    case HTTP_C_DECIDE:
    case HTTP_C_HANDLER: conn->deadline = now + cfg->response_timeout_ms; break;
    case HTTP_C_STREAM: conn->stall_since = 0; break;
    }
    if (!conn->resume_soon) conn_arm(conn);
}

static void schedule_resume(struct osap__http_conn *conn)
{
    if (conn->closing) return;
    conn->resume_soon = true;
    uv_timer_start(&conn->timer, on_conn_timer, 0, 0);
}

/* ---- closing ---- */

/* Free the connection's request; one the application holds (head handler or handler)
 * and has not finished gets its abort callback first. */
static void drop_req(struct osap__http_conn *conn)
{
    struct osap__http_req *req = conn->req;
    conn->req = NULL;
    if (req && !req->finished && (req->dispatched || req->held) && req->on_abort) {
        req->aborting = true;
        conn->srv->stats.aborted++;
        req->on_abort(&req->pub, req->abort_ud);
    }
    osap__http_req_free(req);
}

static void conn_destroy(struct osap__http_conn *conn)
{
    struct osap_http_server *srv = conn->srv;
    drop_req(conn);
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        srv->conns = conn->next;
    if (conn->next) conn->next->prev = conn->prev;
    srv->stats.connections--;
    osap__http_tls_free(conn->tls);
    osap_free(conn->pending);
    osap_free(conn);
    server_maybe_done(srv);
}

static void on_conn_handle_closed(uv_handle_t *h)
{
    struct osap__http_conn *conn = h->data;
    if (--conn->handles == 0) conn_destroy(conn);
}

void osap__http_conn_close(struct osap__http_conn *conn)
{
    if (conn->closing) return;
    conn->closing = true;
    uv_close((uv_handle_t *)&conn->tcp, on_conn_handle_closed);
    uv_close((uv_handle_t *)&conn->timer, on_conn_handle_closed);
}

static void drop_pending(struct osap__http_conn *conn)
{
    osap_free(conn->pending);
    conn->pending = NULL;
    conn->pending_len = 0;
}

static void start_reading(struct osap__http_conn *conn);

static void on_shutdown(uv_shutdown_t *sr, int status)
{
    struct osap__http_conn *conn = sr->handle->data;
    if (conn->closing) return;
    if (status < 0 || conn->eof) {
        osap__http_conn_close(conn);
        return;
    }
    osap__http_conn_enter(conn, HTTP_C_LINGER);
    conn->read_paused = false;
    start_reading(conn);
}

/* No more responses on this connection: send what is queued, then FIN, then drain input
 * for linger_ms so that the client reads the response instead of a reset. */
static void start_drain(struct osap__http_conn *conn)
{
    if (conn->closing || conn->shutting) return;
    conn->shutting = true;
    drop_pending(conn);
    osap__http_conn_enter(conn, HTTP_C_DRAIN);
    if (conn->tls) {
        osap__http_tls_shutdown(conn->tls);
        (void)osap__http_conn_write(conn, NULL, 0);
        if (conn->closing) return;
    }
    /* uv_shutdown waits for the queued writes */
    if (uv_shutdown(&conn->shutdown_req, (uv_stream_t *)&conn->tcp, on_shutdown) != 0)
        osap__http_conn_close(conn);
}

/* ---- writing ---- */

size_t osap__http_conn_queued(struct osap__http_conn *conn)
{
    return uv_stream_get_write_queue_size((uv_stream_t *)&conn->tcp);
}

static bool write_blocked(struct osap__http_conn *conn)
{
    return osap__http_conn_queued(conn) > conn->srv->cfg.max_pipeline_bytes;
}

static void on_write(uv_write_t *wr, int status)
{
    struct http_write *w = (struct http_write *)wr;
    struct osap__http_conn *conn = w->conn;
    osap_free(w);
    conn->nwrites--;
    if (conn->closing) return;
    if (status < 0) {
        osap__http_conn_close(conn);
        return;
    }
    conn->last_progress = now_ms(conn);
    if (conn->write_blocked && !write_blocked(conn)) {
        conn->write_blocked = false;
        schedule_resume(conn);
    }
}

static osap_err submit(struct osap__http_conn *conn, struct http_write *w)
{
    uv_buf_t b = uv_buf_init(w->data, (unsigned)w->len);
    w->conn = conn;
    if (uv_write(&w->req, (uv_stream_t *)&conn->tcp, &b, 1, on_write) != 0) {
        osap_free(w);
        osap__http_conn_close(conn);
        return OSAP_EIO;
    }
    conn->nwrites++;
    return OSAP_OK;
}

/* Send the ciphertext OpenSSL has produced. */
static osap_err tls_flush(struct osap__http_conn *conn)
{
    size_t n = osap__http_tls_pending(conn->tls);
    if (n == 0) return OSAP_OK;
    struct http_write *w = osap_malloc(sizeof(*w) + n);
    if (!w) {
        osap__http_conn_close(conn);
        return OSAP_ENOMEM;
    }
    w->len = osap__http_tls_take(conn->tls, w->data, n);
    return submit(conn, w);
}

#define HTTP_TLS_SLICE 65536

osap_err osap__http_conn_write(struct osap__http_conn *conn, const uv_buf_t *bufs, unsigned n)
{
    if (conn->closing) return OSAP_ECLOSED;
    if (conn->tls) {
        /* slices keep OpenSSL's output buffer small */
        for (unsigned i = 0; i < n; i++) {
            for (size_t off = 0; off < bufs[i].len;) {
                size_t len = bufs[i].len - off;
                if (len > HTTP_TLS_SLICE) len = HTTP_TLS_SLICE;
                osap_err err = osap__http_tls_write(conn->tls, bufs[i].base + off, len);
                if (!err) err = tls_flush(conn);
                if (err) {
                    osap__http_conn_close(conn);
                    return err;
                }
                off += len;
            }
        }
        osap_err err = tls_flush(conn);
        osap__http_tls_trim(conn->tls);
        return err;
    }
    size_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += bufs[i].len;
    if (total == 0) return OSAP_OK;
    struct http_write *w = osap_malloc(sizeof(*w) + total);
    if (!w) {
        osap__http_conn_close(conn);
        return OSAP_ENOMEM;
    }
    w->len = 0;
    for (unsigned i = 0; i < n; i++) {
        if (bufs[i].len) memcpy(w->data + w->len, bufs[i].base, bufs[i].len);
        w->len += bufs[i].len;
    }
    return submit(conn, w);
}

/* ---- requests ---- */

static void release_req(struct osap__http_conn *conn)
{
    osap__http_req_free(conn->req);
    conn->req = NULL;
}

void osap__http_conn_continue(struct osap__http_conn *conn)
{
    /* inside a handler the feed loop goes on by itself */
    if (!conn->in_handler) schedule_resume(conn);
}

void osap__http_conn_finished(struct osap__http_conn *conn)
{
    struct osap__http_req *req = conn->req;
    bool keep = req->keep_alive;
    conn->nrequests++;
    if (!req->complete) {
        conn->srv->stats.answered_early++;
        if (keep && !conn->closing) {
            /* answered before its body: the rest (small, see osap__http_send_head) is
             * read and discarded, then the connection goes on */
            osap__http_body_skip(req);
            osap__http_conn_enter(conn, HTTP_C_BODY);
            osap__http_conn_continue(conn);
            return;
        }
    }
    if (!conn->in_handler) release_req(conn);
    if (conn->closing) return;
    if (!keep || conn->srv->closing || conn->eof) {
        start_drain(conn);
        return;
    }
    osap__http_conn_enter(conn, HTTP_C_IDLE);
    /* inside the handler the feed loop goes on by itself */
    if (!conn->in_handler) schedule_resume(conn);
}

void osap__http_conn_stream_started(struct osap__http_conn *conn)
{
    if (conn->closing) return;
    osap__http_conn_enter(conn, HTTP_C_STREAM);
}

void osap__http_conn_fail(struct osap__http_conn *conn, int status)
{
    if (conn->closing) return;
    bool answered = conn->req && conn->req->finished;
    drop_req(conn);
    drop_pending(conn);
    if (answered) {
        /* its response is out already (an early answer whose body was being skipped) */
        start_drain(conn);
        return;
    }
    if (conn->tls && !osap__http_tls_ready(conn->tls)) {
        osap__http_conn_close(conn);
        return;
    }
    conn->srv->stats.errors++;
    char date[30], head[256];
    const char *text = osap_http_status_text(status);
    osap_http_date((int64_t)time(NULL), date);
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %zu\r\n%sConnection: close\r\n\r\n%s\n",
                     status, text, date, strlen(text) + 1,
                     status == 503 ? "Retry-After: 1\r\n" : "", text);
    uv_buf_t b = uv_buf_init(head, (unsigned)n);
    if (osap__http_conn_write(conn, &b, 1) == OSAP_OK) start_drain(conn);
}

static void conn_dispatch(struct osap__http_conn *conn)
{
    struct osap_http_server *srv = conn->srv;
    struct osap__http_req *req = conn->req;
    req->dispatched = true;
    osap__http_conn_enter(conn, HTTP_C_HANDLER);
    srv->stats.requests++;
    conn->in_handler = true;
    srv->handler(&req->pub, srv->userdata);
    conn->in_handler = false;
    if (req->finished) release_req(conn);
}

/* The head is complete: the head handler decides on the body (now or later). */
static void conn_decide(struct osap__http_conn *conn)
{
    struct osap_http_server *srv = conn->srv;
    struct osap__http_req *req = conn->req;
    req->held = true;
    osap__http_conn_enter(conn, HTTP_C_DECIDE);
    conn->in_handler = true;
    if (srv->on_head)
        srv->on_head(&req->pub, srv->userdata);
    else
        (void)osap_http_accept_body(&req->pub, srv->cfg.max_body_bytes);
    conn->in_handler = false;
    if (req->finished && !req->skip_body) release_req(conn);
}

/* llhttp paused: hand a head to the head handler, a complete request to the handler, or
 * let go of a request answered early once the rest of its body is gone. */
static void conn_step(struct osap__http_conn *conn)
{
    struct osap__http_req *req = conn->req;
    if (!req || conn->closing) return;
    if (req->head_ready && !req->held) {
        conn_decide(conn);
        return;
    }
    if (!req->complete) return;
    if (req->finished) {
        release_req(conn);
        osap__http_conn_enter(conn, HTTP_C_IDLE);
        return;
    }
    if (!req->dispatched) conn_dispatch(conn);
}

/* ---- reading ---- */

static bool can_parse(struct osap__http_conn *conn)
{
    if (conn->closing) return false;
    if (conn->state != HTTP_C_IDLE && conn->state != HTTP_C_HEAD && conn->state != HTTP_C_BODY)
        return false;
    if (conn->state == HTTP_C_IDLE && write_blocked(conn)) {
        conn->write_blocked = true;
        return false;
    }
    return true;
}

static void stop_reading(struct osap__http_conn *conn)
{
    if (!conn->reading) return;
    uv_read_stop((uv_stream_t *)&conn->tcp);
    conn->reading = false;
}

/* Keep input that cannot be parsed yet; reading pauses at the ceiling. */
static void stash(struct osap__http_conn *conn, const char *data, size_t len)
{
    char *p = osap_realloc(conn->pending, conn->pending_len + len);
    if (!p) {
        osap__http_conn_close(conn);
        return;
    }
    memcpy(p + conn->pending_len, data, len);
    conn->pending = p;
    conn->pending_len += len;
    if (conn->pending_len >= conn->srv->cfg.max_pipeline_bytes) {
        conn->read_paused = true;
        stop_reading(conn);
    }
}

/* Parse @p data; with @p len 0, drive a parser that stopped at a decision (a message
 * without a body completes without input). */
static void conn_feed(struct osap__http_conn *conn, const char *data, size_t len)
{
    for (;;) {
        if (conn->closing || conn->state == HTTP_C_DRAIN || conn->state == HTTP_C_LINGER)
            return; /* no more requests: input is discarded */
        if (!can_parse(conn)) {
            if (len) stash(conn, data, len);
            return;
        }
        llhttp_errno_t e = llhttp_execute(&conn->parser, data, len);
        if (e == HPE_OK) return;
        if (e != HPE_PAUSED && e != HPE_PAUSED_UPGRADE) {
            osap__http_conn_fail(conn, conn->reject_status ? conn->reject_status : 400);
            return;
        }
        const char *pos = llhttp_get_error_pos(&conn->parser);
        len -= (size_t)(pos - data);
        data = pos;
        if (e == HPE_PAUSED_UPGRADE) {
            /* no protocol switch: answer, then close (what follows is not HTTP) */
            if (!conn->req || !conn->req->complete) {
                osap__http_conn_fail(conn, 400);
                return;
            }
            conn->req->keep_alive = false;
            conn_step(conn);
            return;
        }
        llhttp_resume(&conn->parser);
        conn_step(conn);
    }
}

static void tls_pump(struct osap__http_conn *conn)
{
    struct osap_http_server *srv = conn->srv;
    while (!conn->closing && !conn->read_paused) {
        int n = osap__http_tls_read(conn->tls, srv->tlsbuf, sizeof(srv->tlsbuf));
        if (n < 0) {
            (void)tls_flush(conn);
            osap__http_conn_close(conn);
            return;
        }
        if (n == 0) break;
        if (conn->state == HTTP_C_LINGER) continue;
        conn_feed(conn, srv->tlsbuf, (size_t)n);
    }
    if (!conn->closing) (void)tls_flush(conn);
    if (!conn->closing) osap__http_tls_trim(conn->tls);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct osap__http_conn *conn = h->data;
    /* one loop thread: each read is consumed (or copied) before the next alloc */
    *buf = uv_buf_init(conn->srv->rbuf, sizeof(conn->srv->rbuf));
}

static void on_eof(struct osap__http_conn *conn)
{
    conn->eof = true;
    stop_reading(conn);
    switch (conn->state) {
    case HTTP_C_IDLE:
        if (conn->pending_len) return; /* pipelined requests still to answer */
        if (conn->nwrites)
            start_drain(conn);
        else
            osap__http_conn_close(conn);
        return;
    case HTTP_C_DRAIN: return; /* on_shutdown closes */
    case HTTP_C_BODY:
        if (conn->req && conn->req->finished) {
            /* answered early, the body being skipped: the response still goes out */
            start_drain(conn);
            return;
        }
        osap__http_conn_close(conn);
        return;
    default:
        /* a request half read, or one the handler holds: the client is gone */
        osap__http_conn_close(conn);
        return;
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct osap__http_conn *conn = s->data;
    if (nread == 0 || conn->closing) return;
    if (nread < 0) {
        if (nread == UV_EOF)
            on_eof(conn);
        else
            osap__http_conn_close(conn);
        return;
    }
    if (conn->tls) {
        if (osap__http_tls_push(conn->tls, buf->base, (size_t)nread) != OSAP_OK) {
            osap__http_conn_close(conn);
            return;
        }
        tls_pump(conn);
        return;
    }
    if (conn->state == HTTP_C_LINGER) return;
    conn_feed(conn, buf->base, (size_t)nread);
}

static void start_reading(struct osap__http_conn *conn)
{
    if (conn->reading || conn->closing || conn->eof || conn->read_paused) return;
    if (uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read) != 0) {
        osap__http_conn_close(conn);
        return;
    }
    conn->reading = true;
}

/* Parse what was kept while a request was in the handler's hands, then read on. */
static void conn_resume(struct osap__http_conn *conn)
{
    char *p = conn->pending;
    size_t n = conn->pending_len;
    conn->pending = NULL;
    conn->pending_len = 0;
    conn->read_paused = false;
    conn_feed(conn, p ? p : "", n);
    osap_free(p);
    if (conn->closing) return;
    if (conn->tls && !conn->read_paused) tls_pump(conn);
    if (conn->closing) return;
    if (conn->eof && conn->state == HTTP_C_IDLE && !conn->pending_len) {
        if (conn->nwrites)
            start_drain(conn);
        else
            osap__http_conn_close(conn);
        return;
    }
    start_reading(conn);
}

static void on_conn_timer(uv_timer_t *t)
{
    struct osap__http_conn *conn = t->data;
    const struct osap_http_config *cfg = &conn->srv->cfg;
    if (conn->closing) return;
    if (conn->resume_soon) {
        conn->resume_soon = false;
        conn_resume(conn);
        if (!conn->closing && !conn->resume_soon) conn_arm(conn);
        return;
    }
    uint64_t now = now_ms(conn);
    switch (conn->state) {
    case HTTP_C_IDLE:
    case HTTP_C_DRAIN:
        /* a response still being written counts as activity while it progresses */
        if (conn->nwrites && now - conn->last_progress < cfg->idle_timeout_ms) {
            conn->deadline = conn->last_progress + cfg->idle_timeout_ms;
            conn_arm(conn);
            return;
        }
        osap__http_conn_close(conn);
        return;
    case HTTP_C_HEAD:
    case HTTP_C_BODY: osap__http_conn_fail(conn, 408); return;
    case HTTP_C_DECIDE:
    case HTTP_C_HANDLER:
        /* the application did not answer in time: it forgets the request (abort) */
        conn->srv->stats.response_timeouts++;
        osap__http_conn_fail(conn, 503);
        return;
    case HTTP_C_STREAM:
        if (osap__http_conn_queued(conn) == 0) {
            conn->stall_since = 0;
        } else if (!conn->stall_since || conn->last_progress > conn->stall_since) {
            conn->stall_since = now;
        } else if (now - conn->stall_since >= cfg->idle_timeout_ms) {
            /* the reader stopped: its unsent bytes have not moved for idle_timeout */
            conn->srv->stats.streams_dropped++;
            osap__http_conn_close(conn);
            return;
        }
        if (conn->req && conn->req->sse && cfg->sse_heartbeat_ms)
            (void)osap_http_stream_write(&conn->req->pub, ":\n\n", 3);
        return;
    case HTTP_C_LINGER: osap__http_conn_close(conn); return;
    }
}

/* ---- accepting ---- */

static void on_reject_closed(uv_handle_t *h)
{
    struct http_reject *r = h->data;
    struct osap_http_server *srv = r->srv;
    osap_free(r);
    srv->handles--;
    server_maybe_done(srv);
}

static void on_reject_shutdown(uv_shutdown_t *sr, int status)
{
    struct http_reject *r = sr->handle->data;
    uv_close((uv_handle_t *)&r->tcp, on_reject_closed);
}

static void on_reject_written(uv_write_t *wr, int status)
{
    struct http_reject *r = wr->handle->data;
    if (status < 0 || uv_shutdown(&r->sreq, (uv_stream_t *)&r->tcp, on_reject_shutdown) != 0)
        uv_close((uv_handle_t *)&r->tcp, on_reject_closed);
}

static void on_connection(uv_stream_t *listener, int status);

static void on_spare_closed(uv_handle_t *h)
{
    struct osap_http_server *srv = h->data;
    srv->spare_busy = false;
    srv->handles--;
    if (srv->accept_stalled && !srv->closing) {
        srv->accept_stalled = false;
        on_connection((uv_stream_t *)&srv->listener, 0);
    }
    server_maybe_done(srv);
}

/* Out of memory: accept into the server's spare handle and close at once, so that libuv
 * keeps watching the listener (it stops until the pending connection is accepted). */
static void accept_and_drop(struct osap_http_server *srv, uv_stream_t *listener)
{
    if (srv->spare_busy) {
        srv->accept_stalled = true; /* retried when the spare is free again */
        return;
    }
    srv->spare_busy = true;
    srv->handles++;
    uv_tcp_init(srv->loop, &srv->spare);
    srv->spare.data = srv;
    (void)uv_accept(listener, (uv_stream_t *)&srv->spare);
    uv_close((uv_handle_t *)&srv->spare, on_spare_closed);
}

static void reject_connection(struct osap_http_server *srv, uv_stream_t *listener)
{
    srv->stats.accepted++;
    srv->stats.rejected++;
    struct http_reject *r = osap_malloc(sizeof(*r));
    if (!r) {
        accept_and_drop(srv, listener);
        return;
    }
    r->srv = srv;
    uv_tcp_init(srv->loop, &r->tcp);
    r->tcp.data = r;
    srv->handles++;
    if (uv_accept(listener, (uv_stream_t *)&r->tcp) != 0 || srv->tls_ctx || srv->closing) {
        uv_close((uv_handle_t *)&r->tcp, on_reject_closed);
        return;
    }
    uv_buf_t b = uv_buf_init((char *)busy_response, sizeof(busy_response) - 1);
    if (uv_write(&r->wreq, (uv_stream_t *)&r->tcp, &b, 1, on_reject_written) != 0)
        uv_close((uv_handle_t *)&r->tcp, on_reject_closed);
}

static void peer_name(struct osap__http_conn *conn)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    conn->remote_addr[0] = '\0';
    if (uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&ss, &len) != 0) return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        uv_ip4_name(a, conn->remote_addr, sizeof(conn->remote_addr));
        conn->remote_port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
            uv_inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], conn->remote_addr,
                         sizeof(conn->remote_addr));
        else
            uv_ip6_name(a, conn->remote_addr, sizeof(conn->remote_addr));
        conn->remote_port = ntohs(a->sin6_port);
    }
}

/* A connection with its two handles (the socket not yet attached), linked into the
 * server and counted. */
static struct osap__http_conn *conn_new(struct osap_http_server *srv)
{
    struct osap__http_conn *conn = osap_calloc(1, sizeof(*conn));
    if (!conn) return NULL;
    conn->srv = srv;
    uv_tcp_init(srv->loop, &conn->tcp);
    uv_timer_init(srv->loop, &conn->timer);
    conn->tcp.data = conn;
    conn->timer.data = conn;
    conn->handles = 2;
    conn->next = srv->conns;
    if (srv->conns) srv->conns->prev = conn;
    srv->conns = conn;
    srv->stats.connections++;
    srv->stats.accepted++;
    conn->last_progress = uv_now(srv->loop);
    osap__http_parser_init(conn);
    return conn;
}

/* The socket is attached: TLS state if the server speaks TLS, then reading. */
static void conn_start(struct osap__http_conn *conn)
{
    struct osap_http_server *srv = conn->srv;
    if (srv->tls_ctx && osap__http_tls_new(srv->tls_ctx, &conn->tls) != OSAP_OK) {
        osap__http_conn_close(conn);
        return;
    }
    uv_tcp_nodelay(&conn->tcp, 1);
    peer_name(conn);
    osap__http_conn_enter(conn, HTTP_C_IDLE);
    start_reading(conn);
}

static void on_connection(uv_stream_t *listener, int status)
{
    struct osap_http_server *srv = listener->data;
    if (status < 0) return;
    if (srv->closing || srv->stats.connections >= srv->cfg.max_connections) {
        reject_connection(srv, listener);
        return;
    }
    struct osap__http_conn *conn = conn_new(srv);
    if (!conn) {
        accept_and_drop(srv, listener);
        return;
    }
    if (uv_accept(listener, (uv_stream_t *)&conn->tcp) != 0) {
        osap__http_conn_close(conn);
        return;
    }
    conn_start(conn);
}

osap_err osap__http_server_adopt(struct osap_http_server *srv, uv_os_sock_t fd)
{
    if (srv->closing) return OSAP_ESTATE;
    struct osap__http_conn *conn = conn_new(srv);
    if (!conn) return OSAP_ENOMEM;
    if (uv_tcp_open(&conn->tcp, fd) != 0) {
        /* the handle does not own the socket: the caller keeps it */
        osap__http_conn_close(conn);
        return OSAP_EIO;
    }
    conn_start(conn);
    return OSAP_OK;
}

/* ---- server ---- */

static void server_free(struct osap_http_server *srv)
{
    osap__http_tls_ctx_free(srv->tls_ctx);
    osap_free(srv->host);
    osap_free(srv->cert_file);
    osap_free(srv->key_file);
    osap_free(srv);
}

static void on_new_failed_closed(uv_handle_t *h)
{
    struct osap_http_server *srv = h->data;
    if (--srv->handles == 0) server_free(srv);
}

static char *dup_opt(const char *s, bool *fail)
{
    if (!s) return NULL;
    char *d = osap_strdup(s);
    if (!d) *fail = true;
    return d;
}

osap_err osap_http_server_new(uv_loop_t *loop, const struct osap_http_config *cfg,
                              osap_http_handler_fn handler, void *userdata,
                              osap_http_server_t **out)
{
    struct osap_http_server *srv = NULL;
    struct sockaddr_storage addr;
    osap_err err = OSAP_EINVAL;
    bool oom = false;

    if (!loop || !cfg || !handler || !out) return OSAP_EINVAL;
    if (!cfg->host || !cfg->max_connections || !cfg->max_header_bytes || !cfg->max_header_count ||
        !cfg->max_url_bytes || !cfg->header_timeout_ms || !cfg->body_timeout_ms ||
        !cfg->idle_timeout_ms || !cfg->max_requests_per_conn || !cfg->max_pipeline_bytes ||
        !cfg->max_stream_queue_bytes || cfg->max_header_bytes > (1u << 24) ||
        cfg->max_url_bytes > (1u << 24) || (!cfg->tls_cert_file != !cfg->tls_key_file))
        return OSAP_ECONFIG;
    if (strchr(cfg->host, ':')) {
        if (uv_ip6_addr(cfg->host, cfg->port, (struct sockaddr_in6 *)&addr) != 0)
            return OSAP_ECONFIG;
    } else if (uv_ip4_addr(cfg->host, cfg->port, (struct sockaddr_in *)&addr) != 0) {
        return OSAP_ECONFIG;
    }

    /* libuv writes with write(2): a peer that left must not kill the process */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) signal(SIGPIPE, SIG_IGN);

    srv = osap_calloc(1, sizeof(*srv));
    if (!srv) return OSAP_ENOMEM;
    srv->loop = loop;
    srv->cfg = *cfg;
    srv->handler = handler;
    srv->userdata = userdata;
    srv->host = dup_opt(cfg->host, &oom);
    srv->cert_file = dup_opt(cfg->tls_cert_file, &oom);
    srv->key_file = dup_opt(cfg->tls_key_file, &oom);
    srv->cfg.host = srv->host;
    srv->cfg.tls_cert_file = srv->cert_file;
    srv->cfg.tls_key_file = srv->key_file;
    if (oom) {
        err = OSAP_ENOMEM;
        goto fail;
    }
    if (srv->cert_file) {
        err = osap__http_tls_ctx_new(srv->cert_file, srv->key_file, &srv->tls_ctx);
        if (err) goto fail;
    }

    uv_timer_init(loop, &srv->close_timer);
    srv->close_timer.data = srv;
    srv->handles++;
    uv_tcp_init(loop, &srv->listener);
    srv->listener.data = srv;
    srv->handles++;
    err = OSAP_EHTTP_LISTEN;
    if (uv_tcp_bind(&srv->listener, (struct sockaddr *)&addr, 0) != 0) goto fail;
    if (uv_listen((uv_stream_t *)&srv->listener, cfg->backlog > 0 ? cfg->backlog : 511,
                  on_connection) != 0)
        goto fail;
    struct sockaddr_storage bound;
    int blen = sizeof(bound);
    if (uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&bound, &blen) != 0) goto fail;
    srv->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                  : ((struct sockaddr_in *)&bound)->sin_port);
    *out = srv;
    return OSAP_OK;

fail:
    if (srv->handles) {
        uv_close((uv_handle_t *)&srv->close_timer, on_new_failed_closed);
        if (srv->handles > 1) uv_close((uv_handle_t *)&srv->listener, on_new_failed_closed);
    } else {
        server_free(srv);
    }
    return err;
}

uint16_t osap_http_server_port(const osap_http_server_t *srv)
{
    return srv->port;
}

void osap_http_server_stats(const osap_http_server_t *srv, struct osap_http_stats *out)
{
    *out = srv->stats;
}

static void on_server_timer_closed(uv_handle_t *h)
{
    struct osap_http_server *srv = h->data;
    if (srv->done) srv->done(srv->done_ud);
    server_free(srv);
}

static void server_maybe_done(struct osap_http_server *srv)
{
    /* what is left: the close timer, once the listener, rejects and connections are gone */
    if (!srv->closing || srv->conns || srv->handles != 1 || srv->finishing) return;
    srv->finishing = true;
    uv_close((uv_handle_t *)&srv->close_timer, on_server_timer_closed);
}

static void on_listener_closed(uv_handle_t *h)
{
    struct osap_http_server *srv = h->data;
    srv->handles--;
    server_maybe_done(srv);
}

static void on_close_deadline(uv_timer_t *t)
{
    struct osap_http_server *srv = t->data;
    for (struct osap__http_conn *c = srv->conns; c; c = c->next)
        osap__http_conn_close(c);
}

void osap_http_server_close(osap_http_server_t *srv, osap_http_closed_fn done, void *userdata)
{
    if (srv->closing) return;
    srv->closing = true;
    srv->done = done;
    srv->done_ud = userdata;
    uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
    uv_timer_start(&srv->close_timer, on_close_deadline, srv->cfg.close_timeout_ms, 0);
    for (struct osap__http_conn *c = srv->conns; c; c = c->next) {
        if (c->closing) continue;
        switch (c->state) {
        case HTTP_C_IDLE:
            if (c->nwrites)
                start_drain(c);
            else
                osap__http_conn_close(c);
            break;
        case HTTP_C_HEAD:
        case HTTP_C_DECIDE:
        case HTTP_C_BODY:
        case HTTP_C_LINGER: osap__http_conn_close(c); break;
        case HTTP_C_HANDLER:
        case HTTP_C_STREAM:
        case HTTP_C_DRAIN: break; /* the response in flight finishes, then closes */
        }
    }
    server_maybe_done(srv);
}
