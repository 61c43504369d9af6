/*
 * One device connection on the loop thread: read into a buffer of max_frame
 * bytes, cut frames with osap_lbs_frame_length(), hand each whole frame to the
 * pool (one at a time: reading pauses meanwhile), write the answer, and end the
 * connection when the machine says so: shut our side down, then discard input for
 * close_linger so the device reads the answer before the connection goes away
 * (closing a socket with unread input would reset it and could destroy the
 * answer). The step timer gives the device step_timeout to deliver each frame.
 */
#include "lbs/lbs_internal.h"

#include "log.h"
#include "osap/alloc.h"

#include <string.h>

/* ------------------------------------------------------------------------ */
/* Lists                                                                    */
/* ------------------------------------------------------------------------ */

void lbs_list_push(struct lbs_conn_list *l, struct lbs_conn *c, bool idle)
{
    struct lbs_conn **prev = idle ? &c->idle_prev : &c->prev;
    struct lbs_conn **next = idle ? &c->idle_next : &c->next;

    *prev = l->tail;
    *next = NULL;
    if (l->tail) {
        if (idle)
            l->tail->idle_next = c;
        else
            l->tail->next = c;
    } else {
        l->head = c;
    }
    l->tail = c;
    l->n++;
}

void lbs_list_remove(struct lbs_conn_list *l, struct lbs_conn *c, bool idle)
{
    struct lbs_conn *prev = idle ? c->idle_prev : c->prev;
    struct lbs_conn *next = idle ? c->idle_next : c->next;

    if (prev) {
        if (idle)
            prev->idle_next = next;
        else
            prev->next = next;
    } else {
        l->head = next;
    }
    if (next) {
        if (idle)
            next->idle_prev = prev;
        else
            next->prev = prev;
    } else {
        l->tail = prev;
    }
    if (idle)
        c->idle_prev = c->idle_next = NULL;
    else
        c->prev = c->next = NULL;
    l->n--;
}

/* ------------------------------------------------------------------------ */
/* Closing                                                                  */
/* ------------------------------------------------------------------------ */

static void on_handle_closed(uv_handle_t *h)
{
    struct lbs_conn *c = h->data;

    if (--c->open_handles > 0) return;
    osap_lbs_server_free(c->machine);
    osap_free(c->rx);
    osap_cleanse(&c->dev, sizeof(c->dev));
    osap_cleanse(c->tx, sizeof(c->tx));
    osap_free(c);
}

static void leave_idle(struct lbs_conn *c)
{
    if (!c->in_idle) return;
    lbs_list_remove(&c->lbs->idle, c, true);
    c->in_idle = false;
}

void lbs_conn_close(struct lbs_conn *c)
{
    struct osapd_lbs *lbs = c->lbs;

    if (c->state == CONN_CLOSING) return;
    if (c->state == CONN_WORKING) {
        c->close_after_work = true; /* the pool thread still uses c */
        return;
    }
    c->state = CONN_CLOSING;
    leave_idle(c);
    lbs_list_remove(&lbs->conns, c, false);
    lbs_addr_release(lbs, c->peer);
    if (c->serial_admitted) {
        lbs_budget_done(lbs->by_serial, c->serial, (int64_t)uv_now(&lbs->loop), false);
        c->serial_admitted = false;
    }
    atomic_fetch_sub(&lbs->counters.open, 1);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    lbs_service_maybe_done(lbs);
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */
/* ------------------------------------------------------------------------ */

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct lbs_conn *c = h->data;
    size_t cap = (size_t)c->lbs->cfg->max_frame;

    (void)suggested;
    if (c->state == CONN_LINGER || c->rx_len >= cap) {
        /* discarded: one scratch buffer serves every connection of the loop */
        buf->base = c->lbs->scratch;
        buf->len = sizeof(c->lbs->scratch);
        return;
    }
    buf->base = (char *)c->rx + c->rx_len;
    buf->len = cap - c->rx_len;
}

static void read_start(struct lbs_conn *c)
{
    if (c->reading) return;
    if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read) == 0) c->reading = true;
}

static void read_stop(struct lbs_conn *c)
{
    if (!c->reading) return;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
}

static void on_timer(uv_timer_t *t)
{
    struct lbs_conn *c = t->data;
    struct osapd_lbs *lbs = c->lbs;

    if (c->state == CONN_READING) {
        atomic_fetch_add(&lbs->counters.timeouts, 1);
        OSAP_LOG_KV(OSAP_LOG_INFO, LBS_LOG,
                    OSAP_LOG_FIELDS(OSAP_LOG_STR("peer", c->peer),
                                    OSAP_LOG_STR("serial", c->serial),
                                    OSAP_LOG_INT("buffered", c->rx_len)),
                    "step timeout: no whole message within %lld ms, closing",
                    (long long)lbs->cfg->step_timeout_ms);
    }
    lbs_conn_close(c);
}

static void step_timer_start(struct lbs_conn *c)
{
    uv_timer_start(&c->timer, on_timer, (uint64_t)c->lbs->cfg->step_timeout_ms, 0);
}

/* A refusal of the serial's first 0x1 (its budget is spent): answered like a wrong
 * code, result 1, without looking at the code. Returns true when refused. */
static bool refuse_serial(struct lbs_conn *c)
{
    struct osapd_lbs *lbs = c->lbs;
    struct osap_lbs_frame f;
    struct osap_lbs_auth_req m;
    size_t len = 0;
    int64_t wait;

    if ((c->rx[0] >> 4) != OSAP_LBS_AUTH_I) return false;
    if (osap_lbs_frame_decode(c->rx, c->frame_len, (size_t)lbs->cfg->max_frame, &f) != OSAP_OK ||
        osap_lbs_auth_req_decode(&f, &m) != OSAP_OK)
        return false; /* malformed: the machine answers result 3 */
    if (memchr(m.subserial, '\0', m.subserial_len)) return false;
    memcpy(c->serial, m.subserial, m.subserial_len);
    c->serial[m.subserial_len] = '\0';
    wait = lbs_budget_admit(lbs->by_serial, c->serial, (int64_t)uv_now(&lbs->loop));
    if (!wait) {
        c->serial_admitted = true;
        return false;
    }
    atomic_fetch_add(&lbs->counters.refused_serial, 1);
    lbs_stats_refusal(lbs, "serial spent its attempt budget", c->peer, c->serial, wait);
    if (osap_lbs_error_encode(OSAP_LBS_AUTH_II, 0, OSAP_LBS_AUTH_ECDH, OSAP_LBS_SIGN_ERROR, c->tx,
                              sizeof(c->tx), &len) != OSAP_OK) {
        lbs_conn_close(c);
        return true;
    }
    lbs_conn_answer_and_close(c, len);
    return true;
}

/* A whole frame (or a framing error) is at rx[0..frame_len): hand it on. */
static void dispatch(struct lbs_conn *c)
{
    read_stop(c);
    uv_timer_stop(&c->timer);
    if (!c->seen_frame) {
        c->seen_frame = true;
        leave_idle(c);
        if (refuse_serial(c)) return;
    }
    c->state = CONN_WORKING;
    if (lbs_work_queue(c) != OSAP_OK) {
        c->state = CONN_READING;
        OSAP_LOGE(LBS_LOG, "cannot queue a frame from %s", c->peer);
        lbs_conn_close(c);
    }
}

/* Look for a whole frame in rx. */
static void try_frame(struct lbs_conn *c)
{
    size_t cap = (size_t)c->lbs->cfg->max_frame, flen = 0;
    osap_err err;

    if (c->rx_len == 0) return;
    err = osap_lbs_frame_length(c->rx, c->rx_len, cap, &flen);
    if (err == OSAP_ENEED_MORE) {
        if (c->rx_len < cap) return;
        flen = c->rx_len; /* cannot happen: the length would have exceeded max_frame */
    } else if (err != OSAP_OK) {
        /* A fifth length byte, a non-minimal length or a frame over max_frame: the
         * machine answers result 3 to the bytes received so far. */
        flen = c->rx_len;
    }
    c->frame_len = flen;
    dispatch(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct lbs_conn *c = s->data;

    (void)buf;
    if (c->state == CONN_CLOSING || nread == 0) return;
    if (nread < 0) {
        if (c->state != CONN_LINGER && nread != UV_EOF)
            OSAP_LOGD(LBS_LOG, "read from %s: %s", c->peer, uv_strerror((int)nread));
        else if (c->state == CONN_READING && c->seen_frame)
            OSAP_LOGD(LBS_LOG, "%s closed the connection in the middle of a handshake", c->peer);
        lbs_conn_close(c);
        return;
    }
    if (c->state != CONN_READING || buf->base == c->lbs->scratch) return; /* discarded */
    c->rx_len += (size_t)nread;
    try_frame(c);
}

/* ------------------------------------------------------------------------ */
/* Writing and the end of a connection                                      */
/* ------------------------------------------------------------------------ */

static void on_linger_timer(uv_timer_t *t)
{
    lbs_conn_close(t->data);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct lbs_conn *c = req->data;

    if (c->state == CONN_CLOSING) return;
    if (status < 0) lbs_conn_close(c);
}

/* The last answer is out: half-close, then wait for the device to close. */
static void linger(struct lbs_conn *c)
{
    int64_t ms = c->lbs->cfg->close_linger_ms;

    c->state = CONN_LINGER;
    c->rx_len = 0;
    c->shutdown_req.data = c;
    if (ms == 0 || uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        lbs_conn_close(c);
        return;
    }
    read_start(c);
    uv_timer_start(&c->timer, on_linger_timer, (uint64_t)ms, 0);
}

static void after_write(struct lbs_conn *c)
{
    if (c->step.close) {
        linger(c);
        return;
    }
    c->state = CONN_READING;
    step_timer_start(c);
    read_start(c);
    try_frame(c); /* the device may have sent its next frame already (0x9, 0xA) */
}

static void on_write(uv_write_t *req, int status)
{
    struct lbs_conn *c = req->data;

    if (c->state == CONN_CLOSING) return;
    if (status < 0) {
        OSAP_LOGD(LBS_LOG, "write to %s: %s", c->peer, uv_strerror(status));
        lbs_conn_close(c);
        return;
    }
    after_write(c);
}

static void send_tx(struct lbs_conn *c)
{
    uv_buf_t b = uv_buf_init((char *)c->tx, (unsigned)c->tx_len);

    c->state = CONN_WRITING;
    c->write_req.data = c;
    if (uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &b, 1, on_write) != 0) lbs_conn_close(c);
}

void lbs_conn_answer_and_close(struct lbs_conn *c, size_t len)
{
    memset(&c->step, 0, sizeof(c->step));
    c->step.close = 1;
    c->tx_len = len;
    send_tx(c);
}

void lbs_conn_after_work(struct lbs_conn *c)
{
    struct osapd_lbs *lbs = c->lbs;
    size_t used = c->frame_len <= c->rx_len ? c->frame_len : c->rx_len;

    c->state = CONN_READING; /* not in the pool any more */
    atomic_fetch_add(&lbs->counters.frames, 1);
    memmove(c->rx, c->rx + used, c->rx_len - used);
    c->rx_len -= used;
    c->frame_len = 0;
    if (c->feed_err != OSAP_OK) {
        if (c->feed_err != OSAP_ECLOSED)
            OSAP_LOGE(LBS_LOG, "state machine refused a frame from %s: %s", c->peer,
                      osap_strerror(c->feed_err));
        lbs_conn_close(c);
        return;
    }
    lbs_stats_outcome(c);
    if (c->close_after_work) {
        lbs_conn_close(c);
        return;
    }
    if (c->tx_len)
        send_tx(c);
    else
        after_write(c);
}

void lbs_conn_start(struct lbs_conn *c)
{
    struct osapd_lbs *lbs = c->lbs;

    c->state = CONN_READING;
    c->accepted_at = uv_now(&lbs->loop);
    lbs_list_push(&lbs->conns, c, false);
    lbs_list_push(&lbs->idle, c, true);
    c->in_idle = true;
    atomic_fetch_add(&lbs->counters.open, 1);
    uv_tcp_nodelay(&c->tcp, 1);
    step_timer_start(c);
    read_start(c);
}
