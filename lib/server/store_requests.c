/* Store: platform requests, validation and dispatch (see store_requests.h). */
#include "store_backend.h"

#include "util.h"

#include <string.h>

static bool kind_valid(const char *k)
{
    return k &&
           (strcmp(k, OSAP_REQUEST_KIND_SET) == 0 || strcmp(k, OSAP_REQUEST_KIND_OPERATE) == 0);
}

static bool outcome_valid(const char *s)
{
    static const char *const ok[] = {OSAP_REQUEST_DONE, OSAP_REQUEST_TIMEOUT, OSAP_REQUEST_OFFLINE,
                                     OSAP_REQUEST_FAILED, OSAP_REQUEST_INTERRUPTED};
    if (!s) return false;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strcmp(s, ok[i]) == 0) return true;
    return false;
}

static bool json_valid(const char *s)
{
    return !s || strlen(s) <= OSAP_REQUEST_JSON_MAX;
}

osap_err osap_store_request_add(struct osap_store *st, const struct osap_request *req, int64_t *id)
{
    int64_t row = 0;
    osap_err err;

    if (!req || !id || !kind_valid(req->kind) || !json_valid(req->input) ||
        !osap__store_keys_valid(req->serial, req->child, req->resource, req->domain,
                                req->identifier))
        return OSAP_EINVAL;
    err = st->be->requests->add(st, req, osap_time_now_ms(), &row);
    if (err == OSAP_OK) *id = row;
    return err;
}

osap_err osap_store_request_complete(struct osap_store *st, int64_t id, const char *status,
                                     int64_t seq, bool has_code, int64_t code, const char *output)
{
    if (id <= 0 || !outcome_valid(status) || !json_valid(output) || seq < -1 || seq > 4294967295LL)
        return OSAP_EINVAL;
    return st->be->requests->complete(st, id, status, seq, has_code, code, output,
                                      osap_time_now_ms());
}

osap_err osap_store_request_get(struct osap_store *st, int64_t id,
                                osap_err (*fn)(const struct osap_request *r, void *userdata),
                                void *userdata)
{
    if (!fn) return OSAP_EINVAL;
    if (id <= 0) return OSAP_ENOTFOUND;
    return st->be->requests->get(st, id, fn, userdata);
}

osap_err osap_store_request_interrupt(struct osap_store *st, int64_t before, uint64_t *count)
{
    uint64_t n = 0;
    osap_err err = st->be->requests->interrupt(st, before, osap_time_now_ms(), &n);
    if (err == OSAP_OK && count) *count = n;
    return err;
}

osap_err osap_store_request_prune(struct osap_store *st, int64_t before, uint64_t *count)
{
    uint64_t n = 0;
    osap_err err = st->be->requests->prune(st, before, &n);
    if (err == OSAP_OK && count) *count = n;
    return err;
}
