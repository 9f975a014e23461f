/* rtc.c: MC146818 real-time clock and CMOS RAM (index and data ports). */
#include "dev/rtc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/*
 * What is not modelled: no interrupts (periodic, alarm or update-ended:
 * there is no IRQ 8, so register C always reads 0), no daylight-saving
 * (register B bit 0 is stored, ignored), and register A's divider bits
 * never stop the clock. The alarm registers are plain storage.
 */

void rtc_init(struct rtc *r, const struct dev_env *env)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    r->env = *env;
    r->ram[RTC_REG_A] = RTC_A_DEFAULT;
    r->ram[RTC_REG_B] = RTC_B_DEFAULT;
}

void rtc_fini(struct rtc *r)
{
    pthread_mutex_destroy(&r->lock);
}

static int64_t rtc_host_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

/*
 * UTC dates and seconds since 1970, in the proleptic Gregorian calendar.
 * Not gmtime_r()/timegm(): glibc's read the time zone file on their first
 * call (from a vCPU thread, under seccomp) and bring its TZ parser along.
 * The year is counted from March, so that February's leap day ends it; a
 * 400-year era has 146097 days; 719468 days separate 0000-03-01 from
 * 1970-01-01.
 */
static int64_t rtc_floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

/* Days since 1970-01-01 of day d (any value) of month m (1-12) of year y. */
static int64_t rtc_days(int64_t y, int m, int64_t d)
{
    int64_t era, yoe, doy;

    if (m <= 2)
        y--;
    era = rtc_floor_div(y, 400);
    yoe = y - era * 400;                           /* 0..399 */
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5; /* March 1st: 0 */
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy + d - 1 -
           719468;
}

/* The broken-down UTC time of t seconds since 1970. */
static void rtc_break_down(int64_t t, struct tm *tm)
{
    int64_t days = rtc_floor_div(t, 86400), secs = t - days * 86400;
    int64_t z = days + 719468, era = rtc_floor_div(z, 146097);
    int64_t doe = z - era * 146097; /* 0..146096 */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (yoe * 365 + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153; /* March: 0 */
    int mon = (int)(mp < 10 ? mp + 3 : mp - 9);

    memset(tm, 0, sizeof(*tm));
    tm->tm_year = (int)(era * 400 + yoe + (mon <= 2) - 1900);
    tm->tm_mon = mon - 1;
    tm->tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    tm->tm_hour = (int)(secs / 3600);
    tm->tm_min = (int)(secs / 60 % 60);
    tm->tm_sec = (int)(secs % 60);
    /* 1970-01-01 was a Thursday (4) */
    tm->tm_wday = (int)(days + 4 - rtc_floor_div(days + 4, 7) * 7);
    tm->tm_yday = (int)(days - rtc_days(tm->tm_year + 1900, 1, 1));
}

/* Seconds since 1970 of a broken-down UTC time; out-of-range fields carry
 * over as timegm() does: day 31 of April is May 1. */
static int64_t rtc_seconds(const struct tm *tm)
{
    int64_t y = (int64_t)tm->tm_year + 1900 + rtc_floor_div(tm->tm_mon, 12);
    int m = (int)(tm->tm_mon - rtc_floor_div(tm->tm_mon, 12) * 12) + 1;

    return rtc_days(y, m, tm->tm_mday) * 86400 + (int64_t)tm->tm_hour * 3600 +
           (int64_t)tm->tm_min * 60 + tm->tm_sec;
}

/* The guest's current time, broken down (UTC). */
static void rtc_now(const struct rtc *r, struct tm *tm)
{
    if (r->frozen) {
        *tm = r->pending;
        return;
    }
    rtc_break_down(rtc_host_seconds() + r->offset, tm);
}

static int64_t rtc_clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Makes the broken-down time the guest's time from now on. Its fields
 * are bounded (a byte each, the year near the clock's), so the sum
 * cannot overflow; the offset is kept within RTC_MAX_OFFSET. */
static void rtc_commit(struct rtc *r, struct tm *tm)
{
    r->offset = rtc_clamp(rtc_seconds(tm) - rtc_host_seconds(), -RTC_MAX_OFFSET,
                          RTC_MAX_OFFSET);
}

static uint8_t rtc_encode(const struct rtc *r, unsigned v)
{
    if (r->ram[RTC_REG_B] & RTC_B_DM)
        return (uint8_t)v;
    return (uint8_t)((v / 10 % 10) << 4 | v % 10);
}

static unsigned rtc_decode(const struct rtc *r, uint8_t v)
{
    if (r->ram[RTC_REG_B] & RTC_B_DM)
        return v;
    return (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t rtc_encode_hours(const struct rtc *r, int hour)
{
    unsigned h12 = hour % 12 ? (unsigned)hour % 12 : 12;

    if (r->ram[RTC_REG_B] & RTC_B_24H)
        return rtc_encode(r, (unsigned)hour);
    return (uint8_t)(rtc_encode(r, h12) | (hour >= 12 ? RTC_HOURS_PM : 0));
}

static int rtc_decode_hours(const struct rtc *r, uint8_t v)
{
    unsigned h;

    if (r->ram[RTC_REG_B] & RTC_B_24H)
        return (int)rtc_decode(r, v);
    h = rtc_decode(r, v & (uint8_t)~RTC_HOURS_PM) % 12; /* 12 AM is 0 */
    return (int)h + (v & RTC_HOURS_PM ? 12 : 0);
}

static bool rtc_is_time(unsigned reg)
{
    switch (reg) {
    case RTC_SECONDS:
    case RTC_MINUTES:
    case RTC_HOURS:
    case RTC_DAY_OF_WEEK:
    case RTC_DAY_OF_MONTH:
    case RTC_MONTH:
    case RTC_YEAR:
    case RTC_CENTURY:
        return true;
    default:
        return false;
    }
}

static uint8_t rtc_read_time(const struct rtc *r, unsigned reg)
{
    struct tm tm;
    unsigned year;

    rtc_now(r, &tm);
    year = (unsigned)tm.tm_year + 1900;
    switch (reg) {
    case RTC_SECONDS:
        return rtc_encode(r, (unsigned)tm.tm_sec);
    case RTC_MINUTES:
        return rtc_encode(r, (unsigned)tm.tm_min);
    case RTC_HOURS:
        return rtc_encode_hours(r, tm.tm_hour);
    case RTC_DAY_OF_WEEK:
        return rtc_encode(r, (unsigned)tm.tm_wday + 1);
    case RTC_DAY_OF_MONTH:
        return rtc_encode(r, (unsigned)tm.tm_mday);
    case RTC_MONTH:
        return rtc_encode(r, (unsigned)tm.tm_mon + 1);
    case RTC_YEAR:
        return rtc_encode(r, year % 100);
    default:
        return rtc_encode(r, year / 100);
    }
}

/*
 * Sets one field of the time. With SET on, the field waits in pending
 * (the guest is writing the whole time); otherwise it takes effect now.
 * The day of the week is derived from the date once committed.
 */
static void rtc_write_time(struct rtc *r, unsigned reg, uint8_t v)
{
    struct tm tm;
    int year;

    rtc_now(r, &tm);
    year = tm.tm_year + 1900;
    switch (reg) {
    case RTC_SECONDS:
        tm.tm_sec = (int)rtc_decode(r, v);
        break;
    case RTC_MINUTES:
        tm.tm_min = (int)rtc_decode(r, v);
        break;
    case RTC_HOURS:
        tm.tm_hour = rtc_decode_hours(r, v);
        break;
    case RTC_DAY_OF_WEEK:
        tm.tm_wday = (int)rtc_decode(r, v) - 1;
        break;
    case RTC_DAY_OF_MONTH:
        tm.tm_mday = (int)rtc_decode(r, v);
        break;
    case RTC_MONTH:
        tm.tm_mon = (int)rtc_decode(r, v) - 1;
        break;
    case RTC_YEAR:
        tm.tm_year = year / 100 * 100 + (int)rtc_decode(r, v) % 100 - 1900;
        break;
    default:
        tm.tm_year = (int)rtc_decode(r, v) * 100 + year % 100 - 1900;
        break;
    }
    if (r->frozen)
        r->pending = tm;
    else
        rtc_commit(r, &tm);
}

static void rtc_write_b(struct rtc *r, uint8_t v)
{
    bool set = v & RTC_B_SET;

    if (set && !r->frozen) {
        rtc_now(r, &r->pending);
        r->frozen = true;
    } else if (!set && r->frozen) {
        r->frozen = false;
        rtc_commit(r, &r->pending);
    }
    r->ram[RTC_REG_B] = v;
}

static uint8_t rtc_read(const struct rtc *r, unsigned reg)
{
    if (rtc_is_time(reg))
        return rtc_read_time(r, reg);
    switch (reg) {
    case RTC_REG_A:
        /* UIP is never set: a guest waiting for the end of an update
         * reads the time at once. */
        return r->ram[RTC_REG_A] & (uint8_t)~RTC_A_UIP;
    case RTC_REG_C:
        return 0; /* no interrupt flags: no interrupts */
    case RTC_REG_D:
        return RTC_D_VRT;
    default:
        return r->ram[reg];
    }
}

static void rtc_write(struct rtc *r, unsigned reg, uint8_t v)
{
    if (rtc_is_time(reg)) {
        rtc_write_time(r, reg, v);
        return;
    }
    switch (reg) {
    case RTC_REG_A:
        r->ram[RTC_REG_A] = v & (uint8_t)~RTC_A_UIP; /* UIP is read-only */
        break;
    case RTC_REG_B:
        rtc_write_b(r, v);
        break;
    case RTC_REG_C:
    case RTC_REG_D:
        break; /* read-only */
    default:
        r->ram[reg] = v;
        break;
    }
}

void rtc_io(void *dev, const struct bus_access *a)
{
    struct rtc *r = dev;

    pthread_mutex_lock(&r->lock);
    /* A wider access touches the index port, then the data port. */
    for (unsigned i = 0; i < a->size; i++) {
        uint64_t port = a->offset + i;

        if (port == RTC_INDEX && a->write) {
            r->index = a->data[i] & (uint8_t)~RTC_NMI_MASK;
            r->nmi_masked = a->data[i] & RTC_NMI_MASK;
        } else if (port == RTC_DATA && a->write) {
            rtc_write(r, r->index, a->data[i]);
        } else if (port == RTC_DATA) {
            a->data[i] = rtc_read(r, r->index);
        } else if (!a->write) {
            a->data[i] = 0xff; /* the index port is write-only */
        }
    }
    pthread_mutex_unlock(&r->lock);
}

void rtc_save(struct rtc *r, struct rtc_state *st)
{
    memset(st, 0, sizeof(*st));
    pthread_mutex_lock(&r->lock);
    st->offset = r->offset;
    st->pending[0] = r->pending.tm_sec;
    st->pending[1] = r->pending.tm_min;
    st->pending[2] = r->pending.tm_hour;
    st->pending[3] = r->pending.tm_mday;
    st->pending[4] = r->pending.tm_mon;
    st->pending[5] = r->pending.tm_year;
    st->pending[6] = r->pending.tm_wday;
    st->pending[7] = r->pending.tm_yday;
    st->pending[8] = r->pending.tm_isdst;
    st->index = r->index;
    st->nmi_masked = r->nmi_masked;
    st->frozen = r->frozen;
    memcpy(st->ram, r->ram, sizeof(st->ram));
    pthread_mutex_unlock(&r->lock);
}

/*
 * The range of each saved pending field (struct tm's order): what a
 * guest's writes can put there (a decoded byte, minus one for the month
 * and weekday; a year near the clock's) or the calendar computes.
 */
static const struct {
    const char *name;
    int32_t min, max;
} rtc_pending_range[9] = {
    {"pending seconds", -1, 255},
    {"pending minutes", -1, 255},
    {"pending hours", -1, 255},
    {"pending day of month", -1, 255},
    {"pending month", -1, 255},
    {"pending year", -RTC_MAX_PENDING_YEAR, RTC_MAX_PENDING_YEAR},
    {"pending day of week", -1, 255},
    {"pending day of year", 0, 365},
    {"pending daylight saving flag", 0, 0},
};

int rtc_state_check(const struct rtc_state *st, char *why, size_t len)
{
    if (st->offset < -RTC_MAX_OFFSET || st->offset > RTC_MAX_OFFSET) {
        snprintf(why, len,
                 "offset %" PRId64 " s from the host's clock is out of "
                 "range (-%lld to %lld)",
                 st->offset, RTC_MAX_OFFSET, RTC_MAX_OFFSET);
        return -EINVAL;
    }
    for (unsigned i = 0; i < 9; i++)
        if (st->pending[i] < rtc_pending_range[i].min ||
            st->pending[i] > rtc_pending_range[i].max) {
            snprintf(why, len,
                     "%s %" PRId32 " is out of range (%" PRId32 " to %" PRId32
                     ")",
                     rtc_pending_range[i].name, st->pending[i],
                     rtc_pending_range[i].min, rtc_pending_range[i].max);
            return -EINVAL;
        }
    return 0;
}

static int rtc_pending_field(const struct rtc_state *st, unsigned i)
{
    return (int)rtc_clamp(st->pending[i], rtc_pending_range[i].min,
                          rtc_pending_range[i].max);
}

void rtc_load(struct rtc *r, const struct rtc_state *st)
{
    pthread_mutex_lock(&r->lock);
    r->offset = rtc_clamp(st->offset, -RTC_MAX_OFFSET, RTC_MAX_OFFSET);
    memset(&r->pending, 0, sizeof(r->pending));
    r->pending.tm_sec = rtc_pending_field(st, 0);
    r->pending.tm_min = rtc_pending_field(st, 1);
    r->pending.tm_hour = rtc_pending_field(st, 2);
    r->pending.tm_mday = rtc_pending_field(st, 3);
    r->pending.tm_mon = rtc_pending_field(st, 4);
    r->pending.tm_year = rtc_pending_field(st, 5);
    r->pending.tm_wday = rtc_pending_field(st, 6);
    r->pending.tm_yday = rtc_pending_field(st, 7);
    r->pending.tm_isdst = rtc_pending_field(st, 8);
    r->index = st->index % RTC_NREGS;
    r->nmi_masked = st->nmi_masked != 0;
    r->frozen = st->frozen != 0;
    memcpy(r->ram, st->ram, sizeof(r->ram));
    pthread_mutex_unlock(&r->lock);
}

static int rtc_dev_init(void *dev, const struct dev_ctx *ctx)
{
    rtc_init(dev, ctx->env);
    return 0;
}

static void rtc_dev_fini(void *dev)
{
    rtc_fini(dev);
}

static void rtc_dev_save(void *dev, void *state)
{
    rtc_save(dev, state);
}

static int rtc_dev_check(const void *state, char *why, size_t len)
{
    return rtc_state_check(state, why, len);
}

static void rtc_dev_load(void *dev, const void *state)
{
    rtc_load(dev, state);
}

static const struct dev_io rtc_dev_pio[] = {
    {0, RTC_NPORTS, rtc_io},
    {0, 0, NULL},
};

/* No reset: the clock and CMOS RAM are battery-backed on a PC. */
const struct dev_desc rtc_dev = {
    .name = "rtc",
    .size = sizeof(struct rtc),
    .pio = rtc_dev_pio,
    .init = rtc_dev_init,
    .fini = rtc_dev_fini,
    .snap_version = 1,
    .snap_size = sizeof(struct rtc_state),
    .save = rtc_dev_save,
    .check = rtc_dev_check,
    .load = rtc_dev_load,
};
