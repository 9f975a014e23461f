/* start_mb.S: entry of 32-bit multiboot guests: the multiboot header, a
 * stack, then mb_main(EAX = magic, EBX = information block); its result
 * ends the VM (0: power off, else debug exit). */
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00000003 /* page-aligned modules, memory info */

    .section .text.start, "ax"
    .code32
    .balign 4
mb_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .global _start
_start:
    mov $stack_top, %esp
    push %ebx
    push %eax
    call mb_main
    test %eax, %eax
    jz 1f
    push %eax
    call g_exit
1:  call g_poweroff
    .bss
    .balign 16
    .space 8192
stack_top:
    .section .note.GNU-stack, "", @progbits
