/* DAS workers: one thread and one libuv loop each. A worker accepts on its own
 * SO_REUSEPORT socket, owns the connections and sessions whose key hashes to it, and
 * talks to other workers only through mailboxes. Once per loop iteration (uv_check
 * after I/O, uv_prepare before polling) it writes every connection's queued output
 * and posts the batches of messages forwarded to other workers. */
#include "das/das_internal.h"

#include "log.h"
#include "osap/alloc.h"
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void on_listen(uv_poll_t *h, int status, int events);

/* ------------------------------------------------------------------------ */
/* Slots: generation-checked handles to connections                         */
/* ------------------------------------------------------------------------ */

osap_err das_worker_slot_add(struct das_worker *w, struct das_conn *c)
{
    uint32_t slot;

    if (w->nfree) {
        slot = w->free_slots[--w->nfree];
    } else {
        if (w->nslots == w->capslots) {
            uint32_t cap = w->capslots ? w->capslots * 2 : 256;
            struct das_conn **s = osap_realloc(w->slots, cap * sizeof(*s));
            if (!s) return OSAP_ENOMEM;
            w->slots = s;
            uint32_t *g = osap_realloc(w->gens, cap * sizeof(*g));
            if (!g) return OSAP_ENOMEM;
            w->gens = g;
            uint32_t *f = osap_realloc(w->free_slots, cap * sizeof(*f));
            if (!f) return OSAP_ENOMEM;
            w->free_slots = f;
            w->capslots = cap;
        }
        slot = w->nslots++;
        w->gens[slot] = 0;
    }
    w->slots[slot] = c;
    c->slot = slot;
    c->generation = ++w->gens[slot];
    if (c->generation == 0) c->generation = ++w->gens[slot];
    return OSAP_OK;
}

void das_worker_slot_remove(struct das_worker *w, struct das_conn *c)
{
    if (c->slot >= w->nslots || w->slots[c->slot] != c) return;
    w->slots[c->slot] = NULL;
    w->free_slots[w->nfree++] = c->slot;
}

struct das_conn *das_conn_resolve(struct das_worker *w, struct das_conn_ref ref)
{
    if (ref.worker != w->index || ref.slot >= w->nslots) return NULL;
    if (w->gens[ref.slot] != ref.generation) return NULL;
    return w->slots[ref.slot];
}

/* ------------------------------------------------------------------------ */
/* Accessors (das_hooks.h)                                                  */
/* ------------------------------------------------------------------------ */

uint32_t das_worker_index(struct das_worker *w)
{
    return w->index;
}

struct osap_store *das_worker_store(struct das_worker *w)
{
    return w->store;
}

uv_loop_t *das_worker_loop(struct das_worker *w)
{
    return &w->loop;
}

bool das_worker_stopping(const struct das_worker *w)
{
    return w->stopping;
}

struct das_conn *das_device_conn(struct das_worker *w, const char *serial, size_t len)
{
    struct das_session *s = das_session_find(w, DAS_SESSION_DEVICE, serial, len);
    if (!s || !s->conn || s->conn->state != DAS_CONN_ACTIVE) return NULL;
    return s->conn;
}

void das_worker_assign_id(struct das_worker *w, char *out, size_t cap)
{
    struct das *das = w->das;
    do {
        uint64_t r = 0;
        uv_random(NULL, NULL, &r, sizeof(r), 0, NULL);
        snprintf(out, cap, "osap-%u-%llx-%llx", w->index, (unsigned long long)++w->id_counter,
                 (unsigned long long)r);
    } while (das_home_worker(das, out, strlen(out)) != w->index ||
             das_session_find(w, DAS_SESSION_CLIENT, out, strlen(out)));
}

/* ------------------------------------------------------------------------ */
/* Timing wheel: CONNECT timeout and keepalive                              */
/* ------------------------------------------------------------------------ */

void das_worker_wheel_add(struct das_worker *w, struct das_conn *c, uint64_t deadline)
{
    uint64_t t = (deadline + DAS_WHEEL_TICK_MS - 1) / DAS_WHEEL_TICK_MS * DAS_WHEEL_TICK_MS;
    if (t <= w->wheel_now) t = w->wheel_now + DAS_WHEEL_TICK_MS;
    if (das_linked(&c->wheel_link)) das_list_remove(&c->wheel_link);
    das_list_add_tail(&w->wheel[(t / DAS_WHEEL_TICK_MS) % DAS_WHEEL_SLOTS], &c->wheel_link);
}

static void expire(struct das_conn *c, uint64_t now)
{
    uint64_t deadline;

    if (c->state == DAS_CONN_ACTIVE) {
        if (c->keepalive == 0) return; /* left in the wheel by mistake: drop it */
        deadline = c->last_rx + (uint64_t)c->keepalive * 1500;
        if (deadline <= now) {
            OSAP_LOGI(DAS_LOG, "%s %s: keepalive expired (%us)", c->is_device ? "device" : "client",
                      c->session ? c->session->key : "?", c->keepalive);
            das_conn_close_now(c, "keepalive expired", false);
            return;
        }
    } else {
        deadline = c->last_rx + c->w->das->set.connect_timeout_ms; /* accept time */
        if (deadline <= now) {
            OSAP_LOGI(DAS_LOG, "%s: no CONNECT within connect_timeout", das_conn_peer(c));
            das_conn_close_now(c, "connect timeout", false);
            return;
        }
    }
    das_worker_wheel_add(c->w, c, deadline);
}

static void on_tick(uv_timer_t *t)
{
    struct das_worker *w = t->data;
    uint64_t now = uv_now(&w->loop);

    while (w->wheel_now + DAS_WHEEL_TICK_MS <= now) {
        struct das_link due, *l;
        w->wheel_now += DAS_WHEEL_TICK_MS;
        struct das_link *slot = &w->wheel[(w->wheel_now / DAS_WHEEL_TICK_MS) % DAS_WHEEL_SLOTS];
        if (das_list_empty(slot)) continue;
        /* take the slot's list: entries put back land in other slots or this one */
        due = *slot;
        due.next->prev = &due;
        due.prev->next = &due;
        das_list_init(slot);
        while ((l = due.next) != &due) {
            das_list_remove(l);
            expire(das_container_of(l, struct das_conn, wheel_link), now);
        }
    }
    das_session_expire(w, now);
    das_flow_tick(w, now);
    if (w->accept_paused && w->listening) {
        w->accept_paused = false;
        uv_poll_start(&w->listener, UV_READABLE, on_listen);
    }
}

/* ------------------------------------------------------------------------ */
/* End of iteration: writes and forwarded batches                           */
/* ------------------------------------------------------------------------ */

void das_worker_want_flush(struct das_worker *w, struct das_conn *c)
{
    if (c->in_flushq || c->state == DAS_CONN_CLOSING) return;
    c->in_flushq = true;
    das_list_add_tail(&w->flushq, &c->flush_link);
}

static void flush_all(struct das_worker *w)
{
    const struct das_settings *set = &w->das->set;

    if (w->npaused &&
        atomic_load_explicit(&w->outstanding, memory_order_acquire) <= set->forward_low)
        das_worker_resume_paused(w);

    while (!das_list_empty(&w->flushq)) {
        struct das_conn *c = das_container_of(w->flushq.next, struct das_conn, flush_link);
        das_list_remove(&c->flush_link);
        c->in_flushq = false;
        if (c->close_pending) {
            das_conn_close_now(c, "closed", c->suppress_will);
            continue;
        }
        das_out_flush(c);
        if (c->writing && c->reading && c->out_bytes > set->max_output_bytes) {
            /* it does not read what it gets: stop reading what it sends */
            uv_read_stop((uv_stream_t *)&c->tcp);
            c->reading = false;
            c->throttled = true;
        }
    }
    das_forward_flush(w);
}

static void on_check(uv_check_t *h)
{
    flush_all(h->data);
}

static void on_prepare(uv_prepare_t *h)
{
    flush_all(h->data);
}

static void on_wake(uv_async_t *h)
{
    das_mailbox_drain(h->data);
}

static void on_listen(uv_poll_t *h, int status, int events)
{
    struct das_worker *w = h->data;
    (void)events;
    if (status < 0) {
        OSAP_LOGW(DAS_LOG, "worker %u: listening socket: %s", w->index, uv_strerror(status));
        return;
    }
    das_conn_accept(w);
}

static void on_heartbeat(uv_timer_t *t)
{
    das_node_heartbeat(t->data);
}

/* ------------------------------------------------------------------------ */
/* Stop                                                                     */
/* ------------------------------------------------------------------------ */

/* First step: no more connections, nothing new routed from here. */
static void on_stop(uv_async_t *h)
{
    struct das_worker *w = h->data;

    if (w->stopping) return;
    w->stopping = true;
    if (w->listening) uv_close((uv_handle_t *)&w->listener, NULL);
    w->listening = false;
    if (w->listen_fd >= 0) close(w->listen_fd); /* not owned by the poll handle */
    w->listen_fd = -1;
    /* Wills are not published on shutdown: the clients did nothing wrong. */
    for (uint32_t i = 0; i < w->nslots; i++)
        if (w->slots[i]) das_conn_close_now(w->slots[i], "server stopping", true);
    das_forward_flush(w); /* what this worker routed last reaches the other workers */
    uv_sem_post(&w->quiet);
}

/* Second step (every worker did the first): run what is left and end the loop. */
static void on_finish(uv_async_t *h)
{
    struct das_worker *w = h->data;
    struct das *das = w->das;

    das_mailbox_close(w);
    if (das->have_hooks && das->hooks.worker_stop) das->hooks.worker_stop(das->hooks.userdata, w);
    das_forward_flush(w); /* the other workers are stopping too: the batches are freed */
    uv_timer_stop(&w->tick);
    uv_timer_stop(&w->heartbeat);
    uv_close((uv_handle_t *)&w->tick, NULL);
    uv_close((uv_handle_t *)&w->heartbeat, NULL);
    uv_close((uv_handle_t *)&w->check, NULL);
    uv_close((uv_handle_t *)&w->prepare, NULL);
    uv_close((uv_handle_t *)&w->wake, NULL);
    uv_close((uv_handle_t *)&w->stop, NULL);
    uv_close((uv_handle_t *)&w->finish, NULL);
}

void das_worker_request_stop(struct das_worker *w)
{
    if (w->thread_started) uv_async_send(&w->stop);
}

void das_worker_wait_quiet(struct das_worker *w)
{
    /* a worker whose start failed never runs its loop */
    if (w->thread_started && w->start_err == OSAP_OK) uv_sem_wait(&w->quiet);
}

void das_worker_request_finish(struct das_worker *w)
{
    if (w->thread_started) uv_async_send(&w->finish);
}

/* ------------------------------------------------------------------------ */
/* Thread                                                                   */
/* ------------------------------------------------------------------------ */

static void worker_main(void *arg)
{
    struct das_worker *w = arg;
    struct das *das = w->das;
    osap_err err = osapd_store_open(das->ctx, &w->store);

    w->start_err = err;
    if (err) {
        OSAP_LOGE(DAS_LOG, "worker %u: cannot open the store: %s", w->index, osap_strerror(err));
        uv_sem_post(&w->ready);
        return;
    }
    uv_update_time(&w->loop);
    w->wheel_now = uv_now(&w->loop) / DAS_WHEEL_TICK_MS * DAS_WHEEL_TICK_MS;
    if (das->have_hooks && das->hooks.worker_start) das->hooks.worker_start(das->hooks.userdata, w);
    if (w->index == 0)
        uv_timer_start(&w->heartbeat, on_heartbeat, (uint64_t)das->cfg->heartbeat,
                       (uint64_t)das->cfg->heartbeat);
    uv_timer_start(&w->tick, on_tick, DAS_WHEEL_TICK_MS, DAS_WHEEL_TICK_MS);
    uv_sem_post(&w->ready);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    if (das->persist) das_persist_worker_final(w);
    das_sessions_release(w);
    osap_store_close(w->store);
    w->store = NULL;
}

osap_err das_worker_run(struct das_worker *w)
{
    if (uv_thread_create(&w->thread, worker_main, w) != 0) return OSAP_ENOMEM;
    w->thread_started = true;
    uv_sem_wait(&w->ready);
    return w->start_err;
}

void das_worker_join(struct das_worker *w)
{
    if (!w->thread_started) return;
    uv_thread_join(&w->thread);
    w->thread_started = false;
}

/* ------------------------------------------------------------------------ */
/* Creation                                                                 */
/* ------------------------------------------------------------------------ */

osap_err das_worker_new(struct das *das, uint32_t index, int fd, struct das_worker **out)
{
    struct das_worker *w = osap_calloc(1, sizeof(*w));
    osap_err err = OSAP_ENOMEM;
    int r;

    if (!w) {
        close(fd);
        return OSAP_ENOMEM;
    }
    w->das = das;
    w->index = index;
    w->listen_fd = fd;
    das_list_init(&w->flushq);
    das_list_init(&w->offline);
    das_list_init(&w->holding);
    for (size_t i = 0; i < DAS_WHEEL_SLOTS; i++)
        das_list_init(&w->wheel[i]);
    atomic_init(&w->inbox, NULL);
    if (uv_sem_init(&w->ready, 0) != 0) goto fail_fd;
    if (uv_sem_init(&w->quiet, 0) != 0) {
        uv_sem_destroy(&w->ready);
        goto fail_fd;
    }
    if (uv_loop_init(&w->loop) != 0) goto fail_sem;
    w->loop_ready = true;
    w->rbuf = osap_malloc(DAS_READ_BUF);
    w->outbox = osap_calloc(das->nworkers, sizeof(*w->outbox));
    if (!w->rbuf || !w->outbox) goto fail_loop;
    if (das_sessions_init(&w->sessions) != OSAP_OK) goto fail_loop;
    if (das_trie_init(&w->subs) != OSAP_OK) goto fail_loop;

    uv_async_init(&w->loop, &w->wake, on_wake);
    uv_async_init(&w->loop, &w->stop, on_stop);
    uv_async_init(&w->loop, &w->finish, on_finish);
    uv_check_init(&w->loop, &w->check);
    uv_prepare_init(&w->loop, &w->prepare);
    uv_timer_init(&w->loop, &w->tick);
    uv_timer_init(&w->loop, &w->heartbeat);
    w->wake.data = w->stop.data = w->finish.data = w->check.data = w->prepare.data = w;
    w->tick.data = w->heartbeat.data = w;
    uv_check_start(&w->check, on_check);
    uv_prepare_start(&w->prepare, on_prepare);
    uv_unref((uv_handle_t *)&w->check);
    uv_unref((uv_handle_t *)&w->prepare);

    /* The worker accepts by itself (das_conn_accept), so that a connection beyond
     * max_connections is closed before anything is allocated for it. */
    r = listen(fd, 1024) == 0 ? 0 : uv_translate_sys_error(errno);
    if (r == 0) r = uv_poll_init_socket(&w->loop, &w->listener, fd);
    if (r == 0) {
        w->listener.data = w;
        w->listening = true;
        r = uv_poll_start(&w->listener, UV_READABLE, on_listen);
    }
    if (r != 0) {
        OSAP_LOGE(DAS_LOG, "worker %u: cannot listen: %s", index, uv_strerror(r));
        err = OSAP_EIO;
        *out = w; /* das_worker_free() closes the handles and the socket */
        return err;
    }
    *out = w;
    return OSAP_OK;

fail_loop:
    das_trie_release(&w->subs);
    osap_free(w->sessions.buckets);
    osap_free(w->rbuf);
    osap_free(w->outbox);
    uv_loop_close(&w->loop);
fail_sem:
    uv_sem_destroy(&w->quiet);
    uv_sem_destroy(&w->ready);
fail_fd:
    close(fd);
    osap_free(w);
    return err;
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

void das_worker_free(struct das_worker *w)
{
    if (!w) return;
    w->stopping = true;
    das_mailbox_close(w); /* no-op for a worker that ran: it closed its mailbox */
    if (w->loop_ready) {
        /* a worker that never ran (start failed) still has its handles */
        uv_walk(&w->loop, close_walk, NULL);
        uv_run(&w->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&w->loop) != 0)
            OSAP_LOGW(DAS_LOG, "worker %u: loop not closed", w->index);
    }
    if (w->listen_fd >= 0) close(w->listen_fd);
    w->listen_fd = -1;
    if (w->outbox) {
        for (uint32_t t = 0; t < w->das->nworkers; t++)
            if (w->outbox[t]) {
                for (uint32_t i = 0; i < w->outbox[t]->n; i++)
                    das_msg_unref(w->outbox[t]->msgs[i]);
                osap_free(w->outbox[t]);
            }
    }
    das_sessions_release(w);
    das_trie_release(&w->subs);
    das_persist_snap_free(w->final_snap);
    uv_sem_destroy(&w->quiet);
    uv_sem_destroy(&w->ready);
    osap_free(w->outbox);
    osap_free(w->rbuf);
    osap_free(w->slots);
    osap_free(w->gens);
    osap_free(w->free_slots);
    osap_free(w->matched);
    osap_free(w->paused);
    das_out_spares_free(w);
    osap_free(w);
}
