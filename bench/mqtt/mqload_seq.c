/*
 * Sequence tracking of one numbered stream at one receiver: a bitmap of the
 * MQLOAD_SEQ_WINDOW numbers from the lowest one still missing. A number below
 * that point, or one whose bit is set, is a duplicate. A number too far ahead
 * moves the window and gives up on the missing numbers it passes (they count
 * as lost in the end; should one of them arrive later, it counts as a
 * duplicate too, so the report errs towards showing a problem).
 */
#include "mqload.h"

static bool bit_get(const struct mqload_seq *s, uint64_t seq)
{
    uint64_t i = seq % MQLOAD_SEQ_WINDOW;
    return (s->bits[i / 64] >> (i % 64)) & 1u;
}

static void bit_set(struct mqload_seq *s, uint64_t seq, bool on)
{
    uint64_t i = seq % MQLOAD_SEQ_WINDOW;
    if (on)
        s->bits[i / 64] |= (uint64_t)1 << (i % 64);
    else
        s->bits[i / 64] &= ~((uint64_t)1 << (i % 64));
}

bool mqload_seq_add(struct mqload_seq *s, uint64_t seq)
{
    if (seq < s->base) {
        s->dups++;
        return false;
    }
    while (seq - s->base >= MQLOAD_SEQ_WINDOW) {
        if (bit_get(s, s->base))
            bit_set(s, s->base, false);
        else
            s->skipped++;
        s->base++;
    }
    if (bit_get(s, seq)) {
        s->dups++;
        return false;
    }
    s->unique++;
    if (seq + 1 < s->max_seen) s->reordered++;
    if (seq + 1 > s->max_seen) s->max_seen = seq + 1;
    if (seq == s->base) {
        s->base++;
        while (s->base < s->max_seen && bit_get(s, s->base)) {
            bit_set(s, s->base, false);
            s->base++;
        }
    } else {
        bit_set(s, seq, true);
    }
    return true;
}
