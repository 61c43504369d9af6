/*
 * osap-api-load: a small load client for the platform REST API. It keeps
 * --connections HTTP/1.1 keep-alive connections, each sending one request at a
 * time (closed loop), to --path with {serial} replaced by the serials read from
 * --serials (round robin, each connection starting at another one), and
 * measures every round trip. Responses are parsed with llhttp.
 *
 *   osap-api-load --port P --token T --serials FILE [--host H] [--connections C]
 *                 [--duration S] [--warmup S] [--method POST] [--path TEMPLATE]
 *                 [--body JSON]
 *
 * The last line of its output is one JSON object:
 *   {"bench":"api_load","connections":C,"targets":N,"duration_s":..,"requests":..,
 *    "ok":..,"errors":..,"status":{"200":..,...},"rps":..,"p50_ms":..,"p90_ms":..,
 *    "p99_ms":..,"max_ms":..}
 * Only the measured window (after the warm-up) counts.
 */
#include "osap/alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <llhttp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONNECTIONS_MAX 256
#define STATUS_MAX      600
/* Latency histogram: 10 µs buckets up to 10 s. */
#define BUCKET_US 10
#define BUCKETS   (10 * 1000 * 1000 / BUCKET_US)

struct options {
    const char *host;
    int port;
    const char *token;
    const char *serials_file;
    int connections;
    double duration_s, warmup_s;
    const char *method, *path, *body;
};

struct worker {
    pthread_t thread;
    int index;
    const struct options *o;
    char **serials;
    size_t nserials;
    uint64_t requests, errors, io_errors;
    uint64_t status[STATUS_MAX];
    uint32_t *hist; /* BUCKETS + 1 */
    uint64_t max_us;
    /* response parsing */
    llhttp_t parser;
    llhttp_settings_t settings;
    bool complete;
};

static atomic_int phase; /* 0 warm-up, 1 measuring, 2 stop */

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int on_complete(llhttp_t *p)
{
    struct worker *w = p->data;
    w->complete = true;
    return HPE_PAUSED; /* one response at a time */
}

static int dial(const struct options *o)
{
    struct sockaddr_in sa;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)o->port);
    if (inet_pton(AF_INET, o->host, &sa.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* One request and its response; the status, or -1 on a connection failure. */
static int round_trip(struct worker *w, int fd, const char *req, size_t len)
{
    char buf[16384];

    if (!send_all(fd, req, len)) return -1;
    w->complete = false;
    llhttp_init(&w->parser, HTTP_RESPONSE, &w->settings);
    w->parser.data = w;
    while (!w->complete) {
        ssize_t r = recv(fd, buf, sizeof(buf), 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        llhttp_errno_t e = llhttp_execute(&w->parser, buf, (size_t)r);
        if (e != HPE_OK && e != HPE_PAUSED) return -1;
    }
    return w->parser.status_code;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    const struct options *o = w->o;
    size_t next = (size_t)w->index * 7919u % w->nserials;
    char path[1024], req[8192];
    int fd = dial(o);
    size_t body_len = o->body ? strlen(o->body) : 0;

    llhttp_settings_init(&w->settings);
    w->settings.on_message_complete = on_complete;
    while (atomic_load(&phase) < 2) {
        uint64_t t0, dt;
        int n, status;

        if (fd < 0) {
            w->io_errors++;
            usleep(10000);
            fd = dial(o);
            continue;
        }
        {
            const char *at = strstr(o->path, "{serial}");
            snprintf(path, sizeof(path), "%.*s%s%s", (int)(at - o->path), o->path, w->serials[next],
                     at + 8);
        }
        next = (next + 1) % w->nserials;
        n = snprintf(req, sizeof(req),
                     "%s %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     o->method, path, o->host, o->port, o->token, body_len, o->body ? o->body : "");
        if (n <= 0 || (size_t)n >= sizeof(req)) break;
        t0 = now_us();
        status = round_trip(w, fd, req, (size_t)n);
        dt = now_us() - t0;
        if (status < 0) {
            close(fd);
            fd = -1;
            if (atomic_load(&phase) == 1) w->io_errors++;
            continue;
        }
        if (atomic_load(&phase) != 1) continue;
        w->requests++;
        if (status < 200 || status > 299) w->errors++;
        if (status >= 0 && status < STATUS_MAX) w->status[status]++;
        w->hist[dt / BUCKET_US < BUCKETS ? dt / BUCKET_US : BUCKETS]++;
        if (dt > w->max_us) w->max_us = dt;
    }
    if (fd >= 0) close(fd);
    return NULL;
}

static double percentile_ms(const uint64_t *hist, uint64_t total, double q)
{
    uint64_t want = (uint64_t)((double)total * q), seen = 0;

    if (total == 0) return 0;
    if (want >= total) want = total - 1;
    for (size_t i = 0; i <= BUCKETS; i++) {
        seen += hist[i];
        if (seen > want) return (double)(i * BUCKET_US + BUCKET_US / 2) / 1000.0;
    }
    return (double)BUCKETS * BUCKET_US / 1000.0;
}

static char **read_serials(const char *file, size_t *n)
{
    FILE *f = fopen(file, "r");
    char line[512], **v = NULL;
    size_t cap = 0;

    *n = 0;
    if (!f) return NULL;
    while (fgets(line, sizeof(line), f)) {
        char *end = line + strcspn(line, ",\r\n \t");
        *end = '\0';
        if (!line[0] || line[0] == '#') continue;
        if (*n == cap) {
            char **nv = osap_realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*v));
            if (!nv) break;
            v = nv;
        }
        v[(*n)++] = osap_strdup(line);
    }
    fclose(f);
    return v;
}

static void usage(void)
{
    fprintf(stderr, "usage: osap-api-load --port P --token T --serials FILE [--host H]\n"
                    "                     [--connections C] [--duration S] [--warmup S]\n"
                    "                     [--method M] [--path TEMPLATE] [--body JSON]\n");
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"host", required_argument, NULL, 'h'},
        {"port", required_argument, NULL, 'p'},
        {"token", required_argument, NULL, 't'},
        {"serials", required_argument, NULL, 's'},
        {"connections", required_argument, NULL, 'c'},
        {"duration", required_argument, NULL, 'd'},
        {"warmup", required_argument, NULL, 'w'},
        {"method", required_argument, NULL, 'm'},
        {"path", required_argument, NULL, 'P'},
        {"body", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    struct options o = {"127.0.0.1",
                        0,
                        NULL,
                        NULL,
                        8,
                        10.0,
                        2.0,
                        "POST",
                        "/api/v1/devices/{serial}/operations/Video/Snapshot",
                        "{\"input\":{}}"};
    struct worker *w;
    uint64_t *hist, requests = 0, errors = 0, io_errors = 0, max_us = 0;
    uint64_t status[STATUS_MAX] = {0};
    size_t nserials;
    char **serials;
    int c;

    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'h': o.host = optarg; break;
        case 'p': o.port = atoi(optarg); break;
        case 't': o.token = optarg; break;
        case 's': o.serials_file = optarg; break;
        case 'c': o.connections = atoi(optarg); break;
        case 'd': o.duration_s = atof(optarg); break;
        case 'w': o.warmup_s = atof(optarg); break;
        case 'm': o.method = optarg; break;
        case 'P': o.path = optarg; break;
        case 'b': o.body = optarg; break;
        default: usage(); return 2;
        }
    }
    if (!o.port || !o.token || !o.serials_file || o.connections < 1 ||
        o.connections > CONNECTIONS_MAX || o.duration_s <= 0 || !strstr(o.path, "{serial}")) {
        usage();
        return 2;
    }
    serials = read_serials(o.serials_file, &nserials);
    if (!nserials) {
        fprintf(stderr, "osap-api-load: no serials in %s\n", o.serials_file);
        return 1;
    }
    w = osap_calloc((size_t)o.connections, sizeof(*w));
    hist = osap_calloc(BUCKETS + 1, sizeof(*hist));
    if (!w || !hist) return 1;
    for (int i = 0; i < o.connections; i++) {
        w[i].index = i;
        w[i].o = &o;
        w[i].serials = serials;
        w[i].nserials = nserials;
        w[i].hist = osap_calloc(BUCKETS + 1, sizeof(uint32_t));
        if (!w[i].hist || pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0) return 1;
    }
    usleep((useconds_t)(o.warmup_s * 1e6));
    atomic_store(&phase, 1);
    uint64_t t0 = now_us();
    usleep((useconds_t)(o.duration_s * 1e6));
    atomic_store(&phase, 2);
    double elapsed = (double)(now_us() - t0) / 1e6;
    for (int i = 0; i < o.connections; i++) {
        pthread_join(w[i].thread, NULL);
        requests += w[i].requests;
        errors += w[i].errors;
        io_errors += w[i].io_errors;
        if (w[i].max_us > max_us) max_us = w[i].max_us;
        for (size_t b = 0; b <= BUCKETS; b++)
            hist[b] += w[i].hist[b];
        for (size_t s = 0; s < STATUS_MAX; s++)
            status[s] += w[i].status[s];
        osap_free(w[i].hist);
    }
    printf("{\"bench\":\"api_load\",\"method\":\"%s\",\"connections\":%d,\"targets\":%zu,"
           "\"duration_s\":%.3f,\"requests\":%llu,\"ok\":%llu,\"errors\":%llu,"
           "\"io_errors\":%llu,\"status\":{",
           o.method, o.connections, nserials, elapsed, (unsigned long long)requests,
           (unsigned long long)(requests - errors), (unsigned long long)errors,
           (unsigned long long)io_errors);
    for (size_t s = 0, first = 1; s < STATUS_MAX; s++) {
        if (!status[s]) continue;
        printf("%s\"%zu\":%llu", first ? "" : ",", s, (unsigned long long)status[s]);
        first = 0;
    }
    printf("},\"rps\":%.1f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
           (double)(requests - errors) / elapsed, percentile_ms(hist, requests, 0.50),
           percentile_ms(hist, requests, 0.90), percentile_ms(hist, requests, 0.99),
           (double)max_us / 1000.0);
    for (size_t i = 0; i < nserials; i++)
        osap_free(serials[i]);
    osap_free(serials);
    osap_free(hist);
    osap_free(w);
    return 0;
}
