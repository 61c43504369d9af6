/*
 * A fake port for the device SDK tests: a clock the test moves, scripted random
 * bytes, and in-memory "sockets" whose input the test (the scripted server)
 * fills and whose output it inspects. Storage (KV, queue files) is the real
 * POSIX port, in memory or under a temporary directory. Header-only (static
 * inline) so each test executable takes what it uses.
 */
#ifndef TEST_FAKE_PORT_H
#define TEST_FAKE_PORT_H

#include "testutil.h"

#include "osap/device.h"
#include "osap/device_port.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_CONNS_MAX 256

struct fake_conn {
    char host[128];
    uint16_t port;
    int refused; /* tcp_check fails */
    int checks;  /* tcp_check calls so far */
    int closed;  /* the device closed it */
    int eof;     /* the server closed it: reads end after the input */
    uint8_t *in; /* server -> device */
    size_t in_len, in_off;
    uint8_t *out; /* device -> server */
    size_t out_len, out_seen;
    uint64_t t_open, t_close;
};

struct fake {
    struct osap_device_port port;  /* what the device gets */
    struct osap_device_port store; /* the POSIX port providing storage */
    uint64_t now;
    int64_t wall;
    uint8_t rnd[4096];
    size_t rnd_len, rnd_pos;
    uint32_t prng;
    struct fake_conn conns[FAKE_CONNS_MAX];
    int nconns;
    int refuse_all;     /* every connect fails at tcp_check */
    int fail_connect;   /* tcp_connect itself fails */
    size_t read_chunk;  /* most bytes per read (0 = all) */
    size_t write_chunk; /* most bytes per write (0 = all) */
};

static inline uint64_t fake_now(void *ctx)
{
    return ((struct fake *)ctx)->now;
}

static inline int64_t fake_wall(void *ctx)
{
    return ((struct fake *)ctx)->wall;
}

static inline osap_err fake_random(void *ctx, uint8_t *buf, size_t len)
{
    struct fake *f = ctx;
    for (size_t i = 0; i < len; i++) {
        if (f->rnd_pos < f->rnd_len) {
            buf[i] = f->rnd[f->rnd_pos++];
        } else {
            f->prng = f->prng * 1103515245u + 12345u;
            buf[i] = (uint8_t)(f->prng >> 16);
        }
    }
    return OSAP_OK;
}

/* Queue bytes the next random() calls return. */
static inline void fake_push_random(struct fake *f, const uint8_t *b, size_t n)
{
    if (f->rnd_pos == f->rnd_len) f->rnd_pos = f->rnd_len = 0;
    assert_true(f->rnd_len + n <= sizeof(f->rnd));
    memcpy(f->rnd + f->rnd_len, b, n);
    f->rnd_len += n;
}

static inline osap_err fake_connect(void *ctx, const char *host, uint16_t port, intptr_t *sock)
{
    struct fake *f = ctx;
    struct fake_conn *c;

    if (f->fail_connect) return OSAP_EIO;
    assert_true(f->nconns < FAKE_CONNS_MAX);
    c = &f->conns[f->nconns];
    memset(c, 0, sizeof(*c));
    snprintf(c->host, sizeof(c->host), "%s", host);
    c->port = port;
    c->refused = f->refuse_all;
    c->t_open = f->now;
    *sock = f->nconns++;
    return OSAP_OK;
}

static inline osap_err fake_check(void *ctx, intptr_t sock)
{
    struct fake_conn *c = &((struct fake *)ctx)->conns[sock];
    /* in progress once, like a real non-blocking connect */
    if (c->checks++ == 0) return OSAP_ENEED_MORE;
    return c->refused ? OSAP_ECLOSED : OSAP_OK;
}

static inline osap_err fake_read(void *ctx, intptr_t sock, uint8_t *buf, size_t cap, size_t *n)
{
    struct fake *f = ctx;
    struct fake_conn *c = &f->conns[sock];
    size_t avail = c->in_len - c->in_off;

    assert_false(c->closed);
    if (!avail) return c->eof ? OSAP_ECLOSED : OSAP_ENEED_MORE;
    if (avail > cap) avail = cap;
    if (f->read_chunk && avail > f->read_chunk) avail = f->read_chunk;
    memcpy(buf, c->in + c->in_off, avail);
    c->in_off += avail;
    *n = avail;
    return OSAP_OK;
}

static inline osap_err fake_write(void *ctx, intptr_t sock, const uint8_t *buf, size_t len,
                                  size_t *n)
{
    struct fake *f = ctx;
    struct fake_conn *c = &f->conns[sock];

    assert_false(c->closed);
    if (c->eof) return OSAP_ECLOSED;
    if (f->write_chunk && len > f->write_chunk) len = f->write_chunk;
    c->out = realloc(c->out, c->out_len + len + 1);
    assert_non_null(c->out);
    memcpy(c->out + c->out_len, buf, len);
    c->out_len += len;
    *n = len;
    return OSAP_OK;
}

static inline void fake_close(void *ctx, intptr_t sock)
{
    struct fake *f = ctx;
    struct fake_conn *c = &f->conns[sock];
    assert_false(c->closed);
    c->closed = 1;
    c->t_close = f->now;
}

/* Server side: bytes for the device to read on connection @p i. */
static inline void fake_feed(struct fake *f, int i, const uint8_t *b, size_t n)
{
    struct fake_conn *c = &f->conns[i];
    c->in = realloc(c->in, c->in_len + n + 1);
    assert_non_null(c->in);
    memcpy(c->in + c->in_len, b, n);
    c->in_len += n;
}

/* Server side: output of connection @p i not looked at yet. */
static inline size_t fake_unseen(const struct fake *f, int i)
{
    return f->conns[i].out_len - f->conns[i].out_seen;
}

/* Set up: storage in memory (@p dir NULL) or under @p dir. */
static inline void fake_init(struct fake *f, const char *dir)
{
    struct osap_device_posix_config pc = {dir, NULL};

    memset(f, 0, sizeof(*f));
    f->now = 1000000;
    f->wall = 1767225600000; /* 2026-01-01T00:00:00Z */
    f->prng = 12345;
    assert_int_equal(osap_device_port_posix_new(&pc, &f->store), OSAP_OK);
    f->port = f->store;
    f->port.ctx = f;
    f->port.now_ms = fake_now;
    f->port.wall_ms = fake_wall;
    f->port.random = fake_random;
    f->port.tcp_connect = fake_connect;
    f->port.tcp_check = fake_check;
    f->port.tcp_read = fake_read;
    f->port.tcp_write = fake_write;
    f->port.tcp_close = fake_close;
    f->port.tcp_fd = NULL;
    f->port.lock = NULL;
    f->port.unlock = NULL;
    f->port.wait = NULL;
    f->port.wake = NULL;
    f->port.thread_start = NULL;
    f->port.thread_join = NULL;
}

/* Storage calls go to the POSIX port with its own context. */
#define FAKE_STORE_FWD(name, ret, params, args) \
    static inline ret fake_##name params        \
    {                                           \
        struct fake *f = ctx;                   \
        return f->store.name args;              \
    }
FAKE_STORE_FWD(kv_get, osap_err, (void *ctx, const char *k, uint8_t *b, size_t c, size_t *l),
               (f->store.ctx, k, b, c, l))
FAKE_STORE_FWD(kv_set, osap_err, (void *ctx, const char *k, const uint8_t *v, size_t l),
               (f->store.ctx, k, v, l))
FAKE_STORE_FWD(kv_del, osap_err, (void *ctx, const char *k), (f->store.ctx, k))
FAKE_STORE_FWD(file_open, osap_err, (void *ctx, const char *n, int t, void **h),
               (f->store.ctx, n, t, h))
FAKE_STORE_FWD(file_size, osap_err, (void *ctx, void *h, uint64_t *s), (f->store.ctx, h, s))
FAKE_STORE_FWD(file_read, osap_err, (void *ctx, void *h, uint64_t o, void *b, size_t l),
               (f->store.ctx, h, o, b, l))
FAKE_STORE_FWD(file_append, osap_err, (void *ctx, void *h, const void *b, size_t l),
               (f->store.ctx, h, b, l))
FAKE_STORE_FWD(file_truncate, osap_err, (void *ctx, void *h, uint64_t s), (f->store.ctx, h, s))
FAKE_STORE_FWD(file_sync, osap_err, (void *ctx, void *h), (f->store.ctx, h))
FAKE_STORE_FWD(file_rename, osap_err, (void *ctx, const char *a, const char *b),
               (f->store.ctx, a, b))
static inline void fake_file_close(void *ctx, void *h)
{
    struct fake *f = ctx;
    f->store.file_close(f->store.ctx, h);
}

static inline void fake_wire_store(struct fake *f)
{
    f->port.kv_get = fake_kv_get;
    f->port.kv_set = fake_kv_set;
    f->port.kv_del = fake_kv_del;
    f->port.file_open = fake_file_open;
    f->port.file_size = fake_file_size;
    f->port.file_read = fake_file_read;
    f->port.file_append = fake_file_append;
    f->port.file_truncate = fake_file_truncate;
    f->port.file_sync = fake_file_sync;
    f->port.file_rename = fake_file_rename;
    f->port.file_close = fake_file_close;
}

static inline void fake_setup(struct fake *f, const char *dir)
{
    fake_init(f, dir);
    fake_wire_store(f);
}

static inline void fake_free(struct fake *f)
{
    for (int i = 0; i < f->nconns; i++) {
        free(f->conns[i].in);
        free(f->conns[i].out);
    }
    osap_device_port_posix_free(&f->store);
}

/* One step; returns the wake-up time. */
static inline uint64_t fake_step(struct fake *f, osap_device_t *dev)
{
    uint64_t next = 0;
    osap_device_step(dev, &next);
    (void)f;
    return next;
}

/* Step until connection @p conn has at least @p n unseen output bytes, moving the
 * clock to each wake-up when the device is idle; fails after @p max_ms of fake
 * time. Returns 1 when the bytes arrived. */
static inline int fake_run_until_output(struct fake *f, osap_device_t *dev, int conn, size_t n,
                                        uint64_t max_ms)
{
    uint64_t limit = f->now + max_ms;

    for (int i = 0; i < 100000; i++) {
        uint64_t next = fake_step(f, dev);
        if (conn < f->nconns && fake_unseen(f, conn) >= n) return 1;
        if (next == OSAP_DEVICE_NEVER || next > limit) return 0;
        if (next > f->now) f->now = next;
    }
    return 0;
}

/* Step, moving the clock forward to each wake-up, until @p ms passed. */
static inline void fake_run_for(struct fake *f, osap_device_t *dev, uint64_t ms)
{
    uint64_t end = f->now + ms;

    for (int i = 0; i < 100000; i++) {
        uint64_t next = fake_step(f, dev);
        if (next == OSAP_DEVICE_NEVER || next > end) break;
        if (next > f->now) f->now = next;
    }
    f->now = end;
    fake_step(f, dev);
}

#endif
