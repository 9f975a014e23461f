/* seq64.c: vCPU 0 prints 0, 1, 2, ... one number a line on the UART,
 * forever, waiting for the transmitter as a driver does; every other vCPU
 * counts in memory. For soaks that check the output has no gap or
 * duplicate across pauses, snapshots and a stalled reader. */
#include "guestlib.h"

static volatile unsigned long long spins[8];

int guest_main(unsigned long vcpu, unsigned long ncpus)
{
    (void)ncpus;
    if (vcpu != 0)
        for (;;)
            spins[vcpu & 7]++;
    for (unsigned long long n = 0;; n++)
        g_printf("%llu\n", n);
}
