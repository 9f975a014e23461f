/* test_gdb_packet.c: unit tests of the gdb stub's framing and parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gdb_packet.h"

/* Feeds s; the last event and how many packets came out. */
static enum gdbp_event feed(struct gdbp_rx *rx, const char *s, size_t n,
                            unsigned *packets)
{
    enum gdbp_event e = GDBP_NONE;

    *packets = 0;
    for (size_t i = 0; i < n; i++) {
        enum gdbp_event one = gdbp_feed(rx, (uint8_t)s[i]);

        *packets += one == GDBP_PACKET;
        if (one != GDBP_NONE)
            e = one;
    }
    return e;
}

static void test_frame_and_checksum(void **state)
{
    struct gdbp_rx rx;
    char out[64];
    unsigned n;
    size_t len = gdbp_frame("OK", 2, out, sizeof(out));

    (void)state;
    assert_int_equal(len, 6);
    assert_memory_equal(out, "$OK#9a", 6);
    gdbp_rx_init(&rx);
    assert_int_equal(feed(&rx, "noise$?#3f", 10, &n), GDBP_PACKET);
    assert_int_equal(n, 1);
    assert_string_equal(rx.buf, "?");
    assert_int_equal(feed(&rx, "$?#3e", 5, &n), GDBP_BAD_CHECKSUM);
    assert_int_equal(feed(&rx, "$?#zz", 5, &n), GDBP_BAD_CHECKSUM);
    assert_int_equal(feed(&rx, "\x03", 1, &n), GDBP_INTERRUPT);
    assert_int_equal(feed(&rx, "-", 1, &n), GDBP_NAK);
    /* Escaped on the way out: $ # } * */
    len = gdbp_frame("a}b", 3, out, sizeof(out));
    assert_memory_equal(out, "$a}]b#", 6);
    assert_int_equal(gdbp_frame("abc", 3, out, 6), 0); /* does not fit */
}

static void test_overlong(void **state)
{
    static char big[GDBP_MAX + 100];
    struct gdbp_rx rx;
    unsigned n;

    (void)state;
    memset(big, 'a', sizeof(big));
    big[0] = '$';
    gdbp_rx_init(&rx);
    assert_int_equal(feed(&rx, big, sizeof(big), &n), GDBP_OVERFLOW);
    /* Its checksum ends it; the next packet is whole. */
    assert_int_equal(feed(&rx, "#00$g#67", 8, &n), GDBP_PACKET);
    assert_int_equal(n, 1);
    assert_string_equal(rx.buf, "g");
}

static void test_fields(void **state)
{
    const char *p = "100000,40:rest";
    uint64_t a, b;
    uint8_t bytes[4];
    long tid;
    int type;
    struct gdbp_vcont vc;
    char annex[16];

    (void)state;
    assert_int_equal(gdbp_addr_len(&p, ':', &a, &b), 0);
    assert_int_equal(a, 0x100000);
    assert_int_equal(b, 0x40);
    assert_string_equal(p, "rest");
    p = "11112222333344445";
    assert_int_equal(gdbp_hex_u64(&p, &a), -1); /* 17 digits */
    assert_int_equal(gdbp_hex_decode("0aFf", 2, bytes), 0);
    assert_int_equal(bytes[1], 0xff);
    assert_int_equal(gdbp_hex_decode("0g", 1, bytes), -1);
    assert_int_equal(gdbp_unescape("}\x03x", 3, bytes, 2), 0);
    assert_int_equal(bytes[0], '#');
    assert_int_equal(gdbp_unescape("}", 1, bytes, 1), -1);
    assert_int_equal(gdbp_thread("-1", &tid), 0);
    assert_int_equal(tid, -1);
    assert_int_equal(gdbp_thread("80000000", &tid), -1);
    assert_int_equal(gdbp_break("Z2,1000,8", &type, &a, &b), 0);
    assert_int_equal(type, 2);
    assert_int_equal(gdbp_break("Z5,1000,8", &type, &a, &b), -1);
    assert_int_equal(gdbp_break("Z0,1000,1;X1,0", &type, &a, &b), 0);
    assert_int_equal(gdbp_vcont(";s:2;c", &vc), 0);
    assert_int_equal(vc.n, 2);
    assert_int_equal(vc.a[0].action, 's');
    assert_int_equal(vc.a[0].tid, 2);
    assert_int_equal(vc.a[1].tid, -1);
    assert_int_equal(gdbp_vcont(";q", &vc), -1);
    assert_int_equal(gdbp_vcont(";S05:1", &vc), 0);
    assert_int_equal(vc.a[0].action, 's');
    assert_int_equal(gdbp_xfer("qXfer:features:read:target.xml:0,ffb", annex,
                               sizeof(annex), &a, &b),
                     0);
    assert_string_equal(annex, "target.xml");
    assert_int_equal(b, 0xffb);
    assert_int_equal(gdbp_xfer("qXfer:features:read:a-very-long-annex-name:0,1",
                               annex, sizeof(annex), &a, &b),
                     -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_and_checksum),
        cmocka_unit_test(test_overlong),
        cmocka_unit_test(test_fields),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
