/*
 * Allocation failures for the fuzz targets: an allocator (installed with
 * osap_set_allocator(), so cJSON uses it too) that counts allocations and fails
 * the Nth one and every later one, so that the out-of-memory paths run and leak
 * nothing. Header-only; one process-wide state, for single-threaded targets.
 */
#ifndef FUZZ_ALLOC_H
#define FUZZ_ALLOC_H

#include "osap/alloc.h"

#include <stdlib.h>

static long fz_alloc_count;   /* allocations asked for since fz_alloc_fail() */
static long fz_alloc_fail_at; /* the first one that fails (counting from 1); 0: none */

static void *fz_alloc_malloc(size_t size, void *ud)
{
    (void)ud;
    if (++fz_alloc_count >= fz_alloc_fail_at && fz_alloc_fail_at) return NULL;
    return malloc(size ? size : 1);
}

static void *fz_alloc_realloc(void *p, size_t size, void *ud)
{
    (void)ud;
    if (++fz_alloc_count >= fz_alloc_fail_at && fz_alloc_fail_at) return NULL;
    return realloc(p, size ? size : 1);
}

static void fz_alloc_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

/** Install the counting allocator (once). */
static inline void fz_alloc_install(void)
{
    static const struct osap_allocator a = {fz_alloc_malloc, fz_alloc_realloc, fz_alloc_free, NULL};
    osap_set_allocator(&a);
}

/** From now on, fail allocation number @p n and every later one (0: none fail). */
static inline void fz_alloc_fail(long n)
{
    fz_alloc_count = 0;
    fz_alloc_fail_at = n;
}

#endif /* FUZZ_ALLOC_H */
