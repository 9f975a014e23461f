/* fuzz_gdb_packet.c: libFuzzer target feeding a byte stream from a
 * debugger through gdb_packet.c's framing, then every field parser. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdb_packet.h"

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_gdb_packet: %s\n", what);
    abort();
}

/* Every parser on one packet body; their results must hold together. */
static void check_packet(const char *pkt, size_t len)
{
    static uint8_t bytes[GDBP_MAX];
    static char framed[2 * GDBP_MAX + 4], annex[64];
    const char *p = pkt + 1;
    uint64_t a, b;
    struct gdbp_vcont vc;
    long tid;
    int type;

    if (strlen(pkt) != len && !memchr(pkt, 0, len))
        fail("body length");
    if (gdbp_addr_len(&p, ':', &a, &b) == 0 && *(p - 1) != ':')
        fail("addr_len end");
    p = pkt + 1;
    if (gdbp_hex_u64(&p, &a) == 0 && p == pkt + 1)
        fail("hex without digits");
    gdbp_unescape(pkt, len, bytes, len < sizeof(bytes) ? len / 2 : 0);
    if (len / 2 <= sizeof(bytes))
        gdbp_hex_decode(pkt, len / 2, bytes);
    if (gdbp_break(pkt, &type, &a, &b) == 0 && (type < 0 || type > 4))
        fail("break type");
    if (strncmp(pkt, "vCont", 5) == 0 && gdbp_vcont(pkt + 5, &vc) == 0 &&
        (vc.n == 0 || vc.n > GDBP_VCONT_MAX))
        fail("vCont count");
    if (gdbp_thread(pkt, &tid) == 0 && (tid < -1 || tid > 0x7fffffff))
        fail("thread id");
    if (gdbp_xfer(pkt, annex, sizeof(annex), &a, &b) == 0 &&
        strlen(annex) >= sizeof(annex))
        fail("annex");
    if (gdbp_frame(pkt, len, framed, sizeof(framed)) == 0)
        fail("a packet that fits does not frame");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct gdbp_rx rx;
    struct gdbp_rx again;

    gdbp_rx_init(&rx);
    for (size_t i = 0; i < size; i++) {
        enum gdbp_event e = gdbp_feed(&rx, data[i]);

        if (e != GDBP_PACKET)
            continue;
        if (rx.len > GDBP_MAX)
            fail("packet longer than GDBP_MAX");
        check_packet(rx.buf, rx.len);
        /* What the stub would send back frames and parses the same. */
        {
            static char framed[2 * GDBP_MAX + 4];
            size_t n = gdbp_frame(rx.buf, rx.len, framed, sizeof(framed));
            enum gdbp_event e2 = GDBP_NONE;

            gdbp_rx_init(&again);
            for (size_t k = 0; k < n; k++)
                e2 = gdbp_feed(&again, (uint8_t)framed[k]);
            /* Bodies are kept as sent: only those needing no escape
             * come back the same. */
            if (strcspn(rx.buf, "$}*") == rx.len &&
                (e2 != GDBP_PACKET || again.len != rx.len ||
                 memcmp(again.buf, rx.buf, rx.len) != 0))
                fail("framing does not round-trip");
        }
    }
    return 0;
}
