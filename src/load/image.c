/* image.c: format detection and the loaders' public entry points. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/acpi.h"
#include "arch/x86/arch.h"
#include "arch/x86/mptable.h"
#include "arch/x86/pc.h"
#include "error.h"
#include "load/load.h"
#include "vm.h"

#define LINUX_MAGIC_OFFSET 0x202

static const char *const format_names[] = {"raw", "elf", "multiboot", "linux"};

/* What protected- and long-mode loaders must never write over. */
static const struct load_region image_reserved[] = {
    {ARCH_VMM_AREA_START, ARCH_VMM_AREA_END,
     "the VMM's GDT, TSS and page tables"},
    {ARCH_BOOT_INFO_ADDR, ARCH_BOOT_INFO_END, "the boot information area"},
};

/* And for Linux guests, the platform tables written before the kernel
 * (image_platform_tables): a vmlinux segment must not cover them. */
static const struct load_region image_linux_reserved[] = {
    {ARCH_VMM_AREA_START, ARCH_VMM_AREA_END,
     "the VMM's GDT, TSS and page tables"},
    {ARCH_BOOT_INFO_ADDR, ARCH_BOOT_INFO_END, "the boot information area"},
    {ARCH_ACPI_ADDR, ARCH_ACPI_END, "the ACPI tables"},
    {ARCH_MPTABLE_ADDR, ARCH_MPTABLE_END, "the MP table"},
    {ARCH_BIOS_RESET_ADDR, ARCH_BIOS_END, "the reset vector's stub"},
};

#define IMAGE_COUNT(a) (sizeof(a) / sizeof((a)[0]))

enum kvmrun_format kvmrun_detect_format(const void *image, size_t len)
{
    const uint8_t *p = image;

    if (len >= LINUX_MAGIC_OFFSET + 4 &&
        memcmp(p + LINUX_MAGIC_OFFSET, "HdrS", 4) == 0)
        return KVMRUN_FORMAT_LINUX;
    if (load_multiboot_probe(p, len) >= 0)
        return KVMRUN_FORMAT_MULTIBOOT;
    if (load_elf_probe(p, len))
        return KVMRUN_FORMAT_ELF;
    return KVMRUN_FORMAT_RAW;
}

int kvmrun_detect_format_file(const char *path, enum kvmrun_format *format)
{
    uint8_t head[8192];
    uint64_t size;
    ssize_t n;
    int fd = load_open(path, &size);

    if (fd < 0)
        return fd;
    do
        n = read(fd, head, sizeof(head));
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        int r = err_errno(errno, "%s: read", path);

        close(fd);
        return r;
    }
    *format = kvmrun_detect_format(head, (size_t)n);
    /* An uncompressed Linux kernel boots as Linux, not as a plain ELF. */
    if (*format == KVMRUN_FORMAT_ELF && load_vmlinux_probe(fd, path, size))
        *format = KVMRUN_FORMAT_LINUX;
    close(fd);
    return 0;
}

const char *kvmrun_format_name(enum kvmrun_format format)
{
    return (unsigned)format < 4 ? format_names[format] : "?";
}

int kvmrun_parse_format(const char *text, enum kvmrun_format *format)
{
    for (unsigned i = 0; i < 4; i++)
        if (strcmp(text, format_names[i]) == 0) {
            *format = (enum kvmrun_format)i;
            return 0;
        }
    return err_set(EINVAL,
                   "'%s' is not an image format (raw, elf, "
                   "multiboot or linux)",
                   text);
}

static struct load_ctx image_ctx(struct kvmrun_vm *vm, const char *name)
{
    return (struct load_ctx){&vm->mem, name, image_reserved,
                             IMAGE_COUNT(image_reserved)};
}

static struct load_ctx image_linux_ctx(struct kvmrun_vm *vm, const char *name)
{
    return (struct load_ctx){&vm->mem, name, image_linux_reserved,
                             IMAGE_COUNT(image_linux_reserved)};
}

/* An image file to read from as it is loaded: never copied whole. */
static int image_open(struct kvmrun_vm *vm, const char *path,
                      struct load_src *src)
{
    int fd = load_open_max(path, vm->mem.size, &src->len);

    src->buf = NULL;
    src->fd = fd;
    src->name = path;
    return fd < 0 ? fd : 0;
}

/* The headers are checked, then the segments go from the file straight
 * into guest memory. */
int kvmrun_load_elf_file(struct kvmrun_vm *vm, const char *path,
                         struct kvmrun_elf_info *info)
{
    struct load_ctx ctx = image_ctx(vm, path);
    struct load_elf_info out;
    struct load_src src;
    int r = image_open(vm, path, &src);

    if (r < 0)
        return r;
    r = load_elf_src(&ctx, &src, &out);
    close(src.fd);
    if (r < 0)
        return r;
    vm_note_image(vm, out.low, out.high, path);
    info->entry = out.entry;
    info->bits = out.bits;
    return 0;
}

#define MULTIBOOT_MAGIC_EAX 0x2badb002u
#define MULTIBOOT_STACK                                                        \
    0x60000 /* below the VMM area; kernels set their own                       \
             */

/* "<path> <append>", or "<path>" alone: what QEMU passes as cmdline. */
static char *image_cmdline(const char *path, const char *append)
{
    size_t len = strlen(path) + (append ? strlen(append) + 1 : 0) + 1;
    char *s = malloc(len);

    if (s)
        snprintf(s, len, "%s%s%s", path, append ? " " : "",
                 append ? append : "");
    return s;
}

static int image_multiboot(struct kvmrun_vm *vm, const char *path,
                           const struct load_src *kernel,
                           struct load_multiboot_args *args,
                           struct kvmrun_boot *boot)
{
    struct load_ctx ctx = image_ctx(vm, path);
    struct load_multiboot_info out;
    int r = load_multiboot_src(&ctx, kernel, args, &out);

    if (r < 0)
        return r;
    vm_note_image(vm, ARCH_BOOT_INFO_ADDR, ARCH_BOOT_INFO_END,
                  "the multiboot information block");
    *boot = (struct kvmrun_boot){KVMRUN_MODE_PROTECTED,
                                 out.entry,
                                 MULTIBOOT_STACK,
                                 0,
                                 MULTIBOOT_MAGIC_EAX,
                                 out.ebx,
                                 0};
    return 0;
}

int kvmrun_load_multiboot_file(struct kvmrun_vm *vm, const char *path,
                               const char *append, const char *module_path,
                               struct kvmrun_boot *boot)
{
    struct load_multiboot_args args = {
        .module_string = module_path,
        .info_addr = ARCH_BOOT_INFO_ADDR,
        .info_size = ARCH_BOOT_INFO_END - ARCH_BOOT_INFO_ADDR,
    };
    struct load_src kernel = {.fd = -1}, module = {.fd = -1};
    int r = image_open(vm, path, &kernel);

    if (r == 0 && module_path)
        r = image_open(vm, module_path, &module);
    args.cmdline = image_cmdline(path, append);
    if (r == 0 && !args.cmdline)
        r = err_set(ENOMEM, "out of memory");
    args.module_src = module_path ? &module : NULL;
    if (r == 0)
        r = image_multiboot(vm, path, &kernel, &args, boot);
    free((char *)args.cmdline);
    if (module.fd >= 0)
        close(module.fd);
    if (kernel.fd >= 0)
        close(kernel.fd);
    return r;
}

/* The machine's devices in MMIO slots (virtio-mmio): at most
 * PC_MMIO_SLOTS into devs; how many. */
static unsigned image_mmio_devs(const struct kvmrun_vm *vm,
                                struct pc_mmio_dev *devs)
{
    unsigned n = 0;

    for (unsigned i = 0; i < vm->machine.ndevs && n < PC_MMIO_SLOTS; i++)
        if (vm->machine.devs[i].desc->mmio_slot)
            devs[n++] = (struct pc_mmio_dev){vm->machine.devs[i].base,
                                             vm->machine.devs[i].irq};
    return n;
}

/* The platform a Linux guest discovers: ACPI first, the MP table for
 * kernels booted with acpi=off, a reset vector that resets. */
static int image_platform_tables(struct kvmrun_vm *vm, uint64_t *rsdp)
{
    struct pc_mmio_dev mmio[PC_MMIO_SLOTS];
    unsigned nmmio = image_mmio_devs(vm, mmio);

    if (!vm->cfg.irqchip)
        return err_set(EINVAL, "Linux guests need the in-kernel irqchip "
                               "(drop --no-irqchip)");
    int r = mptable_write(&vm->mem, vm->ncpus, mmio, nmmio);

    if (r == 0)
        r = firmware_write_reset_stub(&vm->mem);
    return r < 0 ? r
                 : acpi_write_tables(&vm->mem, vm->ncpus, mmio, nmmio, rsdp);
}

/*
 * A guest booted with acpi=off reads no DSDT: its virtio-mmio devices
 * are named on its command line instead ("virtio_mmio.device=4K@BASE:GSI",
 * which kernels built with VIRTIO_MMIO_CMDLINE_DEVICES take), never
 * both. A malloc'd string ("" for none), or NULL (out of memory).
 */
static char *image_mmio_cmdline(const struct kvmrun_vm *vm, const char *append)
{
    struct pc_mmio_dev mmio[PC_MMIO_SLOTS];
    unsigned n = image_mmio_devs(vm, mmio);
    size_t len = 0, size = (size_t)n * 64 + 1;
    char *s;

    if (!load_linux_cmdline_has(append, "acpi=off"))
        n = 0;
    if (!(s = malloc(size)))
        return NULL;
    s[0] = 0;
    for (unsigned i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, size - len,
                                "%svirtio_mmio.device=4K@%#" PRIx64 ":%u",
                                i ? " " : "", mmio[i].base, mmio[i].gsi);
    return s;
}

static int image_linux(struct kvmrun_vm *vm, const char *path,
                       const uint8_t *kernel, size_t kernel_len,
                       struct load_linux_args *args, struct kvmrun_boot *boot,
                       struct load_linux_info *out)
{
    struct load_ctx ctx = image_linux_ctx(vm, path);
    int r = image_platform_tables(vm, &args->acpi_rsdp_addr);

    if (r == 0)
        r = load_linux(&ctx, kernel, kernel_len, args, out);
    if (r < 0)
        return r;
    vm_note_image(vm, out->kernel_start, out->kernel_end, path);
    *boot = (struct kvmrun_boot){.mode = KVMRUN_MODE_LONG,
                                 .entry = out->entry,
                                 .sp = MULTIBOOT_STACK,
                                 .rsi = out->boot_params};
    return 0;
}

/* A vmlinux: its segments at their physical addresses, the zero page made
 * up, the 64-bit entry (startup_64) at e_entry, as Firecracker boots. */
static int image_vmlinux(struct kvmrun_vm *vm, const char *path, int fd,
                         uint64_t size, struct load_linux_args *args,
                         struct kvmrun_boot *boot, struct load_linux_info *out)
{
    struct load_ctx ctx = image_linux_ctx(vm, path);
    struct load_vmlinux_info info;
    int r = load_vmlinux(&ctx, fd, size, &info);

    if (r < 0)
        return r;
    r = image_platform_tables(vm, &args->acpi_rsdp_addr);
    if (r == 0)
        r = load_vmlinux_boot(&ctx, info.end, args, out);
    if (r == 0)
        r = load_vmlinux_copy(&ctx, fd, &info);
    load_vmlinux_free(&info);
    if (r < 0)
        return r;
    vm_note_image(vm, info.start, info.end, path);
    out->kernel_len = 0; /* loaded already */
    *boot = (struct kvmrun_boot){.mode = KVMRUN_MODE_LONG,
                                 .entry = info.entry,
                                 .sp = MULTIBOOT_STACK,
                                 .rsi = out->boot_params};
    return 0;
}

/* The first bytes of a bzImage: its setup header, and then some. */
#define LINUX_HEAD 8192

/*
 * The kernel and the initrd go from their files straight into guest
 * memory, once the header says where: the VMM never holds a copy, so its
 * own resident memory stays small.
 */
int kvmrun_load_linux_file(struct kvmrun_vm *vm, const char *path,
                           const char *append, const char *initrd_path,
                           struct kvmrun_boot *boot)
{
    struct load_linux_args args = {
        .boot_params_addr = ARCH_BOOT_INFO_ADDR,
        .cmdline_addr = ARCH_CMDLINE_ADDR,
        .cmdline_room = ARCH_BOOT_INFO_END - ARCH_CMDLINE_ADDR,
    };
    struct load_linux_info out;
    uint8_t head[LINUX_HEAD];
    char *cmdline, *extra;
    uint64_t size, initrd_size = 0;
    int ifd = -1, r, fd = load_open_max(path, vm->mem.size, &size);
    size_t head_len = size < sizeof(head) ? (size_t)size : sizeof(head);

    if (fd < 0)
        return fd;
    extra = image_mmio_cmdline(vm, append);
    cmdline = extra
                  ? load_linux_cmdline(append,
                                       vm->cfg.console == KVMRUN_CONSOLE_VIRTIO
                                           ? LOAD_LINUX_CONSOLE_VIRTIO
                                           : LOAD_LINUX_CONSOLE,
                                       extra)
                  : NULL;
    free(extra);
    if (!cmdline) {
        close(fd);
        return err_set(ENOMEM, "%s: out of memory", path);
    }
    args.cmdline = cmdline;
    r = load_read_at(fd, path, 0, head, head_len);
    if (r == 0 && initrd_path) {
        ifd = load_open_max(initrd_path, vm->mem.size, &initrd_size);
        r = ifd < 0 ? ifd : 0;
    }
    args.file_len = size;
    args.initrd_len = (size_t)initrd_size;
    if (r == 0 && head_len >= SELFMAG && memcmp(head, ELFMAG, SELFMAG) == 0)
        r = image_vmlinux(vm, path, fd, size, &args, boot, &out);
    else if (r == 0)
        r = image_linux(vm, path, head, head_len, &args, boot, &out);
    if (r == 0 && out.kernel_len)
        r = load_read_at(fd, path, out.kernel_file_off,
                         mem_ptr(&vm->mem, out.kernel_start, out.kernel_len),
                         out.kernel_len);
    if (r == 0 && initrd_size)
        r = load_read_at(ifd, initrd_path, 0,
                         mem_ptr(&vm->mem, out.initrd_start, initrd_size),
                         initrd_size);
    if (ifd >= 0)
        close(ifd);
    close(fd);
    free(cmdline);
    return r;
}
