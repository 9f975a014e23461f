/*
 * stream_tool.c: the pipe ends of the serial output tests
 * (tests/kvm/serial_*.sh), around tests/guests/fifo_stream.S's lines.
 *
 *   stream_tool check FILE [LINES]   FILE is a prefix of the stream
 *                                    (with LINES: exactly LINES lines);
 *                                    prints the number of whole lines
 *   stream_tool nonblock CMD ARG...  sets O_NONBLOCK on stdout, runs CMD
 *   stream_tool shrink FD            makes the pipe FD 16 KiB (4 pages):
 *                                    quicker to fill than 64 KiB
 *   stream_tool full FD SECONDS      waits until the pipe FD is full: it
 *                                    holds half its size or more, and as
 *                                    many for 500 ms
 *   stream_tool drain FD FILE        appends what pipe FD holds to FILE
 *   stream_tool read [-w MS] [-b BYTES] [-i MS] [-s STALL] FILE
 *       copies stdin to FILE until EOF: waits MS first, then reads at
 *       most BYTES (4096) at a time, MS (0) apart, and none while the
 *       file STALL exists; once the pipe is full during a stall it
 *       creates STALL.full. The pipe is shrunk first (as above).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define LINE 16 /* "0000000" + 8 hex digits + "\n" */

/* Ends with "stream_tool: WHAT: the error". */
static void die(const char *what)
{
    fprintf(stderr, "stream_tool: %s: %s\n", what, strerror(errno));
    exit(2);
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, ms % 1000 * 1000000L};

    nanosleep(&ts, NULL);
}

static int check(const char *path, long want)
{
    FILE *f = fopen(path, "rb");
    char got[LINE], line[LINE + 1];
    unsigned long n = 0;
    size_t len;

    if (!f)
        die(path);
    while ((len = fread(got, 1, LINE, f)) > 0) {
        snprintf(line, sizeof(line), "0000000%08lx\n", n);
        if (memcmp(got, line, len) != 0) {
            fprintf(stderr,
                    "stream_tool: %s: line %lu is '%.*s', not '%.15s': "
                    "a gap or a repeat\n",
                    path, n, (int)len - (got[len - 1] == '\n'), got, line);
            return 1;
        }
        if (len < LINE)
            break; /* a last partial line: a prefix of the next one */
        n++;
    }
    fclose(f);
    printf("%lu\n", n);
    if (want >= 0 && ((long)n != want || len != 0)) {
        fprintf(stderr, "stream_tool: %s: %lu lines%s, not %ld\n", path, n,
                len ? " and a partial one" : "", want);
        return 1;
    }
    return 0;
}

static int pending(int fd)
{
    int n = 0;

    if (ioctl(fd, FIONREAD, &n) < 0)
        die("FIONREAD");
    return n;
}

/* Full: at least half the pipe's size in it (bytes written in pieces may
 * leave pages part-empty), the same count for 500 ms. */
static bool wait_full(int fd, long timeout_ms, const char *stall)
{
    long end = now_ms() + timeout_ms, since = now_ms();
    int last = -1, half = fcntl(fd, F_GETPIPE_SZ) / 2;

    while (now_ms() < end && (!stall || access(stall, F_OK) == 0)) {
        int n = pending(fd);

        if (n != last || n < half) {
            last = n;
            since = now_ms();
        } else if (now_ms() - since >= 500) {
            return true;
        }
        sleep_ms(10);
    }
    return false;
}

static void shrink(int fd)
{
    if (fcntl(fd, F_SETPIPE_SZ, 16384) < 0)
        die("F_SETPIPE_SZ");
}

static void append(FILE *out, const char *buf, size_t n)
{
    if (fwrite(buf, 1, n, out) != n || fflush(out) != 0)
        die("writing the output file");
}

static int drain(int fd, const char *path)
{
    FILE *out = fopen(path, "ab");
    char buf[65536];
    ssize_t n;

    if (!out)
        die(path);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        append(out, buf, (size_t)n);
    fclose(out);
    return 0;
}

static int copy(int argc, char **argv)
{
    long wait_ms = 0, interval = 0;
    size_t bytes = 4096;
    const char *stall = NULL;
    char full[4200], buf[65536];
    FILE *out;
    int c;

    while ((c = getopt(argc, argv, "w:b:i:s:")) != -1) {
        if (c == 'w')
            wait_ms = atol(optarg);
        else if (c == 'b')
            bytes = (size_t)atol(optarg);
        else if (c == 'i')
            interval = atol(optarg);
        else if (c == 's')
            stall = optarg;
        else
            return 2;
    }
    if (optind != argc - 1 || bytes == 0 || bytes > sizeof(buf))
        return 2;
    if (!(out = fopen(argv[optind], "wb")))
        die(argv[optind]);
    shrink(STDIN_FILENO);
    snprintf(full, sizeof(full), "%s.full", stall ? stall : "");
    sleep_ms(wait_ms);
    for (;;) {
        ssize_t n;

        if (stall && access(stall, F_OK) == 0) {
            if (access(full, F_OK) != 0 &&
                wait_full(STDIN_FILENO, 120000, stall))
                close(open(full, O_WRONLY | O_CREAT, 0644));
            sleep_ms(5);
            continue;
        }
        n = read(STDIN_FILENO, buf, bytes);
        if (n == 0)
            break;
        if (n < 0 && errno != EINTR)
            die("reading stdin");
        if (n > 0)
            append(out, buf, (size_t)n);
        sleep_ms(interval);
    }
    fclose(out);
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";

    if (strcmp(cmd, "check") == 0 && (argc == 3 || argc == 4))
        return check(argv[2], argc == 4 ? atol(argv[3]) : -1);
    if (strcmp(cmd, "nonblock") == 0 && argc > 2) {
        if (fcntl(STDOUT_FILENO, F_SETFL,
                  fcntl(STDOUT_FILENO, F_GETFL) | O_NONBLOCK) < 0)
            die("F_SETFL of stdout");
        execvp(argv[2], argv + 2);
        die(argv[2]);
    }
    if (strcmp(cmd, "shrink") == 0 && argc == 3) {
        shrink(atoi(argv[2]));
        return 0;
    }
    if (strcmp(cmd, "full") == 0 && argc == 4)
        return wait_full(atoi(argv[2]), atol(argv[3]) * 1000, NULL) ? 0 : 1;
    if (strcmp(cmd, "drain") == 0 && argc == 4)
        return drain(atoi(argv[2]), argv[3]);
    if (strcmp(cmd, "read") == 0)
        return copy(argc - 1, argv + 1);
    fprintf(stderr, "usage: stream_tool check|nonblock|shrink|full|drain|"
                    "read ... (see tests/kvm/stream_tool.c)\n");
    return 2;
}
