/* hello.S: prints one line through the UART, then powers off (status 0). */
#include "guest.h"

    .code16
    .text
    .global _start
_start:
    PUTS msg
    POWEROFF
    GUEST_LIB
msg:
    .asciz "hello from a raw guest\n"
