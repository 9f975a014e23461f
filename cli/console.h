/* console.h: stdin -> the guest's UART; a terminal in raw mode, Ctrl-A x. */
#ifndef KVMRUN_CLI_CONSOLE_H
#define KVMRUN_CLI_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include "kvmrun.h"

struct console {
    bool reading; /* stdin still gives bytes (not EOF, foreground) */
    bool tty;     /* stdin is our terminal, now in raw mode */
    bool escape;  /* the last byte was Ctrl-A */
    bool quit;    /* Ctrl-A x was typed */
    unsigned char pending[256]; /* read, not yet taken by the UART */
    size_t head, len;
};

/* Starts reading stdin; a terminal in the foreground goes raw until
 * console_restore(): called as the control loop ends, registered with
 * atexit, and from the handler of the signals that would end kvmrun
 * (SIGQUIT, SIGABRT, SIGALRM, ...; SIGSYS has its own). Idempotent. */
void console_init(struct console *c);
void console_restore(void);

/* The fd to poll for input, or -1 (nothing to read now or ever). */
int console_poll_fd(const struct console *c);

/* ms until console_pump() should retry a full UART, or -1. */
int console_timeout(const struct console *c);

/* Reads what stdin has (after poll said so) and/or offers the pending
 * bytes to the UART. */
void console_pump(struct console *c, struct kvmrun_vm *vm, bool readable);

#endif
