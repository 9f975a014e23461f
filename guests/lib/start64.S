/* start64.S: entry of 64-bit raw guests: own stack per vCPU, then
 * guest_main(RDI = vCPU index, RSI = vCPU count); its result ends the VM. */
    .code64
    .text
    .global _start
_start:
    mov %rdi, %rax
    shl $12, %rax
    lea stacks_top(%rip), %rsp
    sub %rax, %rsp          /* 4 KiB of stack per vCPU, 16-byte aligned */
    call guest_main
    test %eax, %eax
    jz 1f
    mov %eax, %edi
    call g_exit
1:  call g_poweroff
    .bss
    .balign 16
    .space 4096 * 8
stacks_top:
    .section .note.GNU-stack, "", @progbits
