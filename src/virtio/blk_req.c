/* blk_req.c: virtio-blk requests: a popped chain parsed into what to do. */
#include "virtio/blk_req.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#define VBLK_SECTOR 512u
#define VBLK_HDR sizeof(struct virtio_blk_outhdr)
#define VBLK_SEG sizeof(struct virtio_blk_discard_write_zeroes)

/*
 * The bytes [off, off + len) of the segments iov[0, n) as segments in
 * out (at most cap). Returns how many, or -1 if more than cap are needed.
 * The caller knows off + len is within the segments' total.
 */
static int vblk_slice(const struct iovec *iov, unsigned n, uint64_t off,
                      uint64_t len, struct iovec *out, unsigned cap)
{
    unsigned k = 0;

    for (unsigned i = 0; i < n && len; i++) {
        uint64_t seg = iov[i].iov_len, take;

        if (off >= seg) {
            off -= seg;
            continue;
        }
        take = seg - off < len ? seg - off : len;
        if (k == cap)
            return -1;
        out[k++] =
            (struct iovec){(uint8_t *)iov[i].iov_base + off, (size_t)take};
        len -= take;
        off = 0;
    }
    return (int)k;
}

/* Copies len bytes from the start of the segments into dst, once. */
static void vblk_copy_out(const struct iovec *iov, unsigned n, void *dst,
                          size_t len)
{
    uint8_t *d = dst;

    for (unsigned i = 0; i < n && len; i++) {
        size_t take = iov[i].iov_len < len ? iov[i].iov_len : len;

        memcpy(d, iov[i].iov_base, take);
        d += take;
        len -= take;
    }
    /* The guest may change its copy meanwhile: ours is what counts. */
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static void vblk_done(struct vblk_req *req, uint8_t status, const char *why)
{
    req->kind = VBLK_REQ_DONE;
    req->status = status;
    req->why = why;
}

/* [sector * 512, + len) lies in the disk, without overflow. */
static bool vblk_in_disk(const struct vblk_limits *lim, uint64_t sector,
                         uint64_t len)
{
    uint64_t off;

    if (sector > lim->capacity / VBLK_SECTOR)
        return false;
    off = sector * VBLK_SECTOR;
    return len <= lim->capacity - off;
}

static bool vblk_aligned(const struct vblk_limits *lim, uint64_t sector,
                         uint64_t len)
{
    uint64_t per_block = lim->blk_size / VBLK_SECTOR;

    return sector % per_block == 0 && len % lim->blk_size == 0;
}

/* IN and OUT: the data segments, checked; the engine's request. */
static void vblk_parse_rw(const struct vblk_limits *lim,
                          const struct iovec *iov, unsigned n, uint64_t off,
                          uint64_t len, uint64_t sector, struct iovec *data,
                          unsigned cap, struct vblk_req *req)
{
    int k = vblk_slice(iov, n, off, len, data, cap);

    if (k < 0 || (unsigned)k > lim->seg_max)
        return vblk_done(req, VIRTIO_BLK_S_IOERR, "more than seg_max");
    for (int i = 0; i < k; i++)
        if (data[i].iov_len > lim->size_max)
            return vblk_done(req, VIRTIO_BLK_S_IOERR,
                             "a segment longer than size_max");
    if (!vblk_aligned(lim, sector, len))
        return vblk_done(req, VIRTIO_BLK_S_IOERR, "not block-aligned");
    if (!vblk_in_disk(lim, sector, len))
        return vblk_done(req, VIRTIO_BLK_S_IOERR, "past the disk's end");
    if (!len)
        return vblk_done(req, VIRTIO_BLK_S_OK, NULL);
    req->kind = VBLK_REQ_IO;
    req->offset = sector * VBLK_SECTOR;
    req->len = len;
    req->data = data;
    req->ndata = (unsigned)k;
}

/* DISCARD and WRITE_ZEROES: one segment (max_*_seg is 1), copied out. */
static void vblk_parse_zero(const struct vblk_limits *lim,
                            const struct vq_chain *c, struct vblk_req *req)
{
    bool discard = req->type == VIRTIO_BLK_T_DISCARD;
    struct virtio_blk_discard_write_zeroes seg;
    struct iovec one;
    uint64_t sector, len;
    uint32_t num, flags;

    if (!(discard ? lim->discard : lim->write_zeroes))
        return vblk_done(req, VIRTIO_BLK_S_UNSUPP, "not negotiated");
    if (lim->ro)
        return vblk_done(req, VIRTIO_BLK_S_IOERR, "read-only");
    if (c->read_len - VBLK_HDR != VBLK_SEG)
        return vblk_done(req, VIRTIO_BLK_S_IOERR, "not one segment");
    /* 16 bytes after the header, wherever they are: copied once. */
    if (vblk_slice(c->iov, c->nread, VBLK_HDR, VBLK_SEG, &one, 1) == 1) {
        memcpy(&seg, one.iov_base, VBLK_SEG);
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
    } else {
        uint8_t all[VBLK_HDR + VBLK_SEG];

        vblk_copy_out(c->iov, c->nread, all, sizeof(all));
        memcpy(&seg, all + VBLK_HDR, VBLK_SEG);
    }
    sector = le64toh(seg.sector);
    num = le32toh(seg.num_sectors);
    flags = le32toh(seg.flags);
    if (flags & ~(uint32_t)VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP ||
        (discard && flags))
        return vblk_done(req, VIRTIO_BLK_S_UNSUPP, "unknown flags");
    if (num >
        (discard ? lim->max_discard_sectors : lim->max_write_zeroes_sectors))
        return vblk_done(req, VIRTIO_BLK_S_IOERR, "too many sectors");
    len = (uint64_t)num * VBLK_SECTOR;
    if (!vblk_aligned(lim, sector, len))
        return vblk_done(req, VIRTIO_BLK_S_IOERR, "not block-aligned");
    if (!vblk_in_disk(lim, sector, len))
        return vblk_done(req, VIRTIO_BLK_S_IOERR, "past the disk's end");
    if (!num)
        return vblk_done(req, VIRTIO_BLK_S_OK, NULL);
    req->kind = VBLK_REQ_IO;
    req->op = discard ? BLKIO_DISCARD : BLKIO_WRITE_ZEROES;
    req->flags = flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP ? BLKIO_UNMAP : 0;
    req->offset = sector * VBLK_SECTOR;
    req->len = len;
}

void vblk_req_parse(const struct vblk_limits *lim, const struct vq_chain *c,
                    struct iovec *data, unsigned data_cap, struct vblk_req *req)
{
    const struct iovec *w = c->iov + c->nread, *last;
    struct virtio_blk_outhdr hdr;
    uint64_t sector, wdata;

    memset(req, 0, sizeof(*req));
    if (!c->nwrite || !c->write_len) {
        req->kind = VBLK_REQ_BAD;
        req->why = "no device-writable byte for the status";
        return;
    }
    last = &w[c->nwrite - 1];
    req->status_ptr = (uint8_t *)last->iov_base + last->iov_len - 1;
    req->used_len =
        c->write_len > UINT32_MAX ? UINT32_MAX : (uint32_t)c->write_len;
    wdata = c->write_len - 1;
    if (c->read_len < VBLK_HDR)
        return vblk_done(req, VIRTIO_BLK_S_IOERR, "header too short");
    vblk_copy_out(c->iov, c->nread, &hdr, sizeof(hdr));
    req->type = le32toh(hdr.type);
    sector = le64toh(hdr.sector);
    switch (req->type) {
    case VIRTIO_BLK_T_IN:
        req->op = BLKIO_READ;
        vblk_parse_rw(lim, w, c->nwrite, 0, wdata, sector, data, data_cap, req);
        break;
    case VIRTIO_BLK_T_OUT:
        if (lim->ro)
            return vblk_done(req, VIRTIO_BLK_S_IOERR, "read-only");
        req->op = BLKIO_WRITE;
        vblk_parse_rw(lim, c->iov, c->nread, VBLK_HDR, c->read_len - VBLK_HDR,
                      sector, data, data_cap, req);
        break;
    case VIRTIO_BLK_T_FLUSH:
        req->kind = VBLK_REQ_IO;
        req->op = BLKIO_FLUSH;
        break;
    case VIRTIO_BLK_T_GET_ID: {
        int k = vblk_slice(w, c->nwrite, 0, wdata, data, data_cap);

        if (k < 0)
            return vblk_done(req, VIRTIO_BLK_S_IOERR, "more than seg_max");
        req->id = data;
        req->nid = (unsigned)k;
        vblk_done(req, VIRTIO_BLK_S_OK, NULL);
        break;
    }
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        vblk_parse_zero(lim, c, req);
        break;
    default:
        vblk_done(req, VIRTIO_BLK_S_UNSUPP, "unknown type");
    }
}

uint8_t vblk_req_status(int res)
{
    if (res == 0)
        return VIRTIO_BLK_S_OK;
    return res == -EOPNOTSUPP ? VIRTIO_BLK_S_UNSUPP : VIRTIO_BLK_S_IOERR;
}

uint32_t vblk_req_finish(const struct vblk_limits *lim, struct vblk_req *req,
                         uint8_t status)
{
    size_t left = VIRTIO_BLK_ID_BYTES, off = 0;

    if (status == VIRTIO_BLK_S_OK && req->type == VIRTIO_BLK_T_GET_ID &&
        req->kind == VBLK_REQ_DONE) {
        for (unsigned i = 0; i < req->nid && left; i++) {
            size_t take = req->id[i].iov_len < left ? req->id[i].iov_len : left;

            memcpy(req->id[i].iov_base, lim->serial + off, take);
            off += take;
            left -= take;
        }
    }
    /* Plain store: vq_push() publishes it with used->idx (release). */
    *req->status_ptr = status;
    return req->used_len;
}
