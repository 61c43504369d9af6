/* llhttp glue: assemble one request at a time (target, headers, body) under the
 * configured limits. A callback that refuses the request sets the status the
 * client gets (conn->reject_status) and returns an error; the parser then
 * stops and the connection answers that status and closes. */
#include "http_internal.h"

#include "osap/alloc.h"

#include <string.h>

static struct osap__http_conn *conn_of(llhttp_t *p)
{
    return p->data;
}

static int reject(struct osap__http_conn *conn, int status)
{
    conn->reject_status = status;
    return -1;
}

static int reject_err(struct osap__http_conn *conn, osap_err err, int too_big_status)
{
    return reject(conn, err == OSAP_ETOOBIG ? too_big_status : 503);
}

void osap__http_req_free(struct osap__http_req *req)
{
    if (!req) return;
    req->conn->srv->stats.body_bytes -= req->charged;
    osap__http_buf_release(&req->head);
    osap_free(req->hoff);
    osap__http_url_release(&req->url);
    osap_free(req->headers);
    osap__http_buf_release(&req->body);
    osap__http_buf_release(&req->rhdr);
    osap_free(req);
}

static int on_message_begin(llhttp_t *p)
{
    struct osap__http_conn *conn = conn_of(p);
    const struct osap_http_config *cfg = &conn->srv->cfg;
    if (conn->req) return reject(conn, 500); /* cannot happen: one request at a time */
    struct osap__http_req *req = osap_calloc(1, sizeof(*req));
    if (!req) return reject(conn, 503);
    /* target + NUL, header bytes, two NULs per header */
    osap__http_buf_init(&req->head, (size_t)cfg->max_url_bytes + cfg->max_header_bytes +
                                        2 * (size_t)cfg->max_header_count + 8);
    osap__http_buf_init(&req->body, cfg->max_body_bytes);
    osap__http_buf_init(&req->rhdr, HTTP_MAX_RESPONSE_HEADERS);
    req->conn = conn;
    conn->req = req;
    if (conn->state == HTTP_C_IDLE) osap__http_conn_enter(conn, HTTP_C_HEAD);
    return 0;
}

static int count_head(struct osap__http_conn *conn, size_t n)
{
    struct osap__http_req *req = conn->req;
    req->head_bytes += n;
    if (req->head_bytes > conn->srv->cfg.max_header_bytes) return reject(conn, 431);
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    struct osap__http_conn *conn = conn_of(p);
    struct osap__http_req *req = conn->req;
    req->url_len += len;
    if (req->url_len > conn->srv->cfg.max_url_bytes) return reject(conn, 414);
    if (count_head(conn, len)) return -1;
    osap_err err = osap__http_buf_append(&req->head, at, len);
    return err ? reject_err(conn, err, 431) : 0;
}

static int on_url_complete(llhttp_t *p)
{
    struct osap__http_conn *conn = conn_of(p);
    osap_err err = osap__http_buf_append(&conn->req->head, "", 1);
    return err ? reject_err(conn, err, 431) : 0;
}

/* Terminate a value whose _complete callback did not come (defensive). */
static int close_value(struct osap__http_conn *conn)
{
    struct osap__http_req *req = conn->req;
    if (!req->in_value) return 0;
    req->in_value = false;
    osap_err err = osap__http_buf_append(&req->head, "", 1);
    return err ? reject_err(conn, err, 431) : 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct osap__http_conn *conn = conn_of(p);
    struct osap__http_req *req = conn->req;
    const struct osap_http_config *cfg = &conn->srv->cfg;
    if (count_head(conn, len)) return -1;
    if (req->in_trailers) return 0; /* trailers are counted, not kept */
    if (!req->in_field) {
        if (close_value(conn)) return -1;
        if (req->nhdr >= cfg->max_header_count) return reject(conn, 431);
        if (req->nhdr == req->hdr_cap) {
            size_t cap = req->hdr_cap ? req->hdr_cap * 2 : 16;
            if (cap > cfg->max_header_count) cap = cfg->max_header_count;
            void *n = osap_realloc(req->hoff, cap * sizeof(*req->hoff));
            if (!n) return reject(conn, 503);
            req->hoff = n;
            req->hdr_cap = cap;
        }
        req->hoff[req->nhdr].name = (uint32_t)req->head.len;
        req->hoff[req->nhdr].value = (uint32_t)req->head.len;
        req->nhdr++;
        req->in_field = true;
    }
    osap_err err = osap__http_buf_append(&req->head, at, len);
    return err ? reject_err(conn, err, 431) : 0;
}

static int on_header_field_complete(llhttp_t *p)
{
    struct osap__http_conn *conn = conn_of(p);
    struct osap__http_req *req = conn->req;
    if (count_head(conn, 4)) return -1; /* ": " and CRLF */
    if (req->in_trailers) return 0;
    req->in_field = false;
    osap_err err = osap__http_buf_append(&req->head, "", 1);
    if (err) return reject_err(conn, err, 431);
    req->hoff[req->nhdr - 1].value = (uint32_t)req->head.len;
    req->in_value = true;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct osap__http_conn *conn = conn_of(p);
    struct osap__http_req *req = conn->req;
    if (count_head(conn, len)) return -1;
    if (req->in_trailers) return 0;
    osap_err err = osap__http_buf_append(&req->head, at, len);
    return err ? reject_err(conn, err, 431) : 0;
}

static int on_header_value_complete(llhttp_t *p)
{
    struct osap__http_conn *conn = conn_of(p);
    if (conn->req->in_trailers) return 0;
    return close_value(conn);
}

static enum osap_http_method method_of(uint8_t m)
{
    switch (m) {
    case HTTP_GET: return OSAP_HTTP_GET;
    case HTTP_HEAD: return OSAP_HTTP_HEAD;
    case HTTP_POST: return OSAP_HTTP_POST;
    case HTTP_PUT: return OSAP_HTTP_PUT;
    case HTTP_DELETE: return OSAP_HTTP_DELETE;
    case HTTP_PATCH: return OSAP_HTTP_PATCH;
    case HTTP_OPTIONS: return OSAP_HTTP_OPTIONS;
    default: return OSAP_HTTP_OTHER;
    }
}

static int on_headers_complete(llhttp_t *p)
{
    struct osap__http_conn *conn = conn_of(p);
    struct osap__http_req *req = conn->req;
    struct osap_http_request *pub = &req->pub;
    const struct osap_http_config *cfg = &conn->srv->cfg;

    if (close_value(conn)) return -1;
    req->in_trailers = true;
    if (p->http_major != 1) return reject(conn, 505);

    if (req->nhdr) {
        req->headers = osap_malloc(req->nhdr * sizeof(*req->headers));
        if (!req->headers) return reject(conn, 503);
        for (size_t i = 0; i < req->nhdr; i++) {
            req->headers[i].name = req->head.p + req->hoff[i].name;
            req->headers[i].value = req->head.p + req->hoff[i].value;
        }
    }
    osap_err err = osap__http_url_parse(req->head.p ? req->head.p : "", req->url_len, &req->url);
    if (err) return reject(conn, err == OSAP_ENOMEM ? 503 : 400);

    pub->method = method_of(p->method);
    pub->method_name = llhttp_method_name((llhttp_method_t)p->method);
    pub->target = req->head.p;
    pub->path = req->url.path;
    pub->segments = req->url.segments;
    pub->nsegments = req->url.nsegments;
    pub->params = req->url.params;
    pub->nparams = req->url.nparams;
    pub->headers = req->headers;
    pub->nheaders = req->nhdr;
    pub->http_minor = p->http_minor;
    pub->tls = conn->tls != NULL;
    pub->remote_addr = conn->remote_addr;
    pub->remote_port = conn->remote_port;
    /* protocol upgrades are not offered: such a request is answered, then closed */
    bool upgrade =
        ((p->flags & F_UPGRADE) && (p->flags & F_CONNECTION_UPGRADE)) || p->method == HTTP_CONNECT;
    req->keep_alive = llhttp_should_keep_alive(p) && !upgrade;
    req->head_only = pub->method == OSAP_HTTP_HEAD;

    if (p->http_minor >= 1 && !osap_http_request_header(pub, "Host")) return reject(conn, 400);

    bool chunked = (p->flags & F_CHUNKED) != 0;
    req->has_body = chunked || ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0);
    if (!chunked && p->content_length > INT64_MAX) return reject(conn, 413);
    pub->content_length = chunked ? -1 : (int64_t)p->content_length;
    pub->body = (const uint8_t *)"";
    /* the transport ceiling, unless a head handler answers first (it cannot admit more) */
    if (!conn->srv->on_head && !chunked && p->content_length > cfg->max_body_bytes)
        return reject(conn, 413);

    const char *expect = osap_http_request_header(pub, "Expect");
    if (expect) {
        if (!osap__http_has_token(expect, "100-continue")) return reject(conn, 417);
        req->expect_continue = true;
    }
    if (conn->srv->on_head) {
        /* the feed loop hands the head over, outside of llhttp */
        req->head_ready = true;
        return HPE_PAUSED;
    }
    int status = osap__http_body_admit(req, cfg->max_body_bytes);
    if (status) return reject(conn, status);
    if (req->has_body) osap__http_conn_enter(conn, HTTP_C_BODY);
    return 0;
}

static int on_chunk_header(llhttp_t *p)
{
    struct osap__http_conn *conn = conn_of(p);
    struct osap__http_req *req = conn->req;
    if (req->skip_body || p->content_length == 0) return 0; /* the last chunk adds nothing */
    if (p->content_length > req->body.max - req->body.len) return reject(conn, 413);
    /* room for the chunk, counted in the server's body budget before it is taken */
    size_t cap = osap__http_buf_cap_for(&req->body, (size_t)p->content_length);
    if (cap > req->body.cap) {
        if (!osap__http_body_charge(req, cap)) return reject(conn, 503);
        if (osap__http_buf_reserve(&req->body, (size_t)p->content_length) != OSAP_OK)
            return reject(conn, 503);
    }
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    struct osap__http_conn *conn = conn_of(p);
    if (conn->req->skip_body) return 0;
    osap_err err = osap__http_buf_append(&conn->req->body, at, len);
    return err ? reject_err(conn, err, 413) : 0;
}

static int on_message_complete(llhttp_t *p)
{
    struct osap__http_conn *conn = conn_of(p);
    struct osap__http_req *req = conn->req;
    if (!req->skip_body) {
        req->pub.body = req->body.p ? (const uint8_t *)req->body.p : (const uint8_t *)"";
        req->pub.body_len = req->body.len;
    }
    req->complete = true;
    /* hand over outside of llhttp: the feed loop dispatches on HPE_PAUSED */
    return HPE_PAUSED;
}

static const llhttp_settings_t settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_url_complete = on_url_complete,
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_chunk_header = on_chunk_header,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void osap__http_parser_init(struct osap__http_conn *conn)
{
    llhttp_init(&conn->parser, HTTP_REQUEST, &settings);
    conn->parser.data = conn;
}
