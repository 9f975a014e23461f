/* bus.h: port-I/O and MMIO range buses: register, refuse overlaps, dispatch. */
#ifndef KVMRUN_BUS_H
#define KVMRUN_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * One guest access to a device: offset is relative to the start of the
 * range the device registered, data holds size bytes (little-endian), read
 * into on a read, taken from on a write.
 */
struct bus_access {
    uint64_t offset;
    uint8_t *data;
    unsigned size;
    bool write;
    unsigned vcpu;
};

typedef void (*bus_fn)(void *dev, const struct bus_access *access);

struct bus_range {
    uint64_t base;
    uint64_t len;
    const char *name;
    bus_fn fn;
    void *dev;
};

/* Addresses already reported as unclaimed, so each is reported once. */
#define BUS_SEEN_SLOTS 256

typedef void (*bus_report_fn)(void *opaque, const char *line);

struct bus {
    const char *kind; /* "port" or "MMIO", for messages */
    struct bus_range *ranges; /* sorted by base, never overlapping */
    unsigned nranges;
    bus_report_fn report; /* where "unclaimed" lines go */
    void *report_opaque;
    pthread_mutex_t seen_lock; /* leaf lock: nothing is called under it */
    uint64_t seen[BUS_SEEN_SLOTS];
    unsigned nseen;
    bool seen_full;
};

void bus_init(struct bus *bus, const char *kind, bus_report_fn report,
              void *opaque);
void bus_fini(struct bus *bus);

/*
 * Adds [base, base + len) for a device. Ranges are registered before any
 * vCPU runs; lookups then need no lock. Returns 0, -EINVAL for an empty or
 * wrapping range, -EEXIST naming both devices when it overlaps another.
 */
int bus_register(struct bus *bus, uint64_t base, uint64_t len,
                 const char *name, bus_fn fn, void *dev);

/* The range holding addr, or NULL. */
const struct bus_range *bus_find(const struct bus *bus, uint64_t addr);

/*
 * Hands one access of size bytes at addr to the device that claims it.
 * Unclaimed accesses are reported once per address and ignored; reads of
 * them return all ones. Returns true when a device claimed it.
 */
bool bus_dispatch(struct bus *bus, uint64_t addr, uint8_t *data,
                  unsigned size, bool write, unsigned vcpu);

#endif
