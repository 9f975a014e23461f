/* vhost.h: the kernel's vhost devices (/dev/vhost-net, /dev/vhost-vsock)
 * serving a virtio device's queues: the ioctls both need. */
#ifndef KVMRUN_VIRTIO_VHOST_H
#define KVMRUN_VIRTIO_VHOST_H

#include <stdint.h>

#include "mem.h"
#include "virtio/virtqueue.h"

/*
 * Opens path (what names the device in messages: "tap0", "vsock"),
 * becomes its owner, reads the features it offers into *features and
 * gives it the guest's memory. The descriptor, or -errno with the
 * message set ("NAME: /dev/vhost-net: No such file or directory (load
 * MODULE)").
 */
int vhost_open(const char *path, const char *name, const char *module,
               const struct guest_mem *mem, uint64_t *features);

/* The negotiated features (those vhost knows). 0 or -errno. */
int vhost_set_features(int fd, const char *name, uint64_t features);

/* Queue q as vq stands: size, areas, next index, kick and call eventfds.
 * 0 or -errno with the message set. */
int vhost_ring_start(int fd, const char *name, unsigned q, const struct vq *vq,
                     int kick_fd, int call_fd);

/* Takes queue q back from a stopped vhost (its backend gone): vq goes on
 * from where vhost left it (vq_resync). 0 or -errno. */
int vhost_ring_stop(int fd, const char *name, unsigned q, struct vq *vq);

#endif
