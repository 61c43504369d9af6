/* osapctl events query (stored events, filtered and paged) and events tail
 * (the live stream, Server-Sent Events, followed until interrupted and resumed
 * with Last-Event-ID after a disconnection). */
#include "ctl.h"

#include "osap/alloc.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- events query ---- */

static int event_row(void *userdata, const cJSON *e)
{
    struct ctl_table *t = userdata;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
    const cJSON *level = cJSON_GetObjectItemCaseSensitive(e, "level");
    char idtext[32] = "-", leveltext[16] = "-", name[80];
    char *payload = ctl_json_text(cJSON_GetObjectItemCaseSensitive(e, "payload"));
    const char *cells[7];
    int rc = CTL_OK;

    if (cJSON_IsNumber(id)) snprintf(idtext, sizeof(idtext), "%.0f", id->valuedouble);
    if (cJSON_IsNumber(level)) snprintf(leveltext, sizeof(leveltext), "%.0f", level->valuedouble);
    snprintf(name, sizeof(name), "%s/%s", ctl_json_str(e, "domain", "?"),
             ctl_json_str(e, "identifier", "?"));
    cells[0] = idtext;
    cells[1] = ctl_json_str(e, "received_at", "-");
    cells[2] = ctl_json_str(e, "serial", "-");
    cells[3] = ctl_json_str(e, "resource", "-");
    cells[4] = name;
    cells[5] = leveltext;
    cells[6] = payload ? payload : "?";
    if (ctl_table_row(t, cells)) {
        ctl_error("out of memory");
        rc = CTL_EAPI;
    }
    osap_free(payload);
    return rc;
}

static int events_query(struct ctl *ctl, int argc, char **argv)
{
    const char *serial = NULL, *domain = NULL, *identifier = NULL, *level = NULL, *since = NULL,
               *until = NULL, *limit = NULL, *cursor = NULL;
    bool all = false;
    const struct ctl_opt opts[] = {
        {"serial", 0, true, &serial, NULL},
        {"domain", 0, true, &domain, NULL},
        {"identifier", 0, true, &identifier, NULL},
        {"level", 0, true, &level, NULL},
        {"since", 0, true, &since, NULL},
        {"until", 0, true, &until, NULL},
        {"limit", 0, true, &limit, NULL},
        {"cursor", 0, true, &cursor, NULL},
        {"all", 0, false, NULL, &all},
        {NULL, 0, false, NULL, NULL},
    };
    static const char *const heads[] = {"ID",    "RECEIVED", "SERIAL",  "RESOURCE",
                                        "EVENT", "LEVEL",    "PAYLOAD", NULL};
    struct ctl_buf url = {0};
    struct ctl_table t;
    struct ctl_args a;
    uint64_t n;
    int rc;

    if (ctl_args_parse(ctl, argc, argv, opts, 0, 0, &a)) return ctl_usage_group("events");
    if (limit && (ctl_parse_u64(limit, &n) || n == 0)) {
        ctl_error("--limit: expected a positive integer");
        return CTL_EUSAGE;
    }
    if (level && ctl_parse_u64(level, &n)) {
        ctl_error("--level: expected a non-negative integer");
        return CTL_EUSAGE;
    }
    if (ctl_buf_puts(&url, "/api/v1/events") || ctl_url_query(&url, "serial", serial) ||
        ctl_url_query(&url, "domain", domain) || ctl_url_query(&url, "identifier", identifier) ||
        ctl_url_query(&url, "level", level) || ctl_url_query(&url, "since", since) ||
        ctl_url_query(&url, "until", until) || ctl_url_query(&url, "limit", limit)) {
        ctl_buf_release(&url);
        ctl_error("out of memory");
        return CTL_EAPI;
    }
    ctl_table_init(&t, heads);
    t.max_width[6] = 60;
    rc = ctl_list(ctl, url.data, cursor, all, event_row, &t);
    if (!rc && !ctl->json) ctl_table_print(&t, false);
    ctl_table_release(&t);
    ctl_buf_release(&url);
    return rc;
}

/* ---- events tail ---- */

static volatile int interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

struct tail {
    const struct ctl *ctl;
    struct ctl_sse sse;
    uint64_t count, seen;
    bool done;
    bool fatal; /* a message over the ceiling: resuming would meet it again */
};

/* A cleaned copy of device text for one output line. */
static void clean(char *s)
{
    for (unsigned char *p = (unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) *p = '?';
}

static void print_line(const char *ev, const cJSON *d)
{
    char line[1024];
    char *value = NULL;
    const cJSON *v;

    if (strcmp(ev, "event") == 0) {
        value = ctl_json_text(cJSON_GetObjectItemCaseSensitive(d, "payload"));
        v = cJSON_GetObjectItemCaseSensitive(d, "level");
        snprintf(line, sizeof(line), "%s  event      %s  %s %s/%s level %.0f  %s",
                 ctl_json_str(d, "received_at", "-"), ctl_json_str(d, "serial", "?"),
                 ctl_json_str(d, "resource", "-"), ctl_json_str(d, "domain", "?"),
                 ctl_json_str(d, "identifier", "?"), cJSON_IsNumber(v) ? v->valuedouble : 0.0,
                 value ? value : "?");
    } else if (strcmp(ev, "status") == 0) {
        v = cJSON_GetObjectItemCaseSensitive(d, "online");
        snprintf(line, sizeof(line), "%s  %-9s  %s  %s", ctl_json_str(d, "time", "-"),
                 cJSON_IsTrue(v) ? "online" : "offline", ctl_json_str(d, "serial", "?"),
                 ctl_json_str(d, "address", ""));
    } else if (strcmp(ev, "attribute") == 0) {
        char version[32] = "";
        value = ctl_json_text(cJSON_GetObjectItemCaseSensitive(d, "value"));
        v = cJSON_GetObjectItemCaseSensitive(d, "version");
        if (cJSON_IsNumber(v))
            snprintf(version, sizeof(version), " (version %.0f)", v->valuedouble);
        snprintf(line, sizeof(line), "%s  attribute  %s  %s %s/%s = %s%s",
                 ctl_json_str(d, "reported_at", "-"), ctl_json_str(d, "serial", "?"),
                 ctl_json_str(d, "resource", "-"), ctl_json_str(d, "domain", "?"),
                 ctl_json_str(d, "identifier", "?"), value ? value : "?", version);
    } else {
        snprintf(line, sizeof(line), "%s", ev);
    }
    clean(line);
    puts(line);
    osap_free(value);
}

static int on_message(void *userdata, const struct ctl_sse_event *ev)
{
    struct tail *t = userdata;
    cJSON *d = cJSON_Parse(ev->data);

    if (t->ctl->json) {
        /* {"type":..., "id":..., "data":<the API's JSON>} */
        printf("{\"type\":");
        {
            cJSON *s = cJSON_CreateString(ev->event);
            char *text = ctl_json_text(s);
            fputs(text ? text : "\"?\"", stdout);
            osap_free(text);
            cJSON_Delete(s);
        }
        if (ev->id[0] && strspn(ev->id, "0123456789") == strlen(ev->id))
            printf(",\"id\":%s", ev->id);
        else
            printf(",\"id\":null");
        if (d && strpbrk(ev->data, "\r\n")) {
            /* data spread over several lines: one line per record */
            char *text = ctl_json_text(d);
            printf(",\"data\":%s}\n", text ? text : "null");
            osap_free(text);
        } else {
            printf(",\"data\":%s}\n", d ? ev->data : "null");
        }
    } else if (d) {
        print_line(ev->event, d);
    }
    fflush(stdout);
    cJSON_Delete(d);
    t->seen++;
    if (t->count && t->seen >= t->count) {
        t->done = true;
        return 1; /* stop */
    }
    return 0;
}

static int tail_sink(void *userdata, const char *data, size_t len)
{
    struct tail *t = userdata;
    int rc = ctl_sse_feed(&t->sse, data, len);

    if (rc == 1) return 1;
    if (rc) {
        ctl_error("the event stream sent a message larger than %u bytes", CTL_SSE_MAX);
        t->fatal = true;
        return CTL_ECONN;
    }
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (!interrupted && nanosleep(&ts, &ts) != 0)
        ;
}

static int events_tail(struct ctl *ctl, int argc, char **argv)
{
    const char *serial = NULL, *types = NULL, *last_id = NULL, *count = NULL;
    const struct ctl_opt opts[] = {
        {"serial", 0, true, &serial, NULL},
        {"types", 0, true, &types, NULL},
        {"last-event-id", 0, true, &last_id, NULL},
        {"count", 0, true, &count, NULL},
        {NULL, 0, false, NULL, NULL},
    };
    struct sigaction sa;
    struct ctl_buf url = {0};
    struct ctl_args a;
    struct tail t;
    uint64_t n;
    long backoff = 0;
    bool connected_once = false;
    int rc = CTL_OK;

    if (ctl_args_parse(ctl, argc, argv, opts, 0, 0, &a)) return ctl_usage_group("events");
    memset(&t, 0, sizeof(t));
    t.ctl = ctl;
    if (count && (ctl_parse_u64(count, &t.count) || t.count == 0)) {
        ctl_error("--count: expected a positive integer");
        return CTL_EUSAGE;
    }
    if (last_id && ctl_parse_u64(last_id, &n)) {
        ctl_error("--last-event-id: expected an event id");
        return CTL_EUSAGE;
    }
    if (ctl_buf_puts(&url, "/api/v1/events/stream") || ctl_url_query(&url, "serial", serial) ||
        ctl_url_query(&url, "types", types)) {
        ctl_error("out of memory");
        return CTL_EAPI;
    }
    ctl_sse_init(&t.sse, on_message, &t);
    if (last_id) snprintf(t.sse.last_id, sizeof(t.sse.last_id), "%s", last_id);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    while (!interrupted && !t.done) {
        struct ctl_request rq = {
            .method = "GET",
            .target = url.data,
            .accept = "text/event-stream",
            .last_event_id = t.sse.last_id[0] ? t.sse.last_id : NULL,
            .sink = tail_sink,
            .sink_userdata = &t,
            .timeout_s = -1,
            .interrupted = &interrupted,
        };
        struct ctl_response resp;

        ctl_sse_reset(&t.sse);
        rc = ctl_http(ctl, &rq, &resp);
        if (rc == 1 && t.done) rc = CTL_OK; /* --count reached */
        if (!rc && resp.status) rc = ctl_check(ctl, &resp);
        if (resp.status >= 200 && resp.status < 300) {
            connected_once = true;
            backoff = 0;
        }
        ctl_response_release(&resp);
        if (interrupted || t.done) {
            rc = CTL_OK;
            break;
        }
        if (rc == CTL_EAPI || rc == CTL_ETIMEOUT || t.fatal || (rc && !connected_once)) break;
        /* The stream ended (caught up, or the platform closed it) or the
         * connection broke: resume after the last event seen. */
        backoff = backoff ? (backoff * 2 > 10000 ? 10000 : backoff * 2) : 250;
        if (rc) fprintf(stderr, "osapctl: reconnecting in %ld ms\n", backoff);
        sleep_ms(rc ? backoff : 100);
        rc = CTL_OK;
    }
    ctl_sse_release(&t.sse);
    ctl_buf_release(&url);
    return rc;
}

int ctl_cmd_events(struct ctl *ctl, int argc, char **argv)
{
    if (strcmp(argv[0], "query") == 0) return events_query(ctl, argc - 1, argv + 1);
    if (strcmp(argv[0], "tail") == 0) return events_tail(ctl, argc - 1, argv + 1);
    ctl_error("unknown command 'events %s'", argv[0]);
    return ctl_usage_group("events");
}
