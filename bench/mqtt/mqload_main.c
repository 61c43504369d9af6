/*
 * osap-mqtt-load: drives an MQTT 3.1.1 server at HOST:PORT and prints one JSON
 * line with the result. See usage() and docs/BENCHMARKS.md.
 *
 * The main thread sets the run up, starts the workers, moves them through the
 * phases (connect, run, drain, stop), takes the CPU and memory readings at the
 * edges of the measured window, and reports.
 */
#include "mqload.h"

#include "osap/alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXIT_RUN_FAILED 1
#define EXIT_USAGE      2

static void usage(FILE *out)
{
    fprintf(out,
            "usage: osap-mqtt-load -s p2p|fanout|idle [-H HOST] [-p PORT] [options]\n"
            "\n"
            "Drives an MQTT 3.1.1 server and prints one JSON line with the result.\n"
            "\n"
            "Scenarios:\n"
            "  p2p     QoS 1: P publishers -> P subscribers, publisher i -> topic i ->\n"
            "          subscriber i, each publisher with W messages awaiting PUBACK;\n"
            "          delivered messages/s, publish-to-delivery latency, losses, duplicates\n"
            "  fanout  QoS 0: one publisher -> S subscribers of one topic, at most W messages\n"
            "          in flight (not yet delivered to every subscriber); deliveries/s, latency\n"
            "  idle    C connections that only send PINGREQ every keepalive/2; with\n"
            "          --server-pid, the server's memory per connection\n"
            "\n"
            "Options:\n"
            "  -s, --scenario NAME        p2p, fanout or idle (required)\n"
            "  -H, --host HOST            server address (default 127.0.0.1)\n"
            "  -p, --port PORT            server port (default 1883)\n"
            "  -t, --threads N            worker threads, at most one per core (default 1)\n"
            "  -P, --pairs N              p2p publisher/subscriber pairs (default 100)\n"
            "  -S, --subscribers N        fanout subscribers (default 1000)\n"
            "  -C, --connections N        idle connections (default 15000)\n"
            "  -w, --window N             messages in flight per publisher (default: p2p 8,\n"
            "                             fanout 4)\n"
            "      --payload BYTES        message size, %d..%d (default 64)\n"
            "      --warmup SECONDS       publishing before the measured window (default 3)\n"
            "  -d, --duration SECONDS     measured window; idle: how long to hold (default 10)\n"
            "      --drain SECONDS        wait for the last deliveries at most (default 5)\n"
            "      --settle SECONDS       idle: wait after the last CONNACK before reading\n"
            "                             the server's memory (default 2)\n"
            "      --keepalive SECONDS    CONNECT keepalive (default 60)\n"
            "      --connect-timeout S    time allowed to set up every connection (default 120)\n"
            "      --connect-concurrency N  connections being set up at once (default 64)\n"
            "      --src-addrs N          spread connections over N source addresses from\n"
            "                             --src-first (default 32 for a loopback server, else 0:\n"
            "                             the kernel picks)\n"
            "      --src-first ADDR       first source address (default 127.0.0.2)\n"
            "      --server-pid PID       read the server's CPU time and VmRSS from /proc\n"
            "      --label TEXT           copied into the result (e.g. the server's name)\n"
            "      --topic-prefix TEXT    topics are PREFIX/RUN/... (default mqload)\n"
            "  -h, --help\n"
            "\n"
            "Exit status: 0 the run completed (losses are reported, not failures), 1 the run\n"
            "failed (connections could not be set up, ...), 2 bad usage or limits.\n",
            MQLOAD_PAYLOAD_MIN, MQLOAD_PAYLOAD_MAX);
}

enum {
    OPT_PAYLOAD = 256,
    OPT_WARMUP,
    OPT_DRAIN,
    OPT_SETTLE,
    OPT_KEEPALIVE,
    OPT_CONNECT_TIMEOUT,
    OPT_CONNECT_CONCURRENCY,
    OPT_SRC_ADDRS,
    OPT_SRC_FIRST,
    OPT_SERVER_PID,
    OPT_LABEL,
    OPT_TOPIC_PREFIX,
};

static bool parse_uint(const char *name, const char *s, unsigned long min, unsigned long max,
                       unsigned *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
        fprintf(stderr, "osap-mqtt-load: --%s: expected an integer in %lu..%lu, got '%s'\n", name,
                min, max, s);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

static bool parse_seconds(const char *name, const char *s, double min, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= min) || v > 86400) {
        fprintf(stderr, "osap-mqtt-load: --%s: expected seconds (>= %g), got '%s'\n", name, min, s);
        return false;
    }
    *out = v;
    return true;
}

static bool resolve(const char *host, uint16_t port, struct sockaddr_in *out)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    out->sin_family = AF_INET;
    out->sin_port = htons(port);
    if (inet_pton(AF_INET, host, &out->sin_addr) == 1) return true;
    rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || !res) {
        fprintf(stderr, "osap-mqtt-load: cannot resolve %s: %s\n", host, gai_strerror(rc));
        return false;
    }
    out->sin_addr = ((const struct sockaddr_in *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    return true;
}

/* Parse the command line into @p o; false on bad usage (message printed). */
static bool parse_args(int argc, char **argv, struct mqload_opts *o, bool *help)
{
    static const struct option longopts[] = {
        {"scenario", required_argument, NULL, 's'},
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"threads", required_argument, NULL, 't'},
        {"pairs", required_argument, NULL, 'P'},
        {"subscribers", required_argument, NULL, 'S'},
        {"connections", required_argument, NULL, 'C'},
        {"window", required_argument, NULL, 'w'},
        {"duration", required_argument, NULL, 'd'},
        {"payload", required_argument, NULL, OPT_PAYLOAD},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"drain", required_argument, NULL, OPT_DRAIN},
        {"settle", required_argument, NULL, OPT_SETTLE},
        {"keepalive", required_argument, NULL, OPT_KEEPALIVE},
        {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
        {"connect-concurrency", required_argument, NULL, OPT_CONNECT_CONCURRENCY},
        {"src-addrs", required_argument, NULL, OPT_SRC_ADDRS},
        {"src-first", required_argument, NULL, OPT_SRC_FIRST},
        {"server-pid", required_argument, NULL, OPT_SERVER_PID},
        {"label", required_argument, NULL, OPT_LABEL},
        {"topic-prefix", required_argument, NULL, OPT_TOPIC_PREFIX},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    unsigned port = 1883, pid = 0, src_addrs = UINT_MAX;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    bool have_scenario = false;
    int ch;

    if (ncpu < 1) ncpu = 1;
    *help = false;
    o->host = "127.0.0.1";
    o->label = "";
    o->threads = 1;
    o->pairs = 100;
    o->subscribers = 1000;
    o->connections = 15000;
    o->window = 0; /* set per scenario below */
    o->payload = 64;
    o->keepalive = 60;
    o->warmup = 3;
    o->duration = 10;
    o->drain = 5;
    o->settle = 2;
    o->connect_timeout = 120;
    o->connect_concurrency = 64;
    o->topic_prefix = "mqload";
    inet_pton(AF_INET, "127.0.0.2", &o->src_first);

    while ((ch = getopt_long(argc, argv, "s:H:p:t:P:S:C:w:d:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 's':
            have_scenario = true;
            if (strcmp(optarg, "p2p") == 0) {
                o->scenario = MQLOAD_P2P;
            } else if (strcmp(optarg, "fanout") == 0) {
                o->scenario = MQLOAD_FANOUT;
            } else if (strcmp(optarg, "idle") == 0) {
                o->scenario = MQLOAD_IDLE;
            } else {
                fprintf(stderr, "osap-mqtt-load: unknown scenario '%s' (p2p, fanout, idle)\n",
                        optarg);
                return false;
            }
            break;
        case 'H': o->host = optarg; break;
        case 'p':
            if (!parse_uint("port", optarg, 1, 65535, &port)) return false;
            break;
        case 't':
            if (!parse_uint("threads", optarg, 1, (unsigned long)ncpu, &o->threads)) {
                fprintf(stderr, "osap-mqtt-load: at most one thread per core (%ld here)\n", ncpu);
                return false;
            }
            break;
        case 'P':
            if (!parse_uint("pairs", optarg, 1, 1000000, &o->pairs)) return false;
            break;
        case 'S':
            if (!parse_uint("subscribers", optarg, 1, 1000000, &o->subscribers)) return false;
            break;
        case 'C':
            if (!parse_uint("connections", optarg, 1, 1000000, &o->connections)) return false;
            break;
        case 'w':
            if (!parse_uint("window", optarg, 1, 65534, &o->window)) return false;
            break;
        case 'd':
            if (!parse_seconds("duration", optarg, 0.1, &o->duration)) return false;
            break;
        case OPT_PAYLOAD:
            if (!parse_uint("payload", optarg, MQLOAD_PAYLOAD_MIN, MQLOAD_PAYLOAD_MAX, &o->payload))
                return false;
            break;
        case OPT_WARMUP:
            if (!parse_seconds("warmup", optarg, 0, &o->warmup)) return false;
            break;
        case OPT_DRAIN:
            if (!parse_seconds("drain", optarg, 0, &o->drain)) return false;
            break;
        case OPT_SETTLE:
            if (!parse_seconds("settle", optarg, 0, &o->settle)) return false;
            break;
        case OPT_KEEPALIVE:
            if (!parse_uint("keepalive", optarg, 2, 65535, &o->keepalive)) return false;
            break;
        case OPT_CONNECT_TIMEOUT:
            if (!parse_seconds("connect-timeout", optarg, 1, &o->connect_timeout)) return false;
            break;
        case OPT_CONNECT_CONCURRENCY:
            if (!parse_uint("connect-concurrency", optarg, 1, 100000, &o->connect_concurrency))
                return false;
            break;
        case OPT_SRC_ADDRS:
            if (!parse_uint("src-addrs", optarg, 0, 65536, &src_addrs)) return false;
            break;
        case OPT_SRC_FIRST:
            if (inet_pton(AF_INET, optarg, &o->src_first) != 1) {
                fprintf(stderr, "osap-mqtt-load: --src-first: not an IPv4 address: %s\n", optarg);
                return false;
            }
            break;
        case OPT_SERVER_PID:
            if (!parse_uint("server-pid", optarg, 1, INT_MAX, &pid)) return false;
            break;
        case OPT_LABEL: o->label = optarg; break;
        case OPT_TOPIC_PREFIX:
            if (osap_mqtt_topic_validate(optarg, strlen(optarg)) != OSAP_OK ||
                strlen(optarg) > 64) {
                fprintf(stderr, "osap-mqtt-load: --topic-prefix: not a usable topic: %s\n", optarg);
                return false;
            }
            o->topic_prefix = optarg;
            break;
        case 'h': *help = true; return true;
        default: return false;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "osap-mqtt-load: unexpected argument '%s'\n", argv[optind]);
        return false;
    }
    if (!have_scenario) {
        fprintf(stderr, "osap-mqtt-load: --scenario is required (p2p, fanout, idle)\n");
        return false;
    }
    if (o->window == 0) o->window = o->scenario == MQLOAD_P2P ? 8 : 4;
    o->port = (uint16_t)port;
    o->server_pid = (pid_t)pid;
    if (!resolve(o->host, o->port, &o->dst)) return false;
    if (src_addrs == UINT_MAX) /* default: spread when the server is on loopback */
        src_addrs = (ntohl(o->dst.sin_addr.s_addr) >> 24) == 127 ? 32 : 0;
    o->src_addrs = src_addrs;
    return true;
}

/* ------------------------------------------------------------------------ */
/* Setting the run up                                                       */
/* ------------------------------------------------------------------------ */

static struct mqload_conn *conn_new(struct mqload_worker *w, enum mqload_role role, unsigned index)
{
    const struct mqload_opts *o = w->sh->o;
    struct mqload_conn *c = osap_calloc(1, sizeof(*c));
    size_t rx_cap = role == MQLOAD_IDLER ? 64 : o->rx_cap;
    char topic[256];
    int n;

    if (!c) return NULL;
    c->fd = -1;
    c->role = (uint8_t)role;
    c->state = MQLOAD_NEW;
    c->index = index;
    c->w = w;
    w->conns[w->n_conns++] = c; /* owned by the worker from here on */
    c->rxbuf = osap_malloc(rx_cap);
    if (!c->rxbuf) return NULL;
    osap_mqtt_stream_init(&c->rx, c->rxbuf, rx_cap, OSAP_MQTT_STRICT);
    if (role == MQLOAD_IDLER) return c;
    n = mqload_client_topic(o, index, topic, sizeof(topic));
    c->topic = osap_strndup(topic, (size_t)n);
    c->topic_len = (uint16_t)n;
    if (!c->topic) return NULL;
    if (role == MQLOAD_PUB && o->scenario == MQLOAD_P2P) {
        c->pub.acked = osap_malloc(o->window);
        if (!c->pub.acked) return NULL;
        memset(c->pub.acked, 1, o->window);
    }
    if (role == MQLOAD_SUB) {
        c->seq = osap_calloc(1, sizeof(*c->seq));
        if (!c->seq) return NULL;
    }
    return c;
}

/* Create the workers and hand out the connections. */
static bool setup(struct mqload_shared *sh, const struct mqload_opts *o)
{
    unsigned t = o->threads;

    sh->o = o;
    sh->workers = osap_calloc(t, sizeof(*sh->workers));
    if (!sh->workers) return false;
    for (unsigned i = 0; i < t; i++) {
        struct mqload_worker *w = &sh->workers[i];
        size_t share = o->total_conns / t + 3;
        osap_err err = mqload_worker_init(w, i, sh);
        sh->n_workers = i + 1; /* released by main() from here on */
        if (err != OSAP_OK) {
            fprintf(stderr, "osap-mqtt-load: worker %u: %s\n", i,
                    err == OSAP_ENOMEM ? "out of memory" : strerror(errno));
            return false;
        }
        w->conns = osap_calloc(share, sizeof(*w->conns));
        w->retry = osap_calloc(share, sizeof(*w->retry));
        if (!w->conns || !w->retry) return false;
        w->concurrency = o->connect_concurrency / t ? o->connect_concurrency / t : 1;
    }
    switch (o->scenario) {
    case MQLOAD_P2P:
        /* a pair lives on one worker; its subscriber connects first */
        for (unsigned i = 0; i < o->pairs; i++) {
            struct mqload_worker *w = &sh->workers[i % t];
            if (!conn_new(w, MQLOAD_SUB, i) || !conn_new(w, MQLOAD_PUB, i)) return false;
        }
        break;
    case MQLOAD_FANOUT:
        for (unsigned i = 0; i < o->subscribers; i++)
            if (!conn_new(&sh->workers[i % t], MQLOAD_SUB, i)) return false;
        sh->workers[0].fan_pub = conn_new(&sh->workers[0], MQLOAD_PUB, 0);
        if (!sh->workers[0].fan_pub) return false;
        break;
    case MQLOAD_IDLE:
        for (unsigned i = 0; i < o->connections; i++)
            if (!conn_new(&sh->workers[i % t], MQLOAD_IDLER, i)) return false;
        break;
    }
    return true;
}

static void set_phase(struct mqload_shared *sh, enum mqload_phase ph)
{
    atomic_store(&sh->phase, (int)ph);
    for (unsigned i = 0; i < sh->n_workers; i++)
        mqload_worker_kick(&sh->workers[i]);
}

static uint64_t ns_of(double seconds)
{
    return (uint64_t)(seconds * 1e9);
}

/* Every published message delivered (fan times) and acknowledged. */
static bool drained(const struct mqload_shared *sh)
{
    uint64_t pub = 0, uniq = 0, inflight = 0;

    for (unsigned i = 0; i < sh->n_workers; i++) {
        pub += atomic_load(&sh->workers[i].pub_total);
        uniq += atomic_load(&sh->workers[i].unique_total);
        inflight += atomic_load(&sh->workers[i].inflight_total);
    }
    return inflight == 0 && uniq == pub * sh->o->fan;
}

/* Wait until every connection is ready or given up, or the time is over. */
static bool wait_connected(struct mqload_shared *sh, uint64_t deadline)
{
    for (;;) {
        uint64_t done = atomic_load(&sh->ready) + atomic_load(&sh->failed);
        if (done >= sh->o->total_conns) return true;
        if (mqload_now() >= deadline) return false;
        usleep(10000);
    }
}

/* Sum what the subscribers saw into @p r. */
static void count_messages(const struct mqload_shared *sh, struct mqload_result *r)
{
    const struct mqload_opts *o = sh->o;
    uint64_t published = 0;

    for (unsigned i = 0; i < sh->n_workers; i++)
        published += sh->workers[i].st.published;
    for (unsigned i = 0; i < sh->n_workers; i++) {
        const struct mqload_worker *w = &sh->workers[i];
        for (size_t k = 0; k < w->n_conns; k++) {
            const struct mqload_conn *c = w->conns[k];
            if (c->role != MQLOAD_SUB) continue;
            r->dups += c->seq->dups;
            r->reordered += c->seq->reordered;
            if (o->scenario == MQLOAD_P2P) {
                /* the publisher of the pair is the next connection */
                const struct mqload_conn *p = w->conns[k + 1];
                r->lost += p->pub.next - c->seq->unique;
            } else {
                r->lost += published - c->seq->unique;
            }
        }
    }
}

int main(int argc, char **argv)
{
    struct mqload_opts o;
    struct mqload_shared sh;
    struct mqload_result r;
    struct mqload_stats total;
    pthread_t *threads = NULL;
    unsigned started = 0;
    uint64_t t0, deadline;
    double cpu0 = 0, cpu1 = 0, scpu0 = -1, scpu1 = -1;
    int rc = EXIT_RUN_FAILED;
    bool help;

    memset(&o, 0, sizeof(o));
    memset(&sh, 0, sizeof(sh));
    memset(&r, 0, sizeof(r));
    memset(&total, 0, sizeof(total));
    r.server_cpu_s = -1;
    if (!parse_args(argc, argv, &o, &help)) {
        fprintf(stderr, "Try 'osap-mqtt-load --help'.\n");
        return EXIT_USAGE;
    }
    if (help) {
        usage(stdout);
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);

    switch (o.scenario) {
    case MQLOAD_P2P:
        o.total_conns = 2 * o.pairs;
        o.fan = 1;
        break;
    case MQLOAD_FANOUT:
        o.total_conns = o.subscribers + 1;
        o.fan = o.subscribers;
        break;
    case MQLOAD_IDLE:
        o.total_conns = o.connections;
        o.fan = 0;
        break;
    }
    if (!mqload_sys_fd_check(o.total_conns)) return EXIT_USAGE;
    {
        unsigned long per_addr = mqload_sys_port_range();
        unsigned long capacity = per_addr * (o.src_addrs ? o.src_addrs : 1);
        if (o.total_conns > capacity) {
            fprintf(stderr,
                    "osap-mqtt-load: %u connections need more local ports than %lu source "
                    "address(es) give (%lu each): raise --src-addrs\n",
                    o.total_conns, o.src_addrs ? (unsigned long)o.src_addrs : 1ul, per_addr);
            return EXIT_USAGE;
        }
    }
    {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(o.run_id, sizeof(o.run_id), "%08lx",
                 (unsigned long)((uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec ^
                                 ((uint32_t)getpid() << 16)));
    }
    if (mqload_client_publish_size(&o, &o.publish_size) != OSAP_OK) {
        fprintf(stderr, "osap-mqtt-load: cannot size the PUBLISH packets of this run\n");
        return EXIT_USAGE;
    }
    o.rx_cap = o.publish_size + 16;

    if (!setup(&sh, &o)) {
        r.error = "cannot set the run up (out of memory or descriptors)";
        goto report;
    }
    threads = osap_calloc(o.threads, sizeof(*threads));
    if (!threads) {
        r.error = "out of memory";
        goto report;
    }
    if (o.server_pid && o.scenario == MQLOAD_IDLE) r.rss_before = mqload_sys_rss(o.server_pid);

    /* connect */
    t0 = mqload_now();
    atomic_store(&sh.phase, MQLOAD_PH_CONNECT);
    for (; started < o.threads; started++) {
        int e = pthread_create(&threads[started], NULL, mqload_worker_run, &sh.workers[started]);
        if (e != 0) {
            fprintf(stderr, "osap-mqtt-load: pthread_create: %s\n", strerror(e));
            r.error = "cannot start the worker threads";
            goto stop;
        }
    }
    deadline = t0 + ns_of(o.connect_timeout);
    if (!wait_connected(&sh, deadline)) {
        r.connected = (unsigned)atomic_load(&sh.ready);
        r.error = "connections not set up within --connect-timeout";
        goto stop;
    }
    r.connected = (unsigned)atomic_load(&sh.ready);
    r.connect_s = (double)(mqload_now() - t0) / 1e9;
    if (r.connected == 0 || (o.scenario != MQLOAD_IDLE && r.connected < o.total_conns)) {
        r.error = "connections could not be set up";
        goto stop;
    }

    if (o.scenario == MQLOAD_IDLE) {
        mqload_sleep_until(mqload_now() + ns_of(o.settle));
        if (o.server_pid) r.rss_after = mqload_sys_rss(o.server_pid);
        sh.t_measure = mqload_now();
        sh.t_end = sh.t_measure + ns_of(o.duration);
        cpu0 = mqload_sys_self_cpu();
        if (o.server_pid) scpu0 = mqload_sys_proc_cpu(o.server_pid);
        set_phase(&sh, MQLOAD_PH_RUN);
        mqload_sleep_until(sh.t_end);
        cpu1 = mqload_sys_self_cpu();
        if (o.server_pid) {
            scpu1 = mqload_sys_proc_cpu(o.server_pid);
            r.rss_end = mqload_sys_rss(o.server_pid);
        }
        r.drained = true;
    } else {
        sh.t_run = mqload_now();
        sh.t_measure = sh.t_run + ns_of(o.warmup);
        sh.t_end = sh.t_measure + ns_of(o.duration);
        set_phase(&sh, MQLOAD_PH_RUN);
        mqload_sleep_until(sh.t_measure);
        cpu0 = mqload_sys_self_cpu();
        if (o.server_pid) scpu0 = mqload_sys_proc_cpu(o.server_pid);
        mqload_sleep_until(sh.t_end);
        cpu1 = mqload_sys_self_cpu();
        if (o.server_pid) scpu1 = mqload_sys_proc_cpu(o.server_pid);
        set_phase(&sh, MQLOAD_PH_DRAIN);
        deadline = mqload_now() + ns_of(o.drain);
        while (!(r.drained = drained(&sh)) && mqload_now() < deadline)
            usleep(5000);
    }
    if (getloadavg(&r.loadavg, 1) != 1) r.loadavg = -1;
    r.measured_s = (double)(sh.t_end - sh.t_measure) / 1e9;
    r.gen_cpu_s = cpu1 - cpu0;
    if (scpu0 >= 0 && scpu1 >= 0) r.server_cpu_s = scpu1 - scpu0;
    r.ok = true;

stop:
    set_phase(&sh, MQLOAD_PH_STOP);
    for (unsigned i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    for (unsigned i = 0; i < sh.n_workers; i++) {
        const struct mqload_stats *s = &sh.workers[i].st;
        total.published += s->published;
        total.acked += s->acked;
        total.bad_acks += s->bad_acks;
        total.delivered += s->delivered;
        total.unique += s->unique;
        total.delivered_window += s->delivered_window;
        total.published_window += s->published_window;
        total.misrouted += s->misrouted;
        total.pings += s->pings;
        total.pongs += s->pongs;
        total.protocol_errors += s->protocol_errors;
        total.lost_conns += s->lost_conns;
        total.connect_failed += s->connect_failed;
        total.connect_retries += s->connect_retries;
        total.connack_refused += s->connack_refused;
        total.suback_refused += s->suback_refused;
        total.stalls += s->stalls;
        total.written_off += s->written_off;
        mqload_hist_merge(&total.hist, &s->hist);
    }
    if (r.ok) {
        if (o.scenario != MQLOAD_IDLE) count_messages(&sh, &r);
        r.alive_end = r.connected - (unsigned)total.lost_conns;
        rc = 0;
    }

report:
    mqload_report(&o, &total, &r);
    for (unsigned i = 0; sh.workers && i < sh.n_workers; i++)
        mqload_worker_release(&sh.workers[i]);
    osap_free(sh.workers);
    osap_free(threads);
    return rc;
}
