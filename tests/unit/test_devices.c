/* test_devices.c: unit tests of the debug-exit and power-off devices. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dev/debug_exit.h"
#include "dev/poweroff.h"

#include "machine.h"

static void dev_access(bus_fn fn, void *dev, unsigned offset, uint8_t *data,
                       unsigned size, bool write, unsigned vcpu)
{
    struct bus_access a = {offset, data, size, write, vcpu};

    fn(dev, &a);
}

/* debug-exit */

static void check_debug_exit_write(unsigned size, const uint8_t *bytes,
                                   uint64_t value)
{
    struct machine m = {0};
    struct dev_env env = env_of(&m);
    struct debug_exit d;
    uint8_t data[8];
    char expect[96];

    debug_exit_init(&d, &env);
    memcpy(data, bytes, size);
    dev_access(debug_exit_io, &d, 0, data, size, true, 2);
    assert_int_equal(m.nends, 1);
    assert_int_equal(m.why, KVMRUN_END_DEBUG_EXIT);
    assert_int_equal(m.code, value);
    assert_int_equal(m.vcpu, 2);
    snprintf(expect, sizeof(expect), "guest wrote %#llx to the debug-exit port",
             (unsigned long long)value);
    assert_string_equal(m.message, expect);
    assert_int_equal(m.nreports, 0);
}

static void test_debug_exit_write_ends(void **state)
{
    (void)state;
    check_debug_exit_write(1, (const uint8_t *)"\x05", 0x05);
    check_debug_exit_write(1, (const uint8_t *)"\xff", 0xff);
    check_debug_exit_write(2, (const uint8_t *)"\x34\x12", 0x1234);
    check_debug_exit_write(4, (const uint8_t *)"\x78\x56\x34\x12", 0x12345678);
    check_debug_exit_write(4, (const uint8_t *)"\xff\xff\xff\xff", 0xffffffff);
}

static void test_debug_exit_read_returns_zero(void **state)
{
    struct machine m = {0};
    struct dev_env env = env_of(&m);
    struct debug_exit d;
    uint8_t data[4];

    (void)state;
    debug_exit_init(&d, &env);
    for (unsigned size = 1; size <= 4; size *= 2) {
        memset(data, 0xaa, sizeof(data));
        dev_access(debug_exit_io, &d, 0, data, size, false, 0);
        for (unsigned i = 0; i < size; i++)
            assert_int_equal(data[i], 0);
        for (unsigned i = size; i < sizeof(data); i++)
            assert_int_equal(data[i], 0xaa);
    }
    assert_int_equal(m.nends, 0);
    assert_int_equal(m.nreports, 0);
}

/* poweroff: a fresh device per test, its machine checking the lock. */

struct pm {
    struct machine m;
    struct poweroff p;
};

static int pm_setup(void **state)
{
    static struct pm pm;
    struct dev_env env = env_of(&pm.m);

    memset(&pm, 0, sizeof(pm));
    poweroff_init(&pm.p, &env);
    pm.m.lock = &pm.p.lock;
    *state = &pm;
    return 0;
}

static int pm_teardown(void **state)
{
    struct pm *pm = *state;

    poweroff_fini(&pm->p);
    return 0;
}

static void pm_write16(struct pm *pm, uint16_t v)
{
    uint8_t data[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

    dev_access(poweroff_io, &pm->p, 0, data, 2, true, 1);
}

static uint16_t pm_read16(struct pm *pm)
{
    uint8_t data[2] = {0x5a, 0x5a};

    dev_access(poweroff_io, &pm->p, 0, data, 2, false, 0);
    return (uint16_t)(data[0] | data[1] << 8);
}

static void test_poweroff_value_ends(void **state)
{
    struct pm *pm = *state;

    pm_write16(pm, KVMRUN_POWEROFF_VALUE);
    assert_int_equal(pm->m.nends, 1);
    assert_int_equal(pm->m.why, KVMRUN_END_POWEROFF);
    assert_int_equal(pm->m.code, 0);
    assert_int_equal(pm->m.vcpu, 1);
    assert_string_equal(pm->m.message, "guest powered off");
    assert_int_equal(pm->m.nreports, 0);
    assert_false(pm->m.lock_held);
}

static void test_poweroff_zero_does_nothing(void **state)
{
    struct pm *pm = *state;

    pm_write16(pm, 0x0000);
    pm_write16(pm, 0x1c01); /* sleep type 7 and SCI_EN, but no SLP_EN */
    assert_int_equal(pm->m.nends, 0);
    assert_int_equal(pm->m.nreports, 0);
    assert_int_equal(pm_read16(pm), 0x1c01);
}

static void test_poweroff_other_sleep_type_reported(void **state)
{
    struct pm *pm = *state;

    pm_write16(pm, 0x2400); /* SLP_EN, sleep type 1 */
    assert_int_equal(pm->m.nends, 0);
    assert_int_equal(pm->m.nreports, 1);
    assert_string_equal(pm->m.report, "power management: sleep type 1 is "
                                      "not supported; ignored");
    assert_false(pm->m.lock_held);
    assert_int_equal(pm_read16(pm), 0x0400);
}

static void test_poweroff_byte_write_high_half(void **state)
{
    struct pm *pm = *state;

    dev_access(poweroff_io, &pm->p, 0, (uint8_t[]){0x01}, 1, true, 0);
    assert_int_equal(pm->m.nends, 0);
    dev_access(poweroff_io, &pm->p, 1, (uint8_t[]){0x20}, 1, true, 3);
    assert_int_equal(pm->m.nends, 1);
    assert_int_equal(pm->m.why, KVMRUN_END_POWEROFF);
    assert_int_equal(pm->m.vcpu, 3);
    assert_false(pm->m.lock_held);
    assert_int_equal(pm_read16(pm), 0x0001);
}

static void test_poweroff_slp_en_never_reads_back(void **state)
{
    struct pm *pm = *state;
    uint8_t hi = 0x5a;

    pm_write16(pm, 0x2000);
    assert_int_equal(pm_read16(pm), 0x0000);
    pm_write16(pm, 0x3401); /* SLP_EN, sleep type 5, SCI_EN */
    assert_int_equal(pm_read16(pm), 0x1401);
    dev_access(poweroff_io, &pm->p, 1, &hi, 1, false, 0);
    assert_int_equal(hi, 0x14);
    assert_int_equal(pm->m.nends, 1);
    assert_int_equal(pm->m.nreports, 1);
    assert_string_equal(pm->m.report, "power management: sleep type 5 is "
                                      "not supported; ignored");
}

#define PM(f) cmocka_unit_test_setup_teardown(f, pm_setup, pm_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_debug_exit_write_ends),
        cmocka_unit_test(test_debug_exit_read_returns_zero),
        PM(test_poweroff_value_ends),
        PM(test_poweroff_zero_does_nothing),
        PM(test_poweroff_other_sleep_type_reported),
        PM(test_poweroff_byte_write_high_half),
        PM(test_poweroff_slp_en_never_reads_back),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
