/* console.c: stdin -> the guest's UART; a terminal in raw mode, Ctrl-A x. */
#include "console.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define CTRL_A 0x01
#define RETRY_MS 5 /* a full FIFO drains at the guest's pace */

static struct termios saved;
static bool saved_valid;

void console_restore(void)
{
    if (saved_valid)
        tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
    saved_valid = false;
}

/*
 * Signals that end kvmrun by their default action and that it does not
 * read itself (SIGINT, SIGTERM, SIGHUP and SIGUSR1 stop the VM through the
 * signalfd; SIGSYS has cli/sigsys.c): the terminal is put back first,
 * then kvmrun dies of the signal as before. Not SIGSEGV and its kind:
 * the sanitizers report those.
 */
static const int console_fatal[] = {SIGQUIT,   SIGABRT, SIGALRM, SIGVTALRM,
                                    SIGPROF,   SIGXCPU, SIGXFSZ, SIGIO,
                                    SIGSTKFLT, SIGPWR};

/* SA_RESETHAND made the action the default again on entry; the signal
 * raised again waits until the handler returns (tcsetattr and tgkill are
 * async-signal-safe and allowed by the seccomp filters). */
static void console_fatal_signal(int sig)
{
    int saved_errno = errno;

    console_restore();
    raise(sig);
    errno = saved_errno;
}

/* A signal ignored when kvmrun started (SIGQUIT for a background job of
 * a shell, SIGHUP under nohup...) stays ignored. */
static void console_catch_fatal(void)
{
    struct sigaction sa, old;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = console_fatal_signal;
    sa.sa_flags = (int)SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(console_fatal) / sizeof(*console_fatal); i++)
        if (sigaction(console_fatal[i], NULL, &old) == 0 &&
            old.sa_handler != SIG_IGN)
            sigaction(console_fatal[i], &sa, NULL);
}

/* Raw mode, as QEMU's -serial stdio: every key goes to the guest, Ctrl-C
 * included; output keeps its line endings (the guest sends \r\n). */
static void console_raw(struct console *c)
{
    struct termios raw;

    if (tcgetattr(STDIN_FILENO, &saved) < 0)
        return;
    raw = saved;
    raw.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR |
                               IGNCR | ICRNL | IXON);
    raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    raw.c_cflag |= CS8;
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) < 0)
        return;
    saved_valid = true;
    c->tty = true;
    atexit(console_restore);
    console_catch_fatal();
}

void console_init(struct console *c)
{
    memset(c, 0, sizeof(*c));
    c->reading = true;
    /* A background job reading its terminal would be stopped (SIGTTIN). */
    if (isatty(STDIN_FILENO)) {
        if (tcgetpgrp(STDIN_FILENO) != getpgrp())
            c->reading = false;
        else
            console_raw(c);
    }
}

int console_poll_fd(const struct console *c)
{
    return c->reading && c->len == 0 ? STDIN_FILENO : -1;
}

int console_timeout(const struct console *c)
{
    return c->len ? RETRY_MS : -1;
}

/* What Ctrl-A h prints, as QEMU's C-a h: on stderr, the terminal kvmrun
 * reads from (raw, but output keeps its \n -> \r\n). */
static const char console_keys[] =
    "\nkvmrun: console keys (after Ctrl-A):\n"
    "  Ctrl-A x       quit kvmrun (status 0)\n"
    "  Ctrl-A h       this help\n"
    "  Ctrl-A Ctrl-A  send Ctrl-A to the guest\n";

/* Ctrl-A x quits, Ctrl-A h lists the keys, Ctrl-A Ctrl-A sends one
 * Ctrl-A, as in QEMU; Ctrl-A and any other key is dropped. True when ch
 * is kvmrun's, not the guest's. */
static bool console_escape(struct console *c, unsigned char ch)
{
    if (!c->escape) {
        c->escape = ch == CTRL_A;
        return c->escape;
    }
    c->escape = false;
    if (ch == 'x' || ch == 'X') {
        c->quit = true;
        return true;
    }
    if (ch == 'h' || ch == 'H' || ch == '?')
        fputs(console_keys, stderr);
    return ch != CTRL_A;
}

static void console_read(struct console *c)
{
    unsigned char buf[sizeof(c->pending)];
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

    if (n <= 0) {
        if (n == 0 || (errno != EINTR && errno != EAGAIN))
            c->reading = false; /* EOF: the guest reads nothing more */
        return;
    }
    c->head = 0;
    c->len = 0;
    for (ssize_t i = 0; i < n; i++)
        if (!c->tty || !console_escape(c, buf[i]))
            c->pending[c->len++] = buf[i];
}

void console_pump(struct console *c, struct kvmrun_vm *vm, bool readable)
{
    if (readable && c->len == 0)
        console_read(c);
    if (c->len) {
        size_t n = kvmrun_serial_input(vm, c->pending + c->head, c->len);

        c->head += n;
        c->len -= n;
    }
}
