/*
 * The device handle: configuration, lifecycle, the step loop that drives the
 * phases (LBS, DAS registration, online, stop), the descriptor to poll, state
 * and counters.
 */
#include "device_internal.h"

#include "osap/alloc.h"

#include <stdio.h>
#include <string.h>

#define ALIGN16(n)       (((n) + 15u) & ~(size_t)15u)
#define MESSAGE_LIMIT    (1u << 20)
#define INFLIGHT_DEFAULT 8
#define STEP_ROUNDS      16

/* ------------------------------------------------------------------------ */
/* Configuration                                                            */
/* ------------------------------------------------------------------------ */

static size_t message_max_of(const struct osap_device_config *cfg)
{
    return cfg && cfg->message_max ? cfg->message_max : DEV_MESSAGE_MAX_DEFAULT;
}

size_t osap_device_size(const struct osap_device_config *cfg)
{
    size_t m = message_max_of(cfg);

    if (m < DEV_MESSAGE_MIN || m > MESSAGE_LIMIT) return 0;
    return ALIGN16(sizeof(struct osap_device)) + 4 * ALIGN16(m);
}

static int text_ok(const char *s, size_t max, int required)
{
    size_t n;

    if (!s) return !required;
    n = strnlen(s, max + 1);
    return n <= max && (n > 0 || !required);
}

static osap_err check_port(const struct osap_device_port *p)
{
    if (!p || !p->now_ms || !p->wall_ms || !p->random || !p->tcp_connect || !p->tcp_check ||
        !p->tcp_read || !p->tcp_write || !p->tcp_close || !p->kv_get || !p->kv_set || !p->kv_del ||
        !p->file_open || !p->file_size || !p->file_read || !p->file_append || !p->file_truncate ||
        !p->file_sync || !p->file_rename || !p->file_close)
        return OSAP_EINVAL;
    return OSAP_OK;
}

static osap_err check_config(const struct osap_device_config *cfg)
{
    if (!cfg) return OSAP_EINVAL;
    if (check_port(cfg->port)) return OSAP_EINVAL;
    if (!text_ok(cfg->lbs_host, DEV_HOST_MAX, 1) || !text_ok(cfg->lbs_domain, DEV_HOST_MAX, 0))
        return OSAP_ECONFIG;
    if (cfg->auth_mode != OSAP_LBS_AUTH_MODE_SAP && cfg->auth_mode != OSAP_LBS_AUTH_MODE_LICENCE)
        return OSAP_ECONFIG;
    if (!text_ok(cfg->subserial, OSAP_SUBSERIAL_MAX, 1) || !text_ok(cfg->vcode, OSAP_VCODE_MAX, 1))
        return OSAP_ECONFIG;
    for (const char *p = cfg->subserial; *p; p++)
        if ((unsigned char)*p < 0x21 || *p == '/' || *p == '+' || *p == '#' || *p == 0x7F)
            return OSAP_ECONFIG;
    if (!text_ok(cfg->dev_type, DEV_TEXT_MAX, 0) ||
        !text_ok(cfg->dev_type_display, DEV_TEXT_MAX, 0) ||
        !text_ok(cfg->firmware_version, DEV_TEXT_MAX, 0) || !text_ok(cfg->mac, DEV_TEXT_MAX, 0))
        return OSAP_ECONFIG;
    if (osap_device_size(cfg) == 0) return OSAP_ECONFIG;
    if (cfg->queue.inflight_max > OSAP_DEVICE_INFLIGHT_MAX) return OSAP_ECONFIG;
    if (cfg->queue.file_name && !text_ok(cfg->queue.file_name, 59, 1)) return OSAP_ECONFIG;
    if (cfg->queue.when_full != OSAP_DEVICE_QUEUE_DROP_OLDEST &&
        cfg->queue.when_full != OSAP_DEVICE_QUEUE_REFUSE_NEW)
        return OSAP_ECONFIG;
    if (cfg->queue.fsync != OSAP_DEVICE_FSYNC_ALWAYS &&
        cfg->queue.fsync != OSAP_DEVICE_FSYNC_INTERVAL &&
        cfg->queue.fsync != OSAP_DEVICE_FSYNC_NEVER)
        return OSAP_ECONFIG;
    if (cfg->test && cfg->test->ecdh &&
        (!cfg->test->ecdh->public_key || !cfg->test->ecdh->master_key))
        return OSAP_EINVAL;
    return OSAP_OK;
}

static osap_err port_random(void *ud, uint8_t *buf, size_t len)
{
    struct osap_device *dev = ud;
    return dev->port.random(dev->port.ctx, buf, len);
}

static void setup(struct osap_device *dev, const struct osap_device_config *cfg)
{
    size_t m = message_max_of(cfg);
    uint8_t *base = (uint8_t *)dev + ALIGN16(sizeof(*dev));

    dev->port = *cfg->port;
    dev->cb = cfg->cb;
    dev->userdata = cfg->userdata;
    snprintf(dev->lbs_host, sizeof(dev->lbs_host), "%s", cfg->lbs_host);
    dev->lbs_port = cfg->lbs_port ? cfg->lbs_port : OSAP_LBS_DEFAULT_PORT;
    snprintf(dev->lbs_domain, sizeof(dev->lbs_domain), "%s",
             cfg->lbs_domain ? cfg->lbs_domain : cfg->lbs_host);
    dev->auth_mode = cfg->auth_mode;
    snprintf(dev->subserial, sizeof(dev->subserial), "%s", cfg->subserial);
    snprintf(dev->vcode, sizeof(dev->vcode), "%s", cfg->vcode);
    snprintf(dev->dev_type, sizeof(dev->dev_type), "%s", cfg->dev_type ? cfg->dev_type : "");
    snprintf(dev->dev_type_display, sizeof(dev->dev_type_display), "%s",
             cfg->dev_type_display ? cfg->dev_type_display : "");
    snprintf(dev->firmware_version, sizeof(dev->firmware_version), "%s",
             cfg->firmware_version ? cfg->firmware_version : "");
    snprintf(dev->mac, sizeof(dev->mac), "%s", cfg->mac ? cfg->mac : "");
    dev->keepalive_s = cfg->keepalive_s ? cfg->keepalive_s : OSAP_DEVICE_KEEPALIVE;
    dev->lbs_timeout_ms = cfg->lbs_timeout_ms ? cfg->lbs_timeout_ms : DEV_LBS_TIMEOUT_MS;
    dev->mqtt_timeout_ms = cfg->mqtt_timeout_ms ? cfg->mqtt_timeout_ms : DEV_MQTT_TIMEOUT_MS;
    dev->connect_timeout_ms =
        cfg->connect_timeout_ms ? cfg->connect_timeout_ms : DEV_CONNECT_TIMEOUT_MS;
    dev->ack_timeout_ms = cfg->ack_timeout_ms ? cfg->ack_timeout_ms : DEV_ACK_TIMEOUT_MS;
    dev->inflight_events_max = cfg->queue.inflight_max ? cfg->queue.inflight_max : INFLIGHT_DEFAULT;
    dev->qcfg = cfg->queue;
    snprintf(dev->queue_file, sizeof(dev->queue_file), "%s",
             cfg->queue.file_name ? cfg->queue.file_name : "events.q");
    dev->qcfg.file_name = dev->queue_file;
    if (cfg->test && cfg->test->ecdh) {
        dev->test_ecdh = *cfg->test->ecdh;
        dev->has_test_ecdh = 1;
    }
    dev->rng.fill = port_random;
    dev->rng.userdata = dev;
    dev->message_max = m;
    dev->rx = base;
    dev->tx = base + ALIGN16(m);
    dev->tx_cap = 2 * ALIGN16(m);
    dev->work = base + 3 * ALIGN16(m);
    dev->conn.sock = -1;
    dev->seq = 1;
    dev->phase = PH_IDLE;
    dev->state = OSAP_DEVICE_STOPPED;
    dev->stats.state = OSAP_DEVICE_STOPPED;
}

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                */
/* ------------------------------------------------------------------------ */

osap_err osap_device_init(void *mem, size_t size, const struct osap_device_config *cfg,
                          osap_device_t **out)
{
    struct osap_device *dev = mem;
    osap_err err;

    if (!mem || !out) return OSAP_EINVAL;
    err = check_config(cfg);
    if (err) return err;
    if (size < osap_device_size(cfg)) return OSAP_EBUFSIZE;
    if ((uintptr_t)mem % 16) return OSAP_EINVAL;
    memset(dev, 0, sizeof(*dev));
    setup(dev, cfg);
    *out = dev;
    return OSAP_OK;
}

osap_err osap_device_new(const struct osap_device_config *cfg, osap_device_t **out)
{
    osap_err err;
    void *mem;
    size_t size;

    if (!out) return OSAP_EINVAL;
    err = check_config(cfg);
    if (err) return err;
    size = osap_device_size(cfg);
    mem = osap_malloc(size);
    if (!mem) return OSAP_ENOMEM;
    err = osap_device_init(mem, size, cfg, out);
    if (err) {
        osap_free(mem);
        return err;
    }
    (*out)->heap = 1;
    return OSAP_OK;
}

static void teardown(struct osap_device *dev)
{
    osap__conn_close(dev);
    if (dev->queue_open) osap__queue_close(&dev->queue);
    dev->queue_open = 0;
    osap_lbs_client_free(dev->lbs);
    dev->lbs = NULL;
    osap__biz_free(dev);
    osap_cleanse(dev->session_key, sizeof(dev->session_key));
    osap_cleanse(dev->master_key, sizeof(dev->master_key));
    osap_cleanse(dev->work, dev->message_max);
    osap_cleanse(dev->rx, dev->message_max);
}

void osap_device_free(osap_device_t *dev)
{
    if (!dev) return;
    teardown(dev);
    if (dev->heap) osap_free(dev);
}

void osap_device_release(osap_device_t *dev)
{
    if (!dev) return;
    teardown(dev);
}

/* ------------------------------------------------------------------------ */
/* Locking, state                                                           */
/* ------------------------------------------------------------------------ */

void osap__dev_lock(struct osap_device *dev)
{
    if (dev->threaded && dev->port.lock) dev->port.lock(dev->port.ctx);
}

void osap__dev_unlock(struct osap_device *dev)
{
    if (dev->threaded && dev->port.unlock) dev->port.unlock(dev->port.ctx);
}

void osap__dev_kick(struct osap_device *dev)
{
    if (dev->threaded && dev->port.wake) dev->port.wake(dev->port.ctx);
}

void osap__dev_wake_at(struct osap_device *dev, uint64_t t)
{
    if (t < dev->wake) dev->wake = t;
}

void osap__dev_set_state(struct osap_device *dev, enum osap_device_state st, osap_err reason)
{
    if (dev->state == st) return;
    dev->state = st;
    dev->stats.state = st;
    if (dev->cb.state_changed) dev->cb.state_changed(dev->userdata, st, reason);
}

const char *osap_device_state_name(enum osap_device_state state)
{
    switch (state) {
    case OSAP_DEVICE_STOPPED: return "stopped";
    case OSAP_DEVICE_LBS: return "lbs";
    case OSAP_DEVICE_REGISTERING: return "registering";
    case OSAP_DEVICE_ONLINE: return "online";
    case OSAP_DEVICE_RECONNECTING: return "reconnecting";
    case OSAP_DEVICE_BLOCKED: return "blocked";
    }
    return "unknown";
}

enum osap_device_state osap_device_state(const osap_device_t *dev)
{
    struct osap_device *d = (struct osap_device *)dev;
    enum osap_device_state st;

    if (!dev) return OSAP_DEVICE_STOPPED;
    osap__dev_lock(d);
    st = d->state;
    osap__dev_unlock(d);
    return st;
}

void osap_device_stats(const osap_device_t *dev, struct osap_device_stats *out)
{
    struct osap_device *d = (struct osap_device *)dev;

    if (!dev || !out) return;
    osap__dev_lock(d);
    *out = d->stats;
    out->events_queued = d->queue_open ? d->queue.count : 0;
    out->queue_bytes = d->queue_open ? d->queue.file_size : 0;
    osap__dev_unlock(d);
}

osap_err osap_device_das(const osap_device_t *dev, struct osap_lbs_das_info *out)
{
    struct osap_device *d = (struct osap_device *)dev;
    osap_err err = OSAP_ESTATE;

    if (!dev || !out) return OSAP_EINVAL;
    osap__dev_lock(d);
    if (d->has_das) {
        *out = d->das;
        err = OSAP_OK;
    }
    osap__dev_unlock(d);
    return err;
}

/* ------------------------------------------------------------------------ */
/* Start, stop, step                                                        */
/* ------------------------------------------------------------------------ */

osap_err osap_device_start(osap_device_t *dev)
{
    osap_err err;

    if (!dev) return OSAP_EINVAL;
    osap__dev_lock(dev);
    err = OSAP_ESTATE;
    if (dev->phase != PH_IDLE && dev->phase != PH_STOPPED && dev->phase != PH_BLOCKED) goto out;
    dev->now = dev->port.now_ms(dev->port.ctx);
    if (!dev->lbs) {
        err = osap__lbs_load_keys(dev);
        if (err) goto out;
    }
    if (!dev->queue_open) {
        err = osap__queue_open(&dev->queue, &dev->port, &dev->qcfg, dev->message_max);
        if (err) goto out;
        dev->queue_open = 1;
    }
    dev->stop_requested = 0;
    dev->lbs_fail_n = dev->das_fail_n = dev->light_fail_n = 0;
    osap__lbs_schedule(dev, 0);
    osap__dev_kick(dev);
    err = OSAP_OK;
out:
    osap__dev_unlock(dev);
    return err;
}

osap_err osap_device_stop(osap_device_t *dev)
{
    if (!dev) return OSAP_EINVAL;
    osap__dev_lock(dev);
    dev->now = dev->port.now_ms(dev->port.ctx);
    dev->stop_requested = 1;
    if (dev->phase == PH_ONLINE) {
        osap__das_begin_stop(dev);
    } else if (dev->phase != PH_STOPPING && dev->phase != PH_IDLE) {
        osap__conn_close(dev);
        osap__biz_on_offline(dev);
        dev->phase = PH_STOPPED;
        osap__dev_set_state(dev, OSAP_DEVICE_STOPPED, OSAP_OK);
    }
    osap__dev_kick(dev);
    osap__dev_unlock(dev);
    return OSAP_OK;
}

osap_err osap_device_step(osap_device_t *dev, uint64_t *next_wakeup_ms)
{
    osap_err err = OSAP_OK, e;

    if (!dev) return OSAP_EINVAL;
    osap__dev_lock(dev);
    dev->now = dev->port.now_ms(dev->port.ctx);
    dev->wake = OSAP_DEVICE_NEVER;
    for (int round = 0; round < STEP_ROUNDS; round++) {
        enum dev_phase before = dev->phase;

        dev->wake = OSAP_DEVICE_NEVER;
        switch (dev->phase) {
        case PH_LBS_WAIT:
        case PH_LBS_CONNECT:
        case PH_LBS_XCHG: e = osap__lbs_step(dev); break;
        case PH_DAS_WAIT:
        case PH_DAS_CONNECT:
        case PH_DAS_CONNACK:
        case PH_DAS_SUBACK:
        case PH_ONLINE:
        case PH_STOPPING: e = osap__das_step(dev); break;
        default: e = OSAP_OK; break;
        }
        if (e && !err) err = e;
        if (dev->phase == before) break;
    }
    if (dev->queue_open) osap__dev_wake_at(dev, osap__queue_tick(&dev->queue, dev->now));
    if (next_wakeup_ms) *next_wakeup_ms = dev->wake;
    osap__dev_unlock(dev);
    return err;
}

int osap_device_fd(const osap_device_t *dev, unsigned *events)
{
    const struct osap_device *d = dev;
    unsigned ev = 0;
    int fd;

    if (events) *events = 0;
    if (!d || !d->conn.open || !d->port.tcp_fd) return -1;
    fd = d->port.tcp_fd(d->port.ctx, d->conn.sock);
    if (!d->conn.connected) {
        ev = OSAP_DEVICE_POLLOUT;
    } else {
        if (osap__conn_pending(d)) ev |= OSAP_DEVICE_POLLOUT;
        /* no reading while the answers would not fit (backpressure) */
        if (osap__conn_room(d) >= d->message_max || d->phase == PH_LBS_XCHG)
            ev |= OSAP_DEVICE_POLLIN;
    }
    if (events) *events = ev;
    return fd;
}
