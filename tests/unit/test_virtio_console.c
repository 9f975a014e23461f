/* test_virtio_console.c: unit tests of the virtio console
 * (src/virtio/console.c) behind the real virtio-mmio transport, on a real
 * I/O thread, its output into a pipe, driven as a guest driver would. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include "bus.h"
#include "iothread.h"
#include "kvmrun.h"
#include "le.h"
#include "mem.h"
#include "outbuf.h"
#include "virtio/console.h"
#include "virtio/mmio.h"
#include "vmmio_driver.h"
#include "vring_driver.h"

#define RAM (32ULL << 20)
#define WAIT_MS 20000
#define BIT64(n) (1ULL << (n))
#define NUM VCON_QUEUE_SIZE
#define RINGS(q) (0x10000ULL + (q)*0x10000ULL)
/* Buffers: slot i of queue q, 64 KiB each. */
#define BUF(q, i) (0x100000ULL + (q)*0x800000ULL + (i)*0x10000ULL)
#define BUF_MAX 0x10000u

struct fx {
    struct guest_mem mem;
    struct iothread io;
    struct vcon c;
    struct vmmio t;
    int irq;
    int pipe[2]; /* the console's output: [0] is the test's to read */
    unsigned nreports;
    char report[512];
    struct vdrv drv[VCON_NQUEUES];
    uint16_t last_used[VCON_NQUEUES];
    uint64_t features;
};

/* --- the machine -------------------------------------------------------- */

static void m_irq(void *machine)
{
    struct fx *fx = machine;
    uint64_t one = 1;

    assert_int_equal(write(fx->irq, &one, 8), 8);
}

static void m_report(void *machine, const char *line)
{
    struct fx *fx = machine;

    snprintf(fx->report, sizeof(fx->report), "%s", line);
    __atomic_fetch_add(&fx->nreports, 1, __ATOMIC_SEQ_CST);
}

static int spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
    return pthread_create(t, NULL, fn, arg);
}

/* --- the driver's registers --------------------------------------------- */

static void wr(struct fx *fx, uint64_t off, uint32_t v)
{
    vmdrv_wr(&fx->t, off, v);
}

static uint32_t rd(struct fx *fx, uint64_t off, unsigned size)
{
    return vmdrv_rd(&fx->t, off, size);
}

static uint64_t offered(struct fx *fx)
{
    return vmdrv_offered(&fx->t);
}

#define S_ACK VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRV (S_ACK | VIRTIO_CONFIG_S_DRIVER)
#define S_FOK (S_DRV | VIRTIO_CONFIG_S_FEATURES_OK)
#define S_OK (S_FOK | VIRTIO_CONFIG_S_DRIVER_OK)

/* Negotiates want and makes both queues ready, then DRIVER_OK. */
static void driver_setup(struct fx *fx, uint64_t want)
{
    fx->features = offered(fx) & want;
    vmdrv_negotiate(&fx->t, fx->features);
    for (unsigned q = 0; q < VCON_NQUEUES; q++) {
        vmdrv_queue(&fx->t, &fx->mem, &fx->drv[q], q, RINGS(q), NUM);
        fx->last_used[q] = 0;
    }
    wr(fx, VIRTIO_MMIO_STATUS, S_OK);
}

static uint8_t *at(struct fx *fx, uint64_t gpa, uint64_t len)
{
    uint8_t *p = mem_ptr(&fx->mem, gpa, len);

    assert_non_null(p);
    return p;
}

/* Posts slot i of queue q: one buffer of len bytes (device-writable on
 * the receive queue), as descriptor i. */
static void post(struct fx *fx, unsigned q, unsigned i, uint32_t len)
{
    vdrv_desc(&fx->drv[q], i, BUF(q, i), len,
              q == VCON_RXQ ? VRING_DESC_F_WRITE : 0, 0);
    vdrv_post(&fx->drv[q], (uint16_t)i);
}

/* Posts text on the transmit queue in slot i. */
static void send(struct fx *fx, unsigned i, const char *text)
{
    memcpy(at(fx, BUF(VCON_TXQ, i), strlen(text)), text, strlen(text));
    post(fx, VCON_TXQ, i, (uint32_t)strlen(text));
}

static void kick(struct fx *fx, unsigned q)
{
    vmdrv_kick(vcon_kick_fd(&fx->c, q));
}

/* Waits (interrupts, boundedly) until queue q's used index reaches want. */
static void wait_used(struct fx *fx, unsigned q, uint16_t want)
{
    vmdrv_expect_used(&fx->t, &fx->drv[q], fx->irq, q, want, WAIT_MS);
}

/* Reads exactly len bytes of the console's output, boundedly. */
static void read_out(struct fx *fx, uint8_t *buf, size_t len)
{
    uint64_t end = vmdrv_now_ms() + WAIT_MS;
    struct pollfd p = {fx->pipe[0], POLLIN, 0};
    size_t got = 0;

    while (got < len) {
        ssize_t n;

        if (vmdrv_now_ms() >= end)
            fail_msg("output: %zu of %zu bytes", got, len);
        if (poll(&p, 1, 100) != 1)
            continue;
        n = read(fx->pipe[0], buf + got, len - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
}

static void expect_out(struct fx *fx, const char *text)
{
    char buf[256] = {0};

    read_out(fx, (uint8_t *)buf, strlen(text));
    assert_string_equal(buf, text);
}

/* --- fixture ------------------------------------------------------------ */

static void fx_device(struct fx *fx, uint16_t cols, uint16_t rows)
{
    struct vcon_params p = {"vcon-test", &fx->io, fx->pipe[1], 0,    spawn,
                            cols,        rows,    m_report,    NULL, fx};
    struct vmmio_env env = {m_irq, NULL, m_report, fx};

    if (vcon_init(&fx->c, &p))
        fail_msg("vcon_init: %s", kvmrun_last_error());
    assert_int_equal(vmmio_init(&fx->t, vcon_dev(&fx->c), &env, &fx->mem), 0);
    vcon_attach(&fx->c, &fx->t);
}

static void fx_open(struct fx *fx, uint16_t cols, uint16_t rows)
{
    memset(fx, 0, sizeof(*fx));
    assert_int_equal(mem_init(&fx->mem, RAM), 0);
    assert_int_equal(pipe2(fx->pipe, O_CLOEXEC), 0);
    fx->irq = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    assert_int_equal(iothread_init(&fx->io, "test-con-io"), 0);
    assert_int_equal(iothread_start(&fx->io, NULL), 0);
    fx_device(fx, cols, rows);
}

static void fx_close_device(struct fx *fx)
{
    vmmio_fini(&fx->t);
    vcon_fini(&fx->c);
}

static void fx_close(struct fx *fx)
{
    /* Bounded first: nothing may keep the thread from parking. */
    assert_int_equal(iothread_pause(&fx->io, WAIT_MS), 0);
    iothread_resume(&fx->io);
    fx_close_device(fx);
    assert_int_equal(iothread_fini(&fx->io, WAIT_MS), 0);
    close(fx->pipe[0]);
    close(fx->pipe[1]);
    close(fx->irq);
    mem_fini(&fx->mem);
}

#define ALL (~0ULL)

/* --- tests -------------------------------------------------------------- */

static void test_config(void **state)
{
    struct fx fx;
    uint64_t f;

    (void)state;
    fx_open(&fx, 132, 43);
    assert_int_equal(rd(&fx, VIRTIO_MMIO_DEVICE_ID, 4), VIRTIO_ID_CONSOLE);
    f = offered(&fx);
    assert_true(f & BIT64(VIRTIO_F_VERSION_1));
    assert_true(f & BIT64(VIRTIO_CONSOLE_F_SIZE));
    assert_false(f & BIT64(VIRTIO_CONSOLE_F_MULTIPORT));
    assert_false(f & BIT64(VIRTIO_CONSOLE_F_EMERG_WRITE));
    assert_int_equal(
        rd(&fx,
           VIRTIO_MMIO_CONFIG + offsetof(struct virtio_console_config, cols),
           2),
        132);
    assert_int_equal(
        rd(&fx,
           VIRTIO_MMIO_CONFIG + offsetof(struct virtio_console_config, rows),
           2),
        43);
    vcon_resize(&fx.c, 80, 25);
    assert_int_equal(
        rd(&fx,
           VIRTIO_MMIO_CONFIG + offsetof(struct virtio_console_config, cols),
           2),
        80);
    assert_int_equal(rd(&fx, VIRTIO_MMIO_CONFIG_GENERATION, 4), 1);
    fx_close(&fx);

    /* No terminal: no size offered. */
    fx_open(&fx, 0, 0);
    assert_false(offered(&fx) & BIT64(VIRTIO_CONSOLE_F_SIZE));
    fx_close(&fx);
}

/* The transmit queue's buffers reach the output, in order, and come back
 * used; with and without the ring features. */
static void check_transmit(uint64_t want)
{
    struct fx fx;
    uint32_t id, len;

    fx_open(&fx, 0, 0);
    driver_setup(&fx, want);
    send(&fx, 0, "hello, ");
    send(&fx, 1, "hvc0\n");
    kick(&fx, VCON_TXQ);
    wait_used(&fx, VCON_TXQ, 2);
    expect_out(&fx, "hello, hvc0\n");
    vdrv_used_elem(&fx.drv[VCON_TXQ], 1, &id, &len);
    assert_int_equal(id, 1);
    assert_int_equal(len, 0);
    /* Two segments in one chain. */
    memcpy(at(&fx, BUF(VCON_TXQ, 2), 3), "abc", 3);
    memcpy(at(&fx, BUF(VCON_TXQ, 3), 3), "def", 3);
    vdrv_desc(&fx.drv[VCON_TXQ], 2, BUF(VCON_TXQ, 2), 3, VRING_DESC_F_NEXT, 3);
    vdrv_desc(&fx.drv[VCON_TXQ], 3, BUF(VCON_TXQ, 3), 3, 0, 0);
    vdrv_post(&fx.drv[VCON_TXQ], 2);
    kick(&fx, VCON_TXQ);
    wait_used(&fx, VCON_TXQ, 3);
    expect_out(&fx, "abcdef");
    assert_int_equal(fx.nreports, 0);
    fx_close(&fx);
}

static void test_transmit(void **state)
{
    (void)state;
    check_transmit(ALL);
    check_transmit(
        ~(BIT64(VIRTIO_RING_F_EVENT_IDX) | BIT64(VIRTIO_RING_F_INDIRECT_DESC)));
}

/* Typed bytes wait for receive buffers (typed before the driver is
 * there, too), fill them in order and are never lost; what the ring
 * cannot hold is refused, for the caller to offer again. */
static void test_receive(void **state)
{
    struct fx fx;
    uint8_t big[VCON_INPUT_SIZE + 100];
    uint32_t id, len;

    (void)state;
    fx_open(&fx, 0, 0);
    assert_int_equal(vcon_input(&fx.c, (const uint8_t *)"early ", 6), 6);
    driver_setup(&fx, ALL);
    /* Nothing posted yet: the input waits. */
    usleep(20000);
    assert_int_equal(vdrv_used_idx(&fx.drv[VCON_RXQ]), 0);
    post(&fx, VCON_RXQ, 0, 4);
    post(&fx, VCON_RXQ, 1, 64);
    kick(&fx, VCON_RXQ);
    wait_used(&fx, VCON_RXQ, 2);
    vdrv_used_elem(&fx.drv[VCON_RXQ], 0, &id, &len);
    assert_int_equal(id, 0);
    assert_int_equal(len, 4);
    assert_memory_equal(at(&fx, BUF(VCON_RXQ, 0), 4), "earl", 4);
    vdrv_used_elem(&fx.drv[VCON_RXQ], 1, &id, &len);
    assert_int_equal(len, 2);
    assert_memory_equal(at(&fx, BUF(VCON_RXQ, 1), 2), "y ", 2);
    /* A buffer posted and waiting (as Linux keeps them): the I/O thread
     * is idle (it pauses), and typing fills the buffer at once. */
    post(&fx, VCON_RXQ, 2, 64);
    kick(&fx, VCON_RXQ);
    usleep(20000);
    assert_int_equal(iothread_pause(&fx.io, 2000), 0);
    iothread_resume(&fx.io);
    assert_int_equal(vdrv_used_idx(&fx.drv[VCON_RXQ]), 2);
    assert_int_equal(vcon_input(&fx.c, (const uint8_t *)"ls\r", 3), 3);
    wait_used(&fx, VCON_RXQ, 3);
    vdrv_used_elem(&fx.drv[VCON_RXQ], 2, &id, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(at(&fx, BUF(VCON_RXQ, 2), 3), "ls\r", 3);
    /* More than the ring: the rest is refused, none dropped. */
    for (unsigned i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)i;
    assert_int_equal(vcon_input(&fx.c, big, sizeof(big)), VCON_INPUT_SIZE);
    assert_int_equal(vcon_input(&fx.c, big, 1), 0);
    post(&fx, VCON_RXQ, 3, VCON_INPUT_SIZE);
    kick(&fx, VCON_RXQ);
    wait_used(&fx, VCON_RXQ, 4);
    assert_memory_equal(at(&fx, BUF(VCON_RXQ, 3), VCON_INPUT_SIZE), big,
                        VCON_INPUT_SIZE);
    assert_int_equal(vcon_input(&fx.c, big + VCON_INPUT_SIZE, 100), 100);
    fx_close(&fx);
}

/* A reader that takes nothing: the transmitter leaves the guest's
 * buffers on the queue (no thread of ours blocks: the I/O thread still
 * pauses at once), and once the reader comes back every byte arrives,
 * in order, each buffer used once. */
static void test_slow_reader(void **state)
{
    enum { SLOTS = 6, LEN = 60000 };
    static uint8_t want[SLOTS * LEN], got[SLOTS * LEN];
    struct vcon_state st;
    struct fx fx;
    uint16_t used;

    (void)state;
    fx_open(&fx, 0, 0);
    driver_setup(&fx, ALL);
    for (unsigned i = 0; i < sizeof(want); i++)
        want[i] = (uint8_t)(i * 31 + i / 977);
    for (unsigned i = 0; i < SLOTS; i++) {
        memcpy(at(&fx, BUF(VCON_TXQ, i), LEN), want + i * LEN, LEN);
        post(&fx, VCON_TXQ, i, LEN);
    }
    kick(&fx, VCON_TXQ);
    /* 64 KiB in the pipe, 64 KiB in the ring: not all of 360 KB. */
    usleep(200000);
    used = vdrv_used_idx(&fx.drv[VCON_TXQ]);
    assert_true(used < SLOTS);
    assert_int_equal(iothread_pause(&fx.io, 2000), 0);
    vcon_save(&fx.c, &st);
    assert_true(st.tx_skip > 0); /* a chain partly out, given back */
    assert_int_equal(vdrv_used_idx(&fx.drv[VCON_TXQ]), used);
    iothread_resume(&fx.io);
    read_out(&fx, got, sizeof(got));
    assert_memory_equal(got, want, sizeof(want));
    wait_used(&fx, VCON_TXQ, SLOTS);
    assert_true(fx.c.tx_waits > 0);
    assert_int_equal(fx.nreports, 0);
    fx_close(&fx);
}

struct reader {
    int fd;
    uint8_t *buf;
    size_t len, got;
};

/* Reads len bytes (or gives up after WAIT_MS), on a thread of its own. */
static void *reader(void *arg)
{
    struct reader *r = arg;
    struct pollfd p = {r->fd, POLLIN, 0};
    uint64_t end = vmdrv_now_ms() + WAIT_MS;

    while (r->got < r->len && vmdrv_now_ms() < end) {
        ssize_t n;

        if (poll(&p, 1, 100) != 1)
            continue;
        n = read(r->fd, r->buf + r->got, r->len - r->got);
        if (n <= 0)
            break;
        r->got += (size_t)n;
    }
    return NULL;
}

/* A snapshot of a console with a chain half out and input held: the
 * restored one writes the rest of the chain (nothing twice) and hands
 * the input over. */
static void test_snapshot(void **state)
{
    enum { LEN = 200000 };
    static uint8_t want[LEN], got[LEN];
    struct vmmio_state ts;
    struct vcon_state st;
    struct fx fx;
    struct reader r;
    pthread_t th;
    size_t first;
    char why[128];

    (void)state;
    fx_open(&fx, 0, 0);
    driver_setup(&fx, ALL);
    for (unsigned i = 0; i < LEN; i++)
        want[i] = (uint8_t)(i * 7 + i / 1000);
    /* One chain of four segments, bigger than the ring and the pipe. */
    for (unsigned i = 0; i < 4; i++) {
        memcpy(at(&fx, BUF(VCON_TXQ, i), LEN / 4), want + i * (LEN / 4),
               LEN / 4);
        vdrv_desc(&fx.drv[VCON_TXQ], i, BUF(VCON_TXQ, i), LEN / 4,
                  i < 3 ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
    }
    vdrv_post(&fx.drv[VCON_TXQ], 0);
    kick(&fx, VCON_TXQ);
    assert_int_equal(vcon_input(&fx.c, (const uint8_t *)"held", 4), 4);
    usleep(200000);
    /* Paused until the old device is gone: what it put out is tx_skip. */
    assert_int_equal(iothread_pause(&fx.io, 2000), 0);
    vmmio_save(&fx.t, &ts);
    vcon_save(&fx.c, &st);
    assert_int_equal(st.in_count, 4);
    assert_true(st.tx_skip > 0 && st.tx_skip < LEN);
    assert_int_equal(vdrv_used_idx(&fx.drv[VCON_TXQ]), 0);
    assert_int_equal(vcon_check(&st, why, sizeof(why)), 0);
    /* The saving process writes what it took, at its exit: a reader. */
    first = st.tx_skip;
    r = (struct reader){fx.pipe[0], got, first, 0};
    assert_int_equal(pthread_create(&th, NULL, reader, &r), 0);
    fx_close_device(&fx);
    pthread_join(th, NULL);
    assert_int_equal(r.got, first);
    assert_memory_equal(got, want, first);
    iothread_resume(&fx.io);

    fx_device(&fx, 0, 0);
    vcon_load(&fx.c, &st);
    assert_int_equal(vmmio_restore(&fx.t, &ts), 0);
    read_out(&fx, got + first, LEN - first);
    assert_memory_equal(got, want, LEN);
    wait_used(&fx, VCON_TXQ, 1);
    post(&fx, VCON_RXQ, 0, 16);
    kick(&fx, VCON_RXQ);
    wait_used(&fx, VCON_RXQ, 1);
    assert_memory_equal(at(&fx, BUF(VCON_RXQ, 0), 4), "held", 4);

    st.in_count = VCON_INPUT_SIZE + 1;
    assert_int_equal(vcon_check(&st, why, sizeof(why)), -EINVAL);
    fx_close(&fx);
}

/* A receive buffer the device cannot write, and a looping chain: the
 * device needs a reset, says so, and serves again after one. */
static void test_malformed(void **state)
{
    struct fx fx;

    (void)state;
    fx_open(&fx, 0, 0);
    driver_setup(&fx, ALL);
    vdrv_desc(&fx.drv[VCON_RXQ], 0, BUF(VCON_RXQ, 0), 8, 0, 0);
    vdrv_post(&fx.drv[VCON_RXQ], 0);
    kick(&fx, VCON_RXQ);
    assert_int_equal(vcon_input(&fx.c, (const uint8_t *)"x", 1), 1);
    for (uint64_t end = vmdrv_now_ms() + WAIT_MS;
         !__atomic_load_n(&fx.nreports, __ATOMIC_SEQ_CST) &&
         vmdrv_now_ms() < end;)
        usleep(1000);
    assert_non_null(strstr(fx.report, "no device-writable byte"));
    assert_true(rd(&fx, VIRTIO_MMIO_STATUS, 4) & VIRTIO_CONFIG_S_NEEDS_RESET);

    /* After a reset: a chain that loops. */
    driver_setup(&fx, ALL);
    fx.nreports = 0;
    vdrv_desc(&fx.drv[VCON_TXQ], 0, BUF(VCON_TXQ, 0), 8, VRING_DESC_F_NEXT, 1);
    vdrv_desc(&fx.drv[VCON_TXQ], 1, BUF(VCON_TXQ, 1), 8, VRING_DESC_F_NEXT, 0);
    vdrv_post(&fx.drv[VCON_TXQ], 0);
    kick(&fx, VCON_TXQ);
    for (uint64_t end = vmdrv_now_ms() + WAIT_MS;
         !__atomic_load_n(&fx.nreports, __ATOMIC_SEQ_CST) &&
         vmdrv_now_ms() < end;)
        usleep(1000);
    assert_non_null(strstr(fx.report, "loop"));

    /* The input typed before is still there for the next driver. */
    driver_setup(&fx, ALL);
    post(&fx, VCON_RXQ, 0, 8);
    kick(&fx, VCON_RXQ);
    wait_used(&fx, VCON_RXQ, 1);
    assert_memory_equal(at(&fx, BUF(VCON_RXQ, 0), 1), "x", 1);
    fx_close(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),   cmocka_unit_test(test_transmit),
        cmocka_unit_test(test_receive),  cmocka_unit_test(test_slow_reader),
        cmocka_unit_test(test_snapshot), cmocka_unit_test(test_malformed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
