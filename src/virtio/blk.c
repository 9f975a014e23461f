/* blk.c: the virtio-blk device: queues served on an I/O thread, requests
 * run by a block I/O engine over a disk image. */
#include "virtio/blk.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "error.h"
#include "kvmrun.h"

#define BIT64(n) (1ULL << (n))
#define VBLK_IOV_PER_SLOT (VBLK_SEG_MAX + 2)

/* The config space the guest reads: up to the secure-erase fields,
 * which are not offered. */
#define VBLK_CONFIG_SIZE                                                       \
    offsetof(struct virtio_blk_config, max_secure_erase_sectors)

static void vblk_poke(int fd)
{
    uint64_t one = 1;

    if (write(fd, &one, sizeof(one)) < 0)
        return; /* only at a counter of 2^64 - 2: readable anyway */
}

static void vblk_unpoke(int fd)
{
    uint64_t v;

    if (read(fd, &v, sizeof(v)) < 0)
        return; /* EAGAIN: nothing pending */
}

/* --- the I/O thread's side ---------------------------------------------- */

static void vblk_slot_free(struct vblk_queue *q, struct vblk_slot *s)
{
    s->next_free = q->free; /* LIFO: the same few slots stay warm */
    q->free = s;
}

static void vblk_broken(struct vblk *b, const char *why)
{
    b->broken = true;
    if (b->t)
        vmmio_needs_reset(b->t, why);
}

/* Answers a slot's request and gives the chain back. */
static void vblk_answer(struct vblk_queue *q, struct vblk_slot *s,
                        uint8_t status)
{
    uint32_t len = vblk_req_finish(&q->b->lim, &s->req, status);

    if (status != VIRTIO_BLK_S_OK)
        q->b->errors++;
    /* The queue is gone only after a drain: a push never fails here
     * but for a device bug, which the next pop would not survive. */
    if (vq_push(q->vq, s->chain.head, len) < 0)
        vblk_broken(q->b, kvmrun_last_error());
    q->pushed = true;
    q->inflight--;
    vblk_slot_free(q, s);
}

static void vblk_io_done(struct blkio_req *io, int res)
{
    struct vblk_slot *s = io->opaque;

    vblk_answer(s->q, s, vblk_req_status(res));
}

static void vblk_submit(struct vblk *b, struct vblk_slot *s)
{
    struct vblk_req *r = &s->req;

    s->io = (struct blkio_req){
        .op = r->op,
        .flags = r->flags,
        .offset = r->offset,
        .len = r->len,
        .iov = r->data,
        .niov = r->ndata,
        .done = vblk_io_done,
        .opaque = s,
    };
    blkio_submit(b->engine, &s->io);
}

/* Pops one chain into a free slot and starts it. False: nothing (more)
 * to pop, no slot, or the queue broke. */
static bool vblk_pop_one(struct vblk *b, struct vblk_queue *q)
{
    struct vblk_slot *s = q->free;
    int rc;

    if (!s) {
        q->starved = true; /* a completion frees one and looks again */
        return false;
    }
    rc = vq_pop(q->vq, &s->chain);
    if (rc <= 0) {
        if (rc < 0)
            vblk_broken(b, kvmrun_last_error());
        return false;
    }
    q->free = s->next_free;
    q->inflight++;
    b->requests++;
    vblk_req_parse(&b->lim, &s->chain, s->data, VBLK_IOV_PER_SLOT, &s->req);
    switch (s->req.kind) {
    case VBLK_REQ_IO:
        vblk_submit(b, s);
        break;
    case VBLK_REQ_DONE:
        vblk_answer(q, s, s->req.status);
        break;
    default: {
        char why[96];

        /* Never answered: not in flight (a pause must not wait for it). */
        q->inflight--;
        vblk_slot_free(q, s);
        snprintf(why, sizeof(why),
                 "queue %u: descriptor %u: a request "
                 "with no device-writable byte",
                 q->index, s->chain.head);
        vblk_broken(b, why);
        return false;
    }
    }
    return true;
}

static void vblk_signal(struct vblk *b, struct vblk_queue *q)
{
    if (q->pushed && q->vq && b->t) {
        q->pushed = false;
        vmmio_signal_used(b->t, q->vq);
    }
}

/*
 * Pops everything the driver made available, with kicks off meanwhile;
 * the engine gets the batch in one go. Ends by asking for a kick and
 * looking once more (vq_enable_notify), so that a chain made available
 * meanwhile is not left waiting for a kick that will not come.
 */
static void vblk_process(struct vblk *b, struct vblk_queue *q)
{
    q->starved = false;
    if (b->broken || !q->vq)
        return;
    for (;;) {
        vq_disable_notify(q->vq);
        while (!b->broken && vblk_pop_one(b, q))
            ;
        blkio_kick(b->engine);
        vblk_signal(b, q);
        if (b->broken || q->starved || !vq_enable_notify(q->vq))
            break;
    }
}

static void vblk_on_kick(void *opaque)
{
    struct vblk_queue *q = opaque;

    /* A kick of a queue not (or no longer) active: dropped here, on the
     * I/O thread (a vCPU thread's filter has no read). */
    vblk_unpoke(q->kick_fd);
    q->b->kicks++;
    vblk_process(q->b, q);
}

/* Completions: answered, then one interrupt check per queue; a queue
 * that ran out of slots is served again (not while draining). */
static void vblk_on_engine(void *opaque)
{
    struct vblk *b = opaque;

    blkio_reap(b->engine);
    for (unsigned i = 0; i < b->nqueues; i++) {
        struct vblk_queue *q = &b->q[i];

        vblk_signal(b, q);
        if (q->starved && !iothread_draining(b->io))
            vblk_process(b, q);
    }
}

static unsigned vblk_inflight(void *opaque)
{
    struct vblk *b = opaque;
    unsigned n = 0;

    for (unsigned i = 0; i < b->nqueues; i++)
        n += b->q[i].inflight;
    return n;
}

/* Draining: what the engine holds goes to the kernel now. */
static void vblk_quiesce(void *opaque)
{
    struct vblk *b = opaque;

    blkio_kick(b->engine);
}

/* A queue stopped for want of a slot while draining looks again. */
static void vblk_resume(void *opaque)
{
    struct vblk *b = opaque;

    for (unsigned i = 0; i < b->nqueues; i++)
        if (b->q[i].starved && b->q[i].vq)
            vblk_poke(b->q[i].kick_fd);
}

/* --- the transport's side (vCPU threads, transport lock held) ----------- */

static void vblk_config_read(void *dev, uint32_t offset, uint8_t *data,
                             unsigned size)
{
    struct vblk *b = dev;

    memcpy(data, (const uint8_t *)&b->config + offset, size);
}

static void vblk_queue_reset(struct vblk_queue *q)
{
    q->vq = NULL;
    q->free = NULL;
    q->inflight = 0;
    q->starved = q->pushed = false;
    for (unsigned i = VBLK_QUEUE_SIZE; q->slots && i-- > 0;)
        vblk_slot_free(q, &q->slots[i]);
}

/* Forgets the queues: the I/O thread is paused, nothing in flight. The
 * kick handlers stay registered (a vCPU thread's filter has no
 * epoll_ctl): a kick of a forgotten queue finds no vq and is dropped. */
static void vblk_stop_queues(struct vblk *b)
{
    for (unsigned i = 0; i < b->nqueues; i++)
        vblk_queue_reset(&b->q[i]);
    b->active = false;
    b->broken = false;
}

/*
 * DRIVER_OK, on a vCPU thread: the queues are handed to the I/O thread
 * while it is parked (it drains the other devices it serves meanwhile).
 * Only futex and eventfd writes here: the vCPU threads' seccomp filter
 * allows no more.
 */
static int vblk_activate(void *dev, uint64_t features, struct vq *const *vqs,
                         unsigned nq)
{
    struct vblk *b = dev;

    iothread_pause(b->io, 0);
    b->lim.discard = features & BIT64(VIRTIO_BLK_F_DISCARD);
    b->lim.write_zeroes = features & BIT64(VIRTIO_BLK_F_WRITE_ZEROES);
    if (!(features & BIT64(VIRTIO_BLK_F_MQ)))
        nq = 1; /* the driver uses queue 0 only */
    for (unsigned i = 0; i < nq && i < b->nqueues; i++) {
        b->q[i].vq = vqs[i];
        /* Chains made available before DRIVER_OK get no kick: look. */
        if (vqs[i])
            vblk_poke(b->q[i].kick_fd);
    }
    b->active = true;
    iothread_resume(b->io);
    return 0;
}

/* Waits for the device's requests in flight (they are answered), then
 * forgets the queues. No limit: a request to a local image ends. */
static void vblk_reset(void *dev)
{
    struct vblk *b = dev;

    iothread_pause(b->io, 0);
    vblk_stop_queues(b);
    iothread_resume(b->io);
}

static void vblk_notify(void *dev, unsigned q)
{
    struct vblk *b = dev;

    if (q < b->nqueues)
        vblk_poke(b->q[q].kick_fd);
}

static const struct virtio_dev_ops vblk_ops = {
    .config_read = vblk_config_read,
    .config_write = NULL,
    .activate = vblk_activate,
    .reset = vblk_reset,
    .notify = vblk_notify,
};

/* --- setup -------------------------------------------------------------- */

static void vblk_make_config(struct vblk *b)
{
    struct virtio_blk_config *c = &b->config;
    uint32_t per_block = b->lim.blk_size / 512;
    uint32_t zero_max = VBLK_MAX_ZERO_SECTORS / per_block * per_block;

    memset(c, 0, sizeof(*c));
    c->capacity = htole64(b->lim.capacity / 512);
    c->size_max = htole32(b->lim.size_max);
    c->seg_max = htole32(b->lim.seg_max);
    c->blk_size = htole32(b->lim.blk_size);
    c->num_queues = htole16((uint16_t)b->nqueues);
    c->max_discard_sectors = htole32(zero_max);
    c->max_discard_seg = htole32(1);
    c->discard_sector_alignment = htole32(per_block);
    c->max_write_zeroes_sectors = htole32(zero_max);
    c->max_write_zeroes_seg = htole32(1);
    c->write_zeroes_may_unmap = 1;
    b->lim.max_discard_sectors = zero_max;
    b->lim.max_write_zeroes_sectors = zero_max;
}

static void vblk_make_dev(struct vblk *b)
{
    uint64_t f = BIT64(VIRTIO_BLK_F_FLUSH) | BIT64(VIRTIO_BLK_F_SEG_MAX) |
                 BIT64(VIRTIO_BLK_F_SIZE_MAX) | BIT64(VIRTIO_BLK_F_BLK_SIZE) |
                 BIT64(VIRTIO_RING_F_INDIRECT_DESC) |
                 BIT64(VIRTIO_RING_F_EVENT_IDX);

    if (b->lim.ro)
        f |= BIT64(VIRTIO_BLK_F_RO);
    else
        f |= BIT64(VIRTIO_BLK_F_DISCARD) | BIT64(VIRTIO_BLK_F_WRITE_ZEROES);
    if (b->nqueues > 1)
        f |= BIT64(VIRTIO_BLK_F_MQ);
    b->dev = (struct virtio_dev){
        .name = b->name,
        .device_id = VIRTIO_ID_BLOCK,
        .features = f,
        .config_size = VBLK_CONFIG_SIZE,
        .nqueues = b->nqueues,
        .ops = &vblk_ops,
        .opaque = b,
    };
    for (unsigned i = 0; i < b->nqueues; i++)
        b->dev.queue_max[i] = VBLK_QUEUE_SIZE;
}

static enum blkio_kind vblk_engine_kind(enum kvmrun_disk_engine e)
{
    switch (e) {
    case KVMRUN_DISK_IO_URING:
        return BLKIO_URING;
    case KVMRUN_DISK_SYNC:
        return BLKIO_SYNC;
    default:
        return BLKIO_AUTO;
    }
}

/* Slots, their iovec arrays (pages touched only as slots are used), the
 * kick eventfds. */
static int vblk_make_queues(struct vblk *b)
{
    size_t per_queue = (size_t)VBLK_QUEUE_SIZE * 2 * VBLK_IOV_PER_SLOT;

    b->iov_pool = calloc(per_queue * b->nqueues, sizeof(struct iovec));
    if (!b->iov_pool)
        return err_set(ENOMEM, "%s: out of memory for the queues", b->name);
    for (unsigned i = 0; i < b->nqueues; i++) {
        struct vblk_queue *q = &b->q[i];
        struct iovec *iov = b->iov_pool + per_queue * i;

        q->b = b;
        q->index = i;
        q->slots = calloc(VBLK_QUEUE_SIZE, sizeof(*q->slots));
        if (!q->slots)
            return err_set(ENOMEM, "%s: out of memory for the queues", b->name);
        for (unsigned k = 0; k < VBLK_QUEUE_SIZE; k++) {
            struct vblk_slot *s = &q->slots[k];

            s->q = q;
            s->chain.iov = iov + (size_t)k * 2 * VBLK_IOV_PER_SLOT;
            s->chain.cap = VBLK_IOV_PER_SLOT;
            s->data = s->chain.iov + VBLK_IOV_PER_SLOT;
        }
        vblk_queue_reset(q);
        q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (q->kick_fd < 0)
            return err_errno(errno, "%s: eventfd", b->name);
    }
    return 0;
}

static void vblk_make_limits(struct vblk *b)
{
    const struct kvmrun_disk *o = &b->disk->opt;

    b->lim.capacity = b->disk->size;
    b->lim.blk_size = b->disk->dio_align;
    b->lim.seg_max = VBLK_SEG_MAX;
    b->lim.size_max = VBLK_SIZE_MAX;
    b->lim.ro = o->ro;
    /* NUL-padded, 20 bytes: not a C string when it has 20. */
    memcpy(b->lim.serial, o->serial, strnlen(o->serial, VIRTIO_BLK_ID_BYTES));
}

static int vblk_register(struct vblk *b)
{
    struct iothread_client c = {b->name, vblk_quiesce, vblk_inflight,
                                vblk_resume, b};
    int r;

    r = iothread_add(b->io, blkio_event_fd(b->engine), 0, vblk_on_engine, b);
    if (r)
        return r;
    b->engine_registered = true;
    for (unsigned i = 0; i < b->nqueues; i++) {
        r = iothread_add(b->io, b->q[i].kick_fd, IOTHREAD_WORK, vblk_on_kick,
                         &b->q[i]);
        if (r)
            return r;
        b->kicks_registered = i + 1;
    }
    r = iothread_client_add(b->io, &c);
    if (r)
        return r;
    b->client_registered = true;
    return 0;
}

int vblk_init(struct vblk *b, const struct vblk_params *p)
{
    struct blkio_params bp = {
        p->name, p->disk->fd, vblk_engine_kind(p->disk->opt.engine),
        0,       p->spawn,    NULL};
    int r;

    memset(b, 0, sizeof(*b));
    for (unsigned i = 0; i < VBLK_MAX_QUEUES; i++)
        b->q[i].kick_fd = -1;
    b->name = p->name;
    b->disk = p->disk;
    b->io = p->io;
    b->nqueues = p->nqueues;
    if (!b->nqueues || b->nqueues > VBLK_MAX_QUEUES)
        return err_set(EINVAL, "%s: %u queues: 1 to %u", p->name, p->nqueues,
                       VBLK_MAX_QUEUES);
    /* In the kernel at once: every slot of every queue. */
    bp.depth = VBLK_QUEUE_SIZE * b->nqueues;
    vblk_make_limits(b);
    vblk_make_config(b);
    vblk_make_dev(b);
    r = vblk_make_queues(b);
    if (!r)
        r = blkio_open(&b->engine, &bp);
    if (!r)
        r = vblk_register(b);
    if (r) {
        char why[512];

        snprintf(why, sizeof(why), "%s", kvmrun_last_error());
        vblk_fini(b);
        return err_set(-r, "%s", why);
    }
    return 0;
}

const struct virtio_dev *vblk_dev(const struct vblk *b)
{
    return &b->dev;
}

void vblk_attach(struct vblk *b, struct vmmio *t)
{
    b->t = t;
}

int vblk_kick_fd(const struct vblk *b, unsigned q)
{
    return q < b->nqueues ? b->q[q].kick_fd : -1;
}

const char *vblk_note(const struct vblk *b)
{
    return b->engine ? blkio_note(b->engine) : "";
}

void vblk_fini(struct vblk *b)
{
    if (b->io && (b->engine_registered || b->client_registered || b->active)) {
        iothread_pause(b->io, 0);
        vblk_stop_queues(b);
        for (unsigned i = 0; i < b->kicks_registered; i++)
            iothread_del(b->io, b->q[i].kick_fd);
        b->kicks_registered = 0;
        if (b->client_registered)
            iothread_client_del(b->io, b);
        if (b->engine_registered)
            iothread_del(b->io, blkio_event_fd(b->engine));
        b->client_registered = b->engine_registered = false;
        iothread_resume(b->io);
    }
    blkio_close(b->engine);
    b->engine = NULL;
    for (unsigned i = 0; i < VBLK_MAX_QUEUES; i++) {
        if (b->q[i].kick_fd >= 0)
            close(b->q[i].kick_fd);
        b->q[i].kick_fd = -1;
        free(b->q[i].slots);
        b->q[i].slots = NULL;
    }
    free(b->iov_pool);
    b->iov_pool = NULL;
}
