/* pc.c: the PC machine kvmrun builds: its devices and where they sit. */
#include "arch/x86/pc.h"

#include "dev/absent.h"
#include "dev/acpi_sleep.h"
#include "dev/debug_exit.h"
#include "dev/fw_cfg.h"
#include "dev/i8042.h"
#include "dev/poweroff.h"
#include "dev/rtc.h"
#include "dev/serial.h"
#include "machine.h"
#include "virtio/blk_dev.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/console.h"
#include "virtio/vsock.h"

#ifdef KVMRUN_TEST_DUMMY_DEVICE
/* A test-only device (tests/devices/dummy.c): tests/kvm/dummy_device. */
extern const struct dev_desc dummy_dev;
#endif

/* One line per device (or per instance group of a repeated one):
 * created, saved and restored in this order, torn down in reverse. */
const struct machine_line machine_table[] = {
    {&serial_dev, PC_COM1_PORT, PC_COM1_IRQ, NULL},
    {&debug_exit_dev, PC_DEBUG_EXIT_PORT, 0, NULL},
    {&poweroff_dev, PC_PM1A_CNT_PORT, 0, NULL},
    {&fw_cfg_dev, PC_FW_CFG_PORT, 0, NULL},
    {&acpi_sleep_dev, PC_ACPI_SLEEP_PORT, 0, NULL},
    {&rtc_dev, PC_RTC_PORT, 0, NULL},
    {&i8042_dev, PC_I8042_PORT, 0, NULL},
    {&absent_dev, PC_PCI_CONFIG_PORT, 0, "no PCI"},
    {&absent_dev, PC_COM2_PORT, 0, "no COM2"},
    {&absent_dev, PC_COM3_PORT, 0, "no COM3"},
    {&absent_dev, PC_COM4_PORT, 0, "no COM4"},
    /* virtio-mmio devices: an MMIO slot each, in this order (docs/virtio.md).
     */
    {&virtio_blk_dev, 0, 0, NULL},
    {&virtio_rng_dev, 0, 0, NULL},
    {&vcon_desc, 0, 0, NULL},
    {&virtio_net_dev, 0, 0, NULL},
    {&virtio_vsock_dev, 0, 0, NULL},
#ifdef KVMRUN_TEST_DUMMY_DEVICE
    {&dummy_dev, 0, 0, NULL},
#endif
};

const unsigned machine_table_len =
    sizeof(machine_table) / sizeof(machine_table[0]);

const struct machine_slots machine_slots = {
    PC_MMIO_SLOT_BASE,
    PC_MMIO_SLOT_SIZE,
    PC_MMIO_SLOTS,
    PC_MMIO_SLOT_GSI,
};
