/*
 * vsock-tool.c: both ends of bench/vsock's AF_VSOCK measurements (a static
 * binary: the guest's initramfs runs it too, as tests/kvm/vsock_tool).
 *
 *   vsock-tool serve PORT            the guest's end: accepts connections
 *                                    one at a time, each serving the one
 *                                    request its first byte names (below)
 *   vsock-tool rx CID PORT SECONDS   host -> guest: writes for SECONDS,
 *                                    shuts down writing, reads the byte
 *                                    count the guest received
 *   vsock-tool tx CID PORT SECONDS   guest -> host: the guest writes for
 *                                    SECONDS, then closes; read to EOF
 *   vsock-tool rtt CID PORT COUNT SIZE  COUNT round trips of SIZE bytes
 *                                    (each written, echoed back whole),
 *                                    after 10 unmeasured ones
 *
 * rx and tx print "bytes N usec T gbps G", timed on this side from the
 * request to the last byte (rx: to the guest's count, which arrives after
 * its last read). rtt prints "rtt n N p50_us X p99_us Y", stopping early
 * after 20 s. Bounded: alarm(300) on the host's side, 60 s receive
 * timeouts. Status 0, or 1 with one line "vsock-tool: what: why".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#define VT_CHUNK 65536
#define VT_RTT_MAX 100000
#define VT_RTT_WARM 10
#define VT_RTT_SECONDS 20

/* The request a connection's first byte names. */
enum { VT_SINK = 'R', VT_SOURCE = 'S', VT_ECHO = 'E' };

static uint8_t vt_buf[VT_CHUNK];

static void vt_die(const char *what)
{
    printf("vsock-tool: %s: %s\n", what, strerror(errno));
    fflush(stdout);
    exit(1);
}

static uint64_t vt_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int vt_socket(void)
{
    struct timeval tv = {60, 0};
    int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        vt_die("socket(AF_VSOCK)");
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

static int vt_connect(const char *cid, const char *port)
{
    struct sockaddr_vm a = {.svm_family = AF_VSOCK};
    int fd = vt_socket();

    a.svm_cid = (unsigned)strtoul(cid, NULL, 0);
    a.svm_port = (unsigned)strtoul(port, NULL, 0);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        vt_die("connect");
    return fd;
}

static void vt_write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;

    while (n) {
        ssize_t w = write(fd, b, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            vt_die("write");
        b += w;
        n -= (size_t)w;
    }
}

/* Reads exactly n bytes; 0, or -1 at EOF before the first byte. */
static int vt_read_all(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    size_t got = 0;

    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            vt_die("read");
        if (r == 0) {
            if (got == 0)
                return -1;
            errno = EPIPE;
            vt_die("read (a short message)");
        }
        got += (size_t)r;
    }
    return 0;
}

/* Reads to EOF; the byte count. */
static uint64_t vt_drain(int fd)
{
    uint64_t total = 0;
    ssize_t r;

    while ((r = read(fd, vt_buf, sizeof(vt_buf))) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            vt_die("read");
        total += (uint64_t)r;
    }
    return total;
}

/* Writes for ms milliseconds; the byte count. */
static uint64_t vt_flood(int fd, uint64_t ms)
{
    uint64_t end = vt_now_ns() + ms * 1000000u, total = 0;

    while (vt_now_ns() < end) {
        vt_write_all(fd, vt_buf, sizeof(vt_buf));
        total += sizeof(vt_buf);
    }
    return total;
}

static void vt_serve_one(int c)
{
    uint8_t req;
    uint64_t v;

    if (vt_read_all(c, &req, 1) < 0)
        return;
    switch (req) {
    case VT_SINK:
        v = vt_drain(c);
        vt_write_all(c, &v, sizeof(v));
        break;
    case VT_SOURCE:
        if (vt_read_all(c, &v, sizeof(v)) == 0)
            vt_flood(c, v);
        break;
    case VT_ECHO:
        for (;;) {
            ssize_t r = read(c, vt_buf, sizeof(vt_buf));

            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            vt_write_all(c, vt_buf, (size_t)r);
        }
        break;
    }
}

static _Noreturn void vt_serve(const char *port)
{
    struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY};
    int l = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (l < 0)
        vt_die("socket(AF_VSOCK)");
    a.svm_port = (unsigned)strtoul(port, NULL, 0);
    if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 4) < 0)
        vt_die("bind/listen");
    printf("listening\n");
    fflush(stdout);
    for (;;) {
        int c = accept(l, NULL, NULL);

        if (c < 0 && errno == EINTR)
            continue;
        if (c < 0)
            vt_die("accept");
        vt_serve_one(c);
        close(c);
    }
}

static void vt_print_rate(uint64_t bytes, uint64_t ns)
{
    printf("bytes %" PRIu64 " usec %" PRIu64 " gbps %.4f\n", bytes, ns / 1000,
           ns ? (double)bytes * 8 / (double)ns : 0.0);
}

static int vt_rx(int fd, uint64_t ms)
{
    uint8_t req = VT_SINK;
    uint64_t t0 = vt_now_ns(), got;

    vt_write_all(fd, &req, 1);
    vt_flood(fd, ms);
    if (shutdown(fd, SHUT_WR) < 0)
        vt_die("shutdown");
    if (vt_read_all(fd, &got, sizeof(got)) < 0) {
        errno = EPIPE;
        vt_die("read (no count from the guest)");
    }
    vt_print_rate(got, vt_now_ns() - t0);
    return 0;
}

static int vt_tx(int fd, uint64_t ms)
{
    uint8_t req[1 + sizeof(ms)] = {VT_SOURCE};
    uint64_t t0 = vt_now_ns(), got;

    memcpy(req + 1, &ms, sizeof(ms));
    vt_write_all(fd, req, sizeof(req));
    got = vt_drain(fd);
    vt_print_rate(got, vt_now_ns() - t0);
    return 0;
}

static int vt_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static int vt_rtt(int fd, unsigned count, size_t size)
{
    static uint64_t t[VT_RTT_MAX];
    uint8_t req = VT_ECHO;
    uint64_t stop = vt_now_ns() + VT_RTT_SECONDS * 1000000000ull;
    unsigned n = 0;

    if (count < 1 || count > VT_RTT_MAX || size < 1 || size > VT_CHUNK) {
        fprintf(stderr, "vsock-tool: rtt: COUNT 1-%d, SIZE 1-%d\n", VT_RTT_MAX,
                VT_CHUNK);
        return 2;
    }
    vt_write_all(fd, &req, 1);
    for (unsigned i = 0; i < count + VT_RTT_WARM && vt_now_ns() < stop; i++) {
        uint64_t t0 = vt_now_ns();

        vt_write_all(fd, vt_buf, size);
        if (vt_read_all(fd, vt_buf, size) < 0) {
            errno = EPIPE;
            vt_die("read (the echo ended)");
        }
        if (i >= VT_RTT_WARM)
            t[n++] = vt_now_ns() - t0;
    }
    if (n == 0) {
        printf("vsock-tool: rtt: no round trip in %d s\n", VT_RTT_SECONDS);
        return 1;
    }
    qsort(t, n, sizeof(t[0]), vt_cmp);
    printf("rtt n %u p50_us %.1f p99_us %.1f\n", n, (double)t[n / 2] / 1000,
           (double)t[(n * 99) / 100] / 1000);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "serve") == 0)
        vt_serve(argv[2]);
    alarm(300);
    if (argc == 5 && strcmp(argv[1], "rx") == 0)
        return vt_rx(vt_connect(argv[2], argv[3]),
                     strtoull(argv[4], NULL, 0) * 1000);
    if (argc == 5 && strcmp(argv[1], "tx") == 0)
        return vt_tx(vt_connect(argv[2], argv[3]),
                     strtoull(argv[4], NULL, 0) * 1000);
    if (argc == 6 && strcmp(argv[1], "rtt") == 0)
        return vt_rtt(vt_connect(argv[2], argv[3]),
                      (unsigned)strtoul(argv[4], NULL, 0),
                      (size_t)strtoul(argv[5], NULL, 0));
    fprintf(stderr, "usage: vsock-tool serve PORT | rx CID PORT SECONDS | "
                    "tx CID PORT SECONDS | rtt CID PORT COUNT SIZE\n");
    return 2;
}
