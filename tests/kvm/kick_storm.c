/*
 * kick_storm.c: many threads kick the vCPUs of a busy guest at random
 * moments; every kick must be acknowledged without a re-kick. A lost kick
 * (the vCPU went back into KVM_RUN without seeing it) only gets through
 * when the waiter re-kicks after rekick_ms: that fails the test at once,
 * so a broken protocol fails fast, never hangs. What tells a lost kick
 * from a vCPU thread the host did not schedule for that long (a loaded
 * host with fewer CPUs than threads): the guest's own progress. Each vCPU
 * counts in guest memory (tests/guests/counters.S); a vCPU that missed a
 * kick ran its guest all the while, one that was starved did not run at
 * all (once its thread runs, the pending signal takes it out of the guest
 * at once). And the kicker's own wait for a CPU (its run_delay in
 * /proc/thread-self/schedstat): a kicker preempted between publishing a
 * kick and sending its signal, or before it sees the acknowledgement,
 * makes a slow kick of a vCPU that rightly ran its guest meanwhile; a
 * lost kick leaves the kicker asleep, not waiting for a CPU, until the
 * re-kick.
 *
 * usage: kick_storm KICKS THREADS NCPUS...
 */
#include <pthread.h>
#include <sys/prctl.h>
#include <stdatomic.h>
#include <string.h>

#include "kvmtest.h"

#define REKICK_MS 1000 /* far above any honest ack latency */

struct storm {
    struct kvmrun_vm *vm;
    volatile uint64_t *counters; /* the guest's, one per vCPU */
    uint64_t t0;                 /* when the vCPUs started */
    unsigned ncpus;
    unsigned kicks; /* per thread */
    atomic_int lost;
    atomic_uint starved; /* slow acknowledgements of vCPUs not scheduled */
    atomic_uint_fast64_t max_ns;
};

#define COUNTERS 0x8000 /* tests/guests/counters.S */

/*
 * A kick to cpu took dt ns (past the re-kick) and the guest's counter
 * moved by moved meanwhile: 1 if the vCPU ran its guest for more than a
 * quarter of that time, at its average speed so far (a lost kick), 0 if it
 * hardly ran (its thread was starved).
 */
static int ran_through(struct storm *s, unsigned cpu, uint64_t dt,
                       uint64_t moved)
{
    double rate = (double)s->counters[cpu] / (double)(test_now_ns() - s->t0);

    return (double)moved > rate * (double)dt / 4;
}

/* Nanoseconds this thread has spent runnable but waiting for a CPU, or 0
 * if the kernel does not say (no schedstat: every slow kick then needs
 * the guest's progress alone to be called starved). */
static uint64_t run_delay_ns(void)
{
    unsigned long long cpu = 0, delay = 0;
    FILE *f = fopen("/proc/thread-self/schedstat", "r");

    if (!f)
        return 0;
    if (fscanf(f, "%llu %llu", &cpu, &delay) != 2)
        delay = 0;
    fclose(f);
    return delay;
}

struct kicker {
    struct storm *storm;
    unsigned seed;
};

/* A random pause of 0..20 us: a sleep, so kickers leave the CPUs to the
 * vCPUs (this host may have fewer cores than threads). */
static void random_pause(unsigned *seed)
{
    struct timespec ts = {0, (long)(rand_r(seed) % 20000)};

    if (ts.tv_nsec > 1000)
        nanosleep(&ts, NULL);
}

static void note_max(atomic_uint_fast64_t *max, uint64_t v)
{
    uint64_t cur = atomic_load(max);

    while (v > cur && !atomic_compare_exchange_weak(max, &cur, v))
        ;
}

static void *kicker_main(void *arg)
{
    struct kicker *k = arg;
    struct storm *s = k->storm;

    prctl(PR_SET_TIMERSLACK, 1UL); /* sleeps of microseconds, not 50 us */
    for (unsigned i = 0; i < s->kicks && !atomic_load(&s->lost); i++) {
        unsigned cpu = (unsigned)rand_r(&k->seed) % s->ncpus;
        uint64_t t0;

        random_pause(&k->seed);
        uint64_t c0 = s->counters[cpu], d0 = run_delay_ns();
        t0 = test_now_ns();
        if (kvmrun_vcpu_kick(kvmrun_vm_vcpu(s->vm, cpu), 30000) < 0) {
            fprintf(stderr, "kick_storm: %s\n", kvmrun_last_error());
            atomic_store(&s->lost, 1);
            break;
        }
        uint64_t dt = test_now_ns() - t0;
        note_max(&s->max_ns, dt);
        if (dt < REKICK_MS * 1000000ULL)
            continue;
        uint64_t moved = s->counters[cpu] - c0;

        uint64_t waited = run_delay_ns() - d0;

        if (!ran_through(s, cpu, dt, moved) || waited > dt / 4) {
            atomic_fetch_add(&s->starved, 1);
            continue; /* slow, not lost: the host ran the vCPU or the
                       * kicker too little */
        }
        fprintf(stderr,
                "kick_storm: a kick to vcpu%u was lost: it ran its guest "
                "(%llu counts) until a re-kick after %.0f ms got it "
                "acknowledged\n",
                cpu, (unsigned long long)moved, dt / 1e6);
        atomic_store(&s->lost, 1);
    }
    return NULL;
}

static int storm_run(unsigned ncpus, unsigned kicks, unsigned threads)
{
    struct storm s = {.ncpus = ncpus, .kicks = kicks / threads};
    pthread_t tid[64];
    struct kicker k[64];
    uint64_t sent = 0, acked = 0, rekicks = 0, t0 = test_now_ns();
    struct kvmrun_outcome out;

    s.vm = test_vm("counters", ncpus, REKICK_MS);
    s.counters = kvmrun_vm_mem(s.vm, COUNTERS, 8ULL * ncpus);
    if (!s.counters)
        FAILF("the guest's counters are outside its memory");
    s.t0 = test_now_ns();
    CHECK(kvmrun_vm_start(s.vm));
    for (unsigned i = 0; i < threads; i++) {
        k[i] = (struct kicker){&s, 0x9e3779b9u * (i + 1) ^ (unsigned)t0};
        pthread_create(&tid[i], NULL, kicker_main, &k[i]);
    }
    for (unsigned i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    CHECK(kvmrun_vm_stop(s.vm, 0, 10000));
    CHECK(kvmrun_vm_wait(s.vm, &out));
    for (unsigned i = 0; i < ncpus; i++) {
        struct kvmrun_vcpu_stats st;

        kvmrun_vcpu_get_stats(kvmrun_vm_vcpu(s.vm, i), &st);
        sent += st.kicks_sent;
        acked += st.kicks_acked;
        rekicks += st.rekicks;
    }
    kvmrun_vm_destroy(s.vm);
    printf("kick_storm: %u vCPU%s, %u kicks from %u threads: %llu sent, "
           "%llu acknowledged, %llu re-kicks (%u of starved vCPUs), max "
           "ack %.3f ms, %.2f s\n",
           ncpus, ncpus > 1 ? "s" : "", s.kicks * threads, threads,
           (unsigned long long)sent, (unsigned long long)acked,
           (unsigned long long)rekicks, atomic_load(&s.starved),
           atomic_load(&s.max_ns) / 1e6, (test_now_ns() - t0) / 1e9);
    if (atomic_load(&s.lost) || acked != sent)
        return 1;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned kicks, threads;
    int failed = 0;

    if (argc < 4)
        FAILF("usage: kick_storm KICKS THREADS NCPUS...");
    kicks = (unsigned)atoi(argv[1]);
    threads = (unsigned)atoi(argv[2]);
    if (threads < 1 || threads > 64)
        FAILF("THREADS must be 1..64");
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 3; i < argc && !failed; i++)
        failed = storm_run((unsigned)atoi(argv[i]), kicks, threads);
    if (failed)
        printf("kick_storm: LOST KICKS\n");
    return failed;
}
