/* fifo_stream.S: prints a counter as lines of 16 bytes: "0000000", the
 * count in 8 hex digits, "\n"; 0, 1, 2, ... Each line goes out as one
 * FIFO load (rep outsb of 16 bytes) once LSR says THRE, as Linux's 8250
 * driver writes: kvmrun keeps room for a FIFO's worth whenever THRE is
 * set, so whatever its reader does no byte may be lost, and a gap or a
 * repeat shows as a line out of sequence (tests/kvm/stream_tool check).
 * With STREAM_LINES defined (fifo_lines.S) it powers off after that many
 * lines; else it streams forever. */
#include "guest.h"

    .code16
    .text
    .global _start
_start:
    cld
    xor %ebx, %ebx
next:
    mov $line + 7, %di /* the count's 8 digits */
    mov %ebx, %esi
    mov $8, %cx
1:  rol $4, %esi
    mov %si, %ax
    and $0xf, %al
    add $'0', %al
    cmp $'9', %al
    jbe 2f
    add $('a' - '9' - 1), %al
2:  stosb
    loop 1b
    mov $SERIAL_LSR, %dx
3:  in %dx, %al
    test $0x20, %al
    jz 3b
    mov $SERIAL_PORT, %dx
    mov $line, %si
    mov $16, %cx
    rep outsb
    inc %ebx
#ifdef STREAM_LINES
    cmp $STREAM_LINES, %ebx
    jb next
    POWEROFF
#else
    jmp next
#endif

line:
    .ascii "0000000" "00000000" "\n"
