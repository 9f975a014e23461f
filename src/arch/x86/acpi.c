/* acpi.c: ACPI tables (RSDP, XSDT, FADT, DSDT, MADT) for the guest. */
#include "arch/x86/acpi.h"

#include <errno.h>
#include <string.h>

#include "arch/x86/arch.h"
#include "arch/x86/pc.h"
#include "dev/acpi_sleep.h"
#include "dev/rtc.h"
#include "error.h"
#include "le.h"

/*
 * Layouts follow ACPI 6.3 (FADT 6.3, MADT revision 5). Tables are byte
 * arrays written field by field at the offsets the spec gives, so host
 * struct padding and endianness never matter.
 */
#define ACPI_OEM_ID "KVMRUN"
#define ACPI_OEM_TABLE_ID "KVMRUN  "
#define ACPI_CREATOR_ID "KVMR"

#define HDR_LEN 36 /* every table's System Description Header */
#define HDR_CHECKSUM 9
#define RSDP_LEN 36
#define RSDP_V1_LEN 20 /* what the first checksum covers */
#define XSDT_LEN (HDR_LEN + 2 * 8)
#define FADT_LEN 276
#define MADT_LAPIC_LEN 8
#define MADT_IOAPIC_LEN 12
#define MADT_ISO_LEN 10
#define MADT_NMI_LEN 6
#define MADT_NISO 2
#define MADT_LEN(n)                                                            \
    (HDR_LEN + 8 + (n)*MADT_LAPIC_LEN + MADT_IOAPIC_LEN +                      \
     MADT_NISO * MADT_ISO_LEN + MADT_NMI_LEN)

/* FADT fields (ACPI 6.3 table 5-34). */
#define FADT_DSDT 40
#define FADT_SCI_INT 46
#define FADT_CENTURY 108
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_MINOR_VERSION 131
#define FADT_X_DSDT 140
#define FADT_SLEEP_CONTROL_REG 244
#define FADT_SLEEP_STATUS_REG 256
#define FADT_HYPERVISOR_ID 268

#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_F_HW_REDUCED_ACPI (1u << 20)
#define IAPC_VGA_NOT_PRESENT (1u << 2)

#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1

/* MADT interrupt flags (MPS INTI): polarity bits 1:0, trigger mode 3:2. */
#define INTI_CONFORMING 0x0
#define INTI_ACTIVE_HIGH 0x1
#define INTI_LEVEL 0xc

/*
 * DSDT body, ASL:
 *
 *     Name (\_S5, Package () { 0x05, 0x00 })
 *     Scope (\_SB)
 *     {
 *         Device (COM1)
 *         {
 *             Name (_HID, EisaId ("PNP0501"))
 *             Name (_UID, 0x00)
 *             Name (_CRS, ResourceTemplate ()
 *             {
 *                 IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08)
 *                 IRQNoFlags () {4}
 *             })
 *         }
 *         Device (RTC)
 *         {
 *             Name (_HID, EisaId ("PNP0B00"))
 *             Name (_CRS, ResourceTemplate ()
 *             {
 *                 IO (Decode16, 0x0070, 0x0070, 0x01, 0x02)
 *                 IRQNoFlags () {8}
 *             })
 *         }
 *         (a Device (VRnn) per virtio-mmio device: aml_virtio_mmio)
 *     }
 *
 * \_S5 gives the SLP_TYP our sleep control register powers off on. In
 * hardware-reduced mode Linux has no legacy PIC and maps an ISA IRQ to
 * its IOAPIC pin only for a device that names it in _CRS, so COM1 and the
 * RTC must be here: without them the console's IRQ 4 never reaches the
 * driver and rtc_cmos's probe fails. The RTC raises no interrupt (see
 * rtc.c); IRQ 8 is declared as on every PC.
 *
 * Encodings (ACPI 6.3 chapters 6.4 and 20): PkgLength counts itself and
 * what follows it, in one byte below 64, else two (0x40 | bits 3:0, then
 * bits 11:4). EisaId packs three 5-bit letters ('A' = 1) big-endian, then
 * the product number: PNP0501 is bytes 41 d0 05 01. Each _CRS Buffer
 * holds an IO descriptor (0x47, decode16, min, max, alignment, length),
 * an IRQ descriptor without flags (0x22, 16-bit mask) and the end tag
 * (0x79, checksum 0 meaning "not checked"): 13 bytes.
 */
#define AML_NAME 0x08
#define AML_BYTE 0x0a
#define AML_DWORD 0x0c
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_EXT 0x5b
#define AML_DEVICE 0x82 /* after AML_EXT */
#define AML_ROOT '\\'

/* Name (_CRS, ResourceTemplate () { IO (Decode16, port, port, 1, len)
 * IRQNoFlags () {irq} }): 22 bytes. */
#define AML_CRS_IO_IRQ(port, len, irq)                                         \
    AML_NAME, '_', 'C', 'R', 'S', AML_BUFFER, 0x10, AML_BYTE, 0x0d, 0x47,      \
        0x01, (port)&0xff, (port) >> 8, (port)&0xff, (port) >> 8, 0x01, (len), \
        0x22, (1u << (irq)) & 0xff, (1u << (irq)) >> 8, 0x79, 0x00

/* Name (\_S5, Package () { 5, 0 }): 12 bytes. */
static const uint8_t dsdt_s5[] = {
    AML_NAME, AML_ROOT,          '_',  'S', '5', '_', AML_PACKAGE, 0x05, 0x02,
    AML_BYTE, ACPI_SLEEP_TYP_S5, 0x00,
};

/* \_SB's fixed devices, COM1 and the RTC: 45 + 39 bytes. */
static const uint8_t dsdt_sb_fixed[] = {
    /* PkgLength 43 = 1 + 4 ("COM1") + 10 (_HID) + 6 (_UID) + 22 (_CRS) */
    AML_EXT,
    AML_DEVICE,
    0x2b,
    'C',
    'O',
    'M',
    '1',
    AML_NAME,
    '_',
    'H',
    'I',
    'D',
    AML_DWORD,
    0x41,
    0xd0,
    0x05,
    0x01,
    AML_NAME,
    '_',
    'U',
    'I',
    'D',
    0x00,
    AML_CRS_IO_IRQ(PC_COM1_PORT, 8, PC_COM1_IRQ),
    /* PkgLength 37 = 1 + 4 ("RTC_") + 10 (_HID) + 22 (_CRS) */
    AML_EXT,
    AML_DEVICE,
    0x25,
    'R',
    'T',
    'C',
    '_',
    AML_NAME,
    '_',
    'H',
    'I',
    'D',
    AML_DWORD,
    0x41,
    0xd0,
    0x0b,
    0x00,
    AML_CRS_IO_IRQ(PC_RTC_PORT, 2, PC_RTC_IRQ),
};
/* The hand-counted PkgLengths. */
_Static_assert(sizeof(dsdt_s5) == 12, "\\_S5 PkgLength");
_Static_assert(sizeof(dsdt_sb_fixed) == 2 + 43 + 2 + 37, "COM1, RTC PkgLength");

/*
 * AML built at run time, for the virtio-mmio devices the machine has:
 *
 *     Device (VR00)
 *     {
 *         Name (_HID, "LNRO0005")
 *         Name (_UID, 0)
 *         Name (_CCA, One)
 *         Name (_CRS, ResourceTemplate ()
 *         {
 *             Memory32Fixed (ReadWrite, 0xFEB00000, 0x1000)
 *             Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive)
 *                 { 16 }
 *         })
 *     }
 *
 * as Firecracker and QEMU's microvm describe theirs: Linux's virtio_mmio
 * driver matches LNRO0005, and without CMDLINE_DEVICES (Debian's
 * kernels) this is the only way an x86 guest finds the device. _CCA:
 * DMA is cache-coherent. Memory32Fixed is a large resource item (0x86,
 * length 9: read-write flag, base, length); the Extended Interrupt
 * descriptor (0x89, length 6: flags, a table of one interrupt) has
 * flags consumer (bit 0) and edge (bit 1), active high (bit 2 clear),
 * exclusive (bit 3 clear).
 */
#define AML_STRING 0x0d
#define AML_ONE 0x01
#define AML_MEM32_FIXED 0x86
#define AML_EXT_IRQ 0x89
#define AML_END_TAG 0x79
#define AML_IRQ_CONSUMER_EDGE 0x03
#define AML_CRS_VIRTIO_LEN (12 + 9 + 2)
/* The DSDT's body at most: the fixed part and 64-byte devices, far more
 * than the machine's MMIO slots give. */
#define ACPI_DSDT_MAX 2048

/* An AML stream built into a caller's buffer; len past cap means it did
 * not fit (nothing is written past cap). */
struct aml {
    uint8_t *p;
    size_t len, cap;
};

static void aml_put(struct aml *a, const void *bytes, size_t n)
{
    if (a->len + n <= a->cap)
        memcpy(a->p + a->len, bytes, n);
    a->len += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
    aml_put(a, &b, 1);
}

static void aml_dword(struct aml *a, uint32_t v)
{
    uint8_t b[4];

    le_put(b, 4, v);
    aml_put(a, b, 4);
}

/* Name (NAME, ...): the object follows. */
static void aml_name(struct aml *a, const char name[4])
{
    aml_byte(a, AML_NAME);
    aml_put(a, name, 4);
}

static void aml_string(struct aml *a, const char *s)
{
    aml_byte(a, AML_STRING);
    aml_put(a, s, strlen(s) + 1);
}

/* A package's body starts here; aml_close() gives it its PkgLength. */
static size_t aml_open(const struct aml *a)
{
    return a->len;
}

/*
 * Puts the PkgLength of the body from start to the end before it. It
 * counts itself and the body: one byte up to 63, else a lead byte with
 * the count of bytes that follow in bits 7:6 and the length's bits 3:0,
 * then its next bits 8 at a time (ACPI 6.3 section 20.2.4).
 */
static void aml_close(struct aml *a, size_t start)
{
    size_t body = a->len - start;
    size_t n = body + 1 < 0x40 ? 1 : body + 2 < 0x1000 ? 2 : 3;
    size_t total = body + n;
    uint8_t lead[3] = {(uint8_t)total};

    if (n > 1) {
        lead[0] = (uint8_t)((n - 1) << 6 | (total & 0xf));
        lead[1] = (uint8_t)(total >> 4);
        lead[2] = (uint8_t)(total >> 12);
    }
    if (a->len + n <= a->cap) {
        memmove(a->p + start + n, a->p + start, body);
        memcpy(a->p + start, lead, n);
    }
    a->len += n;
}

/* Device (VRnn) for the virtio-mmio device uid at its window and GSI. */
static void aml_virtio_mmio(struct aml *a, unsigned uid,
                            const struct pc_mmio_dev *d)
{
    static const char hex[] = "0123456789ABCDEF";
    const char name[4] = {'V', 'R', hex[(uid >> 4) & 0xf], hex[uid & 0xf]};
    size_t dev, crs;

    aml_byte(a, AML_EXT);
    aml_byte(a, AML_DEVICE);
    dev = aml_open(a);
    aml_put(a, name, 4);
    aml_name(a, "_HID");
    aml_string(a, "LNRO0005");
    aml_name(a, "_UID");
    aml_byte(a, AML_BYTE);
    aml_byte(a, (uint8_t)uid);
    aml_name(a, "_CCA");
    aml_byte(a, AML_ONE);
    aml_name(a, "_CRS");
    aml_byte(a, AML_BUFFER);
    crs = aml_open(a);
    aml_byte(a, AML_BYTE);
    aml_byte(a, AML_CRS_VIRTIO_LEN);
    aml_put(a, (const uint8_t[]){AML_MEM32_FIXED, 9, 0, 1}, 4);
    aml_dword(a, (uint32_t)d->base);
    aml_dword(a, PC_MMIO_SLOT_SIZE);
    aml_put(a, (const uint8_t[]){AML_EXT_IRQ, 6, 0, AML_IRQ_CONSUMER_EDGE, 1},
            5);
    aml_dword(a, d->gsi);
    aml_put(a, (const uint8_t[]){AML_END_TAG, 0}, 2);
    aml_close(a, crs);
    aml_close(a, dev);
}

/* The DSDT's body: \_S5, then Scope (\_SB) with its devices. */
static void aml_dsdt(struct aml *a, const struct pc_mmio_dev *mmio,
                     unsigned nmmio)
{
    size_t scope;

    aml_put(a, dsdt_s5, sizeof(dsdt_s5));
    aml_byte(a, AML_SCOPE);
    scope = aml_open(a);
    aml_put(a, (const uint8_t[]){AML_ROOT, '_', 'S', 'B', '_'}, 5);
    aml_put(a, dsdt_sb_fixed, sizeof(dsdt_sb_fixed));
    for (unsigned i = 0; i < nmmio; i++)
        aml_virtio_mmio(a, i, &mmio[i]);
    aml_close(a, scope);
}

/* The tables' places in the area, RSDP first; 16-byte aligned each. */
struct acpi_layout {
    uint64_t rsdp, xsdt, fadt, dsdt, madt, end;
};

static uint64_t align16(uint64_t v)
{
    return (v + 15) & ~15ULL;
}

static void acpi_plan(struct acpi_layout *l, unsigned ncpus, size_t aml_len)
{
    l->rsdp = ARCH_ACPI_ADDR;
    l->xsdt = align16(l->rsdp + RSDP_LEN);
    l->fadt = align16(l->xsdt + XSDT_LEN);
    l->dsdt = align16(l->fadt + FADT_LEN);
    l->madt = align16(l->dsdt + HDR_LEN + aml_len);
    l->end = l->madt + MADT_LEN((uint64_t)ncpus);
}

static uint8_t acpi_sum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;

    while (len--)
        sum = (uint8_t)(sum + *p++);
    return sum;
}

/* Sets the byte at p[at] so that p[0..len) sums to 0 (mod 256). */
static void acpi_checksum(uint8_t *p, size_t len, size_t at)
{
    p[at] = 0;
    p[at] = (uint8_t)-acpi_sum(p, len);
}

static void acpi_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    le_put(t + 4, 4, len);
    t[8] = rev;
    memcpy(t + 10, ACPI_OEM_ID, 6);
    memcpy(t + 16, ACPI_OEM_TABLE_ID, 8);
    le_put(t + 24, 4, 1); /* OEM revision */
    memcpy(t + 28, ACPI_CREATOR_ID, 4);
    le_put(t + 32, 4, 1); /* creator revision */
}

/* The checksum goes last, over the table's final bytes. */
static void acpi_finish(uint8_t *t)
{
    acpi_checksum(t, (size_t)le_get(t + 4, 4), HDR_CHECKSUM);
}

/* Generic Address Structure (ACPI 6.3 section 5.2.3.2), 12 bytes. */
static void acpi_gas_io8(uint8_t *g, uint16_t port)
{
    g[0] = GAS_SYSTEM_IO;
    g[1] = 8; /* register bit width */
    g[2] = 0; /* bit offset */
    g[3] = GAS_ACCESS_BYTE;
    le_put(g + 4, 8, port);
}

static void acpi_write_rsdp(uint8_t *t, uint64_t xsdt)
{
    memcpy(t, "RSD PTR ", 8);
    memcpy(t + 9, ACPI_OEM_ID, 6);
    t[15] = 2; /* revision 2: XSDT and the extended sum */
    /* RsdtAddress (16) stays 0: the XSDT is the only root table. */
    le_put(t + 20, 4, RSDP_LEN);
    le_put(t + 24, 8, xsdt);
    acpi_checksum(t, RSDP_V1_LEN, 8);
    acpi_checksum(t, RSDP_LEN, 32);
}

static void acpi_write_xsdt(uint8_t *t, uint64_t fadt, uint64_t madt)
{
    acpi_header(t, "XSDT", XSDT_LEN, 1);
    le_put(t + HDR_LEN, 8, fadt);
    le_put(t + HDR_LEN + 8, 8, madt);
    acpi_finish(t);
}

/*
 * Hardware-reduced ACPI: no PM1 blocks, GPEs, PM timer or FACS, so every
 * fixed-hardware field stays 0 and Linux uses the sleep registers to enter
 * S5. SCI_INT names IRQ 9 although the guest never gets an SCI: Linux
 * takes the MADT override whose source equals SCI_INT as the SCI's, so
 * SCI_INT 0 would turn the timer's IRQ 0 -> GSI 2 override into one.
 */
static void acpi_write_fadt(uint8_t *t, uint64_t dsdt)
{
    acpi_header(t, "FACP", FADT_LEN, 6);
    le_put(t + FADT_DSDT, 4, dsdt);
    le_put(t + FADT_SCI_INT, 2, PC_SCI_IRQ);
    /* Where the RTC keeps the century, so Linux reads the full year
     * rather than guessing the century from two digits. */
    t[FADT_CENTURY] = RTC_CENTURY;
    /* No VGA; no 8042 flag, so Linux's i8042 driver does not probe a
     * controller that only knows the reset command. */
    le_put(t + FADT_IAPC_BOOT_ARCH, 2, IAPC_VGA_NOT_PRESENT);
    le_put(t + FADT_FLAGS, 4, FADT_F_HW_REDUCED_ACPI | FADT_F_RESET_REG_SUP);
    acpi_gas_io8(t + FADT_RESET_REG, ACPI_RESET_PORT);
    t[FADT_RESET_VALUE] = ACPI_RESET_VALUE;
    t[FADT_MINOR_VERSION] = 3; /* ACPI 6.3 */
    le_put(t + FADT_X_DSDT, 8, dsdt);
    acpi_gas_io8(t + FADT_SLEEP_CONTROL_REG, PC_ACPI_SLEEP_PORT);
    acpi_gas_io8(t + FADT_SLEEP_STATUS_REG, PC_ACPI_SLEEP_PORT + 1);
    memcpy(t + FADT_HYPERVISOR_ID, "KVMRUN\0\0", 8);
    acpi_finish(t);
}

static void acpi_write_dsdt(uint8_t *t, const uint8_t *aml, size_t len)
{
    /* revision 2: 64-bit integers */
    acpi_header(t, "DSDT", (uint32_t)(HDR_LEN + len), 2);
    memcpy(t + HDR_LEN, aml, len);
    acpi_finish(t);
}

/* Interrupt Source Override (type 2) for an ISA IRQ. */
static uint8_t *acpi_madt_iso(uint8_t *e, uint8_t irq, uint32_t gsi,
                              uint16_t flags)
{
    e[0] = 2;
    e[1] = MADT_ISO_LEN;
    e[2] = 0; /* bus: ISA */
    e[3] = irq;
    le_put(e + 4, 4, gsi);
    le_put(e + 8, 2, flags);
    return e + MADT_ISO_LEN;
}

/*
 * MADT flags: PCAT_COMPAT, as QEMU sets it whenever the machine has an
 * 8259 (KVM's in-kernel irqchip does). Linux ignores the 8259 anyway in
 * hardware-reduced mode, so this only tells the truth about the hardware.
 */
static void acpi_write_madt(uint8_t *t, unsigned ncpus)
{
    uint8_t *e = t + HDR_LEN + 8;

    acpi_header(t, "APIC", (uint32_t)MADT_LEN(ncpus), 5);
    le_put(t + HDR_LEN, 4, ARCH_LAPIC_ADDR);
    le_put(t + HDR_LEN + 4, 4, 1); /* PCAT_COMPAT */
    for (unsigned i = 0; i < ncpus; i++, e += MADT_LAPIC_LEN) {
        e[0] = 0; /* Processor Local APIC */
        e[1] = MADT_LAPIC_LEN;
        e[2] = (uint8_t)i;   /* ACPI processor UID */
        e[3] = (uint8_t)i;   /* APIC ID, as arch_vcpu_set_cpuid sets */
        le_put(e + 4, 4, 1); /* enabled */
    }
    e[0] = 1; /* I/O APIC */
    e[1] = MADT_IOAPIC_LEN;
    e[2] = (uint8_t)ncpus; /* an ID no local APIC has */
    le_put(e + 4, 4, ARCH_IOAPIC_ADDR);
    le_put(e + 8, 4, 0); /* GSI base */
    e += MADT_IOAPIC_LEN;
    /* The PIT's IRQ 0 is wired to IOAPIC pin 2 (pin 0 is the 8259's
     * ExtINT), as on every PC; IRQ 9 is the SCI's, level/high. */
    e = acpi_madt_iso(e, 0, 2, INTI_CONFORMING);
    e = acpi_madt_iso(e, PC_SCI_IRQ, PC_SCI_IRQ, INTI_LEVEL | INTI_ACTIVE_HIGH);
    e[0] = 4; /* Local APIC NMI: LINT1 on every CPU */
    e[1] = MADT_NMI_LEN;
    e[2] = 0xff; /* all processors */
    le_put(e + 3, 2, INTI_CONFORMING);
    e[5] = 1; /* LINT1 */
    acpi_finish(t);
}

int acpi_write_tables(struct guest_mem *mem, unsigned ncpus,
                      const struct pc_mmio_dev *mmio, unsigned nmmio,
                      uint64_t *rsdp_addr)
{
    uint8_t aml_buf[ACPI_DSDT_MAX];
    struct aml aml = {aml_buf, 0, sizeof(aml_buf)};
    struct acpi_layout l;
    uint8_t *area;

    if (ncpus == 0)
        return err_set(EINVAL, "ACPI tables: no vCPU");
    if (ncpus > ACPI_MAX_CPUS)
        return err_set(ERANGE,
                       "ACPI tables: %u vCPUs, but xAPIC IDs allow "
                       "at most %u",
                       ncpus, ACPI_MAX_CPUS);
    aml_dsdt(&aml, mmio, nmmio);
    if (aml.len > aml.cap)
        return err_set(ERANGE,
                       "ACPI tables: the DSDT for %u MMIO devices "
                       "needs %zu bytes, more than %zu",
                       nmmio, aml.len, aml.cap);
    acpi_plan(&l, ncpus, aml.len);
    if (l.end > ARCH_ACPI_END)
        return err_set(ERANGE,
                       "ACPI tables for %u vCPUs need %llu bytes, "
                       "more than the %llu at %#llx",
                       ncpus, (unsigned long long)(l.end - ARCH_ACPI_ADDR),
                       ARCH_ACPI_END - ARCH_ACPI_ADDR, ARCH_ACPI_ADDR);
    area = mem_ptr(mem, ARCH_ACPI_ADDR, ARCH_ACPI_END - ARCH_ACPI_ADDR);
    if (!area)
        return err_set(ERANGE, "ACPI tables: %#llx-%#llx is not guest RAM",
                       ARCH_ACPI_ADDR, ARCH_ACPI_END - 1);
    memset(area, 0, ARCH_ACPI_END - ARCH_ACPI_ADDR);
    acpi_write_dsdt(area + (l.dsdt - ARCH_ACPI_ADDR), aml_buf, aml.len);
    acpi_write_fadt(area + (l.fadt - ARCH_ACPI_ADDR), l.dsdt);
    acpi_write_madt(area + (l.madt - ARCH_ACPI_ADDR), ncpus);
    acpi_write_xsdt(area + (l.xsdt - ARCH_ACPI_ADDR), l.fadt, l.madt);
    acpi_write_rsdp(area + (l.rsdp - ARCH_ACPI_ADDR), l.xsdt);
    *rsdp_addr = l.rsdp;
    return 0;
}
