/* test_bus.c: unit tests of bus registration, lookup and dispatch. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bus.h"
#include "kvmrun.h"

/* A device that records every access and reads as 0xa0, 0xa1, ... */
#define FAKE_LOG 8

struct fake_access {
    uint64_t offset;
    unsigned size;
    bool write;
    unsigned vcpu;
    uint8_t *data;
    uint8_t bytes[8];
};

struct fake {
    struct fake_access log[FAKE_LOG];
    unsigned n;
};

static void fake_io(void *dev, const struct bus_access *a)
{
    struct fake *f = dev;
    struct fake_access *r = &f->log[f->n++ % FAKE_LOG];

    *r = (struct fake_access){.offset = a->offset,
                              .size = a->size,
                              .write = a->write,
                              .vcpu = a->vcpu,
                              .data = a->data};
    if (!a->write)
        for (unsigned i = 0; i < a->size; i++)
            a->data[i] = (uint8_t)(0xa0 + i);
    memcpy(r->bytes, a->data, a->size);
}

/* Report lines captured from the bus. */
#define MAX_LINES (BUS_SEEN_SLOTS + 16)

struct reports {
    char line[MAX_LINES][160];
    unsigned n;
};

static void capture(void *opaque, const char *line)
{
    struct reports *r = opaque;

    if (r->n < MAX_LINES)
        snprintf(r->line[r->n], sizeof(r->line[0]), "%s", line);
    r->n++;
}

struct fixture {
    struct bus bus;
    struct reports reports;
};

static int setup(void **state)
{
    static struct fixture fx;

    memset(&fx, 0, sizeof(fx));
    bus_init(&fx.bus, "port", capture, &fx.reports);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    bus_fini(&fx->bus);
    return 0;
}

static int reg(struct bus *bus, uint64_t base, uint64_t len, const char *name,
               void *dev)
{
    return bus_register(bus, base, len, name, fake_io, dev);
}

static void test_dispatch_write_reaches_device(void **state)
{
    struct fixture *fx = *state;
    struct fake uart = {0};
    uint8_t data[2] = {0x41, 0x42};

    assert_int_equal(reg(&fx->bus, 0x3f8, 8, "uart", &uart), 0);
    assert_true(bus_dispatch(&fx->bus, 0x3fa, data, 2, true, 3));
    assert_int_equal(uart.n, 1);
    assert_int_equal(uart.log[0].offset, 2);
    assert_int_equal(uart.log[0].size, 2);
    assert_true(uart.log[0].write);
    assert_int_equal(uart.log[0].vcpu, 3);
    assert_ptr_equal(uart.log[0].data, data);
    assert_memory_equal(uart.log[0].bytes, "\x41\x42", 2);
    assert_int_equal(fx->reports.n, 0);
}

static void test_dispatch_read_fills_from_device(void **state)
{
    struct fixture *fx = *state;
    struct fake uart = {0};
    uint8_t data[4] = {0};

    assert_int_equal(reg(&fx->bus, 0x3f8, 8, "uart", &uart), 0);
    assert_true(bus_dispatch(&fx->bus, 0x3ff, data, 4, false, 1));
    assert_int_equal(uart.n, 1);
    assert_int_equal(uart.log[0].offset, 7);
    assert_int_equal(uart.log[0].size, 4);
    assert_false(uart.log[0].write);
    assert_int_equal(uart.log[0].vcpu, 1);
    assert_memory_equal(data, "\xa0\xa1\xa2\xa3", 4);
    assert_true(bus_dispatch(&fx->bus, 0x3f8, data, 1, false, 0));
    assert_int_equal(uart.n, 2);
    assert_int_equal(uart.log[1].offset, 0);
    assert_int_equal(fx->reports.n, 0);
}

/* Registering [base, base + len) as name fails with -EEXIST naming both. */
static void assert_overlap(struct bus *bus, uint64_t base, uint64_t len,
                           const char *name, const char *other)
{
    unsigned before = bus->nranges;
    int r = reg(bus, base, len, name, NULL);

    if (r != -EEXIST)
        fail_msg("%#llx+%#llx: %d, expected -EEXIST", (unsigned long long)base,
                 (unsigned long long)len, r);
    assert_non_null(strstr(kvmrun_last_error(), name));
    assert_non_null(strstr(kvmrun_last_error(), other));
    assert_int_equal(bus->nranges, before);
}

static void test_overlap_refused(void **state)
{
    struct fixture *fx = *state;
    struct fake alpha = {0};

    assert_int_equal(reg(&fx->bus, 0x100, 0x10, "alpha", &alpha), 0);
    assert_overlap(&fx->bus, 0xf8, 0x10, "beta", "alpha");  /* low end */
    assert_overlap(&fx->bus, 0x10f, 0x2, "beta", "alpha");  /* high end */
    assert_overlap(&fx->bus, 0x104, 0x4, "beta", "alpha");  /* inside */
    assert_overlap(&fx->bus, 0x0, 0x1000, "beta", "alpha"); /* around */
    assert_overlap(&fx->bus, 0x100, 0x10, "beta", "alpha"); /* same */
    assert_overlap(&fx->bus, 0xff, 0x2, "beta", "alpha");   /* one byte */
    assert_string_equal(kvmrun_last_error(),
                        "beta: port range 0xff-0x100 overlaps alpha at "
                        "0x100-0x10f");
    assert_ptr_equal(bus_find(&fx->bus, 0x100)->dev, &alpha);
}

static void test_adjacent_ranges_accepted(void **state)
{
    struct fixture *fx = *state;
    struct fake a = {0}, below = {0}, above = {0};

    assert_int_equal(reg(&fx->bus, 0x100, 0x10, "a", &a), 0);
    assert_int_equal(reg(&fx->bus, 0xf0, 0x10, "below", &below), 0);
    assert_int_equal(reg(&fx->bus, 0x110, 0x10, "above", &above), 0);
    assert_int_equal(fx->bus.nranges, 3);
    assert_ptr_equal(bus_find(&fx->bus, 0xff)->dev, &below);
    assert_ptr_equal(bus_find(&fx->bus, 0x100)->dev, &a);
    assert_ptr_equal(bus_find(&fx->bus, 0x10f)->dev, &a);
    assert_ptr_equal(bus_find(&fx->bus, 0x110)->dev, &above);
    assert_ptr_equal(bus_find(&fx->bus, 0x11f)->dev, &above);
    assert_null(bus_find(&fx->bus, 0xef));
    assert_null(bus_find(&fx->bus, 0x120));
}

static void test_empty_and_wrapping_refused(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(reg(&fx->bus, 0x100, 0, "empty", NULL), -EINVAL);
    assert_non_null(strstr(kvmrun_last_error(), "empty"));
    assert_int_equal(reg(&fx->bus, UINT64_MAX, 2, "wrap", NULL), -EINVAL);
    assert_non_null(strstr(kvmrun_last_error(), "wrap"));
    assert_int_equal(reg(&fx->bus, UINT64_MAX - 0xf, 0x20, "wrap2", NULL),
                     -EINVAL);
    assert_int_equal(reg(&fx->bus, 2, UINT64_MAX, "wrap3", NULL), -EINVAL);
    assert_int_equal(fx->bus.nranges, 0);
    /* Ranges ending exactly at the top of the space are fine. */
    assert_int_equal(reg(&fx->bus, UINT64_MAX, 1, "top", NULL), 0);
    assert_int_equal(reg(&fx->bus, 0, UINT64_MAX, "rest", NULL), 0);
    assert_string_equal(bus_find(&fx->bus, UINT64_MAX)->name, "top");
    assert_string_equal(bus_find(&fx->bus, UINT64_MAX - 1)->name, "rest");
    assert_string_equal(bus_find(&fx->bus, 0)->name, "rest");
}

#define NMANY 61

static void test_many_ranges_out_of_order(void **state)
{
    struct fixture *fx = *state;
    static struct fake devs[NMANY];
    static char names[NMANY][8];

    memset(devs, 0, sizeof(devs));
    for (unsigned k = 0; k < NMANY; k++) {
        unsigned i = (k * 37) % NMANY; /* 37 is coprime with 61 */

        snprintf(names[i], sizeof(names[i]), "d%u", i);
        assert_int_equal(
            reg(&fx->bus, 0x1000 + i * 0x100, 0x10 + i, names[i], &devs[i]), 0);
    }
    assert_int_equal(fx->bus.nranges, NMANY);
    for (unsigned j = 1; j < NMANY; j++)
        assert_true(fx->bus.ranges[j - 1].base < fx->bus.ranges[j].base);
    for (unsigned i = 0; i < NMANY; i++) {
        uint64_t base = 0x1000 + i * 0x100, end = base + 0x10 + i;
        const struct bus_range *r = bus_find(&fx->bus, base);

        assert_non_null(r);
        assert_ptr_equal(r->dev, &devs[i]);
        assert_string_equal(r->name, names[i]);
        assert_ptr_equal(bus_find(&fx->bus, end - 1), r);
        assert_null(bus_find(&fx->bus, end));
        assert_null(bus_find(&fx->bus, base - 1));
        assert_true(
            bus_dispatch(&fx->bus, end - 1, (uint8_t[1]){0}, 1, true, 0));
        assert_int_equal(devs[i].n, 1);
        assert_int_equal(devs[i].log[0].offset, end - 1 - base);
    }
    assert_int_equal(fx->reports.n, 0);
}

static void test_find_boundaries(void **state)
{
    struct fixture *fx = *state;
    struct fake lo = {0}, hi = {0};

    assert_null(bus_find(&fx->bus, 0));
    assert_null(bus_find(&fx->bus, UINT64_MAX));
    assert_int_equal(reg(&fx->bus, 0, 1, "lo", &lo), 0);
    assert_int_equal(reg(&fx->bus, UINT64_MAX - 1, 2, "hi", &hi), 0);
    assert_ptr_equal(bus_find(&fx->bus, 0)->dev, &lo);
    assert_null(bus_find(&fx->bus, 1));
    assert_null(bus_find(&fx->bus, UINT64_MAX - 2));
    assert_ptr_equal(bus_find(&fx->bus, UINT64_MAX - 1)->dev, &hi);
    assert_ptr_equal(bus_find(&fx->bus, UINT64_MAX)->dev, &hi);
}

static void test_unclaimed_read_all_ones_reported_once(void **state)
{
    struct fixture *fx = *state;
    struct fake dev = {0};
    uint8_t data[4] = {0};

    assert_int_equal(reg(&fx->bus, 0x70, 2, "rtc", &dev), 0);
    assert_false(bus_dispatch(&fx->bus, 0x72, data, 4, false, 1));
    assert_memory_equal(data, "\xff\xff\xff\xff", 4);
    assert_int_equal(dev.n, 0);
    assert_int_equal(fx->reports.n, 1);
    assert_string_equal(fx->reports.line[0],
                        "vcpu1: unclaimed port 0x72 read (4 bytes): "
                        "ignored, reads as all ones");
    memset(data, 0, sizeof(data));
    assert_false(bus_dispatch(&fx->bus, 0x72, data, 2, false, 0));
    assert_memory_equal(data, "\xff\xff\x00\x00", 4); /* only size bytes */
    assert_int_equal(fx->reports.n, 1);
    assert_false(bus_dispatch(&fx->bus, 0x80, data, 1, false, 0));
    assert_int_equal(fx->reports.n, 2);
    assert_string_equal(fx->reports.line[1],
                        "vcpu0: unclaimed port 0x80 read (1 byte): "
                        "ignored, reads as all ones");
}

static void test_unclaimed_write_reported_once(void **state)
{
    struct fixture *fx = *state;
    struct bus mmio;
    uint8_t data[4] = {1, 2, 3, 4};

    bus_init(&mmio, "MMIO", capture, &fx->reports);
    assert_false(bus_dispatch(&mmio, 0xfee00000, data, 4, true, 2));
    assert_false(bus_dispatch(&mmio, 0xfee00000, data, 4, true, 2));
    assert_false(bus_dispatch(&mmio, 0xfee00000, data, 1, true, 0));
    assert_memory_equal(data, "\x01\x02\x03\x04", 4); /* left alone */
    assert_int_equal(fx->reports.n, 1);
    assert_string_equal(fx->reports.line[0],
                        "vcpu2: unclaimed MMIO 0xfee00000 write (4 bytes): "
                        "ignored");
    bus_fini(&mmio);
}

static void test_seen_table_full_reported_once(void **state)
{
    struct fixture *fx = *state;
    uint8_t data[1];
    char expect[160];

    for (unsigned i = 0; i < BUS_SEEN_SLOTS; i++)
        bus_dispatch(&fx->bus, 0x1000 + i, data, 1, false, 0);
    assert_int_equal(fx->reports.n, BUS_SEEN_SLOTS);
    snprintf(expect, sizeof(expect),
             "vcpu0: unclaimed port %#x read (1 byte): ignored, reads as "
             "all ones",
             0x1000 + BUS_SEEN_SLOTS - 1);
    assert_string_equal(fx->reports.line[BUS_SEEN_SLOTS - 1], expect);
    /* Seen addresses stay quiet; the first new one overflows the table. */
    bus_dispatch(&fx->bus, 0x1000, data, 1, true, 0);
    assert_int_equal(fx->reports.n, BUS_SEEN_SLOTS);
    for (unsigned i = 0; i < 10; i++)
        bus_dispatch(&fx->bus, 0x2000 + i, data, 1, i & 1, 0);
    assert_int_equal(fx->reports.n, BUS_SEEN_SLOTS + 1);
    snprintf(expect, sizeof(expect),
             "more than %d unclaimed port addresses: no longer reporting "
             "them",
             BUS_SEEN_SLOTS);
    assert_string_equal(fx->reports.line[BUS_SEEN_SLOTS], expect);
    /* Reads still return all ones when not reported. */
    data[0] = 0;
    assert_false(bus_dispatch(&fx->bus, 0x3000, data, 1, false, 0));
    assert_int_equal(data[0], 0xff);
    assert_int_equal(fx->reports.n, BUS_SEEN_SLOTS + 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_dispatch_write_reaches_device),
        T(test_dispatch_read_fills_from_device),
        T(test_overlap_refused),
        T(test_adjacent_ranges_accepted),
        T(test_empty_and_wrapping_refused),
        T(test_many_ranges_out_of_order),
        T(test_find_boundaries),
        T(test_unclaimed_read_all_ones_reported_once),
        T(test_unclaimed_write_reported_once),
        T(test_seen_table_full_reported_once),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
