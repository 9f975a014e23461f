/* acpi.h: ACPI tables (RSDP, XSDT, FADT, DSDT, MADT) for the guest. */
#ifndef KVMRUN_ACPI_H
#define KVMRUN_ACPI_H

#include <stdint.h>

#include "arch/x86/pc.h"
#include "mem.h"

/* xAPIC IDs are 8 bits and 0xff is the broadcast ID: APIC IDs 0..254. */
#define ACPI_MAX_CPUS 255

/* FADT reset register: the i8042's command port, its pulse-reset
 * command. */
#define ACPI_RESET_PORT (PC_I8042_PORT + 4)
#define ACPI_RESET_VALUE 0xfe

/*
 * Writes the tables into [ARCH_ACPI_ADDR, ARCH_ACPI_END) (zeroing that
 * area first): the RSDP at ARCH_ACPI_ADDR, where Linux's scan of
 * 0xe0000-0xfffff finds it, then an XSDT listing a hardware-reduced FADT
 * (with its DSDT holding \_S5) and a MADT with one local APIC per vCPU
 * (APIC ID = processor UID = index), the IOAPIC (ID ncpus) and the ISA
 * overrides. The DSDT describes COM1, the RTC and each of the nmmio
 * virtio-mmio devices mmio (LNRO0005, its window and its GSI, edge,
 * active high). *rsdp_addr gets the RSDP's address (for the Linux boot
 * protocol's acpi_rsdp_addr). 0, -EINVAL for no vCPU, -ERANGE when the
 * vCPUs or tables don't fit or the area is not RAM.
 */
int acpi_write_tables(struct guest_mem *mem, unsigned ncpus,
                      const struct pc_mmio_dev *mmio, unsigned nmmio,
                      uint64_t *rsdp_addr);

#endif
