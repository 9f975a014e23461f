/*
 * pause_resume.c: each vCPU increments its own counter in guest memory;
 * over many pause/resume cycles, the counters never move while paused,
 * all move again after resume, and none ever goes backwards.
 *
 * usage: pause_resume CYCLES NCPUS...
 */
#include <string.h>

#include "kvmtest.h"

#define COUNTERS 0x8000

static void read_counters(volatile uint64_t *c, unsigned n, uint64_t *out)
{
    for (unsigned i = 0; i < n; i++)
        out[i] = c[i];
}

/* Waits until every counter differs from before; fails after 10 s. */
static void wait_all_move(volatile uint64_t *c, unsigned n,
                          const uint64_t *before, unsigned cycle)
{
    uint64_t deadline = test_now_ns() + 10000000000ULL;

    for (unsigned i = 0; i < n; i++)
        while (c[i] == before[i])
            if (test_now_ns() > deadline)
                FAILF("cycle %u: vcpu%u's counter did not move after "
                      "resume",
                      cycle, i);
}

static void cycles_run(unsigned ncpus, unsigned cycles)
{
    struct kvmrun_vm *vm = test_vm("counters", ncpus, 10);
    volatile uint64_t *c = kvmrun_vm_mem(vm, COUNTERS, 8 * ncpus);
    uint64_t a[64], b[64], last[64] = {0}, t0 = test_now_ns();
    unsigned seed = (unsigned)t0;

    if (!c)
        FAILF("counters outside guest memory");
    CHECK(kvmrun_vm_start(vm));
    for (unsigned cycle = 0; cycle < cycles; cycle++) {
        struct timespec idle = {0, (long)(rand_r(&seed) % 200) * 1000};

        CHECK(kvmrun_vm_pause(vm, 10000));
        read_counters(c, ncpus, a);
        nanosleep(&idle, NULL);
        read_counters(c, ncpus, b);
        for (unsigned i = 0; i < ncpus; i++) {
            if (a[i] != b[i])
                FAILF("cycle %u: vcpu%u's counter moved while paused "
                      "(%llu -> %llu)",
                      cycle, i, (unsigned long long)a[i],
                      (unsigned long long)b[i]);
            if (a[i] < last[i])
                FAILF("cycle %u: vcpu%u's counter went backwards", cycle, i);
            last[i] = a[i];
        }
        CHECK(kvmrun_vm_resume(vm, 10000));
        wait_all_move(c, ncpus, b, cycle);
    }
    CHECK(kvmrun_vm_stop(vm, 0, 10000));
    for (unsigned i = 0; i < ncpus; i++) {
        struct kvmrun_vcpu_stats st;

        kvmrun_vcpu_get_stats(kvmrun_vm_vcpu(vm, i), &st);
        if (st.pauses != cycles)
            FAILF("vcpu%u paused %llu times, not %u", i,
                  (unsigned long long)st.pauses, cycles);
    }
    printf("pause_resume: %u vCPUs, %u cycles, counters at", ncpus, cycles);
    for (unsigned i = 0; i < ncpus; i++)
        printf(" %llu", (unsigned long long)last[i]);
    printf(", %.2f s\n", (test_now_ns() - t0) / 1e9);
    kvmrun_vm_destroy(vm);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        FAILF("usage: pause_resume CYCLES NCPUS...");
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 2; i < argc; i++) {
        unsigned n = (unsigned)atoi(argv[i]);

        if (n < 1 || n > 64)
            FAILF("NCPUS must be 1..64");
        cycles_run(n, (unsigned)atoi(argv[1]));
    }
    return 0;
}
