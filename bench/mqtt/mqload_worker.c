/*
 * One worker thread: an epoll loop (level-triggered) over its connections.
 *
 * Each loop iteration: look at the phase, start connections, let the fanout
 * publisher fill its window, send PINGREQs that are due, then write every
 * connection that has bytes queued (one write per connection per iteration:
 * everything a read produced goes out together), publish progress counters,
 * and wait for events. Reads go through the libosap streaming decoder.
 *
 * Sockets are bound to a 127.0.0.x source address before connect, with
 * IP_BIND_ADDRESS_NO_PORT so that the port is chosen at connect time for the
 * full address tuple: each source address gives its own range of local ports.
 */
#include "mqload.h"

#include "osap/alloc.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

/** Bytes read from a socket at once. */
#define READ_CHUNK (64u * 1024u)

/** Events taken from epoll at once. */
#define MAX_EVENTS 256

/** Connection attempts before a connection counts as failed. */
#define MAX_ATTEMPTS 3

/** Setup errors printed per worker (the rest are only counted). */
#define MAX_ERRORS_SHOWN 5

/** How often PINGREQs that are due are looked for. */
#define PING_SCAN_NS 250000000u

osap_err mqload_worker_init(struct mqload_worker *w, unsigned id, struct mqload_shared *sh)
{
    memset(w, 0, sizeof(*w));
    w->id = id;
    w->sh = sh;
    w->ep = -1;
    w->kick = -1;
    w->rdcap = READ_CHUNK;
    w->rdbuf = osap_malloc(w->rdcap);
    if (!w->rdbuf) return OSAP_ENOMEM;
    w->ep = epoll_create1(EPOLL_CLOEXEC);
    if (w->ep < 0) return OSAP_EIO;
    w->kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->kick < 0) return OSAP_EIO;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->kick, &ev) != 0) return OSAP_EIO;
    return OSAP_OK;
}

void mqload_worker_release(struct mqload_worker *w)
{
    for (size_t i = 0; i < w->n_conns; i++) {
        struct mqload_conn *c = w->conns[i];
        if (c->fd >= 0) close(c->fd);
        osap_free(c->out.buf);
        osap_free(c->rxbuf);
        osap_free(c->pub.acked);
        osap_free(c->seq);
        osap_free(c->topic);
        osap_free(c);
    }
    osap_free(w->conns);
    osap_free(w->retry);
    osap_free(w->rdbuf);
    if (w->ep >= 0) close(w->ep);
    if (w->kick >= 0) close(w->kick);
    w->conns = NULL;
    w->n_conns = 0;
}

void mqload_worker_kick(struct mqload_worker *w)
{
    uint64_t one = 1;

    if (write(w->kick, &one, sizeof(one)) < 0) {
        /* EAGAIN: the counter is already non-zero, the worker will wake */
    }
}

/* ------------------------------------------------------------------------ */
/* Output                                                                   */
/* ------------------------------------------------------------------------ */

static void mark_dirty(struct mqload_conn *c)
{
    if (c->dirty) return;
    c->dirty = true;
    c->next_dirty = c->w->dirty;
    c->w->dirty = c;
}

uint8_t *mqload_conn_reserve(struct mqload_conn *c, size_t len)
{
    struct mqload_out *o = &c->out;
    size_t need, cap;
    uint8_t *nb;

    if (c->fd < 0) return NULL;
    if (o->off > 0 && o->off == o->len) o->off = o->len = 0;
    if (o->cap - o->len >= len) return o->buf + o->len;
    if (o->off > 0) { /* move what is left to the front first */
        memmove(o->buf, o->buf + o->off, o->len - o->off);
        o->len -= o->off;
        o->off = 0;
        if (o->cap - o->len >= len) return o->buf + o->len;
    }
    need = o->len + len;
    if (need > MQLOAD_OUT_MAX) {
        mqload_conn_close(c, "output buffer ceiling reached (the server does not read)", false);
        return NULL;
    }
    cap = o->cap ? o->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > MQLOAD_OUT_MAX) cap = MQLOAD_OUT_MAX;
    nb = osap_realloc(o->buf, cap);
    if (!nb) {
        mqload_conn_close(c, "out of memory", false);
        return NULL;
    }
    o->buf = nb;
    o->cap = cap;
    return o->buf + o->len;
}

void mqload_conn_commit(struct mqload_conn *c, size_t len)
{
    c->out.len += len;
    mark_dirty(c);
}

bool mqload_conn_write(struct mqload_conn *c, const uint8_t *bytes, size_t len)
{
    uint8_t *p = mqload_conn_reserve(c, len);

    if (!p) return false;
    memcpy(p, bytes, len);
    mqload_conn_commit(c, len);
    return true;
}

static void set_pollout(struct mqload_conn *c, bool on)
{
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};

    if (c->pollout == on) return;
    c->pollout = on;
    epoll_ctl(c->w->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_flush(struct mqload_conn *c)
{
    struct mqload_out *o = &c->out;
    ssize_t n;

    while (c->fd >= 0 && o->off < o->len) {
        n = send(c->fd, o->buf + o->off, o->len - o->off, MSG_NOSIGNAL);
        if (n > 0) {
            o->off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_pollout(c, true);
            return;
        } else {
            mqload_conn_close(c, n < 0 ? strerror(errno) : "write returned 0", true);
            return;
        }
    }
    if (c->fd < 0) return;
    o->off = o->len = 0;
    set_pollout(c, false);
}

static void flush_dirty(struct mqload_worker *w)
{
    struct mqload_conn *c;

    while ((c = w->dirty) != NULL) {
        w->dirty = c->next_dirty;
        c->next_dirty = NULL;
        c->dirty = false;
        if (c->fd >= 0 && c->state != MQLOAD_TCP && !c->pollout) conn_flush(c);
    }
}

/* ------------------------------------------------------------------------ */
/* Connection lifecycle                                                     */
/* ------------------------------------------------------------------------ */

static void show_error(struct mqload_conn *c, const char *what, const char *why)
{
    struct mqload_worker *w = c->w;

    if (w->errors_shown >= MAX_ERRORS_SHOWN) return;
    w->errors_shown++;
    fprintf(stderr, "osap-mqtt-load: connection %c%u: %s: %s%s\n",
            c->role == MQLOAD_PUB   ? 'p'
            : c->role == MQLOAD_SUB ? 's'
                                    : 'i',
            c->index, what, why,
            w->errors_shown == MAX_ERRORS_SHOWN ? " (further errors of this thread not shown)"
                                                : "");
}

static void conn_start(struct mqload_conn *c)
{
    struct mqload_worker *w = c->w;
    const struct mqload_opts *o = w->sh->o;
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    int one = 1, fd;

    c->attempts++;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        c->state = MQLOAD_TCP;
        mqload_conn_close(c, strerror(errno), false);
        return;
    }
    c->fd = fd;
    c->state = MQLOAD_TCP;
    c->pollout = true;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (o->src_addrs > 0) {
        struct sockaddr_in src = {.sin_family = AF_INET};
        uint32_t k = (w->id + w->src_next++ * w->sh->n_workers) % o->src_addrs;
        src.sin_addr.s_addr = htonl(ntohl(o->src_first.s_addr) + k);
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(fd, (const struct sockaddr *)&src, sizeof(src)) != 0) {
            mqload_conn_close(c, strerror(errno), true);
            return;
        }
    }
    if (connect(fd, (const struct sockaddr *)&o->dst, sizeof(o->dst)) != 0 &&
        errno != EINPROGRESS) {
        mqload_conn_close(c, strerror(errno), true);
        return;
    }
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) != 0) mqload_conn_close(c, strerror(errno), false);
}

void mqload_conn_ready(struct mqload_conn *c)
{
    struct mqload_worker *w = c->w;

    c->state = MQLOAD_READY;
    c->next_ping = w->now + (uint64_t)w->sh->o->keepalive * 500000000u;
    w->connecting--;
    atomic_fetch_add(&w->sh->ready, 1);
}

void mqload_conn_close(struct mqload_conn *c, const char *why, bool may_retry)
{
    struct mqload_worker *w = c->w;
    uint8_t was = c->state;

    if (c->fd >= 0) {
        close(c->fd); /* also leaves the epoll set */
        c->fd = -1;
    }
    c->pollout = false;
    c->out.off = c->out.len = 0;
    osap_mqtt_stream_reset(&c->rx);
    if (was == MQLOAD_READY) {
        c->state = MQLOAD_CLOSED;
        if (w->seen_phase < MQLOAD_PH_STOP) {
            w->st.lost_conns++;
            show_error(c, "lost", why);
        }
        if (c->role == MQLOAD_PUB) {
            w->inflight -= c->pub.inflight;
            c->pub.inflight = 0;
        }
        return;
    }
    if (was == MQLOAD_CLOSED || was == MQLOAD_FAILED || was == MQLOAD_NEW) return;
    if (may_retry && c->attempts < MAX_ATTEMPTS && w->seen_phase == MQLOAD_PH_CONNECT) {
        c->state = MQLOAD_NEW;
        w->st.connect_retries++;
        w->retry[w->n_retry++] = c;
        return;
    }
    c->state = MQLOAD_FAILED;
    w->connecting--;
    w->st.connect_failed++;
    atomic_fetch_add(&w->sh->failed, 1);
    show_error(c, "setup failed", why);
}

/* The TCP connect finished (or failed). */
static void on_tcp_done(struct mqload_conn *c)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
        mqload_conn_close(c, strerror(err), true);
        return;
    }
    c->state = MQLOAD_CONNECTING;
    set_pollout(c, false);
    mqload_client_connected(c);
}

static void on_readable(struct mqload_conn *c)
{
    struct mqload_worker *w = c->w;
    struct osap_mqtt_packet pkt;
    const uint8_t *p;
    size_t left, used;
    osap_err err;
    ssize_t n;
    int fd = c->fd;

    n = recv(fd, w->rdbuf, w->rdcap, 0);
    if (n == 0) {
        mqload_conn_close(c, "closed by the server", true);
        return;
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            mqload_conn_close(c, strerror(errno), true);
        return;
    }
    w->now = mqload_now();
    p = w->rdbuf;
    left = (size_t)n;
    while (left > 0) {
        err = osap_mqtt_stream_next(&c->rx, p, left, &used, &pkt);
        if (err == OSAP_ENEED_MORE) break;
        if (err != OSAP_OK) {
            w->st.protocol_errors++;
            mqload_conn_close(c, osap_strerror(err), false);
            return;
        }
        p += used;
        left -= used;
        mqload_client_packet(c, &pkt);
        if (c->fd != fd) return; /* closed while handling the packet */
    }
}

static void on_event(struct mqload_conn *c, uint32_t events)
{
    if (c->fd < 0) return;
    if (c->state == MQLOAD_TCP) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_tcp_done(c);
        return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
    /* conn_flush() stops asking for EPOLLOUT once everything is written */
    if (c->fd >= 0 && (events & EPOLLOUT) && c->pollout) conn_flush(c);
}

/* ------------------------------------------------------------------------ */
/* The loop                                                                 */
/* ------------------------------------------------------------------------ */

static void start_connections(struct mqload_worker *w)
{
    while (w->n_retry > 0) /* already counted in w->connecting */
        conn_start(w->retry[--w->n_retry]);
    while (w->next_start < w->n_conns && w->connecting < w->concurrency) {
        w->connecting++;
        conn_start(w->conns[w->next_start++]);
    }
}

static void send_pings(struct mqload_worker *w)
{
    uint64_t half = (uint64_t)w->sh->o->keepalive * 500000000u;

    if (w->now < w->next_ping_scan) return;
    w->next_ping_scan = w->now + PING_SCAN_NS;
    for (size_t i = 0; i < w->n_conns; i++) {
        struct mqload_conn *c = w->conns[i];
        if (c->state == MQLOAD_READY && c->next_ping <= w->now) {
            mqload_client_ping(c);
            c->next_ping = w->now + half;
        }
    }
}

/* Disconnect cleanly: DISCONNECT, then close. */
static void stop_all(struct mqload_worker *w)
{
    for (size_t i = 0; i < w->n_conns; i++) {
        struct mqload_conn *c = w->conns[i];
        if (c->state == MQLOAD_READY) mqload_client_disconnect(c);
    }
    flush_dirty(w);
    for (size_t i = 0; i < w->n_conns; i++) {
        struct mqload_conn *c = w->conns[i];
        if (c->fd < 0) continue;
        if (c->state == MQLOAD_READY) {
            shutdown(c->fd, SHUT_WR);
            c->state = MQLOAD_CLOSED;
        }
        close(c->fd);
        c->fd = -1;
    }
}

static void publish_progress(struct mqload_worker *w)
{
    struct mqload_shared *sh = w->sh;
    uint64_t before = atomic_load_explicit(&w->unique_total, memory_order_relaxed);

    atomic_store_explicit(&w->pub_total, w->st.published, memory_order_relaxed);
    atomic_store_explicit(&w->inflight_total, w->inflight, memory_order_relaxed);
    atomic_store_explicit(&w->unique_total, w->st.unique, memory_order_seq_cst);
    /* the fanout publisher waits for deliveries counted here */
    if (before != w->st.unique && sh->o->scenario == MQLOAD_FANOUT && w->id != 0 &&
        atomic_load_explicit(&sh->workers[0].pub_waiting, memory_order_seq_cst))
        mqload_worker_kick(&sh->workers[0]);
}

void *mqload_worker_run(void *arg)
{
    struct mqload_worker *w = arg;
    struct mqload_shared *sh = w->sh;
    struct epoll_event evs[MAX_EVENTS];
    int phase, n, timeout;

    w->seen_phase = MQLOAD_PH_CONNECT;
    w->now = mqload_now();
    for (;;) {
        phase = atomic_load(&sh->phase);
        if (phase != w->seen_phase) {
            w->seen_phase = phase;
            if (phase == MQLOAD_PH_STOP) break;
            if (phase == MQLOAD_PH_RUN) mqload_client_start(w);
        }
        if (phase == MQLOAD_PH_CONNECT) start_connections(w);
        if (phase == MQLOAD_PH_RUN && w->fan_pub) mqload_client_fanout_pump(w);
        send_pings(w);
        flush_dirty(w);
        publish_progress(w);

        timeout = (int)(PING_SCAN_NS / 1000000u);
        if (w->n_retry > 0) timeout = 10;
        if (w->fan_pub && atomic_load(&w->pub_waiting)) timeout = 100;
        n = epoll_wait(w->ep, evs, MAX_EVENTS, timeout);
        w->now = mqload_now();
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) {
                uint64_t v;
                if (read(w->kick, &v, sizeof(v)) < 0) {
                    /* EAGAIN: already drained */
                }
                continue;
            }
            on_event(evs[i].data.ptr, evs[i].events);
        }
    }
    stop_all(w);
    publish_progress(w);
    return NULL;
}
