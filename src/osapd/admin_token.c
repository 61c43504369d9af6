/* `osapd token create|list|revoke`: REST API bearer tokens, edited directly in the
 * store (safe while the daemon runs). Only a token's SHA-256 is stored. */
#include "osapd.h"

#include "util.h"
#include "util_secret.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

enum { OPT_NAME = 256, OPT_JSON };

static const char usage_text[] =
    "usage: osapd token create -c FILE --name NAME\n"
    "       osapd token list -c FILE [--json]\n"
    "       osapd token revoke -c FILE --name NAME\n"
    "create prints the new token once, on standard output; only its SHA-256 is kept.\n";

static int usage(FILE *out, int rc)
{
    fputs(usage_text, out);
    return rc;
}

static int cmd_create(struct osap_store *st, const char *name)
{
    char token[OSAP_TOKEN_LEN + 1];
    int64_t id = 0;
    osap_err err = osap_token_generate(NULL, token);

    if (err) {
        osapd_errorf("cannot generate a token: %s", osap_strerror(err));
        return OSAPD_EXIT_ERROR;
    }
    err = osap_store_token_create(st, name, token, &id);
    if (err == OSAP_EEXISTS) {
        osapd_errorf("a token named %s exists already", name);
    } else if (err == OSAP_EINVAL) {
        osapd_errorf("invalid token name: 1..%d characters, no control characters",
                     OSAP_TOKEN_NAME_MAX);
    } else if (err) {
        osapd_errorf("cannot store the token: %s", osapd_store_message(st, err));
    } else {
        printf("%s\n", token);
        fflush(stdout);
        fprintf(stderr, "created token %s (id %" PRId64 "); it is shown only this once\n", name,
                id);
    }
    OPENSSL_cleanse(token, sizeof(token));
    return err ? OSAPD_EXIT_ERROR : OSAPD_EXIT_OK;
}

struct list_state {
    bool json;
    cJSON *array;
    unsigned long count;
};

static osap_err list_row(const struct osap_api_token *t, void *userdata)
{
    struct list_state *ls = userdata;
    char created[OSAP_ISO_TIME_LEN + 1], used[OSAP_ISO_TIME_LEN + 1];

    osap_time_iso(t->created_at, created);
    if (t->last_used) osap_time_iso(t->last_used, used);
    if (ls->json) {
        cJSON *o = cJSON_CreateObject();
        if (!o) return OSAP_ENOMEM;
        cJSON_AddNumberToObject(o, "id", (double)t->id);
        cJSON_AddStringToObject(o, "name", t->name);
        cJSON_AddStringToObject(o, "created_at", created);
        if (t->last_used)
            cJSON_AddStringToObject(o, "last_used", used);
        else
            cJSON_AddNullToObject(o, "last_used");
        cJSON_AddItemToArray(ls->array, o);
    } else {
        if (ls->count == 0) printf("%-6s %-32s %-24s %s\n", "ID", "NAME", "CREATED", "LAST USED");
        printf("%-6" PRId64 " %-32s %-24s %s\n", t->id, t->name, created,
               t->last_used ? used : "never");
    }
    ls->count++;
    return OSAP_OK;
}

static int cmd_list(struct osap_store *st, bool json)
{
    struct list_state ls = {json, NULL, 0};
    osap_err err;

    if (json && !(ls.array = cJSON_CreateArray())) return OSAPD_EXIT_ERROR;
    err = osap_store_token_list(st, list_row, &ls);
    if (err) {
        cJSON_Delete(ls.array);
        osapd_errorf("cannot list tokens: %s", osapd_store_message(st, err));
        return OSAPD_EXIT_ERROR;
    }
    if (json) {
        char *text = cJSON_Print(ls.array);
        if (text) printf("%s\n", text);
        cJSON_free(text);
        cJSON_Delete(ls.array);
    } else if (ls.count == 0) {
        fprintf(stderr, "no tokens\n");
    }
    return OSAPD_EXIT_OK;
}

static int cmd_revoke(struct osap_store *st, const char *name)
{
    osap_err err = osap_store_token_revoke(st, name);
    if (err == OSAP_ENOTFOUND) {
        osapd_errorf("no token named %s", name);
        return OSAPD_EXIT_ERROR;
    }
    if (err) {
        osapd_errorf("cannot revoke %s: %s", name, osapd_store_message(st, err));
        return OSAPD_EXIT_ERROR;
    }
    printf("revoked token %s\n", name);
    return OSAPD_EXIT_OK;
}

int osapd_cmd_token(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"name", required_argument, NULL, OPT_NAME},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *action = argc >= 2 ? argv[1] : "";
    const char *config = NULL, *name = NULL;
    bool json = false, create = strcmp(action, "create") == 0;
    bool list = strcmp(action, "list") == 0, revoke = strcmp(action, "revoke") == 0;
    struct osap_config *cfg = NULL;
    struct osap_store *st = NULL;
    int c, rc;

    if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0)
        return usage(stdout, OSAPD_EXIT_OK);
    if (!create && !list && !revoke) return usage(stderr, OSAPD_EXIT_USAGE);
    argc--;
    argv++;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case OPT_NAME: name = optarg; break;
        case OPT_JSON: json = true; break;
        case 'h': return usage(stdout, OSAPD_EXIT_OK);
        default: return usage(stderr, OSAPD_EXIT_USAGE);
        }
    }
    if (optind != argc || (list && name) || (!list && !name) || (json && !list))
        return usage(stderr, OSAPD_EXIT_USAGE);
    rc = osapd_admin_open(config, &cfg, &st);
    if (rc) return rc;
    if (create)
        rc = cmd_create(st, name);
    else if (list)
        rc = cmd_list(st, json);
    else
        rc = cmd_revoke(st, name);
    osapd_admin_close(cfg, st);
    return rc;
}
