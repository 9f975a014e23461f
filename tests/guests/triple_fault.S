/* triple_fault.S: #UD in protected mode with an empty IDT: the #UD cannot
 * be delivered (#GP), nor can the #GP (#DF), nor the #DF: shutdown.
 * kvmrun must report a triple fault and exit with status 4. */
    .code16
    .text
    .global _start
_start:
    cli
    lidt empty_idt
    mov %cr0, %eax
    or $1, %eax /* CR0.PE: the IDT limit is enforced from here on */
    mov %eax, %cr0
fault:
    ud2
    hlt
empty_idt:
    .word 0 /* limit */
    .long 0 /* base */
