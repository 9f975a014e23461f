/* debug_exit.S: prints a line, then writes 0x2a to the debug-exit port:
 * kvmrun must exit with (0x2a << 1) | 1 = 85. */
#include "guest.h"

    .code16
    .text
    .global _start
_start:
    PUTS msg
    mov $0x2a, %al
    out %al, $DEBUG_EXIT_PORT
    PUTS after /* must never print: the VM ended on the write above */
1:  hlt
    jmp 1b
    GUEST_LIB
msg:
    .asciz "exiting with 0x2a\n"
after:
    .asciz "still running after the debug exit!\n"
