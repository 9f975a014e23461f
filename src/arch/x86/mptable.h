/* mptable.h: Intel MultiProcessor Specification 1.4 tables for the guest. */
#ifndef KVMRUN_MPTABLE_H
#define KVMRUN_MPTABLE_H

#include "arch/x86/pc.h"
#include "mem.h"

/* Local APIC IDs 0..ncpus-1 and the IOAPIC's ncpus fit in 8 bits. */
#define MPTABLE_MAX_CPUS 255

/*
 * Writes the MP floating pointer structure ("_MP_") at ARCH_MPTABLE_ADDR
 * and the configuration table ("PCMP") after it, zeroing
 * [ARCH_MPTABLE_ADDR, ARCH_MPTABLE_END) first: one processor entry per vCPU
 * (APIC ID = index, vCPU 0 the bootstrap processor), the ISA bus, the
 * IOAPIC (ID ncpus), ISA IRQ routing (IRQ 0 to pin 2), a route for
 * each of the nmmio MMIO devices' GSIs (edge, active high, IRQ = pin =
 * GSI) and LINT0/LINT1. Linux reads it when booted with acpi=off. 0,
 * -EINVAL for no vCPU or a GSI past the IOAPIC's pins, -ERANGE when the
 * vCPUs or table don't fit or the area is not RAM.
 */
int mptable_write(struct guest_mem *mem, unsigned ncpus,
                  const struct pc_mmio_dev *mmio, unsigned nmmio);

#endif
