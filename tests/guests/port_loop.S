/* port_loop.S: each vCPU adds 1 to its own 64-bit counter at
 * 0x8000 + 8 * (its index, DI at entry) and writes its index to port
 * 0x4f0 (claimed by the test that runs it), forever. */
    .code16
    .text
    .global _start
_start:
    mov %di, %bx
    shl $3, %bx
    mov %di, %ax
    mov $0x4f0, %dx
1:  addl $1, 0x8000(%bx)
    adcl $0, 0x8004(%bx)
    out %al, %dx
    jmp 1b
