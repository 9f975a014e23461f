/* test_i8042.c: unit tests of the i8042 keyboard controller. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dev/i8042.h"

/* What the controller asked of the machine. */
struct machine {
    struct i8042 *dev;
    unsigned nends, nreports;
    bool lock_held;
    unsigned vcpu;
    enum kvmrun_end why;
    char message[256];
    char report[256];
    unsigned nirqs;     /* calls of env.irq */
    unsigned edges[16]; /* rising edges per line */
    int level[16];
};

static void check_unlocked(struct machine *m)
{
    if (pthread_mutex_trylock(&m->dev->lock) == 0)
        pthread_mutex_unlock(&m->dev->lock);
    else
        m->lock_held = true;
}

static void record_end(void *machine, unsigned vcpu, enum kvmrun_end why,
                       uint64_t code, const char *message)
{
    struct machine *m = machine;

    check_unlocked(m);
    assert_int_equal(code, 0);
    m->nends++;
    m->vcpu = vcpu;
    m->why = why;
    snprintf(m->message, sizeof(m->message), "%s", message);
}

static void record_report(void *machine, const char *line)
{
    struct machine *m = machine;

    check_unlocked(m);
    m->nreports++;
    snprintf(m->report, sizeof(m->report), "%s", line);
}

static void record_irq(void *machine, unsigned line, int level)
{
    struct machine *m = machine;

    assert_true(line < 16);
    assert_int_not_equal(m->level[line], level); /* only changes */
    if (level)
        m->edges[line]++;
    m->level[line] = level;
    m->nirqs++;
}

struct fixture {
    struct machine m;
    struct i8042 k;
};

static int setup(void **state)
{
    static struct fixture fx;
    struct dev_env env = {.end = record_end,
                          .report = record_report,
                          .irq = record_irq,
                          .machine = &fx.m};

    memset(&fx, 0, sizeof(fx));
    fx.m.dev = &fx.k;
    i8042_init(&fx.k, &env);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    i8042_fini(&fx->k);
    assert_false(fx->m.lock_held);
    return 0;
}

static uint8_t io(struct i8042 *k, bus_fn fn, uint8_t v, bool write)
{
    struct bus_access a = {0, &v, 1, write, 3};

    fn(k, &a);
    return v;
}

static uint8_t status(struct i8042 *k)
{
    uint8_t s = io(k, i8042_cmd_io, 0, false);

    assert_int_not_equal(s, 0xff);
    assert_false(s & I8042_STR_IBF);
    return s;
}

static void cmd(struct i8042 *k, uint8_t c)
{
    io(k, i8042_cmd_io, c, true);
    assert_true(status(k) & I8042_STR_A2);
}

static void data_out(struct i8042 *k, uint8_t v)
{
    io(k, i8042_data_io, v, true);
    assert_false(status(k) & I8042_STR_A2);
}

/* The next byte, which must be waiting (OBF), from the keyboard side. */
static uint8_t data_in(struct i8042 *k)
{
    uint8_t s = status(k);

    assert_true(s & I8042_STR_OBF);
    assert_false(s & (I8042_STR_AUXDATA | I8042_STR_TIMEOUT));
    return io(k, i8042_data_io, 0, false);
}

static void assert_empty(struct i8042 *k)
{
    assert_false(status(k) & I8042_STR_OBF);
}

static void test_self_tests(void **state)
{
    struct fixture *fx = *state;
    struct i8042 *k = &fx->k;

    assert_empty(k);
    assert_true(status(k) & I8042_STR_SYS);
    cmd(k, 0xaa);
    assert_int_equal(data_in(k), 0x55);
    assert_empty(k);
    cmd(k, 0xab);
    assert_int_equal(data_in(k), 0x00);
    assert_empty(k);
    /* An empty buffer reads its last byte again, without OBF. */
    assert_int_equal(io(k, i8042_data_io, 0x33, false), 0x00);
    assert_empty(k);
    assert_int_equal(fx->m.nends + fx->m.nreports, 0);
}

static void test_command_byte(void **state)
{
    struct fixture *fx = *state;
    struct i8042 *k = &fx->k;

    cmd(k, 0x20);
    assert_int_equal(data_in(k), I8042_CTR_DEFAULT);
    cmd(k, 0x60);
    data_out(k, 0x47);
    assert_empty(k); /* the byte went to the CTR, not to the keyboard */
    cmd(k, 0x20);
    assert_int_equal(data_in(k), 0x47);
    /* SYS in the status register follows the command byte. */
    cmd(k, 0x60);
    data_out(k, 0x00);
    assert_false(status(k) & I8042_STR_SYS);
    /* Enabling/disabling the ports flips the CTR bits. */
    cmd(k, 0xad);
    cmd(k, 0xa7);
    cmd(k, 0x20);
    assert_int_equal(data_in(k), I8042_CTR_KBDDIS | I8042_CTR_AUXDIS);
    cmd(k, 0xae);
    cmd(k, 0xa8);
    cmd(k, 0x20);
    assert_int_equal(data_in(k), 0);
    /* Other controller RAM bytes. */
    cmd(k, 0x65);
    data_out(k, 0x9c);
    cmd(k, 0x25);
    assert_int_equal(data_in(k), 0x9c);
    assert_int_equal(fx->m.nends + fx->m.nreports, 0);
}

static void test_keyboard(void **state)
{
    struct fixture *fx = *state;
    struct i8042 *k = &fx->k;

    data_out(k, 0xff);
    assert_int_equal(data_in(k), 0xfa);
    assert_int_equal(data_in(k), 0xaa);
    assert_empty(k);
    data_out(k, 0xf2);
    assert_int_equal(data_in(k), 0xfa);
    assert_int_equal(data_in(k), 0xab);
    assert_int_equal(data_in(k), 0x83);
    assert_empty(k);
    data_out(k, 0xf4);
    assert_int_equal(data_in(k), 0xfa);
    assert_empty(k);
    data_out(k, 0xee);
    assert_int_equal(data_in(k), 0xee);
    /* Set LEDs: ACK for the command, ACK for its parameter. */
    data_out(k, 0xed);
    assert_int_equal(data_in(k), 0xfa);
    data_out(k, 0x07);
    assert_int_equal(data_in(k), 0xfa);
    assert_empty(k);
    /* Get scan code set. */
    data_out(k, 0xf0);
    assert_int_equal(data_in(k), 0xfa);
    data_out(k, 0x00);
    assert_int_equal(data_in(k), 0xfa);
    assert_int_equal(data_in(k), 0x02);
    /* A command where a parameter was expected is a command. */
    data_out(k, 0xf3);
    assert_int_equal(data_in(k), 0xfa);
    data_out(k, 0xf2);
    assert_int_equal(data_in(k), 0xfa);
    assert_int_equal(data_in(k), 0xab);
    assert_int_equal(data_in(k), 0x83);
    assert_empty(k);
    /* 0xd2 puts a byte in the buffer as if the keyboard sent it. */
    cmd(k, 0xd2);
    data_out(k, 0x1c);
    assert_int_equal(data_in(k), 0x1c);
    assert_empty(k);
}

/* Linux's i8042_check_aux(): the loop fails, the AUX test says broken. */
static void test_no_aux(void **state)
{
    struct fixture *fx = *state;
    struct i8042 *k = &fx->k;
    uint8_t s;

    cmd(k, 0xd3);
    data_out(k, 0x5a);
    s = status(k);
    assert_true(s & I8042_STR_OBF);
    assert_true(s & I8042_STR_AUXDATA);
    assert_int_not_equal(io(k, i8042_data_io, 0, false), 0x5a);
    assert_empty(k);
    cmd(k, 0xa9);
    s = data_in(k);
    assert_true(s != 0x00 && s != 0xfa && s != 0xff);
    cmd(k, 0xd4);
    data_out(k, 0xf2);
    assert_true(status(k) & I8042_STR_TIMEOUT);
    assert_int_equal(io(k, i8042_data_io, 0, false), 0xfe);
    assert_empty(k);
}

static void check_reboot(struct fixture *fx)
{
    assert_int_equal(fx->m.nends, 1);
    assert_int_equal(fx->m.why, KVMRUN_END_REBOOT);
    assert_int_equal(fx->m.vcpu, 3);
    assert_string_equal(fx->m.message, "guest requested a reset (i8042)");
    assert_false(fx->m.lock_held);
}

static void test_reset_pulse(void **state)
{
    struct fixture *fx = *state;

    io(&fx->k, i8042_cmd_io, 0xff, true); /* pulses nothing */
    io(&fx->k, i8042_cmd_io, 0xfd, true); /* bit 1 only */
    assert_int_equal(fx->m.nends, 0);
    io(&fx->k, i8042_cmd_io, 0xfe, true);
    check_reboot(fx);
}

static void test_reset_outport(void **state)
{
    struct fixture *fx = *state;
    struct i8042 *k = &fx->k;

    cmd(k, 0xd0);
    assert_int_equal(data_in(k), I8042_OUT_DEFAULT);
    /* A20 on, as Linux's boot code writes it: no reset. */
    cmd(k, 0xd1);
    data_out(k, 0xdf);
    assert_int_equal(fx->m.nends, 0);
    cmd(k, 0xd0);
    assert_int_equal(data_in(k), 0xdf);
    cmd(k, 0xd1);
    io(k, i8042_data_io, 0xde, true);
    check_reboot(fx);
}

static void test_unsupported_reported_once(void **state)
{
    struct fixture *fx = *state;
    struct i8042 *k = &fx->k;

    cmd(k, 0xc1);
    cmd(k, 0xc1);
    assert_int_equal(fx->m.nreports, 1);
    assert_string_equal(fx->m.report,
                        "i8042: command 0xc1 is not supported; ignored");
    assert_empty(k);
    /* A new command drops one that waited for its data byte. */
    cmd(k, 0x60);
    cmd(k, 0xab);
    assert_int_equal(data_in(k), 0x00);
    data_out(k, 0xf4);
    assert_int_equal(data_in(k), 0xfa);
    cmd(k, 0x20);
    assert_int_equal(data_in(k), I8042_CTR_DEFAULT);
}

/* IRQ 1: one rising edge per keyboard byte while KBDINT is on. */
static void test_irq(void **state)
{
    struct fixture *fx = *state;
    struct i8042 *k = &fx->k;

    data_out(k, 0xf2);
    assert_int_equal(fx->m.level[I8042_KBD_IRQ], 1);
    assert_int_equal(data_in(k), 0xfa);
    assert_int_equal(data_in(k), 0xab);
    assert_int_equal(fx->m.level[I8042_KBD_IRQ], 1);
    assert_int_equal(data_in(k), 0x83);
    assert_int_equal(fx->m.level[I8042_KBD_IRQ], 0);
    assert_int_equal(fx->m.edges[I8042_KBD_IRQ], 3);
    /* KBDINT off: nothing. */
    cmd(k, 0x60);
    data_out(k, I8042_CTR_SYS);
    data_out(k, 0xf4);
    assert_int_equal(fx->m.level[I8042_KBD_IRQ], 0);
    assert_int_equal(data_in(k), 0xfa);
    /* AUX bytes go to IRQ 12 when AUXINT is on. */
    cmd(k, 0x60);
    data_out(k, I8042_CTR_SYS | I8042_CTR_AUXINT);
    cmd(k, 0xd4);
    data_out(k, 0xff);
    assert_int_equal(fx->m.level[I8042_AUX_IRQ], 1);
    assert_int_equal(io(k, i8042_data_io, 0, false), 0xfe);
    assert_int_equal(fx->m.level[I8042_AUX_IRQ], 0);
    assert_int_equal(fx->m.edges[I8042_KBD_IRQ], 3);
}

/* Bytes past the one port read all ones; the status is never 0xff. */
static void test_wide_and_overflow(void **state)
{
    struct fixture *fx = *state;
    struct i8042 *k = &fx->k;
    uint8_t d[2] = {0, 0};
    struct bus_access a = {0, d, 2, false, 0};

    i8042_cmd_io(k, &a);
    assert_int_equal(d[1], 0xff);
    assert_int_not_equal(d[0], 0xff);
    for (unsigned i = 0; i < 3 * I8042_QUEUE; i++)
        data_out(k, 0xf2);
    for (unsigned i = 0; i < I8042_QUEUE; i++)
        (void)data_in(k);
    assert_empty(k); /* Linux's flush ends before I8042_BUFFER_SIZE */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_self_tests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyboard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_aux, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_pulse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_outport, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsupported_reported_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_irq, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wide_and_overflow, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
