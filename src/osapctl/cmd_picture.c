/* osapctl picture put|get|ls|rm: the Picture Service (/api/v1/pictures),
 * content-addressed images optionally linked to a device and an event. */
#include "ctl.h"

#include "osap/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Pictures larger than this are refused here (the platform's own ceiling,
 * [api] picture_max_size, is at most 1 GiB). */
#define PICTURE_FILE_MAX (1024u * 1024u * 1024u)

static int read_file(const char *path, struct ctl_buf *out)
{
    FILE *f = fopen(path, "rb");
    char chunk[65536];
    size_t n;
    int rc = CTL_OK;

    if (!f) {
        ctl_error("cannot open %s: %s", path, strerror(errno));
        return CTL_EUSAGE;
    }
    out->max = PICTURE_FILE_MAX;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (ctl_buf_add(out, chunk, n)) {
            ctl_error("%s is too large (or out of memory)", path);
            rc = CTL_EAPI;
            break;
        }
    }
    if (!rc && ferror(f)) {
        ctl_error("cannot read %s: %s", path, strerror(errno));
        rc = CTL_EAPI;
    }
    fclose(f);
    return rc;
}

static int picture_put(struct ctl *ctl, int argc, char **argv)
{
    const char *serial = NULL, *event = NULL;
    const struct ctl_opt opts[] = {
        {"serial", 0, true, &serial, NULL},
        {"event", 0, true, &event, NULL},
        {NULL, 0, false, NULL, NULL},
    };
    struct ctl_buf data = {0}, url = {0};
    struct ctl_request rq = {.method = "POST"};
    struct ctl_response resp;
    struct ctl_args a;
    cJSON *o = NULL;
    uint64_t n;
    int rc;

    memset(&resp, 0, sizeof(resp));
    if (ctl_args_parse(ctl, argc, argv, opts, 1, 1, &a)) return ctl_usage_group("picture");
    if (event && (ctl_parse_u64(event, &n) || n == 0)) {
        ctl_error("--event: expected an event id");
        return CTL_EUSAGE;
    }
    rc = read_file(a.pos[0], &data);
    if (rc) goto out;
    if (data.len == 0) {
        ctl_error("%s is empty", a.pos[0]);
        rc = CTL_EUSAGE;
        goto out;
    }
    if (ctl_buf_puts(&url, "/api/v1/pictures") || ctl_url_query(&url, "serial", serial) ||
        ctl_url_query(&url, "event", event)) {
        ctl_error("out of memory");
        rc = CTL_EAPI;
        goto out;
    }
    rq.target = url.data;
    rq.content_type = "application/octet-stream";
    rq.body = data.data;
    rq.body_len = data.len;
    rc = ctl_call(ctl, &rq, &resp, &o);
    if (!rc) {
        if (ctl->json)
            ctl_print_body(&resp);
        else
            ctl_print_fields(o);
        if (resp.status == 200 && !ctl->json)
            fprintf(stderr, "(the same picture was stored already)\n");
    }
out:
    cJSON_Delete(o);
    ctl_response_release(&resp);
    ctl_buf_release(&data);
    ctl_buf_release(&url);
    return rc;
}

static int write_sink(void *userdata, const char *data, size_t len)
{
    FILE *f = userdata;

    if (fwrite(data, 1, len, f) != len) {
        ctl_error("cannot write the picture: %s", strerror(errno));
        return CTL_EAPI;
    }
    return 0;
}

/* A SHA-256 in hex, as the platform names pictures. */
static bool sha_valid(const char *s)
{
    return strlen(s) == 64 && strspn(s, "0123456789abcdefABCDEF") == 64;
}

static int picture_get(struct ctl *ctl, int argc, char **argv)
{
    const char *outpath = NULL;
    const struct ctl_opt opts[] = {
        {"output", 'o', true, &outpath, NULL},
        {NULL, 0, false, NULL, NULL},
    };
    struct ctl_request rq = {.method = "GET", .accept = "image/*"};
    struct ctl_response resp;
    struct ctl_buf url = {0}, part = {0};
    struct ctl_args a;
    FILE *f = NULL;
    int rc;

    memset(&resp, 0, sizeof(resp));
    if (ctl_args_parse(ctl, argc, argv, opts, 1, 1, &a)) return ctl_usage_group("picture");
    if (!sha_valid(a.pos[0])) {
        ctl_error("picture get: SHA256 must be 64 hexadecimal digits");
        return CTL_EUSAGE;
    }
    if (!outpath && isatty(STDOUT_FILENO)) {
        ctl_error("picture get: the picture is binary: give -o FILE or redirect the output");
        return CTL_EUSAGE;
    }
    if (ctl_buf_puts(&url, "/api/v1/pictures/") || ctl_url_escape(&url, a.pos[0]) ||
        (outpath && ctl_buf_printf(&part, "%s.part", outpath))) {
        ctl_error("out of memory");
        rc = CTL_EAPI;
        goto out;
    }
    if (outpath) {
        f = fopen(part.data, "wb");
        if (!f) {
            ctl_error("cannot create %s: %s", part.data, strerror(errno));
            rc = CTL_EAPI;
            goto out;
        }
    }
    rq.target = url.data;
    rq.sink = write_sink;
    rq.sink_userdata = f ? f : stdout;
    rc = ctl_http(ctl, &rq, &resp);
    if (!rc) rc = ctl_check(ctl, &resp);
    if (f) {
        if (fclose(f) != 0 && !rc) {
            ctl_error("cannot write %s: %s", part.data, strerror(errno));
            rc = CTL_EAPI;
        }
        f = NULL;
        if (!rc && rename(part.data, outpath) != 0) {
            ctl_error("cannot rename %s to %s: %s", part.data, outpath, strerror(errno));
            rc = CTL_EAPI;
        }
        if (rc) unlink(part.data);
    } else if (fflush(stdout) != 0 && !rc) {
        ctl_error("cannot write the picture: %s", strerror(errno));
        rc = CTL_EAPI;
    }
out:
    if (f) fclose(f);
    ctl_response_release(&resp);
    ctl_buf_release(&url);
    ctl_buf_release(&part);
    return rc;
}

static int picture_row(void *userdata, const cJSON *p)
{
    struct ctl_table *t = userdata;
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(p, "size");
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(p, "event_id");
    char sizetext[32] = "-", evtext[32] = "-";
    const char *cells[6];

    if (cJSON_IsNumber(size)) snprintf(sizetext, sizeof(sizetext), "%.0f", size->valuedouble);
    if (cJSON_IsNumber(ev)) snprintf(evtext, sizeof(evtext), "%.0f", ev->valuedouble);
    cells[0] = ctl_json_str(p, "sha256", "?");
    cells[1] = ctl_json_str(p, "content_type", "-");
    cells[2] = sizetext;
    cells[3] = ctl_json_str(p, "serial", "-");
    cells[4] = evtext;
    cells[5] = ctl_json_str(p, "created_at", "-");
    if (ctl_table_row(t, cells)) {
        ctl_error("out of memory");
        return CTL_EAPI;
    }
    return CTL_OK;
}

static int picture_ls(struct ctl *ctl, int argc, char **argv)
{
    const char *serial = NULL, *event = NULL, *limit = NULL, *cursor = NULL;
    bool all = false;
    const struct ctl_opt opts[] = {
        {"serial", 0, true, &serial, NULL}, {"event", 0, true, &event, NULL},
        {"limit", 0, true, &limit, NULL},   {"cursor", 0, true, &cursor, NULL},
        {"all", 0, false, NULL, &all},      {NULL, 0, false, NULL, NULL},
    };
    static const char *const heads[] = {"SHA256", "TYPE",    "SIZE", "SERIAL",
                                        "EVENT",  "CREATED", NULL};
    struct ctl_buf url = {0};
    struct ctl_table t;
    struct ctl_args a;
    uint64_t n;
    int rc;

    if (ctl_args_parse(ctl, argc, argv, opts, 0, 0, &a)) return ctl_usage_group("picture");
    if ((limit && (ctl_parse_u64(limit, &n) || n == 0)) ||
        (event && (ctl_parse_u64(event, &n) || n == 0))) {
        ctl_error("--limit and --event take positive integers");
        return CTL_EUSAGE;
    }
    if (ctl_buf_puts(&url, "/api/v1/pictures") || ctl_url_query(&url, "serial", serial) ||
        ctl_url_query(&url, "event", event) || ctl_url_query(&url, "limit", limit)) {
        ctl_buf_release(&url);
        ctl_error("out of memory");
        return CTL_EAPI;
    }
    ctl_table_init(&t, heads);
    rc = ctl_list(ctl, url.data, cursor, all, picture_row, &t);
    if (!rc && !ctl->json) ctl_table_print(&t, false);
    ctl_table_release(&t);
    ctl_buf_release(&url);
    return rc;
}

static int picture_rm(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_request rq = {.method = "DELETE"};
    struct ctl_response resp;
    struct ctl_buf url = {0};
    struct ctl_args a;
    int rc;

    if (ctl_args_parse(ctl, argc, argv, NULL, 1, 1, &a)) return ctl_usage_group("picture");
    if (!sha_valid(a.pos[0])) {
        ctl_error("picture rm: SHA256 must be 64 hexadecimal digits");
        return CTL_EUSAGE;
    }
    if (ctl_buf_puts(&url, "/api/v1/pictures/") || ctl_url_escape(&url, a.pos[0])) {
        ctl_error("out of memory");
        return CTL_EAPI;
    }
    rq.target = url.data;
    rc = ctl_call(ctl, &rq, &resp, NULL);
    if (!rc) {
        if (ctl->json)
            ctl_print_body(&resp);
        else
            printf("picture %s removed\n", a.pos[0]);
    }
    ctl_response_release(&resp);
    ctl_buf_release(&url);
    return rc;
}

int ctl_cmd_picture(struct ctl *ctl, int argc, char **argv)
{
    const char *sub = argv[0];

    if (strcmp(sub, "put") == 0) return picture_put(ctl, argc - 1, argv + 1);
    if (strcmp(sub, "get") == 0) return picture_get(ctl, argc - 1, argv + 1);
    if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0)
        return picture_ls(ctl, argc - 1, argv + 1);
    if (strcmp(sub, "rm") == 0) return picture_rm(ctl, argc - 1, argv + 1);
    ctl_error("unknown command 'picture %s'", sub);
    return ctl_usage_group("picture");
}
