/*
 * kick_storm.c: many threads kick the vCPUs of a busy guest at random
 * moments; every kick must be acknowledged without a re-kick. A lost kick
 * (the vCPU went back into KVM_RUN without seeing it) only gets through
 * when the waiter re-kicks after rekick_ms: that is counted as lost and
 * fails the test at once, so a broken protocol fails fast, never hangs.
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
    unsigned ncpus;
    unsigned kicks; /* per thread */
    atomic_int lost;
    atomic_uint_fast64_t max_ns;
};

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
        t0 = test_now_ns();
        if (kvmrun_vcpu_kick(kvmrun_vm_vcpu(s->vm, cpu), 30000) < 0) {
            fprintf(stderr, "kick_storm: %s\n", kvmrun_last_error());
            atomic_store(&s->lost, 1);
            break;
        }
        uint64_t dt = test_now_ns() - t0;
        note_max(&s->max_ns, dt);
        if (dt >= REKICK_MS * 1000000ULL) {
            fprintf(stderr,
                    "kick_storm: a kick to vcpu%u was lost: only "
                    "a re-kick after %.0f ms got it acknowledged\n",
                    cpu, dt / 1e6);
            atomic_store(&s->lost, 1);
        }
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

    s.vm = test_vm("busy", ncpus, REKICK_MS);
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
           "%llu acknowledged, %llu re-kicks, max ack %.3f ms, %.2f s\n",
           ncpus, ncpus > 1 ? "s" : "", s.kicks * threads, threads,
           (unsigned long long)sent, (unsigned long long)acked,
           (unsigned long long)rekicks, atomic_load(&s.max_ns) / 1e6,
           (test_now_ns() - t0) / 1e9);
    if (atomic_load(&s.lost) || rekicks || acked != sent)
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
