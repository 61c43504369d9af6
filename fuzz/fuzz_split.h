/*
 * Data-derived split points for the fuzz targets that feed a stream in pieces
 * (a parser must give the same result however its input is cut). Header-only.
 *
 * A splitter is seeded with one byte of the input: seed 0 feeds everything at
 * once; otherwise piece lengths come from a small xorshift generator, 1..64
 * bytes, with one piece in eight as large as what is left.
 */
#ifndef FUZZ_SPLIT_H
#define FUZZ_SPLIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define CHECK(c)           \
    do {                   \
        if (!(c)) abort(); \
    } while (0)

struct fz_split {
    uint32_t x;
};

static inline void fz_split_init(struct fz_split *s, uint8_t seed)
{
    s->x = seed ? 0x9e3779b9u ^ ((uint32_t)seed * 0x01000193u) : 0;
}

/* The length of the next piece of the @p left bytes still to feed (at least 1 when
 * @p left is not 0). */
static inline size_t fz_split_next(struct fz_split *s, size_t left)
{
    size_t n;

    if (s->x == 0 || left == 0) return left;
    s->x ^= s->x << 13;
    s->x ^= s->x >> 17;
    s->x ^= s->x << 5;
    n = (s->x & 7) == 0 ? left : 1 + (s->x >> 8) % 64;
    return n < left ? n : left;
}

#endif /* FUZZ_SPLIT_H */
