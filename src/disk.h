/* disk.h: a disk image opened for a virtio-blk device: checked, locked. */
#ifndef KVMRUN_DISK_INTERNAL_H
#define KVMRUN_DISK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "kvmrun.h"

struct disk {
    struct kvmrun_disk opt;
    int fd;             /* -1: not open */
    uint64_t size;      /* bytes, a multiple of 512 */
    bool block;         /* a block device (else a regular file) */
    unsigned dio_align; /* cache=none: the offset and length alignment
                           O_DIRECT needs (512 or more); else 512 */
};

/*
 * Opens opt->path as the disk: a regular file or a block device (nothing
 * else: a directory, FIFO, socket or character device is refused before
 * it is opened), read-write or read-only (ro), with O_DIRECT for
 * cache=none, locked against other users with an open file description
 * lock over the whole file (F_OFD_SETLK: a write lock, or a read lock for
 * ro, so that read-only users share it). The size must be a non-zero
 * multiple of 512 bytes (a sector): anything else is refused, not
 * rounded. 0, or -errno with one line naming the path and the reason:
 *   "PATH: in use by another process (locked)"
 *   "PATH: cache=none: the filesystem refuses O_DIRECT (...)"
 *   "PATH: is a directory; a disk is a regular file or a block device"
 *   "PATH: size 1000 bytes is not a multiple of 512"
 * A second disk_open() of the same image in one process conflicts too
 * (OFD locks belong to the open, not the process).
 */
int disk_open(struct disk *d, const struct kvmrun_disk *opt);

/* Closes (and so unlocks) the image. Safe twice. */
void disk_close(struct disk *d);

#endif
