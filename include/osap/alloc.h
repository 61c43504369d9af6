/*
 * Replaceable memory allocation for every OSAP library.
 *
 * All heap allocation in libosap, libosap-device and osapd goes through
 * osap_malloc()/osap_calloc()/osap_realloc()/osap_free(). A program (or a test
 * that wants to fail the Nth allocation) installs its own functions once, before
 * any other OSAP call; the hooks are also handed to cJSON. Code that receives
 * NULL from an allocation returns OSAP_ENOMEM: nothing in the libraries aborts.
 */
#ifndef OSAP_ALLOC_H
#define OSAP_ALLOC_H

#include <stddef.h>

/** Allocation functions; @p userdata is passed back to each call. */
struct osap_allocator {
    void *(*malloc_fn)(size_t size, void *userdata);
    void *(*realloc_fn)(void *ptr, size_t size, void *userdata);
    void (*free_fn)(void *ptr, void *userdata);
    void *userdata;
};

/** Install @p a (copied), or restore the C library's functions when @p a is NULL.
 *  Not thread-safe: call before any thread uses OSAP. */
void osap_set_allocator(const struct osap_allocator *a);

void *osap_malloc(size_t size);
void *osap_calloc(size_t n, size_t size);
void *osap_realloc(void *ptr, size_t size);
void osap_free(void *ptr);
/** Copy of a NUL-terminated string, or NULL on allocation failure. */
char *osap_strdup(const char *s);
/** Copy of @p len bytes of @p s plus a terminating NUL, or NULL. */
char *osap_strndup(const char *s, size_t len);

#endif /* OSAP_ALLOC_H */
