/* MQTT streaming decoder: bytes in pieces of any size, whole packets out.
 *
 * The fixed header (at most five bytes) is assembled inside the stream object;
 * a body is decoded in place when it lies whole in the caller's input, and is
 * copied into the caller's buffer only when it arrives in pieces. */
#include "osap/mqtt.h"

#include <string.h>

void osap_mqtt_stream_init(struct osap_mqtt_stream *s, uint8_t *buf, size_t cap, unsigned mode)
{
    memset(s, 0, sizeof(*s));
    s->buf = buf;
    s->cap = buf ? cap : 0;
    /* osap_mqtt_frame() reads a limit of 0 as "none": without a buffer,
     * every packet is too big. */
    s->max = s->cap ? s->cap : 1;
    s->mode = mode;
    s->err = OSAP_OK;
}

/* Between packets: no header bytes, no body bytes. */
static void stream_clear(struct osap_mqtt_stream *s)
{
    s->hlen = 0;
    s->have_hdr = false;
    s->blen = 0;
}

void osap_mqtt_stream_reset(struct osap_mqtt_stream *s)
{
    stream_clear(s);
    s->err = OSAP_OK;
}

bool osap_mqtt_stream_idle(const struct osap_mqtt_stream *s)
{
    return s->hlen == 0 && !s->have_hdr;
}

static osap_err stream_fail(struct osap_mqtt_stream *s, osap_err err)
{
    s->err = err;
    return err;
}

/* The body is complete at @p body: decode it and get ready for the next packet. */
static osap_err stream_emit(struct osap_mqtt_stream *s, const uint8_t *body,
                            struct osap_mqtt_packet *pkt)
{
    osap_err err = osap_mqtt_decode_body(&s->hdr, body, s->mode, pkt);
    if (err) return stream_fail(s, err);
    stream_clear(s);
    return OSAP_OK;
}

osap_err osap_mqtt_stream_next(struct osap_mqtt_stream *s, const uint8_t *in, size_t len,
                               size_t *consumed, struct osap_mqtt_packet *pkt)
{
    size_t used = 0;
    osap_err err;

    if (s->err) return s->err;

    if (!s->have_hdr && s->hlen == 0) {
        /* Fast path: the packet starts at in[0]. */
        err = osap_mqtt_frame(in, len, s->max, &s->hdr);
        if (err == OSAP_OK) {
            s->have_hdr = true;
            used = s->hdr.header_len;
        } else if (err != OSAP_ENEED_MORE) {
            return stream_fail(s, err);
        }
        /* else fall through: the header bytes are buffered below. */
    }
    while (!s->have_hdr && used < len) {
        s->hbuf[s->hlen++] = in[used++];
        err = osap_mqtt_frame(s->hbuf, s->hlen, s->max, &s->hdr);
        if (err == OSAP_OK)
            s->have_hdr = true;
        else if (err != OSAP_ENEED_MORE)
            return stream_fail(s, err);
    }
    if (!s->have_hdr) {
        *consumed = len;
        return OSAP_ENEED_MORE;
    }

    size_t need = s->hdr.remaining_len - s->blen;
    size_t avail = len - used;
    if (s->blen == 0 && avail >= need) {
        /* Zero copy: the whole body is in the caller's input. */
        err = stream_emit(s, in + used, pkt);
        if (err) return err;
        *consumed = used + need;
        return OSAP_OK;
    }
    size_t n = avail < need ? avail : need;
    if (n) memcpy(s->buf + s->blen, in + used, n);
    s->blen += n;
    used += n;
    if (s->blen < s->hdr.remaining_len) {
        *consumed = len;
        return OSAP_ENEED_MORE;
    }
    err = stream_emit(s, s->buf, pkt);
    if (err) return err;
    *consumed = used;
    return OSAP_OK;
}
