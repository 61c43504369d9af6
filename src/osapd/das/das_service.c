/* The DAS service: settings, listening sockets, workers, start and stop. */
#include "das/das_service.h"

#include "das/das_internal.h"
#include "config_core.h"
#include "log.h"
#include "osap/alloc.h"
#include "util.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* das_hooks.h: service-wide functions                                      */
/* ------------------------------------------------------------------------ */

void das_set_device_hooks(struct das *das, const struct das_device_hooks *hooks)
{
    das->hooks = *hooks;
    das->have_hooks = hooks->on_connect != NULL;
}

void *das_device_userdata(struct das *das)
{
    return das->have_hooks ? das->hooks.userdata : NULL;
}

uint32_t das_home_worker(struct das *das, const char *key, size_t len)
{
    return das_hash(key, len, 0x5eedu) % das->nworkers;
}

void das_counters(struct das *das, struct das_counters *out)
{
    memset(out, 0, sizeof(*out));
    for (uint32_t i = 0; i < das->nworkers; i++) {
        struct das_worker *w = das->workers[i];
        if (!w) continue;
        out->connections += atomic_load_explicit(&w->nconns, memory_order_relaxed);
        out->devices += atomic_load_explicit(&w->ndevices, memory_order_relaxed);
        out->messages_in += atomic_load_explicit(&w->msgs_in, memory_order_relaxed);
        out->messages_out += atomic_load_explicit(&w->msgs_out, memory_order_relaxed);
    }
}

osap_err das_publish(struct das_worker *w, const char *topic, size_t topic_len,
                     const uint8_t *payload, size_t len, int qos, int retain)
{
    struct das_msg *m;
    osap_err err;

    if (qos < 0 || qos > 2) return OSAP_EINVAL;
    err = osap_mqtt_topic_validate(topic, topic_len);
    if (err) return err;
    err = das_msg_new(topic, topic_len, payload, len, qos, retain, &m);
    if (err) return err;
    das_route(w, m);
    das_msg_unref(m);
    return OSAP_OK;
}

/* ------------------------------------------------------------------------ */
/* Listening sockets: one per worker on the same port (SO_REUSEPORT)        */
/* ------------------------------------------------------------------------ */

static int bind_socket(const struct addrinfo *ai, bool reuseport)
{
    int one = 1;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -errno;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static void set_port(struct addrinfo *ai, int port)
{
    if (ai->ai_family == AF_INET6)
        ((struct sockaddr_in6 *)ai->ai_addr)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)ai->ai_addr)->sin_port = htons((uint16_t)port);
}

static int get_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return -1;
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* @p n sockets bound to [das] listen:port. A probe bind without SO_REUSEPORT first
 * makes sure no other process holds the port (it would share it otherwise). */
static osap_err open_listeners(struct das *das, int *fds, uint32_t n)
{
    const struct das_config *cfg = das->cfg;
    struct addrinfo hints, *res = NULL;
    char port[16];
    osap_err err = OSAP_OK;
    int probe, rc;

    for (uint32_t i = 0; i < n; i++)
        fds[i] = -1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%d", (int)cfg->port);
    rc = getaddrinfo(cfg->listen, port, &hints, &res);
    if (rc != 0) {
        OSAP_LOGE(DAS_LOG, "cannot resolve [das] listen %s: %s", cfg->listen, gai_strerror(rc));
        return OSAP_ECONFIG;
    }
    probe = bind_socket(res, false);
    if (probe < 0) {
        OSAP_LOGE(DAS_LOG, "cannot listen on %s:%s: %s", cfg->listen, port, strerror(-probe));
        err = OSAP_EIO;
        goto out;
    }
    das->port = get_port(probe);
    close(probe);
    set_port(res, das->port);
    for (uint32_t i = 0; i < n; i++) {
        fds[i] = bind_socket(res, true);
        if (fds[i] < 0) {
            OSAP_LOGE(DAS_LOG, "cannot listen on %s:%d: %s", cfg->listen, das->port,
                      strerror(-fds[i]));
            err = OSAP_EIO;
            goto out;
        }
    }
out:
    if (err)
        for (uint32_t i = 0; i < n; i++)
            if (fds[i] >= 0) close(fds[i]);
    freeaddrinfo(res);
    return err;
}

/* ------------------------------------------------------------------------ */
/* Start and stop                                                           */
/* ------------------------------------------------------------------------ */

/* Descriptors osapd needs besides the DAS's connections: the log, the lock, the
 * loops, the store handles (database, WAL and shared memory for each thread), files
 * being written; plus some for each worker thread of each service. */
#define FD_RESERVE_BASE       256
#define FD_RESERVE_PER_WORKER 16

/* The max_connections setting of service @p name when it runs in this process. */
static uint64_t other_service_connections(struct das *das, const char *name)
{
    const struct osap_core_config *core = osapd_core_config(das->ctx);
    const char *text;
    int64_t v;

    if (!osap_strlist_contains(&core->services, name)) return 0;
    text = osap_config_text(osapd_config(das->ctx), name, "max_connections");
    if (!text || osap_cfg_parse_int(text, &v) != OSAP_OK || v < 0) return 0;
    return (uint64_t)v;
}

/* max_connections = 0: what the open-file limit leaves once the rest of the process
 * has its share. The soft limit is raised to the hard one first (osapd watches its
 * sockets with epoll, never select, so a high limit costs nothing). */
static uint64_t derive_max_connections(struct das *das)
{
    struct rlimit rl;
    uint64_t reserve, limit;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = rl;
        want.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 1048576 : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &want) == 0) {
            OSAP_LOGI(DAS_LOG, "open-file limit raised from %llu to %llu",
                      (unsigned long long)rl.rlim_cur, (unsigned long long)want.rlim_cur);
            rl = want;
        }
    }
    limit = rl.rlim_cur == RLIM_INFINITY ? 1048576 : (uint64_t)rl.rlim_cur;
    reserve = FD_RESERVE_BASE + FD_RESERVE_PER_WORKER * (uint64_t)das->nworkers +
              other_service_connections(das, "lbs") + other_service_connections(das, "api");
    if (reserve + 64 > limit) {
        OSAP_LOGW(DAS_LOG,
                  "the open-file limit (%llu) leaves little room for MQTT connections: "
                  "max_connections = %llu; raise the limit (ulimit -n, LimitNOFILE=)",
                  (unsigned long long)limit, (unsigned long long)(limit / 2));
        return limit / 2;
    }
    return limit - reserve;
}

static void read_settings(struct das *das)
{
    const struct das_config *cfg = das->cfg;
    struct das_settings *s = &das->set;

    s->max_packet = (size_t)cfg->max_packet_size;
    s->connect_max_packet = (size_t)cfg->connect_max_packet;
    if (s->connect_max_packet > s->max_packet) s->connect_max_packet = s->max_packet;
    s->connect_max_total = cfg->connect_max_total;
    if (s->connect_max_total < s->connect_max_packet) s->connect_max_total = s->connect_max_packet;
    s->connect_timeout_ms = (uint64_t)cfg->connect_timeout;
    s->max_connections =
        cfg->max_connections > 0 ? (uint64_t)cfg->max_connections : derive_max_connections(das);
    s->max_inflight = (uint32_t)cfg->max_inflight;
    s->max_queued_messages = (uint64_t)cfg->max_queued_messages;
    s->max_queued_bytes = cfg->max_queued_bytes;
    s->queue_qos0 = cfg->queue_qos0;
    s->max_output_bytes = cfg->max_output_bytes;
    s->slow_disconnect = strcmp(cfg->slow_consumer, "disconnect") == 0;
    s->session_expiry_ms = (uint64_t)cfg->session_expiry;
    s->max_sessions = (uint64_t)cfg->max_sessions;
    s->max_retained = (uint64_t)cfg->max_retained;
    s->max_retained_bytes = cfg->max_retained_bytes;
    s->max_subscriptions = (uint32_t)cfg->max_subscriptions;
    s->max_hold_ms = (uint64_t)cfg->max_hold_time;
    s->forward_high = cfg->forward_high_water;
    s->forward_low = cfg->forward_low_water;
    if (s->forward_low > s->forward_high) s->forward_low = s->forward_high;
    s->auth_threads = (uint32_t)cfg->auth_threads;
    s->auth_queue = (uint32_t)cfg->auth_queue;
    s->allow_anonymous = cfg->allow_anonymous;
}

static void das_stop(void *state)
{
    struct das *das = state;

    if (!das) return;
    atomic_store(&das->stopping, true);
    /* first, while the workers still run: password checks not started come back to
     * their connections as refusals */
    das_auth_pool_free(das->auth);
    das->auth = NULL;
    das_persist_stop(das); /* the autosave thread; a snapshot it takes needs the workers */
    for (uint32_t i = 0; i < das->nworkers; i++)
        if (das->workers[i]) das_worker_request_stop(das->workers[i]);
    for (uint32_t i = 0; i < das->nworkers; i++)
        if (das->workers[i]) das_worker_wait_quiet(das->workers[i]);
    for (uint32_t i = 0; i < das->nworkers; i++)
        if (das->workers[i]) das_worker_request_finish(das->workers[i]);
    for (uint32_t i = 0; i < das->nworkers; i++)
        if (das->workers[i]) das_worker_join(das->workers[i]);
    das_persist_save_final(das);
    if (das->registered) das_node_remove(das);
    if (das->device_started) das_device_layer_stop(das);
    for (uint32_t i = 0; i < das->nworkers; i++)
        das_worker_free(das->workers[i]);
    osap_free(das->workers);
    das_persist_free(das);
    das_retain_release(&das->retain);
    das_acl_free(das->set.anon_acl);
    OSAP_LOGI(DAS_LOG, "stopped");
    osap_free(das);
}

static osap_err das_start(struct osapd_context *ctx, void **state)
{
    struct das *das = osap_calloc(1, sizeof(*das));
    int *fds = NULL;
    osap_err err = OSAP_ENOMEM;

    if (!das) return OSAP_ENOMEM;
    das->ctx = ctx;
    das->cfg = osap_config_section(osapd_config(ctx), "das");
    das->nworkers = osapd_worker_threads(ctx);
    if (das->nworkers == 0) das->nworkers = 1;
    read_settings(das);
    err = das_acl_anonymous_new(&das->cfg->anonymous_deny, &das->set.anon_acl);
    if (err) {
        osap_free(das);
        return err;
    }
    err = das_retain_init(&das->retain);
    if (err) {
        das_acl_free(das->set.anon_acl);
        osap_free(das);
        return err;
    }
    err = das_auth_pool_new(das->set.auth_threads, das->set.auth_queue, &das->auth);
    if (err) {
        das_retain_release(&das->retain);
        das_acl_free(das->set.anon_acl);
        osap_free(das);
        return err;
    }
    das->workers = osap_calloc(das->nworkers, sizeof(*das->workers));
    fds = osap_calloc(das->nworkers, sizeof(*fds));
    if (!das->workers || !fds) goto fail;
    err = open_listeners(das, fds, das->nworkers);
    if (err) goto fail;
    if (das->cfg->node_id[0])
        osap_str_copy(das->node_id, sizeof(das->node_id), das->cfg->node_id);
    else
        snprintf(das->node_id, sizeof(das->node_id), "%s:%d", das->cfg->advertise, das->port);
    for (uint32_t i = 0; i < das->nworkers; i++) {
        err = das_worker_new(das, i, fds[i], &das->workers[i]);
        fds[i] = -1;
        if (err) {
            for (uint32_t k = i + 1; k < das->nworkers; k++)
                close(fds[k]);
            goto fail;
        }
    }
    err = das_node_register(das);
    if (err) {
        OSAP_LOGE(DAS_LOG, "cannot register node %s in das_nodes: %s", das->node_id,
                  osap_strerror(err));
        goto fail;
    }
    das->registered = true;
    /* saved state, before any worker runs (so before anything is accepted) */
    err = das_persist_load(das);
    if (err) goto fail;
    err = das_device_layer_start(das, ctx);
    if (err) {
        OSAP_LOGE(DAS_LOG, "the device layer failed to start: %s", osap_strerror(err));
        goto fail;
    }
    das->device_started = true;
    for (uint32_t i = 0; i < das->nworkers; i++) {
        err = das_worker_run(das->workers[i]);
        if (err) goto fail;
    }
    err = das_persist_run(das);
    if (err) goto fail;
    OSAP_LOGI(
        DAS_LOG, "MQTT server listening on %s:%d (%u workers, node %s, max_connections %llu%s)",
        das->cfg->listen, das->port, das->nworkers, das->node_id,
        (unsigned long long)das->set.max_connections, das->have_hooks ? "" : ", no device layer");
    osap_free(fds);
    *state = das;
    return OSAP_OK;
fail:
    osap_free(fds);
    das_stop(das);
    return err;
}

const struct osapd_service das_service = {
    "das",
    "Device Access Service: the MQTT 3.1.1 server for devices and applications",
    das_start,
    das_stop,
};
