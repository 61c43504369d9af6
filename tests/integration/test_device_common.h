/*
 * What the scripted test devices (sdk-device, api-device) share: one
 * libosap-device device on its own thread, driven through standard input and
 * reporting on standard output one JSON object per line.
 */
#ifndef OSAP_TEST_DEVICE_COMMON_H
#define OSAP_TEST_DEVICE_COMMON_H

#include "osap/device.h"
#include "osap/device_port.h"

#include <getopt.h>
#include <stddef.h>

/* The long options every scripted device takes (getopt_long entries). */
#define TDEV_COMMON_OPTIONS                                                                   \
    {"lbs", required_argument, NULL, 'l'}, {"serial", required_argument, NULL, 's'},          \
        {"code", required_argument, NULL, 'c'}, {"licence", no_argument, NULL, 'L'},          \
        {"model", required_argument, NULL, 'm'}, {"state-dir", required_argument, NULL, 'd'}, \
    {                                                                                         \
        "keepalive", required_argument, NULL, 'k'                                             \
    }

/* A scripted device's settings from its command line. */
struct tdev_args {
    struct osap_device_config cfg;      /* lbs_host points into host once parsed */
    struct osap_device_posix_config pc; /* the POSIX port's state directory */
    char host[256];
};

/* Print one line (printf format) on standard output, whole, from any thread. */
void tdev_emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* JSON string escaping of @p s (NULL: empty) into @p out of @p cap bytes. */
void tdev_esc(const char *s, char *out, size_t cap);

/* Callbacks that print {"state":..,"reason":..} and {"acked":id}. */
void tdev_on_state(void *ud, enum osap_device_state st, osap_err why);
void tdev_on_acked(void *ud, uint64_t id);

/* Start @p a with the device type and firmware version the program reports. */
void tdev_args_init(struct tdev_args *a, const char *dev_type, const char *firmware);

/*
 * One option of TDEV_COMMON_OPTIONS into @p a: 1 when @p c is one of them,
 * 0 when it is not, -1 when its value is malformed.
 */
int tdev_args_option(struct tdev_args *a, int c, const char *arg);

/*
 * The commands "event DOMAIN IDENTIFIER JSON" and "attr DOMAIN IDENTIFIER
 * JSON" (@p cmd, the rest of the line in strtok_r's @p save): 1 when @p cmd
 * is one of them (answered), 0 otherwise.
 */
int tdev_command_report(osap_device_t *dev, const char *cmd, char **save);

/*
 * Create the device of @p a (port, callbacks state_changed/event_acked and
 * @p on_request), let @p setup (if not NULL) prepare it, run it on its own
 * thread and feed it the lines of standard input through @p command until that
 * returns non-zero or input ends; then a graceful stop and @p after (if not
 * NULL). Returns the exit status: 0, 1 (the device failed), 2 (usage).
 */
int tdev_run(struct tdev_args *a, const char *prog, osap_device_handler_fn on_request,
             int (*setup)(osap_device_t *dev), int (*command)(osap_device_t *dev, char *line),
             void (*after)(osap_device_t *dev));

#endif
