/* The api's link: work handed to the API thread from store threads, DAS workers
 * and the ingest thread (see api_internal.h). */
#include "api/api_internal.h"

#include "osap/alloc.h"

struct api_link {
    uv_async_t async;
    pthread_mutex_t lock;
    struct api_link_item *head, *tail;
    size_t bounded; /* bounded items waiting */
    bool closed;
    atomic_int refs;
};

static void link_run(uv_async_t *async)
{
    struct api_link *l = API_CONTAINER_OF(async, struct api_link, async);
    struct api_link_item *it, *next;

    pthread_mutex_lock(&l->lock);
    it = l->head;
    l->head = l->tail = NULL;
    l->bounded = 0;
    pthread_mutex_unlock(&l->lock);
    for (; it; it = next) {
        next = it->next;
        it->next = NULL;
        it->fn(it, true);
    }
}

osap_err api_link_new(uv_loop_t *loop, struct api_link **out)
{
    struct api_link *l = osap_calloc(1, sizeof(*l));

    if (!l) return OSAP_ENOMEM;
    if (pthread_mutex_init(&l->lock, NULL) != 0) {
        osap_free(l);
        return OSAP_ENOMEM;
    }
    if (uv_async_init(loop, &l->async, link_run) != 0) {
        pthread_mutex_destroy(&l->lock);
        osap_free(l);
        return OSAP_ESERVER;
    }
    /* One reference for the caller, one for the async handle (dropped when it is
     * closed). */
    atomic_init(&l->refs, 2);
    *out = l;
    return OSAP_OK;
}

static bool post(struct api_link *l, struct api_link_item *item, api_link_fn fn, bool bounded,
                 size_t max)
{
    item->next = NULL;
    item->fn = fn;
    item->bounded = bounded;
    pthread_mutex_lock(&l->lock);
    if (l->closed) {
        pthread_mutex_unlock(&l->lock);
        fn(item, false);
        return true;
    }
    if (bounded) {
        if (l->bounded >= max) {
            pthread_mutex_unlock(&l->lock);
            return false;
        }
        l->bounded++;
    }
    if (l->tail)
        l->tail->next = item;
    else
        l->head = item;
    l->tail = item;
    /* Under the lock: api_link_close() cannot close the handle meanwhile. */
    uv_async_send(&l->async);
    pthread_mutex_unlock(&l->lock);
    return true;
}

void api_link_post(struct api_link *l, struct api_link_item *item, api_link_fn fn)
{
    post(l, item, fn, false, 0);
}

bool api_link_post_bounded(struct api_link *l, struct api_link_item *item, api_link_fn fn,
                           size_t max)
{
    return post(l, item, fn, true, max);
}

void api_link_ref(struct api_link *l)
{
    atomic_fetch_add(&l->refs, 1);
}

void api_link_unref(struct api_link *l)
{
    if (!l || atomic_fetch_sub(&l->refs, 1) != 1) return;
    pthread_mutex_destroy(&l->lock);
    osap_free(l);
}

static void link_closed(uv_handle_t *h)
{
    api_link_unref(API_CONTAINER_OF(h, struct api_link, async));
}

void api_link_close(struct api_link *l)
{
    struct api_link_item *it, *next;

    pthread_mutex_lock(&l->lock);
    l->closed = true;
    it = l->head;
    l->head = l->tail = NULL;
    l->bounded = 0;
    pthread_mutex_unlock(&l->lock);
    for (; it; it = next) {
        next = it->next;
        it->next = NULL;
        it->fn(it, false);
    }
    uv_close((uv_handle_t *)&l->async, link_closed);
}
