/*
 * A fake port for the device fuzz targets: a clock moved by the target, fixed
 * random bytes, and in-memory connections whose input is fuzz data. Storage is
 * the POSIX port in memory. Header-only (static inline).
 */
#ifndef FUZZ_DEVICE_PORT_H
#define FUZZ_DEVICE_PORT_H

#include "osap/device.h"
#include "osap/device_port.h"

#include <stdlib.h>
#include <string.h>

#define FZ_CONNS  64
#define FZ_IN_MAX 65536

struct fz_conn {
    uint16_t port;
    int closed, eof;
    uint8_t in[FZ_IN_MAX];
    size_t in_len, in_off;
    size_t out_len;
};

struct fz {
    struct osap_device_port port, store;
    uint64_t now;
    int64_t wall;
    uint8_t rnd[64];
    size_t rnd_len, rnd_pos;
    uint32_t prng;
    struct fz_conn *conns[FZ_CONNS];
    int nconns;
    size_t read_chunk;
};

static inline uint64_t fz_now(void *ctx)
{
    return ((struct fz *)ctx)->now;
}
static inline int64_t fz_wall(void *ctx)
{
    return ((struct fz *)ctx)->wall;
}

static inline osap_err fz_random(void *ctx, uint8_t *buf, size_t len)
{
    struct fz *f = ctx;
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

static inline osap_err fz_connect(void *ctx, const char *host, uint16_t port, intptr_t *sock)
{
    struct fz *f = ctx;
    struct fz_conn *c;
    (void)host;
    if (f->nconns >= FZ_CONNS) return OSAP_EIO;
    c = calloc(1, sizeof(*c));
    if (!c) return OSAP_ENOMEM;
    c->port = port;
    f->conns[f->nconns] = c;
    *sock = f->nconns++;
    return OSAP_OK;
}

static inline osap_err fz_check(void *ctx, intptr_t sock)
{
    (void)ctx, (void)sock;
    return OSAP_OK;
}

static inline osap_err fz_read(void *ctx, intptr_t sock, uint8_t *buf, size_t cap, size_t *n)
{
    struct fz *f = ctx;
    struct fz_conn *c = f->conns[sock];
    size_t avail = c->in_len - c->in_off;
    if (c->closed) abort(); /* reading a closed socket */
    if (!avail) return c->eof ? OSAP_ECLOSED : OSAP_ENEED_MORE;
    if (avail > cap) avail = cap;
    if (f->read_chunk && avail > f->read_chunk) avail = f->read_chunk;
    memcpy(buf, c->in + c->in_off, avail);
    c->in_off += avail;
    *n = avail;
    return OSAP_OK;
}

static inline osap_err fz_write(void *ctx, intptr_t sock, const uint8_t *buf, size_t len, size_t *n)
{
    struct fz *f = ctx;
    struct fz_conn *c = f->conns[sock];
    (void)buf;
    if (c->closed) abort();
    c->out_len += len;
    *n = len;
    return OSAP_OK;
}

static inline void fz_close(void *ctx, intptr_t sock)
{
    struct fz *f = ctx;
    if (f->conns[sock]->closed) abort(); /* closed twice */
    f->conns[sock]->closed = 1;
}

/* Bytes for the device to read on connection @p i. */
static inline void fz_feed(struct fz *f, int i, const uint8_t *b, size_t n)
{
    struct fz_conn *c = f->conns[i];
    if (n > FZ_IN_MAX - c->in_len) n = FZ_IN_MAX - c->in_len;
    memcpy(c->in + c->in_len, b, n);
    c->in_len += n;
}

static inline int fz_init(struct fz *f)
{
    struct osap_device_posix_config pc = {NULL, NULL};
    memset(f, 0, sizeof(*f));
    f->now = 1000;
    f->wall = 1767225600000;
    f->prng = 1;
    if (osap_device_port_posix_new(&pc, &f->store)) return -1;
    f->port = f->store; /* storage: the POSIX port in memory (its own ctx) */
    return 0;
}

/* The table the device gets: ctx is the fake; storage calls are forwarded. */
#define FZ_FWD(name, ret, params, args) \
    static inline ret fz_##name params  \
    {                                   \
        struct fz *f = ctx;             \
        return f->store.name args;      \
    }
FZ_FWD(kv_get, osap_err, (void *ctx, const char *k, uint8_t *b, size_t c, size_t *l),
       (f->store.ctx, k, b, c, l))
FZ_FWD(kv_set, osap_err, (void *ctx, const char *k, const uint8_t *v, size_t l),
       (f->store.ctx, k, v, l))
FZ_FWD(kv_del, osap_err, (void *ctx, const char *k), (f->store.ctx, k))
FZ_FWD(file_open, osap_err, (void *ctx, const char *n, int t, void **h), (f->store.ctx, n, t, h))
FZ_FWD(file_size, osap_err, (void *ctx, void *h, uint64_t *s), (f->store.ctx, h, s))
FZ_FWD(file_read, osap_err, (void *ctx, void *h, uint64_t o, void *b, size_t l),
       (f->store.ctx, h, o, b, l))
FZ_FWD(file_append, osap_err, (void *ctx, void *h, const void *b, size_t l),
       (f->store.ctx, h, b, l))
FZ_FWD(file_truncate, osap_err, (void *ctx, void *h, uint64_t s), (f->store.ctx, h, s))
FZ_FWD(file_sync, osap_err, (void *ctx, void *h), (f->store.ctx, h))
FZ_FWD(file_rename, osap_err, (void *ctx, const char *a, const char *b), (f->store.ctx, a, b))
static inline void fz_file_close(void *ctx, void *h)
{
    struct fz *f = ctx;
    f->store.file_close(f->store.ctx, h);
}

static inline void fz_wire(struct fz *f)
{
    struct osap_device_port *p = &f->port;
    memset(p, 0, sizeof(*p));
    p->ctx = f;
    p->now_ms = fz_now;
    p->wall_ms = fz_wall;
    p->random = fz_random;
    p->tcp_connect = fz_connect;
    p->tcp_check = fz_check;
    p->tcp_read = fz_read;
    p->tcp_write = fz_write;
    p->tcp_close = fz_close;
    p->kv_get = fz_kv_get;
    p->kv_set = fz_kv_set;
    p->kv_del = fz_kv_del;
    p->file_open = fz_file_open;
    p->file_size = fz_file_size;
    p->file_read = fz_file_read;
    p->file_append = fz_file_append;
    p->file_truncate = fz_file_truncate;
    p->file_sync = fz_file_sync;
    p->file_rename = fz_file_rename;
    p->file_close = fz_file_close;
}

static inline void fz_free(struct fz *f)
{
    for (int i = 0; i < f->nconns; i++)
        free(f->conns[i]);
    osap_device_port_posix_free(&f->store);
}

/* Step the device, moving the clock to its wake-ups, @p rounds times. */
static inline void fz_run(struct fz *f, osap_device_t *dev, int rounds, uint64_t max_jump)
{
    for (int i = 0; i < rounds; i++) {
        uint64_t next = 0;
        osap_device_step(dev, &next);
        if (next == OSAP_DEVICE_NEVER) break;
        if (next > f->now) f->now = next - f->now > max_jump ? f->now + max_jump : next;
    }
}

static inline void fz_hex(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + k];
            v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        out[i] = (uint8_t)v;
    }
}

#endif
