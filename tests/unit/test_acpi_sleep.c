/* test_acpi_sleep.c: unit tests of the ACPI sleep control/status device. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bus.h"
#include "dev/acpi_sleep.h"
#include "kvmrun.h"

#include "machine.h"

struct fixture {
    struct machine m;
    struct acpi_sleep s;
};

static int setup(void **state)
{
    static struct fixture f;
    struct dev_env env = env_of(&f.m);

    memset(&f, 0, sizeof(f));
    acpi_sleep_init(&f.s, &env);
    f.m.lock = &f.s.lock;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    acpi_sleep_fini(&f->s);
    return 0;
}

static void io(struct fixture *f, unsigned offset, uint8_t *data, unsigned size,
               bool write, unsigned vcpu)
{
    struct bus_access a = {offset, data, size, write, vcpu};

    acpi_sleep_io(&f->s, &a);
}

static void write8(struct fixture *f, unsigned offset, uint8_t v)
{
    io(f, offset, &v, 1, true, 0);
}

/* What Linux's acpi_hw_extended_sleep(S5) does: clear WAK_STS, then write
 * SLP_TYP 5 | SLP_EN, then poll the status register. */
static void test_s5_powers_off(void **state)
{
    struct fixture *f = *state;
    uint8_t v = 5 << 2 | 0x20;
    uint8_t status = 0xaa;

    write8(f, 1, 0x80);
    assert_int_equal(f->m.nends, 0);
    io(f, 0, &v, 1, true, 3);
    assert_int_equal(f->m.nends, 1);
    assert_int_equal(f->m.why, KVMRUN_END_POWEROFF);
    assert_int_equal(f->m.code, 0);
    assert_int_equal(f->m.vcpu, 3);
    assert_string_equal(f->m.message, "guest powered off (ACPI S5)");
    assert_int_equal(f->m.nreports, 0);
    assert_false(f->m.lock_held);
    io(f, 1, &status, 1, false, 3);
    assert_int_equal(status, 0); /* WAK_STS clear */
}

static void test_type_without_slp_en_does_nothing(void **state)
{
    struct fixture *f = *state;

    write8(f, 0, 5 << 2);
    write8(f, 0, 3 << 2);
    write8(f, 0, 0xdf); /* every bit but SLP_EN */
    assert_int_equal(f->m.nends, 0);
    assert_int_equal(f->m.nreports, 0);
}

static void test_other_types_reported_once(void **state)
{
    struct fixture *f = *state;

    write8(f, 0, 3 << 2 | 0x20);
    write8(f, 0, 3 << 2 | 0x20);
    assert_int_equal(f->m.nends, 0);
    assert_int_equal(f->m.nreports, 1);
    assert_string_equal(f->m.report, "ACPI sleep type 3 is not supported; "
                                     "ignored");
    write8(f, 0, 0x20);                 /* type 0 */
    write8(f, 0, 7 << 2 | 0x20 | 0x03); /* reserved bits ignored */
    write8(f, 0, 0x20);
    assert_int_equal(f->m.nreports, 3);
    assert_string_equal(f->m.report, "ACPI sleep type 7 is not supported; "
                                     "ignored");
    assert_int_equal(f->m.nends, 0);
    assert_false(f->m.lock_held);
}

static void test_reads(void **state)
{
    struct fixture *f = *state;
    uint8_t data[4];

    write8(f, 0, 5 << 2);
    memset(data, 0x5a, sizeof(data));
    io(f, 0, data, 2, false, 0);
    assert_int_equal(data[0], 0); /* control */
    assert_int_equal(data[1], 0); /* status: WAK_STS clear */
    assert_int_equal(data[2], 0x5a);
    memset(data, 0x5a, sizeof(data));
    io(f, 1, data, 1, false, 0);
    assert_int_equal(data[0], 0);
    memset(data, 0x5a, sizeof(data));
    io(f, 0, data, 4, false, 0); /* past the registers */
    assert_memory_equal(data, "\x00\x00\xff\xff", 4);
}

/* A 16-bit write reaches the control register through its low byte; the
 * high byte goes to the status register and does nothing. */
static void test_wide_write(void **state)
{
    struct fixture *f = *state;
    uint8_t data[2] = {5 << 2 | 0x20, 0xff};

    io(f, 0, data, 2, true, 1);
    assert_int_equal(f->m.nends, 1);
    assert_int_equal(f->m.vcpu, 1);
    data[0] = 0;
    data[1] = 5 << 2 | 0x20; /* status: no effect */
    io(f, 0, data, 2, true, 1);
    assert_int_equal(f->m.nends, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_s5_powers_off),
        T(test_type_without_slp_en_does_nothing),
        T(test_other_types_reported_once),
        T(test_reads),
        T(test_wide_write),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
