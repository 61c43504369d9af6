/*
 * osap_device_run_thread(): one device on its own thread, for firmware that
 * does not want to drive osap_device_step() itself. The thread steps the device,
 * then waits in the port's wait() for the socket, the next timer or a wake-up
 * from a public call made on another thread.
 */
#include "device_internal.h"

#define WAIT_MAX_MS 1000

static void run(void *arg)
{
    struct osap_device *dev = arg;

    osap__dev_lock(dev);
    for (;;) {
        uint64_t next = OSAP_DEVICE_NEVER, now;
        unsigned events = 0;
        intptr_t sock;
        uint32_t timeout;

        osap_device_step(dev, &next);
        now = dev->port.now_ms(dev->port.ctx);
        if (dev->thread_quit && (dev->phase == PH_STOPPED || dev->phase == PH_BLOCKED ||
                                 dev->phase == PH_IDLE || now >= dev->thread_deadline))
            break;
        osap_device_fd(dev, &events);
        sock = dev->conn.open ? dev->conn.sock : -1;
        timeout = next == OSAP_DEVICE_NEVER  ? WAIT_MAX_MS
                  : next <= now              ? 0
                  : next - now > WAIT_MAX_MS ? WAIT_MAX_MS
                                             : (uint32_t)(next - now);
        osap__dev_unlock(dev);
        dev->port.wait(dev->port.ctx, sock, events, timeout);
        osap__dev_lock(dev);
    }
    osap__conn_close(dev);
    osap__dev_unlock(dev);
}

osap_err osap_device_run_thread(osap_device_t *dev)
{
    osap_err err;

    if (!dev) return OSAP_EINVAL;
    if (!dev->port.lock || !dev->port.unlock || !dev->port.wait || !dev->port.wake ||
        !dev->port.thread_start || !dev->port.thread_join)
        return OSAP_EUNSUPPORTED;
    if (dev->threaded) return OSAP_ESTATE;
    err = osap_device_start(dev);
    if (err) return err;
    dev->thread_quit = 0;
    dev->threaded = 1;
    err = dev->port.thread_start(dev->port.ctx, run, dev);
    if (err) dev->threaded = 0;
    return err;
}

osap_err osap_device_join_thread(osap_device_t *dev, uint32_t timeout_ms)
{
    if (!dev) return OSAP_EINVAL;
    if (!dev->threaded) return OSAP_ESTATE;
    osap_device_stop(dev);
    osap__dev_lock(dev);
    dev->thread_quit = 1;
    dev->thread_deadline = dev->port.now_ms(dev->port.ctx) + timeout_ms;
    osap__dev_unlock(dev);
    dev->port.wake(dev->port.ctx);
    dev->port.thread_join(dev->port.ctx);
    dev->threaded = 0;
    return OSAP_OK;
}
