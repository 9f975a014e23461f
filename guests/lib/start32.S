/* start32.S: entry of 32-bit raw guests: own stack per vCPU, then
 * guest_main(EDI = vCPU index, ESI = vCPU count); its result ends the VM. */
    .code32
    .text
    .global _start
_start:
    mov %edi, %eax
    shl $12, %eax
    mov $stacks_top, %esp
    sub %eax, %esp          /* 4 KiB of stack per vCPU */
    push %esi
    push %edi
    call guest_main
    test %eax, %eax
    jz 1f
    push %eax
    call g_exit
1:  call g_poweroff
    .bss
    .balign 16
    .space 4096 * 8
stacks_top:
    .section .note.GNU-stack, "", @progbits
