/*
 * The connections of osap-lbs-load: each slot runs one handshake per TCP
 * connection, then starts the next, until the measured window is over.
 */
#include "lbsload.h"

#include "osap/lbs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FRAME_MAX (OSAP_MESSAGE_MAX + OSAP_LBS_HEADER_MAX)

struct slot {
    struct lbsload *L;
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    uv_timer_t timer;
    osap_lbs_client_t *cl;
    char serial[64];
    uint8_t rx[FRAME_MAX];
    size_t rx_len;
    uint8_t tx[OSAP_LBS_OUT_MAX];
    uint64_t t0;
    int handles; /* open handles of this connection */
    bool ended;  /* outcome recorded */
};

static void slot_start(struct slot *s);

/* After the window: the loop ends once the last connection has. */
static void end_when_idle(struct lbsload *L)
{
    if (L->phase_no >= 2 && L->active == 0 && !uv_is_closing((uv_handle_t *)&L->phase))
        uv_close((uv_handle_t *)&L->phase, NULL);
}

/* ------------------------------------------------------------------------ */
/* Device ECDH: one shared key pair, master key cached per server key        */
/* ------------------------------------------------------------------------ */

static osap_err ecdh_public(void *ud, uint8_t pub[OSAP_P384_PUBKEY_LEN])
{
    struct lbsload *L = ud;
    memcpy(pub, L->pub, OSAP_P384_PUBKEY_LEN);
    return OSAP_OK;
}

static osap_err ecdh_master(void *ud, const uint8_t peer[OSAP_P384_PUBKEY_LEN],
                            uint8_t mk[OSAP_MASTER_KEY_LEN])
{
    struct lbsload *L = ud;
    uint8_t x[OSAP_P384_SECRET_LEN];
    size_t i, victim = 0;
    osap_err err;

    for (i = 0; i < LBSLOAD_CACHE; i++) {
        if (L->cache[i].used && memcmp(peer, L->cache[i].peer, OSAP_P384_PUBKEY_LEN) == 0) {
            L->cache[i].last_use = ++L->cache_clock;
            memcpy(mk, L->cache[i].mk, OSAP_MASTER_KEY_LEN);
            return OSAP_OK;
        }
        if (!L->cache[i].used || L->cache[i].last_use < L->cache[victim].last_use) victim = i;
    }
    err = osap_p384_derive(L->key, peer, x);
    if (!err) err = osap_master_key(x, mk);
    osap_cleanse(x, sizeof(x));
    if (err) return err;
    L->s.derives++;
    L->cache[victim].used = true;
    L->cache[victim].last_use = ++L->cache_clock;
    memcpy(L->cache[victim].peer, peer, OSAP_P384_PUBKEY_LEN);
    memcpy(L->cache[victim].mk, mk, OSAP_MASTER_KEY_LEN);
    return OSAP_OK;
}

/* ------------------------------------------------------------------------ */
/* One handshake                                                            */
/* ------------------------------------------------------------------------ */

static void on_closed(uv_handle_t *h)
{
    struct slot *s = h->data;

    if (--s->handles > 0) return;
    osap_lbs_client_free(s->cl);
    s->cl = NULL;
    s->L->active--;
    slot_start(s);
}

static void finish(struct slot *s)
{
    if (s->handles == 2) {
        uv_close((uv_handle_t *)&s->tcp, on_closed);
        uv_close((uv_handle_t *)&s->timer, on_closed);
    }
}

static void record(struct slot *s, const struct osap_lbs_step *step, int why)
{
    struct lbsload *L = s->L;
    uint64_t now = uv_hrtime();

    if (s->ended) return;
    s->ended = true;
    if (why == 0 && step && step->done) {
        L->s.ok_total++;
        if (L->phase_no == 1 && now <= L->t_end_ns) {
            L->s.ok++;
            if (L->s.n_lat == L->s.cap_lat) {
                size_t cap = L->s.cap_lat ? L->s.cap_lat * 2 : 65536;
                double *p = realloc(L->s.lat_ms, cap * sizeof(*p));
                if (!p) return;
                L->s.lat_ms = p;
                L->s.cap_lat = cap;
            }
            L->s.lat_ms[L->s.n_lat++] = (double)(now - s->t0) / 1e6;
        }
        return;
    }
    switch (why) {
    case 1: L->s.connect_failed++; break;
    case 2: L->s.closed++; break;
    case 3: L->s.timeouts++; break;
    case 4: L->s.protocol++; break;
    default: L->s.results[step && step->result < 31 ? step->result : 31]++; break;
    }
}

static void on_timeout(uv_timer_t *t)
{
    struct slot *s = t->data;
    record(s, NULL, 3);
    finish(s);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct slot *s = h->data;
    (void)suggested;
    buf->base = (char *)s->rx + s->rx_len;
    buf->len = sizeof(s->rx) - s->rx_len;
}

static void on_written(uv_write_t *req, int status)
{
    struct slot *s = req->data;
    if (status < 0 && !s->ended) {
        record(s, NULL, 2);
        finish(s);
    }
}

static int send_out(struct slot *s, const struct osap_lbs_step *step)
{
    uv_buf_t b;

    if (!step->out_len) return 0;
    memcpy(s->tx, step->out, step->out_len);
    b = uv_buf_init((char *)s->tx, (unsigned)step->out_len);
    s->wreq.data = s;
    return uv_write(&s->wreq, (uv_stream_t *)&s->tcp, &b, 1, on_written);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct slot *s = st->data;
    struct osap_lbs_step step;
    size_t flen;
    osap_err err;

    (void)buf;
    if (s->ended || n == 0) return;
    if (n < 0) {
        record(s, NULL, 2);
        finish(s);
        return;
    }
    s->rx_len += (size_t)n;
    while (s->rx_len &&
           (err = osap_lbs_frame_length(s->rx, s->rx_len, FRAME_MAX, &flen)) != OSAP_ENEED_MORE) {
        if (err || osap_lbs_client_feed(s->cl, s->rx, flen, &step) != OSAP_OK) {
            record(s, NULL, 4);
            finish(s);
            return;
        }
        memmove(s->rx, s->rx + flen, s->rx_len - flen);
        s->rx_len -= flen;
        if (step.close) {
            record(s, &step, step.done ? 0 : 5);
            finish(s);
            return;
        }
        if (send_out(s, &step) != 0) {
            record(s, NULL, 2);
            finish(s);
            return;
        }
    }
}

static void on_connected(uv_connect_t *req, int status)
{
    struct slot *s = req->data;
    struct osap_lbs_step step;

    if (status < 0) {
        record(s, NULL, 1);
        finish(s);
        return;
    }
    if (osap_lbs_client_begin(s->cl, &step) != OSAP_OK || send_out(s, &step) != 0 ||
        uv_read_start((uv_stream_t *)&s->tcp, alloc_cb, on_read) != 0) {
        record(s, NULL, 4);
        finish(s);
    }
}

/* A socket bound to the next source address (port chosen at connect time). */
static int bound_socket(struct lbsload *L)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

    if (fd < 0) return -1;
    setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof(one));
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(L->o.src_first + L->next_src++ % L->o.src_addrs);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void slot_start(struct slot *s)
{
    struct lbsload *L = s->L;
    struct osap_lbs_client_config cfg;
    struct sockaddr_in sa;
    int fd;

    if (L->phase_no >= 2) {
        end_when_idle(L);
        return;
    }
    memset(&cfg, 0, sizeof(cfg));
    snprintf(s->serial, sizeof(s->serial), "%s%06llu", L->o.prefix,
             (unsigned long long)(L->next_device++ % L->o.devices));
    cfg.auth_mode = OSAP_LBS_AUTH_MODE_SAP;
    cfg.subserial = s->serial;
    cfg.vcode = L->o.code;
    cfg.ecdh = &L->ecdh;
    if (osap_lbs_client_new(&cfg, &s->cl) != OSAP_OK) {
        fprintf(stderr, "osap-lbs-load: cannot create a client for %s\n", s->serial);
        exit(2);
    }
    s->rx_len = 0;
    s->ended = false;
    s->t0 = uv_hrtime();
    L->active++;
    L->s.started++;
    uv_tcp_init(&L->loop, &s->tcp);
    uv_timer_init(&L->loop, &s->timer);
    s->tcp.data = s->timer.data = s->creq.data = s;
    s->handles = 2;
    uv_timer_start(&s->timer, on_timeout, L->o.timeout_ms, 0);
    fd = bound_socket(L);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)L->o.port);
    inet_pton(AF_INET, L->o.host, &sa.sin_addr);
    if (fd >= 0 && uv_tcp_open(&s->tcp, fd) != 0) {
        close(fd);
        fd = -1;
    }
    if (fd < 0 ||
        uv_tcp_connect(&s->creq, &s->tcp, (const struct sockaddr *)&sa, on_connected) != 0) {
        record(s, NULL, 1);
        finish(s);
    }
}

/* ------------------------------------------------------------------------ */
/* Phases                                                                   */
/* ------------------------------------------------------------------------ */

static void on_phase(uv_timer_t *t)
{
    struct lbsload *L = t->data;

    if (L->phase_no == 0) {
        L->phase_no = 1;
        L->t_window_ns = uv_hrtime();
        L->t_end_ns = L->t_window_ns + (uint64_t)(L->o.duration_s * 1e9);
        L->cpu_at_window = lbsload_cpu_seconds();
        uv_timer_start(t, on_phase, (uint64_t)(L->o.duration_s * 1000), 0);
        return;
    }
    L->s.gen_cpu_s = lbsload_cpu_seconds() - L->cpu_at_window;
    L->phase_no = 2; /* no new handshakes; the loop ends when the last one does */
    end_when_idle(L);
}

int lbsload_run(struct lbsload *L)
{
    struct slot *slots;
    osap_err err;

    if (uv_loop_init(&L->loop) != 0) return 2;
    err = osap_p384_generate(NULL, &L->key);
    if (!err) err = osap_p384_public(L->key, L->pub);
    if (err) {
        fprintf(stderr, "osap-lbs-load: key pair: %s\n", osap_strerror(err));
        return 2;
    }
    L->ecdh.public_key = ecdh_public;
    L->ecdh.master_key = ecdh_master;
    L->ecdh.userdata = L;
    slots = calloc(L->o.concurrency, sizeof(*slots));
    if (!slots) return 2;
    uv_timer_init(&L->loop, &L->phase);
    L->phase.data = L;
    uv_timer_start(&L->phase, on_phase, (uint64_t)(L->o.warmup_s * 1000), 0);
    for (unsigned i = 0; i < L->o.concurrency; i++) {
        slots[i].L = L;
        slot_start(&slots[i]);
    }
    uv_run(&L->loop, UV_RUN_DEFAULT);
    uv_loop_close(&L->loop);
    osap_p384_free(L->key);
    free(slots);
    return 0;
}
