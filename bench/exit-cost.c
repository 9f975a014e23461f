/* exit-cost.c: ns per port-I/O exit through kvmrun vs a bare KVM_RUN loop. */
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "kvmrun.h"
#include "rawvm.h"

const char *bench_name = "exit-cost";

#define MAX_ROUNDS 64
#define CALIBRATION_EXITS 20000u
#define MIN_EXITS 1000u
#define MAX_EXITS 100000000u
/* A round's guest must power off within this, or something is wrong. */
#define ROUND_TIMEOUT_MS 60000

struct options {
    uint32_t exits; /* per round; 0: calibrate */
    unsigned rounds;
    double seconds; /* target length of one round when calibrating */
};

/* One round: guest TSC ticks per exit (the loop as the guest timed it),
 * and the host's wall-clock ns per exit. */
struct round {
    double ticks;
    double ns;
};

static double per_exit_ticks(const uint8_t *stamps, uint32_t exits,
                             const char *who)
{
    uint64_t ticks = bench_guest_ticks(stamps);

    if (!ticks)
        bench_fail("%s: the guest's TSC stamps make no sense", who);
    return (double)ticks / exits;
}

/*
 * The floor: KVM_RUN in a loop, counting exits on the benchmark port and
 * nothing else: no dispatch, no statistics, no kick handling.
 */
static struct round floor_round(struct rawvm *vm, uint32_t exits)
{
    struct rawvcpu *v = &vm->vcpu[0];
    struct kvm_run *run = v->run;
    uint64_t count = 0, t0, t1;
    int r;

    bench_out_loop(vm->mem + BENCH_ENTRY, exits);
    memset(vm->mem + BENCH_STAMPS, 0, BENCH_STAMPS_LEN);
    rawvm_reset(vm, 0);
    t0 = bench_now_ns();
    while ((r = rawvm_run(v)) == 0 && run->exit_reason == KVM_EXIT_IO &&
           run->io.port == BENCH_OUT_PORT)
        count++;
    t1 = bench_now_ns();
    if (r < 0)
        bench_fail("floor: KVM_RUN: error %d", -r);
    if (run->exit_reason != KVM_EXIT_IO || run->io.port != 0x604 ||
        count != exits)
        bench_fail("floor: the guest stopped after %" PRIu64 " of %" PRIu32
                   " exits (exit reason %u)",
                   count, exits, run->exit_reason);
    return (struct round){
        per_exit_ticks(vm->mem + BENCH_STAMPS, exits, "floor"),
        (double)(t1 - t0) / (double)(count + 1)};
}

static struct kvmrun_vm *kvmrun_guest(uint32_t exits)
{
    uint8_t image[BENCH_OUT_LOOP_LEN];
    struct kvmrun_config cfg;
    struct kvmrun_vm *vm;

    kvmrun_config_init(&cfg);
    cfg.mem_size = BENCH_MEM;
    cfg.serial_fd = -1;
    bench_check(kvmrun_vm_create(&cfg, &vm), "kvmrun_vm_create");
    bench_out_loop(image, exits);
    bench_check(kvmrun_load_raw(vm, image, sizeof(image), BENCH_ENTRY),
                "kvmrun_load_raw");
    bench_check(kvmrun_boot_real(vm, BENCH_ENTRY, BENCH_ENTRY),
                "kvmrun_boot_real");
    return vm;
}

static void kvmrun_await(struct kvmrun_vm *vm, struct kvmrun_outcome *out)
{
    struct pollfd pfd = {.fd = kvmrun_vm_event_fd(vm), .events = POLLIN};

    if (poll(&pfd, 1, ROUND_TIMEOUT_MS) != 1)
        bench_fail("kvmrun: the guest did not power off within %d ms",
                   ROUND_TIMEOUT_MS);
    bench_check(kvmrun_vm_wait(vm, out), "kvmrun_vm_wait");
    if (out->end != KVMRUN_END_POWEROFF)
        bench_fail("kvmrun: the guest did not power off: %s", out->message);
}

/*
 * The same guest through kvmrun: its vCPU thread, its exit dispatch, the
 * UART's scratch register. The guest times its loop; the wall clock, from
 * kvmrun_vm_start() to the joined thread, also counts the thread's start
 * and end (a fixed cost, large in the test VM).
 */
static struct round kvmrun_round(uint32_t exits)
{
    struct kvmrun_vm *vm = kvmrun_guest(exits);
    struct kvmrun_vcpu_stats st;
    struct kvmrun_outcome out;
    struct round rd;
    uint8_t *stamps;
    uint64_t t0, t1;

    t0 = bench_now_ns();
    bench_check(kvmrun_vm_start(vm), "kvmrun_vm_start");
    kvmrun_await(vm, &out);
    t1 = bench_now_ns();
    kvmrun_vcpu_get_stats(kvmrun_vm_vcpu(vm, 0), &st);
    stamps = kvmrun_vm_mem(vm, BENCH_STAMPS, BENCH_STAMPS_LEN);
    if (!stamps)
        bench_fail("kvmrun_vm_mem: no guest RAM at %#x", BENCH_STAMPS);
    rd.ticks = per_exit_ticks(stamps, exits, "kvmrun");
    rd.ns = (double)(t1 - t0) / (double)(exits + 1);
    kvmrun_vm_destroy(vm);
    if (st.exits[KVM_EXIT_IO] != (uint64_t)exits + 1)
        bench_fail("kvmrun: %" PRIu64 " I/O exits, expected %" PRIu32,
                   st.exits[KVM_EXIT_IO], exits + 1);
    return rd;
}

/* Exits per round so that a floor round lasts about opt->seconds. */
static uint32_t calibrate(struct rawvm *vm, const struct options *opt)
{
    double ns = floor_round(vm, CALIBRATION_EXITS).ns;
    double want = opt->seconds * 1e9 / ns;

    if (want < MIN_EXITS)
        want = MIN_EXITS;
    if (want > MAX_EXITS)
        want = MAX_EXITS;
    return (uint32_t)want;
}

/* Round i of both, back to back, the first alternating so that drift
 * favours neither; kv and fl get ns per exit by the guest's clock, ghz
 * the guest TSC rate by the floor's wall clock. */
static void round_pair(struct rawvm *vm, uint32_t exits, unsigned i, double *kv,
                       double *fl, double *ghz)
{
    struct round k, f;

    if (i % 2 == 0) {
        k = kvmrun_round(exits);
        f = floor_round(vm, exits);
    } else {
        f = floor_round(vm, exits);
        k = kvmrun_round(exits);
    }
    ghz[i] = f.ticks / f.ns;
    kv[i] = k.ticks / ghz[i];
    fl[i] = f.ticks / ghz[i];
}

static void usage(void)
{
    fprintf(stderr,
            "usage: exit-cost [-n EXITS] [-r ROUNDS] [-t SECONDS]\n"
            "  -n EXITS    exits per round (default: what a bare loop does "
            "in -t seconds)\n"
            "  -r ROUNDS   rounds of each, interleaved (default 15)\n"
            "  -t SECONDS  target length of a round (default 0.15)\n");
    exit(2);
}

static void parse(int argc, char **argv, struct options *opt)
{
    double exits = 0;
    int c;

    *opt = (struct options){0, 15, 0.15};
    while ((c = getopt(argc, argv, "n:r:t:h")) != -1) {
        switch (c) {
        case 'n':
            exits = bench_arg(optarg, 'n');
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
    if (optind != argc || opt->rounds < 1 || opt->rounds > MAX_ROUNDS ||
        (exits && (exits < 1 || exits > MAX_EXITS)))
        usage();
    opt->exits = (uint32_t)exits;
}

static void summary(double *kv, double *fl, double *ghz, unsigned n)
{
    double mr = bench_median_ratio(kv, fl, n);
    double diff = bench_median_diff(kv, fl, n);

    printf("median %14.1f  %13.1f  %12.3f\n", bench_median(kv, n),
           bench_median(fl, n), mr);
    printf("(timed by the guest: TSC stamps around its loop, at %.3f GHz "
           "by the floor's\nwall clock; the ratio is the median of the "
           "rounds' ratios: each pair ran back\nto back, so drift on the "
           "host cancels out)\n",
           bench_median(ghz, n));
    printf("kvmrun adds %.0f ns per exit to the floor (median of the "
           "rounds' differences)\n",
           diff);
    printf("RESULT exit_cost_ratio %.3f\n", mr);
}

int main(int argc, char **argv)
{
    double kv[MAX_ROUNDS], fl[MAX_ROUNDS], ghz[MAX_ROUNDS];
    uint8_t image[BENCH_OUT_LOOP_LEN];
    struct options opt;
    struct rawvm raw;

    parse(argc, argv, &opt);
    bench_watchdog(300);
    bench_out_loop(image, 1);
    rawvm_create(&raw, 1, image, sizeof(image));
    if (!opt.exits)
        opt.exits = calibrate(&raw, &opt);
    printf("exit-cost (%s)\n`out` to port %#x, %" PRIu32 " exits per "
           "round, %u rounds each, interleaved\n",
           bench_host(), BENCH_OUT_PORT, opt.exits, opt.rounds);
    printf("round  kvmrun ns/exit  floor ns/exit  kvmrun/floor\n");
    for (unsigned i = 0; i < opt.rounds; i++) {
        round_pair(&raw, opt.exits, i, kv, fl, ghz);
        printf("%5u  %14.1f  %13.1f  %12.3f\n", i + 1, kv[i], fl[i],
               kv[i] / fl[i]);
        fflush(stdout);
    }
    rawvm_destroy(&raw);
    summary(kv, fl, ghz, opt.rounds);
    return 0;
}
