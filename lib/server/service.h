/*
 * The service framework of osapd.
 *
 * A service (lbs, das, api, ...) is a struct osapd_service: a name and a
 * start/stop pair. osapd lists the services built into it in one table
 * (src/osapd/services.c); [osapd] services selects which of them run. They start
 * in the order of that table and stop in reverse.
 *
 * Process model: the main thread runs a libuv loop that only watches signals
 * (SIGTERM/SIGINT: stop; a second one: exit at once; SIGHUP: reopen the log and
 * reload the thing models) and stop requests. Every service runs its own threads
 * and libuv loops, created in start() and joined in stop(). A service that needs
 * the store opens one handle per thread with osapd_store_open() (see the threading
 * rule in store.h).
 *
 * The context handed to start() gives the configuration, the data directory, the
 * store factory, the "stopping" flag, a way to ask the daemon to stop, and the
 * states of the services already started (osapd_service_find()), through which
 * services in one process reach each other. A service exposes a typed accessor
 * for its state in its own header, e.g.
 *
 *     struct das *das_of(const struct osapd_context *ctx)
 *     {
 *         return osapd_service_state(ctx, &osapd_das_service);
 *     }
 */
#ifndef OSAP_SERVER_SERVICE_H
#define OSAP_SERVER_SERVICE_H

#include "config.h"
#include "config_core.h"
#include "osap/err.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>

struct osapd_context;

/** A service osapd can run. */
struct osapd_service {
    /** Its name in [osapd] services and in the log. */
    const char *name;
    /** One line for `osapd --help`. */
    const char *summary;
    /** Start: read the configuration, bind listeners, create threads, and return the
     *  service's state in @p state. Runs on the main thread; should not block for
     *  long. On failure, release everything and return an error (the daemon stops
     *  the services started before and exits). */
    osap_err (*start)(struct osapd_context *ctx, void **state);
    /** Stop: make the threads finish (close listeners and connections), join them,
     *  close store handles and free @p state. Runs on the main thread, once, after
     *  the services started later have stopped. */
    void (*stop)(void *state);
};

/** A context for running services with configuration @p cfg, which must already
 *  hold the [osapd] and [store] tables and must outlive the context. Installs the
 *  signal handlers of the main loop. */
osap_err osapd_context_new(const struct osap_config *cfg, struct osapd_context **out);

/** Free the context; every service must be stopped (NULL is a no-op). */
void osapd_context_free(struct osapd_context *ctx);

/** Start the services that [osapd] services names, in the order of @p builtin (the
 *  @p n services built in). OSAP_ESERVICE_UNKNOWN (nothing started) when a name is
 *  not among them; a start() error after stopping those already started. */
osap_err osapd_context_start(struct osapd_context *ctx, const struct osapd_service *const *builtin,
                             size_t n);

/** Run the main loop until a signal or osapd_request_stop(); returns the reason
 *  given to osapd_request_stop() (OSAP_OK for a signal). Services keep running. */
osap_err osapd_context_run(struct osapd_context *ctx);

/** Stop every running service, in reverse start order. */
void osapd_context_stop(struct osapd_context *ctx);

/* ------------------------------------------------------------------------ */
/* For services (any thread unless noted)                                   */
/* ------------------------------------------------------------------------ */

/** The whole configuration (read-only). Find a section with osap_config_section(). */
const struct osap_config *osapd_config(const struct osapd_context *ctx);

/** The [osapd] section. */
const struct osap_core_config *osapd_core_config(const struct osapd_context *ctx);

/** The data directory (absolute; it exists). */
const char *osapd_data_dir(const struct osapd_context *ctx);

/** The number of worker threads a pooled service should run ([osapd] worker_threads,
 *  0 resolved to the number of CPU cores). */
unsigned osapd_worker_threads(const struct osapd_context *ctx);

/** Open a store handle for the calling thread (close it with osap_store_close() on
 *  the same thread). */
osap_err osapd_store_open(const struct osapd_context *ctx, struct osap_store **out);

/** True once the daemon has begun to stop. */
bool osapd_stopping(const struct osapd_context *ctx);

/** Ask the daemon to stop (e.g. a service hit a fatal error); @p reason becomes the
 *  result of osapd_context_run() (OSAP_OK = a normal stop). The first call wins. */
void osapd_request_stop(struct osapd_context *ctx, osap_err reason);

/** The state returned by the start() of running service @p svc, or NULL when it does
 *  not run (or has not started yet). Stable until that service stops, which happens
 *  after every service started later has stopped. */
void *osapd_service_state(const struct osapd_context *ctx, const struct osapd_service *svc);

/** Same by name. */
void *osapd_service_find(const struct osapd_context *ctx, const char *name);

struct osap_models;

/** The process's thing-model registry (models.h), shared by every service: loaded
 *  by osapd_context_start() from [models] before the first service starts (a bad
 *  [models] map stops the start with OSAP_ECONFIG), reloaded on SIGHUP, freed by
 *  osapd_context_free(). NULL when the configuration has no [models] table or
 *  no service runs. */
struct osap_models *osapd_models(const struct osapd_context *ctx);

#endif /* OSAP_SERVER_SERVICE_H */
