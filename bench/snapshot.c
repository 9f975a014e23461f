/* snapshot.c: snapshot and restore time and file size, 128 MiB and 1 GiB. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "kvmrun.h"

const char *bench_name = "snapshot";

#define MAX_ROUNDS 64
#define TOUCH_AT (16ULL << 20) /* where the host dirties guest RAM */

struct options {
    unsigned rounds;
    unsigned touch_mib; /* RAM written with non-zero data before saving */
    const char *dir;
};

struct result {
    double snap_ms, restore_ms;
    uint64_t bytes;
};

static struct kvmrun_vm *busy_vm(uint64_t mem, const struct options *o)
{
    struct kvmrun_vm *vm = bench_busy_vm(mem, 1);
    uint8_t *p;

    p = kvmrun_vm_mem(vm, TOUCH_AT, (uint64_t)o->touch_mib << 20);
    if (o->touch_mib && !p)
        bench_fail("-t %u MiB does not fit in the guest", o->touch_mib);
    for (uint64_t i = 0; i < ((uint64_t)o->touch_mib << 20); i += 64)
        p[i] = (uint8_t)(i >> 6 | 1);
    bench_check(kvmrun_vm_start(vm), "kvmrun_vm_start");
    bench_sleep_ns(20000000);
    return vm;
}

static uint64_t file_bytes(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0)
        bench_fail("%s: %s", path, strerror(errno));
    return (uint64_t)st.st_size;
}

/* Medians over rounds: kvmrun_vm_snapshot() of a running busy guest
 * (pause, save, fsync, rename, resume), then kvmrun_vm_restore() of the
 * file (check, create the VM, set the state, copy memory). */
static struct result measure(uint64_t mem, const struct options *o)
{
    double snap[MAX_ROUNDS], rest[MAX_ROUNDS];
    struct kvmrun_config cfg;
    struct result res;
    char path[4096];

    snprintf(path, sizeof(path), "%s/kvmrun-bench-%ld.snap", o->dir,
             (long)getpid());
    for (unsigned i = 0; i < o->rounds; i++) {
        struct kvmrun_vm *vm = busy_vm(mem, o);
        uint64_t t0 = bench_now_ns();

        bench_check(kvmrun_vm_snapshot(vm, path), "kvmrun_vm_snapshot");
        snap[i] = (bench_now_ns() - t0) / 1e6;
        kvmrun_vm_destroy(vm);
        kvmrun_config_init(&cfg);
        cfg.serial_fd = -1;
        t0 = bench_now_ns();
        bench_check(kvmrun_vm_restore(&cfg, path, &vm), "kvmrun_vm_restore");
        rest[i] = (bench_now_ns() - t0) / 1e6;
        bench_check(kvmrun_vm_start(vm), "kvmrun_vm_start (restored)");
        kvmrun_vm_destroy(vm);
    }
    res.bytes = file_bytes(path);
    unlink(path);
    res.snap_ms = bench_median(snap, o->rounds);
    res.restore_ms = bench_median(rest, o->rounds);
    return res;
}

static void usage(void)
{
    fprintf(stderr, "usage: snapshot [-r ROUNDS] [-t MIB] [-d DIR]\n"
                    "  -r  rounds per size, medians reported (default 5)\n"
                    "  -t  MiB of guest RAM written before saving (default 8)\n"
                    "  -d  directory for the snapshot file (default $TMPDIR or "
                    "/tmp)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        uint64_t mem;
    } sizes[] = {{"128m", 128ULL << 20}, {"1g", 1ULL << 30}};
    struct options o = {5, 8, getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp"};
    int c;

    while ((c = getopt(argc, argv, "r:t:d:h")) != -1) {
        if (c == 'r')
            o.rounds = (unsigned)bench_arg(optarg, 'r');
        else if (c == 't')
            o.touch_mib = (unsigned)bench_arg(optarg, 't');
        else if (c == 'd')
            o.dir = optarg;
        else
            usage();
    }
    if (o.rounds < 1 || o.rounds > MAX_ROUNDS)
        bench_fail("-r must be 1..%d", MAX_ROUNDS);
    bench_watchdog(300);
    printf("snapshot: a busy 1-vCPU guest, %u MiB of RAM written, file in "
           "%s; medians of %u rounds; %s\n",
           o.touch_mib, o.dir, o.rounds, bench_host());
    printf("%-6s %12s %12s %14s\n", "RAM", "snapshot ms", "restore ms",
           "file bytes");
    for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
        struct result r = measure(sizes[i].mem, &o);

        printf("%-6s %12.2f %12.2f %14llu\n", sizes[i].name, r.snap_ms,
               r.restore_ms, (unsigned long long)r.bytes);
        printf("RESULT snapshot_%s_ms %.2f\n", sizes[i].name, r.snap_ms);
        printf("RESULT restore_%s_ms %.2f\n", sizes[i].name, r.restore_ms);
        printf("RESULT snapshot_%s_bytes %llu\n", sizes[i].name,
               (unsigned long long)r.bytes);
    }
    return 0;
}
