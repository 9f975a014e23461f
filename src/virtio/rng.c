/* rng.c: virtio-rng (--rng): the guest's buffers filled from the host's
 * getrandom() on the device's I/O thread. One queue. */
#include "virtio/rng.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "error.h"
#include "kvmrun.h"
#include "virtio/device.h"

#define VRNG_QUEUE_SIZE 64
/* Segments of one buffer: the driver gives one; a few more are fine. */
#define VRNG_MAX_SEGS 16
/* Bytes given per buffer at most: the driver asks for a page or less,
 * and a guest cannot make the host spend more per request. */
#define VRNG_MAX_BYTES 4096u

struct vrng {
    struct vdev v; /* first: the glue's hooks get this pointer */
    int kick_fd;
    struct vq *vq; /* while active; the I/O thread's */
    bool broken;
    bool kick_registered, client_registered;
    struct iovec iov[VRNG_MAX_SEGS];
    uint64_t bytes; /* given to the guest */
};

static unsigned vrng_count(const struct kvmrun_config *cfg)
{
    return cfg->rng ? 1 : 0;
}

static void vrng_poke(int fd)
{
    uint64_t one = 1;

    if (write(fd, &one, sizeof(one)) < 0)
        return; /* only at a counter of 2^64 - 2: readable anyway */
}

/* Fills the writable segments of chain: the bytes written. */
static uint32_t vrng_fill(struct vrng *r, const struct vq_chain *c)
{
    uint32_t done = 0;

    for (unsigned i = c->nread; i < c->nread + c->nwrite; i++) {
        size_t want = c->iov[i].iov_len;

        if (want > VRNG_MAX_BYTES - done)
            want = VRNG_MAX_BYTES - done;
        /* Blocks only until the host's pool is first initialised. */
        ssize_t n = want ? getrandom(c->iov[i].iov_base, want, 0) : 0;

        if (n <= 0)
            break;
        done += (uint32_t)n;
        if ((size_t)n < want)
            break;
    }
    r->bytes += done;
    return done;
}

/* Serves every buffer available, then asks for a kick (with a last
 * look, so that none made available meanwhile waits). */
static void vrng_process(struct vrng *r)
{
    struct vq_chain c = {.iov = r->iov, .cap = VRNG_MAX_SEGS};
    bool pushed = false;
    int rc;

    while (r->vq && !r->broken) {
        vq_disable_notify(r->vq);
        while ((rc = vq_pop(r->vq, &c)) > 0) {
            if (vq_push(r->vq, c.head, vrng_fill(r, &c)) < 0) {
                rc = -1;
                break;
            }
            pushed = true;
        }
        if (rc < 0) {
            r->broken = true;
            vmmio_needs_reset(&r->v.t, kvmrun_last_error());
        }
        if (pushed)
            vmmio_signal_used(&r->v.t, r->vq);
        pushed = false;
        if (r->broken || !vq_enable_notify(r->vq))
            break;
    }
}

/* The I/O thread: a kick of the queue, or one of a queue not active
 * (dropped here: a vCPU thread's filter has no read). */
static void vrng_on_kick(void *opaque)
{
    struct vrng *r = opaque;
    uint64_t v;

    if (read(r->kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        return;
    vrng_process(r);
}

/* Nothing is ever in flight: a buffer is filled and pushed in one go. */
static unsigned vrng_inflight(void *opaque)
{
    (void)opaque;
    return 0;
}

/* DRIVER_OK, on a vCPU thread under the transport's lock: the queue is
 * handed over while the I/O thread is parked, and looked at once. */
static int vrng_activate(void *dev, uint64_t features, struct vq *const *vqs,
                         unsigned nq)
{
    struct vrng *r = dev;

    (void)features;
    iothread_pause(&r->v.io, 0);
    r->vq = nq ? vqs[0] : NULL;
    r->broken = false;
    iothread_resume(&r->v.io);
    vrng_poke(r->kick_fd);
    return 0;
}

static void vrng_reset(void *dev)
{
    struct vrng *r = dev;

    iothread_pause(&r->v.io, 0);
    r->vq = NULL;
    r->broken = false;
    iothread_resume(&r->v.io);
}

static void vrng_notify(void *dev, unsigned q)
{
    struct vrng *r = dev;

    if (q == 0)
        vrng_poke(r->kick_fd);
}

static void vrng_config_read(void *dev, uint32_t offset, uint8_t *data,
                             unsigned size)
{
    (void)dev;
    (void)offset;
    memset(data, 0, size); /* no config space: the transport refuses it */
}

static const struct virtio_dev_ops vrng_ops = {
    .config_read = vrng_config_read,
    .activate = vrng_activate,
    .reset = vrng_reset,
    .notify = vrng_notify,
};

static int vrng_register(struct vrng *r)
{
    struct iothread_client c = {r->v.name, NULL, vrng_inflight, NULL, r};
    int rc = iothread_add(&r->v.io, r->kick_fd, IOTHREAD_WORK, vrng_on_kick, r);

    if (rc < 0)
        return rc;
    r->kick_registered = true;
    if ((rc = iothread_client_add(&r->v.io, &c)) < 0)
        return rc;
    r->client_registered = true;
    return 0;
}

static void vrng_fini(struct vdev *v)
{
    struct vrng *r = (struct vrng *)v;

    if (r->kick_registered)
        iothread_del(&v->io, r->kick_fd);
    if (r->client_registered)
        iothread_client_del(&v->io, r);
    r->kick_registered = r->client_registered = false;
    if (r->kick_fd >= 0)
        close(r->kick_fd);
    r->kick_fd = -1;
}

static int vrng_init(struct vdev *v, const struct dev_ctx *ctx)
{
    struct vrng *r = (struct vrng *)v;
    int rc;

    (void)ctx;
    r->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (r->kick_fd < 0)
        return err_errno(errno, "eventfd");
    if ((rc = vrng_register(r)) < 0) {
        vrng_fini(v);
        return rc;
    }
    v->dev = (struct virtio_dev){
        .name = v->name,
        .device_id = VIRTIO_ID_RNG,
        .features = (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
                    (1ULL << VIRTIO_RING_F_EVENT_IDX),
        .config_size = 0,
        .nqueues = 1,
        .queue_max = {VRNG_QUEUE_SIZE},
        .ops = &vrng_ops,
        .opaque = r,
    };
    return 0;
}

static int vrng_kick_fd(struct vdev *v, unsigned q)
{
    return q == 0 ? ((struct vrng *)v)->kick_fd : -1;
}

static const struct vdev_type vrng_type = {
    .init = vrng_init,
    .kick_fd = vrng_kick_fd,
    .fini = vrng_fini,
};

static int vrng_dev_init(void *dev, const struct dev_ctx *ctx)
{
    return vdev_init(dev, ctx, &vrng_type);
}

static int vrng_dev_check(const void *state, char *why, size_t len)
{
    return vdev_check(&vrng_type, state, why, len);
}

const struct dev_desc virtio_rng_dev = VDEV_DESC(
    "virtio-rng", struct vrng, vrng_count, vrng_dev_init, vrng_dev_check, 1, 0);
