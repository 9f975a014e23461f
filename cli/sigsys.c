/* sigsys.c: kvmrun's seccomp confinement and its report of a blocked call. */
#include "sigsys.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "options.h"

/* Appends s to buf (of size cap) at *n: async-signal-safe. */
static void sigsys_append(char *buf, size_t cap, size_t *n, const char *s)
{
    while (*s && *n < cap)
        buf[(*n)++] = *s++;
}

static void sigsys_append_number(char *buf, size_t cap, size_t *n, long v)
{
    char digits[24];
    size_t i = sizeof(digits);
    unsigned long u = v < 0 ? 0 - (unsigned long)v : (unsigned long)v;

    digits[--i] = 0;
    do {
        digits[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        digits[--i] = '-';
    sigsys_append(buf, cap, n, digits + i);
}

/* Runs in the thread that made the call; uses only calls every filter
 * allows (the terminal ioctls, write, exit_group). */
static void sigsys_report(int sig, siginfo_t *si, void *context)
{
    const char *name = kvmrun_syscall_name(si->si_syscall);
    char line[128];
    size_t n = 0;

    (void)sig;
    (void)context;
    console_restore();
    sigsys_append(line, sizeof(line), &n,
                  "kvmrun: seccomp: blocked system call ");
    sigsys_append(line, sizeof(line), &n, name ? name : "?");
    sigsys_append(line, sizeof(line), &n, " (");
    sigsys_append_number(line, sizeof(line), &n, si->si_syscall);
    sigsys_append(line, sizeof(line) - 1, &n, ")");
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0)
        _exit(STATUS_SECCOMP); /* nowhere to report to: end anyway */
    _exit(STATUS_SECCOMP);
}

int sigsys_confine(struct kvmrun_vm *vm)
{
    struct sigaction sa;
    sigset_t sys;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = sigsys_report;
    sa.sa_flags = SA_SIGINFO;
    sigfillset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL) < 0) {
        fprintf(stderr, "kvmrun: sigaction(SIGSYS): %s\n", strerror(errno));
        return -1;
    }
    /* A blocked SIGSYS would kill without the report. */
    sigemptyset(&sys);
    sigaddset(&sys, SIGSYS);
    pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
    if (kvmrun_vm_confine(vm, KVMRUN_SECCOMP_TRAP) < 0) {
        fprintf(stderr, "kvmrun: %s\n", kvmrun_last_error());
        return -1;
    }
    return 0;
}

#ifdef __SANITIZE_ADDRESS__
void sigsys_sanitizer_test(const char *line)
{
    const char *what = getenv("KVMRUN_TEST_SANITIZER");
    volatile int big = INT_MAX;
    volatile size_t len = 8; /* volatile: no compiler sees through it */
    char *p;

    if (!what || !strstr(line, ": unclaimed "))
        return;
    if (strcmp(what, "ubsan") == 0) {
        big = big + (int)strlen(line); /* signed overflow: UBSan's */
    } else if (strcmp(what, "asan") == 0 && (p = calloc(1, len))) {
        big = p[len]; /* past the buffer: ASan's */
        free(p);
    }
}
#endif
