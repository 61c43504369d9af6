/* Back-pressure from a congested subscriber to the clients that publish to it.
 *
 * The DAS acknowledges a QoS 1/2 PUBLISH as soon as it has routed it, on the worker
 * that read it; the subscriber may live on another worker and read more slowly. So
 * that its queue never has to drop acknowledged messages, a connected session whose
 * queue reaches half of max_queued_messages (or max_queued_bytes) *holds* every
 * client connection whose QoS 1/2 message it queues from then on: that connection's
 * PUBACKs and PUBRECs are held back, in order, until each session holding it has
 * drained to a quarter of its limits. A well-behaved publisher stops at its own
 * window of unacknowledged messages; its packets are still read (its own
 * acknowledgements too, so that two clients feeding each other cannot lock up), and
 * one that goes on publishing is no longer read once it has ACKS_MIN_LIMIT (or
 * max_inflight) acknowledgements waiting. Messages already acknowledged and in
 * transit when the hold takes effect are still queued: up to twice the session's
 * limits, plus forward_high_water messages per other worker (what another worker
 * may have forwarded before the hold reached it: those messages exist anyway, in
 * its batches; queueing them costs a queue entry each).
 *
 * A session that stays congested for max_hold_time (a subscriber that does not
 * acknowledge) releases its publishers and is a slow consumer: its queue limits drop
 * messages again (or it is disconnected, slow_consumer = disconnect) until it drains.
 *
 * A hold is a (session, connection) pair. The session keeps the record; when the
 * connection lives on another worker, the hold and its release travel as mails
 * (one producer, so they arrive in order), and the connection counts its holds. */
#include "das/das_internal.h"

#include "log.h"
#include "osap/alloc.h"

#include <string.h>

/* Publishers one session holds at most; more are not held (their messages beyond
 * the queue limits are dropped as usual). */
#define HOLDS_MAX 256
/* Acknowledgements held back per connection before reading from it stops (at least
 * max_inflight). */
#define ACKS_MIN_LIMIT 1024

static bool ref_equal(struct das_conn_ref a, struct das_conn_ref b)
{
    return a.worker == b.worker && a.slot == b.slot && a.generation == b.generation;
}

static bool congested(const struct das_settings *set, const struct das_session *s)
{
    return (s->q_count > 0 && (uint64_t)s->q_count * 2 >= set->max_queued_messages) ||
           (s->q_bytes > 0 && s->q_bytes * 2 >= set->max_queued_bytes);
}

static bool drained(const struct das_settings *set, const struct das_session *s)
{
    return (uint64_t)s->q_count * 4 <= set->max_queued_messages &&
           s->q_bytes * 4 <= set->max_queued_bytes;
}

/* ------------------------------------------------------------------------ */
/* The publisher's side: its worker                                         */
/* ------------------------------------------------------------------------ */

static uint32_t ack_limit(const struct das_conn *c)
{
    uint32_t inflight = c->w->das->set.max_inflight;
    return inflight > ACKS_MIN_LIMIT ? inflight : ACKS_MIN_LIMIT;
}

osap_err das_flow_ack(struct das_conn *c, uint8_t type, uint16_t pid)
{
    if (c->holds == 0 && c->nacks == 0) return das_send_ack(c, type, pid);
    if (c->nacks == c->capacks) {
        uint32_t cap = c->capacks ? c->capacks * 2 : 16;
        uint32_t *v = osap_realloc(c->acks, cap * sizeof(*v));
        if (!v) return OSAP_ENOMEM; /* closes the connection: it resends */
        c->acks = v;
        c->capacks = cap;
    }
    c->acks[c->nacks++] = (uint32_t)type << 16 | pid;
    if (c->nacks >= ack_limit(c) && !c->ack_stalled) {
        /* it publishes without waiting for acknowledgements: stop reading it */
        OSAP_LOGD(DAS_LOG, "client %s: %u acknowledgements held back, not read until released",
                  c->session ? c->session->key : "?", c->nacks);
        c->ack_stalled = true;
        if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
    return OSAP_OK;
}

static void conn_hold(struct das_conn *c)
{
    c->holds++;
}

static void conn_unhold(struct das_conn *c)
{
    if (c->holds == 0 || --c->holds > 0) return;
    if (c->state == DAS_CONN_ACTIVE && !c->close_pending)
        for (uint32_t i = 0; i < c->nacks; i++)
            das_send_ack(c, (uint8_t)(c->acks[i] >> 16), (uint16_t)(c->acks[i] & 0xffff));
    c->nacks = 0;
    if (c->capacks > 64) {
        osap_free(c->acks);
        c->acks = NULL;
        c->capacks = 0;
    }
    if (c->ack_stalled) {
        c->ack_stalled = false;
        das_conn_resume(c);
    }
}

void das_flow_conn_release(struct das_conn *c)
{
    osap_free(c->acks);
    c->acks = NULL;
    c->nacks = c->capacks = 0;
    c->holds = 0;
}

/* A hold posted by a session on another worker. */
struct hold_mail {
    struct das_mail mail;
    struct das_conn_ref pub;
};

static void hold_run(struct das_worker *w, struct das_mail *m)
{
    struct hold_mail *hm = das_container_of(m, struct hold_mail, mail);
    struct das_conn *c = das_conn_resolve(w, hm->pub);

    if (c) conn_hold(c); /* resolved alike by release_run(): they pair up */
    osap_free(hm);
}

static void release_run(struct das_worker *w, struct das_mail *m)
{
    struct das_hold *h = das_container_of(m, struct das_hold, mail);
    struct das_conn *c = das_conn_resolve(w, h->pub);

    if (c) conn_unhold(c);
    osap_free(h);
}

/* ------------------------------------------------------------------------ */
/* The subscriber's side: the session's worker                              */
/* ------------------------------------------------------------------------ */

void das_flow_queued(struct das_worker *w, struct das_session *s, const struct das_msg *m)
{
    const struct das_settings *set = &w->das->set;
    struct das_hold *h;

    if (!set->max_hold_ms || s->flow_off || !s->conn || m->origin.generation == 0) return;
    if (!congested(set, s)) return;
    for (h = s->holds; h; h = h->next)
        if (ref_equal(h->pub, m->origin)) return;
    if (s->nholds >= HOLDS_MAX || m->origin.worker >= w->das->nworkers) return;
    h = osap_calloc(1, sizeof(*h));
    if (!h) return;
    h->pub = m->origin;
    if (m->origin.worker == w->index) {
        struct das_conn *c = das_conn_resolve(w, m->origin);
        if (!c || c->state != DAS_CONN_ACTIVE) {
            osap_free(h);
            return;
        }
        conn_hold(c);
    } else {
        struct hold_mail *hm = osap_malloc(sizeof(*hm));
        if (!hm) {
            osap_free(h);
            return;
        }
        hm->mail.run = hold_run;
        hm->pub = m->origin;
        if (das_mail_push(w->das->workers[m->origin.worker], &hm->mail) != OSAP_OK) {
            osap_free(hm);
            osap_free(h);
            return;
        }
    }
    h->next = s->holds;
    s->holds = h;
    s->nholds++;
    if (!das_linked(&s->hold_link)) {
        das_list_add_tail(&w->holding, &s->hold_link);
        s->hold_since = uv_now(&w->loop);
    }
}

void das_flow_release(struct das_worker *w, struct das_session *s)
{
    while (s->holds) {
        struct das_hold *h = s->holds;
        s->holds = h->next;
        if (h->pub.worker == w->index) {
            struct das_conn *c = das_conn_resolve(w, h->pub);
            if (c) conn_unhold(c);
            osap_free(h);
            continue;
        }
        h->mail.run = release_run;
        if (das_mail_push(w->das->workers[h->pub.worker], &h->mail) != OSAP_OK)
            osap_free(h); /* that worker stopped: its connections are gone */
    }
    s->nholds = 0;
    if (das_linked(&s->hold_link)) das_list_remove(&s->hold_link);
}

void das_flow_drained(struct das_worker *w, struct das_session *s)
{
    if (!drained(&w->das->set, s)) return;
    s->flow_off = false;
    if (s->holds) das_flow_release(w, s);
}

bool das_flow_overflow_ok(const struct das_worker *w, const struct das_session *s, size_t len)
{
    const struct das_settings *set = &w->das->set;
    /* What the other workers forwarded before they got the hold: at most about
     * forward_high_water each (they stop reading their publishers beyond it). */
    uint64_t transit = (uint64_t)set->forward_high * (w->das->nworkers - 1);
    return s->holds && (uint64_t)s->q_count < 2 * set->max_queued_messages + transit &&
           s->q_bytes + len <= 2 * set->max_queued_bytes;
}

void das_flow_tick(struct das_worker *w, uint64_t now)
{
    const struct das_settings *set = &w->das->set;
    struct das_link *l = w->holding.next;

    while (l != &w->holding) {
        struct das_session *s = das_container_of(l, struct das_session, hold_link);
        l = l->next;
        if (now - s->hold_since < set->max_hold_ms) continue;
        OSAP_LOGI(DAS_LOG,
                  "%s %s: queue congested for %llu ms (%u messages): slow consumer, its "
                  "publishers are no longer held back",
                  s->kind == DAS_SESSION_DEVICE ? "device" : "client", s->key,
                  (unsigned long long)(now - s->hold_since), s->q_count);
        das_flow_release(w, s);
        s->flow_off = true;
        if (set->slow_disconnect && s->conn) das_conn_close(s->conn, "slow consumer", 0);
    }
}
