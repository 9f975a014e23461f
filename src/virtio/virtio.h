/* virtio.h: what a virtio device gives its transport (types only). */
#ifndef KVMRUN_VIRTIO_H
#define KVMRUN_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtqueue.h"

/* Queues per device: enough for console ports or a few blk queues. */
#define VIRTIO_MAX_QUEUES 16

/*
 * A device's callbacks. The transport calls them from vCPU threads with
 * its own lock held (lock order: transport, then the device's locks), so
 * a device never calls back into the transport's locked paths from them.
 */
struct virtio_dev_ops {
    /* Device-specific configuration space: the transport has checked the
     * width (1, 2 or 4 bytes), natural alignment and bounds. config_write
     * may be NULL for a read-only space. */
    void (*config_read)(void *dev, uint32_t offset, uint8_t *data,
                        unsigned size);
    void (*config_write)(void *dev, uint32_t offset, const uint8_t *data,
                         unsigned size);
    /*
     * DRIVER_OK: start serving. q[i] is queue i, or NULL if the driver
     * did not make it ready; features are the negotiated bits. Buffers
     * made available before this call must be served too (no kick may
     * come for them). 0, or -errno with the message set: the device then
     * needs a reset.
     */
    int (*activate)(void *dev, uint64_t features, struct vq *const *q,
                    unsigned nq);
    /* Device reset (the driver wrote 0 to Status): returns once no thread
     * of the device touches a queue or guest memory any more, with the
     * device's negotiated state forgotten. */
    void (*reset)(void *dev);
    /* The driver notified queue q by an MMIO write (no ioeventfd bound):
     * the device looks for new buffers there. */
    void (*notify)(void *dev, unsigned q);
};

struct virtio_dev {
    const char *name;     /* "virtio-blk": prefixes every report */
    uint32_t device_id;   /* VIRTIO_ID_* of <linux/virtio_ids.h> */
    uint64_t features;    /* offered: device bits and the ring features
                             (VIRTIO_RING_F_*) wanted; VERSION_1 is added */
    uint32_t config_size; /* bytes of device-specific configuration */
    unsigned nqueues;
    uint16_t queue_max[VIRTIO_MAX_QUEUES]; /* powers of two <= VQ_MAX_SIZE */
    const struct virtio_dev_ops *ops;
    void *opaque; /* the dev argument of every callback */
    /* Used-buffer interrupts are written to the interrupt eventfd by
     * another party (the kernel's vhost), not through
     * vmmio_signal_used(): InterruptStatus always shows VRING. */
    bool irq_direct;
};

#endif
