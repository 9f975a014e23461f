/* virtqueue.c: the device side of a virtio 1.x split virtqueue. */
#include "virtio/virtqueue.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>

#include "error.h"

/*
 * Layout of the three areas (virtio 1.x, 2.7 "Split Virtqueues"), from the
 * uapi structs: the available ring is flags, idx, ring[num], used_event;
 * the used ring is flags, idx, ring[num] of {id, len}, avail_event.
 */
#define DESC_SIZE sizeof(struct vring_desc)
#define AVAIL_RING offsetof(struct vring_avail, ring)
#define USED_RING offsetof(struct vring_used, ring)
#define USED_ELEM sizeof(struct vring_used_elem)

static uint64_t vq_desc_bytes(uint32_t num)
{
    return (uint64_t)num * DESC_SIZE;
}

static uint64_t vq_avail_bytes(uint32_t num)
{
    return AVAIL_RING + (uint64_t)num * sizeof(__virtio16) + sizeof(__virtio16);
}

static uint64_t vq_used_bytes(uint32_t num)
{
    return USED_RING + (uint64_t)num * USED_ELEM + sizeof(__virtio16);
}

/*
 * Shared ring fields are read and written with atomic accesses of their
 * own width: the driver changes them concurrently, and each must be read
 * exactly once (a value checked, then fetched again, could differ). Areas
 * are aligned by vq_start(), so every field is naturally aligned.
 */
static uint16_t vq_load16(const uint8_t *p, int order)
{
    return le16toh(__atomic_load_n((const uint16_t *)p, order));
}

static void vq_store16(uint8_t *p, uint16_t v, int order)
{
    __atomic_store_n((uint16_t *)p, htole16(v), order);
}

static void vq_store32(uint8_t *p, uint32_t v)
{
    __atomic_store_n((uint32_t *)p, htole32(v), __ATOMIC_RELAXED);
}

/* One descriptor, copied once out of guest memory. Indirect tables have no
 * alignment rule, hence memcpy; the signal fence keeps the compiler from
 * reading the guest's copy again in place of ours. */
static void vq_read_desc(const uint8_t *p, struct vring_desc *d)
{
    memcpy(d, p, sizeof(*d));
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    d->addr = le64toh(d->addr);
    d->len = le32toh(d->len);
    d->flags = le16toh(d->flags);
    d->next = le16toh(d->next);
}

void vq_init(struct vq *vq, unsigned index)
{
    memset(vq, 0, sizeof(*vq));
    vq->index = index;
}

void vq_reset(struct vq *vq)
{
    vq_init(vq, vq->index);
}

void vq_set_features(struct vq *vq, uint64_t features)
{
    vq->indirect = features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
    vq->event_idx = features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
}

/* Host view of one ring area: aligned as the spec's table says, whole in
 * one memory slot. */
static int vq_map_area(struct vq *vq, const char *what, uint64_t gpa,
                       uint64_t len, uint64_t align, uint8_t **host)
{
    if (gpa % align)
        return err_set(EINVAL, "queue %u: %s at %#llx is not %llu-byte aligned",
                       vq->index, what, (unsigned long long)gpa,
                       (unsigned long long)align);
    *host = mem_ptr(vq->mem, gpa, len);
    if (!*host)
        return err_set(
            EFAULT, "queue %u: %s at %#llx (%llu bytes) is not in guest RAM",
            vq->index, what, (unsigned long long)gpa, (unsigned long long)len);
    return 0;
}

static bool vq_num_ok(uint32_t num)
{
    return num && num <= VQ_MAX_SIZE && !(num & (num - 1));
}

int vq_start(struct vq *vq, const struct guest_mem *mem)
{
    int rc;

    vq->ready = false;
    vq->mem = mem;
    if (!vq_num_ok(vq->num))
        return err_set(EINVAL,
                       "queue %u: size %u is not a power of two from 1 to %u",
                       vq->index, vq->num, VQ_MAX_SIZE);
    rc = vq_map_area(vq, "descriptor table", vq->desc_gpa,
                     vq_desc_bytes(vq->num), VRING_DESC_ALIGN_SIZE, &vq->desc);
    if (!rc)
        rc = vq_map_area(vq, "available ring", vq->avail_gpa,
                         vq_avail_bytes(vq->num), VRING_AVAIL_ALIGN_SIZE,
                         &vq->avail);
    if (!rc)
        rc = vq_map_area(vq, "used ring", vq->used_gpa, vq_used_bytes(vq->num),
                         VRING_USED_ALIGN_SIZE, &vq->used);
    if (rc)
        return rc;
    vq->last_avail_idx = vq->avail_idx = vq->used_idx = 0;
    vq->signalled_used = 0;
    vq->signalled_valid = false;
    vq->broken = false;
    vq->ready = true;
    return 0;
}

/* Marks the queue broken and returns rc (the message is already set). */
static int vq_fail(struct vq *vq, int rc)
{
    vq->broken = true;
    return rc;
}

/*
 * The next available head, or -errno. The acquire load of avail->idx
 * pairs with the driver's write barrier before it bumps idx: the ring
 * entry and the descriptors it names are visible once idx is.
 */
static int vq_next_head(struct vq *vq, uint16_t *head)
{
    uint16_t mask = (uint16_t)(vq->num - 1), pending;

    if (vq->avail_idx == vq->last_avail_idx) {
        vq->avail_idx = vq_load16(vq->avail + offsetof(struct vring_avail, idx),
                                  __ATOMIC_ACQUIRE);
        pending = (uint16_t)(vq->avail_idx - vq->last_avail_idx);
        if (pending > vq->num)
            return err_set(EINVAL,
                           "queue %u: available index %u is %u entries past "
                           "%u, more than the queue size %u",
                           vq->index, vq->avail_idx, pending,
                           vq->last_avail_idx, vq->num);
        if (!pending)
            return 0;
    }
    *head = vq_load16(vq->avail + AVAIL_RING +
                          (vq->last_avail_idx & mask) * sizeof(__virtio16),
                      __ATOMIC_RELAXED);
    if (*head >= vq->num)
        return err_set(EINVAL,
                       "queue %u: available entry %u names descriptor %u, "
                       "past the queue size %u",
                       vq->index, vq->last_avail_idx, *head, vq->num);
    return 1;
}

/* Where the walk is: the table being read (the queue's or an indirect
 * one), its size, and how many of its descriptors were visited. */
struct vq_walk {
    const uint8_t *table;
    uint32_t size;
    uint32_t seen;
    bool indirect;      /* in an indirect table ... */
    uint64_t table_gpa; /* ... at this address */
};

static int vq_desc_err(struct vq *vq, const struct vq_walk *w, uint32_t i,
                       int err, const char *why)
{
    if (w->indirect)
        return err_set(err,
                       "queue %u: indirect descriptor %u (table at %#llx): %s",
                       vq->index, i, (unsigned long long)w->table_gpa, why);
    return err_set(err, "queue %u: descriptor %u: %s", vq->index, i, why);
}

/* Switches the walk to the indirect table that d describes. */
static int vq_enter_indirect(struct vq *vq, struct vq_walk *w, uint32_t i,
                             const struct vring_desc *d)
{
    if (!vq->indirect)
        return vq_desc_err(vq, w, i, EINVAL,
                           "INDIRECT without VIRTIO_RING_F_INDIRECT_DESC");
    if (w->indirect)
        return vq_desc_err(vq, w, i, EINVAL,
                           "INDIRECT inside an indirect table");
    if (d->flags & VRING_DESC_F_NEXT)
        return vq_desc_err(vq, w, i, EINVAL, "both INDIRECT and NEXT");
    if (d->len == 0 || d->len % DESC_SIZE)
        return vq_desc_err(vq, w, i, EINVAL,
                           "indirect table length is not a non-zero "
                           "multiple of 16");
    if (d->len / DESC_SIZE > VQ_MAX_INDIRECT)
        return vq_desc_err(vq, w, i, EINVAL,
                           "indirect table longer than 32768 descriptors");
    if (d->addr + d->len < d->addr)
        return vq_desc_err(vq, w, i, EFAULT, "indirect table wraps past 2^64");
    w->table = mem_ptr(vq->mem, d->addr, d->len);
    if (!w->table)
        return vq_desc_err(vq, w, i, EFAULT, "indirect table not in guest RAM");
    w->size = d->len / DESC_SIZE;
    w->seen = 0;
    w->indirect = true;
    w->table_gpa = d->addr;
    return 0;
}

/* Appends the buffer d describes to chain, checked. */
static int vq_add_buffer(struct vq *vq, const struct vq_walk *w, uint32_t i,
                         const struct vring_desc *d, struct vq_chain *c)
{
    bool write = d->flags & VRING_DESC_F_WRITE;
    unsigned n = c->nread + c->nwrite;
    void *host;

    if (d->len == 0)
        return vq_desc_err(vq, w, i, EINVAL, "zero-length buffer");
    if (!write && c->nwrite)
        return vq_desc_err(
            vq, w, i, EINVAL,
            "device-readable buffer after a device-writable one");
    if (d->addr + d->len < d->addr)
        return vq_desc_err(vq, w, i, EFAULT, "buffer wraps past 2^64");
    if (c->read_len + c->write_len + d->len > (1ULL << 32))
        return vq_desc_err(vq, w, i, EOVERFLOW, "chain longer than 2^32 bytes");
    if (n == c->cap)
        return vq_desc_err(vq, w, i, E2BIG,
                           "more segments than the device takes");
    /* Slots are never adjacent in guest-physical space (the MMIO hole
     * separates them), so a buffer crossing a slot's end covers non-RAM
     * and is refused here rather than split. */
    host = mem_ptr(vq->mem, d->addr, d->len);
    if (!host)
        return vq_desc_err(vq, w, i, EFAULT, "buffer not in guest RAM");
    c->iov[n] = (struct iovec){host, d->len};
    if (write) {
        c->nwrite++;
        c->write_len += d->len;
    } else {
        c->nread++;
        c->read_len += d->len;
    }
    return 0;
}

/* Walks the chain from head into c. A table of size descriptors holds no
 * chain longer than size: one more means a loop. */
static int vq_walk_chain(struct vq *vq, uint16_t head, struct vq_chain *c)
{
    struct vq_walk w = {vq->desc, vq->num, 0, false, 0};
    uint32_t i = head;
    struct vring_desc d;
    int rc;

    for (;;) {
        if (i >= w.size)
            return vq_desc_err(vq, &w, i, EINVAL, "index past the table");
        if (++w.seen > w.size)
            return vq_desc_err(vq, &w, i, ELOOP,
                               "chain longer than its table (a loop)");
        vq_read_desc(w.table + (uint64_t)i * DESC_SIZE, &d);
        c->ndesc++;
        if (d.flags & VRING_DESC_F_INDIRECT) {
            rc = vq_enter_indirect(vq, &w, i, &d);
            if (rc)
                return rc;
            i = 0;
            continue;
        }
        rc = vq_add_buffer(vq, &w, i, &d, c);
        if (rc)
            return rc;
        if (!(d.flags & VRING_DESC_F_NEXT))
            return 0;
        i = d.next;
    }
}

int vq_pop(struct vq *vq, struct vq_chain *chain)
{
    uint16_t head = 0;
    int rc;

    if (vq->broken)
        return err_set(EIO, "queue %u: broken by an earlier error", vq->index);
    if (!vq->ready)
        return err_set(EIO, "queue %u: not ready", vq->index);
    rc = vq_next_head(vq, &head);
    if (rc <= 0)
        return rc < 0 ? vq_fail(vq, rc) : 0;
    chain->head = head;
    chain->nread = chain->nwrite = chain->ndesc = 0;
    chain->read_len = chain->write_len = 0;
    rc = vq_walk_chain(vq, head, chain);
    if (rc)
        return vq_fail(vq, rc);
    vq->last_avail_idx++;
    return 1;
}

void vq_resync(struct vq *vq, uint16_t last_avail_idx)
{
    if (!vq->ready)
        return;
    vq->last_avail_idx = vq->avail_idx = last_avail_idx;
    vq->used_idx = vq_load16(vq->used + offsetof(struct vring_used, idx),
                             __ATOMIC_ACQUIRE);
    vq->signalled_valid = false; /* the next check notifies */
}

/* The last n chains popped go back: the next pops take them again. */
int vq_unpop(struct vq *vq, unsigned n)
{
    if (!vq->ready || n > (uint16_t)(vq->last_avail_idx - vq->used_idx))
        return err_set(EINVAL,
                       "queue %u: giving back %u chains, more than are "
                       "taken",
                       vq->index, n);
    vq->last_avail_idx = (uint16_t)(vq->last_avail_idx - n);
    return 0;
}

/*
 * The element is written before used->idx, which is stored with release
 * order: it pairs with the driver's read barrier after it reads idx, so
 * the driver sees the element and the data written into the buffers.
 */
int vq_push(struct vq *vq, uint16_t head, uint32_t len)
{
    uint8_t *elem;

    if (!vq->ready || head >= vq->num)
        return err_set(EINVAL,
                       "queue %u: returning descriptor %u: not a "
                       "chain of this queue",
                       vq->index, head);
    if (vq->used_idx == vq->last_avail_idx)
        return err_set(EINVAL,
                       "queue %u: returning more chains than were "
                       "taken",
                       vq->index);
    elem = vq->used + USED_RING + (vq->used_idx & (vq->num - 1)) * USED_ELEM;
    vq_store32(elem + offsetof(struct vring_used_elem, id), head);
    vq_store32(elem + offsetof(struct vring_used_elem, len), len);
    vq->used_idx++;
    vq_store16(vq->used + offsetof(struct vring_used, idx), vq->used_idx,
               __ATOMIC_RELEASE);
    /* 2^16 pushes without a check would make the 16-bit comparison in
     * vq_need_notify() ambiguous: notify at the next check instead. */
    if (vq->used_idx == vq->signalled_used)
        vq->signalled_valid = false;
    return 0;
}

/*
 * The full fence orders our used->idx store before the load of
 * used_event (or avail->flags). It pairs with the driver's full barrier
 * between publishing used_event and re-reading used->idx: one side or the
 * other sees the new value, so an interrupt is never lost.
 */
bool vq_need_notify(struct vq *vq)
{
    uint16_t old = vq->signalled_used, event;
    bool valid = vq->signalled_valid;

    if (!vq->ready)
        return false;
    vq->signalled_used = vq->used_idx;
    vq->signalled_valid = true;
    if (valid && old == vq->used_idx)
        return false; /* nothing used since the last check */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!vq->event_idx)
        return !(vq_load16(vq->avail + offsetof(struct vring_avail, flags),
                           __ATOMIC_RELAXED) &
                 VRING_AVAIL_F_NO_INTERRUPT);
    if (!valid)
        return true;
    event = vq_load16(vq->avail + AVAIL_RING + vq->num * sizeof(__virtio16),
                      __ATOMIC_RELAXED);
    return vring_need_event(event, vq->used_idx, old);
}

/* avail_event sits after the used ring's num elements. */
static uint8_t *vq_avail_event(struct vq *vq)
{
    return vq->used + USED_RING + (uint64_t)vq->num * USED_ELEM;
}

/*
 * The full fence orders the store asking for kicks before the re-read of
 * avail->idx; it pairs with the driver's full barrier between bumping
 * avail->idx and reading avail_event (or used->flags).
 */
bool vq_enable_notify(struct vq *vq)
{
    uint16_t idx;

    if (!vq->ready)
        return false;
    if (vq->event_idx)
        vq_store16(vq_avail_event(vq), vq->last_avail_idx, __ATOMIC_RELAXED);
    else
        vq_store16(vq->used + offsetof(struct vring_used, flags), 0,
                   __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    idx = vq_load16(vq->avail + offsetof(struct vring_avail, idx),
                    __ATOMIC_ACQUIRE);
    return idx != vq->last_avail_idx;
}

/* With EVENT_IDX there is nothing to write: the driver kicks only when its
 * index crosses avail_event, which stays behind while we pop. */
void vq_disable_notify(struct vq *vq)
{
    if (vq->ready && !vq->event_idx)
        vq_store16(vq->used + offsetof(struct vring_used, flags),
                   VRING_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
}

void vq_save(const struct vq *vq, struct vq_state *st)
{
    memset(st, 0, sizeof(*st));
    st->desc_gpa = vq->desc_gpa;
    st->avail_gpa = vq->avail_gpa;
    st->used_gpa = vq->used_gpa;
    st->num = vq->num;
    st->last_avail_idx = vq->last_avail_idx;
    st->used_idx = vq->used_idx;
    st->signalled_used = vq->signalled_used;
    st->ready = vq->ready;
    st->signalled_valid = vq->signalled_valid;
    st->event_idx = vq->event_idx;
    st->indirect = vq->indirect;
}

int vq_restore(struct vq *vq, const struct guest_mem *mem,
               const struct vq_state *st)
{
    int rc;

    vq_reset(vq);
    vq->desc_gpa = st->desc_gpa;
    vq->avail_gpa = st->avail_gpa;
    vq->used_gpa = st->used_gpa;
    vq->num = st->num;
    vq->event_idx = st->event_idx;
    vq->indirect = st->indirect;
    if (!st->ready)
        return 0;
    rc = vq_start(vq, mem);
    if (rc) {
        vq_reset(vq);
        return rc;
    }
    if ((uint16_t)(st->last_avail_idx - st->used_idx) > vq->num) {
        vq_reset(vq);
        return err_set(EINVAL,
                       "queue %u: saved indices %u (available) and "
                       "%u (used) are more than the queue size apart",
                       vq->index, st->last_avail_idx, st->used_idx);
    }
    vq->last_avail_idx = vq->avail_idx = st->last_avail_idx;
    vq->used_idx = st->used_idx;
    vq->signalled_used = st->signalled_used;
    vq->signalled_valid = st->signalled_valid;
    return 0;
}
