/* log.h: lines for a human: the VM's log function, and what a guest can
 * make kvmrun say, rate-limited. */
#ifndef KVMRUN_LOG_H
#define KVMRUN_LOG_H

#include "kvmrun.h"

struct kvmrun_vm;

/* The default log function: "kvmrun: <line>" on stderr. */
void log_stderr(void *opaque, enum kvmrun_log_level level, const char *line);

/* One line through the VM's log function. */
void log_line(const struct kvmrun_vm *vm, enum kvmrun_log_level level,
              const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * What a guest can make kvmrun say (device reports, unclaimed accesses,
 * interrupt line errors, dropped output) shares one budget per VM, as the
 * kernel's printk_ratelimit: at most LOG_GUEST_BURST lines every
 * LOG_GUEST_INTERVAL_MS, then one line counting those suppressed (when
 * the next interval starts, or at log_guest_fini()). A guest cannot
 * flood stderr. Safe from any thread.
 */
#define LOG_GUEST_BURST 10
#define LOG_GUEST_INTERVAL_MS 5000

void log_guest_init(struct kvmrun_vm *vm);
void log_guest(struct kvmrun_vm *vm, const char *line);
/* Says how many lines were suppressed and not yet told. */
void log_guest_fini(struct kvmrun_vm *vm);

#endif
