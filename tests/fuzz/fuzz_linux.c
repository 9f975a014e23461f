/* fuzz_linux.c: libFuzzer target for the Linux boot protocol loader. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/arch.h"
#include "kvmrun.h"
#include "load/load.h"
#include "mem.h"

#define GUEST_RAM (32ULL << 20)
#define VMM_FILL 0x5a  /* the VMM, ACPI and MP areas: never written */
#define INFO_FILL 0xc3 /* the zero page and command line: good loads only */

#include "fuzz_guest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* As the CLI has them: the boot information area holds the zero page
 * and the command line. */
static const struct load_region reserved[] = {
    {ARCH_VMM_AREA_START, ARCH_VMM_AREA_END,
     "the VMM's GDT, TSS and page tables"},
    {ARCH_BOOT_INFO_ADDR, ARCH_BOOT_INFO_END, "the boot information area"},
    {ARCH_ACPI_ADDR, ARCH_ACPI_END, "the ACPI tables"},
    {ARCH_MPTABLE_ADDR, ARCH_MPTABLE_END, "the MP table"},
};

static const uint8_t initrd[5000] = "fuzz initrd";

static void check_error(void)
{
    const char *msg = kvmrun_last_error();

    if (strncmp(msg, "fuzz.bin: ", 10) != 0 || strchr(msg, '\n')) {
        fprintf(stderr, "bad error message: \"%s\"\n", msg);
        abort();
    }
}

static void check_success(struct guest_mem *mem,
                          const struct load_linux_args *args,
                          const struct load_linux_info *out)
{
    const uint8_t *zp = mem_ptr(mem, ARCH_BOOT_INFO_ADDR, 4096);
    int bad =
        out->entry != 0x100200 || out->boot_params != ARCH_BOOT_INFO_ADDR ||
        out->kernel_start != 0x100000 || out->kernel_end <= out->kernel_start ||
        out->kernel_end > GUEST_RAM || zp[0x210] != 0xff ||
        memcmp(zp + 0x202, "HdrS", 4) != 0 ||
        strcmp((const char *)mem_ptr(mem, ARCH_CMDLINE_ADDR, 1),
               args->cmdline) != 0;

    if (args->initrd)
        bad |= out->initrd_start < out->kernel_end ||
               out->initrd_start % 4096 ||
               out->initrd_end != out->initrd_start + args->initrd_len ||
               out->initrd_end > GUEST_RAM ||
               memcmp(mem_ptr(mem, out->initrd_start, args->initrd_len),
                      args->initrd, args->initrd_len) != 0;
    if (bad) {
        fprintf(stderr,
                "bad result: kernel 0x%llx-0x%llx initrd "
                "0x%llx-0x%llx\n",
                (unsigned long long)out->kernel_start,
                (unsigned long long)out->kernel_end,
                (unsigned long long)out->initrd_start,
                (unsigned long long)out->initrd_end);
        abort();
    }
}

/* Odd-sized inputs load without an initrd, even-sized ones with one. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct guest_mem *mem = guest();
    struct load_ctx ctx = {mem, "fuzz.bin", reserved, 4};
    struct load_linux_args args = {
        .cmdline = "console=ttyS0 root=/dev/vda",
        .initrd = size % 2 ? NULL : initrd,
        .initrd_len = sizeof(initrd),
        .boot_params_addr = ARCH_BOOT_INFO_ADDR,
        .cmdline_addr = ARCH_CMDLINE_ADDR,
        .cmdline_room = ARCH_BOOT_INFO_END - ARCH_CMDLINE_ADDR,
        .acpi_rsdp_addr = ARCH_ACPI_ADDR,
    };
    struct load_linux_info out;
    int r;

    fill(mem, ARCH_VMM_AREA_START, ARCH_VMM_AREA_END, VMM_FILL);
    fill(mem, ARCH_BOOT_INFO_ADDR, ARCH_BOOT_INFO_END, INFO_FILL);
    fill(mem, ARCH_ACPI_ADDR, ARCH_MPTABLE_END, VMM_FILL);
    r = load_linux(&ctx, data, size, &args, &out);
    if (!intact(mem, ARCH_VMM_AREA_START, ARCH_VMM_AREA_END, VMM_FILL) ||
        !intact(mem, ARCH_ACPI_ADDR, ARCH_MPTABLE_END, VMM_FILL))
        abort();
    if (r < 0) {
        check_error();
        if (!intact(mem, ARCH_BOOT_INFO_ADDR, ARCH_BOOT_INFO_END, INFO_FILL))
            abort();
    } else {
        check_success(mem, &args, &out);
    }
    return 0;
}
