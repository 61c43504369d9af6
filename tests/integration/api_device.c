/*
 * api-device: one libosap-device device on its own thread for the platform API
 * tests (test_api_*.py), driven through standard input, reporting on standard
 * output one JSON object per line. Unlike sdk-device it chooses how it answers
 * the server's requests, so that the tests can see codes, outputs and time-outs.
 *
 *   api-device --lbs HOST:PORT --serial S --code C [--licence] [--model M]
 *              [--state-dir DIR] [--keepalive S] [--reply MODE]
 *              [--attr DOMAIN.IDENTIFIER[@RESOURCE]]...
 *
 * Reply modes: "echo" (default: code 0; an operation answers {"echo":<input>}),
 * "code:N" (code N, no output), "hang" (never answer: the platform times out).
 * --attr declares an attribute (with a set handler), so that the device asks
 * for the desired values of its resource when it comes online (shadow query).
 *
 * Commands (one per line):
 *   event DOMAIN IDENTIFIER JSON   raise an event        -> {"raised":id}
 *   attr DOMAIN IDENTIFIER JSON    report an attribute   -> {"reported":"D.I"}
 *   reply MODE                     change the reply mode -> {"reply":"MODE"}
 *   stop                           graceful stop, then exit 0
 * Printed by themselves:
 *   {"state":"online","reason":"OK"}  every state change
 *   {"acked":id}                      an event acknowledged by the server (PUBACK)
 *   {"request":{"kind":k,"resource":..,"domain":..,"identifier":..,
 *               "seq":n,"json":".."}}  a request from the server
 */
#include "osap/device.h"
#include "osap/device_port.h"

#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mode_mu = PTHREAD_MUTEX_INITIALIZER;
static char reply_mode[32] = "echo";

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

static void esc(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (; s && *s && o + 7 < cap; s++) {
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

static bool mode_valid(const char *m)
{
    char *end;
    if (strcmp(m, "echo") == 0 || strcmp(m, "hang") == 0) return true;
    if (strncmp(m, "code:", 5) != 0 || !m[5]) return false;
    strtol(m + 5, &end, 10);
    return *end == '\0';
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
    char j[4096], d[64], i[64], r[160], mode[32];
    (void)ud;

    esc(req->json, j, sizeof(j));
    esc(req->key.domain, d, sizeof(d));
    esc(req->key.identifier, i, sizeof(i));
    esc(req->key.resource ? req->key.resource : "0-global", r, sizeof(r));
    emit("{\"request\":{\"kind\":%d,\"resource\":\"%s\",\"domain\":\"%s\",\"identifier\":\"%s\","
         "\"seq\":%" PRIu32 ",\"json\":\"%s\"}}",
         (int)req->kind, r, d, i, req->seq, j);
    if (req->kind == OSAP_DEVICE_REQ_DESIRED) return 0;
    pthread_mutex_lock(&mode_mu);
    memcpy(mode, reply_mode, sizeof(mode));
    pthread_mutex_unlock(&mode_mu);
    if (strcmp(mode, "hang") == 0) return OSAP_DEVICE_REPLY_LATER;
    if (strncmp(mode, "code:", 5) == 0) return atoi(mode + 5);
    if (req->kind == OSAP_DEVICE_REQ_OPERATE && req->json_len + 16 < cap)
        *out_len = (size_t)snprintf(out, cap, "{\"echo\":%s}", req->json);
    return 0;
}

static int command(osap_device_t *dev, char *line)
{
    char *save = NULL, *cmd = strtok_r(line, " \n", &save);

    if (!cmd) return 0;
    if (strcmp(cmd, "stop") == 0) return 1;
    if (strcmp(cmd, "reply") == 0) {
        char *m = strtok_r(NULL, " \n", &save);
        if (!m || !mode_valid(m) || strlen(m) >= sizeof(reply_mode)) {
            emit("{\"error\":\"usage\"}");
            return 0;
        }
        pthread_mutex_lock(&mode_mu);
        snprintf(reply_mode, sizeof(reply_mode), "%s", m);
        pthread_mutex_unlock(&mode_mu);
        emit("{\"reply\":\"%s\"}", m);
        return 0;
    }
    if (strcmp(cmd, "event") == 0 || strcmp(cmd, "attr") == 0) {
        char *d = strtok_r(NULL, " ", &save), *i = strtok_r(NULL, " ", &save);
        char *json = strtok_r(NULL, "\n", &save);
        struct osap_device_key k = {NULL, d, i};
        uint64_t id = 0;
        osap_err err;

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
        {"lbs", required_argument, NULL, 'l'},       {"serial", required_argument, NULL, 's'},
        {"code", required_argument, NULL, 'c'},      {"licence", no_argument, NULL, 'L'},
        {"model", required_argument, NULL, 'm'},     {"state-dir", required_argument, NULL, 'd'},
        {"keepalive", required_argument, NULL, 'k'}, {"reply", required_argument, NULL, 'r'},
        {"attr", required_argument, NULL, 'a'},      {NULL, 0, NULL, 0},
    };
    struct osap_device_posix_config pc = {NULL, NULL};
    struct osap_device_port port;
    struct osap_device_config cfg;
    osap_device_t *dev = NULL;
    char host[256] = "", line[8192];
    char *attrs[16];
    size_t nattrs = 0;
    int c, rc = 1;

    memset(&cfg, 0, sizeof(cfg));
    cfg.dev_type = "OSAP-API-TEST";
    cfg.firmware_version = "V1.0.0 build api-test";
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
        case 'r':
            if (!mode_valid(optarg) || strlen(optarg) >= sizeof(reply_mode)) return 2;
            snprintf(reply_mode, sizeof(reply_mode), "%s", optarg);
            break;
        case 'a':
            if (nattrs == sizeof(attrs) / sizeof(attrs[0]) || !strchr(optarg, '.')) return 2;
            attrs[nattrs++] = optarg;
            break;
        default: return 2;
        }
    }
    if (!host[0] || !cfg.subserial || !cfg.vcode) {
        fprintf(stderr, "usage: api-device --lbs HOST:PORT --serial S --code C [...]\n");
        return 2;
    }
    cfg.lbs_host = host;
    if (osap_device_port_posix_new(&pc, &port) != OSAP_OK) return 1;
    cfg.port = &port;
    cfg.cb.state_changed = on_state;
    cfg.cb.event_acked = on_acked;
    cfg.cb.request = on_request;
    if (osap_device_new(&cfg, &dev) != OSAP_OK) goto out;
    for (size_t i = 0; i < nattrs; i++) {
        char *at = strchr(attrs[i], '@'), *dot = strchr(attrs[i], '.');
        struct osap_device_key k = {NULL, attrs[i], dot + 1};
        *dot = '\0';
        if (at) {
            *at = '\0';
            k.resource = at + 1;
        }
        if (osap_device_on_attribute(dev, &k, on_request, NULL) != OSAP_OK) goto out;
    }
    if (osap_device_run_thread(dev) != OSAP_OK) goto out;
    while (fgets(line, sizeof(line), stdin))
        if (command(dev, line)) break;
    osap_device_join_thread(dev, 5000);
    rc = 0;
out:
    osap_device_free(dev);
    osap_device_port_posix_free(&port);
    return rc;
}
