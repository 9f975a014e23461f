/* blk_req.h: virtio-blk requests: a popped chain parsed into what to do. */
#ifndef KVMRUN_VIRTIO_BLK_REQ_H
#define KVMRUN_VIRTIO_BLK_REQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/virtio_blk.h>

#include "blkio.h"
#include "virtio/virtqueue.h"

/*
 * Pure functions, no thread, no file, no engine: a chain from vq_pop()
 * goes in, what the device must do comes out; fuzzed by
 * tests/fuzz/fuzz_virtio_blk.c. Everything in the chain is the guest's:
 * the header and a discard segment are copied out once and the copy is
 * what is checked and used.
 *
 * The layout is free (VERSION_1 implies ANY_LAYOUT): the header is the
 * first 16 device-readable bytes, however split; an OUT request's data
 * is the rest of the readable bytes; the status is the last
 * device-writable byte, and an IN or GET_ID request's data is the
 * writable bytes before it.
 */

/* What the device offers and the driver accepted, as the parser needs. */
struct vblk_limits {
    uint64_t capacity; /* bytes, a multiple of 512 */
    uint32_t blk_size; /* logical block: a power of two, 512..4096 */
    uint32_t seg_max;  /* data segments in a request */
    uint32_t size_max; /* bytes in a data segment */
    uint32_t max_discard_sectors, max_write_zeroes_sectors;
    bool ro;                          /* VIRTIO_BLK_F_RO offered */
    bool discard;                     /* VIRTIO_BLK_F_DISCARD negotiated */
    bool write_zeroes;                /* VIRTIO_BLK_F_WRITE_ZEROES negotiated */
    char serial[VIRTIO_BLK_ID_BYTES]; /* NUL-padded */
};

enum vblk_req_kind {
    VBLK_REQ_DONE, /* nothing to submit: finish with req->status now */
    VBLK_REQ_IO,   /* submit op to the engine, finish with its result */
    VBLK_REQ_BAD,  /* no device-writable byte: nowhere to put a status;
                      the device needs a reset */
};

struct vblk_req {
    enum vblk_req_kind kind;
    uint32_t type;   /* VIRTIO_BLK_T_*, as the driver wrote it */
    uint8_t status;  /* DONE: VIRTIO_BLK_S_* */
    const char *why; /* DONE with an error: a short reason, for tests */
    /* IO: the engine's request. data[] is the caller's array. */
    enum blkio_op op;
    unsigned flags; /* BLKIO_UNMAP */
    uint64_t offset, len;
    struct iovec *data;
    unsigned ndata;
    /* Where the answer goes (not for BAD). */
    uint8_t *status_ptr;
    struct iovec *id; /* GET_ID: the writable bytes before the status */
    unsigned nid;
    uint32_t used_len; /* for vq_push(): the whole writable length */
};

/*
 * Parses chain (as vq_pop() returned it: readable segments, then
 * writable ones, each in guest RAM) under lim into *req. data is an
 * array of data_cap entries for the request's data segments (a chain's
 * cap is enough). Never fails: a request the device must refuse comes
 * back DONE with VIRTIO_BLK_S_IOERR (header shorter than 16 bytes, out
 * of the disk or overflowing, not aligned to blk_size, more than seg_max
 * segments or a segment longer than size_max, a write or discard to a
 * read-only disk, a malformed discard segment) or VIRTIO_BLK_S_UNSUPP
 * (an unknown type, DISCARD or WRITE_ZEROES not negotiated, unknown
 * flags, UNMAP on a discard), as the spec says.
 */
void vblk_req_parse(const struct vblk_limits *lim, const struct vq_chain *chain,
                    struct iovec *data, unsigned data_cap,
                    struct vblk_req *req);

/* An engine's result (0 or -errno) as a status: OK, UNSUPP for
 * -EOPNOTSUPP, else IOERR. */
uint8_t vblk_req_status(int res);

/*
 * Answers req (not BAD) with status: a GET_ID that succeeded gets the
 * serial (as much of its 20 bytes as fit, NUL-padded), then the status
 * byte is written. Returns the length to push: every device-writable
 * byte (at most 2^32 - 1).
 */
uint32_t vblk_req_finish(const struct vblk_limits *lim, struct vblk_req *req,
                         uint8_t status);

#endif
