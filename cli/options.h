/* options.h: kvmrun's command line, parsed into a struct. */
#ifndef KVMRUN_CLI_OPTIONS_H
#define KVMRUN_CLI_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "kvmrun.h"

/* --disk options at most: the machine has 8 MMIO slots. */
#define OPTIONS_MAX_DISKS 8
/* --net options at most: likewise. */
#define OPTIONS_MAX_NETS 8

struct options {
    const char *image;  /* NULL: the built-in demo guest */
    const char *kernel; /* --kernel: must be ELF, multiboot or Linux */
    const char *append; /* --append: the kernel's command line */
    const char *module; /* --initrd/--module */
    enum kvmrun_format format;
    bool format_set;
    bool load_set;
    bool mode_set;
    uint64_t mem_size;
    unsigned ncpus;
    uint64_t load_addr;
    enum kvmrun_mode mode;
    uint64_t entry;
    bool entry_set;
    const char *serial;          /* NULL: stdout */
    enum kvmrun_console console; /* --console: what stdin types into */
    const char *pidfile;
    const char *api; /* --api: the control socket's path */
    const char *gdb; /* --gdb: tcp:[HOST:]PORT or unix:PATH */
    bool gdb_wait;   /* --gdb-wait: no vCPU runs until gdb continues */
    bool irqchip;
    bool verbose;
    bool stats;
    bool check_kvm;
    const char *restore; /* --restore: a snapshot file to continue */
    bool mem_set, cpus_set, irqchip_set;
    bool seccomp;                                /* false: --no-seccomp */
    struct kvmrun_disk disks[OPTIONS_MAX_DISKS]; /* --disk, in order */
    unsigned ndisks;
    bool rng;                                 /* --rng */
    struct kvmrun_net nets[OPTIONS_MAX_NETS]; /* --net, in order */
    unsigned nnets;
    uint64_t vsock_cid; /* --vsock cid=N; 0: none */
};

/* Exit statuses of kvmrun itself (odd statuses are the guest's own). */
enum {
    STATUS_OK = 0,
    STATUS_SETUP = 2,       /* bad usage or input; the VM could not start */
    STATUS_GUEST_FAULT = 4, /* triple fault, entry failure, internal error */
    STATUS_VMM_ERROR = 6,   /* a KVM call failed while the guest ran */
    STATUS_REBOOT = 8,      /* the guest rebooted (kvmrun does not restart
                               it, as QEMU's -no-reboot and Firecracker) */
    STATUS_SIGNAL = 128,    /* + signal number: stopped by that signal */
    STATUS_SECCOMP = 159,   /* 128 + SIGSYS: a system call outside the
                               seccomp filter (cli/sigsys.c) */
};

/* Parses argv into *o. Returns -1 to go on, else an exit status (after
 * --help or --version: 0; after an error, printed here: 2). */
int options_parse(int argc, char **argv, struct options *o);

#endif
