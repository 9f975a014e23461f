/*
 * pause_stuck.c: a pause that times out because a vCPU is really stuck
 * outside KVM_RUN ends nothing. Each vCPU of a two-vCPU guest counts in
 * guest memory and writes to port 0x4f0, where this test registers a
 * device whose handler can hold vcpu0 on a condition it controls (through
 * the library's internal bus: the public API has no device hook). vcpu0,
 * so that the first laggard is always the stuck one, however slow vcpu1.
 *
 * While vcpu0 is held:
 *   - kvmrun_vm_pause() returns -ETIMEDOUT naming vcpu0; the target stays
 *     paused (vcpu1 pauses and is frozen), the VM does not end;
 *   - a pause still waiting stops, with success, when a resume from
 *     another thread supersedes it (it must not wait out its timeout);
 *   - once released, vcpu0 pauses by itself (the request stayed), and
 *     a resume then runs both;
 *   - the control socket's pause replies with an ETIMEDOUT error and the
 *     VM goes on; status says "paused" (the target) with vcpu0 running.
 *
 * usage: pause_stuck
 */
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "kvmtest.h"
#include "vm.h"

#define COUNTERS 0x8000
#define STUCK_PORT 0x4f0

/* The device: holds the vCPU named by hold_vcpu in its handler. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int hold_vcpu; /* -1: none */
    int held;      /* a vCPU waits in the handler */
} gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, -1, 0};

static void stuck_io(void *dev, const struct bus_access *a)
{
    (void)dev;
    pthread_mutex_lock(&gate.lock);
    if ((int)a->vcpu == gate.hold_vcpu) {
        gate.held = 1;
        pthread_cond_broadcast(&gate.cond);
        while ((int)a->vcpu == gate.hold_vcpu)
            pthread_cond_wait(&gate.cond, &gate.lock);
        gate.held = 0;
    }
    pthread_mutex_unlock(&gate.lock);
}

/* Holds vcpu in the handler; returns once it waits there. */
static void gate_hold(int vcpu)
{
    uint64_t deadline = test_now_ns() + 10000000000ULL;

    pthread_mutex_lock(&gate.lock);
    gate.hold_vcpu = vcpu;
    while (!gate.held) {
        pthread_mutex_unlock(&gate.lock);
        if (test_now_ns() > deadline)
            FAILF("vcpu%d never reached the port", vcpu);
        usleep(1000);
        pthread_mutex_lock(&gate.lock);
    }
    pthread_mutex_unlock(&gate.lock);
}

static void gate_release(void)
{
    pthread_mutex_lock(&gate.lock);
    gate.hold_vcpu = -1;
    pthread_cond_broadcast(&gate.cond);
    pthread_mutex_unlock(&gate.lock);
}

static void expect_state(struct kvmrun_vm *vm, unsigned i, const char *want,
                         const char *when)
{
    const char *now = kvmrun_vcpu_state(kvmrun_vm_vcpu(vm, i));

    if (strcmp(now, want) != 0)
        FAILF("%s: vcpu%u is %s, not %s", when, i, now, want);
}

/* Waits (bounded) until vCPU i is in state want, without asking. */
static void wait_state(struct kvmrun_vm *vm, unsigned i, const char *want,
                       const char *when)
{
    uint64_t deadline = test_now_ns() + 10000000000ULL;

    while (strcmp(kvmrun_vcpu_state(kvmrun_vm_vcpu(vm, i)), want) != 0) {
        if (test_now_ns() > deadline)
            expect_state(vm, i, want, when);
        usleep(1000);
    }
}

static void expect_frozen(volatile uint64_t *c, unsigned i, const char *when)
{
    uint64_t a = c[i];

    usleep(20000);
    if (c[i] != a)
        FAILF("%s: vcpu%u's counter moved while paused", when, i);
}

static void expect_moving(volatile uint64_t *c, unsigned i, const char *when)
{
    uint64_t a = c[i], deadline = test_now_ns() + 10000000000ULL;

    while (c[i] == a)
        if (test_now_ns() > deadline)
            FAILF("%s: vcpu%u's counter does not move", when, i);
}

static void expect_alive(struct kvmrun_vm *vm, const char *when)
{
    struct pollfd p = {.fd = kvmrun_vm_event_fd(vm), .events = POLLIN};

    if (poll(&p, 1, 0) != 0)
        FAILF("%s: the VM ended", when);
}

/* A pause that times out leaves the target paused and the VM alive. */
static void test_timeout(struct kvmrun_vm *vm, volatile uint64_t *c)
{
    int r = kvmrun_vm_pause(vm, 300);

    if (r != -ETIMEDOUT)
        FAILF("pause with vcpu0 stuck: %d, not -ETIMEDOUT", r);
    if (!strstr(kvmrun_last_error(), "vcpu0"))
        FAILF("the timeout does not name vcpu0: %s", kvmrun_last_error());
    if (!kvmrun_vm_paused(vm))
        FAILF("a pause that timed out was undone");
    expect_state(vm, 0, "running", "after the timeout");
    wait_state(vm, 1, "paused", "after the timeout");
    expect_frozen(c, 1, "after the timeout");
    expect_alive(vm, "after the timeout");
    printf("pause_stuck: the pause timed out naming vcpu0 (%s); vcpu1 "
           "paused, the VM goes on\n",
           kvmrun_last_error());
}

struct waiter {
    struct kvmrun_vm *vm;
    struct kvmrun_pause_result res;
    int r;
    uint64_t took;
    char error[512]; /* its thread's kvmrun_last_error() */
};

static void *pause_waiter(void *arg)
{
    struct waiter *w = arg;
    uint64_t t0 = test_now_ns();

    w->r = kvmrun_vm_set_pause(w->vm, KVMRUN_PAUSE, 8000, &w->res);
    w->took = test_now_ns() - t0;
    snprintf(w->error, sizeof(w->error), "%s", kvmrun_last_error());
    return NULL;
}

/* A pause waiting on the stuck vCPU is superseded by a resume. */
static void test_superseded(struct kvmrun_vm *vm, volatile uint64_t *c)
{
    struct waiter w = {.vm = vm};
    uint64_t deadline = test_now_ns() + 10000000000ULL;
    pthread_t t;

    CHECK(kvmrun_vm_resume(vm, 5000)); /* the waiter's pause sets it anew */
    if (pthread_create(&t, NULL, pause_waiter, &w) != 0)
        FAILF("pthread_create failed");
    /* Its target is set: the resume below comes later, whether the
     * waiter already waits or is about to. */
    while (!kvmrun_vm_paused(vm))
        if (test_now_ns() > deadline)
            FAILF("the waiter's pause never set its hold");
    usleep(100000);
    CHECK(kvmrun_vm_resume(vm, 5000));
    pthread_join(t, NULL);
    if (w.r < 0)
        FAILF("a pause superseded by a resume failed after %.0f ms: %s",
              w.took / 1e6, w.error);
    if (w.res.reached || !w.res.paused)
        FAILF("the superseded pause says reached=%d paused=%d", w.res.reached,
              w.res.paused);
    if (kvmrun_vm_paused(vm))
        FAILF("the VM's target is paused after the last request, a resume");
    expect_moving(c, 1, "after the resume");
    expect_alive(vm, "after the resume");
    printf("pause_stuck: a waiting pause was superseded by a resume after "
           "%.0f ms\n",
           w.took / 1e6);
}

/* Released, the stuck vCPU pauses as still requested; resume runs all. */
static void test_release(struct kvmrun_vm *vm, volatile uint64_t *c)
{
    if (kvmrun_vm_pause(vm, 300) != -ETIMEDOUT)
        FAILF("the second pause did not time out");
    gate_release();
    wait_state(vm, 0, "paused", "once released");
    wait_state(vm, 1, "paused", "once released");
    expect_frozen(c, 0, "once released");
    expect_frozen(c, 1, "once released");
    CHECK(kvmrun_vm_resume(vm, 5000));
    expect_moving(c, 0, "after resume");
    expect_moving(c, 1, "after resume");
    printf("pause_stuck: released, vcpu0 paused by itself; resume runs "
           "both\n");
}

/* ---- The control socket ---- */

static int ctl_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        FAILF("connect %s: %s", path, strerror(errno));
    return fd;
}

/* Sends one request line, returns its reply (at most 20 s). */
static json_t *ctl_ask(int fd, const char *req)
{
    char buf[8192];
    size_t len = 0;

    if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0 ||
        send(fd, "\n", 1, MSG_NOSIGNAL) < 0)
        FAILF("send: %s", strerror(errno));
    while (!memchr(buf, '\n', len)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;

        if (poll(&p, 1, 20000) <= 0 || len == sizeof(buf) ||
            (n = recv(fd, buf + len, sizeof(buf) - len, 0)) <= 0)
            FAILF("%s: no reply", req);
        len += (size_t)n;
    }
    json_t *r = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK, NULL);
    if (!r)
        FAILF("%s: a reply that is not JSON: %.*s", req, (int)len, buf);
    return r;
}

static const char *jstr(json_t *o, const char *name)
{
    const char *s = json_string_value(json_object_get(o, name));

    return s ? s : "";
}

static void test_socket(struct kvmrun_vm *vm, volatile uint64_t *c,
                        const char *path)
{
    struct kvmrun_control *ctl;
    json_t *r, *states;
    int fd;

    CHECK(kvmrun_control_start(vm, path, &ctl));
    fd = ctl_connect(path);
    gate_hold(0);
    r = ctl_ask(fd, "{\"cmd\":\"pause\"}");
    if (json_is_true(json_object_get(r, "ok")) ||
        json_integer_value(json_object_get(r, "code")) != ETIMEDOUT ||
        !strstr(jstr(r, "error"), "vcpu0"))
        FAILF("a socket pause with vcpu0 stuck: %s",
              json_dumps(r, JSON_COMPACT));
    printf("pause_stuck: the socket's pause replied: %s\n", jstr(r, "error"));
    json_decref(r);
    r = ctl_ask(fd, "{\"cmd\":\"status\"}");
    states = json_object_get(r, "vcpu_states");
    if (strcmp(jstr(r, "state"), "paused") != 0 ||
        strcmp(json_string_value(json_array_get(states, 0)), "running") != 0 ||
        strcmp(json_string_value(json_array_get(states, 1)), "paused") != 0)
        FAILF("status after the timeout: %s", json_dumps(r, JSON_COMPACT));
    json_decref(r);
    expect_frozen(c, 1, "after the socket's timeout");
    expect_alive(vm, "after the socket's timeout");
    gate_release();
    wait_state(vm, 0, "paused", "released after the socket's pause");
    r = ctl_ask(fd, "{\"cmd\":\"resume\"}");
    if (!json_is_true(json_object_get(r, "ok")) ||
        strcmp(jstr(r, "state"), "running") != 0)
        FAILF("resume: %s", json_dumps(r, JSON_COMPACT));
    json_decref(r);
    expect_moving(c, 0, "after the socket's resume");
    close(fd);
    kvmrun_control_stop(ctl);
}

int main(void)
{
    struct kvmrun_outcome out;
    struct kvmrun_vm *vm;
    volatile uint64_t *c;
    char path[108];

    setvbuf(stdout, NULL, _IOLBF, 0);
    snprintf(path, sizeof(path), "%s/kvmrun-stuck.%d.sock",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    vm = test_vm("port_loop", 2, 10);
    CHECK(bus_register(&vm->pio, STUCK_PORT, 1, "stuck-test", stuck_io, NULL));
    if (!(c = kvmrun_vm_mem(vm, COUNTERS, 16)))
        FAILF("counters outside guest memory");
    CHECK(kvmrun_vm_start(vm));
    expect_moving(c, 0, "at start");
    expect_moving(c, 1, "at start");
    gate_hold(0);
    test_timeout(vm, c);
    test_superseded(vm, c);
    test_release(vm, c);
    test_socket(vm, c, path);
    CHECK(kvmrun_vm_stop(vm, 0, 5000));
    CHECK(kvmrun_vm_wait(vm, &out));
    if (out.end != KVMRUN_END_STOPPED)
        FAILF("the VM ended as %d (%s), not stopped", (int)out.end,
              out.message);
    kvmrun_vm_destroy(vm);
    return 0;
}
