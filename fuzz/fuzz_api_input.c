/* libFuzzer target: the input of the platform's REST API (src/osapd/api): query
 * parameters, JSON bodies, multipart uploads and header fields as the routes'
 * handlers read them, behind the real head decisions (routing, token, body
 * ceilings), with the api's store threads on a real store.
 *
 * The api runs as osapd runs it (api_router_head, api_router_handle, the api's
 * HTTP settings, one store thread, the project's thing models) on a store in a
 * scratch data directory holding a token, a device with the ip_camera model, a
 * licence-mode device and two events; there is no DAS (requests to devices are
 * answered 503). What the requests change in the store is undone between runs
 * (the fixture's devices come back; other devices and pictures go).
 *
 * Input: a byte M, the request-target, a newline, header lines, an empty line,
 * then the body. M's low three bits pick the method (GET, POST, PUT, PATCH,
 * DELETE, HEAD, OPTIONS, GET); bit 3 leaves out the fixture's token (else
 * "Authorization: Bearer" with it is added); bit 4 sends no Content-Type (else
 * application/json unless the header lines give one). Content-Length is added.
 * Checks: every answer is well-formed HTTP; an API error or a JSON answer is
 * valid JSON; the api never answers 500 (an internal error) to what a client
 * sends. Seeds: the requests of tests/integration/test_api_*.py. */
#include "api/api_internal.h"
#include "fuzz_http_peer.h"
#include "log.h"
#include "osapd.h"
#include "store_devices.h"
#include "store_events.h"
#include "store_tokens.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TOKEN "osap_fuzz0123456789abcdefghijklmnopqrstuvwxyzABCDE"

static struct fz_http h;
static struct api *api;
static struct osap_store *fixture; /* the main thread's own handle */
static char data_dir[256];
static unsigned long runs;

/* ---- the api on the target's loop ---- */

static void on_head(struct osap_http_request *req, void *userdata)
{
    fz_http_seen(&h, req);
    api_router_head(req, userdata);
}

static void on_request(struct osap_http_request *req, void *userdata)
{
    h.progress++;
    api_router_handle(req, userdata);
}

/* ---- the store: what every run starts from ---- */

static void add_device(const char *serial, enum osap_auth_mode mode, const char *secret,
                       const char *model)
{
    struct osap_device d;
    osap_err err;

    memset(&d, 0, sizeof(d));
    snprintf(d.serial, sizeof(d.serial), "%s", serial);
    snprintf(d.secret, sizeof(d.secret), "%s", secret);
    snprintf(d.model, sizeof(d.model), "%s", model);
    d.auth_mode = mode;
    err = osap_store_device_add(fixture, &d);
    CHECK(err == OSAP_OK || err == OSAP_EEXISTS);
    if (err == OSAP_EEXISTS) { /* as it was: PATCH may have changed it */
        struct osap_device_update u = {.name = "", .model = model, .secret = secret};
        CHECK(osap_store_device_update(fixture, serial, &u) == OSAP_OK);
    }
    CHECK(osap_store_device_set_blocked(fixture, serial, false) == OSAP_OK);
}

static void add_event(const char *identifier, int64_t at)
{
    struct osap_event ev = {
        .serial = "FUZZ01",
        .child = "global",
        .resource = "0-video",
        .domain = "MotionDetection",
        .identifier = identifier,
        .seq = 1,
        .uuid = identifier,
        .level = 1,
        .payload = "{\"MotionDetected\":{\"confidence\":87}}",
        .device_time = at,
        .received_at = at,
    };
    int64_t id;
    CHECK(osap_store_event_add(fixture, &ev, 0, &id, NULL) == OSAP_OK);
}

/* Devices that are not the fixture's, to remove. */
struct others {
    char serial[64][OSAP_SUBSERIAL_MAX + 1];
    size_t n;
};

static osap_err collect_other(const struct osap_device *d, void *userdata)
{
    struct others *o = userdata;

    if (strcmp(d->serial, "FUZZ01") == 0 || strcmp(d->serial, "pk1:dn1") == 0) return OSAP_OK;
    if (o->n < 64) snprintf(o->serial[o->n++], sizeof(o->serial[0]), "%s", d->serial);
    return OSAP_OK;
}

static void remove_files(const char *dir)
{
    char path[512];
    struct dirent *e;
    DIR *d = opendir(dir);

    if (!d) return;
    while ((e = readdir(d))) {
        struct stat st;
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (lstat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            remove_files(path);
            rmdir(path);
        } else {
            unlink(path);
        }
    }
    closedir(d);
}

/* Undo what a run changed: the fixture's devices back, unblocked; the rest gone. */
static void reset_store(void)
{
    static struct others others;
    struct osap_device_filter f;

    add_device("FUZZ01", OSAP_AUTH_SAP, "CODE01", "ip_camera");
    add_device("pk1:dn1", OSAP_AUTH_LICENCE, "LICENCE1", "");
    others.n = 0;
    memset(&f, 0, sizeof(f));
    CHECK(osap_store_device_list(fixture, &f, collect_other, &others) == OSAP_OK);
    for (size_t i = 0; i < others.n; i++)
        (void)osap_store_device_remove(fixture, others.serial[i]);
    if (api && runs % 64 == 0) remove_files(api->pictures_dir);
}

static void make_data_dir(void)
{
    /* memory-backed when possible: SQLite syncs every commit */
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");

    snprintf(data_dir, sizeof(data_dir), "%s/osap-fuzz-api.XXXXXX", base && *base ? base : "/tmp");
    CHECK(mkdtemp(data_dir) != NULL);
}

static void remove_data_dir(void)
{
    osap_store_close(fixture);
    fixture = NULL;
    remove_files(data_dir);
    rmdir(data_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char set_dir[300], set_models[300];
    char *sets[] = {set_dir, "api.store_threads=1", set_models};
    struct osap_config *cfg;
    struct osapd_context *ctx;
    struct osap_http_config hcfg;
    struct sigaction saved[3];
    static const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
    int64_t id;

    (void)argc;
    (void)argv;
    osap_log_set_level(OSAP_LOG_ERROR);
    make_data_dir();
    atexit(remove_data_dir);
    snprintf(set_dir, sizeof(set_dir), "osapd.data_dir=%s", data_dir);
    snprintf(set_models, sizeof(set_models), "models.models_dir=%s", OSAP_FUZZ_MODELS_DIR);
    CHECK(osapd_config_load(NULL, sets, 3, &cfg) == OSAPD_EXIT_OK);
    /* the context arms signal handlers for its own loop, which never runs here */
    for (int i = 0; i < 3; i++)
        sigaction(sigs[i], NULL, &saved[i]);
    CHECK(osapd_context_new(cfg, &ctx) == OSAP_OK);
    for (int i = 0; i < 3; i++)
        sigaction(sigs[i], &saved[i], NULL);

    CHECK(osapd_store_open(ctx, &fixture) == OSAP_OK);
    CHECK(osap_store_token_create(fixture, "fuzz", TOKEN, &id) == OSAP_OK);
    reset_store();
    add_event("e1", 1795924458000);
    add_event("e2", 1795924459000);

    api = calloc(1, sizeof(*api));
    CHECK(api);
    api->ctx = ctx;
    api->cfg = osap_config_section(cfg, "api");
    api->started_at = osap_time_now_ms();
    atomic_init(&api->live_lost, false);
    atomic_init(&api->live_dropped, 0);
    atomic_init(&api->streams_open, 0);
    CHECK(osap_path_join(data_dir, "pictures", &api->pictures_dir) == OSAP_OK);
    {
        struct osap_models_config mc = {.models_dir = (char *)OSAP_FUZZ_MODELS_DIR};
        char err[256];
        CHECK(osap_models_new(&mc, &api->models, err, sizeof(err)) == OSAP_OK);
    }
    CHECK(api_http_config(api->cfg, &hcfg) == OSAP_OK);
    fz_http_init(&h, &hcfg, on_request, api);
    api->http = h.srv;
    osap_http_server_on_head(h.srv, on_head);
    CHECK(api_link_new(&h.loop, &api->link) == OSAP_OK);
    CHECK(api_pool_new(ctx, 1, api->link, &api->pool) == OSAP_OK);
    return 0;
}

/* ---- one request ---- */

static void check_answer(struct fz_http *c)
{
    cJSON *j;

    if (c->status == 500) {
        fprintf(stderr, "fuzz_api_input: 500: %.*s\n", (int)c->body_len, c->body);
        abort();
    }
    if (c->body_cut || c->body_len == 0 || c->body[0] != '{') return;
    j = cJSON_ParseWithLength(c->body, c->body_len);
    if (c->status >= 400) CHECK(j && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "error")));
    cJSON_Delete(j);
}

/* Run the loop until the answer (or the head of an event stream) is in. */
static void wait_answer(size_t before)
{
    for (int i = 0; i < 1000000; i++) {
        fz_http_pump(&h);
        if (h.responses > before || h.peer_eof || (h.head_done && h.event_stream)) return;
        uv_run(&h.loop, UV_RUN_ONCE); /* the store threads post back through the link */
    }
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET",    "POST", "PUT",     "PATCH",
                                          "DELETE", "HEAD", "OPTIONS", "GET"};
    const uint8_t *nl, *end, *body;
    size_t tlen, hlen = 0, blen, n = 0;
    char *req;
    uint8_t m;

    if (size < 2 || size > 1u << 16) return 0;
    m = data[0];
    nl = memchr(data + 1, '\n', size - 1);
    if (!nl) return 0;
    tlen = (size_t)(nl - data - 1);
    body = nl + 1;
    end = data + size;
    /* header lines up to an empty line; without one, everything is the body */
    for (const uint8_t *p = body, *q; p < end; p = q + 1) {
        q = memchr(p, '\n', (size_t)(end - p));
        if (!q) break;
        if (q == p) {
            hlen = (size_t)(p - body);
            body = q + 1;
            break;
        }
    }
    blen = (size_t)(end - body);

    req = malloc(tlen + hlen * 2 + blen + 512);
    CHECK(req);
    n += (size_t)sprintf(req + n, "%s ", methods[m & 7]);
    memcpy(req + n, data + 1, tlen);
    n += tlen;
    n += (size_t)sprintf(req + n, " HTTP/1.1\r\nHost: x\r\n");
    if (!(m & 8)) n += (size_t)sprintf(req + n, "Authorization: Bearer " TOKEN "\r\n");
    for (const uint8_t *p = nl + 1, *q; p < nl + 1 + hlen; p = q + 1) {
        q = memchr(p, '\n', (size_t)(nl + 1 + hlen - p));
        if (!q) q = nl + 1 + hlen;
        memcpy(req + n, p, (size_t)(q - p));
        n += (size_t)(q - p);
        n += (size_t)sprintf(req + n, "\r\n");
    }
    if (!(m & 16) && !memmem(nl + 1, hlen, "Content-Type", 12))
        n += (size_t)sprintf(req + n, "Content-Type: application/json\r\n");
    n += (size_t)sprintf(req + n, "Content-Length: %zu\r\n\r\n", blen);
    memcpy(req + n, body, blen);
    n += blen;

    h.on_response = check_answer;
    fz_http_connect(&h);
    {
        size_t before = h.responses;
        fz_http_send(&h, (const uint8_t *)req, n);
        wait_answer(before);
    }
    fz_http_close(&h, true);
    free(req);
    runs++;
    reset_store();
    return 0;
}
