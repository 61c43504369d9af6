/*
 * The pool side: every complete frame runs through the connection's state machine
 * on a thread of libuv's pool (uv_queue_work), with that thread's own store handle.
 * The answer is copied into the connection; the after-work callback (on the loop)
 * sends it.
 */
#include "lbs/lbs_internal.h"

#include "log.h"
#include "osap/alloc.h"

#include <string.h>

/* The calling pool thread's slot, created (with its store handle) at its first
 * frame. A failed open is retried at the next frame; meanwhile lookups fail with a
 * store error (result 6). */
static struct lbs_slot *thread_slot(struct osapd_lbs *lbs)
{
    struct lbs_slot *s = pthread_getspecific(lbs->slot_key);
    osap_err err;

    if (!s) {
        s = osap_calloc(1, sizeof(*s));
        if (!s) return NULL;
        if (pthread_setspecific(lbs->slot_key, s) != 0) {
            osap_free(s);
            return NULL;
        }
        pthread_mutex_lock(&lbs->slots_mu);
        s->next = lbs->slots;
        lbs->slots = s;
        pthread_mutex_unlock(&lbs->slots_mu);
    }
    if (!s->store) {
        err = osapd_store_open(lbs->ctx, &s->store);
        if (err) {
            s->store = NULL;
            OSAP_LOGE(LBS_LOG, "cannot open the store on a pool thread: %s", osap_strerror(err));
        }
    }
    return s;
}

static void work_cb(uv_work_t *req)
{
    struct lbs_conn *c = req->data;
    struct osap_lbs_step *step = &c->step;

    c->slot = thread_slot(c->lbs);
    memset(step, 0, sizeof(*step));
    c->tx_len = 0;
    c->feed_err = osap_lbs_server_feed(c->machine, c->rx, c->frame_len, step);
    if (c->feed_err == OSAP_OK && step->out_len) {
        /* The machine's buffer is valid until its next call; keep a copy. */
        size_t n = step->out_len <= sizeof(c->tx) ? step->out_len : 0;
        memcpy(c->tx, step->out, n);
        c->tx_len = n;
    }
    step->out = NULL;
    c->slot = NULL;
}

static void after_work_cb(uv_work_t *req, int status)
{
    struct lbs_conn *c = req->data;

    if (status != 0) c->feed_err = OSAP_ECLOSED; /* cancelled: never started */
    lbs_conn_after_work(c);
}

osap_err lbs_work_queue(struct lbs_conn *c)
{
    c->work.data = c;
    if (uv_queue_work(&c->lbs->loop, &c->work, work_cb, after_work_cb) != 0) return OSAP_ESERVER;
    return OSAP_OK;
}

void lbs_work_close_slots(struct osapd_lbs *lbs)
{
    struct lbs_slot *s, *next;

    /* Every frame has been handled: no pool thread uses a slot any more. The
     * handles are closed here, on the stopping thread; SQLite allows that for a
     * connection no other thread is using. */
    pthread_mutex_lock(&lbs->slots_mu);
    for (s = lbs->slots; s; s = next) {
        next = s->next;
        osap_store_close(s->store);
        osap_free(s);
    }
    lbs->slots = NULL;
    pthread_mutex_unlock(&lbs->slots_mu);
}
