/* vcon64.c: a 64-bit guest that drives kvmrun's virtio console over its
 * virtio-mmio registers, polling the rings (no interrupts). It says
 * "vcon: ready" on hvc0, and the first line typed there says what to do:
 *   echo     echoes every further line typed ("echo: LINE"); "quit" ends
 *   write N  writes N bytes to hvc0, then powers off (bench/ times it):
 *            4096-byte buffers 0, 1, ... of 512 lines "%07u\n" of their
 *            number, the last one cut short
 * It reports on the UART, and fails (debug exit) without a console.
 * (64-bit: paravirtualized KVM hosts emulate unpaged 32-bit code.) */
#include "guestlib.h"

#define VIRTIO_MMIO_NO_LEGACY
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

/* kvmrun's MMIO slots (src/arch/x86/pc.h): 4 KiB windows from here. */
#define SLOT_BASE 0xfeb00000u
#define SLOTS 8
#define QSIZE 8
#define BUFSZ 4096
#define RXQ 0
#define TXQ 1

/* One split ring, laid out as the spec's legacy alignment allows. */
struct ring {
    struct vring_desc desc[QSIZE];
    struct {
        uint16_t flags, idx, ring[QSIZE], used_event;
    } avail __attribute__((aligned(16)));
    struct {
        uint16_t flags, idx;
        struct vring_used_elem ring[QSIZE];
        uint16_t avail_event;
    } used __attribute__((aligned(16)));
    uint16_t last_used;
};

static struct ring rings[2] __attribute__((aligned(4096)));
static uint8_t bufs[2][QSIZE][BUFSZ] __attribute__((aligned(4096)));
static volatile uint8_t *win;

static uint32_t rd(uint32_t off)
{
    return *(volatile uint32_t *)(win + off);
}

static void wr(uint32_t off, uint32_t v)
{
    *(volatile uint32_t *)(win + off) = v;
}

static int find_console(void)
{
    for (unsigned i = 0; i < SLOTS; i++) {
        win = (volatile uint8_t *)(uintptr_t)(SLOT_BASE + i * 0x1000u);
        if (rd(VIRTIO_MMIO_MAGIC_VALUE) == 0x74726976 &&
            rd(VIRTIO_MMIO_VERSION) == 2 &&
            rd(VIRTIO_MMIO_DEVICE_ID) == VIRTIO_ID_CONSOLE)
            return 0;
    }
    return -1;
}

static void setup_queue(unsigned q)
{
    struct ring *r = &rings[q];

    wr(VIRTIO_MMIO_QUEUE_SEL, q);
    wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(uintptr_t)r->desc);
    wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
    wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)(uintptr_t)&r->avail);
    wr(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
    wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)(uintptr_t)&r->used);
    wr(VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
}

/* VERSION_1 only: no EVENT_IDX, no INDIRECT; then both queues. */
static int setup_device(void)
{
    uint32_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

    wr(VIRTIO_MMIO_STATUS, 0);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    wr(VIRTIO_MMIO_STATUS, s);
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, 0);
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, 1u << (VIRTIO_F_VERSION_1 - 32));
    s |= VIRTIO_CONFIG_S_FEATURES_OK;
    wr(VIRTIO_MMIO_STATUS, s);
    if (!(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK))
        return -1;
    setup_queue(RXQ);
    setup_queue(TXQ);
    wr(VIRTIO_MMIO_STATUS, s | VIRTIO_CONFIG_S_DRIVER_OK);
    return 0;
}

/* Makes buffer i of queue q (len bytes) available, and kicks. */
static void post(unsigned q, unsigned i, uint32_t len)
{
    struct ring *r = &rings[q];

    r->desc[i].addr = (uintptr_t)bufs[q][i];
    r->desc[i].len = len;
    r->desc[i].flags = q == RXQ ? VRING_DESC_F_WRITE : 0;
    r->desc[i].next = 0;
    r->avail.ring[r->avail.idx % QSIZE] = (uint16_t)i;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    __atomic_store_n(&r->avail.idx, (uint16_t)(r->avail.idx + 1),
                     __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

/* Waits for the next used buffer of queue q: its id; *len its length. */
static unsigned wait_used(unsigned q, uint32_t *len)
{
    struct ring *r = &rings[q];
    struct vring_used_elem *e;

    while (__atomic_load_n(&r->used.idx, __ATOMIC_ACQUIRE) == r->last_used)
        ;
    e = &r->used.ring[r->last_used % QSIZE];
    r->last_used++;
    if (len)
        *len = e->len;
    return e->id;
}

/* Text on hvc0 (one buffer, waited for: as Linux's hvc does). */
static void vcon_puts(const char *s)
{
    uint32_t n = 0;

    while (s[n] && n < BUFSZ) {
        bufs[TXQ][0][n] = (uint8_t)s[n];
        n++;
    }
    post(TXQ, 0, n);
    wait_used(TXQ, 0);
}

static char line[BUFSZ + 8], out[BUFSZ + 16];

/* hvc0 says "echo: " and the line. */
static void echo_line(unsigned n)
{
    unsigned o = 0;

    for (const char *p = "echo: "; *p; p++)
        out[o++] = *p;
    for (unsigned i = 0; i < n; i++)
        out[o++] = line[i];
    out[o++] = '\n';
    out[o] = '\0';
    vcon_puts(out);
}

/* The next line typed on hvc0 into line (without its end): its length.
 * One receive buffer, posted again once every byte in it is taken. */
static uint32_t rx_len, rx_pos;

static unsigned read_line(void)
{
    unsigned n = 0;

    for (;;) {
        while (rx_pos < rx_len) {
            char ch = (char)bufs[RXQ][0][rx_pos++];

            if (ch == '\n' || ch == '\r') {
                if (!n)
                    continue; /* \r\n, or an empty line */
                line[n] = '\0';
                return n;
            }
            if (n < BUFSZ - 16)
                line[n++] = ch;
        }
        post(RXQ, 0, BUFSZ);
        wait_used(RXQ, &rx_len);
        rx_pos = 0;
    }
}

static int echo(void)
{
    for (;;) {
        unsigned n = read_line();

        if (n == 4 && line[0] == 'q' && line[1] == 'u' && line[2] == 'i' &&
            line[3] == 't') {
            vcon_puts("echo: bye\n");
            return 0;
        }
        echo_line(n);
    }
}

/* Buffer k of the stream: 512 lines "%07u\n" of k (4096 bytes), made
 * with a few stores, as some hosts emulate every guest instruction. */
static void fill(uint8_t *buf, uint32_t k)
{
    char l[8];
    uint64_t v;

    for (int i = 6; i >= 0; i--, k /= 10)
        l[i] = (char)('0' + k % 10);
    l[7] = '\n';
    __builtin_memcpy(&v, l, 8);
    for (unsigned i = 0; i < BUFSZ / 8; i++)
        ((uint64_t *)buf)[i] = v;
}

/* N bytes of the stream (the last buffer cut short), QSIZE buffers in
 * flight. */
static int write_n(uint32_t total)
{
    uint32_t sent = 0, k = 0, inflight = 0;

    while (sent < total || inflight) {
        unsigned id;
        uint32_t n;

        if (sent < total && inflight < QSIZE) {
            id = inflight++;
        } else {
            id = wait_used(TXQ, 0);
            if (sent >= total) {
                inflight--;
                continue;
            }
        }
        fill(bufs[TXQ][id], k++);
        n = total - sent < BUFSZ ? total - sent : BUFSZ;
        sent += n;
        post(TXQ, id, n);
    }
    g_printf("vcon: wrote %u bytes\n", total);
    return 0;
}

static uint32_t parse_u32(const char *s)
{
    uint32_t v = 0;

    while (*s >= '0' && *s <= '9')
        v = v * 10 + (uint32_t)(*s++ - '0');
    return v;
}

int guest_main(unsigned long vcpu, unsigned long ncpus)
{
    (void)vcpu;
    (void)ncpus;
    if (find_console() < 0) {
        g_printf("vcon: no virtio console\n");
        g_exit(1);
    }
    if (setup_device() < 0) {
        g_printf("vcon: FEATURES_OK refused\n");
        g_exit(2);
    }
    g_printf("vcon: console at %x\n", (unsigned)(uintptr_t)win);
    vcon_puts("vcon: ready\n");
    read_line();
    if (line[0] == 'w' && line[1] == 'r' && line[2] == 'i' && line[3] == 't' &&
        line[4] == 'e' && line[5] == ' ')
        write_n(parse_u32(line + 6));
    else if (echo() != 0)
        g_exit(3);
    g_poweroff();
}
