/* Connections: accept, read and frame packets, hand over to the home worker, close.
 *
 * Reading: bytes are read into the worker's buffer and packets are decoded in place.
 * Only a packet cut by the end of a read is copied, into a buffer of exactly its size
 * (its fixed header says how big it is); later reads go straight into that buffer. An
 * idle connection holds no read buffer at all. */
#include "das/das_internal.h"

#include "log.h"
#include "osap/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Connections taken from the listening socket per readable event. */
#define ACCEPT_BATCH 64
/* Refused connections are logged at most this often (ms), with their count. */
#define REFUSED_LOG_MS 10000

/* ------------------------------------------------------------------------ */
/* Life cycle                                                               */
/* ------------------------------------------------------------------------ */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* Close callback of a connection that never started (not counted anywhere). */
static void free_unstarted(uv_handle_t *h)
{
    osap_free(h->data);
}

static struct das_conn *conn_new(struct das_worker *w)
{
    struct das_conn *c = osap_calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->w = w;
    c->refs = 1;
    das_list_init(&c->flush_link);
    das_list_init(&c->wheel_link);
    if (uv_tcp_init(&w->loop, &c->tcp) != 0) {
        osap_free(c);
        return NULL;
    }
    c->tcp.data = c;
    return c;
}

/* ------------------------------------------------------------------------ */
/* Memory before CONNACK ([das] connect_max_total)                          */
/* ------------------------------------------------------------------------ */

static bool charge(struct das_conn *c, uint32_t *slot, size_t n)
{
    struct das *das = c->w->das;
    uint64_t old = atomic_fetch_add_explicit(&das->preauth_bytes, n, memory_order_relaxed);

    if (old + n > das->set.connect_max_total) {
        atomic_fetch_sub_explicit(&das->preauth_bytes, n, memory_order_relaxed);
        OSAP_LOGD(DAS_LOG, "%s: connect_max_total (%llu bytes) reached", das_conn_peer(c),
                  (unsigned long long)das->set.connect_max_total);
        return false;
    }
    *slot += (uint32_t)n;
    return true;
}

static void uncharge(struct das_conn *c, uint32_t *slot)
{
    if (*slot == 0) return;
    atomic_fetch_sub_explicit(&c->w->das->preauth_bytes, *slot, memory_order_relaxed);
    *slot = 0;
}

bool das_conn_preauth_charge(struct das_conn *c, size_t n)
{
    return charge(c, &c->preauth, n);
}

void das_conn_preauth_done(struct das_conn *c)
{
    uncharge(c, &c->preauth);
}

void das_conn_release(struct das_conn *c)
{
    if (--c->refs > 0) return;
    uncharge(c, &c->pkt_charge);
    uncharge(c, &c->preauth);
    das_flow_conn_release(c);
    das_out_release(c->w, &c->out);
    osap_free(c->pkt);
    osap_free(c->client_id);
    osap_free(c->username);
    if (!c->is_device && c->acl != c->w->das->set.anon_acl) das_acl_free(c->acl);
    das_msg_unref(c->will);
    osap_free(c);
}

static void on_closed(uv_handle_t *h)
{
    struct das_conn *c = h->data;
    struct das_worker *w = c->w;

    atomic_fetch_sub_explicit(&w->nconns, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&w->das->nconns_total, 1, memory_order_relaxed);
    das_conn_release(c);
}

/* Register a new connection and start reading; @p counted: nconns_total already
 * includes it (accepted here). */
static osap_err conn_start(struct das_worker *w, struct das_conn *c, bool counted)
{
    osap_err err = das_worker_slot_add(w, c);
    if (err) return err;
    atomic_fetch_add_explicit(&w->nconns, 1, memory_order_relaxed);
    if (!counted) atomic_fetch_add_explicit(&w->das->nconns_total, 1, memory_order_relaxed);
    c->last_rx = uv_now(&w->loop);
    das_conn_schedule(c);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0) c->reading = true;
    return OSAP_OK;
}

/* A connection over max_connections: closed at once, before anything is allocated
 * for it; logged at most every REFUSED_LOG_MS with the count since. */
static void refuse_connection(struct das_worker *w, int fd)
{
    uint64_t now = uv_now(&w->loop);

    close(fd);
    w->refused++;
    if (w->refused_logged_at == 0 || now - w->refused_logged_at >= REFUSED_LOG_MS) {
        OSAP_LOGW(DAS_LOG, "worker %u: %llu connection(s) refused: max_connections (%llu) reached",
                  w->index, (unsigned long long)w->refused,
                  (unsigned long long)w->das->set.max_connections);
        w->refused = 0;
        w->refused_logged_at = now ? now : 1;
    }
}

/* Start serving the accepted socket @p fd (already counted in nconns_total). */
static void serve_accepted(struct das_worker *w, int fd)
{
    struct das_conn *c = conn_new(w);

    if (!c) {
        close(fd);
        atomic_fetch_sub_explicit(&w->das->nconns_total, 1, memory_order_relaxed);
        return;
    }
    if (uv_tcp_open(&c->tcp, fd) != 0) {
        close(fd);
        uv_close((uv_handle_t *)&c->tcp, free_unstarted);
        atomic_fetch_sub_explicit(&w->das->nconns_total, 1, memory_order_relaxed);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (conn_start(w, c, true) != OSAP_OK) {
        uv_close((uv_handle_t *)&c->tcp, free_unstarted); /* closes the fd */
        atomic_fetch_sub_explicit(&w->das->nconns_total, 1, memory_order_relaxed);
    }
}

void das_conn_accept(struct das_worker *w)
{
    struct das *das = w->das;

    for (int i = 0; i < ACCEPT_BATCH && w->listening; i++) {
        int fd = accept4(w->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* out of descriptors: the backlog waits for the next tick */
                OSAP_LOGW(DAS_LOG, "worker %u: accept: %s", w->index, strerror(errno));
                uv_poll_stop(&w->listener);
                w->accept_paused = true;
            }
            return; /* EAGAIN: nothing more */
        }
        if (atomic_fetch_add_explicit(&das->nconns_total, 1, memory_order_relaxed) >=
            das->set.max_connections) {
            atomic_fetch_sub_explicit(&das->nconns_total, 1, memory_order_relaxed);
            refuse_connection(w, fd);
            continue;
        }
        serve_accepted(w, fd);
    }
}

osap_err das_conn_open_fd(struct das_worker *w, int fd, const uint8_t *data, size_t len,
                          bool no_device)
{
    struct das_conn *c = conn_new(w);

    if (!c) {
        close(fd);
        return OSAP_ENOMEM;
    }
    if (uv_tcp_open(&c->tcp, fd) != 0) {
        close(fd);
        uv_close((uv_handle_t *)&c->tcp, free_unstarted);
        return OSAP_EIO;
    }
    c->no_device = no_device;
    if (conn_start(w, c, false) != OSAP_OK) {
        uv_close((uv_handle_t *)&c->tcp, free_unstarted); /* closes the fd */
        return OSAP_ENOMEM;
    }
    das_conn_feed(c, data, len);
    return OSAP_OK;
}

/* Write what is queued (a CONNACK refusal, say) without waiting: the connection is
 * going away. */
static void flush_final(struct das_conn *c)
{
    uv_buf_t bufs[64];
    uint32_t n = 0;
    struct das_out *o = &c->out;

    if (c->writing || o->nsegs == 0) return;
    for (uint32_t i = 0; i < o->nsegs && n + 2 <= 64; i++) {
        bufs[n++] = uv_buf_init((char *)o->bytes + o->segs[i].off, o->segs[i].len);
        if (o->segs[i].msg && o->segs[i].msg->payload_len)
            bufs[n++] =
                uv_buf_init((char *)das_msg_payload(o->segs[i].msg), o->segs[i].msg->payload_len);
    }
    uv_try_write((uv_stream_t *)&c->tcp, bufs, n);
}

void das_conn_close_now(struct das_conn *c, const char *reason, bool suppress_will)
{
    struct das_worker *w = c->w;
    struct das *das = w->das;
    uint8_t prev = c->state;

    if (prev == DAS_CONN_CLOSING) return;
    c->state = DAS_CONN_CLOSING;
    if (das_linked(&c->wheel_link)) das_list_remove(&c->wheel_link);
    if (das_linked(&c->flush_link)) das_list_remove(&c->flush_link);
    c->in_flushq = false;
    das_worker_slot_remove(w, c);
    if (prev == DAS_CONN_ACTIVE) {
        bool abnormal = !c->disconnected;
        OSAP_LOGD(DAS_LOG, "%s %s closed: %s", c->is_device ? "device" : "client",
                  c->session ? c->session->key : "?", reason ? reason : "");
        if (c->is_device) {
            atomic_fetch_sub_explicit(&w->ndevices, 1, memory_order_relaxed);
            if (das->have_hooks && das->hooks.on_close)
                das->hooks.on_close(das->hooks.userdata, c, abnormal);
            c->device = NULL;
        } else if (abnormal && c->will && !suppress_will && !c->suppress_will && !w->stopping) {
            das_route(w, c->will);
        }
        if (c->session && c->session->conn == c) das_session_detach(w, c->session);
        c->session = NULL;
    } else if (reason && prev != DAS_CONN_MOVING) {
        OSAP_LOGD(DAS_LOG, "connection closed before CONNECT was accepted: %s", reason);
    }
    if (prev != DAS_CONN_MOVING) flush_final(c);
    if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

/* ------------------------------------------------------------------------ */
/* Hand-over to the home worker                                             */
/* ------------------------------------------------------------------------ */

struct handoff {
    struct das_mail mail;
    int fd;
    bool no_device;
    size_t len;
    uint8_t data[];
};

static void handoff_run(struct das_worker *w, struct das_mail *m)
{
    struct handoff *h = das_container_of(m, struct handoff, mail);
    if (w->stopping)
        close(h->fd);
    else
        das_conn_open_fd(w, h->fd, h->data, h->len, h->no_device); /* closes it on failure */
    osap_free(h);
}

void das_conn_move(struct das_conn *c, const uint8_t *raw, size_t raw_len, const uint8_t *rest,
                   size_t rest_len)
{
    struct das_worker *w = c->w;
    struct handoff *h = osap_malloc(sizeof(*h) + raw_len + rest_len);
    uv_os_fd_t fd;

    if (!h || uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0) goto fail;
    h->fd = dup(fd);
    if (h->fd < 0) goto fail;
    h->mail.run = handoff_run;
    h->no_device = c->no_device;
    h->len = raw_len + rest_len;
    memcpy(h->data, raw, raw_len);
    if (rest_len) memcpy(h->data + raw_len, rest, rest_len);
    if (das_mail_push(w->das->workers[c->move_to], &h->mail) != OSAP_OK) {
        close(h->fd);
        goto fail;
    }
    das_conn_close_now(c, NULL, true); /* closes this worker's handle, not the socket */
    return;
fail:
    osap_free(h);
    c->state = DAS_CONN_NEW;
    das_conn_close_now(c, "cannot hand the connection to its worker", true);
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */
/* ------------------------------------------------------------------------ */

static size_t packet_limit(const struct das_conn *c)
{
    const struct das_settings *set = &c->w->das->set;
    return c->state == DAS_CONN_ACTIVE ? set->max_packet : set->connect_max_packet;
}

static bool processing(const struct das_conn *c)
{
    return (c->state == DAS_CONN_NEW || c->state == DAS_CONN_ACTIVE) && !c->close_pending;
}

static void protocol_error(struct das_conn *c, osap_err err)
{
    OSAP_LOGD(DAS_LOG, "%s: %s", das_conn_peer(c), osap_strerror(err));
    das_conn_close_now(c, osap_strerror(err), false);
}

/* The first bytes of a packet tell its type: before CONNECT, nothing else is read. */
static bool type_allowed(const struct das_conn *c, uint8_t type)
{
    return c->state != DAS_CONN_NEW || type == OSAP_MQTT_CONNECT;
}

/* Keep the unprocessed bytes while reading is paused (password check): there is no
 * partial packet then, so they go where one would be. */
static void hold(struct das_conn *c, const uint8_t *data, size_t len)
{
    if (len == 0) return;
    if (!charge(c, &c->pkt_charge, len)) {
        das_conn_close_now(c, "connect_max_total reached", true);
        return;
    }
    c->pkt = osap_malloc(len);
    if (!c->pkt) {
        das_conn_close_now(c, "out of memory", false);
        return;
    }
    memcpy(c->pkt, data, len);
    c->pkt_len = c->pkt_cap = (uint32_t)len;
    c->held = true;
}

/* Dispatch one whole packet at @p raw; @p rest/@p rest_len are the bytes after it.
 * Returns false when the caller must stop feeding (the rest is dealt with here). */
static bool dispatch(struct das_conn *c, const struct osap_mqtt_header *hdr, const uint8_t *raw,
                     const uint8_t *rest, size_t rest_len)
{
    osap_err err = das_handle_packet(c, hdr, raw + hdr->header_len);

    if (err) {
        if (c->state != DAS_CONN_CLOSING) protocol_error(c, err);
        return false;
    }
    switch (c->state) {
    case DAS_CONN_MOVING: das_conn_move(c, raw, hdr->total_len, rest, rest_len); return false;
    case DAS_CONN_AUTH:
        if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
        hold(c, rest, rest_len);
        return false;
    default: return processing(c);
    }
}

/* A partial packet has all its bytes: decode it from its own buffer. */
static bool finish_pkt(struct das_conn *c, const uint8_t *rest, size_t rest_len)
{
    struct osap_mqtt_header hdr;
    uint8_t *pkt = c->pkt;
    uint32_t charged = c->pkt_charge;
    bool more;
    osap_err err = osap_mqtt_frame(pkt, c->pkt_len, 0, &hdr);

    c->pkt = NULL;
    c->pkt_len = c->pkt_cap = 0;
    /* released now: the buffer goes away with this call, and dispatching the
     * CONNECT may charge what outlives it (the will, the bytes held after it) */
    c->pkt_charge = 0;
    uncharge(c, &charged);
    if (err) { /* cannot happen: the header was framed before */
        osap_free(pkt);
        protocol_error(c, err);
        return false;
    }
    more = dispatch(c, &hdr, pkt, rest, rest_len);
    osap_free(pkt);
    return more;
}

/* Keep the start of a packet that the read cut: its header, or the whole packet's
 * buffer once the header says how long it is. */
static bool start_pkt(struct das_conn *c, const struct osap_mqtt_header *hdr, const uint8_t *data,
                      size_t len)
{
    /* before CONNACK the buffer counts towards connect_max_total */
    if (c->state != DAS_CONN_ACTIVE && !charge(c, &c->pkt_charge, hdr->total_len)) {
        das_conn_close_now(c, "connect_max_total reached", false);
        return false;
    }
    c->pkt = osap_malloc(hdr->total_len);
    if (!c->pkt) {
        das_conn_close_now(c, "out of memory", false);
        return false;
    }
    memcpy(c->pkt, data, len);
    c->pkt_len = (uint32_t)len;
    c->pkt_cap = (uint32_t)hdr->total_len;
    return true;
}

void das_conn_feed(struct das_conn *c, const uint8_t *data, size_t len)
{
    struct osap_mqtt_header hdr;
    osap_err err;

    while (len > 0 && processing(c)) {
        if (c->pkt) {
            size_t take = c->pkt_cap - c->pkt_len;
            if (take > len) take = len;
            memcpy(c->pkt + c->pkt_len, data, take);
            c->pkt_len += (uint32_t)take;
            data += take;
            len -= take;
            if (c->pkt_len < c->pkt_cap) return;
            if (!finish_pkt(c, data, len)) return;
            continue;
        }
        if (c->hlen) {
            err = OSAP_ENEED_MORE;
            while (len > 0 && err == OSAP_ENEED_MORE) {
                c->hbuf[c->hlen++] = *data++;
                len--;
                err = osap_mqtt_frame(c->hbuf, c->hlen, packet_limit(c), &hdr);
            }
            if (err == OSAP_ENEED_MORE) return;
            if (err == OSAP_OK && !type_allowed(c, hdr.type)) err = OSAP_EMQTT_TYPE;
            if (err) {
                protocol_error(c, err);
                return;
            }
            if (!start_pkt(c, &hdr, c->hbuf, c->hlen)) return;
            c->hlen = 0;
            if (c->pkt_len == c->pkt_cap && !finish_pkt(c, data, len)) return;
            continue;
        }
        err = osap_mqtt_frame(data, len, packet_limit(c), &hdr);
        if (err == OSAP_ENEED_MORE) {
            memcpy(c->hbuf, data, len); /* fewer bytes than a fixed header */
            c->hlen = (uint8_t)len;
            return;
        }
        if (err == OSAP_OK && !type_allowed(c, hdr.type)) err = OSAP_EMQTT_TYPE;
        if (err) {
            protocol_error(c, err);
            return;
        }
        if (hdr.total_len > len) {
            start_pkt(c, &hdr, data, len);
            return;
        }
        if (!dispatch(c, &hdr, data, data + hdr.total_len, len - hdr.total_len)) return;
        data += hdr.total_len;
        len -= hdr.total_len;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct das_conn *c = h->data;
    (void)suggested;
    if (c->pkt && c->pkt_len < c->pkt_cap) {
        /* the rest of a cut packet: straight into its buffer, and no further */
        *buf = uv_buf_init((char *)c->pkt + c->pkt_len, c->pkt_cap - c->pkt_len);
        return;
    }
    /* Before CONNACK, reads are no larger than connect_max_packet, so that what
     * follows a CONNECT (held while its password is checked) is no larger either. */
    if (c->state != DAS_CONN_ACTIVE && c->w->das->set.connect_max_packet < DAS_READ_BUF) {
        *buf = uv_buf_init((char *)c->w->rbuf, (unsigned)c->w->das->set.connect_max_packet);
        return;
    }
    *buf = uv_buf_init((char *)c->w->rbuf, DAS_READ_BUF);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct das_conn *c = s->data;

    if (n < 0) {
        das_conn_close_now(c, n == UV_EOF ? "closed by the peer" : uv_strerror((int)n), false);
        return;
    }
    if (n == 0) return;
    /* before CONNACK, last_rx stays the accept time: the CONNECT deadline */
    if (c->state == DAS_CONN_ACTIVE) c->last_rx = uv_now(&c->w->loop);
    if (c->pkt && (uint8_t *)buf->base == c->pkt + c->pkt_len) {
        c->pkt_len += (uint32_t)n;
        if (c->pkt_len == c->pkt_cap) finish_pkt(c, NULL, 0);
        return;
    }
    das_conn_feed(c, (const uint8_t *)buf->base, (size_t)n);
}

void das_conn_resume(struct das_conn *c)
{
    if (c->held) {
        uint8_t *held = c->pkt;
        size_t len = c->pkt_len;
        uint32_t charged = c->pkt_charge;
        c->pkt = NULL;
        c->pkt_len = c->pkt_cap = 0;
        c->pkt_charge = 0;
        c->held = false;
        uncharge(c, &charged); /* as in finish_pkt() */
        das_conn_feed(c, held, len);
        osap_free(held);
    }
    if (processing(c) && !c->reading && !c->throttled && !c->backpressured && !c->ack_stalled) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0) c->reading = true;
    }
}

void das_conn_schedule(struct das_conn *c)
{
    const struct das_settings *set = &c->w->das->set;
    uint64_t deadline;

    if (c->state == DAS_CONN_ACTIVE) {
        if (c->keepalive == 0) {
            if (das_linked(&c->wheel_link)) das_list_remove(&c->wheel_link);
            return;
        }
        deadline = c->last_rx + (uint64_t)c->keepalive * 1500;
    } else {
        deadline = c->last_rx + set->connect_timeout_ms; /* the accept time until then */
    }
    das_worker_wheel_add(c->w, c, deadline);
}

/* ------------------------------------------------------------------------ */
/* das_hooks.h: connection functions                                        */
/* ------------------------------------------------------------------------ */

void *das_conn_device(struct das_conn *c)
{
    return c->is_device ? c->device : NULL;
}

struct das_conn_ref das_conn_ref(struct das_conn *c)
{
    struct das_conn_ref r = {c->w->index, c->slot, c->generation};
    return r;
}

const char *das_conn_peer(struct das_conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    char host[48] = "?"; /* an IPv6 address has at most 45 characters */
    int port = 0;

    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof(host));
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
            snprintf(c->w->peerbuf, sizeof(c->w->peerbuf), "[%s]:%d", host, port);
            return c->w->peerbuf;
        }
        uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof(host));
        port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    snprintf(c->w->peerbuf, sizeof(c->w->peerbuf), "%s:%d", host, port);
    return c->w->peerbuf;
}

struct das_worker *das_conn_worker(struct das_conn *c)
{
    return c->w;
}

void das_conn_close(struct das_conn *c, const char *reason, int suppress_will)
{
    if (c->state == DAS_CONN_CLOSING || c->close_pending) return;
    OSAP_LOGD(DAS_LOG, "closing %s: %s", c->session ? c->session->key : "connection",
              reason ? reason : "");
    c->close_pending = true;
    if (suppress_will) c->suppress_will = true;
    if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
    das_worker_want_flush(c->w, c);
}

osap_err das_conn_publish(struct das_conn *c, const char *topic, size_t topic_len,
                          const uint8_t *payload, size_t len, int qos, uint16_t *pid)
{
    struct das_msg *m = NULL;
    uint16_t id = 0;
    osap_err err;

    if (qos < 0 || qos > 1 || !pid) return OSAP_EINVAL;
    if (c->state != DAS_CONN_ACTIVE || c->close_pending || !c->session) return OSAP_ECLOSED;
    err = osap_mqtt_topic_validate(topic, topic_len);
    if (err) return err;
    err = das_msg_new(topic, topic_len, payload, len, qos, 0, &m);
    if (err) return err;
    err = das_session_send_direct(c->w, c->session, m, qos, &id);
    das_msg_unref(m);
    if (err == OSAP_OK) *pid = id;
    return err;
}

void das_conn_puback(struct das_conn *c, uint16_t pid)
{
    if (c->state == DAS_CONN_ACTIVE && !c->close_pending) das_send_ack(c, OSAP_MQTT_PUBACK, pid);
}

/* ------------------------------------------------------------------------ */
/* Back-pressure between workers                                            */
/* ------------------------------------------------------------------------ */

void das_conn_backpressure(struct das_conn *c)
{
    struct das_worker *w = c->w;

    if (!c->reading || c->backpressured) return;
    if (w->npaused == w->cappaused) {
        uint32_t cap = w->cappaused ? w->cappaused * 2 : 64;
        struct das_conn_ref *v = osap_realloc(w->paused, cap * sizeof(*v));
        if (!v) return; /* not paused: harmless */
        w->paused = v;
        w->cappaused = cap;
    }
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
    c->backpressured = true;
    w->paused[w->npaused++] = das_conn_ref(c);
    atomic_store_explicit(&w->has_paused, true, memory_order_release);
}

void das_worker_resume_paused(struct das_worker *w)
{
    uint32_t n = w->npaused;

    w->npaused = 0;
    atomic_store_explicit(&w->has_paused, false, memory_order_release);
    for (uint32_t i = 0; i < n; i++) {
        struct das_conn *c = das_conn_resolve(w, w->paused[i]);
        if (!c || !c->backpressured) continue;
        c->backpressured = false;
        das_conn_resume(c);
    }
}

osap_err das_conn_subscribe(struct das_conn *c, const char *filter, size_t len, int qos)
{
    osap_err err;

    if (qos < 0 || qos > 1 || !filter) return OSAP_EINVAL;
    if (c->state != DAS_CONN_ACTIVE || c->close_pending || !c->session) return OSAP_ECLOSED;
    err = osap_mqtt_filter_validate(filter, len);
    if (err) return err;
    return das_subs_add(c->w, c->session, filter, len, qos);
}
