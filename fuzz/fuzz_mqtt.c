/* libFuzzer target for the MQTT codec.
 *
 * Checks, on any input: framing and decoding in both modes never read out of
 * bounds; strict acceptance implies lenient acceptance; every decoded packet
 * re-encodes to exactly the bytes it came from; the streaming decoder, fed the
 * input in three pieces split at data-derived points, yields the same packets
 * and the same final status as decoding the buffer packet after packet; the
 * topic matcher agrees with a level-by-level reference and with equality on
 * wildcard-free filters. */
#include "osap/mqtt.h"

#include <stdlib.h>
#include <string.h>

#define CAP 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t stream_buf[CAP];
static uint8_t enc_a[CAP + 8];
static uint8_t enc_b[CAP + 8];

#define CHECK(c)           \
    do {                   \
        if (!(c)) abort(); \
    } while (0)

/* Encode @p pkt into @p out and return its length. */
static size_t encode(const struct osap_mqtt_packet *pkt, uint8_t *out)
{
    size_t n = 0, size = 0;
    CHECK(osap_mqtt_encoded_size(pkt, &size) == OSAP_OK);
    CHECK(osap_mqtt_encode(pkt, out, CAP + 8, &n) == OSAP_OK);
    CHECK(n == size);
    return n;
}

static void check_one_packet(const uint8_t *data, size_t size)
{
    struct osap_mqtt_header hdr;
    struct osap_mqtt_packet strict, lenient;
    size_t used_s = 0, used_l = 0;
    osap_err fe = osap_mqtt_frame(data, size, 0, &hdr);
    osap_err es = osap_mqtt_decode(data, size, 0, OSAP_MQTT_STRICT, &strict, &used_s);
    osap_err el = osap_mqtt_decode(data, size, 0, OSAP_MQTT_LENIENT, &lenient, &used_l);

    if (fe != OSAP_OK) CHECK(es == fe && el == fe);
    if (es == OSAP_OK) {
        CHECK(el == OSAP_OK && used_l == used_s);
        CHECK(fe == OSAP_OK && used_s == hdr.total_len);
        size_t n = encode(&strict, enc_a);
        CHECK(n == used_s && memcmp(enc_a, data, n) == 0);
    }
    if (el == OSAP_OK) {
        size_t n = encode(&lenient, enc_a);
        CHECK(n == used_l && memcmp(enc_a, data, n) == 0);
    }
    if (fe == OSAP_OK && hdr.total_len <= size) {
        /* a body decoded apart from its header gives the same result */
        struct osap_mqtt_packet apart;
        uint8_t *copy = malloc(hdr.remaining_len ? hdr.remaining_len : 1);
        CHECK(copy != NULL);
        memcpy(copy, data + hdr.header_len, hdr.remaining_len);
        osap_err ea = osap_mqtt_decode_body(&hdr, copy, OSAP_MQTT_LENIENT, &apart);
        CHECK(ea == el);
        if (ea == OSAP_OK) {
            size_t n = encode(&apart, enc_a);
            CHECK(n == hdr.total_len && memcmp(enc_a, data, n) == 0);
        }
        free(copy);
    }
}

/* The stream over three pieces versus osap_mqtt_decode() packet after packet. */
static void check_stream(const uint8_t *data, size_t size, unsigned mode)
{
    struct osap_mqtt_stream s;
    size_t cut1 = 0, cut2 = 0;
    const uint8_t *ref = data;
    size_t ref_left = size;
    osap_err ref_err = OSAP_ENEED_MORE;

    if (size > 0) {
        cut1 = (size_t)data[size - 1] * 131 % (size + 1);
        cut2 = cut1 + (size_t)data[0] * 17 % (size - cut1 + 1);
    }
    const size_t cuts[4] = {0, cut1, cut2, size};
    osap_mqtt_stream_init(&s, stream_buf, sizeof(stream_buf), mode);

    osap_err serr = OSAP_ENEED_MORE;
    for (int piece = 0; piece < 3 && (serr == OSAP_ENEED_MORE || serr == OSAP_OK); piece++) {
        const uint8_t *in = data + cuts[piece];
        size_t left = cuts[piece + 1] - cuts[piece];
        while (left > 0) {
            struct osap_mqtt_packet pkt, want;
            size_t used = 0, ref_used = 0;
            serr = osap_mqtt_stream_next(&s, in, left, &used, &pkt);
            if (serr == OSAP_ENEED_MORE) {
                CHECK(used == left);
                break;
            }
            ref_err = osap_mqtt_decode(ref, ref_left, sizeof(stream_buf), mode, &want, &ref_used);
            CHECK(serr == ref_err);
            if (serr != OSAP_OK) break;
            CHECK(used > 0 && used <= left);
            size_t a = encode(&pkt, enc_a), b = encode(&want, enc_b);
            CHECK(a == b && a == ref_used && memcmp(enc_a, enc_b, a) == 0);
            CHECK(memcmp(enc_a, ref, a) == 0);
            ref += ref_used;
            ref_left -= ref_used;
            in += used;
            left -= used;
        }
    }
    if (serr == OSAP_ENEED_MORE) {
        struct osap_mqtt_packet want;
        size_t ref_used;
        ref_err = osap_mqtt_decode(ref, ref_left, sizeof(stream_buf), mode, &want, &ref_used);
        CHECK(ref_err == OSAP_ENEED_MORE);
        CHECK(osap_mqtt_stream_idle(&s) == (ref_left == 0));
    }
}

/* Reference matcher, level by level over the public level iterator. */
static bool level_is(const struct osap_mqtt_str *l, char c)
{
    return l->len == 1 && l->ptr[0] == c;
}

static bool reference_matches(const char *f, size_t flen, const char *t, size_t tlen)
{
    struct osap_mqtt_level_iter fi, ti;
    struct osap_mqtt_str fl, tl;

    if (t[0] == '$' && (f[0] == '+' || f[0] == '#')) return false;
    osap_mqtt_level_iter_init(&fi, f, flen);
    osap_mqtt_level_iter_init(&ti, t, tlen);
    for (;;) {
        bool more_f = osap_mqtt_level_iter_next(&fi, &fl);
        bool more_t = osap_mqtt_level_iter_next(&ti, &tl);
        if (!more_f) return !more_t;
        if (level_is(&fl, '#')) return true;
        if (!more_t) return false;
        if (level_is(&fl, '+')) continue;
        if (fl.len != tl.len || memcmp(fl.ptr, tl.ptr, fl.len) != 0) return false;
    }
}

static void check_topics(const uint8_t *data, size_t size)
{
    size_t cut = size ? data[0] % (size + 1) : 0;
    const char *f = (const char *)data, *t = (const char *)data + cut;
    size_t flen = cut, tlen = size - cut;
    bool f_ok = osap_mqtt_filter_validate(f, flen) == OSAP_OK;
    bool t_ok = osap_mqtt_topic_validate(t, tlen) == OSAP_OK;
    bool ft_ok = osap_mqtt_topic_validate(f, flen) == OSAP_OK;

    if (ft_ok) CHECK(f_ok); /* every topic name is a filter */
    if (f_ok && t_ok) {
        bool m = osap_mqtt_filter_matches(f, flen, t, tlen);
        CHECK(m == reference_matches(f, flen, t, tlen));
        if (ft_ok) CHECK(m == (flen == tlen && memcmp(f, t, flen) == 0));
        if (t[0] != '$') CHECK(osap_mqtt_filter_matches("#", 1, t, tlen));
        CHECK(osap_mqtt_filter_matches(t, tlen, t, tlen));
    }
    struct osap_mqtt_level_iter it;
    struct osap_mqtt_str level;
    size_t levels = 0, bytes = 0;
    osap_mqtt_level_iter_init(&it, t, tlen);
    while (osap_mqtt_level_iter_next(&it, &level)) {
        levels++;
        bytes += level.len;
    }
    CHECK(levels >= 1 && bytes + levels - 1 == tlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_one_packet(data, size);
    check_stream(data, size, OSAP_MQTT_STRICT);
    check_stream(data, size, OSAP_MQTT_LENIENT);
    check_topics(data, size);
    return 0;
}
