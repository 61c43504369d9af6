/*
 * Attempt budgets: one token bucket per key (a serial or an address). A bucket
 * holds `failures` tokens and refills continuously at failures/window; each
 * failure takes one. When a failure leaves less than one token, the key is
 * refused for a period that starts at `refusal` and doubles with each further
 * refusal ("strike"), at most `refusal_max`, until the key has spent a whole
 * window without a refusal and with its bucket full again. Attempts that are admitted but not
 * finished hold a reservation, so parallel connections cannot overdraw the budget. Loop thread
 * only.
 */
#include "lbs/lbs_internal.h"

#include "osap/alloc.h"

struct bucket {
    double tokens;
    int64_t last; /* time of the last refill */
    int64_t refused_until;
    unsigned strikes;
    unsigned pending; /* admitted attempts under way */
};

struct lbs_budget {
    struct lbs_budget_config cfg;
    double per_ms; /* refill rate */
    struct lbs_table *t;
};

osap_err lbs_budget_new(const struct lbs_budget_config *cfg, struct lbs_budget **out)
{
    struct lbs_budget *b;
    osap_err err;

    if (!cfg || cfg->failures < 1 || cfg->window_ms < 1 || cfg->refusal_ms < 1) return OSAP_EINVAL;
    b = osap_calloc(1, sizeof(*b));
    if (!b) return OSAP_ENOMEM;
    b->cfg = *cfg;
    if (b->cfg.refusal_max_ms < b->cfg.refusal_ms) b->cfg.refusal_max_ms = b->cfg.refusal_ms;
    b->per_ms = (double)cfg->failures / (double)cfg->window_ms;
    err = lbs_table_new(sizeof(struct bucket), cfg->entries, &b->t);
    if (err) {
        osap_free(b);
        return err;
    }
    *out = b;
    return OSAP_OK;
}

void lbs_budget_free(struct lbs_budget *b)
{
    if (!b) return;
    lbs_table_free(b->t);
    osap_free(b);
}

static void refill(const struct lbs_budget *b, struct bucket *e, int64_t now)
{
    double cap = (double)b->cfg.failures;

    if (now > e->last) {
        e->tokens += (double)(now - e->last) * b->per_ms;
        e->last = now;
    }
    if (e->tokens >= cap) {
        e->tokens = cap;
        /* A clean slate only after a whole window without refusal: a key that fails
         * again as soon as each refusal ends keeps doubling it. */
        if (now - e->refused_until >= b->cfg.window_ms) e->strikes = 0;
    }
}

/* The bucket of @p key, created full. NULL when out of memory. */
static struct bucket *bucket_get(struct lbs_budget *b, const char *key, int64_t now)
{
    bool created;
    struct bucket *e = lbs_table_get(b->t, key, &created);

    if (!e) return NULL;
    if (created) {
        e->tokens = (double)b->cfg.failures;
        e->last = now;
    }
    refill(b, e, now);
    return e;
}

int64_t lbs_budget_refused(struct lbs_budget *b, const char *key, int64_t now)
{
    struct bucket *e = lbs_table_find(b->t, key);

    if (!e || now >= e->refused_until) return 0;
    return e->refused_until - now;
}

int64_t lbs_budget_admit(struct lbs_budget *b, const char *key, int64_t now)
{
    struct bucket *e;
    int64_t wait = lbs_budget_refused(b, key, now);

    if (wait) return wait;
    e = bucket_get(b, key, now);
    if (!e) return 0; /* out of memory: do not refuse for that */
    if (e->tokens - (double)e->pending < 1.0) {
        /* The attempts under way may spend what is left: wait for them (or for
         * the next token). */
        double need = 1.0 - (e->tokens - (double)e->pending);
        wait = (int64_t)(need / b->per_ms) + 1;
        return wait;
    }
    e->pending++;
    return 0;
}

int64_t lbs_budget_fail(struct lbs_budget *b, const char *key, int64_t now)
{
    struct bucket *e = bucket_get(b, key, now);
    int64_t period;
    double floor = -(double)b->cfg.failures;

    if (!e) return 0;
    e->tokens -= 1.0;
    if (e->tokens < floor) e->tokens = floor;
    if (e->tokens >= 1.0) return 0;
    period = b->cfg.refusal_ms;
    for (unsigned i = 0; i < e->strikes && period < b->cfg.refusal_max_ms; i++)
        period *= 2;
    if (period > b->cfg.refusal_max_ms) period = b->cfg.refusal_max_ms;
    if (e->strikes < 64) e->strikes++;
    e->refused_until = now + period;
    return period;
}

int64_t lbs_budget_done(struct lbs_budget *b, const char *key, int64_t now, bool failed)
{
    struct bucket *e = lbs_table_find(b->t, key);

    if (e && e->pending) e->pending--;
    return failed ? lbs_budget_fail(b, key, now) : 0;
}

void lbs_budget_forgive(struct lbs_budget *b, const char *key)
{
    struct bucket *e = lbs_table_find(b->t, key);

    if (!e) return;
    e->tokens = (double)b->cfg.failures;
    e->strikes = 0;
    e->refused_until = 0;
}

size_t lbs_budget_count(const struct lbs_budget *b)
{
    return lbs_table_count(b->t);
}
