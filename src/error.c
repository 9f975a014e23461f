/* error.c: per-thread error text for library calls that return -errno. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kvmrun.h"

static __thread char last_error[512];

static int err_vset(int err, int with_errno, const char *fmt, va_list ap)
{
    int n = vsnprintf(last_error, sizeof(last_error), fmt, ap);

    if (with_errno && n >= 0 && (size_t)n < sizeof(last_error))
        snprintf(last_error + n, sizeof(last_error) - n, ": %s", strerror(err));
    return -err;
}

int err_set(int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    err_vset(err, 0, fmt, ap);
    va_end(ap);
    return -err;
}

int kvmrun_set_error(int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    err_vset(err, 0, fmt, ap);
    va_end(ap);
    return -err;
}

int err_errno(int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    err_vset(err, 1, fmt, ap);
    va_end(ap);
    return -err;
}

int err_prefix(int r, const char *fmt, ...)
{
    char prefix[256], msg[sizeof(last_error)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(msg, last_error, sizeof(msg));
    /* Cut at the buffer's end, as every message is. */
    if (snprintf(last_error, sizeof(last_error), "%s: %s", prefix, msg) < 0)
        last_error[0] = 0;
    return r;
}

const char *kvmrun_last_error(void)
{
    return last_error;
}
