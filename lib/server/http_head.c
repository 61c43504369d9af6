/* Decisions at the head: the head handler, admission of a request body (its
 * ceiling, the server's budget of buffered body bytes, "100 Continue"), and what
 * happens to an unread body after an early answer (skipped when small, else the
 * connection closes). See http.h (osap_http_head_fn) and docs/HTTP.md. */
#include "http_internal.h"

#include <stdio.h>
#include <string.h>

void osap_http_server_on_head(osap_http_server_t *srv, osap_http_head_fn fn)
{
    srv->on_head = fn;
}

bool osap__http_body_charge(struct osap__http_req *req, size_t cap)
{
    struct osap_http_server *srv = req->conn->srv;
    size_t grow = cap > req->charged ? cap - req->charged : 0;
    uint64_t max = srv->cfg.max_body_buffer_bytes;

    if (max && (grow > max || srv->stats.body_bytes > max - grow)) {
        srv->stats.body_refused++;
        return false;
    }
    srv->stats.body_bytes += grow;
    req->charged += grow;
    return true;
}

static void send_continue(struct osap__http_conn *conn)
{
    static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
    uv_buf_t b = uv_buf_init((char *)line, sizeof(line) - 1);
    (void)osap__http_conn_write(conn, &b, 1);
}

int osap__http_body_admit(struct osap__http_req *req, uint64_t max)
{
    struct osap__http_conn *conn = req->conn;
    int64_t len = req->pub.content_length;

    if (max > conn->srv->cfg.max_body_bytes) max = conn->srv->cfg.max_body_bytes;
    req->body.max = (size_t)max;
    if (len > 0) {
        if ((uint64_t)len > max) return 413;
        /* the whole body at once: refused now rather than half-way */
        size_t cap = osap__http_buf_cap_for(&req->body, (size_t)len);
        if (!osap__http_body_charge(req, cap)) return 503;
        if (osap__http_buf_reserve(&req->body, (size_t)len) != OSAP_OK) return 503;
    }
    req->admitted = true;
    if (req->expect_continue && req->has_body && req->pub.http_minor >= 1) {
        send_continue(conn);
        req->continue_sent = true;
    }
    return 0;
}

bool osap__http_body_skippable(const struct osap__http_req *req)
{
    if (req->complete || !req->has_body) return true;
    if (req->pub.content_length < 0) return false; /* chunked: no size to skip */
    /* the client may or may not send a body it was never asked for */
    if (req->expect_continue && !req->continue_sent) return false;
    uint64_t unread = (uint64_t)req->pub.content_length - (req->admitted ? req->body.len : 0);
    return unread <= req->conn->srv->cfg.max_pipeline_bytes;
}

void osap__http_body_skip(struct osap__http_req *req)
{
    struct osap_http_server *srv = req->conn->srv;

    req->skip_body = true;
    osap__http_buf_release(&req->body);
    srv->stats.body_bytes -= req->charged;
    req->charged = 0;
    req->pub.body = (const uint8_t *)"";
    req->pub.body_len = 0;
}

/* Refuse an admitted-or-not body from outside the parser: a plain answer, which
 * skips the body or closes. */
static void refuse(struct osap__http_req *req, int status)
{
    const char *text = osap_http_status_text(status);
    char body[64];
    int n = snprintf(body, sizeof(body), "%s\n", text);

    req->conn->srv->stats.errors++;
    if (status == 503) (void)osap_http_header(&req->pub, "Retry-After", "1");
    (void)osap_http_respond(&req->pub, status, "text/plain; charset=utf-8", body, (size_t)n);
}

osap_err osap_http_accept_body(struct osap_http_request *r, uint64_t max_body)
{
    struct osap__http_req *req = osap__http_req_of(r);
    struct osap__http_conn *conn = req->conn;

    if (req->aborting) return OSAP_ECLOSED;
    if (req->finished || !req->held || req->admitted) return OSAP_ESTATE;
    if (conn->closing) {
        req->finished = true;
        return OSAP_ECLOSED;
    }
    int status = osap__http_body_admit(req, max_body);
    if (status) {
        refuse(req, status);
        return status == 413 ? OSAP_ETOOBIG : OSAP_EBUSY;
    }
    osap__http_conn_enter(conn, HTTP_C_BODY);
    osap__http_conn_continue(conn);
    return OSAP_OK;
}
