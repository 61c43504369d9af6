/*
 * lbs-harness: the real LBS service (osapd-lbs) in a small program whose
 * randomness, server ECDH key, devid and DAS information are fixed through the
 * service's hooks, so that a test can replay a golden transcript byte for byte
 * over TCP (test_lbs_replay.py). Production settings are not involved: the
 * hooks are what osapd never passes.
 *
 *   lbs-harness -d DATA_DIR [--set SECTION.KEY=VALUE]...
 *               [--device MODE:SERIAL:SECRET[:DEVID:MASTER_KEY[:CASE]]]...
 *               [--ecdh-private HEX48] [--devid TEXT32] [--rng HEX]
 *               [--das ADDRESS,PORT,UDP_PORT,DOMAIN,SERVER_ID]
 *
 * MODE is sap or licence; CASE is upper, lower or any (accepted share-key case);
 * DEVID or MASTER_KEY may be "-" for none. --rng bytes are handed out in order and
 * repeat. Prints "port N" on standard output once listening, then runs until
 * SIGTERM/SIGINT and stops the service gracefully (exit 0).
 */
#include "config_core.h"
#include "lbs/lbs.h"
#include "lbs/lbs_config.h"
#include "log.h"
#include "osap/alloc.h"
#include "osap/crypto.h"
#include "service.h"
#include "store.h"
#include "test_hex.h"

#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS 32

struct fixed {
    uint8_t priv[OSAP_P384_SECRET_LEN];
    bool has_priv;
    char devid[OSAP_DEVID_LEN + 1];
    uint8_t *rng;
    size_t rng_len, rng_pos;
    pthread_mutex_t rng_mu;
    bool has_das;
    struct osap_lbs_das_info das;
};

static struct fixed fixed = {.rng_mu = PTHREAD_MUTEX_INITIALIZER};

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "lbs-harness: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return 2;
}

/* ------------------------------------------------------------------------ */
/* Hooks                                                                    */
/* ------------------------------------------------------------------------ */

static osap_err rng_fill(void *ud, uint8_t *buf, size_t len)
{
    struct fixed *f = ud;

    pthread_mutex_lock(&f->rng_mu);
    for (size_t i = 0; i < len; i++) {
        buf[i] = f->rng[f->rng_pos];
        f->rng_pos = (f->rng_pos + 1) % f->rng_len;
    }
    pthread_mutex_unlock(&f->rng_mu);
    return OSAP_OK;
}

static const struct osap_rng fixed_rng = {rng_fill, &fixed};

static osap_err key_acquire(void *ud, osap_p384_key **key)
{
    struct fixed *f = ud;
    return osap_p384_from_private(f->priv, key);
}

static void key_release(void *ud, osap_p384_key *key)
{
    osap_p384_free(key);
}

static osap_err allocate_devid(void *ud, const char *subserial, uint8_t devid[OSAP_DEVID_LEN])
{
    struct fixed *f = ud;
    memcpy(devid, f->devid, OSAP_DEVID_LEN);
    return OSAP_OK;
}

static osap_err das_info(void *ud, const char *subserial, struct osap_lbs_das_info *out)
{
    struct fixed *f = ud;
    *out = f->das;
    return OSAP_OK;
}

/* ------------------------------------------------------------------------ */
/* Set-up                                                                   */
/* ------------------------------------------------------------------------ */

/* MODE:SERIAL:SECRET[:DEVID:MASTER_KEY[:CASE]]; licence serials contain ':' too,
 * so the fields are taken from the ends. */
static int provision(struct osap_store *st, const char *spec)
{
    char buf[512], *f[8];
    size_t n = 0;
    struct osap_device d;
    enum osap_share_key_case sk = OSAP_SHARE_KEY_CASE_UNKNOWN;
    const char *devid = NULL, *mk = NULL;
    osap_err err;

    if (strlen(spec) >= sizeof(buf)) return die("--device: too long: %s", spec);
    strcpy(buf, spec);
    for (char *p = strtok(buf, ":"); p && n < 8; p = strtok(NULL, ":"))
        f[n++] = p;
    memset(&d, 0, sizeof(d));
    if (n < 3) return die("--device: expected MODE:SERIAL:SECRET...: %s", spec);
    d.auth_mode = strcmp(f[0], "licence") == 0 ? OSAP_AUTH_LICENCE : OSAP_AUTH_SAP;
    /* a licence serial is "productKey:deviceName": two fields */
    if (d.auth_mode == OSAP_AUTH_LICENCE) {
        if (n < 4) return die("--device: licence serial needs productKey:deviceName: %s", spec);
        snprintf(d.serial, sizeof(d.serial), "%s:%s", f[1], f[2]);
        memmove(&f[1], &f[2], (n - 2) * sizeof(f[0]));
        n--;
    } else {
        snprintf(d.serial, sizeof(d.serial), "%s", f[1]);
    }
    snprintf(d.secret, sizeof(d.secret), "%s", f[2]);
    if (n >= 5) {
        devid = strcmp(f[3], "-") ? f[3] : NULL;
        mk = strcmp(f[4], "-") ? f[4] : NULL;
    }
    if (n >= 6) {
        if (strcmp(f[5], "upper") == 0) sk = OSAP_SHARE_KEY_CASE_UPPER;
        if (strcmp(f[5], "lower") == 0) sk = OSAP_SHARE_KEY_CASE_LOWER;
    }
    err = osap_store_device_add(st, &d);
    if (!err && (devid || mk || sk != OSAP_SHARE_KEY_CASE_UNKNOWN))
        err = osap_store_device_set_keys(st, d.serial, devid, mk, sk);
    if (err) return die("--device: cannot provision: %s", osap_strerror(err));
    return 0;
}

static int parse_das(const char *spec)
{
    char buf[320];
    char *f[5];
    size_t n = 0;

    if (strlen(spec) >= sizeof(buf)) return die("--das: too long: %s", spec);
    strcpy(buf, spec);
    for (char *p = strtok(buf, ","); p && n < 5; p = strtok(NULL, ","))
        f[n++] = p;
    if (n != 5) return die("--das: expected ADDRESS,PORT,UDP_PORT,DOMAIN,SERVER_ID: %s", spec);
    snprintf(fixed.das.address, sizeof(fixed.das.address), "%s", f[0]);
    fixed.das.port = (uint16_t)atoi(f[1]);
    fixed.das.udp_port = (uint16_t)atoi(f[2]);
    snprintf(fixed.das.domain, sizeof(fixed.das.domain), "%s", f[3]);
    snprintf(fixed.das.server_id, sizeof(fixed.das.server_id), "%s", f[4]);
    fixed.has_das = true;
    return 0;
}

static int apply_set(struct osap_config *cfg, const char *set)
{
    char section[64], key[64];
    const char *dot = strchr(set, '.'), *eq = strchr(set, '=');

    if (!dot || !eq || dot > eq || (size_t)(dot - set) >= sizeof(section) ||
        (size_t)(eq - dot - 1) >= sizeof(key))
        return die("--set: expected SECTION.KEY=VALUE: %s", set);
    memcpy(section, set, (size_t)(dot - set));
    section[dot - set] = '\0';
    memcpy(key, dot + 1, (size_t)(eq - dot - 1));
    key[eq - dot - 1] = '\0';
    if (osap_config_set(cfg, section, key, eq + 1, "--set") != OSAP_OK)
        return die("%s", osap_config_errors(cfg));
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'd'}, {"set", required_argument, NULL, 's'},
        {"device", required_argument, NULL, 'D'},   {"ecdh-private", required_argument, NULL, 'k'},
        {"devid", required_argument, NULL, 'i'},    {"rng", required_argument, NULL, 'r'},
        {"das", required_argument, NULL, 'a'},      {NULL, 0, NULL, 0},
    };
    const char *sets[MAX_ITEMS], *devices[MAX_ITEMS], *data = NULL;
    size_t n_sets = 0, n_devices = 0, len;
    struct osap_config *cfg = NULL;
    struct osapd_context *ctx = NULL;
    struct osapd_lbs *lbs = NULL;
    struct osap_store *st = NULL;
    struct osapd_lbs_hooks hooks;
    struct osap_log_options log = {OSAP_LOG_DEBUG, NULL, false};
    uint8_t *raw;
    int c, rc = 1;
    osap_err err;

    while ((c = getopt_long(argc, argv, "d:", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 's':
            if (n_sets == MAX_ITEMS) return die("too many %s", "--set");
            sets[n_sets++] = optarg;
            break;
        case 'D':
            if (n_devices == MAX_ITEMS) return die("too many %s", "--device");
            devices[n_devices++] = optarg;
            break;
        case 'k':
            raw = test_unhex(optarg, &len);
            if (!raw || len != OSAP_P384_SECRET_LEN) return die("--ecdh-private: %s", optarg);
            memcpy(fixed.priv, raw, len);
            osap_free(raw);
            fixed.has_priv = true;
            break;
        case 'i':
            if (strlen(optarg) != OSAP_DEVID_LEN) return die("--devid: 32 characters: %s", optarg);
            memcpy(fixed.devid, optarg, OSAP_DEVID_LEN + 1);
            break;
        case 'r':
            osap_free(fixed.rng);
            fixed.rng = test_unhex(optarg, &fixed.rng_len);
            if (!fixed.rng || !fixed.rng_len) return die("--rng: %s", optarg);
            break;
        case 'a':
            if (parse_das(optarg)) return 2;
            break;
        default: return 2;
        }
    }
    if (!data) return die("%s", "usage: lbs-harness -d DATA_DIR [options] (see the source)");
    osap_log_open(&log);

    if (osap_config_new(&cfg) || osap_config_register(cfg, &osap_core_settings) ||
        osap_config_register(cfg, &osap_store_settings) ||
        osap_config_register(cfg, &lbs_config_table))
        goto out;
    if (osap_config_set(cfg, "osapd", "data_dir", data, "-d") != OSAP_OK) {
        die("%s", osap_config_errors(cfg));
        goto out;
    }
    for (size_t i = 0; i < n_sets; i++)
        if (apply_set(cfg, sets[i])) goto out;

    err = osap_store_open(osap_config_section(cfg, "store"), data, &st);
    if (err) {
        die("cannot open the store: %s", osap_strerror(err));
        goto out;
    }
    for (size_t i = 0; i < n_devices; i++)
        if (provision(st, devices[i])) goto out;
    osap_store_close(st);
    st = NULL;

    memset(&hooks, 0, sizeof(hooks));
    hooks.userdata = &fixed;
    if (fixed.rng) hooks.rng = &fixed_rng;
    if (fixed.has_priv) {
        hooks.key_acquire = key_acquire;
        hooks.key_release = key_release;
    }
    if (fixed.devid[0]) hooks.allocate_devid = allocate_devid;
    if (fixed.has_das) hooks.das_info = das_info;

    if (osapd_context_new(cfg, &ctx) != OSAP_OK) goto out;
    err = osapd_lbs_start(ctx, &hooks, &lbs);
    if (err) {
        die("cannot start the LBS: %s", osap_strerror(err));
        goto out;
    }
    printf("port %d\n", osapd_lbs_port(lbs));
    fflush(stdout);
    osapd_context_run(ctx); /* until SIGTERM or SIGINT */
    osapd_lbs_stop(lbs);
    rc = 0;
out:
    osap_store_close(st);
    osapd_context_free(ctx);
    osap_config_free(cfg);
    osap_free(fixed.rng);
    osap_log_close();
    return rc;
}
