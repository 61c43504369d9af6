/*
 * The DAS as seen by the rest of osapd: how the platform (the api service, or any
 * in-process component) reaches devices that are connected to this DAS node.
 *
 * Thread-safety: every function here may be called from any thread. Calls are
 * forwarded to the DAS worker that owns the device (devices are pinned to a worker
 * by their serial), so they never block on the network. Completion callbacks run
 * on that DAS worker thread: they must not block and must not call back into the
 * DAS synchronously; a typical callback copies the result and wakes its own loop
 * (uv_async_send).
 *
 * In a cluster the api may reach a device held by another DAS node; that transport
 * sits behind this same interface (a device's node is recorded in the store).
 */
#ifndef OSAPD_DAS_API_H
#define OSAPD_DAS_API_H

#include "osap/err.h"

#include <stddef.h>
#include <stdint.h>

struct osapd_das;

/** What a platform request asks the device to do (spec 7.2, 7.4). */
enum osapd_das_request_kind {
    OSAPD_DAS_ATTRIBUTE_SET = 1, /* model/attribute/set/<domain>/<identifier>, {"data":{"Value":v}} */
    OSAPD_DAS_OPERATE = 2,       /* model/service/operate/<domain>/<identifier>, {"data":input} */
    OSAPD_DAS_SHADOW_SET = 3,    /* basic/shadow/set, {"state":{"desired":{...}}} */
};

/** A request to one device. Strings are copied before osapd_das_request() returns. */
struct osapd_das_request {
    enum osapd_das_request_kind kind;
    const char *serial;     /* the device's subserial */
    const char *child;      /* NULL = "global" (the device itself) */
    const char *resource;   /* "<index>-<category>"; NULL = "0-global" */
    const char *domain;     /* area, <= 31 characters */
    const char *identifier; /* attribute or operation key, <= 31 characters */
    const char *value_json; /* JSON text: the attribute value, or the operation input */
    uint32_t timeout_ms;    /* 0 = the [das] request_timeout setting */
};

/** The outcome of a request.
 *  err: OSAP_OK when the device answered (then code/output are set);
 *       OSAP_ENOTFOUND when the device is not connected to this DAS (offline);
 *       OSAP_ETIMEDOUT when no reply came in time; OSAP_EBUSY when the device has
 *       too many requests in flight; OSAP_ECLOSED when the device disconnected
 *       before answering; OSAP_ESTATE when the DAS is stopping. */
struct osapd_das_result {
    osap_err err;
    int code;                /* the device's "code" (0 = success) */
    const char *output_json; /* operate_reply "data" (JSON text) or NULL; valid only
                                during the callback */
    uint32_t seq;            /* the Seq the request was sent with */
};

typedef void (*osapd_das_result_cb)(const struct osapd_das_result *result, void *userdata);

/** Send @p req to the device and call @p cb exactly once with the outcome (possibly
 *  before this function returns, e.g. OSAP_ENOTFOUND). Returns OSAP_OK when the
 *  request was queued (the callback will follow), or an error (OSAP_EINVAL for a
 *  malformed request, OSAP_ENOMEM) in which case @p cb is not called. */
osap_err osapd_das_request(struct osapd_das *das, const struct osapd_das_request *req,
                           osapd_das_result_cb cb, void *userdata);

/** Close the device's MQTT connection now (e.g. after it was blocked); its next
 *  CONNECT is judged again against the store. No-op when not connected. */
osap_err osapd_das_disconnect(struct osapd_das *das, const char *serial);

/** Counters of this DAS node (approximate, read without locks). */
struct osapd_das_stats {
    uint64_t connections;        /* all MQTT connections */
    uint64_t devices_online;     /* authenticated OSAP devices */
    uint64_t messages_in;
    uint64_t messages_out;
};
void osapd_das_stats(struct osapd_das *das, struct osapd_das_stats *out);

#endif /* OSAPD_DAS_API_H */
