/*
 * osapd: the OSAP daemon (LBS, DAS, platform API in one process) and its
 * administration commands. See docs/man/osapd.8.
 *
 *   osapd [-c FILE] [-v]... [--log-json] [--pid-file FILE] [--set S.K=V]...
 *   osapd config|device|user|token ...
 */
#include "osapd.h"

#include "config_core.h"
#include "log.h"
#include "osap/alloc.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#ifndef OSAP_VERSION
#define OSAP_VERSION "unknown"
#endif

#define MAX_SETS 64

static void usage(FILE *out)
{
    fprintf(out,
            "usage: osapd [-c FILE] [-v]... [--log-json] [--pid-file FILE]\n"
            "             [--set SECTION.KEY=VALUE]...\n"
            "       osapd config check [-c FILE] [--defaults]\n"
            "       osapd device add|import|list|show|rm|block|unblock -c FILE ...\n"
            "       osapd user add|passwd|rm|list|acl -c FILE ...\n"
            "       osapd token create|list|revoke -c FILE ...\n"
            "       osapd --version | --help | --list-services\n"
            "\n"
            "Runs the OSAP services named in [osapd] services, in the foreground, until\n"
            "SIGTERM or SIGINT. SIGHUP reopens the log file and reloads the thing models.\n"
            "\n"
            "  -c, --config FILE   configuration file (see osapd.conf(5)); without it, defaults\n"
            "  -v, --verbose       log more (repeat: info, then debug)\n"
            "      --log-json      log JSON lines\n"
            "      --pid-file FILE write the process id to FILE\n"
            "      --set S.K=V     override one setting, e.g. --set osapd.services=das\n"
            "      --list-services print the services built in, one per line\n"
            "\n"
            "Services built in:");
    if (osapd_builtin_service_count == 0) fprintf(out, " none yet");
    fprintf(out, "\n");
    for (size_t i = 0; i < osapd_builtin_service_count; i++)
        fprintf(out, "  %-8s %s\n", osapd_builtin_services[i]->name,
                osapd_builtin_services[i]->summary);
    fprintf(out, "\nRun `osapd COMMAND --help` for the options of a command.\n");
}

/* ------------------------------------------------------------------------ */
/* Files the daemon holds: the data directory lock and the pid file         */
/* ------------------------------------------------------------------------ */

struct daemon_files {
    int data_lock_fd;
    int pid_fd;
    const char *pid_path;
};

/* One osapd per data directory: an flock on data_dir/osapd.lock, released by the
 * kernel when the process ends, however it ends. */
static int lock_data_dir(const char *data_dir, struct daemon_files *df)
{
    char *path = NULL;
    int fd;

    if (osap_path_join(data_dir, "osapd.lock", &path)) return OSAPD_EXIT_ERROR;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        osapd_errorf("cannot open %s: %s", path, strerror(errno));
        osap_free(path);
        return OSAPD_EXIT_ERROR;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        osapd_errorf("another osapd is running on the data directory %s", data_dir);
        close(fd);
        osap_free(path);
        return OSAPD_EXIT_ERROR;
    }
    osap_free(path);
    df->data_lock_fd = fd;
    return OSAPD_EXIT_OK;
}

static int write_pid_file(const char *path, struct daemon_files *df)
{
    char buf[32];
    int fd, n;

    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        osapd_errorf("cannot open the pid file %s: %s", path, strerror(errno));
        return OSAPD_EXIT_ERROR;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        osapd_errorf("the pid file %s is locked: another osapd is running", path);
        close(fd);
        return OSAPD_EXIT_ERROR;
    }
    n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || write(fd, buf, (size_t)n) != n) {
        osapd_errorf("cannot write the pid file %s: %s", path, strerror(errno));
        close(fd);
        return OSAPD_EXIT_ERROR;
    }
    df->pid_fd = fd;
    df->pid_path = path;
    return OSAPD_EXIT_OK;
}

static void release_files(struct daemon_files *df)
{
    if (df->pid_fd >= 0) {
        unlink(df->pid_path);
        close(df->pid_fd);
    }
    if (df->data_lock_fd >= 0) close(df->data_lock_fd);
}

/* ------------------------------------------------------------------------ */
/* The daemon                                                               */
/* ------------------------------------------------------------------------ */

static int setup_log(const struct osap_core_config *core, int verbose)
{
    enum osap_log_level level = OSAP_LOG_INFO;
    struct osap_log_options opt;
    osap_err err;

    osap_log_level_parse(core->log_level, &level);
    level = (enum osap_log_level)((int)level + verbose);
    opt.level = level > OSAP_LOG_DEBUG ? OSAP_LOG_DEBUG : level;
    opt.file = core->log_file;
    opt.json = core->log_json;
    err = osap_log_open(&opt);
    if (err) {
        osapd_errorf("cannot open the log file %s: %s", core->log_file, osap_strerror(err));
        return OSAPD_EXIT_ERROR;
    }
    return OSAPD_EXIT_OK;
}

static int run_daemon(const struct osap_config *cfg, int verbose)
{
    const struct osap_core_config *core = osap_config_section(cfg, "osapd");
    const struct osap_store_config *scfg = osap_config_section(cfg, "store");
    struct daemon_files df = {-1, -1, NULL};
    struct osapd_context *ctx = NULL;
    struct osap_store *st = NULL;
    char services[256] = "";
    osap_err err;
    int rc;

    rc = osapd_config_check_services(cfg);
    if (rc) return rc;
    rc = setup_log(core, verbose);
    if (rc) return rc;
    signal(SIGPIPE, SIG_IGN);
    err = osap_mkdir_p(core->data_dir, 0700);
    if (err) {
        osapd_errorf("cannot create the data directory %s: %s", core->data_dir, osap_strerror(err));
        return OSAPD_EXIT_ERROR;
    }
    rc = lock_data_dir(core->data_dir, &df);
    if (rc) goto out;
    if (core->pid_file[0]) {
        rc = write_pid_file(core->pid_file, &df);
        if (rc) goto out;
    }
    for (size_t i = 0, o = 0; i < core->services.n && o < sizeof(services); i++)
        o += (size_t)snprintf(services + o, sizeof(services) - o, "%s%s", i ? ", " : "",
                              core->services.v[i]);
    OSAP_LOGI("osapd", "osapd %s starting: config %s, data_dir %s, services: %s", OSAP_VERSION,
              osap_config_path(cfg) ? osap_config_path(cfg) : "(defaults)", core->data_dir,
              core->services.n ? services : "none");

    /* Open the store once here: creates or upgrades the schema, fails early. */
    err = osap_store_open(scfg, core->data_dir, &st);
    if (err) {
        OSAP_LOGE("osapd", "cannot open the store: %s", osap_strerror(err));
        rc = OSAPD_EXIT_ERROR;
        goto out;
    }
    OSAP_LOGI("osapd", "store: %s, schema version %d", osap_store_backend(st),
              osap_store_schema_version(st));
    osap_store_close(st);

    err = osapd_context_new(cfg, &ctx);
    if (err) {
        OSAP_LOGE("osapd", "cannot set up: %s", osap_strerror(err));
        rc = OSAPD_EXIT_ERROR;
        goto out;
    }
    /* libuv sizes its thread pool (the LBS's crypto and store work) once, when the
     * pool first starts: set it before any service runs, unless the environment does. */
    if (!getenv("UV_THREADPOOL_SIZE")) {
        char pool[16];
        snprintf(pool, sizeof(pool), "%u", osapd_worker_threads(ctx));
        setenv("UV_THREADPOOL_SIZE", pool, 0);
    }
    err = osapd_context_start(ctx, osapd_builtin_services, osapd_builtin_service_count);
    if (err) {
        rc = OSAPD_EXIT_ERROR;
        goto out;
    }
    if (core->services.n == 0) OSAP_LOGW("osapd", "no services configured ([osapd] services)");
    OSAP_LOGI("osapd", "ready (pid %ld)", (long)getpid());
    err = osapd_context_run(ctx);
    osapd_context_stop(ctx);
    rc = err ? OSAPD_EXIT_ERROR : OSAPD_EXIT_OK;
    OSAP_LOGI("osapd", "stopped%s%s", err ? ": " : "", err ? osap_strerror(err) : "");
out:
    osapd_context_free(ctx);
    release_files(&df);
    osap_log_close();
    return rc;
}

static int daemon_main(int argc, char **argv)
{
    enum { OPT_LOG_JSON = 256, OPT_PID_FILE, OPT_SET, OPT_LIST_SERVICES };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"verbose", no_argument, NULL, 'v'},
        {"log-json", no_argument, NULL, OPT_LOG_JSON},
        {"pid-file", required_argument, NULL, OPT_PID_FILE},
        {"set", required_argument, NULL, OPT_SET},
        {"list-services", no_argument, NULL, OPT_LIST_SERVICES},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char *sets[MAX_SETS + 2];
    size_t n_sets = 0;
    const char *path = NULL, *pid_file = NULL;
    bool log_json = false;
    int verbose = 0, c, rc;
    struct osap_config *cfg = NULL;
    char pid_set[4200];

    while ((c = getopt_long(argc, argv, "c:vVh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'v': verbose++; break;
        case OPT_LOG_JSON: log_json = true; break;
        case OPT_PID_FILE: pid_file = optarg; break;
        case OPT_SET:
            if (n_sets == MAX_SETS) {
                osapd_errorf("too many --set options");
                return OSAPD_EXIT_USAGE;
            }
            sets[n_sets++] = optarg;
            break;
        case OPT_LIST_SERVICES:
            for (size_t i = 0; i < osapd_builtin_service_count; i++)
                printf("%s\n", osapd_builtin_services[i]->name);
            return OSAPD_EXIT_OK;
        case 'V': printf("osapd %s\n", OSAP_VERSION); return OSAPD_EXIT_OK;
        case 'h': usage(stdout); return OSAPD_EXIT_OK;
        default: usage(stderr); return OSAPD_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        osapd_errorf("unknown command '%s'", argv[optind]);
        usage(stderr);
        return OSAPD_EXIT_USAGE;
    }
    /* Command-line options override the file: they are applied as --set. */
    if (log_json) sets[n_sets++] = "osapd.log_json=yes";
    if (pid_file) {
        snprintf(pid_set, sizeof(pid_set), "osapd.pid_file=%s", pid_file);
        sets[n_sets++] = pid_set;
    }
    rc = osapd_config_load(path, sets, n_sets, &cfg);
    if (rc) return rc;
    rc = run_daemon(cfg, verbose);
    osap_config_free(cfg);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int argc, char **argv);
    } commands[] = {
        {"config", osapd_cmd_config},
        {"device", osapd_cmd_device},
        {"user", osapd_cmd_user},
        {"token", osapd_cmd_token},
    };

    if (argc > 1 && argv[1][0] != '-') {
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
            if (strcmp(argv[1], commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
    }
    return daemon_main(argc, argv);
}
