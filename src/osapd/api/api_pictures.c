/* The Picture Service: POST /api/v1/pictures (the raw image as the body, or
 * multipart/form-data with a "file" part), GET /api/v1/pictures (list),
 * GET and DELETE /api/v1/pictures/{sha256}.
 *
 * The type comes from the content's magic bytes (JPEG, PNG, GIF, WebP, BMP),
 * never from the client's Content-Type: anything else is 415. Files are
 * content-addressed: data_dir/pictures/<first two hex digits>/<other 62>,
 * written to a temporary file in the same directory, fsync'd, renamed and the
 * directory fsync'd, so a stored picture is whole or absent after a crash; the
 * same bytes uploaded twice are stored once. The metadata row (pictures table)
 * is written after the file. File work runs on the store threads, under one
 * lock so that an upload and a delete of the same content cannot interleave. */
#include "api/api_internal.h"

#include "log.h"
#include "osap/alloc.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t files_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- content type from the magic bytes ---- */

static const char *picture_type(const uint8_t *p, size_t n)
{
    static const uint8_t png[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};

    if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) return "image/jpeg";
    if (n >= 8 && memcmp(p, png, 8) == 0) return "image/png";
    if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0)) return "image/gif";
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0) return "image/webp";
    if (n >= 26 && p[0] == 'B' && p[1] == 'M') {
        /* BITMAPFILEHEADER, then the size of a known DIB header. */
        uint32_t dib =
            (uint32_t)p[14] | (uint32_t)p[15] << 8 | (uint32_t)p[16] << 16 | (uint32_t)p[17] << 24;
        if (dib == 12 || dib == 40 || dib == 52 || dib == 56 || dib == 64 || dib == 108 ||
            dib == 124)
            return "image/bmp";
    }
    return NULL;
}

/* The reply wants a static string: the stored type is one of these. */
static const char *static_type(const char *t)
{
    static const char *const known[] = {"image/jpeg", "image/png", "image/gif", "image/webp",
                                        "image/bmp"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(t, known[i]) == 0) return known[i];
    return "application/octet-stream";
}

/* ---- files ---- */

static void picture_path(const char *dir, const char *sha, char *out, size_t cap, bool subdir)
{
    if (subdir)
        snprintf(out, cap, "%s/%.2s", dir, sha);
    else
        snprintf(out, cap, "%s/%.2s/%s", dir, sha, sha + 2);
}

static osap_err fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0) return OSAP_EIO;
    rc = fsync(fd);
    close(fd);
    return rc == 0 ? OSAP_OK : OSAP_EIO;
}

/* Write @p data as the file of @p sha unless it exists; @p created tells. */
static osap_err write_file(const char *dir, const char *sha, const uint8_t *data, size_t len,
                           bool *created)
{
    char sub[4200], path[4300], tmp[4300];
    struct stat sb;
    size_t off = 0;
    int fd;

    *created = false;
    picture_path(dir, sha, path, sizeof(path), false);
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (size_t)sb.st_size == len) return OSAP_OK;
    picture_path(dir, sha, sub, sizeof(sub), true);
    if (osap_mkdir_p(sub, 0700) != OSAP_OK) return OSAP_EIO;
    snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", sub);
    fd = mkstemp(tmp);
    if (fd < 0) return OSAP_EIO;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) goto fail;
        off += (size_t)w;
    }
    if (fsync(fd) != 0) goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0) goto fail;
    if (fsync_dir(sub) != OSAP_OK) return OSAP_EIO;
    *created = true;
    return OSAP_OK;
fail:
    if (fd >= 0) close(fd);
    unlink(tmp);
    return OSAP_EIO;
}

/* ---- upload ---- */

struct upload {
    uint8_t *data;
    size_t len;
    const char *type;
    char serial[OSAP_SUBSERIAL_MAX + 1];
    int64_t event_id;
};

static void upload_free(void *p)
{
    struct upload *u = p;
    if (!u) return;
    osap_free(u->data);
    osap_free(u);
}

static osap_err event_serial(const struct osap_event *ev, void *userdata)
{
    osap_str_copy(userdata, OSAP_SUBSERIAL_MAX + 1, ev->serial);
    return OSAP_OK;
}

static cJSON *picture_json(const struct osap_picture *p)
{
    cJSON *o = cJSON_CreateObject();
    char url[120];

    if (!o) return NULL;
    cJSON_AddStringToObject(o, "sha256", p->sha256);
    cJSON_AddStringToObject(o, "content_type", p->content_type);
    cJSON_AddNumberToObject(o, "size", (double)p->size);
    if (p->serial[0])
        cJSON_AddStringToObject(o, "serial", p->serial);
    else
        cJSON_AddNullToObject(o, "serial");
    if (p->event_id)
        cJSON_AddNumberToObject(o, "event_id", (double)p->event_id);
    else
        cJSON_AddNullToObject(o, "event_id");
    cJSON_AddItemToObject(o, "created_at", api_time_json(p->created_at));
    snprintf(url, sizeof(url), "/api/v1/pictures/%s", p->sha256);
    cJSON_AddStringToObject(o, "url", url);
    return o;
}

static void upload_work(struct api_call *c, struct osap_store *st)
{
    struct upload *u = c->data;
    struct osap_picture pic, row;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    bool created = false, existed = false;
    osap_err err;

    /* Links first: nothing is written for an upload that will be refused. */
    if (u->serial[0]) {
        struct osap_device dev;
        err = osap_store_device_get(st, u->serial, &dev);
        if (err == OSAP_ENOTFOUND) {
            api_reply_error(c, 400, API_E_INVALID_FIELD, "serial", "no device %s", u->serial);
            return;
        }
        if (err) {
            api_reply_store_error(c, err, API_E_DEVICE_NOT_FOUND, "device");
            return;
        }
    }
    if (u->event_id) {
        struct osap_event_filter f = {0};
        char serial[OSAP_SUBSERIAL_MAX + 1] = "";
        f.after_id = u->event_id - 1;
        f.before_id = u->event_id + 1;
        f.limit = 1;
        err = osap_store_event_list(st, &f, event_serial, serial);
        if (err) {
            api_reply_store_error(c, err, API_E_NOT_FOUND, "event");
            return;
        }
        if (!serial[0]) {
            api_reply_error(c, 400, API_E_INVALID_FIELD, "event", "no event %lld",
                            (long long)u->event_id);
            return;
        }
        if (u->serial[0] && strcmp(serial, u->serial) != 0) {
            api_reply_error(c, 400, API_E_INVALID_FIELD, "event",
                            "event %lld belongs to another device", (long long)u->event_id);
            return;
        }
        osap_str_copy(u->serial, sizeof(u->serial), serial);
    }
    if (!EVP_Digest(u->data, u->len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "cannot hash the picture");
        return;
    }
    memset(&pic, 0, sizeof(pic));
    osap_hex_encode(md, 32, pic.sha256);
    osap_str_copy(pic.content_type, sizeof(pic.content_type), u->type);
    pic.size = (int64_t)u->len;
    osap_str_copy(pic.serial, sizeof(pic.serial), u->serial);
    pic.event_id = u->event_id;

    pthread_mutex_lock(&files_lock);
    err = write_file(c->api->pictures_dir, pic.sha256, u->data, u->len, &created);
    if (err) {
        pthread_mutex_unlock(&files_lock);
        OSAP_LOGE(API_LOG, "cannot write picture %s below %s: %s", pic.sha256, c->api->pictures_dir,
                  strerror(errno));
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "cannot store the picture");
        return;
    }
    err = osap_store_picture_add(st, &pic, &existed, &row);
    if (err && created) {
        char path[4300];
        picture_path(c->api->pictures_dir, pic.sha256, path, sizeof(path), false);
        unlink(path);
    }
    pthread_mutex_unlock(&files_lock);
    if (err) {
        api_reply_store_error(c, err, API_E_NOT_FOUND, "record the picture");
        return;
    }
    api_reply_header(c, "Location", "/api/v1/pictures/%s", row.sha256);
    api_reply_json(c, existed ? 200 : 201, picture_json(&row));
}

static bool id_text(const char *s, int64_t *out)
{
    int64_t v = 0;

    if (!s || !*s) return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10) return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return v > 0;
}

/* The links of an upload: form fields or query parameters. */
static bool links(struct api_call *c, struct upload *u, const char *serial, const char *event)
{
    if (serial && *serial &&
        (!osap_serial_valid(serial) || !osap_str_copy(u->serial, sizeof(u->serial), serial))) {
        api_reply_error(c, 400, API_E_INVALID_FIELD, "serial", "not a device serial");
        return false;
    }
    if (event && *event && !id_text(event, &u->event_id)) {
        api_reply_error(c, 400, API_E_INVALID_FIELD, "event", "event must be an event id");
        return false;
    }
    return true;
}

/* A small text form field as a string (NULL when absent). */
static bool form_text(struct api_call *c, const struct osap_http_multipart *mp, const char *name,
                      char *out, size_t cap, const char **value)
{
    const struct osap_http_part *p = osap_http_multipart_find(mp, name);

    *value = NULL;
    if (!p) return true;
    if (p->len >= cap || memchr(p->data, '\0', p->len)) {
        api_reply_error(c, 400, API_E_INVALID_FIELD, name, "%s is not valid", name);
        return false;
    }
    memcpy(out, p->data, p->len);
    out[p->len] = '\0';
    *value = out;
    return true;
}

void api_pictures_upload(struct api_call *c)
{
    const struct api_config *cfg = c->api->cfg;
    const char *ct = osap_http_request_header(c->req, "Content-Type");
    struct osap_http_multipart *mp = NULL;
    struct upload *u = osap_calloc(1, sizeof(*u));
    const uint8_t *data = c->req->body;
    size_t len = c->req->body_len;

    if (!u) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        goto fail;
    }
    c->data = u;
    c->data_free = upload_free;
    if (ct && strncasecmp(ct, "multipart/form-data", 19) == 0) {
        struct osap_http_multipart_limits lim = {8, (size_t)cfg->picture_max_size, 1024};
        const struct osap_http_part *file;
        char sbuf[OSAP_SUBSERIAL_MAX + 2], ebuf[24];
        const char *serial, *event;
        osap_err err = osap_http_multipart_parse(ct, data, len, &lim, &mp);

        if (err == OSAP_ETOOBIG) {
            api_reply_error(c, 413, API_E_TOO_LARGE, "file",
                            "the picture is larger than %llu bytes (picture_max_size)",
                            (unsigned long long)cfg->picture_max_size);
            goto fail;
        }
        if (err) {
            api_reply_error(c, 400, API_E_BAD_REQUEST, NULL, "malformed multipart/form-data: %s",
                            osap_strerror(err));
            goto fail;
        }
        file = osap_http_multipart_find(mp, "file");
        if (!file) {
            api_reply_error(c, 400, API_E_MISSING_FIELD, "file", "a part named file is required");
            goto fail;
        }
        if (!form_text(c, mp, "serial", sbuf, sizeof(sbuf), &serial) ||
            !form_text(c, mp, "event", ebuf, sizeof(ebuf), &event) || !links(c, u, serial, event))
            goto fail;
        data = file->data;
        len = file->len;
    } else if (!links(c, u, osap_http_request_param(c->req, "serial"),
                      osap_http_request_param(c->req, "event"))) {
        goto fail;
    }
    if (len > cfg->picture_max_size) {
        api_reply_error(c, 413, API_E_TOO_LARGE, NULL,
                        "the picture is larger than %llu bytes (picture_max_size)",
                        (unsigned long long)cfg->picture_max_size);
        goto fail;
    }
    if (len == 0) {
        api_reply_error(c, 400, API_E_BAD_REQUEST, NULL, "the picture is empty");
        goto fail;
    }
    u->type = picture_type(data, len);
    if (!u->type) {
        api_reply_error(c, 415, API_E_MEDIA_TYPE, NULL,
                        "not a JPEG, PNG, GIF, WebP or BMP picture (judged by its content)");
        goto fail;
    }
    u->data = osap_malloc(len);
    if (!u->data) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        goto fail;
    }
    memcpy(u->data, data, len);
    u->len = len;
    osap_http_multipart_free(mp);
    api_call_submit(c, upload_work, NULL);
    return;
fail:
    osap_http_multipart_free(mp);
    api_call_finish(c);
}

/* ---- GET /api/v1/pictures ---- */

struct plist {
    struct osap_picture_filter f;
    char serial[OSAP_SUBSERIAL_MAX + 1];
    cJSON *items;
    uint32_t n, limit;
    int64_t last;
    bool more;
};

static void plist_free(void *p)
{
    struct plist *l = p;
    if (!l) return;
    cJSON_Delete(l->items);
    osap_free(l);
}

static osap_err plist_row(const struct osap_picture *p, void *userdata)
{
    struct plist *l = userdata;
    cJSON *o;

    if (l->n == l->limit) {
        l->more = true;
        return OSAP_OK;
    }
    o = picture_json(p);
    if (!o) return OSAP_ENOMEM;
    cJSON_AddItemToArray(l->items, o);
    l->last = p->seqno;
    l->n++;
    return OSAP_OK;
}

static void plist_work(struct api_call *c, struct osap_store *st)
{
    struct plist *l = c->data;
    osap_err err;
    cJSON *o;

    l->items = cJSON_CreateArray();
    if (!l->items) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        return;
    }
    err = osap_store_picture_list(st, &l->f, plist_row, l);
    if (err) {
        api_reply_store_error(c, err, API_E_NOT_FOUND, "list pictures");
        return;
    }
    o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "items", l->items);
    l->items = NULL;
    if (l->more) {
        char id[24], *cur;
        snprintf(id, sizeof(id), "%lld", (long long)l->last);
        cur = api_cursor_encode('p', id);
        if (cur) cJSON_AddStringToObject(o, "next_cursor", cur);
        osap_free(cur);
    } else {
        cJSON_AddNullToObject(o, "next_cursor");
    }
    api_reply_json(c, 200, o);
}

void api_pictures_list(struct api_call *c)
{
    struct plist *l = osap_calloc(1, sizeof(*l));
    const char *serial = osap_http_request_param(c->req, "serial");
    const char *event = osap_http_request_param(c->req, "event");

    if (!l) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        goto fail;
    }
    c->data = l;
    c->data_free = plist_free;
    if (serial &&
        (!osap_serial_valid(serial) || !osap_str_copy(l->serial, sizeof(l->serial), serial))) {
        api_reply_error(c, 400, API_E_INVALID_PARAMETER, "serial", "not a device serial");
        goto fail;
    }
    if (event && !id_text(event, &l->f.event_id)) {
        api_reply_error(c, 400, API_E_INVALID_PARAMETER, "event", "event must be an event id");
        goto fail;
    }
    if (!api_query_limit(c, &l->limit) || !api_cursor_decode_id(c, 'p', &l->f.before_seqno))
        goto fail;
    l->f.serial = l->serial[0] ? l->serial : NULL;
    l->f.limit = l->limit + 1;
    api_call_submit(c, plist_work, NULL);
    return;
fail:
    api_call_finish(c);
}

/* ---- GET and DELETE /api/v1/pictures/{sha256} ---- */

static void get_work(struct api_call *c, struct osap_store *st)
{
    struct osap_picture pic;
    char path[4300];
    uint8_t *buf = NULL;
    size_t off = 0;
    int fd = -1;
    const char *inm = c->data;
    osap_err err = osap_store_picture_get(st, c->args[0], &pic);

    if (err) {
        api_reply_store_error(c, err, API_E_PICTURE_NOT_FOUND, "picture");
        return;
    }
    api_reply_header(c, "ETag", "\"%s\"", pic.sha256);
    api_reply_header(c, "Cache-Control", "private, max-age=31536000, immutable");
    if (inm && (strstr(inm, pic.sha256) || strcmp(inm, "*") == 0)) {
        api_reply_body(c, 304, NULL, NULL, 0);
        return;
    }
    picture_path(c->api->pictures_dir, pic.sha256, path, sizeof(path), false);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    buf = fd >= 0 ? osap_malloc(pic.size ? (size_t)pic.size : 1) : NULL;
    if (!buf) goto fail;
    while (off < (size_t)pic.size) {
        ssize_t r = read(fd, buf + off, (size_t)pic.size - off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) goto fail;
        off += (size_t)r;
    }
    close(fd);
    api_reply_body(c, 200, static_type(pic.content_type), buf, off);
    osap_free(buf);
    return;
fail:
    if (fd >= 0) close(fd);
    osap_free(buf);
    OSAP_LOGE(API_LOG, "picture %s: cannot read %s", pic.sha256, path);
    api_reply_error(c, 500, API_E_INTERNAL, NULL, "the picture's file cannot be read");
}

static bool sha_arg(struct api_call *c)
{
    if (osap_picture_sha256_valid(c->args[0])) return true;
    api_reply_error(c, 404, API_E_PICTURE_NOT_FOUND, NULL, "no such picture");
    api_call_finish(c);
    return false;
}

void api_picture_get(struct api_call *c)
{
    const char *inm = osap_http_request_header(c->req, "If-None-Match");

    if (!sha_arg(c)) return;
    if (inm) {
        c->data = osap_strdup(inm);
        c->data_free = osap_free;
    }
    api_call_submit(c, get_work, NULL);
}

static void delete_work(struct api_call *c, struct osap_store *st)
{
    char path[4300], sub[4200];
    osap_err err;

    pthread_mutex_lock(&files_lock);
    err = osap_store_picture_remove(st, c->args[0]);
    if (err == OSAP_OK) {
        picture_path(c->api->pictures_dir, c->args[0], path, sizeof(path), false);
        picture_path(c->api->pictures_dir, c->args[0], sub, sizeof(sub), true);
        if (unlink(path) == 0) fsync_dir(sub);
    }
    pthread_mutex_unlock(&files_lock);
    if (err) {
        api_reply_store_error(c, err, API_E_PICTURE_NOT_FOUND, "picture");
        return;
    }
    api_reply_body(c, 204, NULL, NULL, 0);
}

void api_picture_delete(struct api_call *c)
{
    if (sha_arg(c)) api_call_submit(c, delete_work, NULL);
}
