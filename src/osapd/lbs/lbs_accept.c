/*
 * Admission of new connections, on the loop thread, before anything is read:
 * the per-address connection limit, the address's attempt budget, and the total
 * limit (at which the oldest connection that has not sent a whole frame yet is
 * dropped to make room, so idle connections cannot lock devices out). A refused
 * connection is closed at once, without an answer.
 */
#include "lbs/lbs_internal.h"

#include "log.h"
#include "osap/alloc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* The peer's address as text (IPv4-mapped IPv6 addresses as IPv4) and port. */
static void peer_name(uv_tcp_t *tcp, char out[LBS_PEER_MAX], int *port)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);

    strcpy(out, "?");
    *port = 0;
    if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len) != 0) return;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
        uv_ip4_name(sin, out, LBS_PEER_MAX);
        *port = ntohs(sin->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
            inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], out, LBS_PEER_MAX);
        else
            uv_ip6_name(sin6, out, LBS_PEER_MAX);
        *port = ntohs(sin6->sin6_port);
    }
}

static void on_spare_closed(uv_handle_t *h)
{
    struct osapd_lbs *lbs = h->data;
    lbs->spare_busy = false;
}

static void on_refused_closed(uv_handle_t *h)
{
    struct lbs_conn *c = h->data;
    if (--c->open_handles > 0) return;
    osap_free(c);
}

/* Out of memory: accept into the spare handle and close it, so the listener keeps
 * going. */
static void accept_spare(struct osapd_lbs *lbs, uv_stream_t *server)
{
    if (lbs->spare_busy) return; /* the connection waits in the backlog */
    uv_tcp_init(&lbs->loop, &lbs->spare);
    lbs->spare.data = lbs;
    lbs->spare_busy = true;
    if (uv_accept(server, (uv_stream_t *)&lbs->spare) == 0)
        OSAP_LOGE(LBS_LOG, "out of memory: connection closed at accept");
    uv_close((uv_handle_t *)&lbs->spare, on_spare_closed);
}

static void refuse(struct lbs_conn *c)
{
    uv_close((uv_handle_t *)&c->tcp, on_refused_closed);
    uv_close((uv_handle_t *)&c->timer, on_refused_closed);
}

void lbs_addr_release(struct osapd_lbs *lbs, const char *peer)
{
    size_t *n = lbs_table_find(lbs->per_addr, peer);

    if (!n) return;
    if (*n > 1) {
        (*n)--;
        return;
    }
    lbs_table_remove(lbs->per_addr, peer);
}

void lbs_on_connection(uv_stream_t *server, int status)
{
    struct osapd_lbs *lbs = server->data;
    const struct lbs_config *cfg = lbs->cfg;
    struct lbs_conn *c;
    struct osap_lbs_server_config mcfg;
    size_t *count;
    bool created;
    int64_t wait;

    if (status < 0) {
        OSAP_LOGW(LBS_LOG, "accept: %s", uv_strerror(status));
        return;
    }
    c = osap_calloc(1, sizeof(*c));
    if (!c) {
        accept_spare(lbs, server);
        return;
    }
    c->lbs = lbs;
    uv_tcp_init(&lbs->loop, &c->tcp);
    uv_timer_init(&lbs->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->open_handles = 2;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        refuse(c);
        return;
    }
    atomic_fetch_add(&lbs->counters.accepted, 1);
    peer_name(&c->tcp, c->peer, &c->peer_port);
    if (lbs->stopping) {
        refuse(c);
        return;
    }

    count = lbs_table_get(lbs->per_addr, c->peer, &created);
    if (!count) {
        refuse(c);
        return;
    }
    if (*count >= (size_t)cfg->max_connections_per_address) {
        atomic_fetch_add(&lbs->counters.refused_limit, 1);
        lbs_stats_refusal(lbs, "too many connections from this address", c->peer, NULL, 0);
        refuse(c);
        return;
    }
    wait = lbs_budget_refused(lbs->by_addr, c->peer, (int64_t)uv_now(&lbs->loop));
    if (wait) {
        if (*count == 0) lbs_table_remove(lbs->per_addr, c->peer);
        atomic_fetch_add(&lbs->counters.refused_address, 1);
        lbs_stats_refusal(lbs, "address spent its attempt budget", c->peer, NULL, wait);
        refuse(c);
        return;
    }
    if (lbs->conns.n >= (size_t)cfg->max_connections) {
        if (!lbs->idle.head) {
            if (*count == 0) lbs_table_remove(lbs->per_addr, c->peer);
            atomic_fetch_add(&lbs->counters.refused_limit, 1);
            lbs_stats_refusal(lbs, "max_connections reached", c->peer, NULL, 0);
            refuse(c);
            return;
        }
        atomic_fetch_add(&lbs->counters.evicted, 1);
        OSAP_LOGD(LBS_LOG, "max_connections reached: dropping an idle connection from %s",
                  lbs->idle.head->peer);
        lbs_conn_close(lbs->idle.head);
        /* the table may have changed: find our entry again */
        count = lbs_table_get(lbs->per_addr, c->peer, &created);
        if (!count) {
            refuse(c);
            return;
        }
    }

    memset(&mcfg, 0, sizeof(mcfg));
    lbs_store_callbacks(lbs, &mcfg.cb);
    mcfg.userdata = c;
    mcfg.rng = lbs->hooks.rng;
    mcfg.max_frame = (size_t)cfg->max_frame;
    c->rx = osap_malloc((size_t)cfg->max_frame);
    if (!c->rx || osap_lbs_server_new(&mcfg, &c->machine) != OSAP_OK) {
        if (*count == 0) lbs_table_remove(lbs->per_addr, c->peer);
        OSAP_LOGE(LBS_LOG, "out of memory: connection from %s closed", c->peer);
        osap_free(c->rx);
        c->rx = NULL;
        refuse(c);
        return;
    }
    (*count)++;
    lbs_conn_start(c);
}
