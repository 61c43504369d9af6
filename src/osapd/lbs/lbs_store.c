/*
 * The state machine's view of the platform: device lookup, devid allocation, the
 * commit of a successful handshake and the DAS choice, on the store handle of the
 * pool thread that runs the frame (conn->slot). Hooks (struct osapd_lbs_hooks)
 * replace the devid and DAS sources in tests.
 */
#include "lbs/lbs_internal.h"

#include "log.h"
#include "osap/crypto.h"
#include "util.h"

#include <string.h>

/* Attempts at a devid nobody holds before giving up (collisions of 128 random
 * bits do not happen; a second attempt already means a broken random source). */
#define DEVID_ATTEMPTS 4

static struct osap_store *store_of(struct lbs_conn *c)
{
    return c->slot ? c->slot->store : NULL;
}

static osap_err cb_lookup(void *ud, uint8_t auth_mode, const char *subserial,
                          struct osap_lbs_device *out)
{
    struct lbs_conn *c = ud;
    struct osap_store *st = store_of(c);
    struct osap_device *d = &c->dev;
    osap_err err;

    osap_str_copy(c->serial, sizeof(c->serial), subserial);
    if (!st) return OSAP_ESTORE;
    err = osap_store_device_get(st, subserial, d);
    if (err) return err;
    /* A device answers in the mode it was provisioned with; the other mode is
     * another identity, which the registry does not know. */
    if (auth_mode != OSAP_LBS_AUTH_MODE_ANY && (unsigned)auth_mode != (unsigned)d->auth_mode) {
        osap_cleanse(d->secret, sizeof(d->secret));
        return OSAP_ENOTFOUND;
    }
    memset(out, 0, sizeof(*out));
    memcpy(out->vcode, d->secret, sizeof(out->vcode));
    out->vcode[OSAP_VCODE_MAX] = '\0';
    osap_cleanse(d->secret, sizeof(d->secret));
    switch (d->share_key_case) {
    case OSAP_SHARE_KEY_CASE_UPPER: out->share_key_cases = OSAP_LBS_CASE_UPPER; break;
    case OSAP_SHARE_KEY_CASE_LOWER: out->share_key_cases = OSAP_LBS_CASE_LOWER; break;
    default: out->share_key_cases = OSAP_LBS_CASE_BOTH; break;
    }
    out->blocked = d->blocked;
    if (strlen(d->devid) == OSAP_DEVID_LEN) {
        out->has_devid = 1;
        memcpy(out->devid, d->devid, OSAP_DEVID_LEN);
    }
    if (strlen(d->master_key) == OSAP_MASTER_KEY_LEN) {
        out->has_master_key = 1;
        memcpy(out->master_key, d->master_key, OSAP_MASTER_KEY_LEN);
    }
    c->have_dev = true;
    return OSAP_OK;
}

static osap_err cb_allocate_devid(void *ud, const char *subserial, uint8_t devid[OSAP_DEVID_LEN])
{
    struct lbs_conn *c = ud;
    const struct osapd_lbs_hooks *h = &c->lbs->hooks;
    struct osap_store *st = store_of(c);
    struct osap_device other;
    uint8_t raw[OSAP_DEVID_LEN / 2];
    char text[OSAP_DEVID_LEN + 1];
    osap_err err;

    if (h->allocate_devid) return h->allocate_devid(h->userdata, subserial, devid);
    /* A known device keeps its devid, also through a factory reset (path A again). */
    if (c->have_dev && strlen(c->dev.devid) == OSAP_DEVID_LEN) {
        memcpy(devid, c->dev.devid, OSAP_DEVID_LEN);
        return OSAP_OK;
    }
    if (!st) return OSAP_ESTORE;
    for (int i = 0; i < DEVID_ATTEMPTS; i++) {
        err = osap_rng_fill(h->rng, raw, sizeof(raw));
        if (err) return err;
        osap_hex_upper(raw, sizeof(raw), text);
        text[OSAP_DEVID_LEN] = '\0';
        err = osap_store_device_get_by_devid(st, text, &other);
        osap_cleanse(other.secret, sizeof(other.secret));
        if (err == OSAP_ENOTFOUND) {
            memcpy(devid, text, OSAP_DEVID_LEN);
            return OSAP_OK;
        }
        if (err) return err;
        OSAP_LOGW(LBS_LOG, "devid collision for %s, drawing again", subserial);
    }
    return OSAP_ESERVER;
}

static void das_from_node(const struct osap_das_node *n, struct osap_lbs_das_info *out)
{
    memset(out, 0, sizeof(*out));
    osap_str_copy(out->address, sizeof(out->address), n->address);
    out->port = (uint16_t)n->port;
    out->udp_port = (uint16_t)n->udp_port;
    osap_str_copy(out->domain, sizeof(out->domain), n->domain);
    osap_str_copy(out->server_id, sizeof(out->server_id), n->id);
}

/* The least-loaded healthy DAS node, into c->das. */
static osap_err pick_das(struct lbs_conn *c, struct osap_store *st)
{
    struct osap_das_node node;
    int64_t since = osap_time_now_ms() - c->lbs->cfg->das_node_timeout_ms;
    osap_err err = osap_store_das_node_pick(st, since, &node);

    if (err) return err;
    if (node.port < 1 || node.port > 65535 || node.udp_port < 0 || node.udp_port > 65535)
        return OSAP_EINVAL;
    das_from_node(&node, &c->das);
    osap_str_copy(c->das_node, sizeof(c->das_node), node.id);
    c->have_das = true;
    return OSAP_OK;
}

static osap_err cb_commit(void *ud, const struct osap_lbs_commit *lc)
{
    struct lbs_conn *c = ud;
    struct osapd_lbs *lbs = c->lbs;
    struct osap_store *st = store_of(c);
    struct osap_lbs_record rec;
    char master_key[OSAP_MASTER_KEY_LEN + 1];
    osap_err err;

    c->path = (uint8_t)lc->path;
    if (!st) return OSAP_ESTORE;
    /* The DAS is chosen now so that the session records it; none healthy is
     * answered at 0xA (result 9), as is a store that cannot say. */
    if (!lbs->hooks.das_info) {
        err = pick_das(c, st);
        if (err && err != OSAP_ENOTFOUND)
            OSAP_LOGW(LBS_LOG, "cannot choose a DAS node: %s", osap_strerror(err));
    }
    memset(&rec, 0, sizeof(rec));
    rec.set_keys = lc->path != OSAP_LBS_PATH_C;
    memcpy(master_key, lc->master_key, OSAP_MASTER_KEY_LEN);
    master_key[OSAP_MASTER_KEY_LEN] = '\0';
    rec.master_key = master_key;
    rec.share_case = lc->share_key_case == OSAP_LBS_CASE_LOWER   ? OSAP_SHARE_KEY_CASE_LOWER
                     : lc->share_key_case == OSAP_LBS_CASE_UPPER ? OSAP_SHARE_KEY_CASE_UPPER
                                                                 : OSAP_SHARE_KEY_CASE_UNKNOWN;
    osap_str_copy(rec.session.serial, sizeof(rec.session.serial), lc->subserial);
    memcpy(rec.session.devid, lc->devid, OSAP_DEVID_LEN);
    rec.session.devid[OSAP_DEVID_LEN] = '\0';
    memcpy(rec.session.session_key, lc->session_key, OSAP_SESSION_KEY_LEN);
    rec.session.issued_at = osap_time_now_ms();
    osap_str_copy(rec.session.das_node, sizeof(rec.session.das_node), c->das_node);

    /* One LBS writer at a time: pool threads wait on the mutex rather than in
     * SQLite's busy handler (which sleeps in steps of milliseconds). */
    pthread_mutex_lock(&lbs->commit_mu);
    err = osap_store_lbs_commit(st, &rec);
    pthread_mutex_unlock(&lbs->commit_mu);
    osap_cleanse(&rec, sizeof(rec));
    osap_cleanse(master_key, sizeof(master_key));
    if (err)
        OSAP_LOGW(LBS_LOG, "cannot store the session of %s: %s", lc->subserial, osap_strerror(err));
    return err;
}

static osap_err cb_das_info(void *ud, const char *subserial, struct osap_lbs_das_info *out)
{
    struct lbs_conn *c = ud;
    const struct osapd_lbs_hooks *h = &c->lbs->hooks;
    struct osap_store *st = store_of(c);
    osap_err err;

    if (h->das_info) return h->das_info(h->userdata, subserial, out);
    if (!c->have_das) {
        /* None was healthy at the commit; one may have come up since. */
        if (!st) return OSAP_ESTORE;
        err = pick_das(c, st);
        if (err) return err;
    }
    *out = c->das;
    return OSAP_OK;
}

static osap_err cb_key_acquire(void *ud, osap_p384_key **key)
{
    struct lbs_conn *c = ud;
    const struct osapd_lbs_hooks *h = &c->lbs->hooks;

    if (h->key_acquire) return h->key_acquire(h->userdata, key);
    return lbs_keys_acquire(c->lbs->keys, key);
}

static void cb_key_release(void *ud, osap_p384_key *key)
{
    struct lbs_conn *c = ud;
    const struct osapd_lbs_hooks *h = &c->lbs->hooks;

    if (h->key_acquire) {
        if (h->key_release) h->key_release(h->userdata, key);
        return;
    }
    lbs_keys_release(c->lbs->keys, key);
}

void lbs_store_callbacks(const struct osapd_lbs *lbs, struct osap_lbs_server_callbacks *cb)
{
    (void)lbs;
    memset(cb, 0, sizeof(*cb));
    cb->lookup = cb_lookup;
    cb->allocate_devid = cb_allocate_devid;
    cb->commit = cb_commit;
    cb->das_info = cb_das_info;
    cb->key_acquire = cb_key_acquire;
    cb->key_release = cb_key_release;
}
