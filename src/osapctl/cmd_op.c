/* osapctl op call (invoke an operation on a device, in one round trip or with
 * --async) and request show (the outcome of an asynchronous request). */
#include "ctl.h"

#include "osap/alloc.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int op_call(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_devreq r = {.operation = true};
    const struct ctl_opt opts[] = {
        {"resource", 0, true, &r.resource, NULL},
        {"child", 0, true, &r.child, NULL},
        {"device-timeout", 0, true, &r.device_timeout, NULL},
        {"async", 0, false, NULL, &r.async},
        {NULL, 0, false, NULL, NULL},
    };
    struct ctl_args a;

    if (ctl_args_parse(ctl, argc, argv, opts, 3, 4, &a)) return ctl_usage_group("op");
    if (a.npos == 4 && ctl_json_arg("INPUT", a.pos[3])) return CTL_EUSAGE;
    r.serial = a.pos[0];
    r.domain = a.pos[1];
    r.identifier = a.pos[2];
    r.json = a.npos == 4 ? a.pos[3] : NULL;
    return ctl_devreq_run(ctl, &r);
}

int ctl_cmd_op(struct ctl *ctl, int argc, char **argv)
{
    if (strcmp(argv[0], "call") == 0) return op_call(ctl, argc - 1, argv + 1);
    ctl_error("unknown command 'op %s'", argv[0]);
    return ctl_usage_group("op");
}

/* ---- request show ---- */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The exit code of a request's status. */
static int status_exit(const char *id, const char *status)
{
    if (strcmp(status, "done") == 0 || strcmp(status, "pending") == 0) return CTL_OK;
    if (strcmp(status, "timeout") == 0) {
        ctl_error("request %s: the device did not answer in time", id);
        return CTL_ETIMEOUT;
    }
    if (strcmp(status, "offline") == 0) {
        ctl_error("request %s: the device was offline", id);
        return CTL_ETIMEOUT;
    }
    ctl_error("request %s: %s", id, status);
    return CTL_EAPI;
}

static int request_show(struct ctl *ctl, int argc, char **argv)
{
    bool wait = false;
    const struct ctl_opt opts[] = {
        {"wait", 0, false, NULL, &wait},
        {NULL, 0, false, NULL, NULL},
    };
    struct ctl_buf url = {0};
    struct ctl_args a;
    uint64_t id;
    int64_t deadline;
    int rc;

    if (ctl_args_parse(ctl, argc, argv, opts, 1, 1, &a)) return ctl_usage_group("request");
    if (ctl_parse_u64(a.pos[0], &id) || id == 0) {
        ctl_error("request show: ID must be a positive integer");
        return CTL_EUSAGE;
    }
    if (ctl_buf_printf(&url, "/api/v1/requests/%llu", (unsigned long long)id)) {
        ctl_error("out of memory");
        return CTL_EAPI;
    }
    deadline = ctl->timeout_s > 0 ? ctl_now_ms() + (int64_t)(ctl->timeout_s * 1000) : 0;
    for (;;) {
        struct ctl_request rq = {.method = "GET", .target = url.data};
        struct ctl_response resp;
        cJSON *o = NULL;
        const char *status;

        rc = ctl_call(ctl, &rq, &resp, &o);
        if (rc) {
            ctl_response_release(&resp);
            break;
        }
        status = ctl_json_str(o, "status", "?");
        if (wait && strcmp(status, "pending") == 0) {
            if (deadline && ctl_now_ms() + 250 > deadline) {
                ctl_error("request %s is still pending after %g s (--timeout)", a.pos[0],
                          ctl->timeout_s);
                rc = CTL_ETIMEOUT;
            } else {
                cJSON_Delete(o);
                ctl_response_release(&resp);
                sleep_ms(250);
                continue;
            }
        }
        if (ctl->json)
            ctl_print_body(&resp);
        else
            ctl_print_fields(o);
        if (!rc) rc = status_exit(a.pos[0], status);
        cJSON_Delete(o);
        ctl_response_release(&resp);
        break;
    }
    ctl_buf_release(&url);
    return rc;
}

int ctl_cmd_request(struct ctl *ctl, int argc, char **argv)
{
    if (strcmp(argv[0], "show") == 0) return request_show(ctl, argc - 1, argv + 1);
    ctl_error("unknown command 'request %s'", argv[0]);
    return ctl_usage_group("request");
}
