/* libFuzzer target: request-targets and static files (lib/server/http_util.c,
 * http_static.c): percent-decoding, the split of a target into path segments and
 * query parameters, and the mapping of a path onto the console's files, which
 * must never serve anything outside its root.
 *
 * Input: a flags byte, the request-target, then optionally a newline and raw
 * header lines (If-None-Match, If-Modified-Since...). Flags: bit 0 HEAD instead
 * of GET; bit 1 the files are under /static/ (the first segment is skipped).
 * Each run:
 *   1. parses the target directly: on success the segments are non-empty and
 *      hold no NUL, each is the decoding of its raw text, and encoding the
 *      segments and parameters again parses back to the same;
 *   2. sends "GET <target>" through the server, whose handler serves files from
 *      a fixed tree (files, a directory with an index, a hidden file, a symbolic
 *      link out of the tree, a file beside the tree); a 200 must carry the
 *      content of a file inside the tree that is not hidden.
 * Seeds: the paths of tests/unit/server/test_http_server.c (static files) and of
 * the api's routes. */
#include "fuzz_http_peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fz_http h;
static char root[256];
static size_t skip;
static int served; /* 200 responses with a body, this run */

/* The files of the tree: every one that may be served starts with "in:". */
static const struct {
    const char *path;
    const char *content; /* NULL: a directory */
} tree[] = {
    {"", NULL},
    {"index.html", "in:index\n"},
    {"app.js", "in:app\n"},
    {"a b.txt", "in:space\n"},
    {"sub", NULL},
    {"sub/index.html", "in:sub-index\n"},
    {"sub/x.json", "in:x\n"},
    {".hidden", "hidden\n"}, /* refused: never served */
    {"empty", NULL},
};

static char base_dir[256];

/* Remove the tree at exit: the links, then the files and directories deepest first. */
static void remove_tree(void)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/link", root);
    unlink(path);
    snprintf(path, sizeof(path), "%s/sub/up", root);
    unlink(path);
    for (size_t i = sizeof(tree) / sizeof(tree[0]); i-- > 0;) {
        snprintf(path, sizeof(path), "%s/%s", root, tree[i].path);
        if (tree[i].content)
            unlink(path);
        else
            rmdir(path);
    }
    snprintf(path, sizeof(path), "%s/secret", base_dir);
    unlink(path);
    rmdir(base_dir);
}

static void make_tree(void)
{
    const char *tmp = getenv("TMPDIR");
    char base[200], path[512];
    FILE *f;

    snprintf(base, sizeof(base), "%s/osap-fuzz-static.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(base)) abort();
    snprintf(base_dir, sizeof(base_dir), "%s", base);
    snprintf(root, sizeof(root), "%s/root", base);
    atexit(remove_tree);
    for (size_t i = 0; i < sizeof(tree) / sizeof(tree[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", root, tree[i].path);
        if (!tree[i].content) {
            CHECK(mkdir(path, 0700) == 0);
            continue;
        }
        f = fopen(path, "w");
        CHECK(f && fputs(tree[i].content, f) >= 0 && fclose(f) == 0);
    }
    snprintf(path, sizeof(path), "%s/secret", base);
    f = fopen(path, "w");
    CHECK(f && fputs("out:secret\n", f) >= 0 && fclose(f) == 0);
    snprintf(path, sizeof(path), "%s/link", root);
    CHECK(symlink("../secret", path) == 0);
    snprintf(path, sizeof(path), "%s/sub/up", root);
    CHECK(symlink("..", path) == 0);
}

static void on_request(struct osap_http_request *req, void *userdata)
{
    (void)userdata;
    fz_http_seen(&h, req);
    (void)osap_http_serve_static(req, root, skip);
}

static void on_response(struct fz_http *c)
{
    if (c->status != 200 || c->body_len == 0) return;
    /* only the tree's files, never what is beside it */
    CHECK(c->body_len >= 3 && memcmp(c->body, "in:", 3) == 0);
    served++;
}

/* Percent-encode @p s (every byte but unreserved ones) into @p out. */
static size_t encode(const char *s, char *out, bool query)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out[n++] = (char)c;
        } else if (query && c == ' ') {
            out[n++] = '+';
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    return n;
}

static void check_parse(const char *target, size_t len)
{
    struct osap__http_url u, v;
    char *again, *o;
    size_t cap = 64;

    if (osap__http_url_parse(target, len, &u) != OSAP_OK) return;
    CHECK(u.path && u.path[0] == '/');
    for (size_t i = 0; i < u.nsegments; i++) {
        size_t sl = strlen(u.segments[i]);
        CHECK(sl > 0 && sl <= len);
        cap += 3 * sl + 1;
    }
    for (size_t i = 0; i < u.nparams; i++)
        cap += 3 * (strlen(u.params[i].name) + strlen(u.params[i].value)) + 2;

    /* encode and parse again: the same segments and parameters */
    again = malloc(cap);
    CHECK(again);
    o = again;
    for (size_t i = 0; i < u.nsegments; i++) {
        *o++ = '/';
        o += encode(u.segments[i], o, false);
    }
    if (u.nsegments == 0) *o++ = '/';
    for (size_t i = 0; i < u.nparams; i++) {
        *o++ = i ? '&' : '?';
        o += encode(u.params[i].name, o, true);
        *o++ = '=';
        o += encode(u.params[i].value, o, true);
    }
    CHECK(osap__http_url_parse(again, (size_t)(o - again), &v) == OSAP_OK);
    CHECK(v.nsegments == u.nsegments && v.nparams == u.nparams);
    for (size_t i = 0; i < u.nsegments; i++)
        CHECK(strcmp(v.segments[i], u.segments[i]) == 0);
    for (size_t i = 0; i < u.nparams; i++)
        CHECK(strcmp(v.params[i].name, u.params[i].name) == 0 &&
              strcmp(v.params[i].value, u.params[i].value) == 0);
    osap__http_url_release(&v);
    osap__http_url_release(&u);
    free(again);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct osap_http_config cfg;

    (void)argc;
    (void)argv;
    make_tree();
    osap_http_config_init(&cfg);
    fz_http_init(&h, &cfg, on_request, NULL);
    h.on_response = on_response;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl, *target;
    size_t tlen, hlen;
    char *req;
    int n;

    if (size < 1 || size > 8192) return 0;
    skip = (data[0] & 2) ? 1 : 0;
    target = data + 1;
    nl = memchr(target, '\n', size - 1);
    tlen = nl ? (size_t)(nl - target) : size - 1;
    hlen = nl ? size - 1 - tlen - 1 : 0;

    check_parse((const char *)target, tlen);

    req = malloc(tlen + hlen + 64);
    CHECK(req);
    n = sprintf(req, "%s ", (data[0] & 1) ? "HEAD" : "GET");
    memcpy(req + n, target, tlen);
    n += (int)tlen;
    n += sprintf(req + n, " HTTP/1.1\r\nHost: x\r\n");
    if (nl) {
        memcpy(req + n, nl + 1, hlen);
        n += (int)hlen;
        n += sprintf(req + n, "\r\n");
    }
    n += sprintf(req + n, "\r\n");
    served = 0;
    fz_http_connect(&h);
    fz_http_send(&h, (const uint8_t *)req, (size_t)n);
    fz_http_close(&h, true);
    free(req);
    return 0;
}
