/* The process-wide log (see log.h). */
#include "log.h"

#include "osap/alloc.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

atomic_int osap__log_level = OSAP_LOG_INFO;

static atomic_bool log_json;
static uv_once_t log_once = UV_ONCE_INIT;
static uv_mutex_t log_mutex;
/* Guarded by log_mutex. */
static int log_fd = STDERR_FILENO;
static char *log_path;
static void (*log_sink)(const char *line, size_t len, void *userdata);
static void *log_sink_ud;
/* Set by tests before threads start. */
static int64_t (*log_clock)(void);

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static void log_init_once(void)
{
    (void)uv_mutex_init(&log_mutex);
}

static void lock(void)
{
    uv_once(&log_once, log_init_once);
    uv_mutex_lock(&log_mutex);
}

static void unlock(void)
{
    uv_mutex_unlock(&log_mutex);
}

/* ------------------------------------------------------------------------ */
/* Settings                                                                 */
/* ------------------------------------------------------------------------ */

const char *osap_log_level_name(enum osap_log_level level)
{
    if ((unsigned)level < sizeof(level_names) / sizeof(level_names[0])) return level_names[level];
    return "debug";
}

osap_err osap_log_level_parse(const char *name, enum osap_log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (enum osap_log_level)i;
            return OSAP_OK;
        }
    }
    return OSAP_EINVAL;
}

void osap_log_set_level(enum osap_log_level level)
{
    if (level > OSAP_LOG_DEBUG) level = OSAP_LOG_DEBUG;
    atomic_store(&osap__log_level, (int)level);
}

enum osap_log_level osap_log_get_level(void)
{
    return (enum osap_log_level)atomic_load(&osap__log_level);
}

static int open_log_file(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

osap_err osap_log_open(const struct osap_log_options *opt)
{
    char *path = NULL;
    int fd = STDERR_FILENO, old;

    if (osap_str_set(opt->file)) {
        path = osap_strdup(opt->file);
        if (!path) return OSAP_ENOMEM;
        fd = open_log_file(path);
        if (fd < 0) {
            osap_free(path);
            return errno == EACCES ? OSAP_EPERM : OSAP_EIO;
        }
    }
    lock();
    old = log_fd;
    log_fd = fd;
    osap_free(log_path);
    log_path = path;
    unlock();
    if (old != STDERR_FILENO && old != fd) close(old);
    atomic_store(&log_json, opt->json);
    osap_log_set_level(opt->level);
    return OSAP_OK;
}

osap_err osap_log_reopen(void)
{
    osap_err err = OSAP_OK;
    int old = -1;

    lock();
    if (log_path) {
        int fd = open_log_file(log_path);
        if (fd >= 0) {
            old = log_fd;
            log_fd = fd;
        } else {
            err = OSAP_EIO;
        }
    }
    unlock();
    if (old >= 0 && old != STDERR_FILENO) close(old);
    return err;
}

void osap_log_close(void)
{
    int old;
    lock();
    old = log_fd;
    log_fd = STDERR_FILENO;
    osap_free(log_path);
    log_path = NULL;
    unlock();
    if (old != STDERR_FILENO) close(old);
}

void osap_log_set_sink(void (*sink)(const char *line, size_t len, void *userdata), void *userdata)
{
    lock();
    log_sink = sink;
    log_sink_ud = userdata;
    unlock();
}

void osap_log_set_clock(int64_t (*now_ms)(void))
{
    log_clock = now_ms;
}

/* ------------------------------------------------------------------------ */
/* Line building                                                            */
/* ------------------------------------------------------------------------ */

/* Bytes kept free for the end of a cut line: `..."` + `}` + newline. */
#define TAIL_RESERVE 8

struct line {
    char buf[OSAP_LOG_LINE_MAX];
    size_t len;
    bool cut;
};

/* Room left for content (the tail reserve excluded). */
static size_t room(const struct line *l)
{
    size_t soft = sizeof(l->buf) - TAIL_RESERVE;
    return l->len < soft ? soft - l->len : 0;
}

static void put(struct line *l, const char *s, size_t n)
{
    if (l->cut) return;
    if (n > room(l)) {
        l->cut = true;
        return;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void puts_(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at @p s, or 0 when it is invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp, min;

    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
        min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        cp = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

/* Append @p s escaped: JSON string rules when @p json, otherwise text rules
 * (control characters and invalid UTF-8 as \n, \t, \r, \xNN; quotes and
 * backslashes escaped only when @p quoted). Stops at the first piece that does
 * not fit and marks the line cut. */
static void put_escaped(struct line *l, const char *s, size_t n, bool json, bool quoted)
{
    const unsigned char *p = (const unsigned char *)s;
    char esc[8];

    for (size_t i = 0; i < n && !l->cut;) {
        unsigned char c = p[i];
        size_t seq = utf8_seq(p + i, n - i);
        const char *e = NULL;

        if (seq > 1) {
            put(l, s + i, seq);
            i += seq;
            continue;
        }
        if (seq == 0) {
            if (json) {
                e = "\\ufffd";
            } else {
                snprintf(esc, sizeof(esc), "\\x%02x", c);
                e = esc;
            }
        } else if (c == '\n') {
            e = "\\n";
        } else if (c == '\r') {
            e = "\\r";
        } else if (c == '\t') {
            e = "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof(esc), json ? "\\u%04x" : "\\x%02x", c);
            e = esc;
        } else if ((c == '"' || c == '\\') && (json || quoted)) {
            e = c == '"' ? "\\\"" : "\\\\";
        }
        if (e)
            puts_(l, e);
        else
            put(l, s + i, 1);
        i++;
    }
}

static bool text_needs_quotes(const char *s)
{
    if (!*s) return true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == '"' || *p == '=' || *p == 0x7f) return true;
    return false;
}

/* Append one field; returns true when a cut left a JSON string open. */
static bool put_field(struct line *l, const struct osap_log_field *f, bool json)
{
    char num[24];
    const char *v = f->str ? f->str : "";
    size_t klen = strlen(f->key);

    if (f->is_num) snprintf(num, sizeof(num), "%" PRId64, f->num);
    /* A field starts only when its key (even fully escaped) and something of its
     * value fit, so a cut never leaves a key without a value. */
    if (room(l) < klen * 6 + (f->is_num ? strlen(num) : 1) + 6) {
        l->cut = true;
        return false;
    }
    if (json) {
        puts_(l, ",\"");
        put_escaped(l, f->key, klen, true, true);
        puts_(l, "\":");
        if (f->is_num) {
            puts_(l, num);
            return false;
        }
        puts_(l, "\"");
        put_escaped(l, v, strlen(v), true, true);
        if (l->cut) return true;
        puts_(l, "\"");
        return false;
    }
    puts_(l, " ");
    put_escaped(l, f->key, klen, false, false);
    puts_(l, "=");
    if (f->is_num) {
        puts_(l, num);
    } else if (text_needs_quotes(v)) {
        puts_(l, "\"");
        put_escaped(l, v, strlen(v), false, true);
        if (!l->cut) puts_(l, "\"");
    } else {
        put_escaped(l, v, strlen(v), false, false);
    }
    return false;
}

/* Finish a line: close what a cut left open, add the newline. The tail reserve
 * guarantees room. */
static void finish(struct line *l, bool json, bool in_string)
{
    const char *tail;
    if (json)
        tail = l->cut ? (in_string ? "...\"}\n" : "}\n") : "}\n";
    else
        tail = l->cut ? "...\n" : "\n";
    memcpy(l->buf + l->len, tail, strlen(tail));
    l->len += strlen(tail);
}

static void emit(const char *buf, size_t len)
{
    lock();
    if (log_sink) {
        log_sink(buf, len, log_sink_ud);
    } else {
        size_t off = 0;
        while (off < len) {
            ssize_t w = write(log_fd, buf + off, len - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;
            off += (size_t)w;
        }
    }
    unlock();
}

static void log_line(enum osap_log_level level, const char *component,
                     const struct osap_log_field *fields, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void log_line(enum osap_log_level level, const char *component,
                     const struct osap_log_field *fields, const char *fmt, va_list ap)
{
    struct line l;
    char msg[OSAP_LOG_LINE_MAX], ts[OSAP_ISO_TIME_LEN + 1];
    bool json = atomic_load_explicit(&log_json, memory_order_relaxed);
    bool msg_cut, in_string = false;
    const char *lname = osap_log_level_name(level);
    int n;

    if (!OSAP_LOG_ENABLED(level)) return;
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (n < 0) {
        n = 0;
        msg[0] = '\0';
    }
    msg_cut = (size_t)n >= sizeof(msg);
    osap_time_iso(log_clock ? log_clock() : osap_time_now_ms(), ts);
    if (!component) component = "osapd";

    l.len = 0;
    l.cut = false;
    if (json) {
        puts_(&l, "{\"ts\":\"");
        puts_(&l, ts);
        puts_(&l, "\",\"level\":\"");
        puts_(&l, lname);
        puts_(&l, "\",\"component\":\"");
        put_escaped(&l, component, strlen(component), true, true);
        puts_(&l, "\",\"msg\":\"");
        put_escaped(&l, msg, strlen(msg), true, true);
        if (msg_cut) l.cut = true;
        in_string = l.cut;
        if (!l.cut) puts_(&l, "\"");
    } else {
        puts_(&l, ts);
        puts_(&l, " ");
        puts_(&l, lname);
        puts_(&l, " ");
        put_escaped(&l, component, strlen(component), false, false);
        puts_(&l, ": ");
        put_escaped(&l, msg, strlen(msg), false, false);
        if (msg_cut) l.cut = true;
    }
    for (const struct osap_log_field *f = fields; f && f->key && !l.cut; f++)
        in_string = put_field(&l, f, json);
    finish(&l, json, in_string);
    emit(l.buf, l.len);
}

void osap_logv(enum osap_log_level level, const char *component, const char *fmt, va_list ap)
{
    log_line(level, component, NULL, fmt, ap);
}

void osap_log(enum osap_log_level level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(level, component, NULL, fmt, ap);
    va_end(ap);
}

void osap_log_kv(enum osap_log_level level, const char *component,
                 const struct osap_log_field *fields, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(level, component, fields, fmt, ap);
    va_end(ap);
}
