/* counter.S: vCPU 0 prints 0, 1, 2, ... COUNTER_LIMIT - 1 over the UART,
 * one decimal number a line, then powers off. The count lives in a
 * register and the digits on the stack: a snapshot taken mid-run must
 * restore both. Every other vCPU adds 1 to its own 64-bit counter at
 * 0x8000 + 8 * its index (DI at entry), forever, as counters.S does. */
#include "guest.h"

#define COUNTER_LIMIT 5000
#define COUNTERS 0x8000

    .code16
    .text
    .global _start
_start:
    test %di, %di
    jnz count_memory
    xor %ebx, %ebx
1:  mov %ebx, %eax
    call print
    inc %ebx
    cmp $COUNTER_LIMIT, %ebx
    jb 1b
    POWEROFF

count_memory:
    mov %di, %bx
    shl $3, %bx
1:  addl $1, COUNTERS(%bx)
    adcl $0, COUNTERS + 4(%bx)
    jmp 1b

/* print: %eax in decimal and a newline; keeps %ebx. */
print:
    mov $10, %ecx
    xor %si, %si
1:  xor %edx, %edx
    divl %ecx
    add $'0', %dl
    push %dx
    inc %si
    test %eax, %eax
    jnz 1b
    mov $SERIAL_PORT, %dx
2:  pop %ax
    out %al, %dx
    dec %si
    jnz 2b
    mov $'\n', %al
    out %al, %dx
    ret
