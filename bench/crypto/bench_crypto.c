/*
 * osap-bench-crypto: throughput of the libosap crypto on this machine.
 *
 * For each operation it runs the libosap function and the same work written
 * directly against OpenSSL EVP (the way `openssl speed` does it: algorithms
 * fetched and contexts prepared outside the timed loop), in the same process,
 * alternating the two over three rounds and keeping the best round of each (so
 * that load from other processes hits both sides alike), and prints one line
 * per operation:
 *
 *   bench=crypto op=<name> bytes=<n> osap_ops_s=<x> evp_ops_s=<y> ratio=<x/y>
 *
 * Usage: osap-bench-crypto [seconds-per-operation-and-side]   (default 1.0)
 *        osap-bench-crypto (--threads N | --procs N | --compare N) [--op OP] ...
 *                                    (the parallel mode: bench_parallel.c)
 */
#include "bench_parallel.h"

#include "osap/crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double seconds = 1.0;
static volatile unsigned sink;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "osap-bench-crypto: %s failed\n", what);
    exit(1);
}

/* Run fn until the time budget is spent; return operations per second. */
static double measure(int (*fn)(void *), void *arg)
{
    long n = 0;
    double t0 = now(), t;
    do {
        for (int i = 0; i < 16; i++) {
            if (fn(arg) != 0) die("operation");
            n++;
        }
        t = now();
    } while (t - t0 < seconds);
    return (double)n / (t - t0);
}

#define ROUNDS 3

/* Best rate of each side over ROUNDS alternating rounds. */
static void compare(int (*osap_fn)(void *), int (*evp_fn)(void *), void *arg, double *osap,
                    double *evp)
{
    double budget = seconds;
    seconds = budget / ROUNDS;
    *osap = *evp = 0;
    for (int r = 0; r < ROUNDS; r++) {
        double o = measure(osap_fn, arg), e = measure(evp_fn, arg);
        if (o > *osap) *osap = o;
        if (e > *evp) *evp = e;
    }
    seconds = budget;
}

static void report(const char *op, size_t bytes, double osap, double evp)
{
    printf("bench=crypto op=%s bytes=%zu osap_ops_s=%.1f evp_ops_s=%.1f ratio=%.3f\n", op, bytes,
           osap, evp, osap / evp);
    fflush(stdout);
}

/* ------------------------------------------------------------------ ECDH */

struct derive_arg {
    osap_p384_key *key;
    uint8_t peer_pub[OSAP_P384_PUBKEY_LEN];
    EVP_PKEY_CTX *evp_ctx; /* private key and peer already set */
};

static int osap_derive(void *p)
{
    struct derive_arg *a = p;
    uint8_t x[48];
    if (osap_p384_derive(a->key, a->peer_pub, x)) return 1;
    sink += x[0];
    return 0;
}

static int evp_derive(void *p)
{
    struct derive_arg *a = p;
    uint8_t x[48];
    size_t n = sizeof(x);
    if (EVP_PKEY_derive(a->evp_ctx, x, &n) != 1) return 1;
    sink += x[0];
    return 0;
}

static void bench_derive(void)
{
    struct derive_arg a = {0};
    osap_p384_key *peer = NULL;
    EVP_PKEY *k1, *k2;

    if (osap_p384_generate(NULL, &a.key) || osap_p384_generate(NULL, &peer) ||
        osap_p384_public(peer, a.peer_pub))
        die("key generation");
    k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    k2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    if (!k1 || !k2) die("EVP key generation");
    a.evp_ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k1, NULL);
    if (!a.evp_ctx || EVP_PKEY_derive_init(a.evp_ctx) != 1 ||
        EVP_PKEY_derive_set_peer(a.evp_ctx, k2) != 1)
        die("EVP derive set-up");
    double o, e;
    compare(osap_derive, evp_derive, &a, &o, &e);
    report("p384_derive", 0, o, e);
    EVP_PKEY_CTX_free(a.evp_ctx);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    osap_p384_free(a.key);
    osap_p384_free(peer);
}

/* ------------------------------------------------------------------ key generation */

static int osap_generate(void *p)
{
    (void)p;
    osap_p384_key *k = NULL;
    uint8_t pub[OSAP_P384_PUBKEY_LEN];
    if (osap_p384_generate(NULL, &k) || osap_p384_public(k, pub)) return 1;
    sink += pub[1];
    osap_p384_free(k);
    return 0;
}

static int evp_generate(void *p)
{
    EVP_PKEY_CTX *ctx = p;
    EVP_PKEY *k = NULL;
    uint8_t pub[OSAP_P384_PUBKEY_LEN];
    size_t n = 0;
    if (EVP_PKEY_keygen(ctx, &k) != 1) return 1;
    /* the wire needs the encoded point, as osap_p384_public gives it */
    if (EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &n) != 1)
        return 1;
    sink += pub[1];
    EVP_PKEY_free(k);
    return 0;
}

static void bench_generate(void)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_CTX_set_group_name(ctx, "P-384") != 1)
        die("EVP keygen set-up");
    double o, e;
    compare(osap_generate, evp_generate, ctx, &o, &e);
    report("p384_generate", 0, o, e);
    EVP_PKEY_CTX_free(ctx);
}

/* ------------------------------------------------------------------ CBC-EZ */

struct cbc_arg {
    uint8_t key[16];
    uint8_t pt[1024];
    uint8_t ct[1024 + 16];
    uint8_t out[1024 + 16];
    size_t len, ct_len;
    EVP_CIPHER_CTX *ctx;
    EVP_CIPHER *cipher;
};

static int osap_cbc_enc(void *p)
{
    struct cbc_arg *a = p;
    size_t n;
    if (osap_cbc_ez_encrypt(a->key, a->pt, a->len, a->out, sizeof(a->out), &n)) return 1;
    sink += a->out[0];
    return 0;
}

static int osap_cbc_dec(void *p)
{
    struct cbc_arg *a = p;
    size_t n;
    if (osap_cbc_ez_decrypt(a->key, a->ct, a->ct_len, a->out, sizeof(a->out), &n)) return 1;
    sink += a->out[0];
    return 0;
}

/* Plain EVP: one long-lived context, a new key and IV per message, OpenSSL's padding. */
static int evp_cbc(void *p, int enc, const uint8_t *in, size_t len)
{
    struct cbc_arg *a = p;
    int n1 = 0, n2 = 0;
    if (!EVP_CipherInit_ex2(a->ctx, NULL, a->key, (const uint8_t *)OSAP_CBC_EZ_IV, enc, NULL))
        return 1;
    if (!EVP_CipherUpdate(a->ctx, a->out, &n1, in, (int)len)) return 1;
    if (!EVP_CipherFinal_ex(a->ctx, a->out + n1, &n2)) return 1;
    sink += a->out[0];
    return 0;
}

static int evp_cbc_enc(void *p)
{
    struct cbc_arg *a = p;
    return evp_cbc(p, 1, a->pt, a->len);
}

static int evp_cbc_dec(void *p)
{
    struct cbc_arg *a = p;
    return evp_cbc(p, 0, a->ct, a->ct_len);
}

static void bench_cbc(size_t len)
{
    struct cbc_arg *a = calloc(1, sizeof(*a));
    char name[64];
    if (!a) die("allocation");
    for (size_t i = 0; i < sizeof(a->key); i++)
        a->key[i] = (uint8_t)i;
    for (size_t i = 0; i < len; i++)
        a->pt[i] = (uint8_t)(i * 13);
    a->len = len;
    if (osap_cbc_ez_encrypt(a->key, a->pt, len, a->ct, sizeof(a->ct), &a->ct_len))
        die("CBC set-up");
    a->cipher = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL);
    a->ctx = EVP_CIPHER_CTX_new();
    if (!a->cipher || !a->ctx || !EVP_CipherInit_ex2(a->ctx, a->cipher, NULL, NULL, 1, NULL))
        die("EVP CBC set-up");

    snprintf(name, sizeof(name), "cbc_ez_encrypt_%zu", len);
    double o, e;
    compare(osap_cbc_enc, evp_cbc_enc, a, &o, &e);
    report(name, len, o, e);
    snprintf(name, sizeof(name), "cbc_ez_decrypt_%zu", len);
    compare(osap_cbc_dec, evp_cbc_dec, a, &o, &e);
    report(name, len, o, e);
    EVP_CIPHER_CTX_free(a->ctx);
    EVP_CIPHER_free(a->cipher);
    free(a);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strncmp(argv[1], "--", 2) == 0) return bench_parallel_main(argc - 1, argv + 1);
    if (argc > 1) {
        seconds = atof(argv[1]);
        if (seconds <= 0) {
            fprintf(stderr, "usage: %s [seconds-per-measurement]\n", argv[0]);
            return 2;
        }
    }
    bench_derive();
    bench_generate();
    bench_cbc(64);
    bench_cbc(1024);
    return 0;
}
