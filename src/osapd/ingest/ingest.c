/* Ingest: the queue, the group-commit thread and the life cycle (see ingest.h). */
#include "ingest_internal.h"

#include "log.h"
#include "osap/alloc.h"
#include "util.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* Attempts to start a batch's transaction while another writer holds the
 * database (each waits up to [store] busy_timeout). */
#define BEGIN_ATTEMPTS 3

/* ------------------------------------------------------------------------ */
/* Submitting                                                               */
/* ------------------------------------------------------------------------ */

static size_t text_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* Copy @p s into the item's text area at *pos; NULL stays NULL. */
static const char *put_text(char *base, size_t *pos, const char *s)
{
    char *dst;
    size_t n;
    if (!s) return NULL;
    n = strlen(s) + 1;
    dst = base + *pos;
    memcpy(dst, s, n);
    *pos += n;
    return dst;
}

static bool record_valid(const struct ingest_record *rec)
{
    if (!osap_str_set(rec->serial)) return false;
    switch (rec->kind) {
    case INGEST_EVENT:
    case INGEST_ATTRIBUTE:
        return osap_str_set(rec->domain) && osap_str_set(rec->identifier) && rec->payload_json;
    case INGEST_STATUS:
    case INGEST_REPLY: return true;
    }
    return false;
}

osap_err ingest_submit(struct ingest *ing, const struct ingest_record *rec, ingest_done_cb done,
                       void *userdata)
{
    const char *strs[] = {rec->serial,     rec->child,        rec->resource, rec->domain,
                          rec->identifier, rec->payload_json, rec->uuid,     rec->address,
                          rec->firmware,   rec->model,        rec->node,     rec->invalid};
    struct ingest_item *it;
    size_t size = sizeof(*it), pos = 0;
    osap_err err = OSAP_OK;

    if (!record_valid(rec)) return OSAP_EINVAL;
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        size += text_size(strs[i]);
    it = osap_malloc(size);
    if (!it) return OSAP_ENOMEM;
    memset(it, 0, sizeof(*it));
    it->rec = *rec;
    it->rec.serial = put_text(it->text, &pos, rec->serial);
    it->rec.child = put_text(it->text, &pos, rec->child);
    it->rec.resource = put_text(it->text, &pos, rec->resource);
    it->rec.domain = put_text(it->text, &pos, rec->domain);
    it->rec.identifier = put_text(it->text, &pos, rec->identifier);
    it->rec.payload_json = put_text(it->text, &pos, rec->payload_json);
    it->rec.uuid = put_text(it->text, &pos, rec->uuid);
    it->rec.address = put_text(it->text, &pos, rec->address);
    it->rec.firmware = put_text(it->text, &pos, rec->firmware);
    it->rec.model = put_text(it->text, &pos, rec->model);
    it->rec.node = put_text(it->text, &pos, rec->node);
    it->rec.invalid = put_text(it->text, &pos, rec->invalid);
    if (!it->rec.received_ms) it->rec.received_ms = osap_time_now_ms();
    it->done = done;
    it->userdata = userdata;
    it->size = size;

    pthread_mutex_lock(&ing->lock);
    if (ing->stopping) {
        err = OSAP_ESTATE;
    } else if (ing->queued >= (uint64_t)ing->cfg.queue_max ||
               ing->queued_bytes + size > ing->cfg.queue_max_bytes) {
        ing->stats.rejected++;
        err = OSAP_EBUSY;
    } else {
        if (ing->tail)
            ing->tail->next = it;
        else
            ing->head = it;
        ing->tail = it;
        ing->queued++;
        ing->queued_bytes += size;
        ing->stats.submitted++;
        if (ing->queued == 1 || ing->queued >= (uint64_t)ing->cfg.max_batch)
            pthread_cond_signal(&ing->wake);
    }
    pthread_mutex_unlock(&ing->lock);
    if (err) osap_free(it);
    return err;
}

/* ------------------------------------------------------------------------ */
/* The thread                                                               */
/* ------------------------------------------------------------------------ */

static void deadline_after(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Wait for work and detach the next batch (NULL when stopping and drained).
 * Called and returns with the lock held. */
static struct ingest_item *take_batch(struct ingest *ing, size_t *count)
{
    struct ingest_item *batch, *last;
    uint64_t max = (uint64_t)ing->cfg.max_batch, n = 1;

    while (!ing->head && !ing->stopping)
        pthread_cond_wait(&ing->wake, &ing->lock);
    if (!ing->head) return NULL;
    if (ing->cfg.batch_delay > 0 && ing->queued < max && !ing->stopping) {
        struct timespec until;
        deadline_after(&until, ing->cfg.batch_delay);
        while (ing->queued < max && !ing->stopping) {
            if (pthread_cond_timedwait(&ing->wake, &ing->lock, &until) == ETIMEDOUT) break;
        }
    }
    batch = last = ing->head;
    ing->queued_bytes -= last->size;
    while (n < max && last->next) {
        last = last->next;
        ing->queued_bytes -= last->size;
        n++;
    }
    ing->head = last->next;
    if (!ing->head) ing->tail = NULL;
    last->next = NULL;
    ing->queued -= n;
    *count = (size_t)n;
    return batch;
}

/* Write a batch in one transaction; every item gets its outcome. */
static void write_batch(struct ingest *ing, struct ingest_item *batch)
{
    osap_err err = OSAP_OK;
    struct ingest_item *it;

    for (int attempt = 0; attempt < BEGIN_ATTEMPTS; attempt++) {
        err = osap_store_begin(ing->st);
        if (err != OSAP_ESTORE_BUSY) break;
    }
    if (err == OSAP_OK) {
        for (it = batch; it && err == OSAP_OK; it = it->next)
            err = osap__ingest_apply(ing, ing->st, it);
        if (err == OSAP_OK) err = osap_store_commit(ing->st);
        if (err) osap_store_rollback(ing->st);
    }
    if (err) {
        OSAP_LOGE("ingest", "a batch could not be written: %s (%s)", osap_strerror(err),
                  osap_store_errmsg(ing->st));
        for (it = batch; it; it = it->next) {
            it->err = err;
            it->duplicate = false;
        }
    }
}

static void complete_batch(struct ingest *ing, struct ingest_item *batch, size_t count)
{
    uint64_t failed = 0, dups = 0, invalid = 0;
    struct ingest_item *it, *next;

    for (it = batch; it; it = it->next) {
        if (!it->err && !it->duplicate && it->rec.invalid) invalid++;
        if (it->err) {
            failed++;
            if (it->err != OSAP_ENOTFOUND)
                OSAP_LOGW("ingest", "record of %s not stored: %s", it->rec.serial,
                          osap_strerror(it->err));
        }
        if (it->duplicate) dups++;
    }
    /* Counters first, so that whoever a completion wakes sees them. */
    pthread_mutex_lock(&ing->lock);
    ing->stats.batches++;
    ing->stats.committed += count - failed;
    ing->stats.failed += failed;
    ing->stats.duplicates += dups;
    ing->stats.invalid += invalid;
    if (count > ing->stats.largest_batch) ing->stats.largest_batch = count;
    pthread_mutex_unlock(&ing->lock);
    for (it = batch; it; it = it->next)
        if (it->done) it->done(it->err, it->duplicate ? 1 : 0, it->userdata);
    osap__ingest_notify(ing, batch);
    for (it = batch; it; it = next) {
        next = it->next;
        osap_free(it);
    }
}

static void *ingest_main(void *arg)
{
    struct ingest *ing = arg;
    struct ingest_item *batch;
    size_t count = 0;
    osap_err err;

    err = osap_store_open(&ing->store_cfg, ing->data_dir, &ing->st);
    pthread_mutex_lock(&ing->lock);
    ing->open_err = err;
    ing->open_done = true;
    pthread_cond_signal(&ing->started);
    if (err) {
        pthread_mutex_unlock(&ing->lock);
        return NULL;
    }
    for (;;) {
        batch = take_batch(ing, &count);
        if (!batch) break;
        pthread_mutex_unlock(&ing->lock);
        write_batch(ing, batch);
        complete_batch(ing, batch, count);
        pthread_mutex_lock(&ing->lock);
    }
    pthread_mutex_unlock(&ing->lock);
    osap_store_close(ing->st);
    ing->st = NULL;
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Life cycle                                                               */
/* ------------------------------------------------------------------------ */

static void release(struct ingest *ing)
{
    pthread_mutex_destroy(&ing->lock);
    pthread_mutex_destroy(&ing->listen_lock);
    pthread_cond_destroy(&ing->wake);
    pthread_cond_destroy(&ing->started);
    osap_free(ing->data_dir);
    osap_free(ing);
}

osap_err ingest_new(const struct ingest_config *cfg, const struct osap_store_config *store_cfg,
                    const char *data_dir, struct ingest **out)
{
    struct ingest *ing;
    pthread_condattr_t ca;
    size_t n = strlen(data_dir) + 1;
    osap_err err;

    if (cfg->queue_max < 1 || cfg->max_batch < 1 || cfg->batch_delay < 0) return OSAP_EINVAL;
    ing = osap_calloc(1, sizeof(*ing));
    if (!ing) return OSAP_ENOMEM;
    ing->data_dir = osap_malloc(n);
    if (!ing->data_dir) {
        osap_free(ing);
        return OSAP_ENOMEM;
    }
    memcpy(ing->data_dir, data_dir, n);
    ing->cfg = *cfg;
    ing->store_cfg = *store_cfg;
    osap_str_copy(ing->synchronous, sizeof(ing->synchronous),
                  cfg->synchronous && strcmp(cfg->synchronous, "normal") == 0 ? "normal" : "full");
    ing->cfg.synchronous = ing->synchronous;
    ing->store_cfg.synchronous = ing->synchronous;
    ing->next_handle = 1;
    pthread_mutex_init(&ing->lock, NULL);
    pthread_mutex_init(&ing->listen_lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ing->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&ing->started, NULL);
    if (pthread_create(&ing->thread, NULL, ingest_main, ing) != 0) {
        release(ing);
        return OSAP_ESERVER;
    }
    pthread_mutex_lock(&ing->lock);
    while (!ing->open_done)
        pthread_cond_wait(&ing->started, &ing->lock);
    err = ing->open_err;
    pthread_mutex_unlock(&ing->lock);
    if (err) {
        pthread_join(ing->thread, NULL);
        release(ing);
        return err;
    }
    OSAP_LOGI("ingest", "started: synchronous=%s, max_batch=%lld, batch_delay=%lldms",
              ing->synchronous, (long long)cfg->max_batch, (long long)cfg->batch_delay);
    *out = ing;
    return OSAP_OK;
}

void ingest_free(struct ingest *ing)
{
    if (!ing) return;
    pthread_mutex_lock(&ing->lock);
    ing->stopping = true;
    pthread_cond_signal(&ing->wake);
    pthread_mutex_unlock(&ing->lock);
    pthread_join(ing->thread, NULL);
    OSAP_LOGI("ingest", "stopped: %llu records in %llu batches (%llu duplicates, %llu failed)",
              (unsigned long long)ing->stats.committed, (unsigned long long)ing->stats.batches,
              (unsigned long long)ing->stats.duplicates, (unsigned long long)ing->stats.failed);
    release(ing);
}

void ingest_stats(struct ingest *ing, struct ingest_stats *out)
{
    pthread_mutex_lock(&ing->lock);
    *out = ing->stats;
    out->queued = ing->queued;
    pthread_mutex_unlock(&ing->lock);
}
