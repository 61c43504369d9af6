/*
 * osap-bench-crypto's parallel mode: N threads of one process against N processes
 * doing the same crypto work, each worker in a closed loop for a fixed window that
 * starts at the same instant for all of them.
 *
 *   --op evp        EVP_PKEY_derive on a context prepared once, with the worker's own
 *                   keys: what `openssl speed -multi N ecdhp384` measures.
 *   --op derive     osap_p384_derive() with ONE server key shared by all the workers
 *                   of a process (the LBS shares its server key pair among its pool
 *                   threads) and a device's public key in wire form.
 *   --op handshake  the server's crypto of one path-A handshake, in the LBS's order:
 *                   share key (MD5s + PBKDF2), GCM-decrypt the device's key, derive,
 *                   master key, GCM-encrypt the server's key, a session key from the
 *                   system RNG, GCM-encrypt the devid and the session key, the sign
 *                   (SHA-384 + HMAC) compared in constant time.
 *
 * For each run it prints one line:
 *
 *   bench=crypto_parallel op=<op> mode=<threads|procs> n=<N> ops=<total>
 *   ops_s=<total per wall second> cpu_us_per_op=<CPU time of the workers / ops>
 *   cores_used=<CPU time / wall time>
 *
 * cpu_us_per_op is what one operation costs a worker: unlike ops_s it does not fall
 * when other processes take the cores, so it is the number to compare between
 * threads and processes on a shared machine. --compare N alternates threads and
 * processes (--rounds times each) and ends with the medians and their ratio:
 *
 *   bench=crypto_parallel op=<op> n=<N> rounds=<R> threads_ops_s=<x> procs_ops_s=<y>
 *   threads_cpu_us=<a> procs_cpu_us=<b> cpu_ratio=<a/b>
 */
#include "bench_parallel.h"

#include "osap/crypto.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 64
#define MAX_ROUNDS  31

enum op { OP_EVP, OP_DERIVE, OP_HANDSHAKE };

static const char *const op_names[] = {"evp", "derive", "handshake"};

/* What every worker of a run shares (read-only while they run). */
struct shared {
    enum op op;
    double seconds;
    struct timespec start; /* CLOCK_MONOTONIC, the same instant for every worker */
    osap_p384_key *server_key;
    uint8_t server_pub[OSAP_P384_PUBKEY_LEN];
    uint8_t device_pub[OSAP_P384_PUBKEY_LEN];
    /* the device's 0x1 message: its public key under the share key */
    uint8_t enc_device_pub[OSAP_P384_PUBKEY_LEN];
    uint8_t enc_device_pub_tag[OSAP_GCM_TAG_LEN];
    /* the device's 0x7 sign for the master key of server_key and device_pub */
    uint8_t device_sign[OSAP_SIGN_LEN];
};

struct result {
    long ops;
    double cpu_s;
    int failed;
};

static const char vcode[] = "ABCDEF";
static const char subserial[] = "Q12345678";
static const uint8_t devid[OSAP_DEVID_LEN] = "0123456789ABCDEF0123456789ABCDEF";

static volatile unsigned sink;

static double ts_seconds(const struct timespec *ts)
{
    return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

static double clock_seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts_seconds(&ts);
}

/* ------------------------------------------------------------------ operations */

/* Per-worker state of the evp operation (openssl speed's loop). */
struct evp_state {
    EVP_PKEY *k1, *k2;
    EVP_PKEY_CTX *ctx;
};

static int evp_setup(struct evp_state *e)
{
    e->k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    e->k2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    if (!e->k1 || !e->k2) return -1;
    e->ctx = EVP_PKEY_CTX_new_from_pkey(NULL, e->k1, NULL);
    if (!e->ctx || EVP_PKEY_derive_init(e->ctx) != 1 ||
        EVP_PKEY_derive_set_peer(e->ctx, e->k2) != 1)
        return -1;
    return 0;
}

static void evp_teardown(struct evp_state *e)
{
    EVP_PKEY_CTX_free(e->ctx);
    EVP_PKEY_free(e->k1);
    EVP_PKEY_free(e->k2);
}

static int op_evp(struct evp_state *e)
{
    uint8_t x[48];
    size_t n = sizeof(x);
    if (EVP_PKEY_derive(e->ctx, x, &n) != 1) return -1;
    sink += x[0];
    return 0;
}

static int op_derive(const struct shared *s)
{
    uint8_t x[OSAP_P384_SECRET_LEN];
    if (osap_p384_derive(s->server_key, s->device_pub, x)) return -1;
    sink += x[0];
    return 0;
}

static int op_handshake(const struct shared *s)
{
    char share[OSAP_SHARE_KEY_LEN];
    uint8_t pub[OSAP_P384_PUBKEY_LEN], shared_x[OSAP_P384_SECRET_LEN];
    uint8_t master[OSAP_MASTER_KEY_LEN], session[OSAP_SESSION_KEY_LEN];
    uint8_t enc[OSAP_P384_PUBKEY_LEN], tag[OSAP_GCM_TAG_LEN], mine[OSAP_SIGN_LEN];

    /* 0x1 -> 0x2 */
    if (osap_share_key(vcode, strlen(vcode), subserial, strlen(subserial), 1, share)) return -1;
    if (osap_gcm_ez_decrypt((const uint8_t *)share, s->enc_device_pub_tag, s->enc_device_pub,
                            sizeof(pub), pub))
        return -1;
    if (osap_p384_derive(s->server_key, pub, shared_x)) return -1;
    if (osap_master_key(shared_x, master)) return -1;
    if (osap_gcm_ez_encrypt((const uint8_t *)share, s->server_pub, sizeof(s->server_pub), tag, enc))
        return -1;
    /* 0x7 -> 0x8 */
    if (osap_sign(master, subserial, strlen(subserial), mine)) return -1;
    if (!osap_ct_equal(mine, s->device_sign, sizeof(mine))) return -1;
    if (osap_rng_fill(NULL, session, sizeof(session))) return -1;
    if (osap_gcm_ez_encrypt(master, devid, sizeof(devid), tag, enc)) return -1;
    if (osap_gcm_ez_encrypt(master, session, sizeof(session), tag, enc)) return -1;
    sink += enc[0];
    return 0;
}

/* One worker: wait for the common start, loop for the window, account CPU time. */
static void worker_run(const struct shared *s, clockid_t cpu_clock, struct result *r)
{
    struct evp_state e = {0};
    double t0, end, cpu0;
    long n = 0;
    int rc = 0;

    memset(r, 0, sizeof(*r));
    if (s->op == OP_EVP && evp_setup(&e) != 0) {
        r->failed = 1;
        evp_teardown(&e);
        return;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &s->start, NULL) == EINTR)
        ;
    t0 = ts_seconds(&s->start);
    end = t0 + s->seconds;
    cpu0 = clock_seconds(cpu_clock);
    do {
        for (int i = 0; i < 4 && rc == 0; i++) {
            switch (s->op) {
            case OP_EVP: rc = op_evp(&e); break;
            case OP_DERIVE: rc = op_derive(s); break;
            default: rc = op_handshake(s); break;
            }
            n++;
        }
    } while (rc == 0 && clock_seconds(CLOCK_MONOTONIC) < end);
    r->cpu_s = clock_seconds(cpu_clock) - cpu0;
    r->ops = n;
    r->failed = rc != 0;
    evp_teardown(&e);
}

/* ------------------------------------------------------------------ threads, processes */

struct thread_arg {
    const struct shared *s;
    struct result r;
};

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    worker_run(a->s, CLOCK_THREAD_CPUTIME_ID, &a->r);
    return NULL;
}

static void start_soon(struct shared *s)
{
    clock_gettime(CLOCK_MONOTONIC, &s->start);
    s->start.tv_nsec += 100000000L; /* 100 ms: every worker is set up by then */
    if (s->start.tv_nsec >= 1000000000L) {
        s->start.tv_sec++;
        s->start.tv_nsec -= 1000000000L;
    }
}

static int run_threads(struct shared *s, int n, struct result *total)
{
    pthread_t th[MAX_WORKERS];
    struct thread_arg args[MAX_WORKERS];
    int started = 0, rc = 0;

    start_soon(s);
    for (; started < n; started++) {
        args[started].s = s;
        if (pthread_create(&th[started], NULL, thread_main, &args[started]) != 0) {
            rc = -1;
            break;
        }
    }
    memset(total, 0, sizeof(*total));
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        total->ops += args[i].r.ops;
        total->cpu_s += args[i].r.cpu_s;
        total->failed |= args[i].r.failed;
    }
    return rc;
}

static int run_procs(struct shared *s, int n, struct result *total)
{
    int fds[2], rc = 0, started = 0;
    pid_t pids[MAX_WORKERS];

    if (pipe(fds) != 0) return -1;
    start_soon(s);
    fflush(stdout);
    for (; started < n; started++) {
        pid_t pid = fork();
        if (pid < 0) {
            rc = -1;
            break;
        }
        if (pid == 0) {
            struct result r;
            close(fds[0]);
            worker_run(s, CLOCK_PROCESS_CPUTIME_ID, &r);
            /* one small write: atomic on a pipe */
            _exit(write(fds[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
        }
        pids[started] = pid;
    }
    close(fds[1]);
    memset(total, 0, sizeof(*total));
    for (int i = 0; i < started; i++) {
        struct result r;
        if (read(fds[0], &r, sizeof(r)) != (ssize_t)sizeof(r)) {
            rc = -1;
            continue;
        }
        total->ops += r.ops;
        total->cpu_s += r.cpu_s;
        total->failed |= r.failed;
    }
    close(fds[0]);
    for (int i = 0; i < started; i++)
        waitpid(pids[i], NULL, 0);
    return rc;
}

/* One run; prints its line and returns ops/s and CPU microseconds per operation. */
static int run_once(struct shared *s, int procs, int n, double *ops_s, double *cpu_us)
{
    struct result t;
    int rc = procs ? run_procs(s, n, &t) : run_threads(s, n, &t);

    if (rc != 0 || t.failed || t.ops == 0) {
        fprintf(stderr, "osap-bench-crypto: a %s worker failed\n", procs ? "process" : "thread");
        return -1;
    }
    *ops_s = (double)t.ops / s->seconds;
    *cpu_us = t.cpu_s * 1e6 / (double)t.ops;
    printf("bench=crypto_parallel op=%s mode=%s n=%d ops=%ld ops_s=%.1f cpu_us_per_op=%.1f "
           "cores_used=%.2f\n",
           op_names[s->op], procs ? "procs" : "threads", n, t.ops, *ops_s, *cpu_us,
           t.cpu_s / s->seconds);
    fflush(stdout);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The server key, the device's key and its messages, made once before any worker. */
static int shared_setup(struct shared *s)
{
    osap_p384_key *device = NULL;
    char share[OSAP_SHARE_KEY_LEN];
    uint8_t x[OSAP_P384_SECRET_LEN], master[OSAP_MASTER_KEY_LEN];
    int rc = -1;

    if (osap_p384_generate(NULL, &s->server_key) || osap_p384_generate(NULL, &device)) goto out;
    if (osap_p384_public(s->server_key, s->server_pub) || osap_p384_public(device, s->device_pub))
        goto out;
    if (osap_share_key(vcode, strlen(vcode), subserial, strlen(subserial), 1, share) ||
        osap_gcm_ez_encrypt((const uint8_t *)share, s->device_pub, sizeof(s->device_pub),
                            s->enc_device_pub_tag, s->enc_device_pub))
        goto out;
    if (osap_p384_derive(device, s->server_pub, x) || osap_master_key(x, master) ||
        osap_sign(master, subserial, strlen(subserial), s->device_sign))
        goto out;
    rc = 0;
out:
    osap_p384_free(device);
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: osap-bench-crypto (--threads N | --procs N | --compare N)\n"
                    "                         [--op evp|derive|handshake] [--seconds S] "
                    "[--rounds R]\n");
}

int bench_parallel_main(int argc, char **argv)
{
    struct shared s;
    int threads = 0, procs = 0, compare = 0, rounds = 3, rc = 1;

    memset(&s, 0, sizeof(s));
    s.op = OP_DERIVE;
    s.seconds = 2.0;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            usage();
            return 2;
        }
        i++;
        if (strcmp(o, "--threads") == 0) {
            threads = atoi(v);
        } else if (strcmp(o, "--procs") == 0) {
            procs = atoi(v);
        } else if (strcmp(o, "--compare") == 0) {
            compare = atoi(v);
        } else if (strcmp(o, "--seconds") == 0) {
            s.seconds = atof(v);
        } else if (strcmp(o, "--rounds") == 0) {
            rounds = atoi(v);
        } else if (strcmp(o, "--op") == 0) {
            int k = 0;
            while (k < 3 && strcmp(v, op_names[k]) != 0)
                k++;
            if (k == 3) {
                usage();
                return 2;
            }
            s.op = (enum op)k;
        } else {
            usage();
            return 2;
        }
    }
    int n = threads ? threads : procs ? procs : compare;
    if ((!!threads + !!procs + !!compare) != 1 || n < 1 || n > MAX_WORKERS || s.seconds <= 0 ||
        rounds < 1 || rounds > MAX_ROUNDS) {
        usage();
        return 2;
    }
    if (shared_setup(&s) != 0) {
        fprintf(stderr, "osap-bench-crypto: key set-up failed\n");
        goto out;
    }
    if (!compare) {
        double ops_s, cpu_us;
        rc = run_once(&s, procs > 0, n, &ops_s, &cpu_us) ? 1 : 0;
        goto out;
    }
    double t_ops[MAX_ROUNDS], t_cpu[MAX_ROUNDS], p_ops[MAX_ROUNDS], p_cpu[MAX_ROUNDS];
    for (int r = 0; r < rounds; r++) {
        if (run_once(&s, 0, n, &t_ops[r], &t_cpu[r]) || run_once(&s, 1, n, &p_ops[r], &p_cpu[r]))
            goto out;
    }
    double to = median(t_ops, rounds), tc = median(t_cpu, rounds);
    double po = median(p_ops, rounds), pc = median(p_cpu, rounds);
    printf("bench=crypto_parallel op=%s n=%d rounds=%d threads_ops_s=%.1f procs_ops_s=%.1f "
           "threads_cpu_us=%.1f procs_cpu_us=%.1f cpu_ratio=%.3f\n",
           op_names[s.op], n, rounds, to, po, tc, pc, tc / pc);
    rc = 0;
out:
    osap_p384_free(s.server_key);
    return rc;
}
