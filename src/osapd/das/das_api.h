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
    /** model/attribute/set/<domain>/<identifier>, {"data":{"Value":v}} */
    OSAPD_DAS_ATTRIBUTE_SET = 1,
    /** model/service/operate/<domain>/<identifier>, {"data":input} */
    OSAPD_DAS_OPERATE = 2,
    /** basic/shadow/set, {"state":{"desired":{"domain":..,"identifier":..,"value":v}}} */
    OSAPD_DAS_SHADOW_SET = 3,
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
    uint32_t timeout_ms;    /* 0 = the [das_device] request_timeout setting */
};

/** The outcome of a request.
 *  err: OSAP_OK when the device answered (then code/output are set);
 *       OSAP_ENOTFOUND when the device is not connected to this DAS (offline);
 *       OSAP_ETIMEDOUT when no reply came in time; OSAP_EBUSY when the device has
 *       too many requests in flight; OSAP_ECLOSED when the device disconnected
 *       before answering; OSAP_ESTATE when the DAS is stopping. */
struct osapd_das_result {
    osap_err err;
    int code;                /* the device's "code" (0 = success; -1 when the reply
                                carries none) */
    const char *output_json; /* operate_reply "data" (JSON text) or NULL; valid only
                                during the callback */
    uint32_t seq;            /* the Seq the request was sent with */
};

typedef void (*osapd_das_result_cb)(const struct osapd_das_result *result, void *userdata);

/** Send @p req to the device and call @p cb exactly once with the outcome. Returns
 *  OSAP_OK when the request was queued (the callback will follow, on the device's
 *  DAS worker; with OSAP_ESTATE on the calling thread when the DAS is stopping), or
 *  an error in which case @p cb is not called: OSAP_EINVAL for a malformed request
 *  (serial, domain or identifier missing or not valid as a topic level, value_json
 *  not JSON, child/resource malformed), OSAP_ENOMEM, OSAP_EUNSUPPORTED when the DAS
 *  runs without its device layer.
 *
 *  The message is sealed with the device's session key and a Seq from the
 *  platform's own space for that device (1001, 1002, ... per device while the DAS
 *  runs, wrapping below 2^31 back to 1001; devices count their own Seq from 1), sent
 *  with QoS 1, and the reply is matched by Seq and topic (domain, identifier, child,
 *  resource). Both reply shapes are understood: {"code":n,...} (TSL) and
 *  {"status":n,"code":"..","errorMsg":".."} (older model API: code = status); a
 *  shadow set_reply carries {"payload":{"code":n}}. */
osap_err osapd_das_request(struct osapd_das *das, const struct osapd_das_request *req,
                           osapd_das_result_cb cb, void *userdata);

/** Close the device's MQTT connection now (e.g. after it was blocked); its next
 *  CONNECT is judged again against the store. No-op when not connected. Returns
 *  once the close is queued for the device's worker: OSAP_EINVAL (serial),
 *  OSAP_ENOMEM, OSAP_ESTATE (the DAS is stopping), OSAP_EUNSUPPORTED. */
osap_err osapd_das_disconnect(struct osapd_das *das, const char *serial);

/** Counters of this DAS node (approximate, read without locks). */
struct osapd_das_stats {
    uint64_t connections;    /* all MQTT connections */
    uint64_t devices_online; /* authenticated OSAP devices */
    uint64_t messages_in;
    uint64_t messages_out;
    /* Device layer (added with the implementation): */
    uint64_t devices_refused;   /* device CONNECTs refused (CONNACK 3, 5, 10, 11, 12) */
    uint64_t undecryptable;     /* device payloads dropped: not decryptable, bad envelope */
    uint64_t refused;           /* device publishes and subscriptions outside its topics */
    uint64_t events;            /* events acknowledged after they were stored */
    uint64_t requests;          /* platform requests sent to devices */
    uint64_t replies;           /* ... answered by the device */
    uint64_t timeouts;          /* ... not answered in time */
    uint64_t unmatched_replies; /* device replies that matched no pending request */
};
void osapd_das_stats(struct osapd_das *das, struct osapd_das_stats *out);

/* ------------------------------------------------------------------------ */
/* Added with the implementation                                            */
/* ------------------------------------------------------------------------ */

struct ingest;

/** The ingest writer the DAS stores device records with (ingest.h), e.g. to
 *  listen to committed events for live streams. It lives as long as the DAS
 *  service: services started after the DAS may use it until they stop. NULL when
 *  the DAS runs without its device layer. */
struct ingest *osapd_das_ingest(struct osapd_das *das);

/** A device asked for its thing-model profile (v2 domain 1100, command 0x3870,
 *  spec 7.6). @p model is the device's thing model as the DAS resolved it (its
 *  provisioned model, else the [models] map of its DevType; lib/server/models.h),
 *  "" when it has none. @p body_json is the request body ({"devSerial":..,"pid":..,
 *  "version":..,"profileVersion":"3.0","requireSchema":..}), @p seq its Seq, to be
 *  echoed in the answer (command 0x3871, sent with osapd_das_send_v2()). Runs on the
 *  device's DAS worker thread: it must not block. */
typedef void (*osapd_das_profile_cb)(struct osapd_das *das, const char *serial, const char *model,
                                     const char *body_json, uint32_t seq, void *userdata);

/** Install the handler of profile queries (NULL removes it; without one, queries
 *  are logged and left unanswered, which devices without the thing-model legality
 *  check never notice). Call it before devices connect (e.g. from a service started
 *  after the DAS); it is read without locks, so a worker may still run the old
 *  handler just after it was replaced: @p userdata must stay valid until the DAS
 *  stops (the api passes the osapd context). */
void osapd_das_set_profile_handler(struct osapd_das *das, osapd_das_profile_cb cb, void *userdata);

/** A v2 message to a device (fire and forget, QoS 0): topic /<sn>/<domain>/<cmd>,
 *  common JSON {"CmdVer":cmd_ver,"Seq":seq,"MsgType":msg_type}, then @p body
 *  (copied). Any thread. OSAP_OK when queued for the device's worker (it is dropped
 *  there if the device is not connected); OSAP_EINVAL, OSAP_ENOMEM, OSAP_ESTATE. */
osap_err osapd_das_send_v2(struct osapd_das *das, const char *serial, uint32_t domain, uint32_t cmd,
                           const char *cmd_ver, uint32_t seq, int msg_type, const uint8_t *body,
                           size_t len);

#endif /* OSAPD_DAS_API_H */
