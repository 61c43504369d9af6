/* osapctl device add|list|show|rm|block|unblock: provisioning and the
 * registry (/api/v1/devices). */
#include "ctl.h"

#include "osap/alloc.h"

#include <stdio.h>
#include <string.h>

/* "/api/v1/devices/<serial escaped><tail>" into @p b. */
static int device_path(struct ctl_buf *b, const char *serial, const char *tail)
{
    if (ctl_buf_puts(b, "/api/v1/devices/") || ctl_url_escape(b, serial) || ctl_buf_puts(b, tail))
        return -1;
    return 0;
}

static const char *yes_no(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsTrue(v) ? "yes" : cJSON_IsFalse(v) ? "no" : "-";
}

/* Print one device: its JSON as it came with --json, else its fields. */
static int show_device(const struct ctl *ctl, const struct ctl_response *resp, const cJSON *dev)
{
    if (ctl->json)
        ctl_print_body(resp);
    else
        ctl_print_fields(dev);
    return CTL_OK;
}

static int simple(struct ctl *ctl, const char *method, const char *serial, const char *tail)
{
    struct ctl_buf path = {0};
    struct ctl_request rq = {.method = method};
    struct ctl_response resp;
    cJSON *dev = NULL;
    int rc;

    if (device_path(&path, serial, tail)) {
        ctl_error("out of memory");
        return CTL_EAPI;
    }
    rq.target = path.data;
    rc = ctl_call(ctl, &rq, &resp, &dev);
    if (!rc) {
        if (dev)
            show_device(ctl, &resp, dev);
        else if (!ctl->json)
            printf("device %s removed\n", serial);
    }
    cJSON_Delete(dev);
    ctl_response_release(&resp);
    ctl_buf_release(&path);
    return rc;
}

static int device_add(struct ctl *ctl, int argc, char **argv)
{
    const char *code = NULL, *licence = NULL, *model = NULL, *name = NULL;
    const struct ctl_opt opts[] = {
        {"code", 0, true, &code, NULL},   {"licence", 0, true, &licence, NULL},
        {"model", 0, true, &model, NULL}, {"name", 0, true, &name, NULL},
        {NULL, 0, false, NULL, NULL},
    };
    struct ctl_request rq = {.method = "POST", .target = "/api/v1/devices"};
    struct ctl_response resp;
    struct ctl_args a;
    cJSON *body = NULL, *dev = NULL;
    char *text = NULL;
    int rc;

    rc = ctl_args_parse(ctl, argc, argv, opts, 1, 1, &a);
    if (rc) return ctl_usage_group("device");
    if (!code == !licence) {
        ctl_error("device add: give --code (verification code) or --licence");
        return CTL_EUSAGE;
    }
    body = cJSON_CreateObject();
    if (!body || !cJSON_AddStringToObject(body, "serial", a.pos[0]) ||
        (code && !cJSON_AddStringToObject(body, "code", code)) ||
        (licence && !cJSON_AddStringToObject(body, "licence", licence)) ||
        (model && !cJSON_AddStringToObject(body, "model", model)) ||
        (name && !cJSON_AddStringToObject(body, "name", name)) || !(text = ctl_json_text(body))) {
        cJSON_Delete(body);
        ctl_error("out of memory");
        return CTL_EAPI;
    }
    cJSON_Delete(body);
    rq.content_type = "application/json";
    rq.body = text;
    rq.body_len = strlen(text);
    rc = ctl_call(ctl, &rq, &resp, &dev);
    if (!rc) show_device(ctl, &resp, dev);
    cJSON_Delete(dev);
    ctl_response_release(&resp);
    osap_free(text);
    return rc;
}

static int list_row(void *userdata, const cJSON *d)
{
    struct ctl_table *t = userdata;
    const cJSON *online = cJSON_GetObjectItemCaseSensitive(d, "online");
    const char *cells[] = {
        ctl_json_str(d, "serial", "?"),
        cJSON_IsTrue(online) ? "online" : "offline",
        yes_no(d, "blocked"),
        ctl_json_str(d, "model", "-"),
        ctl_json_str(d, "name", "-"),
        ctl_json_str(d, "firmware", "-"),
        ctl_json_str(d, "last_seen", "-"),
        ctl_json_str(d, "address", "-"),
    };

    for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++)
        if (!cells[i][0]) cells[i] = "-";
    if (ctl_table_row(t, cells)) {
        ctl_error("out of memory");
        return CTL_EAPI;
    }
    return CTL_OK;
}

static int device_list(struct ctl *ctl, int argc, char **argv)
{
    bool online = false, offline = false, blocked = false, unblocked = false, all = false;
    const char *model = NULL, *search = NULL, *limit = NULL, *cursor = NULL;
    const struct ctl_opt opts[] = {
        {"online", 0, false, NULL, &online},   {"offline", 0, false, NULL, &offline},
        {"blocked", 0, false, NULL, &blocked}, {"unblocked", 0, false, NULL, &unblocked},
        {"model", 0, true, &model, NULL},      {"search", 0, true, &search, NULL},
        {"limit", 0, true, &limit, NULL},      {"cursor", 0, true, &cursor, NULL},
        {"all", 0, false, NULL, &all},         {NULL, 0, false, NULL, NULL},
    };
    static const char *const heads[] = {"SERIAL",   "STATE",     "BLOCKED", "MODEL", "NAME",
                                        "FIRMWARE", "LAST SEEN", "ADDRESS", NULL};
    struct ctl_buf url = {0};
    struct ctl_table t;
    struct ctl_args a;
    uint64_t n;
    int rc;

    rc = ctl_args_parse(ctl, argc, argv, opts, 0, 0, &a);
    if (rc) return ctl_usage_group("device");
    if ((online && offline) || (blocked && unblocked)) {
        ctl_error("device list: --online/--offline and --blocked/--unblocked exclude each other");
        return CTL_EUSAGE;
    }
    if (limit && (ctl_parse_u64(limit, &n) || n == 0)) {
        ctl_error("--limit: expected a positive integer");
        return CTL_EUSAGE;
    }
    if (ctl_buf_puts(&url, "/api/v1/devices") ||
        ctl_url_query(&url, "online",
                      online    ? "true"
                      : offline ? "false"
                                : NULL) ||
        ctl_url_query(&url, "blocked",
                      blocked     ? "true"
                      : unblocked ? "false"
                                  : NULL) ||
        ctl_url_query(&url, "model", model) || ctl_url_query(&url, "q", search) ||
        ctl_url_query(&url, "limit", limit)) {
        ctl_buf_release(&url);
        ctl_error("out of memory");
        return CTL_EAPI;
    }
    ctl_table_init(&t, heads);
    t.max_width[4] = 32;
    rc = ctl_list(ctl, url.data, cursor, all, list_row, &t);
    if (!rc && !ctl->json) ctl_table_print(&t, false);
    ctl_table_release(&t);
    ctl_buf_release(&url);
    return rc;
}

int ctl_cmd_device(struct ctl *ctl, int argc, char **argv)
{
    const char *sub = argv[0];
    struct ctl_args a;

    if (strcmp(sub, "add") == 0) return device_add(ctl, argc - 1, argv + 1);
    if (strcmp(sub, "list") == 0 || strcmp(sub, "ls") == 0)
        return device_list(ctl, argc - 1, argv + 1);
    if (strcmp(sub, "show") == 0 || strcmp(sub, "rm") == 0 || strcmp(sub, "block") == 0 ||
        strcmp(sub, "unblock") == 0) {
        if (ctl_args_parse(ctl, argc - 1, argv + 1, NULL, 1, 1, &a))
            return ctl_usage_group("device");
        if (strcmp(sub, "show") == 0) return simple(ctl, "GET", a.pos[0], "");
        if (strcmp(sub, "rm") == 0) return simple(ctl, "DELETE", a.pos[0], "");
        return simple(ctl, "POST", a.pos[0], sub[0] == 'b' ? "/block" : "/unblock");
    }
    ctl_error("unknown command 'device %s'", sub);
    return ctl_usage_group("device");
}
