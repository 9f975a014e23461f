/* absent.S: probes what Linux probes at boot where kvmrun has no device:
 * PCI configuration (0xcf8/0xcfc) and COM2-COM4. Every read must give all
 * ones; ANDed together they go to the debug-exit port: 0xff gives exit
 * status 255, anything less another one. */
#include "guest.h"

    .code16
    .text
    .global _start
_start:
    mov $0xcf8, %dx
    mov $0x80000000, %eax
    out %eax, %dx
    mov $0xcfc, %dx
    in %dx, %eax
    mov %eax, %ebx
    shr $16, %ebx
    and %bx, %ax
    and %ah, %al
    mov %al, %bl
    mov $0x2f9, %dx
    in %dx, %al
    and %al, %bl
    mov $0x3e9, %dx
    in %dx, %al
    and %al, %bl
    mov $0x2e9, %dx
    in %dx, %al
    and %bl, %al
    out %al, $DEBUG_EXIT_PORT
1:  hlt
    jmp 1b
