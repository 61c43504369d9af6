/*
 * Storage of the POSIX port: the KV values ("devid", "masterkey") and the files
 * of the offline queue, under a state directory or, without one, in memory.
 *
 * On disk a KV value is a file replaced atomically (write a temporary file,
 * fsync, rename, fsync the directory). Queue files are opened with O_APPEND:
 * each append is one write(2), so what was appended survives the death of the
 * process; file_sync() is fdatasync(2).
 */
#include "port_posix.h"

#include "osap/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_MAX_LEN 60

static int name_ok(const char *name)
{
    size_t n = name ? strnlen(name, NAME_MAX_LEN + 1) : 0;
    return n > 0 && n <= NAME_MAX_LEN && name[0] != '.' && !strchr(name, '/');
}

static int path_of(const struct posix_port *pp, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", pp->dir, name);
    return n > 0 && (size_t)n < cap;
}

static osap_err mkdirs(const char *dir)
{
    char buf[PATH_MAX];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof(buf)) return OSAP_ESTORE;
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) return OSAP_ESTORE;
        buf[i] = c;
    }
    return OSAP_OK;
}

static void sync_dir(const struct posix_port *pp)
{
    int fd = open(pp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

osap_err osap__posix_store_init(struct posix_port *pp, const char *dir)
{
    struct stat st;

    if (!dir) return OSAP_OK;
    if (mkdirs(dir) || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return OSAP_ESTORE;
    pp->dir = osap_strdup(dir);
    return pp->dir ? OSAP_OK : OSAP_ENOMEM;
}

void osap__posix_store_free(struct posix_port *pp)
{
    while (pp->files) {
        struct posix_mem_file *f = pp->files;
        pp->files = f->next;
        osap_free(f->data);
        osap_free(f);
    }
    while (pp->kv) {
        struct posix_mem_kv *k = pp->kv;
        pp->kv = k->next;
        osap_free(k->val);
        osap_free(k);
    }
    osap_free(pp->dir);
    pp->dir = NULL;
}

/* ------------------------------------------------------------------------ */
/* KV                                                                       */
/* ------------------------------------------------------------------------ */

static struct posix_mem_kv **mem_kv_find(struct posix_port *pp, const char *key)
{
    struct posix_mem_kv **k = &pp->kv;
    while (*k && strcmp((*k)->key, key) != 0)
        k = &(*k)->next;
    return k;
}

osap_err osap__posix_kv_get(void *ctx, const char *key, uint8_t *buf, size_t cap, size_t *len)
{
    struct posix_port *pp = ctx;
    char path[PATH_MAX];
    struct stat st;
    ssize_t n;
    int fd;

    if (!name_ok(key) || strlen(key) >= sizeof(pp->kv->key)) return OSAP_EINVAL;
    if (!pp->dir) {
        struct posix_mem_kv *k = *mem_kv_find(pp, key);
        if (!k) return OSAP_ENOTFOUND;
        if (k->len > cap) return OSAP_EBUFSIZE;
        memcpy(buf, k->val, k->len);
        *len = k->len;
        return OSAP_OK;
    }
    if (!path_of(pp, key, path, sizeof(path))) return OSAP_ESTORE;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? OSAP_ENOTFOUND : OSAP_ESTORE;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return OSAP_ESTORE;
    }
    if ((size_t)st.st_size > cap) {
        close(fd);
        return OSAP_EBUFSIZE;
    }
    n = pread(fd, buf, (size_t)st.st_size, 0);
    close(fd);
    if (n != st.st_size) return OSAP_ESTORE;
    *len = (size_t)n;
    return OSAP_OK;
}

osap_err osap__posix_kv_set(void *ctx, const char *key, const uint8_t *val, size_t len)
{
    struct posix_port *pp = ctx;
    char path[PATH_MAX], tmp[PATH_MAX];
    int fd;
    ssize_t n;

    if (!name_ok(key) || strlen(key) >= sizeof(pp->kv->key)) return OSAP_EINVAL;
    if (!pp->dir) {
        struct posix_mem_kv **slot = mem_kv_find(pp, key), *k = *slot;
        uint8_t *copy = osap_malloc(len ? len : 1);
        if (!copy) return OSAP_ENOMEM;
        memcpy(copy, val, len);
        if (!k) {
            k = osap_calloc(1, sizeof(*k));
            if (!k) {
                osap_free(copy);
                return OSAP_ENOMEM;
            }
            snprintf(k->key, sizeof(k->key), "%s", key);
            *slot = k;
        }
        osap_free(k->val);
        k->val = copy;
        k->len = len;
        return OSAP_OK;
    }
    if (!path_of(pp, key, path, sizeof(path)) || snprintf(tmp, sizeof(tmp), "%s.tmp", path) <= 0)
        return OSAP_ESTORE;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return OSAP_ESTORE;
    n = write(fd, val, len);
    if (n != (ssize_t)len || fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        return OSAP_ESTORE;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return OSAP_ESTORE;
    }
    sync_dir(pp);
    return OSAP_OK;
}

osap_err osap__posix_kv_del(void *ctx, const char *key)
{
    struct posix_port *pp = ctx;
    char path[PATH_MAX];

    if (!name_ok(key)) return OSAP_EINVAL;
    if (!pp->dir) {
        struct posix_mem_kv **slot = mem_kv_find(pp, key), *k = *slot;
        if (k) {
            *slot = k->next;
            osap_free(k->val);
            osap_free(k);
        }
        return OSAP_OK;
    }
    if (!path_of(pp, key, path, sizeof(path))) return OSAP_ESTORE;
    if (unlink(path) != 0 && errno != ENOENT) return OSAP_ESTORE;
    sync_dir(pp);
    return OSAP_OK;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

/* On disk a file handle is the descriptor + 1 (never NULL); in memory it is the
 * struct posix_mem_file. */
#define FD_OF(file) ((int)((intptr_t)(file)-1))

static struct posix_mem_file **mem_file_find(struct posix_port *pp, const char *name)
{
    struct posix_mem_file **f = &pp->files;
    while (*f && strcmp((*f)->name, name) != 0)
        f = &(*f)->next;
    return f;
}

osap_err osap__posix_file_open(void *ctx, const char *name, int truncate, void **file)
{
    struct posix_port *pp = ctx;
    char path[PATH_MAX];
    int fd;

    if (!name_ok(name)) return OSAP_EINVAL;
    if (!pp->dir) {
        struct posix_mem_file **slot = mem_file_find(pp, name), *f = *slot;
        if (!f) {
            f = osap_calloc(1, sizeof(*f));
            if (!f) return OSAP_ENOMEM;
            snprintf(f->name, sizeof(f->name), "%s", name);
            *slot = f;
        }
        if (truncate) f->len = 0;
        *file = f;
        return OSAP_OK;
    }
    if (!path_of(pp, name, path, sizeof(path))) return OSAP_ESTORE;
    fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0600);
    if (fd < 0) return errno == EMFILE || errno == ENFILE ? OSAP_EBUSY : OSAP_ESTORE;
    *file = (void *)((intptr_t)fd + 1);
    return OSAP_OK;
}

osap_err osap__posix_file_size(void *ctx, void *file, uint64_t *size)
{
    struct posix_port *pp = ctx;
    struct stat st;

    if (!pp->dir) {
        *size = ((struct posix_mem_file *)file)->len;
        return OSAP_OK;
    }
    if (fstat(FD_OF(file), &st) != 0) return OSAP_ESTORE;
    *size = (uint64_t)st.st_size;
    return OSAP_OK;
}

osap_err osap__posix_file_read(void *ctx, void *file, uint64_t off, void *buf, size_t len)
{
    struct posix_port *pp = ctx;
    uint8_t *p = buf;

    if (!pp->dir) {
        const struct posix_mem_file *f = file;
        if (off > f->len || len > f->len - off) return OSAP_ENEED_MORE;
        memcpy(buf, f->data + off, len);
        return OSAP_OK;
    }
    while (len) {
        ssize_t n = pread(FD_OF(file), p, len, (off_t)off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return OSAP_ESTORE;
        if (n == 0) return OSAP_ENEED_MORE;
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return OSAP_OK;
}

osap_err osap__posix_file_append(void *ctx, void *file, const void *buf, size_t len)
{
    struct posix_port *pp = ctx;
    const uint8_t *p = buf;

    if (!pp->dir) {
        struct posix_mem_file *f = file;
        if (f->cap - f->len < len) {
            size_t cap = f->cap ? f->cap : 256;
            while (cap - f->len < len)
                cap *= 2;
            uint8_t *n = osap_realloc(f->data, cap);
            if (!n) return OSAP_ENOMEM;
            f->data = n;
            f->cap = cap;
        }
        memcpy(f->data + f->len, buf, len);
        f->len += len;
        return OSAP_OK;
    }
    while (len) {
        ssize_t n = write(FD_OF(file), p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return OSAP_ESTORE;
        p += n;
        len -= (size_t)n;
    }
    return OSAP_OK;
}

osap_err osap__posix_file_truncate(void *ctx, void *file, uint64_t size)
{
    struct posix_port *pp = ctx;

    if (!pp->dir) {
        struct posix_mem_file *f = file;
        if (size < f->len) f->len = (size_t)size;
        return OSAP_OK;
    }
    return ftruncate(FD_OF(file), (off_t)size) == 0 ? OSAP_OK : OSAP_ESTORE;
}

osap_err osap__posix_file_sync(void *ctx, void *file)
{
    struct posix_port *pp = ctx;

    if (!pp->dir) return OSAP_OK;
    return fdatasync(FD_OF(file)) == 0 ? OSAP_OK : OSAP_ESTORE;
}

osap_err osap__posix_file_rename(void *ctx, const char *from, const char *to)
{
    struct posix_port *pp = ctx;
    char pf[PATH_MAX], pt[PATH_MAX];

    if (!name_ok(from) || !name_ok(to)) return OSAP_EINVAL;
    if (!pp->dir) {
        struct posix_mem_file **sf = mem_file_find(pp, from), *f = *sf, **st, *t;
        if (!f) return OSAP_ENOTFOUND;
        *sf = f->next;
        st = mem_file_find(pp, to);
        t = *st;
        if (t) {
            *st = t->next;
            osap_free(t->data);
            osap_free(t);
        }
        snprintf(f->name, sizeof(f->name), "%s", to);
        f->next = pp->files;
        pp->files = f;
        return OSAP_OK;
    }
    if (!path_of(pp, from, pf, sizeof(pf)) || !path_of(pp, to, pt, sizeof(pt))) return OSAP_ESTORE;
    if (rename(pf, pt) != 0) return OSAP_ESTORE;
    sync_dir(pp);
    return OSAP_OK;
}

void osap__posix_file_close(void *ctx, void *file)
{
    struct posix_port *pp = ctx;

    if (!pp->dir || !file) return;
    close(FD_OF(file));
}
