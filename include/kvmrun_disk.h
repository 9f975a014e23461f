/* kvmrun_disk.h: a virtio-blk disk as a user names it (--disk), for the
 * CLI and libkvmrun. Part of the public API; kept apart from kvmrun.h
 * until the machine takes disks (struct kvmrun_config). */
#ifndef KVMRUN_DISK_H
#define KVMRUN_DISK_H

/* The virtio-blk serial (GET_ID): at most 20 bytes, not NUL-terminated
 * on the wire when it has 20. */
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

#endif
