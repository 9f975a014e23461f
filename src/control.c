/* control.c: the control socket: JSON requests served by a thread. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "kvmrun.h"

/* How long pause, resume and stop may wait for the vCPUs. */
#define CTL_TIMEOUT_MS 5000
/* How long the listening socket rests after accept() failed with nothing
 * to make room with (see ctl_accept_failed). */
#define CTL_BACKOFF_MS 100
#define CTL_MAX KVMRUN_CONTROL_MAX_CLIENTS
#define CTL_LINE KVMRUN_CONTROL_MAX_LINE

struct ctl_client {
    int fd;          /* -1: a free slot */
    bool eof;        /* the peer shut its side: answer what is buffered */
    bool discarding; /* after an oversized line: drop up to its newline */
    char *in;        /* CTL_LINE bytes */
    size_t in_len;
    char *out; /* the reply being sent, or NULL */
    size_t out_len, out_off;
};

struct kvmrun_control {
    struct kvmrun_vm *vm;
    int listen_fd;
    int wake_fd;  /* eventfd: kvmrun_control_stop() ends the thread */
    int spare_fd; /* /dev/null, closed to make room at the fd limit */
    uint64_t listen_after_ns; /* accept() backs off until then */
    bool accept_warned;       /* its failure was logged (once a streak) */
    pthread_t thread;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct kvmrun_file_id id; /* the socket file bind() made */
    struct ctl_client clients[CTL_MAX];
};

static uint64_t ctl_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* kvmrun_set_error() with ": strerror(err)" after the message. */
static int ctl_errno(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int ctl_errno(int err, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return kvmrun_set_error(err, "%s: %s", msg, strerror(err));
}

/* ---- Replies ---- */

/* One line; members in the order added (jansson keeps it); reals with 15
 * significant digits: uptime 1.234567891, not 1.2345678910000001. */
#define CTL_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* jansson takes only valid UTF-8: a message that is not (a path cut
 * inside a character by the error buffer) keeps its ASCII, '?' for the
 * other bytes. */
static json_t *ctl_message(const char *text)
{
    json_t *s = json_string(text);
    char *copy;

    if (s || !(copy = strdup(text)))
        return s;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    s = json_string(copy);
    free(copy);
    return s;
}

static void ctl_set_str(json_t *o, const char *name, const char *value)
{
    json_object_set_new(o, name, json_string(value));
}

/* A count: an integer (past INT64_MAX, where json_int_t ends, a real). */
static json_t *ctl_count(uint64_t v)
{
    return v <= INT64_MAX ? json_integer((json_int_t)v) : json_real((double)v);
}

static void ctl_set_count(json_t *o, const char *name, uint64_t v)
{
    json_object_set_new(o, name, ctl_count(v));
}

static json_t *ctl_error(int code, const char *message)
{
    json_t *o = json_object();

    json_object_set_new(o, "ok", json_false());
    json_object_set_new(o, "error", ctl_message(message));
    json_object_set_new(o, "code", json_integer(code));
    return o;
}

static json_t *ctl_errorf(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static json_t *ctl_errorf(int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return ctl_error(code, msg);
}

static json_t *ctl_ok(void)
{
    json_t *o = json_object();

    json_object_set_new(o, "ok", json_true());
    return o;
}

static void ctl_add_hex(json_t *o, const char *name, uint64_t v)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
    ctl_set_str(o, name, buf);
}

/* ---- Commands ---- */

/*
 * "created", "running", "paused" or "ended". "paused" is the VM's target,
 * set the moment a pause is requested (any hold: the user's, a
 * snapshot's): its vCPUs may still be on their way (vcpu_states says
 * which have paused); "running" once no hold is left.
 */
static const char *ctl_vm_state(struct kvmrun_vm *vm)
{
    return kvmrun_vm_state_name(kvmrun_vm_state(vm));
}

/* "held_by": the names of the holds set (["user", "snapshot"]). */
static void ctl_add_holds(json_t *o, unsigned holds)
{
    json_t *a = json_array();

    for (unsigned bit = 1; bit && bit <= holds; bit <<= 1)
        if (holds & bit)
            json_array_append_new(a, json_string(kvmrun_hold_name(bit)));
    json_object_set_new(o, "held_by", a);
}

/* An error reply unless the VM is in state want (or want2). */
static json_t *ctl_need(struct kvmrun_vm *vm, const char *cmd, const char *want,
                        const char *want2)
{
    const char *now = ctl_vm_state(vm);

    if (strcmp(now, want) == 0 || (want2 && strcmp(now, want2) == 0))
        return NULL;
    return ctl_errorf(CTL_E_STATE, "%s: the VM is %s, not %s%s%s", cmd, now,
                      want, want2 ? " or " : "", want2 ? want2 : "");
}

static json_t *ctl_status(struct kvmrun_vm *vm)
{
    json_t *o = ctl_ok(), *states = json_array();
    unsigned n = kvmrun_vm_ncpus(vm);

    ctl_set_str(o, "state", ctl_vm_state(vm));
    ctl_set_count(o, "vcpus", n);
    ctl_set_count(o, "memory", kvmrun_vm_mem_size(vm));
    json_object_set_new(o, "uptime", json_real(kvmrun_vm_uptime_ns(vm) / 1e9));
    for (unsigned i = 0; i < n; i++)
        json_array_append_new(
            states, json_string(kvmrun_vcpu_state(kvmrun_vm_vcpu(vm, i))));
    json_object_set_new(o, "vcpu_states", states);
    ctl_add_holds(o, kvmrun_vm_holds(vm));
    {
        char gdb[160];

        if (kvmrun_vm_debugger(vm, gdb, sizeof(gdb)) >= 0)
            ctl_set_str(o, "debugger", gdb); /* only with --gdb */
    }
    return o;
}

/* pause, resume: the request, timed. Idempotent; a request superseded by
 * a later one (SIGUSR2, another client) is answered at once, ok, with
 * "superseded": true and the state now in force. */
static json_t *ctl_pause(struct kvmrun_vm *vm, enum ctl_cmd cmd)
{
    struct kvmrun_pause_result res;
    uint64_t t0 = ctl_now_ns();
    json_t *o;
    int r =
        kvmrun_vm_set_pause(vm, cmd == CTL_PAUSE ? KVMRUN_PAUSE : KVMRUN_RESUME,
                            CTL_TIMEOUT_MS, &res);

    if (r < 0)
        return ctl_error(-r, kvmrun_last_error());
    o = ctl_ok();
    ctl_set_str(o, "state", ctl_vm_state(vm));
    ctl_set_count(o, "took_us", (ctl_now_ns() - t0) / 1000);
    json_object_set_new(o, "superseded", json_boolean(!res.reached));
    ctl_add_holds(o, res.holds);
    return o;
}

/* stop: the call, timed; its error is the reply's. */
static json_t *ctl_stop(struct kvmrun_vm *vm)
{
    uint64_t t0 = ctl_now_ns();
    json_t *o;
    int r = kvmrun_vm_stop(vm, KVMRUN_STOP_CONTROL, CTL_TIMEOUT_MS);

    if (r < 0)
        return ctl_error(-r, kvmrun_last_error());
    o = ctl_ok();
    ctl_set_str(o, "state", ctl_vm_state(vm));
    ctl_set_count(o, "took_us", (ctl_now_ns() - t0) / 1000);
    return o;
}

static void ctl_add_kstat(void *opaque, const char *name, uint32_t flags,
                          const uint64_t *values, unsigned count)
{
    json_t *o = opaque, *a;

    (void)flags;
    if (count == 1) {
        ctl_set_count(o, name, values[0]);
        return;
    }
    a = json_array(); /* a histogram's buckets */
    for (unsigned i = 0; i < count; i++)
        json_array_append_new(a, ctl_count(values[i]));
    json_object_set_new(o, name, a);
}

/* "kernel": the counters, or null and "kernel_error" saying why. */
static void ctl_add_kstats(json_t *o, struct kvmrun_vm *vm,
                           struct kvmrun_vcpu *vcpu)
{
    json_t *k = json_object();
    int r = vcpu ? kvmrun_vcpu_kstats(vcpu, ctl_add_kstat, k)
                 : kvmrun_vm_kstats(vm, ctl_add_kstat, k);

    if (r == 0) {
        json_object_set_new(o, "kernel", k);
        return;
    }
    json_decref(k);
    json_object_set_new(o, "kernel", json_null());
    json_object_set_new(o, "kernel_error", ctl_message(kvmrun_last_error()));
}

/* Exit reasons kvmrun has no name for share "UNKNOWN": one sum. */
static void ctl_add_exits(json_t *exits, const char *name, uint64_t n)
{
    json_t *had = json_object_get(exits, name);

    ctl_set_count(exits, name, n + (uint64_t)json_integer_value(had));
}

static json_t *ctl_vcpu_stats(struct kvmrun_vm *vm, unsigned i)
{
    struct kvmrun_vcpu *v = kvmrun_vm_vcpu(vm, i);
    struct kvmrun_vcpu_stats st;
    json_t *o = json_object(), *exits = json_object();

    kvmrun_vcpu_get_stats(v, &st);
    ctl_set_count(o, "vcpu", i);
    ctl_set_str(o, "state", kvmrun_vcpu_state(v));
    for (unsigned k = 0; k < KVMRUN_STATS_EXITS; k++)
        if (st.exits[k])
            ctl_add_exits(exits, kvmrun_exit_name(k), st.exits[k]);
    if (st.exits_other)
        ctl_set_count(exits, "OTHER", st.exits_other);
    json_object_set_new(o, "exits", exits);
    ctl_set_count(o, "eintr", st.eintr);
    ctl_set_count(o, "kicks_sent", st.kicks_sent);
    ctl_set_count(o, "kicks_acked", st.kicks_acked);
    ctl_set_count(o, "rekicks", st.rekicks);
    ctl_set_count(o, "pauses", st.pauses);
    ctl_set_count(o, "paused_ns", st.paused_ns);
    ctl_add_kstats(o, vm, v);
    return o;
}

static json_t *ctl_stats(struct kvmrun_vm *vm)
{
    json_t *o = ctl_ok(), *vcpus = json_array();

    ctl_set_str(o, "state", ctl_vm_state(vm));
    ctl_add_kstats(o, vm, NULL);
    for (unsigned i = 0; i < kvmrun_vm_ncpus(vm); i++)
        json_array_append_new(vcpus, ctl_vcpu_stats(vm, i));
    json_object_set_new(o, "vcpus", vcpus);
    return o;
}

static void ctl_add_seg(json_t *o, const char *name,
                        const struct kvmrun_segment *s)
{
    json_t *seg = json_object();

    ctl_add_hex(seg, "selector", s->selector);
    ctl_add_hex(seg, "base", s->base);
    ctl_add_hex(seg, "limit", s->limit);
    json_object_set_new(o, name, seg);
}

static json_t *ctl_regs_reply(unsigned index, const struct kvmrun_regs *r)
{
    json_t *o = ctl_ok();

    ctl_set_count(o, "vcpu", index);
    ctl_add_hex(o, "rip", r->rip);
    ctl_add_hex(o, "rflags", r->rflags);
    for (unsigned i = 0; i < KVMRUN_NGPRS; i++)
        ctl_add_hex(o, kvmrun_gpr_name(i), r->gpr[i]);
    ctl_add_seg(o, "cs", &r->cs);
    ctl_add_seg(o, "ds", &r->ds);
    ctl_add_seg(o, "es", &r->es);
    ctl_add_seg(o, "fs", &r->fs);
    ctl_add_seg(o, "gs", &r->gs);
    ctl_add_seg(o, "ss", &r->ss);
    ctl_add_hex(o, "cr0", r->cr0);
    ctl_add_hex(o, "cr2", r->cr2);
    ctl_add_hex(o, "cr3", r->cr3);
    ctl_add_hex(o, "cr4", r->cr4);
    ctl_add_hex(o, "efer", r->efer);
    return o;
}

/* Only while paused: a running vCPU's registers are stale at once, and
 * reading them would wait for it to leave KVM_RUN. */
static json_t *ctl_regs(struct kvmrun_vm *vm, unsigned index)
{
    struct kvmrun_vcpu *v = kvmrun_vm_vcpu(vm, index);
    struct kvmrun_regs r;
    json_t *e;
    int err;

    if (!v)
        return ctl_errorf(CTL_E_INVALID, "regs: no vcpu %u (the VM has %u)",
                          index, kvmrun_vm_ncpus(vm));
    if ((e = ctl_need(vm, "regs", "paused", NULL)))
        return e;
    if (strcmp(kvmrun_vcpu_state(v), "paused") != 0)
        return ctl_errorf(CTL_E_STATE, "regs: vcpu%u is %s, not paused", index,
                          kvmrun_vcpu_state(v));
    if ((err = kvmrun_vcpu_get_regs(v, &r)) < 0)
        return ctl_errorf(-err, "regs: %s", kvmrun_last_error());
    return ctl_regs_reply(index, &r);
}

static json_t *ctl_snapshot(struct kvmrun_vm *vm, const char *path)
{
    json_t *o;
    int r;

    if ((o = ctl_need(vm, "snapshot", "running", "paused")))
        return o;
    /* 0 or -errno; any other value is an error too (whatever its sign). */
    if ((r = kvmrun_vm_snapshot(vm, path)) != 0)
        return ctl_error(r < 0 ? -r : r, kvmrun_last_error());
    o = ctl_ok();
    ctl_set_str(o, "path", path);
    ctl_set_str(o, "state", ctl_vm_state(vm));
    return o;
}

/* One request line -> its reply. */
static json_t *ctl_handle(struct kvmrun_vm *vm, const char *line, size_t len)
{
    struct ctl_request req;
    json_t *e;
    int r = ctl_parse(line, len, &req);

    if (r < 0)
        return ctl_error(-r, kvmrun_last_error());
    switch (req.cmd) {
    case CTL_STATUS:
        return ctl_status(vm);
    case CTL_PAUSE:
        e = ctl_need(vm, "pause", "running", "paused");
        return e ? e : ctl_pause(vm, req.cmd);
    case CTL_RESUME:
        e = ctl_need(vm, "resume", "running", "paused");
        return e ? e : ctl_pause(vm, req.cmd);
    case CTL_STOP:
        e = ctl_need(vm, "stop", "running", "paused");
        return e ? e : ctl_stop(vm);
    case CTL_STATS:
        return ctl_stats(vm);
    case CTL_REGS:
        return ctl_regs(vm, req.vcpu);
    default:
        return ctl_snapshot(vm, req.path);
    }
}

/* ---- Connections ---- */

/* Queues reply (consumed) for the client. */
static void ctl_queue(struct ctl_client *cl, json_t *reply)
{
    char *text = reply ? json_dumps(reply, CTL_DUMP_FLAGS) : NULL;
    size_t n = text ? strlen(text) : 0;

    json_decref(reply);
    if (!text || !(cl->out = malloc(n + 1))) {
        free(text);
        cl->out = strdup("{\"ok\":false,\"error\":\"out of memory\","
                         "\"code\":12}\n");
        cl->out_len = cl->out ? strlen(cl->out) : 0;
        cl->out_off = 0;
        return;
    }
    memcpy(cl->out, text, n);
    cl->out[n] = '\n';
    cl->out_len = n + 1;
    cl->out_off = 0;
    free(text);
}

/* Sends what the socket takes: 0 (done or pending) or -1 (peer gone). */
static int ctl_flush(struct ctl_client *cl)
{
    while (cl->out && cl->out_off < cl->out_len) {
        ssize_t n =
            send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0)
            return -1; /* EPIPE, ECONNRESET: the VM does not care */
        cl->out_off += (size_t)n;
    }
    free(cl->out);
    cl->out = NULL;
    return 0;
}

static void ctl_close(struct ctl_client *cl)
{
    if (cl->fd >= 0)
        close(cl->fd);
    free(cl->in);
    free(cl->out);
    memset(cl, 0, sizeof(*cl));
    cl->fd = -1;
}

/* Drops the input up to the end of an oversized line. */
static void ctl_discard(struct ctl_client *cl)
{
    char *nl = memchr(cl->in, '\n', cl->in_len);

    if (!nl) {
        cl->in_len = 0;
        return;
    }
    cl->in_len -= (size_t)(nl + 1 - cl->in);
    memmove(cl->in, nl + 1, cl->in_len);
    cl->discarding = false;
}

static int ctl_read(struct ctl_client *cl)
{
    ssize_t n =
        recv(cl->fd, cl->in + cl->in_len, CTL_LINE - cl->in_len, MSG_DONTWAIT);

    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    if (n == 0)
        cl->eof = true;
    cl->in_len += (size_t)n;
    if (cl->discarding)
        ctl_discard(cl);
    return 0;
}

/* Answers the complete lines buffered, one reply in flight at a time.
 * -1 once the client is done with. */
static int ctl_serve(struct kvmrun_control *c, struct ctl_client *cl)
{
    while (!cl->out) {
        char *nl = memchr(cl->in, '\n', cl->in_len);
        size_t len;

        if (!nl && cl->in_len == CTL_LINE) {
            ctl_queue(cl, ctl_errorf(CTL_E_TOO_LONG,
                                     "request line longer than %d bytes "
                                     "(with its newline): ignored",
                                     CTL_LINE));
            cl->discarding = true;
            ctl_discard(cl);
        } else if (!nl) {
            break;
        } else {
            len = (size_t)(nl - cl->in);
            if (len && cl->in[len - 1] == '\r')
                len--;
            if (len) /* empty lines are ignored */
                ctl_queue(cl, ctl_handle(c->vm, cl->in, len));
            cl->in_len -= (size_t)(nl + 1 - cl->in);
            memmove(cl->in, nl + 1, cl->in_len);
        }
        if (ctl_flush(cl) < 0)
            return -1;
    }
    return cl->eof && !cl->out ? -1 : 0;
}

static void ctl_client_io(struct kvmrun_control *c, struct ctl_client *cl,
                          short revents)
{
    if (cl->out && ctl_flush(cl) < 0)
        goto gone;
    if (!cl->out && !cl->eof && (revents & (POLLIN | POLLHUP | POLLERR)) &&
        ctl_read(cl) < 0)
        goto gone;
    if (ctl_serve(c, cl) == 0)
        return;
gone:
    ctl_close(cl);
}

/* A reply to a connection refused at once (best effort), then close. */
static void ctl_refuse(int fd, json_t *reply)
{
    char *text = reply ? json_dumps(reply, CTL_DUMP_FLAGS) : NULL;

    if (text) {
        size_t n = strlen(text);

        text[n] = '\n'; /* replaces the NUL: sent by length */
        if (send(fd, text, n + 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
            errno = 0; /* the peer is refused anyway */
        free(text);
    }
    json_decref(reply);
    close(fd);
}

static bool ctl_peer_ok(struct kvmrun_control *c, int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return false;
    if (cred.uid == 0 || cred.uid == geteuid())
        return true;
    kvmrun_vm_log(c->vm, KVMRUN_LOG_WARN,
                  "control socket %s: refused a client with uid %u (pid %d)",
                  c->path, (unsigned)cred.uid, (int)cred.pid);
    return false;
}

/*
 * accept() failed, and the connection (if any) is still queued: poll would
 * report it again at once, forever. At the descriptor limit (EMFILE,
 * ENFILE) the spare descriptor makes room to take it and tell the client
 * why it is refused; with no room to make, or another error (ENOBUFS,
 * ENOMEM), the socket rests CTL_BACKOFF_MS. Nothing was queued after
 * EAGAIN, and ECONNABORTED and EINTR are retried when poll says so.
 */
static void ctl_accept_failed(struct kvmrun_control *c, int err)
{
    int fd = -1;

    if (err == EAGAIN || err == EWOULDBLOCK || err == ECONNABORTED ||
        err == EINTR)
        return;
    if ((err == EMFILE || err == ENFILE) && c->spare_fd >= 0) {
        close(c->spare_fd);
        fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            err = errno;
        else
            ctl_refuse(fd, ctl_errorf(err,
                                      "kvmrun is out of file descriptors "
                                      "(%s): connection refused",
                                      strerror(err)));
        c->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0 || err == EAGAIN || err == ECONNABORTED)
            return;
    }
    c->listen_after_ns = ctl_now_ns() + CTL_BACKOFF_MS * 1000000ull;
    if (!c->accept_warned)
        kvmrun_vm_log(c->vm, KVMRUN_LOG_WARN,
                      "control socket %s: accept: %s (clients wait)", c->path,
                      strerror(err));
    c->accept_warned = true;
}

static void ctl_accept(struct kvmrun_control *c)
{
    struct ctl_client *cl = NULL;
    int fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd < 0) {
        ctl_accept_failed(c, errno);
        return;
    }
    c->accept_warned = false;
    if (!ctl_peer_ok(c, fd)) {
        ctl_refuse(fd, ctl_errorf(CTL_E_PERMISSION,
                                  "permission denied: only root and uid %u "
                                  "may use this socket",
                                  (unsigned)geteuid()));
        return;
    }
    for (unsigned i = 0; i < CTL_MAX && !cl; i++)
        if (c->clients[i].fd < 0)
            cl = &c->clients[i];
    if (!cl || !(cl->in = malloc(CTL_LINE))) {
        ctl_refuse(fd, ctl_errorf(CTL_E_TOO_MANY,
                                  "too many clients (at most %d at once)",
                                  CTL_MAX));
        return;
    }
    cl->fd = fd;
}

/* The poll set: wake_fd, the listening socket, then each client (map[i]
 * is the client behind pfd[i + 2]). */
static nfds_t ctl_poll_set(struct kvmrun_control *c, struct pollfd *pfd,
                           struct ctl_client **map)
{
    nfds_t n = 2;

    pfd[0] = (struct pollfd){.fd = c->wake_fd, .events = POLLIN};
    /* A negative fd is left out of poll: the socket rests. */
    pfd[1] = (struct pollfd){
        .fd = ctl_now_ns() < c->listen_after_ns ? -1 : c->listen_fd,
        .events = POLLIN};
    for (unsigned i = 0; i < CTL_MAX; i++) {
        struct ctl_client *cl = &c->clients[i];

        if (cl->fd < 0)
            continue;
        map[n - 2] = cl;
        pfd[n++] =
            (struct pollfd){.fd = cl->fd, .events = cl->out ? POLLOUT : POLLIN};
    }
    return n;
}

/* poll's timeout: -1, or until the listening socket's rest ends. */
static int ctl_poll_timeout(const struct kvmrun_control *c)
{
    uint64_t now = ctl_now_ns();

    if (now >= c->listen_after_ns)
        return -1;
    return (int)((c->listen_after_ns - now + 999999) / 1000000);
}

static void *ctl_thread(void *arg)
{
    struct kvmrun_control *c = arg;
    struct pollfd pfd[CTL_MAX + 2];
    struct ctl_client *map[CTL_MAX];

    pthread_setname_np(pthread_self(), "control"); /* a prctl, no file */
    for (;;) {
        nfds_t n = ctl_poll_set(c, pfd, map);

        if (c->spare_fd < 0) /* given up at the limit: take it back */
            c->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (poll(pfd, n, ctl_poll_timeout(c)) < 0) {
            if (errno == EINTR)
                continue;
            kvmrun_vm_log(c->vm, KVMRUN_LOG_ERROR, "control socket: poll: %s",
                          strerror(errno));
            break;
        }
        if (pfd[0].revents)
            break;
        for (nfds_t i = 2; i < n; i++)
            if (pfd[i].revents)
                ctl_client_io(c, map[i - 2], pfd[i].revents);
        if (pfd[1].revents & POLLIN)
            ctl_accept(c);
    }
    return NULL;
}

/* ---- Start and stop ---- */

/*
 * Whether a server listens on the socket at path: 0 if not (ECONNREFUSED,
 * a stale socket), else -errno. The connect() never waits: a Unix socket
 * connects at once or fails with EAGAIN, its server's backlog full, so
 * live. Any other failure (EACCES: another user's socket) proves nothing
 * either way: refused.
 */
static int ctl_probe(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd, err;

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ctl_errno(errno, "--api %s: socket", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    err = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? errno : 0;
    close(fd);
    if (err == ECONNREFUSED)
        return 0;
    if (err == 0 || err == EAGAIN || err == EINPROGRESS)
        return kvmrun_set_error(EADDRINUSE,
                                "--api %s: another process serves it", path);
    return kvmrun_set_error(
        err,
        "--api %s: cannot tell whether another process serves "
        "it (connect: %s): not replaced",
        path, strerror(err));
}

/* A socket file at path: live (another server: refuse) or stale (remove
 * it, if still the same file). Anything else there is refused. */
static int ctl_clear_path(const char *path)
{
    struct stat st;
    struct kvmrun_file_id id;
    int r;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : ctl_errno(errno, "--api %s", path);
    if (!S_ISSOCK(st.st_mode))
        return kvmrun_set_error(EEXIST, "--api %s: exists and is not a socket",
                                path);
    if ((r = ctl_probe(path)) < 0)
        return r;
    id = (struct kvmrun_file_id){(uint64_t)st.st_dev, (uint64_t)st.st_ino};
    if ((r = kvmrun_file_remove_own(path, &id)) < 0)
        return ctl_errno(-r, "--api %s: removing the stale socket", path);
    return 0;
}

static int ctl_listen(struct kvmrun_control *c)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    mode_t old;
    int r;

    c->listen_fd =
        socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->listen_fd < 0)
        return ctl_errno(errno, "--api %s: socket", c->path);
    memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
    /* Born 0600: no window where others could connect. */
    old = umask(0177);
    r = bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (r < 0)
        return ctl_errno(errno, "--api %s: bind", c->path);
    if ((r = kvmrun_file_id(c->path, &c->id)) < 0)
        return r; /* gone at once: nothing of ours to remove */
    if (chmod(c->path, 0600) < 0 || listen(c->listen_fd, CTL_MAX) < 0) {
        r = ctl_errno(errno, "--api %s: listen", c->path);
        kvmrun_file_remove_own(c->path, &c->id);
        return r;
    }
    return 0;
}

static int ctl_start_thread(struct kvmrun_control *c)
{
    int r = kvmrun_thread_create(&c->thread, ctl_thread, c);

    if (r != 0)
        return kvmrun_set_error(
            r, "control socket: cannot start its thread: %s", strerror(r));
    return 0;
}

int kvmrun_control_start(struct kvmrun_vm *vm, const char *path,
                         struct kvmrun_control **out)
{
    struct kvmrun_control *c;
    int r;

    *out = NULL;
    if (!path[0] || strlen(path) >= sizeof(c->path))
        return kvmrun_set_error(ENAMETOOLONG,
                                "--api %s: a socket path is 1 to %zu "
                                "bytes",
                                path, sizeof(c->path) - 1);
    if ((r = ctl_clear_path(path)) < 0)
        return r;
    if (!(c = calloc(1, sizeof(*c))))
        return kvmrun_set_error(ENOMEM, "--api %s: out of memory", path);
    c->vm = vm;
    memcpy(c->path, path, strlen(path) + 1);
    for (unsigned i = 0; i < CTL_MAX; i++)
        c->clients[i].fd = -1;
    /* Without it (no /dev/null), the descriptor limit only makes accept()
     * back off. */
    c->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    c->wake_fd = eventfd(0, EFD_CLOEXEC);
    if (c->wake_fd < 0) {
        r = ctl_errno(errno, "--api %s: eventfd", path);
        goto err_free;
    }
    if ((r = ctl_listen(c)) < 0)
        goto err_listen;
    if ((r = ctl_start_thread(c)) < 0)
        goto err_thread;
    *out = c;
    return 0;

err_thread:
    kvmrun_file_remove_own(c->path, &c->id);
err_listen:
    if (c->listen_fd >= 0)
        close(c->listen_fd);
    close(c->wake_fd);
err_free:
    if (c->spare_fd >= 0)
        close(c->spare_fd);
    free(c);
    return r;
}

void kvmrun_control_stop(struct kvmrun_control *c)
{
    uint64_t one = 1;

    if (!c)
        return;
    if (write(c->wake_fd, &one, sizeof(one)) < 0)
        kvmrun_vm_log(c->vm, KVMRUN_LOG_ERROR, "control socket: eventfd: %s",
                      strerror(errno));
    pthread_join(c->thread, NULL);
    for (unsigned i = 0; i < CTL_MAX; i++) {
        if (c->clients[i].fd >= 0)
            ctl_flush(&c->clients[i]);
        ctl_close(&c->clients[i]);
    }
    close(c->listen_fd);
    close(c->wake_fd);
    if (c->spare_fd >= 0)
        close(c->spare_fd);
    /* Only the socket kvmrun made: not whatever took its path since. */
    kvmrun_file_remove_own(c->path, &c->id);
    free(c);
}
