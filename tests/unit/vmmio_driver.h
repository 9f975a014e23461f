/* vmmio_driver.h: a test's driver side of a virtio-mmio device: register
 * accesses through the transport, and waiting for used buffers the way a
 * guest does (interrupt, InterruptStatus read, used_event). */
#ifndef KVMRUN_TEST_VMMIO_DRIVER_H
#define KVMRUN_TEST_VMMIO_DRIVER_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_mmio.h>

#include "bus.h"
#include "le.h"
#include "virtio/mmio.h"
#include "vring_driver.h"

static inline void vmdrv_wr(struct vmmio *t, uint64_t off, uint32_t v)
{
    uint8_t d[4];
    struct bus_access a = {off, d, 4, true, 0};

    le_put(d, 4, v);
    vmmio_access(t, &a);
}

static inline uint32_t vmdrv_rd(struct vmmio *t, uint64_t off, unsigned size)
{
    uint8_t d[4] = {0};
    struct bus_access a = {off, d, size, false, 0};

    vmmio_access(t, &a);
    return (uint32_t)le_get(d, size);
}

static inline uint64_t vmdrv_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Waits, at most wait_ms, until d's used index reaches want, as a driver
 * asking for an interrupt at every completion: used_event set, then the
 * index looked at again, then the interrupt eventfd irq_fd polled and
 * InterruptStatus read. false on timeout.
 */
static inline bool vmdrv_wait_used(struct vmmio *t, struct vdrv *d, int irq_fd,
                                   uint16_t want, uint64_t wait_ms)
{
    uint64_t end = vmdrv_now_ms() + wait_ms;
    struct pollfd p = {irq_fd, POLLIN, 0};
    uint64_t v;

    while (vdrv_used_idx(d) != want) {
        uint64_t now = vmdrv_now_ms();

        if (now >= end)
            return false;
        vdrv_set_used_event(d, vdrv_used_idx(d));
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (vdrv_used_idx(d) == want)
            break;
        if (poll(&p, 1, (int)(end - now)) == 1 && read(irq_fd, &v, 8) == 8)
            vmdrv_rd(t, VIRTIO_MMIO_INTERRUPT_STATUS, 4);
    }
    return true;
}

#endif
