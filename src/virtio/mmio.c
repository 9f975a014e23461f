/* mmio.c: the virtio-mmio (version 2) register file of one device. */
#include "virtio/mmio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define VIRTIO_MMIO_NO_LEGACY
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "error.h"
#include "kvmrun.h"
#include "le.h"

/* MagicValue, "virt" read as a little-endian word, and Version 2 (the
 * non-legacy layout): the spec's values; the uapi header names neither. */
#define VMMIO_MAGIC 0x74726976
#define VMMIO_VERSION 2
/* VendorID: any value; "KVMR" as a little-endian word. */
#define VMMIO_VENDOR 0x524d564b

#define BIT64(n) (1ULL << (n))

/* What the core implements of the transport and ring features. */
#define VMMIO_CORE_FEATURES                                                    \
    (BIT64(VIRTIO_F_VERSION_1) | BIT64(VIRTIO_RING_F_INDIRECT_DESC) |          \
     BIT64(VIRTIO_RING_F_EVENT_IDX))

/* The status bits a driver sets; NEEDS_RESET is the device's. */
#define VMMIO_DRIVER_STATUS                                                    \
    (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |                    \
     VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK |                 \
     VIRTIO_CONFIG_S_FAILED)

/* Kinds of guest error, each reported once until the next reset. */
enum {
    VMMIO_R_WIDTH = 1 << 0,
    VMMIO_R_WRITE_ONLY = 1 << 1,
    VMMIO_R_READ_ONLY = 1 << 2,
    VMMIO_R_UNKNOWN = 1 << 3,
    VMMIO_R_CONFIG = 1 << 4,
    VMMIO_R_STATUS = 1 << 5,
    VMMIO_R_FEATURES = 1 << 6,
    VMMIO_R_QUEUE = 1 << 7,
    VMMIO_R_NOTIFY = 1 << 8,
    VMMIO_R_IOEVENTFD = 1 << 9,
};

enum { RD = 1, WR = 2 };

struct vmmio_reg {
    const char *name;
    unsigned dir;
};

#define REG(off, n, d) [(off) / 4] = {n, d}

/* The control registers (spec 4.2.2), by offset / 4. */
static const struct vmmio_reg vmmio_regs[VIRTIO_MMIO_CONFIG / 4] = {
    REG(VIRTIO_MMIO_MAGIC_VALUE, "MagicValue", RD),
    REG(VIRTIO_MMIO_VERSION, "Version", RD),
    REG(VIRTIO_MMIO_DEVICE_ID, "DeviceID", RD),
    REG(VIRTIO_MMIO_VENDOR_ID, "VendorID", RD),
    REG(VIRTIO_MMIO_DEVICE_FEATURES, "DeviceFeatures", RD),
    REG(VIRTIO_MMIO_DEVICE_FEATURES_SEL, "DeviceFeaturesSel", WR),
    REG(VIRTIO_MMIO_DRIVER_FEATURES, "DriverFeatures", WR),
    REG(VIRTIO_MMIO_DRIVER_FEATURES_SEL, "DriverFeaturesSel", WR),
    REG(VIRTIO_MMIO_QUEUE_SEL, "QueueSel", WR),
    REG(VIRTIO_MMIO_QUEUE_NUM_MAX, "QueueNumMax", RD),
    REG(VIRTIO_MMIO_QUEUE_NUM, "QueueNum", WR),
    REG(VIRTIO_MMIO_QUEUE_READY, "QueueReady", RD | WR),
    REG(VIRTIO_MMIO_QUEUE_NOTIFY, "QueueNotify", WR),
    REG(VIRTIO_MMIO_INTERRUPT_STATUS, "InterruptStatus", RD),
    REG(VIRTIO_MMIO_INTERRUPT_ACK, "InterruptACK", WR),
    REG(VIRTIO_MMIO_STATUS, "Status", RD | WR),
    REG(VIRTIO_MMIO_QUEUE_DESC_LOW, "QueueDescLow", WR),
    REG(VIRTIO_MMIO_QUEUE_DESC_HIGH, "QueueDescHigh", WR),
    REG(VIRTIO_MMIO_QUEUE_AVAIL_LOW, "QueueDriverLow", WR),
    REG(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, "QueueDriverHigh", WR),
    REG(VIRTIO_MMIO_QUEUE_USED_LOW, "QueueDeviceLow", WR),
    REG(VIRTIO_MMIO_QUEUE_USED_HIGH, "QueueDeviceHigh", WR),
    REG(VIRTIO_MMIO_SHM_SEL, "SHMSel", WR),
    REG(VIRTIO_MMIO_SHM_LEN_LOW, "SHMLenLow", RD),
    REG(VIRTIO_MMIO_SHM_LEN_HIGH, "SHMLenHigh", RD),
    REG(VIRTIO_MMIO_SHM_BASE_LOW, "SHMBaseLow", RD),
    REG(VIRTIO_MMIO_SHM_BASE_HIGH, "SHMBaseHigh", RD),
    REG(VIRTIO_MMIO_CONFIG_GENERATION, "ConfigGeneration", RD),
};

/* Records a guest error for the report made after the access, unless one
 * of its kind was reported since the last reset. Lock held. */
__attribute__((format(printf, 3, 4))) static void
vmmio_note(struct vmmio *t, unsigned kind, const char *fmt, ...)
{
    size_t n;
    va_list ap;

    if (t->reported & kind || t->pending[0])
        return;
    t->reported |= kind;
    n = (size_t)snprintf(t->pending, sizeof(t->pending), "%s: ", t->dev.name);
    if (n >= sizeof(t->pending))
        return;
    va_start(ap, fmt);
    vsnprintf(t->pending + n, sizeof(t->pending) - n, fmt, ap);
    va_end(ap);
}

static uint32_t vmmio_status(const struct vmmio *t)
{
    return __atomic_load_n(&t->status, __ATOMIC_ACQUIRE);
}

static void vmmio_interrupt(struct vmmio *t, uint32_t bits)
{
    __atomic_fetch_or(&t->isr, bits, __ATOMIC_SEQ_CST);
    if (t->env.irq)
        t->env.irq(t->env.machine);
}

/* Sets NEEDS_RESET; true for the call that set it. Lock-free. */
static bool vmmio_set_needs_reset(struct vmmio *t)
{
    if (__atomic_exchange_n(&t->needs_reset, true, __ATOMIC_SEQ_CST))
        return false;
    if (vmmio_status(t) & VIRTIO_CONFIG_S_DRIVER_OK)
        vmmio_interrupt(t, VIRTIO_MMIO_INT_CONFIG);
    return true;
}

/* NEEDS_RESET from a register access (lock held): reported after it. */
static void vmmio_break(struct vmmio *t, const char *why)
{
    if (vmmio_set_needs_reset(t))
        snprintf(t->pending, sizeof(t->pending), "%s: needs reset: %s",
                 t->dev.name, why);
}

void vmmio_needs_reset(struct vmmio *t, const char *why)
{
    char line[sizeof(t->pending)];

    if (!vmmio_set_needs_reset(t) || !t->env.report)
        return;
    snprintf(line, sizeof(line), "%s: needs reset: %s", t->dev.name, why);
    t->env.report(t->env.machine, line);
}

void vmmio_signal_used(struct vmmio *t, struct vq *vq)
{
    if (vq_need_notify(vq))
        vmmio_interrupt(t, VIRTIO_MMIO_INT_VRING);
}

void vmmio_config_changed(struct vmmio *t)
{
    __atomic_fetch_add(&t->generation, 1, __ATOMIC_SEQ_CST);
    if (vmmio_status(t) & VIRTIO_CONFIG_S_DRIVER_OK)
        vmmio_interrupt(t, VIRTIO_MMIO_INT_CONFIG);
}

static uint64_t vmmio_offered(const struct vmmio *t)
{
    return t->dev.features | BIT64(VIRTIO_F_VERSION_1);
}

static void vmmio_unbind(struct vmmio *t)
{
    for (unsigned i = 0; i < t->dev.nqueues; i++) {
        if (!t->bound[i])
            continue;
        t->env.ioeventfd(t->env.machine, i, VIRTIO_MMIO_QUEUE_NOTIFY, false);
        t->bound[i] = false;
    }
}

/* Kicks of the ready queues go to the device's eventfds from now on; one
 * that cannot be bound keeps coming as MMIO writes (see notify()). */
static void vmmio_bind(struct vmmio *t)
{
    int rc;

    if (!t->env.ioeventfd)
        return;
    for (unsigned i = 0; i < t->dev.nqueues; i++) {
        if (!t->vq[i].ready)
            continue;
        rc =
            t->env.ioeventfd(t->env.machine, i, VIRTIO_MMIO_QUEUE_NOTIFY, true);
        t->bound[i] = rc == 0;
        if (rc)
            vmmio_note(t, VMMIO_R_IOEVENTFD,
                       "queue %u: no ioeventfd (%s): kicks are MMIO exits", i,
                       strerror(-rc));
    }
}

/* Device reset: Status written 0, or a restore. Lock held. */
static void vmmio_reset_locked(struct vmmio *t)
{
    vmmio_unbind(t);
    t->dev.ops->reset(t->dev.opaque);
    for (unsigned i = 0; i < t->dev.nqueues; i++)
        vq_reset(&t->vq[i]);
    __atomic_store_n(&t->status, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&t->isr, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&t->needs_reset, false, __ATOMIC_SEQ_CST);
    t->active = t->bad_features = false;
    t->dev_features_sel = t->drv_features_sel = 0;
    t->queue_sel = t->shm_sel = 0;
    t->driver_features = 0;
    t->reported = 0;
}

/* DRIVER_OK: the device starts on the ready queues. Lock held. */
static void vmmio_activate(struct vmmio *t)
{
    struct vq *q[VIRTIO_MAX_QUEUES];
    char why[200];

    /* Broken before DRIVER_OK (a bad queue): nothing starts, and the
     * driver, which listens from now on, hears about it. */
    if (__atomic_load_n(&t->needs_reset, __ATOMIC_SEQ_CST)) {
        vmmio_interrupt(t, VIRTIO_MMIO_INT_CONFIG);
        return;
    }
    for (unsigned i = 0; i < t->dev.nqueues; i++) {
        vq_set_features(&t->vq[i], t->driver_features);
        q[i] = t->vq[i].ready ? &t->vq[i] : NULL;
    }
    if (t->dev.ops->activate(t->dev.opaque, t->driver_features, q,
                             t->dev.nqueues) < 0) {
        snprintf(why, sizeof(why), "%s", kvmrun_last_error());
        vmmio_break(t, why);
        return;
    }
    t->active = true;
    vmmio_bind(t);
}

/* FEATURES_OK is refused unless the driver took a subset of what was
 * offered, VERSION_1 among them (legacy drivers are not supported). */
static bool vmmio_features_ok(struct vmmio *t)
{
    uint64_t offered = vmmio_offered(t), taken = t->driver_features;

    if (t->bad_features || taken & ~offered) {
        vmmio_note(t, VMMIO_R_FEATURES,
                   "FEATURES_OK refused: the driver accepted features "
                   "%#llx%s, not offered (%#llx)",
                   (unsigned long long)(taken & ~offered),
                   t->bad_features ? " and bits past 63" : "",
                   (unsigned long long)offered);
        return false;
    }
    if (!(taken & BIT64(VIRTIO_F_VERSION_1))) {
        vmmio_note(t, VMMIO_R_FEATURES,
                   "FEATURES_OK refused: the driver did not accept "
                   "VIRTIO_F_VERSION_1 (a legacy driver)");
        return false;
    }
    return true;
}

/* The bits added by a status write have what they need below them. */
static bool vmmio_status_order_ok(uint32_t added, uint32_t new)
{
    if (added & VIRTIO_CONFIG_S_DRIVER && !(new &VIRTIO_CONFIG_S_ACKNOWLEDGE))
        return false;
    if (added & VIRTIO_CONFIG_S_FEATURES_OK && !(new &VIRTIO_CONFIG_S_DRIVER))
        return false;
    if (added & VIRTIO_CONFIG_S_DRIVER_OK &&
        !(new &VIRTIO_CONFIG_S_FEATURES_OK))
        return false;
    return true;
}

/*
 * Status: 0 resets; otherwise the driver only adds bits, in the spec's
 * order (ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK; FAILED any time).
 * A write that breaks the rules is ignored. The NEEDS_RESET bit a driver
 * writes back (it read it with the rest) is not the driver's to set.
 */
static void vmmio_write_status(struct vmmio *t, uint32_t v)
{
    uint32_t old = t->status, new = v & ~VIRTIO_CONFIG_S_NEEDS_RESET, added;

    if (v == 0) {
        vmmio_reset_locked(t);
        return;
    }
    added = new & ~old;
    if (new & ~VMMIO_DRIVER_STATUS || (old & new) != old ||
        !vmmio_status_order_ok(added, new)) {
        vmmio_note(t, VMMIO_R_STATUS,
                   "status %#x after %#x ignored: bits out of order, "
                   "cleared or unknown",
                   v, old);
        return;
    }
    if (added & VIRTIO_CONFIG_S_FEATURES_OK && !vmmio_features_ok(t))
        new &= ~(VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
    __atomic_store_n(&t->status, new, __ATOMIC_RELEASE);
    if (new &added & VIRTIO_CONFIG_S_DRIVER_OK)
        vmmio_activate(t);
}

static void vmmio_write_driver_features(struct vmmio *t, uint32_t v)
{
    unsigned sel = t->drv_features_sel;

    if (t->status & VIRTIO_CONFIG_S_FEATURES_OK) {
        vmmio_note(t, VMMIO_R_FEATURES,
                   "DriverFeatures written after FEATURES_OK: ignored");
        return;
    }
    if (sel > 1) {
        t->bad_features |= v != 0;
        return;
    }
    t->driver_features &= ~(0xffffffffULL << (32 * sel));
    t->driver_features |= (uint64_t)v << (32 * sel);
}

/* The selected queue, if it exists. */
static struct vq *vmmio_queue(struct vmmio *t, const char *reg)
{
    if (t->queue_sel < t->dev.nqueues)
        return &t->vq[t->queue_sel];
    vmmio_note(t, VMMIO_R_QUEUE, "%s of queue %u: the device has %u queues",
               reg, t->queue_sel, t->dev.nqueues);
    return NULL;
}

/* The spec freezes a queue's registers while it is ready; we also freeze
 * them once the device is active, as its I/O thread reads them. */
static struct vq *vmmio_queue_to_set(struct vmmio *t, const char *reg,
                                     bool ready_too)
{
    struct vq *q = vmmio_queue(t, reg);

    if (!q)
        return NULL;
    if (t->status & VIRTIO_CONFIG_S_DRIVER_OK) {
        vmmio_note(t, VMMIO_R_QUEUE,
                   "%s of queue %u written after DRIVER_OK: ignored", reg,
                   t->queue_sel);
        return NULL;
    }
    if (q->ready && !ready_too) {
        vmmio_note(t, VMMIO_R_QUEUE,
                   "%s of queue %u written while it is ready: ignored", reg,
                   t->queue_sel);
        return NULL;
    }
    return q;
}

static void vmmio_set_half(uint64_t *gpa, uint32_t v, bool high)
{
    if (high)
        *gpa = (*gpa & 0xffffffffULL) | (uint64_t)v << 32;
    else
        *gpa = (*gpa & ~0xffffffffULL) | v;
}

static void vmmio_write_queue_ready(struct vmmio *t, uint32_t v)
{
    struct vq *q = vmmio_queue_to_set(t, "QueueReady", true);

    if (!q)
        return;
    if (v > 1) {
        vmmio_note(t, VMMIO_R_QUEUE, "QueueReady %#x of queue %u: not 0 or 1",
                   v, t->queue_sel);
        return;
    }
    if (!v) {
        q->ready = false;
        return;
    }
    if (q->ready)
        return;
    if (q->num > t->dev.queue_max[t->queue_sel]) {
        char why[120];

        snprintf(why, sizeof(why), "queue %u: size %u is above QueueNumMax %u",
                 t->queue_sel, q->num, t->dev.queue_max[t->queue_sel]);
        vmmio_break(t, why);
        return;
    }
    if (vq_start(q, t->mem) < 0)
        vmmio_break(t, kvmrun_last_error());
}

/* QueueNotify without an ioeventfd: only a ready queue of an active
 * device hears it (the spec forbids kicks before DRIVER_OK). */
static void vmmio_notify(struct vmmio *t, uint32_t v)
{
    if (v >= t->dev.nqueues || !t->active || !t->vq[v].ready) {
        vmmio_note(t, VMMIO_R_NOTIFY,
                   "notify of queue %u, which is not ready: ignored", v);
        return;
    }
    if (!__atomic_load_n(&t->needs_reset, __ATOMIC_SEQ_CST))
        t->dev.ops->notify(t->dev.opaque, v);
}

static void vmmio_write_queue_reg(struct vmmio *t, uint64_t off, uint32_t v)
{
    const char *name = vmmio_regs[off / 4].name;
    struct vq *q = vmmio_queue_to_set(t, name, false);
    bool high = off % 8 == 4;

    if (!q)
        return;
    switch (off) {
    case VIRTIO_MMIO_QUEUE_NUM:
        q->num = v;
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        vmmio_set_half(&q->desc_gpa, v, high);
        break;
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
        vmmio_set_half(&q->avail_gpa, v, high);
        break;
    case VIRTIO_MMIO_QUEUE_USED_LOW:
    case VIRTIO_MMIO_QUEUE_USED_HIGH:
        vmmio_set_half(&q->used_gpa, v, high);
        break;
    }
}

static void vmmio_write(struct vmmio *t, uint64_t off, uint32_t v)
{
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        t->dev_features_sel = v;
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        vmmio_write_driver_features(t, v);
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        t->drv_features_sel = v;
        break;
    case VIRTIO_MMIO_QUEUE_SEL:
        t->queue_sel = v;
        break;
    case VIRTIO_MMIO_QUEUE_READY:
        vmmio_write_queue_ready(t, v);
        break;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        vmmio_notify(t, v);
        break;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        __atomic_fetch_and(&t->isr, ~v, __ATOMIC_SEQ_CST);
        break;
    case VIRTIO_MMIO_STATUS:
        vmmio_write_status(t, v);
        break;
    case VIRTIO_MMIO_SHM_SEL:
        t->shm_sel = v;
        break;
    default:
        vmmio_write_queue_reg(t, off, v);
    }
}

static uint32_t vmmio_read_features(const struct vmmio *t)
{
    if (t->dev_features_sel > 1)
        return 0;
    return (uint32_t)(vmmio_offered(t) >> (32 * t->dev_features_sel));
}

static uint32_t vmmio_read_status(const struct vmmio *t)
{
    uint32_t v = t->status;

    if (__atomic_load_n(&t->needs_reset, __ATOMIC_SEQ_CST))
        v |= VIRTIO_CONFIG_S_NEEDS_RESET;
    return v;
}

static uint32_t vmmio_read(struct vmmio *t, uint64_t off)
{
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE:
        return VMMIO_MAGIC;
    case VIRTIO_MMIO_VERSION:
        return VMMIO_VERSION;
    case VIRTIO_MMIO_DEVICE_ID:
        return t->dev.device_id;
    case VIRTIO_MMIO_VENDOR_ID:
        return VMMIO_VENDOR;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        return vmmio_read_features(t);
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        /* 0 says "no such queue" (spec 4.2.2): no report. */
        return t->queue_sel < t->dev.nqueues ? t->dev.queue_max[t->queue_sel]
                                             : 0;
    case VIRTIO_MMIO_QUEUE_READY:
        /* Linux reads it before QueueNumMax: no report for a queue that
         * does not exist either. */
        return t->queue_sel < t->dev.nqueues && t->vq[t->queue_sel].ready;
    case VIRTIO_MMIO_INTERRUPT_STATUS:
        /* A kernel backend (vhost) raises the interrupt without us: the
         * driver must look at its queues on every one. */
        return __atomic_load_n(&t->isr, __ATOMIC_SEQ_CST) |
               (t->dev.irq_direct ? VIRTIO_MMIO_INT_VRING : 0);
    case VIRTIO_MMIO_STATUS:
        return vmmio_read_status(t);
    case VIRTIO_MMIO_CONFIG_GENERATION:
        return __atomic_load_n(&t->generation, __ATOMIC_SEQ_CST);
    default:
        /* SHMLen and SHMBase: every region is absent, which the spec
         * spells as a length (and base) of all ones. */
        return 0xffffffff;
    }
}

/* The device's config space: 1, 2 or 4 bytes, naturally aligned (8-byte
 * fields are read as two 4-byte halves), inside config_size. */
static void vmmio_config_access(struct vmmio *t, const struct bus_access *a)
{
    uint64_t off = a->offset - VIRTIO_MMIO_CONFIG;
    bool width_ok = a->size == 1 || a->size == 2 || a->size == 4;

    if (!width_ok || off % a->size || off + a->size > t->dev.config_size) {
        vmmio_note(t, VMMIO_R_CONFIG,
                   "config %s of %u bytes at %#llx: misaligned, wider than "
                   "4 bytes or past its %u bytes: ignored",
                   a->write ? "write" : "read", a->size,
                   (unsigned long long)off, t->dev.config_size);
        return;
    }
    if (!a->write)
        t->dev.ops->config_read(t->dev.opaque, (uint32_t)off, a->data, a->size);
    else if (t->dev.ops->config_write)
        t->dev.ops->config_write(t->dev.opaque, (uint32_t)off, a->data,
                                 a->size);
    else
        vmmio_note(t, VMMIO_R_CONFIG, "config write at %#llx: read-only",
                   (unsigned long long)off);
}

/* A control register access: 32 bits wide and aligned, as the spec asks
 * of drivers; the direction must be the register's. */
static void vmmio_reg_access(struct vmmio *t, const struct bus_access *a)
{
    const struct vmmio_reg *reg = &vmmio_regs[a->offset / 4];

    if (a->size != 4 || a->offset % 4) {
        vmmio_note(t, VMMIO_R_WIDTH,
                   "%u-byte %s at %#llx: registers take aligned 4-byte "
                   "accesses",
                   a->size, a->write ? "write" : "read",
                   (unsigned long long)a->offset);
    } else if (!reg->name) {
        vmmio_note(t, VMMIO_R_UNKNOWN, "%s of unknown register %#llx",
                   a->write ? "write" : "read", (unsigned long long)a->offset);
    } else if (a->write && !(reg->dir & WR)) {
        vmmio_note(t, VMMIO_R_READ_ONLY, "write to read-only register %s",
                   reg->name);
    } else if (!a->write && !(reg->dir & RD)) {
        vmmio_note(t, VMMIO_R_WRITE_ONLY, "read of write-only register %s",
                   reg->name);
    } else if (a->write) {
        vmmio_write(t, a->offset, (uint32_t)le_get(a->data, 4));
    } else {
        le_put(a->data, 4, vmmio_read(t, a->offset));
    }
}

void vmmio_access(void *opaque, const struct bus_access *a)
{
    struct vmmio *t = opaque;
    char line[sizeof(t->pending)];

    if (!a->write)
        memset(a->data, 0, a->size);
    pthread_mutex_lock(&t->lock);
    if (a->offset >= VIRTIO_MMIO_CONFIG)
        vmmio_config_access(t, a);
    else
        vmmio_reg_access(t, a);
    memcpy(line, t->pending, sizeof(line));
    t->pending[0] = '\0';
    pthread_mutex_unlock(&t->lock);
    if (line[0] && t->env.report)
        t->env.report(t->env.machine, line);
}

/* Transport and ring features a device offers must be the core's. */
static int vmmio_check_features(const struct virtio_dev *dev)
{
    uint64_t reserved =
                 BIT64(VIRTIO_F_NOTIFY_ON_EMPTY) | BIT64(VIRTIO_F_ANY_LAYOUT),
             bad;

    for (unsigned b = VIRTIO_TRANSPORT_F_START; b < VIRTIO_TRANSPORT_F_END; b++)
        reserved |= BIT64(b);
    bad = dev->features & reserved & ~VMMIO_CORE_FEATURES;
    if (bad)
        return err_set(EINVAL,
                       "%s: offers transport features %#llx that "
                       "the virtio core does not implement",
                       dev->name, (unsigned long long)bad);
    return 0;
}

static int vmmio_check_dev(const struct virtio_dev *dev)
{
    if (dev->nqueues > VIRTIO_MAX_QUEUES)
        return err_set(EINVAL, "%s: %u queues, more than %u", dev->name,
                       dev->nqueues, VIRTIO_MAX_QUEUES);
    for (unsigned i = 0; i < dev->nqueues; i++) {
        uint32_t n = dev->queue_max[i];

        if (!n || n > VQ_MAX_SIZE || n & (n - 1))
            return err_set(EINVAL,
                           "%s: queue %u: maximum size %u is not a "
                           "power of two from 1 to %u",
                           dev->name, i, n, VQ_MAX_SIZE);
    }
    if (dev->config_size > VMMIO_WINDOW - VIRTIO_MMIO_CONFIG)
        return err_set(EINVAL, "%s: %u bytes of config do not fit the window",
                       dev->name, dev->config_size);
    if (!dev->ops || !dev->ops->config_read || !dev->ops->activate ||
        !dev->ops->reset || !dev->ops->notify)
        return err_set(EINVAL, "%s: a device callback is missing", dev->name);
    return vmmio_check_features(dev);
}

int vmmio_init(struct vmmio *t, const struct virtio_dev *dev,
               const struct vmmio_env *env, const struct guest_mem *mem)
{
    int rc;

    memset(t, 0, sizeof(*t));
    rc = vmmio_check_dev(dev);
    if (rc)
        return rc;
    t->dev = *dev;
    t->env = *env;
    t->mem = mem;
    for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
        vq_init(&t->vq[i], i);
    pthread_mutex_init(&t->lock, NULL);
    return 0;
}

void vmmio_fini(struct vmmio *t)
{
    pthread_mutex_lock(&t->lock);
    vmmio_unbind(t);
    pthread_mutex_unlock(&t->lock);
    pthread_mutex_destroy(&t->lock);
}

void vmmio_save(struct vmmio *t, struct vmmio_state *st)
{
    memset(st, 0, sizeof(*st));
    pthread_mutex_lock(&t->lock);
    st->status = t->status;
    st->isr = __atomic_load_n(&t->isr, __ATOMIC_SEQ_CST);
    st->generation = __atomic_load_n(&t->generation, __ATOMIC_SEQ_CST);
    st->needs_reset = __atomic_load_n(&t->needs_reset, __ATOMIC_SEQ_CST);
    st->dev_features_sel = t->dev_features_sel;
    st->drv_features_sel = t->drv_features_sel;
    st->queue_sel = t->queue_sel;
    st->shm_sel = t->shm_sel;
    st->driver_features = t->driver_features;
    st->bad_features = t->bad_features;
    st->nqueues = t->dev.nqueues;
    for (unsigned i = 0; i < t->dev.nqueues; i++)
        vq_save(&t->vq[i], &st->vq[i]);
    pthread_mutex_unlock(&t->lock);
}

/* A saved state this device could have reached. */
static int vmmio_check_state(const struct vmmio *t,
                             const struct vmmio_state *st)
{
    if (st->nqueues != t->dev.nqueues)
        return err_set(EINVAL, "%s: saved state has %u queues, the device %u",
                       t->dev.name, st->nqueues, t->dev.nqueues);
    if (st->status & ~VMMIO_DRIVER_STATUS ||
        !vmmio_status_order_ok(st->status, st->status))
        return err_set(EINVAL, "%s: saved status %#x is not valid", t->dev.name,
                       st->status);
    if (st->status & VIRTIO_CONFIG_S_FEATURES_OK &&
        (st->bad_features || st->driver_features & ~vmmio_offered(t)))
        return err_set(EINVAL, "%s: saved features %#llx were not offered",
                       t->dev.name, (unsigned long long)st->driver_features);
    if (st->isr & ~(uint32_t)(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG))
        return err_set(EINVAL, "%s: saved interrupt status %#x is not valid",
                       t->dev.name, st->isr);
    return 0;
}

static int vmmio_restore_locked(struct vmmio *t, const struct vmmio_state *st)
{
    int rc = vmmio_check_state(t, st);

    for (unsigned i = 0; !rc && i < t->dev.nqueues; i++)
        rc = vq_restore(&t->vq[i], t->mem, &st->vq[i]);
    if (rc)
        return rc;
    t->dev_features_sel = st->dev_features_sel;
    t->drv_features_sel = st->drv_features_sel;
    t->queue_sel = st->queue_sel;
    t->shm_sel = st->shm_sel;
    t->driver_features = st->driver_features;
    t->bad_features = st->bad_features;
    __atomic_store_n(&t->generation, st->generation, __ATOMIC_SEQ_CST);
    __atomic_store_n(&t->needs_reset, st->needs_reset != 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&t->status, st->status, __ATOMIC_RELEASE);
    if (st->status & VIRTIO_CONFIG_S_DRIVER_OK)
        vmmio_activate(t);
    if (st->isr)
        vmmio_interrupt(t, st->isr);
    return 0;
}

int vmmio_restore(struct vmmio *t, const struct vmmio_state *st)
{
    char line[sizeof(t->pending)];
    int rc;

    pthread_mutex_lock(&t->lock);
    vmmio_reset_locked(t);
    rc = vmmio_restore_locked(t, st);
    if (rc)
        vmmio_reset_locked(t);
    memcpy(line, t->pending, sizeof(line));
    t->pending[0] = '\0';
    pthread_mutex_unlock(&t->lock);
    if (line[0] && t->env.report)
        t->env.report(t->env.machine, line);
    return rc;
}
