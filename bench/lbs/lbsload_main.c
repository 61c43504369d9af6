/*
 * osap-lbs-load: options, the run, and the report (one JSON line on standard
 * output, a one-line summary on standard error). See lbsload.h.
 *
 *   osap-lbs-load -p PORT [-H 127.0.0.1] [-n DEVICES] [--prefix LB] [--code CODE]
 *                 [-c CONCURRENCY] [-w WARMUP_S] [-d DURATION_S] [--src-addrs N]
 *                 [--src-first 127.0.0.2] [--timeout-ms MS]
 */
#include "lbsload.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Files the generator may open besides its connections (one process may open at
 * most 20,000 files on the machines this runs on). */
#define FD_RESERVE 64

double lbsload_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
    size_t i;
    if (!n) return 0;
    i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static int usage(FILE *f, int rc)
{
    fprintf(f, "usage: osap-lbs-load -p PORT [-H HOST] [-n DEVICES] [--prefix P] [--code C]\n"
               "                     [-c CONCURRENCY] [-w WARMUP_S] [-d DURATION_S]\n"
               "                     [--src-addrs N] [--src-first ADDR] [--timeout-ms MS]\n"
               "Full path-A handshakes of devices PREFIX000000.. (all with code C) against\n"
               "the LBS at HOST:PORT; prints one JSON line with handshakes/s and latency.\n");
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"devices", required_argument, NULL, 'n'},
        {"prefix", required_argument, NULL, 'P'},
        {"code", required_argument, NULL, 'C'},
        {"concurrency", required_argument, NULL, 'c'},
        {"warmup", required_argument, NULL, 'w'},
        {"duration", required_argument, NULL, 'd'},
        {"src-addrs", required_argument, NULL, 'a'},
        {"src-first", required_argument, NULL, 'f'},
        {"timeout-ms", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static struct lbsload L;
    struct in_addr a;
    struct rlimit rl;
    const char *src_first = "127.0.0.2";
    uint64_t failed = 0;
    double rate;
    int c;

    L.o.host = "127.0.0.1";
    L.o.devices = 1000;
    L.o.prefix = "LB";
    L.o.code = "ABCDEF";
    L.o.concurrency = 64;
    L.o.warmup_s = 2;
    L.o.duration_s = 10;
    L.o.src_addrs = 64;
    L.o.timeout_ms = 10000;
    while ((c = getopt_long(argc, argv, "H:p:n:c:w:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'H': L.o.host = optarg; break;
        case 'p': L.o.port = atoi(optarg); break;
        case 'n': L.o.devices = (unsigned)atoi(optarg); break;
        case 'P': L.o.prefix = optarg; break;
        case 'C': L.o.code = optarg; break;
        case 'c': L.o.concurrency = (unsigned)atoi(optarg); break;
        case 'w': L.o.warmup_s = atof(optarg); break;
        case 'd': L.o.duration_s = atof(optarg); break;
        case 'a': L.o.src_addrs = (unsigned)atoi(optarg); break;
        case 'f': src_first = optarg; break;
        case 't': L.o.timeout_ms = (unsigned)atoi(optarg); break;
        case 'h': return usage(stdout, 0);
        default: return usage(stderr, 2);
        }
    }
    if (L.o.port <= 0 || !L.o.devices || !L.o.concurrency || !L.o.src_addrs ||
        L.o.duration_s <= 0 || L.o.warmup_s < 0 || inet_pton(AF_INET, src_first, &a) != 1)
        return usage(stderr, 2);
    L.o.src_first = ntohl(a.s_addr);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && L.o.concurrency + FD_RESERVE > rl.rlim_cur) {
        fprintf(stderr, "osap-lbs-load: %u connections do not fit the limit of %llu files\n",
                L.o.concurrency, (unsigned long long)rl.rlim_cur);
        return 2;
    }
    if (lbsload_run(&L) != 0) return 2;

    qsort(L.s.lat_ms, L.s.n_lat, sizeof(double), cmp_double);
    rate = (double)L.s.ok / L.o.duration_s;
    for (int i = 0; i < 32; i++)
        failed += L.s.results[i];
    failed += L.s.connect_failed + L.s.closed + L.s.timeouts + L.s.protocol;
    printf("{\"tool\":\"osap-lbs-load\",\"server\":\"%s:%d\",\"devices\":%u,\"concurrency\":%u,"
           "\"src_addrs\":%u,\"warmup_s\":%g,\"duration_s\":%g,\"handshakes\":%llu,"
           "\"handshakes_per_s\":%.1f,\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
           "\"max\":%.3f},\"failed\":%llu,\"errors\":{\"connect\":%llu,\"closed\":%llu,"
           "\"timeout\":%llu,\"protocol\":%llu,\"results\":{",
           L.o.host, L.o.port, L.o.devices, L.o.concurrency, L.o.src_addrs, L.o.warmup_s,
           L.o.duration_s, (unsigned long long)L.s.ok, rate, pct(L.s.lat_ms, L.s.n_lat, 50),
           pct(L.s.lat_ms, L.s.n_lat, 90), pct(L.s.lat_ms, L.s.n_lat, 99),
           L.s.n_lat ? L.s.lat_ms[L.s.n_lat - 1] : 0.0, (unsigned long long)failed,
           (unsigned long long)L.s.connect_failed, (unsigned long long)L.s.closed,
           (unsigned long long)L.s.timeouts, (unsigned long long)L.s.protocol);
    for (int i = 0, first = 1; i < 32; i++) {
        if (!L.s.results[i]) continue;
        printf("%s\"%d\":%llu", first ? "" : ",", i, (unsigned long long)L.s.results[i]);
        first = 0;
    }
    printf("}},\"generator_derives\":%llu,\"gen_cpu_pct\":%.1f}\n", (unsigned long long)L.s.derives,
           100.0 * L.s.gen_cpu_s / L.o.duration_s);
    fprintf(stderr,
            "osap-lbs-load: %.1f handshakes/s, latency p50 %.2f ms p99 %.2f ms, %llu failed, "
            "generator CPU %.0f%%\n",
            rate, pct(L.s.lat_ms, L.s.n_lat, 50), pct(L.s.lat_ms, L.s.n_lat, 99),
            (unsigned long long)failed, 100.0 * L.s.gen_cpu_s / L.o.duration_s);
    free(L.s.lat_ms);
    return L.s.ok ? 0 : 1;
}
