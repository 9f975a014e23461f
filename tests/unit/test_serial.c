/* test_serial.c: unit tests of the 16550A UART model, output to a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dev/serial.h"

enum { THR, IER, IIR, LCR, MCR, LSR, MSR, SCR };
#define FCR IIR
#define RBR THR
#define DLL THR
#define DLM IER

struct fixture {
    int rd, wr; /* the pipe; the UART writes to wr */
    struct serial uart;
    unsigned nreports;
    char report[160];
    bool lock_held_in_report;
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
    fx->nreports++;
}

static int setup(void **state)
{
    static struct fixture fx;
    int p[2];

    memset(&fx, 0, sizeof(fx));
    if (pipe(p) || fcntl(p[0], F_SETFL, O_NONBLOCK))
        return -1;
    fx.rd = p[0];
    fx.wr = p[1];
    serial_init(&fx.uart, fx.wr, 4,
                &(struct dev_env){
                    .end = no_end, .report = record_report, .machine = &fx});
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

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

/* Everything waiting in the pipe, NUL-terminated; the pipe is then empty. */
static const char *drain(struct fixture *fx)
{
    static char buf[256];
    ssize_t n = read(fx->rd, buf, sizeof(buf) - 1);

    if (n < 0 && errno == EAGAIN)
        n = 0;
    assert_true(n >= 0);
    buf[n] = 0;
    return buf;
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
    assert_int_equal(fx->nreports, 1);
    assert_string_equal(fx->report, "serial: cannot write output: Broken "
                                    "pipe; discarding further output");
    puts_thr(fx, "more output");
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
    assert_int_equal(fx->nreports, 1);
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

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

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
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
