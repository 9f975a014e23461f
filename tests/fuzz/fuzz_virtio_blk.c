/*
 * fuzz_virtio_blk.c: libFuzzer target for the virtio-blk request path:
 * random rings (src/virtio/virtqueue.c) popped into the request parser
 * (src/virtio/blk_req.c), run against an in-memory fake engine, answered
 * and pushed back. Each input is the queue's registers, the device's
 * limits and the guest's RAM.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kvmrun.h"
#include "mem.h"
#include "virtio/blk_req.h"
#include "virtio/virtqueue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM (64 * 1024)
#define HEADER 16
#define MAX_POPS 512
#define MAX_DISK (16u << 20)
#define MAX_CAP 40

#include "fuzz_ring.h"

/*
 * Input: 16 bytes of header, then guest RAM from address 0.
 *   0     queue size: 1 << (b & 15), or byte 1 itself if bit 7 is set
 *   2     bit 0 INDIRECT_DESC, 1 EVENT_IDX, 2 read-only, 3 DISCARD and
 *         4 WRITE_ZEROES negotiated, 5 blk_size 4096 (else 512)
 *   3     seg_max: 1 + b % (MAX_CAP - 2); the chain takes seg_max + 2
 *   4-9   descriptor table, available ring, used ring: 16-bit addresses
 *   10-11 the indices to start from (through vq_restore)
 *   12    size_max: 512 << (b % 8)
 *   13-14 the disk: (1 + v % 4096) * 4 KiB
 *   15    the fake engine's failures: bit 7 set, request k fails with
 *         -EIO when (k + b) % 3 == 0, -EOPNOTSUPP when (k + b) % 5 == 0
 */
static struct guest_mem mem;
static uint8_t *disk;

/* seg lies inside one of the chain's segments [from, to). */
static bool inside_chain(const struct vq_chain *c, unsigned from, unsigned to,
                         const struct iovec *seg)
{
    const uint8_t *s = seg->iov_base;

    for (unsigned i = from; i < to; i++) {
        const uint8_t *b = c->iov[i].iov_base;

        if (s >= b && seg->iov_len <= c->iov[i].iov_len &&
            (size_t)(s - b) <= c->iov[i].iov_len - seg->iov_len)
            return true;
    }
    return false;
}

/* The engine: what it is asked is checked, then done on the disk. */
static int fake_engine(const struct vblk_limits *lim, const struct vq_chain *c,
                       const struct vblk_req *r, unsigned k, uint8_t fail)
{
    uint64_t sum = 0;
    bool read = r->op == BLKIO_READ;

    if (r->offset > lim->capacity || r->len > lim->capacity - r->offset)
        abort(); /* outside the disk */
    if (r->op == BLKIO_READ || r->op == BLKIO_WRITE) {
        if (!r->ndata || r->ndata > lim->seg_max || !r->len)
            abort();
        for (unsigned i = 0; i < r->ndata; i++) {
            const struct iovec *s = &r->data[i];

            if (!in_ram(&mem, s->iov_base, s->iov_len) ||
                s->iov_len > lim->size_max)
                abort();
            /* reads into writable buffers only, writes from readable
             * ones (the guest may alias them: positions are checked
             * below) */
            if (read ? !inside_chain(c, c->nread, c->nread + c->nwrite, s)
                     : !inside_chain(c, 0, c->nread, s))
                abort();
            if (read)
                memcpy(s->iov_base, disk + r->offset + sum, s->iov_len);
            else
                memcpy(disk + r->offset + sum, s->iov_base, s->iov_len);
            sum += s->iov_len;
        }
        if (sum != r->len || r->offset % lim->blk_size ||
            r->len % lim->blk_size)
            abort();
        /* an IN's data is every writable byte but the last (the
         * status); an OUT's every readable byte after the header */
        if (r->len != (read ? c->write_len - 1 : c->read_len - 16))
            abort();
    } else if (r->op == BLKIO_DISCARD || r->op == BLKIO_WRITE_ZEROES) {
        if (lim->ro || !r->len || r->offset % lim->blk_size)
            abort();
        memset(disk + r->offset, 0, r->len);
    } else if (r->op != BLKIO_FLUSH) {
        abort();
    }
    if (r->op != BLKIO_READ && r->op != BLKIO_FLUSH && lim->ro)
        abort(); /* a write reached a read-only disk */
    if (fail & 0x80) {
        if ((k + fail) % 3 == 0)
            return -EIO;
        if ((k + fail) % 5 == 0)
            return -EOPNOTSUPP;
    }
    return 0;
}

static void limits(const uint8_t *d, struct vblk_limits *lim)
{
    memset(lim, 0, sizeof(*lim));
    lim->blk_size = d[2] & 32 ? 4096 : 512;
    lim->seg_max = 1 + d[3] % (MAX_CAP - 2);
    lim->size_max = 512u << (d[12] % 8);
    lim->capacity = (1 + get16(d + 13) % 4096) * 4096ULL;
    lim->max_discard_sectors = lim->max_write_zeroes_sectors = 1u << 16;
    lim->ro = d[2] & 4;
    lim->discard = d[2] & 8;
    lim->write_zeroes = d[2] & 16;
    memcpy(lim->serial, "fuzz-serial", 11);
}

/* One popped chain through the parser, the engine and the answer. False:
 * the device would stop (a chain with nowhere for its status). */
static bool serve(struct vq *vq, const struct vblk_limits *lim,
                  struct vq_chain *c, unsigned k, uint8_t fail)
{
    struct iovec data[MAX_CAP];
    struct vblk_req r;
    uint8_t status;
    uint32_t len;

    vblk_req_parse(lim, c, data, MAX_CAP, &r);
    if (r.kind == VBLK_REQ_BAD) {
        if (c->write_len)
            abort(); /* it had a writable byte */
        return false;
    }
    if (!c->write_len)
        abort();
    {
        const struct iovec *w = &c->iov[c->nread + c->nwrite - 1];

        /* the status is the last writable byte */
        if (r.status_ptr != (uint8_t *)w->iov_base + w->iov_len - 1 ||
            !in_ram(&mem, r.status_ptr, 1))
            abort();
    }
    status = r.kind == VBLK_REQ_IO
                 ? vblk_req_status(fake_engine(lim, c, &r, k, fail))
                 : r.status;
    if (r.kind == VBLK_REQ_DONE && r.status == VIRTIO_BLK_S_OK &&
        r.type != VIRTIO_BLK_T_GET_ID && r.type != VIRTIO_BLK_T_IN &&
        r.type != VIRTIO_BLK_T_OUT && r.type != VIRTIO_BLK_T_DISCARD &&
        r.type != VIRTIO_BLK_T_WRITE_ZEROES)
        abort(); /* only empty transfers and GET_ID succeed at once */
    *r.status_ptr = 0xee;
    len = vblk_req_finish(lim, &r, status);
    if (*r.status_ptr != status || status > VIRTIO_BLK_S_UNSUPP)
        abort(); /* the status always written */
    if (len > c->write_len || len == 0)
        abort();
    if (vq_push(vq, c->head, len))
        abort();
    return true;
}

static void run(struct vq *vq, const struct vblk_limits *lim, uint8_t fail)
{
    struct iovec iov[MAX_CAP];
    struct vq_chain c = {.iov = iov, .cap = lim->seg_max + 2};
    int rc;

    for (unsigned k = 0; k < MAX_POPS; k++) {
        rc = vq_pop(vq, &c);
        if (rc < 0)
            return; /* fuzz_virtqueue checks refusals */
        if (rc == 0) {
            if (!vq_enable_notify(vq))
                return;
            continue;
        }
        for (unsigned i = 0; i < c.nread + c.nwrite; i++)
            if (!in_ram(&mem, iov[i].iov_base, iov[i].iov_len))
                abort();
        if (!serve(vq, lim, &c, k, fail))
            return;
        vq_need_notify(vq);
        vq_disable_notify(vq);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vblk_limits lim;
    struct vq *vq;

    if (!mem.map && (mem_init(&mem, RAM) || !(disk = calloc(1, MAX_DISK))))
        abort();
    if (size < HEADER)
        return 0;
    limits(data, &lim);
    fuzz_ring_ram(&mem, data, size, HEADER);
    vq = fuzz_ring_start(data, &mem);
    if (vq)
        run(vq, &lim, data[15]);
    return 0;
}
