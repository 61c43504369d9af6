/* The device layer's registry: per worker, serial -> the device's entry (its
 * current connection and the counters kept across its connections), and the
 * online/offline transitions (see device_internal.h). */
#include "das/device_internal.h"

#include "log.h"
#include "osap/alloc.h"
#include "osap/crypto.h"
#include "util.h"

#include <string.h>

#define BUCKETS_FIRST 64

static uint32_t hash_serial(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h;
}

osap_err device_registry_init(struct device_worker *dw)
{
    dw->buckets = osap_calloc(BUCKETS_FIRST, sizeof(*dw->buckets));
    if (!dw->buckets) return OSAP_ENOMEM;
    dw->nbuckets = BUCKETS_FIRST;
    dw->count = 0;
    return OSAP_OK;
}

void device_registry_release(struct device_worker *dw)
{
    for (size_t i = 0; i < dw->nbuckets; i++) {
        struct device_entry *e = dw->buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            osap_free(e->dev); /* only when a connection never closed (start failed) */
            osap_free(e->dev_type);
            osap_free(e);
        }
    }
    osap_free(dw->buckets);
    dw->buckets = NULL;
    dw->nbuckets = 0;
}

/* Double the table when it holds twice as many entries as buckets. */
static void grow(struct device_worker *dw)
{
    size_t n = dw->nbuckets * 2;
    struct device_entry **b = osap_calloc(n, sizeof(*b));
    if (!b) return; /* keep the longer chains */
    for (size_t i = 0; i < dw->nbuckets; i++) {
        struct device_entry *e = dw->buckets[i], *next;
        for (; e; e = next) {
            size_t k = hash_serial(e->serial, e->serial_len) & (n - 1);
            next = e->next;
            e->next = b[k];
            b[k] = e;
        }
    }
    osap_free(dw->buckets);
    dw->buckets = b;
    dw->nbuckets = n;
}

struct device_entry *device_registry_entry(struct device_worker *dw, const char *serial, size_t len,
                                           bool create)
{
    size_t k = hash_serial(serial, len) & (dw->nbuckets - 1);
    struct device_entry *e;

    for (e = dw->buckets[k]; e; e = e->next)
        if (e->serial_len == len && memcmp(e->serial, serial, len) == 0) return e;
    if (!create) return NULL;
    e = osap_calloc(1, sizeof(*e) + len + 1);
    if (!e) return NULL;
    memcpy(e->serial, serial, len);
    e->serial_len = len;
    e->next_seq = DEVICE_SEQ_FIRST;
    e->next = dw->buckets[k];
    dw->buckets[k] = e;
    if (++dw->count > 2 * dw->nbuckets) grow(dw);
    return e;
}

struct device *device_registry_find(struct device_worker *dw, const char *serial, size_t len)
{
    struct device_entry *e = device_registry_entry(dw, serial, len, false);
    return e ? e->dev : NULL;
}

const char *device_registry_dev_type(struct device_entry *e, const char *reg_dev_type,
                                     const char *stored)
{
    size_t n;
    char *copy;

    if (!reg_dev_type[0]) return e->dev_type ? e->dev_type : stored;
    if (e->dev_type && strcmp(e->dev_type, reg_dev_type) == 0) return e->dev_type;
    n = strlen(reg_dev_type) + 1;
    copy = osap_malloc(n);
    if (copy) { /* else the older one stays: the registration still has its own */
        memcpy(copy, reg_dev_type, n);
        osap_free(e->dev_type);
        e->dev_type = copy;
    }
    return reg_dev_type;
}

/* ------------------------------------------------------------------------ */
/* Online / offline                                                         */
/* ------------------------------------------------------------------------ */

static void record_status(struct device *dev, bool online, const char *firmware, const char *model)
{
    struct device_layer *l = dev->dw->layer;
    struct ingest_record r;
    osap_err err;

    memset(&r, 0, sizeof(r));
    r.kind = INGEST_STATUS;
    r.serial = dev->serial;
    r.online = online;
    r.address = dev->address[0] ? dev->address : NULL;
    r.firmware = firmware && firmware[0] ? firmware : NULL;
    r.model = model && model[0] ? model : NULL;
    r.node = l->node_id[0] ? l->node_id : NULL;
    r.version = -1;
    err = ingest_submit(l->ing, &r, NULL, NULL);
    if (err)
        OSAP_LOGW(DEVICE_LOG, "device %s: %s state not recorded: %s", dev->serial,
                  online ? "online" : "offline", osap_strerror(err));
}

void device_registry_online(struct device *dev, const char *firmware, const char *model)
{
    record_status(dev, true, firmware, model);
    device_republish_status(dev->dw, dev->serial, dev->serial_len, true, NULL);
}

void device_registry_closed(struct device *dev, int abnormal)
{
    struct device_entry *e = dev->entry;
    const char *reason;

    device_requests_fail_all(dev, OSAP_ECLOSED);
    if (e->dev == dev) {
        e->dev = NULL;
        /* abnormal: no DISCONNECT (keepalive expired, connection lost, a protocol
         * error), or the DAS closing its connections as it stops */
        reason = dev->kicked                       ? "kicked"
                 : !abnormal                       ? "disconnect"
                 : das_worker_stopping(dev->dw->w) ? "stopping"
                                                   : "lost";
        OSAP_LOGI(DEVICE_LOG, "device %s offline (%s)", dev->serial, reason);
        record_status(dev, false, NULL, NULL);
        device_republish_status(dev->dw, dev->serial, dev->serial_len, false, reason);
    } else {
        /* A newer connection of the device took over: it stays online. */
        OSAP_LOGD(DEVICE_LOG, "device %s: connection from %s replaced", dev->serial, dev->address);
    }
    osap_cleanse(dev->key, sizeof(dev->key));
    osap_free(dev);
}
