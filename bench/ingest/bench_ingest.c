/*
 * osap-bench-ingest: how many device events per second ingest stores, durably,
 * on this machine: producer threads submit events (as DAS workers do) and each
 * event counts when its completion reports it committed. The same run is made
 * with group commit (max_batch, batch_delay as given) and, for comparison, with
 * one transaction per event (max_batch 1). One line per run:
 *
 *   bench=ingest synchronous=<s> max_batch=<n> batch_delay_ms=<d> producers=<p>
 *     events=<n> seconds=<t> events_s=<x> batches=<b> avg_batch=<a>
 *
 * Usage: osap-bench-ingest [-n EVENTS] [-p PRODUCERS] [-s full|normal]
 *                          [-d BATCH_DELAY_MS] [-b MAX_BATCH] [-t TMPDIR]
 * The database lives in a new directory below TMPDIR (default $TMPDIR, else the
 * system temporary directory),
 * removed at the end: put it on the disk you want to measure.
 */
#include "ingest/ingest.h"
#include "log.h"
#include "store.h"

#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_long done_ok, done_err;

struct producer {
    struct ingest *ing;
    long first, count;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_done(osap_err err, int duplicate, void *userdata)
{
    (void)duplicate;
    (void)userdata;
    if (err)
        atomic_fetch_add(&done_err, 1);
    else
        atomic_fetch_add(&done_ok, 1);
}

static void *produce(void *arg)
{
    struct producer *p = arg;
    char uuid[40], body[160];

    for (long i = p->first; i < p->first + p->count; i++) {
        struct ingest_record r;
        memset(&r, 0, sizeof(r));
        snprintf(uuid, sizeof(uuid), "bench-%012ld", i);
        snprintf(body, sizeof(body),
                 "{\"alarm\":{\"level\":1,\"text\":\"bench\"},\"basic\":{\"dateTime\":"
                 "\"2026-11-29T03:54:18.086+00:00\",\"UUID\":\"%s\"}}",
                 uuid);
        r.kind = INGEST_EVENT;
        r.serial = "BENCH0001";
        r.domain = "alarm";
        r.identifier = "motion";
        r.payload_json = body;
        r.uuid = uuid;
        r.seq = (uint32_t)i;
        r.version = -1;
        r.level = 1;
        while (ingest_submit(p->ing, &r, on_done, NULL) == OSAP_EBUSY)
            usleep(100); /* the queue is full: wait as a DAS worker would */
    }
    return NULL;
}

static int run(const char *tmp, const char *sync, long events, int producers, long delay,
               long max_batch)
{
    struct osap_store_config scfg = {"sqlite", 10000, "normal", 8 << 20};
    struct ingest_config icfg = {100000, 256u << 20, max_batch, delay, (char *)sync, 600000};
    struct producer prod[64];
    pthread_t threads[64];
    struct osap_store *st = NULL;
    struct ingest *ing = NULL;
    struct ingest_stats stats;
    struct osap_device d;
    char dir[4096], cmd[4200];
    double t0, t;
    int rc = 1;

    snprintf(dir, sizeof(dir), "%s/osap-bench-ingest-XXXXXX", tmp);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    memset(&d, 0, sizeof(d));
    strcpy(d.serial, "BENCH0001");
    strcpy(d.secret, "ABCDEF");
    if (osap_store_open(&scfg, dir, &st) || osap_store_device_add(st, &d)) goto out;
    osap_store_close(st);
    st = NULL;
    if (ingest_new(&icfg, &scfg, dir, &ing)) goto out;
    atomic_store(&done_ok, 0);
    atomic_store(&done_err, 0);
    t0 = now();
    for (int i = 0; i < producers; i++) {
        prod[i].ing = ing;
        prod[i].count = events / producers + (i < events % producers ? 1 : 0);
        prod[i].first = i ? prod[i - 1].first + prod[i - 1].count : 0;
        pthread_create(&threads[i], NULL, produce, &prod[i]);
    }
    for (int i = 0; i < producers; i++)
        pthread_join(threads[i], NULL);
    while (atomic_load(&done_ok) + atomic_load(&done_err) < events)
        usleep(200);
    t = now() - t0;
    ingest_stats(ing, &stats);
    printf("bench=ingest synchronous=%s max_batch=%ld batch_delay_ms=%ld producers=%d events=%ld "
           "seconds=%.3f events_s=%.0f batches=%llu avg_batch=%.1f failed=%ld\n",
           sync, max_batch, delay, producers, events, t, events / t,
           (unsigned long long)stats.batches,
           stats.batches ? (double)stats.committed / (double)stats.batches : 0.0,
           atomic_load(&done_err));
    fflush(stdout);
    rc = atomic_load(&done_err) ? 1 : 0;
out:
    ingest_free(ing);
    osap_store_close(st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) rc = 1;
    return rc;
}

int main(int argc, char **argv)
{
    const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : P_tmpdir;
    const char *sync = "full";
    long events = 20000, delay = 1, max_batch = 1000, single;
    int producers = 4, c, rc;

    while ((c = getopt(argc, argv, "n:p:s:d:b:t:h")) != -1) {
        switch (c) {
        case 'n': events = atol(optarg); break;
        case 'p': producers = atoi(optarg); break;
        case 's': sync = optarg; break;
        case 'd': delay = atol(optarg); break;
        case 'b': max_batch = atol(optarg); break;
        case 't': tmp = optarg; break;
        default:
            fprintf(stderr, "usage: osap-bench-ingest [-n EVENTS] [-p PRODUCERS] [-s full|normal] "
                            "[-d BATCH_DELAY_MS] [-b MAX_BATCH] [-t TMPDIR]\n");
            return 2;
        }
    }
    if (events < 1 || producers < 1 || producers > 64 || max_batch < 1 || delay < 0) return 2;
    osap_log_set_level(OSAP_LOG_WARN);
    rc = run(tmp, sync, events, producers, delay, max_batch);
    /* One transaction per event, on fewer events (it is slow by design). */
    single = events / 10 > 0 ? events / 10 : 1;
    if (rc == 0) rc = run(tmp, sync, single, producers, 0, 1);
    return rc;
}
