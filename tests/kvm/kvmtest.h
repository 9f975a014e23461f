/* kvmtest.h: small helpers for the C KVM tests (tests only: they abort). */
#ifndef KVMRUN_KVMTEST_H
#define KVMRUN_KVMTEST_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kvmrun.h"

/* Fails the test with the library's last error when call is negative. */
#define CHECK(call)                                                            \
    do {                                                                       \
        if ((call) < 0) {                                                      \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,      \
                    kvmrun_last_error());                                      \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#define FAILF(...)                                                             \
    do {                                                                       \
        fprintf(stderr, "FAILED: " __VA_ARGS__);                               \
        fputc('\n', stderr);                                                   \
        exit(1);                                                               \
    } while (0)

/* Runs fn(arg) in a child process (no core dump) whose stderr is read
 * into buf (len bytes with the NUL); returns the child's wait status. */
static inline int test_run_child(void (*fn)(int), int arg, char *buf,
                                 size_t len)
{
    struct rlimit no_core = {0, 0};
    int p[2], status;
    size_t n = 0;
    ssize_t r;
    pid_t pid;

    if (pipe(p) < 0 || (pid = fork()) < 0)
        FAILF("pipe or fork: %s", strerror(errno));
    if (pid == 0) {
        setrlimit(RLIMIT_CORE, &no_core);
        dup2(p[1], STDERR_FILENO);
        close(p[0]);
        close(p[1]);
        fn(arg);
        _exit(1);
    }
    close(p[1]);
    while (n < len - 1 && (r = read(p[0], buf + n, len - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = 0;
    close(p[0]);
    if (waitpid(pid, &status, 0) != pid)
        FAILF("waitpid: %s", strerror(errno));
    return status;
}

static inline uint64_t test_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Path of a guest built from tests/guests/NAME.S. */
static inline const char *test_guest(const char *name)
{
    static char path[4096];
    const char *build = getenv("KVMRUN_BUILD");

    snprintf(path, sizeof(path), "%s/guests/%s.bin", build ? build : "build",
             name);
    return path;
}

/* A VM of ncpus vCPUs running guest NAME in real mode at 0x1000. */
static inline struct kvmrun_vm *test_vm(const char *guest, unsigned ncpus,
                                        unsigned rekick_ms)
{
    struct kvmrun_config cfg;
    struct kvmrun_vm *vm;

    kvmrun_config_init(&cfg);
    cfg.mem_size = 16 << 20;
    cfg.ncpus = ncpus;
    cfg.rekick_ms = rekick_ms;
    CHECK(kvmrun_vm_create(&cfg, &vm));
    CHECK(kvmrun_load_raw_file(vm, test_guest(guest), 0x1000));
    CHECK(kvmrun_boot_real(vm, 0x1000, 0x1000));
    return vm;
}

#endif
