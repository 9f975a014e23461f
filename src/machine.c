/* machine.c: the devices of a VM and the environment they reach it through. */
#include "machine.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "kick.h"
#include "kvm_ioctl.h"
#include "log.h"
#include "runstate.h"
#include "thread.h"
#include "vm.h"

/* Device callbacks: the only way devices reach the machine. */
static void machine_end(void *machine, unsigned vcpu, enum kvmrun_end why,
                        uint64_t code, const char *message)
{
    runstate_end(machine, (int)vcpu, why, code, message, "");
}

static void machine_report(void *machine, const char *line)
{
    log_guest(machine, line);
}

/* A device's interrupt line, into the in-kernel PIC and IOAPIC. */
static void machine_irq(void *machine, unsigned line, int level)
{
    struct kvmrun_vm *vm = machine;
    struct kvm_irq_level irq = {.irq = line, .level = (uint32_t)level};
    char msg[64];

    /* Raw: reported as what the guest caused, keeping the caller's error. */
    if (vm->cfg.irqchip && KVM_IOCTL_RAW(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0) {
        snprintf(msg, sizeof(msg), "KVM_IRQ_LINE %u: %s", line,
                 strerror(errno));
        log_guest(vm, msg);
    }
}

/*
 * The UART's output buffer and its thread: the vCPU threads never write
 * to serial_fd themselves. The kick signal (its handler is a no-op
 * outside vCPU threads, without SA_RESTART) interrupts a write() that
 * blocks at teardown.
 */
static int machine_create_serial_out(struct kvmrun_vm *vm)
{
    const struct outbuf_client client = {serial_tx_room, &vm->serial,
                                         machine_report, vm};
    int intr = kick_setup() == 0 ? kick_signal() : 0;

    return outbuf_init(&vm->serial_out, "serial", vm->cfg.serial_fd,
                       OUTBUF_SIZE, SERIAL_FIFO, intr, &client);
}

static int machine_start_serial_out(struct kvmrun_vm *vm)
{
    int r;

    if (vm->cfg.serial_fd < 0)
        return 0; /* discarded: nothing to write */
    r = thread_create(&vm->serial_out.thread, outbuf_thread, &vm->serial_out);
    if (r != 0)
        return err_set(r, "cannot start the serial output thread: %s",
                       strerror(r));
    vm->serial_out.thread_live = true;
    return 0;
}

/* Ends the output thread; what it still held is dropped, and said so
 * (not rate-limited: one line, at the end). */
static void machine_destroy_serial_out(struct kvmrun_vm *vm)
{
    uint64_t dropped = outbuf_fini(&vm->serial_out);

    if (dropped)
        log_line(vm, KVMRUN_LOG_WARN,
                 "serial: %" PRIu64 " byte%s of the guest's output dropped "
                 "at exit: the reader %s",
                 dropped, dropped == 1 ? "" : "s", outbuf_why(&vm->serial_out));
}

static void machine_destroy_devices(struct kvmrun_vm *vm)
{
    machine_destroy_serial_out(vm); /* its thread calls into the UART */
    i8042_fini(&vm->i8042);
    rtc_fini(&vm->rtc);
    acpi_sleep_fini(&vm->acpi_sleep);
    fw_cfg_fini(&vm->fw_cfg);
    poweroff_fini(&vm->poweroff);
    serial_fini(&vm->serial);
    bus_fini(&vm->mmio);
    bus_fini(&vm->pio);
}

int machine_create(struct kvmrun_vm *vm)
{
    const struct dev_env env = {.end = machine_end,
                                .report = machine_report,
                                .irq = machine_irq,
                                .machine = vm};
    int r = 0;

    if ((r = machine_create_serial_out(vm)) < 0)
        return r;
    bus_init(&vm->pio, "port", machine_report, vm);
    bus_init(&vm->mmio, "MMIO", machine_report, vm);
    serial_init(&vm->serial, &vm->serial_out, KVMRUN_SERIAL_IRQ, &env);
    debug_exit_init(&vm->debug_exit, &env);
    poweroff_init(&vm->poweroff, &env);
    fw_cfg_init(&vm->fw_cfg, vm->cfg.mem_size, (uint16_t)vm->cfg.ncpus,
                (uint16_t)vm->cfg.ncpus);
    acpi_sleep_init(&vm->acpi_sleep, &env);
    rtc_init(&vm->rtc, &env);
    i8042_init(&vm->i8042, &env);
    const struct {
        uint64_t port, len;
        const char *name;
        bus_fn fn;
        void *dev;
    } pio[] = {
        {KVMRUN_SERIAL_PORT, SERIAL_NPORTS, "serial", serial_io, &vm->serial},
        {KVMRUN_DEBUG_EXIT_PORT, DEBUG_EXIT_NPORTS, "debug-exit", debug_exit_io,
         &vm->debug_exit},
        {KVMRUN_POWEROFF_PORT, POWEROFF_NPORTS, "poweroff", poweroff_io,
         &vm->poweroff},
        {FW_CFG_PORT, FW_CFG_NPORTS, "fw_cfg", fw_cfg_io, &vm->fw_cfg},
        {ACPI_SLEEP_PORT, ACPI_SLEEP_NPORTS, "acpi-sleep", acpi_sleep_io,
         &vm->acpi_sleep},
        {RTC_PORT, RTC_NPORTS, "rtc", rtc_io, &vm->rtc},
        {I8042_DATA_PORT, I8042_NPORTS, "i8042", i8042_data_io, &vm->i8042},
        {I8042_CMD_PORT, I8042_NPORTS, "i8042", i8042_cmd_io, &vm->i8042},
        {ABSENT_PCI_PORT, ABSENT_PCI_NPORTS, "no PCI", absent_io, NULL},
        {ABSENT_COM2_PORT, ABSENT_COM_NPORTS, "no COM2", absent_io, NULL},
        {ABSENT_COM3_PORT, ABSENT_COM_NPORTS, "no COM3", absent_io, NULL},
        {ABSENT_COM4_PORT, ABSENT_COM_NPORTS, "no COM4", absent_io, NULL},
    };

    for (size_t i = 0; i < sizeof(pio) / sizeof(pio[0]); i++) {
        r = bus_register(&vm->pio, pio[i].port, pio[i].len, pio[i].name,
                         pio[i].fn, pio[i].dev);
        if (r < 0)
            break;
    }
    if (r < 0 || (r = machine_start_serial_out(vm)) < 0) {
        machine_destroy_devices(vm);
        return r;
    }
    return 0;
}

void machine_start(struct kvmrun_vm *vm)
{
    serial_start(&vm->serial); /* after a restore: an interrupt it owes */
}

void machine_destroy(struct kvmrun_vm *vm)
{
    /* Bounded; what is left is dropped. Not again if a flush (the CLI's,
     * before its last words) gave up and the reader took nothing since. */
    if (!outbuf_stalled(&vm->serial_out))
        kvmrun_vm_flush_output(vm);
    machine_destroy_devices(vm);
}

int kvmrun_vm_flush_output(struct kvmrun_vm *vm)
{
    uint64_t held;

    if (outbuf_flush(&vm->serial_out, OUTBUF_FLUSH_STALL_MS,
                     OUTBUF_FLUSH_MAX_MS, &held) == 0)
        return 0;
    return err_set(ETIMEDOUT,
                   "serial: %" PRIu64 " byte%s of the guest's output not "
                   "written: the reader %s",
                   held, held == 1 ? "" : "s", outbuf_why(&vm->serial_out));
}

size_t kvmrun_serial_input(struct kvmrun_vm *vm, const void *buf, size_t len)
{
    return serial_receive(&vm->serial, buf, len);
}

int kvmrun_vm_describe_serial(struct kvmrun_vm *vm, char *buf, size_t len)
{
    return serial_describe(&vm->serial, buf, len);
}
