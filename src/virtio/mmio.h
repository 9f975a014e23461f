/* mmio.h: the virtio-mmio (version 2) register file of one device. */
#ifndef KVMRUN_VIRTIO_MMIO_H
#define KVMRUN_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "mem.h"
#include "virtio/virtio.h"
#include "virtio/virtqueue.h"

/* One device's register window: control registers, then its config. */
#define VMMIO_WINDOW 0x1000

/*
 * The way out to the machine, which binds these to KVM (KVM_IRQFD,
 * KVM_IOEVENTFD) without this code seeing KVM.
 *   irq: raise the device's interrupt (an edge). Any thread, possibly
 *        with the transport's lock held: it must take no lock of ours.
 *   ioeventfd: bind (on) or unbind the device's kick eventfd of queue
 *        to 4-byte writes of the value queue at offset (QueueNotify) of
 *        the window; 0 or -errno. NULL: notifications stay MMIO exits,
 *        delivered through the device's notify().
 *   report: one line, called without the transport's lock held.
 */
struct vmmio_env {
    void (*irq)(void *machine);
    int (*ioeventfd)(void *machine, unsigned queue, uint64_t offset, bool on);
    void (*report)(void *machine, const char *line);
    void *machine;
};

/*
 * The transport. lock guards the register state and is held across the
 * device's callbacks. The device's I/O threads never take it: what they
 * touch (isr, needs_reset, generation, status's DRIVER_OK bit) is atomic.
 */
struct vmmio {
    struct virtio_dev dev;
    struct vmmio_env env;
    const struct guest_mem *mem;
    pthread_mutex_t lock;
    uint32_t status;     /* the driver's bits; NEEDS_RESET is needs_reset */
    uint32_t isr;        /* InterruptStatus: VIRTIO_MMIO_INT_* */
    uint32_t generation; /* ConfigGeneration */
    bool needs_reset;
    bool active;       /* activate() succeeded; queue registers are frozen */
    bool bad_features; /* a feature bit past 63 was accepted */
    uint32_t dev_features_sel, drv_features_sel, queue_sel, shm_sel;
    uint64_t driver_features;
    uint32_t reported; /* kinds of guest error reported since reset */
    char pending[240]; /* report to make once the lock is released */
    struct vq vq[VIRTIO_MAX_QUEUES];
    bool bound[VIRTIO_MAX_QUEUES]; /* ioeventfd bound */
};

/* The transport's snapshot: fixed size, host byte order. */
struct vmmio_state {
    uint32_t status, isr, generation, needs_reset;
    uint32_t dev_features_sel, drv_features_sel, queue_sel, shm_sel;
    uint64_t driver_features;
    uint32_t bad_features, nqueues;
    struct vq_state vq[VIRTIO_MAX_QUEUES];
};

/*
 * Sets up the transport of dev (copied) over guest memory mem, after
 * checking dev: at most VIRTIO_MAX_QUEUES queues each with a power-of-two
 * size of at most VQ_MAX_SIZE, a config space that fits the window, no
 * transport feature the core does not implement. 0 or -EINVAL.
 */
int vmmio_init(struct vmmio *t, const struct virtio_dev *dev,
               const struct vmmio_env *env, const struct guest_mem *mem);

/* Unbinds the ioeventfds; the device is the caller's to tear down. */
void vmmio_fini(struct vmmio *t);

/*
 * One guest access to the window: the bus_fn that the machine registers
 * for [base, base + VMMIO_WINDOW). A guest error (wrong width, a read of
 * a write-only register, a bad status transition...) is reported once
 * per kind until the device's next reset and otherwise ignored; a read
 * then returns 0.
 */
void vmmio_access(void *t, const struct bus_access *access);

/* After the device pushed to vq: raise a used-buffer interrupt if the
 * driver wants one. The device's I/O thread; lock-free. */
void vmmio_signal_used(struct vmmio *t, struct vq *vq);

/* The device changed its config space: new ConfigGeneration and, after
 * DRIVER_OK, a config-change interrupt. Any thread; lock-free. */
void vmmio_config_changed(struct vmmio *t);

/*
 * The device hit an error it cannot serve past (a malformed ring): sets
 * DEVICE_NEEDS_RESET and, after DRIVER_OK, raises a config-change
 * interrupt, as the spec asks. The first call until the next reset
 * reports "NAME: needs reset: why"; later ones are silent. Any thread;
 * lock-free.
 */
void vmmio_needs_reset(struct vmmio *t, const char *why);

void vmmio_save(struct vmmio *t, struct vmmio_state *st);

/*
 * Loads a saved state (after vmmio_init() of the same device); a device
 * that was past DRIVER_OK is activated again and its ioeventfds bound,
 * and pending interrupt bits raise the interrupt once more (an edge may
 * have been lost with the old process). 0, or -EINVAL with the message
 * set, the transport then being reset.
 */
int vmmio_restore(struct vmmio *t, const struct vmmio_state *st);

#endif
