/* test_mptable.c: unit tests of the MP tables, parsed back as Linux would. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/arch.h"
#include "arch/x86/mptable.h"
#include "kvmrun.h"
#include "guest_tables.h"
#include "mem.h"

/* Linux's smp_scan_config(): "_MP_" on a 16-byte boundary, length 1,
 * spec revision 1 or 4, valid checksum, in 0xf0000-0xfffff. */
static const uint8_t *scan_mpf(const struct guest_mem *mem)
{
    for (uint64_t a = 0xf0000; a < 0x100000; a += 16) {
        const uint8_t *p = mem_ptr(mem, a, 16);

        if (!memcmp(p, "_MP_", 4) && p[8] == 1 && sum(p, 16) == 0 &&
            (p[9] == 1 || p[9] == 4))
            return p;
    }
    return NULL;
}

struct counts {
    unsigned cpu, bus, ioapic, irq, lint;
    uint8_t pin_of_irq[16];
};

static void check_cpu(const uint8_t *e, unsigned i)
{
    assert_int_equal(e[1], i); /* APIC ID */
    assert_int_equal(e[2], 0x14);
    assert_int_equal(e[3], i == 0 ? 3 : 1); /* enabled, BSP on 0 */
}

static void check_intr(const uint8_t *e, unsigned ioapic, struct counts *c)
{
    assert_int_equal(le(e + 2, 2), 0); /* conforms to ISA */
    assert_int_equal(e[4], 0);         /* ISA bus */
    if (e[0] == 3) {
        assert_int_equal(e[1], 0); /* INT */
        assert_true(e[5] < 16);
        assert_int_equal(e[6], ioapic);
        assert_int_equal(c->pin_of_irq[e[5]], 0xff); /* once per IRQ */
        c->pin_of_irq[e[5]] = e[7];
        c->irq++;
        return;
    }
    assert_int_equal(e[6], 0xff);                 /* every local APIC */
    assert_int_equal(e[1], c->lint == 0 ? 3 : 1); /* ExtINT, then NMI */
    assert_int_equal(e[7], c->lint);              /* LINT0, LINT1 */
    c->lint++;
}

/* Walks the entries, which must come sorted by type. */
static void walk(const uint8_t *e, unsigned n, unsigned ncpus, struct counts *c)
{
    unsigned last = 0;

    memset(c, 0, sizeof(*c));
    memset(c->pin_of_irq, 0xff, sizeof(c->pin_of_irq));
    for (unsigned i = 0; i < n; i++) {
        assert_true(e[0] >= last && e[0] <= 4);
        last = e[0];
        switch (e[0]) {
        case 0:
            check_cpu(e, c->cpu++);
            e += 20;
            continue;
        case 1:
            assert_int_equal(e[1], 0);
            assert_memory_equal(e + 2, "ISA   ", 6);
            c->bus++;
            break;
        case 2:
            assert_int_equal(e[1], ncpus);
            assert_int_equal(e[2], 0x11);
            assert_int_equal(e[3], 1);
            assert_int_equal(le(e + 4, 4), 0xfec00000);
            c->ioapic++;
            break;
        default:
            check_intr(e, ncpus, c);
        }
        e += 8;
    }
}

static void check_mptable(struct guest_mem *mem, unsigned ncpus)
{
    const uint8_t *mpf, *mpc;
    struct counts c;
    unsigned len;

    assert_int_equal(mptable_write(mem, ncpus, NULL, 0), 0);
    mpf = scan_mpf(mem);
    assert_ptr_equal(mpf, mem_ptr(mem, ARCH_MPTABLE_ADDR, 16));
    assert_int_equal(mpf[9], 4);
    assert_int_equal(mpf[11], 0); /* a config table exists */
    assert_int_equal(mpf[12], 0); /* no IMCR: virtual wire */
    mpc = mem_ptr(mem, le(mpf + 4, 4), 44);
    assert_non_null(mpc);
    assert_memory_equal(mpc, "PCMP", 4);
    len = (unsigned)le(mpc + 4, 2);
    assert_int_equal(len, 44 + 20 * ncpus + 8 * (2 + 15 + 2));
    assert_true(le(mpf + 4, 4) + len <= ARCH_MPTABLE_END);
    assert_int_equal(mpc[6], 4);
    assert_int_equal(sum(mpc, len), 0);
    assert_memory_equal(mpc + 8, "KVMRUN  ", 8);
    assert_int_equal(le(mpc + 36, 4), 0xfee00000);
    assert_int_equal(le(mpc + 40, 2), 0); /* no extended table */
    assert_int_equal(le(mpc + 34, 2), ncpus + 2 + 15 + 2);
    walk(mpc + 44, (unsigned)le(mpc + 34, 2), ncpus, &c);
    assert_int_equal(c.cpu, ncpus);
    assert_int_equal(c.bus, 1);
    assert_int_equal(c.ioapic, 1);
    assert_int_equal(c.irq, 15);
    assert_int_equal(c.lint, 2);
    assert_int_equal(c.pin_of_irq[0], 2);
    assert_int_equal(c.pin_of_irq[2], 0xff); /* the cascade: no entry */
    for (unsigned irq = 3; irq < 16; irq++)
        assert_int_equal(c.pin_of_irq[irq], irq);
    assert_int_equal(c.pin_of_irq[1], 1);
}

static void test_mptable_1(void **state)
{
    check_mptable(*state, 1);
}

static void test_mptable_4(void **state)
{
    check_mptable(*state, 4);
}

static void test_mptable_255(void **state)
{
    check_mptable(*state, 255);
}

/* Two MMIO devices' GSIs: routed after the ISA IRQs, before the local
 * interrupts, edge and active high, IRQ = pin = GSI, on the IOAPIC. */
static void test_mmio_routes(void **state)
{
    static const struct pc_mmio_dev mmio[] = {{0xfeb00000, 16},
                                              {0xfeb01000, 17}};
    const uint8_t *mpf, *mpc, *e;
    unsigned ncpus = 2, n;

    assert_int_equal(mptable_write(*state, ncpus, mmio, 2), 0);
    mpf = scan_mpf(*state);
    mpc = mem_ptr(*state, le(mpf + 4, 4), 44);
    n = (unsigned)le(mpc + 34, 2);
    assert_int_equal(n, ncpus + 2 + 15 + 2 + 2);
    assert_int_equal(le(mpc + 4, 2), 44 + 20 * ncpus + 8 * (2 + 15 + 2 + 2));
    assert_int_equal(sum(mpc, (size_t)le(mpc + 4, 2)), 0);
    e = mpc + 44 + 20 * ncpus + 8 * (2 + 15);
    for (unsigned i = 0; i < 2; i++, e += 8) {
        assert_int_equal(e[0], 3);           /* I/O interrupt */
        assert_int_equal(e[1], 0);           /* INT */
        assert_int_equal(le(e + 2, 2), 0x5); /* edge, active high */
        assert_int_equal(e[4], 0);           /* the ISA bus */
        assert_int_equal(e[5], 16 + i);      /* its IRQ */
        assert_int_equal(e[6], ncpus);       /* the IOAPIC */
        assert_int_equal(e[7], 16 + i);      /* its pin */
    }
    assert_int_equal(e[0], 4); /* then the local interrupts */
}

static void test_mmio_bad_gsi(void **state)
{
    static const struct pc_mmio_dev bad[] = {{0xfeb00000, 24}};

    assert_int_equal(mptable_write(*state, 1, bad, 1), -EINVAL);
    assert_non_null(strstr(kvmrun_last_error(), "GSI 24"));
}

static void test_bad_ncpus(void **state)
{
    assert_int_equal(mptable_write(*state, 0, NULL, 0), -EINVAL);
    assert_int_equal(mptable_write(*state, 256, NULL, 0), -ERANGE);
    assert_non_null(strstr(kvmrun_last_error(), "256 vCPUs"));
}

static void test_area_not_ram(void **state)
{
    struct guest_mem small;

    (void)state;
    assert_int_equal(mem_init(&small, 512 * 1024), 0);
    assert_int_equal(mptable_write(&small, 1, NULL, 0), -ERANGE);
    assert_non_null(strstr(kvmrun_last_error(), "not guest RAM"));
    mem_fini(&small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mptable_1),    cmocka_unit_test(test_mptable_4),
        cmocka_unit_test(test_mptable_255),  cmocka_unit_test(test_bad_ncpus),
        cmocka_unit_test(test_area_not_ram), cmocka_unit_test(test_mmio_routes),
        cmocka_unit_test(test_mmio_bad_gsi),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
