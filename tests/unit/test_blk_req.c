/* test_blk_req.c: unit tests of the virtio-blk request parser
 * (src/virtio/blk_req.c): chains as vq_pop() gives them, built by hand. */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "virtio/blk_req.h"

#define CAP 16
#define DISK (1ULL << 30)

struct fx {
    struct vblk_limits lim;
    struct iovec iov[CAP], data[CAP];
    struct vq_chain c;
    struct vblk_req req;
    uint8_t hdr[16], mem[65536], status[4];
};

static struct fx fx;

static void reset(void)
{
    memset(&fx, 0, sizeof(fx));
    fx.lim = (struct vblk_limits){.capacity = DISK,
                                  .blk_size = 512,
                                  .seg_max = 8,
                                  .size_max = 8192,
                                  .max_discard_sectors = 1024,
                                  .max_write_zeroes_sectors = 2048,
                                  .discard = true,
                                  .write_zeroes = true};
    memcpy(fx.lim.serial, "SERIAL-1", 8);
    fx.c.iov = fx.iov;
    fx.c.cap = CAP;
    fx.status[0] = 0xee;
}

static void header(uint32_t type, uint64_t sector)
{
    uint32_t t = htole32(type);
    uint64_t s = htole64(sector);

    memcpy(fx.hdr, &t, 4);
    memset(fx.hdr + 4, 0, 4);
    memcpy(fx.hdr + 8, &s, 8);
}

/* Appends a segment (readable ones first, as vq_pop() does). */
static void seg(void *p, size_t len, bool write)
{
    fx.iov[fx.c.nread + fx.c.nwrite] = (struct iovec){p, len};
    if (write) {
        fx.c.nwrite++;
        fx.c.write_len += len;
    } else {
        fx.c.nread++;
        fx.c.read_len += len;
    }
}

static void parse(void)
{
    vblk_req_parse(&fx.lim, &fx.c, fx.data, CAP, &fx.req);
}

static void expect_done(uint8_t status)
{
    parse();
    assert_int_equal(fx.req.kind, VBLK_REQ_DONE);
    if (fx.req.status != status)
        fail_msg("status %u (%s), not %u", fx.req.status,
                 fx.req.why ? fx.req.why : "", status);
    assert_int_equal(vblk_req_finish(&fx.lim, &fx.req, fx.req.status),
                     fx.c.write_len);
    assert_int_equal(*fx.req.status_ptr, status);
}

/* The usual layout: header, data segments, status. */
static void test_read(void **state)
{
    (void)state;
    reset();
    header(VIRTIO_BLK_T_IN, 8);
    seg(fx.hdr, 16, false);
    seg(fx.mem, 4096, true);
    seg(fx.mem + 8192, 512, true);
    seg(fx.status, 1, true);
    parse();
    assert_int_equal(fx.req.kind, VBLK_REQ_IO);
    assert_int_equal(fx.req.op, BLKIO_READ);
    assert_int_equal(fx.req.offset, 4096);
    assert_int_equal(fx.req.len, 4608);
    assert_int_equal(fx.req.ndata, 2);
    assert_ptr_equal(fx.req.data[0].iov_base, fx.mem);
    assert_int_equal(fx.req.data[1].iov_len, 512);
    assert_ptr_equal(fx.req.status_ptr, fx.status);
    assert_int_equal(vblk_req_finish(&fx.lim, &fx.req, VIRTIO_BLK_S_OK), 4609);
    assert_int_equal(fx.status[0], VIRTIO_BLK_S_OK);
}

/* ANY_LAYOUT: header and data in one readable buffer; for a read, data
 * and status in one writable buffer. */
static void test_any_layout(void **state)
{
    (void)state;
    reset();
    header(VIRTIO_BLK_T_OUT, 1);
    memcpy(fx.mem, fx.hdr, 16);
    seg(fx.mem, 16 + 1024, false);
    seg(fx.status, 1, true);
    parse();
    assert_int_equal(fx.req.kind, VBLK_REQ_IO);
    assert_int_equal(fx.req.op, BLKIO_WRITE);
    assert_int_equal(fx.req.offset, 512);
    assert_int_equal(fx.req.ndata, 1);
    assert_ptr_equal(fx.req.data[0].iov_base, fx.mem + 16);
    assert_int_equal(fx.req.data[0].iov_len, 1024);
    /* the header split over two buffers, status after the data */
    reset();
    header(VIRTIO_BLK_T_IN, 2);
    seg(fx.hdr, 5, false);
    seg(fx.hdr + 5, 11, false);
    seg(fx.mem, 512 + 1, true);
    parse();
    assert_int_equal(fx.req.kind, VBLK_REQ_IO);
    assert_int_equal(fx.req.offset, 1024);
    assert_int_equal(fx.req.len, 512);
    assert_ptr_equal(fx.req.status_ptr, fx.mem + 512);
}

/* The header is copied once: what the parser saw is what it uses. */
static void test_header_checks(void **state)
{
    (void)state;
    reset();
    seg(fx.hdr, 15, false);
    seg(fx.status, 1, true);
    expect_done(VIRTIO_BLK_S_IOERR); /* header too short */
    reset();
    header(VIRTIO_BLK_T_IN, 0);
    seg(fx.hdr, 16, false);
    parse();
    assert_int_equal(fx.req.kind, VBLK_REQ_BAD); /* nowhere for a status */
    reset();
    header(99, 0);
    seg(fx.hdr, 16, false);
    seg(fx.status, 1, true);
    expect_done(VIRTIO_BLK_S_UNSUPP);
    reset();
    header(VIRTIO_BLK_T_IN | 0x80000000u, 0); /* legacy barrier bit */
    seg(fx.hdr, 16, false);
    seg(fx.status, 1, true);
    expect_done(VIRTIO_BLK_S_UNSUPP);
}

/* Bounds, overflow, alignment, seg_max and size_max. */
static void test_rw_limits(void **state)
{
    static const struct {
        uint64_t sector;
        size_t len;
        uint8_t status;
    } cases[] = {
        {DISK / 512 - 1, 512, VIRTIO_BLK_S_OK},          /* the last sector */
        {DISK / 512 - 1, 1024, VIRTIO_BLK_S_IOERR},      /* one past */
        {DISK / 512, 512, VIRTIO_BLK_S_IOERR},           /* at the end */
        {DISK / 512, 0, VIRTIO_BLK_S_OK},                /* empty, at the end */
        {UINT64_MAX / 512 + 1, 512, VIRTIO_BLK_S_IOERR}, /* * 512 wraps */
        {UINT64_MAX, 512, VIRTIO_BLK_S_IOERR},
        {0, 100, VIRTIO_BLK_S_IOERR}, /* not a sector multiple */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        reset();
        header(VIRTIO_BLK_T_IN, cases[i].sector);
        seg(fx.hdr, 16, false);
        if (cases[i].len)
            seg(fx.mem, cases[i].len, true);
        seg(fx.status, 1, true);
        parse();
        if (cases[i].status == VIRTIO_BLK_S_OK && cases[i].len) {
            assert_int_equal(fx.req.kind, VBLK_REQ_IO);
            continue;
        }
        assert_int_equal(fx.req.kind, VBLK_REQ_DONE);
        if (fx.req.status != cases[i].status)
            fail_msg("case %zu: status %u", i, fx.req.status);
    }
    /* 9 data segments, seg_max 8 */
    reset();
    header(VIRTIO_BLK_T_OUT, 0);
    seg(fx.hdr, 16, false);
    for (int i = 0; i < 9; i++)
        seg(fx.mem + i * 512, 512, false);
    seg(fx.status, 1, true);
    expect_done(VIRTIO_BLK_S_IOERR);
    /* a segment above size_max */
    reset();
    header(VIRTIO_BLK_T_OUT, 0);
    seg(fx.hdr, 16, false);
    seg(fx.mem, 8192 + 512, false);
    seg(fx.status, 1, true);
    expect_done(VIRTIO_BLK_S_IOERR);
    /* blk_size 4096: 4 KiB-aligned sectors and lengths only */
    reset();
    fx.lim.blk_size = 4096;
    header(VIRTIO_BLK_T_IN, 4);
    seg(fx.hdr, 16, false);
    seg(fx.mem, 4096, true);
    seg(fx.status, 1, true);
    expect_done(VIRTIO_BLK_S_IOERR);
    reset();
    fx.lim.blk_size = 4096;
    header(VIRTIO_BLK_T_IN, 8);
    seg(fx.hdr, 16, false);
    seg(fx.mem, 4096, true);
    seg(fx.status, 1, true);
    parse();
    assert_int_equal(fx.req.kind, VBLK_REQ_IO);
}

/* A read-only disk refuses writes, discards and write-zeroes with
 * IOERR; flushes and reads go on. */
static void test_read_only(void **state)
{
    static const uint32_t types[] = {VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_DISCARD,
                                     VIRTIO_BLK_T_WRITE_ZEROES};
    struct virtio_blk_discard_write_zeroes dz = {htole64(0), htole32(1), 0};

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        reset();
        fx.lim.ro = true;
        header(types[i], 0);
        seg(fx.hdr, 16, false);
        if (types[i] == VIRTIO_BLK_T_OUT)
            seg(fx.mem, 512, false);
        else
            seg(&dz, 16, false);
        seg(fx.status, 1, true);
        expect_done(VIRTIO_BLK_S_IOERR);
    }
    reset();
    fx.lim.ro = true;
    header(VIRTIO_BLK_T_FLUSH, 0);
    seg(fx.hdr, 16, false);
    seg(fx.status, 1, true);
    parse();
    assert_int_equal(fx.req.kind, VBLK_REQ_IO);
    assert_int_equal(fx.req.op, BLKIO_FLUSH);
}

/* GET_ID: 20 bytes, NUL-padded; a shorter buffer gets what fits. */
static void test_get_id(void **state)
{
    uint8_t want[20] = "SERIAL-1";

    (void)state;
    reset();
    header(VIRTIO_BLK_T_GET_ID, 0);
    seg(fx.hdr, 16, false);
    memset(fx.mem, 0xff, 64);
    seg(fx.mem, 20, true);
    seg(fx.status, 1, true);
    expect_done(VIRTIO_BLK_S_OK);
    assert_memory_equal(fx.mem, want, 20);
    assert_int_equal(fx.mem[20], 0xff);
    reset();
    memcpy(fx.lim.serial, "01234567890123456789", 20);
    header(VIRTIO_BLK_T_GET_ID, 0);
    seg(fx.hdr, 16, false);
    memset(fx.mem, 0xff, 64);
    seg(fx.mem, 3, true);
    seg(fx.mem + 10, 30, true); /* 17 of them, then the status */
    parse();
    assert_int_equal(vblk_req_finish(&fx.lim, &fx.req, VIRTIO_BLK_S_OK), 33);
    assert_memory_equal(fx.mem, "012", 3);
    assert_memory_equal(fx.mem + 10, "34567890123456789", 17);
    assert_int_equal(fx.mem[27], 0xff);
    assert_int_equal(fx.mem[39], VIRTIO_BLK_S_OK);
}

static void zero_req(uint32_t type, uint64_t sector, uint32_t num,
                     uint32_t flags)
{
    struct virtio_blk_discard_write_zeroes dz = {htole64(sector), htole32(num),
                                                 htole32(flags)};

    reset();
    header(type, 0);
    memcpy(fx.mem, &dz, sizeof(dz));
    seg(fx.hdr, 16, false);
    seg(fx.mem, 16, false);
    seg(fx.status, 1, true);
}

static void test_discard_write_zeroes(void **state)
{
    (void)state;
    zero_req(VIRTIO_BLK_T_DISCARD, 8, 16, 0);
    parse();
    assert_int_equal(fx.req.kind, VBLK_REQ_IO);
    assert_int_equal(fx.req.op, BLKIO_DISCARD);
    assert_int_equal(fx.req.offset, 4096);
    assert_int_equal(fx.req.len, 8192);
    zero_req(VIRTIO_BLK_T_WRITE_ZEROES, 0, 2048,
             VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
    parse();
    assert_int_equal(fx.req.kind, VBLK_REQ_IO);
    assert_int_equal(fx.req.op, BLKIO_WRITE_ZEROES);
    assert_int_equal(fx.req.flags, BLKIO_UNMAP);
    /* UNMAP on a discard, unknown flags: UNSUPP */
    zero_req(VIRTIO_BLK_T_DISCARD, 0, 1, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
    expect_done(VIRTIO_BLK_S_UNSUPP);
    zero_req(VIRTIO_BLK_T_WRITE_ZEROES, 0, 1, 2);
    expect_done(VIRTIO_BLK_S_UNSUPP);
    /* over the limits, past the end, overflowing */
    zero_req(VIRTIO_BLK_T_DISCARD, 0, 1025, 0);
    expect_done(VIRTIO_BLK_S_IOERR);
    zero_req(VIRTIO_BLK_T_WRITE_ZEROES, DISK / 512 - 1, 2, 0);
    expect_done(VIRTIO_BLK_S_IOERR);
    zero_req(VIRTIO_BLK_T_WRITE_ZEROES, UINT64_MAX - 1, 2, 0);
    expect_done(VIRTIO_BLK_S_IOERR);
    zero_req(VIRTIO_BLK_T_DISCARD, 0, 0, 0);
    expect_done(VIRTIO_BLK_S_OK);
    /* not negotiated */
    zero_req(VIRTIO_BLK_T_DISCARD, 0, 1, 0);
    fx.lim.discard = false;
    expect_done(VIRTIO_BLK_S_UNSUPP);
    zero_req(VIRTIO_BLK_T_WRITE_ZEROES, 0, 1, 0);
    fx.lim.write_zeroes = false;
    expect_done(VIRTIO_BLK_S_UNSUPP);
    /* two segments (max_*_seg is 1), or a partial one */
    reset();
    header(VIRTIO_BLK_T_DISCARD, 0);
    seg(fx.hdr, 16, false);
    seg(fx.mem, 32, false);
    seg(fx.status, 1, true);
    expect_done(VIRTIO_BLK_S_IOERR);
    reset();
    header(VIRTIO_BLK_T_DISCARD, 0);
    seg(fx.hdr, 16, false);
    seg(fx.mem, 8, false);
    seg(fx.status, 1, true);
    expect_done(VIRTIO_BLK_S_IOERR);
    /* the segment split across buffers, header in the same one */
    reset();
    header(VIRTIO_BLK_T_WRITE_ZEROES, 0);
    {
        struct virtio_blk_discard_write_zeroes dz = {htole64(2), htole32(3), 0};

        memcpy(fx.mem, fx.hdr, 16);
        memcpy(fx.mem + 16, &dz, 16);
    }
    seg(fx.mem, 20, false);
    seg(fx.mem + 20, 12, false);
    seg(fx.status, 1, true);
    parse();
    assert_int_equal(fx.req.kind, VBLK_REQ_IO);
    assert_int_equal(fx.req.offset, 1024);
    assert_int_equal(fx.req.len, 1536);
}

static void test_status_of_result(void **state)
{
    (void)state;
    assert_int_equal(vblk_req_status(0), VIRTIO_BLK_S_OK);
    assert_int_equal(vblk_req_status(-EIO), VIRTIO_BLK_S_IOERR);
    assert_int_equal(vblk_req_status(-ENOSPC), VIRTIO_BLK_S_IOERR);
    assert_int_equal(vblk_req_status(-EOPNOTSUPP), VIRTIO_BLK_S_UNSUPP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read),
        cmocka_unit_test(test_any_layout),
        cmocka_unit_test(test_header_checks),
        cmocka_unit_test(test_rw_limits),
        cmocka_unit_test(test_read_only),
        cmocka_unit_test(test_get_id),
        cmocka_unit_test(test_discard_write_zeroes),
        cmocka_unit_test(test_status_of_result),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
