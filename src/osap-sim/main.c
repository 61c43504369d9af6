/*
 * osap-sim: OSAP device simulator and load generator on libosap-device.
 *
 *   osap-sim identities --count N --seed S [--prefix P] [--licence] [--profile NAME]
 *   osap-sim --lbs HOST:PORT --count N --seed S [options]
 *
 * See docs/man/osap-sim.1.
 */
#include "sim.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_DEVICES 1000000u

static const char usage_text[] =
    "usage: osap-sim identities --count N --seed S [--prefix P] [--licence] [--profile NAME]\n"
    "       osap-sim --lbs HOST:PORT --count N --seed S [--prefix P] [--licence]\n"
    "                [--profile camera|sensor|nvr|doorbell] [--duration SECONDS]\n"
    "                [--threads T] [--source-base ADDR --source-count K] [--state-dir DIR]\n"
    "                [--storm | --ramp PER_SECOND] [--event-rate PER_MINUTE]\n"
    "                [--report-interval SECONDS] [--reply-latency MS] [--error-rate FRACTION]\n"
    "                [--keepalive SECONDS] [--message-max BYTES]\n"
    "                [--fsync always|interval|never] [--quiet]\n"
    "identities prints serial,code,model lines for `osapd device import`; the same seed\n"
    "(and prefix, licence flag) gives the same devices in both modes.\n";

static int usage(FILE *out, int rc)
{
    fputs(usage_text, out);
    return rc;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    if (!s || !*s || *s == '-') return -1;
    v = strtoull(s, &end, 10);
    if (errno || *end || v > max) return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;

    errno = 0;
    if (!s || !*s) return -1;
    v = strtod(s, &end);
    if (errno || *end || !(v >= lo && v <= hi)) return -1;
    *out = v;
    return 0;
}

static int parse_hostport(const char *s, const char **host, uint16_t *port)
{
    static char buf[256];
    const char *colon = strrchr(s, ':');
    uint64_t p;

    if (!colon || colon == s || (size_t)(colon - s) >= sizeof(buf)) return -1;
    if (parse_u64(colon + 1, 65535, &p) || p == 0) return -1;
    memcpy(buf, s, (size_t)(colon - s));
    buf[colon - s] = '\0';
    *host = buf;
    *port = (uint16_t)p;
    return 0;
}

enum {
    OPT_LBS = 256,
    OPT_COUNT,
    OPT_SEED,
    OPT_PREFIX,
    OPT_LICENCE,
    OPT_PROFILE,
    OPT_DURATION,
    OPT_THREADS,
    OPT_SOURCE_BASE,
    OPT_SOURCE_COUNT,
    OPT_STATE_DIR,
    OPT_STORM,
    OPT_RAMP,
    OPT_EVENT_RATE,
    OPT_REPORT_INTERVAL,
    OPT_REPLY_LATENCY,
    OPT_ERROR_RATE,
    OPT_KEEPALIVE,
    OPT_MESSAGE_MAX,
    OPT_FSYNC,
    OPT_QUIET,
    OPT_HELP,
};

static const struct option long_opts[] = {
    {"lbs", required_argument, NULL, OPT_LBS},
    {"count", required_argument, NULL, OPT_COUNT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"prefix", required_argument, NULL, OPT_PREFIX},
    {"licence", no_argument, NULL, OPT_LICENCE},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"source-base", required_argument, NULL, OPT_SOURCE_BASE},
    {"source-count", required_argument, NULL, OPT_SOURCE_COUNT},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"storm", no_argument, NULL, OPT_STORM},
    {"ramp", required_argument, NULL, OPT_RAMP},
    {"event-rate", required_argument, NULL, OPT_EVENT_RATE},
    {"report-interval", required_argument, NULL, OPT_REPORT_INTERVAL},
    {"reply-latency", required_argument, NULL, OPT_REPLY_LATENCY},
    {"error-rate", required_argument, NULL, OPT_ERROR_RATE},
    {"keepalive", required_argument, NULL, OPT_KEEPALIVE},
    {"message-max", required_argument, NULL, OPT_MESSAGE_MAX},
    {"fsync", required_argument, NULL, OPT_FSYNC},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int bad(const char *what, const char *value)
{
    fprintf(stderr, "osap-sim: invalid %s: %s\n", what, value ? value : "(missing)");
    return 2;
}

static int prefix_ok(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > 16) return 0;
    for (const char *c = p; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
            return 0;
    return 1;
}

static int cmd_identities(const struct sim_options *o, int have_count, int have_seed)
{
    if (!have_count || !have_seed) return usage(stderr, 2);
    for (uint32_t i = 0; i < o->count; i++) {
        struct sim_identity id;
        sim_identity_make(o->seed, i, o->prefix, o->licence, o->profile->model, &id);
        printf("%s,%s,%s\n", id.serial, id.code, id.model);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct sim_options o;
    int identities = 0, have_count = 0, have_seed = 0, c;
    uint64_t v;

    memset(&o, 0, sizeof(o));
    o.prefix = "SIM";
    o.profile = sim_profile_find("camera");
    o.ramp_per_s = 100;
    o.event_per_min = 1;
    o.report_interval_s = 60;
    o.keepalive_s = 30;
    o.message_max = 4096;
    o.fsync = OSAP_DEVICE_FSYNC_INTERVAL;
    o.source_count = 1;

    if (argc > 1 && strcmp(argv[1], "identities") == 0) {
        identities = 1;
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_LBS:
            if (parse_hostport(optarg, &o.lbs_host, &o.lbs_port)) return bad("--lbs", optarg);
            break;
        case OPT_COUNT:
            if (parse_u64(optarg, MAX_DEVICES, &v) || v == 0) return bad("--count", optarg);
            o.count = (uint32_t)v;
            have_count = 1;
            break;
        case OPT_SEED:
            if (parse_u64(optarg, UINT64_MAX, &v)) return bad("--seed", optarg);
            o.seed = v;
            have_seed = 1;
            break;
        case OPT_PREFIX:
            if (!prefix_ok(optarg)) return bad("--prefix (1..16 letters and digits)", optarg);
            o.prefix = optarg;
            break;
        case OPT_LICENCE: o.licence = 1; break;
        case OPT_PROFILE:
            o.profile = sim_profile_find(optarg);
            if (!o.profile) return bad("--profile", optarg);
            break;
        case OPT_DURATION:
            if (parse_double(optarg, 0, 1e9, &o.duration_s)) return bad("--duration", optarg);
            break;
        case OPT_THREADS:
            if (parse_u64(optarg, 256, &v) || v == 0) return bad("--threads", optarg);
            o.threads = (unsigned)v;
            break;
        case OPT_SOURCE_BASE: o.source_base = optarg; break;
        case OPT_SOURCE_COUNT:
            if (parse_u64(optarg, 250, &v) || v == 0) return bad("--source-count", optarg);
            o.source_count = (unsigned)v;
            break;
        case OPT_STATE_DIR: o.state_dir = optarg; break;
        case OPT_STORM: o.storm = 1; break;
        case OPT_RAMP:
            if (parse_double(optarg, 0.001, 1e6, &o.ramp_per_s)) return bad("--ramp", optarg);
            break;
        case OPT_EVENT_RATE:
            if (parse_double(optarg, 0, 1e6, &o.event_per_min)) return bad("--event-rate", optarg);
            break;
        case OPT_REPORT_INTERVAL:
            if (parse_double(optarg, 0, 1e7, &o.report_interval_s))
                return bad("--report-interval", optarg);
            break;
        case OPT_REPLY_LATENCY:
            if (parse_u64(optarg, 3600000, &v)) return bad("--reply-latency", optarg);
            o.reply_latency_ms = (uint32_t)v;
            break;
        case OPT_ERROR_RATE:
            if (parse_double(optarg, 0, 1, &o.error_rate)) return bad("--error-rate", optarg);
            break;
        case OPT_KEEPALIVE:
            if (parse_u64(optarg, 65535, &v) || v == 0) return bad("--keepalive", optarg);
            o.keepalive_s = (uint16_t)v;
            break;
        case OPT_MESSAGE_MAX:
            if (parse_u64(optarg, 1u << 20, &v) || v < 2048) return bad("--message-max", optarg);
            o.message_max = (size_t)v;
            break;
        case OPT_FSYNC:
            if (strcmp(optarg, "always") == 0)
                o.fsync = OSAP_DEVICE_FSYNC_ALWAYS;
            else if (strcmp(optarg, "interval") == 0)
                o.fsync = OSAP_DEVICE_FSYNC_INTERVAL;
            else if (strcmp(optarg, "never") == 0)
                o.fsync = OSAP_DEVICE_FSYNC_NEVER;
            else
                return bad("--fsync", optarg);
            break;
        case OPT_QUIET: o.quiet = 1; break;
        case OPT_HELP: return usage(stdout, 0);
        default: return usage(stderr, 2);
        }
    }
    if (optind != argc) return usage(stderr, 2);
    if (identities) return cmd_identities(&o, have_count, have_seed);
    if (!o.lbs_host || !have_count || !have_seed) return usage(stderr, 2);
    o.status_tty = isatty(STDOUT_FILENO);
    return sim_fleet_run(&o);
}
