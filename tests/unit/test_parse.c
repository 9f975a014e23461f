/* test_parse.c: unit tests of kvmrun_parse_size and kvmrun_parse_u64. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kvmrun.h"

#define SENTINEL 0x5a5a5a5a5a5a5a5aULL

struct good {
    const char *text;
    uint64_t value;
};

struct bad {
    const char *text;
    int err; /* negative errno expected */
};

/* The last error names the offending input, quoted. */
static void assert_error_names(const char *text)
{
    char quoted[128];

    snprintf(quoted, sizeof(quoted), "'%s'", text);
    if (!strstr(kvmrun_last_error(), quoted))
        fail_msg("error \"%s\" does not name %s", kvmrun_last_error(), quoted);
}

static void check_size_good(const struct good *g)
{
    uint64_t v = SENTINEL;
    int r = kvmrun_parse_size(g->text, &v);

    if (r != 0)
        fail_msg("\"%s\": %d (%s)", g->text, r, kvmrun_last_error());
    if (v != g->value)
        fail_msg("\"%s\": %#llx, expected %#llx", g->text,
                 (unsigned long long)v, (unsigned long long)g->value);
}

static void check_size_bad(const struct bad *b)
{
    uint64_t v = SENTINEL;
    int r = kvmrun_parse_size(b->text, &v);

    if (r != b->err)
        fail_msg("\"%s\": returned %d, expected %d", b->text, r, b->err);
    assert_int_equal(v, SENTINEL); /* untouched on error */
    assert_error_names(b->text);
}

static void check_u64_good(const struct good *g)
{
    uint64_t v = SENTINEL;
    int r = kvmrun_parse_u64(g->text, &v);

    if (r != 0)
        fail_msg("\"%s\": %d (%s)", g->text, r, kvmrun_last_error());
    if (v != g->value)
        fail_msg("\"%s\": %#llx, expected %#llx", g->text,
                 (unsigned long long)v, (unsigned long long)g->value);
}

static void check_u64_bad(const struct bad *b)
{
    uint64_t v = SENTINEL;
    int r = kvmrun_parse_u64(b->text, &v);

    if (r != b->err)
        fail_msg("\"%s\": returned %d, expected %d", b->text, r, b->err);
    assert_int_equal(v, SENTINEL);
    assert_error_names(b->text);
}

static void test_size_bare_number_is_mib(void **state)
{
    static const struct good cases[] = {
        {"0", 0},
        {"1", 1ULL << 20},
        {"128", 128ULL << 20},
        {"0128", 128ULL << 20}, /* decimal, not octal */
        {"010", 10ULL << 20},
        {"0x10", 16ULL << 20},
        {"0X1f", 31ULL << 20},
        {"17592186044415", 17592186044415ULL << 20}, /* 2^44 - 1 MiB */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_size_good(&cases[i]);
}

static void test_size_suffixes(void **state)
{
    static const struct good cases[] = {
        {"4K", 4ULL << 10},
        {"4k", 4ULL << 10},
        {"3M", 3ULL << 20},
        {"3m", 3ULL << 20},
        {"2G", 2ULL << 30},
        {"2g", 2ULL << 30},
        {"1T", 1ULL << 40},
        {"1t", 1ULL << 40},
        {"2GB", 2ULL << 30},
        {"4kb", 4ULL << 10},
        {"5Mb", 5ULL << 20},
        {"6tB", 6ULL << 40},
        {"16777215T", 16777215ULL << 40}, /* largest whole TiB count */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_size_good(&cases[i]);
}

static void test_size_rejects_junk(void **state)
{
    static const struct bad cases[] = {
        {"", -EINVAL},   {"M", -EINVAL},   {"12X", -EINVAL},  {"1MM", -EINVAL},
        {"-1", -EINVAL}, {" 1", -EINVAL},  {"1 ", -EINVAL},   {"1.5G", -EINVAL},
        {"+1", -EINVAL}, {"1B", -EINVAL},  {"1GBB", -EINVAL}, {"1KBx", -EINVAL},
        {"0x", -EINVAL}, {"0xM", -EINVAL}, {"G1", -EINVAL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_size_bad(&cases[i]);
}

static void test_size_overflow(void **state)
{
    static const struct bad cases[] = {
        {"99999999999T", -ERANGE},
        {"16777216T", -ERANGE},            /* exactly 2^64 */
        {"17179869184G", -ERANGE},         /* 2^64 */
        {"17592186044416", -ERANGE},       /* 2^44 MiB = 2^64 */
        {"18446744073709551615", -ERANGE}, /* fits strtoull, not in MiB */
        {"18446744073709551616", -ERANGE}, /* does not fit strtoull */
        {"99999999999999999999999K", -ERANGE},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_size_bad(&cases[i]);
}

static void test_size_null(void **state)
{
    uint64_t v = SENTINEL;

    (void)state;
    assert_int_equal(kvmrun_parse_size(NULL, &v), -EINVAL);
    assert_int_equal(v, SENTINEL);
}

static void test_u64_bases(void **state)
{
    static const struct good cases[] = {
        {"0", 0},
        {"42", 42},
        {"4096", 4096},
        {"0x1000", 0x1000},
        {"0X1f", 0x1f},
        {"0xdeadBEEF", 0xdeadbeef},
        {"017", 17}, /* decimal, not octal: as -m and everywhere else */
        {"010", 10},
        {"08", 8},
        {"00", 0},
        {"18446744073709551615", UINT64_MAX},
        {"018446744073709551615", UINT64_MAX},
        {"0xffffffffffffffff", UINT64_MAX},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_u64_good(&cases[i]);
}

static void test_u64_rejects_junk(void **state)
{
    static const struct bad cases[] = {
        {"", -EINVAL},      {"x", -EINVAL},    {"0x", -EINVAL},
        {"12a", -EINVAL},   {"0x-1", -EINVAL}, {"0x1g", -EINVAL},
        {"1 ", -EINVAL},    {" 1", -EINVAL},   {"0x 1", -EINVAL},
        {"0x0x1", -EINVAL}, {"0x+1", -EINVAL}, {"-1", -EINVAL},
        {"+1", -EINVAL},    {"1K", -EINVAL},   {"1.0", -EINVAL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_u64_bad(&cases[i]);
}

static void test_u64_overflow(void **state)
{
    static const struct bad cases[] = {
        {"18446744073709551616", -ERANGE},
        {"0x10000000000000000", -ERANGE},
        {"01777777777777777777777", -ERANGE}, /* octal UINT64_MAX: decimal */
        {"99999999999999999999999999", -ERANGE},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_u64_bad(&cases[i]);
}

static void test_u64_null(void **state)
{
    uint64_t v = SENTINEL;

    (void)state;
    assert_int_equal(kvmrun_parse_u64(NULL, &v), -EINVAL);
    assert_int_equal(v, SENTINEL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_bare_number_is_mib),
        cmocka_unit_test(test_size_suffixes),
        cmocka_unit_test(test_size_rejects_junk),
        cmocka_unit_test(test_size_overflow),
        cmocka_unit_test(test_size_null),
        cmocka_unit_test(test_u64_bases),
        cmocka_unit_test(test_u64_rejects_junk),
        cmocka_unit_test(test_u64_overflow),
        cmocka_unit_test(test_u64_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
