/* Ingest: listeners of committed records (see ingest.h). */
#include "ingest_internal.h"

osap_err ingest_listen(struct ingest *ing, ingest_listener_cb cb, void *userdata, int *handle)
{
    osap_err err = OSAP_EBUSY;

    if (!cb || !handle) return OSAP_EINVAL;
    pthread_mutex_lock(&ing->listen_lock);
    for (size_t i = 0; i < INGEST_LISTENERS_MAX; i++) {
        struct ingest_listener *l = &ing->listeners[i];
        if (l->handle) continue;
        l->cb = cb;
        l->userdata = userdata;
        l->handle = ing->next_handle++;
        if (ing->next_handle <= 0) ing->next_handle = 1;
        *handle = l->handle;
        err = OSAP_OK;
        break;
    }
    pthread_mutex_unlock(&ing->listen_lock);
    return err;
}

void ingest_unlisten(struct ingest *ing, int handle)
{
    if (handle <= 0) return;
    pthread_mutex_lock(&ing->listen_lock);
    for (size_t i = 0; i < INGEST_LISTENERS_MAX; i++) {
        if (ing->listeners[i].handle == handle) {
            ing->listeners[i].handle = 0;
            ing->listeners[i].cb = NULL;
            ing->listeners[i].userdata = NULL;
        }
    }
    pthread_mutex_unlock(&ing->listen_lock);
}

void osap__ingest_notify(struct ingest *ing, struct ingest_item *batch)
{
    /* The lock is held while the callbacks run, so ingest_unlisten() returns only
     * once its listener is no longer running. */
    pthread_mutex_lock(&ing->listen_lock);
    for (struct ingest_item *it = batch; it; it = it->next) {
        struct ingest_committed c;
        if (it->err || it->duplicate) continue;
        c.rec = &it->rec;
        c.id = it->rec.kind == INGEST_EVENT ? it->id : 0;
        c.received_ms = it->rec.received_ms;
        for (size_t i = 0; i < INGEST_LISTENERS_MAX; i++) {
            struct ingest_listener *l = &ing->listeners[i];
            if (l->handle) l->cb(&c, l->userdata);
        }
    }
    pthread_mutex_unlock(&ing->listen_lock);
}
