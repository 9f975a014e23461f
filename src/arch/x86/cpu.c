/* cpu.c: x86 VM setup, real mode, reading and dumping registers. */
#include "arch/x86/arch.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "kvmrun.h"
#include "kvm_ioctl.h"

#define RFLAGS_RESERVED 0x2ULL

int arch_vm_init(int vm_fd, int irqchip)
{
    uint64_t ident = ARCH_IDENTITY_MAP_ADDR;
    /* The PIT in the kernel too; port 0x61's speaker bits answered there. */
    struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
    int r;

    if ((r = KVM_IOCTL(vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident)) < 0 ||
        (r = KVM_IOCTL(vm_fd, KVM_SET_TSS_ADDR, ARCH_TSS_ADDR)) < 0)
        return r;
    if (!irqchip)
        return 0;
    if ((r = KVM_IOCTL(vm_fd, KVM_CREATE_IRQCHIP, 0)) < 0 ||
        (r = KVM_IOCTL(vm_fd, KVM_CREATE_PIT2, &pit)) < 0)
        return r;
    return 0;
}

static void arch_real_segment(struct kvm_segment *seg, uint16_t selector)
{
    seg->selector = selector;
    seg->base = (uint64_t)selector << 4;
    seg->limit = 0xffff;
}

int arch_vcpu_real_mode(int vcpu_fd, uint64_t entry, uint64_t sp, uint64_t rdi,
                        uint64_t rsi)
{
    struct kvm_sregs sregs;
    struct kvm_regs regs;
    uint16_t cs = (uint16_t)((entry & 0xf0000) >> 4);

    if (entry >= 0x100000)
        return err_set(EINVAL, "real-mode entry %#llx is not below 1 MiB",
                       (unsigned long long)entry);
    int r;

    if ((r = KVM_IOCTL(vcpu_fd, KVM_GET_SREGS, &sregs)) < 0)
        return r;
    /* One segment for all, as a DOS .COM program gets: 0 below 64 KiB. */
    arch_real_segment(&sregs.cs, cs);
    arch_real_segment(&sregs.ds, cs);
    arch_real_segment(&sregs.es, cs);
    arch_real_segment(&sregs.fs, cs);
    arch_real_segment(&sregs.gs, cs);
    arch_real_segment(&sregs.ss, cs);
    if ((r = KVM_IOCTL(vcpu_fd, KVM_SET_SREGS, &sregs)) < 0)
        return r;
    memset(&regs, 0, sizeof(regs));
    regs.rip = entry & 0xffff;
    regs.rsp = sp & 0xffff;
    regs.rdi = rdi;
    regs.rsi = rsi;
    regs.rflags = RFLAGS_RESERVED;
    r = KVM_IOCTL(vcpu_fd, KVM_SET_REGS, &regs);
    return r < 0 ? r : 0;
}

void arch_vcpu_paused(int vcpu_fd)
{
    /* EINVAL means the guest never enabled kvmclock: nothing to tell. */
    KVM_IOCTL_RAW(vcpu_fd, KVM_KVMCLOCK_CTRL, 0);
}

int arch_vcpu_rip(int vcpu_fd, uint64_t *rip)
{
    struct kvm_regs regs;
    int r = KVM_IOCTL(vcpu_fd, KVM_GET_REGS, &regs);

    if (r < 0)
        return r;
    *rip = regs.rip;
    return 0;
}

int arch_vcpu_pc(int vcpu_fd, uint64_t *pc)
{
    struct kvm_sregs sregs;
    uint64_t rip = 0;
    int r = arch_vcpu_rip(vcpu_fd, &rip);

    if (r < 0)
        return r;
    if ((r = KVM_IOCTL(vcpu_fd, KVM_GET_SREGS, &sregs)) < 0)
        return r;
    *pc = sregs.cs.base + rip;
    return 0;
}

static void arch_segment(struct kvmrun_segment *out,
                         const struct kvm_segment *s)
{
    *out = (struct kvmrun_segment){s->base, s->limit, s->selector};
}

int arch_vcpu_get_regs(int vcpu_fd, struct kvmrun_regs *out)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    int e;

    if ((e = KVM_IOCTL(vcpu_fd, KVM_GET_REGS, &r)) < 0 ||
        (e = KVM_IOCTL(vcpu_fd, KVM_GET_SREGS, &s)) < 0)
        return e;
    *out = (struct kvmrun_regs){
        .rip = r.rip,
        .rflags = r.rflags,
        .gpr = {r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rsp, r.rbp, r.r8,
                r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15},
        .cr0 = s.cr0,
        .cr2 = s.cr2,
        .cr3 = s.cr3,
        .cr4 = s.cr4,
        .efer = s.efer,
    };
    arch_segment(&out->cs, &s.cs);
    arch_segment(&out->ds, &s.ds);
    arch_segment(&out->es, &s.es);
    arch_segment(&out->fs, &s.fs);
    arch_segment(&out->gs, &s.gs);
    arch_segment(&out->ss, &s.ss);
    return 0;
}

static size_t arch_dump_seg(char *buf, size_t len, const char *name,
                            const struct kvm_segment *s)
{
    int n = snprintf(buf, len,
                     "  %-2s sel=%04x base=%016llx limit=%08x "
                     "type=%x dpl=%u db=%u l=%u present=%u\n",
                     name, s->selector, (unsigned long long)s->base, s->limit,
                     s->type, s->dpl, s->db, s->l, s->present);
    if (n < 0 || len == 0)
        return 0;
    return (size_t)n < len ? (size_t)n : len - 1;
}

#define U(x) ((unsigned long long)(x))

void arch_vcpu_dump(int vcpu_fd, char *buf, size_t len)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    size_t n;
    int k;

    if (len == 0)
        return;
    buf[0] = 0;
    /* Raw: a dump is part of another report, whose error it keeps. */
    if (KVM_IOCTL_RAW(vcpu_fd, KVM_GET_REGS, &r) < 0 ||
        KVM_IOCTL_RAW(vcpu_fd, KVM_GET_SREGS, &s) < 0) {
        snprintf(buf, len, "  (registers unavailable: %s)\n", strerror(errno));
        return;
    }
    k = snprintf(buf, len,
                 "  rip=%016llx rflags=%016llx\n"
                 "  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
                 "  rsi=%016llx rdi=%016llx rsp=%016llx rbp=%016llx\n"
                 "  r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n"
                 "  r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n"
                 "  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx "
                 "efer=%llx\n"
                 "  gdt=%016llx/%04x idt=%016llx/%04x\n",
                 U(r.rip), U(r.rflags), U(r.rax), U(r.rbx), U(r.rcx), U(r.rdx),
                 U(r.rsi), U(r.rdi), U(r.rsp), U(r.rbp), U(r.r8), U(r.r9),
                 U(r.r10), U(r.r11), U(r.r12), U(r.r13), U(r.r14), U(r.r15),
                 U(s.cr0), U(s.cr2), U(s.cr3), U(s.cr4), U(s.efer),
                 U(s.gdt.base), s.gdt.limit, U(s.idt.base), s.idt.limit);
    n = k < 0 ? 0 : (size_t)k < len ? (size_t)k : len - 1;
    n += arch_dump_seg(buf + n, len - n, "cs", &s.cs);
    n += arch_dump_seg(buf + n, len - n, "ss", &s.ss);
    n += arch_dump_seg(buf + n, len - n, "ds", &s.ds);
    if (n && buf[n - 1] == '\n')
        buf[n - 1] = 0; /* the caller adds line ends */
}
