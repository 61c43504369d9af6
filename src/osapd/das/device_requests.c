/* Platform requests to devices (das_api.h): sealing with a fresh Seq, the pending
 * list per device, matching of the device's reply, and time-outs per worker.
 *
 * Every request is completed exactly once: with the reply, OSAP_ETIMEDOUT, OSAP_EBUSY
 * (too many in flight), OSAP_ENOTFOUND (not connected to this DAS), OSAP_ECLOSED
 * (the connection ended first) or OSAP_ESTATE (the DAS is stopping). */
#include "das/device_internal.h"

#include "log.h"
#include "osap/alloc.h"
#include "service.h"

#include <string.h>

struct device_request {
    struct device_request *prev, *next;   /* the device's pending requests */
    struct device_request *tprev, *tnext; /* the worker's requests by deadline */
    struct device *dev;
    enum osapd_das_request_kind kind;
    uint32_t seq;
    uint64_t deadline; /* uv_now() ms */
    osapd_das_result_cb cb;
    void *userdata;
    char child[OSAP_TOPIC_CHILD_MAX + 1];
    char resource[OSAP_TOPIC_RID_MAX + OSAP_TOPIC_RTYPE_MAX + 2];
    char domain[OSAP_TOPIC_EXT_PART_MAX + 1];
    char identifier[OSAP_TOPIC_EXT_PART_MAX + 1];
};

void device_request_job_free(struct device_request_job *job)
{
    if (!job) return;
    osap_free(job->body);
    osap_free(job);
}

static void complete(osapd_das_result_cb cb, void *userdata, osap_err err, int code,
                     const char *output, uint32_t seq)
{
    struct osapd_das_result r;
    r.err = err;
    r.code = code;
    r.output_json = output;
    r.seq = seq;
    cb(&r, userdata);
}

/* ------------------------------------------------------------------------ */
/* The deadline list and its timer                                          */
/* ------------------------------------------------------------------------ */

static void on_timer(uv_timer_t *t);

static void arm(struct device_worker *dw)
{
    uint64_t now;
    if (!dw->timer_ready) return;
    if (!dw->timeouts) {
        uv_timer_stop(&dw->timer);
        return;
    }
    now = uv_now(das_worker_loop(dw->w));
    uv_timer_start(&dw->timer, on_timer,
                   dw->timeouts->deadline > now ? dw->timeouts->deadline - now : 0, 0);
}

/* Insert by deadline, from the end (deadlines mostly grow). */
static void deadline_insert(struct device_worker *dw, struct device_request *r)
{
    struct device_request *p = dw->timeouts_tail;
    while (p && p->deadline > r->deadline)
        p = p->tprev;
    r->tprev = p;
    r->tnext = p ? p->tnext : dw->timeouts;
    if (r->tnext)
        r->tnext->tprev = r;
    else
        dw->timeouts_tail = r;
    if (p)
        p->tnext = r;
    else
        dw->timeouts = r;
}

/* Unlink @p r from both lists and free it; the caller completes it first. */
static void request_free(struct device_request *r)
{
    struct device_worker *dw = r->dev->dw;
    struct device *dev = r->dev;

    if (r->tprev)
        r->tprev->tnext = r->tnext;
    else
        dw->timeouts = r->tnext;
    if (r->tnext)
        r->tnext->tprev = r->tprev;
    else
        dw->timeouts_tail = r->tprev;
    if (r->prev)
        r->prev->next = r->next;
    else
        dev->requests = r->next;
    if (r->next) r->next->prev = r->prev;
    dev->n_requests--;
    osap_free(r);
}

static void finish(struct device_request *r, osap_err err, int code, const char *output)
{
    osapd_das_result_cb cb = r->cb;
    void *userdata = r->userdata;
    uint32_t seq = r->seq;
    struct device_worker *dw = r->dev->dw;
    bool was_first = dw->timeouts == r;

    request_free(r);
    if (was_first) arm(dw);
    complete(cb, userdata, err, code, output, seq);
}

static void on_timer(uv_timer_t *t)
{
    struct device_worker *dw = t->data;
    uint64_t now = uv_now(das_worker_loop(dw->w));

    while (dw->timeouts && dw->timeouts->deadline <= now) {
        struct device_request *r = dw->timeouts;
        device_count(&dw->layer->stats.timeouts);
        OSAP_LOGI(DEVICE_LOG, "device %s: request Seq %u timed out", r->dev->serial, r->seq);
        finish(r, OSAP_ETIMEDOUT, 0, NULL);
    }
    arm(dw);
}

void device_requests_worker_start(struct device_worker *dw)
{
    if (uv_timer_init(das_worker_loop(dw->w), &dw->timer) == 0) {
        dw->timer.data = dw;
        dw->timer_ready = true;
    }
}

void device_requests_worker_stop(struct device_worker *dw)
{
    /* Connections are closed by now (their requests completed); anything left
     * would be a request whose device never closed. */
    while (dw->timeouts)
        finish(dw->timeouts, OSAP_ESTATE, 0, NULL);
    if (dw->timer_ready) {
        uv_timer_stop(&dw->timer);
        uv_close((uv_handle_t *)&dw->timer, NULL);
        dw->timer_ready = false;
    }
}

void device_requests_fail_all(struct device *dev, osap_err err)
{
    while (dev->requests)
        finish(dev->requests, err, 0, NULL);
}

/* ------------------------------------------------------------------------ */
/* Sending                                                                  */
/* ------------------------------------------------------------------------ */

static uint32_t next_seq(struct device_entry *e)
{
    uint32_t seq = e->next_seq;
    e->next_seq = seq >= DEVICE_SEQ_LAST ? DEVICE_SEQ_FIRST : seq + 1;
    return seq;
}

void device_request_run(struct das_worker *w, void *arg)
{
    struct device_request_job *job = arg;
    struct device_layer *l = job->layer;
    struct device_worker *dw = device_worker_of(l, w);
    struct device *dev = dw ? device_registry_find(dw, job->serial, strlen(job->serial)) : NULL;
    struct device_request *r = NULL;
    char common[32];
    size_t common_len = 0;
    uint32_t seq = 0;
    osap_err err;

    if (!dev) {
        err = osapd_stopping(l->ctx) ? OSAP_ESTATE : OSAP_ENOTFOUND;
        goto fail;
    }
    if (dev->n_requests >= (uint32_t)l->cfg->max_requests) {
        OSAP_LOGI(DEVICE_LOG, "device %s: %u requests in flight: refused", dev->serial,
                  dev->n_requests);
        err = OSAP_EBUSY;
        goto fail;
    }
    r = osap_calloc(1, sizeof(*r));
    if (!r) {
        err = OSAP_ENOMEM;
        goto fail;
    }
    seq = next_seq(dev->entry);
    err = osap_envelope_common_v3(seq, common, sizeof(common), &common_len);
    if (err == OSAP_OK)
        err = device_send(dev, job->topic, job->topic_len, common, common_len,
                          (const uint8_t *)job->body, strlen(job->body), 1, NULL);
    if (err) {
        OSAP_LOGW(DEVICE_LOG, "device %s: request not sent: %s", dev->serial, osap_strerror(err));
        goto fail;
    }
    device_count(&l->stats.requests);
    r->dev = dev;
    r->kind = job->kind;
    r->seq = seq;
    r->cb = job->cb;
    r->userdata = job->userdata;
    memcpy(r->child, job->child, sizeof(r->child));
    memcpy(r->resource, job->resource, sizeof(r->resource));
    memcpy(r->domain, job->domain, sizeof(r->domain));
    memcpy(r->identifier, job->identifier, sizeof(r->identifier));
    r->deadline = uv_now(das_worker_loop(w)) +
                  (job->timeout_ms ? job->timeout_ms : (uint64_t)l->cfg->request_timeout);
    r->next = dev->requests;
    if (r->next) r->next->prev = r;
    dev->requests = r;
    dev->n_requests++;
    deadline_insert(dw, r);
    if (dw->timeouts == r) arm(dw);
    OSAP_LOGD(DEVICE_LOG, "device %s: request Seq %u sent on %s", dev->serial, seq, job->topic);
    device_request_job_free(job);
    return;
fail:
    osap_free(r);
    complete(job->cb, job->userdata, err, 0, NULL, seq);
    device_request_job_free(job);
}

/* ------------------------------------------------------------------------ */
/* Replies                                                                  */
/* ------------------------------------------------------------------------ */

static bool span_eq(struct osap_topic_span s, const char *str)
{
    return s.len == strlen(str) && memcmp(s.ptr, str, s.len) == 0;
}

static bool resource_eq(const struct osap_topic_v3 *t, const char *resource)
{
    size_t n = strlen(resource);
    return t->rid.len + 1 + t->rtype.len == n && memcmp(resource, t->rid.ptr, t->rid.len) == 0 &&
           resource[t->rid.len] == '-' &&
           memcmp(resource + t->rid.len + 1, t->rtype.ptr, t->rtype.len) == 0;
}

bool device_requests_reply(struct device *dev, enum osapd_das_request_kind kind,
                           const struct osap_topic_v3 *t, uint32_t seq, int code,
                           const char *output_json, char domain[32], char identifier[32])
{
    struct device_request *r;

    for (r = dev->requests; r; r = r->next) {
        if (r->seq != seq || r->kind != kind) continue;
        if (!span_eq(t->child, r->child) || !resource_eq(t, r->resource)) continue;
        if (kind != OSAPD_DAS_SHADOW_SET &&
            (!span_eq(t->domain, r->domain) || !span_eq(t->identifier, r->identifier)))
            continue;
        break;
    }
    if (!r) return false;
    memcpy(domain, r->domain, sizeof(r->domain));
    memcpy(identifier, r->identifier, sizeof(r->identifier));
    device_count(&dev->dw->layer->stats.replies);
    OSAP_LOGD(DEVICE_LOG, "device %s: reply to request Seq %u: code %d", dev->serial, seq, code);
    finish(r, OSAP_OK, code, kind == OSAPD_DAS_OPERATE ? output_json : NULL);
    return true;
}
