/*
 * fuzz_virtqueue.c: libFuzzer target for the split virtqueue walker
 * (src/virtio/virtqueue.c). Each input is a queue's registers and the
 * guest's RAM: the queue pops and pushes until it is empty or refuses the
 * ring, and every answer is checked against guest RAM's bounds. Used ring
 * writes may land on the descriptors or the available ring (the input
 * places the three areas anywhere), so a ring can change under the walk.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kvmrun.h"
#include "mem.h"
#include "virtio/virtqueue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM (64 * 1024)
#define MAX_SEGS 64
#define HEADER 12
/* Pops per input: more than a queue that fits in RAM can hold at once;
 * a ring that the used writes keep refilling stops here. */
#define MAX_POPS 512

#include "fuzz_ring.h"

/*
 * Input: 12 bytes of header, then guest RAM from address 0 (the rest of
 * RAM is zero).
 *   0     queue size: 1 << (b & 15), or byte 1 itself if bit 7 is set
 *   2     bit 0 INDIRECT_DESC, bit 1 EVENT_IDX
 *   3     segments the device takes: 1 + b % MAX_SEGS
 *   4-9   descriptor table, available ring, used ring: 16-bit addresses
 *   10-11 the indices to start from (through vq_restore)
 */
static struct guest_mem mem;
static uint8_t *before; /* RAM before a pop, to check a refusal wrote none */

/* A refusal: a known code, one line naming the queue, nothing written,
 * and every later pop refused too. */
static void check_refusal(struct vq *vq, struct vq_chain *c, int rc)
{
    const char *msg = kvmrun_last_error();

    if (rc != -EINVAL && rc != -EFAULT && rc != -ELOOP && rc != -E2BIG &&
        rc != -EOVERFLOW)
        abort();
    if (strncmp(msg, "queue 0: ", 9) || strchr(msg, '\n'))
        abort();
    if (memcmp(before, mem.map, RAM))
        abort();
    if (vq_pop(vq, c) != -EIO)
        abort();
}

/* An accepted chain: within bounds and consistent. */
static void check_chain(const struct vq *vq, const struct vq_chain *c)
{
    uint64_t rd = 0, wr = 0;

    if (c->head >= vq->num || c->nread + c->nwrite > c->cap)
        abort();
    for (unsigned i = 0; i < c->nread + c->nwrite; i++) {
        if (c->iov[i].iov_len == 0 ||
            !in_ram(&mem, c->iov[i].iov_base, c->iov[i].iov_len))
            abort();
        *(i < c->nread ? &rd : &wr) += c->iov[i].iov_len;
    }
    if (rd != c->read_len || wr != c->write_len || rd + wr > (1ULL << 32))
        abort();
}

/* Pops and pushes back until the queue is empty or broken. */
static void run(struct vq *vq, unsigned cap)
{
    struct iovec iov[MAX_SEGS];
    struct vq_chain c = {.iov = iov, .cap = cap};
    int rc;

    for (unsigned n = 0; n < MAX_POPS; n++) {
        memcpy(before, mem.map, RAM);
        rc = vq_pop(vq, &c);
        if (rc < 0) {
            check_refusal(vq, &c, rc);
            return;
        }
        /* Empty: ask for a kick, which may write over the ring. */
        if (rc == 0) {
            if (!vq_enable_notify(vq))
                return;
            continue;
        }
        check_chain(vq, &c);
        if (vq_push(vq, c.head, (uint32_t)c.write_len))
            abort();
        vq_need_notify(vq);
        vq_disable_notify(vq);
    }
}

/* Save and restore give back the same queue. */
static void check_save(const struct vq *vq)
{
    struct vq_state a, b;
    struct vq copy;

    vq_save(vq, &a);
    vq_init(&copy, 0);
    if (vq_restore(&copy, &mem, &a))
        abort();
    vq_save(&copy, &b);
    if (memcmp(&a, &b, sizeof(a)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vq *vq;

    if (!mem.map && (mem_init(&mem, RAM) || !(before = malloc(RAM))))
        abort();
    if (size < HEADER)
        return 0;
    fuzz_ring_ram(&mem, data, size, HEADER);
    vq = fuzz_ring_start(data, &mem);
    if (!vq)
        return 0;
    run(vq, 1 + data[3] % MAX_SEGS);
    check_save(vq);
    return 0;
}
