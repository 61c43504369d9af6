/* Streamed responses: chunked bodies and Server-Sent Events, with a ceiling on
 * the unsent bytes (a reader that does not keep up is dropped). */
#include "http_internal.h"

#include "osap/alloc.h"

#include <stdio.h>
#include <string.h>

osap_err osap_http_stream_start(struct osap_http_request *r, int status, const char *content_type)
{
    struct osap__http_req *req = osap__http_req_of(r);
    if (req->aborting) return OSAP_ECLOSED;
    if (req->finished || req->started || !req->complete) return OSAP_ESTATE;
    if (status < 200 || status > 599 || status == 204 || status == 304) return OSAP_EINVAL;
    req->started = true;
    osap_err err = osap__http_send_head(req, status, content_type, -1, NULL, 0);
    if (err) return err;
    osap__http_conn_stream_started(req->conn);
    return OSAP_OK;
}

osap_err osap_http_stream_write(struct osap_http_request *r, const void *data, size_t len)
{
    struct osap__http_req *req = osap__http_req_of(r);
    struct osap__http_conn *conn = req->conn;
    if (req->aborting) return OSAP_ECLOSED;
    if (!req->started || req->finished) return OSAP_ESTATE;
    if (conn->closing) return OSAP_ECLOSED;
    if (req->head_only || len == 0) return OSAP_OK;
    size_t queued = osap__http_conn_queued(conn);
    size_t ceiling = conn->srv->cfg.max_stream_queue_bytes;
    if (len > ceiling || queued > ceiling - len) {
        /* the reader does not keep up: drop it rather than grow */
        conn->srv->stats.streams_dropped++;
        osap__http_conn_close(conn);
        return OSAP_ECLOSED;
    }
    if (!req->chunked) {
        uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
        return osap__http_conn_write(conn, &b, 1);
    }
    char size[24];
    int n = snprintf(size, sizeof(size), "%zx\r\n", len);
    uv_buf_t bufs[3] = {uv_buf_init(size, (unsigned)n), uv_buf_init((char *)data, (unsigned)len),
                        uv_buf_init("\r\n", 2)};
    return osap__http_conn_write(conn, bufs, 3);
}

osap_err osap_http_stream_end(struct osap_http_request *r)
{
    struct osap__http_req *req = osap__http_req_of(r);
    struct osap__http_conn *conn = req->conn;
    osap_err err = OSAP_OK;
    if (req->aborting) return OSAP_ECLOSED;
    if (!req->started || req->finished) return OSAP_ESTATE;
    req->finished = true;
    if (conn->closing) {
        err = OSAP_ECLOSED;
    } else if (req->chunked && !req->head_only) {
        uv_buf_t b = uv_buf_init("0\r\n\r\n", 5);
        err = osap__http_conn_write(conn, &b, 1);
    }
    osap__http_conn_finished(conn);
    return err;
}

osap_err osap_http_sse_start(struct osap_http_request *r)
{
    struct osap__http_req *req = osap__http_req_of(r);
    if (req->aborting) return OSAP_ECLOSED;
    if (req->finished || req->started || !req->complete) return OSAP_ESTATE;
    osap_err err = osap_http_header(r, "Cache-Control", "no-cache");
    if (!err) err = osap_http_header(r, "X-Accel-Buffering", "no");
    if (err) return err;
    req->sse = true;
    return osap_http_stream_start(r, 200, "text/event-stream");
}

static bool single_line(const char *s)
{
    return !s || !strpbrk(s, "\r\n");
}

/* Append "data: <line>\n" for every line of @p data (CRLF, CR and LF end lines). */
static osap_err put_data_lines(struct osap__http_buf *b, const char *data)
{
    const char *s = data;
    for (;;) {
        size_t n = strcspn(s, "\r\n");
        osap_err err = osap__http_buf_puts(b, "data: ");
        if (!err) err = osap__http_buf_append(b, s, n);
        if (!err) err = osap__http_buf_append(b, "\n", 1);
        if (err) return err;
        s += n;
        if (!*s) return OSAP_OK;
        s += (s[0] == '\r' && s[1] == '\n') ? 2 : 1;
        if (!*s) return OSAP_OK; /* a final line break ends the last line */
    }
}

osap_err osap_http_sse_send(struct osap_http_request *r, const char *id, const char *event,
                            const char *data)
{
    struct osap__http_req *req = osap__http_req_of(r);
    if (req->aborting) return OSAP_ECLOSED;
    if (!req->sse || !req->started || req->finished) return OSAP_ESTATE;
    if (!single_line(id) || !single_line(event)) return OSAP_EINVAL;
    struct osap__http_buf b;
    osap__http_buf_init(&b, (size_t)req->conn->srv->cfg.max_stream_queue_bytes);
    osap_err err = OSAP_OK;
    if (id) err = osap__http_buf_printf(&b, "id: %s\n", id);
    if (!err && event) err = osap__http_buf_printf(&b, "event: %s\n", event);
    if (!err && data) err = put_data_lines(&b, data);
    if (!err) err = osap__http_buf_append(&b, "\n", 1);
    if (!err) err = osap_http_stream_write(r, b.p, b.len);
    osap__http_buf_release(&b);
    return err;
}
