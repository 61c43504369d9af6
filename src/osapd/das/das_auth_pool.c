/* The password-check threads of the DAS. A check (PBKDF2, tens of milliseconds on
 * purpose) runs here rather than on libuv's thread pool, which the heartbeat and
 * other store work share: a burst of CONNECTs with passwords then delays other
 * CONNECTs with passwords, nothing else. The queue is bounded ([das] auth_queue);
 * the caller refuses a CONNECT that does not fit (CONNACK 3). Results go back to
 * the connection's worker through its mailbox. */
#include "das/das_internal.h"

#include "log.h"
#include "osap/alloc.h"

struct das_auth_pool {
    uv_mutex_t lock;
    uv_cond_t cond;
    struct das_auth_job *head, *tail; /* waiting, oldest first */
    uint32_t queued, queue_max;
    bool stopping;
    uint32_t nthreads;
    uv_thread_t threads[];
};

static void post_back(struct das_auth_job *j)
{
    /* The pool stops before the workers do (das_stop), so the mailbox is open. */
    if (das_mail_push(j->w, &j->mail) != OSAP_OK)
        OSAP_LOGE(DAS_LOG, "a password check finished after its worker stopped");
}

static void pool_main(void *arg)
{
    struct das_auth_pool *p = arg;

    uv_mutex_lock(&p->lock);
    for (;;) {
        struct das_auth_job *j;
        while (!p->head && !p->stopping)
            uv_cond_wait(&p->cond, &p->lock);
        j = p->head;
        if (!j) break; /* stopping, nothing left */
        p->head = j->next;
        if (!p->head) p->tail = NULL;
        p->queued--;
        j->cancelled = p->stopping;
        uv_mutex_unlock(&p->lock);
        if (!j->cancelled) j->work(j);
        post_back(j);
        uv_mutex_lock(&p->lock);
    }
    uv_mutex_unlock(&p->lock);
}

osap_err das_auth_pool_new(uint32_t threads, uint32_t queue_max, struct das_auth_pool **out)
{
    struct das_auth_pool *p;

    if (threads == 0 || queue_max == 0) return OSAP_EINVAL;
    p = osap_calloc(1, sizeof(*p) + threads * sizeof(p->threads[0]));
    if (!p) return OSAP_ENOMEM;
    p->queue_max = queue_max;
    if (uv_mutex_init(&p->lock) != 0) {
        osap_free(p);
        return OSAP_ENOMEM;
    }
    if (uv_cond_init(&p->cond) != 0) {
        uv_mutex_destroy(&p->lock);
        osap_free(p);
        return OSAP_ENOMEM;
    }
    for (; p->nthreads < threads; p->nthreads++) {
        if (uv_thread_create(&p->threads[p->nthreads], pool_main, p) != 0) {
            das_auth_pool_free(p);
            return OSAP_ENOMEM;
        }
    }
    *out = p;
    return OSAP_OK;
}

osap_err das_auth_pool_submit(struct das_auth_pool *p, struct das_auth_job *j)
{
    osap_err err = OSAP_OK;

    j->next = NULL;
    j->cancelled = false;
    uv_mutex_lock(&p->lock);
    if (p->stopping) {
        err = OSAP_ESTATE;
    } else if (p->queued >= p->queue_max) {
        err = OSAP_EBUSY;
    } else {
        if (p->tail)
            p->tail->next = j;
        else
            p->head = j;
        p->tail = j;
        p->queued++;
        uv_cond_signal(&p->cond);
    }
    uv_mutex_unlock(&p->lock);
    return err;
}

void das_auth_pool_free(struct das_auth_pool *p)
{
    if (!p) return;
    uv_mutex_lock(&p->lock);
    p->stopping = true;
    uv_cond_broadcast(&p->cond);
    uv_mutex_unlock(&p->lock);
    for (uint32_t i = 0; i < p->nthreads; i++)
        uv_thread_join(&p->threads[i]);
    /* without threads (creation failed) nothing was ever queued */
    uv_cond_destroy(&p->cond);
    uv_mutex_destroy(&p->lock);
    osap_free(p);
}
