/* control.h: the control socket's requests, parsed apart from any I/O. */
#ifndef KVMRUN_CONTROL_H
#define KVMRUN_CONTROL_H

#include <limits.h>
#include <stddef.h>

enum ctl_cmd {
    CTL_STATUS,
    CTL_PAUSE,
    CTL_RESUME,
    CTL_STOP,
    CTL_STATS,
    CTL_REGS,
    CTL_SNAPSHOT,
};

/* One validated request: what ctl_parse() makes of a line. */
struct ctl_request {
    enum ctl_cmd cmd;
    unsigned vcpu;       /* regs: the vCPU's index (not yet range-checked) */
    char path[PATH_MAX]; /* snapshot: an absolute path */
};

/*
 * Error codes of replies ({"error": ..., "code": N}): positive errno
 * values. The parser uses the first three; the server adds the others.
 */
#define CTL_E_MALFORMED 74  /* EBADMSG: not JSON, or not one object */
#define CTL_E_INVALID 22    /* EINVAL: missing or bad argument */
#define CTL_E_UNKNOWN 95    /* EOPNOTSUPP: unknown command */
#define CTL_E_STATE 16      /* EBUSY: wrong state for the command */
#define CTL_E_TOO_LONG 90   /* EMSGSIZE: request line too long */
#define CTL_E_TOO_MANY 87   /* EUSERS: too many clients */
#define CTL_E_PERMISSION 13 /* EACCES: the peer's uid is refused */

/*
 * Parses one request line (len bytes, no newline; need not end in a NUL)
 * into *req. Returns 0, or a negative CTL_E_* code (-ENOMEM if out of
 * memory) with kvmrun_last_error() giving a one-line reason.
 */
int ctl_parse(const char *line, size_t len, struct ctl_request *req);

/* A command's name ("status", ...). */
const char *ctl_cmd_name(enum ctl_cmd cmd);

#endif
