/* The live stream: GET /api/v1/events/stream, Server-Sent Events fed by ingest
 * with records committed to the store (never before).
 *
 *   event: event      id: <events.id>   data: the event, as GET /api/v1/events
 *   event: status     (no id)           data: {"serial","online","address",...}
 *   event: attribute  (no id)           data: {"serial","domain","identifier","value",...}
 *
 * ?serial= limits the stream to one device, ?types=event,status,attribute to some
 * kinds. A client that reconnects with Last-Event-ID (EventSource does) first
 * gets the events stored after that id, oldest first, at most
 * [api] stream_catchup_max; when more are missing the stream ends after them
 * and the client's next reconnection continues from there.
 *
 * Threads: the ingest listener runs on the ingest thread; it copies the record
 * and posts it through the link, bounded by [api] stream_queue_max. When the
 * API thread falls that far behind, records are dropped and every open stream
 * is ended, so that clients resume from the store instead of missing events
 * silently. Live records that arrive while a stream is catching up are held
 * (bounded too) and sent after the stored ones, without duplicates. */
#include "api/api_internal.h"

#include "log.h"
#include "osap/alloc.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_EVENT = 1, T_STATUS = 2, T_ATTRIBUTE = 4, T_ALL = 7 };

/* A record held while its stream catches up. */
struct held {
    int64_t id;
    unsigned type;
    char *data;
};

struct api_stream {
    struct api_stream *next, *prev;
    struct api_call *call;
    bool linked;
    bool started; /* the SSE head is out */
    bool catching_up;
    char serial[OSAP_SUBSERIAL_MAX + 1]; /* "" = every device */
    unsigned types;
    int64_t resume_after;  /* Last-Event-ID; -1 = none */
    int64_t last_event_id; /* the highest event id sent */
    bool catchup_more;     /* more stored events than stream_catchup_max */
    cJSON *catchup;        /* stored events to send first (store thread -> here) */
    struct held *held;
    size_t nheld, held_cap;
    bool held_overflow;
};

/* One committed record, copied on the ingest thread. */
struct api_live {
    struct api_link_item item;
    struct api *api;
    struct ingest_record rec; /* strings point into text */
    int64_t id, received_ms;
    char text[];
};

static const char *type_name(unsigned t)
{
    return t == T_EVENT ? "event" : t == T_STATUS ? "status" : "attribute";
}

static void held_clear(struct api_stream *s)
{
    for (size_t i = 0; i < s->nheld; i++)
        osap_free(s->held[i].data);
    osap_free(s->held);
    s->held = NULL;
    s->nheld = s->held_cap = 0;
}

static void stream_free(void *p)
{
    struct api_stream *s = p;
    if (!s) return;
    held_clear(s);
    cJSON_Delete(s->catchup);
    osap_free(s);
}

static void unlink_stream(struct api *api, struct api_stream *s)
{
    if (!s->linked) return;
    if (s->prev)
        s->prev->next = s->next;
    else
        api->streams = s->next;
    if (s->next) s->next->prev = s->prev;
    s->next = s->prev = NULL;
    s->linked = false;
    api->n_streams--;
    atomic_fetch_sub(&api->streams_open, 1);
}

/* End a stream whose call is not busy, and free it. */
static void stream_end(struct api *api, struct api_stream *s)
{
    struct api_call *c = s->call;

    unlink_stream(api, s);
    if (c->req) {
        struct osap_http_request *req = c->req;
        c->req = NULL;
        osap_http_on_abort(req, NULL, NULL);
        if (s->started) {
            osap_http_stream_end(req);
        } else {
            api_respond_error(req, 503, API_E_UNAVAILABLE, NULL, "the stream was closed");
        }
    }
    api_call_free(c);
}

void api_stream_abort(struct api_call *c)
{
    struct api_stream *s = c->data;

    unlink_stream(c->api, s);
    if (!c->busy) api_call_free(c);
    /* else the pool's completion (stream_ready) frees it */
}

/* ---- sending ---- */

/* Send one record; false when the stream was dropped (the abort follows). */
static bool send_one(struct api_stream *s, int64_t id, unsigned type, const char *data)
{
    char idtext[24];

    if (!s->call->req) return false;
    if (type == T_EVENT) {
        snprintf(idtext, sizeof(idtext), "%lld", (long long)id);
        if (id > s->last_event_id) s->last_event_id = id;
    }
    return osap_http_sse_send(s->call->req, type == T_EVENT ? idtext : NULL, type_name(type),
                              data) == OSAP_OK;
}

static bool hold(struct api_stream *s, int64_t id, unsigned type, const char *data)
{
    size_t max = (size_t)s->call->api->cfg->stream_catchup_max + 64;
    char *copy;

    if (s->nheld == max) {
        s->held_overflow = true;
        return false;
    }
    if (s->nheld == s->held_cap) {
        size_t cap = s->held_cap ? s->held_cap * 2 : 16;
        struct held *h = osap_realloc(s->held, cap * sizeof(*h));
        if (!h) {
            s->held_overflow = true;
            return false;
        }
        s->held = h;
        s->held_cap = cap;
    }
    copy = osap_strdup(data);
    if (!copy) {
        s->held_overflow = true;
        return false;
    }
    s->held[s->nheld].id = id;
    s->held[s->nheld].type = type;
    s->held[s->nheld].data = copy;
    s->nheld++;
    return true;
}

/* ---- the ingest listener (ingest thread) ---- */

static void live_free(struct api_live *l)
{
    osap_free(l);
}

static void live_run(struct api_link_item *item, bool live);

/* Copy @p s into the record's text; NULL stays NULL. */
static const char *pack(char **p, const char *s)
{
    size_t n;
    char *at;

    if (!s) return NULL;
    n = strlen(s) + 1;
    at = *p;
    memcpy(at, s, n);
    *p += n;
    return at;
}

static void on_committed(const struct ingest_committed *cm, void *userdata)
{
    struct api *api = userdata;
    const struct ingest_record *r = cm->rec;
    const char *strs[] = {r->serial,     r->child,        r->resource, r->domain,
                          r->identifier, r->payload_json, r->uuid,     r->address,
                          r->firmware,   r->model,        r->node,     r->invalid};
    struct api_live *l;
    size_t size = 0;
    char *p;

    if (atomic_load(&api->streams_open) == 0) return;
    if (r->kind != INGEST_EVENT && r->kind != INGEST_STATUS && r->kind != INGEST_ATTRIBUTE) return;
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (strs[i]) size += strlen(strs[i]) + 1;
    l = osap_malloc(sizeof(*l) + size);
    if (!l) {
        atomic_store(&api->live_lost, true);
        atomic_fetch_add(&api->live_dropped, 1);
        return;
    }
    l->api = api;
    l->rec = *r;
    l->id = cm->id;
    l->received_ms = cm->received_ms;
    p = l->text;
    l->rec.serial = pack(&p, r->serial);
    l->rec.child = pack(&p, r->child);
    l->rec.resource = pack(&p, r->resource);
    l->rec.domain = pack(&p, r->domain);
    l->rec.identifier = pack(&p, r->identifier);
    l->rec.payload_json = pack(&p, r->payload_json);
    l->rec.uuid = pack(&p, r->uuid);
    l->rec.address = pack(&p, r->address);
    l->rec.firmware = pack(&p, r->firmware);
    l->rec.model = pack(&p, r->model);
    l->rec.node = pack(&p, r->node);
    l->rec.invalid = pack(&p, r->invalid);
    if (!api_link_post_bounded(api->link, &l->item, live_run, (size_t)api->cfg->stream_queue_max)) {
        atomic_store(&api->live_lost, true);
        atomic_fetch_add(&api->live_dropped, 1);
        live_free(l);
    }
}

/* ---- live records on the API thread ---- */

static char *live_data(const struct api_live *l, unsigned type)
{
    const struct ingest_record *r = &l->rec;
    cJSON *o;
    char *text;

    if (type == T_EVENT) {
        struct osap_event ev = {0};
        ev.id = l->id;
        ev.serial = r->serial ? r->serial : "";
        ev.child = r->child ? r->child : "global";
        ev.resource = r->resource ? r->resource : "0-global";
        ev.domain = r->domain ? r->domain : "";
        ev.identifier = r->identifier ? r->identifier : "";
        ev.seq = r->seq;
        ev.uuid = r->uuid;
        ev.level = r->level;
        ev.payload = r->payload_json;
        ev.device_time = r->device_time_ms;
        ev.received_at = l->received_ms;
        ev.invalid = r->invalid;
        o = api_event_json(&ev);
    } else {
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "serial", r->serial ? r->serial : "");
        if (type == T_STATUS) {
            cJSON_AddBoolToObject(o, "online", r->online != 0);
            cJSON_AddStringToObject(o, "address", r->address ? r->address : "");
            cJSON_AddStringToObject(o, "firmware", r->firmware ? r->firmware : "");
            cJSON_AddStringToObject(o, "model", r->model ? r->model : "");
            cJSON_AddStringToObject(o, "das_node", r->node ? r->node : "");
            cJSON_AddItemToObject(o, "time", api_time_json(l->received_ms));
        } else {
            cJSON_AddStringToObject(o, "child", r->child ? r->child : "global");
            cJSON_AddStringToObject(o, "resource", r->resource ? r->resource : "0-global");
            cJSON_AddStringToObject(o, "domain", r->domain ? r->domain : "");
            cJSON_AddStringToObject(o, "identifier", r->identifier ? r->identifier : "");
            cJSON_AddItemToObject(o, "value", api_json_value(r->payload_json));
            if (r->version >= 0)
                cJSON_AddNumberToObject(o, "version", (double)r->version);
            else
                cJSON_AddNullToObject(o, "version");
            cJSON_AddItemToObject(o, "reported_at", api_time_json(l->received_ms));
            if (r->invalid)
                cJSON_AddStringToObject(o, "invalid", r->invalid);
            else
                cJSON_AddNullToObject(o, "invalid");
        }
    }
    text = o ? api_json_print(o) : NULL;
    cJSON_Delete(o);
    return text;
}

static void end_all(struct api *api)
{
    struct api_stream *s = api->streams, *next;

    for (; s; s = next) {
        next = s->next;
        if (s->call->busy) {
            /* Set-up under way: it sees the stream unlinked and ends it. */
            unlink_stream(api, s);
            continue;
        }
        stream_end(api, s);
    }
}

static void live_run(struct api_link_item *item, bool live)
{
    struct api_live *l = API_CONTAINER_OF(item, struct api_live, item);
    struct api *api = l->api;
    unsigned type;
    char *data = NULL;

    if (!live) {
        live_free(l);
        return;
    }
    if (atomic_exchange(&api->live_lost, false)) {
        OSAP_LOGW(API_LOG, "live records were dropped (stream_queue_max): ending %zu streams",
                  api->n_streams);
        end_all(api);
    }
    type = l->rec.kind == INGEST_EVENT    ? T_EVENT
           : l->rec.kind == INGEST_STATUS ? T_STATUS
                                          : T_ATTRIBUTE;
    for (struct api_stream *s = api->streams, *next; s; s = next) {
        next = s->next;
        if (!(s->types & type)) continue;
        if (s->serial[0] && (!l->rec.serial || strcmp(s->serial, l->rec.serial) != 0)) continue;
        if (!data && !(data = live_data(l, type))) break;
        if (s->catching_up)
            hold(s, l->id, type, data);
        else if (!send_one(s, l->id, type, data))
            unlink_stream(api, s); /* dropped: the abort callback frees it */
    }
    osap_free(data);
    live_free(l);
}

/* ---- stream set-up ---- */

struct catchup_state {
    cJSON *items;
    uint32_t n, max;
    bool more;
};

static osap_err catchup_row(const struct osap_event *ev, void *userdata)
{
    struct catchup_state *cs = userdata;
    cJSON *o;

    if (cs->n == cs->max) {
        cs->more = true;
        return OSAP_OK;
    }
    o = api_event_json(ev);
    if (!o) return OSAP_ENOMEM;
    cJSON_AddItemToArray(cs->items, o);
    cs->n++;
    return OSAP_OK;
}

static void setup_work(struct api_call *c, struct osap_store *st)
{
    struct api_stream *s = c->data;
    struct catchup_state cs = {0};
    struct osap_event_filter f = {0};
    osap_err err;

    if (s->serial[0]) {
        struct osap_device dev;
        err = osap_store_device_get(st, s->serial, &dev);
        if (err) {
            api_reply_store_error(c, err, API_E_DEVICE_NOT_FOUND, "device");
            return;
        }
    }
    if (s->resume_after < 0 || !(s->types & T_EVENT)) return;
    cs.items = cJSON_CreateArray();
    cs.max = (uint32_t)c->api->cfg->stream_catchup_max;
    if (!cs.items) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        return;
    }
    f.serial = s->serial[0] ? s->serial : NULL;
    f.after_id = s->resume_after;
    f.oldest_first = true;
    f.limit = cs.max + 1;
    err = osap_store_event_list(st, &f, catchup_row, &cs);
    if (err) {
        cJSON_Delete(cs.items);
        api_reply_store_error(c, err, API_E_NOT_FOUND, "read stored events");
        return;
    }
    s->catchup = cs.items;
    s->catchup_more = cs.more;
}

static void stream_ready(struct api_call *c)
{
    struct api *api = c->api;
    struct api_stream *s = c->data;
    const cJSON *ev;

    if (!c->req) { /* the client left during set-up */
        unlink_stream(api, s);
        api_call_free(c);
        return;
    }
    if (c->reply.status || !s->linked) {
        unlink_stream(api, s);
        if (!c->reply.status)
            api_reply_error(c, 503, API_E_UNAVAILABLE, NULL, "the stream was closed");
        c->stream = false;
        api_call_finish(c);
        return;
    }
    s->started = true;
    if (osap_http_sse_start(c->req) != OSAP_OK) {
        stream_end(api, s); /* finishes the request whatever was sent */
        return;
    }
    /* Stored events first, oldest first. */
    cJSON_ArrayForEach(ev, s->catchup)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev, "id");
        char *text = api_json_print(ev);
        bool ok = text && send_one(s, (int64_t)id->valuedouble, T_EVENT, text);
        osap_free(text);
        if (!ok) {
            unlink_stream(api, s);
            return;
        }
    }
    cJSON_Delete(s->catchup);
    s->catchup = NULL;
    if (s->catchup_more) {
        /* The client reconnects with the last id it got and continues. */
        stream_end(api, s);
        return;
    }
    /* Then what arrived meanwhile, without what the store already gave. */
    for (size_t i = 0; i < s->nheld; i++) {
        const struct held *h = &s->held[i];
        if (h->type == T_EVENT && h->id <= s->last_event_id) continue;
        if (!send_one(s, h->id, h->type, h->data)) {
            unlink_stream(api, s);
            return;
        }
    }
    held_clear(s);
    s->catching_up = false;
    if (s->held_overflow) stream_end(api, s);
}

static bool parse_types(const char *v, unsigned *out)
{
    unsigned t = 0;
    char buf[64];
    char *save = NULL;

    if (strlen(v) >= sizeof(buf)) return false;
    memcpy(buf, v, strlen(v) + 1);
    for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (strcmp(w, "event") == 0)
            t |= T_EVENT;
        else if (strcmp(w, "status") == 0)
            t |= T_STATUS;
        else if (strcmp(w, "attribute") == 0)
            t |= T_ATTRIBUTE;
        else
            return false;
    }
    *out = t;
    return t != 0;
}

void api_events_stream(struct api_call *c)
{
    struct api *api = c->api;
    struct api_stream *s;
    const char *serial = osap_http_request_param(c->req, "serial");
    const char *types = osap_http_request_param(c->req, "types");
    const char *last = osap_http_request_header(c->req, "Last-Event-ID");

    if (api->n_streams >= (size_t)api->cfg->max_streams) {
        api_reply_header(c, "Retry-After", "5");
        api_reply_error(c, 503, API_E_TOO_MANY_STREAMS, NULL,
                        "too many event streams are open (max_streams)");
        goto fail;
    }
    s = osap_calloc(1, sizeof(*s));
    if (!s) {
        api_reply_error(c, 500, API_E_INTERNAL, NULL, "out of memory");
        goto fail;
    }
    c->data = s;
    c->data_free = stream_free;
    s->call = c;
    s->types = T_ALL;
    s->resume_after = -1;
    if (serial && !osap_str_copy(s->serial, sizeof(s->serial), serial)) {
        api_reply_error(c, 404, API_E_DEVICE_NOT_FOUND, "serial", "no such device");
        goto fail;
    }
    if (serial && !osap_serial_valid(serial)) {
        api_reply_error(c, 404, API_E_DEVICE_NOT_FOUND, "serial", "no such device");
        goto fail;
    }
    if (types && !parse_types(types, &s->types)) {
        api_reply_error(c, 400, API_E_INVALID_PARAMETER, "types",
                        "types is a comma-separated list of event, status, attribute");
        goto fail;
    }
    if (!last) last = osap_http_request_param(c->req, "last_event_id");
    if (last && *last) {
        char *end;
        long long v = strtoll(last, &end, 10);
        if (*end || v < 0) {
            api_reply_error(c, 400, API_E_INVALID_PARAMETER, "Last-Event-ID",
                            "Last-Event-ID must be an event id");
            goto fail;
        }
        s->resume_after = v;
    }
    /* Listed (and holding live records) from now on, so that nothing committed
     * during the set-up is missed. */
    s->catching_up = true;
    s->linked = true;
    s->next = api->streams;
    if (api->streams) api->streams->prev = s;
    api->streams = s;
    api->n_streams++;
    atomic_fetch_add(&api->streams_open, 1);
    c->stream = true;
    api_call_submit(c, setup_work, stream_ready);
    return;
fail:
    api_call_finish(c);
}

/* ---- life cycle ---- */

void api_stream_listen(struct api *api)
{
    osap_err err;

    if (!api->ingest) return;
    err = ingest_listen(api->ingest, on_committed, api, &api->ingest_handle);
    if (err) {
        api->ingest_handle = 0;
        OSAP_LOGE(API_LOG, "cannot listen to committed records: %s; no live events",
                  osap_strerror(err));
    }
}

void api_stream_shutdown(struct api *api)
{
    if (api->ingest && api->ingest_handle) ingest_unlisten(api->ingest, api->ingest_handle);
    api->ingest_handle = 0;
    end_all(api);
}
