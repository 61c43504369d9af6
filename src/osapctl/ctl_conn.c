/* The connection to the platform: TCP with non-blocking sockets and poll(2)
 * for deadlines, TLS with OpenSSL for https URLs (certificate and host name
 * verified unless --insecure). */
#include "ctl.h"

#include "osap/alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct ctl_conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
};

int64_t ctl_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before @p deadline_ms for poll(): -1 = no deadline. */
static int remaining(int64_t deadline_ms)
{
    int64_t left;

    if (deadline_ms == 0) return -1;
    left = deadline_ms - ctl_now_ms();
    if (left <= 0) return 0;
    return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

/* Wait for @p events on @p fd: 1 ready, 0 deadline, -1 error (errno; EINTR
 * when a signal came). */
static int wait_fd(int fd, short events, int64_t deadline_ms)
{
    struct pollfd pfd = {fd, events, 0};
    int rc = poll(&pfd, 1, remaining(deadline_ms));

    if (rc < 0) return -1;
    return rc > 0 ? 1 : 0;
}

static const char *ssl_reason(void)
{
    static char text[256];
    unsigned long e = ERR_get_error();

    if (!e) return "the TLS connection failed";
    ERR_error_string_n(e, text, sizeof(text));
    ERR_clear_error();
    return text;
}

/* Connect one address; 0, or -1 with a reason in @p why. */
static int connect_addr(const struct addrinfo *ai, int64_t deadline_ms, int *out, char *why,
                        size_t whycap)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    int one = 1, soerr = 0, rc;
    socklen_t len = sizeof(soerr);

    if (fd < 0) {
        snprintf(why, whycap, "%s", strerror(errno));
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            snprintf(why, whycap, "%s", strerror(errno));
            goto fail;
        }
        do {
            rc = wait_fd(fd, POLLOUT, deadline_ms);
        } while (rc < 0 && errno == EINTR);
        if (rc <= 0) {
            snprintf(why, whycap, "%s", rc == 0 ? "timed out" : strerror(errno));
            goto fail;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) soerr = errno;
        if (soerr) {
            snprintf(why, whycap, "%s", strerror(soerr));
            goto fail;
        }
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    *out = fd;
    return 0;
fail:
    close(fd);
    return -1;
}

/* Drive an SSL call that wants more I/O; 1 retry, 0 deadline, -1 failed. */
static int ssl_wait(struct ctl_conn *c, int ret, int64_t deadline_ms)
{
    int e = SSL_get_error(c->ssl, ret), rc;

    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) return -1;
    rc = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline_ms);
    if (rc < 0 && errno == EINTR) return 1;
    return rc;
}

static int tls_start(const struct ctl *ctl, struct ctl_conn *c, int64_t deadline_ms)
{
    const char *host = ctl->url.host;
    struct in6_addr ip6;
    struct in_addr ip4;
    bool is_ip = inet_pton(AF_INET, host, &ip4) == 1 || inet_pton(AF_INET6, host, &ip6) == 1;
    int ret;

    c->ctx = SSL_CTX_new(TLS_client_method());
    if (!c->ctx) goto fail;
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    if (!ctl->insecure) {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
        if (ctl->cacert) {
            if (SSL_CTX_load_verify_locations(c->ctx, ctl->cacert, NULL) != 1) {
                ctl_error("cannot load the CA file %s: %s", ctl->cacert, ssl_reason());
                return CTL_ECONN;
            }
        } else if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
            goto fail;
        }
    }
    c->ssl = SSL_new(c->ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) goto fail;
    if (!is_ip && SSL_set_tlsext_host_name(c->ssl, host) != 1) goto fail;
    if (!ctl->insecure) {
        if (is_ip) {
            if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host) != 1) goto fail;
        } else if (SSL_set1_host(c->ssl, host) != 1) {
            goto fail;
        }
    }
    for (;;) {
        int rc;
        ERR_clear_error();
        ret = SSL_connect(c->ssl);
        if (ret == 1) break;
        rc = ssl_wait(c, ret, deadline_ms);
        if (rc > 0) continue;
        if (rc == 0) {
            ctl_error("cannot connect to %s: the TLS handshake timed out", ctl->url.hostport);
            return CTL_ECONN;
        }
        if (SSL_get_verify_result(c->ssl) != X509_V_OK) {
            ctl_error("cannot connect to %s: certificate verification failed: %s",
                      ctl->url.hostport,
                      X509_verify_cert_error_string(SSL_get_verify_result(c->ssl)));
            return CTL_ECONN;
        }
        goto fail;
    }
    return CTL_OK;
fail:
    ctl_error("cannot connect to %s: %s", ctl->url.hostport, ssl_reason());
    return CTL_ECONN;
}

int ctl_conn_open(const struct ctl *ctl, int64_t deadline_ms, struct ctl_conn **out)
{
    struct addrinfo hints, *res = NULL;
    struct ctl_conn *c = NULL;
    char why[256] = "no address";
    int rc, fd = -1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    rc = getaddrinfo(ctl->url.host, ctl->url.port, &hints, &res);
    if (rc != 0) {
        ctl_error("cannot connect to %s: %s", ctl->url.hostport, gai_strerror(rc));
        return CTL_ECONN;
    }
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (connect_addr(ai, deadline_ms, &fd, why, sizeof(why)) == 0) break;
    freeaddrinfo(res);
    if (fd < 0) {
        ctl_error("cannot connect to %s: %s", ctl->url.hostport, why);
        return CTL_ECONN;
    }
    c = osap_calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        ctl_error("out of memory");
        return CTL_EAPI;
    }
    c->fd = fd;
    if (ctl->url.tls) {
        rc = tls_start(ctl, c, deadline_ms);
        if (rc) {
            ctl_conn_close(c);
            return rc;
        }
    }
    *out = c;
    return CTL_OK;
}

int ctl_conn_write(struct ctl_conn *c, const void *p, size_t n, int64_t deadline_ms)
{
    const char *at = p;

    while (n > 0) {
        ssize_t w;
        int rc;

        if (c->ssl) {
            int ret;
            ERR_clear_error();
            ret = SSL_write(c->ssl, at, n > 0x40000000 ? 0x40000000 : (int)n);
            if (ret > 0) {
                at += ret;
                n -= (size_t)ret;
                continue;
            }
            rc = ssl_wait(c, ret, deadline_ms);
            if (rc > 0) continue;
            if (rc == 0) goto timeout;
            ctl_error("sending the request failed: %s", ssl_reason());
            return CTL_ECONN;
        }
        w = send(c->fd, at, n, MSG_NOSIGNAL);
        if (w > 0) {
            at += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            rc = wait_fd(c->fd, POLLOUT, deadline_ms);
            if (rc > 0 || (rc < 0 && errno == EINTR)) continue;
            if (rc == 0) goto timeout;
        }
        ctl_error("sending the request failed: %s", strerror(errno));
        return CTL_ECONN;
    }
    return CTL_OK;
timeout:
    ctl_error("timed out sending the request");
    return CTL_ETIMEOUT;
}

int ctl_conn_read(struct ctl_conn *c, void *p, size_t cap, size_t *n, int64_t deadline_ms,
                  volatile int *interrupted)
{
    for (;;) {
        int rc;

        if (interrupted && *interrupted) {
            *n = 0;
            return CTL_OK;
        }
        if (c->ssl) {
            int ret;
            ERR_clear_error();
            ret = SSL_read(c->ssl, p, cap > 0x40000000 ? 0x40000000 : (int)cap);
            if (ret > 0) {
                *n = (size_t)ret;
                return CTL_OK;
            }
            if (SSL_get_error(c->ssl, ret) == SSL_ERROR_ZERO_RETURN) {
                *n = 0;
                return CTL_OK;
            }
            rc = ssl_wait(c, ret, deadline_ms);
            if (rc > 0) continue;
            if (rc == 0) return CTL_ETIMEOUT;
            if (SSL_get_error(c->ssl, ret) == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
                /* the peer closed without close_notify: the end of the stream */
                *n = 0;
                return CTL_OK;
            }
            ctl_error("reading the response failed: %s", ssl_reason());
            return CTL_ECONN;
        } else {
            ssize_t r = recv(c->fd, p, cap, 0);
            if (r >= 0) {
                *n = (size_t)r;
                return CTL_OK;
            }
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                ctl_error("reading the response failed: %s", strerror(errno));
                return CTL_ECONN;
            }
            rc = wait_fd(c->fd, POLLIN, deadline_ms);
            if (rc > 0 || (rc < 0 && errno == EINTR)) continue;
            if (rc == 0) return CTL_ETIMEOUT;
            ctl_error("reading the response failed: %s", strerror(errno));
            return CTL_ECONN;
        }
    }
}

void ctl_conn_close(struct ctl_conn *c)
{
    if (!c) return;
    if (c->ssl) {
        SSL_shutdown(c->ssl); /* best effort: non-blocking, one attempt */
        SSL_free(c->ssl);
    }
    SSL_CTX_free(c->ctx);
    if (c->fd >= 0) close(c->fd);
    osap_free(c);
}
