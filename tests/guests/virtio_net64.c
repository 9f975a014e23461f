/*
 * virtio_net64.c: drives the first virtio-mmio device (a virtio-net
 * device at 0xfeb00000, on a tap the host test put 10.0.2.1/24 on) by
 * hand, polling its rings (no interrupts).
 *
 * 1. Without MRG_RXBUF: posts receive buffers, sends an ARP request for
 *    10.0.2.1 and waits for the host kernel's reply (num_buffers 1).
 * 2. Hostile transmits, each of which must come back used (dropped and
 *    counted by kvmrun, which reports it and stays up): hdr_len past the
 *    frame, a UDP GSO type (not offered), NEEDS_CSUM without CSUM
 *    negotiated, a frame longer than 64 KiB, a chain shorter than the
 *    header. Then the ARP exchange works again.
 * 3. With MRG_RXBUF and 32-byte receive buffers: the reply is spread
 *    over several, num_buffers says how many.
 * Prints "virtio-net: ok" and powers off; a failed check exits through
 * debug-exit with its number (kvmrun's status (n << 1) | 1).
 *
 * Built with VNET_LOOP (virtio_net_loop64.c, for snapshots): after the
 * first exchange, ARP exchanges forever, "virtio-net: round N" every 16,
 * each round checking that the device's MAC is still the first one read.
 */
#include "guestlib.h"

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#define BASE 0xfeb00000u
#define QSIZE 16
#define SPINS 400000000u
/* A receive wait: short, so that a request is sent again soon. The host
 * drops the first replies while the tap's carrier comes up (the kernel's
 * linkwatch activates the tap's queue up to a second after kvmrun
 * attaches it). */
#define RX_SPINS 20000000u
#define BUF 2048
#define SMALL 32

struct ring {
    struct vring_desc desc[QSIZE] __attribute__((aligned(16)));
    struct {
        uint16_t flags, idx, ring[QSIZE], used_event;
    } avail __attribute__((aligned(2)));
    struct {
        uint16_t flags, idx;
        struct vring_used_elem ring[QSIZE];
        uint16_t avail_event;
    } used __attribute__((aligned(4)));
    uint16_t next_avail, last_used;
};

static struct ring rxr, txr;
static uint8_t rxbuf[QSIZE][BUF];
static uint8_t txbuf[BUF];
static uint8_t big[70000];
static uint8_t mac[6];
static const uint8_t host_ip[4] = {10, 0, 2, 1};
static const uint8_t guest_ip[4] = {10, 0, 2, 15};

static uint32_t rd(uint32_t off)
{
    return *(volatile uint32_t *)(uintptr_t)(BASE + off);
}

static uint8_t rd8(uint32_t off)
{
    return *(volatile uint8_t *)(uintptr_t)(BASE + off);
}

static void wr(uint32_t off, uint32_t v)
{
    *(volatile uint32_t *)(uintptr_t)(BASE + off) = v;
}

static void check(int ok, uint8_t code, const char *what)
{
    if (ok)
        return;
    g_printf("virtio-net: check %u failed: %s\n", code, what);
    g_exit(code);
}

static void fill(void *d, uint8_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        ((uint8_t *)d)[i] = v;
}

static void copy(void *d, const void *s, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        ((uint8_t *)d)[i] = ((const uint8_t *)s)[i];
}

static int same(const void *a, const void *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (((const uint8_t *)a)[i] != ((const uint8_t *)b)[i])
            return 0;
    return 1;
}

static void queue(unsigned q, struct ring *r)
{
    fill(r, 0, sizeof(*r));
    wr(VIRTIO_MMIO_QUEUE_SEL, q);
    check(rd(VIRTIO_MMIO_QUEUE_NUM_MAX) >= QSIZE, 12, "queue size");
    wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(uintptr_t)r->desc);
    wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
    wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)(uintptr_t)&r->avail);
    wr(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
    wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)(uintptr_t)&r->used);
    wr(VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
}

/* Resets the device and sets it up with features (bits 0-31) and
 * VERSION_1, both queues. */
static void setup(uint32_t features)
{
    wr(VIRTIO_MMIO_STATUS, 0);
    check(rd(VIRTIO_MMIO_STATUS) == 0, 10, "reset");
    wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    wr(VIRTIO_MMIO_STATUS,
       VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, features);
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 (bit 32) */
    wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
                               VIRTIO_CONFIG_S_DRIVER |
                               VIRTIO_CONFIG_S_FEATURES_OK);
    check(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK, 11,
          "FEATURES_OK");
    queue(0, &rxr);
    queue(1, &txr);
    wr(VIRTIO_MMIO_STATUS,
       VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
           VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

static void make_avail(unsigned q, struct ring *r, uint16_t head)
{
    r->avail.ring[r->next_avail % QSIZE] = head;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    r->avail.idx = ++r->next_avail;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

/* Waits for the next used element of r: its index into the used ring,
 * or -1 after a bounded wait. */
static int next_used(struct ring *r, uint32_t spins)
{
    for (uint32_t i = 0; i < spins; i++) {
        if (*(volatile uint16_t *)&r->used.idx != r->last_used) {
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            return r->last_used++ % QSIZE;
        }
        __asm__ volatile("pause");
    }
    return -1;
}

/* Receive buffers of len bytes, one descriptor each. */
static void post_rx(unsigned len)
{
    for (uint16_t i = 0; i < QSIZE; i++) {
        rxr.desc[i].addr = (uint64_t)(uintptr_t)rxbuf[i];
        rxr.desc[i].len = len;
        rxr.desc[i].flags = VRING_DESC_F_WRITE;
        make_avail(0, &rxr, i);
    }
}

/* Sends hdr then len bytes of frame as one two-descriptor chain; waits
 * for it to come back. */
static void send(const struct virtio_net_hdr_v1 *hdr, unsigned hlen,
                 const void *frame, unsigned len, uint8_t code)
{
    txr.desc[0].addr = (uint64_t)(uintptr_t)hdr;
    txr.desc[0].len = hlen;
    txr.desc[0].flags = len ? VRING_DESC_F_NEXT : 0;
    txr.desc[0].next = 1;
    txr.desc[1].addr = (uint64_t)(uintptr_t)frame;
    txr.desc[1].len = len;
    txr.desc[1].flags = 0;
    make_avail(1, &txr, 0);
    check(next_used(&txr, SPINS) >= 0, code, "transmit returned");
}

/* An ARP request for 10.0.2.1 from 10.0.2.15 at mac. */
static unsigned arp_request(uint8_t *f)
{
    static const uint8_t head[] = {0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1};

    fill(f, 0xff, 6);
    copy(f + 6, mac, 6);
    copy(f + 12, head, sizeof(head));
    copy(f + 22, mac, 6);
    copy(f + 28, guest_ip, 4);
    fill(f + 32, 0, 6);
    copy(f + 38, host_ip, 4);
    return 42;
}

static int is_arp_reply(const uint8_t *f)
{
    return f[12] == 0x08 && f[13] == 0x06 && f[20] == 0 && f[21] == 2 &&
           same(f + 28, host_ip, 4) && same(f + 32, mac, 6) && same(f, mac, 6);
}

/* Gathers one received frame (num_buffers chains) into out; returns its
 * length and *nbuf, or 0 after a bounded wait. Buffers go back at once. */
static unsigned receive(uint8_t *out, unsigned *nbuf, uint8_t code)
{
    unsigned got = 0, want = 1;
    uint16_t num = 0;

    for (unsigned k = 0; k < want; k++) {
        int u = next_used(&rxr, k ? SPINS : RX_SPINS);
        uint32_t id, len;

        if (u < 0)
            return 0;
        id = rxr.used.ring[u].id;
        len = rxr.used.ring[u].len;
        check(id < QSIZE && len <= rxr.desc[id].len, code, "used element");
        if (k == 0) {
            num = ((struct virtio_net_hdr_v1 *)rxbuf[id])->num_buffers;
            check(num >= 1 && num <= QSIZE, code + 1, "num_buffers");
            want = num;
        }
        check(got + len <= BUF, code + 2, "frame size");
        copy(out + got, rxbuf[id], len);
        got += len;
        make_avail(0, &rxr, (uint16_t)id);
    }
    *nbuf = want;
    return got;
}

/* Sends ARP requests until a reply comes (a few tries: the first frames
 * may be the host's own). Returns the reply's num_buffers. */
static unsigned arp_exchange(uint8_t code)
{
    static struct virtio_net_hdr_v1 hdr;
    static uint8_t frame[BUF];

    for (unsigned tries = 0; tries < 100; tries++) {
        unsigned n = arp_request(txbuf), nbuf, len;

        fill(&hdr, 0, sizeof(hdr));
        send(&hdr, sizeof(hdr), txbuf, n, code);
        for (unsigned f = 0; f < 8; f++) {
            len = receive(frame, &nbuf, code + 1);
            if (!len)
                break;
            if (len >= sizeof(hdr) + 42 && is_arp_reply(frame + sizeof(hdr)))
                return nbuf;
        }
    }
    check(0, code + 5, "an ARP reply from 10.0.2.1");
    return 0;
}

static void hostile(struct virtio_net_hdr_v1 *h, const void *frame,
                    unsigned len, const char *what, uint8_t code)
{
    send(h, sizeof(*h), frame, len, code);
    g_printf("virtio-net: %s: dropped\n", what);
}

static void hostile_tx(void)
{
    static struct virtio_net_hdr_v1 h;
    unsigned n = arp_request(txbuf);

    fill(&h, 0, sizeof(h));
    h.hdr_len = 1000;
    hostile(&h, txbuf, n, "hdr_len past the frame", 40);
    fill(&h, 0, sizeof(h));
    h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
    h.gso_size = 100;
    hostile(&h, txbuf, n, "UDP GSO", 41);
    fill(&h, 0, sizeof(h));
    h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h.csum_start = 14;
    h.csum_offset = 16;
    hostile(&h, txbuf, n, "NEEDS_CSUM without CSUM", 42);
    fill(&h, 0, sizeof(h));
    arp_request(big);
    hostile(&h, big, sizeof(big), "a frame of 70000 bytes", 43);
    send(&h, 6, txbuf, 0, 44);
    g_printf("virtio-net: a chain shorter than the header: dropped\n");
}

int guest_main(unsigned long vcpu, unsigned long ncpus)
{
    unsigned nbuf;

    (void)vcpu;
    (void)ncpus;
    check(rd(VIRTIO_MMIO_MAGIC_VALUE) == 0x74726976, 1, "magic");
    check(rd(VIRTIO_MMIO_VERSION) == 2, 2, "version 2");
    check(rd(VIRTIO_MMIO_DEVICE_ID) == 1, 3, "a network device");
    check(rd(VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_NET_F_MAC), 4,
          "MAC offered");
    for (unsigned i = 0; i < 6; i++)
        mac[i] = rd8(VIRTIO_MMIO_CONFIG + i);
    check(rd8(VIRTIO_MMIO_CONFIG + 6) & VIRTIO_NET_S_LINK_UP, 5, "link up");
    g_printf("virtio-net: mac %x:%x:%x:%x:%x:%x\n", mac[0], mac[1], mac[2],
             mac[3], mac[4], mac[5]);

    setup(1u << VIRTIO_NET_F_MAC);
    post_rx(BUF);
    nbuf = arp_exchange(20);
    check(nbuf == 1, 27, "one buffer without MRG_RXBUF");
    g_printf("virtio-net: arp reply from 10.0.2.1\n");
#ifdef VNET_LOOP
    for (unsigned round = 1;; round++) {
        for (unsigned i = 0; i < 6; i++)
            check(rd8(VIRTIO_MMIO_CONFIG + i) == mac[i], 60, "the same MAC");
        arp_exchange(61);
        if (round % 16 == 0)
            g_printf("virtio-net: round %u\n", round);
    }
#endif

    hostile_tx();
    nbuf = arp_exchange(30);
    g_printf("virtio-net: arp reply after the hostile frames\n");

    setup(1u << VIRTIO_NET_F_MAC | 1u << VIRTIO_NET_F_MRG_RXBUF);
    post_rx(SMALL);
    nbuf = arp_exchange(50);
    check(nbuf >= 2, 57, "the reply spread over buffers");
    g_printf("virtio-net: arp reply in %u buffers of %u bytes\n", nbuf, SMALL);
    g_printf("virtio-net: ok\n");
    g_poweroff();
}
