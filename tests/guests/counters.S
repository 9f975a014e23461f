/* counters.S: each vCPU adds 1 to its own 64-bit counter at
 * 0x8000 + 8 * (its index, DI at entry), forever. */
    .code16
    .text
    .global _start
_start:
    mov %di, %bx
    shl $3, %bx
1:  addl $1, 0x8000(%bx)
    adcl $0, 0x8004(%bx)
    jmp 1b
