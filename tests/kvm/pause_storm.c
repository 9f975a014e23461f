/*
 * pause_storm.c: several threads pause and resume one busy SMP VM at
 * random moments (kvmrun_vm_pause, kvmrun_vm_resume and
 * kvmrun_vm_set_pause's toggle) for a bounded time, in rounds. No call
 * may fail or time out (no vCPU is ever stuck here: a wait that times out
 * waited for a target that a later request had changed). After each round
 * the VM's target is what the last request asked for, and every vCPU is
 * there: its counter in guest memory frozen while paused, moving while
 * running.
 *
 * "The last request": each call is timed (start, end); a call can have
 * taken effect last only if it ended after every other call started. When
 * all such calls asked for the same thing, the target must be that.
 *
 * usage: pause_storm SECONDS NCPUS NTHREADS
 */
#include <pthread.h>
#include <string.h>

#include "kvmtest.h"

#define COUNTERS 0x8000
#define ROUND_MS 500
#define CALL_TIMEOUT_MS 5000
#define MAX_THREADS 16

struct call {
    uint64_t start, end;
    int paused; /* what it asked for */
};

struct hammer {
    pthread_t thread;
    struct kvmrun_vm *vm;
    unsigned seed;
    uint64_t deadline;
    struct call *calls;
    size_t n, cap;
    unsigned superseded;
};

static void record(struct hammer *h, uint64_t start, int paused)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 4096;
        h->calls = realloc(h->calls, h->cap * sizeof(*h->calls));
        if (!h->calls)
            FAILF("out of memory");
    }
    h->calls[h->n++] = (struct call){start, test_now_ns(), paused};
}

/* One random request; fails the test on any error. */
static void one_call(struct hammer *h)
{
    static const enum kvmrun_pause_op ops[] = {KVMRUN_PAUSE, KVMRUN_RESUME,
                                               KVMRUN_PAUSE_TOGGLE};
    struct kvmrun_pause_result res;
    unsigned pick = (unsigned)rand_r(&h->seed) % 4;
    uint64_t start = test_now_ns();
    int r;

    /* Half the time through the plain calls, half through set_pause. */
    if (pick == 0) {
        r = kvmrun_vm_pause(h->vm, CALL_TIMEOUT_MS);
        res.paused = 1;
        res.reached = 1;
    } else if (pick == 1) {
        r = kvmrun_vm_resume(h->vm, CALL_TIMEOUT_MS);
        res.paused = 0;
        res.reached = 1;
    } else {
        enum kvmrun_pause_op op = ops[(unsigned)rand_r(&h->seed) % 3];

        r = kvmrun_vm_set_pause(h->vm, op, CALL_TIMEOUT_MS, &res);
        if (r == 0 && op != KVMRUN_PAUSE_TOGGLE &&
            res.paused != (op == KVMRUN_PAUSE))
            FAILF("set_pause(%d) says it set paused=%d", (int)op, res.paused);
    }
    if (r < 0)
        FAILF("a request failed (%s after %.1f ms): %s",
              res.paused ? "pause" : "resume", (test_now_ns() - start) / 1e6,
              kvmrun_last_error());
    record(h, start, res.paused);
    h->superseded += !res.reached;
}

static void *hammer_thread(void *arg)
{
    struct hammer *h = arg;

    while (test_now_ns() < h->deadline) {
        struct timespec gap = {0, (long)(rand_r(&h->seed) % 300) * 1000};

        one_call(h);
        if (rand_r(&h->seed) % 4)
            nanosleep(&gap, NULL);
    }
    return NULL;
}

/* What the last request asked for: 1, 0, or -1 if the candidates for the
 * last one disagree. */
static int last_request(struct hammer *hs, unsigned nthreads)
{
    uint64_t max_start = 0;
    int want = -2;

    for (unsigned t = 0; t < nthreads; t++)
        for (size_t i = 0; i < hs[t].n; i++)
            if (hs[t].calls[i].start > max_start)
                max_start = hs[t].calls[i].start;
    for (unsigned t = 0; t < nthreads; t++)
        for (size_t i = 0; i < hs[t].n; i++) {
            const struct call *c = &hs[t].calls[i];

            if (c->end < max_start)
                continue; /* another call started after it ended */
            if (want == -2)
                want = c->paused;
            else if (want != c->paused)
                return -1;
        }
    return want;
}

static void read_counters(volatile uint64_t *c, unsigned n, uint64_t *out)
{
    for (unsigned i = 0; i < n; i++)
        out[i] = c[i];
}

/* The vCPUs are where the target says: frozen, or all moving. */
static void check_vcpus(struct kvmrun_vm *vm, volatile uint64_t *c,
                        unsigned ncpus, int paused, unsigned round)
{
    uint64_t a[64], b[64], deadline = test_now_ns() + 10000000000ULL;
    struct timespec idle = {0, 20 * 1000000L};
    const char *want = paused ? "paused" : "running";

    for (unsigned i = 0; i < ncpus; i++)
        if (strcmp(kvmrun_vcpu_state(kvmrun_vm_vcpu(vm, i)), want) != 0)
            FAILF("round %u: the VM's target is %s but vcpu%u is %s", round,
                  want, i, kvmrun_vcpu_state(kvmrun_vm_vcpu(vm, i)));
    read_counters(c, ncpus, a);
    nanosleep(&idle, NULL);
    read_counters(c, ncpus, b);
    for (unsigned i = 0; i < ncpus; i++) {
        if (paused && a[i] != b[i])
            FAILF("round %u: vcpu%u's counter moved while paused", round, i);
        while (!paused && c[i] == a[i])
            if (test_now_ns() > deadline)
                FAILF("round %u: vcpu%u's counter does not move while "
                      "running",
                      round, i);
    }
}

static void round_run(struct kvmrun_vm *vm, struct hammer *hs,
                      unsigned nthreads, unsigned round, unsigned *ambiguous)
{
    uint64_t deadline = test_now_ns() + ROUND_MS * 1000000ULL;
    int want;

    for (unsigned t = 0; t < nthreads; t++) {
        hs[t].n = 0;
        hs[t].deadline = deadline;
        if (pthread_create(&hs[t].thread, NULL, hammer_thread, &hs[t]) != 0)
            FAILF("pthread_create failed");
    }
    for (unsigned t = 0; t < nthreads; t++)
        pthread_join(hs[t].thread, NULL);
    if (kvmrun_vm_holds(vm) & ~KVMRUN_HOLD_USER)
        FAILF("round %u: holds %#x besides the user's", round,
              kvmrun_vm_holds(vm));
    want = last_request(hs, nthreads);
    if (want < 0)
        (*ambiguous)++;
    else if (kvmrun_vm_paused(vm) != want)
        FAILF("round %u: the last request was %s, the VM's target is %s", round,
              want ? "pause" : "resume",
              kvmrun_vm_paused(vm) ? "paused" : "running");
}

int main(int argc, char **argv)
{
    struct hammer hs[MAX_THREADS];
    struct kvmrun_vm *vm;
    volatile uint64_t *c;
    unsigned seconds, ncpus, nthreads, rounds, ambiguous = 0;
    unsigned long calls = 0, superseded = 0;
    uint64_t t0 = test_now_ns();

    if (argc != 4)
        FAILF("usage: pause_storm SECONDS NCPUS NTHREADS");
    setvbuf(stdout, NULL, _IOLBF, 0);
    seconds = (unsigned)atoi(argv[1]);
    ncpus = (unsigned)atoi(argv[2]);
    nthreads = (unsigned)atoi(argv[3]);
    if (ncpus < 1 || ncpus > 64 || nthreads < 1 || nthreads > MAX_THREADS)
        FAILF("NCPUS must be 1..64, NTHREADS 1..%d", MAX_THREADS);
    rounds = seconds * 1000 / ROUND_MS;
    vm = test_vm("counters", ncpus, 10);
    if (!(c = kvmrun_vm_mem(vm, COUNTERS, 8 * ncpus)))
        FAILF("counters outside guest memory");
    CHECK(kvmrun_vm_start(vm));
    memset(hs, 0, sizeof(hs));
    for (unsigned t = 0; t < nthreads; t++) {
        hs[t].vm = vm;
        hs[t].seed = (unsigned)t0 + t * 7919;
    }
    for (unsigned round = 0; round < rounds; round++) {
        round_run(vm, hs, nthreads, round, &ambiguous);
        check_vcpus(vm, c, ncpus, kvmrun_vm_paused(vm), round);
        for (unsigned t = 0; t < nthreads; t++)
            calls += hs[t].n;
    }
    for (unsigned t = 0; t < nthreads; t++) {
        superseded += hs[t].superseded;
        free(hs[t].calls);
    }
    CHECK(kvmrun_vm_stop(vm, 0, 10000));
    kvmrun_vm_destroy(vm);
    printf("pause_storm: %u vCPUs, %u threads, %lu requests in %u rounds "
           "(%lu superseded, %u rounds with an ambiguous last request), "
           "%.2f s\n",
           ncpus, nthreads, calls, rounds, superseded, ambiguous,
           (test_now_ns() - t0) / 1e9);
    return 0;
}
