/*
 * The POSIX port: clocks, the CSPRNG of libosap, threads (a recursive mutex, a
 * run thread, poll(2) with a self-pipe for wake-ups) and the constructor that
 * wires the socket and storage functions into the table.
 */
#include "port_posix.h"

#include "osap/alloc.h"
#include "osap/crypto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void *ctx)
{
    struct timespec ts;

    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int64_t wall_ms(void *ctx)
{
    struct timespec ts;

    (void)ctx;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static osap_err random_bytes(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    return osap_rng_fill(NULL, buf, len);
}

static void lock(void *ctx)
{
    struct posix_port *pp = ctx;
    pthread_mutex_lock(&pp->lock);
}

static void unlock(void *ctx)
{
    struct posix_port *pp = ctx;
    pthread_mutex_unlock(&pp->lock);
}

static osap_err wake_pipe(struct posix_port *pp)
{
    if (pp->wake_fd[0] >= 0) return OSAP_OK;
    if (pipe(pp->wake_fd) != 0) return OSAP_EIO;
    for (int i = 0; i < 2; i++) {
        fcntl(pp->wake_fd[i], F_SETFL, fcntl(pp->wake_fd[i], F_GETFL) | O_NONBLOCK);
        fcntl(pp->wake_fd[i], F_SETFD, FD_CLOEXEC);
    }
    return OSAP_OK;
}

static void wake(void *ctx)
{
    struct posix_port *pp = ctx;
    char c = 1;

    if (pp->wake_fd[1] >= 0) {
        ssize_t n = write(pp->wake_fd[1], &c, 1);
        (void)n; /* a full pipe already wakes the waiter */
    }
}

static osap_err wait_io(void *ctx, intptr_t sock, unsigned events, uint32_t timeout_ms)
{
    struct posix_port *pp = ctx;
    struct pollfd fds[2];
    nfds_t n = 0;
    char drain[64];

    if (pp->wake_fd[0] >= 0) {
        fds[n].fd = pp->wake_fd[0];
        fds[n].events = POLLIN;
        n++;
    }
    if (sock >= 0 && events) {
        fds[n].fd = (int)sock;
        fds[n].events = (short)((events & OSAP_DEVICE_POLLIN ? POLLIN : 0) |
                                (events & OSAP_DEVICE_POLLOUT ? POLLOUT : 0));
        n++;
    }
    if (poll(fds, n, (int)timeout_ms) < 0 && errno != EINTR) return OSAP_EIO;
    if (pp->wake_fd[0] >= 0)
        while (read(pp->wake_fd[0], drain, sizeof(drain)) > 0) {
        }
    return OSAP_OK;
}

static void *thread_main(void *arg)
{
    struct posix_port *pp = arg;
    pp->thread_fn(pp->thread_arg);
    return NULL;
}

static osap_err thread_start(void *ctx, void (*fn)(void *), void *arg)
{
    struct posix_port *pp = ctx;
    osap_err err;

    if (pp->thread_started) return OSAP_ESTATE;
    err = wake_pipe(pp);
    if (err) return err;
    pp->thread_fn = fn;
    pp->thread_arg = arg;
    if (pthread_create(&pp->thread, NULL, thread_main, pp) != 0) return OSAP_EIO;
    pp->thread_started = 1;
    return OSAP_OK;
}

static void thread_join(void *ctx)
{
    struct posix_port *pp = ctx;

    if (!pp->thread_started) return;
    pthread_join(pp->thread, NULL);
    pp->thread_started = 0;
}

osap_err osap_device_port_posix_new(const struct osap_device_posix_config *cfg,
                                    struct osap_device_port *out)
{
    struct posix_port *pp;
    pthread_mutexattr_t attr;
    osap_err err;

    if (!out) return OSAP_EINVAL;
    pp = osap_calloc(1, sizeof(*pp));
    if (!pp) return OSAP_ENOMEM;
    pp->wake_fd[0] = pp->wake_fd[1] = -1;
    if (cfg && cfg->bind_addr) {
        if (inet_pton(AF_INET, cfg->bind_addr, &pp->bind) != 1) {
            osap_free(pp);
            return OSAP_EINVAL;
        }
        pp->has_bind = 1;
    }
    err = osap__posix_store_init(pp, cfg ? cfg->state_dir : NULL);
    if (err) {
        osap_free(pp);
        return err;
    }
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&pp->lock, &attr);
    pthread_mutexattr_destroy(&attr);

    memset(out, 0, sizeof(*out));
    out->ctx = pp;
    out->now_ms = now_ms;
    out->wall_ms = wall_ms;
    out->random = random_bytes;
    out->tcp_connect = osap__posix_tcp_connect;
    out->tcp_check = osap__posix_tcp_check;
    out->tcp_read = osap__posix_tcp_read;
    out->tcp_write = osap__posix_tcp_write;
    out->tcp_close = osap__posix_tcp_close;
    out->tcp_fd = osap__posix_tcp_fd;
    out->kv_get = osap__posix_kv_get;
    out->kv_set = osap__posix_kv_set;
    out->kv_del = osap__posix_kv_del;
    out->file_open = osap__posix_file_open;
    out->file_size = osap__posix_file_size;
    out->file_read = osap__posix_file_read;
    out->file_append = osap__posix_file_append;
    out->file_truncate = osap__posix_file_truncate;
    out->file_sync = osap__posix_file_sync;
    out->file_rename = osap__posix_file_rename;
    out->file_close = osap__posix_file_close;
    out->lock = lock;
    out->unlock = unlock;
    out->wait = wait_io;
    out->wake = wake;
    out->thread_start = thread_start;
    out->thread_join = thread_join;
    return OSAP_OK;
}

void osap_device_port_posix_free(struct osap_device_port *port)
{
    struct posix_port *pp;

    if (!port || !port->ctx) return;
    pp = port->ctx;
    thread_join(pp);
    for (int i = 0; i < 2; i++)
        if (pp->wake_fd[i] >= 0) close(pp->wake_fd[i]);
    osap__posix_store_free(pp);
    pthread_mutex_destroy(&pp->lock);
    osap_free(pp);
    port->ctx = NULL;
}
