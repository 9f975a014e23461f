/* bench.c: what the benchmarks share: clock, failure, statistics, guests. */
#include "bench.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvmrun.h"

const uint8_t bench_busy_guest[3] = {0x40, 0xeb, 0xfd};

uint64_t bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void bench_sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000ULL),
                          (long)(ns % 1000000000ULL)};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

const char *bench_host(void)
{
    static char text[64];
    double load[1] = {-1};

    getloadavg(load, 1);
    snprintf(text, sizeof(text), "%ld host CPUs, load average %.2f",
             sysconf(_SC_NPROCESSORS_ONLN), load[0]);
    return text;
}

void bench_fail(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fprintf(stderr, "%s: ", bench_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

void bench_check(int r, const char *what)
{
    if (r < 0)
        bench_fail("%s: %s", what, kvmrun_last_error());
}

static unsigned watchdog_seconds;

/* Async-signal-safe: write(2) and _exit(2) only. */
static void watchdog_fired(int sig)
{
    char msg[128];
    int n;

    (void)sig;
    n = snprintf(msg, sizeof(msg), "%s: timed out after %u s\n", bench_name,
                 watchdog_seconds);
    if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) < 0)
        _exit(124);
    _exit(124);
}

void bench_watchdog(unsigned seconds)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = watchdog_fired;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) < 0)
        bench_fail("sigaction(SIGALRM): %s", strerror(errno));
    watchdog_seconds = seconds;
    alarm(seconds);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

uint64_t bench_percentile(uint64_t *v, size_t n, double p)
{
    size_t rank;

    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_u64);
    /* Nearest rank: the smallest value with at least p% at or below it. */
    rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

double bench_median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define PAIRS_MAX 64

double bench_median_ratio(const double *a, const double *b, size_t n)
{
    double r[PAIRS_MAX];

    if (n > PAIRS_MAX)
        n = PAIRS_MAX;
    for (size_t i = 0; i < n; i++)
        r[i] = a[i] / b[i];
    return bench_median(r, n);
}

double bench_median_diff(const double *a, const double *b, size_t n)
{
    double d[PAIRS_MAX];

    if (n > PAIRS_MAX)
        n = PAIRS_MAX;
    for (size_t i = 0; i < n; i++)
        d[i] = a[i] - b[i];
    return bench_median(d, n);
}

double bench_arg(const char *text, char opt)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(text, &end);
    if (errno || end == text || *end || !(v > 0))
        bench_fail("-%c wants a positive number, not '%s'", opt, text);
    return v;
}

void bench_out_loop(uint8_t *buf, uint32_t count)
{
    static const uint8_t code[BENCH_OUT_LOOP_LEN] = {
        0x0f, 0x31,                      /* rdtsc */
        0x66, 0xa3, 0x00, 0x20,          /* mov %eax, 0x2000 */
        0x66, 0x89, 0x16, 0x04, 0x20,    /* mov %edx, 0x2004 */
        0x66, 0xb9, 0,    0,    0,    0, /* mov $count, %ecx (patched) */
        0xba, 0xff, 0x03,                /* mov $0x3ff, %dx */
        0xee,                            /* 1: out %al, %dx */
        0x66, 0x49,                      /* dec %ecx */
        0x75, 0xfb,                      /* jnz 1b */
        0x0f, 0x31,                      /* rdtsc */
        0x66, 0xa3, 0x08, 0x20,          /* mov %eax, 0x2008 */
        0x66, 0x89, 0x16, 0x0c, 0x20,    /* mov %edx, 0x200c */
        0xb8, 0x00, 0x20,                /* mov $0x2000, %ax */
        0xba, 0x04, 0x06,                /* mov $0x604, %dx */
        0xef,                            /* out %ax, %dx */
        0xfa,                            /* cli */
        0xf4, 0xeb, 0xfd,                /* 2: hlt; jmp 2b */
    };

    memcpy(buf, code, sizeof(code));
    /* Little-endian imm32, whatever the host's byte order. */
    for (int i = 0; i < 4; i++)
        buf[13 + i] = (uint8_t)(count >> (8 * i));
}

static uint64_t bench_le64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

uint64_t bench_guest_ticks(const uint8_t *stamps)
{
    uint64_t start = bench_le64(stamps), end = bench_le64(stamps + 8);

    return end > start ? end - start : 0;
}

struct kvmrun_vm *bench_busy_vm(uint64_t mem, unsigned ncpus)
{
    struct kvmrun_config cfg;
    struct kvmrun_vm *vm;

    kvmrun_config_init(&cfg);
    cfg.mem_size = mem;
    cfg.ncpus = ncpus;
    cfg.serial_fd = -1;
    bench_check(kvmrun_vm_create(&cfg, &vm), "kvmrun_vm_create");
    bench_check(kvmrun_load_raw(vm, bench_busy_guest, sizeof(bench_busy_guest),
                                BENCH_ENTRY),
                "kvmrun_load_raw");
    bench_check(kvmrun_boot_real(vm, BENCH_ENTRY, BENCH_ENTRY),
                "kvmrun_boot_real");
    return vm;
}
