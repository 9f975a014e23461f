/* log.c: lines for a human: the VM's log function, and what a guest can
 * make kvmrun say, rate-limited. */
#include "log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "clock.h"
#include "vm.h"

void log_stderr(void *opaque, enum kvmrun_log_level level, const char *line)
{
    char buf[1024];
    int n;

    (void)opaque;
    (void)level;
    n = snprintf(buf, sizeof(buf), "kvmrun: %s\n", line);
    if (n > (int)sizeof(buf) - 1)
        n = (int)sizeof(buf) - 1;
    if (n > 0 && write(STDERR_FILENO, buf, (size_t)n) < 0)
        return; /* nowhere left to report to */
}

static void log_vline(const struct kvmrun_vm *vm, enum kvmrun_log_level level,
                      const char *fmt, va_list ap)
{
    char line[512];

    vsnprintf(line, sizeof(line), fmt, ap);
    vm->cfg.log(vm->cfg.log_opaque, level, line);
}

void log_line(const struct kvmrun_vm *vm, enum kvmrun_log_level level,
              const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vline(vm, level, fmt, ap);
    va_end(ap);
}

void kvmrun_vm_log(const struct kvmrun_vm *vm, enum kvmrun_log_level level,
                   const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vline(vm, level, fmt, ap);
    va_end(ap);
}

void log_guest_init(struct kvmrun_vm *vm)
{
    ratelimit_init(&vm->reports, LOG_GUEST_INTERVAL_MS, LOG_GUEST_BURST);
}

static void log_guest_missed(struct kvmrun_vm *vm, uint64_t missed)
{
    log_line(vm, KVMRUN_LOG_WARN,
             "%" PRIu64 " more report%s caused by the guest suppressed (at "
             "most %u every %u s)",
             missed, missed == 1 ? "" : "s", LOG_GUEST_BURST,
             LOG_GUEST_INTERVAL_MS / 1000);
}

void log_guest(struct kvmrun_vm *vm, const char *line)
{
    uint64_t missed;
    bool ok = ratelimit_allow(&vm->reports, clock_now_ns(), &missed);

    if (missed)
        log_guest_missed(vm, missed);
    if (ok)
        log_line(vm, KVMRUN_LOG_WARN, "%s", line);
}

void log_guest_fini(struct kvmrun_vm *vm)
{
    uint64_t missed = ratelimit_take_missed(&vm->reports);

    if (missed)
        log_guest_missed(vm, missed);
    ratelimit_fini(&vm->reports);
}
