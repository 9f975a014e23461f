/* guest.h: ports and macros shared by the 16-bit guests (GNU as syntax). */
#ifndef KVMRUN_GUEST_H
#define KVMRUN_GUEST_H

#define SERIAL_PORT 0x3f8
#define SERIAL_LSR (SERIAL_PORT + 5)
#define DEBUG_EXIT_PORT 0xf4
#define POWEROFF_PORT 0x604
#define POWEROFF_VALUE 0x2000

/* Ends the VM with kvmrun status 0. */
.macro POWEROFF
    mov $POWEROFF_VALUE, %ax
    mov $POWEROFF_PORT, %dx
    out %ax, %dx
    cli
99: hlt
    jmp 99b
.endm

/* Prints the NUL-terminated string at label through the UART. */
.macro PUTS label
    mov $\label, %si
    call puts
.endm

/* The routines behind the macros; include once, after the code. */
.macro GUEST_LIB
/* puts: print the string at %si, waiting for "transmitter empty". */
puts:
    push %ax
    push %dx
1:  lodsb
    test %al, %al
    jz 3f
    mov %al, %ah
    mov $SERIAL_LSR, %dx
2:  in %dx, %al
    test $0x20, %al
    jz 2b
    mov %ah, %al
    mov $SERIAL_PORT, %dx
    out %al, %dx
    jmp 1b
3:  pop %dx
    pop %ax
    ret
/* puthex8: print %al as two hex digits. */
puthex8:
    push %ax
    push %dx
    push %ax
    shr $4, %al
    call puthex4
    pop %ax
    call puthex4
    pop %dx
    pop %ax
    ret
puthex4:
    and $0xf, %al
    add $'0', %al
    cmp $'9', %al
    jbe 1f
    add $('a' - '9' - 1), %al
1:  mov $SERIAL_PORT, %dx
    out %al, %dx
    ret
.endm

#endif
