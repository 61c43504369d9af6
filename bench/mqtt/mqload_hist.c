/*
 * Latency histogram: log-linear buckets, 64 per power of two (at most 1/64
 * relative error), exact below 128 ns. Recording is two shifts and an add.
 */
#include "mqload.h"

#include <string.h>

/* Bucket of @p v: values below 128 have their own bucket; above, the top seven
 * significant bits select one of 64 buckets per power of two. */
static size_t bucket_of(uint64_t v)
{
    unsigned msb, shift;
    size_t idx;

    if (v < 128) return (size_t)v;
    msb = 63u - (unsigned)__builtin_clzll(v);
    shift = msb - 6;
    idx = (size_t)shift * 64 + (size_t)(v >> shift);
    return idx < MQLOAD_HIST_BUCKETS ? idx : MQLOAD_HIST_BUCKETS - 1;
}

/* Largest value that falls into bucket @p idx. */
static uint64_t bucket_top(size_t idx)
{
    unsigned shift;
    uint64_t mant;

    if (idx < 128) return idx;
    shift = (unsigned)(idx / 64) - 1;
    mant = idx % 64 + 64;
    return ((mant + 1) << shift) - 1;
}

void mqload_hist_add(struct mqload_hist *h, uint64_t ns)
{
    h->bucket[bucket_of(ns)]++;
    h->count++;
    h->sum += ns;
    if (ns > h->max) h->max = ns;
}

void mqload_hist_merge(struct mqload_hist *into, const struct mqload_hist *from)
{
    for (size_t i = 0; i < MQLOAD_HIST_BUCKETS; i++)
        into->bucket[i] += from->bucket[i];
    into->count += from->count;
    into->sum += from->sum;
    if (from->max > into->max) into->max = from->max;
}

uint64_t mqload_hist_quantile(const struct mqload_hist *h, double q)
{
    uint64_t rank, seen = 0, top;

    if (h->count == 0) return 0;
    if (q <= 0) q = 0;
    if (q >= 1) return h->max;
    /* the smallest value with at least ceil(q * count) records at or below it */
    rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count) rank++;
    if (rank == 0) rank = 1;
    for (size_t i = 0; i < MQLOAD_HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            top = bucket_top(i);
            return top < h->max ? top : h->max;
        }
    }
    return h->max;
}
