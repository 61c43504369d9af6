/* The binary form of one persistent DAS session (see store_das_state.h). All
 * integers big-endian:
 *
 *   u8 version (1), u16 next packet id (not 0)
 *   u32 n, n subscriptions:   u16 length (>= 1), filter, u8 QoS (0..2)
 *   u32 n, n incoming QoS 2:  u16 packet id (not 0)
 *   u32 n, n in flight:       u16 packet id (not 0), u8 QoS (1..2), u8 state (1..3,
 *                             consistent with the QoS), u8 RETAIN (0/1), then the
 *                             message unless the state is 3 (PUBREL sent)
 *   u32 n, n queued:          u8 QoS (0..2), u8 RETAIN (0/1), message
 *   message:                  u8 published QoS (0..2), u16 topic length (>= 1), topic,
 *                             u32 payload length, payload
 *
 * Decoding checks every count against the bytes left before allocating, every field
 * against its range, and refuses bytes after the end. */
#include "store_das_state.h"

#include "osap/alloc.h"

#include <stdbool.h>
#include <string.h>

/* Smallest encoded size of each record (for the count checks). */
#define SUB_MIN      4
#define REL_MIN      2
#define INFLIGHT_MIN 5
#define QUEUED_MIN   10

/* ------------------------------------------------------------------------ */
/* Encoding                                                                 */
/* ------------------------------------------------------------------------ */

static bool item_valid(const struct osap_das_state_item *it, bool inflight)
{
    if (it->retain > 1) return false;
    if (inflight) {
        if (it->pid == 0) return false;
        if (it->qos == 1 && it->state != OSAP_DAS_STATE_WAIT_PUBACK) return false;
        if (it->qos == 2 && it->state != OSAP_DAS_STATE_WAIT_PUBREC &&
            it->state != OSAP_DAS_STATE_WAIT_PUBCOMP)
            return false;
        if (it->qos != 1 && it->qos != 2) return false;
        if (it->state == OSAP_DAS_STATE_WAIT_PUBCOMP) return true;
    } else if (it->qos > 2) {
        return false;
    }
    return it->topic && it->topic_len > 0 && it->pub_qos <= 2 && (it->payload || !it->payload_len);
}

static size_t item_size(const struct osap_das_state_item *it, bool inflight)
{
    size_t n = inflight ? 5 : 2;
    if (inflight && it->state == OSAP_DAS_STATE_WAIT_PUBCOMP) return n;
    return n + 1 + 2 + it->topic_len + 4 + it->payload_len;
}

static uint8_t *put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

static uint8_t *put_msg(uint8_t *p, const struct osap_das_state_item *it)
{
    *p++ = it->pub_qos;
    p = put16(p, it->topic_len);
    memcpy(p, it->topic, it->topic_len);
    p += it->topic_len;
    p = put32(p, it->payload_len);
    if (it->payload_len) memcpy(p, it->payload, it->payload_len);
    return p + it->payload_len;
}

osap_err osap_das_state_encode(const struct osap_das_session_state *st, uint8_t **out,
                               size_t *out_len)
{
    size_t size = 1 + 2 + 4 * 4;
    uint8_t *buf, *p;

    if (!st || !out || !out_len || st->next_pid == 0) return OSAP_EINVAL;
    for (uint32_t i = 0; i < st->nsubs; i++) {
        if (st->subs[i].len == 0 || st->subs[i].qos > 2 || !st->subs[i].filter) return OSAP_EINVAL;
        size += 2 + (size_t)st->subs[i].len + 1;
    }
    for (uint32_t i = 0; i < st->nrel; i++)
        if (st->rel[i] == 0) return OSAP_EINVAL;
    size += 2 * (size_t)st->nrel;
    for (uint32_t i = 0; i < st->ninflight; i++) {
        if (!item_valid(&st->inflight[i], true)) return OSAP_EINVAL;
        size += item_size(&st->inflight[i], true);
    }
    for (uint32_t i = 0; i < st->nqueued; i++) {
        if (!item_valid(&st->queued[i], false)) return OSAP_EINVAL;
        size += item_size(&st->queued[i], false);
    }
    buf = osap_malloc(size);
    if (!buf) return OSAP_ENOMEM;
    p = buf;
    *p++ = OSAP_DAS_STATE_VERSION;
    p = put16(p, st->next_pid);
    p = put32(p, st->nsubs);
    for (uint32_t i = 0; i < st->nsubs; i++) {
        p = put16(p, st->subs[i].len);
        memcpy(p, st->subs[i].filter, st->subs[i].len);
        p += st->subs[i].len;
        *p++ = st->subs[i].qos;
    }
    p = put32(p, st->nrel);
    for (uint32_t i = 0; i < st->nrel; i++)
        p = put16(p, st->rel[i]);
    p = put32(p, st->ninflight);
    for (uint32_t i = 0; i < st->ninflight; i++) {
        const struct osap_das_state_item *it = &st->inflight[i];
        p = put16(p, it->pid);
        *p++ = it->qos;
        *p++ = it->state;
        *p++ = it->retain;
        if (it->state != OSAP_DAS_STATE_WAIT_PUBCOMP) p = put_msg(p, it);
    }
    p = put32(p, st->nqueued);
    for (uint32_t i = 0; i < st->nqueued; i++) {
        *p++ = st->queued[i].qos;
        *p++ = st->queued[i].retain;
        p = put_msg(p, &st->queued[i]);
    }
    *out = buf;
    *out_len = (size_t)(p - buf);
    return OSAP_OK;
}

/* ------------------------------------------------------------------------ */
/* Decoding                                                                 */
/* ------------------------------------------------------------------------ */

struct reader {
    const uint8_t *p;
    size_t left;
    bool bad;
};

static uint8_t get8(struct reader *r)
{
    if (r->bad || r->left < 1) {
        r->bad = true;
        return 0;
    }
    r->left--;
    return *r->p++;
}

static uint16_t get16(struct reader *r)
{
    uint16_t v;
    if (r->bad || r->left < 2) {
        r->bad = true;
        return 0;
    }
    v = (uint16_t)((r->p[0] << 8) | r->p[1]);
    r->p += 2;
    r->left -= 2;
    return v;
}

static uint32_t get32(struct reader *r)
{
    uint32_t v;
    if (r->bad || r->left < 4) {
        r->bad = true;
        return 0;
    }
    v = ((uint32_t)r->p[0] << 24) | ((uint32_t)r->p[1] << 16) | ((uint32_t)r->p[2] << 8) | r->p[3];
    r->p += 4;
    r->left -= 4;
    return v;
}

static const uint8_t *get_bytes(struct reader *r, size_t n)
{
    const uint8_t *v;
    if (r->bad || r->left < n) {
        r->bad = true;
        return NULL;
    }
    v = r->p;
    r->p += n;
    r->left -= n;
    return v;
}

/* A count followed by records of at least @p min bytes each, and room for them. */
static osap_err get_count(struct reader *r, size_t min, size_t elem, uint32_t *n, void **arr)
{
    *n = get32(r);
    *arr = NULL;
    if (r->bad || *n > r->left / min) return OSAP_EINVAL;
    if (*n == 0) return OSAP_OK;
    *arr = osap_calloc(*n, elem);
    return *arr ? OSAP_OK : OSAP_ENOMEM;
}

static bool get_msg(struct reader *r, struct osap_das_state_item *it)
{
    it->pub_qos = get8(r);
    it->topic_len = get16(r);
    it->topic = (const char *)get_bytes(r, it->topic_len);
    it->payload_len = get32(r);
    it->payload = get_bytes(r, it->payload_len);
    return !r->bad && it->pub_qos <= 2 && it->topic_len > 0;
}

void osap_das_state_release(struct osap_das_session_state *st)
{
    if (!st) return;
    osap_free(st->subs);
    osap_free(st->rel);
    osap_free(st->inflight);
    osap_free(st->queued);
    memset(st, 0, sizeof(*st));
}

osap_err osap_das_state_decode(const uint8_t *blob, size_t len, struct osap_das_session_state *out)
{
    struct reader r = {blob, len, false};
    struct osap_das_session_state st;
    osap_err err = OSAP_EINVAL;
    void *arr;

    memset(&st, 0, sizeof(st));
    if (!out || (!blob && len)) return OSAP_EINVAL;
    if (len >= 1 && blob[0] != OSAP_DAS_STATE_VERSION) return OSAP_ESTORE_SCHEMA;
    get8(&r);
    st.next_pid = get16(&r);
    if (r.bad || st.next_pid == 0) goto fail;

    if ((err = get_count(&r, SUB_MIN, sizeof(*st.subs), &st.nsubs, &arr)) != OSAP_OK) goto fail;
    st.subs = arr;
    err = OSAP_EINVAL;
    for (uint32_t i = 0; i < st.nsubs; i++) {
        struct osap_das_state_sub *s = &st.subs[i];
        s->len = get16(&r);
        s->filter = (const char *)get_bytes(&r, s->len);
        s->qos = get8(&r);
        if (r.bad || s->len == 0 || s->qos > 2) goto fail;
    }

    if ((err = get_count(&r, REL_MIN, sizeof(*st.rel), &st.nrel, &arr)) != OSAP_OK) goto fail;
    st.rel = arr;
    err = OSAP_EINVAL;
    for (uint32_t i = 0; i < st.nrel; i++) {
        st.rel[i] = get16(&r);
        if (r.bad || st.rel[i] == 0) goto fail;
    }

    err = get_count(&r, INFLIGHT_MIN, sizeof(*st.inflight), &st.ninflight, &arr);
    if (err) goto fail;
    st.inflight = arr;
    err = OSAP_EINVAL;
    for (uint32_t i = 0; i < st.ninflight; i++) {
        struct osap_das_state_item *it = &st.inflight[i];
        it->pid = get16(&r);
        it->qos = get8(&r);
        it->state = get8(&r);
        it->retain = get8(&r);
        if (r.bad) goto fail;
        if (it->state != OSAP_DAS_STATE_WAIT_PUBCOMP && !get_msg(&r, it)) goto fail;
        if (!item_valid(it, true)) goto fail;
    }

    err = get_count(&r, QUEUED_MIN, sizeof(*st.queued), &st.nqueued, &arr);
    if (err) goto fail;
    st.queued = arr;
    err = OSAP_EINVAL;
    for (uint32_t i = 0; i < st.nqueued; i++) {
        struct osap_das_state_item *it = &st.queued[i];
        it->qos = get8(&r);
        it->retain = get8(&r);
        if (r.bad || !get_msg(&r, it) || !item_valid(it, false)) goto fail;
    }
    if (r.left != 0) {
        err = OSAP_ETRAILING;
        goto fail;
    }
    *out = st;
    return OSAP_OK;
fail:
    osap_das_state_release(&st);
    return err;
}
