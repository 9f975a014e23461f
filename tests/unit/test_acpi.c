/* test_acpi.c: unit tests of the ACPI tables, parsed back as Linux would. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/acpi.h"
#include "arch/x86/arch.h"
#include "kvmrun.h"
#include "guest_tables.h"
#include "mem.h"

/* A table inside the ACPI area: signature, length, checksum, header. */
static const uint8_t *table(const struct guest_mem *mem, uint64_t gpa,
                            const char *sig, uint8_t rev)
{
    const uint8_t *t = mem_ptr(mem, gpa, 36);
    uint32_t len;

    assert_non_null(t);
    assert_true(gpa >= ARCH_ACPI_ADDR);
    assert_int_equal(gpa % 8, 0);
    assert_memory_equal(t, sig, 4);
    len = (uint32_t)le(t + 4, 4);
    assert_true(len >= 36);
    assert_true(gpa + len <= ARCH_ACPI_END);
    assert_int_equal(t[8], rev);
    assert_int_equal(sum(t, len), 0);
    assert_memory_equal(t + 10, "KVMRUN", 6);
    return t;
}

/* Linux's scan: "RSD PTR " on a 16-byte boundary in 0xe0000-0xfffff with
 * a valid ACPI 1.0 checksum. */
static uint64_t scan_rsdp(const struct guest_mem *mem)
{
    for (uint64_t a = 0xe0000; a < 0x100000; a += 16) {
        const uint8_t *p = mem_ptr(mem, a, 20);

        if (!memcmp(p, "RSD PTR ", 8) && sum(p, 20) == 0)
            return a;
    }
    return 0;
}

struct parsed {
    const uint8_t *fadt, *madt, *dsdt;
};

static void parse_mmio(const struct guest_mem *mem, unsigned ncpus,
                       const struct pc_mmio_dev *mmio, unsigned nmmio,
                       struct parsed *p)
{
    uint64_t rsdp_addr = 0, xsdt_addr;
    const uint8_t *rsdp, *xsdt;

    assert_int_equal(acpi_write_tables((struct guest_mem *)mem, ncpus, mmio,
                                       nmmio, &rsdp_addr),
                     0);
    assert_int_equal(rsdp_addr, ARCH_ACPI_ADDR);
    assert_int_equal(scan_rsdp(mem), rsdp_addr);
    rsdp = mem_ptr(mem, rsdp_addr, 36);
    assert_int_equal(rsdp[15], 2); /* revision */
    assert_memory_equal(rsdp + 9, "KVMRUN", 6);
    assert_int_equal(le(rsdp + 16, 4), 0); /* no RSDT */
    assert_int_equal(le(rsdp + 20, 4), 36);
    assert_int_equal(sum(rsdp, 36), 0); /* extended checksum */
    xsdt_addr = le(rsdp + 24, 8);
    xsdt = table(mem, xsdt_addr, "XSDT", 1);
    assert_int_equal(le(xsdt + 4, 4), 36 + 2 * 8);
    p->fadt = table(mem, le(xsdt + 36, 8), "FACP", 6);
    p->madt = table(mem, le(xsdt + 44, 8), "APIC", 5);
    assert_int_equal(le(p->fadt + 40, 4), le(p->fadt + 140, 8));
    p->dsdt = table(mem, le(p->fadt + 140, 8), "DSDT", 2);
}

static void parse(const struct guest_mem *mem, unsigned ncpus, struct parsed *p)
{
    parse_mmio(mem, ncpus, NULL, 0, p);
}

/* A Generic Address Structure: SystemIO, 8 bits at offset 0, byte access. */
static void check_gas_io8(const uint8_t *g, uint64_t port)
{
    assert_int_equal(g[0], 1);
    assert_int_equal(g[1], 8);
    assert_int_equal(g[2], 0);
    assert_int_equal(g[3], 1);
    assert_int_equal(le(g + 4, 8), port);
}

static void test_fadt(void **state)
{
    struct parsed p;

    parse(*state, 1, &p);
    assert_int_equal(le(p.fadt + 4, 4), 276);
    assert_int_equal(le(p.fadt + 112, 4), (1u << 20) | (1u << 10));
    assert_int_equal(p.fadt[131], 3);        /* minor: ACPI 6.3 */
    assert_int_equal(le(p.fadt + 46, 2), 9); /* SCI_INT */
    assert_int_equal(p.fadt[108], 0x32);     /* CENTURY */
    check_gas_io8(p.fadt + 116, 0x64);       /* RESET_REG */
    assert_int_equal(p.fadt[128], 0xfe);     /* RESET_VALUE */
    check_gas_io8(p.fadt + 244, 0x600);      /* SLEEP_CONTROL_REG */
    check_gas_io8(p.fadt + 256, 0x601);      /* SLEEP_STATUS_REG */
    assert_memory_equal(p.fadt + 268, "KVMRUN\0\0", 8);
    assert_int_equal(le(p.fadt + 36, 4), 0); /* no FACS */
    assert_int_equal(le(p.fadt + 132, 8), 0);
    /* PM1a_CNT_BLK, PM_TMR_BLK and the X_ blocks (X_PM1a_EVT..X_GPE1)
     * are absent in hardware-reduced ACPI. */
    for (unsigned off = 56; off < 88; off++)
        assert_int_equal(p.fadt[off], 0);
    for (unsigned off = 148; off < 244; off++)
        assert_int_equal(p.fadt[off], 0);
}

/* The DSDT's AML, byte for byte: what iasl compiles from the ASL in
 * acpi.c, but with the root prefixes on \_S5 and \_SB kept. */
static void test_dsdt(void **state)
{
    static const uint8_t aml[] = {
        0x08, 0x5c, '_',  'S',  '5',  '_',             /* Name (\_S5, */
        0x12, 0x05, 0x02, 0x0a, 0x05, 0x00,            /* Package () {5, 0}) */
        0x10, 0x4b, 0x05, 0x5c, '_',  'S',  'B',  '_', /* Scope (\_SB), 91 */
        0x5b, 0x82, 0x2b, 'C',  'O',  'M',  '1',       /* Device (COM1), 43 */
        0x08, '_',  'H',  'I',  'D',                   /* Name (_HID, */
        0x0c, 0x41, 0xd0, 0x05, 0x01,                  /* EisaId ("PNP0501")) */
        0x08, '_',  'U',  'I',  'D',  0x00,            /* Name (_UID, Zero) */
        0x08, '_',  'C',  'R',  'S',                   /* Name (_CRS, */
        0x11, 0x10, 0x0a, 0x0d,                        /* Buffer (13) { */
        0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, /* IO 0x3f8/8 */
        0x22, 0x10, 0x00,                               /* IRQNoFlags () {4} */
        0x79, 0x00,                                     /* end tag }) */
        0x5b, 0x82, 0x25, 'R',  'T',  'C',  '_',        /* Device (RTC), 37 */
        0x08, '_',  'H',  'I',  'D',                    /* Name (_HID, */
        0x0c, 0x41, 0xd0, 0x0b, 0x00, /* EisaId ("PNP0B00")) */
        0x08, '_',  'C',  'R',  'S',  /* Name (_CRS, */
        0x11, 0x10, 0x0a, 0x0d,       /* Buffer (13) { */
        0x47, 0x01, 0x70, 0x00, 0x70, 0x00, 0x01, 0x02, /* IO 0x70/2 */
        0x22, 0x00, 0x01,                               /* IRQNoFlags () {8} */
        0x79, 0x00,                                     /* end tag }) */
    };
    struct parsed p;

    parse(*state, 1, &p);
    assert_int_equal(sizeof(aml), 104);
    assert_int_equal(le(p.dsdt + 4, 4), 36 + sizeof(aml));
    assert_memory_equal(p.dsdt + 36, aml, sizeof(aml));
}

/* Two virtio-mmio devices: Device (VR00) and (VR01) after COM1 and the
 * RTC in \_SB, byte for byte (iasl's output for the ASL in acpi.c), and
 * the Scope's PkgLength grown to two bytes' worth of 227. */
static void test_dsdt_virtio_mmio(void **state)
{
    static const struct pc_mmio_dev mmio[] = {{0xfeb00000, 16},
                                              {0xfeb01000, 17}};
    static const uint8_t vr01[] = {
        0x5b, 0x82, 0x42, 0x04, 'V',  'R',  '0',  '1', /* Device (VR01), 66 */
        0x08, '_',  'H',  'I',  'D',                   /* Name (_HID, */
        0x0d, 'L',  'N',  'R',  'O',  '0',  '0',  '0',
        '5',  0x00,                                     /* "LNRO0005" */
        0x08, '_',  'U',  'I',  'D',  0x0a, 0x01,       /* Name (_UID, 1) */
        0x08, '_',  'C',  'C',  'A',  0x01,             /* Name (_CCA, One) */
        0x08, '_',  'C',  'R',  'S',                    /* Name (_CRS, */
        0x11, 0x1a, 0x0a, 0x17,                         /* Buffer (23) { */
        0x86, 0x09, 0x00, 0x01,                         /* Memory32Fixed RW */
        0x00, 0x10, 0xb0, 0xfe, 0x00, 0x10, 0x00, 0x00, /* 0xfeb01000, 4K */
        0x89, 0x06, 0x00, 0x03, 0x01, /* Interrupt (Consumer, Edge, High, */
        0x11, 0x00, 0x00, 0x00,       /* Exclusive) {17} */
        0x79, 0x00,                   /* end tag }) */
    };
    struct parsed p;
    const uint8_t *aml;

    parse_mmio(*state, 1, mmio, 2, &p);
    aml = p.dsdt + 36;
    assert_int_equal(le(p.dsdt + 4, 4), 36 + 12 + 3 + 5 + 84 + 2 * 68);
    assert_int_equal(aml[12], 0x10); /* Scope */
    assert_int_equal(aml[13], 0x43); /* PkgLength 227 = 0xe3: 0x40 | 3, */
    assert_int_equal(aml[14], 0x0e); /* then 0xe */
    assert_memory_equal(aml + 20 + 84 + 4, "VR00", 4);
    assert_int_equal(le(aml + 20 + 84 + 49, 4), 0xfeb00000);
    assert_int_equal(le(aml + 20 + 84 + 62, 4), 16);
    assert_memory_equal(aml + 20 + 84 + 68, vr01, sizeof(vr01));
    assert_int_equal(sizeof(vr01), 68);
}

/* EISA IDs as ACPI packs them: three 5-bit letters, then four hex digits,
 * read as a little-endian dword. */
static uint32_t eisa_id(const char *id)
{
    uint32_t letters = (uint32_t)(id[0] - '@') << 10 |
                       (uint32_t)(id[1] - '@') << 5 | (uint32_t)(id[2] - '@');
    uint32_t product = (uint32_t)strtoul(id + 3, NULL, 16);

    return (letters >> 8 | (letters & 0xff) << 8) |
           (product >> 8 | (product & 0xff) << 8) << 16;
}

/* Cross-checks the hand-packed IDs against the formula. */
static void test_dsdt_eisa_ids(void **state)
{
    struct parsed p;

    parse(*state, 1, &p);
    assert_int_equal(eisa_id("PNP0501"), 0x0105d041);
    assert_int_equal(le(p.dsdt + 36 + 33, 4), eisa_id("PNP0501"));
    assert_int_equal(le(p.dsdt + 36 + 78, 4), eisa_id("PNP0B00"));
}

/* Walks the MADT: one local APIC per vCPU (UID = APIC ID = index,
 * enabled), then the IOAPIC, the two overrides and the LINT1 NMI. */
static void check_madt(const struct guest_mem *mem, unsigned ncpus)
{
    struct parsed p;
    const uint8_t *e, *end;
    unsigned nlapic = 0, nioapic = 0, niso = 0, nnmi = 0;

    parse(mem, ncpus, &p);
    assert_int_equal(le(p.madt + 36, 4), 0xfee00000);
    assert_int_equal(le(p.madt + 40, 4), 1); /* PCAT_COMPAT */
    end = p.madt + le(p.madt + 4, 4);
    for (e = p.madt + 44; e < end; e += e[1]) {
        assert_true(e[1] >= 2 && e + e[1] <= end);
        switch (e[0]) {
        case 0:
            assert_int_equal(e[1], 8);
            assert_int_equal(nioapic + niso + nnmi, 0);
            assert_int_equal(e[2], nlapic);
            assert_int_equal(e[3], nlapic);
            assert_int_equal(le(e + 4, 4), 1);
            nlapic++;
            break;
        case 1:
            assert_int_equal(e[1], 12);
            assert_int_equal(e[2], ncpus);
            assert_int_equal(le(e + 4, 4), 0xfec00000);
            assert_int_equal(le(e + 8, 4), 0);
            nioapic++;
            break;
        case 2:
            assert_int_equal(e[1], 10);
            assert_int_equal(e[2], 0);
            if (e[3] == 0) {
                assert_int_equal(le(e + 4, 4), 2);
                assert_int_equal(le(e + 8, 2), 0);
            } else {
                assert_int_equal(e[3], 9);
                assert_int_equal(le(e + 4, 4), 9);
                assert_int_equal(le(e + 8, 2), 0xd);
            }
            niso++;
            break;
        case 4:
            assert_int_equal(e[1], 6);
            assert_int_equal(e[2], 0xff);
            assert_int_equal(e[5], 1);
            nnmi++;
            break;
        default:
            fail_msg("unexpected MADT entry type %u", e[0]);
        }
    }
    assert_ptr_equal(e, end);
    assert_int_equal(nlapic, ncpus);
    assert_int_equal(nioapic, 1);
    assert_int_equal(niso, 2);
    assert_int_equal(nnmi, 1);
}

static void test_madt_1(void **state)
{
    check_madt(*state, 1);
}

static void test_madt_4(void **state)
{
    check_madt(*state, 4);
}

static void test_madt_255(void **state)
{
    check_madt(*state, 255);
}

/* Fewer vCPUs after more leave no stale entries behind. */
static void test_rewrite_shrinks(void **state)
{
    check_madt(*state, 255);
    check_madt(*state, 2);
}

static void test_bad_ncpus(void **state)
{
    uint64_t rsdp = 0x1234;

    assert_int_equal(acpi_write_tables(*state, 0, NULL, 0, &rsdp), -EINVAL);
    assert_int_equal(acpi_write_tables(*state, 256, NULL, 0, &rsdp), -ERANGE);
    assert_non_null(strstr(kvmrun_last_error(), "256 vCPUs"));
    assert_int_equal(rsdp, 0x1234);
}

static void test_area_not_ram(void **state)
{
    struct guest_mem small;
    uint64_t rsdp = 0;

    (void)state;
    assert_int_equal(mem_init(&small, 512 * 1024), 0);
    assert_int_equal(acpi_write_tables(&small, 1, NULL, 0, &rsdp), -ERANGE);
    assert_non_null(strstr(kvmrun_last_error(), "not guest RAM"));
    mem_fini(&small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fadt),
        cmocka_unit_test(test_dsdt),
        cmocka_unit_test(test_dsdt_virtio_mmio),
        cmocka_unit_test(test_dsdt_eisa_ids),
        cmocka_unit_test(test_madt_1),
        cmocka_unit_test(test_madt_4),
        cmocka_unit_test(test_madt_255),
        cmocka_unit_test(test_rewrite_shrinks),
        cmocka_unit_test(test_bad_ncpus),
        cmocka_unit_test(test_area_not_ram),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
