/* rep_stream.S: the bytes 0, 1, ..., 255 to the UART, over and over, in
 * rep outsb's of 16 (a FIFO load each, once LSR says THRE, so that a slow
 * reader of kvmrun's output holds the guest back instead of losing its
 * bytes): the output is always a prefix of that sequence repeated. */
#include "guest.h"

    .code16
    .text
    .global _start
_start:
    cld
    mov $bytes, %di /* fill the buffer with 0..255 */
    xor %al, %al
1:  stosb
    inc %al
    jnz 1b
2:  mov $bytes, %si
3:  mov $SERIAL_LSR, %dx
4:  in %dx, %al
    test $0x20, %al
    jz 4b
    mov $SERIAL_PORT, %dx
    mov $16, %cx
    rep outsb
    cmp $bytes + 256, %si
    jb 3b
    jmp 2b
    .balign 16
bytes:
    .fill 256, 1, 0
