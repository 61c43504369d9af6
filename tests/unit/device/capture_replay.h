/*
 * Replay of a golden capture against the device SDK: the fake port plays the
 * server side (every srv->dev message of the capture, in order) and the test
 * compares every byte the SDK writes with the capture's dev->srv messages.
 * Application actions of the recorded device (raising the event, reporting the
 * attribute, stopping) are made when the capture shows their message next, with
 * the recorded wall clock and random bytes injected so the encrypted payloads
 * match too. Header-only (static inline).
 */
#ifndef TEST_CAPTURE_REPLAY_H
#define TEST_CAPTURE_REPLAY_H

#include "fake_port.h"
#include "golden_capture.h"

#include "osap/crypto.h"
#include "osap/device.h"

#include <cjson/cJSON.h>
#include <time.h>

#define REPLAY_MSGS_MAX 128

struct replay_msg {
    int conn; /* capture connection number (1-based, in open order) */
    int to_server;
    const char *kind;
    uint8_t *bytes;
    size_t len;
    const cJSON *json;
};

struct replay {
    cJSON *root;
    const char *file;
    struct replay_msg msgs[REPLAY_MSGS_MAX];
    size_t n;
    /* injected ECDH */
    uint8_t pub[8][OSAP_P384_PUBKEY_LEN];
    int npub, pub_calls;
    uint8_t master_key[OSAP_MASTER_KEY_LEN];
    int has_master_key, derives;
    struct osap_lbs_client_ecdh ecdh;
    struct osap_device_test_hooks hooks;
    /* requests seen by the handler */
    int sets, operates, shadow_sets, desired;
    int lenient; /* allocation-failure runs: API errors are expected */
};

static inline osap_err rp_public(void *ud, uint8_t pub[OSAP_P384_PUBKEY_LEN])
{
    struct replay *r = ud;
    int i = r->pub_calls < r->npub ? r->pub_calls : r->npub - 1;
    r->pub_calls++;
    memcpy(pub, r->pub[i], OSAP_P384_PUBKEY_LEN);
    return OSAP_OK;
}

static inline osap_err rp_master(void *ud, const uint8_t peer[OSAP_P384_PUBKEY_LEN],
                                 uint8_t mk[OSAP_MASTER_KEY_LEN])
{
    struct replay *r = ud;
    (void)peer;
    if (!r->has_master_key) return OSAP_EPOINT;
    memcpy(mk, r->master_key, OSAP_MASTER_KEY_LEN);
    r->derives++;
    return OSAP_OK;
}

static inline void replay_load(struct replay *r, const char *file)
{
    size_t len;
    char *text = test_read_data(file, &len);
    const cJSON *m, *der, *att;

    memset(r, 0, sizeof(*r));
    r->file = file;
    r->root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!r->root) fail_msg("cannot parse %s", file);
    cJSON_ArrayForEach(m, golden_get(r->root, "messages"))
    {
        struct replay_msg *rm;
        assert_true(r->n < REPLAY_MSGS_MAX);
        rm = &r->msgs[r->n++];
        rm->conn = golden_get(m, "conn")->valueint;
        rm->to_server = strcmp(golden_str(m, "dir"), "dev->srv") == 0;
        rm->kind = golden_str(m, "kind");
        rm->bytes = test_hex(golden_str(m, "hex"), &rm->len);
        rm->json = m;
    }
    der = golden_get(r->root, "derived");
    cJSON_ArrayForEach(att, golden_get(der, "lbs_attempts"))
    {
        const char *pub = golden_str_or_null(att, "device_ecdh_public_hex");
        if (pub && r->npub < 8) golden_hex_into(pub, r->pub[r->npub++], OSAP_P384_PUBKEY_LEN);
    }
    if (golden_str_or_null(der, "master_key")) {
        memcpy(r->master_key, golden_str(der, "master_key"), OSAP_MASTER_KEY_LEN);
        r->has_master_key = 1;
    }
    r->ecdh.public_key = rp_public;
    r->ecdh.master_key = rp_master;
    r->ecdh.userdata = r;
    r->hooks.ecdh = &r->ecdh;
}

static inline void replay_free(struct replay *r)
{
    for (size_t i = 0; i < r->n; i++)
        test_free_buf(r->msgs[i].bytes);
    cJSON_Delete(r->root);
}

/* The body text of a decrypted PUBLISH in the capture, or NULL. */
static inline const char *rp_body(const struct replay_msg *m)
{
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(m->json, "decrypted"), *d;
    cJSON_ArrayForEach(d, dec)
    {
        const char *b = golden_str_or_null(d, "body_text");
        if (b) return b;
    }
    return NULL;
}

/* The topic of a PUBLISH in the capture. */
static inline const char *rp_topic(const struct replay_msg *m)
{
    return golden_str(golden_get(m->json, "fields"), "topic");
}

/* The request handler of the recorded application: checks what the SDK hands
 * it and answers as the recorded device did. */
static inline int rp_handler(void *ud, const struct osap_device_request *req, char *out, size_t cap,
                             size_t *out_len)
{
    struct replay *r = ud;
    assert_string_equal(req->key.resource, "0-global");
    assert_string_equal(req->key.domain, "golden_domain");
    switch (req->kind) {
    case OSAP_DEVICE_REQ_SET:
        r->sets++;
        assert_string_equal(req->key.identifier, "golden_prop");
        assert_string_equal(req->json, "7");
        assert_int_equal(req->seq, 1001);
        return 0;
    case OSAP_DEVICE_REQ_OPERATE:
        r->operates++;
        assert_string_equal(req->key.identifier, "golden_action");
        assert_string_equal(req->json, "{\"speed\":3}");
        assert_true(cap > 32);
        *out_len = (size_t)snprintf(out, cap, "{\"result\":\"done\"}");
        return 0;
    case OSAP_DEVICE_REQ_SHADOW_SET:
        r->shadow_sets++;
        assert_string_equal(req->key.identifier, "golden_prop");
        assert_string_equal(req->json, "9");
        return 0;
    case OSAP_DEVICE_REQ_DESIRED: r->desired++; return 0;
    }
    return -1;
}

static inline int64_t rp_parse_datetime(const char *s)
{
    struct tm tm;
    int ms = 0;
    memset(&tm, 0, sizeof(tm));
    assert_int_equal(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms),
                     7);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

static inline void rp_device_config(struct replay *r, struct fake *f,
                                    struct osap_device_config *cfg)
{
    const cJSON *dev = golden_get(r->root, "device");
    memset(cfg, 0, sizeof(*cfg));
    cfg->lbs_host = "127.0.0.1";
    cfg->lbs_port = 18666;
    cfg->auth_mode = (uint8_t)golden_get(dev, "auth_mode")->valueint;
    cfg->subserial = golden_str(dev, "subserial");
    cfg->vcode = golden_str(dev, "vcode_or_licence");
    cfg->dev_type = golden_str(dev, "dev_type");
    cfg->dev_type_display = golden_str(dev, "display_model");
    cfg->firmware_version = golden_str(dev, "firmware_version");
    cfg->mac = golden_str(dev, "mac");
    cfg->port = &f->port;
    cfg->cb.request = rp_handler;
    cfg->userdata = r;
    cfg->test = &r->hooks;
}

/* Store the device's state before the capture (devid / master key). */
static inline void rp_preload(struct replay *r, struct fake *f)
{
    const cJSON *st = golden_get(golden_get(r->root, "device"), "stored_before");
    const char *devid = golden_str_or_null(st, "devid"), *mk = golden_str_or_null(st, "masterkey");
    if (devid)
        assert_int_equal(
            f->port.kv_set(f->port.ctx, "devid", (const uint8_t *)devid, strlen(devid)), OSAP_OK);
    if (mk)
        assert_int_equal(f->port.kv_set(f->port.ctx, "masterkey", (const uint8_t *)mk, strlen(mk)),
                         OSAP_OK);
}

/* Act as the recorded application before the device message @p m. */
static inline void rp_before(struct replay *r, struct fake *f, osap_device_t *dev,
                             const struct replay_msg *m, int *stopped)
{
    const char *kind = m->kind;

    /* the recorded application acted after what the server sent was handled */
    fake_step(f, dev);
    if (strstr(kind, "path C step I,")) {
        const cJSON *dec = cJSON_GetArrayItem(golden_get(m->json, "decrypted"), 0);
        uint8_t r1 = (uint8_t)golden_get(dec, "random_1")->valueint;
        fake_push_random(f, &r1, 1);
    } else if (strstr(kind, "/model/event/report/")) {
        cJSON *body = cJSON_Parse(rp_body(m));
        const cJSON *basic;
        if (!body && r->lenient) return;
        basic = golden_get(body, "basic");
        char topic[512], *slash, *dom, *id, *app;
        uint8_t uuid[16];
        struct osap_device_key key;

        f->wall = rp_parse_datetime(golden_str(basic, "dateTime"));
        golden_hex_into(golden_str(basic, "UUID"), uuid, sizeof(uuid));
        fake_push_random(f, uuid, sizeof(uuid));
        cJSON_DeleteItemFromObjectCaseSensitive(body, "basic");
        app = cJSON_PrintUnformatted(body);
        snprintf(topic, sizeof(topic), "%s", rp_topic(m));
        slash = strrchr(topic, '/');
        *slash = '\0';
        id = slash + 1;
        dom = strrchr(topic, '/') + 1;
        key.resource = "0-global";
        key.domain = dom;
        key.identifier = id;
        if (app) {
            osap_err e = osap_device_event_raise(dev, &key, app, NULL);
            if (!r->lenient) assert_int_equal(e, OSAP_OK);
        }
        cJSON_free(app);
        cJSON_Delete(body);
    } else if (strstr(kind, "/basic/shadow/report")) {
        cJSON *body = cJSON_Parse(rp_body(m));
        const cJSON *rep;
        char *value;
        if (!body && r->lenient) return;
        rep = golden_get(golden_get(body, "state"), "reported");
        value = cJSON_PrintUnformatted(golden_get(rep, "value"));
        struct osap_device_key key = {"0-global", golden_str(rep, "domain"),
                                      golden_str(rep, "identifier")};
        if (value) {
            osap_err e = osap_device_attr_report(dev, &key, value);
            if (!r->lenient) assert_int_equal(e, OSAP_OK);
        }
        cJSON_free(value);
        cJSON_Delete(body);
    } else if (strcmp(kind, "UNSUBSCRIBE") == 0 && !*stopped) {
        *stopped = 1;
        assert_int_equal(osap_device_stop(dev), OSAP_OK);
    }
}

/* Before server message @p i is fed: the device answers it within the same step,
 * so the wall clock its answers read (shadow set_reply "timestamp") is set now. */
static inline void rp_before_feed(struct replay *r, struct fake *f, size_t i)
{
    for (size_t j = i + 1; j < r->n && r->msgs[j].to_server; j++) {
        if (strstr(r->msgs[j].kind, "/basic/shadow/set_reply")) {
            cJSON *body = cJSON_Parse(rp_body(&r->msgs[j]));
            if (!body && r->lenient) return;
            f->wall = (int64_t)golden_get(body, "timestamp")->valuedouble * 1000 + 321;
            cJSON_Delete(body);
        }
    }
}

/* Replay the whole capture; every device message must match byte for byte. */
static inline void rp_run(struct replay *r, struct fake *f, osap_device_t *dev)
{
    const cJSON *conns = golden_get(r->root, "connections");
    int stopped = 0;

    assert_int_equal(osap_device_start(dev), OSAP_OK);
    for (size_t i = 0; i < r->n; i++) {
        const struct replay_msg *m = &r->msgs[i];
        int ci = m->conn - 1;
        const cJSON *cj = cJSON_GetArrayItem(conns, ci);

        if (!m->to_server) {
            assert_true(ci < f->nconns);
            rp_before_feed(r, f, i);
            fake_feed(f, ci, m->bytes, m->len);
            continue;
        }
        rp_before(r, f, dev, m, &stopped);
        if (!fake_run_until_output(f, dev, ci, m->len, 200000))
            fail_msg("%s: message %zu (%s): the device did not send it (conn %d, %zu unseen)",
                     r->file, i, m->kind, ci, ci < f->nconns ? fake_unseen(f, ci) : 0);
        assert_int_equal(f->conns[ci].port, golden_get(cj, "server_port")->valueint);
        assert_bytes_equal(f->conns[ci].out + f->conns[ci].out_seen, m->len, m->bytes, m->len);
        f->conns[ci].out_seen += m->len;
    }
    /* nothing more was sent on any connection */
    fake_step(f, dev);
    for (int c = 0; c < f->nconns; c++)
        if (fake_unseen(f, c))
            fail_msg("%s: %zu extra bytes on conn %d", r->file, fake_unseen(f, c), c);
    assert_int_equal(f->nconns, cJSON_GetArraySize(conns));
}

#endif
