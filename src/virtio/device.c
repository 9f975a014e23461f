/*
 * device.c: a virtio device as a machine device: the virtio-mmio
 * transport in an MMIO slot, wired to KVM through the machine's
 * environment (irqfd, ioeventfd), with its own I/O thread.
 *
 * The data path costs no exit to kvmrun: the guest's QueueNotify of
 * queue q is a KVM_IOEVENTFD (datamatch q) on the device's kick eventfd,
 * which its I/O thread polls; the transport's interrupt is a write of an
 * eventfd that KVM_IRQFD turns into an edge on the slot's GSI. Only the
 * configuration registers are MMIO exits (vmmio_access on a vCPU
 * thread). Order, as docs/virtio.md gives it: I/O thread, device,
 * interrupt eventfd, transport on the way up; the reverse on the way
 * down.
 */
#include "virtio/device.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "error.h"
#include "kvmrun.h"

/* ---- What the transport asks of the machine ---- */

/* An edge on the slot's GSI: the irqfd's eventfd. Any thread, lock-free. */
static void vdev_irq(void *opaque)
{
    struct vdev *v = opaque;
    uint64_t one = 1;

    if (write(v->irq_fd, &one, sizeof(one)) < 0)
        return; /* only at a counter of 2^64 - 2: KVM has seen it anyway */
}

static int vdev_ioeventfd(void *opaque, unsigned queue, uint64_t offset,
                          bool on)
{
    struct vdev *v = opaque;
    int fd = v->type->kick_fd ? v->type->kick_fd(v, queue) : -1;

    if (fd < 0)
        return -ENOENT;
    return v->env->ioeventfd(v->env->machine, fd, v->base + offset, 4, true,
                             queue, on);
}

static void vdev_report(void *opaque, const char *line)
{
    struct vdev *v = opaque;

    v->env->report(v->env->machine, line);
}

void vdev_log(struct vdev *v, const char *line)
{
    v->env->log(v->env->machine, line);
}

/* The bus handler of the window: the transport's registers. */
static void vdev_access(void *dev, const struct bus_access *a)
{
    struct vdev *v = dev;

    vmmio_access(&v->t, a);
}

const struct dev_io vdev_mmio[] = {
    {0, VMMIO_WINDOW, vdev_access},
    {0, 0, NULL},
};

/* ---- Creating and tearing down ---- */

/* "io-blk.0" for "virtio-blk.0": a thread name has 15 bytes. */
static void vdev_thread_name(struct vdev *v)
{
    const char *n = v->name;

    if (strncmp(n, "virtio-", 7) == 0)
        n += 7;
    snprintf(v->thread_name, sizeof(v->thread_name), "io-%.12s", n);
}

static int vdev_start_io(struct vdev *v)
{
    int r = iothread_init(&v->io, v->thread_name);

    if (r < 0)
        return r;
    v->io_ready = true;
    return iothread_start(&v->io, kvmrun_thread_create);
}

/* The interrupt: an eventfd KVM turns into an edge on the GSI. Without
 * the in-kernel irqchip there is nothing to bind it to. */
static int vdev_bind_irq(struct vdev *v, const struct dev_ctx *ctx)
{
    int r;

    if (!ctx->cfg->irqchip)
        return err_set(EINVAL,
                       "virtio devices need the in-kernel irqchip (drop "
                       "--no-irqchip)");
    v->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (v->irq_fd < 0)
        return err_errno(errno, "eventfd");
    r = v->env->irqfd(v->env->machine, v->irq_fd, v->gsi, true);
    if (r < 0)
        return r;
    v->irqfd_bound = true;
    return 0;
}

static int vdev_make_transport(struct vdev *v, const struct dev_ctx *ctx)
{
    const struct vmmio_env env = {vdev_irq, vdev_ioeventfd, vdev_report, v};
    int r = vmmio_init(&v->t, &v->dev, &env, ctx->mem);

    if (r < 0)
        return r;
    v->transport_ready = true;
    if (v->type->attach)
        v->type->attach(v);
    return 0;
}

int vdev_init(void *dev, const struct dev_ctx *ctx,
              const struct vdev_type *type)
{
    struct vdev *v = dev;
    int r;

    v->type = type;
    v->env = ctx->env;
    v->base = ctx->base;
    v->gsi = ctx->irq;
    v->irq_fd = -1;
    snprintf(v->name, sizeof(v->name), "%s", ctx->name);
    vdev_thread_name(v);
    r = vdev_bind_irq(v, ctx);
    if (r == 0)
        r = vdev_start_io(v);
    if (r == 0 && (r = type->init(v, ctx)) == 0)
        v->device_ready = true;
    if (r == 0)
        r = vdev_make_transport(v, ctx);
    if (r < 0) {
        vdev_fini(v);
        return r;
    }
    if (v->note[0])
        vdev_log(v, v->note);
    return 0;
}

void vdev_fini(void *dev)
{
    struct vdev *v = dev;

    if (v->quiesced) {
        iothread_resume(&v->io); /* torn down while paused: drain below */
        v->quiesced = false;
    }
    if (v->transport_ready)
        vmmio_fini(&v->t);
    if (v->device_ready && v->type->fini)
        v->type->fini(v);
    if (v->io_ready)
        iothread_fini(&v->io, 0);
    if (v->irqfd_bound)
        v->env->irqfd(v->env->machine, v->irq_fd, v->gsi, false);
    if (v->irq_fd >= 0)
        close(v->irq_fd);
    v->irq_fd = -1;
    v->transport_ready = v->device_ready = v->io_ready = false;
    v->irqfd_bound = false;
}

/* ---- Running ---- */

/* After a load the irqchip's state was restored over the edge the
 * transport raised: raise it again. */
void vdev_start(void *dev)
{
    struct vdev *v = dev;

    if (v->owed)
        vdev_irq(v);
    v->owed = false;
}

/* The vCPUs are paused (none can kick): the I/O thread drains what is in
 * flight and parks. No limit: a request to a local image ends. */
void vdev_quiesce(void *dev)
{
    struct vdev *v = dev;

    if (!v->quiesced && iothread_pause(&v->io, 0) == 0)
        v->quiesced = true;
}

void vdev_resume(void *dev)
{
    struct vdev *v = dev;

    if (v->quiesced)
        iothread_resume(&v->io);
    v->quiesced = false;
}

/* ---- Snapshots ---- */

void vdev_save(void *dev, void *state)
{
    struct vdev *v = dev;

    vmmio_save(&v->t, state);
    if (v->type->state_size && v->type->save)
        v->type->save(v, (uint8_t *)state + sizeof(struct vmmio_state));
}

int vdev_check(const struct vdev_type *type, const void *state, char *why,
               size_t len)
{
    struct vmmio_state st;

    memcpy(&st, state, sizeof(st));
    if (st.nqueues > VIRTIO_MAX_QUEUES) {
        snprintf(why, len, "%" PRIu32 " queues (at most %u)", st.nqueues,
                 VIRTIO_MAX_QUEUES);
        return -EINVAL;
    }
    if (type->state_size && type->check)
        return type->check((const uint8_t *)state + sizeof(st), why, len);
    return 0;
}

/* The device's state first, then the transport's, which may activate
 * the device again. A state the transport refuses leaves it reset,
 * reported: the guest's driver finds a device to set up again. */
void vdev_load(void *dev, const void *state)
{
    struct vdev *v = dev;
    struct vmmio_state st;
    char line[320];

    memcpy(&st, state, sizeof(st));
    if (v->type->state_size && v->type->load)
        v->type->load(v, (const uint8_t *)state + sizeof(st));
    if (vmmio_restore(&v->t, &st) < 0) {
        snprintf(line, sizeof(line), "%s: snapshot state refused, reset: %s",
                 v->name, kvmrun_last_error());
        vdev_log(v, line);
        return;
    }
    v->owed = st.isr != 0;
}
