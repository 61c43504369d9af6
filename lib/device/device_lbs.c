/*
 * The LBS phase of the device (wire spec 4, 5): one TCP connection per attempt,
 * the frames produced and checked by the handshake machine of libosap
 * (osap_lbs_client_t), the share-key retry on result 1, back-off on failure, and
 * persistence of devid and master key only after a valid 0xB.
 */
#include "device_internal.h"

#include "osap/lbs.h"

#include <string.h>

#define KV_DEVID      "devid"
#define KV_MASTER_KEY "masterkey"

osap_err osap__lbs_load_keys(struct osap_device *dev)
{
    uint8_t buf[OSAP_DEVID_LEN + 1];
    size_t len = 0;
    osap_err err;

    dev->has_devid = dev->has_master_key = 0;
    err = dev->port.kv_get(dev->port.ctx, KV_DEVID, buf, sizeof(buf), &len);
    if (err == OSAP_OK && len == OSAP_DEVID_LEN && !memchr(buf, '\0', len)) {
        memcpy(dev->devid, buf, OSAP_DEVID_LEN);
        dev->has_devid = 1;
    } else if (err != OSAP_OK && err != OSAP_ENOTFOUND && err != OSAP_EBUFSIZE) {
        return err;
    }
    err = dev->port.kv_get(dev->port.ctx, KV_MASTER_KEY, buf, sizeof(buf), &len);
    if (err == OSAP_OK && len == OSAP_MASTER_KEY_LEN) {
        memcpy(dev->master_key, buf, OSAP_MASTER_KEY_LEN);
        dev->has_master_key = 1;
    } else if (err != OSAP_OK && err != OSAP_ENOTFOUND && err != OSAP_EBUFSIZE) {
        return err;
    }
    osap_cleanse(buf, sizeof(buf));
    return OSAP_OK;
}

void osap__lbs_forget_master_key(struct osap_device *dev)
{
    dev->has_master_key = 0;
    osap_cleanse(dev->master_key, sizeof(dev->master_key));
    if (dev->lbs) osap_lbs_client_forget(dev->lbs, OSAP_LBS_FORGET_MASTER_KEY);
}

void osap__lbs_schedule(struct osap_device *dev, uint64_t delay_ms)
{
    osap__conn_close(dev);
    dev->phase = PH_LBS_WAIT;
    dev->t_due = dev->now + delay_ms;
    osap__dev_set_state(dev, OSAP_DEVICE_LBS, dev->stats.last_error);
}

static osap_err client_ensure(struct osap_device *dev)
{
    struct osap_lbs_client_config cfg;

    if (dev->lbs) return OSAP_OK;
    memset(&cfg, 0, sizeof(cfg));
    cfg.auth_mode = dev->auth_mode;
    cfg.subserial = dev->subserial;
    cfg.vcode = dev->vcode;
    cfg.devid = dev->has_devid ? dev->devid : NULL;
    cfg.master_key = dev->has_master_key ? dev->master_key : NULL;
    cfg.das_mode = 0;
    cfg.rng = &dev->rng;
    cfg.ecdh = dev->has_test_ecdh ? &dev->test_ecdh : NULL;
    cfg.max_frame = dev->message_max;
    return osap_lbs_client_new(&cfg, &dev->lbs);
}

/* A failed attempt: wait 2 s x n before the next one. */
static void attempt_failed(struct osap_device *dev, osap_err why, int connect_failure)
{
    dev->stats.lbs_failures++;
    dev->stats.last_error = why ? why : OSAP_EIO;
    if (connect_failure)
        dev->lbs_fail_n = 1;
    else if (dev->lbs_fail_n < DEV_LBS_FAIL_CAP)
        dev->lbs_fail_n++;
    osap__lbs_schedule(dev, osap__backoff_lbs_ms(dev->lbs_fail_n));
}

static osap_err persist(struct osap_device *dev, const struct osap_lbs_client_result *r)
{
    osap_err err = OSAP_OK, e;

    if (!dev->has_devid || memcmp(dev->devid, r->devid, OSAP_DEVID_LEN) != 0) {
        e = dev->port.kv_set(dev->port.ctx, KV_DEVID, r->devid, OSAP_DEVID_LEN);
        if (e) err = e;
    }
    if (!dev->has_master_key || memcmp(dev->master_key, r->master_key, OSAP_MASTER_KEY_LEN) != 0) {
        e = dev->port.kv_set(dev->port.ctx, KV_MASTER_KEY, r->master_key, OSAP_MASTER_KEY_LEN);
        if (e) err = e;
    }
    memcpy(dev->devid, r->devid, OSAP_DEVID_LEN);
    dev->has_devid = 1;
    memcpy(dev->master_key, r->master_key, OSAP_MASTER_KEY_LEN);
    dev->has_master_key = 1;
    return err;
}

static osap_err succeeded(struct osap_device *dev)
{
    struct osap_lbs_client_result r;
    osap_err err = osap_lbs_client_result(dev->lbs, &r);

    if (err) return err;
    osap__conn_close(dev);
    err = persist(dev, &r);
    memcpy(dev->session_key, r.session_key, OSAP_SESSION_KEY_LEN);
    dev->das = r.das;
    dev->has_das = 1;
    dev->stats.last_path = r.path;
    dev->lbs_fail_n = 0;
    osap_cleanse(&r, sizeof(r));
    osap__das_schedule(dev, 0, 0, 0);
    return err;
}

static void attempt_start(struct osap_device *dev)
{
    osap_err err = client_ensure(dev);

    if (err) {
        attempt_failed(dev, err, 0);
        return;
    }
    dev->stats.lbs_attempts++;
    err = osap__conn_open(dev, dev->lbs_host, dev->lbs_port);
    if (err) {
        attempt_failed(dev, err, 1);
        return;
    }
    dev->phase = PH_LBS_CONNECT;
    dev->t_due = dev->now + dev->connect_timeout_ms;
}

static void connected(struct osap_device *dev)
{
    struct osap_lbs_step st;
    osap_err err = osap_lbs_client_begin(dev->lbs, &st);

    if (!err) err = osap__conn_send(dev, st.out, st.out_len);
    if (err) {
        attempt_failed(dev, err, 0);
        return;
    }
    dev->phase = PH_LBS_XCHG;
    dev->t_due = dev->now + dev->lbs_timeout_ms;
}

/* Feed every whole frame received. Returns 1 when the attempt ended. */
static int exchange(struct osap_device *dev, osap_err *step_err)
{
    for (;;) {
        struct osap_lbs_step st;
        size_t flen = 0;
        osap_err err = osap_lbs_frame_length(dev->rx, dev->conn.rx_len, dev->message_max, &flen);

        if (err == OSAP_ENEED_MORE) return 0;
        if (!err) err = osap_lbs_client_feed(dev->lbs, dev->rx, flen, &st);
        if (err) {
            attempt_failed(dev, err, 0);
            return 1;
        }
        osap__conn_consume(dev, flen);
        if (st.out_len) {
            err = osap__conn_send(dev, st.out, st.out_len);
            if (err) {
                attempt_failed(dev, err, 0);
                return 1;
            }
            dev->t_due = dev->now + dev->lbs_timeout_ms;
        }
        if (st.done) {
            *step_err = succeeded(dev);
            return 1;
        }
        if (st.close) {
            osap__conn_close(dev);
            dev->stats.last_error = st.err;
            if (st.retry_now) {
                /* result 1 on the upper-case share key: the lower case at once */
                dev->stats.lbs_failures++;
                osap__lbs_schedule(dev, 0);
            } else {
                attempt_failed(dev, st.err, 0);
            }
            return 1;
        }
    }
}

osap_err osap__lbs_step(struct osap_device *dev)
{
    osap_err err, fill_err, step_err = OSAP_OK;

    switch (dev->phase) {
    case PH_LBS_WAIT:
        if (dev->now < dev->t_due) {
            osap__dev_wake_at(dev, dev->t_due);
            return OSAP_OK;
        }
        attempt_start(dev);
        return OSAP_OK;
    case PH_LBS_CONNECT:
        err = osap__conn_check(dev);
        if (err == OSAP_ENEED_MORE) {
            if (dev->now >= dev->t_due)
                attempt_failed(dev, OSAP_ETIMEDOUT, 1);
            else
                osap__dev_wake_at(dev, dev->t_due);
            return OSAP_OK;
        }
        if (err) {
            attempt_failed(dev, err, 1);
            return OSAP_OK;
        }
        connected(dev);
        return OSAP_OK;
    case PH_LBS_XCHG:
        err = osap__conn_flush(dev);
        if (err) {
            attempt_failed(dev, err, 0);
            return OSAP_OK;
        }
        /* frames that arrived before the server closed are still handled */
        fill_err = osap__conn_fill(dev);
        if (exchange(dev, &step_err)) return step_err;
        err = fill_err ? fill_err : osap__conn_flush(dev);
        if (err) {
            attempt_failed(dev, err, 0);
            return OSAP_OK;
        }
        if (dev->now >= dev->t_due) {
            attempt_failed(dev, OSAP_ETIMEDOUT, 0);
            return OSAP_OK;
        }
        osap__dev_wake_at(dev, dev->t_due);
        return OSAP_OK;
    default: return OSAP_OK;
    }
}
