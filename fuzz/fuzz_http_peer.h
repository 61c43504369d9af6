/*
 * A client for the HTTP fuzz targets: osapd's HTTP server (lib/server) on a loop
 * of its own, fed through one end of a socketpair (osap__http_server_adopt())
 * instead of an accepted TCP connection, so that every byte goes through the
 * server's real reading, parsing, request assembly, limits and writing.
 *
 * The client writes the request bytes in pieces, runs the loop until nothing
 * moves, and parses everything the server answers with llhttp: the server must
 * only ever send well-formed HTTP/1.1 responses (a HEAD response has no body; a
 * response may be cut short only by the end of the connection). Header-only;
 * one connection at a time, single-threaded unless the application posts work
 * back to the loop from other threads (fz_http_wait()).
 */
#ifndef FUZZ_HTTP_PEER_H
#define FUZZ_HTTP_PEER_H

#include "fuzz_split.h"
#include "http_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <llhttp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FZ_HTTP_FIFO 4096

struct fz_http {
    uv_loop_t loop;
    osap_http_server_t *srv;
    int peer; /* the client's end of the socketpair; -1 when none */
    /* responses */
    llhttp_t rp;
    llhttp_settings_t rs;
    bool in_response;
    int status;
    size_t responses;  /* final (non-1xx) responses complete */
    size_t received;   /* bytes read from the server */
    bool event_stream; /* the response being read is text/event-stream */
    bool head_done;    /* the head of the response being read is complete */
    bool peer_eof;     /* the server closed the connection */
    char field[32];
    size_t field_len;
    bool is_ctype;
    /* HEAD flags of the requests seen by the application, in order */
    bool head_fifo[FZ_HTTP_FIFO];
    size_t fifo_in, fifo_out;
    /* application progress, counted by the target */
    uint64_t progress;
    /* called at each final response (optional): its status, its body (the first
     * sizeof(body) bytes; body_cut when there were more) */
    void (*on_response)(struct fz_http *h);
    char body[65536];
    size_t body_len;
    bool body_cut;
};

/** The application saw a request (head handler or handler, once per request). */
static inline void fz_http_seen(struct fz_http *h, const struct osap_http_request *req)
{
    if (h->fifo_in - h->fifo_out < FZ_HTTP_FIFO)
        h->head_fifo[h->fifo_in++ % FZ_HTTP_FIFO] = req->method == OSAP_HTTP_HEAD;
    h->progress++;
}

static int fz_http_on_message_begin(llhttp_t *p)
{
    struct fz_http *h = p->data;
    h->in_response = true;
    h->event_stream = false;
    h->head_done = false;
    h->body_len = 0;
    h->body_cut = false;
    return 0;
}

static int fz_http_on_body(llhttp_t *p, const char *at, size_t len)
{
    struct fz_http *h = p->data;
    size_t room = sizeof(h->body) - h->body_len;
    if (len > room) {
        len = room;
        h->body_cut = true;
    }
    memcpy(h->body + h->body_len, at, len);
    h->body_len += len;
    return 0;
}

static int fz_http_on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct fz_http *h = p->data;
    size_t n =
        len < sizeof(h->field) - 1 - h->field_len ? len : sizeof(h->field) - 1 - h->field_len;
    memcpy(h->field + h->field_len, at, n);
    h->field_len += n;
    h->field[h->field_len] = '\0';
    return 0;
}

static int fz_http_on_header_field_complete(llhttp_t *p)
{
    struct fz_http *h = p->data;
    h->is_ctype = strcasecmp(h->field, "Content-Type") == 0;
    h->field_len = 0;
    return 0;
}

static int fz_http_on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct fz_http *h = p->data;
    if (h->is_ctype && len >= 17 && strncasecmp(at, "text/event-stream", 17) == 0)
        h->event_stream = true;
    return 0;
}

static int fz_http_on_headers_complete(llhttp_t *p)
{
    struct fz_http *h = p->data;
    int status = llhttp_get_status_code(p);
    h->status = status;
    h->head_done = true;
    CHECK(status >= 100 && status <= 599);
    if (status < 200) return 0; /* 100 Continue: the request still waits for its answer */
    if (h->fifo_out < h->fifo_in && h->head_fifo[h->fifo_out++ % FZ_HTTP_FIFO])
        return 1; /* the answer to a HEAD request: no body */
    return 0;
}

static int fz_http_on_message_complete(llhttp_t *p)
{
    struct fz_http *h = p->data;
    h->in_response = false;
    if (h->status >= 200) {
        h->responses++;
        if (h->on_response) h->on_response(h);
    }
    return 0;
}

/** Set up the loop and a server with @p cfg (its address is 127.0.0.1, port 0). */
static inline void fz_http_init(struct fz_http *h, const struct osap_http_config *cfg,
                                osap_http_handler_fn handler, void *userdata)
{
    struct osap_http_config c = *cfg;

    memset(h, 0, sizeof(*h));
    h->peer = -1;
    c.host = "127.0.0.1";
    c.port = 0;
    c.tls_cert_file = c.tls_key_file = NULL;
    CHECK(uv_loop_init(&h->loop) == 0);
    CHECK(osap_http_server_new(&h->loop, &c, handler, userdata, &h->srv) == OSAP_OK);
    llhttp_settings_init(&h->rs);
    h->rs.on_message_begin = fz_http_on_message_begin;
    h->rs.on_header_field = fz_http_on_header_field;
    h->rs.on_header_field_complete = fz_http_on_header_field_complete;
    h->rs.on_header_value = fz_http_on_header_value;
    h->rs.on_headers_complete = fz_http_on_headers_complete;
    h->rs.on_message_complete = fz_http_on_message_complete;
    h->rs.on_body = fz_http_on_body;
}

/** A new connection to the server. */
static inline void fz_http_connect(struct fz_http *h)
{
    int sv[2];

    CHECK(h->peer < 0);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
    CHECK(osap__http_server_adopt(h->srv, sv[0]) == OSAP_OK);
    h->peer = sv[1];
    llhttp_init(&h->rp, HTTP_RESPONSE, &h->rs);
    h->rp.data = h;
    h->in_response = false;
    h->peer_eof = false;
    h->fifo_in = h->fifo_out = 0;
}

/* Read and parse what the server sent; true when something came. */
static inline bool fz_http_drain(struct fz_http *h)
{
    char buf[65536];
    bool got = false;

    while (h->peer >= 0) {
        ssize_t n = read(h->peer, buf, sizeof(buf));
        if (n <= 0) {
            CHECK(n == 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNRESET);
            if (n == 0 || errno == ECONNRESET) h->peer_eof = true;
            break;
        }
        got = true;
        h->received += (size_t)n;
        llhttp_errno_t e = llhttp_execute(&h->rp, buf, (size_t)n);
        if (e != HPE_OK) {
            fprintf(stderr, "fuzz_http_peer: malformed response from the server: %s (%s)\n",
                    llhttp_errno_name(e), llhttp_get_error_reason(&h->rp));
            abort();
        }
    }
    return got;
}

/* A signature of everything that can move. */
static inline uint64_t fz_http_sig(struct fz_http *h)
{
    struct osap_http_stats st;
    osap_http_server_stats(h->srv, &st);
    return h->received * 1000003u + st.requests * 10007u + st.errors * 101u + st.aborted * 7u +
           st.connections + h->progress * 31u + (uint64_t)uv_loop_alive(&h->loop);
}

/** Run the loop (without blocking) until two rounds in a row change nothing. */
static inline void fz_http_pump(struct fz_http *h)
{
    int quiet = 0;

    for (int i = 0; i < 100000 && quiet < 2; i++) {
        uint64_t before = fz_http_sig(h);
        uv_run(&h->loop, UV_RUN_NOWAIT);
        fz_http_drain(h);
        quiet = fz_http_sig(h) == before ? quiet + 1 : 0;
    }
}

/** Write @p n bytes as the client, then pump. */
static inline void fz_http_send(struct fz_http *h, const uint8_t *p, size_t n)
{
    while (n > 0 && h->peer >= 0) {
        ssize_t w = write(h->peer, p, n);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                fz_http_pump(h); /* the server reads on */
                continue;
            }
            CHECK(errno == EPIPE || errno == ECONNRESET);
            break; /* the server has closed */
        }
        p += w;
        n -= (size_t)w;
        fz_http_pump(h);
    }
}

/** Write @p data in pieces cut by @p split. */
static inline void fz_http_send_split(struct fz_http *h, const uint8_t *data, size_t size,
                                      struct fz_split *split)
{
    size_t off = 0;
    while (off < size) {
        size_t n = fz_split_next(split, size - off);
        fz_http_send(h, data + off, n);
        off += n;
    }
}

/** The number of open connections of the server. */
static inline uint32_t fz_http_open(struct fz_http *h)
{
    struct osap_http_stats st;
    osap_http_server_stats(h->srv, &st);
    return st.connections;
}

/** End the connection: the client half-closes (@p eof), reads what comes, then goes
 *  away; the loop runs until the server has let go of the connection. */
static inline void fz_http_close(struct fz_http *h, bool eof)
{
    if (h->peer < 0) return;
    if (eof) {
        shutdown(h->peer, SHUT_WR);
        fz_http_pump(h);
    }
    close(h->peer);
    h->peer = -1;
    for (int i = 0; i < 100000 && fz_http_open(h) > 0; i++) {
        uv_run(&h->loop, UV_RUN_NOWAIT);
        fz_http_pump(h);
    }
    CHECK(fz_http_open(h) == 0);
}

#endif /* FUZZ_HTTP_PEER_H */
