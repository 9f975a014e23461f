/* wild_jump.S: jumps to 0x100000, past the end of RAM (run with --mem 1M):
 * instructions cannot be fetched from there, so KVM reports an emulation
 * failure; kvmrun must report it with the registers and exit with 4. */
    .code16
    .text
    .global _start
_start:
    ljmp $0xffff, $0x0010
