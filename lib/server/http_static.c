/* Static files for the web console: safe path mapping, content types,
 * validators (ETag, Last-Modified) and conditional GET. */
#include "http_internal.h"

#include "osap/alloc.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct mime_type {
    const char *ext;
    const char *type;
};

static const struct mime_type mime_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/vnd.microsoft.icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
};

static const char *mime_type_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (dot && (!slash || dot > slash)) {
        for (size_t i = 0; i < sizeof(mime_types) / sizeof(mime_types[0]); i++)
            if (strcasecmp(dot + 1, mime_types[i].ext) == 0) return mime_types[i].type;
    }
    return "application/octet-stream";
}

/* Whether the If-None-Match list @p inm names @p etag (weak comparison, RFC 9110 13.1.2). */
static bool etag_matches(const char *inm, const char *etag)
{
    size_t el = strlen(etag);
    const char *s = inm;
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        if (*s == '*') return true;
        if (s[0] == 'W' && s[1] == '/') s += 2;
        const char *e = s;
        if (*e == '"') {
            e = strchr(e + 1, '"');
            if (!e) return false;
            e++;
        } else {
            while (*e && *e != ',')
                e++;
        }
        if ((size_t)(e - s) == el && strncmp(s, etag, el) == 0) return true;
        s = e;
    }
    return false;
}

static osap_err fail(struct osap_http_request *req, int status, osap_err reason)
{
    const char *text = osap_http_status_text(status);
    (void)osap_http_respond(req, status, "text/plain; charset=utf-8", text, strlen(text));
    return reason;
}

/* Canonical path of @p path (synchronous libuv call), or NULL. */
static char *real_path(uv_loop_t *loop, const char *path)
{
    uv_fs_t fs;
    char *res = NULL;
    if (uv_fs_realpath(loop, &fs, path, NULL) == 0 && fs.ptr) res = osap_strdup(fs.ptr);
    uv_fs_req_cleanup(&fs);
    return res;
}

static bool stat_path(uv_loop_t *loop, const char *path, uv_stat_t *st)
{
    uv_fs_t fs;
    int r = uv_fs_stat(loop, &fs, path, NULL);
    if (r == 0) *st = fs.statbuf;
    uv_fs_req_cleanup(&fs);
    return r == 0;
}

/* Read exactly @p size bytes of @p path into a new buffer. */
static osap_err read_file(uv_loop_t *loop, const char *path, size_t size, char **out)
{
    uv_fs_t fs;
    osap_err err = OSAP_EIO;
    char *data = osap_malloc(size + 1);
    if (!data) return OSAP_ENOMEM;
    int fd = uv_fs_open(loop, &fs, path, O_RDONLY | O_CLOEXEC, 0, NULL);
    uv_fs_req_cleanup(&fs);
    if (fd < 0) goto done;
    size_t got = 0;
    while (got < size) {
        uv_buf_t b = uv_buf_init(data + got, (unsigned)(size - got));
        int n = uv_fs_read(loop, &fs, fd, &b, 1, (int64_t)got, NULL);
        uv_fs_req_cleanup(&fs);
        if (n <= 0) break;
        got += (size_t)n;
    }
    uv_fs_close(loop, &fs, fd, NULL);
    uv_fs_req_cleanup(&fs);
    if (got == size) err = OSAP_OK;
done:
    if (err) {
        osap_free(data);
        return err;
    }
    *out = data;
    return OSAP_OK;
}

osap_err osap_http_serve_static(struct osap_http_request *r, const char *root, size_t skip)
{
    struct osap__http_req *req = osap__http_req_of(r);
    uv_loop_t *loop = req->conn->srv->loop;
    struct osap__http_buf path;
    char *real_root = NULL, *real = NULL, *data = NULL;
    osap_err err;
    uv_stat_t st;

    if (req->aborting) return OSAP_ECLOSED;
    if (r->method != OSAP_HTTP_GET && r->method != OSAP_HTTP_HEAD) {
        (void)osap_http_header(r, "Allow", "GET, HEAD");
        return fail(r, 405, OSAP_EUNSUPPORTED);
    }
    osap__http_buf_init(&path, 4096);
    err = osap__http_buf_puts(&path, root);
    for (size_t i = skip; !err && i < r->nsegments; i++) {
        const char *seg = r->segments[i];
        if (seg[0] == '.' || strchr(seg, '/') || strchr(seg, '\\')) {
            err = OSAP_EPERM; /* "..", ".", hidden files, encoded separators */
            break;
        }
        err = osap__http_buf_printf(&path, "/%s", seg);
    }
    if (err) {
        err = fail(r, err == OSAP_ENOMEM ? 500 : 404, err == OSAP_ETOOBIG ? OSAP_ENOTFOUND : err);
        goto done;
    }

    real_root = real_path(loop, root);
    real = real_path(loop, path.p);
    if (real && stat_path(loop, real, &st) && S_ISDIR(st.st_mode)) {
        err = osap__http_buf_puts(&path, "/index.html");
        osap_free(real);
        real = err ? NULL : real_path(loop, path.p);
    }
    size_t rl = real_root ? strlen(real_root) : 0;
    if (!real_root || !real || strncmp(real, real_root, rl) != 0 ||
        (real[rl] != '/' && real[rl] != '\0') || !stat_path(loop, real, &st) ||
        !S_ISREG(st.st_mode)) {
        err = fail(r, 404, OSAP_ENOTFOUND);
        goto done;
    }
    if (st.st_size > req->conn->srv->cfg.max_static_file_bytes) {
        err = fail(r, 500, OSAP_ETOOBIG);
        goto done;
    }

    char etag[64], modified[30];
    snprintf(etag, sizeof(etag), "\"%" PRIx64 "-%" PRIx64 "\"", (uint64_t)st.st_size,
             (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec);
    osap_http_date(st.st_mtim.tv_sec, modified);
    (void)osap_http_header(r, "ETag", etag);
    (void)osap_http_header(r, "Last-Modified", modified);
    (void)osap_http_header(r, "Cache-Control", "no-cache");
    (void)osap_http_header(r, "X-Content-Type-Options", "nosniff");

    const char *inm = osap_http_request_header(r, "If-None-Match");
    const char *ims = osap_http_request_header(r, "If-Modified-Since");
    int64_t since;
    if ((inm && etag_matches(inm, etag)) ||
        (!inm && ims && osap_http_date_parse(ims, &since) == OSAP_OK &&
         (int64_t)st.st_mtim.tv_sec <= since)) {
        err = osap_http_respond(r, 304, NULL, NULL, 0);
        goto done;
    }
    if (r->method == OSAP_HTTP_HEAD) {
        err = osap_http_respond(r, 200, mime_type_of(real), NULL, (size_t)st.st_size);
        goto done;
    }
    err = read_file(loop, real, (size_t)st.st_size, &data);
    if (err) {
        err = fail(r, 500, err);
        goto done;
    }
    err = osap_http_respond(r, 200, mime_type_of(real), data, (size_t)st.st_size);

done:
    osap__http_buf_release(&path);
    osap_free(real_root);
    osap_free(real);
    osap_free(data);
    return err;
}
