/*
 * The port of the device SDK: the only OS-specific code an integrator writes.
 *
 * libosap-device never calls the operating system itself. Time, randomness,
 * sockets, persistent storage and (optionally) threads come through the function
 * table below; lib/device/port/posix is the implementation for Linux and other
 * POSIX systems (osap_device_port_posix_new()).
 *
 * Conventions:
 *   - every function receives the table's @c ctx first;
 *   - nothing blocks except wait() (used only by osap_device_run_thread()) and,
 *     in the POSIX port, the name resolution of a host that is not an IPv4
 *     literal;
 *   - "would block" is OSAP_ENEED_MORE; a closed peer is OSAP_ECLOSED; any other
 *     failure is OSAP_EIO (or a more specific code);
 *   - a socket is an opaque intptr_t chosen by the port.
 */
#ifndef OSAP_DEVICE_PORT_H
#define OSAP_DEVICE_PORT_H

#include "osap/err.h"

#include <stddef.h>
#include <stdint.h>

/** Poll interest / readiness bits (osap_device_fd(), port wait()). */
#define OSAP_DEVICE_POLLIN  0x1u
#define OSAP_DEVICE_POLLOUT 0x2u

/** The function table of a port. Copied by osap_device_new(); @c ctx must outlive
 *  the device. Members marked optional may be NULL. */
struct osap_device_port {
    void *ctx; /**< passed to every function */

    /* -- time and randomness ---------------------------------------------- */
    /** Monotonic time in milliseconds (any origin; never goes back). */
    uint64_t (*now_ms)(void *ctx);
    /** Wall-clock time: milliseconds since 1970-01-01 UTC (event dateTime,
     *  shadow set_reply timestamp). */
    int64_t (*wall_ms)(void *ctx);
    /** Fill @p buf with @p len random bytes (ECDH key, random_1, event UUIDs). */
    osap_err (*random)(void *ctx, uint8_t *buf, size_t len);

    /* -- TCP, non-blocking ----------------------------------------------- */
    /** Start a connection to @p host (IPv4 literal or name) and @p port. OSAP_OK
     *  when started (it may still be in progress: see tcp_check()); *@p sock is
     *  then valid until tcp_close(). */
    osap_err (*tcp_connect)(void *ctx, const char *host, uint16_t port, intptr_t *sock);
    /** Completion of a connect: OSAP_OK connected, OSAP_ENEED_MORE in progress,
     *  another error when it failed. */
    osap_err (*tcp_check)(void *ctx, intptr_t sock);
    /** Read up to @p cap bytes: OSAP_OK with *@p n > 0, OSAP_ENEED_MORE when
     *  nothing is available, OSAP_ECLOSED at end of stream, OSAP_EIO. */
    osap_err (*tcp_read)(void *ctx, intptr_t sock, uint8_t *buf, size_t cap, size_t *n);
    /** Write up to @p len bytes: OSAP_OK with *@p n written (possibly fewer),
     *  OSAP_ENEED_MORE when no byte can be written now, OSAP_EIO / OSAP_ECLOSED. */
    osap_err (*tcp_write)(void *ctx, intptr_t sock, const uint8_t *buf, size_t len, size_t *n);
    /** Close the socket (always succeeds). */
    void (*tcp_close)(void *ctx, intptr_t sock);
    /** Optional: the descriptor to poll for @p sock, or -1. */
    int (*tcp_fd)(void *ctx, intptr_t sock);

    /* -- key-value storage: "devid" and "masterkey" ---------------------- */
    /** Read value @p key into @p buf: OSAP_OK with *@p len, OSAP_ENOTFOUND,
     *  OSAP_EBUFSIZE when it does not fit, OSAP_ESTORE. */
    osap_err (*kv_get)(void *ctx, const char *key, uint8_t *buf, size_t cap, size_t *len);
    /** Store @p len bytes under @p key, durably and atomically (old or new value
     *  after a crash, never a mix). */
    osap_err (*kv_set)(void *ctx, const char *key, const uint8_t *val, size_t len);
    /** Remove @p key (OSAP_OK also when absent). */
    osap_err (*kv_del)(void *ctx, const char *key);

    /* -- files: the offline event queue ---------------------------------- */
    /** Open (creating it if needed) the file @p name; @p truncate empties it.
     *  *@p file is the port's handle. */
    osap_err (*file_open)(void *ctx, const char *name, int truncate, void **file);
    /** Current size of the file in bytes. */
    osap_err (*file_size)(void *ctx, void *file, uint64_t *size);
    /** Read exactly @p len bytes at @p off (OSAP_ENEED_MORE when the file is
     *  shorter, OSAP_ESTORE on an I/O error). */
    osap_err (*file_read)(void *ctx, void *file, uint64_t off, void *buf, size_t len);
    /** Append @p len bytes at the end of the file (visible to later reads and to
     *  a new process at once; durable only after file_sync()). */
    osap_err (*file_append)(void *ctx, void *file, const void *buf, size_t len);
    /** Cut the file to @p size bytes. */
    osap_err (*file_truncate)(void *ctx, void *file, uint64_t size);
    /** Make the file's content durable (fsync). */
    osap_err (*file_sync)(void *ctx, void *file);
    /** Atomically replace the file @p to by the closed file @p from. */
    osap_err (*file_rename)(void *ctx, const char *from, const char *to);
    /** Close a file handle. */
    void (*file_close)(void *ctx, void *file);

    /* -- threads (optional: only osap_device_run_thread() needs them) ----- */
    /** Recursive lock taken around every public call while a device runs on
     *  its own thread. */
    void (*lock)(void *ctx);
    void (*unlock)(void *ctx);
    /** Block until the socket @p sock is ready for @p events (bits
     *  OSAP_DEVICE_POLLIN / _POLLOUT), wake() is called, or @p timeout_ms pass.
     *  @p sock is -1 when the device has no connection. */
    osap_err (*wait)(void *ctx, intptr_t sock, unsigned events, uint32_t timeout_ms);
    /** Make a wait() in progress (or the next one) return at once. */
    void (*wake)(void *ctx);
    /** Run @p fn(@p arg) on a new thread (one per port context). */
    osap_err (*thread_start)(void *ctx, void (*fn)(void *arg), void *arg);
    /** Wait for the thread started by thread_start() to end. */
    void (*thread_join)(void *ctx);
};

/* ------------------------------------------------------------------------ */
/* The POSIX port                                                           */
/* ------------------------------------------------------------------------ */

/** Settings of the POSIX port. */
struct osap_device_posix_config {
    /** Directory for the KV store (files "devid", "masterkey") and the offline
     *  queue; created if missing. NULL keeps everything in memory (lost when the
     *  port is freed). */
    const char *state_dir;
    /** Local IPv4 address to bind outgoing connections to (e.g. "127.0.0.7" to
     *  spread a simulator over source addresses); NULL = any. */
    const char *bind_addr;
};

/**
 * Create a POSIX port: CLOCK_MONOTONIC / CLOCK_REALTIME, OpenSSL's CSPRNG,
 * non-blocking sockets, files under state_dir written with write(2) (so a killed
 * process loses nothing that was appended) and made durable with fsync(2),
 * pthreads. Fills @p out; free with osap_device_port_posix_free().
 * OSAP_EINVAL (bad bind address), OSAP_ESTORE (state_dir not usable), OSAP_ENOMEM.
 */
osap_err osap_device_port_posix_new(const struct osap_device_posix_config *cfg,
                                    struct osap_device_port *out);

/** Free what osap_device_port_posix_new() allocated (after the device using it
 *  is freed). */
void osap_device_port_posix_free(struct osap_device_port *port);

#endif /* OSAP_DEVICE_PORT_H */
