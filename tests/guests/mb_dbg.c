/* mb_dbg.c: dbg64.c's program as a multiboot kernel, so that the same gdb
 * script runs against kvmrun and QEMU (-kernel): counts to 100 in counter
 * through dbg_tick(), prints it and powers off. */
#include "guestlib.h"

volatile unsigned long counter;

int mb_main(uint32_t magic, const void *mb);

__attribute__((noinline)) void dbg_tick(unsigned long n)
{
    counter = n;
}

int mb_main(uint32_t magic, const void *mb)
{
    (void)magic;
    (void)mb;
    for (unsigned long n = 1; n <= 100; n++)
        dbg_tick(n);
    g_printf("mb_dbg: counter %lu\n", counter);
    return 0;
}
