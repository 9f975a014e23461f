/* blk_dev.c: the machine's virtio-blk disks: one per --disk (vda, vdb,
 * ...), each a virtio-mmio device with its own I/O thread. */
#include "virtio/blk_dev.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "disk.h"
#include "error.h"
#include "kvmrun.h"
#include "kvmrun.h"
#include "virtio/blk.h"
#include "virtio/device.h"

/* The guest's names stop at vdz: 26 disks, more than the machine's
 * MMIO slots. */
#define BLKDEV_MAX 26

struct blkdev {
    struct vdev v; /* first: the glue's hooks get this pointer */
    char name[8];  /* "vda": messages, the engine's threads */
    struct disk disk;
    struct vblk blk;
};

/* The disk in a snapshot: where it was and how big, so that a restore
 * refuses an image that changed size since. */
struct blkdev_state {
    char path[KVMRUN_DISK_PATH_MAX];
    uint64_t size;
    uint32_t ro, pad;
};

static unsigned blkdev_count(const struct kvmrun_config *cfg)
{
    return cfg->ndisks;
}

static int blkdev_init(struct vdev *v, const struct dev_ctx *ctx)
{
    struct blkdev *d = (struct blkdev *)v;
    int r;

    if (ctx->instance >= BLKDEV_MAX)
        return err_set(ENOSPC, "at most %u disks", BLKDEV_MAX);
    snprintf(d->name, sizeof(d->name), "vd%c", 'a' + ctx->instance);
    d->disk.fd = -1;
    if ((r = disk_open(&d->disk, &ctx->cfg->disks[ctx->instance])) < 0)
        return r;
    r = vblk_init(&d->blk, &(struct vblk_params){d->name, &d->disk, &v->io, 1,
                                                 kvmrun_thread_create});
    if (r < 0) {
        disk_close(&d->disk);
        return r;
    }
    v->dev = *vblk_dev(&d->blk);
    snprintf(v->note, sizeof(v->note), "%s", vblk_note(&d->blk));
    return 0;
}

static void blkdev_attach(struct vdev *v)
{
    struct blkdev *d = (struct blkdev *)v;

    vblk_attach(&d->blk, &v->t);
}

static int blkdev_kick_fd(struct vdev *v, unsigned q)
{
    return vblk_kick_fd(&((struct blkdev *)v)->blk, q);
}

static void blkdev_fini(struct vdev *v)
{
    struct blkdev *d = (struct blkdev *)v;

    vblk_fini(&d->blk);
    disk_close(&d->disk);
}

static void blkdev_save(struct vdev *v, void *state)
{
    struct blkdev *d = (struct blkdev *)v;
    struct blkdev_state *s = state;

    snprintf(s->path, sizeof(s->path), "%s", d->disk.opt.path);
    s->size = d->disk.size;
    s->ro = (uint32_t)d->disk.opt.ro;
}

/* Before anything is created: the image the snapshot used must still
 * have its size (the guest's driver knows it). A block device's size is
 * not stat's: it is compared at load. */
static int blkdev_check(const void *state, char *why, size_t len)
{
    struct blkdev_state s;
    struct stat st;

    memcpy(&s, state, sizeof(s));
    if (!memchr(s.path, 0, sizeof(s.path)) || !s.path[0]) {
        snprintf(why, len, "no disk path");
        return -EINVAL;
    }
    if (stat(s.path, &st) < 0) {
        snprintf(why, len, "disk %s: %s", s.path, strerror(errno));
        return -EINVAL;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size != s.size) {
        snprintf(why, len,
                 "disk %s: %" PRIu64 " bytes now, %" PRIu64
                 " when the snapshot was taken; restore refused",
                 s.path, (uint64_t)st.st_size, s.size);
        return -EINVAL;
    }
    return 0;
}

/* The disk given now (--disk) against the one saved: a different size
 * cannot be refused here any more (a load does not fail); the guest's
 * requests past the end get errors, and the user a line. */
static void blkdev_load(struct vdev *v, const void *state)
{
    struct blkdev *d = (struct blkdev *)v;
    struct blkdev_state s;
    char line[1200];

    memcpy(&s, state, sizeof(s));
    s.path[sizeof(s.path) - 1] = 0;
    if (s.size == d->disk.size)
        return;
    snprintf(line, sizeof(line),
             "%s: %.500s has %" PRIu64
             " bytes, the snapshot's disk (%.500s) had %" PRIu64,
             d->name, d->disk.opt.path, d->disk.size, s.path, s.size);
    vdev_log(v, line);
}

static const struct vdev_type blkdev_type = {
    .init = blkdev_init,
    .attach = blkdev_attach,
    .kick_fd = blkdev_kick_fd,
    .fini = blkdev_fini,
    .state_size = sizeof(struct blkdev_state),
    .save = blkdev_save,
    .check = blkdev_check,
    .load = blkdev_load,
};

static int blkdev_dev_init(void *dev, const struct dev_ctx *ctx)
{
    return vdev_init(dev, ctx, &blkdev_type);
}

static int blkdev_dev_check(const void *state, char *why, size_t len)
{
    return vdev_check(&blkdev_type, state, why, len);
}

const struct dev_desc virtio_blk_dev =
    VDEV_DESC("virtio-blk", struct blkdev, blkdev_count, blkdev_dev_init,
              blkdev_dev_check, 1, sizeof(struct blkdev_state));
