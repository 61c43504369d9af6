/* CONNECT of an OSAP device -> the verdict (spec 6.2-6.4).
 *
 * A CONNECT is a device's when its will topic is /Basic/pu2cenplt/<sn>/firstconnect
 * or .../breakconnect (the codec already stripped the NUL padding) and it has a
 * user name; anything else is an ordinary MQTT client. The device is authenticated
 * by its registration record, the will message: decrypted with the session key the
 * LBS issued for the serial, it must name the same serial and the devid on record.
 *
 *   CONNACK  when
 *   0        accepted (full registration: clean session 1; light: clean session 0)
 *   3        the store cannot be read (the device retries)
 *   5        user name, will-topic serial and SubSerial disagree, or the user name
 *            is not a valid serial
 *   10       the device is blocked
 *   11       no such device or no session, the session key does not decrypt the
 *            registration, the record is malformed, or its DeviceID is not the devid
 *            of the session (the device goes back to the LBS)
 *   12       a full registration while the device still has a live connection (the
 *            device then registers light, which takes the connection over)
 *
 * The password (always "test") is ignored. A light registration that finds no
 * broker session (osapd restarted) gets its two standard subscriptions back. */
#include "das/device_internal.h"

#include "log.h"
#include "osap/alloc.h"
#include "osap/crypto.h"
#include "osap/devjson.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* The serial inside a device will topic, or false when it is not one. */
static bool will_serial(const struct osap_mqtt_str *topic, const char **sn, size_t *len)
{
    size_t plen = strlen(OSAP_WILL_TOPIC_PREFIX);
    const char *p = topic->ptr, *end = topic->ptr + topic->len, *slash;
    size_t rest;

    if (topic->len <= plen || memcmp(p, OSAP_WILL_TOPIC_PREFIX, plen) != 0) return false;
    p += plen;
    slash = memchr(p, '/', (size_t)(end - p));
    if (!slash || slash == p) return false;
    rest = (size_t)(end - slash - 1);
    if (!(rest == strlen(OSAP_WILL_FIRSTCONNECT) &&
          memcmp(slash + 1, OSAP_WILL_FIRSTCONNECT, rest) == 0) &&
        !(rest == strlen(OSAP_WILL_BREAKCONNECT) &&
          memcmp(slash + 1, OSAP_WILL_BREAKCONNECT, rest) == 0))
        return false;
    *sn = p;
    *len = (size_t)(slash - p);
    return true;
}

/* Check the registration against the store; fills @p dev's key, @p reg, and the
 * device's @p model and @p dev_type as the store has them. */
static uint8_t authenticate(struct device_worker *dw, struct das_conn *c,
                            const struct osap_mqtt_connect *pkt, const char *serial,
                            struct osap_reg_info *reg, uint8_t key[OSAP_SESSION_KEY_LEN],
                            char model[OSAP_DEVICE_MODEL_MAX + 1],
                            char dev_type[OSAP_DEVICE_MODEL_MAX + 1])
{
    struct osap_store *st = das_worker_store(dw->w);
    struct osap_device device;
    struct osap_session session;
    size_t plain_len = 0;
    uint8_t *plain;
    uint8_t code = OSAP_CONNACK_SESSION_INVALID;
    osap_err err;

    err = osap_store_device_get(st, serial, &device);
    if (err == OSAP_ENOTFOUND) {
        OSAP_LOGI(DEVICE_LOG, "device %s from %s: unknown serial", serial, das_conn_peer(c));
        return OSAP_CONNACK_SESSION_INVALID;
    }
    if (err) return OSAP_CONNACK_UNAVAILABLE;
    if (device.blocked) {
        OSAP_LOGI(DEVICE_LOG, "device %s from %s: blocked", serial, das_conn_peer(c));
        return OSAP_CONNACK_DEVICE_BLOCKED;
    }
    err = osap_store_session_get(st, serial, &session);
    if (err == OSAP_ENOTFOUND) {
        OSAP_LOGI(DEVICE_LOG, "device %s from %s: no session", serial, das_conn_peer(c));
        return OSAP_CONNACK_SESSION_INVALID;
    }
    if (err) return OSAP_CONNACK_UNAVAILABLE;

    plain = device_scratch(dw, pkt->will_message.len + 1);
    if (!plain) {
        code = OSAP_CONNACK_UNAVAILABLE;
        goto out;
    }
    if (pkt->will_message.len > OSAP_REG_JSON_MAX + 16 ||
        osap_cbc_ez_decrypt(session.session_key, pkt->will_message.ptr, pkt->will_message.len,
                            plain, pkt->will_message.len, &plain_len) != OSAP_OK) {
        OSAP_LOGI(DEVICE_LOG, "device %s from %s: registration not decryptable with its session",
                  serial, das_conn_peer(c));
        goto out;
    }
    err = osap_reg_json_parse((const char *)plain, plain_len, reg);
    osap_cleanse(plain, plain_len);
    if (err) {
        OSAP_LOGI(DEVICE_LOG, "device %s from %s: malformed registration (%s)", serial,
                  das_conn_peer(c), osap_strerror(err));
        code = err == OSAP_ENOMEM ? OSAP_CONNACK_UNAVAILABLE : OSAP_CONNACK_SESSION_INVALID;
        goto out;
    }
    if (strcmp(reg->sub_serial, serial) != 0) {
        OSAP_LOGI(DEVICE_LOG, "device %s from %s: registration names SubSerial %s", serial,
                  das_conn_peer(c), reg->sub_serial);
        code = OSAP_CONNACK_NOT_AUTHORIZED;
        goto out;
    }
    if (strlen(reg->device_id) != strlen(session.devid) ||
        !osap_ct_equal(reg->device_id, session.devid, strlen(session.devid))) {
        OSAP_LOGI(DEVICE_LOG, "device %s from %s: DeviceID is not the devid of its session", serial,
                  das_conn_peer(c));
        goto out;
    }
    memcpy(key, session.session_key, OSAP_SESSION_KEY_LEN);
    memcpy(model, device.model, sizeof(device.model));
    memcpy(dev_type, device.dev_type, sizeof(device.dev_type));
    code = OSAP_CONNACK_ACCEPTED;
out:
    osap_cleanse(&session, sizeof(session));
    return code;
}

void device_on_connect(void *ud, struct das_conn *c, const struct osap_mqtt_connect *pkt,
                       struct das_connect_verdict *verdict)
{
    struct device_layer *l = ud;
    struct device_worker *dw = device_worker_of(l, das_conn_worker(c));
    struct osap_reg_info *reg = NULL;
    struct device_entry *entry;
    struct device *dev = NULL, *old;
    char serial[OSAP_SUBSERIAL_MAX + 1], model[OSAP_DEVICE_MODEL_MAX + 1] = "";
    char dev_type[OSAP_DEVICE_MODEL_MAX + 1] = "";
    uint8_t key[OSAP_SESSION_KEY_LEN];
    const char *wsn;
    size_t wlen;
    int64_t now;

    if (!pkt->has_username || !pkt->will || !will_serial(&pkt->will_topic, &wsn, &wlen)) {
        verdict->is_device = 0; /* an ordinary MQTT client */
        return;
    }
    verdict->is_device = 1;
    verdict->connack_code = OSAP_CONNACK_NOT_AUTHORIZED;
    if (pkt->username.len == 0 || pkt->username.len > OSAP_SUBSERIAL_MAX ||
        wlen != pkt->username.len || memcmp(wsn, pkt->username.ptr, wlen) != 0) {
        OSAP_LOGI(DEVICE_LOG, "device CONNECT from %s: user name and will topic disagree",
                  das_conn_peer(c));
        goto refused;
    }
    memcpy(serial, pkt->username.ptr, pkt->username.len);
    serial[pkt->username.len] = '\0';
    if (!osap_serial_valid(serial)) goto refused;
    if (!dw) {
        verdict->connack_code = OSAP_CONNACK_UNAVAILABLE;
        goto refused;
    }
    reg = osap_malloc(sizeof(*reg));
    if (!reg) {
        verdict->connack_code = OSAP_CONNACK_UNAVAILABLE;
        goto refused;
    }
    verdict->connack_code = authenticate(dw, c, pkt, serial, reg, key, model, dev_type);
    if (verdict->connack_code != OSAP_CONNACK_ACCEPTED) goto refused;

    entry = device_registry_entry(dw, serial, pkt->username.len, true);
    dev = osap_calloc(1, sizeof(*dev));
    if (!entry || !dev) {
        verdict->connack_code = OSAP_CONNACK_UNAVAILABLE;
        goto refused;
    }
    old = entry->dev;
    if (old && pkt->clean_session) {
        OSAP_LOGI(DEVICE_LOG, "device %s: full registration from %s while connected from %s",
                  serial, das_conn_peer(c), old->address);
        verdict->connack_code = OSAP_CONNACK_SESSION_EXISTS;
        goto refused;
    }

    now = osap_time_now_ms();
    dev->dw = dw;
    dev->entry = entry;
    dev->conn = c;
    memcpy(dev->key, key, sizeof(key));
    dev->full = pkt->clean_session;
    dev->connected_at = now;
    osap_str_copy(dev->address, sizeof(dev->address), das_conn_peer(c));
    memcpy(dev->serial, serial, pkt->username.len + 1);
    dev->serial_len = pkt->username.len;
    /* A light registration carries no DevType: the one of the last full one then (as
     * this worker saw it: the store may not have it yet). */
    device_model_set(dev, model, device_registry_dev_type(entry, reg->dev_type, dev_type));
    /* A full registration starts a new SDK session on the device (its Seq restarts
     * at 1); a light one continues the last. */
    if (dev->full) entry->session_since = now;
    if (old) {
        /* The light registration takes the live connection over: the broker closes
         * it after this hook; it must not report the device offline then. */
        old->replaced = true;
        device_republish_status(dw, serial, dev->serial_len, false, "replaced");
    }
    entry->dev = dev;
    OSAP_LOGI(DEVICE_LOG, "device %s online from %s (%s registration%s)", serial, dev->address,
              dev->full ? "full" : "light", old ? ", takes over" : "");
    device_registry_online(dev, reg->firmware_version, reg->dev_type);
    if (!dev->full) device_subscriptions_restore(dev);

    verdict->connack_code = OSAP_CONNACK_ACCEPTED;
    /* A light registration continues a session: its subscriptions are kept by the
     * broker or restored above. */
    verdict->session_present = dev->full ? 0 : 1;
    verdict->device = dev;
    osap_cleanse(key, sizeof(key));
    osap_free(reg);
    return;
refused:
    device_count(&l->stats.refused_connects);
    osap_cleanse(key, sizeof(key));
    osap_free(dev);
    osap_free(reg);
}
