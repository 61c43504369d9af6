/*
 * libFuzzer target: arbitrary DAS traffic fed to an online device.
 *
 * The device comes online with the recorded first start of capture sap_a (its
 * ECDH step injected, the LBS answers replayed, so the session key is the
 * capture's). Byte 0 of the input: bit 0 = the fuzz data starts before the
 * CONNACK (otherwise CONNACK 0 and two SUBACKs come first), bits 1-3 the read
 * size. The rest is a list of operations [op u8][len u8][bytes] run in order,
 * with a step of the device after each:
 *   0  raw bytes from the DAS
 *   1  a PUBLISH the harness encrypts under the session key: topic
 *      "/iot/Q12345678/" + bytes up to '\n', body = the rest (QoS from len bit 0)
 *   2  a v2 PUBLISH on "/Q12345678/1000/<cmd>" (cmd from the first byte)
 *   3  the clock moves on (bytes[0] seconds)
 *   4  the application raises an event with the bytes as body
 *   5  the application reports an attribute with the bytes as value
 *   6  the application answers the last request it deferred
 *   7  the application stops the device
 * so both the MQTT parser and the business parsers behind the decryption are
 * reached. Nothing may crash, leak or hang.
 */
#include "fuzz_device_port.h"

#include "osap/envelope.h"
#include "osap/mqtt.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char device_pub_hex[] =
    "046f287f1cdba2890bc7da1832b19f579c0df283485110b5901499693b4bea8403704b8757641055ff73c87"
    "8d8c02d9e393ac1e4fc0b87cb3ace0508cc210d820f3b0ff7d5e173af3968d5219626d0129a52a8ed5d114b35"
    "b308ccd843cf8826bd";
static const char master_key[] = "84D12287C8E4D560";
/* The LBS answers of sap_a: 0x2, 0x8, 0xB. */
static const char lbs_answers_hex[] =
    "2a760101010000242ee80292a8f1eb925a35c783c6bc406ba4540dee8c0bd1a67c5d9da9e39c47833ac878e3"
    "daaa202b34203d85e144e5bed7bdac28ad57551a227bf134beda47b28f47315303da57fbc8f1e4655cb77e7ce0"
    "53c9f87c70bb4bc264f338ddc40c078fae6213977998c65cd21c3cde1571d0"
    "82860101010000b8fcc12a2d34f4aebaaf97cfa7be0d3c2069b3891250d785668fc12b3807d3b1bf0963b20eb3"
    "e6869bde506809f200c360dc70cb65335db03044e5b2a28fa36b4d102eede76551ccd320356bb5b6fd39677920"
    "200ef62446f07bac5f10f0c6f0f2e9ae00e362c9e21bfbefd445460cf8367ce35b85b7d1f9cb3131a770d02051"
    "ad6e"
    "b0940101010000fedf9b7fb8c5cb507aff08c0b080f899a221314551fbe105284f0ea0be9fe8727736a5b6e94e"
    "ec991e677f1b48c2faaafa86c17debdd910583cba8a119820ba5cf29602144c886a997ecef1cc17782912f981e"
    "e3fe660e15856becf85dc644671374d724e6b0fabf860fc752c33250ecbc03855e59964af042994e1c2dc0ab1b"
    "973ce9e1783856265abd2aac5de80345";
static const uint8_t session_key[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                        0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
static const uint8_t registered[] = {0x20, 0x02, 0x00, 0x00, 0x90, 0x03, 0x00,
                                     0x02, 0x01, 0x90, 0x03, 0x00, 0x03, 0x01};

static osap_err rec_public(void *ud, uint8_t pub[OSAP_P384_PUBKEY_LEN])
{
    (void)ud;
    fz_hex(device_pub_hex, pub, OSAP_P384_PUBKEY_LEN);
    return OSAP_OK;
}

static osap_err rec_master(void *ud, const uint8_t peer[OSAP_P384_PUBKEY_LEN],
                           uint8_t mk[OSAP_MASTER_KEY_LEN])
{
    (void)ud, (void)peer;
    memcpy(mk, master_key, OSAP_MASTER_KEY_LEN);
    return OSAP_OK;
}

static uint32_t deferred;
static int lbs_fed;

static osap_err das_connect(void *ctx, const char *host, uint16_t port, intptr_t *sock)
{
    struct fz *f = ctx;
    osap_err err = fz_connect(ctx, host, port, sock);
    if (err) return err;
    if (port == 18666) {
        uint8_t lbs[(sizeof(lbs_answers_hex) - 1) / 2];
        fz_hex(lbs_answers_hex, lbs, sizeof(lbs));
        if (!lbs_fed) fz_feed(f, (int)*sock, lbs, sizeof(lbs));
        lbs_fed = 1;
        f->conns[*sock]->eof = 1;
    }
    return OSAP_OK;
}

static int handler(void *ud, const struct osap_device_request *req, char *out, size_t cap,
                   size_t *out_len)
{
    (void)ud;
    if (req->kind == OSAP_DEVICE_REQ_OPERATE) {
        if (req->json_len % 2) {
            deferred = req->id;
            return OSAP_DEVICE_REPLY_LATER;
        }
        if (req->json_len < cap) {
            memcpy(out, req->json, req->json_len);
            *out_len = req->json_len;
        }
    }
    return (int)(req->json_len % 3);
}

/* The DAS connection: the last one opened to port 18667. */
static int das_conn(const struct fz *f)
{
    for (int i = f->nconns - 1; i >= 0; i--)
        if (f->conns[i]->port == 18667 && !f->conns[i]->closed) return i;
    return -1;
}

static void feed_publish(struct fz *f, int conn, const char *topic, int v2, int qos,
                         const uint8_t *body, size_t body_len)
{
    struct osap_mqtt_packet pkt;
    char common[128];
    size_t clen = 0, plen = 0, len = 0;
    static uint8_t payload[8192], out[9000];

    if (v2)
        osap_envelope_common_v2("V1.0.0", 7, OSAP_V2_MSGTYPE_REQUEST, common, sizeof(common),
                                &clen);
    else
        osap_envelope_common_v3(77, common, sizeof(common), &clen);
    if (osap_envelope_seal(session_key, common, clen, body, body_len, payload, sizeof(payload),
                           &plen))
        return;
    memset(&pkt, 0, sizeof(pkt));
    pkt.type = OSAP_MQTT_PUBLISH;
    pkt.publish.qos = (uint8_t)qos;
    pkt.publish.packet_id = qos ? 9 : 0;
    pkt.publish.topic.ptr = topic;
    pkt.publish.topic.len = strlen(topic);
    pkt.publish.payload.ptr = payload;
    pkt.publish.payload.len = plen;
    if (osap_mqtt_encode(&pkt, out, sizeof(out), &len) == OSAP_OK) fz_feed(f, conn, out, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f;
    struct osap_lbs_client_ecdh ecdh = {rec_public, rec_master, NULL};
    struct osap_device_test_hooks hooks = {&ecdh};
    struct osap_device_config cfg;
    struct osap_device_key key = {NULL, "golden_domain", "golden_prop"};
    osap_device_t *dev = NULL;
    size_t pos = 1;

    if (size < 1 || size > 16384) return 0;
    if (fz_init(&f)) return 0;
    fz_wire(&f);
    f.port.tcp_connect = das_connect;
    f.read_chunk = (data[0] >> 1) & 7 ? (size_t)1 << ((data[0] >> 1) & 7) : 0;
    deferred = 0;
    lbs_fed = 0;

    memset(&cfg, 0, sizeof(cfg));
    cfg.lbs_host = "127.0.0.1";
    cfg.lbs_port = 18666;
    cfg.auth_mode = OSAP_LBS_AUTH_MODE_SAP;
    cfg.subserial = "Q12345678";
    cfg.vcode = "ABCDEF";
    cfg.dev_type = "GOLDEN_MODEL";
    cfg.port = &f.port;
    cfg.test = &hooks;
    cfg.cb.request = handler;
    cfg.message_max = 4096;
    if (osap_device_new(&cfg, &dev) != OSAP_OK) goto out;
    if (osap_device_start(dev) != OSAP_OK) goto out;
    fz_run(&f, dev, 20, 100);
    {
        int c = das_conn(&f);
        if (c < 0) goto out;
        if (!(data[0] & 1)) fz_feed(&f, c, registered, sizeof(registered));
    }
    while (pos + 2 <= size) {
        uint8_t op = data[pos] & 7, len = data[pos + 1];
        const uint8_t *b = data + pos + 2;
        int c = das_conn(&f);
        uint64_t next;
        char text[300];

        if (pos + 2 + len > size) len = (uint8_t)(size - pos - 2);
        pos += 2u + len;
        memcpy(text, b, len);
        text[len] = '\0';
        switch (op) {
        case 0:
            if (c >= 0) fz_feed(&f, c, b, len);
            break;
        case 1:
            if (c >= 0) {
                char topic[400];
                const char *nl = memchr(text, '\n', len);
                size_t tl = nl ? (size_t)(nl - text) : len;
                snprintf(topic, sizeof(topic), "/iot/Q12345678/%.*s", (int)tl, text);
                feed_publish(&f, c, topic, 0, len & 1, (const uint8_t *)text + (nl ? tl + 1 : len),
                             nl ? len - tl - 1 : 0);
            }
            break;
        case 2:
            if (c >= 0 && len >= 1) {
                char topic[64];
                static const int cmds[4] = {1, 3, 13433, 18719};
                snprintf(topic, sizeof(topic), "/Q12345678/1000/%d", cmds[b[0] & 3]);
                feed_publish(&f, c, topic, 1, 0, b + 1, len - 1u);
            }
            break;
        case 3: f.now += len ? (uint64_t)b[0] * 1000u : 0; break;
        case 4: osap_device_event_raise(dev, &key, text, NULL); break;
        case 5: osap_device_attr_report(dev, &key, text); break;
        case 6: osap_device_reply(dev, deferred, 1, len ? text : NULL); break;
        case 7: osap_device_stop(dev); break;
        }
        osap_device_step(dev, &next);
    }
    fz_run(&f, dev, 50, 20000);
out:
    osap_device_free(dev);
    fz_free(&f);
    return 0;
}
