/* test_ratelimit.c: unit tests of the report rate limit (src/ratelimit.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ratelimit.h"

#define MS 1000000ULL

/* A burst passes, the rest of the interval is counted, and the first
 * report of the next interval carries the count. */
static void test_burst_then_count(void **state)
{
    struct ratelimit rl;
    uint64_t missed;

    (void)state;
    ratelimit_init(&rl, 5000, 3);
    for (int i = 0; i < 3; i++) {
        assert_true(ratelimit_allow(&rl, 1000 * MS + (uint64_t)i, &missed));
        assert_int_equal(missed, 0);
    }
    for (int i = 0; i < 100; i++) {
        assert_false(ratelimit_allow(&rl, 2000 * MS, &missed));
        assert_int_equal(missed, 0);
    }
    assert_false(ratelimit_allow(&rl, 5999 * MS, &missed));
    assert_true(ratelimit_allow(&rl, 6000 * MS, &missed));
    assert_int_equal(missed, 101);
    assert_true(ratelimit_allow(&rl, 6001 * MS, &missed));
    assert_int_equal(missed, 0);
    assert_int_equal(ratelimit_take_missed(&rl), 0);
    ratelimit_fini(&rl);
}

/* At the end, what was suppressed is taken once. */
static void test_take_missed(void **state)
{
    struct ratelimit rl;
    uint64_t missed;

    (void)state;
    ratelimit_init(&rl, 5000, 1);
    assert_true(ratelimit_allow(&rl, 0, &missed));
    assert_false(ratelimit_allow(&rl, 1, &missed));
    assert_false(ratelimit_allow(&rl, 2, &missed));
    assert_int_equal(ratelimit_take_missed(&rl), 2);
    assert_int_equal(ratelimit_take_missed(&rl), 0);
    /* told already: the next interval starts with nothing to say */
    assert_true(ratelimit_allow(&rl, 9000 * MS, &missed));
    assert_int_equal(missed, 0);
    ratelimit_fini(&rl);
}

/* A time read by another thread just before the interval began (older
 * than its start) belongs to that interval; it does not restart it. */
static void test_older_time_stays_in_interval(void **state)
{
    struct ratelimit rl;
    uint64_t missed;

    (void)state;
    ratelimit_init(&rl, 5000, 1);
    assert_true(ratelimit_allow(&rl, 100 * MS, &missed));
    assert_false(ratelimit_allow(&rl, 99 * MS, &missed));
    assert_int_equal(missed, 0);
    assert_int_equal(ratelimit_take_missed(&rl), 1);
    ratelimit_fini(&rl);
}

/* A flood for 60 s of simulated time, one report every microsecond: at
 * most burst + 1 lines (the count) per interval. */
static void test_flood_is_bounded(void **state)
{
    struct ratelimit rl;
    uint64_t missed, told = 0, passed = 0, lines = 0, n = 60000000;

    (void)state;
    ratelimit_init(&rl, 5000, 10);
    for (uint64_t t = 0; t < n; t++) {
        bool ok = ratelimit_allow(&rl, t * 1000, &missed);

        lines += ok + (missed > 0);
        passed += ok;
        told += missed;
    }
    told += ratelimit_take_missed(&rl);
    assert_int_equal(passed + told, n);
    assert_true(lines <= 12 * 11 + 1);
    ratelimit_fini(&rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_count),
        cmocka_unit_test(test_take_missed),
        cmocka_unit_test(test_older_time_stays_in_interval),
        cmocka_unit_test(test_flood_is_bounded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
