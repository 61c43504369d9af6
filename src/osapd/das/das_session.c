/* MQTT sessions of one worker: the table keyed by (kind, key), the QoS 1/2 in-flight
 * window, the queue of messages waiting for the client or for a window slot, and the
 * packet ids of incoming QoS 2 messages awaiting PUBREL. */
#include "das/das_internal.h"

#include "log.h"
#include "osap/alloc.h"

#include <stddef.h>
#include <string.h>

#define SESSIONS_MIN_BUCKETS 256
/* Incoming QoS 2 messages awaiting PUBREL, per session: at least this many. */
#define REL_MIN_LIMIT 1024

/* ------------------------------------------------------------------------ */
/* Table                                                                    */
/* ------------------------------------------------------------------------ */

osap_err das_sessions_init(struct das_session_table *t)
{
    t->buckets = osap_calloc(SESSIONS_MIN_BUCKETS, sizeof(*t->buckets));
    if (!t->buckets) return OSAP_ENOMEM;
    t->nbuckets = SESSIONS_MIN_BUCKETS;
    t->count = 0;
    return OSAP_OK;
}

static uint32_t key_hash(int kind, const char *key, size_t len)
{
    return das_hash(key, len, (uint32_t)kind);
}

struct das_session *das_session_find(struct das_worker *w, int kind, const char *key, size_t len)
{
    struct das_session_table *t = &w->sessions;
    uint32_t h = key_hash(kind, key, len);

    for (struct das_session *s = t->buckets[h & (t->nbuckets - 1)]; s; s = s->hnext)
        if (s->hval == h && s->kind == kind && s->key_len == len && memcmp(s->key, key, len) == 0)
            return s;
    return NULL;
}

static void table_grow(struct das_session_table *t)
{
    size_t nb = t->nbuckets * 2;
    struct das_session **b = osap_calloc(nb, sizeof(*b));
    if (!b) return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct das_session *s = t->buckets[i];
        while (s) {
            struct das_session *next = s->hnext;
            s->hnext = b[s->hval & (nb - 1)];
            b[s->hval & (nb - 1)] = s;
            s = next;
        }
    }
    osap_free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
}

osap_err das_session_new(struct das_worker *w, int kind, const char *key, size_t len,
                         struct das_session **out)
{
    struct das_session_table *t = &w->sessions;
    struct das_session *s;

    if (len > OSAP_MQTT_STRING_MAX) return OSAP_EINVAL;
    /* the key is the flexible array member at the end: no room for the struct padding */
    s = osap_calloc(1, offsetof(struct das_session, key) + len + 1);
    if (!s) return OSAP_ENOMEM;
    s->kind = (uint8_t)kind;
    s->key_len = (uint16_t)len;
    memcpy(s->key, key, len);
    s->hval = key_hash(kind, key, len);
    s->next_pid = 1;
    das_list_init(&s->offline_link);
    das_list_init(&s->hold_link);
    s->hnext = t->buckets[s->hval & (t->nbuckets - 1)];
    t->buckets[s->hval & (t->nbuckets - 1)] = s;
    if (++t->count > t->nbuckets) table_grow(t);
    *out = s;
    return OSAP_OK;
}

static void table_remove(struct das_session_table *t, struct das_session *s)
{
    struct das_session **pp = &t->buckets[s->hval & (t->nbuckets - 1)];
    while (*pp && *pp != s)
        pp = &(*pp)->hnext;
    if (*pp) {
        *pp = s->hnext;
        t->count--;
    }
}

static void queue_free(struct das_session *s)
{
    while (s->q_head) {
        struct das_qentry *e = s->q_head;
        s->q_head = e->next;
        das_msg_unref(e->msg);
        osap_free(e);
    }
    s->q_tail = NULL;
    s->q_count = s->q_bytes = 0;
}

static void inflight_free(struct das_session *s)
{
    for (uint32_t i = 0; i < s->if_count; i++) {
        struct das_inflight *f = &s->inflight[(s->if_head + i) % s->if_cap];
        if (f->state) das_msg_unref(f->msg);
    }
    osap_free(s->inflight);
    s->inflight = NULL;
    s->if_cap = s->if_head = s->if_count = s->if_live = 0;
}

/* Take @p s off the worker's list of offline sessions. */
static void offline_remove(struct das_worker *w, struct das_session *s)
{
    if (!das_linked(&s->offline_link)) return;
    das_list_remove(&s->offline_link);
    atomic_fetch_sub_explicit(&w->das->offline_sessions, 1, memory_order_relaxed);
}

void das_session_online(struct das_worker *w, struct das_session *s)
{
    offline_remove(w, s);
}

void das_session_destroy(struct das_worker *w, struct das_session *s)
{
    w->changes++;
    table_remove(&w->sessions, s);
    offline_remove(w, s);
    das_flow_release(w, s);
    das_subs_clear(w, s);
    queue_free(s);
    inflight_free(s);
    osap_free(s->rel);
    if (s->conn) s->conn->session = NULL;
    osap_free(s);
}

void das_sessions_release(struct das_worker *w)
{
    struct das_session_table *t = &w->sessions;
    if (!t->buckets) return;
    for (size_t i = 0; i < t->nbuckets; i++)
        while (t->buckets[i])
            das_session_destroy(w, t->buckets[i]);
    osap_free(t->buckets);
    t->buckets = NULL;
}

void das_session_detach(struct das_worker *w, struct das_session *s)
{
    uint64_t max = w->das->set.max_sessions;

    w->changes++;
    s->conn = NULL;
    if (s->clean) {
        das_session_destroy(w, s);
        return;
    }
    das_flow_release(w, s); /* nobody drains it while offline */
    s->flow_off = false;
    s->offline_since = uv_now(&w->loop);
    das_list_add_tail(&w->offline, &s->offline_link);
    if (atomic_fetch_add_explicit(&w->das->offline_sessions, 1, memory_order_relaxed) + 1 > max &&
        max) {
        /* too many offline sessions in the DAS: this worker's oldest one goes */
        struct das_session *old =
            das_container_of(w->offline.next, struct das_session, offline_link);
        OSAP_LOGI(DAS_LOG, "session %s discarded: max_sessions (%llu) offline sessions", old->key,
                  (unsigned long long)max);
        das_session_destroy(w, old);
    }
}

void das_session_expire(struct das_worker *w, uint64_t now)
{
    uint64_t ttl = w->das->set.session_expiry_ms;

    if (ttl == 0) return;
    while (!das_list_empty(&w->offline)) {
        struct das_session *s = das_container_of(w->offline.next, struct das_session, offline_link);
        if (now - s->offline_since < ttl) break;
        OSAP_LOGD(DAS_LOG, "session %s expired after %llu ms offline", s->key,
                  (unsigned long long)(now - s->offline_since));
        das_session_destroy(w, s);
    }
}

/* ------------------------------------------------------------------------ */
/* In-flight window                                                         */
/* ------------------------------------------------------------------------ */

static struct das_inflight *inflight_at(struct das_session *s, uint32_t i)
{
    return &s->inflight[(s->if_head + i) % s->if_cap];
}

static bool pid_in_use(struct das_session *s, uint16_t pid)
{
    for (uint32_t i = 0; i < s->if_count; i++) {
        struct das_inflight *f = inflight_at(s, i);
        if (f->state && f->pid == pid) return true;
    }
    return false;
}

static uint16_t next_pid(struct das_session *s)
{
    for (;;) {
        uint16_t pid = s->next_pid++;
        if (s->next_pid == 0) s->next_pid = 1;
        if (pid != 0 && (s->if_live == 0 || !pid_in_use(s, pid))) return pid;
    }
}

/* A new slot at the end of the ring (grown as needed). */
static struct das_inflight *inflight_push(struct das_session *s)
{
    if (s->if_live >= 65535) return NULL; /* every packet id is taken */
    if (s->if_count == s->if_cap) {
        uint32_t cap = s->if_cap ? s->if_cap * 2 : 8;
        struct das_inflight *v = osap_malloc(cap * sizeof(*v));
        if (!v) return NULL;
        for (uint32_t i = 0; i < s->if_count; i++)
            v[i] = *inflight_at(s, i);
        osap_free(s->inflight);
        s->inflight = v;
        s->if_cap = cap;
        s->if_head = 0;
    }
    struct das_inflight *f = inflight_at(s, s->if_count);
    s->if_count++;
    s->if_live++;
    memset(f, 0, sizeof(*f));
    return f;
}

static void inflight_pop_holes(struct das_session *s)
{
    while (s->if_count > 0 && inflight_at(s, 0)->state == 0) {
        s->if_head = (s->if_head + 1) % s->if_cap;
        s->if_count--;
    }
    if (s->if_count == 0) {
        s->if_head = 0;
        if (s->if_cap > 64) { /* give back a ring a burst made large */
            osap_free(s->inflight);
            s->inflight = NULL;
            s->if_cap = 0;
        }
    }
}

static bool conn_ready(const struct das_session *s)
{
    return s->conn && s->conn->state == DAS_CONN_ACTIVE;
}

/* Take a slot for @p m and send it. */
static osap_err send_inflight(struct das_session *s, struct das_msg *m, int qos, int retain,
                              uint16_t *pid_out)
{
    struct das_inflight *f = inflight_push(s);
    if (!f) return OSAP_ENOMEM;
    f->msg = das_msg_ref(m);
    f->pid = next_pid(s);
    f->qos = (uint8_t)qos;
    f->retain = (uint8_t)retain;
    f->state = qos == 1 ? DAS_WAIT_PUBACK : DAS_WAIT_PUBREC;
    if (pid_out) *pid_out = f->pid;
    return das_send_publish(s->conn, m, qos, retain, 0, f->pid);
}

bool das_session_ack(struct das_worker *w, struct das_session *s, uint16_t pid, int type)
{
    for (uint32_t i = 0; i < s->if_count; i++) {
        struct das_inflight *f = inflight_at(s, i);
        if (!f->state || f->pid != pid) continue;
        switch (type) {
        case OSAP_MQTT_PUBACK:
            if (f->state != DAS_WAIT_PUBACK) return false;
            break;
        case OSAP_MQTT_PUBREC:
            if (f->state == DAS_WAIT_PUBCOMP) {
                /* a repeated PUBREC: answer with PUBREL again */
                if (conn_ready(s)) das_send_ack(s->conn, OSAP_MQTT_PUBREL, pid);
                return true;
            }
            if (f->state != DAS_WAIT_PUBREC) return false;
            das_msg_unref(f->msg);
            f->msg = NULL;
            f->state = DAS_WAIT_PUBCOMP;
            if (conn_ready(s)) das_send_ack(s->conn, OSAP_MQTT_PUBREL, pid);
            return true;
        case OSAP_MQTT_PUBCOMP:
            if (f->state != DAS_WAIT_PUBCOMP) return false;
            break;
        default: return false;
        }
        das_msg_unref(f->msg);
        f->msg = NULL;
        f->state = 0;
        s->if_live--;
        inflight_pop_holes(s);
        das_session_pump(w, s);
        return true;
    }
    return false;
}

/* ------------------------------------------------------------------------ */
/* Queue                                                                    */
/* ------------------------------------------------------------------------ */

static uint32_t queued_qos0(const struct das_session *s, struct das_qentry **prev_out)
{
    struct das_qentry *prev = NULL;
    for (struct das_qentry *e = s->q_head; e; prev = e, e = e->next) {
        if (e->qos == 0) {
            *prev_out = prev;
            return 1;
        }
    }
    return 0;
}

static void queue_remove_after(struct das_session *s, struct das_qentry *prev)
{
    struct das_qentry *e = prev ? prev->next : s->q_head;
    if (prev)
        prev->next = e->next;
    else
        s->q_head = e->next;
    if (s->q_tail == e) s->q_tail = prev;
    s->q_count--;
    s->q_bytes -= e->msg->payload_len;
    das_msg_unref(e->msg);
    osap_free(e);
}

static void enqueue(struct das_worker *w, struct das_session *s, struct das_msg *m, int qos,
                    int retain)
{
    const struct das_settings *set = &w->das->set;
    struct das_qentry *e;

    while (s->q_count + 1 > set->max_queued_messages ||
           s->q_bytes + m->payload_len > set->max_queued_bytes) {
        struct das_qentry *prev = NULL;
        if (qos > 0 && das_flow_overflow_ok(w, s, m->payload_len))
            break; /* acknowledged and in transit while the session holds its publishers */
        if (s->q_count == 0 || !queued_qos0(s, &prev)) {
            OSAP_LOGD(DAS_LOG, "session %s: queue full, message on %s dropped", s->key, m->topic);
            return;
        }
        queue_remove_after(s, prev); /* the oldest QoS 0 message goes first */
    }
    e = osap_malloc(sizeof(*e));
    if (!e) return;
    e->next = NULL;
    e->msg = das_msg_ref(m);
    e->qos = (uint8_t)qos;
    e->retain = (uint8_t)retain;
    if (s->q_tail)
        s->q_tail->next = e;
    else
        s->q_head = e;
    s->q_tail = e;
    s->q_count++;
    s->q_bytes += m->payload_len;
}

void das_session_pump(struct das_worker *w, struct das_session *s)
{
    uint32_t window = w->das->set.max_inflight;

    while (s->q_head && conn_ready(s)) {
        struct das_qentry *e = s->q_head;
        if (e->qos > 0 && s->if_live >= window) break;
        s->q_head = e->next;
        if (!s->q_head) s->q_tail = NULL;
        s->q_count--;
        s->q_bytes -= e->msg->payload_len;
        if (e->qos == 0)
            das_send_publish(s->conn, e->msg, 0, e->retain, 0, 0);
        else
            send_inflight(s, e->msg, e->qos, e->retain, NULL);
        das_msg_unref(e->msg);
        osap_free(e);
    }
    if (s->holds || s->flow_off) das_flow_drained(w, s);
}

void das_session_resend(struct das_worker *w, struct das_session *s)
{
    for (uint32_t i = 0; i < s->if_count && conn_ready(s); i++) {
        struct das_inflight *f = inflight_at(s, i);
        if (f->state == DAS_WAIT_PUBACK || f->state == DAS_WAIT_PUBREC)
            das_send_publish(s->conn, f->msg, f->qos, f->retain, 1, f->pid);
        else if (f->state == DAS_WAIT_PUBCOMP)
            das_send_ack(s->conn, OSAP_MQTT_PUBREL, f->pid);
    }
    das_session_pump(w, s);
}

/* ------------------------------------------------------------------------ */
/* Delivery                                                                 */
/* ------------------------------------------------------------------------ */

void das_session_deliver(struct das_worker *w, struct das_session *s, struct das_msg *m, int qos,
                         int retain)
{
    const struct das_settings *set = &w->das->set;
    struct das_conn *c = s->conn;

    w->changes++;
    if (s->kind == DAS_SESSION_DEVICE) {
        /* Devices read packets into a 16 KiB buffer and drop the connection on a larger
         * one (spec 6.1); they never get QoS 2 (spec 6.6). */
        size_t size = 2 + (size_t)m->topic_len + 2 + m->payload_len;
        if (size + OSAP_MQTT_HEADER_MAX > OSAP_MESSAGE_MAX) {
            OSAP_LOGD(DAS_LOG, "device %s: %zu-byte message on %s not sent (device limit)", s->key,
                      size, m->topic);
            return;
        }
        if (qos > 1) qos = 1;
    }
    if (!conn_ready(s)) {
        if (qos > 0 || set->queue_qos0) enqueue(w, s, m, qos, retain);
        return;
    }
    if (qos == 0) {
        if (c->out_bytes > set->max_output_bytes) {
            if (set->slow_disconnect && !c->close_pending) {
                OSAP_LOGI(DAS_LOG, "client %s: slow consumer (%llu bytes waiting), closing", s->key,
                          (unsigned long long)c->out_bytes);
                das_conn_close(c, "slow consumer", 0);
            }
            return;
        }
        das_send_publish(c, m, 0, retain, 0, 0);
        return;
    }
    if (s->q_head || s->if_live >= set->max_inflight) {
        enqueue(w, s, m, qos, retain);
        if (!retain) das_flow_queued(w, s, m);
        return;
    }
    send_inflight(s, m, qos, retain, NULL);
}

osap_err das_session_send_direct(struct das_worker *w, struct das_session *s, struct das_msg *m,
                                 int qos, uint16_t *pid)
{
    if (!conn_ready(s)) return OSAP_ECLOSED;
    if (qos == 0) {
        *pid = 0;
        return das_send_publish(s->conn, m, 0, 0, 0, 0);
    }
    return send_inflight(s, m, qos, 0, pid);
}

/* ------------------------------------------------------------------------ */
/* Incoming QoS 2                                                           */
/* ------------------------------------------------------------------------ */

bool das_session_rel_seen(struct das_session *s, uint16_t pid, uint32_t limit, osap_err *err)
{
    *err = OSAP_OK;
    for (uint32_t i = 0; i < s->nrel; i++)
        if (s->rel[i] == pid) return true;
    if (limit < REL_MIN_LIMIT) limit = REL_MIN_LIMIT;
    if (s->nrel >= limit) {
        *err = OSAP_EBUSY;
        return false;
    }
    if (s->nrel == s->caprel) {
        uint32_t cap = s->caprel ? s->caprel * 2 : 4;
        uint16_t *v = osap_realloc(s->rel, cap * sizeof(*v));
        if (!v) {
            *err = OSAP_ENOMEM;
            return false;
        }
        s->rel = v;
        s->caprel = cap;
    }
    s->rel[s->nrel++] = pid;
    return false;
}

void das_session_rel_done(struct das_session *s, uint16_t pid)
{
    for (uint32_t i = 0; i < s->nrel; i++) {
        if (s->rel[i] == pid) {
            s->rel[i] = s->rel[--s->nrel];
            if (s->nrel == 0) {
                osap_free(s->rel);
                s->rel = NULL;
                s->caprel = 0;
            }
            return;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Restoring a saved session                                                */
/* ------------------------------------------------------------------------ */

osap_err das_session_restore_inflight(struct das_session *s, struct das_msg *m, uint16_t pid,
                                      int qos, int state, int retain)
{
    struct das_inflight *f;

    if (pid == 0 || (s->if_live && pid_in_use(s, pid))) return OSAP_EINVAL;
    if ((state == DAS_WAIT_PUBCOMP) != (m == NULL)) return OSAP_EINVAL;
    f = inflight_push(s);
    if (!f) return OSAP_ENOMEM;
    f->msg = m ? das_msg_ref(m) : NULL;
    f->pid = pid;
    f->qos = (uint8_t)qos;
    f->state = (uint8_t)state;
    f->retain = (uint8_t)retain;
    return OSAP_OK;
}

void das_session_restore_queued(struct das_worker *w, struct das_session *s, struct das_msg *m,
                                int qos, int retain)
{
    enqueue(w, s, m, qos, retain);
}

void das_session_park(struct das_worker *w, struct das_session *s)
{
    s->conn = NULL;
    s->offline_since = uv_now(&w->loop);
    das_list_add_tail(&w->offline, &s->offline_link);
    atomic_fetch_add_explicit(&w->das->offline_sessions, 1, memory_order_relaxed);
}
