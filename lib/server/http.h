/*
 * The embedded HTTP/1.1 server of osapd: libuv for I/O, llhttp for parsing,
 * OpenSSL 3 (memory BIOs) for optional TLS.
 *
 * One server runs on ONE caller-provided uv_loop_t and is not thread-aware:
 * every function below must be called on the loop's thread. The server parses
 * requests, enforces the limits of struct osap_http_config, and hands each
 * complete request to one handler callback. The handler answers at once or
 * later (osap_http_respond() from any loop callback), or starts a stream
 * (chunked body or Server-Sent Events).
 *
 * Lifetimes (read this before writing a handler)
 * ----------------------------------------------
 * - A request is handed to the application when its head is complete, if a
 *   head handler is set (osap_http_server_on_head()), and to the handler when it
 *   is complete (head + body). From the first of the two it stays valid until
 *   EXACTLY ONE of these happens:
 *     a) a call that finishes it returns: osap_http_respond*(),
 *        osap_http_serve_static() or osap_http_stream_end(), whatever the
 *        result (OSAP_ECLOSED included);
 *     b) its abort callback (osap_http_on_abort()) has returned.
 *   After that the request memory is gone: do not touch it, nor any pointer
 *   read from it (method, path, headers, body...).
 * - The abort callback fires when the connection closes before the request is
 *   finished: the client went away, a stream was dropped at its queue ceiling,
 *   a write failed, or the server was closed past its deadline. It is always
 *   called from a loop callback, never from inside an osap_http_* call you
 *   made, and never after (a). Calls that finish the request are ignored
 *   inside it (they return OSAP_ECLOSED).
 * - A handler (or head handler) that returns without finishing the request
 *   (deferred response or decision, stream) MUST register an abort callback, or
 *   otherwise stop using the request when the connection closes: without one
 *   the request is freed silently at close.
 * - The server object stays valid until the done callback of
 *   osap_http_server_close() has returned; it is freed right after.
 * - Every buffer passed in (response bodies, header values, event data) is
 *   copied before the call returns: the caller keeps ownership.
 *
 * Connection behaviour: keep-alive (HTTP/1.1 default, HTTP/1.0 with
 * "Connection: keep-alive"), pipelined requests answered in order (the next
 * one is parsed only once the previous one is finished), "Connection: close",
 * "Expect: 100-continue", HEAD (headers only). A request that llhttp rejects
 * gets 400 and the connection is closed; the handler never sees it. See
 * docs/HTTP.md for the design.
 *
 * Decisions at the head: with a head handler, the application sees each request
 * when its head is complete, before any byte of its body is read, and either
 * admits the body under a ceiling of its choice (osap_http_accept_body()) or
 * answers at once (osap_http_respond*()), now or later: reading is paused
 * meanwhile. An answer before the body skips a small Content-Length body and
 * keeps the connection; otherwise it says "Connection: close" and the body is
 * never read. "100 Continue" is sent only when the body is admitted.
 */
#ifndef OSAP_SERVER_HTTP_H
#define OSAP_SERVER_HTTP_H

#include "osap/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct cJSON;

/** Settings of one HTTP server. Fill with osap_http_config_init(), then
 *  override. Every limit is enforced before the handler sees a request. */
struct osap_http_config {
    /** Address to listen on: IPv4 ("0.0.0.0", "127.0.0.1") or IPv6 ("::", "::1"). */
    const char *host;
    /** TCP port; 0 picks a free one (see osap_http_server_port()). */
    uint16_t port;
    /** listen(2) backlog. */
    int backlog;
    /** Open connections at most; one more is answered 503 (TLS: closed) at once. */
    uint32_t max_connections;
    /** Request line + header bytes at most (names, values, 4 bytes per header). -> 431 */
    uint32_t max_header_bytes;
    /** Header fields per request at most. -> 431 */
    uint32_t max_header_count;
    /** Request-target (path + query) bytes at most. -> 414 */
    uint32_t max_url_bytes;
    /** Body bytes at most: checked against Content-Length before the body is read,
     *  and while a chunked body arrives. -> 413. The transport ceiling: a head handler
     *  sets a lower one per request (osap_http_accept_body()). */
    uint64_t max_body_bytes;
    /** Request body bytes buffered at once by all connections together (body buffers
     *  are reserved whole from Content-Length, or grown per chunk); a body that does not
     *  fit is refused with 503 and "Retry-After: 1". 0 = no ceiling. */
    uint64_t max_body_buffer_bytes;
    /** Time for a whole request head, from the first byte (from accept, TLS handshake
     *  included, on a new connection). Slow heads get 408 and are closed. */
    uint32_t header_timeout_ms;
    /** Time for a whole request body, from the end of the head (or from the head
     *  handler's osap_http_accept_body()). -> 408 */
    uint32_t body_timeout_ms;
    /** Time the application has to decide on a head it holds (head handler) and to
     *  finish a complete request or start its stream. On expiry the abort callback fires,
     *  the client gets 503 and the connection closes. 0 = no limit. */
    uint32_t response_timeout_ms;
    /** Idle keep-alive connections are closed after this; also the time a response
     *  or a stream may stall (client not reading, unsent bytes not moving) before the
     *  connection is dropped. */
    uint32_t idle_timeout_ms;
    /** Requests per connection at most; the last response says "Connection: close". */
    uint32_t max_requests_per_conn;
    /** Unparsed input (pipelined requests) buffered per connection while a request is
     *  being handled; reading pauses above it. Also the write-queue level above which
     *  further pipelined requests wait, and the largest unread Content-Length body that
     *  is read and discarded (keep-alive) after an answer at the head. */
    uint32_t max_pipeline_bytes;
    /** Streams (chunked, SSE): queued unsent bytes at most; above it the stream is
     *  dropped (connection closed, abort callback fired) instead of growing memory. */
    uint32_t max_stream_queue_bytes;
    /** SSE comment heartbeat period; 0 disables heartbeats. */
    uint32_t sse_heartbeat_ms;
    /** Graceful close: in-flight responses get this long, then connections are cut. */
    uint32_t close_timeout_ms;
    /** After a response with "Connection: close": how long unread input is drained
     *  (so the client sees the response rather than a reset) before closing. */
    uint32_t linger_ms;
    /** osap_http_serve_static(): larger files are refused (500). */
    uint64_t max_static_file_bytes;
    /** TLS certificate chain (PEM) and private key (PEM); both NULL = plain HTTP. */
    const char *tls_cert_file;
    const char *tls_key_file;
};

/** Fill @p cfg with the defaults (documented in docs/HTTP.md): 127.0.0.1:8080, 16 KiB of
 *  headers, 64 header fields, 4 KiB URL, 8 MiB body, 64 MiB of bodies buffered at once,
 *  10 s head, 60 s body, 30 s idle, 120 s response. */
void osap_http_config_init(struct osap_http_config *cfg);

/** Request methods the server names; everything else is OSAP_HTTP_OTHER (see
 *  method_name). */
enum osap_http_method {
    OSAP_HTTP_OTHER = 0,
    OSAP_HTTP_GET,
    OSAP_HTTP_HEAD,
    OSAP_HTTP_POST,
    OSAP_HTTP_PUT,
    OSAP_HTTP_DELETE,
    OSAP_HTTP_PATCH,
    OSAP_HTTP_OPTIONS,
};

/** A name/value pair: a header field or a decoded query parameter. */
struct osap_http_kv {
    const char *name;
    const char *value;
};

/**
 * A complete request, as handed to the handler. All fields are read-only except
 * userdata, and valid for the request's lifetime (see the top of this file).
 * Strings are NUL-terminated.
 */
struct osap_http_request {
    enum osap_http_method method;
    /** Method as received, e.g. "GET", "PROPFIND". */
    const char *method_name;
    /** Raw request-target as received, e.g. "/api/v1/devices?limit=10". */
    const char *target;
    /** Raw path: the target up to '?', still percent-encoded ("/" for "*"). */
    const char *path;
    /** Decoded path segments; empty segments are skipped ("/a//b/" -> "a", "b").
     *  A decoded segment may contain '/' (from %2F); it never contains NUL. */
    const char *const *segments;
    size_t nsegments;
    /** Decoded query parameters in order ('+' is a space); a parameter without '='
     *  has the value "". Repeated names appear repeatedly. */
    const struct osap_http_kv *params;
    size_t nparams;
    /** Header fields in order, names as received (see osap_http_request_header()). */
    const struct osap_http_kv *headers;
    size_t nheaders;
    /** Body bytes (contiguous, decoded from chunked if needed), followed by a NUL
     *  byte that is not counted in body_len. Never NULL; empty at the head handler. */
    const uint8_t *body;
    size_t body_len;
    /** The declared body size: Content-Length (0 without a body), or -1 for a chunked
     *  body, whose size is not known before it has arrived. */
    int64_t content_length;
    /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
    int http_minor;
    /** Whether the request came over TLS. */
    bool tls;
    /** Peer address as text ("192.0.2.1", "2001:db8::1") and port. */
    const char *remote_addr;
    uint16_t remote_port;
    /** Free for the handler; the HTTP layer never reads it. */
    void *userdata;
};

/** Opaque server handle. */
typedef struct osap_http_server osap_http_server_t;

/** Called once per complete request, on the loop thread. @p userdata is the one given to
 *  osap_http_server_new(). The request may be finished here or later. */
typedef void (*osap_http_handler_fn)(struct osap_http_request *req, void *userdata);

/**
 * Called once per request when its head is complete, before any byte of its body is read
 * (only with osap_http_server_on_head()), on the loop thread, with the server's userdata.
 * The request has everything but its body (content_length says what is announced).
 * Decide now or later, exactly once: osap_http_accept_body() reads the body (the handler
 * gets the request when it is complete), or osap_http_respond*() / osap_http_serve_static()
 * answers without reading it. Until then reading is paused (input beyond
 * max_pipeline_bytes waits in the kernel); a deferred decision must register an abort
 * callback, and is cut after response_timeout_ms (503).
 */
typedef void (*osap_http_head_fn)(struct osap_http_request *req, void *userdata);

/** Called when the connection of an unfinished request closes. The request is freed when
 *  it returns. */
typedef void (*osap_http_abort_fn)(struct osap_http_request *req, void *userdata);

/** Called once when osap_http_server_close() has finished; the server is freed when it
 *  returns. */
typedef void (*osap_http_closed_fn)(void *userdata);

/** Counters of one server, for metrics and tests. */
struct osap_http_stats {
    uint32_t connections;       /**< open now */
    uint64_t accepted;          /**< accepted since start, rejected ones included */
    uint64_t rejected;          /**< refused at the connection limit */
    uint64_t requests;          /**< handed to the handler */
    uint64_t errors;            /**< answered with a 4xx by the server itself (400, 408, 413...) */
    uint64_t aborted;           /**< abort callbacks fired */
    uint64_t streams_dropped;   /**< streams closed at the queue ceiling or stalled */
    uint64_t answered_early;    /**< finished before their body was read (head handler) */
    uint64_t body_refused;      /**< bodies refused with 503 at max_body_buffer_bytes */
    uint64_t response_timeouts; /**< requests cut at response_timeout_ms */
    uint64_t body_bytes;        /**< request body bytes buffered now (reserved) */
};

/**
 * Create a server on @p loop and start listening. @p cfg is copied (strings included).
 * With tls_cert_file/tls_key_file set, every connection speaks TLS 1.2 or newer.
 * On success *out is the server; on failure nothing is left to free (handles already
 * initialised are released during the next loop iteration). If SIGPIPE is at its default
 * action it is set to ignored: libuv writes with write(2), and a client that leaves must
 * not kill the process.
 * Errors: OSAP_ECONFIG (bad host or settings), OSAP_EHTTP_LISTEN (bind/listen failed),
 * OSAP_EHTTP_TLS (certificate or key unusable), OSAP_ENOMEM.
 */
osap_err osap_http_server_new(uv_loop_t *loop, const struct osap_http_config *cfg,
                              osap_http_handler_fn handler, void *userdata,
                              osap_http_server_t **out);

/** Set (or clear with NULL) the head handler of @p srv: requests whose head completes
 *  afterwards go to @p fn first (see osap_http_head_fn). Loop thread. */
void osap_http_server_on_head(osap_http_server_t *srv, osap_http_head_fn fn);

/**
 * Admit the body of @p req, a request held at its head (osap_http_head_fn): read it with
 * at most @p max_body bytes (no more than max_body_bytes), then hand the request to the
 * handler. Sends "100 Continue" when the client waits for it. A request without a body
 * goes on to the handler at once. May be called inside the head handler or later.
 * OSAP_OK: the request continues. Otherwise the request is finished and must not be used:
 * OSAP_ETOOBIG (Content-Length over @p max_body: answered 413), OSAP_EBUSY (the body does
 * not fit in max_body_buffer_bytes now, or memory is short: answered 503 with
 * "Retry-After: 1"), OSAP_ECLOSED (the connection is gone). OSAP_ESTATE (nothing happens)
 * when @p req is not held at its head or was decided already. A chunked body over
 * @p max_body is answered 413 by the server when it gets there (abort callback).
 */
osap_err osap_http_accept_body(struct osap_http_request *req, uint64_t max_body);

/** The port the server listens on (useful with port 0). */
uint16_t osap_http_server_port(const osap_http_server_t *srv);

/** Copy the server's counters into @p out. */
void osap_http_server_stats(const osap_http_server_t *srv, struct osap_http_stats *out);

/**
 * Graceful close: stop accepting, close idle connections and connections still reading
 * a request, let in-flight responses and streams finish (their last response says
 * "Connection: close") for up to close_timeout_ms, then cut the rest (their abort
 * callbacks fire). @p done (may be NULL) is called with @p userdata when every handle is
 * closed; the server is freed after it returns. Call once; the server must not be used
 * afterwards except by the requests still in flight.
 */
void osap_http_server_close(osap_http_server_t *srv, osap_http_closed_fn done, void *userdata);

/** First header field named @p name (case-insensitive), or NULL. */
const char *osap_http_request_header(const struct osap_http_request *req, const char *name);

/** First query parameter named @p name (case-sensitive, decoded), or NULL. */
const char *osap_http_request_param(const struct osap_http_request *req, const char *name);

/** Register (or replace, or clear with NULL) the abort callback of an unfinished request. */
void osap_http_on_abort(struct osap_http_request *req, osap_http_abort_fn cb, void *userdata);

/**
 * Add a header field to the response of @p req (before responding or starting a stream).
 * Server-managed fields (Content-Length, Transfer-Encoding, Connection, Date) are set by
 * the server and refused here. OSAP_EINVAL for an invalid name, or a control character
 * other than HTAB (CR, LF...) in the value; OSAP_ETOOBIG beyond 8 KiB of extra headers; OSAP_ESTATE
 * once the response has started.
 */
osap_err osap_http_header(struct osap_http_request *req, const char *name, const char *value);

/**
 * Send the complete response and finish @p req. @p content_type may be NULL (no
 * Content-Type). @p body (@p len bytes, may be NULL when len is 0) is copied. For HEAD,
 * 1xx, 204 and 304 no body is sent. Status must be 200..599.
 * Errors: OSAP_EINVAL (status), OSAP_ESTATE (already finished or streaming),
 * OSAP_ECLOSED (connection gone; the request is finished anyway), OSAP_ENOMEM (the
 * connection is closed; the request is finished anyway).
 */
osap_err osap_http_respond(struct osap_http_request *req, int status, const char *content_type,
                           const void *body, size_t len);

/** osap_http_respond() with "application/json" and the unformatted print of @p json.
 *  OSAP_EJSON if it cannot be printed (the request then gets a 500). */
osap_err osap_http_respond_json(struct osap_http_request *req, int status,
                                const struct cJSON *json);

/** osap_http_respond() with "application/json" and the NUL-terminated @p json text. */
osap_err osap_http_respond_json_str(struct osap_http_request *req, int status, const char *json);

/**
 * Start a streamed response: the head goes out now, the body follows with
 * osap_http_stream_write() (chunked transfer encoding for HTTP/1.1; for HTTP/1.0 the body
 * ends when the connection closes) and ends with osap_http_stream_end(). For HEAD the
 * writes are discarded. Errors as osap_http_respond(); OSAP_ESTATE also for a request
 * whose body has not been read (streams start from the handler only). A stream whose
 * unsent bytes do not move for idle_timeout_ms is dropped like one over its ceiling.
 */
osap_err osap_http_stream_start(struct osap_http_request *req, int status,
                                const char *content_type);

/**
 * Queue @p len bytes (copied) of a streamed body. If the unsent bytes would exceed
 * max_stream_queue_bytes, the stream is dropped instead: the connection closes, this
 * returns OSAP_ECLOSED and the abort callback fires later; the request stays valid until
 * then (or until osap_http_stream_end()). OSAP_ESTATE when no stream was started.
 */
osap_err osap_http_stream_write(struct osap_http_request *req, const void *data, size_t len);

/** End a stream (chunked: the last chunk) and finish @p req; keep-alive continues when
 *  allowed. Also ends SSE streams. Always finishes the request. */
osap_err osap_http_stream_end(struct osap_http_request *req);

/**
 * Start a Server-Sent Events stream: 200, "text/event-stream", "Cache-Control: no-cache",
 * and a ":" comment line every sse_heartbeat_ms while the stream is open.
 */
osap_err osap_http_sse_start(struct osap_http_request *req);

/**
 * Send one event. @p id and @p event may be NULL (no line) and must not contain CR, LF or
 * NUL (OSAP_EINVAL). @p data may be NULL (no data line) and is split at CRLF, CR and LF
 * into one "data:" line each. Back-pressure as osap_http_stream_write().
 */
osap_err osap_http_sse_send(struct osap_http_request *req, const char *id, const char *event,
                            const char *data);

/**
 * Answer a GET or HEAD from files below the directory @p root, using the decoded path
 * segments from index @p skip on (e.g. skip 1 serves "/console/app.js" as
 * root/app.js). A directory (and "/") serves its index.html. Sends Content-Type by
 * extension, ETag and Last-Modified, and 304 for a matching If-None-Match (or
 * If-Modified-Since without If-None-Match). Refuses segments that are "..", ".", start
 * with '.', or contain '/' or '\\' after decoding (404), other methods (405), files that
 * resolve outside @p root (404). Always finishes @p req; returns OSAP_OK when the file or
 * a 304 was sent, otherwise the reason of the error response (OSAP_ENOTFOUND,
 * OSAP_EPERM, OSAP_EUNSUPPORTED, OSAP_ETOOBIG, OSAP_EIO...). Files are read
 * synchronously: meant for the small console files.
 */
osap_err osap_http_serve_static(struct osap_http_request *req, const char *root, size_t skip);

/** Reason phrase of an HTTP status ("Not Found"), "Unknown" for unknown codes. */
const char *osap_http_status_text(int status);

/**
 * Percent-decode @p len bytes of @p in into @p out (room for @p len bytes; the result
 * is never longer). With @p plus_is_space, '+' decodes to a space (query strings).
 * *outlen receives the decoded length; @p out is not NUL-terminated.
 * OSAP_EINVAL for a malformed escape or a decoded NUL.
 */
osap_err osap_http_percent_decode(const char *in, size_t len, bool plus_is_space, char *out,
                                  size_t *outlen);

/** Format @p t as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") into @p out
 *  (at least 30 bytes, NUL-terminated). */
void osap_http_date(int64_t t, char out[30]);

/** Parse an IMF-fixdate into *t. OSAP_EINVAL when it is not one. */
osap_err osap_http_date_parse(const char *s, int64_t *t);

/** One part of a multipart/form-data body. */
struct osap_http_part {
    /** The form field name (Content-Disposition name=). */
    const char *name;
    /** The file name (filename=), or NULL when the part is not a file. */
    const char *filename;
    /** The part's Content-Type, or NULL when absent (text/plain by RFC 7578). */
    const char *content_type;
    /** The part's bytes: a view into the body given to the parser. */
    const uint8_t *data;
    size_t len;
};

/** A parsed multipart/form-data body; free with osap_http_multipart_free(). */
struct osap_http_multipart {
    struct osap_http_part *parts;
    size_t nparts;
};

/** Limits of osap_http_multipart_parse(). */
struct osap_http_multipart_limits {
    size_t max_parts;        /**< parts at most (OSAP_ETOOBIG above) */
    size_t max_part_bytes;   /**< data bytes of one part at most (OSAP_ETOOBIG above) */
    size_t max_header_bytes; /**< header block of one part at most (OSAP_ETOOBIG above) */
};

/**
 * Split a complete multipart/form-data @p body into parts. @p content_type is the
 * request's Content-Type value (it carries the boundary). @p limits may be NULL (16
 * parts, 16 MiB per part, 1 KiB of headers per part). The parts' data point into
 * @p body, which must outlive the result; names are copied.
 * Errors: OSAP_EHTTP_MULTIPART (not multipart/form-data, missing or invalid boundary,
 * truncated body, malformed part headers, part without a name), OSAP_ETOOBIG,
 * OSAP_ENOMEM. *out is set only on success.
 */
osap_err osap_http_multipart_parse(const char *content_type, const uint8_t *body, size_t len,
                                   const struct osap_http_multipart_limits *limits,
                                   struct osap_http_multipart **out);

/** First part named @p name, or NULL. */
const struct osap_http_part *osap_http_multipart_find(const struct osap_http_multipart *mp,
                                                      const char *name);

/** Free a parse result (NULL is fine). */
void osap_http_multipart_free(struct osap_http_multipart *mp);

#endif /* OSAP_SERVER_HTTP_H */
