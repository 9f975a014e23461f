/* dev.h: a device: its descriptor, and what it may ask of the machine. */
#ifndef KVMRUN_DEV_H
#define KVMRUN_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvmrun.h"
#include "bus.h"

struct guest_mem;

/*
 * A device's only way out, never KVM itself: end the VM (power-off, debug
 * exit), report a line, set an interrupt line's level, or have KVM signal
 * and take eventfds (irqfd, ioeventfd) so that a data path needs no exit.
 * Devices call end, report and log without holding their own lock; irq
 * may be called with it held (it only sets a level in the in-kernel
 * irqchip and takes no lock of ours), so that levels reach the irqchip
 * in the order the device changed them.
 */
struct dev_env {
    void (*end)(void *machine, unsigned vcpu, enum kvmrun_end why,
                uint64_t code, const char *message);
    /* A line the guest caused: rate-limited with every other such line. */
    void (*report)(void *machine, const char *line);
    /* A line about the host's side (output dropped at exit): not
     * rate-limited, so for events that happen once. */
    void (*log)(void *machine, const char *line);
    void (*irq)(void *machine, unsigned line, int level);
    /* Binds (on) or unbinds eventfd fd to raise interrupt gsi, an edge,
     * each time it is written (KVM_IRQFD): 0 or -errno. */
    int (*irqfd)(void *machine, int fd, unsigned gsi, bool on);
    /* Binds (on) or unbinds eventfd fd to be written instead of an MMIO
     * exit by each guest write of len bytes at addr, of value datamatch
     * only when match (KVM_IOEVENTFD): 0 or -errno. */
    int (*ioeventfd)(void *machine, int fd, uint64_t addr, unsigned len,
                     bool match, uint64_t datamatch, bool on);
    void *machine;
};

/* What a device instance is given when it is created. */
struct dev_ctx {
    const struct dev_env *env;
    const struct kvmrun_config *cfg; /* the VM's (memory, vCPUs, fds) */
    const char *name;  /* "serial", or "<name>.<n>" for a repeated one */
    unsigned instance; /* 0 .. count - 1 */
    uint64_t base;     /* its port, or its MMIO slot's address */
    unsigned irq;      /* its interrupt line (an MMIO slot's GSI) */
    int thread_signal; /* a signal with a handler that interrupts a
                          blocked system call in its threads (0: none) */
    /* Guest RAM, for devices that reach it themselves (virtio's rings:
     * through mem_ptr() only). */
    const struct guest_mem *mem;
};

/* A range a device claims on a bus: offset and len from its base. */
struct dev_io {
    uint64_t offset, len; /* len 0 ends a list */
    bus_fn fn;
};

/* The machine's console, if a device offers one (the UART). */
struct dev_console {
    /* Takes bytes the user typed: how many fit now (offer the rest
     * again later). */
    size_t (*input)(void *dev, const uint8_t *buf, size_t len);
    /* Waits, bounded, until the output taken so far is written: 0, or
     * -ETIMEDOUT with the error set. */
    int (*flush)(void *dev);
    /* One line on its state: snprintf's count. */
    int (*describe)(void *dev, char *buf, size_t len);
};

/*
 * One kind of device (docs/devices.md). The machine allocates size bytes
 * (zeroed) for each instance and hands that pointer to every hook and
 * bus handler. Every hook but init may be NULL.
 */
struct dev_desc {
    const char *name;
    size_t size;
    /* How many instances the configuration asks for; NULL: one. Each of
     * a repeated device's is named "<name>.<n>". */
    unsigned (*count)(const struct kvmrun_config *cfg);
    const struct dev_io *pio;  /* port ranges from ctx->base, or NULL */
    const struct dev_io *mmio; /* MMIO ranges from ctx->base, or NULL */
    bool mmio_slot;            /* takes an MMIO slot: ctx->base and ctx->irq (a
                                  GSI) are allocated for it */
    /* Acquires what the device holds (locks, buffers, threads): 0 or
     * -errno with the error set, nothing left held. */
    int (*init)(void *dev, const struct dev_ctx *ctx);
    /* Puts the device in its power-on state (after init, before a load). */
    void (*reset)(void *dev);
    /* Flushes what the host is owed, ends its threads, frees. */
    void (*fini)(void *dev);
    /* The VM starts: raise what is owed (an interrupt after a load). */
    void (*start)(void *dev);
    /* The VM pauses (a user's pause, a snapshot): when quiesce returns
     * the device has no request in flight and changes nothing the guest
     * sees until resume. */
    void (*quiesce)(void *dev);
    void (*resume)(void *dev);
    /* Its snapshot section: snap_size bytes (0: none), of version
     * snap_version. save copies the state out; check refuses a section
     * the device cannot take (from a file: untrusted), writing why; load
     * takes a checked one, clamping what it must. */
    uint32_t snap_version;
    uint32_t snap_size;
    void (*save)(void *dev, void *state);
    int (*check)(const void *state, char *why, size_t len);
    void (*load)(void *dev, const void *state);
    const struct dev_console *console;
};

#endif
