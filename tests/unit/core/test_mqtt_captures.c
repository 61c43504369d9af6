/* MQTT codec against every DAS packet of the golden device captures: decoded
 * fields, byte-exact re-encoding, streaming in pieces, prefixes, corruptions. */
#include "testutil.h"

#include "osap/mqtt.h"

#include <cjson/cJSON.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_CAP OSAP_MESSAGE_MAX

/* One MQTT packet of a capture. */
struct cap_pkt {
    const char *file; /* base name */
    int conn;
    bool from_device;
    const char *kind;
    uint8_t *bytes;
    size_t len;
    const cJSON *fields;
};

struct captures {
    cJSON *docs[64];
    char *names[64];
    size_t ndocs;
    size_t nsessions; /* captures with a DAS session */
    struct cap_pkt *pkts;
    size_t npkts;
};

static struct captures caps;

/* ---- loading ------------------------------------------------------------ */

static void add_packet(const char *file, const cJSON *m)
{
    const cJSON *hex = cJSON_GetObjectItemCaseSensitive(m, "hex");
    const cJSON *dir = cJSON_GetObjectItemCaseSensitive(m, "dir");
    const cJSON *conn = cJSON_GetObjectItemCaseSensitive(m, "conn");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(m, "kind");
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(m, "fields");
    assert_true(cJSON_IsString(hex) && cJSON_IsString(dir) && cJSON_IsNumber(conn) &&
                cJSON_IsString(kind) && cJSON_IsObject(fields));

    struct cap_pkt *p = realloc(caps.pkts, (caps.npkts + 1) * sizeof(*p));
    assert_non_null(p);
    caps.pkts = p;
    p = &caps.pkts[caps.npkts++];
    p->file = file;
    p->conn = conn->valueint;
    p->from_device = strcmp(dir->valuestring, "dev->srv") == 0;
    p->kind = kind->valuestring;
    p->bytes = test_hex(hex->valuestring, &p->len);
    p->fields = fields;
}

static int load_captures(void **state)
{
    glob_t g;
    (void)state;
    assert_int_equal(glob(OSAP_TEST_DATA_DIR "/captures/*.json", 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 10 && g.gl_pathc <= 64);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *base = strrchr(g.gl_pathv[i], '/') + 1;
        char rel[256];
        snprintf(rel, sizeof(rel), "captures/%s", base);
        char *text = test_read_data(rel, NULL);
        cJSON *doc = cJSON_Parse(text);
        free(text);
        assert_non_null(doc);
        caps.docs[caps.ndocs] = doc;
        caps.names[caps.ndocs] = strdup(base);
        const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(doc, "messages");
        const cJSON *m;
        size_t before = caps.npkts;
        cJSON_ArrayForEach(m, msgs)
        {
            const cJSON *svc = cJSON_GetObjectItemCaseSensitive(m, "service");
            if (cJSON_IsString(svc) && strcmp(svc->valuestring, "das") == 0)
                add_packet(caps.names[caps.ndocs], m);
        }
        if (caps.npkts > before) caps.nsessions++;
        caps.ndocs++;
    }
    globfree(&g);
    /* Most captures reach the DAS (the wrong-vcode ones stop at the LBS). */
    assert_true(caps.nsessions >= 8);
    assert_true(caps.npkts >= 100);
    return 0;
}

static int free_captures(void **state)
{
    (void)state;
    for (size_t i = 0; i < caps.npkts; i++)
        test_free_buf(caps.pkts[i].bytes);
    free(caps.pkts);
    for (size_t i = 0; i < caps.ndocs; i++) {
        cJSON_Delete(caps.docs[i]);
        free(caps.names[i]);
    }
    return 0;
}

/* Device CONNECTs carry a NUL-padded will topic: lenient mode. */
static unsigned mode_for(const struct cap_pkt *p)
{
    return p->bytes[0] >> 4 == OSAP_MQTT_CONNECT ? OSAP_MQTT_LENIENT : OSAP_MQTT_STRICT;
}

/* ---- field comparison --------------------------------------------------- */

static void expect_str(const char *what, const char *ptr, size_t len, const cJSON *v)
{
    if (!cJSON_IsString(v)) fail_msg("%s: expected a string in the capture", what);
    if (strlen(v->valuestring) != len || memcmp(v->valuestring, ptr, len) != 0)
        fail_msg("%s: decoded \"%.*s\", capture \"%s\"", what, (int)len, ptr, v->valuestring);
}

static void expect_hex(const uint8_t *ptr, size_t len, const cJSON *v)
{
    size_t n;
    assert_true(cJSON_IsString(v));
    uint8_t *want = test_hex(v->valuestring, &n);
    assert_bytes_equal(ptr, len, want, n);
    test_free_buf(want);
}

static long num(const cJSON *v)
{
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    assert_true(cJSON_IsNumber(v));
    return (long)v->valuedouble;
}

static uint8_t connect_flags_of(const struct osap_mqtt_connect *c)
{
    return (uint8_t)((c->has_username ? 0x80 : 0) | (c->has_password ? 0x40 : 0) |
                     (c->will_retain ? 0x20 : 0) | c->will_qos << 3 | (c->will ? 0x04 : 0) |
                     (c->clean_session ? 0x02 : 0));
}

static uint16_t packet_id_of(const struct osap_mqtt_packet *pkt)
{
    switch (pkt->type) {
    case OSAP_MQTT_PUBLISH: return pkt->publish.packet_id;
    case OSAP_MQTT_SUBSCRIBE: return pkt->subscribe.packet_id;
    case OSAP_MQTT_SUBACK: return pkt->suback.packet_id;
    case OSAP_MQTT_UNSUBSCRIBE: return pkt->unsubscribe.packet_id;
    default: return pkt->ack.packet_id;
    }
}

static void check_subscriptions(const struct osap_mqtt_packet *pkt, const cJSON *arr)
{
    struct osap_mqtt_filter_iter it;
    struct osap_mqtt_str f;
    uint8_t qos;
    const cJSON *e;
    size_t n = 0;

    assert_int_equal(pkt->type, OSAP_MQTT_SUBSCRIBE);
    osap_mqtt_filter_iter_subscribe(&it, &pkt->subscribe);
    cJSON_ArrayForEach(e, arr)
    {
        assert_true(osap_mqtt_filter_iter_next(&it, &f, &qos));
        expect_str("subscription", f.ptr, f.len, cJSON_GetObjectItemCaseSensitive(e, "topic"));
        assert_int_equal(qos, num(cJSON_GetObjectItemCaseSensitive(e, "qos")));
        n++;
    }
    assert_false(osap_mqtt_filter_iter_next(&it, &f, &qos));
    assert_int_equal(pkt->subscribe.count, n);
}

static void check_unsubscribe_topics(const struct osap_mqtt_packet *pkt, const cJSON *arr)
{
    struct osap_mqtt_filter_iter it;
    struct osap_mqtt_str f;
    const cJSON *e;
    size_t n = 0;

    assert_int_equal(pkt->type, OSAP_MQTT_UNSUBSCRIBE);
    osap_mqtt_filter_iter_unsubscribe(&it, &pkt->unsubscribe);
    cJSON_ArrayForEach(e, arr)
    {
        assert_true(osap_mqtt_filter_iter_next(&it, &f, NULL));
        expect_str("unsubscribe", f.ptr, f.len, e);
        n++;
    }
    assert_false(osap_mqtt_filter_iter_next(&it, &f, NULL));
    assert_int_equal(pkt->unsubscribe.count, n);
}

static void check_granted(const struct osap_mqtt_packet *pkt, const cJSON *arr)
{
    const cJSON *e;
    size_t n = 0;

    assert_int_equal(pkt->type, OSAP_MQTT_SUBACK);
    cJSON_ArrayForEach(e, arr)
    {
        assert_true(n < pkt->suback.count);
        assert_int_equal(pkt->suback.codes[n], num(e));
        n++;
    }
    assert_int_equal(pkt->suback.count, n);
}

/* Every member of the capture's "fields" must match the decoded packet; an
 * unknown member fails, so nothing in the captures goes unchecked. */
static void check_fields(const struct cap_pkt *cp, const struct osap_mqtt_packet *pkt)
{
    const struct osap_mqtt_connect *c = &pkt->connect;
    const struct osap_mqtt_publish *pub = &pkt->publish;
    struct osap_mqtt_header hdr;
    const cJSON *f;

    assert_int_equal(osap_mqtt_frame(cp->bytes, cp->len, 0, &hdr), OSAP_OK);
    assert_int_equal(hdr.total_len, cp->len);
    cJSON_ArrayForEach(f, cp->fields)
    {
        const char *k = f->string;
        if (!strcmp(k, "byte0")) {
            assert_true(cJSON_IsString(f));
            long b = strtol(f->valuestring, NULL, 16);
            assert_int_equal(b, cp->bytes[0]);
            assert_int_equal(b, pkt->type << 4 | pkt->flags);
        } else if (!strcmp(k, "remaining_length")) {
            assert_int_equal(num(f), hdr.remaining_len);
        } else if (!strcmp(k, "protocol_name")) {
            /* the decoder accepts "MQTT" only: check the capture agrees */
            expect_str("protocol_name", "MQTT", 4, f);
            assert_memory_equal(cp->bytes + hdr.header_len + 2, "MQTT", 4);
        } else if (!strcmp(k, "protocol_level")) {
            assert_int_equal(num(f), OSAP_MQTT_PROTOCOL_LEVEL);
            assert_int_equal(cp->bytes[hdr.header_len + 6], OSAP_MQTT_PROTOCOL_LEVEL);
        } else if (!strcmp(k, "connect_flags")) {
            assert_true(cJSON_IsString(f));
            assert_int_equal(strtol(f->valuestring, NULL, 16), connect_flags_of(c));
        } else if (!strcmp(k, "keepalive")) {
            assert_int_equal(num(f), c->keepalive);
        } else if (!strcmp(k, "client_id")) {
            expect_str(k, c->client_id.ptr, c->client_id.len, f);
        } else if (!strcmp(k, "client_id_len")) {
            assert_int_equal(num(f), c->client_id.len);
        } else if (!strcmp(k, "will_topic_len")) {
            assert_int_equal(num(f), c->will_topic.len + c->will_topic_pad);
            assert_true(c->will_topic_pad > 0); /* devices pad: lenient mode reports it */
        } else if (!strcmp(k, "will_topic")) {
            expect_str(k, c->will_topic.ptr, c->will_topic.len, f);
        } else if (!strcmp(k, "will_topic_hex")) {
            size_t n = c->will_topic.len + c->will_topic_pad;
            uint8_t *padded = calloc(1, n);
            assert_non_null(padded);
            memcpy(padded, c->will_topic.ptr, c->will_topic.len);
            expect_hex(padded, n, f);
            free(padded);
        } else if (!strcmp(k, "will_qos")) {
            assert_true(c->will);
            assert_int_equal(num(f), c->will_qos);
        } else if (!strcmp(k, "will_retain")) {
            assert_int_equal(num(f), c->will_retain);
        } else if (!strcmp(k, "will_message_len")) {
            assert_int_equal(num(f), c->will_message.len);
        } else if (!strcmp(k, "will_message_hex")) {
            expect_hex(c->will_message.ptr, c->will_message.len, f);
        } else if (!strcmp(k, "username")) {
            assert_true(c->has_username);
            expect_str(k, c->username.ptr, c->username.len, f);
        } else if (!strcmp(k, "password")) {
            assert_true(c->has_password);
            expect_str(k, (const char *)c->password.ptr, c->password.len, f);
        } else if (!strcmp(k, "session_present")) {
            assert_int_equal(pkt->type, OSAP_MQTT_CONNACK);
            assert_int_equal(num(f), pkt->connack.session_present);
        } else if (!strcmp(k, "return_code")) {
            assert_int_equal(num(f), pkt->connack.return_code);
        } else if (!strcmp(k, "packet_id")) {
            assert_int_equal(num(f), packet_id_of(pkt));
        } else if (!strcmp(k, "subscriptions")) {
            check_subscriptions(pkt, f);
        } else if (!strcmp(k, "granted")) {
            check_granted(pkt, f);
        } else if (!strcmp(k, "topics")) {
            check_unsubscribe_topics(pkt, f);
        } else if (!strcmp(k, "qos")) {
            assert_int_equal(pkt->type, OSAP_MQTT_PUBLISH);
            assert_int_equal(num(f), pub->qos);
        } else if (!strcmp(k, "retain")) {
            assert_int_equal(num(f), pub->retain);
        } else if (!strcmp(k, "dup")) {
            assert_int_equal(num(f), pub->dup);
        } else if (!strcmp(k, "topic")) {
            expect_str(k, pub->topic.ptr, pub->topic.len, f);
        } else if (!strcmp(k, "payload_hex")) {
            expect_hex(pub->payload.ptr, pub->payload.len, f);
        } else {
            fail_msg("%s %s: field \"%s\" is not checked", cp->file, cp->kind, k);
        }
    }
    if (pkt->type == OSAP_MQTT_PUBLISH && pub->qos == 0) assert_int_equal(pub->packet_id, 0);
}

/* Encode @p pkt and compare with @p want byte for byte. */
static void expect_reencode(const struct osap_mqtt_packet *pkt, const uint8_t *want, size_t len)
{
    uint8_t out[STREAM_CAP];
    size_t size = 0, n = 0;

    assert_int_equal(osap_mqtt_encoded_size(pkt, &size), OSAP_OK);
    assert_int_equal(size, len);
    assert_int_equal(osap_mqtt_encode(pkt, out, sizeof(out), &n), OSAP_OK);
    assert_bytes_equal(out, n, want, len);
}

/* ---- tests -------------------------------------------------------------- */

static void test_decode_fields_and_reencode(void **state)
{
    size_t kinds[16] = {0};
    (void)state;
    for (size_t i = 0; i < caps.npkts; i++) {
        const struct cap_pkt *cp = &caps.pkts[i];
        struct osap_mqtt_packet pkt;
        size_t used = 0;

        assert_int_equal(osap_mqtt_decode(cp->bytes, cp->len, 0, mode_for(cp), &pkt, &used),
                         OSAP_OK);
        assert_int_equal(used, cp->len);
        assert_int_equal(pkt.type, cp->bytes[0] >> 4);
        check_fields(cp, &pkt);
        expect_reencode(&pkt, cp->bytes, cp->len);
        kinds[pkt.type]++;

        /* the exact size is enough, one byte less is not */
        uint8_t out[STREAM_CAP];
        size_t n = 0;
        assert_int_equal(osap_mqtt_encode(&pkt, out, cp->len, &n), OSAP_OK);
        assert_int_equal(osap_mqtt_encode(&pkt, out, cp->len - 1, &n), OSAP_EBUFSIZE);

        if (pkt.type == OSAP_MQTT_PUBLISH) {
            /* header + topic + id, then the payload: the same bytes as one packet */
            assert_int_equal(osap_mqtt_encode_publish_header(&pkt.publish, out, sizeof(out), &n),
                             OSAP_OK);
            assert_int_equal(n + pkt.publish.payload.len, cp->len);
            assert_memory_equal(out, cp->bytes, n);
            assert_ptr_equal(pkt.publish.payload.ptr, cp->bytes + n);
        }
        if (pkt.type == OSAP_MQTT_CONNECT) {
            /* Strict MQTT refuses the device's NUL padding; without the padding
             * bit the client id rule alone would not stop it (clean session 1). */
            assert_int_equal(osap_mqtt_decode(cp->bytes, cp->len, 0, OSAP_MQTT_STRICT, &pkt, &n),
                             OSAP_EMQTT_UTF8);
            assert_int_equal(osap_mqtt_decode(cp->bytes, cp->len, 0,
                                              OSAP_MQTT_LENIENT_EMPTY_CLIENT_ID, &pkt, &n),
                             OSAP_EMQTT_UTF8);
        }
    }
    /* The captures cover these packet types (and the test would notice if the
     * loader silently found nothing). */
    const uint8_t seen[] = {OSAP_MQTT_CONNECT,     OSAP_MQTT_CONNACK,   OSAP_MQTT_PUBLISH,
                            OSAP_MQTT_PUBACK,      OSAP_MQTT_SUBSCRIBE, OSAP_MQTT_SUBACK,
                            OSAP_MQTT_UNSUBSCRIBE, OSAP_MQTT_UNSUBACK,  OSAP_MQTT_PINGREQ,
                            OSAP_MQTT_PINGRESP,    OSAP_MQTT_DISCONNECT};
    for (size_t i = 0; i < sizeof(seen); i++)
        assert_true(kinds[seen[i]] > 0);
    assert_int_equal(kinds[OSAP_MQTT_CONNECT], caps.nsessions);
}

/* Where a decoded packet's views point (NULL for packets without views). */
static const void *first_view(const struct osap_mqtt_packet *pkt)
{
    switch (pkt->type) {
    case OSAP_MQTT_CONNECT: return pkt->connect.client_id.ptr;
    case OSAP_MQTT_PUBLISH: return pkt->publish.topic.ptr;
    case OSAP_MQTT_SUBSCRIBE: return pkt->subscribe.list.ptr;
    case OSAP_MQTT_SUBACK: return pkt->suback.codes;
    case OSAP_MQTT_UNSUBSCRIBE: return pkt->unsubscribe.list.ptr;
    default: return NULL;
    }
}

static bool inside(const void *p, const void *base, size_t len)
{
    const uint8_t *q = p, *b = base;
    return q >= b && q <= b + len;
}

static void test_stream_one_byte_at_a_time(void **state)
{
    static uint8_t buf[STREAM_CAP];
    (void)state;
    for (size_t i = 0; i < caps.npkts; i++) {
        const struct cap_pkt *cp = &caps.pkts[i];
        struct osap_mqtt_stream s;
        struct osap_mqtt_packet pkt;
        size_t used = 0;

        osap_mqtt_stream_init(&s, buf, sizeof(buf), mode_for(cp));
        assert_true(osap_mqtt_stream_idle(&s));
        for (size_t k = 0; k + 1 < cp->len; k++) {
            assert_int_equal(osap_mqtt_stream_next(&s, cp->bytes + k, 1, &used, &pkt),
                             OSAP_ENEED_MORE);
            assert_int_equal(used, 1);
            assert_false(osap_mqtt_stream_idle(&s));
        }
        assert_int_equal(osap_mqtt_stream_next(&s, cp->bytes + cp->len - 1, 1, &used, &pkt),
                         OSAP_OK);
        assert_int_equal(used, 1);
        assert_true(osap_mqtt_stream_idle(&s));
        check_fields(cp, &pkt);
        expect_reencode(&pkt, cp->bytes, cp->len);
        /* assembled in the stream buffer, not in the one-byte inputs */
        if (first_view(&pkt)) assert_true(inside(first_view(&pkt), buf, sizeof(buf)));
    }
}

/* A small deterministic generator (xorshift32). */
static uint32_t rng_next(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* The packets of one direction of one connection, concatenated. */
struct flow {
    uint8_t *bytes;
    size_t len;
    const struct cap_pkt *pkts[64];
    size_t n;
};

static void flow_build(struct flow *fl, const char *file, int conn, bool from_device)
{
    memset(fl, 0, sizeof(*fl));
    for (size_t i = 0; i < caps.npkts; i++) {
        const struct cap_pkt *cp = &caps.pkts[i];
        if (cp->file != file || cp->conn != conn || cp->from_device != from_device) continue;
        assert_true(fl->n < 64);
        fl->pkts[fl->n++] = cp;
        fl->bytes = realloc(fl->bytes, fl->len + cp->len);
        assert_non_null(fl->bytes);
        memcpy(fl->bytes + fl->len, cp->bytes, cp->len);
        fl->len += cp->len;
    }
}

/* Feed @p fl in chunks (0 = all at once, else random sizes up to @p max_chunk)
 * and check the packets come out in order and re-encode exactly. */
static void flow_feed(const struct flow *fl, unsigned mode, size_t max_chunk, uint32_t *seed,
                      bool expect_in_place)
{
    static uint8_t buf[STREAM_CAP];
    struct osap_mqtt_stream s;
    size_t pos = 0, got = 0;

    osap_mqtt_stream_init(&s, buf, sizeof(buf), mode);
    while (pos < fl->len) {
        size_t chunk = fl->len - pos;
        if (max_chunk) {
            size_t want = 1 + rng_next(seed) % max_chunk;
            if (want < chunk) chunk = want;
        }
        const uint8_t *in = fl->bytes + pos;
        size_t left = chunk;
        while (left) {
            struct osap_mqtt_packet pkt;
            size_t used = 0;
            osap_err err = osap_mqtt_stream_next(&s, in, left, &used, &pkt);
            assert_true(used > 0 || left == 0);
            assert_true(used <= left);
            if (err == OSAP_ENEED_MORE) {
                assert_int_equal(used, left);
                break;
            }
            assert_int_equal(err, OSAP_OK);
            assert_true(got < fl->n);
            expect_reencode(&pkt, fl->pkts[got]->bytes, fl->pkts[got]->len);
            if (expect_in_place && first_view(&pkt))
                assert_true(inside(first_view(&pkt), fl->bytes, fl->len));
            got++;
            in += used;
            left -= used;
        }
        pos += chunk;
    }
    assert_int_equal(got, fl->n);
    assert_true(osap_mqtt_stream_idle(&s));
}

static void for_each_flow(void (*fn)(const struct flow *fl, unsigned mode, uint32_t *seed))
{
    uint32_t seed = 0x05A9u;
    size_t flows = 0;
    for (size_t i = 0; i < caps.npkts; i++) {
        const struct cap_pkt *cp = &caps.pkts[i];
        /* start a flow at the first packet of each (file, conn, direction) */
        bool first = true;
        for (size_t j = 0; j < i; j++)
            if (caps.pkts[j].file == cp->file && caps.pkts[j].conn == cp->conn &&
                caps.pkts[j].from_device == cp->from_device)
                first = false;
        if (!first) continue;
        struct flow fl;
        flow_build(&fl, cp->file, cp->conn, cp->from_device);
        assert_true(fl.n >= 3);
        fn(&fl, cp->from_device ? OSAP_MQTT_LENIENT : OSAP_MQTT_STRICT, &seed);
        free(fl.bytes);
        flows++;
    }
    assert_int_equal(flows, 2 * caps.nsessions);
}

static void flow_whole(const struct flow *fl, unsigned mode, uint32_t *seed)
{
    flow_feed(fl, mode, 0, seed, true);
}

static void flow_random_chunks(const struct flow *fl, unsigned mode, uint32_t *seed)
{
    for (int round = 0; round < 8; round++) {
        flow_feed(fl, mode, 7, seed, false);
        flow_feed(fl, mode, 64, seed, false);
        flow_feed(fl, mode, 700, seed, false);
    }
}

static void test_stream_whole_connection(void **state)
{
    (void)state;
    for_each_flow(flow_whole);
}

static void test_stream_random_chunks(void **state)
{
    (void)state;
    for_each_flow(flow_random_chunks);
}

static void test_every_prefix_needs_more(void **state)
{
    static uint8_t buf[STREAM_CAP];
    (void)state;
    for (size_t i = 0; i < caps.npkts; i++) {
        const struct cap_pkt *cp = &caps.pkts[i];
        struct osap_mqtt_header full, hdr;
        assert_int_equal(osap_mqtt_frame(cp->bytes, cp->len, 0, &full), OSAP_OK);
        for (size_t k = 0; k < cp->len; k++) {
            for (unsigned mode = 0; mode <= OSAP_MQTT_LENIENT; mode++) {
                struct osap_mqtt_packet pkt;
                struct osap_mqtt_stream s;
                size_t used = 12345;
                assert_int_equal(osap_mqtt_decode(cp->bytes, k, 0, mode, &pkt, &used),
                                 OSAP_ENEED_MORE);
                osap_mqtt_stream_init(&s, buf, sizeof(buf), mode);
                assert_int_equal(osap_mqtt_stream_next(&s, cp->bytes, k, &used, &pkt),
                                 OSAP_ENEED_MORE);
                assert_int_equal(used, k);
            }
            osap_err err = osap_mqtt_frame(cp->bytes, k, cp->len, &hdr);
            if (k < full.header_len) {
                assert_int_equal(err, OSAP_ENEED_MORE);
            } else {
                assert_int_equal(err, OSAP_OK);
                assert_int_equal(hdr.type, full.type);
                assert_int_equal(hdr.flags, full.flags);
                assert_int_equal(hdr.header_len, full.header_len);
                assert_int_equal(hdr.remaining_len, full.remaining_len);
                assert_int_equal(hdr.total_len, full.total_len);
            }
        }
    }
}

/* Decoding must give a packet, need-more or a named MQTT error; a packet must
 * re-encode to exactly its bytes; the streaming decoder, fed one byte at a
 * time, must agree with the whole-buffer decoder. */
static void check_corrupt(const uint8_t *b, size_t len, unsigned mode)
{
    static uint8_t buf[STREAM_CAP];
    struct osap_mqtt_packet pkt, spkt;
    struct osap_mqtt_stream s;
    size_t used = 0, sused = 0;
    osap_err err = osap_mqtt_decode(b, len, STREAM_CAP, mode, &pkt, &used);
    osap_err serr = OSAP_ENEED_MORE;

    if (err != OSAP_OK && err != OSAP_ENEED_MORE && err != OSAP_ETOOBIG) {
        assert_true(err >= 100 && err <= 199);
        assert_string_not_equal(osap_strerror(err), "unknown error");
    }
    if (err == OSAP_OK) {
        assert_true(used <= len);
        expect_reencode(&pkt, b, used);
    }
    osap_mqtt_stream_init(&s, buf, sizeof(buf), mode);
    for (size_t k = 0; k < len && serr == OSAP_ENEED_MORE; k++) {
        serr = osap_mqtt_stream_next(&s, b + k, 1, &sused, &spkt);
        if (serr == OSAP_OK) sused = k + 1;
    }
    assert_int_equal(serr, err);
    if (err == OSAP_OK) {
        assert_int_equal(sused, used);
        expect_reencode(&spkt, b, used);
    }
}

static void test_every_byte_corrupted(void **state)
{
    size_t ok = 0, total = 0;
    (void)state;
    for (size_t i = 0; i < caps.npkts; i++) {
        const struct cap_pkt *cp = &caps.pkts[i];
        uint8_t *b = malloc(cp->len);
        assert_non_null(b);
        for (size_t k = 0; k < cp->len; k++) {
            const uint8_t orig = cp->bytes[k];
            const uint8_t variants[4] = {orig ^ 0xFF, orig ^ 0x01, orig ^ 0x80, 0x00};
            for (int v = 0; v < 4; v++) {
                if (variants[v] == orig) continue;
                memcpy(b, cp->bytes, cp->len);
                b[k] = variants[v];
                for (unsigned mode = 0; mode <= OSAP_MQTT_LENIENT; mode++) {
                    struct osap_mqtt_packet pkt;
                    size_t used;
                    check_corrupt(b, cp->len, mode);
                    total++;
                    if (osap_mqtt_decode(b, cp->len, STREAM_CAP, mode, &pkt, &used) == OSAP_OK)
                        ok++;
                }
            }
        }
        free(b);
    }
    /* Most corruptions of payload bytes still decode; many others must not. */
    assert_true(ok > 0 && ok < total);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_fields_and_reencode),
        cmocka_unit_test(test_stream_one_byte_at_a_time),
        cmocka_unit_test(test_stream_whole_connection),
        cmocka_unit_test(test_stream_random_chunks),
        cmocka_unit_test(test_every_prefix_needs_more),
        cmocka_unit_test(test_every_byte_corrupted),
    };
    return cmocka_run_group_tests(tests, load_captures, free_captures);
}
