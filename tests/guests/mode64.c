/* mode64.c: a 64-bit guest: checks long mode, identity paging up to the
 * last byte of RAM, CPUID and fw_cfg. */
#include "modes.h"

static const char *check_long_mode(void)
{
    uint64_t ram = 0;
    volatile uint64_t *last;

    if (!(rdmsr(EFER_MSR) & EFER_LMA) || !(read_cr0() & CR0_PG) ||
        !(read_cr4() & CR4_PAE))
        return "not in long mode";
    g_lock();
    fw_cfg_read(0x03, &ram, 8);
    g_unlock();
    /* RAM above 3 GiB continues at 4 GiB. */
    last = (volatile uint64_t *)(uintptr_t)(ram > 0xc0000000ull
                                                ? ram + 0x40000000ull - 8
                                                : ram - 8);
    *last = 0x1234567890abcdefull;
    if (*last != 0x1234567890abcdefull)
        return "the last word of RAM is not identity-mapped";
    return 0;
}

int guest_main(unsigned long vcpu, unsigned long ncpus)
{
    return report(vcpu, ncpus, "long", check_long_mode());
}
