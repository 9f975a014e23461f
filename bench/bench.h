/* bench.h: what the benchmarks share: clock, failure, statistics, guests. */
#ifndef KVMRUN_BENCH_H
#define KVMRUN_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* Guest-physical address where every benchmark guest is loaded and
 * started (real mode), and its initial stack pointer: kvmrun's defaults. */
#define BENCH_ENTRY 0x1000u
#define BENCH_MEM (1u << 20)

/* The UART's scratch register: a port a real device claims, so kvmrun's
 * exits go through its whole bus dispatch. */
#define BENCH_OUT_PORT 0x3ff

/* Prefix of every error line ("exit-cost", "kick-latency"). */
extern const char *bench_name;

/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t bench_now_ns(void);

/* Sleeps ns nanoseconds (restarting after signals). */
void bench_sleep_ns(uint64_t ns);

/* "N host CPUs, load average L": how busy the host was, for headers. */
const char *bench_host(void);

/* Prints "<bench_name>: <message>" on stderr and exits with status 1. */
void bench_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* For library calls: fails with kvmrun_last_error() if r < 0. */
void bench_check(int r, const char *what);

/* Ends the process with status 124 and a message if it still runs after
 * seconds: no benchmark may hang, whatever goes wrong. */
void bench_watchdog(unsigned seconds);

/* The p-th percentile (0..100, nearest rank) of v[0..n-1]; sorts v. */
uint64_t bench_percentile(uint64_t *v, size_t n, double p);

/* Median of n doubles; sorts v. */
double bench_median(double *v, size_t n);

/* Medians of the paired a[i] / b[i] and a[i] - b[i] (n <= 64): pairs
 * measured back to back cancel out drift on the host. */
double bench_median_ratio(const double *a, const double *b, size_t n);
double bench_median_diff(const double *a, const double *b, size_t n);

/* Parses a positive number for option opt, or fails. */
double bench_arg(const char *text, char opt);

/*
 * The guest every exit benchmark runs, 16-bit real mode at BENCH_ENTRY. It
 * stamps the TSC before and after its loop at BENCH_STAMPS, so that the
 * loop is timed in the guest, free of what the VMM does before and after
 * (starting and joining a thread, waking the waiter):
 *
 *     0f 31                rdtsc
 *     66 a3 00 20          mov  %eax, 0x2000
 *     66 89 16 04 20       mov  %edx, 0x2004
 *     66 b9 NN NN NN NN    mov  $count, %ecx
 *     ba ff 03             mov  $0x3ff, %dx
 *  1: ee                   out  %al, %dx       one KVM_EXIT_IO each
 *     66 49                dec  %ecx
 *     75 fb                jnz  1b
 *     0f 31                rdtsc
 *     66 a3 08 20          mov  %eax, 0x2008
 *     66 89 16 0c 20       mov  %edx, 0x200c
 *     b8 00 20             mov  $0x2000, %ax
 *     ba 04 06             mov  $0x604, %dx
 *     ef                   out  %ax, %dx       power off
 *     fa                   cli
 *  2: f4                   hlt
 *     eb fd                jmp  2b
 *
 * Writes it to buf (at least BENCH_OUT_LOOP_LEN bytes); count >= 1.
 */
#define BENCH_OUT_LOOP_LEN 47
#define BENCH_STAMPS 0x2000u
#define BENCH_STAMPS_LEN 16
void bench_out_loop(uint8_t *buf, uint32_t count);

/* TSC ticks the guest's loop took, from the stamps (BENCH_STAMPS_LEN
 * bytes at BENCH_STAMPS); 0 if they make no sense. */
uint64_t bench_guest_ticks(const uint8_t *stamps);

/* A guest that never exits: `1: inc %ax; jmp 1b` (40 eb fd). */
extern const uint8_t bench_busy_guest[3];

struct kvmrun_vm;

/* A kvmrun VM of mem bytes and ncpus vCPUs (UART output discarded) with
 * bench_busy_guest loaded and every vCPU set to start it in real mode at
 * BENCH_ENTRY; not started yet. Fails the benchmark on any error. */
struct kvmrun_vm *bench_busy_vm(uint64_t mem, unsigned ncpus);

#endif
