/* mb_vcon.c: a multiboot guest that drives kvmrun's virtio console over
 * its virtio-mmio registers, polling the rings (no interrupts). Its
 * command line picks what it does:
 *   echo     says "vcon: ready" on hvc0, then echoes every line typed
 *            ("echo: LINE"); "quit" powers off
 *   write N  writes N bytes to hvc0 as 8-byte lines "%07u\n" (0, 1, ...;
 *            the last one cut short), then powers off; bench/ times it
 * It reports on the UART, and fails (debug exit) without a console. */
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

struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
};

int mb_main(uint32_t magic, const struct mb_info *mb);

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

    r->desc[i].addr = (uint32_t)(uintptr_t)bufs[q][i];
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
        __asm__ volatile("pause");
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

static int echo(void)
{
    unsigned n = 0;
    uint32_t len;

    vcon_puts("vcon: ready\n");
    post(RXQ, 0, BUFSZ);
    for (;;) {
        unsigned id = wait_used(RXQ, &len);

        for (uint32_t k = 0; k < len; k++) {
            char ch = (char)bufs[RXQ][id][k];

            if (ch != '\n' && ch != '\r') {
                if (n < BUFSZ - 16)
                    line[n++] = ch;
                continue;
            }
            line[n] = '\0';
            if (n == 4 && line[0] == 'q' && line[1] == 'u' && line[2] == 'i' &&
                line[3] == 't') {
                vcon_puts("echo: bye\n");
                return 0;
            }
            echo_line(n);
            n = 0;
        }
        post(RXQ, id, BUFSZ);
    }
}

/* "%07u\n" of v into p. */
static void fmt_line(char *p, uint32_t v)
{
    for (int i = 6; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    p[7] = '\n';
}

/* N bytes as numbered lines, QSIZE buffers in flight. */
static int write_n(uint32_t total)
{
    uint32_t sent = 0, line = 0, inflight = 0;
    char tmp[8];

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
        for (n = 0; n < BUFSZ && sent < total; n++, sent++) {
            if (sent % 8 == 0)
                fmt_line(tmp, line++);
            bufs[TXQ][id][n] = (uint8_t)tmp[sent % 8];
        }
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

/* The word after the image's path: echo, or write N. */
static const char *arg(const struct mb_info *mb)
{
    const char *p = (const char *)(uintptr_t)mb->cmdline;

    if (!(mb->flags & 4) || !p)
        return "";
    while (*p && *p != ' ')
        p++;
    while (*p == ' ')
        p++;
    return p;
}

int mb_main(uint32_t magic, const struct mb_info *mb)
{
    const char *a = arg(mb);

    (void)magic;
    if (find_console() < 0) {
        g_printf("vcon: no virtio console\n");
        return 1;
    }
    if (setup_device() < 0) {
        g_printf("vcon: FEATURES_OK refused\n");
        return 2;
    }
    g_printf("vcon: console at %x\n", (unsigned)(uintptr_t)win);
    if (a[0] == 'w' && a[1] == 'r' && a[2] == 'i' && a[3] == 't' &&
        a[4] == 'e' && a[5] == ' ')
        return write_n(parse_u32(a + 6));
    return echo();
}
