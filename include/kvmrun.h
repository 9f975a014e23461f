/* kvmrun.h: the public API of libkvmrun, a small virtual machine monitor. */
#ifndef KVMRUN_H
#define KVMRUN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Errors: a call returns 0 (or a count) on success and -errno on failure,
 * with a one-line message for kvmrun_last_error(), kept per thread. The
 * library never exits the process and never writes to stdout (only the
 * guest's serial output, to cfg.serial_fd).
 *
 * Signals: the library takes SIGRTMIN for the whole process, the first
 * time kvmrun_vm_start() runs: it installs its own handler (it sets
 * kvm_run.immediate_exit to kick a vCPU out of KVM_RUN) and leaves it
 * there. A program using libkvmrun must not use SIGRTMIN itself nor
 * change its disposition afterwards; SIGRTMIN+1 and above stay the
 * program's. The library's threads (one per vCPU, the serial output's,
 * the control socket's) start with every signal blocked but SIGSYS; a
 * vCPU thread then unblocks SIGRTMIN (and the synchronous faults) only.
 * Process-directed signals are therefore never taken by a library
 * thread: the program handles them in its own threads as it likes (the
 * kvmrun command blocks them and reads them through a signalfd).
 *
 * Threads. A VM has an owner thread, which makes the calls of its life
 * cycle one after the other: kvmrun_vm_create() or kvmrun_vm_restore(),
 * the loaders and kvmrun_boot(), kvmrun_vm_confine(),
 * kvmrun_control_start(), kvmrun_vm_start(), kvmrun_vm_wait(),
 * kvmrun_control_stop(), kvmrun_vm_destroy() (last, once every other call
 * on the VM has returned). Until kvmrun_vm_start() nothing else may touch
 * the VM. Once it started, any thread of the program may call, at the
 * same time as others: kvmrun_vm_pause(), kvmrun_vm_resume(),
 * kvmrun_vm_set_pause(), kvmrun_vm_stop(), kvmrun_vcpu_kick(),
 * kvmrun_vm_snapshot(), kvmrun_vm_paused(), kvmrun_vm_holds(),
 * kvmrun_vcpu_get_stats(), kvmrun_vcpu_state(), kvmrun_vm_kstats(),
 * kvmrun_vcpu_kstats(), kvmrun_serial_input(), kvmrun_vm_event_fd(),
 * kvmrun_vm_flush_output(), kvmrun_vm_describe_serial() and the
 * read-only accessors (kvmrun_vm_ncpus, kvmrun_vm_vcpu, kvmrun_vm_mem).
 * kvmrun_vcpu_dump_regs() and kvmrun_vcpu_get_rip() want a paused or
 * ended vCPU. The calls that wait (pause, resume, stop, kick, snapshot,
 * wait) must not be made from the log function (cfg.log), which the
 * library may call from any of its threads, a vCPU's included.
 * kvmrun_vcpu_run_once() and kvmrun_vcpu_set_immediate_exit() are for a
 * program that runs the vCPU in its own thread instead of calling
 * kvmrun_vm_start().
 */

#define KVMRUN_VERSION "0.1.0"

#define KVMRUN_DEFAULT_MEM (128ULL << 20)
/* The most guest RAM a VM may have (1 TiB): kvmrun_vm_create() refuses
 * more, so every VM it creates can be snapshotted and restored (a
 * snapshot file records at most this). With RAM above 3 GiB starting at
 * 4 GiB, the highest guest-physical byte is then just below 1 TiB + 1 GiB
 * (41 address bits; KVM refuses memory beyond its host's MAXPHYADDR). */
#define KVMRUN_MAX_MEM (1ULL << 40)
#define KVMRUN_DEFAULT_LOAD 0x1000ULL
#define KVMRUN_DEFAULT_DEVICE "/dev/kvm"

/*
 * Ports of the devices every VM has. A raw guest ends the VM with a 16-bit
 * write of KVMRUN_POWEROFF_VALUE to KVMRUN_POWEROFF_PORT (the PIIX4 PM1a
 * control register QEMU's PC machine answers the same way), or with a write
 * of v to the debug-exit port (QEMU's isa-debug-exit: status (v << 1) | 1).
 */
#define KVMRUN_SERIAL_PORT 0x3f8
#define KVMRUN_SERIAL_IRQ 4
#define KVMRUN_DEBUG_EXIT_PORT 0xf4
#define KVMRUN_POWEROFF_PORT 0x604
#define KVMRUN_POWEROFF_VALUE 0x2000

struct kvmrun_vm;
struct kvmrun_vcpu;

/* Disks: a virtio-blk disk as a user names it (--disk), for cfg.disks.
 * The serial (GET_ID) has at most 20 bytes, not NUL-terminated on the
 * wire when it has 20. */
#define KVMRUN_DISK_SERIAL_MAX 20
#define KVMRUN_DISK_PATH_MAX 4096

enum kvmrun_disk_cache {
    KVMRUN_DISK_WRITEBACK, /* the host's page cache; guest flushes are
                              fdatasync (QEMU's default) */
    KVMRUN_DISK_NONE,      /* O_DIRECT: no host cache */
};

enum kvmrun_disk_engine {
    KVMRUN_DISK_AUTO,     /* io_uring where it can be had, else sync */
    KVMRUN_DISK_IO_URING, /* io_uring or an error */
    KVMRUN_DISK_SYNC,     /* a pool of threads making the system calls */
};

struct kvmrun_disk {
    char path[KVMRUN_DISK_PATH_MAX];
    int ro; /* read-only: the guest sees VIRTIO_BLK_F_RO */
    char serial[KVMRUN_DISK_SERIAL_MAX + 1]; /* "": none */
    enum kvmrun_disk_cache cache;
    enum kvmrun_disk_engine engine;
};

/*
 * Parses PATH[,ro][,serial=ID][,cache=none|writeback]
 * [,engine=io_uring|sync] into *disk (defaults: read-write, no serial,
 * writeback, auto). A comma in PATH is written twice (",,"), as in
 * QEMU. The serial is printable ASCII of at most 20 bytes. Returns 0, or
 * -EINVAL with kvmrun_last_error() saying in one line what is wrong (an
 * empty path, an unknown or repeated key, a bad value, a serial too
 * long), without the option's name: the caller prefixes it.
 */
int kvmrun_disk_parse(const char *text, struct kvmrun_disk *disk);

/* "writeback", "none"; "auto", "io_uring", "sync". */
const char *kvmrun_disk_cache_name(enum kvmrun_disk_cache cache);
const char *kvmrun_disk_engine_name(enum kvmrun_disk_engine engine);

/* Network devices: a virtio-net device as a user names it (--net), for
 * cfg.nets. A tap's name has at most 15 bytes (IFNAMSIZ with its NUL). */
#define KVMRUN_NET_IFNAME_MAX 15

struct kvmrun_net {
    char tap[KVMRUN_NET_IFNAME_MAX + 1]; /* an existing tap device */
    uint8_t mac[6];                      /* the guest's address */
    int has_mac;                         /* 0: a random local one */
    int vhost;                           /* 1: the kernel's vhost-net */
};

/*
 * Parses tap=IFNAME[,mac=MAC][,vhost=on|off] into *net (defaults: a
 * random locally administered MAC, vhost off). MAC is six hex bytes
 * with colons, unicast and not all zeros. Returns 0, or -EINVAL with
 * kvmrun_last_error() saying in one line what is wrong, without the
 * option's name: the caller prefixes it.
 */
int kvmrun_net_parse(const char *text, struct kvmrun_net *net);

enum kvmrun_log_level {
    KVMRUN_LOG_ERROR,
    KVMRUN_LOG_WARN,
    KVMRUN_LOG_INFO,
    KVMRUN_LOG_DEBUG,
};

/* Receives one line of text (no newline) the library wants a human to see. */
typedef void (*kvmrun_log_fn)(void *opaque, enum kvmrun_log_level level,
                              const char *line);

/* Which device is the user's console: gets kvmrun_serial_input()'s bytes. */
enum kvmrun_console {
    KVMRUN_CONSOLE_SERIAL, /* the UART (COM1, the guest's ttyS0) */
    KVMRUN_CONSOLE_VIRTIO, /* a virtio console (hvc0); the UART stays */
};

struct kvmrun_config {
    const char *kvm_device; /* path of the KVM device; NULL: /dev/kvm */
    uint64_t mem_size;      /* guest RAM in bytes, a multiple of 4 KiB,
                               1 MiB to KVMRUN_MAX_MEM */
    unsigned ncpus;         /* number of vCPUs, 1..KVM_CAP_MAX_VCPUS */
    int irqchip;            /* 1: in-kernel LAPIC/PIC/IOAPIC (HLT stays
                               in the kernel); 0: HLT exits to kvmrun */
    int serial_fd;          /* where the UART's output goes; -1: nowhere */
    kvmrun_log_fn log;      /* NULL: "kvmrun: <line>" on stderr */
    void *log_opaque;
    unsigned rekick_ms; /* re-kick a vCPU that has not acknowledged a
                           kick after this long; 0: 10 ms */
    /* virtio-blk disks (struct kvmrun_disk), in the order the guest numbers
     * them (vda, vdb, ...); the array must outlive the VM. */
    const struct kvmrun_disk *disks;
    unsigned ndisks;
    int rng; /* 1: a virtio-rng device (the host's getrandom) */
    /* KVMRUN_CONSOLE_VIRTIO adds a virtio console, whose output goes to
     * console_fd (-1: nowhere) through a buffer as the UART's does; the
     * UART keeps writing to serial_fd. Linux then defaults to
     * console=hvc0. */
    enum kvmrun_console console;
    int console_fd;
    /* virtio-net devices on taps (struct kvmrun_net), in order (eth0, ...);
     * the array must outlive the VM. */
    const struct kvmrun_net *nets;
    unsigned nnets;
    /* A virtio-vsock device on the kernel's vhost-vsock with this CID
     * (3 to 2^32 - 2); 0: none. */
    uint64_t vsock_cid;
};

/* Fills *cfg with the defaults: /dev/kvm, 128 MiB, 1 vCPU, irqchip on,
 * serial output to stdout, log to stderr, re-kicks every 10 ms, the UART
 * as the console (console_fd stdout, for a virtio console). */
void kvmrun_config_init(struct kvmrun_config *cfg);

/* How a VM ended: the reason first, then what was reported. */
enum kvmrun_end {
    KVMRUN_END_NONE,           /* still running */
    KVMRUN_END_POWEROFF,       /* the guest powered off */
    KVMRUN_END_REBOOT,         /* the guest asked for a reset (i8042, ACPI) */
    KVMRUN_END_DEBUG_EXIT,     /* the guest wrote code to the debug-exit port */
    KVMRUN_END_STOPPED,        /* kvmrun_vm_stop() was called; code = its arg */
    KVMRUN_END_TRIPLE_FAULT,   /* KVM_EXIT_SHUTDOWN */
    KVMRUN_END_FAIL_ENTRY,     /* KVM_EXIT_FAIL_ENTRY; code = hw reason */
    KVMRUN_END_INTERNAL_ERROR, /* KVM_EXIT_INTERNAL_ERROR; code = suberror */
    KVMRUN_END_UNHANDLED_EXIT, /* an exit reason kvmrun does not know */
    KVMRUN_END_VMM_ERROR,      /* a KVM call failed while running */
};

struct kvmrun_outcome {
    enum kvmrun_end end;
    int vcpu;          /* index of the vCPU that ended the VM; -1: the host */
    uint64_t code;     /* see enum kvmrun_end */
    char message[256]; /* one line, no newline, no "kvmrun: " prefix */
    char detail[2048]; /* register dump (lines), or empty */
};

/* Exit reasons counted one by one; higher ones are counted together. */
#define KVMRUN_STATS_EXITS 64

/* What a vCPU did, counted by its thread. */
struct kvmrun_vcpu_stats {
    uint64_t exits[KVMRUN_STATS_EXITS]; /* by KVM_EXIT_* reason */
    uint64_t exits_other;               /* reasons >= KVMRUN_STATS_EXITS */
    uint64_t eintr;       /* KVM_RUN returns with -EINTR (kicks seen) */
    uint64_t kicks_sent;  /* kicks published for this vCPU */
    uint64_t kicks_acked; /* of those, acknowledged by the vCPU */
    uint64_t rekicks;     /* signals re-sent to a vCPU slow to ack */
    uint64_t pauses;      /* times it paused */
    uint64_t paused_ns;   /* time spent paused */
};

/* Text of the last error of a library call made by this thread. */
const char *kvmrun_last_error(void);

/* For code built on the library (the control socket is): records a
 * message (formatted from fmt) for kvmrun_last_error() and returns -err
 * (err > 0), as the library's own calls report their errors. */
int kvmrun_set_error(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * For code built on the library: starts a thread as the library starts
 * its own (vCPUs, device output, the control socket), with every signal
 * blocked but SIGSYS (the vCPU threads' kick signal and the CLI's
 * signalfd must find them blocked; a seccomp trap must reach its
 * handler), on a 512 KiB stack instead of glibc's 8 MiB (which under
 * transparent huge pages costs a resident 2 MiB page per thread).
 * pthread_create's result: 0 or an errno value.
 */
int kvmrun_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg);

/* Parses a memory size: a number (decimal, or hex after 0x) with an
 * optional K, M, G or T suffix (powers of 1024); a bare number is MiB, as
 * in QEMU's -m. Returns 0, or -EINVAL/-ERANGE with kvmrun_last_error()
 * saying why. */
int kvmrun_parse_size(const char *text, uint64_t *bytes);

/* Parses an address or number: decimal (a leading 0 too: 010 is ten) or
 * hex after 0x, no junk. */
int kvmrun_parse_u64(const char *text, uint64_t *value);

/*
 * Files a user names, which kvmrun writes or removes (snapshots, the
 * control socket, a pidfile): nothing but a regular file is replaced,
 * and only what kvmrun itself created is removed.
 */

/* What a file's st_mode says it is, for messages: "a FIFO", ... */
const char *kvmrun_file_type(unsigned mode);

/*
 * 0 when rename() may put a new file at path: nothing is there, or a
 * regular file, or a symbolic link (rename replaces the link itself,
 * never what it points to). Else -EISDIR or -EEXIST with
 * kvmrun_last_error() saying what is there, without the path ("is a
 * character device; only a regular file is replaced"), or -errno.
 */
int kvmrun_file_replaceable(const char *path);

/* Which file a path named (st_dev, st_ino), to remove it later only if
 * the path still names that file. */
struct kvmrun_file_id {
    uint64_t dev, ino;
};

/* *id of the file at path itself (not followed): 0 or -errno. */
int kvmrun_file_id(const char *path, struct kvmrun_file_id *id);

/* Removes path if it still names the file id: 1 removed, 0 gone or
 * another file (left alone), -errno (unlink failed). */
int kvmrun_file_remove_own(const char *path, const struct kvmrun_file_id *id);

/*
 * Opens the KVM device, checks the API version and the capabilities kvmrun
 * relies on, creates the VM, its memory, irqchip, vCPUs and devices. On
 * success *vmp owns all of it; returns 0 or -errno (no /dev/kvm, permission
 * denied, a missing capability, bad config), nothing left allocated.
 */
int kvmrun_vm_create(const struct kvmrun_config *cfg, struct kvmrun_vm **vmp);

/*
 * Stops the vCPUs if they run, joins them and frees everything. NULL ok.
 * The guest's serial output still held is written first, for a bounded
 * time (kvmrun_vm_flush_output()); what is left then is dropped, with one
 * log line saying how many bytes.
 */
void kvmrun_vm_destroy(struct kvmrun_vm *vm);

/*
 * The UART's output is held in a 64 KiB buffer that a thread of the
 * library writes to serial_fd, so that no vCPU waits for its reader (a
 * virtio console's likewise, to console_fd). Waits until what the UART
 * (and the virtio console) took before this call is written: as long as
 * the reader takes some of it at least every second, up to 2 s in all.
 * Returns 0, or -ETIMEDOUT with kvmrun_last_error() saying how many bytes
 * are still held (they stay, and are written if the reader comes back).
 * Safe while the vCPUs run.
 */
int kvmrun_vm_flush_output(struct kvmrun_vm *vm);

/* Copies len bytes to guest-physical load_addr: 0, -EINVAL for an empty
 * image, -ERANGE if they don't fit in RAM. kvmrun_load_raw_file() does the
 * same with a file's contents (errors name the file). */
int kvmrun_load_raw(struct kvmrun_vm *vm, const void *image, size_t len,
                    uint64_t load_addr);
int kvmrun_load_raw_file(struct kvmrun_vm *vm, const char *path,
                         uint64_t load_addr);

/*
 * Puts every vCPU in 16-bit real mode at guest-physical entry (< 1 MiB):
 * CS = DS = ES = FS = GS = SS = (entry & 0xf0000) >> 4 (so 0 for entries
 * below 64 KiB, as in the note), IP = entry & 0xffff, SP = sp & 0xffff,
 * interrupts off, DI = the vCPU's index, SI = the number of vCPUs, other
 * registers 0. Every vCPU starts there at once (no INIT/SIPI). Returns 0,
 * -ERANGE (entry outside RAM) or -EINVAL.
 */
int kvmrun_boot_real(struct kvmrun_vm *vm, uint64_t entry, uint64_t sp);

enum kvmrun_format {
    KVMRUN_FORMAT_RAW,
    KVMRUN_FORMAT_ELF,
    KVMRUN_FORMAT_MULTIBOOT,
    KVMRUN_FORMAT_LINUX,
};

/* An image's format, detected in QEMU's order: a Linux boot header
 * ("HdrS" at 0x202), a multiboot header in the first 8 KiB, the ELF
 * magic; anything else is raw. */
enum kvmrun_format kvmrun_detect_format(const void *image, size_t len);

/* The same for a file (its first 8 KiB): 0, or -errno naming the file. */
int kvmrun_detect_format_file(const char *path, enum kvmrun_format *format);

/* "raw", "elf", "multiboot", "linux", and back: 0 or -EINVAL. */
const char *kvmrun_format_name(enum kvmrun_format format);
int kvmrun_parse_format(const char *text, enum kvmrun_format *format);

/* What an ELF image asks for. */
struct kvmrun_elf_info {
    uint64_t entry; /* e_entry */
    unsigned bits;  /* 32: start in protected mode; 64: in long mode */
};

/*
 * Loads an x86 ELF32/ELF64 executable: PT_LOAD segments at their physical
 * addresses, bss zeroed. Every field is checked first; errors name the
 * file and the field, and leave guest memory untouched.
 */
int kvmrun_load_elf_file(struct kvmrun_vm *vm, const char *path,
                         struct kvmrun_elf_info *info);

struct kvmrun_boot;

/*
 * Loads a multiboot v1 kernel as QEMU's -kernel does: its image, module 0
 * (module_path, or NULL) after it, and the information block (memory map,
 * command line "<path> <append>", modules) at 0x78000; fills *boot to start
 * the boot vCPU in protected mode with EAX = 0x2BADB002 and EBX = the
 * block. 0 or -errno with a message naming the file and the field.
 */
int kvmrun_load_multiboot_file(struct kvmrun_vm *vm, const char *path,
                               const char *append, const char *module_path,
                               struct kvmrun_boot *boot);

/*
 * Loads a Linux bzImage for the 64-bit boot protocol (or an uncompressed
 * vmlinux): the kernel at 1 MiB, the initrd (initrd_path, or NULL) as high
 * as allowed, the zero page with the e820 map and the command line, and
 * the ACPI tables (RSDP, XSDT, hardware-reduced FADT, DSDT with \_S5,
 * MADT) and MP table that describe every vCPU; fills *boot for long mode
 * with RSI = the zero page. The command line is append (NULL: empty) with
 * "console=ttyS0 " put first when none of its kernel parameters is a
 * console= (as kvmtool does: without one Linux prints nowhere);
 * "console=hvc0 " with KVMRUN_CONSOLE_VIRTIO.
 */
int kvmrun_load_linux_file(struct kvmrun_vm *vm, const char *path,
                           const char *append, const char *initrd_path,
                           struct kvmrun_boot *boot);

enum kvmrun_mode {
    KVMRUN_MODE_REAL,      /* 16-bit real mode */
    KVMRUN_MODE_PROTECTED, /* flat 32-bit protected mode, paging off */
    KVMRUN_MODE_LONG,      /* 64-bit long mode, identity paging */
};

struct kvmrun_boot {
    enum kvmrun_mode mode;
    uint64_t entry; /* guest-physical start address */
    uint64_t sp;    /* initial stack pointer */
    int all_vcpus;  /* 1: every vCPU starts at entry with DI/EDI/RDI =
                       its index and SI/ESI/RSI = the vCPU count (raw
                       images); 0: vCPU 0 only (EAX/EBX = rax/rbx, DI =
                       0, SI = the count), the others wait for INIT/SIPI
                       from the guest */
    uint64_t rax, rbx;
    uint64_t rsi; /* if not 0: the boot vCPU's RSI (Linux: the zero page) */
};

/*
 * Sets every vCPU up to start. Protected and long mode write the VMM's
 * GDT (selectors 0x08 64-bit code, 0x10 32-bit code, 0x18 data, 0x20 TSS)
 * and TSS at 0x70000, long mode identity page tables at 0x71000-0x76fff
 * and 0x60000-0x6ffff: an image loaded over 0x60000-0x76fff is refused.
 * Returns 0 or -errno.
 */
int kvmrun_boot(struct kvmrun_vm *vm, const struct kvmrun_boot *boot);

/* Name of a mode ("real", "protected", "long"), and back: 0 or -EINVAL. */
const char *kvmrun_mode_name(enum kvmrun_mode mode);
int kvmrun_parse_mode(const char *text, enum kvmrun_mode *mode);

/*
 * Starts one thread per vCPU running the guest set up by kvmrun_boot()
 * (or restored by kvmrun_vm_restore()), and returns at once. Returns 0
 * once every vCPU thread was created; -EINVAL when no guest was set up
 * to start (nothing loaded, or kvmrun_boot() not called: the vCPU would
 * run from the reset vector of empty RAM); -EBUSY if the VM was started
 * already; -errno when SIGRTMIN's handler cannot be installed or a thread
 * cannot be created (the VM has then ended, KVMRUN_END_VMM_ERROR: call
 * kvmrun_vm_wait() and kvmrun_vm_destroy()). The VM's end shows in
 * kvmrun_vm_event_fd() and kvmrun_vm_wait().
 */
int kvmrun_vm_start(struct kvmrun_vm *vm);

/* Offers bytes to the UART's receiver (what a user types): returns how
 * many it took, as many as its 16-byte FIFO had room for; offer the rest
 * again later. Raises IRQ 4 when the guest enabled it. With
 * KVMRUN_CONSOLE_VIRTIO the virtio console takes them instead, as many as
 * its 1 KiB input buffer holds, for the guest's receive buffers. */
size_t kvmrun_serial_input(struct kvmrun_vm *vm, const void *buf, size_t len);

/* A file descriptor that polls readable once the VM has ended. */
int kvmrun_vm_event_fd(const struct kvmrun_vm *vm);

/*
 * Asks every vCPU to stop (the kick protocol: the request is published,
 * then immediate_exit is set and the vCPU thread is signalled) and waits
 * until every vCPU thread has acknowledged, re-kicking on each wake-up. The
 * outcome becomes KVMRUN_END_STOPPED with code, unless the VM had already
 * ended. Returns 0, or -ETIMEDOUT after timeout_ms naming the vCPU.
 */
int kvmrun_vm_stop(struct kvmrun_vm *vm, uint64_t code, unsigned timeout_ms);

/*
 * Kicks one vCPU out of KVM_RUN and waits until it has acknowledged the
 * kick (drained its requests) or is paused or stopped. 0, -ETIMEDOUT after
 * timeout_ms (re-kicking meanwhile), -EINVAL if the VM is not running.
 */
int kvmrun_vcpu_kick(struct kvmrun_vcpu *vcpu, unsigned timeout_ms);

/*
 * Pausing and resuming: a run state that the last request sets.
 *
 * A VM's vCPUs run only while no hold is set. Each hold has one owner:
 * the user's (kvmrun_vm_pause/resume/set_pause: the CLI's SIGUSR2, the
 * control socket's pause and resume) and a snapshot's (taken by
 * kvmrun_vm_snapshot() while it saves). Setting a hold publishes a pause
 * request to every vCPU and kicks it; clearing the last one wakes them.
 * Requests are idempotent (pausing a paused VM does nothing) and safe from
 * any number of threads: each sets the target at once, under one lock,
 * then waits for the vCPUs to get there. A waiter stops waiting, with
 * success, as soon as a later request changes the target it waits for (it
 * was superseded: the last request wins); it never waits out its timeout
 * on a target nobody wants any more.
 */
#define KVMRUN_HOLD_USER 0x1u     /* the user's pause */
#define KVMRUN_HOLD_SNAPSHOT 0x2u /* a snapshot being written */
#define KVMRUN_HOLD_GDB 0x4u      /* a debugger stopped the guest (--gdb) */

enum kvmrun_pause_op {
    KVMRUN_PAUSE,        /* set the user's hold */
    KVMRUN_RESUME,       /* clear it */
    KVMRUN_PAUSE_TOGGLE, /* the opposite of the user's current target, as
                            one atomic step (the CLI's SIGUSR2) */
};

/* What kvmrun_vm_set_pause() did. */
struct kvmrun_pause_result {
    int paused;     /* the user's target the call set: 1 paused, 0 running */
    int reached;    /* 1: every vCPU got there. 0: the call stopped waiting
                       because the VM's target changed first (a later
                       request from another thread, or, for a resume,
                       another hold such as a snapshot's keeps the vCPUs
                       paused: holds says which) */
    unsigned holds; /* KVMRUN_HOLD_* in force when it stopped waiting */
};

/*
 * Sets the user's pause target (op) and waits up to timeout_ms for every
 * vCPU to reach it: paused means out of KVM_RUN (a pending port or MMIO
 * access completed first), waiting, and KVM_KVMCLOCK_CTRL told a kvmclock
 * guest; running means back in its KVM_RUN loop. result may be NULL.
 * Returns:
 *   0          the target is in force; result->reached says whether the
 *              vCPUs got there or the call was superseded (see above);
 *   -ETIMEDOUT the target is still the one requested, but the vCPU the
 *              message names did not get there in time (it is blocked
 *              outside KVM_RUN, e.g. in a device): nothing is undone, it
 *              pauses (or runs) as soon as it can, and the VM is otherwise
 *              unaffected; *result is filled as for 0;
 *   -EINVAL    the VM was never started or has ended;
 *   -EBUSY     a resume while a debugger holds the VM (gdb resumes it).
 */
int kvmrun_vm_set_pause(struct kvmrun_vm *vm, enum kvmrun_pause_op op,
                        unsigned timeout_ms,
                        struct kvmrun_pause_result *result);

/* kvmrun_vm_set_pause(vm, KVMRUN_PAUSE or KVMRUN_RESUME, timeout_ms,
 * NULL): 0 (also when superseded), -ETIMEDOUT or -EINVAL. */
int kvmrun_vm_pause(struct kvmrun_vm *vm, unsigned timeout_ms);
int kvmrun_vm_resume(struct kvmrun_vm *vm, unsigned timeout_ms);

/* 1 while any hold is set: the VM's target is paused (its vCPUs are
 * paused or on their way), 0 while it is running. */
int kvmrun_vm_paused(struct kvmrun_vm *vm);

/* The KVMRUN_HOLD_* bits in force now. */
unsigned kvmrun_vm_holds(struct kvmrun_vm *vm);

/* The name of one KVMRUN_HOLD_* bit ("user", "snapshot", "gdb"), or "?". */
const char *kvmrun_hold_name(unsigned hold);

/* Number of vCPUs. */
unsigned kvmrun_vm_ncpus(const struct kvmrun_vm *vm);

/* Bytes of guest RAM. */
uint64_t kvmrun_vm_mem_size(const struct kvmrun_vm *vm);

/* A VM's run state: where kvmrun_vm_start(), the holds and its end put
 * it. Safe from any thread. */
enum kvmrun_vm_state {
    KVMRUN_VM_CREATED, /* not started yet */
    KVMRUN_VM_RUNNING, /* started, no hold set */
    KVMRUN_VM_PAUSED,  /* started, a hold set: the target is paused, its
                          vCPUs paused or on their way (kvmrun_vcpu_state) */
    KVMRUN_VM_ENDED,   /* ended (kvmrun_vm_event_fd() is readable) */
};

enum kvmrun_vm_state kvmrun_vm_state(struct kvmrun_vm *vm);

/* "created", "running", "paused", "ended", or "?". */
const char *kvmrun_vm_state_name(enum kvmrun_vm_state state);

/* Nanoseconds (CLOCK_MONOTONIC) since kvmrun_vm_start(); 0 before it. */
uint64_t kvmrun_vm_uptime_ns(const struct kvmrun_vm *vm);

/* Reports one line (formatted from fmt, no newline) through the VM's log
 * function (kvmrun_config.log): for code built on the library. */
void kvmrun_vm_log(const struct kvmrun_vm *vm, enum kvmrun_log_level level,
                   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Copies a vCPU's counters (consistent per field, live while it runs). */
void kvmrun_vcpu_get_stats(struct kvmrun_vcpu *vcpu,
                           struct kvmrun_vcpu_stats *out);

/* Writes a paused (or stopped) vCPU's registers as text lines. */
void kvmrun_vcpu_dump_regs(struct kvmrun_vcpu *vcpu, char *buf, size_t len);

/* An x86 segment register's visible part. */
struct kvmrun_segment {
    uint64_t base;
    uint32_t limit;
    uint16_t selector;
};

/* A vCPU's registers: what the control socket's regs reply shows. */
#define KVMRUN_NGPRS 16
struct kvmrun_regs {
    uint64_t rip, rflags;
    uint64_t gpr[KVMRUN_NGPRS]; /* rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp,
                                   r8 ... r15: kvmrun_gpr_name() */
    struct kvmrun_segment cs, ds, es, fs, gs, ss;
    uint64_t cr0, cr2, cr3, cr4, efer;
};

/*
 * Reads a vCPU's registers into *regs. Meant for a vCPU out of KVM_RUN:
 * paused, exited, or never started (on a running one KVM makes the call
 * wait until it leaves KVM_RUN, and what it reads is stale at once).
 * Returns 0, or -errno with kvmrun_last_error() naming the vCPU and the
 * KVM request that failed.
 */
int kvmrun_vcpu_get_regs(struct kvmrun_vcpu *vcpu, struct kvmrun_regs *regs);

/* The name of struct kvmrun_regs' gpr[i] ("rax", ...), or NULL. */
const char *kvmrun_gpr_name(unsigned i);

/* A vCPU's state: "created", "running", "paused" or "exited". */
const char *kvmrun_vcpu_state(struct kvmrun_vcpu *vcpu);

/* One line on the UART: its registers, unread input, interrupt line (for
 * diagnosing a guest that waits for input), and on the virtio console if
 * there is one. Returns snprintf's count. */
int kvmrun_vm_describe_serial(struct kvmrun_vm *vm, char *buf, size_t len);

/* Host pointer to guest-physical [gpa, gpa + len) if it is all RAM, else
 * NULL. Valid until kvmrun_vm_destroy(). */
void *kvmrun_vm_mem(struct kvmrun_vm *vm, uint64_t gpa, uint64_t len);

/*
 * Waits until the VM has ended (the guest powered off, rebooted, wrote to
 * the debug-exit port or crashed, kvmrun_vm_stop() was called, or a KVM
 * call failed) and every vCPU thread has exited: a paused VM has not
 * ended, so this waits through pauses. Fills *out with how it ended
 * (out->end, never KVMRUN_END_NONE, and the message). Returns 0, or
 * -EINVAL (*out untouched) if the VM was never started. Called again, it
 * returns the same outcome at once. From the owner thread only.
 */
int kvmrun_vm_wait(struct kvmrun_vm *vm, struct kvmrun_outcome *out);

/* The vCPU with this index, or NULL. */
struct kvmrun_vcpu *kvmrun_vm_vcpu(struct kvmrun_vm *vm, unsigned index);

/*
 * Low-level access for programs that drive a vCPU themselves instead of
 * calling kvmrun_vm_start(). kvmrun_vcpu_run_once() makes one KVM_RUN call
 * and returns 0 (*exit_reason = KVM_EXIT_*) or -errno: -EINTR when
 * immediate_exit was set or a signal arrived.
 */
int kvmrun_vcpu_run_once(struct kvmrun_vcpu *vcpu, uint32_t *exit_reason);
void kvmrun_vcpu_set_immediate_exit(struct kvmrun_vcpu *vcpu, int value);
int kvmrun_vcpu_get_rip(struct kvmrun_vcpu *vcpu, uint64_t *rip);

/*
 * Saves the whole VM into the file path: takes the snapshot's hold
 * (KVMRUN_HOLD_SNAPSHOT) and waits until every vCPU paused (each completes
 * a pending port or MMIO access first), writes every vCPU's and the
 * platform's state, the devices' state and guest memory (sparsely), then
 * releases its hold: the VM runs on unless another hold is set (the user
 * paused it, before or during the snapshot). A resume meanwhile succeeds
 * and takes effect when the snapshot ends. Returns 0, or -errno with
 * kvmrun_last_error() naming the file.
 */
int kvmrun_vm_snapshot(struct kvmrun_vm *vm, const char *path);

/*
 * Rebuilds a VM from a snapshot file written by kvmrun_vm_snapshot(): cfg
 * gives the KVM device, serial output and logging (its memory size and
 * vCPU count are ignored: the file's count). On success *vmp is ready for
 * kvmrun_vm_start() and continues where it was saved; a truncated,
 * corrupted or version-mismatched file is refused with -EINVAL and a
 * one-line reason, nothing created.
 */
int kvmrun_vm_restore(const struct kvmrun_config *cfg, const char *path,
                      struct kvmrun_vm **vmp);

/*
 * The kernel's own counters (KVM_GET_STATS_FD) of the VM or of one vCPU:
 * fn gets each one's name, its KVM_STATS_* flags (type, unit, base) and
 * count values (1, or a histogram's buckets). Returns 0, -ENOTSUP when
 * the kernel lacks KVM_CAP_BINARY_STATS_FD, or -errno.
 */
typedef void (*kvmrun_kstat_fn)(void *opaque, const char *name, uint32_t flags,
                                const uint64_t *values, unsigned count);
int kvmrun_vm_kstats(struct kvmrun_vm *vm, kvmrun_kstat_fn fn, void *opaque);
int kvmrun_vcpu_kstats(struct kvmrun_vcpu *vcpu, kvmrun_kstat_fn fn,
                       void *opaque);

/* The control socket's limits: a request line (with its newline) and
 * clients connected at once. */
#define KVMRUN_CONTROL_MAX_LINE 65536
#define KVMRUN_CONTROL_MAX_CLIENTS 8

/* kvmrun_vm_stop()'s code when the control socket's "stop" ended the VM
 * (above every signal number). */
#define KVMRUN_STOP_CONTROL 0x10000
/* The outcome's code when gdb's kill ended the VM. */
#define KVMRUN_STOP_GDB 0x10001

struct kvmrun_control;

/*
 * Serves the JSON control protocol (README.md, "Control socket") for vm
 * on a Unix stream socket at path, from a thread of its own: the socket
 * is created mode 0600 (a stale socket there, one that refuses
 * connections, is replaced; a live one, one that cannot be probed, e.g.
 * -EACCES, and any other file are refused, without waiting), and only
 * root and kvmrun's own uid are served. Returns 0 with *out set, or
 * -errno naming the path.
 */
int kvmrun_control_start(struct kvmrun_vm *vm, const char *path,
                         struct kvmrun_control **out);

/* Ends the server thread, closes every connection (after sending the
 * replies that fit) and removes the socket, if its path still names the
 * socket it made. NULL ok. */
void kvmrun_control_stop(struct kvmrun_control *ctl);
struct kvmrun_gdb;

/*
 * Serves the GDB remote protocol for vm (README.md, "Debugging with
 * gdb") from a thread of its own, on spec: "tcp:[HOST:]PORT" (an IPv4
 * address, 127.0.0.1 by default; port 0 takes a free one) or
 * "unix:PATH" (made mode 0600, only root and kvmrun's uid served). One
 * debugger at a time; a detach or a dropped connection removes every
 * breakpoint and lets the guest run. wait: no vCPU runs until gdb
 * continues (KVMRUN_HOLD_GDB is set now). Before kvmrun_vm_start() and
 * kvmrun_vm_confine() (the socket is made here). 0 with *out set, or
 * -errno naming spec.
 */
int kvmrun_gdb_start(struct kvmrun_vm *vm, const char *spec, int wait,
                     struct kvmrun_gdb **out);

/* Where the stub listens ("tcp:127.0.0.1:1234", "unix:PATH"). */
const char *kvmrun_gdb_where(const struct kvmrun_gdb *gdb);

/* Ends the stub's thread and connection (after the VM ended, or before
 * it started), removes its Unix socket. NULL ok. */
void kvmrun_gdb_stop(struct kvmrun_gdb *gdb);

/* Describes vm's debugger into buf ("listening on WHERE", "attached on
 * WHERE", or "none"): 1 while gdb is attached, 0 while the stub waits for
 * one, -1 without a stub. */
int kvmrun_vm_debugger(struct kvmrun_vm *vm, char *buf, size_t len);

/* What a confined process does on a system call its filters do not allow. */
enum kvmrun_seccomp_action {
    KVMRUN_SECCOMP_TRAP,  /* SIGSYS to the calling thread, si_syscall = the
                             call's number (no handler: the process dies) */
    KVMRUN_SECCOMP_KILL,  /* the whole process is killed by SIGSYS */
    KVMRUN_SECCOMP_EPERM, /* the call fails with EPERM */
};

/*
 * Confines the process with seccomp filters once the VM is built (guest
 * loaded or restored) and before kvmrun_vm_start(): every thread, now and
 * later, may then make only the system calls a running VM needs (KVM
 * ioctls by request number, I/O on its fds, snapshot files, the control
 * socket, signals, futex, memory, clocks); each vCPU thread stacks a
 * narrower filter of its own. Creating another VM is then impossible. A
 * thread that wants SIGSYS reports must keep SIGSYS unblocked (the vCPU
 * threads do). The filters were compiled at build time: only the action
 * and the process's pid are written in. Returns 0, -EBUSY (already
 * started or confined), -EINVAL (unknown action) or -errno from loading
 * the filter (-ESRCH: a thread could not take it), with
 * kvmrun_last_error() saying which.
 */
int kvmrun_vm_confine(struct kvmrun_vm *vm, enum kvmrun_seccomp_action action);

/* The name of x86_64 system call nr ("socket"), or NULL. Async-signal-safe
 * (a table compiled in at build time): for SIGSYS handlers. */
const char *kvmrun_syscall_name(long nr);

/* Name of a KVM_EXIT_* reason ("IO", "HLT", ...), or "UNKNOWN". */
const char *kvmrun_exit_name(uint32_t reason);

#ifdef __cplusplus
}
#endif

#endif
