/* Output of one connection: packets are queued (header bytes copied, payloads
 * referenced) and written once per loop iteration, uv_try_write first, uv_write for
 * what the socket did not take. Every packet is queued whole, so a flush never
 * splits a packet across loop iterations. */
#include "das/das_internal.h"

#include "log.h"
#include "osap/alloc.h"

#include <string.h>

#define OUT_MIN_BYTES 256
#define OUT_MIN_SEGS  8
#define IOV_BATCH     256

void das_out_release(struct das_worker *w, struct das_out *o)
{
    for (uint32_t i = 0; i < o->nsegs; i++)
        das_msg_unref(o->segs[i].msg);
    if (o->bcap == OUT_MIN_BYTES && w->nspare_bytes < DAS_OUT_SPARES)
        w->spare_bytes[w->nspare_bytes++] = o->bytes;
    else
        osap_free(o->bytes);
    if (o->capsegs == OUT_MIN_SEGS && w->nspare_segs < DAS_OUT_SPARES)
        w->spare_segs[w->nspare_segs++] = o->segs;
    else
        osap_free(o->segs);
    memset(o, 0, sizeof(*o));
}

void das_out_spares_free(struct das_worker *w)
{
    while (w->nspare_bytes)
        osap_free(w->spare_bytes[--w->nspare_bytes]);
    while (w->nspare_segs)
        osap_free(w->spare_segs[--w->nspare_segs]);
}

uint8_t *das_out_reserve(struct das_conn *c, size_t n)
{
    struct das_out *o = &c->out;
    struct das_worker *w = c->w;

    if (!o->bytes && n <= OUT_MIN_BYTES && w->nspare_bytes) {
        o->bytes = w->spare_bytes[--w->nspare_bytes];
        o->bcap = OUT_MIN_BYTES;
    }
    if (o->blen + n > o->bcap) {
        size_t cap = o->bcap ? o->bcap : OUT_MIN_BYTES;
        while (cap < o->blen + n)
            cap *= 2;
        if (cap > UINT32_MAX) return NULL;
        uint8_t *b = osap_realloc(o->bytes, cap);
        if (!b) return NULL;
        o->bytes = b;
        o->bcap = (uint32_t)cap;
    }
    return o->bytes + o->blen;
}

osap_err das_out_commit(struct das_conn *c, size_t n, struct das_msg *msg)
{
    struct das_out *o = &c->out;
    struct das_seg *last = o->nsegs ? &o->segs[o->nsegs - 1] : NULL;

    if (last && !last->msg && last->off + last->len == o->blen) {
        last->len += (uint32_t)n;
        last->msg = msg ? das_msg_ref(msg) : NULL;
    } else {
        if (!o->segs && c->w->nspare_segs) {
            o->segs = c->w->spare_segs[--c->w->nspare_segs];
            o->capsegs = OUT_MIN_SEGS;
        }
        if (o->nsegs == o->capsegs) {
            uint32_t cap = o->capsegs ? o->capsegs * 2 : OUT_MIN_SEGS;
            struct das_seg *v = osap_realloc(o->segs, cap * sizeof(*v));
            if (!v) return OSAP_ENOMEM;
            o->segs = v;
            o->capsegs = cap;
        }
        o->segs[o->nsegs++] = (struct das_seg){o->blen, (uint32_t)n, msg ? das_msg_ref(msg) : NULL};
    }
    o->blen += (uint32_t)n;
    c->out_bytes += n + (msg ? msg->payload_len : 0);
    das_worker_want_flush(c->w, c);
    return OSAP_OK;
}

/* The bytes of the queue from segment @p seg, @p skip bytes into it (less than the
 * segment's size), as buffers; stops when @p cap buffers are used. */
static uint32_t fill_bufs(const struct das_out *o, uint32_t seg, size_t skip, uv_buf_t *bufs,
                          uint32_t cap, uint32_t *next_seg)
{
    uint32_t n = 0;
    while (seg < o->nsegs && n + 2 <= cap) {
        const struct das_seg *s = &o->segs[seg];
        if (skip < s->len) {
            bufs[n++] = uv_buf_init((char *)o->bytes + s->off + skip, (unsigned)(s->len - skip));
            skip = 0;
        } else {
            skip -= s->len;
        }
        if (s->msg && s->msg->payload_len > skip)
            bufs[n++] = uv_buf_init((char *)das_msg_payload(s->msg) + skip,
                                    (unsigned)(s->msg->payload_len - skip));
        skip = 0;
        seg++;
    }
    *next_seg = seg;
    return n;
}

static size_t seg_size(const struct das_seg *s)
{
    return s->len + (s->msg ? s->msg->payload_len : 0);
}

static void on_write(uv_write_t *req, int status)
{
    struct das_wreq *wr = das_container_of(req, struct das_wreq, req);
    struct das_conn *c = wr->conn;

    c->out_bytes -= wr->pending < c->out_bytes ? wr->pending : c->out_bytes;
    das_out_release(c->w, &wr->out);
    osap_free(wr);
    c->writing = NULL;
    if (status < 0) {
        if (status != UV_ECANCELED) das_conn_close(c, uv_strerror(status), 0);
        return;
    }
    if (c->out.nsegs) das_out_flush(c);
    if (c->throttled && c->out_bytes <= c->w->das->set.max_output_bytes / 2) {
        c->throttled = false;
        if (c->state == DAS_CONN_ACTIVE && !c->reading) das_conn_resume(c);
    }
}

/* Hand the unwritten part (from segment @p seg, @p skip bytes in) to uv_write; the
 * queue moves into the request. */
static osap_err write_rest(struct das_conn *c, uint32_t seg, size_t skip)
{
    struct das_out *o = &c->out;
    struct das_wreq *wr = osap_malloc(sizeof(*wr));
    uint32_t cap = 2 * (o->nsegs - seg), n, next;
    uv_buf_t *bufs = osap_malloc(cap * sizeof(*bufs));
    osap_err err = OSAP_ENOMEM;

    if (!wr || !bufs) goto out;
    n = fill_bufs(o, seg, skip, bufs, cap, &next);
    wr->conn = c;
    wr->pending = 0;
    for (uint32_t i = 0; i < n; i++)
        wr->pending += bufs[i].len;
    wr->out = *o;
    if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, bufs, n, on_write) != 0) {
        err = OSAP_EIO;
        goto out;
    }
    memset(o, 0, sizeof(*o));
    c->writing = wr;
    wr = NULL;
    err = OSAP_OK;
out:
    osap_free(bufs);
    osap_free(wr);
    return err;
}

void das_out_flush(struct das_conn *c)
{
    struct das_out *o = &c->out;
    uv_buf_t bufs[IOV_BATCH];
    uint32_t seg = 0, next;
    size_t skip = 0;

    if (c->writing || o->nsegs == 0 || c->state == DAS_CONN_CLOSING || c->state == DAS_CONN_MOVING)
        return;
    while (seg < o->nsegs) {
        uint32_t n = fill_bufs(o, seg, 0, bufs, IOV_BATCH, &next);
        size_t want = 0;
        int r;
        for (uint32_t i = 0; i < n; i++)
            want += bufs[i].len;
        r = uv_try_write((uv_stream_t *)&c->tcp, bufs, n);
        if (r == UV_EAGAIN || r == UV_ENOSYS) r = 0;
        if (r < 0) {
            das_out_release(c->w, o);
            c->out_bytes = 0;
            das_conn_close(c, uv_strerror(r), 0);
            return;
        }
        c->out_bytes -= (size_t)r;
        if ((size_t)r == want) {
            seg = next;
            continue;
        }
        skip = (size_t)r; /* partial: find where the socket stopped */
        while (skip >= seg_size(&o->segs[seg]))
            skip -= seg_size(&o->segs[seg++]);
        break;
    }
    if (seg == o->nsegs) {
        das_out_release(c->w, o);
        return;
    }
    if (write_rest(c, seg, skip) != OSAP_OK) {
        das_out_release(c->w, o);
        c->out_bytes = 0;
        das_conn_close(c, "cannot write", 0);
    }
}
