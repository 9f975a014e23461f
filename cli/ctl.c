/* ctl.c: kvmrun ctl: sends one request to a control socket, shows the reply. */
#include "ctl.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

/* A reply may be long (stats of many vCPUs); snapshots may be slow. */
#define CTL_REPLY_MAX (64u << 20)
#define CTL_TIMEOUT_S 120 /* default: connecting, sending, the reply */
#define CTL_TIMEOUT_MAX_S 86400

/* --timeout=SECONDS, in ms: how long a connection, a send and the reply
 * may each take. */
static int ctl_timeout_ms = CTL_TIMEOUT_S * 1000;

static const char ctl_usage[] =
    "Usage: kvmrun ctl [--json] [--timeout=SECONDS] SOCKET COMMAND [ARG]\n"
    "Send one request to the control socket of a kvmrun started with "
    "--api SOCKET.\n"
    "\n"
    "Commands:\n"
    "  status          state (created, running, paused, ended), vCPUs, "
    "memory, uptime\n"
    "  pause           pause every vCPU (nothing to do if paused)\n"
    "  resume          resume a paused VM (nothing to do if running)\n"
    "  stop            end the VM: kvmrun exits with status 0\n"
    "  stats           per-vCPU exits by reason, kicks, time paused, and "
    "the\n"
    "                  kernel's counters (KVM_GET_STATS_FD) for the VM and "
    "each vCPU\n"
    "  regs [N]        vCPU N's registers (default 0); a running VM is "
    "paused for\n"
    "                  the read and resumed (so a pause someone else asks "
    "for in\n"
    "                  that moment is undone), and the output says so\n"
    "  snapshot FILE   save the VM to FILE (relative to this directory)\n"
    "Other command names are sent as they are, with no argument.\n"
    "\n"
    "  --json          print the reply line as it came\n"
    "  --timeout=S     give up after S seconds (default 120): on the "
    "connection (a\n"
    "                  socket that does not accept), the request or the "
    "reply\n"
    "\n"
    "Exit status: 0 the reply was ok; 1 it was an error (printed on "
    "stderr);\n"
    "2 bad usage, or no reply (socket unreachable, closed, or the "
    "timeout).\n";

static int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int ctl_fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "kvmrun ctl: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CTL_STATUS_FAIL;
}

/* Sets a string member: 0, or -1 after a message (jansson takes only
 * UTF-8). */
static int ctl_set_str(json_t *o, const char *name, const char *value)
{
    json_t *v = json_string(value);

    if (!v) {
        ctl_fail("'%s' is not valid UTF-8", value);
        return -1;
    }
    return json_object_set_new(o, name, v);
}

/* regs [N]: vCPU N, 0 by default. */
static int ctl_set_vcpu(json_t *o, const char *arg)
{
    char *end;
    unsigned long n = arg ? strtoul(arg, &end, 10) : 0;

    if (arg && (!arg[0] || *end || n > 4096 || arg[0] == '-')) {
        ctl_fail("regs: '%s' is not a vCPU index", arg);
        return -1;
    }
    return json_object_set_new(o, "vcpu", json_integer((json_int_t)n));
}

/* snapshot FILE: made absolute, the server's working directory is not
 * ours. */
static int ctl_set_path(json_t *o, const char *arg)
{
    char cwd[PATH_MAX], path[PATH_MAX * 2];

    if (!arg || !arg[0]) {
        ctl_fail("snapshot needs a FILE");
        return -1;
    }
    if (arg[0] != '/' && getcwd(cwd, sizeof(cwd)))
        snprintf(path, sizeof(path), "%s/%s", cwd, arg);
    else
        snprintf(path, sizeof(path), "%s", arg);
    return ctl_set_str(o, "path", path);
}

/* The request for COMMAND [ARG] as a line, or NULL after a message. */
static char *ctl_request(const char *cmd, const char *arg)
{
    json_t *o = json_object();
    char *text = NULL;
    int r = o ? ctl_set_str(o, "cmd", cmd) : -1;

    if (r == 0 && strcmp(cmd, "regs") == 0)
        r = ctl_set_vcpu(o, arg);
    else if (r == 0 && strcmp(cmd, "snapshot") == 0)
        r = ctl_set_path(o, arg);
    else if (r == 0 && arg) {
        ctl_fail("%s takes no argument (got '%s')", cmd, arg);
        r = -1;
    }
    if (!o || (r == 0 && !(text = json_dumps(o, JSON_COMPACT))))
        ctl_fail("out of memory");
    json_decref(o);
    return text;
}

static int ctl_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct timeval tv = {ctl_timeout_ms / 1000, 0};
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        ctl_fail("%s: path too long for a socket", path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        ctl_fail("%s: socket: %s", path, strerror(errno));
        return -1;
    }
    /* A listener whose backlog is full makes connect() (and a send() to
     * a full socket) wait: for the timeout at most, then EAGAIN. */
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (errno == EAGAIN)
            ctl_fail("%s: not accepting connections: no room in %d s (a "
                     "kvmrun that no longer serves its socket?)",
                     path, ctl_timeout_ms / 1000);
        else
            ctl_fail("%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int ctl_send(int fd, const char *path, const char *text)
{
    size_t len = strlen(text), done = 0;

    while (done <= len) {
        /* The text, then its newline. */
        const char *p = done < len ? text + done : "\n";
        size_t n = done < len ? len - done : 1;
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            return ctl_fail("%s: sending: no room in %d s", path,
                            ctl_timeout_ms / 1000);
        if (w < 0)
            return ctl_fail("%s: sending: %s", path, strerror(errno));
        done += (size_t)w;
    }
    return 0;
}

/* Reads up to the first newline: the reply line (malloc'd), or NULL. */
static char *ctl_receive(int fd, const char *path)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap), *nl = NULL;

    while (buf && !nl) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        ssize_t n;

        if (len + 1 >= cap) {
            char *bigger = cap < CTL_REPLY_MAX ? realloc(buf, cap * 2) : NULL;

            if (!bigger) {
                ctl_fail("%s: reply too long", path);
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        if (poll(&pfd, 1, ctl_timeout_ms) == 0) {
            ctl_fail("%s: no reply within %d s", path, ctl_timeout_ms / 1000);
            break;
        }
        n = recv(fd, buf + len, cap - len - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ctl_fail("%s: connection closed before a reply%s", path,
                     n < 0 ? " (error)" : "");
            break;
        }
        nl = memchr(buf + len, '\n', (size_t)n);
        len += (size_t)n;
    }
    if (!nl) {
        free(buf);
        return NULL;
    }
    *nl = 0;
    return buf;
}

/* Sends one request line and reads its reply line (malloc'd), or NULL
 * after a message. */
static char *ctl_exchange(int fd, const char *path, const char *request)
{
    if (ctl_send(fd, path, request) < 0)
        return NULL;
    return ctl_receive(fd, path);
}

/* The reply line as a JSON object, or NULL after a message. */
static json_t *ctl_parse(const char *line)
{
    json_t *r = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);

    if (json_is_object(r))
        return r;
    json_decref(r);
    ctl_fail("the reply is not a JSON object: %.200s", line);
    return NULL;
}

static double ctl_num(const json_t *o, const char *name)
{
    return json_number_value(json_object_get(o, name)); /* 0 if none */
}

static const char *ctl_str(const json_t *o, const char *name)
{
    const char *s = json_string_value(json_object_get(o, name));

    return s ? s : "?";
}

static void ctl_show_status(const json_t *r)
{
    const json_t *s, *states = json_object_get(r, "vcpu_states");
    double mem = ctl_num(r, "memory");
    size_t i;

    printf("state: %s\nvcpus: %.0f (", ctl_str(r, "state"),
           ctl_num(r, "vcpus"));
    json_array_foreach(states, i, s)
        printf("%s%s", i == 0 ? "" : ", ",
               json_is_string(s) ? json_string_value(s) : "?");
    printf(")\nmemory: %.0f bytes (%.0f MiB)\nuptime: %.3f s\n", mem,
           mem / (1 << 20), ctl_num(r, "uptime"));
    if (json_object_get(r, "debugger")) /* --gdb */
        printf("gdb: %s\n", ctl_str(r, "debugger"));
}

/* "kernel" counters, indented, one a line; or why there are none. */
static void ctl_show_kernel(const json_t *o, const char *indent)
{
    json_t *k = json_object_get(o, "kernel"), *c, *b;
    const char *name;
    size_t i;

    if (!json_is_object(k)) {
        printf("%skernel counters: none (%s)\n", indent,
               ctl_str(o, "kernel_error"));
        return;
    }
    printf("%skernel counters:\n", indent);
    json_object_foreach(k, name, c)
    {
        if (json_is_number(c)) {
            printf("%s  %s %.0f\n", indent, name, json_number_value(c));
            continue;
        }
        printf("%s  %s [", indent, name);
        json_array_foreach(c, i, b)
            printf("%s%.0f", i == 0 ? "" : " ", json_number_value(b));
        printf("]\n");
    }
}

static void ctl_show_vcpu_stats(const json_t *v)
{
    json_t *exits = json_object_get(v, "exits"), *e;
    const char *name, *sep = "";
    double total = 0;

    json_object_foreach(exits, name, e) total += json_number_value(e);
    printf("vcpu%.0f: %s, %.0f exits (", ctl_num(v, "vcpu"),
           ctl_str(v, "state"), total);
    json_object_foreach(exits, name, e)
    {
        printf("%s%s %.0f", sep, name, json_number_value(e));
        sep = ", ";
    }
    printf("%s), %.0f KVM_RUN -EINTR, kicks %.0f sent / %.0f acknowledged "
           "/ %.0f re-sent, paused %.0f times for %.3f s\n",
           total ? "" : "none", ctl_num(v, "eintr"), ctl_num(v, "kicks_sent"),
           ctl_num(v, "kicks_acked"), ctl_num(v, "rekicks"),
           ctl_num(v, "pauses"), ctl_num(v, "paused_ns") / 1e9);
    ctl_show_kernel(v, "  ");
}

static void ctl_show_stats(const json_t *r)
{
    const json_t *v;
    size_t i;

    printf("vm: %s\n", ctl_str(r, "state"));
    ctl_show_kernel(r, "  ");
    json_array_foreach(json_object_get(r, "vcpus"), i, v)
        ctl_show_vcpu_stats(v);
}

static void ctl_show_regs(const json_t *r)
{
    static const char *const lines[][4] = {
        {"rax", "rbx", "rcx", "rdx"}, {"rsi", "rdi", "rsp", "rbp"},
        {"r8", "r9", "r10", "r11"},   {"r12", "r13", "r14", "r15"},
        {"cr0", "cr2", "cr3", "cr4"},
    };
    static const char *const segs[] = {"cs", "ds", "es", "fs", "gs", "ss"};

    printf("vcpu%.0f: rip=%s rflags=%s efer=%s\n", ctl_num(r, "vcpu"),
           ctl_str(r, "rip"), ctl_str(r, "rflags"), ctl_str(r, "efer"));
    for (unsigned i = 0; i < sizeof(lines) / sizeof(*lines); i++)
        printf("  %s=%s %s=%s %s=%s %s=%s\n", lines[i][0],
               ctl_str(r, lines[i][0]), lines[i][1], ctl_str(r, lines[i][1]),
               lines[i][2], ctl_str(r, lines[i][2]), lines[i][3],
               ctl_str(r, lines[i][3]));
    for (unsigned i = 0; i < sizeof(segs) / sizeof(*segs); i++) {
        const json_t *s = json_object_get(r, segs[i]);

        printf("  %s: selector=%s base=%s limit=%s\n", segs[i],
               ctl_str(s, "selector"), ctl_str(s, "base"), ctl_str(s, "limit"));
    }
}

/* pause, resume: the state now; when the request was superseded (a
 * later one, or another hold, changed the target first), say so and who
 * holds the VM paused. */
static void ctl_show_pause(const json_t *r)
{
    const json_t *h, *held = json_object_get(r, "held_by");
    size_t i;

    printf("%s (took %.0f us", ctl_str(r, "state"), ctl_num(r, "took_us"));
    if (json_is_true(json_object_get(r, "superseded"))) {
        printf("; superseded");
        json_array_foreach(held, i, h)
            printf("%s%s", i == 0 ? ", held by " : ", ",
                   json_is_string(h) ? json_string_value(h) : "?");
    }
    printf(")\n");
}

/* An ok reply, readably. */
static void ctl_show(const char *cmd, const json_t *r, const char *line)
{
    if (strcmp(cmd, "status") == 0)
        ctl_show_status(r);
    else if (strcmp(cmd, "stats") == 0)
        ctl_show_stats(r);
    else if (strcmp(cmd, "regs") == 0)
        ctl_show_regs(r);
    else if (strcmp(cmd, "snapshot") == 0)
        printf("saved %s (the VM is %s)\n", ctl_str(r, "path"),
               ctl_str(r, "state"));
    else if (strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0)
        ctl_show_pause(r);
    else if (strcmp(cmd, "stop") == 0)
        printf("stopped (took %.0f us)\n", ctl_num(r, "took_us"));
    else
        printf("%s\n", line);
}

/* Shows the reply line; returns the exit status it means. Anything after
 * the reply's object is ignored. */
static int ctl_reply(const char *cmd, const char *line, bool json)
{
    json_t *r = ctl_parse(line);
    int status;

    if (!r)
        return CTL_STATUS_FAIL;
    status = json_is_true(json_object_get(r, "ok")) ? CTL_STATUS_OK
                                                    : CTL_STATUS_ERROR;
    if (json)
        printf("%s\n", line);
    else if (status == CTL_STATUS_OK)
        ctl_show(cmd, r, line);
    else
        fprintf(stderr, "kvmrun ctl: %s\n", ctl_str(r, "error"));
    json_decref(r);
    return status;
}

/* The "state" of a status reply, "" if none (malloc'd, or NULL after a
 * message). */
static char *ctl_state(int fd, const char *path)
{
    char *line = ctl_exchange(fd, path, "{\"cmd\":\"status\"}");
    json_t *r = line ? ctl_parse(line) : NULL;
    char *state =
        r ? strdup(json_is_true(json_object_get(r, "ok")) ? ctl_str(r, "state")
                                                          : "")
          : NULL;

    json_decref(r);
    free(line);
    return state;
}

/* Sends pause or resume: 0 when ok, else -1 after a message. */
static int ctl_hold(int fd, const char *path, const char *cmd)
{
    char request[32], *line;
    json_t *r;
    int ok;

    snprintf(request, sizeof(request), "{\"cmd\":\"%s\"}", cmd);
    if (!(line = ctl_exchange(fd, path, request)))
        return -1;
    r = ctl_parse(line);
    ok = r && json_is_true(json_object_get(r, "ok"));
    if (r && !ok)
        ctl_fail("regs: %s: %s", cmd, ctl_str(r, "error"));
    json_decref(r);
    free(line);
    return ok ? 0 : -1;
}

/*
 * regs on a running VM, as QEMU's "info registers": pause, read, resume
 * (the server reads registers only while paused: a running vCPU's are
 * stale at once). The reply says so: "paused_for_read": true in --json,
 * a line after the registers otherwise. A pause someone else asks for
 * between ours and our resume is undone by the resume.
 */
static int ctl_regs_running(int fd, const char *path, const char *request,
                            bool json)
{
    char *line, *text = NULL;
    bool resumed;
    json_t *r;
    int status;

    if (ctl_hold(fd, path, "pause") < 0)
        return CTL_STATUS_ERROR;
    line = ctl_exchange(fd, path, request);
    resumed = ctl_hold(fd, path, "resume") == 0; /* whatever the read gave */
    if (!line || !(r = ctl_parse(line))) {
        free(line);
        return CTL_STATUS_FAIL;
    }
    if (json_is_true(json_object_get(r, "ok")))
        json_object_set_new(r, "paused_for_read", json_true());
    if (!(text = json_dumps(r, JSON_COMPACT)))
        status = ctl_fail("out of memory");
    else
        status = ctl_reply("regs", text, json);
    if (status == CTL_STATUS_OK && !json)
        printf("(the VM was running: paused for this read, then resumed)\n");
    if (status == CTL_STATUS_OK && !resumed)
        status = CTL_STATUS_ERROR; /* the registers, and why it still is */
    free(text);
    json_decref(r);
    free(line);
    return status;
}

/* Sends the request; regs that the server refuses because the VM is
 * running is done again between a pause and a resume. */
static int ctl_run(int fd, const char *path, const char *cmd,
                   const char *request, bool json)
{
    char *reply = ctl_exchange(fd, path, request), *state = NULL;
    json_t *r = NULL;
    int status;

    if (!reply)
        return CTL_STATUS_FAIL;
    if (strcmp(cmd, "regs") == 0 && (r = ctl_parse(reply)) &&
        !json_is_true(json_object_get(r, "ok")) &&
        ctl_num(r, "code") == EBUSY && (state = ctl_state(fd, path)) &&
        strcmp(state, "running") == 0)
        status = ctl_regs_running(fd, path, request, json);
    else
        status = ctl_reply(cmd, reply, json);
    json_decref(r);
    free(state);
    free(reply);
    return status;
}

int ctl_main(int argc, char **argv)
{
    bool json = false;
    int i = 1, fd, status;
    char *request;

    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strncmp(argv[i], "--timeout=", 10) == 0) {
            char *end;
            long t = strtol(argv[i] + 10, &end, 10);

            if (end == argv[i] + 10 || *end || t < 1 || t > CTL_TIMEOUT_MAX_S)
                return ctl_fail("--timeout: '%s' is not a number of seconds "
                                "from 1 to %d",
                                argv[i] + 10, CTL_TIMEOUT_MAX_S);
            ctl_timeout_ms = (int)t * 1000;
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0) {
            fputs(ctl_usage, stdout);
            return CTL_STATUS_OK;
        } else {
            return ctl_fail("unknown option '%s' (see kvmrun ctl --help)",
                            argv[i]);
        }
    }
    if (argc - i < 2 || argc - i > 3)
        return ctl_fail("usage: kvmrun ctl [--json] [--timeout=SECONDS] "
                        "SOCKET COMMAND [ARG] "
                        "(see kvmrun ctl --help)");
    if (!(request =
              ctl_request(argv[i + 1], argc - i == 3 ? argv[i + 2] : NULL)))
        return CTL_STATUS_FAIL;
    if ((fd = ctl_connect(argv[i])) < 0) {
        free(request);
        return CTL_STATUS_FAIL;
    }
    status = ctl_run(fd, argv[i], argv[i + 1], request, json);
    close(fd);
    free(request);
    fflush(stdout);
    return status;
}
