/* The api's store threads: database work off the API thread, each thread with
 * its own store handle (the store's threading rule), completions posted back
 * through the link (see api_internal.h). */
#include "api/api_internal.h"

#include "log.h"
#include "osap/alloc.h"

struct api_pool {
    const struct osapd_context *ctx;
    struct api_link *link;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct api_job *head, *tail;
    bool stopping;
    unsigned n;
    pthread_t threads[];
};

static void *pool_main(void *arg)
{
    struct api_pool *p = arg;
    struct osap_store *st = NULL;
    bool warned = false;

    for (;;) {
        struct api_job *job;

        pthread_mutex_lock(&p->lock);
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->cond, &p->lock);
        job = p->head;
        if (job) {
            p->head = job->next;
            if (!p->head) p->tail = NULL;
        }
        pthread_mutex_unlock(&p->lock);
        if (!job) break; /* stopping and nothing left */
        if (!st) {
            osap_err err = osapd_store_open(p->ctx, &st);
            if (err) {
                st = NULL;
                if (!warned) OSAP_LOGE(API_LOG, "cannot open the store: %s", osap_strerror(err));
                warned = true;
            }
        }
        job->next = NULL;
        job->work(job, st);
        api_link_post(p->link, &job->item, job->done);
    }
    osap_store_close(st);
    return NULL;
}

osap_err api_pool_new(const struct osapd_context *ctx, unsigned n, struct api_link *link,
                      struct api_pool **out)
{
    struct api_pool *p;
    unsigned started = 0;

    if (n == 0) n = 1;
    p = osap_calloc(1, sizeof(*p) + n * sizeof(pthread_t));
    if (!p) return OSAP_ENOMEM;
    p->ctx = ctx;
    p->link = link;
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        osap_free(p);
        return OSAP_ENOMEM;
    }
    if (pthread_cond_init(&p->cond, NULL) != 0) {
        pthread_mutex_destroy(&p->lock);
        osap_free(p);
        return OSAP_ENOMEM;
    }
    for (; started < n; started++)
        if (pthread_create(&p->threads[started], NULL, pool_main, p) != 0) break;
    p->n = started;
    if (started < n) {
        api_pool_free(p);
        return OSAP_ESERVER;
    }
    *out = p;
    return OSAP_OK;
}

osap_err api_pool_submit(struct api_pool *p, struct api_job *job)
{
    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        pthread_mutex_unlock(&p->lock);
        return OSAP_ESTATE;
    }
    job->next = NULL;
    if (p->tail)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return OSAP_OK;
}

void api_pool_free(struct api_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    osap_free(p);
}
