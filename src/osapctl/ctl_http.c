/* HTTP/1.1 requests to the platform: one connection per request
 * ("Connection: close"), the response parsed with llhttp (chunked bodies,
 * bodies that end at the close), the head and the kept body bounded. */
#include "ctl.h"

#include <llhttp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#ifndef OSAP_VERSION
#define OSAP_VERSION "0"
#endif

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct ctl_http_reader *ps = p->data;

    ps->head_bytes += len;
    if (ps->head_bytes > CTL_HEAD_MAX) return -1;
    if (ps->field_len + len >= sizeof(ps->field)) {
        ps->field_long = true;
        return 0;
    }
    memcpy(ps->field + ps->field_len, at, len);
    ps->field_len += len;
    ps->field[ps->field_len] = '\0';
    return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
    struct ctl_http_reader *ps = p->data;

    ps->is_ctype = !ps->field_long && strcasecmp(ps->field, "Content-Type") == 0;
    ps->ctype_len = 0;
    if (ps->is_ctype) ps->resp->content_type[0] = '\0';
    ps->field_len = 0;
    ps->field_long = false;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct ctl_http_reader *ps = p->data;
    char *ct = ps->resp->content_type;

    ps->head_bytes += len;
    if (ps->head_bytes > CTL_HEAD_MAX) return -1;
    if (ps->is_ctype) {
        size_t room = sizeof(ps->resp->content_type) - 1 - ps->ctype_len;
        size_t n = len < room ? len : room;
        memcpy(ct + ps->ctype_len, at, n);
        ps->ctype_len += n;
        ct[ps->ctype_len] = '\0';
    }
    return 0;
}

static int on_status(llhttp_t *p, const char *at, size_t len)
{
    struct ctl_http_reader *ps = p->data;

    ps->head_bytes += len;
    return ps->head_bytes > CTL_HEAD_MAX ? -1 : 0;
}

static int on_headers_complete(llhttp_t *p)
{
    struct ctl_http_reader *ps = p->data;

    ps->resp->status = llhttp_get_status_code(p);
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    struct ctl_http_reader *ps = p->data;
    struct ctl_response *resp = ps->resp;

    if (resp->status >= 200 && resp->status < 300 && ps->rq->sink) {
        int rc = ps->rq->sink(ps->rq->sink_userdata, at, len);
        if (rc) {
            ps->sink_rc = rc;
            return -1;
        }
        return 0;
    }
    if (ctl_buf_add(&resp->body, at, len)) {
        ps->too_large = true;
        return -1;
    }
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    struct ctl_http_reader *ps = p->data;

    ps->resp->complete = true;
    return HPE_PAUSED;
}

static const llhttp_settings_t settings = {
    .on_status = on_status,
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static int build_request(const struct ctl *ctl, const struct ctl_request *rq, struct ctl_buf *out)
{
    int rc = 0;

    rc |= ctl_buf_printf(out, "%s %s%s HTTP/1.1\r\nHost: %s\r\n", rq->method, ctl->url.prefix,
                         rq->target, ctl->url.hostport);
    rc |= ctl_buf_printf(out, "User-Agent: osapctl/%s\r\nAccept: %s\r\nConnection: close\r\n",
                         OSAP_VERSION, rq->accept ? rq->accept : "application/json");
    if (ctl->token) rc |= ctl_buf_printf(out, "Authorization: Bearer %s\r\n", ctl->token);
    if (rq->last_event_id) rc |= ctl_buf_printf(out, "Last-Event-ID: %s\r\n", rq->last_event_id);
    if (rq->content_type) rc |= ctl_buf_printf(out, "Content-Type: %s\r\n", rq->content_type);
    if (rq->body || strcmp(rq->method, "POST") == 0 || strcmp(rq->method, "PUT") == 0 ||
        strcmp(rq->method, "PATCH") == 0)
        rc |= ctl_buf_printf(out, "Content-Length: %zu\r\n", rq->body_len);
    rc |= ctl_buf_puts(out, "\r\n");
    return rc ? -1 : 0;
}

void ctl_http_reader_init(struct ctl_http_reader *r, const struct ctl_request *rq,
                          struct ctl_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    memset(r, 0, sizeof(*r));
    r->resp = resp;
    r->rq = rq;
    llhttp_init(&r->parser, HTTP_RESPONSE, &settings);
    r->parser.data = r;
}

enum ctl_http_read ctl_http_reader_feed(struct ctl_http_reader *r, const char *data, size_t n)
{
    llhttp_errno_t e = n ? llhttp_execute(&r->parser, data, n) : llhttp_finish(&r->parser);

    if (e == HPE_PAUSED) return CTL_READ_DONE; /* message complete */
    if (n == 0) return r->resp->complete ? CTL_READ_DONE : CTL_READ_CLOSED;
    if (e == HPE_OK) return CTL_READ_MORE;
    if (r->sink_rc) return CTL_READ_SINK;
    if (r->too_large) return CTL_READ_TOO_LARGE;
    if (r->head_bytes > CTL_HEAD_MAX) return CTL_READ_HEAD_TOO_LARGE;
    return CTL_READ_MALFORMED;
}

int ctl_http(const struct ctl *ctl, const struct ctl_request *rq, struct ctl_response *resp)
{
    struct ctl_buf head = {.max = CTL_HEAD_MAX + 8192};
    struct ctl_conn *conn = NULL;
    struct ctl_http_reader reader;
    enum ctl_http_read st = CTL_READ_MORE;
    double timeout = rq->timeout_s == 0 ? ctl->timeout_s : rq->timeout_s;
    int64_t now = ctl_now_ms();
    int64_t connect_deadline = ctl->timeout_s > 0 ? now + (int64_t)(ctl->timeout_s * 1000) : 0;
    int64_t deadline = timeout > 0 ? now + (int64_t)(timeout * 1000) : 0;
    char buf[16384];
    int rc;

    ctl_http_reader_init(&reader, rq, resp);
    if (build_request(ctl, rq, &head)) {
        ctl_error("the request is too large");
        rc = CTL_EAPI;
        goto out;
    }
    if (deadline && (!connect_deadline || deadline < connect_deadline)) connect_deadline = deadline;
    rc = ctl_conn_open(ctl, connect_deadline, &conn);
    if (rc) goto out;
    rc = ctl_conn_write(conn, head.data, head.len, deadline);
    if (!rc && rq->body_len) rc = ctl_conn_write(conn, rq->body, rq->body_len, deadline);
    if (rc) goto out;

    while (st == CTL_READ_MORE) {
        size_t n = 0;

        rc = ctl_conn_read(conn, buf, sizeof(buf), &n, deadline, rq->interrupted);
        if (rc == CTL_ETIMEOUT) {
            ctl_error("no response within %g s (--timeout)", timeout);
            goto out;
        }
        if (rc) goto out;
        if (rq->interrupted && *rq->interrupted) goto out;
        st = ctl_http_reader_feed(&reader, buf, n);
    }
    switch (st) {
    case CTL_READ_MORE:
    case CTL_READ_DONE: break;
    case CTL_READ_CLOSED:
        ctl_error("the connection to %s closed before the response was complete",
                  ctl->url.hostport);
        rc = CTL_ECONN;
        break;
    case CTL_READ_SINK: rc = reader.sink_rc; break;
    case CTL_READ_TOO_LARGE:
        ctl_error("the response is larger than %u bytes", CTL_BODY_MAX);
        rc = CTL_ECONN;
        break;
    case CTL_READ_HEAD_TOO_LARGE:
        ctl_error("the response head is larger than %u bytes", CTL_HEAD_MAX);
        rc = CTL_ECONN;
        break;
    case CTL_READ_MALFORMED:
        ctl_error("malformed response from %s: %s", ctl->url.hostport,
                  llhttp_get_error_reason(&reader.parser));
        rc = CTL_ECONN;
        break;
    }
out:
    ctl_conn_close(conn);
    ctl_buf_release(&head);
    return rc;
}

void ctl_response_release(struct ctl_response *resp)
{
    ctl_buf_release(&resp->body);
}
