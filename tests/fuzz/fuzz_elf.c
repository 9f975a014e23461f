/* fuzz_elf.c: libFuzzer target feeding arbitrary bytes to load_elf(). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmrun.h"
#include "load/load.h"
#include "mem.h"

#define NAME "fuzz.elf"
#define GUEST_RAM (4ULL << 20)
#define RSV_START 0x70000
#define RSV_END 0x80000

#include "fuzz_guest.h"

/* The same reserved range the unit tests use: inputs that hit it must be
 * refused without a byte written. */
static const struct load_region reserved = {RSV_START, RSV_END,
                                            "the VMM's page tables"};

/* A refusal must explain itself on one line that names the image. */
static void check_message(void)
{
    const char *msg = kvmrun_last_error();

    if (strncmp(msg, NAME ": ", strlen(NAME ": ")) != 0 || strchr(msg, '\n') ||
        msg[strlen(NAME ": ")] == '\0') {
        fprintf(stderr, "bad error message: \"%s\"\n", msg);
        abort();
    }
}

/* A success must describe what it loaded. */
static void check_info(const struct load_elf_info *info)
{
    if ((info->bits != 32 && info->bits != 64) || info->low >= info->high ||
        info->high > GUEST_RAM || info->entry < info->low ||
        info->entry >= info->high) {
        fprintf(stderr,
                "bad load_elf_info: entry %#llx bits %u "
                "low %#llx high %#llx\n",
                (unsigned long long)info->entry, info->bits,
                (unsigned long long)info->low, (unsigned long long)info->high);
        abort();
    }
}

/* RAM starts zeroed and the loader must never write the reserved range,
 * accepted image or not. */
static void check_reserved(const struct guest_mem *mem)
{
    static const uint8_t zero[RSV_END - RSV_START];

    if (memcmp(mem_ptr(mem, RSV_START, sizeof(zero)), zero, sizeof(zero))) {
        fprintf(stderr, "the reserved range was written\n");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct load_ctx ctx = {guest(), NAME, &reserved, 1};
    struct load_elf_info info;

    if (load_elf(&ctx, data, size, &info) < 0)
        check_message();
    else
        check_info(&info);
    check_reserved(ctx.mem);
    return 0;
}
