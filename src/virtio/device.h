/* device.h: a virtio device as a machine device: the virtio-mmio
 * transport in an MMIO slot, wired to KVM through the machine's
 * environment (irqfd, ioeventfd), with its own I/O thread. */
#ifndef KVMRUN_VIRTIO_DEVICE_H
#define KVMRUN_VIRTIO_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/dev.h"
#include "iothread.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"

struct vdev;

/*
 * What a kind of virtio device gives the glue (docs/virtio.md, "Adding a
 * virtio device"). Every hook runs on the owner's thread (create,
 * teardown, snapshot) but kick_fd, which the transport calls on a vCPU
 * thread (DRIVER_OK, reset). Only init is required.
 *   init:    makes the device of instance ctx over the glue's I/O thread
 *            (v->io, started): fills v->dev (what vmmio_init() takes),
 *            may set v->note (one line for the log at start). 0 or
 *            -errno with the message set; init cleans up after itself.
 *   attach:  after vmmio_init(): the device learns its transport (v->t).
 *   kick_fd: queue q's kick eventfd, which KVM_IOEVENTFD writes for a
 *            guest's QueueNotify of q; -1: none (MMIO exits, notify()).
 *   fini:    tears the device down (the transport is gone, the I/O
 *            thread still runs).
 *   save/check/load: the device's own snapshot state, state_size bytes
 *            after the transport's (0: none). check sees only the
 *            section (untrusted, before anything is created) and writes
 *            why it refuses it; load runs before the transport's state
 *            is restored (which may re-activate the device).
 */
struct vdev_type {
    int (*init)(struct vdev *v, const struct dev_ctx *ctx);
    void (*attach)(struct vdev *v);
    int (*kick_fd)(struct vdev *v, unsigned q);
    void (*fini)(struct vdev *v);
    uint32_t state_size;
    void (*save)(struct vdev *v, void *state);
    int (*check)(const void *state, char *why, size_t len);
    void (*load)(struct vdev *v, const void *state);
};

/*
 * The glue's part of an instance: the first member of every virtio
 * device's state (the machine hands the glue's hooks that pointer).
 */
struct vdev {
    const struct vdev_type *type;
    const struct dev_env *env;
    char name[32]; /* the machine's: "virtio-blk.0" */
    uint64_t base; /* the window's guest address */
    unsigned gsi;
    char thread_name[16]; /* "io-<name>", cut to 15 bytes */
    struct iothread io;   /* the device's I/O thread */
    struct virtio_dev dev;
    struct vmmio t;
    int irq_fd; /* eventfd bound to gsi with KVM_IRQFD */
    char note[256];
    bool io_ready, device_ready, transport_ready, irqfd_bound;
    bool quiesced;
    bool owed; /* a load left interrupt bits pending: raise at start */
};

/* The transport's snapshot, then the device's own state. */
#define VDEV_SNAP_SIZE(own) ((uint32_t)(sizeof(struct vmmio_state) + (own)))

/* The glue's hooks, for VDEV_DESC. */
int vdev_init(void *dev, const struct dev_ctx *ctx,
              const struct vdev_type *type);
void vdev_fini(void *dev);
void vdev_start(void *dev);
void vdev_quiesce(void *dev);
void vdev_resume(void *dev);
void vdev_save(void *dev, void *state);
void vdev_load(void *dev, const void *state);
/* Checks the transport's part of a section, then type->check on the
 * device's part: 0 or -EINVAL with why written. */
int vdev_check(const struct vdev_type *type, const void *state, char *why,
               size_t len);
extern const struct dev_io vdev_mmio[];

/*
 * A virtio device's descriptor: name, the instance's state type (whose
 * first member is struct vdev), count (NULL: one), init and check
 * wrappers that call vdev_init()/vdev_check() with the device's type,
 * its snapshot version and own state size. One line per device file:
 *
 *   const struct dev_desc vrng_desc = VDEV_DESC("virtio-rng", struct vrng,
 *       vrng_count, vrng_dev_init, vrng_dev_check, 1, 0);
 *
 * VDEV_DESC_FIELDS is the same without the braces, for a device that adds
 * hooks of its own (the virtio console's .console).
 */
#define VDEV_DESC_FIELDS(NAME, TYPE, COUNT, INIT, CHECK, VERSION, OWN_SIZE)    \
    .name = (NAME), .size = sizeof(TYPE), .count = (COUNT), .mmio = vdev_mmio, \
    .mmio_slot = true, .init = (INIT), .fini = vdev_fini, .start = vdev_start, \
    .quiesce = vdev_quiesce, .resume = vdev_resume, .snap_version = (VERSION), \
    .snap_size = VDEV_SNAP_SIZE(OWN_SIZE), .save = vdev_save,                  \
    .check = (CHECK), .load = vdev_load
#define VDEV_DESC(NAME, TYPE, COUNT, INIT, CHECK, VERSION, OWN_SIZE)           \
    {                                                                          \
        VDEV_DESC_FIELDS(NAME, TYPE, COUNT, INIT, CHECK, VERSION, OWN_SIZE)    \
    }

/* One line on stderr through the machine (not rate-limited): for the
 * device's note at start. */
void vdev_log(struct vdev *v, const char *line);

#endif
