/* arch.h: x86 hooks the generic VM and vCPU code call. */
#ifndef KVMRUN_ARCH_H
#define KVMRUN_ARCH_H

#include <stddef.h>
#include <stdint.h>

/* Addresses KVM needs below 4 GiB but outside RAM (VMX real-mode help). */
#define ARCH_IDENTITY_MAP_ADDR 0xfeffc000ULL
#define ARCH_TSS_ADDR 0xfeffd000ULL

/*
 * Guest memory the VMM uses in protected and long mode (documented in
 * kvmrun --help): a GDT, a TSS and identity page tables, and the multiboot
 * information block. Real-mode raw guests own all of RAM.
 */
#define ARCH_GDT_ADDR 0x70000ULL      /* 8 entries */
#define ARCH_TSS_ADDR_GUEST 0x70100ULL /* 104 bytes */
#define ARCH_PML4_ADDR 0x71000ULL
#define ARCH_PDPT_ADDR 0x72000ULL
#define ARCH_PD_ADDR 0x73000ULL       /* 4 pages: 4 GiB of 2 MiB pages */
#define ARCH_VMM_AREA_START 0x70000ULL
#define ARCH_VMM_AREA_END 0x77000ULL
#define ARCH_BOOT_INFO_ADDR 0x78000ULL /* multiboot information block */
#define ARCH_BOOT_INFO_END 0x80000ULL

/* Where an x86 CPU starts after reset: CS base 0xffff0000 + IP 0xfff0. */
#define ARCH_RESET_VECTOR 0xfffffff0ULL

/* Per-VM setup before vCPUs exist: TSS/identity-map addresses and, when
 * irqchip is set, the in-kernel PIC/IOAPIC/LAPIC. 0 or -errno. */
int arch_vm_init(int vm_fd, int irqchip);

/* Puts a vCPU in 16-bit real mode at entry (< 1 MiB), every segment
 * register = (entry & 0xf0000) >> 4, IP = entry & 0xffff, SP = sp & 0xffff,
 * DI = rdi, SI = rsi. runnable: also mark it runnable (an AP would wait
 * for INIT/SIPI otherwise). */
int arch_vcpu_real_mode(int vcpu_fd, uint64_t entry, uint64_t sp,
                        uint64_t rdi, uint64_t rsi, int runnable);

/* Tells KVM the vCPU is paused by the host (KVM_KVMCLOCK_CTRL), so a guest
 * using kvmclock does not take the pause for a soft lockup. No-op when the
 * guest has no kvmclock. */
void arch_vcpu_paused(int vcpu_fd);

/* The vCPU's instruction pointer as a linear address (CS base + RIP). */
int arch_vcpu_pc(int vcpu_fd, uint64_t *pc);
int arch_vcpu_rip(int vcpu_fd, uint64_t *rip);

/* Writes the general, segment and control registers as text lines. */
void arch_vcpu_dump(int vcpu_fd, char *buf, size_t len);

#endif
