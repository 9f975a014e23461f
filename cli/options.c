/* options.c: kvmrun's command line, parsed into a struct. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmrun.h"

static const char usage_text[] =
    "Usage: kvmrun [OPTIONS] -k KERNEL [-i INITRD] [-a CMDLINE]\n"
    "       kvmrun [OPTIONS] [IMAGE]\n"
    "       kvmrun ctl [--json] [--timeout=S] SOCKET COMMAND [ARG]\n"
    "Run a guest in a KVM virtual machine: a Linux kernel (bzImage or "
    "vmlinux) with\n"
    "its initrd, a multiboot kernel, an ELF executable, or raw x86 code. "
    "Without\n"
    "IMAGE or -k, run the built-in demo guest.\n"
    "\n"
    "  kvmrun -c 2 -m 256M -k vmlinuz -i initrd.gz -a quiet\n"
    "boots Linux with its console on this terminal (console=ttyS0 is "
    "added);\n"
    "Ctrl-A x quits, Ctrl-A h lists the console's keys.\n"
    "\n"
    "Options:\n"
    "  -k, --kernel FILE   boot FILE, as QEMU's -kernel: a Linux bzImage "
    "or vmlinux,\n"
    "                      a multiboot kernel, or an ELF32 (protected "
    "mode) or ELF64\n"
    "                      (long mode) executable\n"
    "  -i, --initrd FILE   Linux: the initrd (initramfs); multiboot: "
    "module 0\n"
    "                      (also --module FILE)\n"
    "  -a, --append TEXT   the kernel's command line; for Linux, "
    "console=ttyS0 is\n"
    "                      put first when TEXT has no console= (as "
    "kvmtool does)\n"
    "  -m, --mem SIZE      guest RAM (default 128M); suffixes K, M, G, T;\n"
    "                      a bare number is MiB, as in QEMU\n"
    "  -c, --cpus N        number of vCPUs, one thread each (default 1); "
    "for raw\n"
    "                      images all start at the entry with DI = vCPU "
    "index, SI = N\n"
    "      --format FMT    raw, elf, multiboot or linux instead of "
    "detecting it\n"
    "                      (Linux boot header, multiboot header, ELF, "
    "else raw)\n"
    "      --mode MODE     CPU mode a raw image starts in: real (default), "
    "protected\n"
    "                      (flat 32-bit, paging off) or long (64-bit, "
    "identity-mapped)\n"
    "      --load ADDR     load the image at guest-physical ADDR "
    "(default 0x1000)\n"
    "      --entry ADDR    start executing at ADDR (default: the load "
    "address);\n"
    "                      real mode: below 1 MiB, CS = DS = ES = SS = "
    "ADDR >> 4\n"
    "                      & 0xf000, IP = ADDR & 0xffff\n"
    "      --serial FILE   write the serial port's output to FILE "
    "(default: stdout)\n"
    "      --console DEV   the console on stdin and stdout: serial (the "
    "UART, the\n"
    "                      guest's ttyS0; default) or virtio (a virtio "
    "console, hvc0:\n"
    "                      Linux gets console=hvc0; the UART's output "
    "still shows)\n"
    "      --disk PATH[,ro][,serial=ID][,cache=none|writeback]"
    "[,engine=io_uring|sync]\n"
    "                      a virtio-blk disk on the raw image PATH (a "
    "regular file or\n"
    "                      a block device), locked against other users; "
    "repeat for\n"
    "                      more (vda, vdb, ... in order). ro: read-only; "
    "serial: its\n"
    "                      ID (20 bytes); cache=none: O_DIRECT (default "
    "writeback,\n"
    "                      guest flushes are fdatasync); engine: io_uring "
    "(default\n"
    "                      where available, else sync: a thread pool)\n"
    "      --rng           a virtio-rng device (the guest's /dev/hwrng) fed by "
    "the\n"
    "                      host's getrandom()\n"
    "      --net tap=IFNAME[,mac=MAC][,vhost=on|off]\n"
    "                      a virtio-net device on the existing tap IFNAME "
    "(ip tuntap\n"
    "                      add dev IFNAME mode tap); repeat for more. mac: "
    "the guest's\n"
    "                      address (default: a random local one)\n"
    "      --vsock cid=N   a virtio-vsock device on the kernel's "
    "vhost-vsock: host\n"
    "                      programs reach the guest with AF_VSOCK to CID N "
    "(3 or more)\n"
    "      --no-irqchip    no in-kernel interrupt controller: every HLT "
    "exits to\n"
    "                      kvmrun, which re-enters the guest (as in the "
    "original note)\n"
    "      --restore FILE  continue the VM saved in snapshot FILE (its "
    "memory, vCPUs\n"
    "                      and devices: no IMAGE, --kernel, -m, -c; the "
    "same --disk,\n"
    "                      --rng, --net and --vsock options as when it was "
    "saved)\n"
    "      --pidfile FILE  write kvmrun's pid to FILE as the guest starts "
    "(a regular\n"
    "                      file or none; removed at exit); if it cannot, "
    "exit 2\n"
    "                      before the guest runs\n"
    "      --api PATH      serve the JSON control socket at PATH (mode 0600;"
    "\n"
    "                      root and this uid only): status, pause, resume,\n"
    "                      stop, stats, regs, snapshot; see kvmrun ctl\n"
    "      --gdb tcp:[HOST:]PORT | unix:PATH\n"
    "                      serve gdb's remote protocol (HOST 127.0.0.1 by "
    "default)\n"
    "      --gdb-wait      with --gdb: no vCPU runs until gdb continues\n"
    "      --check-kvm     check that KVM is usable here, then exit\n"
    "      --no-seccomp    do not confine kvmrun with seccomp filters "
    "(debugging);\n"
    "                      by default, once the guest is loaded, a system "
    "call\n"
    "                      outside them ends kvmrun with status 159\n"
    "      --stats         at exit, print per-vCPU counters: exits by "
    "reason,\n"
    "                      kicks sent and acknowledged, time paused; and the\n"
    "                      time each step of kvmrun's own start took\n"
    "  -v, --verbose       also report how the VM ended when it ended "
    "normally,\n"
    "                      and each vCPU's state when paused\n"
    "  -h, --help          show this help and exit\n"
    "  -V, --version       show the version and exit\n"
    "QEMU's, Firecracker's, cloud-hypervisor's, firectl's and kvmtool's "
    "spellings\n"
    "(-kernel, -append, -initrd, -smp, -serial, -nographic, --api-sock, "
    "...) are\n"
    "answered with kvmrun's own.\n"
    "\n"
    "The guest's machine:\n"
    "  RAM from 0 (up to 3 GiB; the rest from 4 GiB); the image at --load;\n"
    "  every vCPU starts at the entry, SP = the load address (the stack "
    "grows\n"
    "  below the image), DI = its index, SI = the vCPU count.\n"
    "  0x60000-0x76fff   protected and long mode: the VMM's GDT (0x70000; "
    "0x08\n"
    "                    64-bit code, 0x10 32-bit code, 0x18 data, 0x20 TSS),"
    "\n"
    "                    TSS (0x70100), page tables (PML4 0x71000, PDPT "
    "0x72000,\n"
    "                    PDs 0x73000 and 0x60000): images may not overlap it"
    "\n"
    "  0xc0000000-4 GiB  never RAM (MMIO: IOAPIC, LAPIC)\n"
    "  0xfeb00000-...    virtio-mmio devices, 4 KiB each (disks in --disk "
    "order,\n"
    "                    then the rng), GSI 16 up; in the ACPI DSDT "
    "(LNRO0005), or\n"
    "                    virtio_mmio.device= on the command line with "
    "acpi=off\n"
    "  port 0x3f8-0x3ff  16550A UART (COM1), output to stdout or --serial\n"
    "  port 0x604        power-off: a 16-bit write of 0x2000 ends the VM,\n"
    "                    status 0 (the PIIX4 PM1a_CNT value QEMU's pc "
    "obeys)\n"
    "  port 0x510-0x511  fw_cfg (QEMU's): signature, RAM size, CPU count\n"
    "  port 0xf4-0xf7    debug exit, like QEMU's isa-debug-exit: a write of "
    "v\n"
    "                    ends the VM with status (v << 1) | 1\n"
    "  other ports/MMIO  ignored, reads as all ones; reported once per "
    "address\n"
    "\n"
    "Console: the UART's input is stdin; a terminal is put in raw mode "
    "(keys go\n"
    "to the guest, Ctrl-C too): Ctrl-A x quits (status 0), Ctrl-A h lists "
    "the keys,\n"
    "Ctrl-A Ctrl-A sends Ctrl-A. The 16550 raises IRQ 4 when the guest "
    "enables it.\n"
    "With --console virtio, stdin goes to a virtio console (hvc0, a "
    "virtio-mmio\n"
    "device) instead, with the same keys; its output goes to stdout.\n"
    "\n"
    "Signals: SIGUSR1 stops the VM (status 0); SIGINT, SIGTERM and SIGHUP\n"
    "stop it with status 128 + the signal number; SIGUSR2 pauses every "
    "vCPU,\n"
    "and the next SIGUSR2 resumes them.\n"
    "\n"
    "Exit status:\n"
    "  0        the guest powered off, or SIGUSR1 or the control socket's "
    "stop\n"
    "           stopped it\n"
    "  odd      the guest wrote v to the debug-exit port: (v << 1) | 1\n"
    "  2        kvmrun could not start the VM (bad option, image, pidfile, "
    "or KVM)\n"
    "  4        the guest crashed: triple fault, entry failure, KVM "
    "internal\n"
    "           error or an unknown exit (registers on stderr)\n"
    "  6        a KVM call failed while the guest ran\n"
    "  8        the guest rebooted (reset through the i8042 or ACPI); "
    "kvmrun\n"
    "           does not restart it\n"
    "  128+N    stopped by signal N\n"
    "  159      a system call outside the seccomp filter (128 + SIGSYS; "
    "named\n"
    "           on stderr)\n"
    "\n"
    "Numbers are decimal (010 is ten) or hex after 0x.\n"
    "Environment: KVMRUN_DEVICE overrides the KVM device (default "
    "/dev/kvm;\n"
    "empty: the default). See kvmrun(1).\n";

enum {
    OPT_LOAD = 256,
    OPT_ENTRY,
    OPT_SERIAL,
    OPT_CONSOLE,
    OPT_NO_IRQCHIP,
    OPT_PIDFILE,
    OPT_CHECK_KVM,
    OPT_STATS,
    OPT_MODE,
    OPT_FORMAT,
    OPT_API,
    OPT_RESTORE,
    OPT_NO_SECCOMP,
    OPT_GDB,
    OPT_GDB_WAIT,
    OPT_DISK,
    OPT_RNG,
    OPT_NET,
    OPT_VSOCK,
};

static const struct option long_options[] = {
    {"mem", required_argument, NULL, 'm'},
    {"cpus", required_argument, NULL, 'c'},
    {"stats", no_argument, NULL, OPT_STATS},
    {"load", required_argument, NULL, OPT_LOAD},
    {"mode", required_argument, NULL, OPT_MODE},
    {"kernel", required_argument, NULL, 'k'},
    {"append", required_argument, NULL, 'a'},
    {"initrd", required_argument, NULL, 'i'},
    {"module", required_argument, NULL, 'i'},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"entry", required_argument, NULL, OPT_ENTRY},
    {"serial", required_argument, NULL, OPT_SERIAL},
    {"console", required_argument, NULL, OPT_CONSOLE},
    {"no-irqchip", no_argument, NULL, OPT_NO_IRQCHIP},
    {"pidfile", required_argument, NULL, OPT_PIDFILE},
    {"api", required_argument, NULL, OPT_API},
    {"restore", required_argument, NULL, OPT_RESTORE},
    {"check-kvm", no_argument, NULL, OPT_CHECK_KVM},
    {"no-seccomp", no_argument, NULL, OPT_NO_SECCOMP},
    {"gdb", required_argument, NULL, OPT_GDB},
    {"gdb-wait", no_argument, NULL, OPT_GDB_WAIT},
    {"disk", required_argument, NULL, OPT_DISK},
    {"rng", no_argument, NULL, OPT_RNG},
    {"net", required_argument, NULL, OPT_NET},
    {"vsock", required_argument, NULL, OPT_VSOCK},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

#define OPTIONS_SHORT "m:c:k:a:i:vhV"

/*
 * Other VMMs' spellings, answered with kvmrun's own instead of getopt's
 * reading of them: QEMU's "-kernel X" would be -k "ernel", "-smp" an
 * unknown -s. A word is matched whole ("--x=..." by its name), and only
 * where an option may stand, never as an option's argument.
 */
struct options_foreign {
    const char *word;
    const char *whose;
    const char *answer; /* "spelling: use ..." when kvmrun has the same
                           option, else "option...: " and why not */
};

#define OPTIONS_DISK "spelling: use --disk PATH[,ro][,serial=ID]"
#define OPTIONS_STDIO                                                          \
    "option, not needed: the guest's serial console is on stdin and stdout"
#define OPTIONS_KVM "option, not needed: kvmrun always runs on KVM"
#define OPTIONS_MACHINE                                                        \
    "option, not needed: kvmrun has one machine (kvmrun --help lists it)"
#define OPTIONS_NO_NET "option: kvmrun has no network devices"
#define OPTIONS_API "spelling: use --api PATH (kvmrun ctl is its client)"
#define OPTIONS_APPEND "spelling: use -a/--append"
#define OPTIONS_INITRD "spelling: use -i/--initrd"
#define OPTIONS_CPUS "spelling: use -c/--cpus N"

static const struct options_foreign foreign_options[] = {
    {"-kernel", "QEMU", "spelling: use -k/--kernel"},
    {"-append", "QEMU", OPTIONS_APPEND},
    {"-initrd", "QEMU", OPTIONS_INITRD},
    {"-smp", "QEMU", OPTIONS_CPUS},
    {"-serial", "QEMU",
     "spelling: use --serial FILE for the output (stdio is the default)"},
    {"-nographic", "QEMU", OPTIONS_STDIO},
    {"-display", "QEMU", OPTIONS_STDIO},
    {"-enable-kvm", "QEMU", OPTIONS_KVM},
    {"-accel", "QEMU", OPTIONS_KVM},
    {"-machine", "QEMU", OPTIONS_MACHINE},
    {"-M", "QEMU", OPTIONS_MACHINE},
    {"-cpu", "QEMU",
     "option, not needed: the guest gets this host's CPUID, as with -cpu "
     "host (-c/--cpus N sets the vCPU count)"},
    {"-drive", "QEMU", OPTIONS_DISK},
    {"-hda", "QEMU", OPTIONS_DISK},
    {"-cdrom", "QEMU",
     "option: kvmrun has no CD-ROM; a raw image is --disk PATH,ro"},
    {"-device", "QEMU",
     "option: kvmrun's devices are fixed (kvmrun --help lists them)"},
    {"-netdev", "QEMU", OPTIONS_NO_NET},
    {"-nic", "QEMU", OPTIONS_NO_NET},
    {"-no-reboot", "QEMU",
     "option, not needed: kvmrun never restarts a guest (a reboot ends "
     "it with status 8)"},
    {"-pidfile", "QEMU", "spelling: use --pidfile FILE"},
    {"-qmp", "QEMU", OPTIONS_API},
    {"-monitor", "QEMU", OPTIONS_API},
    {"-loadvm", "QEMU", "spelling: use --restore FILE"},
    {"-incoming", "QEMU", "spelling: use --restore FILE"},
    {"-daemonize", "QEMU",
     "option: run kvmrun in the background (& or a service manager) "
     "with --pidfile FILE"},
    {"-bios", "QEMU",
     "option, not needed: kvmrun loads the kernel itself, with no "
     "firmware"},
    {"-version", "QEMU", "spelling: use -V/--version"},
    {"--api-sock", "Firecracker", OPTIONS_API},
    {"--config-file", "Firecracker",
     "option: kvmrun is configured by its options: -k, -i, -a, -c, -m "
     "(kvmrun --help)"},
    {"--no-api", "Firecracker",
     "option, not needed: kvmrun serves a control socket only with "
     "--api"},
    {"--api-socket", "cloud-hypervisor", OPTIONS_API},
    {"--cmdline", "cloud-hypervisor", OPTIONS_APPEND},
    {"--initramfs", "cloud-hypervisor", OPTIONS_INITRD},
    {"--memory", "cloud-hypervisor", "spelling: use -m/--mem SIZE"},
    {"--kernel-opts", "firectl", OPTIONS_APPEND},
    {"--ncpus", "firectl", OPTIONS_CPUS},
    {"--socket-path", "firectl", OPTIONS_API},
    {"--root-drive", "firectl", OPTIONS_DISK},
    {"-p", "kvmtool", OPTIONS_APPEND},
    {"--params", "kvmtool", OPTIONS_APPEND},
};

#define OPTIONS_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The entry for word, or NULL. */
static const struct options_foreign *options_foreign(const char *word)
{
    size_t len =
        word[0] == '-' && word[1] == '-' ? strcspn(word, "=") : strlen(word);

    for (size_t i = 0; i < OPTIONS_COUNT(foreign_options); i++)
        if (strlen(foreign_options[i].word) == len &&
            strncmp(foreign_options[i].word, word, len) == 0)
            return &foreign_options[i];
    return NULL;
}

/* The long option named by name[0, len) as getopt_long takes it (exact,
 * or a unique prefix), or NULL; *matches = how many it starts. */
static const struct option *options_long(const char *name, size_t len,
                                         unsigned *matches)
{
    const struct option *found = NULL;

    *matches = 0;
    for (const struct option *o = long_options; o->name; o++) {
        if (strncmp(o->name, name, len) != 0)
            continue;
        if (strlen(o->name) == len) {
            *matches = 1;
            return o;
        }
        /* --initrd and --module are one option: one match. */
        if (!found || found->val != o->val)
            (*matches)++;
        found = o;
    }
    return *matches == 1 ? found : NULL;
}

/* 1 if word is an option of kvmrun's whose argument is the next word. */
static int options_takes_next(const char *word)
{
    unsigned n;

    if (word[0] != '-' || word[1] == 0)
        return 0;
    if (word[1] == '-') {
        const char *name = word + 2;
        size_t len = strcspn(name, "=");
        const struct option *o = options_long(name, len, &n);

        return o && !name[len] && o->has_arg == required_argument;
    }
    for (const char *p = word + 1; *p; p++) {
        const char *s = strchr(OPTIONS_SHORT, *p);

        if (!s || *p == ':')
            return 0;
        if (s[1] == ':')
            return p[1] == 0; /* else the rest of the word is it */
    }
    return 0;
}

/* The first foreign spelling among the words where an option may stand:
 * answered, status 2; else -1. */
static int options_check_foreign(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const struct options_foreign *f = options_foreign(argv[i]);

        if (f) {
            fprintf(stderr, "kvmrun: %.*s is %s's %s\n",
                    (int)strcspn(argv[i], "="), argv[i], f->whose, f->answer);
            return STATUS_SETUP;
        }
        i += options_takes_next(argv[i]);
    }
    return -1;
}

/* The long options name[0, len) starts, for an ambiguity's message. */
static void options_candidates(const char *name, size_t len, char *buf,
                               size_t size)
{
    size_t n = 0;

    buf[0] = 0;
    for (const struct option *o = long_options; o->name && n < size; o++)
        if (strncmp(o->name, name, len) == 0)
            n += (size_t)snprintf(buf + n, size - n, "%s--%s", n ? ", " : "",
                                  o->name);
}

/* getopt_long's errors (opterr is 0), in kvmrun's words: c is ':' (an
 * argument missing) or '?' (optopt: the unknown short option, 0 for an
 * unknown or ambiguous long one, or the option given an argument it does
 * not take). Always status 2. */
static int options_getopt_error(int c, char **argv)
{
    const char *word = argv[optind - 1];
    const char *name = word + 2;
    size_t len = strcspn(name, "=");
    bool is_long = strncmp(word, "--", 2) == 0;
    char list[256];
    unsigned n;

    if (c == ':' && !is_long)
        fprintf(stderr, "kvmrun: -%c needs an argument (see kvmrun --help)\n",
                optopt);
    else if (c == ':')
        fprintf(stderr,
                "kvmrun: --%.*s needs an argument (see kvmrun --help)\n",
                (int)len, name);
    else if (optopt && (optopt > 255 || strchr(OPTIONS_SHORT, optopt)) &&
             is_long)
        fprintf(stderr, "kvmrun: --%s takes no argument (got '%s')\n",
                options_long(name, len, &n) ? options_long(name, len, &n)->name
                                            : "option",
                word);
    else if (optopt) /* an unknown letter, maybe inside a word like -vx */
        fprintf(stderr, "kvmrun: unknown option '-%c' (see kvmrun --help)\n",
                optopt);
    else if (options_long(name, len, &n) == NULL && n > 1) {
        options_candidates(name, len, list, sizeof(list));
        fprintf(stderr, "kvmrun: ambiguous option '--%.*s': %s\n", (int)len,
                name, list);
    } else {
        fprintf(stderr, "kvmrun: unknown option '--%.*s' (see kvmrun --help)\n",
                (int)len, name);
    }
    return STATUS_SETUP;
}

static int options_bad(const char *option, const char *why)
{
    fprintf(stderr, "kvmrun: %s: %s\n", option, why);
    return STATUS_SETUP;
}

static int options_mem(struct options *o, const char *arg)
{
    char why[160];

    if (kvmrun_parse_size(arg, &o->mem_size) < 0)
        return options_bad("--mem", kvmrun_last_error());
    if (o->mem_size > KVMRUN_MAX_MEM)
        snprintf(why, sizeof(why), "'%s' is too large (at most %lluT)", arg,
                 KVMRUN_MAX_MEM >> 40);
    else if (o->mem_size >= (1ULL << 20) && o->mem_size % 4096 == 0)
        return -1;
    else
        snprintf(why, sizeof(why), "'%s' is %s", arg,
                 o->mem_size < (1ULL << 20)
                     ? "too small (at least 1M is needed)"
                     : "not a multiple of 4K");
    return options_bad("--mem", why);
}

static int options_addr(const char *option, const char *arg, uint64_t *v)
{
    if (kvmrun_parse_u64(arg, v) < 0)
        return options_bad(option, kvmrun_last_error());
    return -1;
}

static int options_cpus(struct options *o, const char *arg)
{
    uint64_t n;
    char why[96];

    if (kvmrun_parse_u64(arg, &n) < 0)
        return options_bad("--cpus", kvmrun_last_error());
    if (n >= 1 && n <= UINT32_MAX) {
        o->ncpus = (unsigned)n;
        return -1;
    }
    snprintf(why, sizeof(why), "'%s' is not a vCPU count (1 or more)", arg);
    return options_bad("--cpus", why);
}

/* --console serial|virtio (kvmtool's spelling and values). */
static int options_console(struct options *o, const char *arg)
{
    char why[96];

    if (strcmp(arg, "serial") == 0) {
        o->console = KVMRUN_CONSOLE_SERIAL;
        return -1;
    }
    if (strcmp(arg, "virtio") == 0) {
        o->console = KVMRUN_CONSOLE_VIRTIO;
        return -1;
    }
    snprintf(why, sizeof(why), "'%s' is not serial or virtio", arg);
    return options_bad("--console", why);
}

/* --vsock cid=N: a guest's CID is 3 to 2^32 - 2 (0-2 are the
 * hypervisor's, the local and the host's; 2^32 - 1 is VMADDR_CID_ANY). */
static int options_vsock(struct options *o, const char *arg)
{
    char why[160], *end;
    unsigned long long cid;

    if (o->vsock_cid)
        return options_bad("--vsock", "given twice (one vsock device)");
    if (strncmp(arg, "cid=", 4) != 0) {
        snprintf(why, sizeof(why), "'%s': not cid=N", arg);
        return options_bad("--vsock", why);
    }
    errno = 0;
    cid = strtoull(arg + 4, &end, 10);
    if (!arg[4] || *end || errno || arg[4] == '-') {
        snprintf(why, sizeof(why), "'%s': not a number", arg + 4);
        return options_bad("--vsock", why);
    }
    if (cid < 3 || cid > 0xfffffffeULL) {
        snprintf(why, sizeof(why),
                 "cid %llu: a guest's is 3 to 4294967294 (0-2 are the "
                 "hypervisor's, the local and the host's)",
                 cid);
        return options_bad("--vsock", why);
    }
    o->vsock_cid = cid;
    return -1;
}

/* A repeatable option (--net, --disk) given more than its max: the
 * refusal, naming the one too many and what there are at most max of. */
static int options_full(const char *option, const char *arg, unsigned max,
                        const char *what)
{
    char why[160];

    snprintf(why, sizeof(why), "'%s': at most %u %s", arg, max, what);
    return options_bad(option, why);
}

/* rc: the library's parse of a repeatable option's arg into its next slot;
 * when it passed, *n counts the slot, else its error is the refusal. */
static int options_added(const char *option, const char *arg, int rc,
                         unsigned *n)
{
    if (rc < 0) {
        fprintf(stderr, "kvmrun: %s %s: %s\n", option, arg,
                kvmrun_last_error());
        return STATUS_SETUP;
    }
    (*n)++;
    return -1;
}

/* --net: parsed here, the tap opened with the VM. */
static int options_net(struct options *o, const char *arg)
{
    if (o->nnets == OPTIONS_MAX_NETS)
        return options_full("--net", arg, OPTIONS_MAX_NETS, "network devices");
    return options_added("--net", arg,
                         kvmrun_net_parse(arg, &o->nets[o->nnets]), &o->nnets);
}

/* --disk: parsed here, the image opened (and checked) with the VM. */
static int options_disk(struct options *o, const char *arg)
{
    if (o->ndisks == OPTIONS_MAX_DISKS)
        return options_full("--disk", arg, OPTIONS_MAX_DISKS, "disks");
    return options_added("--disk", arg,
                         kvmrun_disk_parse(arg, &o->disks[o->ndisks]),
                         &o->ndisks);
}

static int options_one(int c, struct options *o)
{
    switch (c) {
    case 'm':
        o->mem_set = true;
        return options_mem(o, optarg);
    case 'c':
        o->cpus_set = true;
        return options_cpus(o, optarg);
    case OPT_RESTORE:
        o->restore = optarg;
        return -1;
    case OPT_STATS:
        o->stats = true;
        return -1;
    case OPT_LOAD:
        o->load_set = true;
        return options_addr("--load", optarg, &o->load_addr);
    case OPT_MODE:
        o->mode_set = true;
        if (kvmrun_parse_mode(optarg, &o->mode) < 0)
            return options_bad("--mode", kvmrun_last_error());
        return -1;
    case OPT_FORMAT:
        o->format_set = true;
        if (kvmrun_parse_format(optarg, &o->format) < 0)
            return options_bad("--format", kvmrun_last_error());
        return -1;
    case 'k':
        o->kernel = optarg;
        return -1;
    case 'a':
        o->append = optarg;
        return -1;
    case 'i':
        o->module = optarg;
        return -1;
    case OPT_ENTRY:
        o->entry_set = true;
        return options_addr("--entry", optarg, &o->entry);
    case OPT_SERIAL:
        o->serial = optarg;
        return -1;
    case OPT_CONSOLE:
        return options_console(o, optarg);
    case OPT_NO_IRQCHIP:
        o->irqchip = false;
        o->irqchip_set = true;
        return -1;
    case OPT_PIDFILE:
        o->pidfile = optarg;
        return -1;
    case OPT_API:
        o->api = optarg;
        return -1;
    case OPT_GDB:
        o->gdb = optarg;
        return -1;
    case OPT_GDB_WAIT:
        o->gdb_wait = true;
        return -1;
    case OPT_CHECK_KVM:
        o->check_kvm = true;
        return -1;
    case OPT_NO_SECCOMP:
        o->seccomp = false;
        return -1;
    case OPT_DISK:
        return options_disk(o, optarg);
    case OPT_RNG:
        o->rng = true;
        return -1;
    case OPT_NET:
        return options_net(o, optarg);
    case OPT_VSOCK:
        return options_vsock(o, optarg);
    case 'v':
        o->verbose = true;
        return -1;
    case 'h':
        fputs(usage_text, stdout);
        return STATUS_OK;
    case 'V':
        printf("kvmrun %s\n", KVMRUN_VERSION);
        return STATUS_OK;
    default: /* getopt's errors are handled before */
        return STATUS_SETUP;
    }
}

/* A snapshot brings its own guest and machine: nothing may describe
 * another one. */
static int options_check_restore(const struct options *o)
{
    const char *clash = o->image         ? o->image
                        : o->kernel      ? "--kernel"
                        : o->append      ? "--append"
                        : o->module      ? "--initrd"
                        : o->format_set  ? "--format"
                        : o->mode_set    ? "--mode"
                        : o->load_set    ? "--load"
                        : o->entry_set   ? "--entry"
                        : o->mem_set     ? "--mem"
                        : o->cpus_set    ? "--cpus"
                        : o->irqchip_set ? "--no-irqchip"
                        : o->check_kvm   ? "--check-kvm"
                                         : NULL;

    if (!o->restore || !clash)
        return -1;
    fprintf(stderr,
            "kvmrun: --restore %s: cannot be combined with %s (the "
            "snapshot holds the guest, its memory and vCPUs)\n",
            o->restore, clash);
    return STATUS_SETUP;
}

/* --check-kvm runs a test guest of its own: nothing may name another
 * guest or a file for it (-m, -c and --no-irqchip shape its VM). */
static int options_check_kvm_alone(const struct options *o)
{
    const char *clash = o->image        ? o->image
                        : o->kernel     ? "--kernel"
                        : o->append     ? "--append"
                        : o->module     ? "--initrd"
                        : o->format_set ? "--format"
                        : o->mode_set   ? "--mode"
                        : o->load_set   ? "--load"
                        : o->entry_set  ? "--entry"
                        : o->serial     ? "--serial"
                        : o->pidfile    ? "--pidfile"
                        : o->api        ? "--api"
                        : o->gdb        ? "--gdb"
                        : o->ndisks     ? "--disk"
                        : o->rng        ? "--rng"
                        : o->nnets      ? "--net"
                        : o->vsock_cid  ? "--vsock"
                                        : NULL;

    if (!o->check_kvm || !clash)
        return -1;
    fprintf(stderr,
            "kvmrun: --check-kvm: cannot be combined with %s (it runs a "
            "test guest of its own)\n",
            clash);
    return STATUS_SETUP;
}

int options_parse(int argc, char **argv, struct options *o)
{
    int c, r;

    memset(o, 0, sizeof(*o));
    o->mem_size = KVMRUN_DEFAULT_MEM;
    o->ncpus = 1;
    o->load_addr = KVMRUN_DEFAULT_LOAD;
    o->irqchip = true;
    o->seccomp = true;
    if ((r = options_check_foreign(argc, argv)) >= 0)
        return r;
    opterr = 0; /* its messages start with argv[0]: kvmrun's own instead */
    while ((c = getopt_long(argc, argv, ":" OPTIONS_SHORT, long_options,
                            NULL)) != -1) {
        if (c == '?' || c == ':')
            return options_getopt_error(c, argv);
        if ((r = options_one(c, o)) >= 0)
            return r;
    }
    if (argc - optind > 1) {
        fprintf(stderr,
                "kvmrun: only one IMAGE may be given (got '%s' "
                "and '%s')\n",
                argv[optind], argv[optind + 1]);
        return STATUS_SETUP;
    }
    o->image = optind < argc ? argv[optind] : NULL;
    if (o->image && o->kernel) {
        fprintf(stderr,
                "kvmrun: give either IMAGE ('%s') or --kernel "
                "('%s'), not both\n",
                o->image, o->kernel);
        return STATUS_SETUP;
    }
    if (!o->entry_set)
        o->entry = o->load_addr;
    if ((r = options_check_restore(o)) >= 0)
        return r;
    if (o->gdb_wait && !o->gdb) {
        fprintf(stderr, "kvmrun: --gdb-wait: needs --gdb (where gdb "
                        "connects)\n");
        return STATUS_SETUP;
    }
    return options_check_kvm_alone(o);
}
