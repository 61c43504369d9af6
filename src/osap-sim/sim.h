/*
 * osap-sim internals: identities, profiles, the fleet engine (threads, epoll,
 * timers) and the report.
 */
#ifndef OSAP_SIM_H
#define OSAP_SIM_H

#include "osap/device.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------ */
/* Identities (sim_identity.c)                                              */
/* ------------------------------------------------------------------------ */

#define SIM_SERIAL_MAX 64
#define SIM_CODE_MAX   32
#define SIM_MODEL_MAX  48

struct sim_identity {
    char serial[SIM_SERIAL_MAX];
    char code[SIM_CODE_MAX];
    char model[SIM_MODEL_MAX];
    int licence;
};

/** SplitMix64: the deterministic generator behind identities and behaviour. */
uint64_t sim_mix64(uint64_t *state);

/** Identity number @p index (0-based) of the fleet of @p seed. Deterministic. */
void sim_identity_make(uint64_t seed, uint32_t index, const char *prefix, int licence,
                       const char *model, struct sim_identity *out);

/* ------------------------------------------------------------------------ */
/* Profiles (sim_profile.c)                                                 */
/* ------------------------------------------------------------------------ */

struct sim_attr_def {
    const char *resource, *domain, *identifier;
    int lo, hi; /* integer values in [lo, hi]; lo > hi: a boolean */
};

struct sim_key_def {
    const char *resource, *domain, *identifier;
};

struct sim_profile {
    const char *name;
    const char *model;
    const struct sim_attr_def *attrs;
    size_t nattrs;
    const struct sim_key_def *events;
    size_t nevents;
    const struct sim_key_def *ops;
    size_t nops;
};

/** The profile called @p name, or NULL. */
const struct sim_profile *sim_profile_find(const char *name);
/** Names of every profile, separated by '|'. */
const char *sim_profile_names(void);

/* ------------------------------------------------------------------------ */
/* The fleet (sim_fleet.c)                                                  */
/* ------------------------------------------------------------------------ */

struct sim_options {
    const char *lbs_host;
    uint16_t lbs_port;
    uint32_t count;
    uint64_t seed;
    const char *prefix;
    int licence;
    const struct sim_profile *profile;
    double duration_s;       /* 0: until a signal */
    unsigned threads;        /* 0: one per core */
    const char *source_base; /* NULL: no bind */
    unsigned source_count;
    const char *state_dir;     /* NULL: memory */
    int storm;                 /* all at once */
    double ramp_per_s;         /* starts per second without --storm */
    double event_per_min;      /* per device */
    double report_interval_s;  /* per device */
    uint32_t reply_latency_ms; /* answers to sets and operations */
    double error_rate;         /* share of answers with a non-zero code */
    uint16_t keepalive_s;
    size_t message_max;
    enum osap_device_fsync fsync;
    int quiet;
    int status_tty; /* redraw the status line (stdout is a terminal) */
};

/** Run the fleet; prints the status line and the final JSON line. Returns an
 *  exit code. */
int sim_fleet_run(const struct sim_options *opt);

/* ------------------------------------------------------------------------ */
/* Timer heap (sim_heap.c): devices by wake-up time                         */
/* ------------------------------------------------------------------------ */

struct sim_heap_item {
    uint64_t when;
    uint32_t *pos; /* where the item's index in the heap is kept (by its owner) */
    void *ptr;
};

struct sim_heap {
    struct sim_heap_item *items;
    size_t n, cap;
};

int sim_heap_init(struct sim_heap *h, size_t cap);
void sim_heap_free(struct sim_heap *h);
/** Insert or move the item whose position is *@p pos (UINT32_MAX: not in the heap). */
void sim_heap_set(struct sim_heap *h, uint32_t *pos, void *ptr, uint64_t when);
/** The earliest item, or NULL. */
const struct sim_heap_item *sim_heap_top(const struct sim_heap *h);
/** Remove the earliest item. */
void sim_heap_pop(struct sim_heap *h);

#endif /* OSAP_SIM_H */
