/* hlt_loop.S: the note's guest: hlt; jmp $-3, forever. */
    .code16
    .text
    .global _start
_start:
    hlt
    jmp _start /* eb fd: jmp $-3 */
