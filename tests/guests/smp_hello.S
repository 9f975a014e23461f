/* smp_hello.S: every vCPU prints "vcpu I of N" (DI = I, SI = N at entry)
 * under a spinlock so lines never mix; the last one done powers off. */
#include "guest.h"

    .code16
    .text
    .global _start
_start:
    mov %di, %bx /* keep the index: puts uses SI and the stack */
    mov %si, %bp
    /* Each vCPU gets its own 256-byte stack below 0x8000. */
    mov %bx, %ax
    shl $8, %ax
    mov $0x8000, %sp
    sub %ax, %sp
1:  mov $1, %al
    xchg %al, lock_byte /* xchg with memory is always locked */
    test %al, %al
    jz 2f
    pause
    jmp 1b
2:  PUTS vcpu_msg
    mov %bx, %ax
    call puthex8
    PUTS of_msg
    mov %bp, %ax
    call puthex8
    PUTS newline
    movb $0, lock_byte
    lock incw done
    mov %bp, %ax
    cmp done, %ax
    jne 3f
    POWEROFF
3:  cli
    hlt
    jmp 3b
    GUEST_LIB
vcpu_msg:
    .asciz "vcpu "
of_msg:
    .asciz " of "
newline:
    .asciz "\n"
lock_byte:
    .byte 0
    .balign 2
done:
    .word 0
