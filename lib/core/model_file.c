/*
 * Models from files: the one place of the thing model that touches the file
 * system. Templates named by "extends NAME" are NAME.osm, searched in the
 * include directories, then next to the extending file, then in its "models"
 * subdirectory.
 */
#include "model_internal.h"

#include "osap/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MODEL_FILE_MAX (1u << 20)
#define JSON_FILE_MAX  (4u << 20)

struct file_loader {
    const char *const *dirs;
    size_t n_dirs;
};

/* Whole file into an osap_malloc() buffer. OSAP_ENOTFOUND, OSAP_EIO, OSAP_ETOOBIG, OSAP_ENOMEM. */
static osap_err read_whole(const char *path, size_t limit, char **text, size_t *len, int *err_no)
{
    osap_err rc = OSAP_OK;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    FILE *f = fopen(path, "rb");
    *err_no = 0;
    if (!f) {
        *err_no = errno;
        return (errno == ENOENT || errno == ENOTDIR) ? OSAP_ENOTFOUND : OSAP_EIO;
    }
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8192;
            if (ncap > limit + 1) ncap = limit + 1;
            if (ncap <= cap) {
                rc = OSAP_ETOOBIG;
                goto out;
            }
            char *p = osap_realloc(buf, ncap);
            if (!p) {
                rc = OSAP_ENOMEM;
                goto out;
            }
            buf = p;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        *err_no = errno;
        rc = OSAP_EIO;
        goto out;
    }
    if (n > limit) {
        rc = OSAP_ETOOBIG;
        goto out;
    }
    *text = buf;
    *len = n;
    buf = NULL;
out:
    fclose(f);
    osap_free(buf);
    return rc;
}

static char *join(const char *dir, size_t dirlen, const char *sub, const char *name)
{
    size_t need = dirlen + strlen(sub) + strlen(name) + 8;
    char *p = osap_malloc(need);
    if (!p) return NULL;
    if (dirlen)
        snprintf(p, need, "%.*s/%s%s.osm", (int)dirlen, dir, sub, name);
    else
        snprintf(p, need, "%s%s.osm", sub, name);
    return p;
}

static osap_err file_read(void *userdata, const char *name, const char *from_path, char **path,
                          char **text, size_t *len)
{
    const struct file_loader *fl = userdata;
    const char *slash = strrchr(from_path, '/');
    size_t here = slash ? (size_t)(slash - from_path) : 0;
    if (slash && here == 0) here = 1; /* "/x.osm": the root directory */
    size_t n = fl->n_dirs + 2;
    for (size_t i = 0; i < n; i++) {
        char *p;
        if (i < fl->n_dirs)
            p = join(fl->dirs[i], strlen(fl->dirs[i]), "", name);
        else
            p = join(from_path, here, i == fl->n_dirs ? "" : "models/", name);
        if (!p) return OSAP_ENOMEM;
        int err_no;
        osap_err rc = read_whole(p, MODEL_FILE_MAX, text, len, &err_no);
        if (rc == OSAP_OK) {
            *path = p;
            return OSAP_OK;
        }
        osap_free(p);
        if (rc != OSAP_ENOTFOUND) return rc;
    }
    return OSAP_ENOTFOUND;
}

/* Read the file @p path (at most @p max bytes, @p max_text in messages) for a
 * loader whose output is @p out: a message in @p err (errlen bytes) on failure,
 * OSAP_EINVAL without path or output, OSAP_EIO for a missing file. */
static osap_err load_text(const char *path, const void *out, size_t max, const char *max_text,
                          char *err, size_t errlen, char **text, size_t *len)
{
    struct osap__diag diag;
    int err_no;
    osap_err rc;

    osap__diag_init(&diag, err, errlen);
    if (!path || !out) {
        osap__diag_plain(&diag, "invalid argument");
        return OSAP_EINVAL;
    }
    rc = read_whole(path, max, text, len, &err_no);
    if (rc == OSAP_OK) return OSAP_OK;
    if (rc == OSAP_ETOOBIG)
        osap__diag_plain(&diag, "%s: larger than %s", path, max_text);
    else
        osap__diag_plain(&diag, "%s: %s", path, err_no ? strerror(err_no) : osap_strerror(rc));
    return rc == OSAP_ENOTFOUND ? OSAP_EIO : rc;
}

osap_err osap_model_load_file(const char *path, const char *const *include_dirs,
                              size_t n_include_dirs, osap_model_t **out, char *err, size_t errlen)
{
    struct file_loader fl = {include_dirs, include_dirs ? n_include_dirs : 0};
    struct osap_model_loader loader = {file_read, &fl};
    char *text = NULL;
    size_t len = 0;
    osap_err rc = load_text(path, out, MODEL_FILE_MAX, "1 MiB", err, errlen, &text, &len);

    if (rc) return rc;
    rc = osap_model_parse(path, text, len, &loader, out, err, errlen);
    osap_free(text);
    return rc;
}

osap_err osap_model_load_json_file(const char *path, osap_model_t **out, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    osap_err rc = load_text(path, out, JSON_FILE_MAX, "4 MiB", err, errlen, &text, &len);

    if (rc) return rc;
    rc = osap_model_load_json(text, len, out, err, errlen);
    osap_free(text);
    return rc;
}
