/* rtc.h: MC146818 real-time clock and CMOS RAM (index and data ports). */
#ifndef KVMRUN_RTC_H
#define KVMRUN_RTC_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bus.h"
#include "dev/dev.h"

#define RTC_NPORTS 2

/* Offsets within the registered range. */
#define RTC_INDEX 0 /* write: register number, bit 7 masks NMI */
#define RTC_DATA 1  /* the selected register */

/* Register numbers (the clock's; the rest of the 128 bytes is RAM). */
#define RTC_SECONDS 0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES 0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS 0x04
#define RTC_HOURS_ALARM 0x05
#define RTC_DAY_OF_WEEK 0x06 /* 1 = Sunday */
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09 /* 0..99 */
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32 /* ACPI FADT's usual century register */
#define RTC_NREGS 128

#define RTC_NMI_MASK 0x80
#define RTC_A_UIP 0x80     /* update in progress: always reads 0 */
#define RTC_A_DEFAULT 0x26 /* 32.768 kHz time base, 1024 Hz rate */
#define RTC_B_SET 0x80     /* updates halted while the guest sets the time */
#define RTC_B_DM 0x04      /* binary, not BCD */
#define RTC_B_24H 0x02
#define RTC_B_DEFAULT RTC_B_24H /* 24-hour, BCD: what firmware leaves */
#define RTC_D_VRT 0x80          /* valid RAM and time */
#define RTC_HOURS_PM 0x80       /* in 12-hour mode */

/*
 * The clock is the host's UTC clock plus offset seconds: a guest that sets
 * the time moves offset, never the host clock. While register B's SET bit
 * is on, the time is frozen in pending so a guest can write the fields one
 * by one; clearing SET commits them.
 */
struct rtc {
    pthread_mutex_t lock; /* leaf lock */
    struct dev_env env;
    uint8_t index;          /* selected register, NMI bit stripped */
    bool nmi_masked;        /* bit 7 of the last index write; unused */
    uint8_t ram[RTC_NREGS]; /* storage, and A, B and the alarms */
    int64_t offset;         /* guest time minus host time, seconds */
    bool frozen;            /* pending holds the time being set */
    struct tm pending;
};

void rtc_init(struct rtc *r, const struct dev_env *env);
void rtc_fini(struct rtc *r);

/* Bus handler for the index and data ports. */
void rtc_io(void *dev, const struct bus_access *access);

/* The guest-visible state, for snapshots (no lock, no pointers). The
 * clock keeps its offset from the host's clock: a restored guest sees
 * the host's time then, as after any pause. */
struct rtc_state {
    int64_t offset;
    int32_t pending[9]; /* struct tm: sec, min, hour, mday, mon, year,
                           wday, yday, isdst */
    uint8_t index, nmi_masked, frozen, pad;
    uint8_t ram[RTC_NREGS];
};

/*
 * How far the guest's clock may be from the host's: some 31,700 years,
 * beyond any date a guest can write (century 255 in binary mode is year
 * 25599), and far enough from INT64_MAX that host time + offset and the
 * calendar arithmetic never overflow. A guest setting a time beyond it
 * gets the limit.
 */
#define RTC_MAX_OFFSET 1000000000000LL
/* The pending (frozen) time's year, as struct tm counts it (from 1900):
 * a guest can only put years near its clock's there. */
#define RTC_MAX_PENDING_YEAR 100000

void rtc_save(struct rtc *r, struct rtc_state *st);

/*
 * Checks a saved state (from a snapshot file, so untrusted) for values
 * this RTC never holds: 0, or -EINVAL with a message in why (len bytes)
 * naming the field, its value and the range, e.g. "offset ... is out of
 * range". A snapshot with such a state is refused.
 */
int rtc_state_check(const struct rtc_state *st, char *why, size_t len);

/* Loads a state; values rtc_state_check() refuses are clamped into
 * range (as serial_load() clamps its FIFO), never trusted. */
void rtc_load(struct rtc *r, const struct rtc_state *st);

/* The device. */
extern const struct dev_desc rtc_dev;

#endif
