/* mb_smp_tramp.S: the AP trampoline mb_smp.c copies to 0x8000 (SIPI vector
 * 8): real mode -> the BSP's GDT -> 32-bit protected mode at ap_entry32,
 * which takes the next 4 KiB stack and calls ap_main(). */
#define CODE32 0x10 /* the GDT the BSP runs on (kvmrun's, at boot) */
#define DATA 0x18

    .section .rodata
    .code16
    .global tramp_start, tramp_end, tramp_gdtr
tramp_start:
    cli
    lgdtl %cs:(tramp_gdtr - tramp_start)
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $CODE32, $ap_entry32
    .balign 4
tramp_gdtr:             /* filled by the BSP with sgdt */
    .word 0
    .long 0
tramp_end:

    .text
    .code32
ap_entry32:
    mov $DATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $1, %eax
    lock xadd %eax, ap_next_stack
    shl $12, %eax
    lea ap_stacks(%eax), %esp
    call ap_main
1:  cli
    hlt
    jmp 1b

    .data
    .balign 4
ap_next_stack:
    .long 1
    .bss
    .balign 16
ap_stacks:
    .space 4096 * 65
    .section .note.GNU-stack, "", @progbits
