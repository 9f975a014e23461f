/* test_multiboot.c: unit tests of the multiboot v1 loader and info block. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/arch.h"
#include "kvmrun.h"
#include "load/load.h"
#include "mem.h"

#define KIB 1024ULL
#define MIB (1ULL << 20)
#define GIB (1ULL << 30)
#define POISON 0xaa
#define POISONED (2 * MIB) /* low RAM filled with POISON before each load */

#define MAGIC 0x1BADB002u
#define AOUT (1u << 16)
#define INFO_FLAGS 0x4du /* MEM | CMDLINE | MODS | MMAP */

/* The default a.out-kludge image: 1 KiB file, header at offset 0x40,
 * loaded whole at 1 MiB, bss to 1 MiB + 8 KiB, entry at 0x100080. */
#define IMG_LEN 0x400
#define HDR_OFF 0x40
#define LOAD 0x100000u

struct aout {
    uint32_t flags, header_addr, load_addr, load_end_addr, bss_end_addr;
    uint32_t entry_addr;
};

static const struct aout good = {
    AOUT | 3, LOAD + HDR_OFF, LOAD, LOAD + IMG_LEN, LOAD + 0x2000, LOAD + 0x80,
};

static const struct load_region vmm_area[] = {
    {ARCH_VMM_AREA_START, ARCH_VMM_AREA_END,
     "the VMM's GDT, TSS and page tables"},
};

/* Group state: guests of 16 MiB, 5 GiB (MAP_NORESERVE) and 1 MiB. */
struct mems {
    struct guest_mem mid, big, tiny;
};

static int setup(void **state)
{
    static struct mems m;

    if (mem_init(&m.mid, 16 * MIB) || mem_init(&m.big, 5 * GIB) ||
        mem_init(&m.tiny, 1 * MIB))
        return -1;
    *state = &m;
    return 0;
}

static int teardown(void **state)
{
    struct mems *m = *state;

    mem_fini(&m->mid);
    mem_fini(&m->big);
    mem_fini(&m->tiny);
    return 0;
}

static struct guest_mem *mid(void **state)
{
    return &((struct mems *)*state)->mid;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A multiboot header at off with a correct checksum. */
static void put_header(uint8_t *img, size_t off, const struct aout *a)
{
    put32(img + off, MAGIC);
    put32(img + off + 4, a->flags);
    put32(img + off + 8, -(MAGIC + a->flags));
    put32(img + off + 12, a->header_addr);
    put32(img + off + 16, a->load_addr);
    put32(img + off + 20, a->load_end_addr);
    put32(img + off + 24, a->bss_end_addr);
    put32(img + off + 28, a->entry_addr);
}

/* len bytes of a recognisable pattern with the header at off. */
static void make_aout(uint8_t *img, size_t len, size_t off,
                      const struct aout *a)
{
    for (size_t i = 0; i < len; i++)
        img[i] = (uint8_t)(i * 7 + 1);
    put_header(img, off, a);
}

static struct load_ctx ctx_of(struct guest_mem *mem)
{
    return (struct load_ctx){mem, "kernel.bin", vmm_area, 1};
}

static struct load_multiboot_args args_default(void)
{
    return (struct load_multiboot_args){
        .cmdline = "kernel.bin console=ttyS0 quiet",
        .info_addr = ARCH_BOOT_INFO_ADDR,
        .info_size = ARCH_BOOT_INFO_END - ARCH_BOOT_INFO_ADDR,
    };
}

static void poison(struct guest_mem *mem)
{
    memset(mem_ptr(mem, 0, POISONED), POISON, POISONED);
}

static void assert_untouched(const struct guest_mem *mem)
{
    const uint8_t *p = mem_ptr(mem, 0, POISONED);

    for (uint64_t i = 0; i < POISONED; i++)
        if (p[i] != POISON)
            fail_msg("guest byte 0x%llx was written", (unsigned long long)i);
}

static uint32_t rd32(const struct guest_mem *mem, uint64_t gpa)
{
    const uint8_t *p = mem_ptr(mem, gpa, 4);

    assert_non_null(p);
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const struct guest_mem *mem, uint64_t gpa)
{
    return rd32(mem, gpa) | (uint64_t)rd32(mem, gpa + 4) << 32;
}

static const char *guest_str(const struct guest_mem *mem, uint64_t gpa)
{
    const char *s = mem_ptr(mem, gpa, 1);

    assert_non_null(s);
    return s;
}

static int load(struct guest_mem *mem, const uint8_t *img, size_t len,
                const struct load_multiboot_args *args,
                struct load_multiboot_info *out)
{
    struct load_ctx ctx = ctx_of(mem);

    return load_multiboot(&ctx, img, len, args, out);
}

/* A failure must explain itself on one line naming the image and what. */
static void assert_error(int r, const char *what)
{
    const char *msg = kvmrun_last_error();

    assert_true(r == -EINVAL || r == -ERANGE);
    assert_non_null(strstr(msg, "kernel.bin"));
    assert_null(strchr(msg, '\n'));
    if (!strstr(msg, what))
        fail_msg("error \"%s\" does not mention \"%s\"", msg, what);
}

/* Builds the a.out image a, poisons guest RAM, loads, expects failure
 * mentioning what, and guest memory untouched. */
static void expect_aout_reject(void **state, const struct aout *a,
                               const struct load_multiboot_args *args,
                               const char *what)
{
    uint8_t img[IMG_LEN];
    struct load_multiboot_info out;
    struct guest_mem *mem = mid(state);

    make_aout(img, sizeof(img), HDR_OFF, a);
    poison(mem);
    assert_error(load(mem, img, sizeof(img), args, &out), what);
    assert_untouched(mem);
}

struct mmap_entry {
    uint64_t base, len;
    uint32_t type;
};

/* The memory map must be exactly want, each entry with size 20. */
static void check_mmap(const struct guest_mem *mem, uint64_t info,
                       const struct mmap_entry *want, unsigned n)
{
    uint64_t at = rd32(mem, info + 48);

    assert_int_equal(rd32(mem, info + 44), n * 24);
    for (unsigned i = 0; i < n; i++, at += 24) {
        assert_int_equal(rd32(mem, at), 20);
        assert_int_equal(rd64(mem, at + 4), want[i].base);
        assert_int_equal(rd64(mem, at + 12), want[i].len);
        assert_int_equal(rd32(mem, at + 20), want[i].type);
    }
}

/* Offset and length fit in the info area: a pointer the kernel may use. */
static void assert_in_info(uint64_t addr, uint64_t len)
{
    assert_true(addr >= ARCH_BOOT_INFO_ADDR);
    assert_true(addr + len <= ARCH_BOOT_INFO_END);
}

static void check_common_info(const struct guest_mem *mem, uint64_t info,
                              const char *cmdline)
{
    assert_int_equal(rd32(mem, info), INFO_FLAGS);
    assert_int_equal(rd32(mem, info + 4), 639);
    assert_in_info(rd32(mem, info + 16), strlen(cmdline) + 1);
    assert_string_equal(guest_str(mem, rd32(mem, info + 16)), cmdline);
    assert_in_info(rd32(mem, info + 48), rd32(mem, info + 44));
}

/* --- probe --- */

static void test_probe(void **state)
{
    static uint8_t img[9000];
    struct aout a = {.flags = 3};

    (void)state;
    memset(img, 0, sizeof(img));
    assert_int_equal(load_multiboot_probe(img, sizeof(img)), -1);
    put_header(img, 0x40, &a);
    assert_int_equal(load_multiboot_probe(img, sizeof(img)), 0x40);
    assert_int_equal(load_multiboot_probe(img, 0x40 + 12), 0x40);
    assert_int_equal(load_multiboot_probe(img, 0x40 + 11), -1);
    assert_int_equal(load_multiboot_probe(img, 0), -1);
    put32(img + 0x48, 0); /* bad checksum */
    assert_int_equal(load_multiboot_probe(img, sizeof(img)), -1);
}

static void test_probe_alignment_and_window(void **state)
{
    static uint8_t img[9000];
    struct aout a = {.flags = 3};

    (void)state;
    memset(img, 0, sizeof(img));
    put_header(img, 0x42, &a); /* not 4-byte aligned */
    assert_int_equal(load_multiboot_probe(img, sizeof(img)), -1);
    memset(img, 0, sizeof(img));
    put_header(img, 8192 - 12, &a); /* last place inside 8 KiB */
    assert_int_equal(load_multiboot_probe(img, sizeof(img)), 8192 - 12);
    memset(img, 0, sizeof(img));
    put_header(img, 8192 - 8, &a); /* straddles the 8 KiB limit */
    assert_int_equal(load_multiboot_probe(img, sizeof(img)), -1);
    memset(img, 0, sizeof(img));
    put_header(img, 8192, &a);
    assert_int_equal(load_multiboot_probe(img, sizeof(img)), -1);
}

/* --- a.out kludge: the kernel --- */

static void test_aout_loads_kernel_and_bss(void **state)
{
    uint8_t img[IMG_LEN];
    struct load_multiboot_args args = args_default();
    struct load_multiboot_info out;
    struct guest_mem *mem = mid(state);

    make_aout(img, sizeof(img), HDR_OFF, &good);
    poison(mem);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    assert_int_equal(out.entry, LOAD + 0x80);
    assert_int_equal(out.ebx, ARCH_BOOT_INFO_ADDR);
    assert_memory_equal(mem_ptr(mem, LOAD, IMG_LEN), img, IMG_LEN);
    for (uint64_t a = LOAD + IMG_LEN; a < LOAD + 0x2000; a++)
        assert_int_equal(*(uint8_t *)mem_ptr(mem, a, 1), 0);
    assert_int_equal(*(uint8_t *)mem_ptr(mem, LOAD + 0x2000, 1), POISON);
    assert_int_equal(*(uint8_t *)mem_ptr(mem, LOAD - 1, 1), POISON);
}

/* load_addr below header_addr: loading starts before the header. */
static void test_aout_file_offset(void **state)
{
    uint8_t img[IMG_LEN];
    struct aout a = {AOUT, 0x180000 + 0x30, 0x180000, 0, 0, 0x180000};
    struct load_multiboot_args args = args_default();
    struct load_multiboot_info out;
    struct guest_mem *mem = mid(state);

    /* Header at 0x40, load_addr 0x30 before it: file offset 0x10;
     * load_end_addr 0 loads to the end of the file. */
    make_aout(img, sizeof(img), HDR_OFF, &a);
    poison(mem);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    assert_int_equal(out.entry, 0x180000);
    assert_memory_equal(mem_ptr(mem, 0x180000, IMG_LEN - 0x10), img + 0x10,
                        IMG_LEN - 0x10);
    assert_int_equal(*(uint8_t *)mem_ptr(mem, 0x180000 + IMG_LEN - 0x10, 1),
                     POISON);
}

/* Optional bits 17-31 are ignored, video (bit 2) too, and page-align
 * (bit 0) and memory info (bit 1) are always honoured. */
static void test_aout_flags_honoured(void **state)
{
    static const uint32_t flags[] = {0, 1, 2, 4, 7, 1u << 17, 0xfffe0007u};
    uint8_t img[IMG_LEN];
    struct aout a = good;
    struct load_multiboot_args args = args_default();
    struct load_multiboot_info out;
    struct guest_mem *mem = mid(state);

    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        a.flags = AOUT | flags[i];
        make_aout(img, sizeof(img), HDR_OFF, &a);
        assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
        assert_int_equal(rd32(mem, out.ebx), INFO_FLAGS);
    }
}

/* --- the information block --- */

static void test_info_16m(void **state)
{
    static const struct mmap_entry want[] = {
        {0, 0x9fc00, 1},
        {0x9fc00, 0x60400, 2},
        {MIB, 15 * MIB, 1},
    };
    uint8_t img[IMG_LEN];
    struct load_multiboot_args args = args_default();
    struct load_multiboot_info out;
    struct guest_mem *mem = mid(state);

    make_aout(img, sizeof(img), HDR_OFF, &good);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    check_common_info(mem, out.ebx, args.cmdline);
    assert_int_equal(rd32(mem, out.ebx + 8), 15 * 1024);
    check_mmap(mem, out.ebx, want, 3);
}

static void test_info_5g(void **state)
{
    static const struct mmap_entry want[] = {
        {0, 0x9fc00, 1},
        {0x9fc00, 0x60400, 2},
        {MIB, 3 * GIB - MIB, 1},
        {4 * GIB, 2 * GIB, 1},
    };
    uint8_t img[IMG_LEN];
    struct load_multiboot_args args = args_default();
    struct load_multiboot_info out;
    struct guest_mem *mem = &((struct mems *)*state)->big;

    make_aout(img, sizeof(img), HDR_OFF, &good);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    check_common_info(mem, out.ebx, args.cmdline);
    assert_int_equal(rd32(mem, out.ebx + 8), (3 * GIB - MIB) / KIB);
    check_mmap(mem, out.ebx, want, 4);
}

/* The smallest guest kvmrun allows: no RAM above 1 MiB. */
static void test_info_1m(void **state)
{
    static const struct mmap_entry want[] = {
        {0, 0x9fc00, 1},
        {0x9fc00, 0x60400, 2},
    };
    uint8_t img[IMG_LEN];
    struct aout a = {AOUT, 0x10000 + HDR_OFF, 0x10000, 0, 0x12000, 0x10000};
    struct load_multiboot_args args = args_default();
    struct load_multiboot_info out;
    struct guest_mem *mem = &((struct mems *)*state)->tiny;

    make_aout(img, sizeof(img), HDR_OFF, &a);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    check_common_info(mem, out.ebx, args.cmdline);
    assert_int_equal(rd32(mem, out.ebx + 8), 0);
    check_mmap(mem, out.ebx, want, 2);
}

static void test_info_no_module(void **state)
{
    uint8_t img[IMG_LEN];
    struct load_multiboot_args args = args_default();
    struct load_multiboot_info out;
    struct guest_mem *mem = mid(state);
    uint32_t mods;

    make_aout(img, sizeof(img), HDR_OFF, &good);
    poison(mem);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    assert_int_equal(rd32(mem, out.ebx + 20), 0);
    mods = rd32(mem, out.ebx + 24);
    assert_int_equal(mods % 4, 0);
    assert_in_info(mods, 16);
    for (int i = 0; i < 16; i += 4) /* an empty entry, not stale bytes */
        assert_int_equal(rd32(mem, mods + i), 0);
    /* Nothing went after the kernel's bss. */
    assert_int_equal(*(uint8_t *)mem_ptr(mem, LOAD + 0x2000, 1), POISON);
}

/* An empty command line is still a valid string. */
static void test_info_empty_cmdline(void **state)
{
    uint8_t img[IMG_LEN];
    struct load_multiboot_args args = args_default();
    struct load_multiboot_info out;
    struct guest_mem *mem = mid(state);

    args.cmdline = "";
    make_aout(img, sizeof(img), HDR_OFF, &good);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    assert_string_equal(guest_str(mem, rd32(mem, out.ebx + 16)), "");
}

static void check_module(const struct guest_mem *mem, uint32_t info,
                         uint64_t start, const uint8_t *data, size_t len,
                         const char *string)
{
    uint32_t mods = rd32(mem, info + 24);

    assert_int_equal(rd32(mem, info + 20), 1);
    assert_in_info(mods, 16);
    assert_int_equal(rd32(mem, mods), start);
    assert_int_equal(rd32(mem, mods + 4), start + len);
    assert_in_info(rd32(mem, mods + 8), strlen(string) + 1);
    assert_string_equal(guest_str(mem, rd32(mem, mods + 8)), string);
    assert_int_equal(rd32(mem, mods + 12), 0);
    assert_memory_equal(mem_ptr(mem, start, len), data, len);
}

/* The module goes on the first page boundary after the bss. */
static void test_module_placement(void **state)
{
    static uint8_t module[5000];
    static const uint32_t bss_ends[] = {0, LOAD + 0x2000, LOAD + 0x2001};
    static const uint64_t starts[] = {LOAD + 0x1000, LOAD + 0x2000,
                                      LOAD + 0x3000};
    uint8_t img[IMG_LEN];
    struct aout a = good;
    struct load_multiboot_args args = args_default();
    struct load_multiboot_info out;
    struct guest_mem *mem = mid(state);

    for (size_t i = 0; i < sizeof(module); i++)
        module[i] = (uint8_t)(i ^ 0x5c);
    args.module = module;
    args.module_len = sizeof(module);
    args.module_string = "initrd.img";
    for (size_t i = 0; i < 3; i++) {
        a.bss_end_addr = bss_ends[i];
        a.entry_addr = LOAD;
        make_aout(img, sizeof(img), HDR_OFF, &a);
        assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
        assert_int_equal(rd32(mem, out.ebx), INFO_FLAGS);
        check_module(mem, out.ebx, starts[i], module, sizeof(module),
                     "initrd.img");
    }
}

/* A zero-length module still gets a valid, empty range and its string. */
static void test_module_empty(void **state)
{
    uint8_t img[IMG_LEN];
    struct load_multiboot_args args = args_default();
    struct load_multiboot_info out;
    struct guest_mem *mem = mid(state);

    args.module = (const uint8_t *)"";
    args.module_len = 0;
    args.module_string = NULL;
    make_aout(img, sizeof(img), HDR_OFF, &good);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    check_module(mem, out.ebx, LOAD + 0x2000, (const uint8_t *)"", 0, "");
}

/* --- ELF multiboot kernels --- */

#define ELF_PADDR 0x100000u
#define ELF_LEN 0x200
#define ELF_MEMSZ 0x1800
#define ELF_HDR_OFF 0x60 /* multiboot header after Ehdr and one Phdr */

/* An ELF32 EM_386 executable, one PT_LOAD of the whole file at 1 MiB
 * with bss, and a multiboot header without the a.out kludge. */
static void make_elf(uint8_t *img, uint32_t mb_flags)
{
    Elf32_Ehdr e = {
        .e_ident = {ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS32, ELFDATA2LSB,
                    EV_CURRENT},
        .e_type = ET_EXEC,
        .e_machine = EM_386,
        .e_version = EV_CURRENT,
        .e_entry = ELF_PADDR + 0x100,
        .e_phoff = sizeof(Elf32_Ehdr),
        .e_ehsize = sizeof(Elf32_Ehdr),
        .e_phentsize = sizeof(Elf32_Phdr),
        .e_phnum = 1,
    };
    Elf32_Phdr p = {
        .p_type = PT_LOAD,
        .p_offset = 0,
        .p_vaddr = ELF_PADDR,
        .p_paddr = ELF_PADDR,
        .p_filesz = ELF_LEN,
        .p_memsz = ELF_MEMSZ,
        .p_flags = PF_R | PF_X,
    };
    struct aout a = {.flags = mb_flags};

    for (size_t i = 0; i < ELF_LEN; i++)
        img[i] = (uint8_t)(i * 13 + 3);
    memcpy(img, &e, sizeof(e));
    memcpy(img + sizeof(e), &p, sizeof(p));
    put_header(img, ELF_HDR_OFF, &a);
}

static void test_elf_loads(void **state)
{
    static uint8_t module[100] = "module data";
    uint8_t img[ELF_LEN];
    struct load_multiboot_args args = args_default();
    struct load_multiboot_info out;
    struct guest_mem *mem = mid(state);

    make_elf(img, 3);
    args.module = module;
    args.module_len = sizeof(module);
    args.module_string = "mod.bin arg";
    poison(mem);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    assert_int_equal(out.entry, ELF_PADDR + 0x100);
    assert_int_equal(out.ebx, ARCH_BOOT_INFO_ADDR);
    assert_memory_equal(mem_ptr(mem, ELF_PADDR, ELF_LEN), img, ELF_LEN);
    assert_int_equal(*(uint8_t *)mem_ptr(mem, ELF_PADDR + ELF_MEMSZ - 1, 1), 0);
    check_common_info(mem, out.ebx, args.cmdline);
    check_module(mem, out.ebx, ELF_PADDR + 0x2000, module, sizeof(module),
                 "mod.bin arg");
}

static void test_elf64_refused(void **state)
{
    uint8_t img[ELF_LEN];
    struct load_multiboot_args args = args_default();
    struct load_multiboot_info out;
    struct guest_mem *mem = mid(state);

    make_elf(img, 3);
    img[EI_CLASS] = ELFCLASS64;
    poison(mem);
    assert_error(load(mem, img, sizeof(img), &args, &out), "32-bit");
    assert_untouched(mem);
}

static void test_not_elf_without_aout(void **state)
{
    struct load_multiboot_args args = args_default();
    struct aout a = good;

    a.flags = 3;
    expect_aout_reject(state, &a, &args, "not ELF");
}

/* The ELF loader's own checks reach the caller, guest untouched. */
static void test_elf_bad_segment(void **state)
{
    uint8_t img[ELF_LEN];
    struct load_multiboot_args args = args_default();
    struct load_multiboot_info out;
    struct guest_mem *mem = mid(state);
    Elf32_Phdr p;

    make_elf(img, 3);
    memcpy(&p, img + sizeof(Elf32_Ehdr), sizeof(p));
    p.p_paddr = ARCH_BOOT_INFO_ADDR; /* onto the information area */
    memcpy(img + sizeof(Elf32_Ehdr), &p, sizeof(p));
    poison(mem);
    assert_error(load(mem, img, sizeof(img), &args, &out),
                 "multiboot information area");
    assert_untouched(mem);
}

/* --- rejections: header fields --- */

static void test_reject_no_header(void **state)
{
    uint8_t img[64] = {0};
    struct load_multiboot_args args = args_default();
    struct load_multiboot_info out;
    struct guest_mem *mem = mid(state);

    poison(mem);
    assert_error(load(mem, img, sizeof(img), &args, &out), "no multiboot");
    assert_untouched(mem);
}

static void test_reject_required_flags(void **state)
{
    static const unsigned bits[] = {3, 4, 8, 15};
    struct load_multiboot_args args = args_default();
    struct aout a = good;
    char what[16];

    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        a.flags = good.flags | 1u << bits[i];
        snprintf(what, sizeof(what), "bit %u", bits[i]);
        expect_aout_reject(state, &a, &args, what);
    }
}

static void test_reject_address_fields(void **state)
{
    struct load_multiboot_args args = args_default();
    struct aout a;

    a = good, a.load_end_addr = LOAD - 1;
    expect_aout_reject(state, &a, &args, "load_end_addr");
    a = good, a.load_addr = a.header_addr + 4;
    expect_aout_reject(state, &a, &args, "header_addr");
    a = good, a.header_addr = LOAD + HDR_OFF + 4; /* file offset -4 */
    expect_aout_reject(state, &a, &args, "header_addr - load_addr");
    a = good, a.load_end_addr = LOAD + IMG_LEN + 1; /* past the file */
    expect_aout_reject(state, &a, &args, "load_end_addr");
    a = good, a.bss_end_addr = LOAD + IMG_LEN - 1;
    expect_aout_reject(state, &a, &args, "bss_end_addr");
}

static void test_reject_entry(void **state)
{
    static const uint32_t entries[] = {0, LOAD - 1, LOAD + 0x2000, 0xffffffffu};
    struct load_multiboot_args args = args_default();
    struct aout a = good;

    for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
        a.entry_addr = entries[i];
        expect_aout_reject(state, &a, &args, "entry_addr");
    }
    a = good, a.bss_end_addr = 0, a.entry_addr = LOAD + IMG_LEN;
    expect_aout_reject(state, &a, &args, "entry_addr");
}

/* Moves the default image to load_addr, bss_len bytes of bss. */
static struct aout at(uint32_t load_addr, uint32_t bss_len)
{
    return (struct aout){AOUT,
                         load_addr + HDR_OFF,
                         load_addr,
                         load_addr + IMG_LEN,
                         load_addr + IMG_LEN + bss_len,
                         load_addr};
}

static void test_reject_ranges(void **state)
{
    struct load_multiboot_args args = args_default();
    struct aout a;

    a = at(16 * MIB - 0x200, 0); /* runs off the end of RAM */
    expect_aout_reject(state, &a, &args, "not in guest RAM");
    a = at(16 * MIB - IMG_LEN, 1); /* only the bss does */
    expect_aout_reject(state, &a, &args, "bss");
    a = at(0xfffffc00u, 0);
    expect_aout_reject(state, &a, &args, "not in guest RAM");
    a = at(ARCH_VMM_AREA_START + 0x100, 0);
    expect_aout_reject(state, &a, &args, "VMM");
    a = at(ARCH_VMM_AREA_START - IMG_LEN, 1); /* only the bss touches it */
    expect_aout_reject(state, &a, &args, "VMM");
    a = at(ARCH_BOOT_INFO_END - 0x200, 0);
    expect_aout_reject(state, &a, &args, "multiboot information area");
}

static void test_reject_truncated_aout_header(void **state)
{
    uint8_t img[HDR_OFF + 20];
    struct load_multiboot_args args = args_default();
    struct load_multiboot_info out;
    struct guest_mem *mem = mid(state);

    for (size_t i = 0; i < sizeof(img); i++)
        img[i] = 0;
    put32(img + HDR_OFF, MAGIC);
    put32(img + HDR_OFF + 4, AOUT);
    put32(img + HDR_OFF + 8, -(MAGIC + AOUT));
    poison(mem);
    assert_error(load(mem, img, sizeof(img), &args, &out), "32 header");
    assert_untouched(mem);
}

/* --- rejections: module and information area --- */

static void test_reject_module_too_big(void **state)
{
    struct load_multiboot_args args = args_default();
    uint8_t *module = calloc(1, 15 * MIB);

    assert_non_null(module);
    args.module = module;
    args.module_len = 15 * MIB; /* from 1 MiB + 8 KiB: past 16 MiB */
    args.module_string = "big";
    expect_aout_reject(state, &good, &args, "module 0");
    args.module_len = SIZE_MAX;
    expect_aout_reject(state, &good, &args, "module 0");
    free(module);
}

/* The module follows the kernel, into whatever is there. */
static void test_reject_module_into_vmm_area(void **state)
{
    static uint8_t module[0x10000];
    struct load_multiboot_args args = args_default();
    struct aout a = at(ARCH_VMM_AREA_START - sizeof(module), 0);

    args.module = module;
    args.module_len = sizeof(module);
    expect_aout_reject(state, &a, &args, "module 0");
}

static void test_reject_info_area(void **state)
{
    struct load_multiboot_args args = args_default();
    char *longline = malloc(0x9000);

    args.info_size = 100;
    expect_aout_reject(state, &good, &args, "information block");
    assert_non_null(longline);
    memset(longline, 'x', 0x8fff);
    longline[0x8fff] = '\0';
    args = args_default();
    args.cmdline = longline;
    expect_aout_reject(state, &good, &args, "command line");
    free(longline);
    args = args_default();
    args.info_addr = ARCH_VMM_AREA_END - 0x100;
    expect_aout_reject(state, &good, &args, "VMM");
    args = args_default();
    args.info_addr = 16 * MIB - 0x40;
    expect_aout_reject(state, &good, &args, "not in guest RAM");
    args = args_default();
    args.info_addr = UINT64_MAX - 0x10;
    args.info_size = UINT64_MAX;
    expect_aout_reject(state, &good, &args, "information block");
}

/* The CLI reserves the information area itself for every loader: the
 * block still goes there, and the kernel still may not. */
static void test_info_area_reserved_by_caller(void **state)
{
    static const struct load_region cli[] = {
        {ARCH_VMM_AREA_START, ARCH_VMM_AREA_END, "the VMM area"},
        {ARCH_BOOT_INFO_ADDR, ARCH_BOOT_INFO_END, "the boot information area"},
    };
    uint8_t img[IMG_LEN];
    struct aout a = at(ARCH_BOOT_INFO_ADDR + 0x1000, 0);
    struct load_multiboot_args args = args_default();
    struct load_multiboot_info out;
    struct guest_mem *mem = mid(state);
    struct load_ctx ctx = {mem, "kernel.bin", cli, 2};

    make_aout(img, sizeof(img), HDR_OFF, &good);
    assert_int_equal(load_multiboot(&ctx, img, sizeof(img), &args, &out), 0);
    check_common_info(mem, out.ebx, args.cmdline);
    make_aout(img, sizeof(img), HDR_OFF, &a);
    poison(mem);
    assert_error(load_multiboot(&ctx, img, sizeof(img), &args, &out),
                 "information area");
    assert_untouched(mem);
}

/* A reserved range reaching into the information area from outside it is
 * not the caller reserving the area for us. */
static void test_info_area_straddled(void **state)
{
    static const struct load_region cli[] = {
        {ARCH_BOOT_INFO_ADDR - 0x10, ARCH_BOOT_INFO_ADDR + 0x10,
         "a firmware table"},
    };
    uint8_t img[IMG_LEN];
    struct load_multiboot_args args = args_default();
    struct load_multiboot_info out;
    struct guest_mem *mem = mid(state);
    struct load_ctx ctx = {mem, "kernel.bin", cli, 1};

    make_aout(img, sizeof(img), HDR_OFF, &good);
    poison(mem);
    assert_error(load_multiboot(&ctx, img, sizeof(img), &args, &out),
                 "a firmware table");
    assert_untouched(mem);
}

/* Every prefix of a valid image, header included, fails cleanly (or
 * loads, once what remains still forms a valid image). */
static void truncate_all(struct guest_mem *mem, const uint8_t *img, size_t len,
                         const struct load_multiboot_args *args)
{
    struct load_multiboot_info out;

    for (size_t n = 0; n <= len; n++) {
        uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees reads */
        int r;

        assert_non_null(copy);
        memcpy(copy, img, n);
        r = load(mem, copy, n, args, &out);
        if (r < 0)
            assert_error(r, "");
        free(copy);
    }
}

static void test_truncated_images(void **state)
{
    static const uint8_t module[64] = "m";
    uint8_t aout[IMG_LEN], elf[ELF_LEN];
    struct aout a = good;
    struct load_multiboot_args args = args_default();

    args.module = module;
    args.module_len = sizeof(module);
    args.module_string = "m";
    make_aout(aout, sizeof(aout), HDR_OFF, &good);
    truncate_all(mid(state), aout, sizeof(aout), &args);
    a.load_end_addr = 0;
    make_aout(aout, sizeof(aout), HDR_OFF, &a);
    truncate_all(mid(state), aout, sizeof(aout), &args);
    make_elf(elf, 3);
    truncate_all(mid(state), elf, sizeof(elf), &args);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_probe_alignment_and_window),
        cmocka_unit_test(test_aout_loads_kernel_and_bss),
        cmocka_unit_test(test_aout_file_offset),
        cmocka_unit_test(test_aout_flags_honoured),
        cmocka_unit_test(test_info_16m),
        cmocka_unit_test(test_info_5g),
        cmocka_unit_test(test_info_1m),
        cmocka_unit_test(test_info_no_module),
        cmocka_unit_test(test_info_empty_cmdline),
        cmocka_unit_test(test_module_placement),
        cmocka_unit_test(test_module_empty),
        cmocka_unit_test(test_elf_loads),
        cmocka_unit_test(test_elf64_refused),
        cmocka_unit_test(test_not_elf_without_aout),
        cmocka_unit_test(test_elf_bad_segment),
        cmocka_unit_test(test_reject_no_header),
        cmocka_unit_test(test_reject_required_flags),
        cmocka_unit_test(test_reject_address_fields),
        cmocka_unit_test(test_reject_entry),
        cmocka_unit_test(test_reject_ranges),
        cmocka_unit_test(test_reject_truncated_aout_header),
        cmocka_unit_test(test_reject_module_too_big),
        cmocka_unit_test(test_reject_module_into_vmm_area),
        cmocka_unit_test(test_reject_info_area),
        cmocka_unit_test(test_info_area_reserved_by_caller),
        cmocka_unit_test(test_info_area_straddled),
        cmocka_unit_test(test_truncated_images),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
