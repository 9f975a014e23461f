/* test_rtc.c: unit tests of the MC146818 RTC and CMOS RAM. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "dev/rtc.h"

static void no_end(void *machine, unsigned vcpu, enum kvmrun_end why,
                   uint64_t code, const char *message)
{
    (void)machine, (void)vcpu, (void)why, (void)code, (void)message;
    fail_msg("the RTC ended the VM");
}

static void no_report(void *machine, const char *line)
{
    (void)machine;
    fail_msg("the RTC reported: %s", line);
}

static const struct dev_env env = {.end = no_end, .report = no_report};

static void port_io(struct rtc *r, unsigned port, uint8_t *v, bool write)
{
    struct bus_access a = {port, v, 1, write, 0};

    rtc_io(r, &a);
}

static void rtc_set(struct rtc *r, uint8_t reg, uint8_t v)
{
    port_io(r, RTC_INDEX, &reg, true);
    port_io(r, RTC_DATA, &v, true);
}

static uint8_t rtc_get(struct rtc *r, uint8_t reg)
{
    uint8_t v = 0;

    port_io(r, RTC_INDEX, &reg, true);
    port_io(r, RTC_DATA, &v, false);
    return v;
}

static unsigned from_bcd(uint8_t v)
{
    assert_true((v & 0x0f) <= 9 && (v >> 4) <= 9);
    return (v >> 4) * 10 + (v & 0x0f);
}

static unsigned decode(bool bin, uint8_t v)
{
    return bin ? v : from_bcd(v);
}

/* Reads the clock as a guest would and turns it back into a time_t. */
static time_t read_clock(struct rtc *r, struct tm *tm)
{
    uint8_t b = rtc_get(r, RTC_REG_B);
    bool bin = b & RTC_B_DM;
    uint8_t raw[10];
    unsigned f[10];
    unsigned hours, century;

    for (uint8_t reg = 0; reg < 10; reg++) {
        raw[reg] = rtc_get(r, reg);
        f[reg] = decode(bin, raw[reg] & (reg == RTC_HOURS ? 0x7f : 0xff));
    }
    century = decode(bin, rtc_get(r, RTC_CENTURY));
    hours = f[RTC_HOURS];
    if (!(b & RTC_B_24H)) {
        assert_in_range(hours, 1, 12);
        hours = hours % 12 + (raw[RTC_HOURS] & RTC_HOURS_PM ? 12 : 0);
    } else {
        assert_false(raw[RTC_HOURS] & RTC_HOURS_PM);
    }
    memset(tm, 0, sizeof(*tm));
    tm->tm_sec = (int)f[RTC_SECONDS];
    tm->tm_min = (int)f[RTC_MINUTES];
    tm->tm_hour = (int)hours;
    tm->tm_mday = (int)f[RTC_DAY_OF_MONTH];
    tm->tm_mon = (int)f[RTC_MONTH] - 1;
    tm->tm_year = (int)(century * 100 + f[RTC_YEAR]) - 1900;
    tm->tm_wday = (int)f[RTC_DAY_OF_WEEK] - 1;
    return timegm(tm);
}

/* The clock reads the host's UTC time (within a second) in format b. */
static void check_now(uint8_t b)
{
    struct rtc r;
    struct tm tm, want;
    time_t t, now;

    rtc_init(&r, &env);
    rtc_set(&r, RTC_REG_B, b);
    now = time(NULL);
    t = read_clock(&r, &tm);
    assert_true(t >= now && t <= now + 1);
    gmtime_r(&t, &want);
    assert_int_equal(tm.tm_wday, want.tm_wday); /* timegm leaves it */
    rtc_fini(&r);
}

static void test_bcd_24h(void **state)
{
    (void)state;
    check_now(RTC_B_24H);
}

static void test_binary_24h(void **state)
{
    (void)state;
    check_now(RTC_B_24H | RTC_B_DM);
}

static void test_bcd_12h(void **state)
{
    (void)state;
    check_now(0);
}

static void test_binary_12h(void **state)
{
    (void)state;
    check_now(RTC_B_DM);
}

static void test_defaults(void **state)
{
    struct rtc r;

    (void)state;
    rtc_init(&r, &env);
    assert_int_equal(rtc_get(&r, RTC_REG_A), RTC_A_DEFAULT);
    assert_false(rtc_get(&r, RTC_REG_A) & RTC_A_UIP);
    assert_int_equal(rtc_get(&r, RTC_REG_B), 0x02);
    assert_int_equal(rtc_get(&r, RTC_REG_C), 0);
    assert_int_equal(rtc_get(&r, RTC_REG_D), 0x80);
    /* C and D are read-only; UIP cannot be written. */
    rtc_set(&r, RTC_REG_C, 0xff);
    rtc_set(&r, RTC_REG_D, 0x00);
    rtc_set(&r, RTC_REG_A, 0xa6);
    assert_int_equal(rtc_get(&r, RTC_REG_C), 0);
    assert_int_equal(rtc_get(&r, RTC_REG_D), 0x80);
    assert_int_equal(rtc_get(&r, RTC_REG_A), 0x26);
    rtc_fini(&r);
}

/* Known-time conversions, set by the guest with SET, read back. */
static void test_set_time(void **state)
{
    struct rtc r;
    struct tm tm;
    time_t t, want;

    (void)state;
    rtc_init(&r, &env);
    rtc_set(&r, RTC_REG_B, RTC_B_SET | RTC_B_24H);
    rtc_set(&r, RTC_SECONDS, 0x56);
    rtc_set(&r, RTC_MINUTES, 0x34);
    rtc_set(&r, RTC_HOURS, 0x21);
    rtc_set(&r, RTC_DAY_OF_MONTH, 0x29);
    rtc_set(&r, RTC_MONTH, 0x02);
    rtc_set(&r, RTC_YEAR, 0x24);
    rtc_set(&r, RTC_CENTURY, 0x20);
    /* Frozen while SET is on. */
    assert_int_equal(rtc_get(&r, RTC_HOURS), 0x21);
    rtc_set(&r, RTC_REG_B, RTC_B_24H);
    want = 1709242496; /* 2024-02-29 21:34:56 UTC, a Thursday */
    t = read_clock(&r, &tm);
    assert_true(t >= want && t <= want + 1);
    assert_int_equal(rtc_get(&r, RTC_DAY_OF_WEEK), 5);
    /* The same time in 12-hour binary: 9 PM. */
    rtc_set(&r, RTC_REG_B, RTC_B_DM);
    assert_int_equal(rtc_get(&r, RTC_HOURS), 9 | RTC_HOURS_PM);
    assert_int_equal(rtc_get(&r, RTC_YEAR), 24);
    assert_int_equal(rtc_get(&r, RTC_CENTURY), 20);
    /* 12-hour BCD. */
    rtc_set(&r, RTC_REG_B, 0);
    assert_int_equal(rtc_get(&r, RTC_HOURS), 0x09 | RTC_HOURS_PM);
    rtc_fini(&r);
}

/* Writes tm into the clock in binary 24-hour mode, as a guest would. */
static void set_clock(struct rtc *r, const struct tm *tm)
{
    int year = tm->tm_year + 1900;

    rtc_set(r, RTC_REG_B, RTC_B_SET | RTC_B_24H | RTC_B_DM);
    rtc_set(r, RTC_SECONDS, (uint8_t)tm->tm_sec);
    rtc_set(r, RTC_MINUTES, (uint8_t)tm->tm_min);
    rtc_set(r, RTC_HOURS, (uint8_t)tm->tm_hour);
    rtc_set(r, RTC_DAY_OF_MONTH, (uint8_t)tm->tm_mday);
    rtc_set(r, RTC_MONTH, (uint8_t)(tm->tm_mon + 1));
    rtc_set(r, RTC_YEAR, (uint8_t)(year % 100));
    rtc_set(r, RTC_CENTURY, (uint8_t)(year / 100));
    rtc_set(r, RTC_REG_B, RTC_B_24H | RTC_B_DM);
}

/* Dates the clock sets and reads back as glibc's gmtime_r()/timegm() see
 * them: leap days, century years (1900 and 2100 not leap, 2000 leap),
 * year ends, every weekday; 1900-2199, the CMOS's century register. */
static void test_calendar(void **state)
{
    static const char *const edges[] = {
        "1900-02-28 23:59:59", "1900-03-01 00:00:00", "1969-12-31 23:59:59",
        "1970-01-01 00:00:00", "1999-12-31 23:59:59", "2000-02-29 12:00:00",
        "2000-03-01 00:00:00", "2038-01-19 03:14:08", "2100-02-28 23:59:59",
        "2100-03-01 00:00:00", "2199-12-31 23:59:59",
    };
    struct rtc r;
    struct tm tm, back;
    time_t t;

    (void)state;
    rtc_init(&r, &env);
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        memset(&tm, 0, sizeof(tm));
        assert_non_null(strptime(edges[i], "%Y-%m-%d %H:%M:%S", &tm));
        t = timegm(&tm);
        set_clock(&r, &tm);
        assert_in_range(read_clock(&r, &back) - t, 0, 1);
        assert_int_equal(back.tm_wday, tm.tm_wday);
    }
    /* Every 100003 s (about 1.16 days: all weekdays, hours, months). */
    for (t = -2208988800LL; t < 7258118400LL; t += 100003) {
        gmtime_r(&t, &tm);
        set_clock(&r, &tm);
        assert_in_range(read_clock(&r, &back) - t, 0, 1);
        assert_int_equal(back.tm_wday, tm.tm_wday);
    }
    rtc_fini(&r);
}

/* Out-of-range days carry over, as on a PC: April 31 is May 1. */
static void test_calendar_carry(void **state)
{
    struct rtc r;
    struct tm tm;

    (void)state;
    rtc_init(&r, &env);
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = 2023 - 1900;
    tm.tm_mon = 3; /* April */
    tm.tm_mday = 31;
    set_clock(&r, &tm);
    read_clock(&r, &tm);
    assert_int_equal(tm.tm_mon, 4);
    assert_int_equal(tm.tm_mday, 1);
    /* Month 13 of 2023 is January 2024. */
    tm.tm_year = 2023 - 1900;
    tm.tm_mon = 12;
    tm.tm_mday = 15;
    set_clock(&r, &tm);
    read_clock(&r, &tm);
    assert_int_equal(tm.tm_year, 2024 - 1900);
    assert_int_equal(tm.tm_mon, 0);
    rtc_fini(&r);
}

/* 12 AM is midnight, 12 PM noon, written one field at a time. */
static void test_12h_edges(void **state)
{
    struct rtc r;

    (void)state;
    rtc_init(&r, &env);
    rtc_set(&r, RTC_REG_B, RTC_B_SET); /* 12-hour BCD */
    rtc_set(&r, RTC_HOURS, 0x12);
    assert_int_equal(rtc_get(&r, RTC_HOURS), 0x12);
    rtc_set(&r, RTC_REG_B, RTC_B_SET | RTC_B_24H);
    assert_int_equal(rtc_get(&r, RTC_HOURS), 0x00);
    rtc_set(&r, RTC_REG_B, RTC_B_SET);
    rtc_set(&r, RTC_HOURS, 0x12 | RTC_HOURS_PM);
    rtc_set(&r, RTC_REG_B, RTC_B_SET | RTC_B_24H);
    assert_int_equal(rtc_get(&r, RTC_HOURS), 0x12);
    rtc_set(&r, RTC_REG_B, RTC_B_SET);
    rtc_set(&r, RTC_HOURS, 0x01 | RTC_HOURS_PM);
    rtc_set(&r, RTC_REG_B, RTC_B_SET | RTC_B_24H);
    assert_int_equal(rtc_get(&r, RTC_HOURS), 0x13);
    rtc_fini(&r);
}

/* Without SET, each write moves the clock at once; time keeps going. */
static void test_write_without_set(void **state)
{
    struct rtc r;

    (void)state;
    rtc_init(&r, &env);
    rtc_set(&r, RTC_YEAR, 0x99);
    rtc_set(&r, RTC_CENTURY, 0x19);
    assert_int_equal(rtc_get(&r, RTC_YEAR), 0x99);
    assert_int_equal(rtc_get(&r, RTC_CENTURY), 0x19);
    rtc_fini(&r);
}

static void test_cmos_ram(void **state)
{
    struct rtc r;

    (void)state;
    rtc_init(&r, &env);
    for (unsigned reg = RTC_REG_D + 1; reg < RTC_NREGS; reg++)
        if (reg != RTC_CENTURY)
            rtc_set(&r, (uint8_t)reg, (uint8_t)(reg * 7 + 3));
    for (unsigned reg = RTC_REG_D + 1; reg < RTC_NREGS; reg++)
        if (reg != RTC_CENTURY)
            assert_int_equal(rtc_get(&r, (uint8_t)reg), (uint8_t)(reg * 7 + 3));
    /* Alarm registers are storage too. */
    rtc_set(&r, RTC_SECONDS_ALARM, 0xc0);
    assert_int_equal(rtc_get(&r, RTC_SECONDS_ALARM), 0xc0);
    rtc_fini(&r);
}

/* Bit 7 of the index masks NMI; the register is the low 7 bits. */
static void test_nmi_bit(void **state)
{
    struct rtc r;

    (void)state;
    rtc_init(&r, &env);
    rtc_set(&r, 0x40, 0x5a);
    assert_int_equal(rtc_get(&r, 0x80 | 0x40), 0x5a);
    assert_true(r.nmi_masked);
    assert_int_equal(rtc_get(&r, 0x80 | RTC_REG_D), 0x80);
    assert_false(rtc_get(&r, 0x80 | RTC_REG_A) & RTC_A_UIP);
    rtc_fini(&r);
}

/* A 16-bit write sets index and data; the index port reads all ones. */
static void test_wide_access(void **state)
{
    struct rtc r;
    uint8_t d[2] = {0x41, 0x77};
    struct bus_access w = {RTC_INDEX, d, 2, true, 0};
    struct bus_access rd = {RTC_INDEX, d, 2, false, 0};

    (void)state;
    rtc_init(&r, &env);
    rtc_io(&r, &w);
    memset(d, 0, sizeof(d));
    rtc_io(&r, &rd);
    assert_int_equal(d[0], 0xff);
    assert_int_equal(d[1], 0x77);
    rtc_fini(&r);
}

/* Every time register read, then written back, as a guest would. */
static void touch_time(struct rtc *r)
{
    static const uint8_t regs[] = {
        RTC_SECONDS,      RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK,
        RTC_DAY_OF_MONTH, RTC_MONTH,   RTC_YEAR,  RTC_CENTURY,
    };

    for (size_t i = 0; i < sizeof(regs); i++)
        rtc_set(r, regs[i], rtc_get(r, regs[i]));
}

/* A saved state as a forged snapshot has it: the clock's offset from the
 * host and the pending (frozen) year at the ends of their types. Loading
 * one must leave a clock whose arithmetic stays in range (UBSan, in
 * make check SANITIZE=1, traps any signed overflow). */
static void load_forged(int64_t offset, int32_t year, bool frozen)
{
    struct rtc r;
    struct rtc_state st;

    rtc_init(&r, &env);
    rtc_save(&r, &st);
    st.offset = offset;
    st.pending[5] = year;
    st.frozen = frozen;
    rtc_load(&r, &st);
    touch_time(&r);
    rtc_set(&r, RTC_REG_B, RTC_B_DEFAULT); /* commits a frozen time */
    touch_time(&r);
    rtc_fini(&r);
}

static void test_forged_load(void **state)
{
    (void)state;
    load_forged(INT64_MAX, 0, false);
    load_forged(INT64_MIN, 0, false);
    load_forged(INT64_MAX - 1000000000LL, INT32_MAX, true);
    load_forged(0, INT32_MAX, true);
    load_forged(0, INT32_MIN, true);
}

/* rtc_state_check() refuses what rtc_load() would have to clamp, naming
 * the field; a state the RTC saved itself passes. */
static void test_state_check(void **state)
{
    struct rtc r;
    struct rtc_state st, bad;
    char why[160];

    (void)state;
    rtc_init(&r, &env);
    rtc_set(&r, RTC_REG_B, RTC_B_DEFAULT | RTC_B_SET);
    rtc_set(&r, RTC_CENTURY, 0x99); /* year 99xx, frozen in pending */
    rtc_save(&r, &st);
    assert_int_equal(rtc_state_check(&st, why, sizeof(why)), 0);

    bad = st;
    bad.offset = INT64_MAX;
    assert_int_equal(rtc_state_check(&bad, why, sizeof(why)), -EINVAL);
    assert_string_equal(why, "offset 9223372036854775807 s from the host's "
                             "clock is out of range (-1000000000000 to "
                             "1000000000000)");
    bad = st;
    bad.offset = -RTC_MAX_OFFSET - 1;
    assert_int_equal(rtc_state_check(&bad, why, sizeof(why)), -EINVAL);
    bad = st;
    bad.pending[5] = INT32_MAX;
    assert_int_equal(rtc_state_check(&bad, why, sizeof(why)), -EINVAL);
    assert_string_equal(why, "pending year 2147483647 is out of range "
                             "(-100000 to 100000)");
    bad = st;
    bad.pending[3] = 256;
    assert_int_equal(rtc_state_check(&bad, why, sizeof(why)), -EINVAL);
    assert_string_equal(why, "pending day of month 256 is out of range "
                             "(-1 to 255)");
    rtc_fini(&r);
}

/* A guest setting the time far beyond the limit gets the limit. */
static void test_offset_limit(void **state)
{
    struct rtc r;

    (void)state;
    rtc_init(&r, &env);
    rtc_set(&r, RTC_REG_B, RTC_B_24H | RTC_B_DM);
    rtc_set(&r, RTC_CENTURY, 255); /* year 255xx */
    assert_true(r.offset > 0 && r.offset <= RTC_MAX_OFFSET);
    for (int i = 0; i < 2000; i++)
        rtc_set(&r, RTC_MONTH, 255); /* + 21 years each time */
    assert_int_equal(r.offset, RTC_MAX_OFFSET);
    touch_time(&r);
    rtc_fini(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bcd_24h),
        cmocka_unit_test(test_binary_24h),
        cmocka_unit_test(test_bcd_12h),
        cmocka_unit_test(test_binary_12h),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_set_time),
        cmocka_unit_test(test_calendar),
        cmocka_unit_test(test_calendar_carry),
        cmocka_unit_test(test_12h_edges),
        cmocka_unit_test(test_write_without_set),
        cmocka_unit_test(test_cmos_ram),
        cmocka_unit_test(test_nmi_bit),
        cmocka_unit_test(test_wide_access),
        cmocka_unit_test(test_forged_load),
        cmocka_unit_test(test_state_check),
        cmocka_unit_test(test_offset_limit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
