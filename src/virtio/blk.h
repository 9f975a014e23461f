/* blk.h: the virtio-blk device: queues served on an I/O thread, requests
 * run by a block I/O engine over a disk image. */
#ifndef KVMRUN_VIRTIO_BLK_H
#define KVMRUN_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "blkio.h"
#include "disk.h"
#include "iothread.h"
#include "virtio/blk_req.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"

/* Queue size offered, and the data segments a request may have: as many
 * descriptors as a queue holds less the header's and the status's (the
 * driver sizes its scatter lists by it). */
#define VBLK_QUEUE_SIZE 256
#define VBLK_SEG_MAX (VBLK_QUEUE_SIZE - 2)
#define VBLK_SIZE_MAX (1u << 20)
#define VBLK_MAX_QUEUES 8
/* Sectors in one discard or write-zeroes segment (QEMU's limit: what
 * fits a signed 32-bit byte count), one segment per request. */
#define VBLK_MAX_ZERO_SECTORS (0x7fffffffu / 512)

struct vblk;

/* One chain in flight: popped, parsed, with the engine or done. */
struct vblk_slot {
    struct vblk_queue *q;
    struct vq_chain chain;
    struct vblk_req req;
    struct blkio_req io;
    struct iovec *data; /* VBLK_SEG_MAX + 2 entries, as chain.iov */
    struct vblk_slot *next_free;
};

struct vblk_queue {
    struct vblk *b;
    unsigned index;
    int kick_fd;   /* eventfd: KVM_IOEVENTFD's target, and notify()'s */
    struct vq *vq; /* the transport's, while active and ready; else NULL */
    struct vblk_slot *slots, *free;
    unsigned inflight; /* popped, not yet pushed */
    bool starved;      /* stopped popping (no free slot, or draining) */
    bool pushed;       /* pushed since the last interrupt check */
};

/* What the machine gives a disk. */
struct vblk_params {
    const char *name;    /* "vda": messages, the thread's client name */
    struct disk *disk;   /* opened (disk_open), the caller's */
    struct iothread *io; /* the I/O thread serving it */
    unsigned nqueues;    /* 1..VBLK_MAX_QUEUES; more than 1 offers MQ */
    iothread_spawn_fn
        *spawn; /* the sync engine's workers (kvmrun_thread_create) */
};

/*
 * The device. Its queues, slots and engine belong to the I/O thread
 * once active; the vCPU threads touch them only through the ops (under
 * the transport's lock), which pause the I/O thread first when they
 * change what it uses (activate, reset).
 */
struct vblk {
    const char *name;
    struct disk *disk;
    struct iothread *io;
    struct blkio *engine;
    struct vmmio *t; /* vblk_attach() */
    struct vblk_limits lim;
    struct virtio_blk_config config; /* little-endian, as the guest reads */
    struct virtio_dev dev;
    unsigned nqueues;
    struct vblk_queue q[VBLK_MAX_QUEUES];
    struct iovec *iov_pool; /* every slot's chain and data arrays */
    bool active;
    bool broken; /* needs a reset: serve nothing until it comes */
    bool engine_registered, client_registered;
    unsigned kicks_registered; /* queues whose kick handler is added */
    /* The I/O thread's counters. */
    uint64_t requests, errors, kicks;
};

/*
 * Makes the device for an opened disk: its engine (p->disk's engine
 * option: AUTO falls back to sync with a note, vblk_note()), one kick
 * eventfd per queue, the config space (capacity, size_max, seg_max,
 * blk_size, discard and write-zeroes limits, num_queues) and the
 * features: RO for a read-only disk, else DISCARD and WRITE_ZEROES;
 * FLUSH, SEG_MAX, SIZE_MAX, BLK_SIZE; MQ with more than one queue;
 * INDIRECT_DESC and EVENT_IDX (VERSION_1 comes from the transport).
 * Registers the engine's completions, the queues' kicks (IOTHREAD_WORK;
 * a kick of a queue not active is dropped) and the device (a quiesce
 * client) with the I/O thread, so that activate and reset, on vCPU
 * threads, only pause it and write eventfds. 0 or -errno, message set.
 */
int vblk_init(struct vblk *b, const struct vblk_params *p);

/* What vmmio_init() takes. */
const struct virtio_dev *vblk_dev(const struct vblk *b);

/* After vmmio_init(t, vblk_dev(b), ...): the transport the device
 * signals (used buffers, NEEDS_RESET). */
void vblk_attach(struct vblk *b, struct vmmio *t);

/* Queue q's kick eventfd: the machine binds KVM_IOEVENTFD to it. */
int vblk_kick_fd(const struct vblk *b, unsigned q);

/* Why the engine is sync though io_uring was not refused by the user;
 * "" otherwise. For one line at start. */
const char *vblk_note(const struct vblk *b);

/* Drains (pauses the I/O thread), unregisters, closes the engine. Before
 * iothread_fini() of its thread, after vmmio_fini(). Safe on a device
 * whose init failed. */
void vblk_fini(struct vblk *b);

#endif
