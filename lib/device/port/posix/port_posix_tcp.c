/*
 * Non-blocking TCP for the POSIX port. Outgoing connections may be bound to a
 * local IPv4 address (IP_BIND_ADDRESS_NO_PORT where the system has it, so the
 * source port is chosen per destination and one address serves more than
 * 28k connections). Host names other than IPv4 literals are resolved with
 * getaddrinfo(), which blocks.
 */
#include "port_posix.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static osap_err resolve(const char *host, struct in_addr *out)
{
    struct addrinfo hints, *res = NULL;

    if (inet_pton(AF_INET, host, out) == 1) return OSAP_OK;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res) return OSAP_ENOTFOUND;
    *out = ((const struct sockaddr_in *)(const void *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    return OSAP_OK;
}

osap_err osap__posix_tcp_connect(void *ctx, const char *host, uint16_t port, intptr_t *sock)
{
    struct posix_port *pp = ctx;
    struct sockaddr_in sa;
    int fd, one = 1;
    osap_err err;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    err = resolve(host, &sa.sin_addr);
    if (err) return err;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return errno == EMFILE || errno == ENFILE ? OSAP_EBUSY : OSAP_EIO;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (pp->has_bind) {
        struct sockaddr_in local;
#ifdef IP_BIND_ADDRESS_NO_PORT
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
#endif
        memset(&local, 0, sizeof(local));
        local.sin_family = AF_INET;
        local.sin_addr = pp->bind;
        if (bind(fd, (const struct sockaddr *)&local, sizeof(local)) != 0) {
            close(fd);
            return OSAP_EIO;
        }
    }
    if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
        err = errno == EADDRNOTAVAIL ? OSAP_EBUSY : OSAP_EIO;
        close(fd);
        return err;
    }
    *sock = fd;
    return OSAP_OK;
}

osap_err osap__posix_tcp_check(void *ctx, intptr_t sock)
{
    struct pollfd p = {(int)sock, POLLOUT, 0};
    int soerr = 0;
    socklen_t len = sizeof(soerr);

    (void)ctx;
    if (poll(&p, 1, 0) < 0) return errno == EINTR ? OSAP_ENEED_MORE : OSAP_EIO;
    if (!(p.revents & (POLLOUT | POLLERR | POLLHUP))) return OSAP_ENEED_MORE;
    if (getsockopt((int)sock, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) return OSAP_EIO;
    if (soerr == ECONNREFUSED) return OSAP_ECLOSED;
    return soerr ? OSAP_EIO : OSAP_OK;
}

osap_err osap__posix_tcp_read(void *ctx, intptr_t sock, uint8_t *buf, size_t cap, size_t *n)
{
    (void)ctx;
    for (;;) {
        ssize_t r = recv((int)sock, buf, cap, 0);
        if (r > 0) {
            *n = (size_t)r;
            return OSAP_OK;
        }
        if (r == 0) return OSAP_ECLOSED;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return OSAP_ENEED_MORE;
        return errno == ECONNRESET ? OSAP_ECLOSED : OSAP_EIO;
    }
}

osap_err osap__posix_tcp_write(void *ctx, intptr_t sock, const uint8_t *buf, size_t len, size_t *n)
{
    (void)ctx;
    for (;;) {
        ssize_t r = send((int)sock, buf, len, MSG_NOSIGNAL);
        if (r >= 0) {
            *n = (size_t)r;
            return OSAP_OK;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return OSAP_ENEED_MORE;
        return errno == EPIPE || errno == ECONNRESET ? OSAP_ECLOSED : OSAP_EIO;
    }
}

void osap__posix_tcp_close(void *ctx, intptr_t sock)
{
    (void)ctx;
    if (sock >= 0) close((int)sock);
}

int osap__posix_tcp_fd(void *ctx, intptr_t sock)
{
    (void)ctx;
    return (int)sock;
}
