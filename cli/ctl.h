/* ctl.h: kvmrun ctl, the control socket's command-line client. */
#ifndef KVMRUN_CLI_CTL_H
#define KVMRUN_CLI_CTL_H

/* Exit statuses of kvmrun ctl. */
enum {
    CTL_STATUS_OK = 0,    /* the reply was {"ok": true, ...} */
    CTL_STATUS_ERROR = 1, /* the reply was an error (printed on stderr) */
    CTL_STATUS_FAIL = 2,  /* bad usage, or no reply: socket unreachable,
                             connection closed, timeout, not JSON */
};

/* argv[0] is "ctl". Returns the exit status. */
int ctl_main(int argc, char **argv);

#endif
