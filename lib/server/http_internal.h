/*
 * Internals of the HTTP layer shared by lib/server/http_*.c. Not for users of
 * http.h: the structures here change freely.
 *
 * Ownership: the server owns its connections (a doubly linked list); a
 * connection owns at most one request at a time (the one being read, handled
 * or streamed), its unparsed input (pending) and its TLS state. A connection
 * is freed in the close callback of the last of its two handles (tcp, timer);
 * its request (if unfinished) gets its abort callback just before.
 */
#ifndef OSAP_SERVER_HTTP_INTERNAL_H
#define OSAP_SERVER_HTTP_INTERNAL_H

#include "http.h"

#include <llhttp.h>
#include <openssl/ssl.h>

/** Extra response header bytes (osap_http_header()) at most. */
#define HTTP_MAX_RESPONSE_HEADERS 8192

/* ---- growable buffers with a ceiling (http_util.c) ---- */

/** A byte buffer that grows up to @c max bytes (a NUL is kept after the data). */
struct osap__http_buf {
    char *p;
    size_t len;
    size_t cap;
    size_t max;
};

/** Empty buffer with ceiling @p max (no allocation yet). */
void osap__http_buf_init(struct osap__http_buf *b, size_t max);
/** Free the buffer's memory. */
void osap__http_buf_release(struct osap__http_buf *b);
/** The capacity osap__http_buf_reserve(@p b, @p extra) would give the buffer (its current
 *  one when it has room), or 0 above the ceiling. An empty buffer gets exactly what it
 *  needs (at least 256 bytes); a growing one doubles, up to the ceiling. */
size_t osap__http_buf_cap_for(const struct osap__http_buf *b, size_t extra);
/** Make room for @p extra more bytes (+1 for the NUL). OSAP_ETOOBIG above the ceiling. */
osap_err osap__http_buf_reserve(struct osap__http_buf *b, size_t extra);
/** Append @p len bytes. OSAP_ETOOBIG above the ceiling, OSAP_ENOMEM. */
osap_err osap__http_buf_append(struct osap__http_buf *b, const void *data, size_t len);
/** Append a NUL-terminated string. */
osap_err osap__http_buf_puts(struct osap__http_buf *b, const char *s);
/** Append printf-formatted text. */
osap_err osap__http_buf_printf(struct osap__http_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- request-target parsing (http_util.c) ---- */

/** A parsed request-target; every pointer points into @c mem (one allocation). */
struct osap__http_url {
    void *mem;
    const char *path;
    const char **segments;
    size_t nsegments;
    struct osap_http_kv *params;
    size_t nparams;
};

/** Parse an origin-form ("/a/b?x=1"), absolute-form ("http://host/a") or asterisk-form
 *  ("*") target. OSAP_EINVAL for anything else or bad escapes; OSAP_ENOMEM. */
osap_err osap__http_url_parse(const char *target, size_t len, struct osap__http_url *out);
/** Free what osap__http_url_parse() allocated. */
void osap__http_url_release(struct osap__http_url *u);

/** Whether @p s (a header value) lists @p token, comma-separated, case-insensitive. */
bool osap__http_has_token(const char *s, const char *token);

/* ---- TLS with memory BIOs (http_tls.c) ---- */

/** TLS state of one connection. */
struct osap__http_tls {
    SSL *ssl;
    BIO *rbio;         /* ciphertext from the network, read by OpenSSL */
    BIO *wbio;         /* ciphertext written by OpenSSL, to send */
    size_t rbio_bytes; /* pushed into rbio since it was created */
    size_t wbio_bytes; /* taken from wbio since it was created */
};

/** Server context for TLS 1.2+ from PEM files. OSAP_EHTTP_TLS when unusable. */
osap_err osap__http_tls_ctx_new(const char *cert_file, const char *key_file, SSL_CTX **out);
/** Free a context made by osap__http_tls_ctx_new() (NULL is fine). */
void osap__http_tls_ctx_free(SSL_CTX *ctx);
/** Per-connection TLS state in server mode. */
osap_err osap__http_tls_new(SSL_CTX *ctx, struct osap__http_tls **out);
/** Free per-connection TLS state (NULL is fine). */
void osap__http_tls_free(struct osap__http_tls *t);
/** Hand @p len ciphertext bytes from the network to OpenSSL. */
osap_err osap__http_tls_push(struct osap__http_tls *t, const char *data, size_t len);
/** Decrypt into @p buf. Returns bytes (> 0), 0 when more input is needed, -1 on a fatal
 *  error or when the peer closed the TLS session. Drives the handshake too. */
int osap__http_tls_read(struct osap__http_tls *t, char *buf, size_t cap);
/** Encrypt @p len plaintext bytes (ciphertext becomes pending output). */
osap_err osap__http_tls_write(struct osap__http_tls *t, const void *data, size_t len);
/** Ciphertext bytes waiting to be sent. */
size_t osap__http_tls_pending(struct osap__http_tls *t);
/** Move up to @p cap pending ciphertext bytes into @p buf; returns the count. */
size_t osap__http_tls_take(struct osap__http_tls *t, char *buf, size_t cap);
/** Whether the handshake has completed. */
bool osap__http_tls_ready(struct osap__http_tls *t);
/** Replace the memory BIOs by fresh ones when they are empty but grew large, so an
 *  idle connection keeps no large buffers. */
void osap__http_tls_trim(struct osap__http_tls *t);
/** Queue a close_notify alert (best effort). */
void osap__http_tls_shutdown(struct osap__http_tls *t);

/* ---- connections and requests ---- */

/** What a connection is doing; decides what its timer means. */
enum osap__http_cstate {
    HTTP_C_IDLE,    /* between requests: idle (or head) timeout */
    HTTP_C_HEAD,    /* reading a request head: header timeout -> 408 */
    HTTP_C_DECIDE,  /* the head handler holds the head: response timeout -> 503 */
    HTTP_C_BODY,    /* reading a request body: body timeout -> 408 */
    HTTP_C_HANDLER, /* the handler has the request: response timeout -> 503 */
    HTTP_C_STREAM,  /* a streamed response is open: heartbeat timer */
    HTTP_C_DRAIN,   /* last response queued, waiting for the writes: stall timeout */
    HTTP_C_LINGER,  /* write side shut down, discarding input: linger timeout */
};

struct osap__http_conn;

/** Header offsets while the head is being received (the buffer may move). */
struct osap__http_hdr_off {
    uint32_t name;
    uint32_t value;
};

/** A request: the public view first, so the handler's pointer converts back. */
struct osap__http_req {
    struct osap_http_request pub;
    struct osap__http_conn *conn;

    /* head assembly: target then header names/values, each NUL-terminated */
    struct osap__http_buf head;
    size_t head_bytes; /* counted against max_header_bytes */
    size_t url_len;
    struct osap__http_hdr_off *hoff;
    size_t nhdr;
    size_t hdr_cap;
    bool in_field; /* inside a header name */
    bool in_value; /* inside a header value (not yet NUL-terminated) */
    bool in_trailers;
    bool complete;   /* fully received */
    bool dispatched; /* handed to the handler */

    /* the body, decided at the head (http_head.c) */
    bool has_body;        /* Content-Length > 0 or chunked */
    bool expect_continue; /* "Expect: 100-continue" */
    bool continue_sent;
    bool head_ready; /* head complete, the head handler is to see it */
    bool held;       /* handed to the head handler */
    bool admitted;   /* the body is being read into body */
    bool skip_body;  /* answered early: the rest of the body is read and discarded */
    size_t charged;  /* bytes of body counted in the server's stats.body_bytes */

    struct osap__http_url url;
    struct osap_http_kv *headers;
    struct osap__http_buf body;

    /* response */
    struct osap__http_buf rhdr; /* extra header lines, "Name: value\r\n" each */
    bool keep_alive;
    bool started;  /* head sent (stream) */
    bool finished; /* finished by the handler: no abort */
    bool aborting; /* inside the abort callback */
    bool chunked;  /* stream uses chunked encoding */
    bool sse;
    bool head_only; /* HEAD request: no body bytes */
    osap_http_abort_fn on_abort;
    void *abort_ud;
};

/** One client connection. */
struct osap__http_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shutdown_req;
    struct osap_http_server *srv;
    struct osap__http_conn *prev;
    struct osap__http_conn *next;
    llhttp_t parser;
    struct osap__http_req *req;
    struct osap__http_tls *tls;
    char *pending; /* unparsed input received while not parsing */
    size_t pending_len;
    uint64_t deadline;      /* loop time (ms) the current state's timer aims at */
    uint64_t last_progress; /* loop time of the last completed write */
    uint32_t nrequests;     /* responses finished on this connection */
    uint32_t nwrites;       /* uv_write requests in flight */
    int handles;            /* open libuv handles */
    int reject_status;      /* status chosen by a parser callback that failed */
    enum osap__http_cstate state;
    bool closing;
    bool reading;
    bool read_paused; /* reading stopped: pending input at its ceiling */
    bool in_handler;
    bool eof;
    bool resume_soon;   /* a zero timer will resume parsing */
    bool write_blocked; /* parsing waits for the write queue to drain */
    bool shutting;
    uint64_t stall_since; /* STREAM: loop time unsent bytes were first seen not moving */
    char remote_addr[46];
    uint16_t remote_port;
};

/** The server. */
struct osap_http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_timer_t close_timer;
    uv_tcp_t spare; /* accepts and drops a connection when memory is short */
    struct osap_http_config cfg;
    char *host;
    char *cert_file;
    char *key_file;
    SSL_CTX *tls_ctx;
    osap_http_handler_fn handler;
    osap_http_head_fn on_head;
    void *userdata;
    osap_http_closed_fn done;
    void *done_ud;
    struct osap__http_conn *conns;
    struct osap_http_stats stats;
    uint16_t port;
    int handles; /* listener, close timer, rejected connections, spare */
    bool closing;
    bool finishing;
    bool spare_busy;
    bool accept_stalled;
    char rbuf[65536];   /* shared read buffer (one loop thread) */
    char tlsbuf[16384]; /* shared plaintext buffer for TLS reads */
};

/** Serve the connected stream socket @p fd as if it had been accepted (no connection
 *  limit): for tests and fuzz targets, which feed a server through one end of a
 *  socketpair. On success the connection owns @p fd; otherwise (OSAP_ENOMEM, OSAP_EIO,
 *  OSAP_ESTATE once the server is closing) the caller still does. Loop thread. */
osap_err osap__http_server_adopt(struct osap_http_server *srv, uv_os_sock_t fd);

/** Switch the connection to @p st and arm its timer for it (http_server.c). */
void osap__http_conn_enter(struct osap__http_conn *conn, enum osap__http_cstate st);

/** Initialise the connection's llhttp parser (http_parse.c). */
void osap__http_parser_init(struct osap__http_conn *conn);

/** Free a request and everything it owns (http_parse.c). */
void osap__http_req_free(struct osap__http_req *req);

/** Send bytes on the connection (copied; encrypted under TLS). On failure the
 *  connection is being closed. OSAP_ECLOSED when it already is. */
osap_err osap__http_conn_write(struct osap__http_conn *conn, const uv_buf_t *bufs, unsigned n);

/** Unsent bytes queued on the connection. */
size_t osap__http_conn_queued(struct osap__http_conn *conn);

/** Close the connection now (abort callbacks fire from the close callback). */
void osap__http_conn_close(struct osap__http_conn *conn);

/** The handler's request is finished and its last bytes are queued: release it and go
 *  on with keep-alive, or close after the writes. */
void osap__http_conn_finished(struct osap__http_conn *conn);

/** A stream has started: heartbeats (SSE) and stream state. */
void osap__http_conn_stream_started(struct osap__http_conn *conn);

/** Build and queue a response head for @p req. @p content_length < 0: a stream (chunked
 *  for HTTP/1.1, close-delimited for HTTP/1.0). @p extra_body: bytes sent after the head
 *  in the same write (NULL for none). Decides keep-alive. */
osap_err osap__http_send_head(struct osap__http_req *req, int status, const char *content_type,
                              int64_t content_length, const void *body, size_t body_len);

/** Answer a request the handler never saw (400, 408, 413, ...) and close after it. A
 *  request the application holds gets its abort callback first. */
void osap__http_conn_fail(struct osap__http_conn *conn, int status);

/** Go on parsing from the next loop iteration (after a decision taken outside the
 *  server's own callbacks); inside a handler the feed loop goes on by itself. */
void osap__http_conn_continue(struct osap__http_conn *conn);

/* ---- decisions at the head (http_head.c) ---- */

/** Admit the body of @p req under the ceiling @p max (clamped to max_body_bytes): reserve
 *  a Content-Length body against the server's body budget and send "100 Continue" when
 *  the client waits for it. 0, or the status that refuses it (413, 503). */
int osap__http_body_admit(struct osap__http_req *req, uint64_t max);

/** Count growth of @p req's body buffer to @p cap bytes in the server's body budget;
 *  false (nothing counted) when it does not fit. */
bool osap__http_body_charge(struct osap__http_req *req, size_t cap);

/** Whether the unread rest of @p req's body may be read and discarded after an early
 *  answer (small Content-Length, no client waiting for "100 Continue"); true when
 *  nothing is unread. */
bool osap__http_body_skippable(const struct osap__http_req *req);

/** Answered early and kept alive: free the body buffer, discard the rest of the body. */
void osap__http_body_skip(struct osap__http_req *req);

/** Request object from the public pointer. */
static inline struct osap__http_req *osap__http_req_of(struct osap_http_request *r)
{
    return (struct osap__http_req *)r;
}

#endif /* OSAP_SERVER_HTTP_INTERNAL_H */
