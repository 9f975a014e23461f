/* test_virtqueue.c: unit tests of the split virtqueue (src/virtio). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "kvmrun.h"
#include "mem.h"
#include "virtio/virtqueue.h"
#include "vring_driver.h"

#include <linux/virtio_config.h>

#define RAM (2ULL << 20)
#define DESC 0x10000ULL
#define AVAIL 0x20000ULL
#define USED 0x30000ULL
#define BUF 0x40000ULL  /* buffers, 4 KiB apart */
#define ITAB 0x80000ULL /* indirect tables */
#define NUM 16
#define ALL_RING_FEATURES                                                      \
    (1ULL << VIRTIO_RING_F_INDIRECT_DESC | 1ULL << VIRTIO_RING_F_EVENT_IDX)

struct fx {
    struct guest_mem mem;
    struct vq vq;
    struct vdrv drv;
    struct iovec iov[64];
    struct vq_chain chain;
    uint8_t *copy; /* guest RAM before a failed pop */
};

static struct fx *fx_of(void **state)
{
    return *state;
}

static int group_setup(void **state)
{
    static struct fx fx;

    if (mem_init(&fx.mem, RAM))
        return -1;
    fx.copy = malloc(RAM);
    *state = &fx;
    return fx.copy ? 0 : -1;
}

static int group_teardown(void **state)
{
    struct fx *fx = *state;

    mem_fini(&fx->mem);
    free(fx->copy);
    return 0;
}

/* A queue of num entries at DESC/AVAIL/USED, features given, started. */
static void fx_start(struct fx *fx, uint32_t num, uint64_t features)
{
    memset(fx->mem.map, 0, RAM);
    vq_init(&fx->vq, 3);
    fx->vq.num = num;
    fx->vq.desc_gpa = DESC;
    fx->vq.avail_gpa = AVAIL;
    fx->vq.used_gpa = USED;
    vq_set_features(&fx->vq, features);
    assert_int_equal(vq_start(&fx->vq, &fx->mem), 0);
    assert_true(fx->vq.ready);
    fx->drv = (struct vdrv){&fx->mem, num, DESC, AVAIL, USED, 0};
    fx->chain = (struct vq_chain){.iov = fx->iov, .cap = 64};
}

static int setup(void **state)
{
    fx_start(fx_of(state), NUM, ALL_RING_FEATURES);
    return 0;
}

static uint8_t *host(struct fx *fx, uint64_t gpa)
{
    return (uint8_t *)fx->mem.map + gpa;
}

static void assert_iov(struct fx *fx, unsigned i, uint64_t gpa, size_t len)
{
    assert_ptr_equal(fx->iov[i].iov_base, host(fx, gpa));
    assert_int_equal(fx->iov[i].iov_len, len);
}

static void assert_error(const char *what)
{
    if (!strstr(kvmrun_last_error(), what))
        fail_msg("error \"%s\" does not say \"%s\"", kvmrun_last_error(), what);
}

/* --- vq_start ----------------------------------------------------------- */

static void test_start_checks_size(void **state)
{
    static const uint32_t bad[] = {0, 3, 6, 100, 32769, 65536, 0x80000000};
    struct fx *fx = fx_of(state);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fx->vq.num = bad[i];
        assert_int_equal(vq_start(&fx->vq, &fx->mem), -EINVAL);
        assert_false(fx->vq.ready);
        assert_error("not a power of two");
    }
    for (uint32_t n = 1; n <= 32768; n *= 2) {
        fx->vq.num = n;
        fx->vq.desc_gpa = 0;
        fx->vq.avail_gpa = 0x80000;
        fx->vq.used_gpa = 0x90000;
        assert_int_equal(vq_start(&fx->vq, &fx->mem), 0);
    }
}

static void test_start_checks_areas(void **state)
{
    static const struct {
        uint64_t desc, avail, used;
        int rc;
        const char *msg;
    } cases[] = {
        {DESC + 8, AVAIL, USED, -EINVAL,
         "descriptor table at 0x10008 is not 16"},
        {DESC, AVAIL + 1, USED, -EINVAL, "available ring at 0x20001 is not 2"},
        {DESC, AVAIL, USED + 2, -EINVAL, "used ring at 0x30002 is not 4"},
        {RAM - 16 * NUM + 16, AVAIL, USED, -EFAULT, "descriptor table"},
        {DESC, RAM - 2, USED, -EFAULT, "available ring at 0x1ffffe"},
        {DESC, AVAIL, RAM - 132, -EFAULT, "used ring at 0x1fff7c"},
        {DESC, AVAIL, RAM, -EFAULT, "not in guest RAM"},
        {DESC, AVAIL, 0xfffffffffffffff0ULL, -EFAULT, "used ring"},
        {0xfffffffffffffff0ULL, AVAIL, USED, -EFAULT, "descriptor table"},
    };
    struct fx *fx = fx_of(state);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fx->vq.desc_gpa = cases[i].desc;
        fx->vq.avail_gpa = cases[i].avail;
        fx->vq.used_gpa = cases[i].used;
        assert_int_equal(vq_start(&fx->vq, &fx->mem), cases[i].rc);
        assert_false(fx->vq.ready);
        assert_error(cases[i].msg);
        assert_int_equal(vq_pop(&fx->vq, &fx->chain), -EIO);
        assert_int_equal(vq_push(&fx->vq, 0, 0), -EINVAL);
        assert_false(vq_need_notify(&fx->vq));
    }
    /* The areas exactly at the end of RAM are fine. */
    fx->vq.desc_gpa = RAM - 16 * NUM;
    fx->vq.avail_gpa = RAM - 16 * NUM - (6 + 2 * NUM);
    fx->vq.used_gpa = RAM - 16 * NUM - 4096;
    assert_int_equal(vq_start(&fx->vq, &fx->mem), 0);
}

/* --- popping and pushing ------------------------------------------------ */

static void test_pop_empty(void **state)
{
    struct fx *fx = fx_of(state);

    assert_int_equal(vq_pop(&fx->vq, &fx->chain), 0);
    assert_int_equal(vq_pop(&fx->vq, &fx->chain), 0);
    assert_int_equal(vq_push(&fx->vq, 0, 0), -EINVAL); /* none taken */
    assert_error("more chains than were taken");
}

static void test_pop_chain(void **state)
{
    struct fx *fx = fx_of(state);

    /* A blk-like request: header, data (readable), status (writable),
     * in descriptors 5 -> 9 -> 2. */
    vdrv_desc(&fx->drv, 5, BUF, 16, VRING_DESC_F_NEXT, 9);
    vdrv_desc(&fx->drv, 9, BUF + 0x1000, 4096, VRING_DESC_F_NEXT, 2);
    vdrv_desc(&fx->drv, 2, BUF + 0x3000, 1, VRING_DESC_F_WRITE, 0);
    vdrv_post(&fx->drv, 5);
    assert_int_equal(vq_pop(&fx->vq, &fx->chain), 1);
    assert_int_equal(fx->chain.head, 5);
    assert_int_equal(fx->chain.nread, 2);
    assert_int_equal(fx->chain.nwrite, 1);
    assert_int_equal(fx->chain.read_len, 16 + 4096);
    assert_int_equal(fx->chain.write_len, 1);
    assert_int_equal(fx->chain.ndesc, 3);
    assert_iov(fx, 0, BUF, 16);
    assert_iov(fx, 1, BUF + 0x1000, 4096);
    assert_iov(fx, 2, BUF + 0x3000, 1);
    assert_int_equal(vq_pop(&fx->vq, &fx->chain), 0);

    assert_int_equal(vq_push(&fx->vq, 5, 1), 0);
    uint32_t id, len;
    vdrv_used_elem(&fx->drv, 0, &id, &len);
    assert_int_equal(id, 5);
    assert_int_equal(len, 1);
    assert_int_equal(vdrv_used_idx(&fx->drv), 1);
    assert_int_equal(vq_push(&fx->vq, 5, 1), -EINVAL); /* only one taken */
}

static void test_pop_full_queue_chain(void **state)
{
    struct fx *fx = fx_of(state);

    /* One chain through all NUM descriptors: the longest legal one. */
    for (unsigned i = 0; i < NUM; i++)
        vdrv_desc(&fx->drv, i, BUF + i * 0x100, 0x100,
                  i + 1 < NUM ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
    vdrv_post(&fx->drv, 0);
    assert_int_equal(vq_pop(&fx->vq, &fx->chain), 1);
    assert_int_equal(fx->chain.nread, NUM);
    assert_int_equal(fx->chain.read_len, NUM * 0x100);
}

static void test_pop_only_writable(void **state)
{
    struct fx *fx = fx_of(state);

    vdrv_desc(&fx->drv, 0, BUF, 64, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
    vdrv_desc(&fx->drv, 1, BUF + 64, 64, VRING_DESC_F_WRITE, 0);
    vdrv_post(&fx->drv, 0);
    assert_int_equal(vq_pop(&fx->vq, &fx->chain), 1);
    assert_int_equal(fx->chain.nread, 0);
    assert_int_equal(fx->chain.nwrite, 2);
    assert_int_equal(fx->chain.write_len, 128);
}

static void test_several_in_flight(void **state)
{
    struct fx *fx = fx_of(state);
    uint32_t id, len;

    for (unsigned i = 0; i < NUM; i++) {
        vdrv_desc(&fx->drv, i, BUF + i * 0x100, 0x100, VRING_DESC_F_WRITE, 0);
        vdrv_post(&fx->drv, (uint16_t)(NUM - 1 - i));
    }
    for (unsigned i = 0; i < NUM; i++) {
        assert_int_equal(vq_pop(&fx->vq, &fx->chain), 1);
        assert_int_equal(fx->chain.head, NUM - 1 - i);
    }
    assert_int_equal(vq_pop(&fx->vq, &fx->chain), 0);
    /* Returned out of order, as a block device may complete them. */
    for (unsigned i = 0; i < NUM; i++)
        assert_int_equal(vq_push(&fx->vq, (uint16_t)i, i), 0);
    assert_int_equal(vq_push(&fx->vq, 0, 0), -EINVAL);
    assert_int_equal(vq_push(&fx->vq, NUM, 0), -EINVAL);
    for (unsigned i = 0; i < NUM; i++) {
        vdrv_used_elem(&fx->drv, (uint16_t)i, &id, &len);
        assert_int_equal(id, i);
        assert_int_equal(len, i);
    }
    assert_int_equal(vdrv_used_idx(&fx->drv), NUM);
}

/* The 16-bit indices wrap at 65536, not at the queue size. */
static void test_index_wraparound(void **state)
{
    struct fx *fx = fx_of(state);
    uint32_t id, len;

    fx_start(fx, 4, 0);
    for (unsigned i = 0; i < 4; i++)
        vdrv_desc(&fx->drv, i, BUF + i * 0x100, 0x100, VRING_DESC_F_WRITE, 0);
    for (unsigned n = 0; n < 70000; n++) {
        uint16_t head = (uint16_t)(n % 4);

        vdrv_post(&fx->drv, head);
        assert_int_equal(vq_pop(&fx->vq, &fx->chain), 1);
        assert_int_equal(fx->chain.head, head);
        assert_int_equal(vq_push(&fx->vq, head, n), 0);
        assert_int_equal(vdrv_used_idx(&fx->drv), (uint16_t)(n + 1));
        vdrv_used_elem(&fx->drv, (uint16_t)n, &id, &len);
        assert_int_equal(id, head);
        assert_int_equal(len, n);
    }
    assert_int_equal(fx->vq.last_avail_idx, (uint16_t)70000);
}

/* A full ring across the wrap: indices 65534 .. 65534 + 4. */
static void test_full_ring_across_wrap(void **state)
{
    struct fx *fx = fx_of(state);
    struct vq_state st;

    fx_start(fx, 4, 0);
    vq_save(&fx->vq, &st);
    st.last_avail_idx = st.used_idx = 65534;
    assert_int_equal(vq_restore(&fx->vq, &fx->mem, &st), 0);
    vdrv_set_avail_idx(&fx->drv, 65534);
    for (unsigned i = 0; i < 4; i++) {
        vdrv_desc(&fx->drv, i, BUF + i * 0x100, 0x100, 0, 0);
        vdrv_post(&fx->drv, (uint16_t)i);
    }
    assert_int_equal(vdrv_get16(&fx->drv, AVAIL + 2), 2);
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(vq_pop(&fx->vq, &fx->chain), 1);
        assert_int_equal(fx->chain.head, i);
    }
    assert_int_equal(vq_pop(&fx->vq, &fx->chain), 0);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(vq_push(&fx->vq, (uint16_t)i, 0), 0);
    assert_int_equal(vdrv_used_idx(&fx->drv), 2);
}

/* --- indirect descriptors ----------------------------------------------- */

static void test_indirect_chain(void **state)
{
    struct fx *fx = fx_of(state);

    /* Direct header descriptor, then an indirect table of three (the
     * WRITE flag on the indirect descriptor itself is ignored). */
    vdrv_desc(&fx->drv, 7, BUF, 16, VRING_DESC_F_NEXT, 8);
    vdrv_desc(&fx->drv, 8, ITAB, 3 * 16,
              VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
    vdrv_desc_at(&fx->drv, ITAB, 0, BUF + 0x1000, 512, VRING_DESC_F_NEXT, 2);
    vdrv_desc_at(&fx->drv, ITAB, 2, BUF + 0x2000, 512,
                 VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
    vdrv_desc_at(&fx->drv, ITAB, 1, BUF + 0x3000, 1, VRING_DESC_F_WRITE, 0);
    vdrv_post(&fx->drv, 7);
    assert_int_equal(vq_pop(&fx->vq, &fx->chain), 1);
    assert_int_equal(fx->chain.head, 7);
    assert_int_equal(fx->chain.nread, 2);
    assert_int_equal(fx->chain.nwrite, 2);
    assert_int_equal(fx->chain.ndesc, 5);
    assert_int_equal(fx->chain.read_len, 16 + 512);
    assert_int_equal(fx->chain.write_len, 513);
    assert_iov(fx, 0, BUF, 16);
    assert_iov(fx, 1, BUF + 0x1000, 512);
    assert_iov(fx, 2, BUF + 0x2000, 512);
    assert_iov(fx, 3, BUF + 0x3000, 1);
    assert_int_equal(vq_push(&fx->vq, 7, 513), 0);
}

/* An indirect table may hold more descriptors than the queue. */
static void test_indirect_longer_than_queue(void **state)
{
    struct fx *fx = fx_of(state);

    for (unsigned i = 0; i < 40; i++)
        vdrv_desc_at(&fx->drv, ITAB, i, BUF + i, 1,
                     i + 1 < 40 ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
    vdrv_desc(&fx->drv, 0, ITAB, 40 * 16, VRING_DESC_F_INDIRECT, 0);
    vdrv_post(&fx->drv, 0);
    assert_int_equal(vq_pop(&fx->vq, &fx->chain), 1);
    assert_int_equal(fx->chain.nread, 40);
}

/* --- malformed rings ---------------------------------------------------- */

struct bad_ring {
    const char *name;
    void (*lay)(struct fx *fx);
    int rc;
    const char *msg;
};

static void lay_loop(struct fx *fx)
{
    vdrv_desc(&fx->drv, 0, BUF, 8, VRING_DESC_F_NEXT, 1);
    vdrv_desc(&fx->drv, 1, BUF, 8, VRING_DESC_F_NEXT, 0);
    vdrv_post(&fx->drv, 0);
}

static void lay_self_loop(struct fx *fx)
{
    vdrv_desc(&fx->drv, 4, BUF, 8, VRING_DESC_F_NEXT, 4);
    vdrv_post(&fx->drv, 4);
}

/* NUM + 1 descriptors reached through a loop at the end. */
static void lay_longer_than_queue(struct fx *fx)
{
    for (unsigned i = 0; i < NUM; i++)
        vdrv_desc(&fx->drv, i, BUF, 8, VRING_DESC_F_NEXT, (i + 1) % NUM);
    vdrv_post(&fx->drv, 0);
}

static void lay_out_of_ram(struct fx *fx)
{
    vdrv_desc(&fx->drv, 0, RAM, 8, 0, 0);
    vdrv_post(&fx->drv, 0);
}

static void lay_past_ram_end(struct fx *fx)
{
    vdrv_desc(&fx->drv, 0, RAM - 8, 16, VRING_DESC_F_WRITE, 0);
    vdrv_post(&fx->drv, 0);
}

static void lay_huge_len(struct fx *fx)
{
    vdrv_desc(&fx->drv, 0, BUF, 0xffffffff, VRING_DESC_F_WRITE, 0);
    vdrv_post(&fx->drv, 0);
}

static void lay_addr_wraps(struct fx *fx)
{
    vdrv_desc(&fx->drv, 0, 0xfffffffffffffff8ULL, 16, 0, 0);
    vdrv_post(&fx->drv, 0);
}

static void lay_zero_len(struct fx *fx)
{
    vdrv_desc(&fx->drv, 0, BUF, 8, VRING_DESC_F_NEXT, 1);
    vdrv_desc(&fx->drv, 1, BUF, 0, VRING_DESC_F_WRITE, 0);
    vdrv_post(&fx->drv, 0);
}

static void lay_chain_over_4g(struct fx *fx)
{
    vdrv_desc(&fx->drv, 0, BUF, 4096, VRING_DESC_F_NEXT, 1);
    vdrv_desc(&fx->drv, 1, BUF, 0xffffffff, VRING_DESC_F_WRITE, 0);
    vdrv_post(&fx->drv, 0);
}

static void lay_read_after_write(struct fx *fx)
{
    vdrv_desc(&fx->drv, 0, BUF, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
    vdrv_desc(&fx->drv, 1, BUF + 8, 8, 0, 0);
    vdrv_post(&fx->drv, 0);
}

static void lay_next_past_table(struct fx *fx)
{
    vdrv_desc(&fx->drv, 0, BUF, 8, VRING_DESC_F_NEXT, NUM);
    vdrv_post(&fx->drv, 0);
}

static void lay_head_past_table(struct fx *fx)
{
    vdrv_post(&fx->drv, NUM);
}

static void lay_head_65535(struct fx *fx)
{
    vdrv_post(&fx->drv, 0xffff);
}

static void lay_avail_jump(struct fx *fx)
{
    vdrv_desc(&fx->drv, 0, BUF, 8, 0, 0);
    vdrv_set_avail_idx(&fx->drv, NUM + 1);
}

static void lay_avail_backwards(struct fx *fx)
{
    vdrv_set_avail_idx(&fx->drv, 0xffff); /* 65535 ahead of 0 */
}

static void lay_indirect(struct fx *fx, uint64_t table, uint32_t len,
                         uint16_t flags)
{
    vdrv_desc(&fx->drv, 0, table, len, VRING_DESC_F_INDIRECT | flags, 1);
    vdrv_desc(&fx->drv, 1, BUF, 8, 0, 0);
    vdrv_post(&fx->drv, 0);
}

static void lay_nested_indirect(struct fx *fx)
{
    vdrv_desc_at(&fx->drv, ITAB, 0, BUF, 8, VRING_DESC_F_NEXT, 1);
    vdrv_desc_at(&fx->drv, ITAB, 1, ITAB + 0x100, 16, VRING_DESC_F_INDIRECT, 0);
    vdrv_desc_at(&fx->drv, ITAB + 0x100, 0, BUF, 8, 0, 0);
    lay_indirect(fx, ITAB, 32, 0);
}

static void lay_indirect_next(struct fx *fx)
{
    vdrv_desc_at(&fx->drv, ITAB, 0, BUF, 8, 0, 0);
    lay_indirect(fx, ITAB, 16, VRING_DESC_F_NEXT);
}

static void lay_indirect_len_24(struct fx *fx)
{
    vdrv_desc_at(&fx->drv, ITAB, 0, BUF, 8, 0, 0);
    lay_indirect(fx, ITAB, 24, 0);
}

static void lay_indirect_len_0(struct fx *fx)
{
    lay_indirect(fx, ITAB, 0, 0);
}

static void lay_indirect_huge(struct fx *fx)
{
    lay_indirect(fx, ITAB, 16 * (VQ_MAX_INDIRECT + 1), 0);
}

static void lay_indirect_out_of_ram(struct fx *fx)
{
    lay_indirect(fx, RAM - 16, 32, 0);
}

static void lay_indirect_wraps(struct fx *fx)
{
    lay_indirect(fx, 0xfffffffffffffff0ULL, 32, 0);
}

static void lay_indirect_loop(struct fx *fx)
{
    vdrv_desc_at(&fx->drv, ITAB, 0, BUF, 8, VRING_DESC_F_NEXT, 1);
    vdrv_desc_at(&fx->drv, ITAB, 1, BUF, 8, VRING_DESC_F_NEXT, 0);
    lay_indirect(fx, ITAB, 32, 0);
}

static void lay_indirect_next_past(struct fx *fx)
{
    vdrv_desc_at(&fx->drv, ITAB, 0, BUF, 8, VRING_DESC_F_NEXT, 2);
    lay_indirect(fx, ITAB, 32, 0);
}

static void lay_indirect_bad_buffer(struct fx *fx)
{
    vdrv_desc_at(&fx->drv, ITAB, 0, RAM - 4, 8, 0, 0);
    lay_indirect(fx, ITAB, 16, 0);
}

static void lay_too_many_segments(struct fx *fx)
{
    fx->chain.cap = 2;
    vdrv_desc(&fx->drv, 0, BUF, 8, VRING_DESC_F_NEXT, 1);
    vdrv_desc(&fx->drv, 1, BUF, 8, VRING_DESC_F_NEXT, 2);
    vdrv_desc(&fx->drv, 2, BUF, 8, 0, 0);
    vdrv_post(&fx->drv, 0);
}

static const struct bad_ring bad_rings[] = {
    {"loop", lay_loop, -ELOOP, "descriptor 0: chain longer than its table"},
    {"self loop", lay_self_loop, -ELOOP, "descriptor 4: chain longer"},
    {"longer than the queue", lay_longer_than_queue, -ELOOP, "a loop"},
    {"out of RAM", lay_out_of_ram, -EFAULT, "descriptor 0: buffer not in"},
    {"past the end of RAM", lay_past_ram_end, -EFAULT, "not in guest RAM"},
    {"huge length", lay_huge_len, -EFAULT, "not in guest RAM"},
    {"address + length wraps", lay_addr_wraps, -EFAULT, "wraps past 2^64"},
    {"zero length", lay_zero_len, -EINVAL, "descriptor 1: zero-length"},
    {"chain over 4 GiB", lay_chain_over_4g, -EOVERFLOW, "longer than 2^32"},
    {"readable after writable", lay_read_after_write, -EINVAL,
     "device-readable buffer after a device-writable"},
    {"next past the table", lay_next_past_table, -EINVAL,
     "descriptor 16: index past the table"},
    {"head past the table", lay_head_past_table, -EINVAL,
     "names descriptor 16, past the queue size"},
    {"head 65535", lay_head_65535, -EINVAL, "names descriptor 65535"},
    {"avail idx jumps", lay_avail_jump, -EINVAL,
     "available index 17 is 17 entries past 0"},
    {"avail idx backwards", lay_avail_backwards, -EINVAL,
     "65535 entries past 0"},
    {"nested indirect", lay_nested_indirect, -EINVAL,
     "indirect descriptor 1 (table at 0x80000): INDIRECT inside"},
    {"indirect with NEXT", lay_indirect_next, -EINVAL,
     "both INDIRECT and NEXT"},
    {"indirect length 24", lay_indirect_len_24, -EINVAL, "multiple of 16"},
    {"indirect length 0", lay_indirect_len_0, -EINVAL, "multiple of 16"},
    {"indirect too long", lay_indirect_huge, -EINVAL, "longer than 32768"},
    {"indirect out of RAM", lay_indirect_out_of_ram, -EFAULT,
     "indirect table not in guest RAM"},
    {"indirect wraps", lay_indirect_wraps, -EFAULT, "wraps past 2^64"},
    {"indirect loop", lay_indirect_loop, -ELOOP,
     "indirect descriptor 0 (table at 0x80000): chain longer"},
    {"indirect next past", lay_indirect_next_past, -EINVAL,
     "indirect descriptor 2 (table at 0x80000): index past"},
    {"indirect bad buffer", lay_indirect_bad_buffer, -EFAULT,
     "indirect descriptor 0 (table at 0x80000): buffer not in"},
    {"too many segments", lay_too_many_segments, -E2BIG,
     "descriptor 2: more segments"},
};

static void test_malformed_rings(void **state)
{
    struct fx *fx = fx_of(state);

    for (size_t i = 0; i < sizeof(bad_rings) / sizeof(bad_rings[0]); i++) {
        const struct bad_ring *b = &bad_rings[i];

        fx_start(fx, NUM, ALL_RING_FEATURES);
        b->lay(fx);
        memcpy(fx->copy, fx->mem.map, RAM);
        int rc = vq_pop(&fx->vq, &fx->chain);
        if (rc != b->rc)
            fail_msg("%s: vq_pop gave %d, not %d (%s)", b->name, rc, b->rc,
                     kvmrun_last_error());
        if (!strstr(kvmrun_last_error(), b->msg))
            fail_msg("%s: \"%s\" does not say \"%s\"", b->name,
                     kvmrun_last_error(), b->msg);
        assert_true(strncmp(kvmrun_last_error(), "queue 3: ", 9) == 0);
        assert_null(strchr(kvmrun_last_error(), '\n'));
        /* Nothing written anywhere in guest RAM, nothing consumed. */
        if (memcmp(fx->copy, fx->mem.map, RAM))
            fail_msg("%s: a failed pop wrote to guest RAM", b->name);
        assert_int_equal(fx->vq.last_avail_idx, 0);
        assert_int_equal(fx->vq.used_idx, 0);
        /* Sticky until reset. */
        assert_int_equal(vq_pop(&fx->vq, &fx->chain), -EIO);
        assert_error("broken by an earlier error");
        vq_reset(&fx->vq);
        assert_false(fx->vq.broken);
        assert_int_equal(vq_pop(&fx->vq, &fx->chain), -EIO);
        assert_error("not ready");
    }
}

/* INDIRECT without the feature is an error, not a buffer. */
static void test_indirect_not_negotiated(void **state)
{
    struct fx *fx = fx_of(state);

    fx_start(fx, NUM, 1ULL << VIRTIO_RING_F_EVENT_IDX);
    vdrv_desc_at(&fx->drv, ITAB, 0, BUF, 8, 0, 0);
    lay_indirect(fx, ITAB, 16, 0);
    assert_int_equal(vq_pop(&fx->vq, &fx->chain), -EINVAL);
    assert_error("without VIRTIO_RING_F_INDIRECT_DESC");
}

/* Slots are not adjacent: a buffer across the end of the low slot covers
 * the MMIO hole and is refused; one in the high slot is fine. */
static void test_slot_boundary(void **state)
{
    struct guest_mem big;
    struct vq vq;
    struct vdrv d;
    struct iovec iov[4];
    struct vq_chain c = {.iov = iov, .cap = 4};

    (void)state;
    assert_int_equal(mem_init(&big, MEM_LOW_END + (8ULL << 20)), 0);
    assert_int_equal(big.nslots, 2);
    vq_init(&vq, 0);
    vq.num = 4;
    vq.desc_gpa = DESC;
    vq.avail_gpa = AVAIL;
    vq.used_gpa = USED;
    assert_int_equal(vq_start(&vq, &big), 0);
    d = (struct vdrv){&big, 4, DESC, AVAIL, USED, 0};
    vdrv_desc(&d, 0, MEM_HIGH_START, 4096, VRING_DESC_F_NEXT, 1);
    vdrv_desc(&d, 1, MEM_LOW_END - 4096, 4096, 0, 0);
    vdrv_post(&d, 0);
    assert_int_equal(vq_pop(&vq, &c), 1);
    assert_ptr_equal(iov[0].iov_base, mem_ptr(&big, MEM_HIGH_START, 1));
    assert_ptr_equal(iov[1].iov_base, mem_ptr(&big, MEM_LOW_END - 4096, 1));
    vdrv_desc(&d, 2, MEM_LOW_END - 16, 32, 0, 0);
    vdrv_post(&d, 2);
    assert_int_equal(vq_pop(&vq, &c), -EFAULT);
    assert_error("descriptor 2: buffer not in guest RAM");
    /* The same in the high slot's end. */
    vq_reset(&vq);
    vq.num = 4;
    vq.desc_gpa = DESC;
    vq.avail_gpa = AVAIL;
    vq.used_gpa = USED;
    assert_int_equal(vq_start(&vq, &big), 0);
    d.avail_idx = 0;
    vdrv_desc(&d, 3, MEM_HIGH_START + (8ULL << 20) - 8, 16, 0, 0);
    vdrv_post(&d, 3);
    assert_int_equal(vq_pop(&vq, &c), -EFAULT);
    mem_fini(&big);
}

/* --- notifications ------------------------------------------------------ */

/* vring_need_event(event, new, old): notify when the used index went past
 * event, i.e. event is in [old, new) modulo 2^16. Hand-computed from the
 * spec's rule, so that this also checks the uapi helper we use. */
static const struct {
    uint16_t event, new_idx, old;
    bool notify;
} need_event_cases[] = {
    {0, 1, 0, true},         {1, 1, 0, false},         {0, 2, 1, false},
    {1, 2, 1, true},         {3, 8, 3, true},          {5, 8, 3, true},
    {7, 8, 3, true},         {8, 8, 3, false},         {2, 8, 3, false},
    {9, 8, 3, false},        {100, 8, 3, false},       {65535, 0, 65535, true},
    {0, 0, 65535, false},    {65535, 1, 65534, true},  {0, 1, 65534, true},
    {1, 1, 65534, false},    {65533, 1, 65534, false}, {4, 4, 4, false},
    {32768, 0, 32768, true}, {32767, 0, 32768, false},
};

static void test_need_event_table(void **state)
{
    (void)state;
    for (size_t i = 0;
         i < sizeof(need_event_cases) / sizeof(need_event_cases[0]); i++) {
        uint16_t e = need_event_cases[i].event, n = need_event_cases[i].new_idx,
                 o = need_event_cases[i].old;
        bool want = need_event_cases[i].notify;

        if ((vring_need_event(e, n, o) != 0) != want)
            fail_msg("vring_need_event(%u, %u, %u) != %d", e, n, o, want);
    }
}

/* The same decisions through vq_need_notify() on a live ring. */
static void test_need_notify_event_idx(void **state)
{
    struct fx *fx = fx_of(state);

    for (size_t i = 0;
         i < sizeof(need_event_cases) / sizeof(need_event_cases[0]); i++) {
        uint16_t e = need_event_cases[i].event, n = need_event_cases[i].new_idx,
                 o = need_event_cases[i].old;
        struct vq_state st;

        fx_start(fx, NUM, ALL_RING_FEATURES);
        vq_save(&fx->vq, &st);
        st.last_avail_idx = st.used_idx = n;
        st.signalled_used = o;
        st.signalled_valid = 1;
        assert_int_equal(vq_restore(&fx->vq, &fx->mem, &st), 0);
        vdrv_set_used_event(&fx->drv, e);
        if (vq_need_notify(&fx->vq) != need_event_cases[i].notify)
            fail_msg("used_event %u, used %u -> %u: notify != %d", e, o, n,
                     need_event_cases[i].notify);
        assert_int_equal(fx->vq.signalled_used, n);
        /* Nothing pushed since: no second notification. */
        assert_false(vq_need_notify(&fx->vq));
    }
}

static void push_one(struct fx *fx, uint16_t head)
{
    vdrv_desc(&fx->drv, head, BUF, 8, VRING_DESC_F_WRITE, 0);
    vdrv_post(&fx->drv, head);
    assert_int_equal(vq_pop(&fx->vq, &fx->chain), 1);
    assert_int_equal(vq_push(&fx->vq, head, 8), 0);
}

static void test_need_notify_sequence(void **state)
{
    struct fx *fx = fx_of(state);

    /* The first check after start notifies whatever used_event says. */
    vdrv_set_used_event(&fx->drv, 100);
    push_one(fx, 0);
    assert_true(vq_need_notify(&fx->vq));
    /* used_event 100: no interrupt until entry 100 is written. */
    for (unsigned i = 1; i < 100; i++) {
        push_one(fx, (uint16_t)(i % NUM));
        assert_false(vq_need_notify(&fx->vq));
    }
    push_one(fx, 100 % NUM);
    assert_true(vq_need_notify(&fx->vq));
    /* A batch that crosses used_event notifies once. */
    vdrv_set_used_event(&fx->drv, 102);
    push_one(fx, 1);
    push_one(fx, 2);
    push_one(fx, 3);
    assert_true(vq_need_notify(&fx->vq));
    assert_false(vq_need_notify(&fx->vq));
    /* The flags are ignored with EVENT_IDX. */
    vdrv_set_avail_flags(&fx->drv, VRING_AVAIL_F_NO_INTERRUPT);
    vdrv_set_used_event(&fx->drv, 104);
    push_one(fx, 4);
    assert_true(vq_need_notify(&fx->vq));
}

static void test_need_notify_flags(void **state)
{
    struct fx *fx = fx_of(state);

    fx_start(fx, NUM, 0);
    vdrv_set_used_event(&fx->drv, 100); /* ignored without EVENT_IDX */
    push_one(fx, 0);
    assert_true(vq_need_notify(&fx->vq));
    assert_false(vq_need_notify(&fx->vq)); /* nothing new */
    vdrv_set_avail_flags(&fx->drv, VRING_AVAIL_F_NO_INTERRUPT);
    push_one(fx, 1);
    assert_false(vq_need_notify(&fx->vq));
    vdrv_set_avail_flags(&fx->drv, 0);
    push_one(fx, 2);
    assert_true(vq_need_notify(&fx->vq));
}

static void test_kick_suppression_flags(void **state)
{
    struct fx *fx = fx_of(state);

    fx_start(fx, NUM, 0);
    vq_disable_notify(&fx->vq);
    assert_int_equal(vdrv_used_flags(&fx->drv), VRING_USED_F_NO_NOTIFY);
    assert_false(vq_enable_notify(&fx->vq));
    assert_int_equal(vdrv_used_flags(&fx->drv), 0);
    vdrv_desc(&fx->drv, 0, BUF, 8, 0, 0);
    vdrv_post(&fx->drv, 0);
    assert_true(vq_enable_notify(&fx->vq)); /* arrived meanwhile */
    assert_int_equal(vq_pop(&fx->vq, &fx->chain), 1);
    assert_false(vq_enable_notify(&fx->vq));
}

static void test_kick_suppression_event_idx(void **state)
{
    struct fx *fx = fx_of(state);

    vq_disable_notify(&fx->vq); /* writes nothing with EVENT_IDX */
    assert_int_equal(vdrv_used_flags(&fx->drv), 0);
    assert_int_equal(vdrv_avail_event(&fx->drv), 0);
    push_one(fx, 0);
    push_one(fx, 1);
    assert_int_equal(vdrv_avail_event(&fx->drv), 0);
    assert_false(vq_enable_notify(&fx->vq));
    assert_int_equal(vdrv_avail_event(&fx->drv), 2);
    assert_int_equal(vdrv_used_flags(&fx->drv), 0);
    /* The driver's next entry (index 2) now asks for a kick. */
    assert_true(vring_need_event(vdrv_avail_event(&fx->drv), 3, 2));
    vdrv_desc(&fx->drv, 2, BUF, 8, 0, 0);
    vdrv_post(&fx->drv, 2);
    assert_true(vq_enable_notify(&fx->vq));
}

/* A 2^16 pushes without a check: the next check notifies. */
static void test_need_notify_after_full_wrap(void **state)
{
    struct fx *fx = fx_of(state);

    push_one(fx, 0);
    assert_true(vq_need_notify(&fx->vq));
    vdrv_set_used_event(&fx->drv, 0);
    for (unsigned i = 0; i < 65536; i++)
        push_one(fx, (uint16_t)(i % NUM));
    /* used->idx is back where it was: 16-bit arithmetic alone would say
     * no; the queue knows better. */
    assert_true(vq_need_notify(&fx->vq));
}

/* --- save and restore --------------------------------------------------- */

static void test_save_restore(void **state)
{
    struct fx *fx = fx_of(state);
    struct vq_state st, st2;
    struct vq copy;

    assert_int_equal(sizeof(struct vq_state), 40);
    push_one(fx, 0);
    assert_true(vq_need_notify(&fx->vq));
    vdrv_desc(&fx->drv, 1, BUF, 8, 0, 0);
    vdrv_post(&fx->drv, 1);
    assert_int_equal(vq_pop(&fx->vq, &fx->chain), 1); /* in flight */
    vdrv_post(&fx->drv, 1);                           /* not yet popped */
    vq_save(&fx->vq, &st);
    assert_int_equal(st.num, NUM);
    assert_int_equal(st.desc_gpa, DESC);
    assert_int_equal(st.avail_gpa, AVAIL);
    assert_int_equal(st.used_gpa, USED);
    assert_int_equal(st.last_avail_idx, 2);
    assert_int_equal(st.used_idx, 1);
    assert_int_equal(st.signalled_used, 1);
    assert_int_equal(st.ready, 1);
    assert_int_equal(st.signalled_valid, 1);
    assert_int_equal(st.event_idx, 1);
    assert_int_equal(st.indirect, 1);

    vq_init(&copy, 3);
    assert_int_equal(vq_restore(&copy, &fx->mem, &st), 0);
    vq_save(&copy, &st2);
    assert_memory_equal(&st, &st2, sizeof(st));
    /* The restored queue goes on where the old one stopped. */
    assert_int_equal(vq_push(&copy, 1, 8), 0);
    assert_int_equal(vq_pop(&copy, &fx->chain), 1);
    assert_int_equal(fx->chain.head, 1);
    assert_int_equal(vq_pop(&copy, &fx->chain), 0);
    assert_int_equal(vdrv_used_idx(&fx->drv), 2);

    /* A queue that was not ready comes back not ready. */
    vq_init(&copy, 3);
    vq_save(&copy, &st2);
    assert_int_equal(vq_restore(&copy, &fx->mem, &st2), 0);
    assert_false(copy.ready);
}

static void test_restore_refuses_bad_state(void **state)
{
    struct fx *fx = fx_of(state);
    struct vq_state good, st;
    struct vq copy;

    vq_init(&copy, 3);
    vq_save(&fx->vq, &good);
    st = good;
    st.num = 12;
    assert_int_equal(vq_restore(&copy, &fx->mem, &st), -EINVAL);
    assert_false(copy.ready);
    st = good;
    st.used_gpa = RAM;
    assert_int_equal(vq_restore(&copy, &fx->mem, &st), -EFAULT);
    assert_false(copy.ready);
    st = good;
    st.last_avail_idx = 40;
    st.used_idx = 20;
    assert_int_equal(vq_restore(&copy, &fx->mem, &st), -EINVAL);
    assert_error("more than the queue size apart");
    assert_false(copy.ready);
    st = good;
    st.ready = 0;
    st.num = 12; /* not checked for a queue that is not ready */
    assert_int_equal(vq_restore(&copy, &fx->mem, &st), 0);
}

/* --- a driver and a device on two threads ------------------------------- */

#define CONC_TOTAL 50000
#define CONC_NUM 8
#define CONC_WAIT_MS 10000

struct conc {
    struct fx *fx;
    int kick, irq;   /* eventfds: driver -> device, device -> driver */
    const char *err; /* the device thread's failure, if any */
    bool event_idx;
};

static bool conc_wait(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    uint64_t v;

    if (poll(&p, 1, CONC_WAIT_MS) != 1)
        return false;
    return read(fd, &v, sizeof(v)) == sizeof(v);
}

static void conc_signal(int fd)
{
    uint64_t one = 1;

    if (write(fd, &one, sizeof(one)) != sizeof(one))
        abort();
}

/* The device: pop everything, write the sequence number into the buffer,
 * push; sleep on the kick eventfd only when vq_enable_notify() says the
 * ring is empty. */
static void *conc_device(void *arg)
{
    struct conc *c = arg;
    struct vq *vq = &c->fx->vq;
    struct vq_chain *ch = &c->fx->chain;
    uint32_t served = 0;
    int rc;

    while (served < CONC_TOTAL) {
        vq_disable_notify(vq);
        while ((rc = vq_pop(vq, ch)) == 1) {
            if (ch->nwrite != 1 || ch->iov[0].iov_len != 4)
                return c->err = "bad chain", NULL;
            memcpy(ch->iov[0].iov_base, &served, 4);
            served++;
            if (vq_push(vq, ch->head, 4))
                return c->err = "push failed", NULL;
        }
        if (rc < 0)
            return c->err = "pop failed", NULL;
        if (vq_need_notify(vq))
            conc_signal(c->irq);
        if (served < CONC_TOTAL && !vq_enable_notify(vq) && !conc_wait(c->kick))
            return c->err = "no kick came: one was lost", NULL;
    }
    return NULL;
}

/* The driver's side of the kick: a full barrier between publishing idx
 * and reading avail_event (or used->flags), as Linux does. */
static bool conc_driver_must_kick(struct conc *c, uint16_t old, uint16_t new)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (c->event_idx)
        return vring_need_event(vdrv_avail_event(&c->fx->drv), new, old);
    return !(vdrv_used_flags(&c->fx->drv) & VRING_USED_F_NO_NOTIFY);
}

static void conc_run(struct fx *fx, bool event_idx)
{
    struct conc c = {fx, eventfd(0, 0), eventfd(0, 0), NULL, event_idx};
    struct vdrv *d = &fx->drv;
    uint32_t posted = 0, done = 0, id, len, seq;
    uint16_t last_used = 0;
    pthread_t dev;

    fx_start(fx, CONC_NUM, event_idx ? ALL_RING_FEATURES : 0);
    assert_true(c.kick >= 0 && c.irq >= 0);
    assert_int_equal(pthread_create(&dev, NULL, conc_device, &c), 0);
    while (done < CONC_TOTAL && !c.err) {
        while (posted - done < CONC_NUM && posted < CONC_TOTAL) {
            uint16_t head = (uint16_t)(posted % CONC_NUM), old = d->avail_idx;

            vdrv_desc(d, head, BUF + head * 16ULL, 4, VRING_DESC_F_WRITE, 0);
            vdrv_post(d, head);
            posted++;
            if (conc_driver_must_kick(&c, old, d->avail_idx))
                conc_signal(c.kick);
        }
        /* Ask for an interrupt at the next used entry, then look. */
        vdrv_set_used_event(d, last_used);
        vdrv_set_avail_flags(d, 0);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (vdrv_used_idx(d) == last_used && !conc_wait(c.irq))
            break;
        while (last_used != vdrv_used_idx(d)) {
            vdrv_used_elem(d, last_used, &id, &len);
            memcpy(&seq, host(fx, BUF + id * 16ULL), 4);
            assert_int_equal(id, done % CONC_NUM);
            assert_int_equal(len, 4);
            assert_int_equal(seq, done);
            last_used++;
            done++;
        }
        vdrv_set_avail_flags(d, VRING_AVAIL_F_NO_INTERRUPT);
    }
    if (done < CONC_TOTAL)
        conc_signal(c.kick); /* wake the device so that it ends */
    pthread_join(dev, NULL);
    close(c.kick);
    close(c.irq);
    if (c.err)
        fail_msg("device thread: %s", c.err);
    if (done < CONC_TOTAL)
        fail_msg("%u of %u done: an interrupt was lost", done, CONC_TOTAL);
}

static void test_two_threads_event_idx(void **state)
{
    conc_run(fx_of(state), true);
}

static void test_two_threads_flags(void **state)
{
    conc_run(fx_of(state), false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_start_checks_size, setup),
        cmocka_unit_test_setup(test_start_checks_areas, setup),
        cmocka_unit_test_setup(test_pop_empty, setup),
        cmocka_unit_test_setup(test_pop_chain, setup),
        cmocka_unit_test_setup(test_pop_full_queue_chain, setup),
        cmocka_unit_test_setup(test_pop_only_writable, setup),
        cmocka_unit_test_setup(test_several_in_flight, setup),
        cmocka_unit_test_setup(test_index_wraparound, setup),
        cmocka_unit_test_setup(test_full_ring_across_wrap, setup),
        cmocka_unit_test_setup(test_indirect_chain, setup),
        cmocka_unit_test_setup(test_indirect_longer_than_queue, setup),
        cmocka_unit_test_setup(test_malformed_rings, setup),
        cmocka_unit_test_setup(test_indirect_not_negotiated, setup),
        cmocka_unit_test(test_slot_boundary),
        cmocka_unit_test(test_need_event_table),
        cmocka_unit_test_setup(test_need_notify_event_idx, setup),
        cmocka_unit_test_setup(test_need_notify_sequence, setup),
        cmocka_unit_test_setup(test_need_notify_flags, setup),
        cmocka_unit_test_setup(test_kick_suppression_flags, setup),
        cmocka_unit_test_setup(test_kick_suppression_event_idx, setup),
        cmocka_unit_test_setup(test_need_notify_after_full_wrap, setup),
        cmocka_unit_test_setup(test_save_restore, setup),
        cmocka_unit_test_setup(test_restore_refuses_bad_state, setup),
        cmocka_unit_test_setup(test_two_threads_event_idx, setup),
        cmocka_unit_test_setup(test_two_threads_flags, setup),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
