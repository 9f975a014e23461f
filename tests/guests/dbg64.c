/* dbg64.c: a guest for the gdb tests (built with symbols): vCPU 0 waits
 * until gdb sets go, counts to 100 in counter through dbg_tick(), prints
 * the count and powers off; every other vCPU calls dbg_other() in a
 * loop. */
#include "guestlib.h"

volatile unsigned long go;      /* gdb sets it to let vCPU 0 go on */
volatile unsigned long counter; /* watched by the tests */
volatile unsigned long other_calls;

__attribute__((noinline)) void dbg_tick(unsigned long n)
{
    counter = n;
}

__attribute__((noinline)) void dbg_other(unsigned long vcpu)
{
    other_calls += vcpu;
}

int guest_main(unsigned long vcpu, unsigned long ncpus)
{
    (void)ncpus;
    if (vcpu != 0)
        for (;;)
            dbg_other(vcpu);
    while (!go)
        __asm__ volatile("pause");
    for (unsigned long n = 1; n <= 100; n++)
        dbg_tick(n);
    g_printf("dbg64: counter %lu\n", counter);
    return 0;
}
