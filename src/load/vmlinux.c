/* vmlinux.c: an uncompressed Linux kernel (ELF), entered at startup_64. */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "load/load.h"

/* How much of each PT_NOTE segment is searched for the "Linux" note. */
#define VMLINUX_MAX_NOTES 4096

/* A one-line error about the file's ELF headers. */
#define vm_err(ctx, ...) load_err(ctx, "vmlinux", __VA_ARGS__)

/* 1 if the notes in buf[0..len) have one named "Linux" (every vmlinux
 * since 4.17 carries Linux build-salt and other notes). */
static int has_linux_note(const uint8_t *buf, size_t len)
{
    size_t off = 0;

    while (len - off >= sizeof(Elf64_Nhdr)) {
        Elf64_Nhdr n;
        uint64_t name, desc;

        memcpy(&n, buf + off, sizeof(n));
        off += sizeof(n);
        name = ((uint64_t)n.n_namesz + 3) & ~3ULL;
        desc = ((uint64_t)n.n_descsz + 3) & ~3ULL;
        if (name > len - off)
            return 0;
        if (n.n_namesz == 6 && memcmp(buf + off, "Linux", 6) == 0)
            return 1;
        if (desc > len - off - name)
            return 0;
        off += name + desc;
    }
    return 0;
}

/*
 * The program header table, read into a new buffer (free() it): any
 * number of entries (e_phnum is 16 bits: at most 3.5 MiB), as long as
 * the table lies inside the file. -EINVAL when it is not there.
 */
static int read_phdrs(int fd, const char *path, const Elf64_Ehdr *e,
                      uint64_t size, Elf64_Phdr **ph)
{
    uint64_t bytes = (uint64_t)e->e_phnum * sizeof(Elf64_Phdr);
    int r;

    if (e->e_phentsize != sizeof(Elf64_Phdr) || e->e_phnum == 0 ||
        e->e_phoff > size || bytes > size - e->e_phoff)
        return -EINVAL;
    if (!(*ph = malloc((size_t)bytes)))
        return -ENOMEM;
    if ((r = load_read_at(fd, path, e->e_phoff, *ph, bytes)) < 0) {
        free(*ph);
        *ph = NULL;
    }
    return r;
}

/* 1 if one of the PT_NOTE segments holds the "Linux" note. */
static int has_linux_segment(int fd, const char *path, uint64_t size,
                             const Elf64_Phdr *ph, unsigned n)
{
    uint8_t notes[VMLINUX_MAX_NOTES];

    for (unsigned i = 0; i < n; i++) {
        uint64_t len = ph[i].p_filesz;

        if (ph[i].p_type != PT_NOTE || ph[i].p_offset > size ||
            len > size - ph[i].p_offset)
            continue;
        if (len > sizeof(notes))
            len = sizeof(notes);
        if (load_read_at(fd, path, ph[i].p_offset, notes, len) == 0 &&
            has_linux_note(notes, (size_t)len))
            return 1;
    }
    return 0;
}

int load_vmlinux_probe(int fd, const char *path, uint64_t size)
{
    Elf64_Phdr *ph = NULL;
    Elf64_Ehdr e;
    int found;

    if (size < sizeof(e) || load_read_at(fd, path, 0, &e, sizeof(e)) < 0 ||
        memcmp(e.e_ident, ELFMAG, SELFMAG) != 0 ||
        e.e_ident[EI_CLASS] != ELFCLASS64 || e.e_machine != EM_X86_64 ||
        read_phdrs(fd, path, &e, size, &ph) < 0)
        return 0;
    found = has_linux_segment(fd, path, size, ph, e.e_phnum);
    free(ph);
    return found;
}

/* The segments are checked as any ELF executable's (load_elf_plan(): in
 * the file, in RAM, clear of the reserved ranges, which for a Linux guest
 * include the ACPI and MP tables, and of each other). */
int load_vmlinux(const struct load_ctx *ctx, int fd, uint64_t size,
                 struct load_vmlinux_info *out)
{
    struct load_src src = {NULL, fd, size, ctx->name};
    int r = load_elf_plan(ctx, &src, &out->plan);

    if (r < 0)
        return r;
    if (out->plan.info.bits != 64) {
        load_elf_plan_free(&out->plan);
        return vm_err(ctx, "ELF%u: a vmlinux is an x86-64 ELF64 executable",
                      out->plan.info.bits);
    }
    out->entry = out->plan.info.entry;
    out->start = out->plan.info.low;
    out->end = out->plan.info.high;
    return 0;
}

void load_vmlinux_free(struct load_vmlinux_info *info)
{
    load_elf_plan_free(&info->plan);
}

int load_vmlinux_copy(const struct load_ctx *ctx, int fd,
                      const struct load_vmlinux_info *info)
{
    /* The plan checked every segment against the file's size; a file
     * that shrank since is an error of the read. */
    struct load_src src = {NULL, fd, UINT64_MAX, ctx->name};

    return load_elf_copy(ctx, &src, &info->plan);
}
