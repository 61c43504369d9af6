/* osapctl attr get|set: last reported attribute values and the desired values
 * waiting for a device; setting an attribute on a device. */
#include "ctl.h"

#include "osap/alloc.h"

#include <stdio.h>
#include <string.h>

struct attr_filter {
    const char *domain, *identifier, *resource, *child;
};

static bool attr_matches(const struct attr_filter *f, const cJSON *a)
{
    if (f->domain && strcmp(ctl_json_str(a, "domain", ""), f->domain) != 0) return false;
    if (f->identifier && strcmp(ctl_json_str(a, "identifier", ""), f->identifier) != 0)
        return false;
    if (f->resource && strcmp(ctl_json_str(a, "resource", ""), f->resource) != 0) return false;
    if (f->child && strcmp(ctl_json_str(a, "child", ""), f->child) != 0) return false;
    return true;
}

/* Drop the elements of the array @p name of @p doc that do not match. */
static size_t filter_array(cJSON *doc, const char *name, const struct attr_filter *f)
{
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, name), *it, *next;
    size_t kept = 0;

    if (!cJSON_IsArray(arr)) return 0;
    for (it = arr->child; it; it = next) {
        next = it->next;
        if (attr_matches(f, it))
            kept++;
        else
            cJSON_Delete(cJSON_DetachItemViaPointer(arr, it));
    }
    return kept;
}

static int table_of(const cJSON *arr, bool desired)
{
    static const char *const heads_r[] = {"RESOURCE", "DOMAIN",   "IDENTIFIER", "VALUE",
                                          "VERSION",  "REPORTED", NULL};
    static const char *const heads_d[] = {"RESOURCE", "DOMAIN",  "IDENTIFIER", "DESIRED",
                                          "VERSION",  "UPDATED", NULL};
    struct ctl_table t;
    const cJSON *a;
    int rc = CTL_OK;

    ctl_table_init(&t, desired ? heads_d : heads_r);
    t.max_width[3] = 60;
    cJSON_ArrayForEach(a, arr)
    {
        char res[160], version[32] = "-";
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, "version");
        const char *child = ctl_json_str(a, "child", "global");
        char *value = ctl_json_text(cJSON_GetObjectItemCaseSensitive(a, "value"));
        const char *cells[6];

        if (strcmp(child, "global") == 0)
            snprintf(res, sizeof(res), "%s", ctl_json_str(a, "resource", "0-global"));
        else
            snprintf(res, sizeof(res), "%s/%s", child, ctl_json_str(a, "resource", "0-global"));
        if (cJSON_IsNumber(v)) snprintf(version, sizeof(version), "%.0f", v->valuedouble);
        cells[0] = res;
        cells[1] = ctl_json_str(a, "domain", "?");
        cells[2] = ctl_json_str(a, "identifier", "?");
        cells[3] = value ? value : "?";
        cells[4] = version;
        cells[5] = ctl_json_str(a, desired ? "updated_at" : "reported_at", "-");
        if (ctl_table_row(&t, cells)) rc = CTL_EAPI;
        osap_free(value);
        if (rc) break;
    }
    if (!rc) ctl_table_print(&t, false);
    ctl_table_release(&t);
    if (rc) ctl_error("out of memory");
    return rc;
}

static int attr_get(struct ctl *ctl, int argc, char **argv)
{
    struct attr_filter f = {0};
    const struct ctl_opt opts[] = {
        {"resource", 0, true, &f.resource, NULL},
        {"child", 0, true, &f.child, NULL},
        {NULL, 0, false, NULL, NULL},
    };
    struct ctl_request rq = {.method = "GET"};
    struct ctl_response resp;
    struct ctl_buf url = {0};
    struct ctl_args a;
    cJSON *doc = NULL;
    bool filtered;
    size_t kept;
    int rc;

    if (ctl_args_parse(ctl, argc, argv, opts, 1, 3, &a)) return ctl_usage_group("attr");
    f.domain = a.npos > 1 ? a.pos[1] : NULL;
    f.identifier = a.npos > 2 ? a.pos[2] : NULL;
    filtered = f.domain || f.resource || f.child;
    if (ctl_buf_puts(&url, "/api/v1/devices/") || ctl_url_escape(&url, a.pos[0]) ||
        ctl_buf_puts(&url, "/attributes")) {
        ctl_error("out of memory");
        return CTL_EAPI;
    }
    rq.target = url.data;
    rc = ctl_call(ctl, &rq, &resp, &doc);
    if (rc) goto out;
    kept = filter_array(doc, "items", &f);
    filter_array(doc, "desired", &f);
    if (ctl->json) {
        if (filtered) {
            char *text = ctl_json_text(doc);
            if (text) puts(text);
            osap_free(text);
        } else {
            ctl_print_body(&resp);
        }
    } else {
        const cJSON *desired = cJSON_GetObjectItemCaseSensitive(doc, "desired");
        rc = table_of(cJSON_GetObjectItemCaseSensitive(doc, "items"), false);
        if (!rc && cJSON_GetArraySize(desired) > 0) {
            puts("\ndesired values waiting for the device:");
            rc = table_of(desired, true);
        }
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "truncated")))
            fprintf(stderr, "(the list was cut at the platform's maximum)\n");
    }
    if (!rc && f.identifier && kept == 0) {
        ctl_error("attribute %s/%s has no reported value", f.domain, f.identifier);
        rc = CTL_EAPI;
    }
out:
    cJSON_Delete(doc);
    ctl_response_release(&resp);
    ctl_buf_release(&url);
    return rc;
}

/* A JSON argument, checked here so that a typo is a usage error. */
int ctl_json_arg(const char *what, const char *text)
{
    cJSON *v = cJSON_Parse(text);

    if (!v) {
        ctl_error("%s must be JSON, e.g. 42, true, '\"text\"' or '{\"a\":1}' (got: %s)", what,
                  text);
        return CTL_EUSAGE;
    }
    cJSON_Delete(v);
    return CTL_OK;
}

static int attr_set(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_devreq r = {0};
    const struct ctl_opt opts[] = {
        {"resource", 0, true, &r.resource, NULL},
        {"child", 0, true, &r.child, NULL},
        {"device-timeout", 0, true, &r.device_timeout, NULL},
        {"async", 0, false, NULL, &r.async},
        {NULL, 0, false, NULL, NULL},
    };
    struct ctl_args a;

    if (ctl_args_parse(ctl, argc, argv, opts, 4, 4, &a)) return ctl_usage_group("attr");
    if (ctl_json_arg("VALUE", a.pos[3])) return CTL_EUSAGE;
    r.serial = a.pos[0];
    r.domain = a.pos[1];
    r.identifier = a.pos[2];
    r.json = a.pos[3];
    return ctl_devreq_run(ctl, &r);
}

int ctl_cmd_attr(struct ctl *ctl, int argc, char **argv)
{
    if (strcmp(argv[0], "get") == 0) return attr_get(ctl, argc - 1, argv + 1);
    if (strcmp(argv[0], "set") == 0) return attr_set(ctl, argc - 1, argv + 1);
    ctl_error("unknown command 'attr %s'", argv[0]);
    return ctl_usage_group("attr");
}
