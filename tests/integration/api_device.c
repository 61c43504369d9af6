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
#include "test_device_common.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t mode_mu = PTHREAD_MUTEX_INITIALIZER;
static char reply_mode[32] = "echo";
static char *attrs[16];
static size_t nattrs;

static bool mode_valid(const char *m)
{
    char *end;
    if (strcmp(m, "echo") == 0 || strcmp(m, "hang") == 0) return true;
    if (strncmp(m, "code:", 5) != 0 || !m[5]) return false;
    strtol(m + 5, &end, 10);
    return *end == '\0';
}

static int on_request(void *ud, const struct osap_device_request *req, char *out, size_t cap,
                      size_t *out_len)
{
    char j[4096], d[64], i[64], r[160], mode[32];
    (void)ud;

    tdev_esc(req->json, j, sizeof(j));
    tdev_esc(req->key.domain, d, sizeof(d));
    tdev_esc(req->key.identifier, i, sizeof(i));
    tdev_esc(req->key.resource ? req->key.resource : "0-global", r, sizeof(r));
    tdev_emit(
        "{\"request\":{\"kind\":%d,\"resource\":\"%s\",\"domain\":\"%s\",\"identifier\":\"%s\","
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
            tdev_emit("{\"error\":\"usage\"}");
            return 0;
        }
        pthread_mutex_lock(&mode_mu);
        snprintf(reply_mode, sizeof(reply_mode), "%s", m);
        pthread_mutex_unlock(&mode_mu);
        tdev_emit("{\"reply\":\"%s\"}", m);
        return 0;
    }
    if (tdev_command_report(dev, cmd, &save)) return 0;
    tdev_emit("{\"error\":\"unknown command\"}");
    return 0;
}

/* Each --attr DOMAIN.IDENTIFIER[@RESOURCE], declared with on_request as its handler. */
static int declare_attrs(osap_device_t *dev)
{
    for (size_t i = 0; i < nattrs; i++) {
        char *at = strchr(attrs[i], '@'), *dot = strchr(attrs[i], '.');
        struct osap_device_key k = {NULL, attrs[i], dot + 1};
        *dot = '\0';
        if (at) {
            *at = '\0';
            k.resource = at + 1;
        }
        if (osap_device_on_attribute(dev, &k, on_request, NULL) != OSAP_OK) return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        TDEV_COMMON_OPTIONS,
        {"reply", required_argument, NULL, 'r'},
        {"attr", required_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    struct tdev_args a;
    int c;

    tdev_args_init(&a, "OSAP-API-TEST", "V1.0.0 build api-test");
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int known = tdev_args_option(&a, c, optarg);
        if (known < 0) return 2;
        if (known) continue;
        switch (c) {
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
    return tdev_run(&a, "api-device", on_request, declare_attrs, command, NULL);
}
