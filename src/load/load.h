/* load.h: guest image loaders (ELF, multiboot, Linux bzImage and vmlinux)
 * and what they share. */
#ifndef KVMRUN_LOAD_H
#define KVMRUN_LOAD_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem.h"

/* Opens a regular file for reading: its fd (*size = its size), or -errno
 * with a message naming the file ("is a FIFO, not a regular file",
 * ENOENT, ...); never blocks on a FIFO or device (file_open_regular). */
int load_open(const char *path, uint64_t *size);

/* The same, refusing files larger than max_len (the guest's memory size)
 * with -EFBIG naming the file. */
int load_open_max(const char *path, uint64_t max_len, uint64_t *size);

/* Reads exactly len bytes at file offset off into dst: 0, or -errno
 * naming the file (-EIO if it shrank meanwhile). */
int load_read_at(int fd, const char *path, uint64_t off, void *dst,
                 uint64_t len);

/*
 * Where a loader reads an image from: the whole image in memory (unit
 * tests, fuzzers, built-in guests) or an open file, whose bytes then go
 * straight into guest memory, never through a copy in the VMM's own.
 */
struct load_src {
    const uint8_t *buf; /* the image's len bytes; NULL: read from fd */
    int fd;
    uint64_t len;     /* its size (the file's, when it was opened) */
    const char *name; /* for errors */
};

/* Reads len bytes at image offset off into dst: 0, or -EIO (past the
 * image's end, or a file that shrank) or -errno, naming src->name. */
int load_src_read(const struct load_src *src, uint64_t off, void *dst,
                  uint64_t len);

/* A guest-physical range [start, end) the VMM keeps for itself. */
struct load_region {
    uint64_t start;
    uint64_t end;
    const char *what; /* "the VMM's GDT, TSS and page tables", ... */
};

/* What every loader gets: where to put things, and what not to touch. */
struct load_ctx {
    struct guest_mem *mem;              /* copy through mem_ptr() only */
    const char *name;                   /* the image's file name, for errors */
    const struct load_region *reserved; /* ranges a loader must not write */
    unsigned nreserved;
};

/*
 * 0 when [start, start + len) is all RAM and touches no reserved range;
 * else -ERANGE/-EINVAL with a message naming ctx->name, what (e.g.
 * "segment 2"), the range and the reason.
 */
int load_check_range(const struct load_ctx *ctx, const char *what,
                     uint64_t start, uint64_t len);

/*
 * Writing guest memory, in ranges the caller checked with
 * load_check_range() (a range outside RAM is left alone): len bytes from
 * src, len zeros, or len bytes read from src at image offset off (0, or
 * load_src_read()'s error).
 */
void load_copy(const struct guest_mem *mem, uint64_t gpa, const void *src,
               uint64_t len);
void load_zero(const struct guest_mem *mem, uint64_t gpa, uint64_t len);
int load_read(const struct guest_mem *mem, uint64_t gpa,
              const struct load_src *src, uint64_t off, uint64_t len);

/* -EINVAL with the one-line message "<ctx->name>: <what>: <why>", why
 * formatted from fmt: how loaders report a bad field. */
int load_err(const struct load_ctx *ctx, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ELF (load/elf.c) */

/* 1 if image starts with the ELF magic, else 0. */
int load_elf_probe(const uint8_t *image, size_t len);

struct load_elf_info {
    uint64_t entry; /* e_entry */
    unsigned bits;  /* 32 (ELFCLASS32) or 64 (ELFCLASS64) */
    uint64_t low;   /* lowest guest-physical byte loaded */
    uint64_t high;  /* one past the highest byte loaded (bss included) */
};

/* A PT_LOAD segment to load; index is its number in the program header
 * table, counted from 0 as readelf -l numbers segments. */
struct load_elf_seg {
    unsigned index;
    uint64_t offset, paddr, filesz, memsz;
};

/* A checked ELF image: what to copy where. */
struct load_elf_plan {
    struct load_elf_info info;
    struct load_elf_seg *segs; /* p_memsz > 0, by address, disjoint */
    unsigned nsegs;
};

/*
 * Checks an x86 ELF32 (EM_386) or ELF64 (EM_X86_64) executable (ET_EXEC)
 * read from src (its ELF header and program header table only): every
 * header field, every PT_LOAD segment inside the file, in RAM, clear of
 * ctx->reserved and of every other segment, e_entry inside one. Writes
 * nothing. 0 with *plan filled (load_elf_plan_free() it), or
 * -EINVAL/-ERANGE with a one-line message naming ctx->name and the field.
 */
int load_elf_plan(const struct load_ctx *ctx, const struct load_src *src,
                  struct load_elf_plan *plan);
void load_elf_plan_free(struct load_elf_plan *plan);

/* Copies each planned segment from src to its p_paddr, zeroing
 * p_memsz - p_filesz: 0, or -errno if src cannot be read (a file that
 * shrank since the plan). */
int load_elf_copy(const struct load_ctx *ctx, const struct load_src *src,
                  const struct load_elf_plan *plan);

/* load_elf_plan(), then load_elf_copy(): a bad image leaves guest memory
 * untouched. load_elf() is the same for an image in memory. */
int load_elf_src(const struct load_ctx *ctx, const struct load_src *src,
                 struct load_elf_info *out);
int load_elf(const struct load_ctx *ctx, const uint8_t *image, size_t len,
             struct load_elf_info *out);

/* Multiboot v1 (load/multiboot.c) */

/* Offset of a valid multiboot header (magic 0x1BADB002 and checksum) in
 * the first 8 KiB, 4-byte aligned, or -1. */
long load_multiboot_probe(const uint8_t *image, size_t len);

struct load_multiboot_args {
    const char *cmdline;   /* the whole command line, never NULL */
    const uint8_t *module; /* module 0 (--initrd/--module), or NULL */
    size_t module_len;
    const struct load_src *module_src; /* or module 0 read from here */
    const char *module_string;         /* module 0's string, e.g. its path */
    uint64_t info_addr;                /* where the information block goes */
    uint64_t info_size;                /* bytes available there */
};

struct load_multiboot_info {
    uint64_t entry; /* 32-bit entry point */
    uint32_t ebx;   /* guest-physical address of the information block */
};

/*
 * Loads a multiboot v1 kernel as QEMU's -kernel does: the ELF image (or,
 * with header flag 16, the a.out-kludge addresses), the module after the
 * kernel on a page boundary, and the information block (mem_lower/upper,
 * memory map from ctx->mem, command line, modules; mods_count 0 with a
 * valid mods_addr when there is none) at args->info_addr. Untrusted input:
 * same checks and messages as load_elf().
 */
int load_multiboot(const struct load_ctx *ctx, const uint8_t *image, size_t len,
                   const struct load_multiboot_args *args,
                   struct load_multiboot_info *out);

/* The same for a kernel read from src: its headers are checked, then its
 * bytes (and the module's) go from src straight into guest memory. */
int load_multiboot_src(const struct load_ctx *ctx, const struct load_src *src,
                       const struct load_multiboot_args *args,
                       struct load_multiboot_info *out);

/* Linux x86 boot protocol (load/linux.c) */

/* 1 if image has the boot protocol's "HdrS" signature at 0x202. */
int load_linux_probe(const uint8_t *image, size_t len);

struct load_linux_args {
    const char *cmdline;   /* never NULL ("" for none) */
    const uint8_t *initrd; /* or NULL */
    size_t initrd_len;
    /*
     * 0: image is the whole file and initrd the whole initrd (or NULL):
     * load_linux copies them. Else the file's length: image holds only
     * its first len bytes (at least the setup header's 1 KiB), initrd may
     * be NULL with initrd_len set, and after a success the caller copies
     * the protected-mode kernel (file offset out->kernel_file_off, to
     * out->kernel_start) and the initrd (to out->initrd_start) itself, so
     * that neither passes through the VMM's own memory.
     */
    uint64_t file_len;
    uint64_t boot_params_addr; /* where the zero page goes (4 KiB) */
    uint64_t cmdline_addr;     /* where the command line goes */
    uint64_t cmdline_room;     /* bytes available there */
    uint64_t acpi_rsdp_addr;   /* boot_params.acpi_rsdp_addr, or 0 */
};

struct load_linux_info {
    uint64_t entry;           /* 64-bit entry: protected-mode kernel + 0x200 */
    uint64_t boot_params;     /* RSI at the entry */
    uint64_t kernel_start;    /* the protected-mode kernel as loaded... */
    uint64_t kernel_end;      /* ...plus the room it decompresses into */
    uint64_t kernel_file_off; /* where the protected-mode kernel starts */
    uint64_t kernel_len;      /* in the file, and how long it is */
    uint64_t initrd_start;    /* 0 when there is none */
    uint64_t initrd_end;
};

/*
 * Loads a bzImage for the 64-bit boot protocol (boot protocol >= 2.06;
 * XLF_KERNEL_64 in xloadflags when the protocol has them): the protected-
 * mode kernel at 1 MiB, the initrd as high as initrd_addr_max and RAM
 * allow, the zero page (setup header copied from the image, type_of_loader
 * 0xff, e820 map from ctx->mem, cmd_line_ptr, ramdisk_image/size) and the
 * command line. Untrusted input: every field checked, one-line errors
 * naming ctx->name and the field, nothing written before all checks pass.
 */
int load_linux(const struct load_ctx *ctx, const uint8_t *image, size_t len,
               const struct load_linux_args *args, struct load_linux_info *out);

/* The console a Linux guest gets when its command line names none: the
 * UART every VM has (as kvmtool does; without a console= the kernel
 * prints nowhere a user sees). */
#define LOAD_LINUX_CONSOLE "console=ttyS0"
/* ... and the virtio console's, when the user chose it. */
#define LOAD_LINUX_CONSOLE_VIRTIO "console=hvc0"

/*
 * The command line a Linux guest is given for the user's append (NULL:
 * none): append itself when one of the kernel's parameters (the words
 * before a "--", outside double quotes) is console=..., else
 * default_console (LOAD_LINUX_CONSOLE, or _VIRTIO for the virtio
 * console) first, then append; extra (NULL or "": none), the machine's
 * own kernel parameters (virtio_mmio.device=...), goes after append's
 * and before a "--" (init's arguments). A malloc'd string, or
 * NULL (out of memory).
 */
char *load_linux_cmdline(const char *append, const char *default_console,
                         const char *extra);

/* Whether word is one of the kernel's parameters in cmdline (NULL:
 * none), whole: "acpi=off". */
bool load_linux_cmdline_has(const char *cmdline, const char *word);

/* Uncompressed Linux kernels (load/vmlinux.c), read from their file
 * straight into guest memory. */

/* 1 if the file fd (size bytes) is an x86-64 ELF64 with a "Linux" note
 * (however many program headers it has). */
int load_vmlinux_probe(int fd, const char *path, uint64_t size);

struct load_vmlinux_info {
    uint64_t entry;      /* e_entry: startup_64's physical address */
    uint64_t start, end; /* the PT_LOAD segments' physical extent */
    struct load_elf_plan plan;
};

/* Checks the file as load_elf_plan() does (every PT_LOAD segment inside
 * the file, in guest RAM, clear of ctx->reserved and of each other, the
 * entry inside one) and that it is ELF64; writes nothing. Errors name
 * ctx->name and the field. load_vmlinux_free() *out after a success. */
int load_vmlinux(const struct load_ctx *ctx, int fd, uint64_t size,
                 struct load_vmlinux_info *out);
void load_vmlinux_free(struct load_vmlinux_info *info);

/* Reads the segments load_vmlinux() checked into guest memory, zeroing
 * what is past their file bytes. */
int load_vmlinux_copy(const struct load_ctx *ctx, int fd,
                      const struct load_vmlinux_info *info);

/*
 * For an uncompressed vmlinux (ELF) whose segments end at kernel_end: the
 * zero page (a setup header made up for protocol 2.15), the command line
 * and the initrd's place above the kernel, as load_linux() with
 * args->file_len set (the caller loads the segments and the initrd).
 */
int load_vmlinux_boot(const struct load_ctx *ctx, uint64_t kernel_end,
                      const struct load_linux_args *args,
                      struct load_linux_info *out);

#endif
