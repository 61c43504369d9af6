/* The arena every model lives in: blocks from osap_malloc, freed all at once. */
#include "model_internal.h"

#include "osap/alloc.h"

#include <stdint.h>
#include <string.h>

#define ARENA_BLOCK 16384
#define ARENA_ALIGN 16

struct osap__arena_block {
    struct osap__arena_block *next;
    size_t cap;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

void osap__arena_init(struct osap__arena *a)
{
    a->head = NULL;
    a->used = 0;
}

void osap__arena_release(struct osap__arena *a)
{
    struct osap__arena_block *b = a->head;
    while (b) {
        struct osap__arena_block *next = b->next;
        osap_free(b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
}

void *osap__arena_alloc(struct osap__arena *a, size_t size)
{
    if (size > SIZE_MAX - ARENA_ALIGN - sizeof(struct osap__arena_block)) return NULL;
    size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (size == 0) size = ARENA_ALIGN;
    if (!a->head || a->head->cap - a->used < size) {
        size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        struct osap__arena_block *b = osap_malloc(sizeof(*b) + cap);
        if (!b) return NULL;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
        a->used = 0;
    }
    void *p = a->head->data + a->used;
    a->used += size;
    memset(p, 0, size);
    return p;
}

void *osap__arena_array(struct osap__arena *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return NULL;
    return osap__arena_alloc(a, n * size);
}

char *osap__arena_strndup(struct osap__arena *a, const char *s, size_t len)
{
    if (len == SIZE_MAX) return NULL;
    char *d = osap__arena_alloc(a, len + 1);
    if (!d) return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *osap__arena_strdup(struct osap__arena *a, const char *s)
{
    return osap__arena_strndup(a, s, strlen(s));
}
