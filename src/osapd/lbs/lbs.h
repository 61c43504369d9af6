/*
 * The LBS service of osapd: devices authenticate here (paths A, B, C of the LBS
 * handshake, docs/PROTOCOL.md) and learn their devid, session key and DAS.
 *
 * Process model (docs/ARCHITECTURE.md, "LBS service"): one thread runs a libuv
 * loop that accepts connections, reads frames, enforces the limits and writes the
 * answers; every complete frame is handed to libuv's thread pool
 * (uv_queue_work), where the handshake state machine of libosap runs with that
 * pool thread's own store handle, so crypto and SQLite never run on the loop. At
 * most one frame per connection is in flight.
 *
 * The service is a static library (osapd-lbs) so that tests and benchmarks can run
 * the real code. They may replace the sources of randomness, of server key pairs,
 * of devids and of DAS information through struct osapd_lbs_hooks; osapd itself
 * passes none.
 */
#ifndef OSAPD_LBS_H
#define OSAPD_LBS_H

#include "osap/crypto.h"
#include "osap/err.h"
#include "osap/lbs_handshake.h"
#include "service.h"

#include <stdint.h>

/** The service descriptor listed in src/osapd/services.c. */
extern const struct osapd_service osapd_lbs_service;

/** One running LBS (opaque). */
struct osapd_lbs;

/** Replacements for the service's own sources of facts; every member may be NULL
 *  (= the service's own). Callbacks run on pool threads, concurrently. */
struct osapd_lbs_hooks {
    /** Randomness of session keys, random_2, devids and server key pairs; NULL =
     *  the system CSPRNG. Must be thread-safe and outlive the service. */
    const struct osap_rng *rng;
    /** Server ECDH key pair for one handshake, and its release (both or neither).
     *  Default: the reuse policy of [lbs] ecdh_key_uses / ecdh_key_lifetime. */
    osap_err (*key_acquire)(void *userdata, osap_p384_key **key);
    void (*key_release)(void *userdata, osap_p384_key *key);
    /** A devid for a device that has none. Default: the device's devid if it has
     *  one, else 32 upper-case hex digits from the rng, unique in the store. */
    osap_err (*allocate_devid)(void *userdata, const char *subserial,
                               uint8_t devid[OSAP_DEVID_LEN]);
    /** The DAS a device is sent to. Default: the least-loaded healthy node of the
     *  store's das_nodes table, chosen when the session is committed. */
    osap_err (*das_info)(void *userdata, const char *subserial, struct osap_lbs_das_info *out);
    void *userdata;
};

/** Start the LBS with the [lbs] settings of @p ctx and @p hooks (NULL = none;
 *  copied). Binds the listener before returning. Runs on the main thread. */
osap_err osapd_lbs_start(struct osapd_context *ctx, const struct osapd_lbs_hooks *hooks,
                         struct osapd_lbs **out);

/** Stop accepting, give handshakes under way [lbs] stop_timeout to finish, close
 *  the rest, join the thread and free @p lbs (NULL is a no-op). */
void osapd_lbs_stop(struct osapd_lbs *lbs);

/** The TCP port the LBS listens on. */
int osapd_lbs_port(const struct osapd_lbs *lbs);

/** Number of result codes counted per path (results above are counted as the last). */
#define OSAPD_LBS_RESULTS 20

/** Counters since the start (read without locks from any thread; each counter is
 *  exact, the set is not one snapshot). */
struct osapd_lbs_stats {
    uint64_t accepted;        /* connections accepted */
    uint64_t open;            /* connections open now */
    uint64_t refused_limit;   /* closed at accept: max_connections(_per_address) */
    uint64_t evicted;         /* idle connections dropped for a new one at the limit */
    uint64_t refused_address; /* closed at accept: the address spent its budget */
    uint64_t refused_serial;  /* 0x1 refused: the serial spent its budget */
    uint64_t timeouts;        /* closed by the step timeout */
    uint64_t frames;          /* frames handled by the state machine */
    /** Handshakes that ended, by path (0 = none yet, 1 = A, 2 = B, 3 = C) and by
     *  result code; [p][0] counts successes. */
    uint64_t results[4][OSAPD_LBS_RESULTS];
};

/** Copy the counters of @p lbs into @p out. */
void osapd_lbs_stats(const struct osapd_lbs *lbs, struct osapd_lbs_stats *out);

#endif /* OSAPD_LBS_H */
