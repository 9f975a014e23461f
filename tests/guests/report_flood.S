/* report_flood.S: makes kvmrun report as fast as a guest can: reads 300
 * unclaimed ports 0x100-0x22b (each reported once, then one line says the
 * table of 256 is full), then writes SLP_EN with the unsupported sleep
 * type 5 to the power-off port FLOOD_WRITES times (each one reported),
 * then powers off. 100,257 reports in all. */
#include "guest.h"

#define FLOOD_WRITES 100000

    .code16
    .text
    .global _start
_start:
    mov $0x100, %dx
1:  in %dx, %al
    inc %dx
    cmp $0x100 + 300, %dx
    jb 1b
    mov $POWEROFF_PORT, %dx
    mov $(POWEROFF_VALUE | 5 << 10), %ax
    mov $FLOOD_WRITES, %ecx
2:  out %ax, %dx
    dec %ecx
    jnz 2b
    POWEROFF
