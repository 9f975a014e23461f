/*
 * fuzz_ring.h: the split virtqueue and guest RAM the virtqueue fuzz
 * targets (fuzz_virtqueue, fuzz_virtio_blk, fuzz_virtio_net) start from.
 * Their inputs share the first bytes of the header:
 *   0     queue size: 1 << (b & 15), or byte 1 itself if bit 7 is set
 *   2     bit 0 INDIRECT_DESC, bit 1 EVENT_IDX
 *   4-9   descriptor table, available ring, used ring: 16-bit addresses
 *   10-11 the indices to start from (through vq_restore)
 * and after the header comes guest RAM from address 0. Define RAM (bytes)
 * before including it.
 */
#ifndef KVMRUN_FUZZ_RING_H
#define KVMRUN_FUZZ_RING_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "virtio/virtqueue.h"

#include <linux/virtio_ring.h>

static inline uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* 1 if [p, p + len) lies inside the guest RAM of mem. */
static inline bool in_ram(const struct guest_mem *mem, const void *p,
                          size_t len)
{
    const uint8_t *b = p, *base = mem->map;

    return b >= base && len <= RAM && (size_t)(b - base) <= RAM - len;
}

/* Guest RAM: the input after its header bytes, the rest zero, so nothing
 * of the previous input is left for this one. */
static inline void fuzz_ring_ram(struct guest_mem *mem, const uint8_t *data,
                                 size_t size, size_t header)
{
    size_t n = size - header < RAM ? size - header : RAM;

    memcpy(mem->map, data + header, n);
    memset((uint8_t *)mem->map + n, 0, RAM - n);
}

/*
 * The queue of header d, started on mem and moved to the header's indices
 * through vq_save/vq_restore, as a restored device would be. NULL when
 * vq_start refuses the registers (a ring outside RAM, a bad size): the
 * input is done then. One queue per target, reused for every input.
 */
static inline struct vq *fuzz_ring_start(const uint8_t *d,
                                         struct guest_mem *mem)
{
    static struct vq vq;
    struct vq_state st;
    uint64_t f = (d[2] & 1 ? 1ULL << VIRTIO_RING_F_INDIRECT_DESC : 0) |
                 (d[2] & 2 ? 1ULL << VIRTIO_RING_F_EVENT_IDX : 0);

    vq_init(&vq, 0);
    vq.num = d[0] & 0x80 ? d[1] : 1u << (d[0] & 15);
    vq.desc_gpa = get16(d + 4);
    vq.avail_gpa = get16(d + 6);
    vq.used_gpa = get16(d + 8);
    vq_set_features(&vq, f);
    if (vq_start(&vq, mem))
        return NULL;
    vq_save(&vq, &st);
    st.last_avail_idx = st.used_idx = st.signalled_used = get16(d + 10);
    if (vq_restore(&vq, mem, &st))
        abort();
    return &vq;
}

#endif
