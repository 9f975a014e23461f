/*
 * virtio_blk64.c: drives the first virtio-mmio device (a virtio-blk disk
 * at 0xfeb00000) by hand, as a correct driver and as a hostile one.
 *
 * First a notify before any setup. Then, each on a freshly set up device:
 * a write of sector 1 (a pattern the host test checks in the image) and
 * its read back, a read of sector 0 (which the host filled); then a
 * looping chain, a buffer outside RAM, a zero-length buffer, a huge
 * length and a descriptor table outside RAM, each of which must put the
 * device in DEVICE_NEEDS_RESET (kvmrun reports each and stays up); and
 * after them all, the disk still works. Prints "virtio-blk: ok" and
 * powers off; a failed check exits through debug-exit with its number
 * (kvmrun's status (n << 1) | 1). Rings are polled: no interrupts.
 */
#include "guestlib.h"

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#define BASE 0xfeb00000u
#define QSIZE 8
#define SPINS 200000000u
/* The MMIO hole: never RAM. */
#define NOT_RAM 0xf0000000u

static struct vring_desc desc[QSIZE] __attribute__((aligned(16)));
static struct {
    uint16_t flags, idx, ring[QSIZE], used_event;
} avail __attribute__((aligned(2)));
static struct {
    uint16_t flags, idx;
    struct vring_used_elem ring[QSIZE];
    uint16_t avail_event;
} used __attribute__((aligned(4)));

static struct virtio_blk_outhdr hdr;
static uint8_t data[512];
static volatile uint8_t status;
static uint16_t next_avail;

static uint32_t rd(uint32_t off)
{
    return *(volatile uint32_t *)(uintptr_t)(BASE + off);
}

static void wr(uint32_t off, uint32_t v)
{
    *(volatile uint32_t *)(uintptr_t)(BASE + off) = v;
}

static void check(int ok, uint8_t code, const char *what)
{
    if (ok)
        return;
    g_printf("virtio-blk: check %u failed: %s\n", code, what);
    g_exit(code);
}

/* Resets and sets the device up to DRIVER_OK with queue 0 over the
 * given table address (the real one, or a hostile one). */
static void setup(uint32_t desc_addr)
{
    wr(VIRTIO_MMIO_STATUS, 0);
    check(rd(VIRTIO_MMIO_STATUS) == 0, 10, "reset");
    wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    wr(VIRTIO_MMIO_STATUS,
       VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, 0);
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 (bit 32) only */
    wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
                               VIRTIO_CONFIG_S_DRIVER |
                               VIRTIO_CONFIG_S_FEATURES_OK);
    check(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK, 11,
          "FEATURES_OK");
    wr(VIRTIO_MMIO_QUEUE_SEL, 0);
    check(rd(VIRTIO_MMIO_QUEUE_NUM_MAX) >= QSIZE, 12, "queue size");
    wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, desc_addr);
    wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
    wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)(uintptr_t)&avail);
    wr(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
    wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)(uintptr_t)&used);
    wr(VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
    avail.idx = avail.flags = 0;
    used.idx = 0;
    next_avail = 0;
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    wr(VIRTIO_MMIO_STATUS,
       VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
           VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

static void set_desc(unsigned i, uint32_t addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
    desc[i].addr = addr;
    desc[i].len = len;
    desc[i].flags = flags;
    desc[i].next = next;
}

/* Makes chain head available and notifies queue 0. */
static void submit(uint16_t head)
{
    avail.ring[next_avail % QSIZE] = head;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    avail.idx = ++next_avail;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

/* Waits for the device to return what was submitted: 1, or 0 on a
 * (bounded) wait in vain. */
static int wait_used(void)
{
    for (uint32_t i = 0; i < SPINS; i++) {
        if (*(volatile uint16_t *)&used.idx == next_avail)
            return 1;
        __asm__ volatile("pause");
    }
    return 0;
}

static int wait_needs_reset(void)
{
    for (uint32_t i = 0; i < SPINS; i++) {
        if (rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET)
            return 1;
        __asm__ volatile("pause");
    }
    return 0;
}

/* A request of type on sector through the usual three descriptors. */
static void request(uint32_t type, uint64_t sector, uint8_t code)
{
    hdr.type = type;
    hdr.ioprio = 0;
    hdr.sector = sector;
    status = 0xff;
    set_desc(0, (uint32_t)(uintptr_t)&hdr, sizeof(hdr), VRING_DESC_F_NEXT, 1);
    set_desc(1, (uint32_t)(uintptr_t)data, sizeof(data),
             VRING_DESC_F_NEXT |
                 (type == VIRTIO_BLK_T_IN ? VRING_DESC_F_WRITE : 0),
             2);
    set_desc(2, (uint32_t)(uintptr_t)&status, 1, VRING_DESC_F_WRITE, 0);
    submit(0);
    check(wait_used(), code, "request returned");
    check(status == VIRTIO_BLK_S_OK, code, "request status OK");
}

/* Sector 1 gets "kvmrun sector 1 " over and over; sector 0 holds the
 * host's "host sector 0 .." pattern. */
static void happy_path(uint8_t code)
{
    static const char pat[] = "kvmrun sector 1 ";
    static const char host[] = "host sector 0 ..";

    setup((uint32_t)(uintptr_t)desc);
    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)pat[i % 16];
    request(VIRTIO_BLK_T_OUT, 1, code);
    request(VIRTIO_BLK_T_FLUSH, 0, code + 1);
    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = 0;
    request(VIRTIO_BLK_T_IN, 1, code + 2);
    for (unsigned i = 0; i < sizeof(data); i++)
        check(data[i] == (uint8_t)pat[i % 16], code + 3, "sector 1 read back");
    request(VIRTIO_BLK_T_IN, 0, code + 4);
    for (unsigned i = 0; i < sizeof(data); i++)
        check(data[i] == (uint8_t)host[i % 16], code + 5, "sector 0 read");
}

/* One hostile chain: the device must need a reset. */
static void hostile(const char *what, uint8_t code)
{
    submit(0);
    check(wait_needs_reset(), code, what);
    g_printf("virtio-blk: %s: needs reset\n", what);
}

int guest_main(unsigned long vcpu, unsigned long ncpus)
{
    (void)vcpu;
    (void)ncpus;
    check(rd(VIRTIO_MMIO_MAGIC_VALUE) == 0x74726976, 1, "magic");
    check(rd(VIRTIO_MMIO_VERSION) == 2, 2, "version 2");
    check(rd(VIRTIO_MMIO_DEVICE_ID) == 2, 3, "a block device");
    /* Before any setup: ignored (and reported). */
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    happy_path(20);

    setup((uint32_t)(uintptr_t)desc);
    set_desc(0, (uint32_t)(uintptr_t)&hdr, sizeof(hdr), VRING_DESC_F_NEXT, 1);
    set_desc(1, (uint32_t)(uintptr_t)data, sizeof(data), VRING_DESC_F_NEXT, 0);
    hostile("looping chain", 30);

    setup((uint32_t)(uintptr_t)desc);
    set_desc(0, NOT_RAM, 16, 0, 0);
    hostile("buffer outside RAM", 31);

    setup((uint32_t)(uintptr_t)desc);
    set_desc(0, (uint32_t)(uintptr_t)&hdr, 0, 0, 0);
    hostile("zero-length buffer", 32);

    setup((uint32_t)(uintptr_t)desc);
    set_desc(0, (uint32_t)(uintptr_t)&hdr, 0xffffffffu, 0, 0);
    hostile("huge length", 33);

    /* A descriptor table outside RAM: refused when the queue is made
     * ready (it reads back 0), before any notify. */
    setup(NOT_RAM);
    check(wait_needs_reset(), 34, "descriptor table outside RAM");
    wr(VIRTIO_MMIO_QUEUE_SEL, 0);
    check(rd(VIRTIO_MMIO_QUEUE_READY) == 0, 35, "queue not ready");
    g_printf("virtio-blk: descriptor table outside RAM: needs reset\n");

    happy_path(40);
    g_printf("virtio-blk: ok\n");
    g_poweroff();
}
