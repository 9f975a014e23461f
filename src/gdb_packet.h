/* gdb_packet.h: the GDB remote protocol's framing and packet fields:
 * pure functions on bytes from the debugger, no I/O, no VM. */
#ifndef KVMRUN_GDB_PACKET_H
#define KVMRUN_GDB_PACKET_H

#include <stddef.h>
#include <stdint.h>

/* The largest packet body taken or sent (qSupported's PacketSize). */
#define GDBP_MAX 4096

/* What one byte of the stream completed. */
enum gdbp_event {
    GDBP_NONE,         /* nothing yet */
    GDBP_PACKET,       /* a packet with a good checksum: rx->buf, rx->len */
    GDBP_BAD_CHECKSUM, /* a packet whose checksum is wrong: NAK it */
    GDBP_OVERFLOW,     /* a packet longer than GDBP_MAX: dropped */
    GDBP_INTERRUPT,    /* the Ctrl-C byte outside a packet */
    GDBP_ACK,          /* '+' */
    GDBP_NAK,          /* '-' */
};

struct gdbp_rx {
    int state;
    size_t len;
    uint8_t sum;
    uint8_t given;
    char buf[GDBP_MAX + 1]; /* NUL-terminated body of the last packet */
};

void gdbp_rx_init(struct gdbp_rx *rx);

/* Feeds one byte of the stream; bytes outside a packet are skipped. */
enum gdbp_event gdbp_feed(struct gdbp_rx *rx, uint8_t c);

/* Frames body[0, len) as $body#xx into out (escaping $ # } *); returns
 * the framed length, or 0 if it does not fit in cap. */
size_t gdbp_frame(const char *body, size_t len, char *out, size_t cap);

/* Parses a hex number of 1 to 16 digits at *p and moves *p past it:
 * 0, or -1 (no digit, too many digits). */
int gdbp_hex_u64(const char **p, uint64_t *v);

/* Decodes 2 * n hex digits into out[n]: 0 or -1. */
int gdbp_hex_decode(const char *hex, size_t n, uint8_t *out);

/* Encodes in[n] as 2 * n hex digits and a NUL into out. */
void gdbp_hex_encode(const uint8_t *in, size_t n, char *out);

/* "ADDR,LEN" then end (':' or NUL): 0 with *p after end, or -1. */
int gdbp_addr_len(const char **p, char end, uint64_t *addr, uint64_t *len);

/* X's binary data (} escapes) of s[0, n) into out[want]: 0 when exactly
 * want bytes came out, else -1. */
int gdbp_unescape(const char *s, size_t n, uint8_t *out, size_t want);

/* A thread id ("-1": all, "0": any, else hex 1 .. 2^31-1): 0 or -1. */
int gdbp_thread(const char *s, long *tid);

/* "Zt,ADDR,KIND" or "zt,...": 0 with the fields, or -1. */
int gdbp_break(const char *pkt, int *type, uint64_t *addr, uint64_t *kind);

/* vCont's actions: one default and per thread. */
#define GDBP_VCONT_MAX 16
struct gdbp_vcont {
    unsigned n;
    struct {
        char action; /* 'c', 's' or 't' (C and S count as c and s) */
        long tid;    /* -1: every thread not named otherwise */
    } a[GDBP_VCONT_MAX];
};

/* The part after "vCont": 0 or -1. */
int gdbp_vcont(const char *s, struct gdbp_vcont *vc);

/* "qXfer:features:read:ANNEX:OFF,LEN": 0 with annex (NUL-terminated, at
 * most annex_cap - 1 chars), or -1. */
int gdbp_xfer(const char *pkt, char *annex, size_t annex_cap, uint64_t *off,
              uint64_t *len);

#endif
