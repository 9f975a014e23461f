/* vring_driver.h: the driver's side of a split ring, for the virtio tests. */
#ifndef KVMRUN_TEST_VRING_DRIVER_H
#define KVMRUN_TEST_VRING_DRIVER_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>

#include "mem.h"

/* A ring laid out in guest memory, driven as a guest driver would. */
struct vdrv {
    struct guest_mem *mem;
    uint32_t num;
    uint64_t desc, avail, used;
    uint16_t avail_idx; /* the driver's next avail->idx */
};

static inline uint8_t *vdrv_at(const struct vdrv *d, uint64_t gpa, uint64_t len)
{
    return mem_ptr(d->mem, gpa, len);
}

static inline void vdrv_put16(const struct vdrv *d, uint64_t gpa, uint16_t v)
{
    __atomic_store_n((uint16_t *)vdrv_at(d, gpa, 2), htole16(v),
                     __ATOMIC_RELEASE);
}

static inline uint16_t vdrv_get16(const struct vdrv *d, uint64_t gpa)
{
    return le16toh(
        __atomic_load_n((uint16_t *)vdrv_at(d, gpa, 2), __ATOMIC_ACQUIRE));
}

static inline uint32_t vdrv_get32(const struct vdrv *d, uint64_t gpa)
{
    uint32_t v;

    memcpy(&v, vdrv_at(d, gpa, 4), 4);
    return le32toh(v);
}

/* Writes a descriptor into a table at gpa (the ring's or an indirect one). */
static inline void vdrv_desc_at(const struct vdrv *d, uint64_t table,
                                unsigned i, uint64_t addr, uint32_t len,
                                uint16_t flags, uint16_t next)
{
    struct vring_desc v = {htole64(addr), htole32(len), htole16(flags),
                           htole16(next)};

    memcpy(vdrv_at(d, table + 16ULL * i, 16), &v, 16);
}

static inline void vdrv_desc(const struct vdrv *d, unsigned i, uint64_t addr,
                             uint32_t len, uint16_t flags, uint16_t next)
{
    vdrv_desc_at(d, d->desc, i, addr, len, flags, next);
}

/* Makes head available: the ring entry, then idx (release). */
static inline void vdrv_post(struct vdrv *d, uint16_t head)
{
    vdrv_put16(d, d->avail + 4 + 2ULL * (d->avail_idx % d->num), head);
    d->avail_idx++;
    vdrv_put16(d, d->avail + 2, d->avail_idx);
}

static inline void vdrv_set_avail_idx(struct vdrv *d, uint16_t idx)
{
    d->avail_idx = idx;
    vdrv_put16(d, d->avail + 2, idx);
}

static inline void vdrv_set_avail_flags(const struct vdrv *d, uint16_t flags)
{
    vdrv_put16(d, d->avail, flags);
}

static inline void vdrv_set_used_event(const struct vdrv *d, uint16_t v)
{
    vdrv_put16(d, d->avail + 4 + 2ULL * d->num, v);
}

static inline uint16_t vdrv_used_idx(const struct vdrv *d)
{
    return vdrv_get16(d, d->used + 2);
}

static inline uint16_t vdrv_used_flags(const struct vdrv *d)
{
    return vdrv_get16(d, d->used);
}

static inline uint16_t vdrv_avail_event(const struct vdrv *d)
{
    return vdrv_get16(d, d->used + 4 + 8ULL * d->num);
}

/* Used element i (modulo num): id and len. */
static inline void vdrv_used_elem(const struct vdrv *d, uint16_t i,
                                  uint32_t *id, uint32_t *len)
{
    uint64_t e = d->used + 4 + 8ULL * (i % d->num);

    *id = vdrv_get32(d, e);
    *len = vdrv_get32(d, e + 4);
}

#endif
