/* test_linux.c: unit tests of the Linux x86 boot protocol loader. */
#include <errno.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "arch/x86/arch.h"
#include "kvmrun.h"
#include "load/load.h"
#include "mem.h"

#define KIB 1024ULL
#define MIB (1ULL << 20)
#define GIB (1ULL << 30)
#define POISON 0xaa

/* The fake bzImage: 2 setup sectors, so the protected-mode kernel is at
 * file offset 0x600; 0x800 bytes of it. */
#define SETUP_SECTS 2
#define KOFF 0x600
#define KLEN 0x800
#define IMG_LEN (KOFF + KLEN)
#define HDR_END 0x26c /* 0x202 + the jump's 0x6a */
#define LOAD 0x100000ULL

#define ZP ARCH_BOOT_INFO_ADDR
#define CMDLINE_ROOM (ARCH_BOOT_INFO_END - ARCH_CMDLINE_ADDR)
#define RSDP 0xe0000ULL

/* Setup header fields a test may change. */
struct fake {
    uint8_t setup_sects;
    uint16_t boot_flag;
    const char *magic;
    uint16_t version;
    uint8_t loadflags;
    uint16_t xloadflags;
    uint32_t initrd_addr_max;
    uint32_t kernel_alignment;
    uint8_t relocatable;
    uint32_t cmdline_size;
    uint64_t pref_address;
    uint32_t init_size;
};

/* Like a Debian kernel's header, with a 4 MiB init_size: the kernel
 * decompresses at 16 MiB and its footprint ends at 20 MiB. */
static const struct fake good = {
    SETUP_SECTS, 0xaa55,   "HdrS", 0x020f, 0x01,      0x7f,
    0x7fffffff,  0x200000, 1,      2047,   0x1000000, 0x400000,
};
#define GOOD_KERNEL_END 0x1400000ULL

/* As the CLI has them. */
static const struct load_region cli_reserved[] = {
    {ARCH_VMM_AREA_START, ARCH_VMM_AREA_END,
     "the VMM's GDT, TSS and page tables"},
    {ARCH_BOOT_INFO_ADDR, ARCH_BOOT_INFO_END, "the boot information area"},
    {ARCH_ACPI_ADDR, ARCH_ACPI_END, "the ACPI tables"},
    {ARCH_MPTABLE_ADDR, ARCH_MPTABLE_END, "the MP table"},
};

/* Group state: guests of 128 MiB, 5 GiB (MAP_NORESERVE), 1 MiB, 32 MiB. */
struct mems {
    struct guest_mem mid, big, tiny, small;
};

static int setup(void **state)
{
    static struct mems m;

    if (mem_init(&m.mid, 128 * MIB) || mem_init(&m.big, 5 * GIB) ||
        mem_init(&m.tiny, 1 * MIB) || mem_init(&m.small, 32 * MIB))
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
    mem_fini(&m->small);
    return 0;
}

static struct guest_mem *mid(void **state)
{
    return &((struct mems *)*state)->mid;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* len bytes: a pattern, then the header f. */
static void make_image(uint8_t *img, size_t len, const struct fake *f)
{
    for (size_t i = 0; i < len; i++)
        img[i] = (uint8_t)(i * 7 + 1);
    img[0x1f1] = f->setup_sects;
    put16(img + 0x1fe, f->boot_flag);
    img[0x200] = 0xeb;
    img[0x201] = HDR_END - 0x202;
    memcpy(img + 0x202, f->magic, 4);
    put16(img + 0x206, f->version);
    img[0x210] = 0;
    img[0x211] = f->loadflags;
    put32(img + 0x214, 0x100000);
    put32(img + 0x218, 0);
    put32(img + 0x21c, 0);
    put32(img + 0x228, 0);
    put32(img + 0x22c, f->initrd_addr_max);
    put32(img + 0x230, f->kernel_alignment);
    img[0x234] = f->relocatable;
    put16(img + 0x236, f->xloadflags);
    put32(img + 0x238, f->cmdline_size);
    put64(img + 0x258, f->pref_address);
    put32(img + 0x260, f->init_size);
}

static struct load_linux_args args_default(void)
{
    return (struct load_linux_args){
        .cmdline = "console=ttyS0 root=/dev/vda quiet",
        .boot_params_addr = ZP,
        .cmdline_addr = ARCH_CMDLINE_ADDR,
        .cmdline_room = CMDLINE_ROOM,
        .acpi_rsdp_addr = RSDP,
    };
}

static void poison(struct guest_mem *mem)
{
    memset(mem_ptr(mem, 0, mem_low_size(mem)), POISON, mem_low_size(mem));
}

/* The low slot is all POISON still (memcmp against itself shifted). */
static void assert_untouched(const struct guest_mem *mem)
{
    uint64_t n = mem_low_size(mem);
    const uint8_t *p = mem_ptr(mem, 0, n);

    if (p[0] != POISON || memcmp(p, p + 1, n - 1) != 0)
        fail_msg("guest memory was written by a refused load");
}

static uint8_t rd8(const struct guest_mem *mem, uint64_t gpa)
{
    const uint8_t *p = mem_ptr(mem, gpa, 1);

    assert_non_null(p);
    return *p;
}

static uint16_t rd16(const struct guest_mem *mem, uint64_t gpa)
{
    return (uint16_t)(rd8(mem, gpa) | rd8(mem, gpa + 1) << 8);
}

static uint32_t rd32(const struct guest_mem *mem, uint64_t gpa)
{
    return rd16(mem, gpa) | (uint32_t)rd16(mem, gpa + 2) << 16;
}

static uint64_t rd64(const struct guest_mem *mem, uint64_t gpa)
{
    return rd32(mem, gpa) | (uint64_t)rd32(mem, gpa + 4) << 32;
}

static int load_with(struct guest_mem *mem, const struct load_region *res,
                     unsigned nres, const uint8_t *img, size_t len,
                     const struct load_linux_args *args,
                     struct load_linux_info *out)
{
    struct load_ctx ctx = {mem, "bzImage", res, nres};

    return load_linux(&ctx, img, len, args, out);
}

static int load(struct guest_mem *mem, const uint8_t *img, size_t len,
                const struct load_linux_args *args, struct load_linux_info *out)
{
    return load_with(mem, cli_reserved, 4, img, len, args, out);
}

/* A failure must explain itself on one line naming the image and what. */
static void assert_error(int r, const char *what)
{
    const char *msg = kvmrun_last_error();

    assert_true(r == -EINVAL || r == -ERANGE);
    if (strncmp(msg, "bzImage: ", 9) != 0)
        fail_msg("error \"%s\" does not start with the image's name", msg);
    assert_null(strchr(msg, '\n'));
    if (!strstr(msg, what))
        fail_msg("error \"%s\" does not mention \"%s\"", msg, what);
}

/* Builds f, poisons guest RAM, loads, expects a refusal mentioning what
 * and guest memory untouched. */
static void expect_reject_on(struct guest_mem *mem, const struct fake *f,
                             const struct load_linux_args *args,
                             const char *what)
{
    static uint8_t img[IMG_LEN];
    struct load_linux_info out;

    make_image(img, sizeof(img), f);
    poison(mem);
    assert_error(load(mem, img, sizeof(img), args, &out), what);
    assert_untouched(mem);
}

/* The same with the jump offset at 0x201 (the header's length) set. */
static void expect_reject_jump(void **state, const struct fake *f, uint8_t jump,
                               const char *what)
{
    static uint8_t img[IMG_LEN];
    struct load_linux_args args = args_default();
    struct load_linux_info out;
    struct guest_mem *mem = &((struct mems *)*state)->mid;

    make_image(img, sizeof(img), f);
    img[0x201] = jump;
    poison(mem);
    assert_error(load(mem, img, sizeof(img), &args, &out), what);
    assert_untouched(mem);
}

static void expect_reject(void **state, const struct fake *f,
                          const struct load_linux_args *args, const char *what)
{
    expect_reject_on(mid(state), f, args, what);
}

struct e820 {
    uint64_t addr, size;
    uint32_t type;
};

static void assert_e820(const struct guest_mem *mem, const struct e820 *want,
                        unsigned n)
{
    assert_int_equal(rd8(mem, ZP + 0x1e8), n);
    for (unsigned i = 0; i < n; i++) {
        uint64_t e = ZP + 0x2d0 + 20 * i;

        assert_int_equal(rd64(mem, e), want[i].addr);
        assert_int_equal(rd64(mem, e + 8), want[i].size);
        assert_int_equal(rd32(mem, e + 16), want[i].type);
    }
    /* Nothing after the last entry. */
    assert_int_equal(rd64(mem, ZP + 0x2d0 + 20 * n), 0);
}

static void test_probe(void **state)
{
    uint8_t img[IMG_LEN];

    (void)state;
    make_image(img, sizeof(img), &good);
    assert_int_equal(load_linux_probe(img, sizeof(img)), 1);
    assert_int_equal(load_linux_probe(img, 0x206), 1);
    assert_int_equal(load_linux_probe(img, 0x205), 0);
    assert_int_equal(load_linux_probe(img, 0), 0);
    img[0x203] = 'x';
    assert_int_equal(load_linux_probe(img, sizeof(img)), 0);
}

/* Every zero page field the loader sets or copies. */
static void assert_zero_page(const struct guest_mem *mem, const uint8_t *img,
                             uint64_t initrd, uint32_t initrd_len)
{
    const uint8_t *zp = mem_ptr(mem, ZP, 4096);

    for (unsigned i = 0; i < 0x1f1; i++)
        if (i != 0x070 && i != 0x071 && i != 0x072 && i != 0x1e8 && zp[i] != 0)
            fail_msg("zero page byte 0x%x is 0x%x", i, zp[i]);
    assert_int_equal(rd64(mem, ZP + 0x070), RSDP);
    assert_int_equal(rd32(mem, ZP + 0x0c0), initrd >> 32);
    assert_int_equal(rd32(mem, ZP + 0x0c4), 0);
    assert_int_equal(rd32(mem, ZP + 0x0c8), 0);
    /* The header as in the image, but for the fields the loader sets. */
    for (unsigned i = 0x1f1; i < HDR_END; i++)
        if (!(i == 0x210 || i == 0x211 || (i >= 0x214 && i < 0x220) ||
              (i >= 0x224 && i < 0x22c)))
            assert_int_equal(zp[i], img[i]);
    for (unsigned i = HDR_END; i < 0x2d0; i++)
        assert_int_equal(zp[i], 0);
    assert_int_equal(rd8(mem, ZP + 0x210), 0xff);
    assert_int_equal(rd8(mem, ZP + 0x211), 0x81);
    assert_int_equal(rd32(mem, ZP + 0x214), 0x100000);
    assert_int_equal(rd32(mem, ZP + 0x218), (uint32_t)initrd);
    assert_int_equal(rd32(mem, ZP + 0x21c), initrd_len);
    assert_int_equal(rd16(mem, ZP + 0x224), 0xfe00);
    assert_int_equal(rd32(mem, ZP + 0x228), ARCH_CMDLINE_ADDR);
    assert_memory_equal(zp + 0x202, "HdrS", 4);
    assert_int_equal(rd16(mem, ZP + 0x1fe), 0xaa55);
    assert_int_equal(rd16(mem, ZP + 0x206), good.version);
}

static void test_load_valid(void **state)
{
    struct guest_mem *mem = mid(state);
    static uint8_t img[IMG_LEN], initrd[0x3001];
    struct load_linux_args args = args_default();
    struct load_linux_info out;
    uint64_t start = (128 * MIB - sizeof(initrd)) & ~0xfffULL;
    const struct e820 want[] = {
        {0, 0x9fc00, 1},
        {0x9fc00, 0x60400, 2},
        {LOAD, 127 * MIB, 1},
    };

    for (size_t i = 0; i < sizeof(initrd); i++)
        initrd[i] = (uint8_t)(i * 13 + 5);
    make_image(img, sizeof(img), &good);
    args.initrd = initrd;
    args.initrd_len = sizeof(initrd);
    poison(mem);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    assert_int_equal(out.entry, LOAD + 0x200);
    assert_int_equal(out.boot_params, ZP);
    assert_int_equal(out.kernel_start, LOAD);
    assert_int_equal(out.kernel_end, GOOD_KERNEL_END);
    assert_int_equal(out.initrd_start, start);
    assert_int_equal(out.initrd_end, start + sizeof(initrd));
    assert_zero_page(mem, img, start, sizeof(initrd));
    assert_e820(mem, want, 3);
    assert_memory_equal(mem_ptr(mem, LOAD, KLEN), img + KOFF, KLEN);
    assert_int_equal(rd8(mem, LOAD + KLEN), POISON);
    assert_memory_equal(mem_ptr(mem, start, sizeof(initrd)), initrd,
                        sizeof(initrd));
    assert_string_equal((const char *)mem_ptr(mem, ARCH_CMDLINE_ADDR, 1),
                        args.cmdline);
    /* The VMM area is never written. */
    assert_int_equal(rd8(mem, ARCH_VMM_AREA_START), POISON);
    assert_int_equal(rd8(mem, ARCH_VMM_AREA_END - 1), POISON);
    assert_int_equal(rd8(mem, ARCH_ACPI_ADDR), POISON);
}

static void test_no_initrd(void **state)
{
    struct guest_mem *mem = mid(state);
    uint8_t img[IMG_LEN];
    struct load_linux_args args = args_default();
    struct load_linux_info out;

    make_image(img, sizeof(img), &good);
    args.cmdline = "";
    args.acpi_rsdp_addr = 0;
    poison(mem);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    assert_int_equal(out.initrd_start, 0);
    assert_int_equal(out.initrd_end, 0);
    assert_int_equal(rd32(mem, ZP + 0x218), 0);
    assert_int_equal(rd32(mem, ZP + 0x21c), 0);
    assert_int_equal(rd64(mem, ZP + 0x070), 0);
    assert_int_equal(rd8(mem, ARCH_CMDLINE_ADDR), 0);
    assert_int_equal(rd8(mem, ARCH_CMDLINE_ADDR + 1), POISON);
}

/* 5 GiB: the low slot ends at 3 GiB, the rest is at 4 GiB; the initrd
 * stays below initrd_addr_max. */
static void test_e820_5g(void **state)
{
    struct guest_mem *mem = &((struct mems *)*state)->big;
    uint8_t img[IMG_LEN];
    static uint8_t initrd[5000];
    struct load_linux_args args = args_default();
    struct load_linux_info out;
    struct fake f = good;
    const struct e820 want[] = {
        {0, 0x9fc00, 1},
        {0x9fc00, 0x60400, 2},
        {LOAD, 3 * GIB - LOAD, 1},
        {4 * GIB, 2 * GIB, 1},
    };

    make_image(img, sizeof(img), &good);
    args.initrd = initrd;
    args.initrd_len = sizeof(initrd);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    assert_e820(mem, want, 4);
    assert_int_equal(out.initrd_start, 0x80000000 - 0x2000);
    assert_int_equal(out.initrd_end, 0x80000000 - 0x2000 + sizeof(initrd));

    f.initrd_addr_max = 0x37ffffff;
    make_image(img, sizeof(img), &f);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    assert_int_equal(out.initrd_start, 0x38000000 - 0x2000);
    assert_int_equal(rd32(mem, ZP + 0x218), 0x38000000 - 0x2000);
    assert_int_equal(rd32(mem, ZP + 0x21c), sizeof(initrd));

    /* An unaligned initrd_addr_max: the end stays at or below it + 1. */
    f.initrd_addr_max = 0x37ffe7ff;
    make_image(img, sizeof(img), &f);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    assert_int_equal(out.initrd_start, 0x37ffd000);
    assert_true(out.initrd_end <= 0x37ffe800);
}

/* The initrd goes below a reserved range at the top of RAM, and as high as
 * it can: exactly on kernel_end when that is all the room there is. */
static void test_initrd_placement(void **state)
{
    struct guest_mem *mem = mid(state);
    uint8_t img[IMG_LEN];
    static uint8_t initrd[0x1000];
    struct load_linux_args args = args_default();
    struct load_linux_info out;
    struct load_region res[5];
    struct fake f = good;

    memcpy(res, cli_reserved, sizeof(cli_reserved));
    res[4] = (struct load_region){0x7f00800, 128 * MIB, "a test range"};
    make_image(img, sizeof(img), &good);
    args.initrd = initrd;
    args.initrd_len = sizeof(initrd);
    assert_int_equal(load_with(mem, res, 5, img, sizeof(img), &args, &out), 0);
    assert_int_equal(out.initrd_start, 0x7eff000);
    assert_int_equal(out.initrd_end, 0x7f00000);

    /* RAM above the kernel is reserved but for one page at kernel_end. */
    res[4] = (struct load_region){GOOD_KERNEL_END + 0x1000, 128 * MIB,
                                  "a test range"};
    assert_int_equal(load_with(mem, res, 5, img, sizeof(img), &args, &out), 0);
    assert_int_equal(out.initrd_start, GOOD_KERNEL_END);

    /* Not relocatable, no pref_address: the footprint is init_size at
     * 1 MiB and the initrd may start right there. */
    f.relocatable = 0;
    f.pref_address = 0;
    f.initrd_addr_max = (uint32_t)(LOAD + f.init_size + 0x1fff);
    make_image(img, sizeof(img), &f);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    assert_int_equal(out.kernel_end, LOAD + f.init_size);
    assert_int_equal(out.initrd_start, LOAD + f.init_size + 0x1000);
}

/* Protocol 2.06 to 2.11: no xloadflags (2.12), no init_size (2.10). */
static void test_old_protocols(void **state)
{
    struct guest_mem *mem = mid(state);
    uint8_t img[IMG_LEN];
    struct load_linux_args args = args_default();
    struct load_linux_info out;
    struct fake f = good;

    f.xloadflags = 0;
    f.version = 0x020b;
    make_image(img, sizeof(img), &f);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    assert_int_equal(out.kernel_end, GOOD_KERNEL_END);
    f.version = 0x0206;
    make_image(img, sizeof(img), &f);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    assert_int_equal(out.kernel_end, LOAD + KLEN);
}

/* setup_sects 0 means 4: the kernel starts at 0xa00. */
static void test_setup_sects_zero(void **state)
{
    struct guest_mem *mem = mid(state);
    uint8_t img[IMG_LEN];
    struct load_linux_args args = args_default();
    struct load_linux_info out;
    struct fake f = good;

    f.setup_sects = 0;
    make_image(img, sizeof(img), &f);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    assert_memory_equal(mem_ptr(mem, LOAD, IMG_LEN - 0xa00), img + 0xa00,
                        IMG_LEN - 0xa00);
    assert_int_equal(rd8(mem, ZP + 0x1f1), 0);
}

static void test_reject_header(void **state)
{
    struct load_linux_args args = args_default();
    struct fake f = good;

    f.version = 0x0205;
    expect_reject(state, &f, &args, "boot protocol 2.05 is older than 2.06");
    f = good;
    f.boot_flag = 0x55aa;
    expect_reject(state, &f, &args, "boot_flag 0x55aa");
    f = good;
    f.magic = "HdrZ";
    expect_reject(state, &f, &args, "HdrS");
    f = good;
    f.xloadflags = 0x7e;
    expect_reject(state, &f, &args, "not a 64-bit kernel");
    f.version = 0x020c;
    expect_reject(state, &f, &args, "xloadflags 0x007e");
    f = good;
    f.loadflags = 0x80;
    expect_reject(state, &f, &args, "LOADED_HIGH");
    f = good;
    f.setup_sects = 255;
    expect_reject(state, &f, &args, "setup_sects 255");
    f = good;
    f.version = 0x020a;
    expect_reject_jump(state, &f, 0x61,
                       "jump offset 0x61 at 0x201: the "
                       "header ends at 0x263, protocol 2.10's fields end "
                       "at 0x264");
    f.version = 0x0209;
    expect_reject_jump(state, &f, 0x39, "the header ends at 0x23b");
    f.version = 0x0206;
    expect_reject_jump(state, &f, 0, "the header ends at 0x202");
    f = good;
    f.setup_sects = 255;
    expect_reject(state, &f, &args, "setup_sects 255");
}

/* Every length up to the kernel's start is refused, and nothing written;
 * one byte of kernel is enough. */
static void test_truncated(void **state)
{
    struct guest_mem *mem = mid(state);
    uint8_t img[IMG_LEN];
    struct load_linux_args args = args_default();
    struct load_linux_info out;

    make_image(img, sizeof(img), &good);
    poison(mem);
    for (size_t len = 0; len <= KOFF; len++) {
        uint8_t *copy = malloc(len ? len : 1);

        assert_non_null(copy);
        memcpy(copy, img, len);
        assert_error(load(mem, copy, len, &args, &out),
                     len < 0x206 ? "too short" : "setup_sects");
        free(copy);
    }
    assert_untouched(mem);
    assert_int_equal(load(mem, img, KOFF + 1, &args, &out), 0);
    assert_int_equal(rd8(mem, LOAD), img[KOFF]);
    assert_int_equal(rd8(mem, LOAD + 1), POISON);
}

static void test_reject_kernel_room(void **state)
{
    struct mems *m = *state;
    struct load_linux_args args = args_default();
    struct fake f = good;

    /* 1 MiB of RAM: no room for the kernel at all. */
    f.pref_address = 0;
    f.relocatable = 0;
    expect_reject_on(&m->tiny, &f, &args, "kernel (with init_size room)");
    f.init_size = 0xfffff000;
    expect_reject(state, &f, &args, "kernel (with init_size room)");
    /* The decompression buffer at pref_address is past 32 MiB. */
    f = good;
    f.pref_address = 0x1f00000;
    expect_reject_on(&m->small, &f, &args, "decompression buffer");
    f.pref_address = 0xfffffffffff00000ULL;
    expect_reject(state, &f, &args, "decompression buffer");
}

static void test_reject_cmdline(void **state)
{
    struct load_linux_args args = args_default();
    struct fake f = good;
    static char line[0x8000];

    memset(line, 'x', sizeof(line) - 1);
    f.cmdline_size = 10;
    args.cmdline = "0123456789a";
    expect_reject(state, &f, &args,
                  "11 bytes, the kernel's cmdline_size "
                  "allows 10");
    f = good;
    args.cmdline = line;
    line[CMDLINE_ROOM] = 0;
    f.cmdline_size = 0xffffffff;
    expect_reject(state, &f, &args,
                  "command line: 28672 bytes and a NUL "
                  "do not fit the 28672 bytes");
}

static void test_cmdline_limits(void **state)
{
    struct guest_mem *mem = mid(state);
    uint8_t img[IMG_LEN];
    struct load_linux_args args = args_default();
    struct load_linux_info out;
    struct fake f = good;
    static char line[0x8000];

    /* cmdline_size excludes the NUL; the room includes it. */
    memset(line, 'y', sizeof(line) - 1);
    line[10] = 0;
    f.cmdline_size = 10;
    args.cmdline = line;
    make_image(img, sizeof(img), &f);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    line[10] = 'y';
    line[CMDLINE_ROOM - 1] = 0;
    make_image(img, sizeof(img), &good);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), -EINVAL);
    f.cmdline_size = 0xffffffff;
    make_image(img, sizeof(img), &f);
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    assert_int_equal(rd8(mem, ARCH_BOOT_INFO_END - 1), 0);
    assert_int_equal(rd8(mem, ARCH_BOOT_INFO_END - 2), 'y');
}

static void test_reject_initrd(void **state)
{
    struct mems *m = *state;
    struct load_linux_args args = args_default();
    struct fake f = good;
    static uint8_t small_initrd[0x1000];
    uint8_t *big = calloc(1, 110 * MIB);
    struct load_region res[5];
    uint8_t img[IMG_LEN];
    struct load_linux_info out;

    assert_non_null(big);
    args.initrd = big;
    args.initrd_len = 110 * MIB;
    expect_reject(state, &f, &args, "initrd: 115343360 bytes do not fit");
    args.initrd_len = 108 * MIB + 1;
    expect_reject(state, &f, &args, "initrd_addr_max 0x7fffffff");
    expect_reject(state, &f, &args, "kernel's end 0x1400000");
    /* Exactly the room there is. */
    args.initrd_len = 108 * MIB;
    make_image(img, sizeof(img), &good);
    assert_int_equal(load(mid(state), img, sizeof(img), &args, &out), 0);
    assert_int_equal(out.initrd_start, GOOD_KERNEL_END);
    assert_int_equal(out.initrd_end, 128 * MIB);
    /* initrd_addr_max below the kernel's end. */
    args.initrd = small_initrd;
    args.initrd_len = sizeof(small_initrd);
    f.initrd_addr_max = 0xffffff;
    expect_reject(state, &f, &args, "initrd_addr_max 0xffffff");
    /* 32 MiB: 12 MiB above the kernel's footprint. */
    f = good;
    args.initrd = big;
    args.initrd_len = 12 * MIB + 1;
    expect_reject_on(&m->small, &f, &args, "end of low RAM 0x2000000");
    /* Reserved ranges fill RAM above the kernel. */
    memcpy(res, cli_reserved, sizeof(cli_reserved));
    res[4] = (struct load_region){GOOD_KERNEL_END + 0x800, 128 * MIB - 1,
                                  "a test range"};
    args.initrd = small_initrd;
    args.initrd_len = sizeof(small_initrd);
    make_image(img, sizeof(img), &good);
    poison(mid(state));
    assert_error(load_with(mid(state), res, 5, img, sizeof(img), &args, &out),
                 "initrd");
    assert_untouched(mid(state));
    free(big);
}

/* The kernel, zero page or command line over a reserved range. */
static void test_reject_overlaps(void **state)
{
    struct guest_mem *mem = mid(state);
    struct load_linux_args args = args_default();
    struct load_region res[5];
    uint8_t img[IMG_LEN];
    struct load_linux_info out;

    args.boot_params_addr = 0x76000;
    expect_reject(state, &good, &args,
                  "zero page (boot_params): "
                  "0x76000-0x77000 overlaps the VMM's");
    args = args_default();
    args.boot_params_addr = 0x10000;
    args.cmdline_addr = 0xe0100;
    expect_reject(state, &good, &args,
                  "command line: 0xe0100-0xe0122 "
                  "overlaps the ACPI tables");
    /* The boot information area is the caller's for the zero page and
     * command line only when they cover it. */
    args = args_default();
    args.cmdline_addr = 0xe0100;
    expect_reject(state, &good, &args,
                  "zero page (boot_params): "
                  "0x78000-0x79000 overlaps the boot information area");
    args = args_default();
    args.boot_params_addr = 0x10000;
    args.cmdline_addr = 0x10800;
    args.cmdline_room = 0x1000;
    expect_reject(state, &good, &args,
                  "command line 0x10800-0x10822 "
                  "overlaps the zero page at 0x10000");
    args = args_default();
    args.boot_params_addr = 0x7a000;
    expect_reject(state, &good, &args,
                  "zero page (boot_params): "
                  "0x7a000-0x7b000 overlaps the boot information area");
    args.boot_params_addr = 128 * MIB - 0x800;
    expect_reject(state, &good, &args, "zero page (boot_params)");

    /* Something of the VMM's at 1.5 MiB. */
    memcpy(res, cli_reserved, sizeof(cli_reserved));
    res[4] = (struct load_region){LOAD + 0x80000, LOAD + 0x81000,
                                  "a test "
                                  "range"};
    args = args_default();
    make_image(img, sizeof(img), &good);
    poison(mem);
    assert_error(load_with(mem, res, 5, img, sizeof(img), &args, &out),
                 "kernel (with init_size room): 0x100000-0x500000 overlaps "
                 "a test range");
    res[4] = (struct load_region){0x1100000, 0x1101000, "a test range"};
    assert_error(load_with(mem, res, 5, img, sizeof(img), &args, &out),
                 "decompression");
    /* The zero page elsewhere: the boot information area is reserved. */
    args.boot_params_addr = 0x10000;
    args.cmdline_addr = 0x11000;
    args.cmdline_room = 0x1000;
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    assert_int_equal(rd8(mem, 0x10000 + 0x210), 0xff);
    assert_int_equal(rd32(mem, 0x10000 + 0x228), 0x11000);
    assert_int_equal(rd8(mem, ZP), POISON);
}

/* The zero page and command line above 4 GiB: the ext_ fields. */
static void test_high_boot_data(void **state)
{
    struct guest_mem *mem = &((struct mems *)*state)->big;
    uint8_t img[IMG_LEN];
    struct load_linux_args args = args_default();
    struct load_linux_info out;
    uint64_t zp = 4 * GIB + 0x5000;

    make_image(img, sizeof(img), &good);
    args.boot_params_addr = zp;
    args.cmdline_addr = 4 * GIB + 0x123000;
    assert_int_equal(load(mem, img, sizeof(img), &args, &out), 0);
    assert_int_equal(out.boot_params, zp);
    assert_int_equal(rd32(mem, zp + 0x228), 0x123000);
    assert_int_equal(rd32(mem, zp + 0x0c8), 1);
    assert_string_equal((const char *)mem_ptr(mem, 4 * GIB + 0x123000, 1),
                        args.cmdline);
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    long size;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)size)) &&
        fread(data, 1, (size_t)size, f) == (size_t)size) {
        *len = (size_t)size;
    } else {
        free(data);
        data = NULL;
    }
    fclose(f);
    return data;
}

/* Debian's cloud kernel, when tests/fetch put it in the cache. */
static void test_real_kernel(void **state)
{
    struct guest_mem *mem = mid(state);
    const char *home = getenv("HOME");
    char pattern[512];
    glob_t g;
    uint8_t *data = NULL, initrd[100] = "initrd";
    size_t len = 0;
    struct load_linux_args args = args_default();
    struct load_linux_info out;
    uint8_t setup_sects;

    snprintf(pattern, sizeof(pattern),
             "%s/.cache/kvmrun/kernel/*/boot/"
             "vmlinuz-*",
             home ? home : "");
    if (!home || glob(pattern, 0, NULL, &g) != 0)
        skip();
    data = read_all(g.gl_pathv[0], &len);
    globfree(&g);
    if (!data)
        skip();
    assert_int_equal(load_linux_probe(data, len), 1);
    args.initrd = initrd;
    args.initrd_len = sizeof(initrd);
    poison(mem);
    assert_int_equal(load(mem, data, len, &args, &out), 0);
    setup_sects = data[0x1f1] ? data[0x1f1] : 4;
    assert_int_equal(out.entry, LOAD + 0x200);
    assert_true(out.kernel_end >= LOAD + (len - (setup_sects + 1) * 512));
    assert_true(out.initrd_start >= out.kernel_end);
    assert_int_equal(out.initrd_end, 128 * MIB - 0x1000 + sizeof(initrd));
    assert_memory_equal(mem_ptr(mem, LOAD, 4096),
                        data + (setup_sects + 1) * 512, 4096);
    assert_int_equal(rd16(mem, ZP + 0x206), data[0x206] | data[0x207] << 8);
    assert_int_equal(rd8(mem, ZP + 0x210), 0xff);
    assert_int_equal(rd8(mem, ZP + 0x1e8), 3);
    free(data);
}

/* An uncompressed vmlinux: a made-up setup header in the zero page, the
 * command line, the initrd above the kernel's end; nothing at 1 MiB. */
static void test_vmlinux_boot(void **state)
{
    struct guest_mem *mem = mid(state);
    uint8_t initrd[100] = "initrd";
    struct load_linux_args args = args_default();
    struct load_linux_info out;
    struct load_ctx ctx = {mem, "vmlinux", cli_reserved, 4};
    const uint64_t end = 64 * MIB;

    args.initrd = NULL; /* the caller copies it: only its length here */
    args.initrd_len = sizeof(initrd);
    poison(mem);
    assert_int_equal(load_vmlinux_boot(&ctx, end, &args, &out), 0);
    assert_int_equal(rd16(mem, ZP + 0x1fe), 0xaa55);
    assert_int_equal(rd32(mem, ZP + 0x202), 0x53726448); /* "HdrS" */
    assert_int_equal(rd16(mem, ZP + 0x206), 0x020f);
    assert_int_equal(rd8(mem, ZP + 0x210), 0xff);
    assert_int_equal(rd32(mem, ZP + 0x228), ARCH_CMDLINE_ADDR);
    assert_int_equal(rd32(mem, ZP + 0x238), 2047);
    assert_true(out.initrd_start >= end);
    assert_int_equal(rd32(mem, ZP + 0x218), out.initrd_start);
    assert_int_equal(rd32(mem, ZP + 0x21c), sizeof(initrd));
    assert_int_equal(rd8(mem, LOAD), POISON); /* no kernel bytes written */
    assert_string_equal((const char *)mem_ptr(mem, ARCH_CMDLINE_ADDR, 1),
                        args.cmdline);
    /* A kernel ending below 1 MiB or past RAM is refused. */
    assert_int_equal(load_vmlinux_boot(&ctx, LOAD, &args, &out), -ERANGE);
    assert_int_equal(load_vmlinux_boot(&ctx, 256 * MIB, &args, &out), -ERANGE);
}

/* A vmlinux's ELF headers in a memfd: the n program headers ph, e_entry
 * at entry, "KERNEL" at file offset 0x1000, file_len bytes. */
static int vmlinux_phdrs(const Elf64_Phdr *ph, unsigned n, uint64_t entry,
                         uint64_t file_len)
{
    Elf64_Ehdr e = {.e_type = ET_EXEC,
                    .e_machine = EM_X86_64,
                    .e_version = EV_CURRENT,
                    .e_entry = entry,
                    .e_phoff = sizeof(Elf64_Ehdr),
                    .e_ehsize = sizeof(Elf64_Ehdr),
                    .e_phentsize = sizeof(Elf64_Phdr),
                    .e_phnum = (uint16_t)n};
    int fd = memfd_create("vmlinux", 0);

    assert_true(fd >= 0);
    memcpy(e.e_ident, ELFMAG, SELFMAG);
    e.e_ident[EI_CLASS] = ELFCLASS64;
    e.e_ident[EI_DATA] = ELFDATA2LSB;
    e.e_ident[EI_VERSION] = EV_CURRENT;
    assert_int_equal(ftruncate(fd, (off_t)file_len), 0);
    assert_int_equal(pwrite(fd, &e, sizeof(e), 0), sizeof(e));
    assert_int_equal(pwrite(fd, ph, n * sizeof(*ph), sizeof(e)),
                     (ssize_t)(n * sizeof(*ph)));
    assert_int_equal(pwrite(fd, "KERNEL", 6, 0x1000), 6);
    return fd;
}

/* The same with one PT_LOAD of filesz/memsz at paddr (file bytes at
 * 0x1000). */
static int vmlinux_file(uint64_t paddr, uint64_t filesz, uint64_t memsz,
                        uint64_t entry, uint64_t file_len)
{
    Elf64_Phdr ph = {.p_type = PT_LOAD,
                     .p_offset = 0x1000,
                     .p_paddr = paddr,
                     .p_filesz = filesz,
                     .p_memsz = memsz};

    return vmlinux_phdrs(&ph, 1, entry, file_len);
}

static void test_vmlinux_segments(void **state)
{
    struct guest_mem *mem = mid(state);
    struct load_ctx ctx = {mem, "vmlinux", cli_reserved, 4};
    struct load_vmlinux_info info;
    int fd = vmlinux_file(16 * MIB, 0x2000, 0x3000, 16 * MIB, 0x3000);

    poison(mem);
    assert_int_equal(load_vmlinux(&ctx, fd, 0x3000, &info), 0);
    assert_int_equal(info.entry, 16 * MIB);
    assert_int_equal(info.end, 16 * MIB + 0x3000);
    assert_int_equal(rd8(mem, 16 * MIB), POISON); /* checking writes nothing */
    assert_int_equal(load_vmlinux_copy(&ctx, fd, &info), 0);
    assert_memory_equal(mem_ptr(mem, 16 * MIB, 6), "KERNEL", 6);
    assert_int_equal(rd8(mem, 16 * MIB + 0x2fff), 0); /* bss zeroed */
    load_vmlinux_free(&info);
    close(fd);
    /* The segment's bytes past the file's end; in no RAM; over the VMM's
     * page tables; the entry outside every segment. */
    fd = vmlinux_file(16 * MIB, 0x2000, 0x3000, 16 * MIB, 0x2000);
    assert_int_equal(load_vmlinux(&ctx, fd, 0x2000, &info), -EINVAL);
    assert_non_null(strstr(kvmrun_last_error(), "runs past the end"));
    close(fd);
    fd = vmlinux_file(200 * MIB, 0x1000, 0x1000, 200 * MIB, 0x3000);
    assert_int_equal(load_vmlinux(&ctx, fd, 0x3000, &info), -ERANGE);
    close(fd);
    fd = vmlinux_file(ARCH_GDT_ADDR, 0x1000, 0x1000, ARCH_GDT_ADDR, 0x3000);
    assert_true(load_vmlinux(&ctx, fd, 0x3000, &info) < 0);
    close(fd);
    fd = vmlinux_file(16 * MIB, 0x1000, 0x1000, 32 * MIB, 0x3000);
    assert_int_equal(load_vmlinux(&ctx, fd, 0x3000, &info), -EINVAL);
    assert_non_null(strstr(kvmrun_last_error(), "e_entry"));
    /* Not a Linux kernel: no "Linux" note. */
    assert_int_equal(load_vmlinux_probe(fd, "vmlinux", 0x3000), 0);
    close(fd);
}

/* PT_LOAD segment i at paddr, filesz/memsz, its bytes at file offset
 * 0x1000 (all share them). */
static Elf64_Phdr load_seg(uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
    return (Elf64_Phdr){.p_type = PT_LOAD,
                        .p_offset = 0x1000,
                        .p_paddr = paddr,
                        .p_filesz = filesz,
                        .p_memsz = memsz};
}

/* Segments that overlap each other, or the platform tables a Linux guest
 * has (the ACPI tables, the MP table), are refused before any write. */
static void test_vmlinux_overlaps(void **state)
{
    struct guest_mem *mem = mid(state);
    struct load_ctx ctx = {mem, "vmlinux", cli_reserved, 4};
    struct load_vmlinux_info info;
    Elf64_Phdr ph[3] = {load_seg(16 * MIB, 0x1000, 0x3000),
                        load_seg(32 * MIB, 0x1000, 0x1000),
                        load_seg(16 * MIB + 0x2000, 0x1000, 0x1000)};
    int fd = vmlinux_phdrs(ph, 3, 16 * MIB, 0x3000);

    poison(mem);
    assert_int_equal(load_vmlinux(&ctx, fd, 0x3000, &info), -EINVAL);
    assert_string_equal(kvmrun_last_error(),
                        "vmlinux: PT_LOAD segments 0 and 2 overlap: "
                        "0x1000000-0x1003000 and 0x1002000-0x1003000");
    close(fd);
    ph[2] = load_seg(ARCH_ACPI_ADDR + 0x800, 0x1000, 0x1000);
    fd = vmlinux_phdrs(ph, 3, 16 * MIB, 0x3000);
    assert_int_equal(load_vmlinux(&ctx, fd, 0x3000, &info), -ERANGE);
    assert_non_null(strstr(kvmrun_last_error(), "overlaps the ACPI tables"));
    close(fd);
    ph[2] = load_seg(ARCH_MPTABLE_ADDR + 0x1000, 0x1000, 0x1000);
    fd = vmlinux_phdrs(ph, 3, 16 * MIB, 0x3000);
    assert_int_equal(load_vmlinux(&ctx, fd, 0x3000, &info), -ERANGE);
    assert_non_null(strstr(kvmrun_last_error(), "overlaps the MP table"));
    close(fd);
    assert_int_equal(rd8(mem, 16 * MIB), POISON);
}

/* More program headers than a vmlinux usually has (5): still a Linux
 * kernel (its "Linux" note in the last one), loaded in full. */
static void test_vmlinux_many_phdrs(void **state)
{
    static const uint8_t note[] = {6,   0, 0, 0, 4,   0,   0,   0,
                                   1,   0, 0, 0, 'L', 'i', 'n', 'u',
                                   'x', 0, 0, 0, 1,   2,   3,   4};
    struct guest_mem *mem = mid(state);
    struct load_ctx ctx = {mem, "vmlinux", cli_reserved, 4};
    struct load_vmlinux_info info;
    Elf64_Phdr ph[40];
    int fd;

    memset(ph, 0, sizeof(ph));
    for (unsigned i = 0; i < 39; i++)
        ph[i] = load_seg(16 * MIB + i * 0x10000ULL, 0x1000, 0x2000);
    ph[39] = (Elf64_Phdr){
        .p_type = PT_NOTE, .p_offset = 0x2000, .p_filesz = sizeof(note)};
    fd = vmlinux_phdrs(ph, 40, 16 * MIB, 0x3000);
    assert_int_equal(pwrite(fd, note, sizeof(note), 0x2000), sizeof(note));
    assert_int_equal(load_vmlinux_probe(fd, "vmlinux", 0x3000), 1);
    poison(mem);
    assert_int_equal(load_vmlinux(&ctx, fd, 0x3000, &info), 0);
    assert_int_equal(info.end, 16 * MIB + 38 * 0x10000ULL + 0x2000);
    assert_int_equal(load_vmlinux_copy(&ctx, fd, &info), 0);
    assert_memory_equal(mem_ptr(mem, 16 * MIB + 38 * 0x10000ULL, 6), "KERNEL",
                        6);
    load_vmlinux_free(&info);
    close(fd);
}

/* expect_cmdline(APPEND, WANT): load_linux_cmdline(APPEND) is WANT. */
static void expect_cmdline(const char *append, const char *want)
{
    char *s = load_linux_cmdline(append, LOAD_LINUX_CONSOLE, NULL);

    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
}

/* Without a console= among the kernel's parameters the guest gets
 * console=ttyS0 first (else Linux prints nowhere a user sees); with one,
 * the command line is the user's, untouched. */
static void test_default_console(void **state)
{
    (void)state;
    expect_cmdline(NULL, "console=ttyS0");
    expect_cmdline("", "console=ttyS0");
    expect_cmdline("quiet panic=-1", "console=ttyS0 quiet panic=-1");
    expect_cmdline("console=hvc0", "console=hvc0");
    expect_cmdline("quiet console=ttyS1,115200", "quiet console=ttyS1,115200");
    expect_cmdline("console=tty0 console=ttyS0", "console=tty0 console=ttyS0");
    expect_cmdline("  \tconsole=", "  \tconsole=");
    /* Not a console= parameter: part of another word, inside quotes,
     * or one of init's arguments after "--". */
    expect_cmdline("earlyconsole=x netconsole=@/,@1.2.3.4/",
                   "console=ttyS0 earlyconsole=x netconsole=@/,@1.2.3.4/");
    expect_cmdline("dyndbg=\"a console=b\" quiet",
                   "console=ttyS0 dyndbg=\"a console=b\" quiet");
    expect_cmdline("quiet -- console=ttyS1",
                   "console=ttyS0 quiet -- console=ttyS1");
    expect_cmdline("-- console=ttyS1", "console=ttyS0 -- console=ttyS1");
    expect_cmdline("--console=x", "console=ttyS0 --console=x");
}

/* With the virtio console (--console virtio) the default is hvc0; a
 * console= of the user's still wins. */
static void test_default_console_virtio(void **state)
{
    char *s;

    (void)state;
    s = load_linux_cmdline("quiet", LOAD_LINUX_CONSOLE_VIRTIO, NULL);
    assert_string_equal(s, "console=hvc0 quiet");
    free(s);
    s = load_linux_cmdline(NULL, LOAD_LINUX_CONSOLE_VIRTIO, NULL);
    assert_string_equal(s, "console=hvc0");
    free(s);
    s = load_linux_cmdline("console=ttyS0", LOAD_LINUX_CONSOLE_VIRTIO, NULL);
    assert_string_equal(s, "console=ttyS0");
    free(s);
}

static void expect_extra(const char *append, const char *want)
{
    char *s = load_linux_cmdline(append, LOAD_LINUX_CONSOLE,
                                 "virtio_mmio.device=4K@0xfeb00000:16");

    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
}

/* The machine's own parameters (virtio_mmio.device= for acpi=off) go
 * after the user's kernel parameters, never among init's after "--";
 * acpi=off is found as a whole kernel parameter only. */
static void test_cmdline_extra(void **state)
{
    (void)state;
    expect_extra(NULL, "console=ttyS0 virtio_mmio.device=4K@0xfeb00000:16");
    expect_extra("acpi=off",
                 "console=ttyS0 acpi=off virtio_mmio.device=4K@0xfeb00000:16");
    expect_extra("console=hvc0 acpi=off  -- init=x",
                 "console=hvc0 acpi=off virtio_mmio.device=4K@0xfeb00000:16"
                 "  -- init=x");
    expect_extra("-- a",
                 "console=ttyS0 virtio_mmio.device=4K@0xfeb00000:16 -- a");
    assert_true(load_linux_cmdline_has("quiet acpi=off", "acpi=off"));
    assert_false(load_linux_cmdline_has("acpi=offx", "acpi=off"));
    assert_false(load_linux_cmdline_has("x=\"acpi=off\"", "acpi=off"));
    assert_false(load_linux_cmdline_has("-- acpi=off", "acpi=off"));
    assert_false(load_linux_cmdline_has(NULL, "acpi=off"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmdline_extra),
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_load_valid),
        cmocka_unit_test(test_no_initrd),
        cmocka_unit_test(test_e820_5g),
        cmocka_unit_test(test_initrd_placement),
        cmocka_unit_test(test_old_protocols),
        cmocka_unit_test(test_setup_sects_zero),
        cmocka_unit_test(test_reject_header),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_reject_kernel_room),
        cmocka_unit_test(test_reject_cmdline),
        cmocka_unit_test(test_cmdline_limits),
        cmocka_unit_test(test_reject_initrd),
        cmocka_unit_test(test_reject_overlaps),
        cmocka_unit_test(test_high_boot_data),
        cmocka_unit_test(test_real_kernel),
        cmocka_unit_test(test_vmlinux_boot),
        cmocka_unit_test(test_vmlinux_segments),
        cmocka_unit_test(test_vmlinux_overlaps),
        cmocka_unit_test(test_vmlinux_many_phdrs),
        cmocka_unit_test(test_default_console),
        cmocka_unit_test(test_default_console_virtio),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
