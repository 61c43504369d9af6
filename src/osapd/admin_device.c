/* `osapd device add|import|list|show|rm|block|unblock`: the device registry,
 * edited directly in the store (safe while the daemon runs). */
#include "osapd.h"

#include "osap/proto.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_SERIAL = 256,
    OPT_CODE,
    OPT_LICENCE,
    OPT_MODEL,
    OPT_NAME,
    OPT_SKIP_BAD,
    OPT_JSON,
    OPT_SECRETS,
    OPT_ONLINE,
    OPT_OFFLINE,
    OPT_BLOCKED,
    OPT_UNBLOCKED,
    OPT_PREFIX,
    OPT_LIMIT,
};

struct dev_opts {
    const char *config;
    const char *serial;
    const char *code;
    const char *licence;
    const char *model;
    const char *name;
    const char *prefix;
    bool skip_bad;
    bool json;
    bool secrets;
    enum osap_filter_flag online;
    enum osap_filter_flag blocked;
    uint32_t limit;
    char **args; /* positional arguments */
    int n_args;
};

static const char usage_text[] =
    "usage: osapd device add -c FILE --serial SN (--code VCODE | --licence LICENCE)\n"
    "                        [--model M] [--name N]\n"
    "       osapd device import -c FILE [--skip-bad] LIST.csv   (- = standard input)\n"
    "       osapd device list -c FILE [--json] [--secrets] [--online|--offline]\n"
    "                         [--blocked|--unblocked] [--model M] [--prefix P] [--limit N]\n"
    "       osapd device show -c FILE [--json] [--secrets] SERIAL\n"
    "       osapd device rm|block|unblock -c FILE SERIAL...\n"
    "A licence-mode serial has the form productKey:deviceName. CSV lines for import:\n"
    "serial,code_or_licence[,model]; '#' comments and blank lines are ignored.\n";

static int usage(FILE *out, int rc)
{
    fputs(usage_text, out);
    return rc;
}

static int parse(int argc, char **argv, struct dev_opts *o)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"serial", required_argument, NULL, OPT_SERIAL},
        {"code", required_argument, NULL, OPT_CODE},
        {"licence", required_argument, NULL, OPT_LICENCE},
        {"license", required_argument, NULL, OPT_LICENCE},
        {"model", required_argument, NULL, OPT_MODEL},
        {"name", required_argument, NULL, OPT_NAME},
        {"skip-bad", no_argument, NULL, OPT_SKIP_BAD},
        {"json", no_argument, NULL, OPT_JSON},
        {"secrets", no_argument, NULL, OPT_SECRETS},
        {"online", no_argument, NULL, OPT_ONLINE},
        {"offline", no_argument, NULL, OPT_OFFLINE},
        {"blocked", no_argument, NULL, OPT_BLOCKED},
        {"unblocked", no_argument, NULL, OPT_UNBLOCKED},
        {"prefix", required_argument, NULL, OPT_PREFIX},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    char *end;
    unsigned long v;

    memset(o, 0, sizeof(*o));
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case OPT_SERIAL: o->serial = optarg; break;
        case OPT_CODE: o->code = optarg; break;
        case OPT_LICENCE: o->licence = optarg; break;
        case OPT_MODEL: o->model = optarg; break;
        case OPT_NAME: o->name = optarg; break;
        case OPT_SKIP_BAD: o->skip_bad = true; break;
        case OPT_JSON: o->json = true; break;
        case OPT_SECRETS: o->secrets = true; break;
        case OPT_ONLINE: o->online = OSAP_FILTER_YES; break;
        case OPT_OFFLINE: o->online = OSAP_FILTER_NO; break;
        case OPT_BLOCKED: o->blocked = OSAP_FILTER_YES; break;
        case OPT_UNBLOCKED: o->blocked = OSAP_FILTER_NO; break;
        case OPT_PREFIX: o->prefix = optarg; break;
        case OPT_LIMIT:
            v = strtoul(optarg, &end, 10);
            if (*end || !*optarg || v == 0 || v > UINT32_MAX) {
                osapd_errorf("--limit: expected a positive number");
                return OSAPD_EXIT_USAGE;
            }
            o->limit = (uint32_t)v;
            break;
        case 'h': return usage(stdout, -1);
        default: return usage(stderr, OSAPD_EXIT_USAGE);
        }
    }
    o->args = argv + optind;
    o->n_args = argc - optind;
    return OSAPD_EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Validation messages                                                      */
/* ------------------------------------------------------------------------ */

static osap_err fill_device(struct osap_device *d, const char *serial, const char *secret,
                            bool licence, const char *model, const char *name)
{
    memset(d, 0, sizeof(*d));
    d->auth_mode = licence ? OSAP_AUTH_LICENCE : OSAP_AUTH_SAP;
    if (!osap_str_copy(d->serial, sizeof(d->serial), serial) ||
        !osap_str_copy(d->secret, sizeof(d->secret), secret) ||
        !osap_str_copy(d->model, sizeof(d->model), model) ||
        !osap_str_copy(d->name, sizeof(d->name), name))
        return OSAP_EINVAL;
    return OSAP_OK;
}

/* ------------------------------------------------------------------------ */
/* add                                                                      */
/* ------------------------------------------------------------------------ */

static int cmd_add(struct osap_store *st, const struct dev_opts *o)
{
    struct osap_device d;
    bool licence = o->licence != NULL;
    const char *secret = licence ? o->licence : o->code;
    const char *problem = osapd_device_problem(o->serial, secret, licence);
    osap_err err;

    if (problem) {
        osapd_errorf("%s", problem);
        return OSAPD_EXIT_ERROR;
    }
    if (!osap_label_valid(o->model, OSAP_DEVICE_MODEL_MAX) ||
        !osap_label_valid(o->name, OSAP_DEVICE_NAME_MAX)) {
        osapd_errorf("--model (at most %d bytes) and --name (at most %d bytes) must not contain "
                     "control characters",
                     OSAP_DEVICE_MODEL_MAX, OSAP_DEVICE_NAME_MAX);
        return OSAPD_EXIT_ERROR;
    }
    fill_device(&d, o->serial, secret, licence, o->model, o->name);
    err = osap_store_device_add(st, &d);
    memset(d.secret, 0, sizeof(d.secret));
    if (err == OSAP_EEXISTS) {
        osapd_errorf("device %s already exists", o->serial);
        return OSAPD_EXIT_ERROR;
    }
    if (err) {
        osapd_errorf("cannot add device %s: %s", o->serial, osapd_store_message(st, err));
        return OSAPD_EXIT_ERROR;
    }
    printf("added device %s (%s)\n", o->serial, licence ? "licence" : "sap");
    return OSAPD_EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* import                                                                   */
/* ------------------------------------------------------------------------ */

static int cmd_import(struct osap_store *st, const struct dev_opts *o)
{
    const char *path = o->args[0];
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    struct osapd_import_reader reader;
    struct osapd_import_device dev;
    const char *problem;
    unsigned long imported = 0, bad = 0;
    osap_err err;
    int rc = OSAPD_EXIT_ERROR, got;

    if (!f) {
        osapd_errorf("cannot open %s", path);
        return OSAPD_EXIT_ERROR;
    }
    err = osap_store_begin(st);
    if (err) {
        osapd_errorf("cannot start the import: %s", osapd_store_message(st, err));
        goto out;
    }
    osapd_import_reader_init(&reader, f);
    while ((got = osapd_import_next(&reader, &dev, &problem)) != 0) {
        struct osap_device d;

        if (got < 0) {
            fprintf(stderr, "%s:%lu: %s\n", path, reader.lineno, problem);
            bad++;
            continue;
        }
        fill_device(&d, dev.serial, dev.secret, dev.licence, dev.model, "");
        err = osap_store_device_add(st, &d);
        memset(d.secret, 0, sizeof(d.secret));
        if (err == OSAP_EEXISTS) {
            fprintf(stderr,
                    "%s:%lu: device %s already exists (in the store or earlier in this "
                    "file)\n",
                    path, reader.lineno, dev.serial);
            bad++;
            continue;
        }
        if (err) {
            osapd_errorf("%s:%lu: %s; nothing imported", path, reader.lineno,
                         osapd_store_message(st, err));
            goto out;
        }
        imported++;
    }
    memset(reader.line, 0, sizeof(reader.line)); /* the last secret read */
    if (ferror(f)) {
        osapd_errorf("cannot read %s; nothing imported", path);
        goto out;
    }
    if (bad && !o->skip_bad) {
        osapd_errorf("%lu bad line%s; nothing imported (--skip-bad imports the good lines)", bad,
                     bad == 1 ? "" : "s");
        goto out;
    }
    err = osap_store_commit(st);
    if (err) {
        osapd_errorf("cannot commit the import: %s; nothing imported",
                     osapd_store_message(st, err));
        goto out;
    }
    printf("imported %lu device%s", imported, imported == 1 ? "" : "s");
    if (bad) printf(", skipped %lu bad line%s", bad, bad == 1 ? "" : "s");
    printf("\n");
    rc = OSAPD_EXIT_OK;
out:
    osap_store_rollback(st);
    if (f != stdin) fclose(f);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* list and show                                                            */
/* ------------------------------------------------------------------------ */

static const char *case_name(enum osap_share_key_case c)
{
    return c == OSAP_SHARE_KEY_CASE_UPPER   ? "upper"
           : c == OSAP_SHARE_KEY_CASE_LOWER ? "lower"
                                            : NULL;
}

static cJSON *device_json(const struct osap_device *d, bool secrets)
{
    char ts[OSAP_ISO_TIME_LEN + 1];
    cJSON *o = cJSON_CreateObject();
    const char *kcase = case_name(d->share_key_case);

    if (!o) return NULL;
    cJSON_AddStringToObject(o, "serial", d->serial);
    cJSON_AddStringToObject(o, "auth_mode", d->auth_mode == OSAP_AUTH_LICENCE ? "licence" : "sap");
    if (secrets) cJSON_AddStringToObject(o, "secret", d->secret);
    cJSON_AddStringToObject(o, "model", d->model);
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "firmware", d->firmware);
    if (d->devid[0])
        cJSON_AddStringToObject(o, "devid", d->devid);
    else
        cJSON_AddNullToObject(o, "devid");
    cJSON_AddBoolToObject(o, "has_master_key", d->master_key[0] != '\0');
    if (secrets) {
        if (d->master_key[0])
            cJSON_AddStringToObject(o, "master_key", d->master_key);
        else
            cJSON_AddNullToObject(o, "master_key");
    }
    if (kcase)
        cJSON_AddStringToObject(o, "share_key_case", kcase);
    else
        cJSON_AddNullToObject(o, "share_key_case");
    cJSON_AddBoolToObject(o, "blocked", d->blocked);
    cJSON_AddBoolToObject(o, "online", d->online);
    cJSON_AddStringToObject(o, "created_at", osap_time_iso(d->created_at, ts));
    if (d->last_seen)
        cJSON_AddStringToObject(o, "last_seen", osap_time_iso(d->last_seen, ts));
    else
        cJSON_AddNullToObject(o, "last_seen");
    cJSON_AddStringToObject(o, "das_node", d->das_node);
    cJSON_AddStringToObject(o, "address", d->address);
    return o;
}

struct list_state {
    const struct dev_opts *o;
    unsigned long count;
};

static osap_err list_row(const struct osap_device *d, void *userdata)
{
    struct list_state *ls = userdata;
    char ts[OSAP_ISO_TIME_LEN + 1];

    if (ls->o->json) {
        cJSON *j = device_json(d, ls->o->secrets);
        char *text = j ? cJSON_PrintUnformatted(j) : NULL;
        cJSON_Delete(j);
        if (!text) return OSAP_ENOMEM;
        printf("%s\n  %s", ls->count ? "," : "", text);
        cJSON_free(text);
    } else {
        if (ls->count == 0)
            printf("%-24s %-7s %-16s %-6s %-7s %-24s %s\n", "SERIAL", "MODE", "MODEL", "ONLINE",
                   "BLOCKED", "LAST SEEN", "NAME");
        printf("%-24s %-7s %-16s %-6s %-7s %-24s %s\n", d->serial,
               d->auth_mode == OSAP_AUTH_LICENCE ? "licence" : "sap", d->model[0] ? d->model : "-",
               d->online ? "yes" : "no", d->blocked ? "yes" : "no",
               d->last_seen ? osap_time_iso(d->last_seen, ts) : "never", d->name);
    }
    ls->count++;
    return OSAP_OK;
}

static int cmd_list(struct osap_store *st, const struct dev_opts *o)
{
    struct osap_device_filter f = {0};
    struct list_state ls = {o, 0};
    osap_err err;

    f.serial_prefix = o->prefix;
    f.model = o->model;
    f.online = o->online;
    f.blocked = o->blocked;
    f.limit = o->limit;
    if (o->json) printf("[");
    err = osap_store_device_list(st, &f, list_row, &ls);
    if (o->json) printf("%s]\n", ls.count ? "\n" : "");
    if (err) {
        osapd_errorf("cannot list devices: %s", osapd_store_message(st, err));
        return OSAPD_EXIT_ERROR;
    }
    if (!o->json && ls.count == 0) fprintf(stderr, "no devices\n");
    return OSAPD_EXIT_OK;
}

static int cmd_show(struct osap_store *st, const struct dev_opts *o)
{
    const char *serial = o->serial ? o->serial : o->args[0];
    struct osap_device d;
    char ts[OSAP_ISO_TIME_LEN + 1];
    osap_err err = osap_store_device_get(st, serial, &d);

    if (err == OSAP_ENOTFOUND) {
        osapd_errorf("no device %s", serial);
        return OSAPD_EXIT_ERROR;
    }
    if (err) {
        osapd_errorf("cannot read device %s: %s", serial, osapd_store_message(st, err));
        return OSAPD_EXIT_ERROR;
    }
    if (o->json) {
        cJSON *j = device_json(&d, o->secrets);
        char *text = j ? cJSON_Print(j) : NULL;
        cJSON_Delete(j);
        if (!text) return OSAPD_EXIT_ERROR;
        printf("%s\n", text);
        cJSON_free(text);
        return OSAPD_EXIT_OK;
    }
    printf("serial:          %s\n", d.serial);
    printf("auth mode:       %s\n", d.auth_mode == OSAP_AUTH_LICENCE ? "licence" : "sap");
    printf("%-17s%s\n", d.auth_mode == OSAP_AUTH_LICENCE ? "licence:" : "code:",
           o->secrets ? d.secret : "(hidden; --secrets shows it)");
    printf("model:           %s\n", d.model);
    printf("name:            %s\n", d.name);
    printf("firmware:        %s\n", d.firmware);
    printf("devid:           %s\n", d.devid[0] ? d.devid : "(none)");
    printf("master key:      %s\n", !d.master_key[0] ? "(none)"
                                    : o->secrets     ? d.master_key
                                                     : "(set; --secrets shows it)");
    printf("share key case:  %s\n",
           case_name(d.share_key_case) ? case_name(d.share_key_case) : "unknown");
    printf("blocked:         %s\n", d.blocked ? "yes" : "no");
    printf("online:          %s\n", d.online ? "yes" : "no");
    printf("created:         %s\n", osap_time_iso(d.created_at, ts));
    printf("last seen:       %s\n", d.last_seen ? osap_time_iso(d.last_seen, ts) : "never");
    printf("DAS node:        %s\n", d.das_node);
    printf("address:         %s\n", d.address);
    memset(&d, 0, sizeof(d));
    return OSAPD_EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* rm, block, unblock                                                       */
/* ------------------------------------------------------------------------ */

static int cmd_change(struct osap_store *st, const struct dev_opts *o, const char *what)
{
    int rc = OSAPD_EXIT_OK;
    int n = o->serial ? 1 : o->n_args;

    for (int i = 0; i < n; i++) {
        const char *serial = o->serial ? o->serial : o->args[i];
        osap_err err;
        if (strcmp(what, "rm") == 0)
            err = osap_store_device_remove(st, serial);
        else
            err = osap_store_device_set_blocked(st, serial, strcmp(what, "block") == 0);
        if (err == OSAP_ENOTFOUND) {
            osapd_errorf("no device %s", serial);
            rc = OSAPD_EXIT_ERROR;
        } else if (err) {
            osapd_errorf("%s %s: %s", what, serial, osapd_store_message(st, err));
            rc = OSAPD_EXIT_ERROR;
        } else {
            printf("%s %s\n",
                   strcmp(what, "rm") == 0      ? "removed"
                   : strcmp(what, "block") == 0 ? "blocked"
                                                : "unblocked",
                   serial);
        }
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Dispatch                                                                 */
/* ------------------------------------------------------------------------ */

/* Usage check of the options each action accepts; returns -1 when fine. */
static int check_usage(const char *action, const struct dev_opts *o)
{
    bool is_add = strcmp(action, "add") == 0;
    bool is_list = strcmp(action, "list") == 0;
    bool is_import = strcmp(action, "import") == 0;
    bool is_show = strcmp(action, "show") == 0;
    bool is_change = !is_add && !is_list && !is_import && !is_show;

    if ((o->code || o->licence || o->name) && !is_add) return OSAPD_EXIT_USAGE;
    if (o->model && !is_add && !is_list) return OSAPD_EXIT_USAGE;
    if (o->skip_bad && !is_import) return OSAPD_EXIT_USAGE;
    if ((o->json || o->secrets) && !is_list && !is_show) return OSAPD_EXIT_USAGE;
    if ((o->online || o->blocked || o->prefix || o->limit) && !is_list) return OSAPD_EXIT_USAGE;
    if (o->serial && (is_list || is_import)) return OSAPD_EXIT_USAGE;
    if (is_add) {
        if (!o->serial || o->n_args || (!o->code == !o->licence)) return OSAPD_EXIT_USAGE;
    } else if (is_import) {
        if (o->n_args != 1) return OSAPD_EXIT_USAGE;
    } else if (is_list) {
        if (o->n_args) return OSAPD_EXIT_USAGE;
    } else if (is_show) {
        if ((o->serial ? 1 : 0) + o->n_args != 1) return OSAPD_EXIT_USAGE;
    } else if (is_change) {
        if ((o->serial && o->n_args) || (!o->serial && !o->n_args)) return OSAPD_EXIT_USAGE;
    }
    return -1;
}

int osapd_cmd_device(int argc, char **argv)
{
    static const char *const actions[] = {"add", "import", "list",   "show",
                                          "rm",  "block",  "unblock"};
    const char *action = argc >= 2 ? argv[1] : NULL;
    struct dev_opts o;
    struct osap_config *cfg = NULL;
    struct osap_store *st = NULL;
    bool known = false;
    int rc;

    for (size_t i = 0; action && i < sizeof(actions) / sizeof(actions[0]); i++)
        if (strcmp(action, actions[i]) == 0) known = true;
    if (action && (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0))
        return usage(stdout, OSAPD_EXIT_OK);
    if (!known) return usage(stderr, OSAPD_EXIT_USAGE);
    rc = parse(argc - 1, argv + 1, &o);
    if (rc == -1) return OSAPD_EXIT_OK;
    if (rc) return rc;
    if (check_usage(action, &o) != -1) return usage(stderr, OSAPD_EXIT_USAGE);
    rc = osapd_admin_open(o.config, &cfg, &st);
    if (rc) return rc;
    if (strcmp(action, "add") == 0)
        rc = cmd_add(st, &o);
    else if (strcmp(action, "import") == 0)
        rc = cmd_import(st, &o);
    else if (strcmp(action, "list") == 0)
        rc = cmd_list(st, &o);
    else if (strcmp(action, "show") == 0)
        rc = cmd_show(st, &o);
    else
        rc = cmd_change(st, &o, action);
    osapd_admin_close(cfg, st);
    return rc;
}
