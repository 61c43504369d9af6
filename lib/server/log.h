/*
 * osapd's log: one line per event, to standard error or to a file.
 *
 * Text:  2026-11-29T05:09:35.123Z info lbs: device Q123 authenticated path=A
 * JSON:  {"ts":"2026-11-29T05:09:35.123Z","level":"info","component":"lbs",
 *         "msg":"device Q123 authenticated","path":"A"}      (on one line)
 *
 * Levels: error, warn, info, debug. Key/value fields (osap_log_kv) follow the
 * message as key=value in text (quoted when needed) and as members in JSON.
 * Control characters and invalid UTF-8 are escaped in both formats, so a device
 * cannot forge log lines. A line is at most OSAP_LOG_LINE_MAX bytes; longer
 * messages are cut and end with "...".
 *
 * Thread-safe: every line is formatted on the caller's stack and written with one
 * write(2) under a mutex, so lines never interleave. The level test is an atomic
 * load: use the OSAP_LOG* macros, which skip formatting (and the evaluation of the
 * arguments) when the level is disabled.
 *
 * Never log secrets: verification codes, licences, keys, passwords, tokens.
 */
#ifndef OSAP_SERVER_LOG_H
#define OSAP_SERVER_LOG_H

#include "osap/err.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Severity, most severe first. */
enum osap_log_level {
    OSAP_LOG_ERROR = 0,
    OSAP_LOG_WARN = 1,
    OSAP_LOG_INFO = 2,
    OSAP_LOG_DEBUG = 3,
};

/** Longest line written, newline included. */
#define OSAP_LOG_LINE_MAX 4096

/** Where and how to log. */
struct osap_log_options {
    enum osap_log_level level;
    const char *file; /* NULL or "" = standard error */
    bool json;
};

/** A key/value field. Use the OSAP_LOG_STR/OSAP_LOG_INT constructors inside
 *  OSAP_LOG_FIELDS(...). */
struct osap_log_field {
    const char *key; /* NULL ends an array of fields */
    const char *str; /* string value (NULL is written as "") */
    int64_t num;     /* integer value */
    bool is_num;     /* which of the two */
};

#define OSAP_LOG_STR(k, v) ((struct osap_log_field){(k), (v), 0, false})
#define OSAP_LOG_INT(k, v) ((struct osap_log_field){(k), NULL, (int64_t)(v), true})
/** A NULL-terminated array of fields, e.g.
 *  OSAP_LOG_FIELDS(OSAP_LOG_STR("serial", sn), OSAP_LOG_INT("port", 8666)). */
#define OSAP_LOG_FIELDS(...) ((const struct osap_log_field[]){__VA_ARGS__, {NULL, NULL, 0, false}})

/** Set the destination, format and level. Opens @p opt->file for appending
 *  (created with mode 0640). On failure the previous destination is kept. */
osap_err osap_log_open(const struct osap_log_options *opt);

/** Reopen the log file by name (after it was moved away: SIGHUP). No-op when
 *  logging to standard error. Async-signal-unsafe: call from a loop callback. */
osap_err osap_log_reopen(void);

/** Log to standard error again and close the file, if any. */
void osap_log_close(void);

/** Change the level (thread-safe). */
void osap_log_set_level(enum osap_log_level level);
enum osap_log_level osap_log_get_level(void);

/** Parse "error", "warn", "info", "debug". */
osap_err osap_log_level_parse(const char *name, enum osap_log_level *out);
/** The name of @p level. */
const char *osap_log_level_name(enum osap_log_level level);

/** Log one event from @p component ("lbs", "store", ...). */
void osap_log(enum osap_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void osap_logv(enum osap_log_level level, const char *component, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/** Log one event with key/value fields (NULL-terminated array, may be NULL). */
void osap_log_kv(enum osap_log_level level, const char *component,
                 const struct osap_log_field *fields, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** A function that receives every complete line (newline included) instead of the
 *  file descriptor; for tests and in-process log streaming. NULL restores the
 *  normal output. Called under the log mutex: it must not log. */
void osap_log_set_sink(void (*sink)(const char *line, size_t len, void *userdata), void *userdata);

/** Replace the clock used for timestamps (milliseconds since the epoch); NULL
 *  restores the wall clock. For tests. */
void osap_log_set_clock(int64_t (*now_ms)(void));

/* Internal: the current level, read by the macros. */
extern atomic_int osap__log_level;

/** True when events at @p level are written. */
#define OSAP_LOG_ENABLED(level) \
    ((int)(level) <= atomic_load_explicit(&osap__log_level, memory_order_relaxed))

/** Log when enabled; arguments are not evaluated otherwise. */
#define OSAP_LOG(level, component, ...)                                           \
    do {                                                                          \
        if (OSAP_LOG_ENABLED(level)) osap_log((level), (component), __VA_ARGS__); \
    } while (0)
#define OSAP_LOG_KV(level, component, fields, ...)                                             \
    do {                                                                                       \
        if (OSAP_LOG_ENABLED(level)) osap_log_kv((level), (component), (fields), __VA_ARGS__); \
    } while (0)
#define OSAP_LOGE(component, ...) OSAP_LOG(OSAP_LOG_ERROR, component, __VA_ARGS__)
#define OSAP_LOGW(component, ...) OSAP_LOG(OSAP_LOG_WARN, component, __VA_ARGS__)
#define OSAP_LOGI(component, ...) OSAP_LOG(OSAP_LOG_INFO, component, __VA_ARGS__)
#define OSAP_LOGD(component, ...) OSAP_LOG(OSAP_LOG_DEBUG, component, __VA_ARGS__)

#endif /* OSAP_SERVER_LOG_H */
