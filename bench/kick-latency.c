/* kick-latency.c: kicks and exits, immediate_exit vs KVM_SET_SIGNAL_MASK. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "bench.h"
#include "kvmrun.h"
#include "rawvm.h"
#include "rawkick.h"

const char *bench_name = "kick-latency";

#define MAX_ROUNDS 64
#define KICK_ROUNDS 10        /* turns each kicker takes per row */
#define KICK_TIMEOUT_MS 10000 /* 8 busy vCPUs on one emulated CPU */
#define STOP_TIMEOUT_MS 5000
#define WARMUP_KICKS 5 /* at least; and each vCPU once */
#define CALIBRATION_EXITS 20000u
#define MIN_EXITS 1000u
#define MAX_EXITS 100000000u

static const unsigned vcpu_counts[] = {1, 2, 4, 8};
#define NCOUNTS (sizeof(vcpu_counts) / sizeof(*vcpu_counts))

struct options {
    unsigned kicks;  /* per vCPU count and strategy */
    unsigned cycles; /* pause/resume cycles per vCPU count */
    double budget;   /* seconds: a kick or pause series stops after it */
    uint64_t gap_ns; /* pause between kicks; 0: from the exit cost */
    unsigned rounds; /* per-exit rounds of each strategy */
    double seconds;  /* target length of a per-exit round */
};

enum strategy { IMMEDIATE_EXIT, SIGNAL_MASK };

/* Samples of one measured series, in ns. */
struct series {
    uint64_t *ns;
    size_t n, max;
    uint64_t rekicks;
};

static void series_init(struct series *s, size_t max)
{
    s->ns = calloc(max ? max : 1, sizeof(*s->ns));
    if (!s->ns)
        bench_fail("out of memory");
    s->n = 0;
    s->max = max;
    s->rekicks = 0;
}

/* ------------------------------------------------ per-exit cost */

/* SIGNAL_MASK in this thread: the kick signal blocked here, open only
 * inside KVM_RUN. */
static void mask_on(struct rawvcpu *v, sigset_t *saved)
{
    sigset_t kick;

    sigemptyset(&kick);
    sigaddset(&kick, rawkick_signal());
    pthread_sigmask(SIG_BLOCK, &kick, saved);
    rawkick_set_kvm_mask(v);
}

/* Back to no KVM_RUN mask (a NULL mask turns it off) and the old mask. */
static void mask_off(struct rawvcpu *v, const sigset_t *saved)
{
    if (ioctl(v->fd, KVM_SET_SIGNAL_MASK, NULL) < 0)
        bench_fail("KVM_SET_SIGNAL_MASK(NULL): %s", strerror(errno));
    pthread_sigmask(SIG_SETMASK, saved, NULL);
}

/*
 * The same bare loop for both strategies; only what KVM does on each
 * KVM_RUN differs: with SIGNAL_MASK in force it swaps the thread's signal
 * mask in and out (taking the siglock twice) on every entry. The -EINTR
 * branches are each strategy's kick handling; no kick comes here.
 */
static double exit_round(struct rawvm *vm, uint32_t exits, enum strategy s)
{
    struct rawvcpu *v = &vm->vcpu[0];
    struct kvm_run *run = v->run;
    uint64_t count = 0, t0, t1;
    sigset_t saved;
    int r;

    bench_out_loop(vm->mem + BENCH_ENTRY, exits);
    rawvm_reset(vm, 0);
    if (s == SIGNAL_MASK)
        mask_on(v, &saved);
    t0 = bench_now_ns();
    for (;;) {
        r = rawvm_run(v);
        if (r == -EINTR) {
            if (s == IMMEDIATE_EXIT)
                __atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
            else
                rawkick_eat();
            continue;
        }
        if (r < 0 || run->exit_reason != KVM_EXIT_IO ||
            run->io.port != BENCH_OUT_PORT)
            break;
        count++;
    }
    t1 = bench_now_ns();
    if (s == SIGNAL_MASK)
        mask_off(v, &saved);
    if (r < 0)
        bench_fail("KVM_RUN: %s", strerror(-r));
    if (run->exit_reason != KVM_EXIT_IO || run->io.port != 0x604 ||
        count != exits)
        bench_fail("the guest stopped after %" PRIu64 " of %" PRIu32
                   " exits (exit reason %u)",
                   count, exits, run->exit_reason);
    return (double)(t1 - t0) / (double)(count + 1);
}

/*
 * KVM_RUN with immediate_exit = 1: KVM enters and leaves the ioctl without
 * entering the guest, but still swaps the signal mask when one is set. The
 * difference is the absolute cost the mask adds to every KVM_RUN, free of
 * the guest exit's own (large, noisy) cost.
 */
static double noentry_round(struct rawvm *vm, uint32_t calls, enum strategy s)
{
    struct rawvcpu *v = &vm->vcpu[0];
    uint64_t t0, t1;
    sigset_t saved;

    if (s == SIGNAL_MASK)
        mask_on(v, &saved);
    t0 = bench_now_ns();
    for (uint32_t i = 0; i < calls; i++) {
        __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELAXED);
        if (rawvm_run(v) != -EINTR)
            bench_fail("KVM_RUN with immediate_exit = 1 did not return "
                       "-EINTR");
    }
    t1 = bench_now_ns();
    __atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELAXED);
    if (s == SIGNAL_MASK)
        mask_off(v, &saved);
    return (double)(t1 - t0) / calls;
}

static uint32_t calibrate(struct rawvm *vm, double seconds)
{
    double ns = exit_round(vm, CALIBRATION_EXITS, IMMEDIATE_EXIT);
    double want = seconds * 1e9 / ns;

    if (want < MIN_EXITS)
        want = MIN_EXITS;
    if (want > MAX_EXITS)
        want = MAX_EXITS;
    return (uint32_t)want;
}

/* ns per exit (out loop) and per call (no-entry), by round. */
struct exit_rounds {
    double ie[MAX_ROUNDS], sm[MAX_ROUNDS];   /* out loop */
    double ie0[MAX_ROUNDS], sm0[MAX_ROUNDS]; /* no-entry */
};

/* Round i of both strategies, back to back, the first alternating. */
static void exit_pair(struct rawvm *vm, uint32_t exits, unsigned i,
                      struct exit_rounds *e)
{
    int sm_first = i % 2;

    if (sm_first)
        e->sm[i] = exit_round(vm, exits, SIGNAL_MASK);
    e->ie[i] = exit_round(vm, exits, IMMEDIATE_EXIT);
    if (!sm_first)
        e->sm[i] = exit_round(vm, exits, SIGNAL_MASK);
    if (sm_first)
        e->sm0[i] = noentry_round(vm, exits, SIGNAL_MASK);
    e->ie0[i] = noentry_round(vm, exits, IMMEDIATE_EXIT);
    if (!sm_first)
        e->sm0[i] = noentry_round(vm, exits, SIGNAL_MASK);
}

static double exit_summary(struct exit_rounds *e, unsigned n)
{
    double ratio = bench_median_ratio(e->sm, e->ie, n);
    double dsm = bench_median_diff(e->sm, e->ie, n);
    double dsm0 = bench_median_diff(e->sm0, e->ie0, n);

    printf("median %22.1f  %23.1f  %5.3f  %18.1f  %9.1f\n",
           bench_median(e->ie, n), bench_median(e->sm, n), ratio,
           bench_median(e->ie0, n), bench_median(e->sm0, n));
    printf("(ratio: the median of the rounds' ratios, pairs run back to "
           "back)\nSET_SIGNAL_MASK adds %.0f ns per exit (out loop), %.0f "
           "ns per KVM_RUN (no-entry),\nmedians of the rounds' "
           "differences\n\n",
           dsm, dsm0);
    printf("RESULT sigmask_exit_cost_ratio %.3f\n\n", ratio);
    return bench_median(e->ie, n);
}

/* Runs both strategies' per-exit rounds; returns the immediate_exit
 * median ns/exit (the gap between kicks is derived from it). */
static double exit_cost(const struct options *opt)
{
    uint8_t image[BENCH_OUT_LOOP_LEN];
    struct exit_rounds e;
    struct rawvm vm;
    uint32_t exits;

    bench_out_loop(image, 1);
    rawvm_create(&vm, 1, image, sizeof(image));
    exits = calibrate(&vm, opt->seconds);
    printf("per-exit cost: bare KVM_RUN loop, `out` to port %#x, %" PRIu32
           " exits per round, %u rounds each, interleaved;\n"
           "no-entry: KVM_RUN with immediate_exit = 1, as many calls\n",
           BENCH_OUT_PORT, exits, opt->rounds);
    printf("round  immediate_exit ns/exit  SET_SIGNAL_MASK ns/exit  ratio"
           "   no-entry ns: plain  with mask\n");
    for (unsigned i = 0; i < opt->rounds; i++) {
        exit_pair(&vm, exits, i, &e);
        printf("%5u  %22.1f  %23.1f  %5.3f  %18.1f  %9.1f\n", i + 1, e.ie[i],
               e.sm[i], e.sm[i] / e.ie[i], e.ie0[i], e.sm0[i]);
        fflush(stdout);
    }
    rawvm_destroy(&vm);
    return exit_summary(&e, opt->rounds);
}

/* ------------------------------------------------ kick latency */

/* Who kicks: kvmrun itself, and the two strategies on bare ioctls. */
enum kicker { KVMRUN, BARE_SIGNAL_MASK, BARE_IMMEDIATE_EXIT, NKICKERS };

static struct kvmrun_vm *kvmrun_busy_vm(unsigned ncpus)
{
    struct kvmrun_vm *vm = bench_busy_vm(BENCH_MEM, ncpus);

    bench_check(kvmrun_vm_start(vm), "kvmrun_vm_start");
    return vm;
}

static void kvmrun_busy_end(struct kvmrun_vm *vm)
{
    struct kvmrun_outcome out;

    bench_check(kvmrun_vm_stop(vm, 0, STOP_TIMEOUT_MS), "kvmrun_vm_stop");
    bench_check(kvmrun_vm_wait(vm, &out), "kvmrun_vm_wait");
    if (out.end != KVMRUN_END_STOPPED)
        bench_fail("kvmrun: the busy guest ended by itself: %s", out.message);
    kvmrun_vm_destroy(vm);
}

static uint64_t kvmrun_rekicks(struct kvmrun_vm *vm)
{
    struct kvmrun_vcpu_stats st;
    uint64_t n = 0;

    for (unsigned i = 0; i < kvmrun_vm_ncpus(vm); i++) {
        kvmrun_vcpu_get_stats(kvmrun_vm_vcpu(vm, i), &st);
        n += st.rekicks;
    }
    return n;
}

/* n busy vCPUs, kicked one way: a kvmrun VM or a bare one. */
struct target {
    enum kicker kicker;
    struct kvmrun_vm *vm;
    struct rawkick rk;
};

static void target_start(struct target *t, enum kicker k, unsigned n)
{
    t->kicker = k;
    if (k == KVMRUN)
        t->vm = kvmrun_busy_vm(n);
    else
        rawkick_start(&t->rk,
                      k == BARE_SIGNAL_MASK ? RAWKICK_SIGNAL_MASK
                                            : RAWKICK_IMMEDIATE_EXIT,
                      n, bench_busy_guest, sizeof(bench_busy_guest));
}

/* Stops it; returns how many times it re-kicked a slow vCPU. */
static uint64_t target_end(struct target *t)
{
    uint64_t n = 0;

    if (t->kicker == KVMRUN) {
        n = kvmrun_rekicks(t->vm);
        kvmrun_busy_end(t->vm);
        return n;
    }
    for (unsigned i = 0; i < t->rk.ncpus; i++)
        n += t->rk.vcpu[i].rekicks;
    rawkick_stop(&t->rk, STOP_TIMEOUT_MS);
    return n;
}

/* One kick of vCPU i, timed from request to acknowledgement. */
static uint64_t kick_once(struct target *t, unsigned i)
{
    uint64_t t0 = bench_now_ns(), t1;
    int r;

    if (t->kicker == KVMRUN) {
        bench_check(kvmrun_vcpu_kick(kvmrun_vm_vcpu(t->vm, i), KICK_TIMEOUT_MS),
                    "kvmrun_vcpu_kick");
    } else if ((r = rawkick_kick(&t->rk, i, KICK_TIMEOUT_MS)) < 0) {
        bench_fail("bare kick of vcpu%u: %s", i,
                   r == -EIO ? "the vCPU thread stopped" : strerror(-r));
    }
    t1 = bench_now_ns();
    return t1 - t0;
}

/*
 * Adds up to `want` kicks of n busy vCPUs, round-robin, to s. After each
 * kick the kicker sleeps gap_ns, so that the vCPU is back in the guest
 * when it is kicked again (otherwise the kick would only find
 * immediate_exit or a pending signal on the way in). Stops at budget_ns.
 */
static void kick_chunk(enum kicker k, unsigned n, size_t want,
                       const struct options *opt, uint64_t budget_ns,
                       struct series *s)
{
    struct target t;
    uint64_t start;

    target_start(&t, k, n);
    bench_sleep_ns(10 * opt->gap_ns);
    for (unsigned i = 0; i < WARMUP_KICKS || i < n; i++) {
        kick_once(&t, i % n);
        bench_sleep_ns(opt->gap_ns);
    }
    start = bench_now_ns();
    for (size_t j = 0;
         j < want && s->n < s->max && bench_now_ns() - start < budget_ns; j++) {
        s->ns[s->n++] = kick_once(&t, (unsigned)(j % n));
        bench_sleep_ns(opt->gap_ns);
    }
    s->rekicks += target_end(&t);
}

static double us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

/*
 * Whether row n measures the kick rather than the scheduler: n busy vCPUs
 * plus the kicker each have a host CPU. Otherwise a kicked vCPU thread
 * that is not on a CPU leaves KVM_RUN only when the scheduler next runs
 * it, whatever the strategy (milliseconds at HZ=250).
 */
static int row_fits(unsigned n)
{
    return (long)n < sysconf(_SC_NPROCESSORS_ONLN);
}

/* The kicks of one row: KICK_ROUNDS rounds, each kicker in turn, the
 * order rotating, so that drift on the host favours none. */
static void kick_row(unsigned n, const struct options *opt,
                     struct series s[NKICKERS])
{
    uint64_t budget = (uint64_t)(opt->budget * 1e9 / KICK_ROUNDS);
    size_t chunk = (opt->kicks + KICK_ROUNDS - 1) / KICK_ROUNDS;

    for (unsigned k = 0; k < NKICKERS; k++)
        series_init(&s[k], opt->kicks);
    for (unsigned r = 0; r < KICK_ROUNDS; r++)
        for (unsigned j = 0; j < NKICKERS; j++) {
            enum kicker k = (enum kicker)((r + j) % NKICKERS);

            kick_chunk(k, n, chunk, opt, budget, &s[k]);
        }
}

struct ratios {
    double log50, log99;
    unsigned nrows;
    char rows[64];
};

static void kick_print_row(unsigned n, struct series s[NKICKERS],
                           struct ratios *q)
{
    uint64_t p50[NKICKERS], p99[NKICKERS];
    double r50, r99;

    for (unsigned k = 0; k < NKICKERS; k++) {
        p50[k] = bench_percentile(s[k].ns, s[k].n, 50);
        p99[k] = bench_percentile(s[k].ns, s[k].n, 99);
    }
    r50 = (double)p50[KVMRUN] / (double)p50[BARE_SIGNAL_MASK];
    r99 = (double)p99[KVMRUN] / (double)p99[BARE_SIGNAL_MASK];
    printf("%5u", n);
    for (unsigned k = 0; k < NKICKERS; k++)
        printf("  %7.1f / %8.1f  ", us(p50[k]), us(p99[k]));
    printf("%6.3f %6.3f  %zu/%zu/%zu  %" PRIu64 "/%" PRIu64 "/%" PRIu64 "%s\n",
           r50, r99, s[0].n, s[1].n, s[2].n, s[0].rekicks, s[1].rekicks,
           s[2].rekicks, row_fits(n) ? "" : "  (shared)");
    fflush(stdout);
    if (row_fits(n) || n == 1) {
        q->log50 += log(r50);
        q->log99 += log(r99);
        snprintf(q->rows + strlen(q->rows), sizeof(q->rows) - strlen(q->rows),
                 "%s%u", q->nrows ? ", " : "", n);
        q->nrows++;
    }
}

/* Kick latency for every vCPU count; returns the geometric means of the
 * p50 and p99 ratios (kvmrun / SET_SIGNAL_MASK) over the rows that fit
 * the host (row_fits), or over n = 1 if none does. */
static void kick_latency(const struct options *opt, double *p50_ratio,
                         double *p99_ratio)
{
    struct ratios q = {0, 0, 0, ""};
    struct series s[NKICKERS];

    printf("kick latency: kick request -> vCPU out of KVM_RUN and "
           "acknowledged, busy guest;\n%u kicks per row and strategy "
           "(or %.1f s), round-robin over the vCPUs, %.0f us apart,\n"
           "in %d rounds that take turns; p50 / p99 in us\n",
           opt->kicks, opt->budget, us(opt->gap_ns), KICK_ROUNDS);
    /* Cells as kick_print_row() prints them: 2 + 18 + 2 wide. */
    printf("%5s  %-18s    %-18s    %-18s  %-13s  %s\n", "vcpus", "kvmrun",
           "SET_SIGNAL_MASK", "immediate_exit", "kvmrun/SIGMASK",
           "kicks,  rekicks");
    printf("%5s  %-18s    %-18s    %-18s  %-13s  %s\n", "", "(immediate_exit)",
           "(bare)", "(bare)", "   p50    p99", "in that order");
    for (unsigned c = 0; c < NCOUNTS; c++) {
        kick_row(vcpu_counts[c], opt, s);
        kick_print_row(vcpu_counts[c], s, &q);
        for (unsigned k = 0; k < NKICKERS; k++)
            free(s[k].ns);
    }
    *p50_ratio = exp(q.log50 / q.nrows);
    *p99_ratio = exp(q.log99 / q.nrows);
    printf("(shared): more busy vCPUs than host CPUs besides the kicker's: "
           "the scheduler, not\nthe kick, sets the latency; such rows are "
           "left out of the headline ratios\n");
    printf("headline: geometric mean over %s vCPU%s: p50 %.3f, p99 %.3f\n\n",
           q.rows, q.nrows == 1 && strcmp(q.rows, "1") == 0 ? "" : "s",
           *p50_ratio, *p99_ratio);
}

/* ------------------------------------------------ pause-all */

/* Times kvmrun_vm_pause() of n busy vCPUs; resume is not timed. */
static void pause_series(unsigned n, const struct options *opt,
                         struct series *s)
{
    struct kvmrun_vm *vm = kvmrun_busy_vm(n);
    uint64_t start, budget = (uint64_t)(opt->budget * 1e9), t0;

    bench_sleep_ns(10 * opt->gap_ns);
    start = bench_now_ns();
    while (s->n < s->max && bench_now_ns() - start < budget) {
        t0 = bench_now_ns();
        bench_check(kvmrun_vm_pause(vm, KICK_TIMEOUT_MS), "kvmrun_vm_pause");
        s->ns[s->n++] = bench_now_ns() - t0;
        bench_check(kvmrun_vm_resume(vm, KICK_TIMEOUT_MS), "kvmrun_vm_resume");
        bench_sleep_ns(opt->gap_ns);
    }
    s->rekicks = kvmrun_rekicks(vm);
    kvmrun_busy_end(vm);
}

static double pause_all(const struct options *opt)
{
    uint64_t p50[NCOUNTS];

    printf("pause-all: kvmrun_vm_pause() of n busy vCPUs until all "
           "acknowledged (us),\n%u cycles (or %.1f s), resume not timed\n",
           opt->cycles, opt->budget);
    printf("vcpus  p50       p99       (cycles, rekicks)  p50 / p50(1)\n");
    for (unsigned c = 0; c < NCOUNTS; c++) {
        struct series s;
        uint64_t p99;

        series_init(&s, opt->cycles);
        pause_series(vcpu_counts[c], opt, &s);
        p50[c] = bench_percentile(s.ns, s.n, 50);
        p99 = bench_percentile(s.ns, s.n, 99);
        printf("%5u  %8.1f  %8.1f  (%5zu, %4" PRIu64 ")      %6.2f\n",
               vcpu_counts[c], us(p50[c]), us(p99), s.n, s.rekicks,
               (double)p50[c] / (double)p50[0]);
        fflush(stdout);
        free(s.ns);
    }
    printf("\n");
    return (double)p50[NCOUNTS - 1] / (double)p50[0];
}

/* ------------------------------------------------ main */

static void usage(void)
{
    fprintf(stderr,
            "usage: kick-latency [-k KICKS] [-p CYCLES] [-b SECONDS] "
            "[-g MICROSECONDS]\n"
            "                    [-r ROUNDS] [-t SECONDS]\n"
            "  -k KICKS    kicks per vCPU count and strategy (default 2000)\n"
            "  -p CYCLES   pause/resume cycles per vCPU count (default 200)\n"
            "  -b SECONDS  time limit of each kick or pause series "
            "(default 2)\n"
            "  -g US       pause between kicks (default: 20 exits' worth, "
            "at least 100)\n"
            "  -r ROUNDS   per-exit rounds of each strategy (default 15)\n"
            "  -t SECONDS  target length of a per-exit round (default "
            "0.15)\n");
    exit(2);
}

static void parse(int argc, char **argv, struct options *opt)
{
    int c;

    *opt = (struct options){2000, 200, 2.0, 0, 15, 0.15};
    while ((c = getopt(argc, argv, "k:p:b:g:r:t:h")) != -1) {
        switch (c) {
        case 'k':
            opt->kicks = (unsigned)bench_arg(optarg, 'k');
            break;
        case 'p':
            opt->cycles = (unsigned)bench_arg(optarg, 'p');
            break;
        case 'b':
            opt->budget = bench_arg(optarg, 'b');
            break;
        case 'g':
            opt->gap_ns = (uint64_t)(bench_arg(optarg, 'g') * 1000);
            break;
        case 'r':
            opt->rounds = (unsigned)bench_arg(optarg, 'r');
            break;
        case 't':
            opt->seconds = bench_arg(optarg, 't');
            break;
        default:
            usage();
        }
    }
    if (optind != argc || opt->kicks < 2 || opt->cycles < 1 ||
        opt->rounds < 1 || opt->rounds > MAX_ROUNDS)
        usage();
}

int main(int argc, char **argv)
{
    double exit_ns, p50_ratio, p99_ratio, pause_ratio;
    struct options opt;
    uint64_t handler_runs;

    parse(argc, argv, &opt);
    bench_watchdog(300);
    rawkick_setup();
    printf("kick-latency (%s)\n\n", bench_host());
    exit_ns = exit_cost(&opt);
    if (!opt.gap_ns) {
        opt.gap_ns = (uint64_t)(20 * exit_ns);
        if (opt.gap_ns < 100000)
            opt.gap_ns = 100000;
    }
    kick_latency(&opt, &p50_ratio, &p99_ratio);
    pause_ratio = pause_all(&opt);
    handler_runs = rawkick_stray_handler_runs();
    if (handler_runs)
        bench_fail("the SET_SIGNAL_MASK kick handler ran %" PRIu64
                   " times: the signal reached user space unblocked",
                   handler_runs);
    printf("RESULT kick_p50_ratio %.3f\n", p50_ratio);
    printf("RESULT kick_p99_ratio %.3f\n", p99_ratio);
    printf("RESULT pause_all_8_over_1 %.2f\n", pause_ratio);
    return 0;
}
