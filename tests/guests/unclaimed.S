/* unclaimed.S: touches a port and an MMIO address no device claims (run
 * with --mem 1M so 0x100000 is past RAM) and prints what the reads gave. */
#include "guest.h"

    .code16
    .text
    .global _start
_start:
    PUTS port_msg
    in $0x99, %al
    call puthex8
    out %al, $0x99 /* same port again: not reported a second time */
    out %al, $0x99
    PUTS mmio_msg
    mov $0xffff, %ax
    mov %ax, %es
    movb $0x5a, %es:0x10 /* 0xffff0 + 0x10 = 0x100000 */
    movb %es:0x10, %al
    call puthex8
    PUTS newline
    POWEROFF
    GUEST_LIB
port_msg:
    .asciz "port 0x99 reads "
mmio_msg:
    .asciz ", MMIO 0x100000 reads "
newline:
    .asciz "\n"
