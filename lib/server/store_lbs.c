/* Store: the LBS's handshake commit and DAS node choice (see store_lbs.h). */
#include "store_lbs.h"

#include <string.h>

osap_err osap_store_lbs_commit(struct osap_store *st, const struct osap_lbs_record *rec)
{
    const struct osap_session *s;
    osap_err err;

    if (!st || !rec) return OSAP_EINVAL;
    s = &rec->session;
    if (!s->serial[0] || strlen(s->devid) != OSAP_DEVID_LEN) return OSAP_EINVAL;
    if (rec->set_keys && !rec->master_key) return OSAP_EINVAL;
    err = osap_store_begin(st);
    if (err) return err;
    if (rec->set_keys) {
        err = osap_store_device_set_keys(st, s->serial, s->devid, rec->master_key, rec->share_case);
        if (err) goto fail;
    }
    err = osap_store_session_put(st, s);
    if (err) goto fail;
    err = osap_store_commit(st);
    if (err) goto fail;
    return OSAP_OK;
fail:
    osap_store_rollback(st);
    return err;
}

osap_err osap_store_das_node_pick(struct osap_store *st, int64_t since, struct osap_das_node *out)
{
    struct osap_das_node node;
    size_t n = 0;
    osap_err err;

    if (!st || !out) return OSAP_EINVAL;
    err = osap_store_das_node_list(st, since, &node, 1, &n);
    if (err) return err;
    if (n == 0) return OSAP_ENOTFOUND;
    *out = node;
    return OSAP_OK;
}
