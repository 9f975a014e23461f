/* main.c: the kvmrun command: options -> VM -> run -> exit status. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "ctl.h"
#include "kvmrun.h"
#include "options.h"
#include "paths.h"
#include "sigsys.h"

/* The built-in demo guest (guests/demo.S), linked in by demo_image.S. */
extern const unsigned char demo_image[], demo_image_end[];

#define STOP_TIMEOUT_MS 5000

/* Signals read by the main thread through a signalfd; blocked in every
 * thread, SIGUSR1 and SIGUSR2 from the first instruction of main() on,
 * the stop signals (stop_signals) from the end of the guest's load. */
static void control_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1);
    sigaddset(set, SIGUSR2);
}

static int fail(int status, const char *what)
{
    fprintf(stderr, "kvmrun: %s\n", what);
    return status;
}

/* SIGINT, SIGTERM and SIGHUP. */
static void stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
}

/* A stop signal during the start, before kvmrun made anything to undo:
 * it ends kvmrun at once, the way it ends a running VM (one line, status
 * 128+N), even in the middle of a slow load. */
static void start_signal(int signo)
{
    const char *line =
        signo == SIGINT    ? "kvmrun: stopped by SIGINT during start\n"
        : signo == SIGTERM ? "kvmrun: stopped by SIGTERM during start\n"
                           : "kvmrun: stopped by SIGHUP during start\n";

    ssize_t n = write(STDERR_FILENO, line, strlen(line));

    (void)n; /* nowhere to say it: exit all the same */
    _exit(STATUS_SIGNAL + signo);
}

/* Until stop_signals_hold(): the stop signals run start_signal(), whatever
 * kvmrun inherited (blocked, or ignored as in a shell's background job;
 * a running VM stops on them all the same). */
static void stop_signals_start(void)
{
    struct sigaction sa = {.sa_handler = start_signal};
    sigset_t set;

    sigfillset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    stop_signals(&set);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* Before the first thing kvmrun must undo at exit (the control socket,
 * the pidfile, a raw terminal): from now on the stop signals wait in the
 * signalfd for the control loop. Always 1. */
static int stop_signals_hold(void)
{
    sigset_t set;

    stop_signals(&set);
    sigprocmask(SIG_BLOCK, &set, NULL);
    return 1;
}

static int boot_raw(struct kvmrun_vm *vm, const struct options *o)
{
    struct kvmrun_boot b = {o->mode, o->entry, o->load_addr, 1, 0, 0, 0};
    int r;

    if (o->image)
        r = kvmrun_load_raw_file(vm, o->image, o->load_addr);
    else
        r = kvmrun_load_raw(vm, demo_image,
                            (size_t)(demo_image_end - demo_image),
                            o->load_addr);
    return r < 0 ? r : kvmrun_boot(vm, &b);
}

/* Below the VMM's area: a stack for kernels that do not set their own. */
#define KERNEL_STACK 0x60000

static int boot_elf(struct kvmrun_vm *vm, const char *path)
{
    struct kvmrun_elf_info info;
    struct kvmrun_boot b = {KVMRUN_MODE_PROTECTED, 0, KERNEL_STACK, 0, 0, 0, 0};
    int r = kvmrun_load_elf_file(vm, path, &info);

    if (r < 0)
        return r;
    b.mode = info.bits == 64 ? KVMRUN_MODE_LONG : KVMRUN_MODE_PROTECTED;
    b.entry = info.entry;
    return kvmrun_boot(vm, &b);
}

static int boot_multiboot(struct kvmrun_vm *vm, const struct options *o,
                          const char *path)
{
    struct kvmrun_boot b;
    int r = kvmrun_load_multiboot_file(vm, path, o->append, o->module, &b);

    return r < 0 ? r : kvmrun_boot(vm, &b);
}

static int boot_linux(struct kvmrun_vm *vm, const struct options *o,
                      const char *path)
{
    struct kvmrun_boot b;
    int r = kvmrun_load_linux_file(vm, path, o->append, o->module, &b);

    return r < 0 ? r : kvmrun_boot(vm, &b);
}

/* --load, --entry and --mode describe raw images only. */
static int check_raw_options(const struct options *o, const char *path,
                             enum kvmrun_format f)
{
    const char *opt = o->load_set    ? "--load"
                      : o->entry_set ? "--entry"
                      : o->mode_set  ? "--mode"
                                     : NULL;

    if (!opt)
        return 0;
    fprintf(stderr, "kvmrun: %s applies to raw images only; %s is %s\n", opt,
            path, kvmrun_format_name(f));
    return -1;
}

/* load_guest() result: the error was printed already. */
#define REPORTED 1

/* 0, REPORTED, or -errno with kvmrun_last_error() to print. */
static int load_guest(struct kvmrun_vm *vm, const struct options *o)
{
    const char *path = o->kernel ? o->kernel : o->image;
    enum kvmrun_format f = o->format;

    if (!path && (o->append || o->module)) {
        fprintf(stderr,
                "kvmrun: %s applies to Linux and multiboot kernels "
                "only; give one with -k/--kernel\n",
                o->append ? "--append" : "--initrd");
        return REPORTED;
    }
    if (!path)
        return boot_raw(vm, o);
    if (!o->format_set && kvmrun_detect_format_file(path, &f) < 0)
        return -1;
    if (f == KVMRUN_FORMAT_RAW && o->kernel && !o->format_set) {
        fprintf(stderr,
                "kvmrun: %s: not a Linux bzImage, multiboot kernel "
                "or ELF executable (raw code is given as IMAGE)\n",
                path);
        return REPORTED;
    }
    if (f != KVMRUN_FORMAT_RAW && check_raw_options(o, path, f) < 0)
        return REPORTED;
    if ((f == KVMRUN_FORMAT_RAW || f == KVMRUN_FORMAT_ELF) &&
        (o->append || o->module)) {
        fprintf(stderr,
                "kvmrun: %s applies to Linux and multiboot kernels "
                "only; %s is %s\n",
                o->append ? "--append" : "--initrd", path,
                kvmrun_format_name(f));
        return REPORTED;
    }
    switch (f) {
    case KVMRUN_FORMAT_RAW:
        return boot_raw(vm, o);
    case KVMRUN_FORMAT_ELF:
        return boot_elf(vm, path);
    case KVMRUN_FORMAT_MULTIBOOT:
        return boot_multiboot(vm, o, path);
    default:
        return boot_linux(vm, o, path);
    }
}

/* With --verbose, after a pause: where each vCPU stopped. */
static void report_paused(struct kvmrun_vm *vm)
{
    for (unsigned i = 0; i < kvmrun_vm_ncpus(vm); i++) {
        struct kvmrun_vcpu *v = kvmrun_vm_vcpu(vm, i);
        struct kvmrun_vcpu_stats st;
        uint64_t rip = 0, exits;

        kvmrun_vcpu_get_stats(v, &st);
        exits = st.exits_other;
        for (unsigned k = 0; k < KVMRUN_STATS_EXITS; k++)
            exits += st.exits[k];
        kvmrun_vcpu_get_rip(v, &rip);
        char regs[2048];

        fprintf(stderr,
                "kvmrun: vcpu%u: %s, rip %#llx, %llu exits, "
                "%llu kicks acknowledged\n",
                i, kvmrun_vcpu_state(v), (unsigned long long)rip,
                (unsigned long long)exits, (unsigned long long)st.kicks_acked);
        kvmrun_vcpu_dump_regs(v, regs, sizeof(regs));
        fprintf(stderr, "%s\n", regs);
    }
    char uart[640]; /* the UART, and a virtio console */

    kvmrun_vm_describe_serial(vm, uart, sizeof(uart));
    fprintf(stderr, "kvmrun: %s\n", uart);
}

/* The holds other than the user's, named: "snapshot". */
static void other_holds(unsigned holds, char *buf, size_t len)
{
    size_t n = 0;

    buf[0] = 0;
    holds &= ~KVMRUN_HOLD_USER;
    for (unsigned bit = 1; bit && bit <= holds && n < len; bit <<= 1)
        if (holds & bit)
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "",
                                  kvmrun_hold_name(bit));
}

/*
 * SIGUSR2: toggles what the user last asked for (pause <-> resume), in
 * one atomic step, whatever the vCPUs are doing and whoever else (the
 * control socket, a snapshot) pauses or resumes meanwhile. One line says
 * what happened; no outcome, a timeout included, ends the VM.
 */
static void toggle_pause(struct kvmrun_vm *vm, bool verbose)
{
    struct kvmrun_pause_result res;
    char others[64];
    int r = kvmrun_vm_set_pause(vm, KVMRUN_PAUSE_TOGGLE, STOP_TIMEOUT_MS, &res);

    if (r == -EINVAL)
        return;  /* the VM ended meanwhile: the event fd says so */
    if (r < 0) { /* a vCPU blocked outside KVM_RUN: it gets there later */
        fprintf(stderr, "kvmrun: %s\n", kvmrun_last_error());
        return;
    }
    other_holds(res.holds, others, sizeof(others));
    if (res.reached && res.paused) {
        fprintf(stderr, "kvmrun: paused (SIGUSR2 again resumes)\n");
        if (verbose)
            report_paused(vm);
    } else if (res.reached) {
        fprintf(stderr, "kvmrun: resumed\n");
    } else if (res.paused) {
        fprintf(stderr, "kvmrun: pause superseded by a later resume\n");
    } else if (res.holds & KVMRUN_HOLD_USER) {
        fprintf(stderr, "kvmrun: resume superseded by a later pause\n");
    } else {
        fprintf(stderr,
                "kvmrun: resumed; the VM runs once the %s hold is "
                "released\n",
                others);
    }
}

/*
 * The stop signals in the order they win when several are read together
 * (README, Signals): the exit status must not depend on which number is
 * lower. SIGTERM first: it is what service managers and `kill` send to end
 * a process, and they read 143 back; SIGINT (an interactive ^C) next, then
 * SIGHUP (the terminal went away); SIGUSR1, the note's clean stop with
 * status 0, last, so that a success never hides a termination somebody
 * asked for. Any stop wins over SIGUSR2: a VM being stopped is not paused.
 */
static const int stop_order[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};

/* The rank of a stop signal in stop_order (0 wins), or -1. */
static int stop_rank(int signo)
{
    for (size_t i = 0; i < sizeof(stop_order) / sizeof(*stop_order); i++)
        if (stop_order[i] == signo)
            return (int)i;
    return -1;
}

/* Reads every control signal pending (sfd is non-blocking): *stop = the
 * stop signal that wins (0: none), *toggles = how many SIGUSR2. */
static void read_signals(int sfd, int *stop, unsigned *toggles)
{
    struct signalfd_siginfo si[8];
    ssize_t n;

    *stop = 0;
    *toggles = 0;
    while ((n = read(sfd, si, sizeof(si))) > 0 || (n < 0 && errno == EINTR)) {
        for (ssize_t i = 0; i < n / (ssize_t)sizeof(*si); i++) {
            int signo = (int)si[i].ssi_signo, rank = stop_rank(signo);

            if (signo == SIGUSR2)
                (*toggles)++;
            else if (rank >= 0 && (!*stop || rank < stop_rank(*stop)))
                *stop = signo;
        }
    }
}

/* Acts on a stop: 0 to wait for the VM's end, else an exit status. */
static int stop_vm(struct kvmrun_vm *vm, int signo)
{
    if (kvmrun_vm_stop(vm, (uint64_t)signo, STOP_TIMEOUT_MS) < 0)
        return fail(STATUS_VMM_ERROR, kvmrun_last_error());
    return 0;
}

/* Waits for the VM to end, acting on control signals and feeding stdin to
 * the guest's UART meanwhile. */
static int control_loop(struct kvmrun_vm *vm, int sfd, bool verbose)
{
    struct pollfd fds[3] = {{.fd = kvmrun_vm_event_fd(vm), .events = POLLIN},
                            {.fd = sfd, .events = POLLIN},
                            {.fd = -1, .events = POLLIN}};
    struct console con;
    unsigned toggles;
    int stop;

    console_init(&con);
    for (;;) {
        fds[2].fd = console_poll_fd(&con);
        if (poll(fds, 3, console_timeout(&con)) < 0) {
            if (errno == EINTR)
                continue;
            return fail(STATUS_VMM_ERROR, "poll failed");
        }
        if (fds[0].revents)
            return 0;
        console_pump(&con, vm, fds[2].fd >= 0 && fds[2].revents);
        if (con.quit)
            return stop_vm(vm, 0);
        if (!fds[1].revents)
            continue;
        read_signals(sfd, &stop, &toggles);
        if (stop)
            return stop_vm(vm, stop);
        while (toggles--)
            toggle_pause(vm, verbose);
    }
}

/* When each step of kvmrun's start ended (CLOCK_MONOTONIC, ns): what
 * kvmrun adds to a guest's boot time, for --stats. */
static struct {
    uint64_t main, created, loaded, confined, started;
} start_ns;

static uint64_t now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void print_start(void)
{
    double ms = 1e-6;

    if (!start_ns.started)
        return;
    fprintf(stderr,
            "kvmrun: stats: start: vCPUs running %.1f ms after main() "
            "(VM built %.1f, guest loaded %.1f, control socket and "
            "seccomp %.1f, vCPU threads %.1f)\n",
            (double)(start_ns.started - start_ns.main) * ms,
            (double)(start_ns.created - start_ns.main) * ms,
            (double)(start_ns.loaded - start_ns.created) * ms,
            (double)(start_ns.confined - start_ns.loaded) * ms,
            (double)(start_ns.started - start_ns.confined) * ms);
}

static void print_stats(struct kvmrun_vm *vm)
{
    print_start();
    for (unsigned i = 0; i < kvmrun_vm_ncpus(vm); i++) {
        struct kvmrun_vcpu_stats st;
        char exits[512];
        uint64_t total = 0;
        int n = 0;

        kvmrun_vcpu_get_stats(kvmrun_vm_vcpu(vm, i), &st);
        exits[0] = 0;
        for (unsigned k = 0; k < KVMRUN_STATS_EXITS; k++) {
            if (!st.exits[k] || n < 0 || (size_t)n >= sizeof(exits))
                continue;
            total += st.exits[k];
            n += snprintf(exits + n, sizeof(exits) - (size_t)n, "%s%s %llu",
                          n ? ", " : "", kvmrun_exit_name(k),
                          (unsigned long long)st.exits[k]);
        }
        total += st.exits_other;
        fprintf(stderr,
                "kvmrun: stats: vcpu%u: %llu exits (%s), %llu "
                "KVM_RUN -EINTR, kicks %llu sent / %llu acknowledged / "
                "%llu re-sent, paused %llu times for %.3f s\n",
                i, (unsigned long long)total, n ? exits : "none",
                (unsigned long long)st.eintr, (unsigned long long)st.kicks_sent,
                (unsigned long long)st.kicks_acked,
                (unsigned long long)st.rekicks, (unsigned long long)st.pauses,
                st.paused_ns / 1e9);
    }
}

static int outcome_status(const struct kvmrun_outcome *out, bool verbose)
{
    switch (out->end) {
    case KVMRUN_END_POWEROFF:
        if (verbose)
            fprintf(stderr, "kvmrun: %s\n", out->message);
        return STATUS_OK;
    case KVMRUN_END_REBOOT:
        if (verbose)
            fprintf(stderr, "kvmrun: %s\n", out->message);
        return STATUS_REBOOT;
    case KVMRUN_END_DEBUG_EXIT:
        if (verbose)
            fprintf(stderr, "kvmrun: %s: exit status %d\n", out->message,
                    (int)((out->code << 1 | 1) & 0xff));
        return (int)((out->code << 1 | 1) & 0xff);
    case KVMRUN_END_STOPPED:
        if (out->code == KVMRUN_STOP_CONTROL) {
            fprintf(stderr, "kvmrun: stopped through the control socket\n");
            return STATUS_OK;
        }
        if (out->code == KVMRUN_STOP_GDB) {
            fprintf(stderr, "kvmrun: killed by gdb\n");
            return STATUS_OK;
        }
        if (out->code == 0) {
            console_restore();
            fprintf(stderr, "\r\nkvmrun: stopped from the console "
                            "(Ctrl-A x)\r\n");
            return STATUS_OK;
        }
        fprintf(stderr, "kvmrun: stopped by SIG%s\n",
                sigabbrev_np((int)out->code) ? sigabbrev_np((int)out->code)
                                             : "?");
        return out->code == SIGUSR1 ? STATUS_OK
                                    : STATUS_SIGNAL + (int)out->code;
    case KVMRUN_END_VMM_ERROR:
        fprintf(stderr, "kvmrun: %s\n", out->message);
        return STATUS_VMM_ERROR;
    default:
        fprintf(stderr, "kvmrun: %s\n", out->message);
        if (out->detail[0])
            fprintf(stderr, "%s\n", out->detail);
        return STATUS_GUEST_FAULT;
    }
}

static void log_stderr(void *opaque, enum kvmrun_log_level level,
                       const char *line)
{
    (void)opaque;
    (void)level;
    fprintf(stderr, "kvmrun: %s\n", line);
    sigsys_sanitizer_test(line);
}

/* Runs a guest that powers off at once: proof that KVM_RUN works here. */
static int check_kvm(struct kvmrun_vm *vm, const char *device)
{
    /* mov $0x2000, %ax; mov $0x604, %dx; out %ax, %dx */
    static const unsigned char poweroff[] = {0xb8, 0x00, 0x20, 0xba,
                                             0x04, 0x06, 0xef};
    struct pollfd pfd = {.fd = kvmrun_vm_event_fd(vm), .events = POLLIN};
    struct kvmrun_outcome out;

    if (kvmrun_load_raw(vm, poweroff, sizeof(poweroff), 0x1000) < 0 ||
        kvmrun_boot_real(vm, 0x1000, 0x1000) < 0 || kvmrun_vm_start(vm) < 0)
        return fail(STATUS_SETUP, kvmrun_last_error());
    if (poll(&pfd, 1, 10000) <= 0)
        kvmrun_vm_stop(vm, 0, STOP_TIMEOUT_MS);
    kvmrun_vm_wait(vm, &out);
    if (out.end != KVMRUN_END_POWEROFF) {
        fprintf(stderr, "kvmrun: %s: a test guest did not run: %s\n", device,
                out.message);
        return STATUS_SETUP;
    }
    printf("kvmrun: %s is usable\n", device);
    return STATUS_OK;
}

/* --gdb: the stub listens before the guest runs; one line says where. */
static int start_gdb(struct kvmrun_vm *vm, const struct options *o,
                     struct kvmrun_gdb **gdb)
{
    int r = kvmrun_gdb_start(vm, o->gdb, o->gdb_wait, gdb);

    if (r == 0)
        fprintf(stderr, "kvmrun: gdb: listening on %s%s\n",
                kvmrun_gdb_where(*gdb),
                o->gdb_wait ? " (--gdb-wait: the guest runs once gdb "
                              "continues)"
                            : "");
    return r;
}

static int run(const struct options *o, int sfd)
{
    struct kvmrun_config cfg;
    struct kvmrun_outcome out;
    struct kvmrun_control *ctl = NULL;
    struct kvmrun_gdb *gdb = NULL;
    struct paths_pidfile pf = {0};
    struct kvmrun_vm *vm;
    const char *dev = getenv("KVMRUN_DEVICE");
    int status, r;

    kvmrun_config_init(&cfg);
    cfg.mem_size = o->mem_size;
    cfg.ncpus = o->ncpus;
    cfg.irqchip = o->irqchip;
    cfg.console = o->console;
    cfg.log = log_stderr;
    cfg.disks = o->disks;
    cfg.ndisks = o->ndisks;
    cfg.rng = o->rng;
    cfg.nets = o->nets;
    cfg.nnets = o->nnets;
    cfg.vsock_cid = o->vsock_cid;
    if (dev && dev[0]) /* empty is unset, as for most variables */
        cfg.kvm_device = dev;
    if (!o->check_kvm && paths_open_serial(o->serial, &cfg.serial_fd) < 0)
        return STATUS_SETUP;
    r = o->restore ? kvmrun_vm_restore(&cfg, o->restore, &vm)
                   : kvmrun_vm_create(&cfg, &vm);
    start_ns.created = now_ns();
    if (r < 0) {
        if (cfg.serial_fd != STDOUT_FILENO)
            close(cfg.serial_fd);
        return fail(STATUS_SETUP, kvmrun_last_error());
    }
    if (o->check_kvm) {
        status = check_kvm(vm, cfg.kvm_device);
    } else if (!o->restore && (r = load_guest(vm, o)) != 0) {
        status = r == REPORTED ? STATUS_SETUP
                               : fail(STATUS_SETUP, kvmrun_last_error());
    } else if ((start_ns.loaded = now_ns()) && stop_signals_hold() && o->api &&
               kvmrun_control_start(vm, o->api, &ctl) < 0) {
        status = fail(STATUS_SETUP, kvmrun_last_error());
    } else if (o->gdb && start_gdb(vm, o, &gdb) < 0) {
        status = fail(STATUS_SETUP, kvmrun_last_error());
    } else if (o->seccomp && sigsys_confine(vm) < 0) {
        status = STATUS_SETUP;
    } else if (o->pidfile && paths_pidfile_write(&pf, o->pidfile) < 0) {
        status = STATUS_SETUP; /* before any vCPU runs */
    } else if ((start_ns.confined = now_ns()) && kvmrun_vm_start(vm) < 0) {
        status = fail(STATUS_VMM_ERROR, kvmrun_last_error());
    } else {
        start_ns.started = now_ns();
        status = control_loop(vm, sfd, o->verbose);
        console_restore();        /* the terminal as it was, whatever comes */
        kvmrun_control_stop(ctl); /* removes the socket on every path */
        ctl = NULL;
        if (status != 0 && kvmrun_vm_stop(vm, 0, STOP_TIMEOUT_MS) < 0) {
            /* A vCPU that cannot be stopped cannot be waited for either:
             * leave, and let the kernel end its thread. The guest's
             * output held so far goes out first (bounded). */
            fprintf(stderr, "kvmrun: %s\n", kvmrun_last_error());
            if (kvmrun_vm_flush_output(vm) < 0)
                fprintf(stderr, "kvmrun: %s\n", kvmrun_last_error());
            paths_pidfile_remove(&pf);
            _exit(status);
        }
        kvmrun_vm_wait(vm, &out);
        /* The guest's last output before kvmrun's last words; if its
         * reader is stalled, kvmrun_vm_destroy() says what was dropped. */
        kvmrun_vm_flush_output(vm);
        if (status == 0)
            status = outcome_status(&out, o->verbose);
        if (o->stats)
            print_stats(vm);
    }
    paths_pidfile_remove(&pf);
    kvmrun_control_stop(ctl);
    kvmrun_gdb_stop(gdb);
    kvmrun_vm_destroy(vm);
    if (cfg.serial_fd != STDOUT_FILENO)
        close(cfg.serial_fd);
    return status;
}

/* Opens /dev/null on stdin, stdout or stderr if closed: else the first
 * file kvmrun opens (/dev/kvm...) would become one of them. */
static void standard_fds(void)
{
    for (int fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) < 0 &&
            open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
            _exit(STATUS_SETUP);
}

int main(int argc, char **argv)
{
    struct options o;
    sigset_t set;
    int sfd, r;

    start_ns.main = now_ns();
    standard_fds();
    if (argc > 1 && strcmp(argv[1], "ctl") == 0)
        return ctl_main(argc - 1, argv + 1);
    control_signals(&set);
    sigprocmask(SIG_BLOCK, &set, NULL);
    stop_signals_start();
    signal(SIGPIPE, SIG_IGN); /* a closed output is reported, not fatal */
    if ((r = options_parse(argc, argv, &o)) >= 0)
        return r;
    sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        fprintf(stderr, "kvmrun: signalfd: %s\n", strerror(errno));
        return STATUS_SETUP;
    }
    r = run(&o, sfd);
    close(sfd);
    fflush(stdout);
    return r;
}
