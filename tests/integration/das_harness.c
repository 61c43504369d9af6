/*
 * das-harness: osapd's services (as configured) plus a control channel on
 * standard input for the platform side of the DAS (das_api.h), so that a test can
 * send requests to devices and watch what ingest commits. A test program only:
 * osapd itself has no such channel.
 *
 *   das-harness -c CONFIG
 *
 * Prints "ready" once the services run. Commands, one per line:
 *   request ID set|operate|shadow SERIAL CHILD RESOURCE DOMAIN IDENTIFIER TIMEOUT_MS JSON
 *       (CHILD, RESOURCE "-" = defaults; JSON is the rest of the line, "-" = none)
 *       -> "result ID ERR CODE SEQ OUTPUT" when it completes (ERR an error name, OK;
 *          OUTPUT "-" when none), or "error ID ERR" when it was refused at once
 *   disconnect SERIAL            -> "disconnect SERIAL ERR"
 *   stats                        -> "stats name=value ..."
 *   listen                       -> "listening"; then per committed record:
 *                                   "committed KIND SERIAL DOMAIN IDENTIFIER ID"
 *   quit (or end of input)       -> stops the services and exits 0
 */
#include "das/das_api.h"
#include "ingest/ingest.h"
#include "log.h"
#include "osapd.h"
#include "service.h"
#include "store.h"
#include "util.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static struct osapd_context *ctx;
static struct osapd_das *das;
/* Held while a command uses the services; main clears "running" under it before it
 * stops them (a signal may stop the harness while the control thread waits). */
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;
static int running = 1;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&out_lock);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
}

static void on_result(const struct osapd_das_result *r, void *userdata)
{
    char *id = userdata;
    say("result %s %s %d %u %s", id, osap_errname(r->err), r->code, r->seq,
        r->output_json ? r->output_json : "-");
    free(id);
}

static void on_committed(const struct ingest_committed *c, void *userdata)
{
    static const char *const kinds[] = {"?", "event", "attribute", "status", "reply"};
    const struct ingest_record *r = c->rec;
    (void)userdata;
    say("committed %s %s %s %s %lld", kinds[r->kind <= 4 ? r->kind : 0], r->serial,
        r->domain ? r->domain : "-", r->identifier ? r->identifier : "-", (long long)c->id);
}

static void request(char *line)
{
    char *save = NULL, *f[8], *json, *id;
    struct osapd_das_request req;
    osap_err err;

    for (int i = 0; i < 8; i++) {
        f[i] = strtok_r(i ? NULL : line, " ", &save);
        if (!f[i]) {
            say("error ? EINVAL");
            return;
        }
    }
    json = strtok_r(NULL, "", &save);
    memset(&req, 0, sizeof(req));
    req.kind = strcmp(f[1], "set") == 0       ? OSAPD_DAS_ATTRIBUTE_SET
               : strcmp(f[1], "operate") == 0 ? OSAPD_DAS_OPERATE
               : strcmp(f[1], "shadow") == 0  ? OSAPD_DAS_SHADOW_SET
                                              : (enum osapd_das_request_kind)0;
    req.serial = f[2];
    req.child = strcmp(f[3], "-") ? f[3] : NULL;
    req.resource = strcmp(f[4], "-") ? f[4] : NULL;
    req.domain = f[5];
    req.identifier = f[6];
    req.timeout_ms = (uint32_t)strtoul(f[7], NULL, 10);
    req.value_json = json && strcmp(json, "-") ? json : NULL;
    id = strdup(f[0]);
    err = osapd_das_request(das, &req, on_result, id);
    if (err) { /* the callback will not run */
        say("error %s %s", f[0], osap_errname(err));
        free(id);
    }
}

static void *control(void *arg)
{
    char line[8192];
    int handle = 0;
    (void)arg;

    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        pthread_mutex_lock(&run_lock);
        if (!running) {
            pthread_mutex_unlock(&run_lock);
            return NULL;
        }
        if (strncmp(line, "request ", 8) == 0) {
            request(line + 8);
        } else if (strncmp(line, "disconnect ", 11) == 0) {
            say("disconnect %s %s", line + 11, osap_errname(osapd_das_disconnect(das, line + 11)));
        } else if (strcmp(line, "stats") == 0) {
            struct osapd_das_stats s;
            osapd_das_stats(das, &s);
            say("stats connections=%llu devices_online=%llu devices_refused=%llu "
                "undecryptable=%llu refused=%llu events=%llu requests=%llu replies=%llu "
                "timeouts=%llu unmatched_replies=%llu",
                (unsigned long long)s.connections, (unsigned long long)s.devices_online,
                (unsigned long long)s.devices_refused, (unsigned long long)s.undecryptable,
                (unsigned long long)s.refused, (unsigned long long)s.events,
                (unsigned long long)s.requests, (unsigned long long)s.replies,
                (unsigned long long)s.timeouts, (unsigned long long)s.unmatched_replies);
        } else if (strcmp(line, "listen") == 0) {
            struct ingest *ing = osapd_das_ingest(das);
            osap_err err = ing ? ingest_listen(ing, on_committed, NULL, &handle) : OSAP_ENOTFOUND;
            say(err ? "error listen %s" : "listening%s", err ? osap_errname(err) : "");
        } else if (strcmp(line, "quit") == 0) {
            pthread_mutex_unlock(&run_lock);
            break;
        } else if (line[0]) {
            say("error ? unknown command");
        }
        pthread_mutex_unlock(&run_lock);
    }
    pthread_mutex_lock(&run_lock);
    if (running) {
        if (handle) ingest_unlisten(osapd_das_ingest(das), handle);
        osapd_request_stop(ctx, OSAP_OK);
    }
    pthread_mutex_unlock(&run_lock);
    return NULL;
}

int main(int argc, char **argv)
{
    struct osap_config *cfg = NULL;
    const struct osap_core_config *core;
    struct osap_log_options lo = {OSAP_LOG_DEBUG, NULL, false};
    struct osap_store *st = NULL;
    pthread_t thread;
    osap_err err;
    int rc;

    if (argc != 3 || strcmp(argv[1], "-c") != 0) {
        fprintf(stderr, "usage: das-harness -c CONFIG\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    rc = osapd_config_load(argv[2], NULL, 0, &cfg);
    if (rc) return rc;
    core = osap_config_section(cfg, "osapd");
    osap_log_level_parse(core->log_level, &lo.level);
    lo.file = core->log_file;
    osap_log_open(&lo);
    err = osap_mkdir_p(core->data_dir, 0700);
    if (err == OSAP_OK)
        err = osap_store_open(osap_config_section(cfg, "store"), core->data_dir, &st);
    if (err) {
        fprintf(stderr, "das-harness: cannot open the store: %s\n", osap_strerror(err));
        return 1;
    }
    osap_store_close(st);
    err = osapd_context_new(cfg, &ctx);
    if (err == OSAP_OK)
        err = osapd_context_start(ctx, osapd_builtin_services, osapd_builtin_service_count);
    das = err ? NULL : osapd_service_find(ctx, "das");
    if (!das) {
        fprintf(stderr, "das-harness: the das service does not run: %s\n", osap_strerror(err));
        if (ctx) osapd_context_stop(ctx);
        osapd_context_free(ctx);
        osap_config_free(cfg);
        return 1;
    }
    say("ready");
    pthread_create(&thread, NULL, control, NULL);
    err = osapd_context_run(ctx);
    pthread_mutex_lock(&run_lock);
    running = 0;
    pthread_mutex_unlock(&run_lock);
    osapd_context_stop(ctx);
    pthread_detach(thread); /* it may wait on standard input forever */
    osapd_context_free(ctx);
    osap_log_close();
    osap_config_free(cfg);
    return err ? 1 : 0;
}
