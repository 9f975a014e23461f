/*
 * vsock.c: virtio-vsock on the kernel's vhost-vsock (--vsock cid=N): the
 * guest's rx and tx queues are served by /dev/vhost-vsock (host programs
 * reach the guest with AF_VSOCK to its CID); kvmrun keeps the control
 * path and the event queue, where a restore tells the guest that its
 * connections are gone (VIRTIO_VSOCK_EVENT_TRANSPORT_RESET).
 *
 * Like virtio-net's vhost=on: every pause of the device's I/O thread
 * (activate's, reset's, a snapshot's) stops vhost and takes the queues'
 * state back (VHOST_VSOCK_SET_RUNNING 0, VHOST_GET_VRING_BASE), its end
 * starts it again; vhost writes the interrupt eventfd itself.
 */
#include "virtio/vsock.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vhost.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>

#include "error.h"
#include "kvmrun.h"
#include "virtio/device.h"
#include "virtio/vhost.h"

#define VSOCK_RXQ 0
#define VSOCK_TXQ 1
#define VSOCK_EVQ 2
#define VSOCK_QUEUE_SIZE 256
#define VSOCK_EVQ_SIZE 16

struct vvsock {
    struct vdev v; /* first: the glue's hooks get this pointer */
    uint64_t cid;
    int vhost_fd;
    uint64_t vhost_features;
    int kick_fd[3];
    bool ev_registered, client_registered;
    /* Set under the I/O thread's pause by activate and reset. */
    struct vq *vq[3];
    uint64_t features;
    /* The I/O thread's. */
    bool running, broken;
    bool reset_owed; /* a restore: tell the guest once the queue is there */
    struct iovec iov[4];
};

struct vvsock_state {
    uint64_t cid;
};

static unsigned vvsock_count(const struct kvmrun_config *cfg)
{
    return cfg->vsock_cid ? 1 : 0;
}

static void vvsock_fail(struct vvsock *s)
{
    s->broken = true;
    vmmio_needs_reset(&s->v.t, kvmrun_last_error());
}

/* The event queue: a transport reset, when owed, into the guest's next
 * event buffer (it keeps a few posted). */
static void vvsock_events(struct vvsock *s)
{
    struct vq *vq = s->vq[VSOCK_EVQ];
    struct vq_chain c = {.iov = s->iov, .cap = 4};
    struct virtio_vsock_event ev = {
        htole32(VIRTIO_VSOCK_EVENT_TRANSPORT_RESET)};
    int rc;

    if (!s->reset_owed || !vq || s->broken)
        return;
    rc = vq_pop(vq, &c);
    if (rc < 0) {
        vvsock_fail(s);
        return;
    }
    if (rc == 0)
        return; /* the guest's next kick of the queue brings a buffer */
    if (c.nwrite && c.iov[c.nread].iov_len >= sizeof(ev)) {
        memcpy(c.iov[c.nread].iov_base, &ev, sizeof(ev));
        s->reset_owed = false;
    }
    if (vq_push(vq, c.head, s->reset_owed ? 0 : sizeof(ev)) < 0) {
        vvsock_fail(s);
        return;
    }
    vmmio_signal_used(&s->v.t, vq);
}

static void vvsock_on_event_kick(void *opaque)
{
    struct vvsock *s = opaque;
    uint64_t v;

    if (read(s->kick_fd[VSOCK_EVQ], &v, sizeof(v)) < 0 && errno != EAGAIN)
        return;
    vvsock_events(s);
}

static int vvsock_running(struct vvsock *s, int on)
{
    if (ioctl(s->vhost_fd, VHOST_VSOCK_SET_RUNNING, &on) < 0)
        return err_errno(errno, "vsock: vhost: VHOST_VSOCK_SET_RUNNING %d", on);
    return 0;
}

static void vvsock_start(struct vvsock *s)
{
    if (s->running || !s->vq[VSOCK_RXQ] || !s->vq[VSOCK_TXQ] || s->broken)
        return;
    s->running = true;
    if (vhost_set_features(s->vhost_fd, "vsock",
                           s->features & s->vhost_features) < 0 ||
        vhost_ring_start(s->vhost_fd, "vsock", VSOCK_RXQ, s->vq[VSOCK_RXQ],
                         s->kick_fd[VSOCK_RXQ], s->v.irq_fd) < 0 ||
        vhost_ring_start(s->vhost_fd, "vsock", VSOCK_TXQ, s->vq[VSOCK_TXQ],
                         s->kick_fd[VSOCK_TXQ], s->v.irq_fd) < 0 ||
        vvsock_running(s, 1) < 0)
        vvsock_fail(s);
}

static void vvsock_stop(struct vvsock *s)
{
    if (!s->running)
        return;
    s->running = false;
    if (vvsock_running(s, 0) < 0)
        vvsock_fail(s);
    for (unsigned q = VSOCK_RXQ; q <= VSOCK_TXQ; q++)
        if (vhost_ring_stop(s->vhost_fd, "vsock", q, s->vq[q]) < 0)
            vvsock_fail(s);
}

/* The I/O thread's client callbacks: a pause stops vhost, its end starts
 * it again (and delivers a reset event owed by a restore). */
static void vvsock_quiesce(void *opaque)
{
    vvsock_stop(opaque);
}

static void vvsock_resume(void *opaque)
{
    vvsock_start(opaque);
    vvsock_events(opaque);
}

static unsigned vvsock_inflight(void *opaque)
{
    (void)opaque;
    return 0;
}

/* ---- The transport's callbacks (a vCPU thread, the transport's lock) ---- */

static int vvsock_activate(void *dev, uint64_t features, struct vq *const *vqs,
                           unsigned nq)
{
    struct vvsock *s = dev;

    iothread_pause(&s->v.io, 0);
    for (unsigned q = 0; q < 3; q++)
        s->vq[q] = q < nq ? vqs[q] : NULL;
    s->features = features;
    s->broken = false;
    iothread_resume(&s->v.io); /* vvsock_resume starts vhost */
    return 0;
}

static void vvsock_reset(void *dev)
{
    struct vvsock *s = dev;

    iothread_pause(&s->v.io, 0); /* vvsock_quiesce stops vhost */
    for (unsigned q = 0; q < 3; q++)
        s->vq[q] = NULL;
    s->features = 0;
    s->broken = false;
    iothread_resume(&s->v.io);
}

static void vvsock_notify(void *dev, unsigned q)
{
    struct vvsock *s = dev;
    uint64_t one = 1;

    if (q < 3 && write(s->kick_fd[q], &one, sizeof(one)) < 0)
        return; /* only at a counter of 2^64 - 2: readable anyway */
}

static void vvsock_config_read(void *dev, uint32_t offset, uint8_t *data,
                               unsigned size)
{
    struct vvsock *s = dev;
    uint64_t cid = htole64(s->cid);

    if (offset < sizeof(cid) && size <= sizeof(cid) - offset)
        memcpy(data, (uint8_t *)&cid + offset, size);
    else
        memset(data, 0, size);
}

static const struct virtio_dev_ops vvsock_ops = {
    .config_read = vvsock_config_read,
    .activate = vvsock_activate,
    .reset = vvsock_reset,
    .notify = vvsock_notify,
};

/* ---- Creating and tearing down ---- */

static void vvsock_fini(struct vdev *v)
{
    struct vvsock *s = (struct vvsock *)v;

    if (s->ev_registered)
        iothread_del(&v->io, s->kick_fd[VSOCK_EVQ]);
    if (s->client_registered)
        iothread_client_del(&v->io, s);
    s->ev_registered = s->client_registered = false;
    if (s->vhost_fd >= 0)
        close(s->vhost_fd); /* vhost lets go of the rings */
    s->vhost_fd = -1;
    s->running = false;
    for (unsigned q = 0; q < 3; q++) {
        if (s->kick_fd[q] >= 0)
            close(s->kick_fd[q]);
        s->kick_fd[q] = -1;
    }
}

static int vvsock_set_cid(struct vvsock *s)
{
    if (ioctl(s->vhost_fd, VHOST_VSOCK_SET_GUEST_CID, &s->cid) == 0)
        return 0;
    if (errno == EADDRINUSE)
        return err_set(EADDRINUSE,
                       "vsock: cid %" PRIu64 " is in use (by another VM)",
                       s->cid);
    return err_errno(errno, "vsock: cid %" PRIu64 ": VHOST_VSOCK_SET_GUEST_CID",
                     s->cid);
}

static int vvsock_register(struct vvsock *s)
{
    struct iothread_client c = {s->v.name, vvsock_quiesce, vvsock_inflight,
                                vvsock_resume, s};
    int rc;

    for (unsigned q = 0; q < 3; q++) {
        s->kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->kick_fd[q] < 0)
            return err_errno(errno, "eventfd");
    }
    rc = iothread_add(&s->v.io, s->kick_fd[VSOCK_EVQ], IOTHREAD_WORK,
                      vvsock_on_event_kick, s);
    if (rc < 0)
        return rc;
    s->ev_registered = true;
    if ((rc = iothread_client_add(&s->v.io, &c)) < 0)
        return rc;
    s->client_registered = true;
    return 0;
}

static int vvsock_init(struct vdev *v, const struct dev_ctx *ctx)
{
    struct vvsock *s = (struct vvsock *)v;
    int rc;

    s->vhost_fd = s->kick_fd[0] = s->kick_fd[1] = s->kick_fd[2] = -1;
    s->cid = ctx->cfg->vsock_cid;
    rc = vhost_open("/dev/vhost-vsock", "vsock", "vhost_vsock", ctx->mem,
                    &s->vhost_features);
    if (rc >= 0) {
        s->vhost_fd = rc;
        rc = vvsock_set_cid(s);
    }
    if (rc >= 0)
        rc = vvsock_register(s);
    if (rc < 0) {
        vvsock_fini(v);
        return rc;
    }
    v->dev = (struct virtio_dev){
        .name = v->name,
        .device_id = VIRTIO_ID_VSOCK,
        .features = s->vhost_features & ((1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
                                         (1ULL << VIRTIO_RING_F_EVENT_IDX)),
        .config_size = sizeof(struct virtio_vsock_config),
        .nqueues = 3,
        .queue_max = {VSOCK_QUEUE_SIZE, VSOCK_QUEUE_SIZE, VSOCK_EVQ_SIZE},
        .ops = &vvsock_ops,
        .opaque = s,
        .irq_direct = true,
    };
    return 0;
}

static int vvsock_kick_fd(struct vdev *v, unsigned q)
{
    return q < 3 ? ((struct vvsock *)v)->kick_fd[q] : -1;
}

/* ---- Snapshots ---- */

static void vvsock_save(struct vdev *v, void *state)
{
    struct vvsock_state st = {((struct vvsock *)v)->cid};

    memcpy(state, &st, sizeof(st));
}

static int vvsock_check(const void *state, char *why, size_t len)
{
    struct vvsock_state st;

    memcpy(&st, state, sizeof(st));
    if (st.cid < 3 || st.cid >= 0xffffffffu) {
        snprintf(why, len, "cid %" PRIu64 " is not a guest's", st.cid);
        return -EINVAL;
    }
    return 0;
}

/* The connections were the old process's: the guest is told (an event
 * once the queues run again). The CID is the one --vsock gives now. */
static void vvsock_load(struct vdev *v, const void *state)
{
    struct vvsock *s = (struct vvsock *)v;
    struct vvsock_state st;
    char line[160];

    memcpy(&st, state, sizeof(st));
    s->reset_owed = true;
    if (st.cid != s->cid) {
        snprintf(line, sizeof(line),
                 "vsock: cid %" PRIu64 " now, %" PRIu64 " when saved", s->cid,
                 st.cid);
        vdev_log(v, line);
    }
}

static const struct vdev_type vvsock_type = {
    .init = vvsock_init,
    .kick_fd = vvsock_kick_fd,
    .fini = vvsock_fini,
    .state_size = sizeof(struct vvsock_state),
    .save = vvsock_save,
    .check = vvsock_check,
    .load = vvsock_load,
};

static int vvsock_dev_init(void *dev, const struct dev_ctx *ctx)
{
    return vdev_init(dev, ctx, &vvsock_type);
}

static int vvsock_dev_check(const void *state, char *why, size_t len)
{
    return vdev_check(&vvsock_type, state, why, len);
}

const struct dev_desc virtio_vsock_dev =
    VDEV_DESC("virtio-vsock", struct vvsock, vvsock_count, vvsock_dev_init,
              vvsock_dev_check, 1, sizeof(struct vvsock_state));
