/* cpuid.c: the CPUID each vCPU sees: KVM's supported set plus topology. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include "arch/x86/arch.h"
#include "error.h"
#include "kvm_ioctl.h"

#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT (1u << 28)
#define CPUID_80000001_EDX_PDPE1GB (1u << 26)
#define TOPO_LEVEL_SMT 1u
#define TOPO_LEVEL_CORE 2u

int arch_cpuid_supported(int kvm_fd, struct kvm_cpuid2 **out)
{
    for (unsigned n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c =
            calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

        if (!c)
            return err_set(ENOMEM, "out of memory for CPUID");
        c->nent = n;
        /* Raw: E2BIG asks for a bigger list. */
        if (KVM_IOCTL_RAW(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
            *out = c;
            return 0;
        }
        free(c);
        if (errno != E2BIG)
            return err_errno(errno, "KVM_GET_SUPPORTED_CPUID");
    }
    return err_set(E2BIG, "KVM_GET_SUPPORTED_CPUID: too many entries");
}

static const struct kvm_cpuid_entry2 *cpuid_find(const struct kvm_cpuid2 *c,
                                                 uint32_t fn)
{
    for (uint32_t i = 0; i < c->nent; i++)
        if (c->entries[i].function == fn)
            return &c->entries[i];
    return NULL;
}

int arch_cpuid_gib_pages(const struct kvm_cpuid2 *supported)
{
    const struct kvm_cpuid_entry2 *e = cpuid_find(supported, 0x80000001);

    return e && (e->edx & CPUID_80000001_EDX_PDPE1GB);
}

/* Bits needed to number n things: 1 -> 0, 2 -> 1, 3..4 -> 2, ... */
static uint32_t cpuid_bits(unsigned n)
{
    uint32_t b = 0;

    while ((1u << b) < n)
        b++;
    return b;
}

/* Leaves 0xB and 0x1F: one thread per core, ncpus cores per package. */
static void cpuid_topology(struct kvm_cpuid_entry2 *e, unsigned index,
                           unsigned ncpus)
{
    e->edx = index; /* x2APIC ID */
    switch (e->index) {
    case 0:
        e->eax = 0;
        e->ebx = 1;
        e->ecx = TOPO_LEVEL_SMT << 8;
        break;
    case 1:
        e->eax = cpuid_bits(ncpus);
        e->ebx = ncpus;
        e->ecx = TOPO_LEVEL_CORE << 8 | 1;
        break;
    default:
        e->eax = e->ebx = 0;
        e->ecx = e->index; /* level type 0: no more levels */
        break;
    }
}

static void cpuid_adjust(struct kvm_cpuid_entry2 *e, unsigned index,
                         unsigned ncpus, int tsc_deadline)
{
    switch (e->function) {
    case 1:
        e->ebx = (e->ebx & 0xffff) | (ncpus > 255 ? 255 : ncpus) << 16 |
                 (index & 0xff) << 24;
        e->ecx |= CPUID_1_ECX_HYPERVISOR;
        if (tsc_deadline)
            e->ecx |= CPUID_1_ECX_TSC_DEADLINE;
        if (ncpus > 1)
            e->edx |= CPUID_1_EDX_HTT;
        break;
    case 4: /* cache leaves: cores sharing the package */
        e->eax = (e->eax & 0x03ffffff) | ((ncpus > 64 ? 63 : ncpus - 1) << 26);
        break;
    case 0xb:
    case 0x1f:
        cpuid_topology(e, index, ncpus);
        break;
    default:
        break;
    }
}

int arch_vcpu_set_cpuid(int vcpu_fd, const struct kvm_cpuid2 *supported,
                        unsigned index, unsigned ncpus, int tsc_deadline)
{
    size_t size =
        sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
    struct kvm_cpuid2 *c = malloc(size);
    int r;

    if (!c)
        return err_set(ENOMEM, "out of memory for CPUID");
    memcpy(c, supported, size);
    for (uint32_t i = 0; i < c->nent; i++)
        cpuid_adjust(&c->entries[i], index, ncpus, tsc_deadline);
    r = KVM_VCPU_IOCTL(vcpu_fd, index, KVM_SET_CPUID2, c);
    free(c);
    return r < 0 ? r : 0;
}
