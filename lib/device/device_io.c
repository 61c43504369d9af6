/*
 * The device's one TCP connection (to the LBS, later to the DAS) over the port:
 * non-blocking connect, an input buffer that collects whole frames, and an
 * output buffer written as far as the socket takes it.
 */
#include "device_internal.h"

#include <string.h>

osap_err osap__conn_open(struct osap_device *dev, const char *host, uint16_t port)
{
    intptr_t sock = -1;
    osap_err err;

    osap__conn_close(dev);
    err = dev->port.tcp_connect(dev->port.ctx, host, port, &sock);
    if (err) return err;
    dev->conn.open = 1;
    dev->conn.connected = 0;
    dev->conn.sock = sock;
    dev->conn.rx_len = 0;
    dev->conn.tx_off = dev->conn.tx_len = 0;
    return OSAP_OK;
}

osap_err osap__conn_check(struct osap_device *dev)
{
    osap_err err;

    if (!dev->conn.open) return OSAP_ECLOSED;
    if (dev->conn.connected) return OSAP_OK;
    err = dev->port.tcp_check(dev->port.ctx, dev->conn.sock);
    if (err == OSAP_OK) dev->conn.connected = 1;
    return err;
}

void osap__conn_close(struct osap_device *dev)
{
    if (dev->conn.open) dev->port.tcp_close(dev->port.ctx, dev->conn.sock);
    dev->conn.open = 0;
    dev->conn.connected = 0;
    dev->conn.sock = -1;
    dev->conn.rx_len = 0;
    dev->conn.tx_off = dev->conn.tx_len = 0;
}

size_t osap__conn_room(const struct osap_device *dev)
{
    return dev->tx_cap - (dev->conn.tx_len - dev->conn.tx_off);
}

int osap__conn_pending(const struct osap_device *dev)
{
    return dev->conn.tx_len > dev->conn.tx_off;
}

uint8_t *osap__conn_reserve(struct osap_device *dev, size_t len)
{
    struct dev_conn *c = &dev->conn;

    if (len > osap__conn_room(dev)) return NULL;
    if (dev->tx_cap - c->tx_len < len) {
        memmove(dev->tx, dev->tx + c->tx_off, c->tx_len - c->tx_off);
        c->tx_len -= c->tx_off;
        c->tx_off = 0;
    }
    return dev->tx + c->tx_len;
}

void osap__conn_commit(struct osap_device *dev, size_t len)
{
    dev->conn.tx_len += len;
}

osap_err osap__conn_send(struct osap_device *dev, const uint8_t *buf, size_t len)
{
    uint8_t *p = osap__conn_reserve(dev, len);

    if (!p) return OSAP_EBUFSIZE;
    memcpy(p, buf, len);
    osap__conn_commit(dev, len);
    return OSAP_OK;
}

osap_err osap__conn_flush(struct osap_device *dev)
{
    struct dev_conn *c = &dev->conn;

    if (!c->open) return OSAP_ECLOSED;
    if (!c->connected) return OSAP_OK;
    while (c->tx_off < c->tx_len) {
        size_t n = 0;
        osap_err err = dev->port.tcp_write(dev->port.ctx, c->sock, dev->tx + c->tx_off,
                                           c->tx_len - c->tx_off, &n);
        if (err == OSAP_ENEED_MORE || (err == OSAP_OK && n == 0)) break;
        if (err) return err;
        c->tx_off += n;
    }
    if (c->tx_off == c->tx_len) c->tx_off = c->tx_len = 0;
    return OSAP_OK;
}

osap_err osap__conn_fill(struct osap_device *dev)
{
    struct dev_conn *c = &dev->conn;

    if (!c->open) return OSAP_ECLOSED;
    if (!c->connected) return OSAP_OK;
    for (;;) {
        size_t n = 0;
        osap_err err;

        if (c->rx_len >= dev->message_max) return OSAP_OK; /* the caller judges a full buffer */
        err = dev->port.tcp_read(dev->port.ctx, c->sock, dev->rx + c->rx_len,
                                 dev->message_max - c->rx_len, &n);
        if (err == OSAP_ENEED_MORE) return OSAP_OK;
        if (err) return err;
        if (n == 0) return OSAP_OK;
        c->rx_len += n;
    }
}

void osap__conn_consume(struct osap_device *dev, size_t n)
{
    struct dev_conn *c = &dev->conn;

    if (n >= c->rx_len) {
        c->rx_len = 0;
        return;
    }
    memmove(dev->rx, dev->rx + n, c->rx_len - n);
    c->rx_len -= n;
}
