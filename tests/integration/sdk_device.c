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
#include "test_device_common.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int on_request(void *ud, const struct osap_device_request *req, char *out, size_t cap,
                      size_t *out_len)
{
    char j[2048];
    (void)ud;
    tdev_esc(req->json, j, sizeof(j));
    tdev_emit(
        "{\"request\":{\"kind\":%d,\"resource\":\"%s\",\"domain\":\"%s\",\"identifier\":\"%s\","
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
    tdev_emit("{\"stats\":{\"state\":\"%s\",\"last_path\":\"%c\",\"last_error\":\"%s\","
              "\"lbs_attempts\":%" PRIu64 ",\"lbs_failures\":%" PRIu64 ",\"das_attempts\":%" PRIu64
              ",\"das_failures\":%" PRIu64 ",\"online_count\":%" PRIu64
              ",\"connection_losses\":%" PRIu64 ",\"events_raised\":%" PRIu64
              ",\"events_sent\":%" PRIu64 ",\"events_acked\":%" PRIu64 ",\"events_queued\":%" PRIu32
              ",\"reports_sent\":%" PRIu64 ",\"requests\":%" PRIu64 "}}",
              osap_device_state_name(s.state), s.last_path ? (char)s.last_path : '-',
              osap_errname(s.last_error), s.lbs_attempts, s.lbs_failures, s.das_attempts,
              s.das_failures, s.online_count, s.connection_losses, s.events_raised, s.events_sent,
              s.events_acked, s.events_queued, s.reports_sent, s.requests);
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
    if (tdev_command_report(dev, cmd, &save)) return 0;
    tdev_emit("{\"error\":\"unknown command\"}");
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        TDEV_COMMON_OPTIONS,
        {"fsync", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    struct tdev_args a;
    int c;

    tdev_args_init(&a, "OSAP-SDK-TEST", "V1.0.0 build sdk-test");
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int known = tdev_args_option(&a, c, optarg);
        if (known < 0) return 2;
        if (known) continue;
        switch (c) {
        case 'f':
            a.cfg.queue.fsync = strcmp(optarg, "never") == 0      ? OSAP_DEVICE_FSYNC_NEVER
                                : strcmp(optarg, "interval") == 0 ? OSAP_DEVICE_FSYNC_INTERVAL
                                                                  : OSAP_DEVICE_FSYNC_ALWAYS;
            break;
        default: return 2;
        }
    }
    return tdev_run(&a, "sdk-device", on_request, NULL, command, print_stats);
}
