/*
 * What the LBS tells about itself: the outcome of each handshake (counters, the
 * attempt budgets it feeds, a log line), refusals (rate-limited), the periodic
 * counter line at debug level, and osapd_lbs_stats() for the api. Secrets never
 * reach the log: only serials, addresses, devids, result codes and reasons.
 */
#include "lbs/lbs_internal.h"

#include "log.h"

#include <stdio.h>
#include <string.h>

/* Refusal lines per second before they are summarised. */
#define REFUSAL_LINES_PER_SECOND 20

static int path_index(enum osap_lbs_path p)
{
    switch (p) {
    case OSAP_LBS_PATH_A: return 1;
    case OSAP_LBS_PATH_B: return 2;
    case OSAP_LBS_PATH_C: return 3;
    default: return 0;
    }
}

static const char *path_name(int i)
{
    static const char *const names[] = {"?", "A", "B", "C"};
    return names[i];
}

void lbs_stats_refusal(struct osapd_lbs *lbs, const char *reason, const char *peer,
                       const char *serial, int64_t for_ms)
{
    int64_t second = (int64_t)(uv_now(&lbs->loop) / 1000);

    if (second != lbs->log_second) {
        if (lbs->log_dropped)
            OSAP_LOGW(LBS_LOG, "%llu more refusals not logged in the last second",
                      (unsigned long long)lbs->log_dropped);
        lbs->log_second = second;
        lbs->log_lines = 0;
        lbs->log_dropped = 0;
    }
    if (lbs->log_lines >= REFUSAL_LINES_PER_SECOND) {
        lbs->log_dropped++;
        return;
    }
    lbs->log_lines++;
    OSAP_LOG_KV(OSAP_LOG_WARN, LBS_LOG,
                OSAP_LOG_FIELDS(OSAP_LOG_STR("peer", peer), OSAP_LOG_STR("serial", serial),
                                OSAP_LOG_INT("refused_ms", for_ms)),
                "refused: %s", reason);
}

void lbs_stats_outcome(struct lbs_conn *c)
{
    struct osapd_lbs *lbs = c->lbs;
    const struct osap_lbs_step *step = &c->step;
    int64_t now = (int64_t)uv_now(&lbs->loop);
    int p = path_index(osap_lbs_server_path(c->machine));
    unsigned r = step->result < OSAPD_LBS_RESULTS ? step->result : OSAPD_LBS_RESULTS - 1;
    int64_t refusal = 0, addr_refusal = 0;

    if (!step->close) return; /* the handshake goes on */
    atomic_fetch_add(&lbs->counters.results[p][r], 1);

    /* Budgets: wrong codes count against the serial and the address; unknown (or
     * blocked) serials against the address. Knowing the code clears the serial. */
    if (c->serial_admitted) {
        refusal =
            lbs_budget_done(lbs->by_serial, c->serial, now, step->result == OSAP_LBS_SIGN_ERROR);
        c->serial_admitted = false;
    }
    if (step->result == OSAP_LBS_SIGN_ERROR || step->result == OSAP_LBS_VCODE_LOOKUP)
        addr_refusal = lbs_budget_fail(lbs->by_addr, c->peer, now);
    if (step->done && (p == 1 || p == 2)) lbs_budget_forgive(lbs->by_serial, c->serial);

    if (step->done) {
        OSAP_LOG_KV(
            OSAP_LOG_DEBUG, LBS_LOG,
            OSAP_LOG_FIELDS(OSAP_LOG_STR("peer", c->peer), OSAP_LOG_STR("serial", c->serial),
                            OSAP_LOG_STR("path", path_name(p)), OSAP_LOG_STR("das", c->das_node),
                            OSAP_LOG_INT("ms", now - (int64_t)c->accepted_at)),
            "device authenticated");
    } else {
        OSAP_LOG_KV(OSAP_LOG_INFO, LBS_LOG,
                    OSAP_LOG_FIELDS(
                        OSAP_LOG_STR("peer", c->peer), OSAP_LOG_STR("serial", c->serial),
                        OSAP_LOG_STR("path", path_name(p)), OSAP_LOG_INT("result", step->result),
                        OSAP_LOG_STR("reason", osap_strerror(step->err))),
                    "handshake failed");
    }
    if (refusal) {
        char why[96];
        snprintf(why, sizeof(why), "serial spent its attempt budget (%lld wrong codes)",
                 (long long)lbs->cfg->serial_failures);
        lbs_stats_refusal(lbs, why, c->peer, c->serial, refusal);
    }
    if (addr_refusal)
        lbs_stats_refusal(lbs, "address spent its attempt budget", c->peer, NULL, addr_refusal);
}

void osapd_lbs_stats(const struct osapd_lbs *lbs, struct osapd_lbs_stats *out)
{
    struct lbs_counters *k = (struct lbs_counters *)&lbs->counters;

    memset(out, 0, sizeof(*out));
    out->accepted = atomic_load(&k->accepted);
    out->open = atomic_load(&k->open);
    out->refused_limit = atomic_load(&k->refused_limit);
    out->evicted = atomic_load(&k->evicted);
    out->refused_address = atomic_load(&k->refused_address);
    out->refused_serial = atomic_load(&k->refused_serial);
    out->timeouts = atomic_load(&k->timeouts);
    out->frames = atomic_load(&k->frames);
    for (int p = 0; p < 4; p++)
        for (int r = 0; r < OSAPD_LBS_RESULTS; r++)
            out->results[p][r] = atomic_load(&k->results[p][r]);
}

void lbs_stats_log(struct osapd_lbs *lbs, int level)
{
    struct osapd_lbs_stats s;
    char failures[256] = "";
    size_t o = 0;
    uint64_t failed = 0;

    if (!OSAP_LOG_ENABLED(level)) return;
    osapd_lbs_stats(lbs, &s);
    for (int r = 1; r < OSAPD_LBS_RESULTS; r++) {
        uint64_t n = 0;
        for (int p = 0; p < 4; p++)
            n += s.results[p][r];
        failed += n;
        if (n && o < sizeof(failures))
            o += (size_t)snprintf(failures + o, sizeof(failures) - o, "%s%d:%llu", o ? "," : "", r,
                                  (unsigned long long)n);
    }
    OSAP_LOG_KV(
        (enum osap_log_level)level, LBS_LOG,
        OSAP_LOG_FIELDS(
            OSAP_LOG_INT("accepted", s.accepted), OSAP_LOG_INT("open", s.open),
            OSAP_LOG_INT("ok_a", s.results[1][0]), OSAP_LOG_INT("ok_b", s.results[2][0]),
            OSAP_LOG_INT("ok_c", s.results[3][0]), OSAP_LOG_INT("failed", failed),
            OSAP_LOG_STR("by_result", failures), OSAP_LOG_INT("refused_limit", s.refused_limit),
            OSAP_LOG_INT("evicted", s.evicted), OSAP_LOG_INT("refused_address", s.refused_address),
            OSAP_LOG_INT("refused_serial", s.refused_serial), OSAP_LOG_INT("timeouts", s.timeouts),
            OSAP_LOG_INT("keys", lbs->keys ? lbs_keys_generated(lbs->keys) : 0)),
        "counters");
}

static void on_stats_timer(uv_timer_t *t)
{
    lbs_stats_log(t->data, OSAP_LOG_DEBUG);
}

void lbs_stats_start(struct osapd_lbs *lbs)
{
    uint64_t ms = (uint64_t)lbs->cfg->stats_interval_ms;

    lbs->stats_timer.data = lbs;
    if (ms) uv_timer_start(&lbs->stats_timer, on_stats_timer, ms, ms);
}
