/* `osapd user add|passwd|rm|list|acl`: users of the MQTT server, edited directly in
 * the store (safe while the daemon runs), like mosquitto_passwd. */
#include "osapd.h"

#include "das/das_config.h"
#include "util.h"
#include "util_secret.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

enum {
    OPT_USER = 256,
    OPT_PASSWORD,
    OPT_TOPIC,
    OPT_ACCESS,
    OPT_REMOVE,
    OPT_JSON,
};

struct user_opts {
    const char *config;
    const char *user;
    const char *password;
    const char *topic;
    const char *access;
    bool remove;
    bool json;
    int n_args;
};

static const char usage_text[] =
    "usage: osapd user add|passwd -c FILE --user U [--password P]\n"
    "       osapd user rm -c FILE --user U\n"
    "       osapd user list -c FILE [--json]\n"
    "       osapd user acl -c FILE --user U --topic FILTER --access read|write|readwrite\n"
    "       osapd user acl -c FILE --user U --topic FILTER --remove\n"
    "Without --password, the password is read from the terminal (asked twice) or from\n"
    "the first line of standard input. Prefer that: --password shows in `ps`.\n";

static int usage(FILE *out, int rc)
{
    fputs(usage_text, out);
    return rc;
}

static int parse(int argc, char **argv, struct user_opts *o)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"user", required_argument, NULL, OPT_USER},
        {"password", required_argument, NULL, OPT_PASSWORD},
        {"topic", required_argument, NULL, OPT_TOPIC},
        {"access", required_argument, NULL, OPT_ACCESS},
        {"remove", no_argument, NULL, OPT_REMOVE},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof(*o));
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case OPT_USER: o->user = optarg; break;
        case OPT_PASSWORD: o->password = optarg; break;
        case OPT_TOPIC: o->topic = optarg; break;
        case OPT_ACCESS: o->access = optarg; break;
        case OPT_REMOVE: o->remove = true; break;
        case OPT_JSON: o->json = true; break;
        case 'h': return usage(stdout, -1);
        default: return usage(stderr, OSAPD_EXIT_USAGE);
        }
    }
    o->n_args = argc - optind;
    return OSAPD_EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Passwords                                                                */
/* ------------------------------------------------------------------------ */

/* Read one line without its newline; with echo off when @p tty. */
static bool read_secret_line(const char *prompt, bool tty, char *buf, size_t cap)
{
    struct termios old, quiet;
    bool ok, restore = false;
    size_t n;

    if (tty) {
        fputs(prompt, stderr);
        fflush(stderr);
        if (tcgetattr(STDIN_FILENO, &old) == 0) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
        }
    }
    ok = fgets(buf, (int)cap, stdin) != NULL;
    if (restore) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!ok) return false;
    n = strlen(buf);
    if (n == cap - 1 && buf[n - 1] != '\n') return false; /* too long */
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return true;
}

/* The password from --password, the terminal or standard input. */
static bool get_password(const struct user_opts *o, char *buf, size_t cap)
{
    char again[OSAP_PASSWORD_MAX + 2];
    bool tty = isatty(STDIN_FILENO) != 0;

    if (o->password) return osap_str_copy(buf, cap, o->password);
    if (!read_secret_line("Password: ", tty, buf, cap)) {
        osapd_errorf("no password given (or longer than %d bytes)", OSAP_PASSWORD_MAX);
        return false;
    }
    if (tty) {
        bool same = read_secret_line("Password again: ", tty, again, sizeof(again)) &&
                    strcmp(again, buf) == 0;
        OPENSSL_cleanse(again, sizeof(again));
        if (!same) {
            osapd_errorf("the passwords differ");
            return false;
        }
    }
    return true;
}

static int make_hash(const struct osap_config *cfg, const struct user_opts *o,
                     char hash[OSAP_PASSWORD_HASH_MAX])
{
    const struct das_config *das = osap_config_section(cfg, "das");
    char password[OSAP_PASSWORD_MAX + 2];
    osap_err err;

    if (!get_password(o, password, sizeof(password))) return OSAPD_EXIT_ERROR;
    if (password[0] == '\0' || strlen(password) > OSAP_PASSWORD_MAX) {
        OPENSSL_cleanse(password, sizeof(password));
        osapd_errorf("the password must have 1..%d bytes", OSAP_PASSWORD_MAX);
        return OSAPD_EXIT_ERROR;
    }
    err = osap_password_hash(password, (uint32_t)das->password_iterations, NULL, hash);
    OPENSSL_cleanse(password, sizeof(password));
    if (err) {
        osapd_errorf("cannot hash the password: %s", osap_strerror(err));
        return OSAPD_EXIT_ERROR;
    }
    return OSAPD_EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Topic filters (MQTT 3.1.1 section 4.7)                                   */
/* ------------------------------------------------------------------------ */

static bool filter_valid(const char *f)
{
    size_t n = strlen(f);
    if (n == 0 || n > OSAP_MQTT_PATTERN_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        bool level_start = i == 0 || f[i - 1] == '/';
        bool level_end = i + 1 == n || f[i + 1] == '/';
        if (f[i] == '#' && !(level_start && i + 1 == n)) return false;
        if (f[i] == '+' && !(level_start && level_end)) return false;
        if ((unsigned char)f[i] < 0x20 || f[i] == 0x7f) return false;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* Actions                                                                  */
/* ------------------------------------------------------------------------ */

static int cmd_add_passwd(const struct osap_config *cfg, struct osap_store *st,
                          const struct user_opts *o, bool add)
{
    char hash[OSAP_PASSWORD_HASH_MAX];
    osap_err err;
    int rc;

    if (add && (!osap_label_valid(o->user, OSAP_MQTT_USERNAME_MAX) || !o->user[0])) {
        osapd_errorf("invalid user name: 1..%d bytes without control characters",
                     OSAP_MQTT_USERNAME_MAX);
        return OSAPD_EXIT_ERROR;
    }
    if (!add) {
        struct osap_mqtt_user u;
        err = osap_store_user_get(st, o->user, &u);
        if (err == OSAP_ENOTFOUND) {
            osapd_errorf("no user %s", o->user);
            return OSAPD_EXIT_ERROR;
        }
    }
    rc = make_hash(cfg, o, hash);
    if (rc) return rc;
    err = add ? osap_store_user_add(st, o->user, hash)
              : osap_store_user_set_password(st, o->user, hash);
    if (err == OSAP_EEXISTS) {
        osapd_errorf("user %s already exists (osapd user passwd changes a password)", o->user);
        return OSAPD_EXIT_ERROR;
    }
    if (err == OSAP_ENOTFOUND) {
        osapd_errorf("no user %s", o->user);
        return OSAPD_EXIT_ERROR;
    }
    if (err) {
        osapd_errorf("cannot store user %s: %s", o->user, osapd_store_message(st, err));
        return OSAPD_EXIT_ERROR;
    }
    printf("%s user %s\n", add ? "added" : "changed the password of", o->user);
    return OSAPD_EXIT_OK;
}

static int cmd_rm(struct osap_store *st, const struct user_opts *o)
{
    osap_err err = osap_store_user_remove(st, o->user);
    if (err == OSAP_ENOTFOUND) {
        osapd_errorf("no user %s", o->user);
        return OSAPD_EXIT_ERROR;
    }
    if (err) {
        osapd_errorf("cannot remove user %s: %s", o->user, osapd_store_message(st, err));
        return OSAPD_EXIT_ERROR;
    }
    printf("removed user %s\n", o->user);
    return OSAPD_EXIT_OK;
}

static int cmd_acl(struct osap_store *st, const struct user_opts *o)
{
    enum osap_mqtt_access access = OSAP_ACCESS_READ;
    osap_err err;

    if (!filter_valid(o->topic)) {
        osapd_errorf("invalid topic filter '%s' ('+' and '#' must fill a whole level, '#' only "
                     "at the end)",
                     o->topic);
        return OSAPD_EXIT_ERROR;
    }
    if (o->remove) {
        err = osap_store_acl_remove(st, o->user, o->topic);
        if (err == OSAP_ENOTFOUND) {
            osapd_errorf("user %s has no ACL row for %s", o->user, o->topic);
            return OSAPD_EXIT_ERROR;
        }
    } else {
        if (osap_mqtt_access_parse(o->access, &access) != OSAP_OK) {
            osapd_errorf("--access: expected read, write or readwrite");
            return OSAPD_EXIT_USAGE;
        }
        err = osap_store_acl_set(st, o->user, o->topic, access);
        if (err == OSAP_ENOTFOUND) {
            osapd_errorf("no user %s", o->user);
            return OSAPD_EXIT_ERROR;
        }
    }
    if (err) {
        osapd_errorf("cannot change the ACL of %s: %s", o->user, osapd_store_message(st, err));
        return OSAPD_EXIT_ERROR;
    }
    if (o->remove)
        printf("removed %s from the ACL of %s\n", o->topic, o->user);
    else
        printf("%s may %s %s\n", o->user, osap_mqtt_access_name(access), o->topic);
    return OSAPD_EXIT_OK;
}

static osap_err collect_user(const struct osap_mqtt_user *u, void *userdata)
{
    char ts[OSAP_ISO_TIME_LEN + 1];
    cJSON *o = cJSON_CreateObject();
    if (!o) return OSAP_ENOMEM;
    cJSON_AddStringToObject(o, "username", u->username);
    cJSON_AddStringToObject(o, "created_at", osap_time_iso(u->created_at, ts));
    cJSON_AddStringToObject(o, "updated_at", osap_time_iso(u->updated_at, ts));
    cJSON_AddItemToObject(o, "acl", cJSON_CreateArray());
    cJSON_AddItemToArray(userdata, o);
    return OSAP_OK;
}

static osap_err collect_acl(const struct osap_mqtt_acl *acl, void *userdata)
{
    cJSON *users = userdata, *u, *row;
    cJSON_ArrayForEach(u, users)
    {
        if (strcmp(cJSON_GetObjectItem(u, "username")->valuestring, acl->username) != 0) continue;
        row = cJSON_CreateObject();
        if (!row) return OSAP_ENOMEM;
        cJSON_AddStringToObject(row, "pattern", acl->pattern);
        cJSON_AddStringToObject(row, "access", osap_mqtt_access_name(acl->access));
        cJSON_AddItemToArray(cJSON_GetObjectItem(u, "acl"), row);
        break;
    }
    return OSAP_OK;
}

static int cmd_list(struct osap_store *st, const struct user_opts *o)
{
    cJSON *users = cJSON_CreateArray(), *u, *row;
    osap_err err = users ? osap_store_user_list(st, collect_user, users) : OSAP_ENOMEM;

    if (err == OSAP_OK) err = osap_store_acl_list(st, NULL, collect_acl, users);
    if (err) {
        cJSON_Delete(users);
        osapd_errorf("cannot list users: %s", osapd_store_message(st, err));
        return OSAPD_EXIT_ERROR;
    }
    if (o->json) {
        char *text = cJSON_Print(users);
        if (text) printf("%s\n", text);
        cJSON_free(text);
    } else if (cJSON_GetArraySize(users) == 0) {
        fprintf(stderr, "no users\n");
    } else {
        printf("%-32s %-24s %s\n", "USER", "PASSWORD SET", "ACL");
        cJSON_ArrayForEach(u, users)
        {
            cJSON *acl = cJSON_GetObjectItem(u, "acl");
            printf("%-32s %-24s", cJSON_GetObjectItem(u, "username")->valuestring,
                   cJSON_GetObjectItem(u, "updated_at")->valuestring);
            if (cJSON_GetArraySize(acl) == 0) printf(" (none: no access)");
            cJSON_ArrayForEach(row, acl)
            {
                printf(" %s:%s", cJSON_GetObjectItem(row, "access")->valuestring,
                       cJSON_GetObjectItem(row, "pattern")->valuestring);
            }
            printf("\n");
        }
    }
    cJSON_Delete(users);
    return OSAPD_EXIT_OK;
}

int osapd_cmd_user(int argc, char **argv)
{
    const char *action = argc >= 2 ? argv[1] : "";
    struct user_opts o;
    struct osap_config *cfg = NULL;
    struct osap_store *st = NULL;
    bool add = strcmp(action, "add") == 0, passwd = strcmp(action, "passwd") == 0;
    bool rm = strcmp(action, "rm") == 0, list = strcmp(action, "list") == 0;
    bool acl = strcmp(action, "acl") == 0;
    int rc;

    if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0)
        return usage(stdout, OSAPD_EXIT_OK);
    if (!add && !passwd && !rm && !list && !acl) return usage(stderr, OSAPD_EXIT_USAGE);
    rc = parse(argc - 1, argv + 1, &o);
    if (rc == -1) return OSAPD_EXIT_OK;
    if (rc) return rc;
    if (o.n_args || (!list && !o.user) || (list && o.user) || (o.json && !list) ||
        (o.password && !add && !passwd) || ((o.topic || o.access || o.remove) && !acl) ||
        (acl && (!o.topic || (!o.access == !o.remove))))
        return usage(stderr, OSAPD_EXIT_USAGE);
    rc = osapd_admin_open(o.config, &cfg, &st);
    if (rc) return rc;
    if (add || passwd)
        rc = cmd_add_passwd(cfg, st, &o, add);
    else if (rm)
        rc = cmd_rm(st, &o);
    else if (acl)
        rc = cmd_acl(st, &o);
    else
        rc = cmd_list(st, &o);
    osapd_admin_close(cfg, st);
    return rc;
}
