/* ctl.c: kvmrun ctl: sends one request to a control socket, shows the reply. */
#include "ctl.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A reply may be long (stats of many vCPUs); snapshots may be slow. */
#define CTL_REPLY_MAX (64u << 20)
#define CTL_REPLY_TIMEOUT_MS 120000

static const char ctl_usage[] =
    "Usage: kvmrun ctl [--json] SOCKET COMMAND [ARG]\n"
    "Send one request to the control socket of a kvmrun started with "
    "--api SOCKET.\n"
    "\n"
    "Commands:\n"
    "  status          state (created, running, paused, ended), vCPUs, "
    "memory, uptime\n"
    "  pause           pause every vCPU (an error if already paused)\n"
    "  resume          resume a paused VM (an error if running)\n"
    "  stop            end the VM: kvmrun exits with status 0\n"
    "  stats           per-vCPU exits by reason, kicks, time paused, and "
    "the\n"
    "                  kernel's counters (KVM_GET_STATS_FD) for the VM and "
    "each vCPU\n"
    "  regs [N]        vCPU N's registers (default 0); only while paused\n"
    "  snapshot FILE   save the VM to FILE (relative to this directory)\n"
    "Other command names are sent as they are, with no argument.\n"
    "\n"
    "  --json          print the reply line as it came\n"
    "\n"
    "Exit status: 0 the reply was ok; 1 it was an error (printed on "
    "stderr);\n"
    "2 bad usage, or no reply (socket unreachable, closed, 120 s "
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

/* The request for COMMAND [ARG] as a line, or NULL after a message. */
static char *ctl_request(const char *cmd, const char *arg)
{
    cJSON *o = cJSON_CreateObject();
    char cwd[PATH_MAX], path[PATH_MAX * 2], *end, *text;

    cJSON_AddStringToObject(o, "cmd", cmd);
    if (strcmp(cmd, "regs") == 0) {
        unsigned long n = arg ? strtoul(arg, &end, 10) : 0;

        if (arg && (!arg[0] || *end || n > 4096 || arg[0] == '-')) {
            cJSON_Delete(o);
            ctl_fail("regs: '%s' is not a vCPU index", arg);
            return NULL;
        }
        cJSON_AddNumberToObject(o, "vcpu", (double)n);
    } else if (strcmp(cmd, "snapshot") == 0) {
        if (!arg || !arg[0]) {
            cJSON_Delete(o);
            ctl_fail("snapshot needs a FILE");
            return NULL;
        }
        /* The server's working directory is not ours. */
        if (arg[0] != '/' && getcwd(cwd, sizeof(cwd)))
            snprintf(path, sizeof(path), "%s/%s", cwd, arg);
        else
            snprintf(path, sizeof(path), "%s", arg);
        cJSON_AddStringToObject(o, "path", path);
    } else if (arg) {
        cJSON_Delete(o);
        ctl_fail("%s takes no argument (got '%s')", cmd, arg);
        return NULL;
    }
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

static int ctl_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        ctl_fail("%s: path too long for a socket", path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        ctl_fail("%s: %s", path, strerror(errno));
        if (fd >= 0)
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
        if (poll(&pfd, 1, CTL_REPLY_TIMEOUT_MS) == 0) {
            ctl_fail("%s: no reply within %d s", path,
                     CTL_REPLY_TIMEOUT_MS / 1000);
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

static double ctl_num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *ctl_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) ? v->valuestring : "?";
}

static void ctl_show_status(const cJSON *r)
{
    const cJSON *s,
        *states = cJSON_GetObjectItemCaseSensitive(r, "vcpu_states");
    double mem = ctl_num(r, "memory");

    printf("state: %s\nvcpus: %.0f (", ctl_str(r, "state"),
           ctl_num(r, "vcpus"));
    cJSON_ArrayForEach(s, states)
        printf("%s%s", s == states->child ? "" : ", ",
               cJSON_IsString(s) ? s->valuestring : "?");
    printf(")\nmemory: %.0f bytes (%.0f MiB)\nuptime: %.3f s\n", mem,
           mem / (1 << 20), ctl_num(r, "uptime"));
}

/* "kernel" counters, indented, one a line; or why there are none. */
static void ctl_show_kernel(const cJSON *o, const char *indent)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kernel"), *c, *b;

    if (!cJSON_IsObject(k)) {
        printf("%skernel counters: none (%s)\n", indent,
               ctl_str(o, "kernel_error"));
        return;
    }
    printf("%skernel counters:\n", indent);
    cJSON_ArrayForEach(c, k)
    {
        if (cJSON_IsNumber(c)) {
            printf("%s  %s %.0f\n", indent, c->string, c->valuedouble);
            continue;
        }
        printf("%s  %s [", indent, c->string);
        cJSON_ArrayForEach(b, c)
            printf("%s%.0f", b == c->child ? "" : " ", b->valuedouble);
        printf("]\n");
    }
}

static void ctl_show_vcpu_stats(const cJSON *v)
{
    const cJSON *exits = cJSON_GetObjectItemCaseSensitive(v, "exits"), *e;
    double total = 0;

    cJSON_ArrayForEach(e, exits) total += e->valuedouble;
    printf("vcpu%.0f: %s, %.0f exits (", ctl_num(v, "vcpu"),
           ctl_str(v, "state"), total);
    cJSON_ArrayForEach(e, exits) printf(
        "%s%s %.0f", e == exits->child ? "" : ", ", e->string, e->valuedouble);
    printf("%s), %.0f KVM_RUN -EINTR, kicks %.0f sent / %.0f acknowledged "
           "/ %.0f re-sent, paused %.0f times for %.3f s\n",
           total ? "" : "none", ctl_num(v, "eintr"), ctl_num(v, "kicks_sent"),
           ctl_num(v, "kicks_acked"), ctl_num(v, "rekicks"),
           ctl_num(v, "pauses"), ctl_num(v, "paused_ns") / 1e9);
    ctl_show_kernel(v, "  ");
}

static void ctl_show_stats(const cJSON *r)
{
    const cJSON *v;

    printf("vm: %s\n", ctl_str(r, "state"));
    ctl_show_kernel(r, "  ");
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(r, "vcpus"))
        ctl_show_vcpu_stats(v);
}

static void ctl_show_regs(const cJSON *r)
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
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(r, segs[i]);

        printf("  %s: selector=%s base=%s limit=%s\n", segs[i],
               ctl_str(s, "selector"), ctl_str(s, "base"), ctl_str(s, "limit"));
    }
}

/* An ok reply, readably. */
static void ctl_show(const char *cmd, const cJSON *r, const char *line)
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
    else if (strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0 ||
             strcmp(cmd, "stop") == 0)
        printf("%s (took %.0f us)\n",
               strcmp(cmd, "stop") == 0 ? "stopped" : ctl_str(r, "state"),
               ctl_num(r, "took_us"));
    else
        printf("%s\n", line);
}

/* Shows the reply line; returns the exit status it means. */
static int ctl_reply(const char *cmd, const char *line, bool json)
{
    cJSON *r = cJSON_Parse(line);
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(r, "ok");
    int status;

    if (!cJSON_IsObject(r)) {
        cJSON_Delete(r);
        return ctl_fail("the reply is not a JSON object: %.200s", line);
    }
    status = cJSON_IsTrue(ok) ? CTL_STATUS_OK : CTL_STATUS_ERROR;
    if (json)
        printf("%s\n", line);
    else if (status == CTL_STATUS_OK)
        ctl_show(cmd, r, line);
    else
        fprintf(stderr, "kvmrun ctl: %s\n", ctl_str(r, "error"));
    cJSON_Delete(r);
    return status;
}

int ctl_main(int argc, char **argv)
{
    bool json = false;
    int i = 1, fd, status;
    char *request, *reply;

    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
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
        return ctl_fail("usage: kvmrun ctl [--json] SOCKET COMMAND [ARG] "
                        "(see kvmrun ctl --help)");
    if (!(request =
              ctl_request(argv[i + 1], argc - i == 3 ? argv[i + 2] : NULL)))
        return CTL_STATUS_FAIL;
    if ((fd = ctl_connect(argv[i])) < 0 || ctl_send(fd, argv[i], request) < 0 ||
        !(reply = ctl_receive(fd, argv[i]))) {
        if (fd >= 0)
            close(fd);
        free(request);
        return CTL_STATUS_FAIL;
    }
    status = ctl_reply(argv[i + 1], reply, json);
    close(fd);
    free(reply);
    free(request);
    fflush(stdout);
    return status;
}
