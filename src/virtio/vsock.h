/* vsock.h: virtio-vsock (--vsock cid=N) on the kernel's vhost-vsock. */
#ifndef KVMRUN_VIRTIO_VSOCK_H
#define KVMRUN_VIRTIO_VSOCK_H

#include "dev/dev.h"

/* One instance with cfg->vsock_cid, none without: virtio-vsock.0. */
extern const struct dev_desc virtio_vsock_dev;

#endif
