/*
 * Events (wire spec 7.5): the body gets "basic":{"dateTime","UUID"} appended,
 * goes into the offline queue first, and is published from the queue in order
 * (model/event/report/<domain>/<identifier>, QoS 1). A record leaves the queue
 * only when its PUBACK arrives; after a reconnection or a restart it is sent
 * again, byte for byte the same body (same UUID), so the server stores it once.
 *
 * Queue record payload: u8 format (1), u8 length + resource, u8 length + domain,
 * u8 length + identifier, then the body (JSON text) to the end.
 */
#include "device_internal.h"

#include "osap/alloc.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define RECORD_FORMAT  1
#define EVENT_OVERHEAD 640 /* topic, envelope and MQTT framing around the body */
#define UUID_BYTES     16

/* "YYYY-MM-DDThh:mm:ss.mmm+00:00" from Unix milliseconds (proleptic Gregorian,
 * days-from-civil inverted; no dependency on the C library's time zone). */
static void format_datetime(int64_t ms, char out[64])
{
    int64_t secs = ms >= 0 ? ms / 1000 : -((999 - ms) / 1000);
    int64_t msec = ms - secs * 1000;
    int64_t days = secs >= 0 ? secs / 86400 : -((86399 - secs) / 86400);
    int64_t sod = secs - days * 86400;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);

    if (y < 0 || y > 9999) y = y < 0 ? 0 : 9999;
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+00:00", (int)y, (int)m, (int)d,
             (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (int)msec);
}

static osap_err add_basic(struct osap_device *dev, cJSON *root)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t rnd[UUID_BYTES];
    char uuid[2 * UUID_BYTES + 1], when[64];
    cJSON *basic;
    osap_err err;

    if (cJSON_GetObjectItemCaseSensitive(root, "basic")) return OSAP_OK;
    err = dev->port.random(dev->port.ctx, rnd, sizeof(rnd));
    if (err) return err;
    for (size_t i = 0; i < UUID_BYTES; i++) {
        uuid[2 * i] = hex[rnd[i] >> 4];
        uuid[2 * i + 1] = hex[rnd[i] & 0xF];
    }
    uuid[2 * UUID_BYTES] = '\0';
    format_datetime(dev->port.wall_ms(dev->port.ctx), when);
    basic = cJSON_CreateObject();
    if (!basic) return OSAP_ENOMEM;
    if (!cJSON_AddStringToObject(basic, "dateTime", when) ||
        !cJSON_AddStringToObject(basic, "UUID", uuid) ||
        !cJSON_AddItemToObject(root, "basic", basic)) {
        cJSON_Delete(basic);
        return OSAP_ENOMEM;
    }
    return OSAP_OK;
}

osap_err osap_device_event_raise(osap_device_t *dev, const struct osap_device_key *key,
                                 const char *body_json, uint64_t *event_id)
{
    char res[DEV_RESOURCE_MAX + 1];
    cJSON *root = NULL;
    char *text = NULL;
    uint8_t *rec = NULL, *p;
    size_t rl, dl, il, tl, len;
    uint64_t id = 0;
    uint32_t dropped = 0;
    osap_err err;

    if (!dev || !body_json) return OSAP_EINVAL;
    err = osap__biz_key_check(key, res);
    if (err) return err;
    root = cJSON_ParseWithOpts(body_json, NULL, 1);
    err = OSAP_EJSON;
    if (!cJSON_IsObject(root)) goto out;
    err = add_basic(dev, root);
    if (err) goto out;
    err = OSAP_ENOMEM;
    text = cJSON_PrintUnformatted(root);
    if (!text) goto out;
    rl = strlen(res);
    dl = strlen(key->domain);
    il = strlen(key->identifier);
    tl = strlen(text);
    err = OSAP_ETOOBIG;
    if (tl + EVENT_OVERHEAD > dev->message_max) goto out;
    len = 4 + rl + dl + il + tl;
    err = OSAP_ENOMEM;
    rec = osap_malloc(DEV_QUEUE_HDR + len + DEV_QUEUE_CRC);
    if (!rec) goto out;
    p = rec + DEV_QUEUE_HDR;
    *p++ = RECORD_FORMAT;
    *p++ = (uint8_t)rl;
    memcpy(p, res, rl), p += rl;
    *p++ = (uint8_t)dl;
    memcpy(p, key->domain, dl), p += dl;
    *p++ = (uint8_t)il;
    memcpy(p, key->identifier, il), p += il;
    memcpy(p, text, tl);

    osap__dev_lock(dev);
    if (!dev->queue_open) {
        err = OSAP_ESTATE;
    } else {
        err = osap__queue_append(&dev->queue, rec, len, dev->port.now_ms(dev->port.ctx), &id,
                                 &dropped);
        dev->stats.events_dropped += dropped;
        if (err == OSAP_EBUSY) dev->stats.events_refused++;
        if (!err) {
            dev->stats.events_raised++;
            osap__dev_kick(dev);
        }
    }
    osap__dev_unlock(dev);
    if (!err && event_id) *event_id = id;
out:
    osap_free(rec);
    cJSON_free(text);
    cJSON_Delete(root);
    return err;
}

/* Split a record payload. Returns 0 when malformed. */
static int parse_record(const uint8_t *p, size_t len, char res[DEV_RESOURCE_MAX + 1],
                        char dom[DEV_NAME_MAX + 1], char id[DEV_NAME_MAX + 1], const uint8_t **body,
                        size_t *body_len)
{
    const uint8_t *end = p + len;
    char *outs[3] = {res, dom, id};
    size_t max[3] = {DEV_RESOURCE_MAX, DEV_NAME_MAX, DEV_NAME_MAX};

    if (len < 4 || *p++ != RECORD_FORMAT) return 0;
    for (int i = 0; i < 3; i++) {
        size_t n;
        if (p >= end) return 0;
        n = *p++;
        if (n == 0 || n > max[i] || (size_t)(end - p) < n || memchr(p, '\0', n)) return 0;
        memcpy(outs[i], p, n);
        outs[i][n] = '\0';
        p += n;
    }
    *body = p;
    *body_len = (size_t)(end - p);
    return 1;
}

osap_err osap__event_pump(struct osap_device *dev)
{
    while (osap__das_flights(dev, FL_EVENT) < dev->inflight_events_max) {
        char res[DEV_RESOURCE_MAX + 1], dom[DEV_NAME_MAX + 1], id[DEV_NAME_MAX + 1];
        char topic[OSAP_TOPIC_V3_MAX];
        const uint8_t *body;
        size_t len = 0, body_len = 0;
        uint64_t rid = 0;
        uint16_t pid = 0;
        struct dev_flight *fl = osap__das_flight_alloc(dev);
        osap_err err;

        if (!fl) return OSAP_OK;
        err = osap__queue_peek(&dev->queue, dev->work, dev->message_max, &len, &rid);
        if (err == OSAP_ENOTFOUND) return OSAP_OK;
        if (err && err != OSAP_EBUFSIZE) return err;
        if (err || !parse_record(dev->work, len, res, dom, id, &body, &body_len) ||
            osap__biz_topic(dev, res, OSAP_MODULE_MODEL, "event", "report", dom, id, topic,
                            sizeof(topic))) {
            /* cannot be sent as it is: drop it rather than block the queue */
            osap__queue_advance(&dev->queue);
            osap__queue_ack(&dev->queue, rid, dev->now);
            dev->stats.events_dropped++;
            continue;
        }
        err = osap__das_publish(dev, topic, 1, dev->seq, body, body_len, &pid);
        if (err) return err; /* OSAP_EBUFSIZE: the record waits for room */
        osap__queue_advance(&dev->queue);
        dev->seq++;
        fl->kind = FL_EVENT;
        fl->pid = pid;
        fl->event_id = rid;
        fl->t_sent = dev->now;
        dev->stats.events_sent++;
    }
    return OSAP_OK;
}

void osap__event_on_puback(struct osap_device *dev, const struct dev_flight *fl)
{
    if (osap__queue_ack(&dev->queue, fl->event_id, dev->now) != OSAP_OK) return;
    dev->stats.events_acked++;
    if (dev->cb.event_acked) dev->cb.event_acked(dev->userdata, fl->event_id);
}
