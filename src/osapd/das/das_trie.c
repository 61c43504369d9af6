/* A tree of topic levels: the subscription trie of a worker and the retained store.
 * Each node is one level; children are found by (parent, level) in one hash table per
 * tree and enumerated through sibling links. */
#include "das/das_internal.h"

#include "osap/alloc.h"

#include <string.h>

#define TRIE_MIN_BUCKETS 64

static uint32_t edge_hash(const struct das_tnode *parent, const char *level, size_t len)
{
    uintptr_t p = (uintptr_t)parent;
    return das_hash(level, len, (uint32_t)(p ^ (p >> 32)) * 0x9E3779B1u);
}

osap_err das_trie_init(struct das_trie *t)
{
    memset(t, 0, sizeof(*t));
    t->root = osap_calloc(1, sizeof(*t->root));
    t->buckets = osap_calloc(TRIE_MIN_BUCKETS, sizeof(*t->buckets));
    if (!t->root || !t->buckets) {
        osap_free(t->root);
        osap_free(t->buckets);
        t->root = NULL;
        t->buckets = NULL;
        return OSAP_ENOMEM;
    }
    t->nbuckets = TRIE_MIN_BUCKETS;
    return OSAP_OK;
}

void das_trie_release(struct das_trie *t)
{
    if (!t->buckets) return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct das_tnode *n = t->buckets[i];
        while (n) {
            struct das_tnode *next = n->hnext;
            osap_free(n->subs);
            osap_free(n);
            n = next;
        }
    }
    osap_free(t->root->subs);
    osap_free(t->root);
    osap_free(t->buckets);
    memset(t, 0, sizeof(*t));
}

struct das_tnode *das_trie_child(const struct das_trie *t, const struct das_tnode *parent,
                                 const char *level, size_t len)
{
    uint32_t h = edge_hash(parent, level, len);
    for (struct das_tnode *n = t->buckets[h & (t->nbuckets - 1)]; n; n = n->hnext)
        if (n->hval == h && n->parent == parent && n->len == len &&
            memcmp(n->level, level, len) == 0)
            return n;
    return NULL;
}

static void grow(struct das_trie *t)
{
    size_t nb = t->nbuckets * 2;
    struct das_tnode **b = osap_calloc(nb, sizeof(*b));
    if (!b) return; /* keep the longer chains */
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct das_tnode *n = t->buckets[i];
        while (n) {
            struct das_tnode *next = n->hnext;
            n->hnext = b[n->hval & (nb - 1)];
            b[n->hval & (nb - 1)] = n;
            n = next;
        }
    }
    osap_free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
}

static struct das_tnode *add_child(struct das_trie *t, struct das_tnode *parent, const char *level,
                                   size_t len)
{
    struct das_tnode *n = osap_calloc(1, sizeof(*n) + len + 1);
    size_t b;

    if (!n) return NULL;
    n->parent = parent;
    n->len = (uint16_t)len;
    memcpy(n->level, level, len);
    n->hval = edge_hash(parent, level, len);
    b = n->hval & (t->nbuckets - 1);
    n->hnext = t->buckets[b];
    t->buckets[b] = n;
    n->next_sibling = parent->first_child;
    if (parent->first_child) parent->first_child->prev_sibling = n;
    parent->first_child = n;
    parent->nchildren++;
    if (len == 1 && level[0] == '+') parent->plus = n;
    if (len == 1 && level[0] == '#') parent->hash = n;
    if (++t->nnodes > t->nbuckets) grow(t);
    return n;
}

osap_err das_trie_insert(struct das_trie *t, const char *path, size_t len, struct das_tnode **out)
{
    struct osap_mqtt_level_iter it;
    struct osap_mqtt_str lv;
    struct das_tnode *n = t->root, *created = NULL;

    osap_mqtt_level_iter_init(&it, path, len);
    while (osap_mqtt_level_iter_next(&it, &lv)) {
        struct das_tnode *c = das_trie_child(t, n, lv.ptr, lv.len);
        if (!c) {
            c = add_child(t, n, lv.ptr, lv.len);
            if (!c) {
                if (created) das_trie_prune(t, created);
                return OSAP_ENOMEM;
            }
            if (!created) created = c;
        }
        n = c;
    }
    *out = n;
    return OSAP_OK;
}

struct das_tnode *das_trie_find(const struct das_trie *t, const char *path, size_t len)
{
    struct osap_mqtt_level_iter it;
    struct osap_mqtt_str lv;
    struct das_tnode *n = t->root;

    osap_mqtt_level_iter_init(&it, path, len);
    while (n && osap_mqtt_level_iter_next(&it, &lv))
        n = das_trie_child(t, n, lv.ptr, lv.len);
    return n;
}

static void unlink_node(struct das_trie *t, struct das_tnode *n)
{
    struct das_tnode **pp = &t->buckets[n->hval & (t->nbuckets - 1)];
    struct das_tnode *p = n->parent;

    while (*pp != n)
        pp = &(*pp)->hnext;
    *pp = n->hnext;
    if (n->prev_sibling)
        n->prev_sibling->next_sibling = n->next_sibling;
    else
        p->first_child = n->next_sibling;
    if (n->next_sibling) n->next_sibling->prev_sibling = n->prev_sibling;
    if (p->plus == n) p->plus = NULL;
    if (p->hash == n) p->hash = NULL;
    p->nchildren--;
    t->nnodes--;
}

void das_trie_prune(struct das_trie *t, struct das_tnode *n)
{
    while (n && n != t->root && n->nsubs == 0 && !n->retained && n->nchildren == 0) {
        struct das_tnode *p = n->parent;
        unlink_node(t, n);
        osap_free(n->subs);
        osap_free(n);
        n = p;
    }
}
