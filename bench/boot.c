/* boot.c: Linux boot time and VMM memory, kvmrun vs QEMU's microvm. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

const char *bench_name = "boot";

#define MAX_RUNS 64
#define MARKER "KVMRUN-LINUX-UP" /* tests/linux/mkinitramfs's init */
#define PROMPT "type a line:"
#define MAX_ARGS 40

struct vmm {
    const char *name;
    char *argv[MAX_ARGS];
};

/* One boot: times from fork to the marker and to exit, memory. */
struct boot {
    double marker_ms, exit_ms;
    double hwm_mib;   /* the process's peak resident memory */
    double guest_mib; /* of it, guest RAM the guest touched */
    double anon_mib;  /* private (anonymous) memory, guest RAM included */
};

static unsigned runs = 5, timeout_s = 120;
static int trace; /* -T */
static const char *mem = "256";

static void usage(void)
{
    fprintf(stderr,
            "usage: boot [-n RUNS] [-m MIB] [-t SECONDS] [-a APPEND] "
            "[-q QEMU] [-x VMLINUX] [-T] KVMRUN KERNEL INITRD\n"
            "  boots KERNEL with INITRD (tests/linux/mkinitramfs) RUNS times "
            "(default 5) with kvmrun and with QEMU's microvm, alternately,\n"
            "  -m MiB of guest RAM (256), and reports the medians: time to "
            "the init's marker line, time to exit, and each VMM's own\n"
            "  resident memory beyond the guest RAM it touched (peak, and "
            "private at the prompt). -q names "
            "QEMU (qemu-system-x86_64), -t bounds each boot (120 s);\n"
            "  -x: kvmrun boots VMLINUX, KERNEL's uncompressed ELF kernel "
            "(tests/linux/extract-vmlinux), QEMU still KERNEL;\n"
            "  -T: instead, boot once with each VMM adding "
            "kvmrun.action=dmesg to APPEND and print every output line\n"
            "  stamped with milliseconds since the VMM started: the "
            "kernel's log says where each boot spends its time\n"
            "  (kvmrun runs with --stats: its own start, step by step).\n");
    exit(2);
}

static void add(struct vmm *v, unsigned *n, char *arg)
{
    if (*n + 1 >= MAX_ARGS)
        bench_fail("too many arguments for %s", v->name);
    v->argv[(*n)++] = arg;
    v->argv[*n] = NULL;
}

/*
 * The largest mapping of a live process, guest RAM in both VMMs: its
 * resident size in MiB, from /proc/PID/smaps.
 */
static double guest_rss_mib(pid_t pid)
{
    char path[64], line[256];
    unsigned long long lo, hi, size = 0, best = 0, rss, best_rss = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
    if (!(f = fopen(path, "r")))
        bench_fail("%s: %s", path, strerror(errno));
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%llx-%llx ", &lo, &hi) == 2)
            size = hi - lo;
        else if (sscanf(line, "Rss: %llu kB", &rss) == 1 && size > best) {
            best = size;
            best_rss = rss;
        }
    }
    fclose(f);
    return best_rss / 1024.0;
}

/* RssAnon of a live process, in MiB: its private memory, shared library
 * text not included. */
static double anon_rss_mib(pid_t pid)
{
    char path[64], line[256];
    unsigned long long kb = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if (!(f = fopen(path, "r")))
        bench_fail("%s: %s", path, strerror(errno));
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "RssAnon: %llu kB", &kb) == 1)
            break;
    fclose(f);
    return kb / 1024.0;
}

/* Reads the VMM's output until needle shows up: 0, or -1 at EOF/timeout. */
static int wait_for(int fd, const char *needle, char *buf, size_t *len,
                    uint64_t deadline)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        uint64_t now = bench_now_ns();
        ssize_t n;

        buf[*len] = 0;
        if (strstr(buf, needle))
            return 0;
        if (now >= deadline ||
            poll(&p, 1, (int)((deadline - now) / 1000000 + 1)) <= 0)
            return -1;
        if (*len > 3000) { /* keep the tail: the needle may straddle reads */
            memmove(buf, buf + *len - 64, 64);
            *len = 64;
        }
        n = read(fd, buf + *len, 4000 - *len);
        if (n <= 0)
            return -1;
        *len += (size_t)n;
    }
}

/* Starts the VMM with stdin, stdout and stderr on the given descriptors
 * (-1: /dev/null); *t0 is when, for its deadlines and stamps. */
static pid_t spawn(const struct vmm *v, int fd0, int fd1, int fd2, uint64_t *t0)
{
    pid_t pid;

    *t0 = bench_now_ns();
    pid = fork();
    if (pid < 0)
        bench_fail("fork: %s", strerror(errno));
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);

        dup2(fd0 < 0 ? null : fd0, 0);
        dup2(fd1 < 0 ? null : fd1, 1);
        dup2(fd2 < 0 ? null : fd2, 2);
        execvp(v->argv[0], v->argv);
        _exit(127);
    }
    return pid;
}

static void boot_once(const struct vmm *v, struct boot *b)
{
    int in[2], out[2], status;
    char buf[4096];
    size_t len = 0;
    struct rusage ru;
    uint64_t t0, deadline;
    pid_t pid;

    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
        bench_fail("pipe: %s", strerror(errno));
    pid = spawn(v, in[0], out[1], -1, &t0);
    deadline = t0 + timeout_s * 1000000000ull;
    close(in[0]);
    close(out[1]);
    if (wait_for(out[0], MARKER, buf, &len, deadline) < 0) {
        kill(pid, SIGKILL);
        bench_fail("%s: no \"%s\" line within %u s (status of the VMM: see "
                   "it run by hand: %s ...)",
                   v->name, MARKER, timeout_s, v->argv[0]);
    }
    b->marker_ms = (bench_now_ns() - t0) / 1e6;
    if (wait_for(out[0], PROMPT, buf, &len, deadline) < 0) {
        kill(pid, SIGKILL);
        bench_fail("%s: no \"%s\" prompt within %u s", v->name, PROMPT,
                   timeout_s);
    }
    /* The guest waits for a line: its memory is what booting touched. */
    b->guest_mib = guest_rss_mib(pid);
    b->anon_mib = anon_rss_mib(pid);
    if (write(in[1], "bench\n", 6) != 6)
        bench_fail("%s: cannot type at the console: %s", v->name,
                   strerror(errno));
    while (read(out[0], buf, sizeof(buf)) > 0)
        ; /* the rest of the output, until the VMM closes it */
    if (wait4(pid, &status, 0, &ru) < 0)
        bench_fail("wait4: %s", strerror(errno));
    b->exit_ms = (bench_now_ns() - t0) / 1e6;
    close(in[1]);
    close(out[0]);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        bench_fail("%s: did not power off cleanly (status %#x)", v->name,
                   status);
    b->hwm_mib = ru.ru_maxrss / 1024.0;
}

/*
 * -T: one boot whose init prints the kernel's log (kvmrun.action=dmesg),
 * each output line stamped with the time since fork, in ms.
 */
static void trace_once(const struct vmm *v)
{
    int out[2], status;
    char line[1024];
    size_t len = 0;
    uint64_t t0, deadline;
    pid_t pid;
    FILE *f;

    if (pipe2(out, O_CLOEXEC) < 0)
        bench_fail("pipe: %s", strerror(errno));
    pid = spawn(v, -1, out[1], out[1], &t0); /* stderr: kvmrun's --stats */
    deadline = t0 + timeout_s * 1000000000ull;
    close(out[1]);
    if (!(f = fdopen(out[0], "r")))
        bench_fail("fdopen: %s", strerror(errno));
    printf("== %s\n", v->name);
    for (int c; (c = getc(f)) != EOF;) {
        if (bench_now_ns() > deadline) {
            kill(pid, SIGKILL);
            bench_fail("%s: still running after %u s", v->name, timeout_s);
        }
        if (c != '\n' && c != '\r' && len < sizeof(line) - 1) {
            if (!len) /* stamp a line when its first byte comes */
                printf("%9.1f ", (bench_now_ns() - t0) / 1e6);
            line[len++] = (char)c;
        } else if (c == '\n' && len) {
            line[len] = 0;
            printf("%s\n", line);
            len = 0;
        }
    }
    fclose(f);
    if (waitpid(pid, &status, 0) < 0)
        bench_fail("waitpid: %s", strerror(errno));
    printf("%9.1f %s exits, status %#x\n", (bench_now_ns() - t0) / 1e6, v->name,
           status);
}

static double med(const struct boot *b, size_t n, size_t field)
{
    double v[MAX_RUNS];

    for (size_t i = 0; i < n; i++)
        v[i] = *(const double *)((const char *)&b[i] + field);
    return bench_median(v, n);
}

/* Median of a field minus the guest RAM touched. */
static double med_nonguest(const struct boot *b, size_t n, size_t field)
{
    double v[MAX_RUNS];

    for (size_t i = 0; i < n; i++)
        v[i] = *(const double *)((const char *)&b[i] + field) - b[i].guest_mib;
    return bench_median(v, n);
}

int main(int argc, char **argv)
{
    static struct boot res[2][MAX_RUNS];
    const char *append = "console=ttyS0 quiet panic=-1";
    const char *qemu = "qemu-system-x86_64";
    const char *vmlinux = NULL; /* -x: kvmrun boots this instead */
    struct vmm vmm[2] = {{.name = "kvmrun"}, {.name = "qemu"}};
    char mem_arg[32], trace_append[1024];
    unsigned n = 0;
    int o;

    signal(SIGPIPE, SIG_IGN); /* a VMM that died is reported, not fatal */
    while ((o = getopt(argc, argv, "n:m:t:a:q:x:Th")) != -1) {
        switch (o) {
        case 'x':
            vmlinux = optarg;
            break;
        case 'T':
            trace = 1;
            break;
        case 'n':
            runs = (unsigned)bench_arg(optarg, 'n');
            if (runs > MAX_RUNS)
                bench_fail("-n %u: at most %d runs", runs, MAX_RUNS);
            break;
        case 'm':
            mem = optarg;
            break;
        case 't':
            timeout_s = (unsigned)bench_arg(optarg, 't');
            break;
        case 'a':
            append = optarg;
            break;
        case 'q':
            qemu = optarg;
            break;
        default:
            usage();
        }
    }
    if (argc - optind != 3)
        usage();
    bench_watchdog(runs * 2 * (timeout_s + 5) + 60);
    snprintf(mem_arg, sizeof(mem_arg), "%sM", mem);

    if (trace) { /* the init prints the kernel's log instead of a prompt */
        snprintf(trace_append, sizeof(trace_append), "%s kvmrun.action=dmesg",
                 append);
        append = trace_append;
    }
    char *kv[] = {argv[optind],
                  "-m",
                  mem_arg,
                  "-k",
                  (char *)(vmlinux ? vmlinux : argv[optind + 1]),
                  "-i",
                  argv[optind + 2],
                  "-a",
                  (char *)append};
    for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
        add(&vmm[0], &n, kv[i]);
    if (trace) /* kvmrun reports its own start's steps at exit */
        add(&vmm[0], &n, "--stats");
    n = 0;
    /* QEMU's fastest configuration found here (issue 5): microvm with its
     * RTC, qboot, no default devices. */
    char *qv[] = {(char *)qemu,
                  "-accel",
                  "kvm",
                  "-cpu",
                  "host",
                  "-M",
                  "microvm,rtc=on",
                  "-m",
                  (char *)mem,
                  "-nodefaults",
                  "-nographic",
                  "-serial",
                  "stdio",
                  "-kernel",
                  argv[optind + 1],
                  "-initrd",
                  argv[optind + 2],
                  "-append",
                  (char *)append};
    for (size_t i = 0; i < sizeof(qv) / sizeof(qv[0]); i++)
        add(&vmm[1], &n, qv[i]);

    printf("boot: %s, %s MiB, 1 vCPU, append \"%s\", %u runs each, "
           "alternating; kvmrun boots %s, QEMU %s\n",
           bench_host(), mem, append, runs,
           vmlinux ? vmlinux : argv[optind + 1], argv[optind + 1]);
    if (trace) {
        trace_once(&vmm[0]);
        trace_once(&vmm[1]);
        return 0;
    }
    printf("%-4s %-7s %10s %10s %9s %9s %9s %9s\n", "run", "vmm", "marker_ms",
           "exit_ms", "hwm_mib", "guest_mib", "own_mib", "priv_mib");
    for (unsigned r = 0; r < runs; r++) {
        for (int v = 0; v < 2; v++) {
            struct boot *b = &res[v][r];

            boot_once(&vmm[v], b);
            printf("%-4u %-7s %10.1f %10.1f %9.2f %9.2f %9.2f %9.2f\n", r + 1,
                   vmm[v].name, b->marker_ms, b->exit_ms, b->hwm_mib,
                   b->guest_mib, b->hwm_mib - b->guest_mib,
                   b->anon_mib - b->guest_mib);
            fflush(stdout);
        }
    }
    double km = med(res[0], runs, offsetof(struct boot, marker_ms));
    double qm = med(res[1], runs, offsetof(struct boot, marker_ms));
    double ke = med(res[0], runs, offsetof(struct boot, exit_ms));
    double qe = med(res[1], runs, offsetof(struct boot, exit_ms));
    double kown = med_nonguest(res[0], runs, offsetof(struct boot, hwm_mib));
    double qown = med_nonguest(res[1], runs, offsetof(struct boot, hwm_mib));
    double kpriv = med_nonguest(res[0], runs, offsetof(struct boot, anon_mib));
    double qpriv = med_nonguest(res[1], runs, offsetof(struct boot, anon_mib));

    printf("median: kvmrun %.1f ms to the marker, %.1f ms to exit, "
           "%.2f MiB own memory (%.2f MiB private)\n",
           km, ke, kown, kpriv);
    printf("median: qemu   %.1f ms to the marker, %.1f ms to exit, "
           "%.2f MiB own memory (%.2f MiB private)\n",
           qm, qe, qown, qpriv);
    printf("RESULT boot_ratio_vs_qemu %.3f\n", km / qm);
    printf("RESULT boot_exit_ratio_vs_qemu %.3f\n", ke / qe);
    printf("RESULT rss_nonguest_mib %.2f\n", kown);
    printf("RESULT qemu_rss_nonguest_mib %.2f\n", qown);
    printf("RESULT rss_private_nonguest_mib %.2f\n", kpriv);
    return 0;
}
