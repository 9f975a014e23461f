/* modes.h: the checks both mode guests (mode32.c, mode64.c) make. */
#include "guestlib.h"

#define EFER_MSR 0xc0000080u
#define CR0_PE 0x1ul
#define CR0_PG 0x80000000ul
#define CR4_PAE 0x20ul
#define EFER_LMA 0x400u

static volatile unsigned done;

/* The APIC ID this vCPU's CPUID reports (leaf 1 EBX[31:24]). */
static unsigned apic_id(void)
{
    uint32_t r[4];

    cpuid(1, 0, r);
    return r[1] >> 24;
}

/* x2APIC ID from leaf 0xB, or the vCPU index if the leaf is absent. */
static unsigned x2apic_id(unsigned long vcpu)
{
    uint32_t r[4];

    cpuid(0, 0, r);
    if (r[0] < 0xb)
        return (unsigned)vcpu;
    cpuid(0xb, 0, r);
    return r[3];
}

static int hypervisor_bit(void)
{
    uint32_t r[4];

    cpuid(1, 0, r);
    return (int)(r[2] >> 31);
}

/* Prints this vCPU's line; the last vCPU done powers off (returns 0). */
static int report(unsigned long vcpu, unsigned long ncpus, const char *mode,
                  const char *fail)
{
    uint64_t ram = 0;
    uint16_t cpus = 0;

    g_lock();
    fw_cfg_read(0x03, &ram, 8);
    fw_cfg_read(0x05, &cpus, 2);
    if (!fail && cpus != ncpus)
        fail = "fw_cfg CPU count differs";
    if (!fail && apic_id() != vcpu)
        fail = "CPUID APIC ID is not the vCPU index";
    if (!fail && x2apic_id(vcpu) != vcpu)
        fail = "CPUID leaf 0xB x2APIC ID is not the vCPU index";
    if (!fail && !hypervisor_bit())
        fail = "no hypervisor bit";
    g_printf("vcpu %lu of %lu: %s mode, apic id %u, fw_cfg %u cpus %llu MiB:"
             " %s\n",
             vcpu, ncpus, mode, apic_id(), cpus,
             (unsigned long long)(ram >> 20), fail ? fail : "ok");
    g_unlock();
    if (fail)
        return 1;
    if (__atomic_add_fetch(&done, 1, __ATOMIC_SEQ_CST) == ncpus)
        return 0;
    for (;;)
        __asm__ volatile("cli; hlt");
}
