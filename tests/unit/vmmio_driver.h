/* vmmio_driver.h: a test's driver side of a virtio-mmio device: register
 * accesses through the transport, feature negotiation and queue set-up,
 * and waiting for used buffers the way a guest does (interrupt,
 * InterruptStatus read, used_event). Include <cmocka.h> first: the set-up
 * asserts what the device must answer. */
#ifndef KVMRUN_TEST_VMMIO_DRIVER_H
#define KVMRUN_TEST_VMMIO_DRIVER_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "bus.h"
#include "le.h"
#include "mem.h"
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

/* The device's 64 feature bits, both halves of DeviceFeatures. */
static inline uint64_t vmdrv_offered(struct vmmio *t)
{
    uint64_t lo;

    vmdrv_wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    lo = vmdrv_rd(t, VIRTIO_MMIO_DEVICE_FEATURES, 4);
    vmdrv_wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    return lo | (uint64_t)vmdrv_rd(t, VIRTIO_MMIO_DEVICE_FEATURES, 4) << 32;
}

/* A reset, then ACKNOWLEDGE, DRIVER, the driver's features and
 * FEATURES_OK, which the device must keep. */
static inline void vmdrv_negotiate(struct vmmio *t, uint64_t features)
{
    vmdrv_wr(t, VIRTIO_MMIO_STATUS, 0);
    vmdrv_wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    vmdrv_wr(t, VIRTIO_MMIO_STATUS,
             VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    vmdrv_wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    vmdrv_wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
    vmdrv_wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    vmdrv_wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
    vmdrv_wr(t, VIRTIO_MMIO_STATUS,
             VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                 VIRTIO_CONFIG_S_FEATURES_OK);
    assert_true(vmdrv_rd(t, VIRTIO_MMIO_STATUS, 4) &
                VIRTIO_CONFIG_S_FEATURES_OK);
}

/*
 * Queue q, of num entries (the device's maximum), made ready with its
 * rings in the 64 KiB at base (zeroed first): descriptors at base, the
 * available ring 4 KiB on, the used ring 8 KiB on. d is the test's
 * driver view of them.
 */
static inline void vmdrv_queue(struct vmmio *t, struct guest_mem *mem,
                               struct vdrv *d, unsigned q, uint64_t base,
                               uint32_t num)
{
    memset(mem_ptr(mem, base, 0x10000), 0, 0x10000);
    *d = (struct vdrv){mem, num, base, base + 0x1000, base + 0x2000, 0};
    vmdrv_wr(t, VIRTIO_MMIO_QUEUE_SEL, q);
    assert_int_equal(vmdrv_rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX, 4), num);
    vmdrv_wr(t, VIRTIO_MMIO_QUEUE_NUM, num);
    vmdrv_wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)d->desc);
    vmdrv_wr(t, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(d->desc >> 32));
    vmdrv_wr(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)d->avail);
    vmdrv_wr(t, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(d->avail >> 32));
    vmdrv_wr(t, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)d->used);
    vmdrv_wr(t, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(d->used >> 32));
    vmdrv_wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
}

/* What KVM_IOEVENTFD does on a QueueNotify write: a count on the queue's
 * kick eventfd. */
static inline void vmdrv_kick(int kick_fd)
{
    uint64_t one = 1;

    assert_int_equal(write(kick_fd, &one, 8), 8);
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

/* vmdrv_wait_used for queue q, the test failing on a timeout. */
static inline void vmdrv_expect_used(struct vmmio *t, struct vdrv *d,
                                     int irq_fd, unsigned q, uint16_t want,
                                     uint64_t wait_ms)
{
    if (!vmdrv_wait_used(t, d, irq_fd, want, wait_ms))
        fail_msg("queue %u: used index %u, waited for %u", q, vdrv_used_idx(d),
                 want);
}

#endif
