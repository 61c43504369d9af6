/* Persistence of the DAS: retained messages and the persistent sessions (clean
 * session 0) of ordinary MQTT clients survive a restart (docs/ARCHITECTURE.md, "DAS
 * service", Persistence). The state lives in das_state.db under data_dir
 * (store_das_state.h). It is restored before the workers run; saved in full when
 * osapd stops (each worker serialises its sessions on its own thread once its loop
 * ended), and every autosave_interval by a thread of its own, which asks each worker
 * through its mailbox for its sessions (serialised on the worker's loop, only when
 * they changed) and writes them: no lock on the publish path, no SQLite on a loop. */
#include "das/das_internal.h"

#include "log.h"
#include "osap/alloc.h"
#include "service.h"
#include "store_das_state.h"
#include "util.h"

#include <string.h>

#define STATE_FILE "das_state.db"

/** One serialised session. */
struct das_snap_entry {
    char *key;
    uint8_t *blob;
    size_t key_len, len;
};

/** A worker's serialised sessions. */
struct das_snap {
    bool changed; /* false: nothing changed since its last snapshot (no entries) */
    struct das_snap_entry *v;
    size_t n, cap;
};

struct das_persist {
    struct das *das;
    struct osap_das_state_db *db;
    char *path;
    uint64_t interval_ms;
    bool loaded;    /* the saved state was read (or set aside): saving may replace it */
    bool full_done; /* a full snapshot was written in this run */
    uint64_t retain_saved;
    /* autosave thread */
    uv_thread_t thread;
    bool thread_started;
    uv_mutex_t lock;
    uv_cond_t cond;
    bool stop;
    uint32_t pending;        /* worker replies awaited */
    struct das_snap **snaps; /* per worker: the reply (NULL = failed) */
};

/** A snapshot request posted to a worker. */
struct snap_req {
    struct das_mail mail;
    struct das_persist *p;
    bool force;
};

/* ------------------------------------------------------------------------ */
/* Serialising a worker's sessions (on the worker's thread)                 */
/* ------------------------------------------------------------------------ */

void das_persist_snap_free(struct das_snap *snap)
{
    if (!snap) return;
    for (size_t i = 0; i < snap->n; i++) {
        osap_free(snap->v[i].key);
        osap_free(snap->v[i].blob);
    }
    osap_free(snap->v);
    osap_free(snap);
}

/* The filter of subscription trie node @p node, in @p buf (at most cap bytes). */
static size_t filter_of(const struct das_tnode *node, char *buf, size_t cap)
{
    size_t len = 0, pos;

    for (const struct das_tnode *n = node; n->parent; n = n->parent)
        len += (size_t)n->len + (n->parent->parent ? 1 : 0);
    if (len > cap) return 0;
    pos = len;
    for (const struct das_tnode *n = node; n->parent; n = n->parent) {
        pos -= n->len;
        memcpy(buf + pos, n->level, n->len);
        if (n->parent->parent) buf[--pos] = '/';
    }
    return len;
}

static void item_of(struct osap_das_state_item *it, const struct das_msg *m)
{
    it->topic = m->topic;
    it->topic_len = m->topic_len;
    it->payload = das_msg_payload(m);
    it->payload_len = m->payload_len;
    it->pub_qos = m->qos;
}

/* The blob of session @p s. */
static osap_err session_encode(struct das_session *s, uint8_t **blob, size_t *len)
{
    struct osap_das_session_state st;
    char *filters = NULL;
    size_t fpos = 0, fcap = 0;
    osap_err err = OSAP_ENOMEM;
    uint32_t i = 0;

    memset(&st, 0, sizeof(st));
    st.next_pid = s->next_pid ? s->next_pid : 1;
    st.nrel = s->nrel;
    st.rel = s->rel;
    if (s->nsubs) {
        st.subs = osap_calloc(s->nsubs, sizeof(*st.subs));
        if (!st.subs) goto out;
        for (struct das_sub *sub = s->subs; sub; sub = sub->next_in_session) {
            for (const struct das_tnode *n = sub->node; n->parent; n = n->parent)
                fcap += (size_t)n->len + 1;
        }
        filters = osap_malloc(fcap ? fcap : 1);
        if (!filters) goto out;
        for (struct das_sub *sub = s->subs; sub && i < s->nsubs; sub = sub->next_in_session) {
            size_t n = filter_of(sub->node, filters + fpos, fcap - fpos);
            if (n == 0 || n > OSAP_MQTT_STRING_MAX) continue;
            st.subs[i].filter = filters + fpos;
            st.subs[i].len = (uint16_t)n;
            st.subs[i].qos = sub->qos;
            fpos += n;
            i++;
        }
        st.nsubs = i;
    }
    if (s->if_live) {
        st.inflight = osap_calloc(s->if_live, sizeof(*st.inflight));
        if (!st.inflight) goto out;
        for (uint32_t k = 0; k < s->if_count && st.ninflight < s->if_live; k++) {
            const struct das_inflight *f = &s->inflight[(s->if_head + k) % s->if_cap];
            struct osap_das_state_item *it = &st.inflight[st.ninflight];
            if (!f->state) continue;
            it->pid = f->pid;
            it->qos = f->qos;
            it->state = f->state;
            it->retain = f->retain;
            if (f->msg) item_of(it, f->msg);
            st.ninflight++;
        }
    }
    if (s->q_count) {
        st.queued = osap_calloc(s->q_count, sizeof(*st.queued));
        if (!st.queued) goto out;
        for (struct das_qentry *e = s->q_head; e && st.nqueued < s->q_count; e = e->next) {
            struct osap_das_state_item *it = &st.queued[st.nqueued++];
            it->qos = e->qos;
            it->retain = e->retain;
            item_of(it, e->msg);
        }
    }
    err = osap_das_state_encode(&st, blob, len);
out:
    osap_free(st.subs);
    osap_free(st.inflight);
    osap_free(st.queued);
    osap_free(filters);
    return err;
}

static osap_err snap_add(struct das_snap *snap, struct das_session *s)
{
    struct das_snap_entry e = {NULL, NULL, s->key_len, 0};
    osap_err err;

    if (snap->n == snap->cap) {
        size_t cap = snap->cap ? snap->cap * 2 : 16;
        struct das_snap_entry *v = osap_realloc(snap->v, cap * sizeof(*v));
        if (!v) return OSAP_ENOMEM;
        snap->v = v;
        snap->cap = cap;
    }
    e.key = osap_malloc(s->key_len + 1u);
    if (!e.key) return OSAP_ENOMEM;
    memcpy(e.key, s->key, s->key_len + 1u);
    err = session_encode(s, &e.blob, &e.len);
    if (err) {
        osap_free(e.key);
        return err;
    }
    snap->v[snap->n++] = e;
    return OSAP_OK;
}

/* Every persistent session of an ordinary client on @p w; NULL when out of memory. */
static struct das_snap *worker_snapshot(struct das_worker *w)
{
    struct das_snap *snap = osap_calloc(1, sizeof(*snap));
    struct das_session_table *t = &w->sessions;

    if (!snap) return NULL;
    snap->changed = true;
    for (size_t b = 0; t->buckets && b < t->nbuckets; b++) {
        for (struct das_session *s = t->buckets[b]; s; s = s->hnext) {
            if (s->kind != DAS_SESSION_CLIENT || s->clean) continue;
            if (snap_add(snap, s) != OSAP_OK) {
                OSAP_LOGE(DAS_LOG, "worker %u: sessions not saved: out of memory", w->index);
                das_persist_snap_free(snap);
                return NULL;
            }
        }
    }
    return snap;
}

void das_persist_worker_final(struct das_worker *w)
{
    das_persist_snap_free(w->final_snap);
    w->final_snap = worker_snapshot(w);
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */
/* ------------------------------------------------------------------------ */

/* One transaction: the sessions of @p snaps (every worker's when @p full, else the
 * workers whose sessions changed), and the retained messages @p ret unless
 * @p nret is SIZE_MAX. Counts what was written. */
static osap_err write_state(struct das_persist *p, struct das_snap **snaps, bool full,
                            struct das_msg **ret, size_t nret, size_t *nsessions)
{
    struct osap_das_state_db *db = p->db;
    osap_err err;

    *nsessions = 0;
    err = osap_das_state_begin(db);
    if (err) return err;
    if (full) err = osap_das_state_clear_sessions(db, -1);
    for (uint32_t i = 0; !err && i < p->das->nworkers; i++) {
        const struct das_snap *snap = snaps[i];
        if (!snap->changed) continue;
        if (!full) err = osap_das_state_clear_sessions(db, (int)i);
        for (size_t k = 0; !err && k < snap->n; k++) {
            const struct das_snap_entry *e = &snap->v[k];
            err = osap_das_state_put_session(db, e->key, e->key_len, (int)i, e->blob, e->len);
            (*nsessions)++;
        }
    }
    if (!err && nret != SIZE_MAX) {
        err = osap_das_state_clear_retained(db);
        for (size_t k = 0; !err && k < nret; k++)
            err = osap_das_state_put_retained(db, ret[k]->topic, ret[k]->topic_len,
                                              das_msg_payload(ret[k]), ret[k]->payload_len,
                                              ret[k]->qos);
    }
    if (err) {
        osap_das_state_rollback(db);
        return err;
    }
    return osap_das_state_commit(db);
}

/* Save: all sessions when @p full (else those that changed) and the retained
 * messages when @p full or when they changed. */
static void save(struct das_persist *p, struct das_snap **snaps, bool full, const char *why)
{
    struct das_msg **ret = NULL;
    size_t nret = SIZE_MAX, nsessions = 0;
    uint64_t changes = 0;
    uint64_t t0 = uv_hrtime();
    osap_err err = OSAP_OK;
    bool any = full;

    if (full || das_retain_changes(p->das) != p->retain_saved) {
        err = das_retain_snapshot(p->das, &ret, &nret, &changes);
        if (err) {
            nret = SIZE_MAX;
            goto out;
        }
        any = true;
    }
    for (uint32_t i = 0; i < p->das->nworkers; i++)
        if (snaps[i]->changed) any = true;
    if (!any) {
        OSAP_LOGD(DAS_LOG, "state unchanged since the last save (%s)", why);
        return;
    }
    err = write_state(p, snaps, full, ret, nret, &nsessions);
out:
    if (err) {
        OSAP_LOGE(DAS_LOG, "state not saved (%s): %s", why, osap_strerror(err));
        p->full_done = false; /* the next snapshot writes everything again */
    } else {
        if (full) p->full_done = true;
        if (nret != SIZE_MAX) p->retain_saved = changes;
        if (nret == SIZE_MAX)
            OSAP_LOGI(DAS_LOG,
                      "state saved (%s): %zu sessions, retained messages unchanged, %llu ms", why,
                      nsessions, (unsigned long long)((uv_hrtime() - t0) / 1000000));
        else
            OSAP_LOGI(DAS_LOG, "state saved (%s): %zu sessions, %zu retained messages, %llu ms",
                      why, nsessions, nret, (unsigned long long)((uv_hrtime() - t0) / 1000000));
    }
    if (nret != SIZE_MAX) das_retain_free_list(ret, nret);
}

void das_persist_save_final(struct das *das)
{
    struct das_persist *p = das->persist;

    if (!p || !p->loaded || !p->db) return;
    for (uint32_t i = 0; i < das->nworkers; i++) {
        if (!das->workers[i] || !das->workers[i]->final_snap) {
            OSAP_LOGE(DAS_LOG, "state not saved at stop: worker %u has no snapshot", i);
            return;
        }
    }
    struct das_snap **snaps = osap_calloc(das->nworkers, sizeof(*snaps));
    if (!snaps) {
        OSAP_LOGE(DAS_LOG, "state not saved at stop: out of memory");
        return;
    }
    for (uint32_t i = 0; i < das->nworkers; i++)
        snaps[i] = das->workers[i]->final_snap;
    save(p, snaps, true, "stop");
    osap_free(snaps);
}

/* ------------------------------------------------------------------------ */
/* Autosave                                                                 */
/* ------------------------------------------------------------------------ */

/* On worker @p w: serialise its sessions if they changed (or @p force). */
static void snap_run(struct das_worker *w, struct das_mail *m)
{
    struct snap_req *req = das_container_of(m, struct snap_req, mail);
    struct das_persist *p = req->p;
    struct das_snap *snap;

    if (req->force || w->changes != w->saved_changes) {
        uint64_t changes = w->changes;
        snap = worker_snapshot(w);
        if (snap) w->saved_changes = changes;
    } else {
        snap = osap_calloc(1, sizeof(*snap)); /* changed = false */
    }
    uv_mutex_lock(&p->lock);
    p->snaps[w->index] = snap;
    p->pending--;
    uv_cond_signal(&p->cond);
    uv_mutex_unlock(&p->lock);
    osap_free(req);
}

static void autosave(struct das_persist *p)
{
    struct das *das = p->das;
    bool force = !p->full_done, failed = false;

    uv_mutex_lock(&p->lock);
    for (uint32_t i = 0; i < das->nworkers; i++) {
        struct snap_req *req = osap_calloc(1, sizeof(*req));
        p->snaps[i] = NULL;
        if (!req) {
            failed = true;
            continue;
        }
        req->mail.run = snap_run;
        req->p = p;
        req->force = force;
        p->pending++;
        if (das_mail_push(das->workers[i], &req->mail) != OSAP_OK) {
            p->pending--;
            osap_free(req);
            failed = true;
        }
    }
    while (p->pending > 0)
        uv_cond_wait(&p->cond, &p->lock);
    uv_mutex_unlock(&p->lock);
    for (uint32_t i = 0; i < das->nworkers; i++)
        if (!p->snaps[i]) failed = true;
    if (failed) {
        /* a worker could not answer: its sessions' change count may have moved on, so
         * the next snapshot writes everything */
        OSAP_LOGE(DAS_LOG, "state not saved (autosave): a worker could not take its snapshot");
        p->full_done = false;
    } else {
        save(p, p->snaps, force, "autosave");
    }
    for (uint32_t i = 0; i < das->nworkers; i++) {
        das_persist_snap_free(p->snaps[i]);
        p->snaps[i] = NULL;
    }
}

static void autosave_main(void *arg)
{
    struct das_persist *p = arg;
    uint64_t interval_ns = p->interval_ms * 1000000u;
    uint64_t next = uv_hrtime() + interval_ns;

    uv_mutex_lock(&p->lock);
    while (!p->stop) {
        uint64_t now = uv_hrtime();
        if (now < next) {
            uv_cond_timedwait(&p->cond, &p->lock, next - now);
            continue;
        }
        uv_mutex_unlock(&p->lock);
        autosave(p);
        uv_mutex_lock(&p->lock);
        next = uv_hrtime() + interval_ns;
    }
    uv_mutex_unlock(&p->lock);
}

osap_err das_persist_run(struct das *das)
{
    struct das_persist *p = das->persist;

    if (!p || !p->db || p->interval_ms == 0) return OSAP_OK;
    if (uv_thread_create(&p->thread, autosave_main, p) != 0) return OSAP_ENOMEM;
    p->thread_started = true;
    return OSAP_OK;
}

void das_persist_stop(struct das *das)
{
    struct das_persist *p = das->persist;

    if (!p || !p->thread_started) return;
    uv_mutex_lock(&p->lock);
    p->stop = true;
    uv_cond_broadcast(&p->cond);
    uv_mutex_unlock(&p->lock);
    uv_thread_join(&p->thread);
    p->thread_started = false;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */
/* ------------------------------------------------------------------------ */

struct load {
    struct das *das;
    size_t sessions, retained, skipped;
};

static osap_err load_retained(void *ctx, const char *topic, size_t topic_len,
                              const uint8_t *payload, size_t len, int qos)
{
    struct load *l = ctx;
    struct das_msg *m;
    osap_err err;

    if (qos < 0 || qos > 2 || topic_len == 0 || topic_len > OSAP_MQTT_STRING_MAX || len == 0 ||
        len > UINT32_MAX || osap_mqtt_topic_validate(topic, topic_len) != OSAP_OK) {
        OSAP_LOGE(DAS_LOG, "saved retained message skipped: invalid topic, QoS or payload");
        l->skipped++;
        return OSAP_OK;
    }
    err = das_msg_new(topic, topic_len, payload, len, qos, 1, &m);
    if (err) return err;
    das_retain_store(l->das, m);
    das_msg_unref(m);
    l->retained++;
    return OSAP_OK;
}

/* A message of a saved session, or NULL (*err set when it is invalid). */
static struct das_msg *item_msg(const struct osap_das_state_item *it, osap_err *err)
{
    struct das_msg *m = NULL;

    *err = osap_mqtt_topic_validate(it->topic, it->topic_len);
    if (*err) return NULL;
    *err = das_msg_new(it->topic, it->topic_len, it->payload, it->payload_len, it->pub_qos,
                       it->retain, &m);
    return *err ? NULL : m;
}

/* Fill the new session @p s from @p st. */
static osap_err restore_session(struct das_worker *w, struct das_session *s,
                                const struct osap_das_session_state *st)
{
    osap_err err = OSAP_OK;

    s->clean = false;
    s->next_pid = st->next_pid;
    for (uint32_t i = 0; i < st->nsubs; i++) {
        const struct osap_das_state_sub *sub = &st->subs[i];
        err = osap_mqtt_filter_validate(sub->filter, sub->len);
        if (err) return err;
        err = das_subs_add(w, s, sub->filter, sub->len, sub->qos);
        if (err == OSAP_EBUSY) {
            OSAP_LOGW(DAS_LOG, "saved session %s: subscription %.*s dropped: max_subscriptions",
                      s->key, (int)sub->len, sub->filter);
            err = OSAP_OK;
        }
        if (err) return err;
    }
    for (uint32_t i = 0; i < st->nrel; i++) {
        das_session_rel_seen(s, st->rel[i], 0, &err);
        if (err == OSAP_EBUSY) err = OSAP_OK;
        if (err) return err;
    }
    for (uint32_t i = 0; i < st->ninflight; i++) {
        const struct osap_das_state_item *it = &st->inflight[i];
        struct das_msg *m = NULL;
        if (it->state != OSAP_DAS_STATE_WAIT_PUBCOMP && !(m = item_msg(it, &err))) return err;
        err = das_session_restore_inflight(s, m, it->pid, it->qos, it->state, it->retain);
        if (m) das_msg_unref(m);
        if (err) return err;
    }
    for (uint32_t i = 0; i < st->nqueued; i++) {
        const struct osap_das_state_item *it = &st->queued[i];
        struct das_msg *m = item_msg(it, &err);
        if (!m) return err;
        das_session_restore_queued(w, s, m, it->qos, it->retain);
        das_msg_unref(m);
    }
    return OSAP_OK;
}

static osap_err load_session(void *ctx, const char *id, size_t id_len, const uint8_t *blob,
                             size_t len)
{
    struct load *l = ctx;
    struct das *das = l->das;
    struct osap_das_session_state st;
    struct das_worker *w;
    struct das_session *s;
    uint64_t max = das->set.max_sessions;
    osap_err err;

    if (id_len == 0 || id_len > OSAP_MQTT_STRING_MAX || memchr(id, 0, id_len) ||
        osap_mqtt_utf8_validate(id, id_len) != OSAP_OK) {
        OSAP_LOGE(DAS_LOG, "saved session skipped: invalid client id");
        l->skipped++;
        return OSAP_OK;
    }
    if (max && atomic_load_explicit(&das->offline_sessions, memory_order_relaxed) >= max) {
        OSAP_LOGW(DAS_LOG, "saved session %.*s skipped: max_sessions (%llu)", (int)id_len, id,
                  (unsigned long long)max);
        l->skipped++;
        return OSAP_OK;
    }
    err = osap_das_state_decode(blob, len, &st);
    if (err) {
        OSAP_LOGE(DAS_LOG, "saved session %.*s skipped: %s", (int)id_len, id, osap_strerror(err));
        l->skipped++;
        return OSAP_OK;
    }
    w = das->workers[das_home_worker(das, id, id_len)];
    if (das_session_find(w, DAS_SESSION_CLIENT, id, id_len)) {
        osap_das_state_release(&st);
        l->skipped++;
        return OSAP_OK;
    }
    err = das_session_new(w, DAS_SESSION_CLIENT, id, id_len, &s);
    if (err) {
        osap_das_state_release(&st);
        return err;
    }
    err = restore_session(w, s, &st);
    osap_das_state_release(&st);
    if (err) {
        das_session_destroy(w, s);
        if (err == OSAP_ENOMEM) return err;
        OSAP_LOGE(DAS_LOG, "saved session %.*s skipped: %s", (int)id_len, id, osap_strerror(err));
        l->skipped++;
        return OSAP_OK;
    }
    das_session_park(w, s);
    l->sessions++;
    return OSAP_OK;
}

/* Forget whatever a failed load restored. */
static osap_err unload(struct das *das)
{
    osap_err err = OSAP_OK;

    for (uint32_t i = 0; i < das->nworkers; i++) {
        das_sessions_release(das->workers[i]);
        if (!err) err = das_sessions_init(&das->workers[i]->sessions);
    }
    das_retain_release(&das->retain);
    if (!err) err = das_retain_init(&das->retain);
    return err;
}

/* Open the file; a damaged one is set aside and a new one made. */
static osap_err open_file(struct das_persist *p, bool *damaged)
{
    osap_err err = osap_das_state_open(p->path, &p->db);

    *damaged = false;
    if (err == OSAP_OK || err == OSAP_ESTORE_SCHEMA || err == OSAP_ENOMEM) return err;
    *damaged = true;
    OSAP_LOGE(DAS_LOG, "saved state %s is unreadable (%s): set aside as %s.corrupt, starting empty",
              p->path, osap_strerror(err), p->path);
    err = osap_das_state_set_aside(p->path);
    if (err) return err;
    return osap_das_state_open(p->path, &p->db);
}

osap_err das_persist_load(struct das *das)
{
    static const struct osap_das_state_visitor visitor = {load_retained, load_session};
    struct das_persist *p;
    struct load l = {das, 0, 0, 0};
    bool damaged;
    osap_err err;

    if (!das->cfg->persistence) return OSAP_OK;
    p = osap_calloc(1, sizeof(*p));
    if (!p) return OSAP_ENOMEM;
    p->das = das;
    p->interval_ms = (uint64_t)das->cfg->autosave_interval;
    p->snaps = osap_calloc(das->nworkers, sizeof(*p->snaps));
    if (!p->snaps) {
        osap_free(p);
        return OSAP_ENOMEM;
    }
    if (uv_mutex_init(&p->lock) != 0) {
        osap_free(p->snaps);
        osap_free(p);
        return OSAP_ENOMEM;
    }
    if (uv_cond_init(&p->cond) != 0) {
        uv_mutex_destroy(&p->lock);
        osap_free(p->snaps);
        osap_free(p);
        return OSAP_ENOMEM;
    }
    das->persist = p;
    err = osap_path_join(osapd_data_dir(das->ctx), STATE_FILE, &p->path);
    if (err) return err;
    err = open_file(p, &damaged);
    if (err) {
        OSAP_LOGE(DAS_LOG, "cannot open the saved state %s: %s", p->path, osap_strerror(err));
        return err;
    }
    err = osap_das_state_load(p->db, &visitor, &l);
    if (err == OSAP_ESTORE) {
        /* it cannot be read to the end: start empty on a new file */
        osap_das_state_close(p->db);
        p->db = NULL;
        err = unload(das);
        if (err) return err;
        OSAP_LOGE(DAS_LOG, "saved state %s is unreadable: set aside as %s.corrupt, starting empty",
                  p->path, p->path);
        err = osap_das_state_set_aside(p->path);
        if (!err) err = osap_das_state_open(p->path, &p->db);
        l.sessions = l.retained = 0;
    }
    if (err) return err;
    p->loaded = true;
    if (!damaged)
        OSAP_LOGI(DAS_LOG,
                  "state restored from %s: %zu sessions, %zu retained messages (%zu skipped)",
                  p->path, l.sessions, l.retained, l.skipped);
    return OSAP_OK;
}

void das_persist_free(struct das *das)
{
    struct das_persist *p = das->persist;

    if (!p) return;
    das_persist_stop(das);
    osap_das_state_close(p->db);
    uv_cond_destroy(&p->cond);
    uv_mutex_destroy(&p->lock);
    osap_free(p->snaps);
    osap_free(p->path);
    osap_free(p);
    das->persist = NULL;
}
