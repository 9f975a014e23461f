/* error.h: per-thread error text for library calls that return -errno. */
#ifndef KVMRUN_ERROR_H
#define KVMRUN_ERROR_H

/* Records a message for kvmrun_last_error() and returns -err (err > 0). */
int err_set(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Same, appending ": strerror(err)" to the message. */
int err_errno(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Puts "<prefix>: " (formatted from fmt) before the last error's message,
 * for a caller that adds what the callee could not know (a vCPU, a
 * file). Returns r, the callee's -errno, so that it reads
 * `return err_prefix(r, "vcpu%u", i);`. */
int err_prefix(int r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
