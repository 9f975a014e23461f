/* vhost.c: the ioctls that hand a virtio device's queues to the kernel's
 * vhost (vhost-net, vhost-vsock) and take them back. */
#include "virtio/vhost.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vhost.h>
#include <linux/virtio_config.h>

#include "error.h"

static int vhost_ioctl(int fd, unsigned long req, const void *arg,
                       const char *name, const char *what)
{
    if (ioctl(fd, req, arg) < 0)
        return err_errno(errno, "%s: vhost: %s", name, what);
    return 0;
}

static int vhost_mem_table(int fd, const char *name,
                           const struct guest_mem *mem)
{
    struct {
        struct vhost_memory m;
        struct vhost_memory_region r[MEM_MAX_SLOTS];
    } t;

    memset(&t, 0, sizeof(t));
    t.m.nregions = mem->nslots;
    for (unsigned i = 0; i < mem->nslots; i++)
        t.r[i] = (struct vhost_memory_region){
            .guest_phys_addr = mem->slot[i].gpa,
            .memory_size = mem->slot[i].size,
            .userspace_addr = (uint64_t)(uintptr_t)mem->slot[i].host,
        };
    return vhost_ioctl(fd, VHOST_SET_MEM_TABLE, &t, name,
                       "VHOST_SET_MEM_TABLE");
}

int vhost_open(const char *path, const char *name, const char *module,
               const struct guest_mem *mem, uint64_t *features)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    int r;

    if (fd < 0)
        return err_set(errno, "%s: %s: %s (load %s)", name, path,
                       strerror(errno), module);
    if ((r = vhost_ioctl(fd, VHOST_SET_OWNER, NULL, name, "VHOST_SET_OWNER")) <
            0 ||
        (r = vhost_ioctl(fd, VHOST_GET_FEATURES, features, name,
                         "VHOST_GET_FEATURES")) < 0 ||
        (r = vhost_mem_table(fd, name, mem)) < 0) {
        close(fd);
        return r;
    }
    if (!(*features & (1ULL << VIRTIO_F_VERSION_1))) {
        close(fd);
        return err_set(ENOTSUP, "%s: %s offers no VERSION_1", name, path);
    }
    return fd;
}

int vhost_set_features(int fd, const char *name, uint64_t features)
{
    return vhost_ioctl(fd, VHOST_SET_FEATURES, &features, name,
                       "VHOST_SET_FEATURES");
}

int vhost_ring_start(int fd, const char *name, unsigned q, const struct vq *vq,
                     int kick_fd, int call_fd)
{
    struct vhost_vring_state num = {q, vq->num};
    struct vhost_vring_state base = {q, vq->last_avail_idx};
    struct vhost_vring_addr addr = {
        .index = q,
        .desc_user_addr = (uint64_t)(uintptr_t)vq->desc,
        .used_user_addr = (uint64_t)(uintptr_t)vq->used,
        .avail_user_addr = (uint64_t)(uintptr_t)vq->avail,
    };
    struct vhost_vring_file kick = {q, kick_fd};
    struct vhost_vring_file call = {q, call_fd};
    int r;

    if ((r = vhost_ioctl(fd, VHOST_SET_VRING_NUM, &num, name,
                         "VHOST_SET_VRING_NUM")) < 0 ||
        (r = vhost_ioctl(fd, VHOST_SET_VRING_ADDR, &addr, name,
                         "VHOST_SET_VRING_ADDR")) < 0 ||
        (r = vhost_ioctl(fd, VHOST_SET_VRING_BASE, &base, name,
                         "VHOST_SET_VRING_BASE")) < 0 ||
        (r = vhost_ioctl(fd, VHOST_SET_VRING_KICK, &kick, name,
                         "VHOST_SET_VRING_KICK")) < 0)
        return r;
    return vhost_ioctl(fd, VHOST_SET_VRING_CALL, &call, name,
                       "VHOST_SET_VRING_CALL");
}

int vhost_ring_stop(int fd, const char *name, unsigned q, struct vq *vq)
{
    struct vhost_vring_state base = {q, 0};
    int r = vhost_ioctl(fd, VHOST_GET_VRING_BASE, &base, name,
                        "VHOST_GET_VRING_BASE");

    if (r == 0 && vq)
        vq_resync(vq, (uint16_t)base.num);
    return r;
}
