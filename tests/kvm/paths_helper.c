/*
 * paths_helper.c: what the path, socket and signal tests need besides a
 * shell (the test VM has busybox only):
 *
 *   paths_helper listen PATH [full]   a Unix socket server that never
 *       accepts (listen backlog 0; "full": one connection queued, so the
 *       next connect() finds the backlog full); prints "ready", then
 *       waits to be killed (at most 60 s)
 *   paths_helper as-nobody CMD ARG...   runs CMD as uid/gid 65534
 *   paths_helper clients PATH N HOLD   connects N clients at once (each
 *       without waiting), sends each a status request, prints one line
 *       per client ("N ok", "N error CODE MESSAGE", "N closed", "N no
 *       reply", "N not connected: ERROR") within 5 s, then "done", and
 *       keeps the connections open HOLD more seconds
 *   paths_helper signal-at PATH SIG CMD ARG...   runs CMD under ptrace
 *       and sends it SIG (TERM, INT, HUP) when it opens PATH: a start
 *       made as slow as wanted, at a known step. Fails if CMD then goes
 *       on with its start (a thread, a socket, seccomp); else prints how
 *       CMD ended ("exit N" or "signal N")
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define FAIL(...)                                                              \
    do {                                                                       \
        fprintf(stderr, "paths_helper: " __VA_ARGS__);                         \
        fputc('\n', stderr);                                                   \
        exit(1);                                                               \
    } while (0)

static struct sockaddr_un unix_addr(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    if (strlen(path) >= sizeof(sa.sun_path))
        FAIL("%s: path too long", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    return sa;
}

static int cmd_listen(int argc, char **argv)
{
    struct sockaddr_un sa;
    int fd, queued;

    if (argc < 3)
        FAIL("usage: listen PATH [full]");
    sa = unix_addr(argv[2]);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(fd, 0) < 0)
        FAIL("%s: %s", argv[2], strerror(errno));
    /* Backlog 0 takes one connection: the next waits, or gets EAGAIN. */
    if (argc > 3 && strcmp(argv[3], "full") == 0) {
        queued = socket(AF_UNIX, SOCK_STREAM, 0);
        if (queued < 0 || connect(queued, (struct sockaddr *)&sa, sizeof(sa)))
            FAIL("connect %s: %s", argv[2], strerror(errno));
    }
    printf("ready\n");
    fflush(stdout);
    alarm(60);
    for (;;)
        pause();
}

static int cmd_as_nobody(int argc, char **argv)
{
    if (argc < 3)
        FAIL("usage: as-nobody CMD ARG...");
    if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
        FAIL("cannot become uid 65534: %s", strerror(errno));
    execv(argv[2], argv + 2);
    FAIL("%s: %s", argv[2], strerror(errno));
}

struct client {
    int fd;
    size_t len;
    char buf[4096];
    const char *result; /* NULL: still waiting */
    char line[512];
};

static void client_connect(struct client *c, const struct sockaddr_un *sa)
{
    static const char req[] = "{\"cmd\":\"status\"}\n";

    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0 || connect(c->fd, (const struct sockaddr *)sa, sizeof(*sa))) {
        snprintf(c->line, sizeof(c->line), "not connected: %s",
                 strerror(errno));
        c->result = c->line;
        return;
    }
    /* A refused client may be answered and closed before this send
     * (EPIPE): its reply is still there to read. */
    if (send(c->fd, req, sizeof(req) - 1, MSG_NOSIGNAL) < 0)
        errno = 0;
}

/* The reply line's verdict: "ok" or "error CODE MESSAGE". */
static void client_verdict(struct client *c, char *nl)
{
    json_t *r;

    *nl = 0;
    r = json_loads(c->buf, 0, NULL);
    if (json_is_true(json_object_get(r, "ok")))
        snprintf(c->line, sizeof(c->line), "ok");
    else
        snprintf(c->line, sizeof(c->line), "error %lld %s",
                 (long long)json_integer_value(json_object_get(r, "code")),
                 json_string_value(json_object_get(r, "error"))
                     ? json_string_value(json_object_get(r, "error"))
                     : c->buf);
    json_decref(r);
    c->result = c->line;
}

static void client_read(struct client *c)
{
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
    char *nl;

    if (n < 0 && errno == EAGAIN)
        return;
    if (n <= 0) {
        c->result = "closed";
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = 0;
    if ((nl = strchr(c->buf, '\n')))
        client_verdict(c, nl);
    else if (c->len == sizeof(c->buf) - 1)
        c->result = "reply too long";
}

static int cmd_clients(int argc, char **argv)
{
    struct sockaddr_un sa;
    struct client *cl;
    int n, waiting;

    if (argc != 5 || (n = atoi(argv[3])) < 1)
        FAIL("usage: clients PATH N HOLD");
    sa = unix_addr(argv[2]);
    if (!(cl = calloc((size_t)n, sizeof(*cl))))
        FAIL("out of memory");
    for (int i = 0; i < n; i++)
        client_connect(&cl[i], &sa);
    for (int t = 0; t < 50; t++) { /* 5 s in all */
        waiting = 0;
        for (int i = 0; i < n; i++) {
            struct pollfd pfd = {.fd = cl[i].fd, .events = POLLIN};

            if (cl[i].result)
                continue;
            waiting++;
            if (poll(&pfd, 1, 0) == 1)
                client_read(&cl[i]);
        }
        if (!waiting)
            break;
        usleep(100000);
    }
    for (int i = 0; i < n; i++)
        printf("%d %s\n", i, cl[i].result ? cl[i].result : "no reply");
    printf("done\n");
    fflush(stdout);
    sleep((unsigned)atoi(argv[4]));
    return 0;
}

/* The NUL-terminated string at addr in process pid (up to len - 1). */
static void peek_string(pid_t pid, unsigned long addr, char *buf, size_t len)
{
    char mem[64];
    ssize_t n;
    int fd;

    snprintf(mem, sizeof(mem), "/proc/%d/mem", (int)pid);
    fd = open(mem, O_RDONLY);
    n = fd < 0 ? -1 : pread(fd, buf, len - 1, (off_t)addr);
    buf[n > 0 ? n : 0] = 0;
    if (fd >= 0)
        close(fd);
}

/* At a system call's entry: 1 once it opens path. */
static int opens(pid_t pid, const struct user_regs_struct *r, const char *path)
{
    char name[4096];

    if (r->orig_rax == SYS_openat)
        peek_string(pid, r->rsi, name, sizeof(name));
    else if (r->orig_rax == SYS_open)
        peek_string(pid, r->rdi, name, sizeof(name));
    else
        return 0;
    return strcmp(name, path) == 0;
}

/* System calls past the start's slow steps: a start that went on. */
static const char *went_on(unsigned long long nr)
{
    switch (nr) {
    case SYS_clone:
    case SYS_clone3:
        return "a thread (clone)";
    case SYS_socket:
    case SYS_bind:
        return "a socket";
    case SYS_seccomp:
        return "seccomp";
    default:
        return NULL;
    }
}

static int parse_signal(const char *name)
{
    if (strcmp(name, "TERM") == 0)
        return SIGTERM;
    if (strcmp(name, "INT") == 0)
        return SIGINT;
    if (strcmp(name, "HUP") == 0)
        return SIGHUP;
    FAIL("%s: TERM, INT or HUP", name);
}

/* Follows the tracee from one stop to the next; returns at its end. */
static int trace(pid_t pid, const char *path, int sig)
{
    int status, inject = 0, entry = 0, sent = 0;
    struct user_regs_struct r;
    const char *what;

    for (;;) {
        if (ptrace(PTRACE_SYSCALL, pid, 0, inject) < 0)
            FAIL("PTRACE_SYSCALL: %s", strerror(errno));
        inject = 0;
        if (waitpid(pid, &status, 0) != pid)
            FAIL("waitpid: %s", strerror(errno));
        if (WIFEXITED(status) || WIFSIGNALED(status))
            break;
        if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
            inject = WSTOPSIG(status); /* a signal: deliver it */
            continue;
        }
        if (!(entry = !entry) || ptrace(PTRACE_GETREGS, pid, 0, &r) < 0)
            continue;
        if (!sent && opens(pid, &r, path)) {
            kill(pid, sig); /* pending until this open returns */
            sent = 1;
        } else if (sent && (what = went_on(r.orig_rax))) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            FAIL("after SIG%s at the open of %s, the start went on: %s",
                 sigabbrev_np(sig), path, what);
        }
    }
    if (!sent)
        FAIL("%s was never opened", path);
    if (WIFEXITED(status))
        printf("exit %d\n", WEXITSTATUS(status));
    else
        printf("signal %d\n", WTERMSIG(status));
    return 0;
}

static int cmd_signal_at(int argc, char **argv)
{
    int sig, status;
    pid_t pid;

    if (argc < 5)
        FAIL("usage: signal-at PATH SIG CMD ARG...");
    sig = parse_signal(argv[3]);
    alarm(30); /* a hang ends the helper, and PTRACE_O_EXITKILL the CMD */
    if ((pid = fork()) < 0)
        FAIL("fork: %s", strerror(errno));
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        execv(argv[4], argv + 4);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
        FAIL("%s did not start under ptrace", argv[4]);
    if (ptrace(PTRACE_SETOPTIONS, pid, 0,
               PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) < 0)
        FAIL("PTRACE_SETOPTIONS: %s", strerror(errno));
    return trace(pid, argv[2], sig);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "listen") == 0)
        return cmd_listen(argc, argv);
    if (argc > 1 && strcmp(argv[1], "as-nobody") == 0)
        return cmd_as_nobody(argc, argv);
    if (argc > 1 && strcmp(argv[1], "clients") == 0)
        return cmd_clients(argc, argv);
    if (argc > 1 && strcmp(argv[1], "signal-at") == 0)
        return cmd_signal_at(argc, argv);
    FAIL("usage: listen | as-nobody | clients | signal-at (see the source)");
}
