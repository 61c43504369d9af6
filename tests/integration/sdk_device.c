/*
 * sdk-device: one device of libosap-device on its own thread
 * (osap_device_run_thread), driven by the integration tests through standard
 * input and reporting on standard output, one JSON object per line.
 *
 *   sdk-device --lbs HOST:PORT --serial S --code C [--licence] [--model M]
 *              [--state-dir DIR] [--keepalive S] [--fsync always|interval|never]
 *
 * Commands (one per line on standard input):
 *   event DOMAIN IDENTIFIER JSON   raise an event          -> {"raised":id}
 *   attr DOMAIN IDENTIFIER JSON    report an attribute     -> {"reported":"D.I"}
 *   stats                          counters                -> {"stats":{...}}
 *   stop                           graceful stop, then exit 0
 * Lines printed by themselves:
 *   {"state":"online","reason":"OK"}   every state change
 *   {"acked":id}                       an event acknowledged by the server
 *   {"request":{"kind":k,"domain":..,"identifier":..,"json":..}}  a server request
 * End of input also stops the device.
 */
#include "osap/device.h"
#include "osap/device_port.h"

#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void emit(const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&out_mu);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    pthread_mutex_unlock(&out_mu);
}

/* JSON string escaping of @p s into @p out. */
static void esc(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (; *s && o + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
}

static void on_state(void *ud, enum osap_device_state st, osap_err why)
{
    (void)ud;
    emit("{\"state\":\"%s\",\"reason\":\"%s\"}", osap_device_state_name(st), osap_errname(why));
}

static void on_acked(void *ud, uint64_t id)
{
    (void)ud;
    emit("{\"acked\":%" PRIu64 "}", id);
}

static int on_request(void *ud, const struct osap_device_request *req, char *out, size_t cap,
                      size_t *out_len)
{
    char j[2048];
    (void)ud;
    esc(req->json, j, sizeof(j));
    emit("{\"request\":{\"kind\":%d,\"resource\":\"%s\",\"domain\":\"%s\",\"identifier\":\"%s\","
         "\"seq\":%" PRIu32 ",\"json\":\"%s\"}}",
         (int)req->kind, req->key.resource, req->key.domain, req->key.identifier, req->seq, j);
    if (req->kind == OSAP_DEVICE_REQ_OPERATE && req->json_len + 16 < cap)
        *out_len = (size_t)snprintf(out, cap, "{\"echo\":%s}", req->json);
    return 0;
}

static void print_stats(osap_device_t *dev)
{
    struct osap_device_stats s;
    osap_device_stats(dev, &s);
    emit("{\"stats\":{\"state\":\"%s\",\"last_path\":\"%c\",\"last_error\":\"%s\","
         "\"lbs_attempts\":%" PRIu64 ",\"lbs_failures\":%" PRIu64 ",\"das_attempts\":%" PRIu64
         ",\"das_failures\":%" PRIu64 ",\"online_count\":%" PRIu64 ",\"connection_losses\":%" PRIu64
         ",\"events_raised\":%" PRIu64 ",\"events_sent\":%" PRIu64 ",\"events_acked\":%" PRIu64
         ",\"events_queued\":%" PRIu32 ",\"reports_sent\":%" PRIu64 ",\"requests\":%" PRIu64 "}}",
         osap_device_state_name(s.state), s.last_path ? (char)s.last_path : '-',
         osap_errname(s.last_error), s.lbs_attempts, s.lbs_failures, s.das_attempts, s.das_failures,
         s.online_count, s.connection_losses, s.events_raised, s.events_sent, s.events_acked,
         s.events_queued, s.reports_sent, s.requests);
}

static int command(osap_device_t *dev, char *line)
{
    char *save = NULL, *cmd = strtok_r(line, " \n", &save);
    if (!cmd) return 0;
    if (strcmp(cmd, "stop") == 0) return 1;
    if (strcmp(cmd, "stats") == 0) {
        print_stats(dev);
        return 0;
    }
    if (strcmp(cmd, "event") == 0 || strcmp(cmd, "attr") == 0) {
        char *d = strtok_r(NULL, " ", &save), *i = strtok_r(NULL, " ", &save);
        char *json = strtok_r(NULL, "\n", &save);
        struct osap_device_key k = {NULL, d, i};
        osap_err err;
        uint64_t id = 0;
        if (!d || !i || !json) {
            emit("{\"error\":\"usage\"}");
            return 0;
        }
        if (cmd[0] == 'e') {
            err = osap_device_event_raise(dev, &k, json, &id);
            if (err)
                emit("{\"error\":\"%s\"}", osap_errname(err));
            else
                emit("{\"raised\":%" PRIu64 "}", id);
        } else {
            err = osap_device_attr_report(dev, &k, json);
            if (err)
                emit("{\"error\":\"%s\"}", osap_errname(err));
            else
                emit("{\"reported\":\"%s.%s\"}", d, i);
        }
        return 0;
    }
    emit("{\"error\":\"unknown command\"}");
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"lbs", required_argument, NULL, 'l'},
        {"serial", required_argument, NULL, 's'},
        {"code", required_argument, NULL, 'c'},
        {"licence", no_argument, NULL, 'L'},
        {"model", required_argument, NULL, 'm'},
        {"state-dir", required_argument, NULL, 'd'},
        {"keepalive", required_argument, NULL, 'k'},
        {"fsync", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    struct osap_device_posix_config pc = {NULL, NULL};
    struct osap_device_port port;
    struct osap_device_config cfg;
    osap_device_t *dev = NULL;
    char host[256] = "", line[8192];
    int c, rc = 1;

    memset(&cfg, 0, sizeof(cfg));
    cfg.dev_type = "OSAP-SDK-TEST";
    cfg.firmware_version = "V1.0.0 build sdk-test";
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l': {
            char *colon = strrchr(optarg, ':');
            if (!colon) return 2;
            snprintf(host, sizeof(host), "%.*s", (int)(colon - optarg), optarg);
            cfg.lbs_port = (uint16_t)atoi(colon + 1);
            break;
        }
        case 's': cfg.subserial = optarg; break;
        case 'c': cfg.vcode = optarg; break;
        case 'L': cfg.auth_mode = OSAP_LBS_AUTH_MODE_LICENCE; break;
        case 'm': cfg.dev_type = optarg; break;
        case 'd': pc.state_dir = optarg; break;
        case 'k': cfg.keepalive_s = (uint16_t)atoi(optarg); break;
        case 'f':
            cfg.queue.fsync = strcmp(optarg, "never") == 0      ? OSAP_DEVICE_FSYNC_NEVER
                              : strcmp(optarg, "interval") == 0 ? OSAP_DEVICE_FSYNC_INTERVAL
                                                                : OSAP_DEVICE_FSYNC_ALWAYS;
            break;
        default: return 2;
        }
    }
    if (!host[0] || !cfg.subserial || !cfg.vcode) {
        fprintf(stderr, "usage: sdk-device --lbs HOST:PORT --serial S --code C [...]\n");
        return 2;
    }
    cfg.lbs_host = host;
    if (osap_device_port_posix_new(&pc, &port) != OSAP_OK) return 1;
    cfg.port = &port;
    cfg.cb.state_changed = on_state;
    cfg.cb.event_acked = on_acked;
    cfg.cb.request = on_request;
    if (osap_device_new(&cfg, &dev) != OSAP_OK) goto out;
    if (osap_device_run_thread(dev) != OSAP_OK) goto out;
    while (fgets(line, sizeof(line), stdin))
        if (command(dev, line)) break;
    osap_device_join_thread(dev, 5000);
    print_stats(dev);
    rc = 0;
out:
    osap_device_free(dev);
    osap_device_port_posix_free(&port);
    return rc;
}
