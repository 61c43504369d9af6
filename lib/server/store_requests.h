/*
 * Store: platform requests to devices (table requests): attribute sets and
 * operations sent through the api, with their outcome. The api records the
 * asynchronous ones (POST ...?async=1) so that clients can poll them. See
 * store.h for the threading rule and the error conventions; limits are in
 * store_events.h.
 */
#ifndef OSAP_SERVER_STORE_REQUESTS_H
#define OSAP_SERVER_STORE_REQUESTS_H

#include "osap/err.h"

#include <stdbool.h>
#include <stdint.h>

struct osap_store;

/* Values of the kind and status columns. */
#define OSAP_REQUEST_KIND_SET     "attribute_set"
#define OSAP_REQUEST_KIND_OPERATE "operate"
#define OSAP_REQUEST_PENDING      "pending"     /* sent, no outcome yet */
#define OSAP_REQUEST_DONE         "done"        /* the device answered: code (+ output) */
#define OSAP_REQUEST_TIMEOUT      "timeout"     /* no answer in time */
#define OSAP_REQUEST_OFFLINE      "offline"     /* the device was not connected */
#define OSAP_REQUEST_FAILED       "failed"      /* not delivered (busy, disconnected ...) */
#define OSAP_REQUEST_INTERRUPTED  "interrupted" /* the platform stopped before the outcome */

/** Longest status text, and the largest input/output JSON kept (bytes). */
#define OSAP_REQUEST_STATUS_MAX 15
#define OSAP_REQUEST_JSON_MAX   (1024 * 1024)

/** One request. As input (add) id, seq, status, code and the completion are
 *  ignored; as output the strings live during the callback. */
struct osap_request {
    int64_t id;
    const char *serial;
    const char *kind; /* OSAP_REQUEST_KIND_* */
    const char *child;
    const char *resource;
    const char *domain;
    const char *identifier;
    const char *input;  /* JSON text or NULL */
    const char *status; /* OSAP_REQUEST_* */
    int64_t seq;        /* the envelope Seq it was sent with; -1 = not known */
    bool has_code;
    int64_t code;       /* the device's code when has_code */
    const char *output; /* JSON text or NULL */
    int64_t created_at;
    int64_t completed_at; /* 0 = not completed */
};

/** Record a new pending request; @p id receives its id. OSAP_ENOTFOUND when the
 *  device does not exist, OSAP_EINVAL for a value that breaks a limit. */
osap_err osap_store_request_add(struct osap_store *st, const struct osap_request *req, int64_t *id);

/** Record the outcome of pending request @p id: @p status (not "pending"), the
 *  Seq (-1 = unknown), the device's code when @p has_code, its output (NULL =
 *  none). OSAP_ENOTFOUND when no pending request has that id. */
osap_err osap_store_request_complete(struct osap_store *st, int64_t id, const char *status,
                                     int64_t seq, bool has_code, int64_t code, const char *output);

/** Call @p fn once with request @p id (OSAP_ENOTFOUND when there is none). @p fn's
 *  result is returned; it must not use @p st. */
osap_err osap_store_request_get(struct osap_store *st, int64_t id,
                                osap_err (*fn)(const struct osap_request *r, void *userdata),
                                void *userdata);

/** Mark every request still pending and created before @p before as
 *  "interrupted" (a restarted platform will never see their outcome); @p count
 *  (may be NULL) receives how many. */
osap_err osap_store_request_interrupt(struct osap_store *st, int64_t before, uint64_t *count);

/** Delete requests created before @p before (retention); @p count may be NULL. */
osap_err osap_store_request_prune(struct osap_store *st, int64_t before, uint64_t *count);

/** Backend operations behind the functions above (arguments already validated). */
struct osap_store_request_ops {
    osap_err (*add)(struct osap_store *st, const struct osap_request *req, int64_t now,
                    int64_t *id);
    osap_err (*complete)(struct osap_store *st, int64_t id, const char *status, int64_t seq,
                         bool has_code, int64_t code, const char *output, int64_t now);
    osap_err (*get)(struct osap_store *st, int64_t id,
                    osap_err (*fn)(const struct osap_request *r, void *userdata), void *userdata);
    osap_err (*interrupt)(struct osap_store *st, int64_t before, int64_t now, uint64_t *count);
    osap_err (*prune)(struct osap_store *st, int64_t before, uint64_t *count);
};

#endif /* OSAP_SERVER_STORE_REQUESTS_H */
