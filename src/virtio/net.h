/* net.h: virtio-net (--net) on an existing tap device, its data path on
 * the device's I/O thread. */
#ifndef KVMRUN_VIRTIO_NET_H
#define KVMRUN_VIRTIO_NET_H

#include "dev/dev.h"

/* One instance per --net (cfg->nets): virtio-net.0, virtio-net.1, ... */
extern const struct dev_desc virtio_net_dev;

#endif
