/* test_elf.c: unit tests of the ELF loader on images built in memory. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kvmrun.h"
#include "load/load.h"
#include "mem.h"

#define MIB (1ULL << 20)
#define RAM (2 * MIB)
#define RSV_START 0x70000ULL
#define RSV_END 0x80000ULL
#define NAME "guest.elf"
#define POISON 0xcc
#define IMG_MAX 8192 /* room for any image built here */
#define MAX_SEGS 4
/* Virtual addresses differ from physical ones so that a loader that used
 * p_vaddr would put the bytes outside RAM and fail the tests. */
#define VOFF 0xc0000000ULL

/* The default image: text, a note the loader must ignore, data + bss. */
#define TEXT_ADDR 0x100000ULL
#define TEXT_SIZE 0x100ULL
#define DATA_ADDR 0x180000ULL
#define DATA_FILE 0x40ULL
#define DATA_MEM 0x1000ULL
#define ENTRY (TEXT_ADDR + 0x10)

static struct guest_mem mem;
static const struct load_region reserved = {RSV_START, RSV_END,
                                            "the VMM's page tables"};
static const struct load_ctx ctx = {&mem, NAME, &reserved, 1};
static uint8_t clean[RAM]; /* what RAM holds before every load */

/* What a test wants in the image, written verbatim, wrong or not. */
struct seg {
    uint32_t type;
    uint64_t offset;
    uint64_t paddr;
    uint64_t filesz;
    uint64_t memsz;
};

struct spec {
    unsigned bits; /* layout of the structures: 32 or 64 */
    uint8_t ident[EI_NIDENT];
    uint16_t type;
    uint16_t machine;
    uint32_t version;
    uint64_t entry;
    uint64_t phoff;
    uint16_t ehsize;
    uint16_t phentsize;
    uint16_t phnum;
    unsigned nsegs; /* program headers actually written */
    struct seg seg[MAX_SEGS];
};

static size_t ehdr_size(unsigned bits)
{
    return bits == 64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
}

static size_t phdr_size(unsigned bits)
{
    return bits == 64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
}

/* A valid image of the given class. */
static struct spec valid(unsigned bits)
{
    struct spec s = {
        .bits = bits,
        .ident = {ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3,
                  bits == 64 ? ELFCLASS64 : ELFCLASS32, ELFDATA2LSB,
                  EV_CURRENT},
        .type = ET_EXEC,
        .machine = bits == 64 ? EM_X86_64 : EM_386,
        .version = EV_CURRENT,
        .entry = ENTRY,
        .phoff = ehdr_size(bits),
        .ehsize = ehdr_size(bits),
        .phentsize = phdr_size(bits),
        .phnum = 3,
        .nsegs = 3,
        .seg =
            {
                {PT_LOAD, 0x100, TEXT_ADDR, TEXT_SIZE, TEXT_SIZE},
                /* In the reserved range with a bogus offset: not PT_LOAD. */
                {PT_NOTE, 0xdeadbeef, RSV_START, 0x10, 0x10},
                {PT_LOAD, 0x200, DATA_ADDR, DATA_FILE, DATA_MEM},
            },
    };
    return s;
}

/* Byte k of segment i's file contents. */
static uint8_t pattern(unsigned i, uint64_t k)
{
    return (uint8_t)(i * 0x31 + k * 7 + 1);
}

/* 1 when [off, off + n) fits in the image buffer. */
static int fits(uint64_t off, uint64_t n)
{
    return off <= IMG_MAX && n <= IMG_MAX - off;
}

static size_t put_ehdr(const struct spec *s, uint8_t *buf)
{
    Elf32_Ehdr e32 = {.e_type = s->type,
                      .e_machine = s->machine,
                      .e_version = s->version,
                      .e_entry = (uint32_t)s->entry,
                      .e_phoff = (uint32_t)s->phoff,
                      .e_ehsize = s->ehsize,
                      .e_phentsize = s->phentsize,
                      .e_phnum = s->phnum};
    Elf64_Ehdr e64 = {.e_type = s->type,
                      .e_machine = s->machine,
                      .e_version = s->version,
                      .e_entry = s->entry,
                      .e_phoff = s->phoff,
                      .e_ehsize = s->ehsize,
                      .e_phentsize = s->phentsize,
                      .e_phnum = s->phnum};

    memcpy(e32.e_ident, s->ident, EI_NIDENT);
    memcpy(e64.e_ident, s->ident, EI_NIDENT);
    if (s->bits == 64)
        memcpy(buf, &e64, sizeof(e64));
    else
        memcpy(buf, &e32, sizeof(e32));
    return ehdr_size(s->bits);
}

/* Program header i, unless e_phoff puts it outside the buffer. */
static size_t put_phdr(const struct spec *s, unsigned i, uint8_t *buf)
{
    const struct seg *g = &s->seg[i];
    uint64_t size = phdr_size(s->bits);
    Elf32_Phdr p32 = {g->type,
                      (uint32_t)g->offset,
                      (uint32_t)(g->paddr + VOFF),
                      (uint32_t)g->paddr,
                      (uint32_t)g->filesz,
                      (uint32_t)g->memsz,
                      PF_R | PF_X,
                      0x1000};
    Elf64_Phdr p64 = {g->type,  PF_R | PF_X, g->offset, g->paddr + VOFF,
                      g->paddr, g->filesz,   g->memsz,  0x1000};

    if (s->phoff > IMG_MAX || !fits(s->phoff + i * size, size))
        return 0;
    memcpy(buf + s->phoff + i * size, s->bits == 64 ? (void *)&p64 : &p32,
           size);
    return s->phoff + (i + 1) * size;
}

/* Segment i's file contents, unless p_offset puts them outside. */
static size_t put_data(const struct spec *s, unsigned i, uint8_t *buf)
{
    const struct seg *g = &s->seg[i];

    if (g->type != PT_LOAD || !fits(g->offset, g->filesz))
        return 0;
    for (uint64_t k = 0; k < g->filesz; k++)
        buf[g->offset + k] = pattern(i, k);
    return g->offset + g->filesz;
}

/* Assembles the image into buf (IMG_MAX bytes); returns its length, which
 * ends with the last thing written. */
static size_t build(const struct spec *s, uint8_t *buf)
{
    size_t len = put_ehdr(s, buf);

    for (unsigned i = 0; i < s->nsegs; i++) {
        size_t end = put_phdr(s, i, buf);

        len = end > len ? end : len;
        end = put_data(s, i, buf);
        len = end > len ? end : len;
    }
    return len;
}

static uint8_t *ram(uint64_t gpa, uint64_t len)
{
    uint8_t *p = mem_ptr(&mem, gpa, len);

    assert_non_null(p);
    return p;
}

static void poison(void)
{
    memcpy(ram(0, RAM), clean, RAM);
}

/* memcmp, not assert_memory_equal: that one compares byte by byte, too
 * slowly for 2 MiB after every truncation. */
static void check_untouched(void)
{
    if (memcmp(ram(0, RAM), clean, RAM) != 0)
        fail_msg("a refused image changed guest memory");
}

/* Loads from a copy exactly len bytes long, so that ASan catches any read
 * past the end. */
static int load(const uint8_t *image, size_t len, struct load_elf_info *out)
{
    uint8_t *copy = malloc(len ? len : 1);
    int r;

    assert_non_null(copy);
    memcpy(copy, image, len);
    r = load_elf(&ctx, copy, len, out);
    free(copy);
    return r;
}

/* The message every failure must leave: one line, starting with the
 * name. */
static void check_message(void)
{
    const char *msg = kvmrun_last_error();

    assert_true(strncmp(msg, NAME ": ", strlen(NAME ": ")) == 0);
    assert_null(strchr(msg, '\n'));
}

static void msg_has(const char *needle)
{
    if (!strstr(kvmrun_last_error(), needle))
        fail_msg("\"%s\" not in \"%s\"", needle, kvmrun_last_error());
}

/* Builds s, expects load_elf to fail with err naming field, and RAM and
 * *out to be as they were. */
static void reject(const struct spec *s, int err, const char *field)
{
    static uint8_t buf[IMG_MAX];
    struct load_elf_info out, before;
    size_t len;

    memset(buf, 0, sizeof(buf));
    len = build(s, buf);
    memset(&out, 0xa5, sizeof(out));
    before = out;
    poison();
    assert_int_equal(load(buf, len, &out), err);
    check_message();
    msg_has(field);
    check_untouched();
    assert_memory_equal(&out, &before, sizeof(out));
}

static void accept(const struct spec *s, struct load_elf_info *out)
{
    static uint8_t buf[IMG_MAX];
    size_t len;

    memset(buf, 0, sizeof(buf));
    len = build(s, buf);
    poison();
    if (load(buf, len, out) != 0)
        fail_msg("load_elf: %s", kvmrun_last_error());
}

/* Segment i of s is in RAM at its p_paddr, file bytes then zeroes. */
static void check_segment(const struct spec *s, unsigned i)
{
    const struct seg *g = &s->seg[i];
    const uint8_t *p = ram(g->paddr, g->memsz);

    for (uint64_t k = 0; k < g->memsz; k++)
        assert_int_equal(p[k], k < g->filesz ? pattern(i, k) : 0);
}

static int setup(void **state)
{
    (void)state;
    memset(clean, POISON, sizeof(clean));
    return mem_init(&mem, RAM);
}

static int teardown(void **state)
{
    (void)state;
    mem_fini(&mem);
    return 0;
}

static void test_probe(void **state)
{
    (void)state;
    assert_int_equal(load_elf_probe((const uint8_t *)"\x7f"
                                                     "ELF",
                                    4),
                     1);
    assert_int_equal(load_elf_probe((const uint8_t *)"\x7f"
                                                     "ELFx",
                                    5),
                     1);
    assert_int_equal(load_elf_probe((const uint8_t *)"\x7f"
                                                     "EL",
                                    3),
                     0);
    assert_int_equal(load_elf_probe((const uint8_t *)"", 0), 0);
    assert_int_equal(load_elf_probe((const uint8_t *)"\x7f"
                                                     "ELG",
                                    4),
                     0);
    assert_int_equal(load_elf_probe((const uint8_t *)"MZ\x90\0", 4), 0);
}

static void check_valid(unsigned bits)
{
    struct spec s = valid(bits);
    struct load_elf_info out;

    accept(&s, &out);
    assert_int_equal(out.entry, ENTRY);
    assert_int_equal(out.bits, bits);
    assert_int_equal(out.low, TEXT_ADDR);
    assert_int_equal(out.high, DATA_ADDR + DATA_MEM);
    check_segment(&s, 0);
    check_segment(&s, 2);
    /* Nothing outside the segments: not the bytes around them, not the
     * PT_NOTE's p_paddr. */
    assert_int_equal(*ram(TEXT_ADDR - 1, 1), POISON);
    assert_int_equal(*ram(TEXT_ADDR + TEXT_SIZE, 1), POISON);
    assert_int_equal(*ram(DATA_ADDR - 1, 1), POISON);
    assert_int_equal(*ram(DATA_ADDR + DATA_MEM, 1), POISON);
    assert_memory_equal(ram(RSV_START, RSV_END - RSV_START), clean,
                        RSV_END - RSV_START);
}

static void test_valid_elf32(void **state)
{
    (void)state;
    check_valid(32);
}

static void test_valid_elf64(void **state)
{
    (void)state;
    check_valid(64);
}

/* The image need not be aligned for the ELF structures. */
static void test_unaligned_image(void **state)
{
    static uint8_t buf[IMG_MAX + 1];
    struct spec s = valid(64);
    struct load_elf_info out;
    size_t len = build(&s, buf + 1);
    uint8_t *copy = malloc(len + 1);

    (void)state;
    assert_non_null(copy);
    memcpy(copy + 1, buf + 1, len);
    poison();
    assert_int_equal(load_elf(&ctx, copy + 1, len, &out), 0);
    free(copy);
    check_segment(&s, 0);
    check_segment(&s, 2);
}

static void test_bss_only_and_empty_segments(void **state)
{
    (void)state;
    for (unsigned bits = 32; bits <= 64; bits += 32) {
        struct spec s = valid(bits);
        struct load_elf_info out;

        /* All bss; and a PT_LOAD of size 0 outside RAM, which loads
         * nothing and so is no error. */
        s.seg[2].filesz = 0;
        s.seg[2].memsz = 0x2000;
        s.seg[1] = (struct seg){PT_LOAD, 0, 0x40000000, 0, 0};
        accept(&s, &out);
        check_segment(&s, 2);
        assert_int_equal(out.high, DATA_ADDR + 0x2000);
    }
}

/* Touching is not overlapping; the loader sorts, so order is free. */
static void test_adjacent_segments(void **state)
{
    (void)state;
    for (unsigned bits = 32; bits <= 64; bits += 32) {
        struct spec s = valid(bits);
        struct load_elf_info out;

        s.seg[0].paddr = DATA_ADDR + DATA_MEM;
        s.entry = s.seg[0].paddr + TEXT_SIZE - 1;
        accept(&s, &out);
        check_segment(&s, 0);
        check_segment(&s, 2);
        assert_int_equal(out.low, DATA_ADDR);
        assert_int_equal(out.high, DATA_ADDR + DATA_MEM + TEXT_SIZE);
        assert_int_equal(out.entry, s.entry);
    }
}

static void test_bad_magic(void **state)
{
    (void)state;
    for (unsigned bits = 32; bits <= 64; bits += 32) {
        struct spec s = valid(bits);

        s.ident[EI_MAG3] = 'G';
        reject(&s, -EINVAL, "e_ident");
    }
}

static void test_bad_class(void **state)
{
    static const uint8_t classes[] = {ELFCLASSNONE, 3, 0xff};

    (void)state;
    for (size_t i = 0; i < sizeof(classes); i++) {
        struct spec s = valid(64);

        s.ident[EI_CLASS] = classes[i];
        reject(&s, -EINVAL, "EI_CLASS");
    }
}

static void test_big_endian(void **state)
{
    (void)state;
    for (unsigned bits = 32; bits <= 64; bits += 32) {
        struct spec s = valid(bits);

        s.ident[EI_DATA] = ELFDATA2MSB;
        reject(&s, -EINVAL, "EI_DATA 2");
    }
}

static void test_bad_ident_version(void **state)
{
    (void)state;
    for (unsigned bits = 32; bits <= 64; bits += 32) {
        struct spec s = valid(bits);

        s.ident[EI_VERSION] = EV_NONE;
        reject(&s, -EINVAL, "EI_VERSION 0");
    }
}

static void test_not_executable(void **state)
{
    static const uint16_t types[] = {ET_NONE, ET_REL, ET_DYN, ET_CORE, 99};

    (void)state;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        struct spec s = valid(i % 2 ? 32 : 64);

        s.type = types[i];
        reject(&s, -EINVAL, "e_type");
    }
}

static void test_wrong_machine(void **state)
{
    struct spec s = valid(32);

    (void)state;
    s.machine = EM_ARM;
    reject(&s, -EINVAL, "e_machine 40 (ARM)");
    /* Each x86 machine with the other class. */
    s.machine = EM_X86_64;
    reject(&s, -EINVAL, "e_machine 62");
    s = valid(64);
    s.machine = EM_386;
    reject(&s, -EINVAL, "e_machine 3");
    s.machine = EM_AARCH64;
    reject(&s, -EINVAL, "e_machine 183 (AArch64)");
}

static void test_bad_version(void **state)
{
    (void)state;
    for (unsigned bits = 32; bits <= 64; bits += 32) {
        struct spec s = valid(bits);

        s.version = EV_NONE;
        reject(&s, -EINVAL, "e_version 0");
        s.version = 2;
        reject(&s, -EINVAL, "e_version 2");
    }
}

static void test_bad_ehsize(void **state)
{
    (void)state;
    for (unsigned bits = 32; bits <= 64; bits += 32) {
        struct spec s = valid(bits);

        s.ehsize = ehdr_size(96 - bits);
        reject(&s, -EINVAL, "e_ehsize");
        s.ehsize = 0;
        reject(&s, -EINVAL, "e_ehsize 0");
    }
}

static void test_bad_phentsize(void **state)
{
    (void)state;
    for (unsigned bits = 32; bits <= 64; bits += 32) {
        struct spec s = valid(bits);

        /* The other class's size, then a larger one some tools pad to. */
        s.phentsize = phdr_size(96 - bits);
        reject(&s, -EINVAL, "e_phentsize");
        s.phentsize = phdr_size(bits) + 8;
        reject(&s, -EINVAL, "e_phentsize");
        s.phentsize = 0;
        reject(&s, -EINVAL, "e_phentsize 0");
    }
}

static void test_no_program_headers(void **state)
{
    (void)state;
    for (unsigned bits = 32; bits <= 64; bits += 32) {
        struct spec s = valid(bits);

        s.phnum = 0;
        reject(&s, -EINVAL, "e_phnum");
        s.phnum = PN_XNUM;
        reject(&s, -EINVAL, "e_phnum");
    }
}

/* A table that would run far past the end of the file. */
static void test_huge_phnum(void **state)
{
    (void)state;
    for (unsigned bits = 32; bits <= 64; bits += 32) {
        struct spec s = valid(bits);

        s.phnum = PN_XNUM - 1;
        reject(&s, -EINVAL, "e_phnum 65534");
        msg_has("e_phoff");
        /* The table last in the file, with one entry more than it has. */
        s.phoff = 0x240;
        s.phnum = 4;
        reject(&s, -EINVAL, "e_phnum 4");
    }
}

static void test_phoff_outside_file(void **state)
{
    (void)state;
    for (unsigned bits = 32; bits <= 64; bits += 32) {
        struct spec s = valid(bits);

        /* Only the first entry fits: the table straddles the end. */
        s.phoff = IMG_MAX - phdr_size(bits);
        reject(&s, -EINVAL, "e_phoff");
        s.phoff = IMG_MAX; /* not written: past the end */
        reject(&s, -EINVAL, "e_phoff");
        /* Would wrap to a small offset if added without care. */
        s.phoff = bits == 64 ? UINT64_MAX - 8 : UINT32_MAX - 8;
        reject(&s, -EINVAL, "e_phoff");
    }
}

static void test_no_pt_load(void **state)
{
    (void)state;
    for (unsigned bits = 32; bits <= 64; bits += 32) {
        struct spec s = valid(bits);

        s.seg[0].type = PT_NOTE;
        s.seg[2].type = PT_GNU_STACK;
        reject(&s, -EINVAL, "no PT_LOAD segment");
        /* PT_LOAD segments that occupy no memory do not count. */
        s.seg[0] = (struct seg){PT_LOAD, 0x100, TEXT_ADDR, 0, 0};
        s.seg[2] = (struct seg){PT_LOAD, 0x200, DATA_ADDR, 0, 0};
        reject(&s, -EINVAL, "no PT_LOAD segment");
    }
}

static void test_filesz_above_memsz(void **state)
{
    (void)state;
    for (unsigned bits = 32; bits <= 64; bits += 32) {
        struct spec s = valid(bits);

        s.seg[2].memsz = DATA_FILE - 1;
        reject(&s, -EINVAL, "PT_LOAD segment 2: p_filesz 0x40");
        msg_has("p_memsz 0x3f");
    }
}

static void test_data_outside_file(void **state)
{
    (void)state;
    for (unsigned bits = 32; bits <= 64; bits += 32) {
        struct spec s = valid(bits);

        s.seg[2].offset = IMG_MAX; /* not written, so past the end */
        reject(&s, -EINVAL, "PT_LOAD segment 2: p_offset");
        /* Would wrap to a small offset if added without care. */
        s.seg[2].offset = (bits == 64 ? UINT64_MAX : UINT32_MAX) - 0x10;
        reject(&s, -EINVAL, "p_offset");
        s.seg[2].offset = 0x200;
        s.seg[2].filesz = bits == 64 ? UINT64_MAX : UINT32_MAX;
        s.seg[2].memsz = s.seg[2].filesz;
        reject(&s, -EINVAL, "p_filesz");
    }
}

static void test_paddr_wraps(void **state)
{
    struct spec s = valid(64);

    (void)state;
    s.seg[2].paddr = UINT64_MAX - 0xfff;
    s.seg[2].memsz = 0x2000;
    reject(&s, -EINVAL, "PT_LOAD segment 2: p_paddr");
    msg_has("wraps");
    /* ELF32 addresses wrap at 4 GiB. */
    s = valid(32);
    s.seg[2].paddr = 0xfffff000;
    s.seg[2].memsz = 0x2000;
    reject(&s, -EINVAL, "PT_LOAD segment 2: p_paddr");
    msg_has("32-bit");
}

static void test_segment_in_reserved(void **state)
{
    (void)state;
    for (unsigned bits = 32; bits <= 64; bits += 32) {
        struct spec s = valid(bits);

        /* Segment 0 is fine: two passes mean it is not written either. */
        s.seg[2].paddr = RSV_END - 0x10;
        reject(&s, -ERANGE, "PT_LOAD segment 2");
        msg_has("overlaps the VMM's page tables");
        s.seg[2].paddr = RSV_START - 0x10;
        reject(&s, -ERANGE, "PT_LOAD segment 2");
    }
}

static void test_segment_beyond_ram(void **state)
{
    static const uint64_t addrs[] = {RAM - DATA_MEM + 1, RAM, 0x40000000,
                                     0xfffff000};

    (void)state;
    for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        struct spec s = valid(i % 2 ? 32 : 64);

        s.seg[2].paddr = addrs[i];
        reject(&s, -ERANGE, "PT_LOAD segment 2");
        msg_has("not in guest RAM");
    }
}

static void test_entry_outside_segments(void **state)
{
    static const uint64_t entries[] = {
        0,         TEXT_ADDR - 1,   TEXT_ADDR + TEXT_SIZE, DATA_ADDR + DATA_MEM,
        RSV_START, TEXT_ADDR + VOFF};

    (void)state;
    for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
        struct spec s = valid(i % 2 ? 32 : 64);

        s.entry = entries[i];
        reject(&s, -EINVAL, "e_entry");
        msg_has("is not inside any PT_LOAD segment");
    }
}

static void test_overlapping_segments(void **state)
{
    (void)state;
    for (unsigned bits = 32; bits <= 64; bits += 32) {
        struct spec s = valid(bits);

        s.seg[2].paddr = TEXT_ADDR + TEXT_SIZE - 1;
        reject(&s, -EINVAL, "PT_LOAD segments 0 and 2 overlap");
        /* Named in header order even when the later one is lower. */
        s.seg[2].paddr = TEXT_ADDR - DATA_MEM + 1;
        reject(&s, -EINVAL, "PT_LOAD segments 0 and 2 overlap");
        /* One inside the other. */
        s.seg[2].paddr = TEXT_ADDR - 0x10;
        reject(&s, -EINVAL, "PT_LOAD segments 0 and 2 overlap");
        /* 0 covers both 1 and 2; the first overlap found is named. */
        s.seg[1] = (struct seg){PT_LOAD, 0x100, DATA_ADDR + 0x100, 0, 0x10};
        s.seg[2].paddr = DATA_ADDR + 0x800;
        s.seg[0].paddr = DATA_ADDR;
        s.seg[0].memsz = DATA_MEM;
        s.entry = DATA_ADDR;
        reject(&s, -EINVAL, "PT_LOAD segments 0 and 1 overlap");
    }
}

/* Every prefix of a valid image is refused, cleanly; only all of it
 * loads. */
static void check_truncations(unsigned bits)
{
    static uint8_t buf[IMG_MAX];
    struct spec s = valid(bits);
    size_t full = build(&s, buf);

    for (size_t len = 0; len <= full; len++) {
        struct load_elf_info out;

        poison();
        if (len == full) {
            assert_int_equal(load(buf, len, &out), 0);
            check_segment(&s, 2);
            break;
        }
        assert_int_equal(load(buf, len, &out), -EINVAL);
        check_message();
        check_untouched();
    }
}

static void test_truncated_elf32(void **state)
{
    (void)state;
    check_truncations(32);
}

static void test_truncated_elf64(void **state)
{
    (void)state;
    check_truncations(64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_valid_elf32),
        cmocka_unit_test(test_valid_elf64),
        cmocka_unit_test(test_unaligned_image),
        cmocka_unit_test(test_bss_only_and_empty_segments),
        cmocka_unit_test(test_adjacent_segments),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_bad_class),
        cmocka_unit_test(test_big_endian),
        cmocka_unit_test(test_bad_ident_version),
        cmocka_unit_test(test_not_executable),
        cmocka_unit_test(test_wrong_machine),
        cmocka_unit_test(test_bad_version),
        cmocka_unit_test(test_bad_ehsize),
        cmocka_unit_test(test_bad_phentsize),
        cmocka_unit_test(test_no_program_headers),
        cmocka_unit_test(test_huge_phnum),
        cmocka_unit_test(test_phoff_outside_file),
        cmocka_unit_test(test_no_pt_load),
        cmocka_unit_test(test_filesz_above_memsz),
        cmocka_unit_test(test_data_outside_file),
        cmocka_unit_test(test_paddr_wraps),
        cmocka_unit_test(test_segment_in_reserved),
        cmocka_unit_test(test_segment_beyond_ram),
        cmocka_unit_test(test_entry_outside_segments),
        cmocka_unit_test(test_overlapping_segments),
        cmocka_unit_test(test_truncated_elf32),
        cmocka_unit_test(test_truncated_elf64),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
