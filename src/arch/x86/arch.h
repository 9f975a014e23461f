/* arch.h: x86 hooks the generic VM and vCPU code call. */
#ifndef KVMRUN_ARCH_H
#define KVMRUN_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

struct kvm_cpuid2;

/* Addresses KVM needs below 4 GiB but outside RAM (VMX real-mode help). */
#define ARCH_IDENTITY_MAP_ADDR 0xfeffc000ULL
#define ARCH_TSS_ADDR 0xfeffd000ULL

/*
 * Guest memory the VMM uses in protected and long mode (documented in
 * kvmrun --help): a GDT, a TSS and identity page tables, and the multiboot
 * information block. Real-mode raw guests own all of RAM.
 */
#define ARCH_PD_HIGH_ADDR                                                      \
    0x60000ULL /* 16 pages: RAM above 4 GiB in                                 \
                  2 MiB pages, without 1 GiB ones */
#define ARCH_PD_HIGH_PAGES 16
#define ARCH_GDT_ADDR 0x70000ULL       /* 8 entries */
#define ARCH_TSS_ADDR_GUEST 0x70100ULL /* 104 bytes */
#define ARCH_PML4_ADDR 0x71000ULL
#define ARCH_PDPT_ADDR 0x72000ULL
#define ARCH_PD_ADDR 0x73000ULL /* 4 pages: 4 GiB of 2 MiB pages */
#define ARCH_VMM_AREA_START 0x60000ULL
#define ARCH_VMM_AREA_END 0x77000ULL
#define ARCH_BOOT_INFO_ADDR                                                    \
    0x78000ULL                       /* multiboot information block, or        \
                                       Linux's zero page (4 KiB) */
#define ARCH_CMDLINE_ADDR 0x79000ULL /* Linux: the command line */
#define ARCH_BOOT_INFO_END 0x80000ULL
/* ACPI tables (RSDP first) and the MP table, in the BIOS area that Linux
 * scans and that the e820 map marks reserved. */
#define ARCH_ACPI_ADDR 0xe0000ULL
#define ARCH_ACPI_END 0xf0000ULL
#define ARCH_MPTABLE_ADDR 0xf0000ULL
#define ARCH_MPTABLE_END 0xfff00ULL
/* The real-mode reset vector, f000:fff0, and what sits there: see
 * firmware_write_reset_stub(). */
#define ARCH_BIOS_RESET_ADDR 0xffff0ULL
#define ARCH_BIOS_END 0x100000ULL
#define ARCH_IOAPIC_ADDR 0xfec00000ULL
#define ARCH_LAPIC_ADDR 0xfee00000ULL

/* Where an x86 CPU starts after reset: CS base 0xffff0000 + IP 0xfff0. */
#define ARCH_RESET_VECTOR 0xfffffff0ULL

/*
 * Puts at the real-mode reset vector (f000:fff0) the one thing firmware
 * does there that matters to kvmrun: reset the machine through the i8042
 * (which ends the VM as a reboot). Linux jumps there when its other reset
 * methods did not work: with a hardware-reduced FADT it skips the
 * keyboard controller (it tries EFI, then the BIOS). 0 or -ERANGE.
 */
int firmware_write_reset_stub(struct guest_mem *mem);

/* Per-VM setup before vCPUs exist: TSS/identity-map addresses and, when
 * irqchip is set, the in-kernel PIC/IOAPIC/LAPIC and PIT. 0 or -errno. */
int arch_vm_init(int vm_fd, int irqchip);

/* Puts a vCPU in 16-bit real mode at entry (< 1 MiB), every segment
 * register = (entry & 0xf0000) >> 4, IP = entry & 0xffff, SP = sp & 0xffff,
 * DI = rdi, SI = rsi. (An AP's run state is boot.c's business.) */
int arch_vcpu_real_mode(int vcpu_fd, uint64_t entry, uint64_t sp, uint64_t rdi,
                        uint64_t rsi);

/* Tells KVM the vCPU is paused by the host (KVM_KVMCLOCK_CTRL), so a guest
 * using kvmclock does not take the pause for a soft lockup. No-op when the
 * guest has no kvmclock. */
void arch_vcpu_paused(int vcpu_fd);

/* Registers a vCPU starts with in protected or long mode. */
struct arch_boot_regs {
    uint64_t entry, sp, rax, rbx, rdi, rsi;
};

/* Writes the GDT (selectors: 0x08 64-bit code, 0x10 32-bit code, 0x18
 * data, 0x20 TSS) and a zeroed TSS at ARCH_GDT_ADDR. 0 or -ERANGE. */
int arch_write_gdt(struct guest_mem *mem);

/* Writes identity page tables: 0-4 GiB in 2 MiB pages, RAM above 4 GiB
 * in 1 GiB pages if gib_pages (the host offers them), else in 2 MiB pages
 * (up to 16 GiB of it). 0 or -errno. */
int arch_write_page_tables(struct guest_mem *mem, int gib_pages);

/* Puts a vCPU in flat 32-bit protected mode (paging off) or 64-bit long
 * mode (identity paging at ARCH_PML4_ADDR), interrupts off. */
int arch_vcpu_flat_mode(int vcpu_fd, int long_mode,
                        const struct arch_boot_regs *regs);

/*
 * CPUID: *out gets KVM_GET_SUPPORTED_CPUID (free() it). 0 or -errno.
 * arch_vcpu_set_cpuid() gives one vCPU that list with its APIC ID (leaf 1
 * EBX[31:24], leaves 0xB and 0x1F EDX), the package's vCPU count, the
 * hypervisor bit and, when tsc_deadline, the TSC-deadline timer bit.
 */
int arch_cpuid_supported(int kvm_fd, struct kvm_cpuid2 **out);
int arch_vcpu_set_cpuid(int vcpu_fd, const struct kvm_cpuid2 *supported,
                        unsigned index, unsigned ncpus, int tsc_deadline);

/* 1 if the supported CPUID offers 1 GiB pages (leaf 0x80000001 EDX 26). */
int arch_cpuid_gib_pages(const struct kvm_cpuid2 *supported);

/* The vCPU's instruction pointer as a linear address (CS base + RIP). */
int arch_vcpu_pc(int vcpu_fd, uint64_t *pc);
int arch_vcpu_rip(int vcpu_fd, uint64_t *rip);

/* The registers a user sees (kvmrun_vcpu_get_regs()): 0 or -errno
 * naming the request. */
struct kvmrun_regs;
int arch_vcpu_get_regs(int vcpu_fd, struct kvmrun_regs *regs);

/* Writes the general, segment and control registers as text lines. */
void arch_vcpu_dump(int vcpu_fd, char *buf, size_t len);

#endif
