/* CONNECT: decide who the client is, move the connection to the worker that owns its
 * session, authenticate it, take over an older connection of the same session, and
 * answer CONNACK.
 *
 * Decoding: a CONNECT whose will topic starts with /Basic/pu2cenplt/ and that has a
 * user name is decoded in the codec's lenient device mode (NUL-padded will topic,
 * empty client id with clean session 0, spec 6.2) and judged by the device layer;
 * every other CONNECT strictly. A wrong protocol name or level gets CONNACK 1, an
 * empty client id with clean session 0 CONNACK 2, anything else malformed closes
 * the connection.
 *
 * Session keys and homes: the client id; for a device candidate its user name, the
 * serial (a candidate the device layer turns down is moved again by its client id). An ordinary
 * client with an empty client id and clean session 1 gets a generated id whose home is the worker
 * that read the CONNECT. */
#include "das/das_internal.h"

#include "log.h"
#include "osap/alloc.h"

#include <string.h>

static char *dup_str(const struct osap_mqtt_str *s)
{
    char *p = osap_malloc(s->len + 1);
    if (!p) return NULL;
    memcpy(p, s->ptr, s->len);
    p[s->len] = '\0';
    return p;
}

static bool device_candidate(const struct das *das, const struct das_conn *c,
                             const struct osap_mqtt_connect *cp)
{
    size_t n = strlen(OSAP_WILL_TOPIC_PREFIX);
    return das->have_hooks && !c->no_device && cp->has_username && cp->will &&
           cp->will_topic.len >= n && memcmp(cp->will_topic.ptr, OSAP_WILL_TOPIC_PREFIX, n) == 0;
}

/* Refuse with a CONNACK code when MQTT prescribes one; the caller closes. */
static osap_err decode_error(struct das_conn *c, osap_err err)
{
    if (err == OSAP_EMQTT_PROTO_NAME || err == OSAP_EMQTT_PROTO_LEVEL)
        das_send_connack(c, false, OSAP_CONNACK_BAD_PROTOCOL);
    else if (err == OSAP_EMQTT_CLIENT_ID)
        das_send_connack(c, false, OSAP_CONNACK_ID_REJECTED);
    return err;
}

/* True (and the connection marked for the move) when @p key belongs elsewhere. */
static bool must_move(struct das_conn *c, const struct osap_mqtt_str *key)
{
    uint32_t home = das_home_worker(c->w->das, key->ptr, key->len);
    if (home == c->w->index) return false;
    c->move_to = home;
    c->state = DAS_CONN_MOVING;
    return true;
}

/* Attach @p c to the session (@p kind, @p key), taking over an older connection. */
static osap_err attach_session(struct das_conn *c, int kind, const char *key, size_t len,
                               bool *present)
{
    struct das_worker *w = c->w;
    struct das_session *s = das_session_find(w, kind, key, len);
    osap_err err;

    if (s && s->conn) {
        struct das_conn *old = s->conn;
        OSAP_LOGI(DAS_LOG, "%s %s: new connection from %s takes over", kind ? "device" : "client",
                  s->key, das_conn_peer(c));
        /* The session continues with the new connection; the old one closes without
         * its will (as Mosquitto does on a take-over). */
        old->session = NULL;
        s->conn = NULL;
        das_conn_close_now(old, "taken over", true);
    }
    if (s && c->clean) {
        das_session_destroy(w, s);
        s = NULL;
    }
    *present = s != NULL;
    if (!s) {
        err = das_session_new(w, kind, key, len, &s);
        if (err) return err;
    } else {
        das_session_online(w, s);
    }
    s->clean = c->clean;
    s->conn = c;
    c->session = s;
    return OSAP_OK;
}

/* The connection is accepted: CONNACK 0, keepalive, resend what the session holds. */
static osap_err go_active(struct das_conn *c, bool present)
{
    osap_err err;

    c->state = DAS_CONN_ACTIVE;
    c->last_rx = uv_now(&c->w->loop);
    das_conn_schedule(c);
    das_conn_preauth_done(c);
    /* the session key is the client id (or the serial) from now on */
    osap_free(c->client_id);
    osap_free(c->username);
    c->client_id = c->username = NULL;
    err = das_send_connack(c, present, OSAP_CONNACK_ACCEPTED);
    if (err) return err;
    if (present) das_session_resend(c->w, c->session);
    return OSAP_OK;
}

static osap_err accept_device(struct das_conn *c, const struct osap_mqtt_connect *cp,
                              const struct das_connect_verdict *v)
{
    struct das_worker *w = c->w;
    bool present;
    osap_err err;

    c->is_device = true;
    c->device = v->device;
    atomic_fetch_add_explicit(&w->ndevices, 1, memory_order_relaxed);
    err = attach_session(c, DAS_SESSION_DEVICE, cp->username.ptr, cp->username.len, &present);
    if (err) {
        /* not active yet, so closing would not tell the device layer: do it here */
        struct das *das = w->das;
        atomic_fetch_sub_explicit(&w->ndevices, 1, memory_order_relaxed);
        if (das->hooks.on_close) das->hooks.on_close(das->hooks.userdata, c, 1);
        c->is_device = false;
        c->device = NULL;
        return err;
    }
    OSAP_LOGD(DAS_LOG, "device %s connected from %s (clean %d)", c->session->key, das_conn_peer(c),
              c->clean);
    return go_active(c, v->session_present != 0);
}

osap_err das_connect_finish(struct das_conn *c, uint8_t code)
{
    bool present;
    osap_err err;

    if (code == OSAP_CONNACK_ACCEPTED && c->will &&
        !das_acl_can_write(c->acl, c->will->topic, c->will->topic_len)) {
        OSAP_LOGI(DAS_LOG, "client %s refused: its will topic %s is not writable", c->client_id,
                  c->will->topic);
        code = OSAP_CONNACK_NOT_AUTHORIZED;
    }
    if (code != OSAP_CONNACK_ACCEPTED) {
        das_send_connack(c, false, code);
        return OSAP_EPERM;
    }
    err = attach_session(c, DAS_SESSION_CLIENT, c->client_id, strlen(c->client_id), &present);
    if (err) {
        das_send_connack(c, false, OSAP_CONNACK_UNAVAILABLE);
        return err;
    }
    OSAP_LOGD(DAS_LOG, "client %s connected from %s (user %s, clean %d, keepalive %u)",
              c->client_id, das_conn_peer(c), c->username ? c->username : "-", c->clean,
              c->keepalive);
    return go_active(c, present);
}

osap_err das_handle_connect(struct das_conn *c, const struct osap_mqtt_header *hdr,
                            const uint8_t *body)
{
    struct das_worker *w = c->w;
    struct das *das = w->das;
    struct osap_mqtt_packet pkt;
    const struct osap_mqtt_connect *cp = &pkt.connect;
    bool device = false;
    osap_err err;

    err = osap_mqtt_decode_body(hdr, body, OSAP_MQTT_LENIENT, &pkt);
    if (err == OSAP_OK) device = device_candidate(das, c, cp);
    if (!device) err = osap_mqtt_decode_body(hdr, body, OSAP_MQTT_STRICT, &pkt);
    if (err) return decode_error(c, err);

    if (device) {
        if (must_move(c, &cp->username)) return OSAP_OK;
    } else if (cp->client_id.len > 0) {
        if (must_move(c, &cp->client_id)) return OSAP_OK;
    }
    c->keepalive = cp->keepalive;
    c->clean = cp->clean_session;

    if (device) {
        struct das_connect_verdict v = {0};
        das->hooks.on_connect(das->hooks.userdata, c, cp, &v);
        if (c->state != DAS_CONN_NEW) return OSAP_ECLOSED; /* the hook closed it */
        if (v.is_device) {
            if (v.connack_code != OSAP_CONNACK_ACCEPTED) {
                OSAP_LOGI(DAS_LOG, "device %.*s refused: CONNACK %u", (int)cp->username.len,
                          cp->username.ptr, v.connack_code);
                das_send_connack(c, false, v.connack_code);
                return OSAP_EPERM;
            }
            return accept_device(c, cp, &v);
        }
        /* Not a device after all: an ordinary client, judged strictly. */
        c->no_device = true;
        err = osap_mqtt_decode_body(hdr, body, OSAP_MQTT_STRICT, &pkt);
        if (err) return decode_error(c, err);
        if (cp->client_id.len > 0 && must_move(c, &cp->client_id)) return OSAP_OK;
    }

    if (cp->client_id.len > 0) {
        c->client_id = dup_str(&cp->client_id);
    } else {
        char id[64];
        das_worker_assign_id(w, id, sizeof(id));
        c->client_id = osap_malloc(strlen(id) + 1);
        if (c->client_id) memcpy(c->client_id, id, strlen(id) + 1);
    }
    if (!c->client_id) return OSAP_ENOMEM;
    if (cp->has_username) {
        c->username = dup_str(&cp->username);
        if (!c->username) return OSAP_ENOMEM;
    }
    if (cp->will) {
        err = das_msg_new(cp->will_topic.ptr, cp->will_topic.len, cp->will_message.ptr,
                          cp->will_message.len, cp->will_qos, cp->will_retain, &c->will);
        if (err) return err;
        if (!das_conn_preauth_charge(c, cp->will_topic.len + cp->will_message.len))
            return OSAP_EBUSY; /* connect_max_total reached: closed */
    }
    if (!cp->has_username) {
        if (!das->set.allow_anonymous) {
            OSAP_LOGI(DAS_LOG, "client %s from %s refused: anonymous clients are not allowed",
                      c->client_id, das_conn_peer(c));
            das_send_connack(c, false, OSAP_CONNACK_NOT_AUTHORIZED);
            return OSAP_EPERM;
        }
        /* the anonymous rules ([das] anonymous_deny): one read-only list, shared by
         * every anonymous connection, that outlives them all */
        c->acl = das->set.anon_acl;
        return das_connect_finish(c, OSAP_CONNACK_ACCEPTED);
    }
    return das_auth_start(c, cp);
}
