/* File-system path helpers (see util.h). */
#include "util.h"

#include "osap/alloc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

osap_err osap_path_join(const char *dir, const char *name, char **out)
{
    size_t dl, nl;
    char *p;

    if (name[0] == '/' || dir[0] == '\0') {
        p = osap_strdup(name);
        if (!p) return OSAP_ENOMEM;
        *out = p;
        return OSAP_OK;
    }
    dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    nl = strlen(name);
    p = osap_malloc(dl + 1 + nl + 1);
    if (!p) return OSAP_ENOMEM;
    memcpy(p, dir, dl);
    p[dl] = '/';
    memcpy(p + dl + 1, name, nl + 1);
    if (dl == 1 && dir[0] == '/') memmove(p + 1, p + 2, nl + 1);
    *out = p;
    return OSAP_OK;
}

osap_err osap_path_absolute(const char *path, char **out)
{
    char cwd[PATH_MAX];
    char *p;

    if (path[0] == '\0' || path[0] == '/') {
        p = osap_strdup(path);
        if (!p) return OSAP_ENOMEM;
        *out = p;
        return OSAP_OK;
    }
    while (path[0] == '.' && path[1] == '/') {
        path += 2;
        while (path[0] == '/')
            path++;
    }
    if (!getcwd(cwd, sizeof(cwd))) return OSAP_EIO;
    if (path[0] == '\0' || (path[0] == '.' && path[1] == '\0')) {
        p = osap_strdup(cwd);
        if (!p) return OSAP_ENOMEM;
        *out = p;
        return OSAP_OK;
    }
    return osap_path_join(cwd, path, out);
}

osap_err osap_mkdir_p(const char *path, mode_t mode)
{
    osap_err err = OSAP_OK;
    struct stat st;
    char *copy = osap_strdup(path);

    if (!copy) return OSAP_ENOMEM;
    for (char *s = copy + 1;; s++) {
        char c = *s;
        if (c != '/' && c != '\0') continue;
        *s = '\0';
        if (mkdir(copy, mode) != 0 && errno != EEXIST) {
            err = errno == EACCES ? OSAP_EPERM : OSAP_EIO;
            goto out;
        }
        *s = c;
        if (c == '\0') break;
    }
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) err = OSAP_EIO;
out:
    osap_free(copy);
    return err;
}
