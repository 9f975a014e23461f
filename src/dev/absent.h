/* absent.h: port ranges where a PC may have a device and kvmrun has none. */
#ifndef KVMRUN_ABSENT_H
#define KVMRUN_ABSENT_H

#include "bus.h"
#include "dev/dev.h"

/* Each range is 8 ports: PCI configuration mechanism #1 (0xcf8 address,
 * 0xcfc data) and the second to fourth serial ports, all of which Linux
 * probes at boot. */
#define ABSENT_NPORTS 8

/* Bus handler: reads give all ones (a floating ISA bus), writes are
 * ignored, and nothing is reported: unlike an unclaimed port, a probe
 * here is what a guest is expected to do. */
void absent_io(void *dev, const struct bus_access *access);

/* The device: no state; one table line per range, each named. */
extern const struct dev_desc absent_dev;

#endif
