/* pc.h: where the PC machine puts its devices: ports, interrupt lines and
 * the MMIO slots (the table that uses it is pc.c). */
#ifndef KVMRUN_PC_H
#define KVMRUN_PC_H

#include <stdint.h>

#include "kvmrun.h"

/* Ports (what Linux and firmware expect of a PC, and QEMU's choices for
 * its paravirtual ones). */
#define PC_I8042_PORT 0x60 /* data 0x60, command/status 0x64 */
#define PC_RTC_PORT 0x70   /* index 0x70, data 0x71 */
#define PC_DEBUG_EXIT_PORT KVMRUN_DEBUG_EXIT_PORT /* 0xf4, QEMU's */
#define PC_COM1_PORT KVMRUN_SERIAL_PORT           /* 0x3f8 */
#define PC_COM2_PORT 0x2f8
#define PC_COM3_PORT 0x3e8
#define PC_COM4_PORT 0x2e8
#define PC_FW_CFG_PORT 0x510     /* selector 0x510, data 0x511 */
#define PC_ACPI_SLEEP_PORT 0x600 /* FADT sleep control, status + 1 */
#define PC_PM1A_CNT_PORT KVMRUN_POWEROFF_PORT /* 0x604, QEMU PIIX4's */
#define PC_PCI_CONFIG_PORT 0xcf8 /* mechanism #1: 0xcf8 and 0xcfc */

/* ISA interrupt lines (the IOAPIC's pins 0-15; IRQ 0 is GSI 2). */
#define PC_KBD_IRQ 1
#define PC_COM1_IRQ KVMRUN_SERIAL_IRQ /* 4 */
#define PC_RTC_IRQ 8                  /* declared, never raised */
#define PC_SCI_IRQ 9                  /* the FADT's SCI_INT */
#define PC_AUX_IRQ 12

/*
 * Slots for MMIO devices (virtio-mmio, docs/virtio.md): 4 KiB windows
 * just below the IOAPIC, in the hole under 4 GiB, each with its own GSI
 * from the IOAPIC's pins 16-23, which no ISA device uses (KVM's IOAPIC
 * has 24). Given out in table order.
 */
#define PC_MMIO_SLOT_BASE 0xfeb00000ULL
#define PC_MMIO_SLOT_SIZE 0x1000ULL
#define PC_MMIO_SLOTS 8
#define PC_MMIO_SLOT_GSI 16

/* A device in an MMIO slot, as the guest's tables describe it (ACPI's
 * LNRO0005 devices, the MP table's routes, virtio_mmio.device=). */
struct pc_mmio_dev {
    uint64_t base; /* its PC_MMIO_SLOT_SIZE window */
    unsigned gsi;
};

#endif
