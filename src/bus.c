/* bus.c: port-I/O and MMIO range buses: register, refuse overlaps, dispatch. */
#include "bus.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

void bus_init(struct bus *bus, const char *kind, bus_report_fn report,
              void *opaque)
{
    memset(bus, 0, sizeof(*bus));
    bus->kind = kind;
    bus->report = report;
    bus->report_opaque = opaque;
    pthread_mutex_init(&bus->seen_lock, NULL);
}

void bus_fini(struct bus *bus)
{
    free(bus->ranges);
    pthread_mutex_destroy(&bus->seen_lock);
    bus->ranges = NULL;
    bus->nranges = 0;
}

/* Index of the first range whose end is above addr. */
static unsigned bus_lower_bound(const struct bus *bus, uint64_t addr)
{
    unsigned lo = 0, hi = bus->nranges;

    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        const struct bus_range *r = &bus->ranges[mid];

        if (r->base + (r->len - 1) < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len, const char *name,
                 bus_fn fn, void *dev)
{
    if (len == 0 || base + (len - 1) < base)
        return err_set(EINVAL,
                       "%s: %s range 0x%" PRIx64 "+0x%" PRIx64
                       " is empty or wraps",
                       name, bus->kind, base, len);
    unsigned i = bus_lower_bound(bus, base);
    if (i < bus->nranges && bus->ranges[i].base <= base + (len - 1))
        return err_set(EEXIST,
                       "%s: %s range 0x%" PRIx64 "-0x%" PRIx64
                       " overlaps %s at 0x%" PRIx64 "-0x%" PRIx64,
                       name, bus->kind, base, base + (len - 1),
                       bus->ranges[i].name, bus->ranges[i].base,
                       bus->ranges[i].base + (bus->ranges[i].len - 1));
    struct bus_range *r = realloc(bus->ranges, (bus->nranges + 1) * sizeof(*r));
    if (!r)
        return err_set(ENOMEM, "%s: out of memory", name);
    memmove(&r[i + 1], &r[i], (bus->nranges - i) * sizeof(*r));
    r[i] = (struct bus_range){base, len, name, fn, dev};
    bus->ranges = r;
    bus->nranges++;
    return 0;
}

const struct bus_range *bus_find(const struct bus *bus, uint64_t addr)
{
    unsigned i = bus_lower_bound(bus, addr);

    if (i < bus->nranges && bus->ranges[i].base <= addr)
        return &bus->ranges[i];
    return NULL;
}

/* True the first time addr is seen; says when the table overflows. */
static bool bus_first_sighting(struct bus *bus, uint64_t addr, bool *full)
{
    bool first = true;

    *full = false;
    pthread_mutex_lock(&bus->seen_lock);
    for (unsigned i = 0; i < bus->nseen && first; i++)
        first = bus->seen[i] != addr;
    if (first && bus->nseen < BUS_SEEN_SLOTS) {
        bus->seen[bus->nseen++] = addr;
    } else if (first) {
        first = false;
        *full = !bus->seen_full;
        bus->seen_full = true;
    }
    pthread_mutex_unlock(&bus->seen_lock);
    return first;
}

static void bus_report_unclaimed(struct bus *bus, uint64_t addr, unsigned size,
                                 bool write, unsigned vcpu)
{
    char line[160];
    bool full;

    if (bus_first_sighting(bus, addr, &full)) {
        snprintf(line, sizeof(line),
                 "vcpu%u: unclaimed %s 0x%" PRIx64 " %s (%u byte%s): "
                 "ignored%s",
                 vcpu, bus->kind, addr, write ? "write" : "read", size,
                 size == 1 ? "" : "s", write ? "" : ", reads as all ones");
        bus->report(bus->report_opaque, line);
    } else if (full) {
        snprintf(line, sizeof(line),
                 "more than %d unclaimed %s addresses: "
                 "no longer reporting them",
                 BUS_SEEN_SLOTS, bus->kind);
        bus->report(bus->report_opaque, line);
    }
}

bool bus_dispatch(struct bus *bus, uint64_t addr, uint8_t *data, unsigned size,
                  bool write, unsigned vcpu)
{
    const struct bus_range *r = bus_find(bus, addr);

    if (!r) {
        if (!write)
            memset(data, 0xff, size);
        bus_report_unclaimed(bus, addr, size, write, vcpu);
        return false;
    }
    struct bus_access a = {addr - r->base, data, size, write, vcpu};
    r->fn(r->dev, &a);
    return true;
}
