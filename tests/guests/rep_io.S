/* rep_io.S: rep outsb of 4096 bytes to the UART's data port, then rep insb
 * of 64 bytes from its line-status port (each reads 0x60, '`') written out
 * again: the port stays fixed while the data pointer moves. */
#include "guest.h"

    .code16
    .text
    .global _start
_start:
    cld
    mov $pattern, %si
    mov $4096, %cx
    mov $SERIAL_PORT, %dx
    rep outsb
    mov $buffer, %di
    mov $64, %cx
    mov $SERIAL_LSR, %dx
    rep insb
    mov $buffer, %si
    mov $64, %cx
    mov $SERIAL_PORT, %dx
    rep outsb
    PUTS newline
    POWEROFF
    GUEST_LIB
newline:
    .asciz "\n"
pattern:
    .rept 64
    .ascii "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-\n"
    .endr
buffer:
    .fill 64, 1, 0
