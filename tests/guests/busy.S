/* busy.S: spins without ever exiting to the VMM (kick tests' guest). */
    .code16
    .text
    .global _start
_start:
    inc %ax
    jmp _start
