/* A binary min-heap of wake-up times; each owner keeps its item's position so
 * its time can move in O(log n). */
#include "sim.h"

#include <stdlib.h>

#define NONE UINT32_MAX

int sim_heap_init(struct sim_heap *h, size_t cap)
{
    h->items = calloc(cap ? cap : 1, sizeof(*h->items));
    h->n = 0;
    h->cap = cap ? cap : 1;
    return h->items ? 0 : -1;
}

void sim_heap_free(struct sim_heap *h)
{
    free(h->items);
    h->items = NULL;
    h->n = h->cap = 0;
}

static void place(struct sim_heap *h, size_t i, struct sim_heap_item it)
{
    h->items[i] = it;
    *it.pos = (uint32_t)i;
}

static void up(struct sim_heap *h, size_t i)
{
    struct sim_heap_item it = h->items[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h->items[p].when <= it.when) break;
        place(h, i, h->items[p]);
        i = p;
    }
    place(h, i, it);
}

static void down(struct sim_heap *h, size_t i)
{
    struct sim_heap_item it = h->items[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        uint64_t best = it.when;
        if (l < h->n && h->items[l].when < best) {
            m = l;
            best = h->items[l].when;
        }
        if (r < h->n && h->items[r].when < best) m = r;
        if (m == i) break;
        place(h, i, h->items[m]);
        i = m;
    }
    place(h, i, it);
}

void sim_heap_set(struct sim_heap *h, uint32_t *pos, void *ptr, uint64_t when)
{
    if (*pos == NONE) {
        struct sim_heap_item it = {when, pos, ptr};
        if (h->n == h->cap) {
            struct sim_heap_item *n = realloc(h->items, 2 * h->cap * sizeof(*n));
            if (!n) return;
            h->items = n;
            h->cap *= 2;
        }
        place(h, h->n++, it);
        up(h, h->n - 1);
        return;
    }
    h->items[*pos].when = when;
    up(h, *pos);
    down(h, *pos);
}

const struct sim_heap_item *sim_heap_top(const struct sim_heap *h)
{
    return h->n ? &h->items[0] : NULL;
}

void sim_heap_pop(struct sim_heap *h)
{
    if (!h->n) return;
    *h->items[0].pos = NONE;
    if (--h->n) {
        place(h, 0, h->items[h->n]);
        down(h, 0);
    }
}
