/* Ingest: one record -> the store, inside the batch's transaction (see ingest.h). */
#include "ingest_internal.h"

#include "log.h"
#include "util.h"

static const char *or_default(const char *s, const char *def)
{
    return osap_str_set(s) ? s : def;
}

static osap_err apply_event(struct ingest *ing, struct osap_store *st, struct ingest_item *it)
{
    const struct ingest_record *r = &it->rec;
    struct osap_event ev = {0};
    int64_t since = r->received_ms - ing->cfg.dedup_window;
    bool dup = false;

    if (r->dedup_since_ms > since) since = r->dedup_since_ms;
    ev.serial = r->serial;
    ev.child = or_default(r->child, "global");
    ev.resource = or_default(r->resource, "0-global");
    ev.domain = r->domain;
    ev.identifier = r->identifier;
    ev.seq = r->seq;
    ev.uuid = osap_str_set(r->uuid) ? r->uuid : NULL;
    ev.level = r->level;
    ev.payload = r->payload_json;
    ev.device_time = r->device_time_ms;
    ev.received_at = r->received_ms;
    ev.invalid = r->invalid;
    it->err = osap_store_event_add(st, &ev, since, &it->id, &dup);
    it->duplicate = it->err == OSAP_OK && dup;
    return OSAP_OK;
}

static osap_err apply_attribute(struct osap_store *st, struct ingest_item *it)
{
    const struct ingest_record *r = &it->rec;
    struct osap_attribute a = {0};

    a.serial = r->serial;
    a.child = or_default(r->child, "global");
    a.resource = or_default(r->resource, "0-global");
    a.domain = r->domain;
    a.identifier = r->identifier;
    a.value = r->payload_json;
    a.version = r->version;
    a.reported_at = r->received_ms;
    a.invalid = r->invalid;
    it->err = osap_store_attribute_put(st, &a);
    return OSAP_OK;
}

static osap_err apply_status(struct osap_store *st, struct ingest_item *it)
{
    const struct ingest_record *r = &it->rec;

    it->err = osap_store_device_set_online(st, r->serial, r->online != 0, r->node, r->address,
                                           r->received_ms);
    if (it->err == OSAP_OK && (osap_str_set(r->firmware) || osap_str_set(r->model)))
        it->err =
            osap_store_device_set_info(st, r->serial, osap_str_set(r->model) ? r->model : NULL,
                                       osap_str_set(r->firmware) ? r->firmware : NULL);
    return OSAP_OK;
}

osap_err osap__ingest_apply(struct ingest *ing, struct osap_store *st, struct ingest_item *it)
{
    switch (it->rec.kind) {
    case INGEST_EVENT: apply_event(ing, st, it); break;
    case INGEST_ATTRIBUTE: apply_attribute(st, it); break;
    case INGEST_STATUS: apply_status(st, it); break;
    case INGEST_REPLY: it->err = OSAP_OK; break;
    }
    /* A record the database refuses (device removed, value out of limits) fails
     * alone; anything else means the transaction cannot go on. */
    switch (it->err) {
    case OSAP_OK:
    case OSAP_ENOTFOUND:
    case OSAP_EINVAL:
    case OSAP_EEXISTS: return OSAP_OK;
    default: return it->err;
    }
}
