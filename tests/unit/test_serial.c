/* test_serial.c: unit tests of the 16550A UART model and its output
 * buffer (src/outbuf.c), output to a pipe through the buffer's thread. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dev/serial.h"
#include "outbuf.h"

enum { THR, IER, IIR, LCR, MCR, LSR, MSR, SCR };
#define FCR IIR
#define RBR THR
#define DLL THR
#define DLM IER

/* A small ring for the backpressure tests: full after 64 bytes. */
#define SMALL_RING 64

struct fixture {
    int rd, wr; /* the pipe; the output thread writes to wr */
    struct outbuf out;
    struct serial uart;
    unsigned nreports; /* atomics: the output thread reports */
    char report[256];
    bool lock_held_in_report;
    int irq_level, nirqs; /* what env.irq was told last, how often */
};

static void no_end(void *machine, unsigned vcpu, enum kvmrun_end why,
                   uint64_t code, const char *message)
{
    (void)machine;
    (void)vcpu;
    (void)why;
    (void)code;
    fail_msg("the UART ended the VM: %s", message);
}

static void record_report(void *machine, const char *line)
{
    struct fixture *fx = machine;

    if (pthread_mutex_trylock(&fx->uart.lock) == 0)
        pthread_mutex_unlock(&fx->uart.lock);
    else
        fx->lock_held_in_report = true;
    snprintf(fx->report, sizeof(fx->report), "%s", line);
    __atomic_add_fetch(&fx->nreports, 1, __ATOMIC_SEQ_CST);
}

static void record_irq(void *machine, unsigned line, int level)
{
    struct fixture *fx = machine;

    assert_int_equal(line, 4);
    __atomic_store_n(&fx->irq_level, level, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&fx->nirqs, 1, __ATOMIC_SEQ_CST);
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits (2 s at most) until *v == want. */
static bool wait_int(int *v, int want)
{
    uint64_t end = now_ms() + 10000;

    while (__atomic_load_n(v, __ATOMIC_SEQ_CST) != want)
        if (now_ms() > end)
            return false;
        else
            usleep(1000);
    return true;
}

static struct fixture fixture;

/* The UART over a buffer of ring bytes, its thread running, writing to a
 * pipe of pipe_size bytes (0: the default) whose reader never blocks. */
static int make_fixture(void **state, size_t ring, int pipe_size)
{
    struct fixture *fx = &fixture;
    int p[2];

    memset(fx, 0, sizeof(*fx));
    if (pipe(p) || fcntl(p[0], F_SETFL, O_NONBLOCK))
        return -1;
    if (pipe_size && fcntl(p[1], F_SETPIPE_SZ, pipe_size) < 0)
        return -1;
    fx->rd = p[0];
    fx->wr = p[1];
    if (outbuf_init(&fx->out, "serial", fx->wr, ring, SERIAL_FIFO, 0,
                    &(struct outbuf_client){serial_tx_room, &fx->uart,
                                            record_report, fx}) < 0 ||
        pthread_create(&fx->out.thread, NULL, outbuf_thread, &fx->out))
        return -1;
    fx->out.thread_live = true;
    serial_init(&fx->uart, &fx->out, 4,
                &(struct dev_env){.end = no_end,
                                  .report = record_report,
                                  .irq = record_irq,
                                  .machine = fx});
    *state = fx;
    return 0;
}

static int setup(void **state)
{
    return make_fixture(state, OUTBUF_SIZE, 0);
}

/* A 64-byte ring into a one-page pipe. */
static int setup_small(void **state)
{
    return make_fixture(state, SMALL_RING, 4096);
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    outbuf_fini(&fx->out);
    serial_fini(&fx->uart);
    if (fx->rd >= 0)
        close(fx->rd);
    close(fx->wr);
    return 0;
}

static void io(struct serial *s, unsigned offset, uint8_t *data, unsigned size,
               bool write)
{
    struct bus_access a = {offset, data, size, write, 0};

    serial_io(s, &a);
}

static void out8(struct fixture *fx, unsigned reg, uint8_t v)
{
    io(&fx->uart, reg, &v, 1, true);
}

static uint8_t in8(struct fixture *fx, unsigned reg)
{
    uint8_t v = 0x5a;

    io(&fx->uart, reg, &v, 1, false);
    return v;
}

static void puts_thr(struct fixture *fx, const char *text)
{
    for (; *text; text++)
        out8(fx, THR, (uint8_t)*text);
}

/* Everything the UART sent, once the output thread wrote it to the pipe,
 * NUL-terminated; the pipe is then empty. */
static const char *drain(struct fixture *fx)
{
    static char buf[256];
    uint64_t held;
    ssize_t n;

    assert_int_equal(outbuf_flush(&fx->out, 2000, 5000, &held), 0);
    n = read(fx->rd, buf, sizeof(buf) - 1);
    if (n < 0 && errno == EAGAIN)
        n = 0;
    assert_true(n >= 0);
    buf[n] = 0;
    return buf;
}

/* Waits (2 s at most) for the output thread's nth report. */
static void wait_reports(struct fixture *fx, unsigned n)
{
    uint64_t end = now_ms() + 10000;

    while (__atomic_load_n(&fx->nreports, __ATOMIC_SEQ_CST) < n) {
        if (now_ms() > end)
            fail_msg("no report %u within 10 s", n);
        usleep(1000);
    }
}

static void test_thr_output_in_order(void **state)
{
    struct fixture *fx = *state;

    puts_thr(fx, "hello, ");
    puts_thr(fx, "world\n");
    assert_string_equal(drain(fx), "hello, world\n");
    assert_string_equal(drain(fx), "");
    assert_int_equal(fx->nreports, 0);
}

static void test_idle_registers(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(in8(fx, LSR), 0x60);
    assert_int_equal(in8(fx, IIR), 0x01);
    assert_int_equal(in8(fx, LCR), 0x03);
    assert_int_equal(in8(fx, IER), 0x00);
    assert_int_equal(in8(fx, MSR), 0xb0);
    assert_int_equal(in8(fx, RBR), 0x00); /* nothing received */
    assert_int_equal(in8(fx, LSR), 0x60);
}

static void test_divisor_latch(void **state)
{
    struct fixture *fx = *state;

    out8(fx, IER, 0x05);
    out8(fx, LCR, 0x83);
    assert_int_equal(in8(fx, DLL), 0x0c); /* 9600 baud at reset */
    assert_int_equal(in8(fx, DLM), 0x00);
    out8(fx, DLL, 0x01);
    out8(fx, DLM, 0x02);
    assert_string_equal(drain(fx), ""); /* not transmitted */
    assert_int_equal(in8(fx, DLL), 0x01);
    assert_int_equal(in8(fx, DLM), 0x02);
    assert_int_equal(in8(fx, LCR), 0x83);
    out8(fx, LCR, 0x03);
    assert_int_equal(in8(fx, IER), 0x05); /* IER untouched by DLM */
    out8(fx, THR, 'x');
    assert_string_equal(drain(fx), "x");
    out8(fx, LCR, 0x83);
    assert_int_equal(in8(fx, DLL), 0x01); /* latch kept */
    assert_int_equal(in8(fx, DLM), 0x02);
}

static void test_scratch_round_trip(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(in8(fx, SCR), 0x00);
    out8(fx, SCR, 0xa5);
    assert_int_equal(in8(fx, SCR), 0xa5);
    out8(fx, SCR, 0x5a);
    assert_int_equal(in8(fx, SCR), 0x5a);
    assert_string_equal(drain(fx), "");
}

static void test_loopback(void **state)
{
    struct fixture *fx = *state;

    out8(fx, MCR, 0x10);
    puts_thr(fx, "AB");
    assert_string_equal(drain(fx), ""); /* not on the wire */
    assert_int_equal(in8(fx, LSR), 0x61);
    assert_int_equal(in8(fx, RBR), 'A');
    assert_int_equal(in8(fx, LSR), 0x61);
    assert_int_equal(in8(fx, RBR), 'B');
    assert_int_equal(in8(fx, LSR), 0x60);
    out8(fx, MCR, 0x00);
    out8(fx, THR, 'C');
    assert_string_equal(drain(fx), "C");
    assert_int_equal(in8(fx, LSR), 0x60);
}

static void test_loopback_rx_interrupt_and_overrun(void **state)
{
    struct fixture *fx = *state;

    out8(fx, MCR, 0x10);
    out8(fx, IER, 0x01);
    assert_int_equal(in8(fx, IIR), 0x01);
    for (unsigned i = 0; i < SERIAL_FIFO + 4; i++)
        out8(fx, THR, (uint8_t)('a' + i));
    assert_int_equal(in8(fx, IIR), 0x04);
    for (unsigned i = 0; i < SERIAL_FIFO; i++)
        assert_int_equal(in8(fx, RBR), 'a' + i);
    /* The extra bytes were lost: overrun error (OE), cleared by reading. */
    assert_int_equal(in8(fx, LSR), 0x62);
    assert_int_equal(in8(fx, LSR), 0x60);
    assert_int_equal(in8(fx, IIR), 0x01);
    out8(fx, THR, 'z');
    out8(fx, FCR, 0x02); /* clear the receive FIFO */
    assert_int_equal(in8(fx, LSR), 0x60);
}

static void test_thri_once(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(in8(fx, IIR), 0x01);
    out8(fx, IER, 0x02);
    assert_int_equal(in8(fx, IER), 0x02);
    assert_int_equal(in8(fx, IIR), 0x02);
    assert_int_equal(in8(fx, IIR), 0x01);
    out8(fx, THR, '.');
    assert_int_equal(in8(fx, IIR), 0x02); /* THR empty again */
    assert_int_equal(in8(fx, IIR), 0x01);
    assert_string_equal(drain(fx), ".");
}

static void test_fifo_enable_sets_iir_top_bits(void **state)
{
    struct fixture *fx = *state;

    out8(fx, FCR, 0x01);
    assert_int_equal(in8(fx, IIR), 0xc1);
    out8(fx, IER, 0x02);
    assert_int_equal(in8(fx, IIR), 0xc2);
    assert_int_equal(in8(fx, IIR), 0xc1);
    out8(fx, FCR, 0x00);
    assert_int_equal(in8(fx, IIR), 0x01);
}

static void test_closed_pipe_reported_once(void **state)
{
    struct fixture *fx = *state;

    close(fx->rd);
    fx->rd = -1;
    out8(fx, THR, 'a');
    wait_reports(fx, 1);
    assert_string_equal(fx->report, "serial: cannot write output: Broken "
                                    "pipe; discarding further output");
    puts_thr(fx, "more output");
    usleep(20000);
    assert_int_equal(fx->nreports, 1);
    assert_int_equal(in8(fx, LSR), 0x60); /* still a working UART */
    out8(fx, SCR, 0x11);
    assert_int_equal(in8(fx, SCR), 0x11);
}

/* dev.h: devices call env.report without holding their own lock. */
static void test_report_without_device_lock(void **state)
{
    struct fixture *fx = *state;

    close(fx->rd);
    fx->rd = -1;
    out8(fx, THR, 'a');
    wait_reports(fx, 1);
    if (fx->lock_held_in_report)
        fail_msg("env.report was called with the UART lock held "
                 "(dev.h: devices call it without their own lock)");
}

static void test_two_byte_accesses(void **state)
{
    struct fixture *fx = *state;
    uint8_t d[2];

    io(&fx->uart, LSR, d, 2, false);
    assert_memory_equal(d, "\x60\xb0", 2); /* LSR, MSR */
    io(&fx->uart, LCR, (uint8_t[]){0x83, 0x10}, 2, true);
    assert_int_equal(in8(fx, LCR), 0x83);
    assert_int_equal(in8(fx, MCR), 0x10);
    io(&fx->uart, DLL, (uint8_t[]){0x34, 0x12}, 2, true);
    io(&fx->uart, DLL, d, 2, false);
    assert_memory_equal(d, "\x34\x12", 2); /* DLL, DLM */
    io(&fx->uart, LCR, (uint8_t[]){0x03, 0x00}, 2, true);
    io(&fx->uart, THR, (uint8_t[]){'h', 0x02}, 2, true); /* THR, IER */
    assert_string_equal(drain(fx), "h");
    assert_int_equal(in8(fx, IER), 0x02);
    out8(fx, SCR, 0x77);
    io(&fx->uart, SCR, d, 2, false);
    assert_memory_equal(d, "\x77\xff", 2); /* past the last register */
}

/* Fills the pipe to the brim from the test (the output thread, idle,
 * waits for data meanwhile): the thread can write nothing more until the
 * test reads. Returns how many bytes it took. */
static size_t fill_pipe(struct fixture *fx)
{
    int flags = fcntl(fx->wr, F_GETFL);
    char junk[512];
    size_t total = 0;
    ssize_t n;

    memset(junk, '#', sizeof(junk));
    fcntl(fx->wr, F_SETFL, flags | O_NONBLOCK);
    while ((n = write(fx->wr, junk, sizeof(junk))) > 0)
        total += (size_t)n;
    while ((n = write(fx->wr, junk, 1)) > 0) /* a page's last bytes */
        total += (size_t)n;
    assert_int_equal(errno, EAGAIN);
    fcntl(fx->wr, F_SETFL, flags);
    return total;
}

/* Reads len bytes from the pipe (2 s at most). */
static void read_pipe(struct fixture *fx, uint8_t *buf, size_t len)
{
    uint64_t end = now_ms() + 10000;
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fx->rd, buf + got, len - got);

        if (n > 0)
            got += (size_t)n;
        else if (now_ms() > end)
            fail_msg("%zu of %zu bytes arrived within 10 s", got, len);
        else
            usleep(1000);
    }
}

/* Writes THR as a guest that waits for THRE does, until THRE clears. */
static size_t send_until_busy(struct fixture *fx)
{
    size_t sent = 0;

    while (in8(fx, LSR) & 0x20) {
        out8(fx, THR, (uint8_t)sent++);
        assert_true(sent <= SMALL_RING);
    }
    return sent;
}

/*
 * The reader stalls (the pipe is full): the ring fills; once fewer than a
 * FIFO's worth of bytes are free the transmitter is busy (LSR THRE and
 * TEMT clear, no THR-empty interrupt); the margin still takes a FIFO
 * load; bytes beyond a full ring are dropped and counted. The reader
 * comes back: the ring drains in order, THRE returns and the THR-empty
 * interrupt is raised by the output thread.
 */
static void test_busy_while_buffer_full(void **state)
{
    struct fixture *fx = *state;
    size_t filler = fill_pipe(fx), sent;
    uint8_t got[8192];

    out8(fx, MCR, 0x08); /* OUT2: the interrupt reaches the line */
    out8(fx, IER, 0x02);
    assert_int_equal(in8(fx, IIR), 0x02); /* THR empty at first */
    sent = send_until_busy(fx);
    assert_int_equal(sent, SMALL_RING - SERIAL_FIFO + 1);
    assert_int_equal(in8(fx, LSR), 0x00);
    assert_int_equal(in8(fx, IIR), 0x01);
    assert_int_equal(fx->irq_level, 0);
    while (sent < SMALL_RING)
        out8(fx, THR, (uint8_t)sent++);
    out8(fx, THR, 0xee); /* no room left: dropped */
    out8(fx, THR, 0xee);
    assert_int_equal(in8(fx, LSR), 0x00);
    assert_int_equal(fx->nreports, 0);

    assert_true(filler + SMALL_RING <= sizeof(got));
    read_pipe(fx, got, filler + SMALL_RING);
    for (size_t i = 0; i < filler; i++)
        assert_int_equal(got[i], '#');
    for (size_t i = 0; i < SMALL_RING; i++)
        assert_int_equal(got[filler + i], i);
    assert_true(wait_int(&fx->irq_level, 1));
    assert_int_equal(in8(fx, LSR), 0x60);
    assert_int_equal(in8(fx, IIR), 0x02);
    assert_int_equal(fx->irq_level, 0); /* acknowledged */
    wait_reports(fx, 1);
    assert_string_equal(fx->report,
                        "serial: 2 bytes of output dropped: the guest sent "
                        "them while its transmitter was busy, with the 64-byte "
                        "output buffer full (the reader is slow)");
    assert_false(fx->lock_held_in_report);
    assert_string_equal(drain(fx), "");
}

/* Enabling THRI while the transmitter is busy raises nothing until the
 * buffer has room. */
static void test_thri_enabled_while_busy(void **state)
{
    struct fixture *fx = *state;
    size_t filler = fill_pipe(fx);
    uint8_t got[8192];

    out8(fx, MCR, 0x08);
    send_until_busy(fx);
    out8(fx, IER, 0x02);
    assert_int_equal(in8(fx, IIR), 0x01);
    assert_int_equal(fx->irq_level, 0);
    read_pipe(fx, got, filler + SMALL_RING - SERIAL_FIFO + 1);
    assert_true(wait_int(&fx->irq_level, 1));
    assert_int_equal(in8(fx, IIR), 0x02);
}

/*
 * A snapshot of a busy UART: the restored one starts with its buffer
 * empty, so the THR-empty interrupt the guest waits for is due. It is
 * saved as pending and raised by serial_start(), not by serial_load()
 * (KVM_SET_IRQCHIP comes after the devices and would overwrite it).
 */
static void test_busy_saved_as_thr_empty(void **state)
{
    struct fixture *fx = *state;
    struct serial_state st;
    struct outbuf out2;
    struct serial uart2;
    uint8_t v = 0;
    int nirqs;

    fill_pipe(fx);
    out8(fx, MCR, 0x08);
    out8(fx, IER, 0x02);
    assert_int_equal(in8(fx, IIR), 0x02);
    send_until_busy(fx);
    serial_save(&fx->uart, &st);
    assert_int_equal(st.thr_irq_pending, 1);
    assert_int_equal(st.irq_level, 0);

    assert_int_equal(outbuf_init(&out2, "serial", -1, OUTBUF_SIZE, SERIAL_FIFO,
                                 0,
                                 &(struct outbuf_client){serial_tx_room, &uart2,
                                                         record_report, fx}),
                     0);
    serial_init(&uart2, &out2, 4,
                &(struct dev_env){.end = no_end,
                                  .report = record_report,
                                  .irq = record_irq,
                                  .machine = fx});
    nirqs = fx->nirqs;
    serial_load(&uart2, &st);
    assert_int_equal(fx->nirqs, nirqs);
    serial_start(&uart2);
    assert_int_equal(fx->nirqs, nirqs + 1);
    assert_int_equal(fx->irq_level, 1);
    io(&uart2, IIR, &v, 1, false);
    assert_int_equal(v, 0x02);
    io(&uart2, LSR, &v, 1, false);
    assert_int_equal(v, 0x60);
    serial_start(&uart2); /* consistent now: nothing more */
    assert_int_equal(fx->irq_level, 0);
    serial_fini(&uart2);
    outbuf_fini(&out2);
}

struct reader {
    int fd;
    uint8_t *buf;
    size_t want, got;
};

/* A slow reader: 300 bytes a millisecond at most. */
static void *slow_reader(void *arg)
{
    struct reader *r = arg;
    uint64_t end = now_ms() + 10000;

    while (r->got < r->want && now_ms() < end) {
        size_t len = r->want - r->got < 300 ? r->want - r->got : 300;
        ssize_t n = read(r->fd, r->buf + r->got, len);

        if (n > 0)
            r->got += (size_t)n;
        usleep(1000);
    }
    return NULL;
}

/*
 * A non-blocking descriptor (item 8 of issue 11: one EAGAIN used to end
 * all output) and a slow reader: the output thread waits for POLLOUT,
 * the guest for THRE; every byte arrives, in order, none dropped.
 */
static void test_nonblocking_slow_reader_gets_all(void **state)
{
    struct fixture *fx = *state;
    enum { N = 60000 };
    static uint8_t buf[N];
    struct reader r = {fx->rd, buf, N, 0};
    uint64_t end = now_ms() + 10000;
    pthread_t t;

    fcntl(fx->wr, F_SETFL, fcntl(fx->wr, F_GETFL) | O_NONBLOCK);
    assert_int_equal(pthread_create(&t, NULL, slow_reader, &r), 0);
    for (size_t i = 0; i < N; i++) {
        while (!(in8(fx, LSR) & 0x20)) {
            assert_true(now_ms() < end);
            usleep(100);
        }
        out8(fx, THR, (uint8_t)(i * 7 % 251));
    }
    pthread_join(t, NULL);
    assert_int_equal(r.got, N);
    for (size_t i = 0; i < N; i++)
        if (buf[i] != (uint8_t)(i * 7 % 251))
            fail_msg("byte %zu is %u, not %u", i, buf[i],
                     (unsigned)(i * 7 % 251));
    assert_int_equal(fx->nreports, 0);
}

/* A stalled reader: a flush gives up after the stall time with what is
 * held, and says so (outbuf_stalled); the thread still ends, the bytes
 * it held counted as dropped. */
static void test_flush_gives_up_on_stalled_reader(void **state)
{
    struct fixture *fx = *state;
    uint64_t held, t;

    fill_pipe(fx);
    puts_thr(fx, "0123456789");
    t = now_ms();
    assert_int_equal(outbuf_flush(&fx->out, 100, 1000, &held), -ETIMEDOUT);
    t = now_ms() - t;
    assert_true(t >= 100); /* the reason below says it was the stall */
    assert_int_equal(held, 10);
    assert_string_equal(outbuf_why(&fx->out), "took none for 100 ms");
    assert_true(outbuf_stalled(&fx->out));
    assert_int_equal(outbuf_fini(&fx->out), 10);
}

/* The reader comes back after a flush gave up: the next flush waits and
 * everything arrives. */
static void test_flush_after_reader_returns(void **state)
{
    struct fixture *fx = *state;
    size_t filler = fill_pipe(fx);
    uint8_t got[8192];
    uint64_t held;

    puts_thr(fx, "abc");
    assert_int_equal(outbuf_flush(&fx->out, 50, 1000, &held), -ETIMEDOUT);
    read_pipe(fx, got, filler);
    assert_string_equal(drain(fx), "abc");
    assert_false(outbuf_stalled(&fx->out));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define S(f) cmocka_unit_test_setup_teardown(f, setup_small, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_thr_output_in_order),
        T(test_idle_registers),
        T(test_divisor_latch),
        T(test_scratch_round_trip),
        T(test_loopback),
        T(test_loopback_rx_interrupt_and_overrun),
        T(test_thri_once),
        T(test_fifo_enable_sets_iir_top_bits),
        T(test_closed_pipe_reported_once),
        T(test_report_without_device_lock),
        T(test_two_byte_accesses),
        S(test_busy_while_buffer_full),
        S(test_thri_enabled_while_busy),
        S(test_busy_saved_as_thr_empty),
        S(test_nonblocking_slow_reader_gets_all),
        S(test_flush_gives_up_on_stalled_reader),
        S(test_flush_after_reader_returns),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
