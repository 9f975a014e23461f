/*
 * vsock_tool.c: both ends of tests/kvm/linux_virtio_vsock.sh's AF_VSOCK
 * exchange (a static binary: the guest's initramfs runs it too).
 *
 *   vsock_tool serve PORT BYTES SEED     accept one connection, read to
 *                                        EOF, then send BYTES and close
 *   vsock_tool send CID PORT BYTES SEED  connect, send BYTES, shut down
 *                                        writing, read to EOF
 *   vsock_tool connect CID PORT          connect and close
 *   vsock_tool hold CID PORT SECONDS     connect, say "connected", keep
 *                                        the connection SECONDS idle
 *
 * The bytes sent are an xorshift stream from SEED; each side prints
 * "sent N sum S" and "received N sum S" (FNV-1a), which the test
 * compares across the two ends. Bounded: alarm(600), 120 s receive
 * timeouts. Status 0, or 1 with one line "vsock_tool: what: why".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#define CHUNK 65536

static int die(const char *what)
{
    printf("vsock_tool: %s: %s\n", what, strerror(errno));
    fflush(stdout);
    exit(1);
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static void send_stream(int fd, uint64_t bytes, uint64_t seed)
{
    static uint8_t buf[CHUNK];
    uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1, sum = 0xcbf29ce484222325ULL;
    uint64_t left = bytes;

    while (left) {
        size_t n = left < CHUNK ? (size_t)left : CHUNK;

        for (size_t i = 0; i < n; i += 8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            memcpy(buf + i, &x, n - i < 8 ? n - i : 8);
        }
        sum = fnv(sum, buf, n);
        for (size_t off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, n - off);

            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                die("write");
            off += (size_t)w;
        }
        left -= n;
    }
    printf("sent %" PRIu64 " sum %016" PRIx64 "\n", bytes, sum);
    fflush(stdout);
}

static void recv_stream(int fd)
{
    static uint8_t buf[CHUNK];
    uint64_t total = 0, sum = 0xcbf29ce484222325ULL;
    ssize_t r;

    while ((r = read(fd, buf, sizeof(buf))) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            die("read");
        sum = fnv(sum, buf, (size_t)r);
        total += (uint64_t)r;
    }
    printf("received %" PRIu64 " sum %016" PRIx64 "\n", total, sum);
    fflush(stdout);
}

static int vsock(void)
{
    struct timeval tv = {120, 0};
    int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        die("socket(AF_VSOCK)");
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static int connect_to(const char *cid, const char *port)
{
    struct sockaddr_vm a = {.svm_family = AF_VSOCK};
    int fd = vsock();

    a.svm_cid = (unsigned)strtoul(cid, NULL, 0);
    a.svm_port = (unsigned)strtoul(port, NULL, 0);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        die("connect");
    return fd;
}

int main(int argc, char **argv)
{
    alarm(600);
    if (argc == 5 && strcmp(argv[1], "serve") == 0) {
        struct sockaddr_vm a = {.svm_family = AF_VSOCK,
                                .svm_cid = VMADDR_CID_ANY};
        int l = vsock(), c;

        a.svm_port = (unsigned)strtoul(argv[2], NULL, 0);
        if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0)
            die("bind/listen");
        printf("listening\n");
        fflush(stdout);
        if ((c = accept(l, NULL, NULL)) < 0)
            die("accept");
        recv_stream(c);
        send_stream(c, strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0));
        close(c);
        return 0;
    }
    if (argc == 6 && strcmp(argv[1], "send") == 0) {
        int fd = connect_to(argv[2], argv[3]);

        send_stream(fd, strtoull(argv[4], NULL, 0), strtoull(argv[5], NULL, 0));
        if (shutdown(fd, SHUT_WR) < 0)
            die("shutdown");
        recv_stream(fd);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "hold") == 0) {
        int fd = connect_to(argv[2], argv[3]);

        printf("connected\n");
        fflush(stdout);
        sleep((unsigned)strtoul(argv[4], NULL, 0));
        close(fd);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "connect") == 0) {
        close(connect_to(argv[2], argv[3]));
        printf("connected\n");
        return 0;
    }
    fprintf(stderr, "usage: vsock_tool serve PORT BYTES SEED | send CID PORT "
                    "BYTES SEED | connect CID PORT | hold CID PORT "
                    "SECONDS\n");
    return 2;
}
