/*
 * api_protocol.c: the control socket's protocol on a running VM: every
 * error is a reply on a connection that stays usable (malformed JSON, not
 * an object, unknown command, bad argument, wrong state, oversized line),
 * pipelined requests, two clients interleaving, a client that vanishes
 * mid-reply, too many clients, a refused uid, and where the socket lives.
 *
 * usage: api_protocol
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kvmtest.h"

struct client {
    int fd;
    size_t len;
    char buf[1 << 20];
};

static char sock_path[108];

static int connect_to(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        FAILF("connect %s: %s", path, strerror(errno));
    return fd;
}

static struct client *client_new(void)
{
    struct client *c = calloc(1, sizeof(*c));

    if (!c)
        FAILF("out of memory");
    c->fd = connect_to(sock_path);
    return c;
}

static void client_free(struct client *c)
{
    close(c->fd);
    free(c);
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

        if (n < 0)
            FAILF("send: %s", strerror(errno));
        data += n;
        len -= (size_t)n;
    }
}

/* The next reply line, parsed; NULL at end of file. Fails after 10 s. */
static json_t *next_reply(struct client *c)
{
    char *nl;

    while (!(nl = memchr(c->buf, '\n', c->len))) {
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        ssize_t n;

        if (poll(&pfd, 1, 10000) != 1)
            FAILF("no reply within 10 s");
        n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
        if (n < 0)
            FAILF("recv: %s", strerror(errno));
        if (n == 0)
            return NULL;
        c->len += (size_t)n;
    }
    *nl = 0;
    json_t *r = json_loads(c->buf, 0, NULL);
    if (!json_is_object(r))
        FAILF("reply is not a JSON object: %s", c->buf);
    c->len -= (size_t)(nl + 1 - c->buf);
    memmove(c->buf, nl + 1, c->len);
    return r;
}

static json_t *ask(struct client *c, const char *request)
{
    json_t *r;

    send_all(c->fd, request, strlen(request));
    send_all(c->fd, "\n", 1);
    if (!(r = next_reply(c)))
        FAILF("%s: connection closed instead of a reply", request);
    return r;
}

static const char *str(const json_t *r, const char *name)
{
    const char *s = json_string_value(json_object_get(r, name));

    return s ? s : "";
}

/* r is ok (and has state, if given); frees r. */
static void expect_ok(json_t *r, const char *what, const char *state)
{
    char *text = json_dumps(r, JSON_COMPACT);

    if (!json_is_true(json_object_get(r, "ok")))
        FAILF("%s: not ok: %s", what, text);
    if (state && strcmp(str(r, "state"), state) != 0)
        FAILF("%s: state is not %s: %s", what, state, text);
    free(text);
    json_decref(r);
}

/* r is an error reply with code and a message containing says. */
static void expect_error(json_t *r, const char *what, int code,
                         const char *says)
{
    const json_t *c = json_object_get(r, "code");
    char *text = json_dumps(r, JSON_COMPACT);

    if (!json_is_false(json_object_get(r, "ok")) || !json_is_integer(c) ||
        json_integer_value(c) != code || !strstr(str(r, "error"), says))
        FAILF("%s: want error %d saying \"%s\", got %s", what, code, says,
              text);
    free(text);
    json_decref(r);
}

static void test_errors(struct client *c)
{
    expect_error(ask(c, "not json"), "garbage", EBADMSG, "malformed JSON");
    expect_error(ask(c, "{\"cmd\":"), "cut", EBADMSG, "malformed JSON");
    expect_error(ask(c, "[\"status\"]"), "array", EBADMSG, "one JSON object");
    expect_error(ask(c, "{\"cmd\":\"dance\"}"), "unknown", EOPNOTSUPP,
                 "unknown command \"dance\"");
    expect_error(ask(c, "{\"cmd\":\"status\",\"x\":1}"), "extra", EINVAL,
                 "unknown argument");
    expect_error(ask(c, "{\"cmd\":\"regs\",\"vcpu\":-1}"), "vcpu -1", EINVAL,
                 "vCPU index");
    expect_error(ask(c, "{\"cmd\":\"regs\",\"vcpu\":9}"), "vcpu 9", EINVAL,
                 "no vcpu 9 (the VM has 2)");
    expect_error(ask(c, "{\"cmd\":\"regs\",\"vcpu\":0}"), "regs running", EBUSY,
                 "regs: the VM is running, not paused");
    expect_ok(ask(c, "{\"cmd\":\"resume\"}"), "resume running", "running");
    expect_error(ask(c, "{\"cmd\":\"snapshot\"}"), "snapshot no path", EINVAL,
                 "missing argument \"path\"");
    expect_error(ask(c, "{\"cmd\":\"snapshot\",\"path\":\"x\"}"),
                 "snapshot relative", EINVAL, "must be absolute");
    expect_ok(ask(c, "{\"cmd\":\"status\"}"), "status after errors", "running");
    printf("api_protocol: every error is a reply; the connection goes on\n");
}

/* A line of exactly len bytes before its newline: status, padded. */
static char *padded_status(size_t len)
{
    char *line = malloc(len + 1);

    if (!line)
        FAILF("out of memory");
    memset(line, ' ', len);
    memcpy(line, "{\"cmd\":\"status\"}", 16);
    line[len] = 0;
    return line;
}

static void test_long_lines(struct client *c)
{
    char *line = padded_status(KVMRUN_CONTROL_MAX_LINE - 1);

    expect_ok(ask(c, line), "longest line", "running");
    free(line);
    line = padded_status(KVMRUN_CONTROL_MAX_LINE);
    expect_error(ask(c, line), "line one byte too long", EMSGSIZE,
                 "longer than 65536 bytes");
    free(line);
    line = padded_status(5 * KVMRUN_CONTROL_MAX_LINE + 7);
    expect_error(ask(c, line), "much too long", EMSGSIZE, "longer than");
    free(line);
    expect_ok(ask(c, "{\"cmd\":\"status\"}"), "status after long lines",
              "running");
    printf("api_protocol: lines of %d bytes with the newline pass, longer ones "
           "get an error\n",
           KVMRUN_CONTROL_MAX_LINE);
}

static void test_pipelined(struct client *c)
{
    static const char three[] = "{\"cmd\":\"status\"}\r\n\n"
                                "{\"cmd\":\"bogus\"}\n{\"cmd\":\"stats\"}\n";

    send_all(c->fd, three, sizeof(three) - 1);
    expect_ok(next_reply(c), "pipelined status", "running");
    expect_error(next_reply(c), "pipelined bogus", EOPNOTSUPP, "bogus");
    expect_ok(next_reply(c), "pipelined stats", "running");
}

/* Two clients drive one VM in turn; each sees the other's effect. */
static void test_two_clients(struct client *a, struct client *b)
{
    expect_ok(ask(a, "{\"cmd\":\"pause\"}"), "a pause", "paused");
    expect_ok(ask(b, "{\"cmd\":\"status\"}"), "b status", "paused");
    expect_ok(ask(b, "{\"cmd\":\"pause\"}"), "b pause (idempotent)", "paused");
    expect_ok(ask(a, "{\"cmd\":\"regs\",\"vcpu\":1}"), "a regs", NULL);
    expect_ok(ask(b, "{\"cmd\":\"regs\",\"vcpu\":0}"), "b regs", NULL);
    expect_ok(ask(b, "{\"cmd\":\"resume\"}"), "b resume", "running");
    expect_ok(ask(a, "{\"cmd\":\"resume\"}"), "a resume (idempotent)",
              "running");
    expect_ok(ask(a, "{\"cmd\":\"status\"}"), "a status", "running");
    printf("api_protocol: two clients interleave\n");
}

/* Many stats requests, no reading, a tiny receive buffer, then close:
 * the server's sends fail mid-reply. */
/* Many stats requests, no reading, then close: the server's sends fail
 * mid-reply (EAGAIN first: the replies outgrow the socket's buffer, then
 * EPIPE or ECONNRESET). */
static void test_vanishing_client(struct kvmrun_vm *vm, struct client *a)
{
    static const char req[] = "{\"cmd\":\"stats\"}\n";
    const size_t n = 400, len = sizeof(req) - 1;
    struct client *v = client_new();
    char *burst = malloc(n * len);

    if (!burst)
        FAILF("out of memory");
    for (size_t i = 0; i < n; i++)
        memcpy(burst + len * i, req, len);
    send_all(v->fd, burst, n * len);
    free(burst);
    /* One reply read whole: the requests were good ones. */
    expect_ok(next_reply(v), "the vanishing client's first stats", NULL);
    usleep(200000); /* let the server fill the socket and wait */
    client_free(v);
    expect_ok(ask(a, "{\"cmd\":\"status\"}"), "status after a vanished client",
              "running");
    if (kvmrun_vm_paused(vm))
        FAILF("the VM is paused after a client vanished");
    struct client *c = client_new();
    expect_ok(ask(c, "{\"cmd\":\"stats\"}"), "a new client's stats", NULL);
    client_free(c);
    printf("api_protocol: a client gone mid-reply disturbs nothing\n");
}

static void test_too_many(struct client **held, unsigned nheld)
{
    struct client *extra[KVMRUN_CONTROL_MAX_CLIENTS];
    unsigned n = KVMRUN_CONTROL_MAX_CLIENTS - nheld;
    json_t *r;

    for (unsigned i = 0; i < n; i++) {
        extra[i] = client_new();
        expect_ok(ask(extra[i], "{\"cmd\":\"status\"}"), "one more", NULL);
    }
    struct client *over = client_new();
    r = next_reply(over);
    if (!r)
        FAILF("client %d: closed without a reply",
              KVMRUN_CONTROL_MAX_CLIENTS + 1);
    expect_error(r, "one too many", EUSERS, "too many clients (at most 8");
    if (next_reply(over))
        FAILF("the refused client was not closed");
    client_free(over);
    for (unsigned i = 0; i < n; i++)
        client_free(extra[i]);
    expect_ok(ask(held[0], "{\"cmd\":\"status\"}"), "status after too many",
              NULL);
    (void)held;
    printf("api_protocol: client %d gets an error, then EOF\n",
           KVMRUN_CONTROL_MAX_CLIENTS + 1);
}

/* As root: a child turned uid 65534 connects (the socket made
 * world-writable for it, past the file mode) and gets EACCES. */
static void test_peer_uid(const char *dir)
{
    pid_t pid;
    int st;

    if (geteuid() != 0) {
        printf("api_protocol: not root: the uid refusal is not tested\n");
        return;
    }
    if (chmod(dir, 0711) < 0 || chmod(sock_path, 0666) < 0)
        FAILF("chmod: %s", strerror(errno));
    if ((pid = fork()) == 0) {
        if (setgid(65534) < 0 || setuid(65534) < 0)
            FAILF("setuid: %s", strerror(errno));
        struct client *c = client_new();
        json_t *r = next_reply(c);

        if (!r)
            FAILF("uid 65534: closed without a reply");
        expect_error(r, "uid 65534", EACCES, "permission denied");
        if (next_reply(c))
            FAILF("uid 65534: not closed after the refusal");
        _exit(0);
    }
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
        WEXITSTATUS(st) != 0)
        FAILF("the uid 65534 child failed");
    chmod(sock_path, 0600);
    printf("api_protocol: uid 65534 is refused with a reply\n");
}

static void test_half_close(void)
{
    struct client *c = client_new();

    send_all(c->fd, "{\"cmd\":\"status\"}\n", 17);
    shutdown(c->fd, SHUT_WR);
    expect_ok(next_reply(c), "status, then EOF", NULL);
    if (next_reply(c))
        FAILF("more than one reply after a half-close");
    client_free(c);
}

static void test_stop(struct kvmrun_vm *vm, struct client *a)
{
    struct kvmrun_outcome out;

    expect_ok(ask(a, "{\"cmd\":\"stop\"}"), "stop", "ended");
    CHECK(kvmrun_vm_wait(vm, &out));
    if (out.end != KVMRUN_END_STOPPED || out.code != KVMRUN_STOP_CONTROL)
        FAILF("stop: outcome %d code %#llx", (int)out.end,
              (unsigned long long)out.code);
    expect_ok(ask(a, "{\"cmd\":\"status\"}"), "status ended", "ended");
    expect_error(ask(a, "{\"cmd\":\"pause\"}"), "pause ended", EBUSY,
                 "pause: the VM is ended, not running or paused");
    expect_error(ask(a, "{\"cmd\":\"stop\"}"), "stop ended", EBUSY, "ended");
    printf("api_protocol: stop ends the VM; later requests get errors\n");
}

/* Where the socket may be created, and how. */
static void test_paths(struct kvmrun_vm *vm, const char *dir)
{
    struct kvmrun_control *c2;
    char path[96];
    struct stat st;
    int fd;

    if (stat(sock_path, &st) < 0 || !S_ISSOCK(st.st_mode) ||
        (st.st_mode & 0777) != 0600)
        FAILF("%s is not a socket of mode 0600", sock_path);
    if (kvmrun_control_start(vm, sock_path, &c2) != -EADDRINUSE)
        FAILF("a served socket was taken over: %s", kvmrun_last_error());
    snprintf(path, sizeof(path), "%s/file", dir);
    fd = open(path, O_CREAT | O_WRONLY, 0600);
    close(fd);
    if (kvmrun_control_start(vm, path, &c2) != -EEXIST ||
        !strstr(kvmrun_last_error(), "exists and is not a socket"))
        FAILF("a regular file was not refused: %s", kvmrun_last_error());
    unlink(path);
    /* A stale socket: bound, then its server gone. */
    snprintf(path, sizeof(path), "%s/stale", dir);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        FAILF("bind: %s", strerror(errno));
    close(fd);
    CHECK(kvmrun_control_start(vm, path, &c2));
    kvmrun_control_stop(c2);
    if (access(path, F_OK) == 0)
        FAILF("kvmrun_control_stop left %s", path);
    printf("api_protocol: 0600; live sockets and files refused, stale "
           "ones replaced\n");
}

int main(void)
{
    char dir[] = "/tmp/kvmrun-api.XXXXXX";
    struct kvmrun_control *ctl;
    struct kvmrun_vm *vm;
    struct client *a, *b;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!mkdtemp(dir))
        FAILF("mkdtemp: %s", strerror(errno));
    snprintf(sock_path, sizeof(sock_path), "%s/vm.sock", dir);
    vm = test_vm("busy", 2, 10);
    CHECK(kvmrun_control_start(vm, sock_path, &ctl));
    CHECK(kvmrun_vm_start(vm));
    a = client_new();
    b = client_new();
    test_paths(vm, dir);
    test_errors(a);
    test_long_lines(a);
    test_pipelined(b);
    test_two_clients(a, b);
    test_vanishing_client(vm, a);
    test_too_many((struct client *[]){a, b}, 2);
    test_peer_uid(dir);
    test_half_close();
    test_stop(vm, a);
    client_free(a);
    client_free(b);
    kvmrun_control_stop(ctl);
    if (access(sock_path, F_OK) == 0)
        FAILF("kvmrun_control_stop left %s", sock_path);
    kvmrun_vm_destroy(vm);
    rmdir(dir);
    return 0;
}
