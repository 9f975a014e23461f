/* blk_dev.h: the machine's virtio-blk disks: one per --disk (vda, vdb,
 * ...), each a virtio-mmio device with its own I/O thread. */
#ifndef KVMRUN_VIRTIO_BLK_DEV_H
#define KVMRUN_VIRTIO_BLK_DEV_H

#include "dev/dev.h"

/* cfg->ndisks instances, named virtio-blk.N, in an MMIO slot each. */
extern const struct dev_desc virtio_blk_dev;

#endif
