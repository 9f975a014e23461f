/* rng.h: virtio-rng (--rng): the guest's buffers filled from the host's
 * getrandom() on the device's I/O thread. */
#ifndef KVMRUN_VIRTIO_RNG_H
#define KVMRUN_VIRTIO_RNG_H

#include "dev/dev.h"

/* One instance with cfg->rng, none without: virtio-rng.0. */
extern const struct dev_desc virtio_rng_dev;

#endif
