/* demo.S: kvmrun's built-in guest: greets over the serial port, powers off. */
#include "guest.h"

    .code16
    .text
    .global _start
_start:
    PUTS greeting
    POWEROFF

    GUEST_LIB

greeting:
    .ascii "Hello from the kvmrun demo guest!\r\n"
    .ascii "16-bit real-mode code at 0x1000 on a KVM vCPU, printing through "
    .ascii "the 16550 UART at port 0x3f8.\r\n"
    .asciz "Powering off through port 0x604: kvmrun exits with status 0.\r\n"
