/*
 * A string-keyed table with a size limit: chained hashing (FNV-1a with a random
 * seed), a least-recently-used list for eviction, growth by doubling. Used on the
 * LBS loop thread only (no locks) for per-address and per-serial state.
 */
#include "lbs/lbs_internal.h"

#include "osap/alloc.h"
#include "osap/crypto.h"

#include <string.h>

struct entry {
    struct entry *hnext;         /* bucket chain */
    struct entry *newer, *older; /* LRU list */
    uint64_t hash;
    char key[LBS_KEY_MAX];
    max_align_t payload[];
};

struct lbs_table {
    struct entry **buckets;
    size_t nbuckets; /* power of two */
    size_t n, max;
    size_t payload_size;
    uint64_t seed;
    struct entry *newest, *oldest;
};

#define INITIAL_BUCKETS 64

static uint64_t hash_key(const struct lbs_table *t, const char *key)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ t->seed;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    return h ^ (h >> 29);
}

osap_err lbs_table_new(size_t payload_size, size_t max_entries, struct lbs_table **out)
{
    struct lbs_table *t = osap_calloc(1, sizeof(*t));

    if (!t) return OSAP_ENOMEM;
    t->nbuckets = INITIAL_BUCKETS;
    t->buckets = osap_calloc(t->nbuckets, sizeof(*t->buckets));
    if (!t->buckets) {
        osap_free(t);
        return OSAP_ENOMEM;
    }
    t->payload_size = payload_size;
    t->max = max_entries;
    if (osap_rng_fill(NULL, (uint8_t *)&t->seed, sizeof(t->seed)) != OSAP_OK) t->seed = 0;
    *out = t;
    return OSAP_OK;
}

void lbs_table_free(struct lbs_table *t)
{
    struct entry *e, *next;

    if (!t) return;
    for (e = t->newest; e; e = next) {
        next = e->older;
        osap_free(e);
    }
    osap_free(t->buckets);
    osap_free(t);
}

static struct entry **slot_of(struct lbs_table *t, const char *key, uint64_t h)
{
    struct entry **pp = &t->buckets[h & (t->nbuckets - 1)];
    for (; *pp; pp = &(*pp)->hnext)
        if ((*pp)->hash == h && strcmp((*pp)->key, key) == 0) break;
    return pp;
}

static void lru_unlink(struct lbs_table *t, struct entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        t->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        t->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void lru_push(struct lbs_table *t, struct entry *e)
{
    e->older = t->newest;
    e->newer = NULL;
    if (t->newest) t->newest->newer = e;
    t->newest = e;
    if (!t->oldest) t->oldest = e;
}

static void unlink_entry(struct lbs_table *t, struct entry *e)
{
    struct entry **pp = slot_of(t, e->key, e->hash);
    if (*pp == e) *pp = e->hnext;
    lru_unlink(t, e);
    t->n--;
}

/* Normalise a key: cut to LBS_KEY_MAX - 1 bytes. */
static const char *norm_key(const char *key, char buf[LBS_KEY_MAX])
{
    size_t len = strnlen(key, LBS_KEY_MAX);
    if (len < LBS_KEY_MAX) return key;
    memcpy(buf, key, LBS_KEY_MAX - 1);
    buf[LBS_KEY_MAX - 1] = '\0';
    return buf;
}

void *lbs_table_find(struct lbs_table *t, const char *key)
{
    char buf[LBS_KEY_MAX];
    struct entry *e;

    key = norm_key(key, buf);
    e = *slot_of(t, key, hash_key(t, key));
    if (!e) return NULL;
    lru_unlink(t, e);
    lru_push(t, e);
    return e->payload;
}

static void grow(struct lbs_table *t)
{
    size_t nb = t->nbuckets * 2;
    struct entry **b = osap_calloc(nb, sizeof(*b));

    if (!b) return; /* keep the longer chains */
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct entry *e = t->buckets[i], *next;
        for (; e; e = next) {
            next = e->hnext;
            e->hnext = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    }
    osap_free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
}

void *lbs_table_get(struct lbs_table *t, const char *key, bool *created)
{
    char buf[LBS_KEY_MAX];
    uint64_t h;
    struct entry **pp, *e;

    *created = false;
    key = norm_key(key, buf);
    h = hash_key(t, key);
    pp = slot_of(t, key, h);
    if (*pp) {
        e = *pp;
        lru_unlink(t, e);
        lru_push(t, e);
        return e->payload;
    }
    if (t->max && t->n >= t->max) {
        e = t->oldest;
        unlink_entry(t, e);
        osap_free(e);
    }
    e = osap_calloc(1, sizeof(*e) + t->payload_size);
    if (!e) return NULL;
    e->hash = h;
    memcpy(e->key, key, strlen(key) + 1);
    if (t->n >= t->nbuckets) grow(t);
    e->hnext = t->buckets[h & (t->nbuckets - 1)];
    t->buckets[h & (t->nbuckets - 1)] = e;
    lru_push(t, e);
    t->n++;
    *created = true;
    return e->payload;
}

void lbs_table_remove(struct lbs_table *t, const char *key)
{
    char buf[LBS_KEY_MAX];
    struct entry *e;

    key = norm_key(key, buf);
    e = *slot_of(t, key, hash_key(t, key));
    if (!e) return;
    unlink_entry(t, e);
    osap_free(e);
}

size_t lbs_table_count(const struct lbs_table *t)
{
    return t->n;
}
