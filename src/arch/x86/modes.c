/* modes.c: x86 CPU modes: the GDT, TSS and page tables, and vCPU state. */
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <string.h>

#include "arch/x86/arch.h"
#include "error.h"
#include "kvm_ioctl.h"
#include "le.h"

/* GDT selectors (documented in kvmrun --help). */
#define SEL_CODE64 0x08
#define SEL_CODE32 0x10
#define SEL_DATA 0x18
#define SEL_TSS 0x20

#define CR0_PE 0x1ULL
#define CR0_MP 0x2ULL
#define CR0_ET 0x10ULL
#define CR0_NE 0x20ULL
#define CR0_WP 0x10000ULL
#define CR0_PG 0x80000000ULL
#define CR4_PAE 0x20ULL
#define CR4_OSFXSR 0x200ULL
#define CR4_OSXMMEXCPT 0x400ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL

#define PTE_PRESENT 0x1ULL
#define PTE_WRITE 0x2ULL
#define PTE_HUGE 0x80ULL /* 2 MiB in a PD, 1 GiB in a PDPT */
#define GIB (1ULL << 30)
#define MIB2 (2ULL << 20)
#define TSS_LIMIT 0x67

/* A flat 4 GiB segment descriptor: access byte and flags nibble. */
static uint64_t gdt_flat(uint8_t access, uint8_t flags)
{
    return 0xffffULL | (uint64_t)access << 40 | (uint64_t)(flags | 0xf) << 48;
}

/* Low 8 bytes of a (busy, present) TSS descriptor; the high 8 are 0. */
static uint64_t gdt_tss(uint64_t base)
{
    return TSS_LIMIT | (base & 0xffffff) << 16 | 0x8bULL << 40 |
           ((base >> 24) & 0xff) << 56;
}

int arch_write_gdt(struct guest_mem *mem)
{
    uint64_t gdt[6] = {
        0,
        gdt_flat(0x9b, 0xa0),         /* 0x08: 64-bit code, L=1 G=1 */
        gdt_flat(0x9b, 0xc0),         /* 0x10: 32-bit code, D=1 G=1 */
        gdt_flat(0x93, 0xc0),         /* 0x18: data, B=1 G=1 */
        gdt_tss(ARCH_TSS_ADDR_GUEST), /* 0x20: TSS (16 bytes in long mode) */
        0,
    };
    void *g = mem_ptr(mem, ARCH_GDT_ADDR, sizeof(gdt));
    void *t = mem_ptr(mem, ARCH_TSS_ADDR_GUEST, TSS_LIMIT + 1);

    if (!g || !t)
        return err_set(ERANGE, "guest memory too small for the GDT at 0x%llx",
                       (unsigned long long)ARCH_GDT_ADDR);
    memcpy(g, gdt, sizeof(gdt));
    memset(t, 0, TSS_LIMIT + 1);
    return 0;
}

static void pt_put(uint8_t *table, unsigned i, uint64_t entry)
{
    le_put(table + 8 * i, 8, entry);
}

/* Fills the PD at pd with 2 MiB pages for the GiB starting at base. */
static void pt_fill_pd(uint8_t *pd, uint64_t base)
{
    for (unsigned i = 0; i < 512; i++)
        pt_put(pd, i, (base + i * MIB2) | PTE_PRESENT | PTE_WRITE | PTE_HUGE);
}

/* RAM above 4 GiB: 1 GiB pages, or 2 MiB pages from the high PD area. */
static int pt_map_high(struct guest_mem *mem, uint8_t *pdpt, uint64_t top,
                       int gib_pages)
{
    uint64_t pds = top > 4 * GIB ? (top - 4 * GIB + GIB - 1) / GIB : 0;
    uint8_t *pd = mem_ptr(mem, ARCH_PD_HIGH_ADDR, 4096 * ARCH_PD_HIGH_PAGES);

    if (!gib_pages && pds > ARCH_PD_HIGH_PAGES)
        return err_set(ENOTSUP,
                       "long mode: without 1 GiB pages (this host's "
                       "KVM has none) kvmrun maps at most %d GiB of RAM "
                       "above 4 GiB",
                       ARCH_PD_HIGH_PAGES);
    for (uint64_t g = 0; g < pds; g++) {
        uint64_t base = 4 * GIB + g * GIB;
        uint64_t pd_addr = ARCH_PD_HIGH_ADDR + 4096 * g;

        if (gib_pages) {
            pt_put(pdpt, (unsigned)(4 + g),
                   base | PTE_PRESENT | PTE_WRITE | PTE_HUGE);
            continue;
        }
        pt_fill_pd(pd + 4096 * g, base);
        pt_put(pdpt, (unsigned)(4 + g), pd_addr | PTE_PRESENT | PTE_WRITE);
    }
    return 0;
}

int arch_write_page_tables(struct guest_mem *mem, int gib_pages)
{
    uint8_t *pml4 = mem_ptr(mem, ARCH_PML4_ADDR, 4096);
    uint8_t *pdpt = mem_ptr(mem, ARCH_PDPT_ADDR, 4096);
    uint8_t *pd = mem_ptr(mem, ARCH_PD_ADDR, 4 * 4096);
    const struct mem_slot *last = &mem->slot[mem->nslots - 1];
    uint64_t top = last->gpa + last->size;

    if (!pml4 || !pdpt || !pd)
        return err_set(ERANGE, "guest memory too small for page tables");
    if (top > 512 * GIB)
        return err_set(ERANGE, "long mode: kvmrun maps at most 512 GiB");
    memset(pml4, 0, 4096);
    memset(pdpt, 0, 4096);
    pt_put(pml4, 0, ARCH_PDPT_ADDR | PTE_PRESENT | PTE_WRITE);
    /* 0-4 GiB, RAM and the MMIO hole alike, in 2 MiB pages. */
    for (unsigned g = 0; g < 4; g++) {
        pt_put(pdpt, g, (ARCH_PD_ADDR + 4096ULL * g) | PTE_PRESENT | PTE_WRITE);
        pt_fill_pd(pd + 4096 * g, g * GIB);
    }
    return pt_map_high(mem, pdpt, top, gib_pages);
}

static struct kvm_segment seg_flat(uint16_t selector, uint8_t type, int l,
                                   int db)
{
    return (struct kvm_segment){.base = 0,
                                .limit = 0xffffffff,
                                .selector = selector,
                                .type = type,
                                .present = 1,
                                .s = 1,
                                .l = (uint8_t)l,
                                .db = (uint8_t)db,
                                .g = 1};
}

static void sregs_flat(struct kvm_sregs *s, int long_mode)
{
    struct kvm_segment data = seg_flat(SEL_DATA, 0x3, 0, 1);

    s->cs = long_mode ? seg_flat(SEL_CODE64, 0xb, 1, 0)
                      : seg_flat(SEL_CODE32, 0xb, 0, 1);
    s->ds = s->es = s->fs = s->gs = s->ss = data;
    s->tr = (struct kvm_segment){.base = ARCH_TSS_ADDR_GUEST,
                                 .limit = TSS_LIMIT,
                                 .selector = SEL_TSS,
                                 .type = 0xb,
                                 .present = 1};
    s->gdt.base = ARCH_GDT_ADDR;
    s->gdt.limit = 6 * 8 - 1;
    s->idt.base = 0;
    s->idt.limit = 0; /* no IDT yet: an exception is a clear triple fault */
}

int arch_vcpu_flat_mode(int vcpu_fd, int long_mode,
                        const struct arch_boot_regs *br)
{
    struct kvm_sregs sregs;
    struct kvm_regs regs;

    int r;

    if ((r = KVM_IOCTL(vcpu_fd, KVM_GET_SREGS, &sregs)) < 0)
        return r;
    sregs_flat(&sregs, long_mode);
    sregs.cr0 = long_mode ? CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG
                          : CR0_PE | CR0_ET;
    sregs.cr4 = long_mode ? CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT : 0;
    sregs.cr3 = long_mode ? ARCH_PML4_ADDR : 0;
    sregs.efer = long_mode ? EFER_LME | EFER_LMA : 0;
    if ((r = KVM_IOCTL(vcpu_fd, KVM_SET_SREGS, &sregs)) < 0)
        return err_prefix(r, "%s mode", long_mode ? "long" : "protected");
    memset(&regs, 0, sizeof(regs));
    regs.rip = br->entry;
    regs.rsp = br->sp;
    regs.rax = br->rax;
    regs.rbx = br->rbx;
    regs.rdi = br->rdi;
    regs.rsi = br->rsi;
    regs.rflags = 0x2;
    r = KVM_IOCTL(vcpu_fd, KVM_SET_REGS, &regs);
    return r < 0 ? r : 0;
}
