/*
 * pty_drive.c: runs a command on a new pseudo-terminal, as a user at a
 * terminal would: the command is a session leader with the pty as its
 * controlling terminal, in the foreground. A script read from stdin types
 * and reads; at the end the terminal's settings must be those it had
 * before the command (a program that made it raw must have put it back).
 * No python3 or script(1) needed: it runs in the test VM too.
 *
 * usage: pty_drive [-t SECONDS] [-o LOG] -- COMMAND [ARG...] <SCRIPT
 *
 * SCRIPT, one step a line (TEXT takes \r \n \t \\ and \xHH escapes):
 *   expect TEXT   wait until the output since the last match has TEXT
 *   send TEXT     type TEXT
 *   sleep MS      wait MS milliseconds (reading the output meanwhile)
 *   exit STATUS   wait for the command to exit with STATUS
 * A step waits at most -t SECONDS (default 60). Everything the command
 * wrote goes to LOG (default: stdout). Exit status: 0 when every step
 * passed and the terminal was put back; 1 otherwise, with a line on
 * stderr naming the step; 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define OUT_MAX (4u << 20)

static int master = -1;
static pid_t child = -1;
static int child_status = -1; /* its wait status once it exited */
static FILE *log_file;
static char *out;      /* everything read from the terminal */
static size_t out_len; /* bytes in out */
static size_t mark;    /* where the next expect starts */
static unsigned step_s = 60;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
    va_list ap;
    size_t from = out_len > 600 ? out_len - 600 : 0;

    fprintf(stderr, "pty_drive: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n--- the last output (%zu bytes in all):\n%.*s\n---\n",
            out_len, (int)(out_len - from), out + from);
    if (child > 0 && child_status < 0)
        kill(child, SIGKILL);
    exit(1);
}

static long long now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Reads what the terminal has within ms (or until it has nothing more
 * to give once the command exited). */
static void pump(int ms)
{
    struct pollfd p = {.fd = master, .events = POLLIN};
    char buf[4096];
    ssize_t n;

    if (poll(&p, 1, ms) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
        return;
    n = read(master, buf, sizeof(buf));
    if (n <= 0) /* EIO: no process has the slave open; ours keeps it */
        return;
    if (out_len + (size_t)n > OUT_MAX)
        fail("more than %u bytes of output", OUT_MAX);
    memcpy(out + out_len, buf, (size_t)n);
    out_len += (size_t)n;
    fwrite(buf, 1, (size_t)n, log_file);
    fflush(log_file);
}

/* True once the command has exited (child_status set). */
static bool reaped(void)
{
    int st;

    if (child_status < 0 && waitpid(child, &st, WNOHANG) == child)
        child_status = st;
    return child_status >= 0;
}

/* TEXT with its escapes decoded into buf; its length. */
static size_t unescape(const char *text, char *buf, size_t size)
{
    size_t n = 0;

    for (const char *p = text; *p && n < size; p++) {
        if (*p != '\\' || !p[1]) {
            buf[n++] = *p;
            continue;
        }
        switch (*++p) {
        case 'r':
            buf[n++] = '\r';
            break;
        case 'n':
            buf[n++] = '\n';
            break;
        case 't':
            buf[n++] = '\t';
            break;
        case 'x': {
            char hex[3] = {p[1], p[1] ? p[2] : 0, 0};

            buf[n++] = (char)strtoul(hex, NULL, 16);
            p += 2;
            break;
        }
        default:
            buf[n++] = *p;
        }
    }
    return n;
}

static void expect(const char *text)
{
    char want[1024];
    size_t len = unescape(text, want, sizeof(want));
    long long end = now_ms() + step_s * 1000LL;

    for (;;) {
        char *hit = memmem(out + mark, out_len - mark, want, len);

        if (hit) {
            mark = (size_t)(hit - out) + len;
            return;
        }
        if (now_ms() > end)
            fail("expect '%s': not seen within %u s", text, step_s);
        if (reaped()) {
            pump(100);
            if (!memmem(out + mark, out_len - mark, want, len))
                fail("expect '%s': the command exited (status %d) first", text,
                     WIFEXITED(child_status) ? WEXITSTATUS(child_status)
                                             : 128 + WTERMSIG(child_status));
            continue;
        }
        pump(50);
    }
}

static void send_text(const char *text)
{
    char buf[1024];
    size_t len = unescape(text, buf, sizeof(buf));

    if (write(master, buf, len) != (ssize_t)len)
        fail("send '%s': %s", text, strerror(errno));
}

static void sleep_ms(int ms)
{
    long long end = now_ms() + ms;

    while (now_ms() < end)
        pump((int)(end - now_ms()));
}

static void expect_exit(int want)
{
    long long end = now_ms() + step_s * 1000LL;
    int got;

    while (!reaped()) {
        if (now_ms() > end)
            fail("exit %d: the command still runs after %u s", want, step_s);
        pump(50);
    }
    pump(100); /* its last words */
    got = WIFEXITED(child_status) ? WEXITSTATUS(child_status)
                                  : 128 + WTERMSIG(child_status);
    if (got != want)
        fail("exit %d: the command exited with %d", want, got);
}

static void run_step(char *line)
{
    char *arg = strchr(line, ' ');

    line[strcspn(line, "\n")] = 0;
    if (arg)
        *arg++ = 0;
    if (!line[0] || line[0] == '#')
        return;
    if (strcmp(line, "expect") == 0 && arg)
        expect(arg);
    else if (strcmp(line, "send") == 0 && arg)
        send_text(arg);
    else if (strcmp(line, "sleep") == 0 && arg)
        sleep_ms(atoi(arg));
    else if (strcmp(line, "exit") == 0 && arg)
        expect_exit(atoi(arg));
    else
        fail("bad script line '%s'", line);
}

static void start(char **argv, int slave)
{
    child = fork();
    if (child < 0)
        fail("fork: %s", strerror(errno));
    if (child > 0)
        return;
    setsid();
    if (ioctl(slave, TIOCSCTTY, 0) < 0)
        _exit(126);
    dup2(slave, 0);
    dup2(slave, 1);
    dup2(slave, 2);
    close(slave);
    close(master);
    execvp(argv[0], argv);
    _exit(127);
}

static bool same_termios(const struct termios *a, const struct termios *b)
{
    return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag &&
           a->c_cflag == b->c_cflag && a->c_lflag == b->c_lflag &&
           memcmp(a->c_cc, b->c_cc, sizeof(a->c_cc)) == 0;
}

int main(int argc, char **argv)
{
    struct winsize ws = {.ws_row = 24, .ws_col = 80};
    struct termios before, after;
    char line[2048];
    int opt, slave;

    log_file = stdout;
    while ((opt = getopt(argc, argv, "+t:o:")) != -1) {
        if (opt == 't')
            step_s = (unsigned)atoi(optarg);
        else if (opt == 'o' && !(log_file = fopen(optarg, "w")))
            return 2;
        else if (opt != 'o')
            return 2;
    }
    if (optind >= argc || !(out = malloc(OUT_MAX)))
        return 2;
    if (openpty(&master, &slave, NULL, NULL, &ws) < 0 ||
        tcgetattr(slave, &before) < 0) {
        fprintf(stderr, "pty_drive: openpty: %s\n", strerror(errno));
        return 1;
    }
    fcntl(master, F_SETFD, FD_CLOEXEC);
    start(argv + optind, slave);
    while (fgets(line, sizeof(line), stdin))
        run_step(line);
    if (!reaped())
        fail("the script ended with the command still running");
    /* The slave is still open here (ours): its settings outlive the
     * command, as a real terminal's do. */
    if (tcgetattr(slave, &after) < 0)
        fail("tcgetattr: %s", strerror(errno));
    if (!same_termios(&before, &after))
        fail("the terminal was not put back (lflag %#x, was %#x; iflag %#x, "
             "was %#x)",
             after.c_lflag, before.c_lflag, after.c_iflag, before.c_iflag);
    return 0;
}
