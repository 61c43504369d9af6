/* Worker mailboxes: a lock-free multi-producer stack drained by the owning worker.
 * A producer wakes the worker (uv_async_send) only when it finds the mailbox empty,
 * so a burst of items costs one wake-up; the worker takes the whole stack at once
 * and runs it in posting order. Published messages travel in batches: one item per
 * target worker per loop iteration (das_forward). */
#include "das/das_internal.h"

#include "osap/alloc.h"

#include <sched.h>

#define MAIL_CLOSED ((struct das_mail *)(uintptr_t)1)
#define BATCH_CAP   128

osap_err das_mail_push(struct das_worker *w, struct das_mail *m)
{
    struct das_mail *head;
    osap_err err = OSAP_OK;

    atomic_fetch_add_explicit(&w->pushers, 1, memory_order_acquire);
    head = atomic_load_explicit(&w->inbox, memory_order_acquire);
    do {
        if (head == MAIL_CLOSED) {
            err = OSAP_ESTATE;
            goto out;
        }
        m->next = head;
    } while (!atomic_compare_exchange_weak_explicit(&w->inbox, &head, m, memory_order_release,
                                                    memory_order_acquire));
    if (head == NULL) uv_async_send(&w->wake);
out:
    atomic_fetch_sub_explicit(&w->pushers, 1, memory_order_release);
    return err;
}

static void run_list(struct das_worker *w, struct das_mail *list)
{
    struct das_mail *rev = NULL;
    while (list) { /* the stack is newest first: reverse it */
        struct das_mail *next = list->next;
        list->next = rev;
        rev = list;
        list = next;
    }
    while (rev) {
        struct das_mail *next = rev->next;
        rev->run(w, rev);
        rev = next;
    }
}

void das_mailbox_drain(struct das_worker *w)
{
    struct das_mail *list = atomic_exchange_explicit(&w->inbox, NULL, memory_order_acquire);
    if (list && list != MAIL_CLOSED) run_list(w, list);
}

void das_mailbox_close(struct das_worker *w)
{
    struct das_mail *list = atomic_exchange_explicit(&w->inbox, MAIL_CLOSED, memory_order_acquire);
    /* a producer that pushed just before may still be about to call uv_async_send */
    while (atomic_load_explicit(&w->pushers, memory_order_acquire) != 0)
        sched_yield();
    if (list && list != MAIL_CLOSED) run_list(w, list);
}

/* ------------------------------------------------------------------------ */
/* Forwarded messages                                                       */
/* ------------------------------------------------------------------------ */

void das_worker_wake(struct das_worker *w)
{
    atomic_fetch_add_explicit(&w->pushers, 1, memory_order_acquire);
    if (atomic_load_explicit(&w->inbox, memory_order_acquire) != MAIL_CLOSED)
        uv_async_send(&w->wake);
    atomic_fetch_sub_explicit(&w->pushers, 1, memory_order_release);
}

/* The @p n messages of a batch from @p origin were matched (or dropped). */
static void forwarded_done(struct das_worker *origin, uint32_t n)
{
    int_fast64_t low = origin->das->set.forward_low;
    int_fast64_t old = atomic_fetch_sub_explicit(&origin->outstanding, n, memory_order_acq_rel);
    if (old > low && old - n <= low &&
        atomic_load_explicit(&origin->has_paused, memory_order_acquire))
        das_worker_wake(origin);
}

static void batch_free(struct das_batch *b)
{
    for (uint32_t i = 0; i < b->n; i++)
        das_msg_unref(b->msgs[i]);
    forwarded_done(b->origin, b->n);
    osap_free(b);
}

static void batch_run(struct das_worker *w, struct das_mail *m)
{
    struct das_batch *b = das_container_of(m, struct das_batch, mail);
    /* at stop, messages still reach the (now offline) sessions when they are saved */
    if (!w->stopping || w->das->persist)
        for (uint32_t i = 0; i < b->n; i++)
            das_subs_deliver(w, b->msgs[i]);
    batch_free(b);
}

static void batch_post(struct das_worker *w, uint32_t target)
{
    struct das_batch *b = w->outbox[target];
    w->outbox[target] = NULL;
    if (das_mail_push(w->das->workers[target], &b->mail) != OSAP_OK) batch_free(b);
}

void das_forward(struct das_worker *w, uint32_t target, struct das_msg *m)
{
    struct das_batch *b = w->outbox[target];
    if (!b) {
        b = osap_malloc(sizeof(*b) + BATCH_CAP * sizeof(b->msgs[0]));
        if (!b) return;
        b->mail.run = batch_run;
        b->origin = w;
        b->n = 0;
        b->cap = BATCH_CAP;
        w->outbox[target] = b;
    }
    b->msgs[b->n++] = das_msg_ref(m);
    atomic_fetch_add_explicit(&w->outstanding, 1, memory_order_relaxed);
    if (b->n == b->cap) batch_post(w, target);
}

void das_forward_flush(struct das_worker *w)
{
    for (uint32_t t = 0; t < w->das->nworkers; t++)
        if (w->outbox[t]) batch_post(w, t);
}

/* ------------------------------------------------------------------------ */
/* das_post (das_hooks.h)                                                   */
/* ------------------------------------------------------------------------ */

struct post_mail {
    struct das_mail mail;
    void (*fn)(struct das_worker *w, void *arg);
    void *arg;
};

static void post_run(struct das_worker *w, struct das_mail *m)
{
    struct post_mail *p = das_container_of(m, struct post_mail, mail);
    p->fn(w, p->arg);
    osap_free(p);
}

osap_err das_post(struct das *das, uint32_t index, void (*fn)(struct das_worker *w, void *arg),
                  void *arg)
{
    struct post_mail *p;
    osap_err err;

    if (index >= das->nworkers || !fn) return OSAP_EINVAL;
    if (atomic_load(&das->stopping)) return OSAP_ESTATE;
    p = osap_malloc(sizeof(*p));
    if (!p) return OSAP_ENOMEM;
    p->mail.run = post_run;
    p->fn = fn;
    p->arg = arg;
    err = das_mail_push(das->workers[index], &p->mail);
    if (err) osap_free(p);
    return err;
}
