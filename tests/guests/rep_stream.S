/* rep_stream.S: rep outsb of the bytes 0, 1, ..., 255 to the UART, over
 * and over: the output is always a prefix of that sequence repeated. */
    .code16
    .text
    .global _start
_start:
    cld
    mov $0x3f8, %dx
    mov $bytes, %di /* fill the buffer with 0..255 */
    xor %al, %al
1:  stosb
    inc %al
    jnz 1b
2:  mov $bytes, %si
    mov $256, %cx
    rep outsb
    jmp 2b
    .balign 16
bytes:
    .fill 256, 1, 0
