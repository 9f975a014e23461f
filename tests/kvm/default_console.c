/*
 * default_console.c: kvmrun_load_linux_file() gives a Linux guest
 * console=ttyS0 when its command line names no console (the kernel would
 * print nowhere a user sees), and the user's command line untouched when
 * it does. Read back from the zero page's cmd_line_ptr in guest memory,
 * for a crafted vmlinux (no Linux boot needed).
 *
 * usage: default_console DIR   (the crafted file is written in DIR)
 */
#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "kvmtest.h"

#define MIB (1ULL << 20)
#define ZP_CMD_LINE_PTR 0x228 /* boot_params.hdr.cmd_line_ptr, u32 */

/* A vmlinux: one PT_LOAD at 16 MiB and the "Linux" note. */
static void craft(const char *path)
{
    static const uint8_t note[] = {6,   0, 0, 0, 4,   0,   0,   0,
                                   1,   0, 0, 0, 'L', 'i', 'n', 'u',
                                   'x', 0, 0, 0, 1,   2,   3,   4};
    Elf64_Ehdr e = {.e_type = ET_EXEC,
                    .e_machine = EM_X86_64,
                    .e_version = EV_CURRENT,
                    .e_entry = 16 * MIB,
                    .e_phoff = sizeof(Elf64_Ehdr),
                    .e_ehsize = sizeof(Elf64_Ehdr),
                    .e_phentsize = sizeof(Elf64_Phdr),
                    .e_phnum = 2};
    Elf64_Phdr ph[2] = {
        {.p_type = PT_LOAD,
         .p_offset = 0x1000,
         .p_paddr = 16 * MIB,
         .p_filesz = 0x1000,
         .p_memsz = 0x1000},
        {.p_type = PT_NOTE, .p_offset = 0x2000, .p_filesz = sizeof(note)}};
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0)
        FAILF("%s: %s", path, strerror(errno));
    memcpy(e.e_ident, ELFMAG, SELFMAG);
    e.e_ident[EI_CLASS] = ELFCLASS64;
    e.e_ident[EI_DATA] = ELFDATA2LSB;
    e.e_ident[EI_VERSION] = EV_CURRENT;
    if (ftruncate(fd, 0x3000) < 0 || pwrite(fd, &e, sizeof(e), 0) < 0 ||
        pwrite(fd, ph, sizeof(ph), sizeof(e)) < 0 ||
        pwrite(fd, note, sizeof(note), 0x2000) < 0)
        FAILF("%s: %s", path, strerror(errno));
    close(fd);
}

/* Loads path with append; the guest's command line must be want. */
static void expect(const char *path, const char *append, const char *want)
{
    struct kvmrun_config cfg;
    struct kvmrun_boot boot;
    struct kvmrun_vm *vm;
    const uint8_t *zp;
    const char *cl;
    uint32_t ptr;

    kvmrun_config_init(&cfg);
    cfg.serial_fd = -1;
    CHECK(kvmrun_vm_create(&cfg, &vm));
    CHECK(kvmrun_load_linux_file(vm, path, append, NULL, &boot));
    if (!(zp = kvmrun_vm_mem(vm, boot.rsi, 4096)))
        FAILF("no zero page at %#llx", (unsigned long long)boot.rsi);
    memcpy(&ptr, zp + ZP_CMD_LINE_PTR, sizeof(ptr));
    if (!(cl = kvmrun_vm_mem(vm, ptr, strlen(want) + 1)))
        FAILF("cmd_line_ptr %#x is not in RAM", ptr);
    if (strcmp(cl, want) != 0)
        FAILF("append '%s': the guest's command line is '%.200s', not '%s'",
              append ? append : "(none)", cl, want);
    printf("'%s' -> '%s'\n", append ? append : "(none)", cl);
    kvmrun_vm_destroy(vm);
}

int main(int argc, char **argv)
{
    char path[4096];

    if (argc != 2)
        FAILF("usage: default_console DIR");
    snprintf(path, sizeof(path), "%s/vmlinux", argv[1]);
    craft(path);
    expect(path, NULL, "console=ttyS0");
    expect(path, "quiet panic=-1", "console=ttyS0 quiet panic=-1");
    expect(path, "quiet console=hvc0", "quiet console=hvc0");
    expect(path, "quiet -- console=x", "console=ttyS0 quiet -- console=x");
    return 0;
}
