/* options.c: kvmrun's command line, parsed into a struct. */
#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "kvmrun.h"

static const char usage_text[] =
    "Usage: kvmrun [OPTIONS] [IMAGE]\n"
    "       kvmrun [OPTIONS] -k KERNEL [-a CMDLINE] [-i FILE]\n"
    "       kvmrun ctl [--json] SOCKET COMMAND [ARG]   (kvmrun ctl --help)\n"
    "Run IMAGE in a KVM virtual machine: an ELF executable, a multiboot "
    "kernel,\n"
    "or else raw x86 code. Without IMAGE, run the built-in demo guest.\n"
    "\n"
    "Options:\n"
    "  -m, --mem SIZE      guest RAM (default 128M); suffixes K, M, G, T;\n"
    "                      a bare number is MiB, as in QEMU\n"
    "  -c, --cpus N        number of vCPUs, one thread each (default 1); "
    "all start\n"
    "                      at the entry with DI = vCPU index, SI = N\n"
    "  -k, --kernel FILE   boot FILE: an ELF32 (protected mode) or ELF64 "
    "(long mode)\n"
    "                      executable or a multiboot kernel, as QEMU's "
    "-kernel\n"
    "  -a, --append TEXT   the kernel's command line\n"
    "  -i, --initrd FILE   multiboot module 0 (also --module FILE)\n"
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
    "      --no-irqchip    no in-kernel interrupt controller: every HLT "
    "exits to\n"
    "                      kvmrun, which re-enters the guest (as in the "
    "original note)\n"
    "      --restore FILE  continue the VM saved in snapshot FILE (its "
    "memory, vCPUs\n"
    "                      and devices: no IMAGE, --kernel, -m, -c)\n"
    "      --pidfile FILE  write kvmrun's pid to FILE as the guest starts "
    "(a regular\n"
    "                      file or none; removed at exit)\n"
    "      --api PATH      serve the JSON control socket at PATH (mode 0600;"
    "\n"
    "                      root and this uid only): status, pause, resume,\n"
    "                      stop, stats, regs, snapshot; see kvmrun ctl\n"
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
    "to the guest, Ctrl-C too) and Ctrl-A x quits (status 0), Ctrl-A "
    "Ctrl-A sends\n"
    "Ctrl-A. The 16550 raises IRQ 4 when the guest enables it.\n"
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
    "  2        kvmrun could not start the VM (bad option, image, or KVM)\n"
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
    "empty: the default).\n";

enum {
    OPT_LOAD = 256,
    OPT_ENTRY,
    OPT_SERIAL,
    OPT_NO_IRQCHIP,
    OPT_PIDFILE,
    OPT_CHECK_KVM,
    OPT_STATS,
    OPT_MODE,
    OPT_FORMAT,
    OPT_API,
    OPT_RESTORE,
    OPT_NO_SECCOMP,
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
    {"no-irqchip", no_argument, NULL, OPT_NO_IRQCHIP},
    {"pidfile", required_argument, NULL, OPT_PIDFILE},
    {"api", required_argument, NULL, OPT_API},
    {"restore", required_argument, NULL, OPT_RESTORE},
    {"check-kvm", no_argument, NULL, OPT_CHECK_KVM},
    {"no-seccomp", no_argument, NULL, OPT_NO_SECCOMP},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

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
    case OPT_CHECK_KVM:
        o->check_kvm = true;
        return -1;
    case OPT_NO_SECCOMP:
        o->seccomp = false;
        return -1;
    case 'v':
        o->verbose = true;
        return -1;
    case 'h':
        fputs(usage_text, stdout);
        return STATUS_OK;
    case 'V':
        printf("kvmrun %s\n", KVMRUN_VERSION);
        return STATUS_OK;
    default:
        fprintf(stderr, "Try 'kvmrun --help' for more information.\n");
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
    opterr = 1;
    while ((c = getopt_long(argc, argv, "m:c:k:a:i:vhV", long_options, NULL)) !=
           -1)
        if ((r = options_one(c, o)) >= 0)
            return r;
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
    return options_check_kvm_alone(o);
}
