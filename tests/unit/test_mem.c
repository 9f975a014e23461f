/* test_mem.c: unit tests of guest RAM layout and the mem_ptr bounds check. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kvmrun.h"
#include "mem.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)
#define SMALL (1 * MIB)
#define BIG (4 * GIB + 8 * MIB) /* 3 GiB low, 1 GiB + 8 MiB high */

static uint8_t *host(const struct guest_mem *mem, uint64_t offset)
{
    return (uint8_t *)mem->map + offset;
}

/* Group state: one small and one big guest, mapped once (MAP_NORESERVE). */
struct mems {
    struct guest_mem small, big;
};

static int setup(void **state)
{
    static struct mems m;

    if (mem_init(&m.small, SMALL) || mem_init(&m.big, BIG))
        return -1;
    *state = &m;
    return 0;
}

static int teardown(void **state)
{
    struct mems *m = *state;

    mem_fini(&m->small);
    mem_fini(&m->big);
    return 0;
}

static void test_init_rejects_bad_sizes(void **state)
{
    static const uint64_t sizes[] = {0, 1, 4095, 4097, 6144, MIB + 512};
    struct guest_mem mem;

    (void)state;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        memset(&mem, 0xa5, sizeof(mem));
        assert_int_equal(mem_init(&mem, sizes[i]), -EINVAL);
        assert_null(mem.map);
        assert_int_equal(mem.nslots, 0);
        assert_null(mem_ptr(&mem, 0, 1));
        assert_non_null(strstr(kvmrun_last_error(), "4 KiB"));
        mem_fini(&mem); /* harmless after a failed init */
    }
}

static void test_init_one_page(void **state)
{
    struct guest_mem mem;

    (void)state;
    assert_int_equal(mem_init(&mem, 4096), 0);
    assert_int_equal(mem.nslots, 1);
    assert_int_equal(mem.size, 4096);
    assert_int_equal(mem_low_size(&mem), 4096);
    assert_ptr_equal(mem_ptr(&mem, 4095, 1), host(&mem, 4095));
    assert_null(mem_ptr(&mem, 4096, 1));
    mem_fini(&mem);
    assert_null(mem.map);
}

static void test_small_layout(void **state)
{
    const struct guest_mem *mem = &((struct mems *)*state)->small;

    assert_int_equal(mem->nslots, 1);
    assert_int_equal(mem->size, SMALL);
    assert_int_equal(mem_low_size(mem), SMALL);
    assert_int_equal(mem->slot[0].gpa, 0);
    assert_int_equal(mem->slot[0].size, SMALL);
    assert_ptr_equal(mem->slot[0].host, mem->map);
}

static void test_exact_bounds(void **state)
{
    const struct guest_mem *mem = &((struct mems *)*state)->small;

    assert_ptr_equal(mem_ptr(mem, 0, 1), host(mem, 0));
    assert_ptr_equal(mem_ptr(mem, 0, SMALL), host(mem, 0));
    assert_null(mem_ptr(mem, 0, SMALL + 1));
    assert_ptr_equal(mem_ptr(mem, SMALL - 1, 1), host(mem, SMALL - 1));
    assert_null(mem_ptr(mem, SMALL, 1));
    assert_ptr_equal(mem_ptr(mem, SMALL - 8, 8), host(mem, SMALL - 8));
    assert_null(mem_ptr(mem, SMALL - 8, 9));
    assert_null(mem_ptr(mem, SMALL + 1, 0));
    assert_null(mem_ptr(mem, 2 * SMALL, 1));
}

static void test_len_zero_at_end(void **state)
{
    const struct guest_mem *mem = &((struct mems *)*state)->small;

    assert_ptr_equal(mem_ptr(mem, SMALL, 0), host(mem, SMALL));
    assert_ptr_equal(mem_ptr(mem, 0, 0), host(mem, 0));
}

static void test_overflow_does_not_wrap(void **state)
{
    const struct mems *m = *state;

    /* gpa + len wraps around to a small address inside RAM. */
    assert_null(mem_ptr(&m->small, UINT64_MAX, 2));
    assert_null(mem_ptr(&m->small, UINT64_MAX - 0xfff, 0x2000));
    assert_null(mem_ptr(&m->small, 1, UINT64_MAX));
    assert_null(mem_ptr(&m->small, 16, UINT64_MAX - 8));
    assert_null(mem_ptr(&m->small, 0, UINT64_MAX));
    assert_null(mem_ptr(&m->small, UINT64_MAX, 0));
    assert_null(mem_ptr(&m->big, MEM_HIGH_START, UINT64_MAX));
    assert_null(mem_ptr(&m->big, MEM_HIGH_START + 1, -MEM_HIGH_START));
    assert_null(mem_ptr(&m->big, UINT64_MAX, 1));
}

static void test_high_slot_layout(void **state)
{
    const struct guest_mem *mem = &((struct mems *)*state)->big;

    assert_int_equal(mem->nslots, 2);
    assert_int_equal(mem->size, BIG);
    assert_int_equal(mem_low_size(mem), MEM_LOW_END);
    assert_int_equal(mem->slot[0].gpa, 0);
    assert_int_equal(mem->slot[0].size, MEM_LOW_END);
    assert_int_equal(mem->slot[1].gpa, MEM_HIGH_START);
    assert_int_equal(mem->slot[1].size, BIG - MEM_LOW_END);
}

static void test_high_slot_access(void **state)
{
    const struct guest_mem *mem = &((struct mems *)*state)->big;
    const uint64_t high_end = MEM_HIGH_START + (BIG - MEM_LOW_END);
    uint8_t *first = mem_ptr(mem, MEM_HIGH_START, 4);
    uint8_t *last = mem_ptr(mem, high_end - 1, 1);

    assert_ptr_equal(first, host(mem, MEM_LOW_END));
    assert_ptr_equal(last, host(mem, BIG - 1));
    assert_null(mem_ptr(mem, high_end, 1));
    assert_null(mem_ptr(mem, high_end - 4, 5));
    memcpy(first, "high", 4);
    *last = 0x5a;
    assert_memory_equal(mem_ptr(mem, MEM_HIGH_START, 4), "high", 4);
    assert_int_equal(*(uint8_t *)mem_ptr(mem, high_end - 1, 1), 0x5a);
    assert_int_equal(*(uint8_t *)mem_ptr(mem, MEM_LOW_END - 1, 1), 0);
}

static void test_hole_is_not_ram(void **state)
{
    const struct guest_mem *mem = &((struct mems *)*state)->big;
    static const uint64_t hole[] = {MEM_LOW_END, MEM_LOW_END + 1, 0xd0000000,
                                    0xfee00000, 0xffffffff};

    for (size_t i = 0; i < sizeof(hole) / sizeof(hole[0]); i++)
        if (mem_ptr(mem, hole[i], 1))
            fail_msg("hole address %#llx is RAM", (unsigned long long)hole[i]);
    assert_null(mem_ptr(mem, 0xfffffff0, 0x20)); /* hole into high RAM */
}

static void test_range_crossing_low_end_fails(void **state)
{
    const struct guest_mem *mem = &((struct mems *)*state)->big;

    assert_ptr_equal(mem_ptr(mem, MEM_LOW_END - 2, 2),
                     host(mem, MEM_LOW_END - 2));
    assert_null(mem_ptr(mem, MEM_LOW_END - 1, 2));
    assert_null(mem_ptr(mem, MEM_LOW_END - 4096, 8192));
    /* Spans the low end, the hole and the start of high RAM. */
    assert_null(
        mem_ptr(mem, MEM_LOW_END - 1, MEM_HIGH_START - MEM_LOW_END + 2));
}

static void test_exactly_low_end_has_one_slot(void **state)
{
    struct guest_mem mem;

    (void)state;
    assert_int_equal(mem_init(&mem, MEM_LOW_END), 0);
    assert_int_equal(mem.nslots, 1);
    assert_int_equal(mem_low_size(&mem), MEM_LOW_END);
    assert_non_null(mem_ptr(&mem, MEM_LOW_END - 1, 1));
    assert_null(mem_ptr(&mem, MEM_HIGH_START, 1));
    mem_fini(&mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_rejects_bad_sizes),
        cmocka_unit_test(test_init_one_page),
        cmocka_unit_test(test_small_layout),
        cmocka_unit_test(test_exact_bounds),
        cmocka_unit_test(test_len_zero_at_end),
        cmocka_unit_test(test_overflow_does_not_wrap),
        cmocka_unit_test(test_high_slot_layout),
        cmocka_unit_test(test_high_slot_access),
        cmocka_unit_test(test_hole_is_not_ram),
        cmocka_unit_test(test_range_crossing_low_end_fails),
        cmocka_unit_test(test_exactly_low_end_has_one_slot),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
