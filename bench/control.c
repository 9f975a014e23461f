/* control.c: pause latency through the control socket, request to reply. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench.h"
#include "kvmrun.h"

const char *bench_name = "control";

#define MAX_CYCLES 100000

/* Sends one request line, reads one reply line: ns, or fails. */
static uint64_t round_trip(int fd, const char *req)
{
    char reply[4096];
    size_t got = 0;
    uint64_t t0 = bench_now_ns();

    if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
        bench_fail("write to the control socket: %s", strerror(errno));
    while (got == 0 || reply[got - 1] != '\n') {
        ssize_t n = read(fd, reply + got, sizeof(reply) - 1 - got);

        if (n <= 0)
            bench_fail("the control socket closed");
        got += (size_t)n;
        if (got == sizeof(reply) - 1)
            bench_fail("reply too long");
    }
    reply[got] = 0;
    if (!strstr(reply, "\"ok\":true"))
        bench_fail("%s -> %s", req, reply);
    return bench_now_ns() - t0;
}

/* cycles pause/resume pairs on a busy guest of ncpus vCPUs: the pause
 * round trips' median and p99 in us into p50 and p99. */
static void measure(unsigned ncpus, unsigned cycles, double *p50, double *p99)
{
    static uint64_t lat[MAX_CYCLES];
    struct kvmrun_control *ctl;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct kvmrun_vm *vm = bench_busy_vm(BENCH_MEM, ncpus);
    int fd;

    snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/kvmrun-bench-%ld.sock",
             (long)getpid());
    bench_check(kvmrun_control_start(vm, sa.sun_path, &ctl),
                "kvmrun_control_start");
    bench_check(kvmrun_vm_start(vm), "kvmrun_vm_start");
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        bench_fail("%s: %s", sa.sun_path, strerror(errno));
    bench_sleep_ns(20000000);
    for (unsigned i = 0; i < cycles; i++) {
        lat[i] = round_trip(fd, "{\"cmd\":\"pause\"}\n");
        round_trip(fd, "{\"cmd\":\"resume\"}\n");
    }
    close(fd);
    kvmrun_control_stop(ctl);
    bench_check(kvmrun_vm_stop(vm, 0, 10000), "kvmrun_vm_stop");
    kvmrun_vm_destroy(vm);
    *p50 = bench_percentile(lat, cycles, 50) / 1e3;
    *p99 = bench_percentile(lat, cycles, 99) / 1e3;
}

int main(int argc, char **argv)
{
    unsigned cycles = 500;
    double p50[2], p99[2];
    int o;

    while ((o = getopt(argc, argv, "n:h")) != -1) {
        if (o != 'n') {
            fprintf(stderr, "usage: control [-n CYCLES]\n"
                            "  pause/resume CYCLES times (500) through the "
                            "control socket, busy guest, 1 and 2 vCPUs\n");
            return 2;
        }
        cycles = (unsigned)bench_arg(optarg, 'n');
        if (cycles > MAX_CYCLES)
            bench_fail("-n %u: at most %d", cycles, MAX_CYCLES);
    }
    bench_watchdog(300);
    printf("control: %s, %u pause/resume cycles through the control "
           "socket, pause sent -> reply read\n",
           bench_host(), cycles);
    for (unsigned n = 1; n <= 2; n++) {
        measure(n, cycles, &p50[n - 1], &p99[n - 1]);
        printf("  %u vCPU%s: median %.1f us, p99 %.1f us\n", n,
               n > 1 ? "s" : "", p50[n - 1], p99[n - 1]);
    }
    printf("RESULT pause_reply_p50_us_1cpu %.1f\n", p50[0]);
    printf("RESULT pause_reply_p99_us_1cpu %.1f\n", p99[0]);
    printf("RESULT pause_reply_p50_us_2cpu %.1f\n", p50[1]);
    return 0;
}
