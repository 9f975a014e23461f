/* test_snapfile.c: the snapshot file writer and reader, without KVM: a
 * round trip, and refusals of well-checksummed but malformed files. */
#include <errno.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "kvmrun.h"
#include "snapfile.h"

enum variant {
    GOOD,
    DUP_REGS,
    VCPU_OUT_OF_RANGE,
    EXTENT_OUTSIDE_RAM,
    EXTENT_OUT_OF_ORDER,
    NO_MP_STATE,
    LAPIC_WITHOUT_IRQCHIP,
    BAD_REGS_SIZE,
    UNKNOWN_TYPE,
    DUP_DEVICE,
    BAD_DEVICE_NAME,
    DEVICE_INDEX,
};

static uint8_t page[2 * SNAP_PAGE];

static void section(struct snap_writer *w, uint32_t type, uint32_t index)
{
    static uint8_t zeros[8192];

    assert_int_equal(
        snapw_section(w, type, index, zeros, snapfile_type_size(type)), 0);
}

/* Two device sections (their contents are the machine's business), and
 * the spoilt ones v asks for. */
static void devices(struct snap_writer *w, enum variant v)
{
    struct snap_dev_hdr h = {"no\tname", 1, 0};

    assert_int_equal(snapw_device(w, "uart", 3, page, 24), 0);
    assert_int_equal(snapw_device(w, "clock", 1, page, 0), 0);
    if (v == DUP_DEVICE)
        snapw_device(w, "uart", 3, page, 24);
    if (v == BAD_DEVICE_NAME)
        snapw_section(w, SNAP_DEV, 0, &h, sizeof(h));
    if (v == DEVICE_INDEX) {
        memcpy(h.name, "x", 2);
        snapw_section(w, SNAP_DEV, 1, &h, sizeof(h));
    }
}

/* Writes a one-vCPU, 1 MiB, no-irqchip snapshot, spoilt as v says, into
 * a memfd; returns its bytes (free()) and *len. */
static uint8_t *build(enum variant v, size_t *len)
{
    struct snap_writer *w = malloc(sizeof(*w));
    struct snap_header h = {.version = SNAP_VERSION,
                            .header_size = sizeof(h),
                            .ncpus = 1,
                            .mem_size = 1 << 20,
                            .page_size = SNAP_PAGE};
    int fd = memfd_create("snap", 0);
    uint8_t *buf;

    assert_non_null(w);
    assert_true(fd >= 0);
    memcpy(h.magic, SNAP_MAGIC, 8);
    snapw_init(w, fd, "test.snap");
    assert_int_equal(snapw_header(w, &h), 0);
    if (v == BAD_REGS_SIZE)
        snapw_section(w, SNAP_VCPU_REGS, 0, page, 8);
    else
        section(w, SNAP_VCPU_REGS, v == VCPU_OUT_OF_RANGE ? 1 : 0);
    if (v == DUP_REGS)
        section(w, SNAP_VCPU_REGS, 0);
    section(w, SNAP_VCPU_SREGS, 0);
    section(w, SNAP_VCPU_FPU, 0);
    snapw_section(w, SNAP_VCPU_MSRS, 0, page, 2 * sizeof(struct kvm_msr_entry));
    section(w, SNAP_VCPU_EVENTS, 0);
    if (v != NO_MP_STATE)
        section(w, SNAP_VCPU_MP_STATE, 0);
    if (v == LAPIC_WITHOUT_IRQCHIP)
        section(w, SNAP_VCPU_LAPIC, 0);
    if (v == UNKNOWN_TYPE)
        snapw_section(w, 200, 0, page, 4);
    section(w, SNAP_VM_CLOCK, 0);
    devices(w, v);
    page[0] = 0xab;
    snapw_extent(w, 0x2000, page, SNAP_PAGE);
    if (v == EXTENT_OUT_OF_ORDER)
        snapw_extent(w, 0x1000, page, SNAP_PAGE);
    if (v == EXTENT_OUTSIDE_RAM)
        snapw_extent(w, (1 << 20) - SNAP_PAGE, page, 2 * SNAP_PAGE);
    assert_int_equal(snapw_finish(w), 0);
    *len = (size_t)w->written;
    buf = malloc(*len);
    assert_non_null(buf);
    assert_int_equal(pread(fd, buf, *len, 0), (ssize_t)*len);
    close(fd);
    free(w);
    return buf;
}

static void test_round_trip(void **state)
{
    struct snap_image img;
    size_t len;
    uint8_t *buf = build(GOOD, &len);

    (void)state;
    assert_int_equal(snapfile_parse(buf, len, "test.snap", &img), 0);
    assert_int_equal(img.hdr.ncpus, 1);
    assert_int_equal(img.mem_extents, 1);
    assert_int_equal(img.mem_bytes, SNAP_PAGE);
    assert_int_equal(img.vcpu[0][SNAP_VCPU_MSRS].len,
                     2 * sizeof(struct kvm_msr_entry));
    assert_null(img.vcpu[0][SNAP_VCPU_XSAVE].data);
    assert_int_equal(img.ndevs, 2);
    assert_string_equal(img.devs[0].name, "uart");
    assert_int_equal(img.devs[0].version, 3);
    assert_int_equal(img.devs[0].state.len, 24);
    assert_ptr_equal(snapfile_device(&img, "clock"), &img.devs[1]);
    assert_int_equal(img.devs[1].state.len, 0);
    assert_null(snapfile_device(&img, "serial"));
    /* State is a private copy, never a pointer into the file. */
    assert_true(img.clock.data < buf || img.clock.data >= buf + len);
    assert_int_equal(img.ext[0].offset, 0x2000);
    assert_int_equal(img.ext[0].len, SNAP_PAGE);
    assert_int_equal(buf[img.ext[0].file_off], 0xab);
    snapfile_free(&img);
    free(buf);
}

static void expect_refusal(enum variant v, const char *why)
{
    struct snap_image img;
    size_t len;
    uint8_t *buf = build(v, &len);

    assert_int_equal(snapfile_parse(buf, len, "test.snap", &img), -EINVAL);
    if (!strstr(kvmrun_last_error(), why))
        fail_msg("'%s' does not say '%s'", kvmrun_last_error(), why);
    assert_true(strncmp(kvmrun_last_error(), "test.snap: ", 11) == 0);
    free(buf);
}

static void test_malformed(void **state)
{
    (void)state;
    expect_refusal(DUP_REGS, "regs section (index 0) appears twice");
    expect_refusal(VCPU_OUT_OF_RANGE, "unexpected section type 1 (regs)");
    expect_refusal(EXTENT_OUTSIDE_RAM, "outside RAM or out of order");
    expect_refusal(EXTENT_OUT_OF_ORDER, "outside RAM or out of order");
    expect_refusal(NO_MP_STATE, "vcpu0 has no mp_state section");
    expect_refusal(LAPIC_WITHOUT_IRQCHIP, "unexpected section type 7 (lapic)");
    expect_refusal(BAD_REGS_SIZE, "regs section at offset 56: 8 bytes");
    expect_refusal(UNKNOWN_TYPE, "unexpected section type 200 (unknown)");
    expect_refusal(DUP_DEVICE, "device uart section appears twice");
    expect_refusal(BAD_DEVICE_NAME, "its name is not a printable string");
    expect_refusal(DEVICE_INDEX, "bytes, index 1");
}

/* Every prefix of a good file is refused, none crashes. */
static void test_every_truncation(void **state)
{
    struct snap_image img;
    size_t len;
    uint8_t *buf = build(GOOD, &len);

    (void)state;
    for (size_t n = 0; n < len; n++)
        assert_int_equal(snapfile_parse(buf, n, "test.snap", &img), -EINVAL);
    free(buf);
}

/* Any single flipped bit is caught by the checksum (or the magic). */
static void test_every_bit_flip(void **state)
{
    struct snap_image img;
    size_t len;
    uint8_t *buf = build(GOOD, &len);

    (void)state;
    for (size_t i = 0; i < len; i += 7) {
        buf[i] ^= 0x10;
        assert_int_equal(snapfile_parse(buf, len, "test.snap", &img), -EINVAL);
        buf[i] ^= 0x10;
    }
    free(buf);
}

static uint8_t ram[1 << 20];

static void *to_ram(void *opaque, uint64_t off, uint64_t len)
{
    (void)opaque;
    return off <= sizeof(ram) && len <= sizeof(ram) - off ? ram + off : NULL;
}

/*
 * The file read through its descriptor (as a restore does): the state
 * once, then the pages straight into RAM with the checksum over them. A
 * file shrunk after its size was taken, or a page changed, is an error.
 */
static void test_read_file(void **state)
{
    struct snap_image img;
    size_t len;
    uint8_t *buf = build(GOOD, &len);
    int fd = memfd_create("snap", 0);
    struct snap_src src = {NULL, fd, len};

    (void)state;
    assert_int_equal(pwrite(fd, buf, len, 0), (ssize_t)len);
    assert_int_equal(snapfile_read(&src, "test.snap", &img), 0);
    memset(ram, 0, sizeof(ram));
    assert_int_equal(
        snapfile_load_memory(&img, &src, "test.snap", to_ram, NULL), 0);
    assert_int_equal(ram[0x2000], 0xab);

    /* A page byte changed since: the checksum, over what was copied. */
    assert_int_equal(pwrite(fd, "\x5a", 1, (off_t)img.ext[0].file_off), 1);
    assert_int_equal(
        snapfile_load_memory(&img, &src, "test.snap", to_ram, NULL), -EINVAL);
    assert_non_null(strstr(kvmrun_last_error(), "checksum mismatch"));

    /* Shrunk since: a short read, an error. */
    assert_int_equal(ftruncate(fd, (off_t)img.ext[0].file_off + 100), 0);
    assert_int_equal(
        snapfile_load_memory(&img, &src, "test.snap", to_ram, NULL), -EIO);
    assert_non_null(strstr(kvmrun_last_error(),
                           "test.snap: the file shrank while it was read"));
    snapfile_free(&img);
    assert_int_equal(snapfile_read(&src, "test.snap", &img), -EIO);
    close(fd);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_every_bit_flip),
        cmocka_unit_test(test_read_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
