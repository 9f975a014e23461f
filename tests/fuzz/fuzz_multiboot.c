/* fuzz_multiboot.c: libFuzzer target for the multiboot v1 loader. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/arch.h"
#include "kvmrun.h"
#include "load/load.h"
#include "mem.h"

#define GUEST_RAM (8ULL << 20)
#define VMM_FILL 0x5a  /* the VMM area: no load may ever write it */
#define INFO_FILL 0xc3 /* the info area: written only by a good load */

#include "fuzz_guest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* As src/load/image.c has them: the information area is reserved too. */
static const struct load_region reserved[] = {
    {ARCH_VMM_AREA_START, ARCH_VMM_AREA_END,
     "the VMM's GDT, TSS and page tables"},
    {ARCH_BOOT_INFO_ADDR, ARCH_BOOT_INFO_END, "the boot information area"},
};

static const uint8_t module[300] = "fuzz module";

static void check_error(void)
{
    const char *msg = kvmrun_last_error();

    if (!msg[0] || strchr(msg, '\n')) {
        fprintf(stderr, "bad error message: \"%s\"\n", msg);
        abort();
    }
}

static void check_success(struct guest_mem *mem,
                          const struct load_multiboot_info *out)
{
    uint32_t flags;

    if (out->ebx != ARCH_BOOT_INFO_ADDR || !mem_ptr(mem, out->entry, 1)) {
        fprintf(stderr, "bad result: entry 0x%llx ebx 0x%x\n",
                (unsigned long long)out->entry, out->ebx);
        abort();
    }
    memcpy(&flags, mem_ptr(mem, out->ebx, 4), 4);
    if (flags != 0x4d) {
        fprintf(stderr, "bad info flags 0x%x\n", flags);
        abort();
    }
}

/* Odd-sized inputs load without a module, even-sized ones with one. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct guest_mem *mem = guest();
    struct load_ctx ctx = {mem, "fuzz.bin", reserved, 2};
    struct load_multiboot_args args = {
        .cmdline = "fuzz.bin console=ttyS0",
        .module = size % 2 ? NULL : module,
        .module_len = sizeof(module),
        .module_string = "module.bin arg",
        .info_addr = ARCH_BOOT_INFO_ADDR,
        .info_size = ARCH_BOOT_INFO_END - ARCH_BOOT_INFO_ADDR,
    };
    struct load_multiboot_info out;
    int r;

    fill(mem, ARCH_VMM_AREA_START, ARCH_VMM_AREA_END, VMM_FILL);
    fill(mem, ARCH_BOOT_INFO_ADDR, ARCH_BOOT_INFO_END, INFO_FILL);
    r = load_multiboot(&ctx, data, size, &args, &out);
    if (!intact(mem, ARCH_VMM_AREA_START, ARCH_VMM_AREA_END, VMM_FILL))
        abort();
    if (r < 0) {
        check_error();
        if (!intact(mem, ARCH_BOOT_INFO_ADDR, ARCH_BOOT_INFO_END, INFO_FILL))
            abort();
    } else {
        check_success(mem, &out);
    }
    return 0;
}
