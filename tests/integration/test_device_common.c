/*
 * What the scripted test devices share: output lines, JSON escaping, the
 * common options, the event/attr commands and the device's lifetime.
 */
#include "test_device_common.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

void tdev_emit(const char *fmt, ...)
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

void tdev_esc(const char *s, char *out, size_t cap)
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

void tdev_on_state(void *ud, enum osap_device_state st, osap_err why)
{
    (void)ud;
    tdev_emit("{\"state\":\"%s\",\"reason\":\"%s\"}", osap_device_state_name(st),
              osap_errname(why));
}

void tdev_on_acked(void *ud, uint64_t id)
{
    (void)ud;
    tdev_emit("{\"acked\":%" PRIu64 "}", id);
}

void tdev_args_init(struct tdev_args *a, const char *dev_type, const char *firmware)
{
    memset(a, 0, sizeof(*a));
    a->cfg.dev_type = dev_type;
    a->cfg.firmware_version = firmware;
}

int tdev_args_option(struct tdev_args *a, int c, const char *arg)
{
    switch (c) {
    case 'l': {
        const char *colon = strrchr(arg, ':');
        if (!colon) return -1;
        snprintf(a->host, sizeof(a->host), "%.*s", (int)(colon - arg), arg);
        a->cfg.lbs_port = (uint16_t)atoi(colon + 1);
        return 1;
    }
    case 's': a->cfg.subserial = arg; return 1;
    case 'c': a->cfg.vcode = arg; return 1;
    case 'L': a->cfg.auth_mode = OSAP_LBS_AUTH_MODE_LICENCE; return 1;
    case 'm': a->cfg.dev_type = arg; return 1;
    case 'd': a->pc.state_dir = arg; return 1;
    case 'k': a->cfg.keepalive_s = (uint16_t)atoi(arg); return 1;
    default: return 0;
    }
}

int tdev_command_report(osap_device_t *dev, const char *cmd, char **save)
{
    char *d, *i, *json;
    struct osap_device_key k;
    uint64_t id = 0;
    osap_err err;

    if (strcmp(cmd, "event") != 0 && strcmp(cmd, "attr") != 0) return 0;
    d = strtok_r(NULL, " ", save);
    i = strtok_r(NULL, " ", save);
    json = strtok_r(NULL, "\n", save);
    if (!d || !i || !json) {
        tdev_emit("{\"error\":\"usage\"}");
        return 1;
    }
    k.resource = NULL;
    k.domain = d;
    k.identifier = i;
    if (cmd[0] == 'e') {
        err = osap_device_event_raise(dev, &k, json, &id);
        if (err)
            tdev_emit("{\"error\":\"%s\"}", osap_errname(err));
        else
            tdev_emit("{\"raised\":%" PRIu64 "}", id);
    } else {
        err = osap_device_attr_report(dev, &k, json);
        if (err)
            tdev_emit("{\"error\":\"%s\"}", osap_errname(err));
        else
            tdev_emit("{\"reported\":\"%s.%s\"}", d, i);
    }
    return 1;
}

int tdev_run(struct tdev_args *a, const char *prog, osap_device_handler_fn on_request,
             int (*setup)(osap_device_t *dev), int (*command)(osap_device_t *dev, char *line),
             void (*after)(osap_device_t *dev))
{
    struct osap_device_port port;
    osap_device_t *dev = NULL;
    char line[8192];
    int rc = 1;

    if (!a->host[0] || !a->cfg.subserial || !a->cfg.vcode) {
        fprintf(stderr, "usage: %s --lbs HOST:PORT --serial S --code C [...]\n", prog);
        return 2;
    }
    a->cfg.lbs_host = a->host;
    if (osap_device_port_posix_new(&a->pc, &port) != OSAP_OK) return 1;
    a->cfg.port = &port;
    a->cfg.cb.state_changed = tdev_on_state;
    a->cfg.cb.event_acked = tdev_on_acked;
    a->cfg.cb.request = on_request;
    if (osap_device_new(&a->cfg, &dev) != OSAP_OK) goto out;
    if (setup && setup(dev) != 0) goto out;
    if (osap_device_run_thread(dev) != OSAP_OK) goto out;
    while (fgets(line, sizeof(line), stdin))
        if (command(dev, line)) break;
    osap_device_join_thread(dev, 5000);
    if (after) after(dev);
    rc = 0;
out:
    osap_device_free(dev);
    osap_device_port_posix_free(&port);
    return rc;
}
