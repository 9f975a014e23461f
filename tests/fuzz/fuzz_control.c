/* fuzz_control.c: libFuzzer target feeding arbitrary lines to ctl_parse(). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "kvmrun.h"

static void fail(const char *what, const char *msg)
{
    fprintf(stderr, "%s: \"%s\"\n", what, msg);
    abort();
}

/* A refusal: one of the parser's codes, explained on one line. */
static void check_refusal(int r)
{
    const char *msg = kvmrun_last_error();

    if (r != -CTL_E_MALFORMED && r != -CTL_E_INVALID && r != -CTL_E_UNKNOWN)
        fail("unexpected code", msg);
    if (!msg[0] || strchr(msg, '\n'))
        fail("bad error message", msg);
}

/* A success: a known command with valid arguments. */
static void check_request(const struct ctl_request *req)
{
    if (strcmp(ctl_cmd_name(req->cmd), "?") == 0)
        fail("unknown command accepted", "");
    if (req->cmd == CTL_REGS && req->vcpu > 4096)
        fail("vcpu out of range accepted", "");
    if (req->cmd == CTL_SNAPSHOT &&
        (req->path[0] != '/' || !memchr(req->path, 0, sizeof(req->path))))
        fail("bad snapshot path accepted", req->path);
    if (req->cmd != CTL_SNAPSHOT && req->path[0])
        fail("path set for another command", req->path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ctl_request req;
    int r;

    /* The server never hands over more than one line's worth. */
    if (size > KVMRUN_CONTROL_MAX_LINE)
        return 0;
    r = ctl_parse((const char *)data, size, &req);
    if (r < 0)
        check_refusal(r);
    else if (r == 0)
        check_request(&req);
    else
        fail("positive result", kvmrun_last_error());
    return 0;
}
