/*
 * The fleet: N devices of libosap-device driven by T worker threads. Each
 * thread owns a share of the devices, an epoll set for their sockets and a heap
 * of their wake-up times; a device is serviced (application timers, then
 * osap_device_step()) when its socket is ready or its time has come. Devices
 * start at a configurable rate (or all at once with --storm), bind to source
 * addresses 127.0.0.x round-robin, and keep KV and queue under --state-dir.
 */
#include "sim.h"

#include "osap/alloc.h"
#include "osap/device_port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define LATER_MAX     8
#define EPOLL_BATCH   256
#define POLL_MAX_MS   100
#define SNAPSHOT_MS   250
#define STOP_GRACE_MS 4000
#define NO_HEAP       UINT32_MAX

struct sim_fleet;
struct sim_thread;

struct sim_later {
    uint32_t id;
    uint64_t due;
    int code;
};

struct sim_dev {
    struct sim_fleet *fl;
    struct sim_thread *th;
    uint32_t index;
    struct sim_identity id;
    struct osap_device_port port;
    int port_ok;
    osap_device_t *dev;
    uint32_t heap_pos;
    uint64_t t_start, t_report, t_event;
    int started;
    int online;
    uint64_t rng;
    uint32_t event_seq;
    struct sim_later later[LATER_MAX];
    int nlater;
};

struct sim_counts {
    uint64_t started, online, stopped, events_raised, events_sent, events_acked, reports_sent,
        requests, failures, lbs_attempts, losses;
};

struct sim_thread {
    struct sim_fleet *fl;
    pthread_t tid;
    int epfd;
    struct sim_heap heap;
    struct sim_dev **devs;
    size_t n;
    pthread_mutex_t mu;
    struct sim_counts snap;
};

struct sim_fleet {
    const struct sim_options *opt;
    uint64_t t0;
    atomic_int quit;
    atomic_long online_now;
    atomic_ullong t_all_online; /* 0: not yet */
    struct sim_thread *threads;
    unsigned nthreads;
    struct sim_dev *devs;
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    (void)sig;
    got_signal = 1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static double uniform(struct sim_dev *d)
{
    return (double)(sim_mix64(&d->rng) >> 11) / 9007199254740992.0;
}

/* ------------------------------------------------------------------------ */
/* The application of one device                                            */
/* ------------------------------------------------------------------------ */

static void on_state(void *ud, enum osap_device_state st, osap_err why)
{
    struct sim_dev *d = ud;
    struct sim_fleet *fl = d->fl;
    (void)why;

    if (st == OSAP_DEVICE_ONLINE && !d->online) {
        long n = atomic_fetch_add(&fl->online_now, 1) + 1;
        d->online = 1;
        if ((uint32_t)n == fl->opt->count) {
            unsigned long long zero = 0;
            atomic_compare_exchange_strong(&fl->t_all_online, &zero, (unsigned long long)now_ms());
        }
    } else if (st != OSAP_DEVICE_ONLINE && d->online) {
        atomic_fetch_sub(&fl->online_now, 1);
        d->online = 0;
    }
}

static int on_request(void *ud, const struct osap_device_request *req, char *out, size_t cap,
                      size_t *out_len)
{
    struct sim_dev *d = ud;
    const struct sim_options *o = d->fl->opt;
    int code = uniform(d) < o->error_rate ? 1 : 0;

    if (req->kind == OSAP_DEVICE_REQ_DESIRED) return 0;
    if (o->reply_latency_ms && d->nlater < LATER_MAX) {
        struct sim_later *l = &d->later[d->nlater++];
        l->id = req->id;
        l->due = now_ms() + o->reply_latency_ms;
        l->code = code;
        return OSAP_DEVICE_REPLY_LATER;
    }
    if (req->kind == OSAP_DEVICE_REQ_OPERATE && cap > 16)
        *out_len = (size_t)snprintf(out, cap, "{\"ok\":%s}", code ? "false" : "true");
    return code;
}

static void attr_value(struct sim_dev *d, const struct sim_attr_def *a, char *buf, size_t cap)
{
    if (a->lo > a->hi)
        snprintf(buf, cap, "%s", uniform(d) < 0.5 ? "false" : "true");
    else
        snprintf(buf, cap, "%d", a->lo + (int)(uniform(d) * (a->hi - a->lo + 1)));
}

static void report_one(struct sim_dev *d, const struct sim_attr_def *a)
{
    struct osap_device_key k = {a->resource, a->domain, a->identifier};
    char v[32];
    attr_value(d, a, v, sizeof(v));
    osap_device_attr_report(d->dev, &k, v);
}

static void raise_one(struct sim_dev *d)
{
    const struct sim_profile *p = d->fl->opt->profile;
    const struct sim_key_def *e = &p->events[sim_mix64(&d->rng) % p->nevents];
    struct osap_device_key k = {e->resource, e->domain, e->identifier};
    char body[96];

    snprintf(body, sizeof(body), "{\"level\":%d,\"seq\":%" PRIu32 "}", 1 + (int)(uniform(d) * 3),
             ++d->event_seq);
    osap_device_event_raise(d->dev, &k, body, NULL);
}

static uint64_t next_event(struct sim_dev *d, uint64_t now)
{
    double rate = d->fl->opt->event_per_min;
    if (rate <= 0) return UINT64_MAX;
    return now + (uint64_t)(-log(1.0 - uniform(d)) * 60000.0 / rate) + 1;
}

static uint64_t next_report(struct sim_dev *d, uint64_t now)
{
    double iv = d->fl->opt->report_interval_s;
    if (iv <= 0) return UINT64_MAX;
    return now + (uint64_t)(iv * 1000.0 * (0.5 + uniform(d))) + 1;
}

/* ------------------------------------------------------------------------ */
/* Servicing                                                                */
/* ------------------------------------------------------------------------ */

static void dev_start(struct sim_dev *d, uint64_t now)
{
    const struct sim_profile *p = d->fl->opt->profile;

    for (size_t i = 0; i < p->nops; i++) {
        struct osap_device_key k = {p->ops[i].resource, p->ops[i].domain, p->ops[i].identifier};
        osap_device_on_operation(d->dev, &k, on_request, d);
    }
    for (size_t i = 0; i < p->nattrs; i++)
        report_one(d, &p->attrs[i]); /* the full report at the first online */
    if (osap_device_start(d->dev) != OSAP_OK) return;
    d->started = 1;
    d->t_report = next_report(d, now);
    d->t_event = next_event(d, now);
}

static void service(struct sim_thread *th, struct sim_dev *d, int stopping)
{
    uint64_t now = now_ms(), next = OSAP_DEVICE_NEVER, wake;
    unsigned events = 0;
    int fd;

    if (!d->dev) return;
    if (!d->started) {
        if (stopping) return;
        if (now < d->t_start) {
            sim_heap_set(&th->heap, &d->heap_pos, d, d->t_start);
            return;
        }
        dev_start(d, now);
        if (!d->started) return;
    }
    if (!stopping) {
        const struct sim_profile *p = d->fl->opt->profile;
        for (int i = 0; i < d->nlater;) {
            if (d->later[i].due <= now) {
                osap_device_reply(d->dev, d->later[i].id, d->later[i].code,
                                  d->later[i].code ? NULL : "{\"ok\":true}");
                d->later[i] = d->later[--d->nlater];
            } else {
                i++;
            }
        }
        if (now >= d->t_report) {
            report_one(d, &p->attrs[sim_mix64(&d->rng) % p->nattrs]);
            d->t_report = next_report(d, now);
        }
        if (now >= d->t_event) {
            raise_one(d);
            d->t_event = next_event(d, now);
        }
    }
    osap_device_step(d->dev, &next);
    fd = osap_device_fd(d->dev, &events);
    if (fd >= 0) {
        struct epoll_event ev;
        ev.events = (events & OSAP_DEVICE_POLLIN ? EPOLLIN : 0) |
                    (events & OSAP_DEVICE_POLLOUT ? EPOLLOUT : 0);
        ev.data.ptr = d;
        /* a closed socket left the set by itself; its number may be new */
        if (epoll_ctl(th->epfd, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT)
            epoll_ctl(th->epfd, EPOLL_CTL_ADD, fd, &ev);
    }
    wake = next;
    if (!stopping) {
        if (d->t_report < wake) wake = d->t_report;
        if (d->t_event < wake) wake = d->t_event;
        for (int i = 0; i < d->nlater; i++)
            if (d->later[i].due < wake) wake = d->later[i].due;
    }
    if (wake != OSAP_DEVICE_NEVER && wake != UINT64_MAX)
        sim_heap_set(&th->heap, &d->heap_pos, d, wake);
}

static void snapshot(struct sim_thread *th)
{
    struct sim_counts c;
    memset(&c, 0, sizeof(c));
    for (size_t i = 0; i < th->n; i++) {
        struct osap_device_stats s;
        if (!th->devs[i]->dev || !th->devs[i]->started) continue;
        osap_device_stats(th->devs[i]->dev, &s);
        c.started++;
        c.online += s.state == OSAP_DEVICE_ONLINE;
        c.stopped += s.state == OSAP_DEVICE_STOPPED || s.state == OSAP_DEVICE_BLOCKED;
        c.events_raised += s.events_raised;
        c.events_sent += s.events_sent;
        c.events_acked += s.events_acked;
        c.reports_sent += s.reports_sent;
        c.requests += s.requests;
        c.failures += s.lbs_failures + s.das_failures + s.connection_losses;
        c.lbs_attempts += s.lbs_attempts;
        c.losses += s.connection_losses;
    }
    pthread_mutex_lock(&th->mu);
    th->snap = c;
    pthread_mutex_unlock(&th->mu);
}

static void *worker(void *arg)
{
    struct sim_thread *th = arg;
    struct sim_fleet *fl = th->fl;
    struct epoll_event evs[EPOLL_BATCH];
    uint64_t t_snap = 0, stop_deadline = 0;
    int stopping = 0;

    for (size_t i = 0; i < th->n; i++)
        sim_heap_set(&th->heap, &th->devs[i]->heap_pos, th->devs[i], th->devs[i]->t_start);
    for (;;) {
        uint64_t now = now_ms();
        const struct sim_heap_item *top;
        int timeout, n;

        if (!stopping && atomic_load(&fl->quit)) {
            stopping = 1;
            stop_deadline = now + STOP_GRACE_MS;
            for (size_t i = 0; i < th->n; i++) {
                struct sim_dev *d = th->devs[i];
                if (d->dev && d->started) osap_device_stop(d->dev);
                service(th, d, 1);
            }
        }
        if (stopping) {
            size_t busy = 0;
            for (size_t i = 0; i < th->n; i++) {
                struct sim_dev *d = th->devs[i];
                if (d->dev && d->started && osap_device_state(d->dev) != OSAP_DEVICE_STOPPED &&
                    osap_device_state(d->dev) != OSAP_DEVICE_BLOCKED)
                    busy++;
            }
            if (!busy || now >= stop_deadline) break;
        }
        while ((top = sim_heap_top(&th->heap)) && top->when <= now) {
            struct sim_dev *d = top->ptr;
            sim_heap_pop(&th->heap);
            service(th, d, stopping);
        }
        top = sim_heap_top(&th->heap);
        timeout = POLL_MAX_MS;
        if (top && top->when - now < (uint64_t)timeout) timeout = (int)(top->when - now);
        n = epoll_wait(th->epfd, evs, EPOLL_BATCH, timeout);
        for (int i = 0; i < n; i++)
            service(th, evs[i].data.ptr, stopping);
        now = now_ms();
        if (now >= t_snap) {
            snapshot(th);
            t_snap = now + SNAPSHOT_MS;
        }
    }
    snapshot(th);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Set-up and report                                                        */
/* ------------------------------------------------------------------------ */

static int check_fd_limit(const struct sim_options *o, unsigned nthreads)
{
    struct rlimit rl;
    uint64_t need = (uint64_t)o->count * (o->state_dir ? 2u : 1u) + nthreads + 64u;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (need > rl.rlim_cur) {
        fprintf(stderr,
                "osap-sim: %" PRIu32 " devices need about %" PRIu64
                " open files (one socket each%s), but this process may open %llu; run fewer "
                "devices per process\n",
                o->count, need, o->state_dir ? " and one queue file" : "",
                (unsigned long long)rl.rlim_cur);
        return -1;
    }
    return 0;
}

static int source_addr(const struct sim_options *o, uint32_t index, char *out, size_t cap)
{
    struct in_addr a;
    uint32_t h;

    if (!o->source_base) return 0;
    if (inet_pton(AF_INET, o->source_base, &a) != 1) return -1;
    h = ntohl(a.s_addr) + index % (o->source_count ? o->source_count : 1);
    a.s_addr = htonl(h);
    return inet_ntop(AF_INET, &a, out, (socklen_t)cap) ? 1 : -1;
}

static int dev_setup(struct sim_fleet *fl, struct sim_dev *d, uint32_t index)
{
    const struct sim_options *o = fl->opt;
    struct osap_device_posix_config pc = {NULL, NULL};
    struct osap_device_config cfg;
    char bind[INET_ADDRSTRLEN], dir[PATH_MAX];
    int has_bind;

    d->fl = fl;
    d->index = index;
    d->heap_pos = NO_HEAP;
    d->rng = o->seed * 0x2545F4914F6CDD1Dull + index;
    sim_identity_make(o->seed, index, o->prefix, o->licence, o->profile->model, &d->id);
    has_bind = source_addr(o, index, bind, sizeof(bind));
    if (has_bind < 0) return -1;
    if (has_bind) pc.bind_addr = bind;
    if (o->state_dir) {
        char safe[SIM_SERIAL_MAX];
        snprintf(safe, sizeof(safe), "%s", d->id.serial);
        for (char *p = safe; *p; p++)
            if (*p == ':') *p = '_';
        snprintf(dir, sizeof(dir), "%s/%s", o->state_dir, safe);
        pc.state_dir = dir;
    }
    if (osap_device_port_posix_new(&pc, &d->port) != OSAP_OK) return -1;
    d->port_ok = 1;
    memset(&cfg, 0, sizeof(cfg));
    cfg.lbs_host = o->lbs_host;
    cfg.lbs_port = o->lbs_port;
    cfg.auth_mode = o->licence ? OSAP_LBS_AUTH_MODE_LICENCE : OSAP_LBS_AUTH_MODE_SAP;
    cfg.subserial = d->id.serial;
    cfg.vcode = d->id.code;
    cfg.dev_type = d->id.model;
    cfg.dev_type_display = o->profile->model;
    cfg.firmware_version = "V1.0.0 build osap-sim";
    cfg.keepalive_s = o->keepalive_s;
    cfg.message_max = o->message_max;
    cfg.queue.fsync = o->fsync;
    cfg.port = &d->port;
    cfg.cb.state_changed = on_state;
    cfg.cb.request = on_request;
    cfg.userdata = d;
    if (osap_device_new(&cfg, &d->dev) != OSAP_OK) return -1;
    if (o->storm)
        d->t_start = fl->t0;
    else
        d->t_start = fl->t0 + (uint64_t)((double)index * 1000.0 / o->ramp_per_s);
    return 0;
}

static void counts_sum(struct sim_fleet *fl, struct sim_counts *c)
{
    memset(c, 0, sizeof(*c));
    for (unsigned t = 0; t < fl->nthreads; t++) {
        struct sim_thread *th = &fl->threads[t];
        pthread_mutex_lock(&th->mu);
        c->started += th->snap.started;
        c->online += th->snap.online;
        c->stopped += th->snap.stopped;
        c->events_raised += th->snap.events_raised;
        c->events_sent += th->snap.events_sent;
        c->events_acked += th->snap.events_acked;
        c->reports_sent += th->snap.reports_sent;
        c->requests += th->snap.requests;
        c->failures += th->snap.failures;
        c->lbs_attempts += th->snap.lbs_attempts;
        c->losses += th->snap.losses;
        pthread_mutex_unlock(&th->mu);
    }
}

static void status_line(struct sim_fleet *fl, uint64_t now)
{
    struct sim_counts c;
    counts_sum(fl, &c);
    printf("\r\033[K%6.1fs  devices %" PRIu64 "/%" PRIu32 "  connecting %" PRIu64
           "  online %" PRIu64 "  events sent %" PRIu64 " acked %" PRIu64 "  failures %" PRIu64,
           (double)(now - fl->t0) / 1000.0, c.started, fl->opt->count,
           c.started - c.online - c.stopped, c.online, c.events_sent, c.events_acked, c.failures);
    fflush(stdout);
}

int sim_fleet_run(const struct sim_options *o)
{
    struct sim_fleet fl;
    struct sim_counts total;
    struct sigaction sa;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned long long t_all;
    uint64_t t_end, t_status = 0, online_at_end = 0;
    int rc = 1;

    memset(&fl, 0, sizeof(fl));
    fl.opt = o;
    fl.nthreads = o->threads ? o->threads : (unsigned)(ncpu > 0 ? ncpu : 1);
    if (fl.nthreads > o->count) fl.nthreads = o->count ? o->count : 1;
    if (check_fd_limit(o, fl.nthreads)) return 1;
    atomic_init(&fl.quit, 0);
    atomic_init(&fl.online_now, 0);
    atomic_init(&fl.t_all_online, 0);
    fl.devs = calloc(o->count ? o->count : 1, sizeof(*fl.devs));
    fl.threads = calloc(fl.nthreads, sizeof(*fl.threads));
    if (!fl.devs || !fl.threads) goto out;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    fl.t0 = now_ms() + 50;
    for (uint32_t i = 0; i < o->count; i++) {
        if (dev_setup(&fl, &fl.devs[i], i)) {
            fprintf(stderr, "osap-sim: cannot set up device %" PRIu32 " (%s)\n", i,
                    fl.devs[i].id.serial);
            goto out;
        }
    }
    for (unsigned t = 0; t < fl.nthreads; t++) {
        struct sim_thread *th = &fl.threads[t];
        th->fl = &fl;
        th->epfd = epoll_create1(EPOLL_CLOEXEC);
        pthread_mutex_init(&th->mu, NULL);
        th->devs = calloc(o->count / fl.nthreads + 1, sizeof(*th->devs));
        if (th->epfd < 0 || !th->devs || sim_heap_init(&th->heap, o->count / fl.nthreads + 1))
            goto out;
    }
    for (uint32_t i = 0; i < o->count; i++) {
        struct sim_thread *th = &fl.threads[i % fl.nthreads];
        fl.devs[i].th = th;
        th->devs[th->n++] = &fl.devs[i];
    }
    fl.t0 = now_ms();
    for (uint32_t i = 0; i < o->count; i++)
        fl.devs[i].t_start =
            o->storm ? fl.t0 : fl.t0 + (uint64_t)((double)i * 1000.0 / o->ramp_per_s);
    for (unsigned t = 0; t < fl.nthreads; t++)
        if (pthread_create(&fl.threads[t].tid, NULL, worker, &fl.threads[t]) != 0) {
            fl.nthreads = t;
            atomic_store(&fl.quit, 1);
            goto join;
        }

    t_end = o->duration_s > 0 ? fl.t0 + (uint64_t)(o->duration_s * 1000.0) : UINT64_MAX;
    while (!got_signal) {
        uint64_t now = now_ms();
        struct timespec ts = {0, 50 * 1000000L};
        if (now >= t_end) break;
        if (o->status_tty && !o->quiet && now >= t_status) {
            status_line(&fl, now);
            t_status = now + 1000;
        }
        nanosleep(&ts, NULL);
    }
    online_at_end = (uint64_t)atomic_load(&fl.online_now);
    atomic_store(&fl.quit, 1);
join:
    for (unsigned t = 0; t < fl.nthreads; t++)
        pthread_join(fl.threads[t].tid, NULL);
    if (o->status_tty && !o->quiet) {
        status_line(&fl, now_ms());
        printf("\n");
    }
    counts_sum(&fl, &total);
    t_all = atomic_load(&fl.t_all_online);
    printf("{\"devices\":%" PRIu32 ",\"started\":%" PRIu64 ",\"online\":%" PRIu64
           ",\"events_raised\":%" PRIu64 ",\"events_sent\":%" PRIu64 ",\"events_acked\":%" PRIu64
           ",\"reports_sent\":%" PRIu64 ",\"requests\":%" PRIu64 ",\"failures\":%" PRIu64
           ",\"lbs_attempts\":%" PRIu64 ",\"connection_losses\":%" PRIu64
           ",\"time_to_all_online_s\":",
           o->count, total.started, online_at_end, total.events_raised, total.events_sent,
           total.events_acked, total.reports_sent, total.requests, total.failures,
           total.lbs_attempts, total.losses);
    if (t_all)
        printf("%.3f", (double)(t_all - fl.t0) / 1000.0);
    else
        printf("null");
    printf(",\"threads\":%u,\"sources\":%u,\"storm\":%s,\"duration_s\":%.3f}\n", fl.nthreads,
           o->source_base ? (o->source_count ? o->source_count : 1) : 0,
           o->storm ? "true" : "false", (double)(now_ms() - fl.t0) / 1000.0);
    fflush(stdout);
    rc = 0;
out:
    if (fl.threads) {
        for (unsigned t = 0; t < fl.nthreads; t++) {
            if (fl.threads[t].epfd > 0) close(fl.threads[t].epfd);
            free(fl.threads[t].devs);
            sim_heap_free(&fl.threads[t].heap);
        }
    }
    if (fl.devs) {
        for (uint32_t i = 0; i < o->count; i++) {
            osap_device_free(fl.devs[i].dev);
            if (fl.devs[i].port_ok) osap_device_port_posix_free(&fl.devs[i].port);
        }
    }
    free(fl.devs);
    free(fl.threads);
    return rc;
}
