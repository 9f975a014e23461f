/* mptable.c: Intel MultiProcessor Specification 1.4 tables for the guest. */
#include "arch/x86/mptable.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86/arch.h"
#include "error.h"
#include "le.h"

/*
 * MP spec 1.4 chapter 4, written byte by byte at the spec's offsets.
 * Entries are in the order the spec requires: processors, buses, I/O
 * APICs, I/O interrupts, local interrupts.
 */
#define MPF_LEN 16
#define MPC_HDR_LEN 44
#define MPC_CPU_LEN 20
#define MPC_ENTRY_LEN 8 /* every other entry type */
#define MPC_NIRQ 15     /* ISA IRQs 0-15 but the cascade, 2 */
#define MPC_NLINT 2
#define MPC_LEN(n, nmmio)                                                      \
    (MPC_HDR_LEN + (n)*MPC_CPU_LEN +                                           \
     (2 + MPC_NIRQ + (nmmio) + MPC_NLINT) * MPC_ENTRY_LEN)
/* KVM's IOAPIC: pins 0-23. */
#define MP_IOAPIC_PINS 24
/* INTI flags: polarity bits 1:0 (1: active high), trigger 3:2 (1: edge). */
#define MP_EDGE_HIGH 0x5

#define MP_SPEC_REV 4          /* version 1.4 */
#define MP_APIC_VERSION 0x14   /* what KVM's local APIC reports */
#define MP_IOAPIC_VERSION 0x11 /* what KVM's IOAPIC reports */
#define MP_ISA_BUS 0

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_IOINTR, MP_LINTR };
enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };

#define MP_CPU_ENABLED 1
#define MP_CPU_BSP 2
/* CPU signature family 6, feature flags FPU and APIC: informational. */
#define MP_CPU_SIGNATURE 0x600
#define MP_CPU_FEATURES 0x201

static uint8_t mp_sum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;

    while (len--)
        sum = (uint8_t)(sum + *p++);
    return sum;
}

static void mp_checksum(uint8_t *p, size_t len, size_t at)
{
    p[at] = 0;
    p[at] = (uint8_t)-mp_sum(p, len);
}

static uint8_t *mp_cpu(uint8_t *e, unsigned id)
{
    e[0] = MP_PROCESSOR;
    e[1] = (uint8_t)id;
    e[2] = MP_APIC_VERSION;
    e[3] = MP_CPU_ENABLED | (id == 0 ? MP_CPU_BSP : 0);
    le_put(e + 4, 4, MP_CPU_SIGNATURE);
    le_put(e + 8, 4, MP_CPU_FEATURES);
    return e + MPC_CPU_LEN;
}

/* An I/O (type 3) or local (type 4) interrupt assignment, flags 0:
 * polarity and trigger conform to the bus (ISA: edge, active high). */
static uint8_t *mp_intr_flags(uint8_t *e, uint8_t type, uint8_t kind,
                              uint16_t flags, uint8_t src_irq, uint8_t dst_id,
                              uint8_t dst_pin)
{
    e[0] = type;
    e[1] = kind;
    le_put(e + 2, 2, flags);
    e[4] = MP_ISA_BUS;
    e[5] = src_irq;
    e[6] = dst_id;
    e[7] = dst_pin;
    return e + MPC_ENTRY_LEN;
}

static uint8_t *mp_intr(uint8_t *e, uint8_t type, uint8_t kind, uint8_t src_irq,
                        uint8_t dst_id, uint8_t dst_pin)
{
    return mp_intr_flags(e, type, kind, 0, src_irq, dst_id, dst_pin);
}

/* The config table's entries; returns how many. */
static unsigned mp_entries(uint8_t *e, unsigned ncpus,
                           const struct pc_mmio_dev *mmio, unsigned nmmio)
{
    uint8_t ioapic = (uint8_t)ncpus;
    unsigned n = 0;

    for (unsigned i = 0; i < ncpus; i++, n++)
        e = mp_cpu(e, i);
    e[0] = MP_BUS;
    e[1] = MP_ISA_BUS;
    memcpy(e + 2, "ISA   ", 6);
    e += MPC_ENTRY_LEN, n++;
    e[0] = MP_IOAPIC;
    e[1] = ioapic;
    e[2] = MP_IOAPIC_VERSION;
    e[3] = 1; /* enabled */
    le_put(e + 4, 4, ARCH_IOAPIC_ADDR);
    e += MPC_ENTRY_LEN, n++;
    /* The PIT's IRQ 0 is wired to pin 2, as the ACPI override says; IRQ 2
     * (the 8259 cascade) has no pin of its own then, as in SeaBIOS. */
    for (uint8_t irq = 0; irq < 16; irq++) {
        if (irq == 2)
            continue;
        e = mp_intr(e, MP_IOINTR, MP_INT, irq, ioapic, irq ? irq : 2);
        n++;
    }
    /* An MMIO device's GSI past the ISA range: without a route Linux
     * (acpi=off) has no IRQ for the pin virtio_mmio.device= names. Said
     * to be on the ISA bus, as Firecracker's table does, but edge and
     * active high explicitly. */
    for (unsigned i = 0; i < nmmio; i++, n++)
        e = mp_intr_flags(e, MP_IOINTR, MP_INT, MP_EDGE_HIGH,
                          (uint8_t)mmio[i].gsi, ioapic, (uint8_t)mmio[i].gsi);
    /* Virtual wire mode: the 8259 on LINT0, NMI on LINT1, every CPU. */
    e = mp_intr(e, MP_LINTR, MP_EXTINT, 0, 0xff, 0);
    mp_intr(e, MP_LINTR, MP_NMI, 0, 0xff, 1);
    return n + MPC_NLINT;
}

static void mp_write_config(uint8_t *t, unsigned ncpus,
                            const struct pc_mmio_dev *mmio, unsigned nmmio)
{
    unsigned len = MPC_LEN(ncpus, nmmio);

    memcpy(t, "PCMP", 4);
    le_put(t + 4, 2, len);
    t[6] = MP_SPEC_REV;
    memcpy(t + 8, "KVMRUN  ", 8);       /* OEM ID */
    memcpy(t + 16, "KVMRUN      ", 12); /* product ID */
    le_put(t + 34, 2, mp_entries(t + MPC_HDR_LEN, ncpus, mmio, nmmio));
    le_put(t + 36, 4, ARCH_LAPIC_ADDR);
    mp_checksum(t, len, 7);
}

/* Feature bytes 0: a configuration table exists (no default config),
 * and no IMCR (virtual wire mode), so the guest never touches 0x22/0x23. */
static void mp_write_floating(uint8_t *f, uint64_t config)
{
    memcpy(f, "_MP_", 4);
    le_put(f + 4, 4, config);
    f[8] = MPF_LEN / 16;
    f[9] = MP_SPEC_REV;
    mp_checksum(f, MPF_LEN, 10);
}

int mptable_write(struct guest_mem *mem, unsigned ncpus,
                  const struct pc_mmio_dev *mmio, unsigned nmmio)
{
    const uint64_t size = ARCH_MPTABLE_END - ARCH_MPTABLE_ADDR;
    uint8_t *area;

    if (ncpus == 0)
        return err_set(EINVAL, "MP table: no vCPU");
    if (ncpus > MPTABLE_MAX_CPUS)
        return err_set(ERANGE,
                       "MP table: %u vCPUs, but APIC IDs allow at "
                       "most %u",
                       ncpus, MPTABLE_MAX_CPUS);
    for (unsigned i = 0; i < nmmio; i++)
        if (mmio[i].gsi < 16 || mmio[i].gsi >= MP_IOAPIC_PINS)
            return err_set(EINVAL,
                           "MP table: GSI %u is not an IOAPIC pin "
                           "past the ISA IRQs (16-%u)",
                           mmio[i].gsi, MP_IOAPIC_PINS - 1);
    if (MPF_LEN + MPC_LEN((uint64_t)ncpus, nmmio) > size)
        return err_set(ERANGE,
                       "MP table for %u vCPUs does not fit in "
                       "%llu bytes",
                       ncpus, (unsigned long long)size);
    area = mem_ptr(mem, ARCH_MPTABLE_ADDR, size);
    if (!area)
        return err_set(ERANGE, "MP table: %#llx-%#llx is not guest RAM",
                       ARCH_MPTABLE_ADDR, ARCH_MPTABLE_END - 1);
    memset(area, 0, size);
    mp_write_config(area + MPF_LEN, ncpus, mmio, nmmio);
    mp_write_floating(area, ARCH_MPTABLE_ADDR + MPF_LEN);
    return 0;
}
