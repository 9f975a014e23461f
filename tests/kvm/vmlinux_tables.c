/*
 * vmlinux_tables.c: an uncompressed Linux kernel (vmlinux) is loaded by
 * kvmrun_load_linux_file() only if its segments leave the platform
 * tables a Linux guest gets alone (the ACPI tables at 0xe0000, the MP
 * table at 0xf0000) and each other; one with more program headers than
 * usual (40) is still detected as Linux and loaded.
 *
 * usage: vmlinux_tables DIR   (crafted files are written in DIR)
 */
#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "kvmtest.h"

#define MIB (1ULL << 20)
#define NPHDRS 40

static char dir[4000];

/* A vmlinux file: the n program headers ph (PT_LOAD bytes at 0x1000), a
 * "Linux" note in a PT_NOTE at 0x2000, entry at 16 MiB. */
static const char *craft(const char *name, const Elf64_Phdr *ph, unsigned n)
{
    static const uint8_t note[] = {6,   0, 0, 0, 4,   0,   0,   0,
                                   1,   0, 0, 0, 'L', 'i', 'n', 'u',
                                   'x', 0, 0, 0, 1,   2,   3,   4};
    static char path[4096];
    Elf64_Ehdr e = {.e_type = ET_EXEC,
                    .e_machine = EM_X86_64,
                    .e_version = EV_CURRENT,
                    .e_entry = 16 * MIB,
                    .e_phoff = sizeof(Elf64_Ehdr),
                    .e_ehsize = sizeof(Elf64_Ehdr),
                    .e_phentsize = sizeof(Elf64_Phdr),
                    .e_phnum = (uint16_t)(n + 1)};
    Elf64_Phdr notes = {
        .p_type = PT_NOTE, .p_offset = 0x2000, .p_filesz = sizeof(note)};
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        FAILF("%s: %s", path, strerror(errno));
    memcpy(e.e_ident, ELFMAG, SELFMAG);
    e.e_ident[EI_CLASS] = ELFCLASS64;
    e.e_ident[EI_DATA] = ELFDATA2LSB;
    e.e_ident[EI_VERSION] = EV_CURRENT;
    if (ftruncate(fd, 0x3000) < 0 || pwrite(fd, &e, sizeof(e), 0) < 0 ||
        pwrite(fd, ph, n * sizeof(*ph), sizeof(e)) < 0 ||
        pwrite(fd, &notes, sizeof(notes), sizeof(e) + n * sizeof(*ph)) < 0 ||
        pwrite(fd, note, sizeof(note), 0x2000) < 0 ||
        pwrite(fd, "KERNEL", 6, 0x1000) < 0)
        FAILF("%s: %s", path, strerror(errno));
    close(fd);
    return path;
}

static Elf64_Phdr seg(uint64_t paddr, uint64_t memsz)
{
    return (Elf64_Phdr){.p_type = PT_LOAD,
                        .p_offset = 0x1000,
                        .p_paddr = paddr,
                        .p_filesz = 0x1000,
                        .p_memsz = memsz};
}

static struct kvmrun_vm *new_vm(void)
{
    struct kvmrun_config cfg;
    struct kvmrun_vm *vm;

    kvmrun_config_init(&cfg);
    cfg.serial_fd = -1;
    CHECK(kvmrun_vm_create(&cfg, &vm));
    return vm;
}

/* The file is detected as Linux, and refused with why in the message. */
static void refused(const char *path, const char *why)
{
    struct kvmrun_vm *vm = new_vm();
    struct kvmrun_boot boot;
    enum kvmrun_format f;

    CHECK(kvmrun_detect_format_file(path, &f));
    if (f != KVMRUN_FORMAT_LINUX)
        FAILF("%s: detected as %s, not linux", path, kvmrun_format_name(f));
    if (kvmrun_load_linux_file(vm, path, NULL, NULL, &boot) == 0)
        FAILF("%s: loaded, not refused (%s)", path, why);
    if (!strstr(kvmrun_last_error(), why))
        FAILF("%s: '%s' does not say '%s'", path, kvmrun_last_error(), why);
    printf("refused: %s\n", kvmrun_last_error());
    kvmrun_vm_destroy(vm);
}

int main(int argc, char **argv)
{
    Elf64_Phdr ph[NPHDRS];
    struct kvmrun_boot boot;
    struct kvmrun_vm *vm;
    enum kvmrun_format f;
    const char *path;

    if (argc != 2)
        FAILF("usage: vmlinux_tables DIR");
    snprintf(dir, sizeof(dir), "%s", argv[1]);
    ph[0] = seg(16 * MIB, 0x2000);
    ph[1] = seg(0xe8000, 0x1000);
    refused(craft("acpi", ph, 2),
            "0xe8000-0xe9000 overlaps the ACPI tables at 0xe0000-0xf0000");
    ph[1] = seg(0xf0000, 0x1000);
    refused(craft("mptable", ph, 2),
            "0xf0000-0xf1000 overlaps the MP table at 0xf0000-0xfff00");
    ph[1] = seg(16 * MIB + 0x1000, 0x1000);
    refused(craft("overlap", ph, 2), "PT_LOAD segments 0 and 1 overlap");

    for (unsigned i = 0; i < NPHDRS - 1; i++)
        ph[i] = seg(16 * MIB + i * 0x10000ULL, 0x2000);
    path = craft("many", ph, NPHDRS - 1);
    CHECK(kvmrun_detect_format_file(path, &f));
    if (f != KVMRUN_FORMAT_LINUX)
        FAILF("%d program headers: detected as %s, not linux", NPHDRS,
              kvmrun_format_name(f));
    vm = new_vm();
    CHECK(kvmrun_load_linux_file(vm, path, NULL, NULL, &boot));
    kvmrun_vm_destroy(vm);
    printf("%d program headers: linux, loaded\n", NPHDRS);
    return 0;
}
