/* absent.h: port ranges where a PC may have a device and kvmrun has none. */
#ifndef KVMRUN_ABSENT_H
#define KVMRUN_ABSENT_H

#include "bus.h"

/* PCI configuration mechanism #1 (0xcf8 address, 0xcfc data) and the
 * second to fourth serial ports: Linux probes them all at boot. */
#define ABSENT_PCI_PORT 0xcf8
#define ABSENT_PCI_NPORTS 8
#define ABSENT_COM2_PORT 0x2f8
#define ABSENT_COM3_PORT 0x3e8
#define ABSENT_COM4_PORT 0x2e8
#define ABSENT_COM_NPORTS 8

/* Bus handler: reads give all ones (a floating ISA bus), writes are
 * ignored, and nothing is reported: unlike an unclaimed port, a probe
 * here is what a guest is expected to do. */
void absent_io(void *dev, const struct bus_access *access);

#endif
