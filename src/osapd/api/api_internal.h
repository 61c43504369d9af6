/*
 * Internal to the api service (src/osapd/api/): the objects and the functions
 * its files share.
 *
 * Threads. The api runs ONE libuv loop on its own thread ("the API thread"):
 * the HTTP server, routing, input checks, the live event streams and the
 * requests to devices all run there, and it never waits: not for the database,
 * not for a device.
 *   - Database work runs on the api's store threads (api_pool.c, [api]
 *     store_threads), each with its own store handle. A handler that needs the
 *     store hands its call to the pool with api_call_submit(); the work
 *     function runs there and fills the reply (or leaves it empty for a next
 *     step); the call then comes back to the API thread.
 *   - Requests to devices go through osapd_das_request() (das_api.h); its
 *     callback runs on a DAS worker and posts the result back.
 *   - Committed device records arrive from the ingest thread (ingest_listen).
 * Everything that comes back from another thread arrives through the api's
 * link (api_link.c): a mutex-protected queue and a uv_async_t. The link
 * outlives the api while DAS requests are still out, so a late device reply
 * only frees its call.
 *
 * Calls. Every deferred HTTP request is a struct api_call. Its request pointer
 * is NULL once the client has gone (abort callback) or once the response was
 * sent; the call itself is freed by whoever holds it last (the pool's or the
 * DAS's completion, or the stream code), never inside the abort callback of a
 * busy call. Work functions on store threads touch only the call's own copies
 * (path arguments, parsed input), never the request.
 */
#ifndef OSAPD_API_INTERNAL_H
#define OSAPD_API_INTERNAL_H

#include "api/api.h"
#include "api/api_config.h"
#include "das/das_api.h"
#include "http.h"
#include "ingest/ingest.h"
#include "models.h"
#include "osap/model.h"
#include "service.h"
#include "store.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define API_LOG "api"

/** Path parameters of a route at most ({serial}, {domain}, {identifier}). */
#define API_ARGS_MAX 4
/** Longest bearer token looked at (real ones are OSAP_TOKEN_LEN). */
#define API_TOKEN_MAX 128
/** Extra response header fields a reply may carry. */
#define API_HEADERS_MAX 4

#define API_CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* ------------------------------------------------------------------------ */
/* api_link.c: deliver work to the API thread from any thread               */
/* ------------------------------------------------------------------------ */

struct api_link;
struct api_link_item;

/** Runs on the API thread with @p live true; or, once the link is closed, with
 *  @p live false on whatever thread posted (then it must only free). */
typedef void (*api_link_fn)(struct api_link_item *item, bool live);

/** Embedded in whatever is posted: posting never allocates, so it cannot fail. */
struct api_link_item {
    struct api_link_item *next;
    api_link_fn fn;
    bool bounded;
};

/** A link on @p loop (API thread; the loop must run until api_link_close()). One
 *  reference belongs to the caller. */
osap_err api_link_new(uv_loop_t *loop, struct api_link **out);

/** Queue @p item; @p fn runs on the API thread, in posting order. Any thread. */
void api_link_post(struct api_link *l, struct api_link_item *item, api_link_fn fn);

/** Same, but refused (false, @p item not taken) when @p max bounded items are
 *  already waiting: the ceiling of the live record queue. */
bool api_link_post_bounded(struct api_link *l, struct api_link_item *item, api_link_fn fn,
                           size_t max);

/** Reference counting: whoever may post after the api stopped holds one. */
void api_link_ref(struct api_link *l);
void api_link_unref(struct api_link *l);

/** API thread, at stop: items waiting and every later post run with live false;
 *  the async handle is closed on this loop. */
void api_link_close(struct api_link *l);

/* ------------------------------------------------------------------------ */
/* api_pool.c: the store threads                                            */
/* ------------------------------------------------------------------------ */

struct api_pool;

/** A unit of database work. */
struct api_job {
    struct api_job *next;
    /** Runs on a store thread. @p st is that thread's handle, or NULL when the
     *  store cannot be opened. */
    void (*work)(struct api_job *job, struct osap_store *st);
    /** Then posted to the API thread through the link. */
    api_link_fn done;
    struct api_link_item item;
};

/** Start @p n threads, each opening its own store handle; completions go through
 *  @p link. Main thread. */
osap_err api_pool_new(const struct osapd_context *ctx, unsigned n, struct api_link *link,
                      struct api_pool **out);

/** Queue @p job. OSAP_ESTATE once the pool is stopping (the job is not taken). */
osap_err api_pool_submit(struct api_pool *p, struct api_job *job);

/** Run what is queued, stop and join the threads, free. NULL is a no-op. */
void api_pool_free(struct api_pool *p);

/* ------------------------------------------------------------------------ */
/* The service (api_service.c)                                              */
/* ------------------------------------------------------------------------ */

struct api_stream;

/** The settings of the api's HTTP server from [api] (also what the fuzz targets run the
 *  HTTP layer with). OSAP_ECONFIG when tls_cert and tls_key are not set together. */
osap_err api_http_config(const struct api_config *cfg, struct osap_http_config *h);

struct api {
    struct osapd_context *ctx;
    const struct api_config *cfg;
    uv_loop_t loop;
    pthread_t thread;
    bool thread_started;
    uv_async_t stop_async;
    osap_http_server_t *http;
    struct api_link *link;
    struct api_pool *pool;
    struct osap_models *models; /* the process's registry (osapd_models()); may be NULL */
    struct osapd_das *das;      /* NULL when the das service does not run here */
    struct ingest *ingest;      /* NULL when there is no ingest to listen to */
    int ingest_handle;          /* 0 = not listening */
    char *pictures_dir;         /* data_dir/pictures */
    int64_t started_at;
    bool stopping;
    /* Live event streams (api_stream.c), API thread only. */
    struct api_stream *streams;
    size_t n_streams;
    atomic_int streams_open; /* n_streams, for the ingest listener */
    atomic_bool live_lost;   /* live records were dropped at the queue ceiling */
    atomic_uint_fast64_t live_dropped;
    uint64_t calls; /* counters, API thread */
    uint64_t device_requests;
};

/* ------------------------------------------------------------------------ */
/* Calls (api_call.c)                                                       */
/* ------------------------------------------------------------------------ */

struct api_route;

/** The response being prepared for a call. */
struct api_reply {
    int status;               /* 0 = none yet */
    const char *content_type; /* static string */
    char *body;               /* osap_malloc'd */
    size_t len;
    struct {
        const char *name; /* static string */
        char value[256];
    } headers[API_HEADERS_MAX];
    size_t nheaders;
};

/** One deferred HTTP request. */
struct api_call {
    struct api_job job;
    struct api *api;
    struct osap_http_request *req; /* NULL once gone or answered */
    const struct api_route *route;
    char *args[API_ARGS_MAX]; /* decoded path parameters */
    char *token;              /* bearer token to verify (NULL: public or verified) */
    bool busy;                /* held by the pool or a device request */
    bool stream;              /* an event stream (api_stream.c owns it) */
    bool at_head;             /* made at the head, the handler not yet called (api_head.c) */
    struct api_reply reply;
    /* The current step: work on a store thread, then `then` on the API thread
     * when the work left no reply (NULL = send the reply). */
    void (*work)(struct api_call *c, struct osap_store *st);
    void (*then)(struct api_call *c);
    /* Per-route state, freed with the call. */
    void *data;
    void (*data_free)(void *data);
    /* A request to a device (api_device_request.c). */
    struct api_link *link; /* referenced while a device request is out */
    struct api_link_item das_item;
    struct osapd_das_result das_result; /* output_json copied */
};

/** A new call for @p req on @p route (API thread); registers the abort callback. */
struct api_call *api_call_new(struct api *api, struct osap_http_request *req,
                              const struct api_route *route);

/** Free @p c (any thread: touches neither the api nor the request). */
void api_call_free(struct api_call *c);

/** Hand @p c to a store thread: @p work there, then @p then (or the reply) here.
 *  On failure (stopping) the call is answered 503 and freed. */
void api_call_submit(struct api_call *c, void (*work)(struct api_call *c, struct osap_store *st),
                     void (*then)(struct api_call *c));

/** Send the reply (if the client is still there) and forget the request; the
 *  call stays (API thread). */
void api_call_respond(struct api_call *c);

/** api_call_respond() and free. */
void api_call_finish(struct api_call *c);

/** Reply @p status with the unformatted print of @p json, which is freed. */
void api_reply_json(struct api_call *c, int status, cJSON *json);

/** Reply @p status with a body (copied). */
void api_reply_body(struct api_call *c, int status, const char *content_type, const void *body,
                    size_t len);

/** Add a header field to the reply (@p name static, @p value copied, cut at 255). */
void api_reply_header(struct api_call *c, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Drop what the reply holds (before filling it again). */
void api_reply_clear(struct api_reply *r);

/* ------------------------------------------------------------------------ */
/* Errors (api_errors.c)                                                    */
/* ------------------------------------------------------------------------ */

/* Stable error codes ({"error":{"code":...}}); docs/API.md lists them. */
#define API_E_BAD_REQUEST       "bad_request"
#define API_E_INVALID_JSON      "invalid_json"
#define API_E_INVALID_FIELD     "invalid_field"
#define API_E_MISSING_FIELD     "missing_field"
#define API_E_UNKNOWN_FIELD     "unknown_field"
#define API_E_INVALID_PARAMETER "invalid_parameter"
#define API_E_INVALID_CURSOR    "invalid_cursor"
#define API_E_VALIDATION        "model_validation"
#define API_E_MODEL_UNKNOWN     "model_unknown_member"
#define API_E_NOT_WRITABLE      "attribute_not_writable"
#define API_E_UNAUTHORIZED      "unauthorized"
#define API_E_NOT_FOUND         "not_found"
#define API_E_DEVICE_NOT_FOUND  "device_not_found"
#define API_E_PICTURE_NOT_FOUND "picture_not_found"
#define API_E_REQUEST_NOT_FOUND "request_not_found"
#define API_E_MODEL_NOT_FOUND   "model_not_found"
#define API_E_PROFILE_NOT_FOUND "profile_not_found"
#define API_E_METHOD            "method_not_allowed"
#define API_E_DEVICE_EXISTS     "device_exists"
#define API_E_DEVICE_OFFLINE    "device_offline"
#define API_E_DEVICE_BLOCKED    "device_blocked"
#define API_E_TOO_LARGE         "payload_too_large"
#define API_E_MEDIA_TYPE        "unsupported_media_type"
#define API_E_DEVICE_TIMEOUT    "device_timeout"
#define API_E_DEVICE_BUSY       "device_busy"
#define API_E_DEVICE_GONE       "device_disconnected"
#define API_E_UNAVAILABLE       "unavailable"
#define API_E_STORE_BUSY        "store_busy"
#define API_E_TOO_MANY_STREAMS  "too_many_streams"
#define API_E_INTERNAL          "internal"

/** Reply {"error":{"code","message"[,"field"]}} with @p status; @p field may be
 *  NULL. */
void api_reply_error(struct api_call *c, int status, const char *code, const char *field,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/** The same body as a new cJSON object (to add members before replying). */
cJSON *api_error_object(const char *code, const char *field, const char *message);

/** Answer @p req at once with an error (API thread; no call needed). */
void api_respond_error(struct osap_http_request *req, int status, const char *code,
                       const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/** Reply for a store error: ENOTFOUND -> 404 @p notfound_code, EEXISTS -> 409,
 *  ESTORE_BUSY -> 503, EINVAL -> 400, anything else -> 500. */
void api_reply_store_error(struct api_call *c, osap_err err, const char *notfound_code,
                           const char *what);

/* ------------------------------------------------------------------------ */
/* Input (api_input.c)                                                      */
/* ------------------------------------------------------------------------ */

/** Parse the body as a JSON object into *out (caller frees with cJSON_Delete).
 *  On failure the call has an error reply (400) and false is returned. An empty
 *  body is an empty object when @p empty_ok. */
bool api_input_object(struct api_call *c, bool empty_ok, cJSON **out);

/** Reject members of @p obj not in the NULL-terminated @p known (400). */
bool api_input_known(struct api_call *c, const cJSON *obj, const char *const *known);

/** A string member: absent -> *out NULL (an error when @p required); not a
 *  string, empty or longer than @p max bytes -> 400 naming @p name. */
bool api_input_string(struct api_call *c, const cJSON *obj, const char *name, size_t max,
                      bool required, const char **out);

/** Query parameter as an integer in [min, max]; absent -> @p def. 400 otherwise. */
bool api_query_int(struct api_call *c, const char *name, int64_t min, int64_t max, int64_t def,
                   int64_t *out);

/** Query parameter as a boolean (true/false/1/0/yes/no); absent -> -1. */
bool api_query_bool(struct api_call *c, const char *name, int *out);

/** Query parameter as a time: milliseconds since the epoch, or RFC 3339
 *  ("2026-11-29T05:09:35Z", fractions and offsets allowed); absent -> 0. */
bool api_query_time(struct api_call *c, const char *name, int64_t *out);

/** The page size from ?limit= (default and maximum from the settings). */
bool api_query_limit(struct api_call *c, uint32_t *out);

/** Opaque cursors: "<kind>:<value>" in base64url without padding. encode writes
 *  a new string; decode checks the kind and returns the value (400 otherwise). */
char *api_cursor_encode(char kind, const char *value);
bool api_cursor_decode(struct api_call *c, char kind, char *value, size_t cap);
bool api_cursor_decode_id(struct api_call *c, char kind, int64_t *out);

/** @p s percent-encoded for a path segment (a new string; NULL when out of
 *  memory). */
char *api_path_escape(const char *s);

/** Parse RFC 3339 / integer milliseconds (see api_query_time). */
osap_err api_time_parse(const char *s, int64_t *out);

/** "2026-11-29T05:09:35.123Z" as a JSON string, or null for 0. */
cJSON *api_time_json(int64_t ms);

/** The JSON value of @p text (a copy), or a JSON string of it when it does not
 *  parse (stored data is shown as it is). NULL text -> null. */
cJSON *api_json_value(const char *text);

/** The unformatted print of @p v in a new string (osap_free), NULL when out of
 *  memory. */
char *api_json_print(const cJSON *v);

/** Device-topic words: a domain or identifier (1..31 characters, no '/', '+',
 *  '#', no control characters or blanks). */
bool api_word_valid(const char *s);

/** A resource "<index>-<category>" (index digits, category a word). */
bool api_resource_valid(const char *s);

/** A child: "global" or a sub-device serial. */
bool api_child_valid(const char *s);

/* ------------------------------------------------------------------------ */
/* Routing (api_router.c) and authentication (api_auth.c)                   */
/* ------------------------------------------------------------------------ */

/** One route of /api/v1. */
struct api_route {
    enum osap_http_method method;
    const char *pattern; /* "/api/v1/devices/{serial}" */
    bool is_public;      /* no bearer token needed */
    bool raw_body;       /* body up to picture_max_size (else max_json_body) */
    void (*start)(struct api_call *c);
};

/** Every route (the OpenAPI test walks them). */
extern const struct api_route api_routes[];
extern const size_t api_route_count;

/** The HTTP handler of the server: runs the call made at the head. */
void api_router_handle(struct osap_http_request *req, void *userdata);

/** The route of @p req (path and method), its path parameters in @p args (pointers
 *  into the request; API_ARGS_MAX of them). NULL when there is none: then @p allow
 *  lists the methods of the path ("" for an unknown path, answered 404, else 405). */
const struct api_route *api_route_find(const struct osap_http_request *req, const char **args,
                                       size_t *nargs, char *allow, size_t allow_cap);

/** Multipart framing a picture upload may add to picture_max_size. */
#define API_MULTIPART_SLACK (64 * 1024)
/** The HTTP layer's response timeout is request_timeout_max plus this. */
#define API_RESPONSE_SLACK_MS 30000

/** The body ceiling of @p route: max_json_body, or picture_max_size plus the
 *  multipart framing for raw bodies; 0 for the console (NULL route). */
uint64_t api_body_max(const struct api *api, const struct api_route *route);

/** The HTTP head handler of the server (api_head.c): routes, refuses unknown routes,
 *  a missing token and bodies over the route's ceiling at once, verifies the token of a
 *  request with a body on a store thread, and only then admits the body. */
void api_router_head(struct osap_http_request *req, void *userdata);

/** The bearer token of @p req (Authorization: Bearer ..., or ?access_token= when
 *  @p query_ok) copied into @p out; false when absent or malformed. */
bool api_auth_token(const struct osap_http_request *req, bool query_ok, char *out, size_t cap);

/** Verify the call's token on a store thread (401 / 503 reply on failure). */
bool api_auth_verify(struct api_call *c, struct osap_store *st);

/* ------------------------------------------------------------------------ */
/* Route handlers (one file per resource)                                   */
/* ------------------------------------------------------------------------ */

void api_health_get(struct api_call *c);
void api_stats_get(struct api_call *c);
void api_openapi_get(struct api_call *c);

void api_devices_create(struct api_call *c);
void api_devices_list(struct api_call *c);
void api_device_get(struct api_call *c);
void api_device_update(struct api_call *c);
void api_device_delete(struct api_call *c);
void api_device_block(struct api_call *c);
void api_device_unblock(struct api_call *c);

/** The public JSON form of a device (never its secret or keys). */
cJSON *api_device_json(const struct osap_device *d);

void api_attributes_get(struct api_call *c);
void api_attribute_set(struct api_call *c);

void api_operation_invoke(struct api_call *c);
void api_request_get(struct api_call *c);

void api_events_list(struct api_call *c);
void api_device_events_list(struct api_call *c);
void api_events_stream(struct api_call *c);

/** The JSON form of a stored event. */
cJSON *api_event_json(const struct osap_event *ev);

void api_models_list(struct api_call *c);
void api_model_get(struct api_call *c);
void api_profile_get(struct api_call *c);

void api_pictures_upload(struct api_call *c);
void api_pictures_list(struct api_call *c);
void api_picture_get(struct api_call *c);
void api_picture_delete(struct api_call *c);

/* ------------------------------------------------------------------------ */
/* Requests to devices (api_device_request.c)                               */
/* ------------------------------------------------------------------------ */

/** A request to a device, prepared by api_attributes.c or api_operations.c. */
struct api_devreq {
    enum osapd_das_request_kind kind;
    char serial[OSAP_SUBSERIAL_MAX + 1];
    char child[OSAP_STORE_CHILD_MAX + 1];
    char resource[OSAP_STORE_RESOURCE_MAX + 1];
    char domain[OSAP_MODEL_NAME_MAX + 1];
    char identifier[OSAP_MODEL_NAME_MAX + 1];
    char *value_json;        /* attribute value / operation input (NULL = none) */
    uint32_t timeout_ms;     /* resolved: the request's or the setting */
    bool async;              /* 202 + request id, outcome in the requests table */
    int64_t request_id;      /* async: the requests row */
    int64_t desired_version; /* attribute set: the stored desired version */
    int64_t started_ms;
};

/** Start a request of @p kind to a device for the route's path (args[1] the
 *  domain, args[2] the identifier): a new struct api_devreq in @p c->data (freed
 *  with the call) with its query parsed (api_devreq_parse()), and the JSON object
 *  body (@p empty_ok: may be absent) with only the members in @p known into
 *  @p body (the caller deletes it). false once replied (400, 500). */
bool api_devreq_begin(struct api_call *c, enum osapd_das_request_kind kind, bool empty_ok,
                      const char *const *known, cJSON **body);

/** On a store thread, for an asynchronous request: its row in the requests table
 *  (its id in request_id; a reply on failure). */
void api_devreq_record(struct api_call *c, struct osap_store *st);

/** A desired-value row's version into the int64_t at @p userdata (a callback of
 *  osap_store_desired_list() for one key). */
osap_err api_devreq_desired_version(const struct osap_desired *d, void *userdata);

/** Parse ?resource=, ?child=, ?timeout=, ?async= / Prefer: respond-async and the
 *  path's domain and identifier into @p r (400 reply and false on bad input). */
bool api_devreq_parse(struct api_call *c, struct api_devreq *r, const char *domain,
                      const char *identifier);

/** On a store thread: the device exists, is not blocked, and @p value passes its
 *  thing model for @p check (400 naming the field otherwise). */
bool api_devreq_check(struct api_call *c, struct osap_store *st, struct api_devreq *r,
                      enum osap_model_check check, const cJSON *value);

/** On the API thread, once api_devreq_check() passed: send the request to the
 *  device and reply with its outcome (or 202 first when async). @p c->data is
 *  the struct api_devreq. */
void api_devreq_send(struct api_call *c);

/* ------------------------------------------------------------------------ */
/* Thing models (api_models.c) and device profiles (api_profiles.c)        */
/* ------------------------------------------------------------------------ */

/** The current catalog of the process's model registry (release it with
 *  osap_catalog_release()), or NULL when there is no registry. Any thread. */
struct osap_catalog *api_catalog(struct api *api);

/** The DAS's profile query handler (das_api.h osapd_das_profile_cb); @p userdata
 *  is the osapd context. Runs on a DAS worker. */
void api_profile_query(struct osapd_das *das, const char *serial, const char *model,
                       const char *body_json, uint32_t seq, void *userdata);

/* ------------------------------------------------------------------------ */
/* Live streams (api_stream.c)                                              */
/* ------------------------------------------------------------------------ */

/** Start listening to ingest (API thread, at start). */
void api_stream_listen(struct api *api);

/** Stop listening and end every stream (API thread, at stop). */
void api_stream_shutdown(struct api *api);

/** The client of stream call @p c went away (abort callback). */
void api_stream_abort(struct api_call *c);

#endif /* OSAPD_API_INTERNAL_H */
