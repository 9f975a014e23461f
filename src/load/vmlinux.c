/* vmlinux.c: an uncompressed Linux kernel (ELF), entered at startup_64. */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "load/load.h"

/* The most program headers a vmlinux has (5 for x86-64) and then some. */
#define VMLINUX_MAX_PHDRS 16
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

static int read_phdrs(int fd, const char *path, const Elf64_Ehdr *e,
                      uint64_t size, Elf64_Phdr *ph)
{
    uint64_t bytes = (uint64_t)e->e_phnum * sizeof(Elf64_Phdr);

    if (e->e_phentsize != sizeof(Elf64_Phdr) || e->e_phnum == 0 ||
        e->e_phnum > VMLINUX_MAX_PHDRS || e->e_phoff > size ||
        bytes > size - e->e_phoff)
        return err_set(EINVAL,
                       "%s: vmlinux: program headers (e_phoff 0x%" PRIx64
                       ", e_phnum %u, e_phentsize %u) are not inside the "
                       "file or not ELF64's",
                       path, (uint64_t)e->e_phoff, e->e_phnum, e->e_phentsize);
    return load_read_at(fd, path, e->e_phoff, ph, bytes);
}

int load_vmlinux_probe(int fd, const char *path, uint64_t size)
{
    Elf64_Phdr ph[VMLINUX_MAX_PHDRS];
    uint8_t notes[VMLINUX_MAX_NOTES];
    Elf64_Ehdr e;

    if (size < sizeof(e) || load_read_at(fd, path, 0, &e, sizeof(e)) < 0 ||
        memcmp(e.e_ident, ELFMAG, SELFMAG) != 0 ||
        e.e_ident[EI_CLASS] != ELFCLASS64 || e.e_machine != EM_X86_64 ||
        read_phdrs(fd, path, &e, size, ph) < 0)
        return 0;
    for (unsigned i = 0; i < e.e_phnum; i++) {
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

int load_vmlinux(const struct load_ctx *ctx, int fd, uint64_t size,
                 struct load_vmlinux_info *out)
{
    Elf64_Phdr ph[VMLINUX_MAX_PHDRS];
    uint64_t start = UINT64_MAX, end = 0;
    int entry_ok = 0, r;
    Elf64_Ehdr e;

    if (size < sizeof(e))
        return vm_err(ctx, "file is %" PRIu64 " bytes, too short", size);
    if ((r = load_read_at(fd, ctx->name, 0, &e, sizeof(e))) < 0)
        return r;
    if (e.e_ident[EI_CLASS] != ELFCLASS64 || e.e_machine != EM_X86_64 ||
        e.e_type != ET_EXEC)
        return vm_err(ctx,
                      "not an x86-64 ELF64 executable (class %u, "
                      "e_machine %u, e_type %u)",
                      e.e_ident[EI_CLASS], e.e_machine, e.e_type);
    if ((r = read_phdrs(fd, ctx->name, &e, size, ph)) < 0)
        return r;
    for (unsigned i = 0; i < e.e_phnum; i++) {
        const Elf64_Phdr *p = &ph[i];

        if (p->p_type != PT_LOAD)
            continue;
        if (p->p_filesz > p->p_memsz || p->p_offset > size ||
            p->p_filesz > size - p->p_offset)
            return vm_err(ctx,
                          "segment %u: p_offset 0x%" PRIx64
                          " p_filesz 0x%" PRIx64 " p_memsz 0x%" PRIx64
                          ": not inside the file",
                          i, (uint64_t)p->p_offset, (uint64_t)p->p_filesz,
                          (uint64_t)p->p_memsz);
        r = load_check_range(ctx, "vmlinux segment", p->p_paddr, p->p_memsz);
        if (r < 0)
            return r;
        if (p->p_paddr < start)
            start = p->p_paddr;
        if (p->p_paddr + p->p_memsz > end)
            end = p->p_paddr + p->p_memsz;
        entry_ok |=
            e.e_entry >= p->p_paddr && e.e_entry < p->p_paddr + p->p_memsz;
    }
    if (end == 0)
        return vm_err(ctx, "no PT_LOAD segment");
    if (!entry_ok)
        return vm_err(ctx,
                      "e_entry 0x%" PRIx64 " is in no segment's "
                      "physical range (the 64-bit entry, startup_64)",
                      (uint64_t)e.e_entry);
    *out = (struct load_vmlinux_info){
        .entry = e.e_entry, .start = start, .end = end, .nphdrs = e.e_phnum};
    memcpy(out->phdrs, ph, e.e_phnum * sizeof(ph[0]));
    return 0;
}

int load_vmlinux_copy(const struct load_ctx *ctx, int fd,
                      const struct load_vmlinux_info *info)
{
    for (unsigned i = 0; i < info->nphdrs; i++) {
        const Elf64_Phdr *p = &info->phdrs[i];
        uint8_t *dst;
        int r;

        if (p->p_type != PT_LOAD)
            continue;
        dst = mem_ptr(ctx->mem, p->p_paddr, p->p_memsz);
        if (!dst) /* checked by load_vmlinux */
            return err_set(ERANGE, "%s: segment %u left guest RAM", ctx->name,
                           i);
        r = load_read_at(fd, ctx->name, p->p_offset, dst, p->p_filesz);
        if (r < 0)
            return r;
        memset(dst + p->p_filesz, 0, p->p_memsz - p->p_filesz);
    }
    return 0;
}
