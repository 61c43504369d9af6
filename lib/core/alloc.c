/* The replaceable allocator (see osap/alloc.h). */
#include "osap/alloc.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *libc_malloc(size_t size, void *ud)
{
    (void)ud;
    return malloc(size);
}

static void *libc_realloc(void *p, size_t size, void *ud)
{
    (void)ud;
    return realloc(p, size);
}

static void libc_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

static struct osap_allocator current = {libc_malloc, libc_realloc, libc_free, NULL};

static void *cjson_malloc(size_t size)
{
    return osap_malloc(size);
}

static void cjson_free(void *p)
{
    osap_free(p);
}

void osap_set_allocator(const struct osap_allocator *a)
{
    if (a)
        current = *a;
    else
        current = (struct osap_allocator){libc_malloc, libc_realloc, libc_free, NULL};
    cJSON_Hooks hooks = {cjson_malloc, cjson_free};
    cJSON_InitHooks(a ? &hooks : NULL);
}

void *osap_malloc(size_t size)
{
    return current.malloc_fn(size ? size : 1, current.userdata);
}

void *osap_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return NULL;
    void *p = osap_malloc(n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

void *osap_realloc(void *ptr, size_t size)
{
    return current.realloc_fn(ptr, size ? size : 1, current.userdata);
}

void osap_free(void *ptr)
{
    if (ptr) current.free_fn(ptr, current.userdata);
}

char *osap_strndup(const char *s, size_t len)
{
    char *d = osap_malloc(len + 1);
    if (!d) return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *osap_strdup(const char *s)
{
    return osap_strndup(s, strlen(s));
}
