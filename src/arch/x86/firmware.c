/* firmware.c: what the missing BIOS leaves behind: the reset vector. */
#include <errno.h>
#include <string.h>

#include "arch/x86/arch.h"
#include "error.h"
#include "mem.h"

/*
 * At f000:fff0, 16-bit real mode:
 *
 *     b0 fe      mov  $0xfe, %al
 *     e6 64      out  %al, $0x64     i8042: pulse the reset line
 *     fa         cli
 *  1: f4         hlt
 *     eb fd      jmp  1b
 */
static const uint8_t reset_stub[] = {0xb0, 0xfe, 0xe6, 0x64,
                                     0xfa, 0xf4, 0xeb, 0xfd};

int firmware_write_reset_stub(struct guest_mem *mem)
{
    const uint64_t len = ARCH_BIOS_END - ARCH_BIOS_RESET_ADDR;
    uint8_t *p = mem_ptr(mem, ARCH_BIOS_RESET_ADDR, len);

    _Static_assert(sizeof(reset_stub) <= ARCH_BIOS_END - ARCH_BIOS_RESET_ADDR,
                   "the reset stub fits below 1 MiB");
    if (!p)
        return err_set(ERANGE, "reset vector: %#llx is not guest RAM",
                       ARCH_BIOS_RESET_ADDR);
    memset(p, 0, len);
    memcpy(p, reset_stub, sizeof(reset_stub));
    return 0;
}
