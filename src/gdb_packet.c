/* gdb_packet.c: the GDB remote protocol's framing and packet fields. */
#include "gdb_packet.h"

#include <string.h>

#include "hex.h"

enum { RX_IDLE, RX_BODY, RX_SUM1, RX_SUM2, RX_SKIP, RX_SKIP_SUM };

void gdbp_rx_init(struct gdbp_rx *rx)
{
    rx->state = RX_IDLE;
    rx->len = 0;
    rx->sum = 0;
    rx->buf[0] = 0;
}

static enum gdbp_event gdbp_idle(struct gdbp_rx *rx, uint8_t c)
{
    switch (c) {
    case '$':
        rx->state = RX_BODY;
        rx->len = 0;
        rx->sum = 0;
        return GDBP_NONE;
    case 0x03:
        return GDBP_INTERRUPT;
    case '+':
        return GDBP_ACK;
    case '-':
        return GDBP_NAK;
    default:
        return GDBP_NONE; /* noise between packets */
    }
}

/* The body's bytes are kept as sent (X's escapes are undone by
 * gdbp_unescape); run-length encoding is not something gdb sends. */
static enum gdbp_event gdbp_body(struct gdbp_rx *rx, uint8_t c)
{
    if (c == '#') {
        rx->state = RX_SUM1;
        return GDBP_NONE;
    }
    if (c == '$') { /* a new packet: the old one was cut */
        rx->len = 0;
        rx->sum = 0;
        return GDBP_NONE;
    }
    if (rx->len >= GDBP_MAX) {
        rx->state = RX_SKIP;
        return GDBP_OVERFLOW;
    }
    rx->buf[rx->len++] = (char)c;
    rx->sum += c;
    return GDBP_NONE;
}

enum gdbp_event gdbp_feed(struct gdbp_rx *rx, uint8_t c)
{
    int n;

    switch (rx->state) {
    case RX_IDLE:
        return gdbp_idle(rx, c);
    case RX_BODY:
        return gdbp_body(rx, c);
    case RX_SKIP: /* an overlong packet: until its checksum's end */
        if (c == '#') {
            rx->state = RX_SKIP_SUM;
            rx->given = 0;
        }
        return GDBP_NONE;
    case RX_SKIP_SUM: /* its two digits, dropped (it was answered) */
        if (++rx->given == 2)
            rx->state = RX_IDLE;
        return GDBP_NONE;
    case RX_SUM1:
        rx->given = (uint8_t)((n = hex_digit(c)) < 0 ? 0 : n << 4);
        rx->state = n < 0 ? RX_IDLE : RX_SUM2;
        return n < 0 ? GDBP_BAD_CHECKSUM : GDBP_NONE;
    default:
        rx->state = RX_IDLE;
        n = hex_digit(c);
        rx->buf[rx->len <= GDBP_MAX ? rx->len : GDBP_MAX] = 0;
        if (n < 0 || (uint8_t)(rx->given | n) != rx->sum)
            return GDBP_BAD_CHECKSUM;
        return GDBP_PACKET;
    }
}

size_t gdbp_frame(const char *body, size_t len, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t sum = 0;
    size_t o = 0;

    if (cap < 4)
        return 0;
    out[o++] = '$';
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)body[i];

        if (o + 2 > cap - 3)
            return 0;
        if (c == '$' || c == '#' || c == '}' || c == '*') {
            out[o++] = '}';
            sum += '}';
            c ^= 0x20;
        }
        out[o++] = (char)c;
        sum += c;
    }
    out[o++] = '#';
    out[o++] = hex[sum >> 4];
    out[o++] = hex[sum & 15];
    return o;
}

int gdbp_hex_u64(const char **p, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    int n, digits = 0;

    while ((n = hex_digit((uint8_t)*s)) >= 0) {
        if (++digits > 16)
            return -1;
        x = x << 4 | (uint64_t)n;
        s++;
    }
    if (!digits)
        return -1;
    *v = x;
    *p = s;
    return 0;
}

int gdbp_hex_decode(const char *hex, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hex_digit((uint8_t)hex[2 * i]);
        int lo = hi < 0 ? -1 : hex_digit((uint8_t)hex[2 * i + 1]);

        if (lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

void gdbp_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = 0;
}

int gdbp_addr_len(const char **p, char end, uint64_t *addr, uint64_t *len)
{
    const char *s = *p;

    if (gdbp_hex_u64(&s, addr) < 0 || *s++ != ',' ||
        gdbp_hex_u64(&s, len) < 0 || *s != end)
        return -1;
    *p = end ? s + 1 : s;
    return 0;
}

int gdbp_unescape(const char *s, size_t n, uint8_t *out, size_t want)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];

        if (c == '}') {
            if (++i >= n)
                return -1;
            c = (uint8_t)s[i] ^ 0x20;
        }
        if (o >= want)
            return -1;
        out[o++] = c;
    }
    return o == want ? 0 : -1;
}

int gdbp_thread(const char *s, long *tid)
{
    uint64_t v;

    if (strcmp(s, "-1") == 0) {
        *tid = -1;
        return 0;
    }
    if (gdbp_hex_u64(&s, &v) < 0 || *s || v > 0x7fffffff)
        return -1;
    *tid = (long)v;
    return 0;
}

int gdbp_break(const char *pkt, int *type, uint64_t *addr, uint64_t *kind)
{
    const char *s = pkt + 1;

    if ((pkt[0] != 'Z' && pkt[0] != 'z') || *s < '0' || *s > '4' || s[1] != ',')
        return -1;
    *type = *s - '0';
    s += 2;
    /* A condition list (";X...") after the kind is allowed and ignored:
     * kvmrun evaluates no conditions, gdb does. */
    if (gdbp_hex_u64(&s, addr) < 0 || *s++ != ',' ||
        gdbp_hex_u64(&s, kind) < 0 || (*s && *s != ';'))
        return -1;
    return 0;
}

/* One ";ACTION[:TID]" of vCont at *p. */
static int gdbp_vcont_one(const char **p, struct gdbp_vcont *vc)
{
    const char *s = *p;
    char act = *s++, tid[24];
    size_t n;

    if (act == 'C' || act == 'S') { /* the signal is dropped */
        uint64_t sig;

        if (gdbp_hex_u64(&s, &sig) < 0)
            return -1;
        act = act == 'C' ? 'c' : 's';
    } else if (act != 'c' && act != 's' && act != 't') {
        return -1;
    }
    vc->a[vc->n].action = act;
    vc->a[vc->n].tid = -1;
    if (*s == ':') {
        n = strcspn(++s, ";");
        if (n == 0 || n >= sizeof(tid))
            return -1;
        memcpy(tid, s, n);
        tid[n] = 0;
        if (gdbp_thread(tid, &vc->a[vc->n].tid) < 0)
            return -1;
        s += n;
    }
    vc->n++;
    *p = s;
    return 0;
}

int gdbp_vcont(const char *s, struct gdbp_vcont *vc)
{
    vc->n = 0;
    if (*s != ';')
        return -1;
    while (*s == ';') {
        s++;
        if (vc->n >= GDBP_VCONT_MAX || gdbp_vcont_one(&s, vc) < 0)
            return -1;
    }
    return *s ? -1 : 0;
}

int gdbp_xfer(const char *pkt, char *annex, size_t annex_cap, uint64_t *off,
              uint64_t *len)
{
    static const char prefix[] = "qXfer:features:read:";
    const char *s = pkt + sizeof(prefix) - 1, *colon;

    if (strncmp(pkt, prefix, sizeof(prefix) - 1) != 0 ||
        !(colon = strchr(s, ':')) || (size_t)(colon - s) >= annex_cap)
        return -1;
    memcpy(annex, s, (size_t)(colon - s));
    annex[colon - s] = 0;
    s = colon + 1;
    return gdbp_addr_len(&s, 0, off, len);
}
