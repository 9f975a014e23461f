/* virtqueue.h: the device side of a virtio 1.x split virtqueue. */
#ifndef KVMRUN_VIRTQUEUE_H
#define KVMRUN_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "mem.h"

/* The spec's largest queue size: the largest power of two in 16 bits, so
 * that the free-running 16-bit indices tell a full ring from an empty one. */
#define VQ_MAX_SIZE 32768

/* The largest indirect table accepted, in descriptors (16 bytes each). The
 * spec sets none; a driver sizes its tables by the device's limits (blk's
 * seg_max), so this only stops a guest from making us walk megabytes. */
#define VQ_MAX_INDIRECT VQ_MAX_SIZE

/*
 * One queue. The transport writes num and the three addresses while the
 * queue is not ready (the driver's QueueNum, QueueDesc, QueueDriver and
 * QueueDevice registers), then vq_start() checks them. Afterwards one
 * thread at a time (the device's I/O thread) pops, pushes and decides on
 * notifications; the guest's driver runs concurrently on vCPUs.
 */
struct vq {
    unsigned index; /* the queue's number, for messages */
    uint32_t num;   /* queue size as the driver wrote it */
    uint64_t desc_gpa, avail_gpa, used_gpa;
    bool ready;
    bool event_idx; /* VIRTIO_RING_F_EVENT_IDX negotiated */
    bool indirect;  /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
    bool broken;    /* an error was returned: every later pop fails too */
    uint16_t last_avail_idx; /* next available ring entry to pop */
    uint16_t avail_idx;      /* the driver's avail->idx, last read */
    uint16_t used_idx;       /* next used ring entry: our used->idx */
    uint16_t signalled_used; /* used_idx at the last notification check */
    bool signalled_valid;    /* false: the next check notifies */
    /* Host views of the three areas, each checked whole by vq_start(). */
    const struct guest_mem *mem;
    uint8_t *desc, *avail, *used;
};

/* What vq_pop() found: one descriptor chain as host segments. */
struct vq_chain {
    uint16_t head; /* the chain's id, for vq_push() */
    /* iov[0, nread) are device-readable, iov[nread, nread + nwrite)
     * device-writable; each lies in guest RAM. */
    unsigned nread, nwrite;
    uint64_t read_len, write_len; /* byte totals, together <= 2^32 */
    unsigned ndesc;               /* descriptors walked, indirect ones too */
    struct iovec *iov;            /* the caller's array ... */
    unsigned cap;                 /* ... of cap entries */
};

/*
 * The queue's state in a snapshot: fixed size, host byte order. The
 * features are the transport's to restore, but are kept here too so that a
 * restored queue is whole on its own.
 */
struct vq_state {
    uint64_t desc_gpa, avail_gpa, used_gpa;
    uint32_t num;
    uint16_t last_avail_idx, used_idx, signalled_used;
    uint8_t ready, signalled_valid, event_idx, indirect;
    uint8_t pad[2];
};

/* A queue that is not ready, with everything zero but its index. */
void vq_init(struct vq *vq, unsigned index);

/* Back to vq_init()'s state (device reset). */
void vq_reset(struct vq *vq);

/* Takes the ring features (INDIRECT_DESC, EVENT_IDX) from the negotiated
 * feature bits. */
void vq_set_features(struct vq *vq, uint64_t features);

/*
 * Checks num (a power of two, 1..VQ_MAX_SIZE) and that each area is
 * aligned as the spec requires and lies whole in one slot of mem, then
 * marks the queue ready with its indices at 0. Returns 0, or -EINVAL
 * (bad size or alignment) / -EFAULT (not RAM) with the message set; the
 * queue then stays not ready.
 */
int vq_start(struct vq *vq, const struct guest_mem *mem);

/*
 * Takes the next available chain into chain->iov. Returns 1 with *chain
 * filled, 0 when the driver has made nothing new available, or -errno with
 * the message set (kvmrun_last_error()) for a malformed ring: the caller
 * then puts the device in DEVICE_NEEDS_RESET. Errors are sticky: every
 * later pop returns -EIO until vq_reset(). A failed pop writes nothing to
 * guest memory and consumes no entry.
 *   -EINVAL  a bad index, flag combination, order or indirect table
 *   -EFAULT  a buffer or table not inside RAM, or its end wrapping
 *   -ELOOP   more descriptors than the queue (or indirect table) holds
 *   -E2BIG   more segments than chain->cap
 *   -EOVERFLOW  more than 2^32 bytes in one chain
 *   -EIO     the queue is broken, or not ready
 */
int vq_pop(struct vq *vq, struct vq_chain *chain);

/*
 * Another party (the kernel's vhost) served the queue from where this
 * one stood: takes its next available index and the used index it left
 * in the ring, so that pops, pushes and a snapshot go on from there.
 */
void vq_resync(struct vq *vq, uint16_t last_avail_idx);

/*
 * Gives back the last n chains popped and not pushed (a device that took
 * more buffers than a packet needed, or could not send one yet): the next
 * pops return them again, so a snapshot finds them still available. 0,
 * or -EINVAL if fewer than n are taken.
 */
int vq_unpop(struct vq *vq, unsigned n);

/*
 * Returns chain head to the driver with len bytes written, visible to the
 * driver (used->idx) at return. 0, or -EINVAL if head is not a descriptor
 * index or more chains would be returned than were popped (a device bug).
 */
int vq_push(struct vq *vq, uint16_t head, uint32_t len);

/*
 * After one or more pushes: does the driver want an interrupt? Not if
 * nothing was pushed since the last check. Without EVENT_IDX, unless it
 * set VRING_AVAIL_F_NO_INTERRUPT; with EVENT_IDX, when used->idx went
 * past used_event since the last check (the first check after start
 * says yes).
 */
bool vq_need_notify(struct vq *vq);

/*
 * Before the device waits for a kick: asks the driver for one
 * (avail_event = last_avail_idx, or VRING_USED_F_NO_NOTIFY cleared), then
 * returns true if buffers arrived meanwhile, so that the device pops
 * again instead of sleeping on a kick that will not come.
 */
bool vq_enable_notify(struct vq *vq);

/* While the device is busy popping: asks the driver not to kick. */
void vq_disable_notify(struct vq *vq);

void vq_save(const struct vq *vq, struct vq_state *st);

/*
 * Restores a saved queue over mem; a ready queue is checked as vq_start()
 * does. 0, or -errno with the message set (the queue is then reset).
 */
int vq_restore(struct vq *vq, const struct guest_mem *mem,
               const struct vq_state *st);

#endif
