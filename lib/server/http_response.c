/* Responses: status line and headers, complete bodies, JSON. */
#include "http_internal.h"

#include "osap/alloc.h"

#include <cjson/cJSON.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HTTP_MAX_HEAD (HTTP_MAX_RESPONSE_HEADERS + 1024)

void osap_http_on_abort(struct osap_http_request *r, osap_http_abort_fn cb, void *userdata)
{
    struct osap__http_req *req = osap__http_req_of(r);
    req->on_abort = cb;
    req->abort_ud = userdata;
}

static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

osap_err osap_http_header(struct osap_http_request *r, const char *name, const char *value)
{
    static const char *const managed[] = {"Content-Length", "Transfer-Encoding", "Connection",
                                          "Date"};
    struct osap__http_req *req = osap__http_req_of(r);
    if (!name || !value || !*name) return OSAP_EINVAL;
    if (req->finished || req->started || req->aborting) return OSAP_ESTATE;
    for (const char *c = name; *c; c++)
        if (!is_tchar((unsigned char)*c)) return OSAP_EINVAL;
    /* field-content (RFC 9110 5.5): no control characters but HTAB */
    for (const unsigned char *c = (const unsigned char *)value; *c; c++)
        if ((*c < 0x20 && *c != '\t') || *c == 0x7f) return OSAP_EINVAL;
    for (size_t i = 0; i < sizeof(managed) / sizeof(managed[0]); i++)
        if (strcasecmp(name, managed[i]) == 0) return OSAP_EINVAL;
    size_t mark = req->rhdr.len;
    osap_err err = osap__http_buf_printf(&req->rhdr, "%s: %s\r\n", name, value);
    if (err) {
        req->rhdr.len = mark;
        if (req->rhdr.p) req->rhdr.p[mark] = '\0';
    }
    return err;
}

static bool status_has_body(int status)
{
    return status >= 200 && status != 204 && status != 304;
}

osap_err osap__http_send_head(struct osap__http_req *req, int status, const char *content_type,
                              int64_t content_length, const void *body, size_t body_len)
{
    struct osap__http_conn *conn = req->conn;
    struct osap_http_server *srv = conn->srv;
    struct osap__http_buf head;
    char date[30];
    osap_err err;

    if (conn->closing) return OSAP_ECLOSED;
    bool stream = content_length < 0;
    /* an answer before the body keeps the connection only when the rest of the body
     * can be read and discarded cheaply; otherwise it is never read */
    bool keep = req->keep_alive && !srv->closing && !conn->eof &&
                conn->nrequests + 1 < srv->cfg.max_requests_per_conn &&
                !(stream && req->pub.http_minor == 0) && osap__http_body_skippable(req);
    req->keep_alive = keep;

    osap__http_buf_init(&head, HTTP_MAX_HEAD);
    osap_http_date((int64_t)time(NULL), date);
    err = osap__http_buf_printf(&head, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status,
                                osap_http_status_text(status), date);
    if (!err && content_type)
        err = osap__http_buf_printf(&head, "Content-Type: %s\r\n", content_type);
    if (!err && !stream && status_has_body(status))
        err = osap__http_buf_printf(&head, "Content-Length: %lld\r\n", (long long)content_length);
    if (!err && stream && req->pub.http_minor >= 1) {
        err = osap__http_buf_puts(&head, "Transfer-Encoding: chunked\r\n");
        req->chunked = true;
    }
    if (!err && !keep) err = osap__http_buf_puts(&head, "Connection: close\r\n");
    if (!err && keep && req->pub.http_minor == 0)
        err = osap__http_buf_puts(&head, "Connection: keep-alive\r\n");
    if (!err && req->rhdr.len) err = osap__http_buf_append(&head, req->rhdr.p, req->rhdr.len);
    if (!err) err = osap__http_buf_puts(&head, "\r\n");
    if (err) {
        osap__http_buf_release(&head);
        osap__http_conn_close(conn);
        return err;
    }
    uv_buf_t bufs[2] = {uv_buf_init(head.p, (unsigned)head.len), uv_buf_init(NULL, 0)};
    unsigned n = 1;
    if (body_len && !req->head_only && status_has_body(status)) {
        bufs[1] = uv_buf_init((char *)body, (unsigned)body_len);
        n = 2;
    }
    err = osap__http_conn_write(conn, bufs, n);
    osap__http_buf_release(&head);
    return err;
}

osap_err osap_http_respond(struct osap_http_request *r, int status, const char *content_type,
                           const void *body, size_t len)
{
    struct osap__http_req *req = osap__http_req_of(r);
    if (req->aborting) return OSAP_ECLOSED;
    if (req->finished || req->started) return OSAP_ESTATE;
    if (status < 200 || status > 599 || (!body && len && !req->head_only) || len > UINT32_MAX)
        return OSAP_EINVAL;
    req->finished = true;
    osap_err err = osap__http_send_head(req, status, content_type, (int64_t)len, body, len);
    osap__http_conn_finished(req->conn);
    return err;
}

osap_err osap_http_respond_json_str(struct osap_http_request *req, int status, const char *json)
{
    return osap_http_respond(req, status, "application/json", json, json ? strlen(json) : 0);
}

osap_err osap_http_respond_json(struct osap_http_request *req, int status, const struct cJSON *json)
{
    char *text = json ? cJSON_PrintUnformatted(json) : NULL;
    if (!text) {
        static const char fail[] = "{\"error\":\"internal error\"}";
        osap_err err = osap_http_respond(req, 500, "application/json", fail, sizeof(fail) - 1);
        return err == OSAP_ESTATE ? err : OSAP_EJSON;
    }
    osap_err err = osap_http_respond(req, status, "application/json", text, strlen(text));
    cJSON_free(text);
    return err;
}
