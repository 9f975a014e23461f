/*
 * gdbstub.c: a GDB remote protocol server (--gdb) on KVM's guest-debug
 * interface, in a thread of its own. docs/gdbstub.md explains the design.
 *
 * Stops are the run state's holds: gdb's hold (KVMRUN_HOLD_GDB) is set
 * while gdb has the guest stopped, so every vCPU is out of KVM_RUN and
 * this thread reads and writes their registers and memory directly. A
 * debug exit sets the hold from its vCPU thread; Ctrl-C sets it here.
 *
 * Lock order: gdb->lock is a leaf (taken by vCPU threads in a debug exit
 * and by status queries); never held while calling the run state. It
 * guards attached, quit, the pending stops and the software breakpoints'
 * table (which only this thread changes, while the vCPUs are paused).
 */
#include "gdbstub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "arch/x86/arch.h"
#include "error.h"
#include "gdb_arch.h"
#include "gdb_packet.h"
#include "kvm_ioctl.h"
#include "runstate.h"
#include "vm.h"

#define GDB_MAX_SW 64
#define GDB_WAIT_MS 5000 /* for the vCPUs to pause */
#define GDB_SEND_S 10    /* a client that reads nothing for this long goes */

/* A debug exit not reported yet (under gdb->lock). */
struct gdb_stop {
    bool pending;
    uint32_t exception;
    uint64_t pc, dr6;
};

/* A software breakpoint: the byte int3 replaced. */
struct gdb_sw {
    uint64_t addr, gpa;
    uint8_t saved;
};

struct kvmrun_gdb {
    struct kvmrun_vm *vm;
    int listen_fd, client_fd, wake_fd;
    pthread_t thread;
    bool thread_live;
    char where[128];
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* unix only */
    pthread_mutex_t lock; /* leaf: attached, quit, stops */
    bool attached, quit;
    struct gdb_stop *stops; /* one per vCPU */
    /* The stub thread's own. */
    bool running;           /* the guest runs for gdb: a stop is awaited */
    unsigned gcpu, ccpu;    /* Hg's and Hc's vCPU */
    enum gdb_layout layout; /* fixed per connection (target.xml) */
    bool blockirq, noack, swbreak, hwbreak;
    struct gdb_sw sw[GDB_MAX_SW];
    unsigned nsw;
    struct gdb_hw hw[GDB_NHW];
    struct gdbp_rx rx;
    size_t outlen;
    char out[2 * GDBP_MAX + 8]; /* the last packet sent, for a NAK */
    char reply[GDBP_MAX + 1];
};

/* ---- The vCPU threads' side ---- */

int gdbstub_debug_exit(struct kvmrun_vcpu *v)
{
    struct kvmrun_gdb *g = v->vm->gdb;
    struct kvm_run *run = v->run;
    uint64_t one = 1;
    bool attached;

    if (!g)
        return -ENODEV;
    pthread_mutex_lock(&g->lock);
    attached = g->attached;
    if (attached && !g->stops[v->index].pending) {
        g->stops[v->index] =
            (struct gdb_stop){true, run->debug.arch.exception,
                              run->debug.arch.pc, run->debug.arch.dr6};
    }
    pthread_mutex_unlock(&g->lock);
    if (!attached)
        return 0; /* a late exit after a detach: nothing is armed now */
    runstate_hold_vcpu(v->vm, KVMRUN_HOLD_GDB);
    if (write(g->wake_fd, &one, sizeof(one)) < 0)
        return 0; /* the counter cannot overflow */
    return 0;
}

int gdbstub_emulation_failure(struct kvmrun_vcpu *v)
{
    struct kvmrun_gdb *g = v->vm->gdb;
    uint64_t pc, one = 1;
    bool ours = false;

    if (!g || arch_vcpu_pc(v->fd, &pc) < 0)
        return -ENODEV;
    pthread_mutex_lock(&g->lock);
    for (unsigned i = 0; g->attached && i < g->nsw; i++)
        ours |= g->sw[i].addr == pc;
    if (ours && !g->stops[v->index].pending)
        g->stops[v->index] = (struct gdb_stop){true, 3, pc, 0};
    pthread_mutex_unlock(&g->lock);
    if (!ours)
        return -ENODEV;
    runstate_hold_vcpu(v->vm, KVMRUN_HOLD_GDB);
    if (write(g->wake_fd, &one, sizeof(one)) < 0)
        return 0;
    return 0;
}

/* ---- Sending ---- */

static void gdb_send_raw(struct kvmrun_gdb *g, const char *buf, size_t len)
{
    while (len && g->client_fd >= 0) {
        ssize_t n = send(g->client_fd, buf, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* Gone, or not reading for GDB_SEND_S: the next recv sees the
             * end and the session ends (the guest runs on). */
            shutdown(g->client_fd, SHUT_RDWR);
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

static void gdb_send(struct kvmrun_gdb *g, const char *body)
{
    g->outlen = gdbp_frame(body, strlen(body), g->out, sizeof(g->out));
    gdb_send_raw(g, g->out, g->outlen);
}

static void gdb_sendf(struct kvmrun_gdb *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void gdb_sendf(struct kvmrun_gdb *g, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(g->reply, sizeof(g->reply), fmt, ap);
    va_end(ap);
    gdb_send(g, g->reply);
}

/* An error reply: E and errno's two hex digits (gdb shows the number). */
static void gdb_error(struct kvmrun_gdb *g, int err)
{
    gdb_sendf(g, "E%02x", (err < 0 ? -err : err) & 0xff);
}

/* ---- Run state ---- */

static int gdb_vcpu_fd(struct kvmrun_gdb *g, unsigned i)
{
    return g->vm->vcpus[i].fd;
}

/* Sets gdb's hold and waits for every vCPU to pause. */
static void gdb_hold(struct kvmrun_gdb *g)
{
    int laggard = -1;

    runstate_hold(g->vm, KVMRUN_HOLD_GDB);
    if (runstate_wait_target(g->vm, KVMRUN_HOLD_GDB, GDB_WAIT_MS, &laggard,
                             NULL) == RUNSTATE_TIMED_OUT)
        kvmrun_vm_log(g->vm, KVMRUN_LOG_WARN,
                      "gdb: vcpu%d did not pause within %u ms", laggard,
                      GDB_WAIT_MS);
}

/* Arms every vCPU's debugging for a run (step: the vCPU that single-steps,
 * or -1), then lets them run. */
static void gdb_resume(struct kvmrun_gdb *g, int step)
{
    for (unsigned i = 0; i < g->vm->ncpus; i++)
        if (gdb_arch_set_debug(gdb_vcpu_fd(g, i), true, g->nsw > 0, g->hw,
                               (int)i == step, g->blockirq) < 0)
            kvmrun_vm_log(g->vm, KVMRUN_LOG_WARN, "gdb: %s",
                          kvmrun_last_error());
    g->running = true;
    runstate_release(g->vm, KVMRUN_HOLD_GDB);
}

static int gdb_find_sw(struct kvmrun_gdb *g, uint64_t addr)
{
    for (unsigned i = 0; i < g->nsw; i++)
        if (g->sw[i].addr == addr)
            return (int)i;
    return -1;
}

/* Puts back every byte int3 replaced (where it is still int3). */
static void gdb_remove_all(struct kvmrun_gdb *g)
{
    for (unsigned i = 0; i < g->nsw; i++) {
        uint8_t *p = mem_ptr(&g->vm->mem, g->sw[i].gpa, 1);

        if (p && *p == GDB_BP_INSN)
            *p = g->sw[i].saved;
    }
    pthread_mutex_lock(&g->lock);
    g->nsw = 0;
    pthread_mutex_unlock(&g->lock);
    memset(g->hw, 0, sizeof(g->hw));
}

/* Ends a session (detach, a dropped connection, kvmrun's end): every
 * breakpoint removed, debugging off, the guest runs unless release is
 * false (the VM has ended). */
static void gdb_end_session(struct kvmrun_gdb *g, bool release)
{
    if (g->running && release)
        gdb_hold(g);
    gdb_remove_all(g);
    for (unsigned i = 0; release && i < g->vm->ncpus; i++)
        gdb_arch_set_debug(gdb_vcpu_fd(g, i), false, false, NULL, false, false);
    pthread_mutex_lock(&g->lock);
    g->attached = false;
    memset(g->stops, 0, g->vm->ncpus * sizeof(*g->stops));
    pthread_mutex_unlock(&g->lock);
    close(g->client_fd);
    g->client_fd = -1;
    g->running = false;
    if (release)
        runstate_release(g->vm, KVMRUN_HOLD_GDB);
}

/* ---- Stops ---- */

/* The first pending stop (its vCPU, or -1); the others are dropped: an
 * instruction breakpoint is a fault, so its vCPU hits it again. */
static int gdb_take_stop(struct kvmrun_gdb *g, struct gdb_stop *out)
{
    int cpu = -1;

    pthread_mutex_lock(&g->lock);
    for (unsigned i = 0; i < g->vm->ncpus; i++) {
        if (g->stops[i].pending && cpu < 0) {
            cpu = (int)i;
            *out = g->stops[i];
        }
        g->stops[i].pending = false;
    }
    pthread_mutex_unlock(&g->lock);
    return cpu;
}

static void gdb_report(struct kvmrun_gdb *g, int cpu, int sig, const char *why)
{
    g->running = false;
    g->gcpu = g->ccpu = (unsigned)cpu;
    gdb_sendf(g, "T%02xthread:%x;%s", sig, cpu + 1, why);
}

/* A stop in a debug register: its reason for the stop reply. */
static void gdb_hw_reason(struct kvmrun_gdb *g, int i, char *why, size_t cap)
{
    static const char *const names[] = {"", "", "watch", "rwatch", "awatch"};
    const struct gdb_hw *h = &g->hw[i];

    if (!h->used || h->type == 1)
        snprintf(why, cap, "%s", g->hwbreak ? "hwbreak:;" : "");
    else
        snprintf(why, cap, "%s:%llx;", names[h->type],
                 (unsigned long long)h->addr);
}

/* After a vCPU's debug exit: reports it, or re-injects a #BP that is the
 * guest's own and lets the guest run on. */
static void gdb_on_stop(struct kvmrun_gdb *g)
{
    struct gdb_stop s;
    char why[64] = "";
    int hw = -1, cpu;
    enum gdb_exit_kind kind;

    gdb_hold(g);
    if ((cpu = gdb_take_stop(g, &s)) < 0) {
        runstate_release(g->vm, KVMRUN_HOLD_GDB); /* nothing to report */
        return;
    }
    kind = gdb_arch_exit_kind(s.exception, s.dr6, &hw);
    if (kind == GDB_EXIT_SW && gdb_find_sw(g, s.pc) < 0) {
        if (gdb_arch_inject_bp(gdb_vcpu_fd(g, (unsigned)cpu), g->hw,
                               g->nsw > 0) < 0)
            kvmrun_vm_log(g->vm, KVMRUN_LOG_WARN, "gdb: %s",
                          kvmrun_last_error());
        runstate_release(g->vm, KVMRUN_HOLD_GDB);
        return;
    }
    if (kind == GDB_EXIT_SW && g->swbreak)
        snprintf(why, sizeof(why), "swbreak:;");
    else if (kind == GDB_EXIT_HW)
        gdb_hw_reason(g, hw, why, sizeof(why));
    gdb_report(g, cpu, 5, why);
}

/* Ctrl-C: stops the guest and says so (a debug exit meanwhile wins). */
static void gdb_interrupt(struct kvmrun_gdb *g)
{
    bool pending = false;

    if (!g->running)
        return;
    gdb_hold(g);
    pthread_mutex_lock(&g->lock);
    for (unsigned i = 0; i < g->vm->ncpus; i++)
        pending |= g->stops[i].pending;
    pthread_mutex_unlock(&g->lock);
    if (pending)
        gdb_on_stop(g);
    else
        gdb_report(g, (int)g->ccpu, 2, "");
}

/* ---- Memory ---- */

/* Reads or writes guest-virtual [gva, gva + len) as Hg's vCPU sees it,
 * page by page: 0 or -EFAULT (not mapped, not RAM). */
static int gdb_mem(struct kvmrun_gdb *g, uint64_t gva, uint8_t *buf, size_t len,
                   bool write)
{
    int fd = gdb_vcpu_fd(g, g->gcpu);

    while (len) {
        size_t n = 4096 - (gva & 4095);
        uint64_t gpa;
        uint8_t *p;

        n = n < len ? n : len;
        if (gdb_arch_translate(fd, gva, &gpa) < 0 ||
            !(p = mem_ptr(&g->vm->mem, gpa, n)))
            return -EFAULT;
        if (write)
            memcpy(p, buf, n);
        else
            memcpy(buf, p, n);
        gva += n;
        buf += n;
        len -= n;
    }
    return 0;
}

/* gdb sees (and writes) the guest's bytes, not the int3 in their place. */
static void gdb_shadow(struct kvmrun_gdb *g, uint64_t gva, uint8_t *buf,
                       size_t len, bool write)
{
    for (unsigned i = 0; i < g->nsw; i++) {
        uint64_t off = g->sw[i].addr - gva;

        if (g->sw[i].addr < gva || off >= len)
            continue;
        if (write) {
            g->sw[i].saved = buf[off];
            buf[off] = GDB_BP_INSN;
        } else {
            buf[off] = g->sw[i].saved;
        }
    }
}

static void gdb_read_mem(struct kvmrun_gdb *g, const char *args)
{
    static uint8_t data[GDBP_MAX / 2];
    uint64_t addr, len;

    if (gdbp_addr_len(&args, 0, &addr, &len) < 0)
        return gdb_error(g, EINVAL);
    len = len < sizeof(data) ? len : sizeof(data);
    if (gdb_mem(g, addr, data, len, false) < 0)
        return gdb_error(g, EFAULT);
    gdb_shadow(g, addr, data, len, false);
    gdbp_hex_encode(data, len, g->reply);
    gdb_send(g, g->reply);
}

/* M (hex) and X (binary) writes. */
static void gdb_write_mem(struct kvmrun_gdb *g, const char *args,
                          size_t args_len, bool binary)
{
    static uint8_t data[GDBP_MAX];
    const char *start = args;
    uint64_t addr, len;
    size_t rest;

    if (gdbp_addr_len(&args, ':', &addr, &len) < 0 || len > sizeof(data))
        return gdb_error(g, EINVAL);
    rest = args_len - (size_t)(args - start);
    if (binary ? gdbp_unescape(args, rest, data, len) < 0
               : rest != 2 * len || gdbp_hex_decode(args, len, data) < 0)
        return gdb_error(g, EINVAL);
    gdb_shadow(g, addr, data, len, true);
    if (len && gdb_mem(g, addr, data, len, true) < 0)
        return gdb_error(g, EFAULT);
    gdb_send(g, "OK");
}

/* ---- Registers ---- */

static void gdb_read_regs(struct kvmrun_gdb *g)
{
    uint8_t data[GDBP_MAX / 2];
    int n = gdb_arch_read_all(gdb_vcpu_fd(g, g->gcpu), g->layout, data,
                              sizeof(data));

    if (n < 0)
        return gdb_error(g, n);
    gdbp_hex_encode(data, (size_t)n, g->reply);
    gdb_send(g, g->reply);
}

static void gdb_write_regs(struct kvmrun_gdb *g, const char *hex, size_t len)
{
    uint8_t data[GDBP_MAX / 2];
    int r;

    if (len % 2 || len / 2 > sizeof(data) ||
        gdbp_hex_decode(hex, len / 2, data) < 0)
        return gdb_error(g, EINVAL);
    r = gdb_arch_write_all(gdb_vcpu_fd(g, g->gcpu), g->layout, data, len / 2);
    r < 0 ? gdb_error(g, r) : gdb_send(g, "OK");
}

static void gdb_read_reg(struct kvmrun_gdb *g, const char *args)
{
    uint8_t data[16];
    uint64_t regno;
    int n;

    if (gdbp_hex_u64(&args, &regno) < 0 || *args || regno > 255)
        return gdb_error(g, EINVAL);
    n = gdb_arch_read_one(gdb_vcpu_fd(g, g->gcpu), g->layout, (unsigned)regno,
                          data);
    if (n < 0)
        return gdb_error(g, n);
    gdbp_hex_encode(data, (size_t)n, g->reply);
    gdb_send(g, g->reply);
}

static void gdb_write_reg(struct kvmrun_gdb *g, const char *args)
{
    uint8_t data[16];
    uint64_t regno;
    size_t n;
    int r;

    if (gdbp_hex_u64(&args, &regno) < 0 || *args++ != '=' || regno > 255 ||
        (n = strlen(args)) % 2 || n / 2 > sizeof(data) ||
        gdbp_hex_decode(args, n / 2, data) < 0)
        return gdb_error(g, EINVAL);
    r = gdb_arch_write_one(gdb_vcpu_fd(g, g->gcpu), g->layout, (unsigned)regno,
                           data, n / 2);
    r < 0 ? gdb_error(g, r) : gdb_send(g, "OK");
}

/* ---- Breakpoints ---- */

static int gdb_insert_sw(struct kvmrun_gdb *g, uint64_t addr)
{
    uint64_t gpa;
    uint8_t *p;

    if (gdb_find_sw(g, addr) >= 0)
        return 0;
    if (g->nsw >= GDB_MAX_SW)
        return -ENOSPC;
    if (gdb_arch_translate(gdb_vcpu_fd(g, g->gcpu), addr, &gpa) < 0 ||
        !(p = mem_ptr(&g->vm->mem, gpa, 1)))
        return -EFAULT;
    pthread_mutex_lock(&g->lock); /* gdbstub_emulation_failure reads it */
    g->sw[g->nsw++] = (struct gdb_sw){addr, gpa, *p};
    pthread_mutex_unlock(&g->lock);
    *p = GDB_BP_INSN;
    return 0;
}

static int gdb_remove_sw(struct kvmrun_gdb *g, uint64_t addr)
{
    int i = gdb_find_sw(g, addr);
    uint8_t *p;

    if (i < 0)
        return 0;
    p = mem_ptr(&g->vm->mem, g->sw[i].gpa, 1);
    if (p && *p == GDB_BP_INSN)
        *p = g->sw[i].saved;
    pthread_mutex_lock(&g->lock);
    g->sw[i] = g->sw[--g->nsw];
    pthread_mutex_unlock(&g->lock);
    return 0;
}

static int gdb_insert_hw(struct kvmrun_gdb *g, int type, uint64_t addr,
                         uint64_t len)
{
    int free_slot = -1;

    if (type == 1)
        len = 1;
    else if ((len != 1 && len != 2 && len != 4 && len != 8) || addr % len)
        return -EINVAL; /* what one debug register can watch */
    for (int i = GDB_NHW - 1; i >= 0; i--) {
        if (g->hw[i].used && g->hw[i].type == type && g->hw[i].addr == addr &&
            g->hw[i].len == len)
            return 0;
        if (!g->hw[i].used)
            free_slot = i;
    }
    if (free_slot < 0)
        return -ENOSPC;
    g->hw[free_slot] = (struct gdb_hw){true, type, addr, (unsigned)len};
    return 0;
}

static int gdb_remove_hw(struct kvmrun_gdb *g, int type, uint64_t addr)
{
    for (int i = 0; i < GDB_NHW; i++)
        if (g->hw[i].used && g->hw[i].type == type && g->hw[i].addr == addr)
            g->hw[i].used = false;
    return 0;
}

static void gdb_breakpoint(struct kvmrun_gdb *g, const char *pkt)
{
    uint64_t addr, kind;
    int type, r;
    bool insert = pkt[0] == 'Z';

    if (gdbp_break(pkt, &type, &addr, &kind) < 0)
        return gdb_error(g, EINVAL);
    if (type == 0)
        r = insert ? gdb_insert_sw(g, addr) : gdb_remove_sw(g, addr);
    else
        r = insert ? gdb_insert_hw(g, type, addr, kind)
                   : gdb_remove_hw(g, type, addr);
    r < 0 ? gdb_error(g, r) : gdb_send(g, "OK");
}

/* ---- Threads and resuming ---- */

/* gdb's thread id for a vCPU index: index + 1 (0 and -1 are special). */
static int gdb_cpu_of(struct kvmrun_gdb *g, long tid, unsigned *cpu)
{
    if (tid <= 0)
        return 0; /* any, all: the selection stays */
    if ((unsigned long)tid > g->vm->ncpus)
        return -1;
    *cpu = (unsigned)tid - 1;
    return 0;
}

static void gdb_set_thread(struct kvmrun_gdb *g, const char *pkt)
{
    long tid;
    unsigned *which = pkt[1] == 'g' ? &g->gcpu : &g->ccpu;

    if ((pkt[1] != 'g' && pkt[1] != 'c') || gdbp_thread(pkt + 2, &tid) < 0 ||
        gdb_cpu_of(g, tid, which) < 0)
        return gdb_error(g, EINVAL);
    gdb_send(g, "OK");
}

static void gdb_vcont(struct kvmrun_gdb *g, const char *s)
{
    struct gdbp_vcont vc;
    int step = -1;
    unsigned cpu;

    if (strcmp(s, "?") == 0)
        return gdb_send(g, "vCont;c;C;s;S;t");
    if (gdbp_vcont(s, &vc) < 0)
        return gdb_error(g, EINVAL);
    /* All-stop: the guest runs as a whole; one vCPU at most steps. */
    for (unsigned i = 0; i < vc.n && step < 0; i++) {
        if (vc.a[i].action != 's')
            continue;
        cpu = g->ccpu;
        if (gdb_cpu_of(g, vc.a[i].tid, &cpu) < 0)
            return gdb_error(g, EINVAL);
        step = (int)cpu;
    }
    if (step < 0 && vc.n && vc.a[0].action == 't')
        return gdb_send(g, "OK"); /* stopping a stopped guest */
    gdb_resume(g, step);
}

static void gdb_thread_info(struct kvmrun_gdb *g)
{
    size_t o = 0;

    g->reply[o++] = 'm';
    for (unsigned i = 0; i < g->vm->ncpus && o < sizeof(g->reply) - 16; i++)
        o += (size_t)snprintf(g->reply + o, sizeof(g->reply) - o, "%s%x",
                              i ? "," : "", i + 1);
    g->reply[o] = 0;
    gdb_send(g, g->reply);
}

/* ---- Queries ---- */

static void gdb_xfer(struct kvmrun_gdb *g, const char *pkt)
{
    char annex[32];
    uint64_t off, len;
    const char *xml;
    size_t size;

    if (gdbp_xfer(pkt, annex, sizeof(annex), &off, &len) < 0)
        return gdb_error(g, EINVAL);
    if (strcmp(annex, "target.xml") != 0)
        return gdb_error(g, ENOENT);
    xml = gdb_arch_xml(g->layout);
    size = strlen(xml);
    if (off >= size)
        return gdb_send(g, "l");
    len = len < GDBP_MAX - 1 ? len : GDBP_MAX - 1;
    len = len < size - off ? len : size - off;
    g->reply[0] = off + len < size ? 'm' : 'l';
    memcpy(g->reply + 1, xml + off, len);
    g->reply[len + 1] = 0;
    gdb_send(g, g->reply);
}

static void gdb_supported(struct kvmrun_gdb *g, const char *pkt)
{
    g->swbreak = strstr(pkt, "swbreak+") != NULL;
    g->hwbreak = strstr(pkt, "hwbreak+") != NULL;
    gdb_sendf(g,
              "PacketSize=%x;qXfer:features:read+;QStartNoAckMode+;"
              "vContSupported+%s%s",
              GDBP_MAX, g->swbreak ? ";swbreak+" : "",
              g->hwbreak ? ";hwbreak+" : "");
}

static void gdb_query(struct kvmrun_gdb *g, const char *pkt)
{
    if (strncmp(pkt, "qSupported", 10) == 0)
        gdb_supported(g, pkt);
    else if (strncmp(pkt, "qXfer:features:read:", 20) == 0)
        gdb_xfer(g, pkt);
    else if (strcmp(pkt, "qfThreadInfo") == 0)
        gdb_thread_info(g);
    else if (strcmp(pkt, "qsThreadInfo") == 0)
        gdb_send(g, "l");
    else if (strcmp(pkt, "qC") == 0)
        gdb_sendf(g, "QC%x", g->ccpu + 1);
    else if (strncmp(pkt, "qAttached", 9) == 0)
        gdb_send(g, "1"); /* detaching leaves the guest running */
    else if (strncmp(pkt, "qSymbol", 7) == 0)
        gdb_send(g, "OK");
    else
        gdb_send(g, "");
}

static void gdb_kill(struct kvmrun_gdb *g)
{
    runstate_end(g->vm, -1, KVMRUN_END_STOPPED, KVMRUN_STOP_GDB,
                 "killed by gdb", "");
    gdb_end_session(g, false);
}

/* ---- Dispatch ---- */

static void gdb_alive(struct kvmrun_gdb *g, const char *s)
{
    long tid;
    unsigned cpu;

    if (gdbp_thread(s, &tid) < 0 || tid <= 0 || gdb_cpu_of(g, tid, &cpu) < 0)
        return gdb_error(g, ENOENT);
    gdb_send(g, "OK");
}

static void gdb_v(struct kvmrun_gdb *g, const char *pkt)
{
    if (strncmp(pkt, "vCont", 5) == 0)
        gdb_vcont(g, pkt + 5);
    else if (strncmp(pkt, "vKill", 5) == 0) {
        gdb_send(g, "OK"); /* unlike k, vKill wants a reply */
        gdb_kill(g);
    } else
        gdb_send(g, ""); /* vMustReplyEmpty and the rest */
}

static void gdb_stopped_packet(struct kvmrun_gdb *g, char *pkt, size_t len)
{
    switch (pkt[0]) {
    case '?':
        return gdb_sendf(g, "T05thread:%x;", g->ccpu + 1);
    case 'g':
        return gdb_read_regs(g);
    case 'G':
        return gdb_write_regs(g, pkt + 1, len - 1);
    case 'p':
        return gdb_read_reg(g, pkt + 1);
    case 'P':
        return gdb_write_reg(g, pkt + 1);
    case 'm':
        return gdb_read_mem(g, pkt + 1);
    case 'M':
    case 'X':
        return gdb_write_mem(g, pkt + 1, len - 1, pkt[0] == 'X');
    case 'c':
    case 'C':
        return gdb_resume(g, -1);
    case 's':
    case 'S':
        return gdb_resume(g, (int)g->ccpu);
    case 'v':
        return gdb_v(g, pkt);
    case 'H':
        return gdb_set_thread(g, pkt);
    case 'T':
        return gdb_alive(g, pkt + 1);
    case 'q':
        return gdb_query(g, pkt);
    case 'Q':
        if (strcmp(pkt, "QStartNoAckMode") == 0) {
            gdb_send(g, "OK");
            g->noack = true;
            return;
        }
        return gdb_send(g, "");
    case 'Z':
    case 'z':
        return gdb_breakpoint(g, pkt);
    case 'k':
        return gdb_kill(g);
    case 'D':
        gdb_send(g, "OK");
        return gdb_end_session(g, true);
    default:
        return gdb_send(g, "");
    }
}

static void gdb_packet(struct kvmrun_gdb *g, char *pkt, size_t len)
{
    if (!g->noack)
        gdb_send_raw(g, "+", 1);
    if (g->running) {
        /* Only a stop (Ctrl-C) or a kill means anything now. */
        if (pkt[0] == 'k' || strncmp(pkt, "vKill", 5) == 0)
            gdb_kill(g);
        return;
    }
    gdb_stopped_packet(g, pkt, len);
}

/* Reads what the client sent and acts on each packet or byte. */
static void gdb_client_input(struct kvmrun_gdb *g)
{
    uint8_t buf[4096];
    ssize_t n = recv(g->client_fd, buf, sizeof(buf), 0);

    if (n < 0 && errno == EINTR)
        return;
    if (n <= 0)
        return gdb_end_session(g, true); /* dropped: the guest runs on */
    for (ssize_t i = 0; i < n && g->client_fd >= 0; i++) {
        switch (gdbp_feed(&g->rx, buf[i])) {
        case GDBP_PACKET:
            gdb_packet(g, g->rx.buf, g->rx.len);
            break;
        case GDBP_BAD_CHECKSUM:
        case GDBP_OVERFLOW:
            if (!g->noack)
                gdb_send_raw(g, "-", 1);
            break;
        case GDBP_NAK:
            gdb_send_raw(g, g->out, g->outlen);
            break;
        case GDBP_INTERRUPT:
            gdb_interrupt(g);
            break;
        default:
            break;
        }
    }
}

/* ---- Connections ---- */

/* Unix sockets: root and kvmrun's own uid only. */
static bool gdb_peer_ok(struct kvmrun_gdb *g, int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (!g->path[0])
        return true;
    return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
           (cred.uid == 0 || cred.uid == getuid());
}

static void gdb_accept(struct kvmrun_gdb *g)
{
    int fd = accept4(g->listen_fd, NULL, NULL, SOCK_CLOEXEC), one = 1;

    if (fd < 0)
        return;
    if (g->client_fd >= 0 || !gdb_peer_ok(g, fd)) {
        /* One debugger at a time: a second one hears why (EBUSY, or
         * EACCES for another user), then EOF. */
        char why[16];
        size_t n =
            gdbp_frame(g->client_fd >= 0 ? "E10" : "E0d", 3, why, sizeof(why));

        if (send(fd, why, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
            n = 0; /* it goes anyway */
        close(fd);
        return;
    }
    if (!g->path[0])
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO,
               &(struct timeval){.tv_sec = GDB_SEND_S}, sizeof(struct timeval));
    g->client_fd = fd;
    gdbp_rx_init(&g->rx);
    g->noack = g->running = false;
    g->gcpu = g->ccpu = 0;
    g->nsw = 0;
    memset(g->hw, 0, sizeof(g->hw));
    pthread_mutex_lock(&g->lock);
    g->attached = true;
    pthread_mutex_unlock(&g->lock);
    gdb_hold(g);
    g->layout = gdb_arch_layout(gdb_vcpu_fd(g, 0));
}

/* The VM ended: a waiting gdb hears the exit code, then EOF. */
static void gdb_vm_ended(struct kvmrun_gdb *g)
{
    if (g->client_fd < 0)
        return;
    if (g->running) {
        struct kvmrun_outcome o;

        pthread_mutex_lock(&g->vm->lock);
        o = g->vm->outcome;
        pthread_mutex_unlock(&g->vm->lock);
        gdb_sendf(g, "W%02x", (unsigned)(o.code & 0xff));
    }
    gdb_end_session(g, false);
}

static void *gdb_thread(void *arg)
{
    struct kvmrun_gdb *g = arg;
    uint64_t count;

    pthread_setname_np(pthread_self(), "gdb");
    for (;;) {
        struct pollfd p[4] = {{g->listen_fd, POLLIN, 0},
                              {g->client_fd, POLLIN, 0},
                              {g->wake_fd, POLLIN, 0},
                              {g->vm->event_fd, POLLIN, 0}};
        bool quit;

        if (poll(p, 4, -1) < 0 && errno != EINTR)
            break;
        /* The VM's end first: kvmrun_gdb_stop() comes after it, and a
         * waiting gdb must still hear how the guest ended. */
        if (p[3].revents) {
            gdb_vm_ended(g);
            break;
        }
        pthread_mutex_lock(&g->lock);
        quit = g->quit;
        pthread_mutex_unlock(&g->lock);
        if (quit)
            break;
        if (p[2].revents && read(g->wake_fd, &count, sizeof(count)) > 0 &&
            g->running)
            gdb_on_stop(g);
        if (p[1].revents && g->client_fd >= 0)
            gdb_client_input(g);
        if (p[0].revents)
            gdb_accept(g);
    }
    return NULL;
}

/* ---- Setup ---- */

/* "tcp:[HOST:]PORT": an IPv4 listening socket (HOST 127.0.0.1 unless
 * given; PORT 0 takes a free one, which where then names). */
static int gdb_listen_tcp(struct kvmrun_gdb *g, const char *spec)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    const char *colon = strrchr(spec, ':'), *port = colon ? colon + 1 : spec;
    char host[64] = "127.0.0.1", *end;
    socklen_t len = sizeof(sa);
    unsigned long p;
    int one = 1;

    if (colon && ((size_t)(colon - spec) >= sizeof(host) || colon == spec))
        return err_set(EINVAL, "--gdb tcp:%s: the host is not an address",
                       spec);
    if (colon)
        snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    errno = 0;
    p = strtoul(port, &end, 10);
    if (!*port || *end || errno || p > 65535)
        return err_set(EINVAL, "--gdb tcp:%s: '%s' is not a port (0-65535)",
                       spec, port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return err_set(EINVAL, "--gdb tcp:%s: '%s' is not an IPv4 address",
                       spec, host);
    sa.sin_port = htons((uint16_t)p);
    g->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (g->listen_fd < 0)
        return err_errno(errno, "--gdb tcp:%s: socket", spec);
    setsockopt(g->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(g->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(g->listen_fd, 1) < 0 ||
        getsockname(g->listen_fd, (struct sockaddr *)&sa, &len) < 0)
        return err_errno(errno, "--gdb tcp:%s", spec);
    snprintf(g->where, sizeof(g->where), "tcp:%s:%u", host, ntohs(sa.sin_port));
    return 0;
}

/* "unix:PATH": a socket made mode 0600; a stale one (nobody listening)
 * is replaced, anything else at PATH refused. */
static int gdb_listen_unix(struct kvmrun_gdb *g, const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;
    mode_t old;
    int r;

    if (!*path || strlen(path) >= sizeof(sa.sun_path))
        return err_set(EINVAL,
                       "--gdb unix:%s: not a socket path (1 to %zu "
                       "bytes)",
                       path, sizeof(sa.sun_path) - 1);
    memcpy(sa.sun_path, path, strlen(path));
    g->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (g->listen_fd < 0)
        return err_errno(errno, "--gdb unix:%s: socket", path);
    if (lstat(path, &st) == 0) {
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool stale = S_ISSOCK(st.st_mode) && probe >= 0 &&
                     connect(probe, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
                     errno == ECONNREFUSED;

        if (probe >= 0)
            close(probe);
        if (!stale)
            return err_set(EEXIST,
                           "--gdb unix:%s: the file exists (and is "
                           "not a stale socket)",
                           path);
        unlink(path);
    }
    old = umask(0177);
    r = bind(g->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (r < 0 || listen(g->listen_fd, 1) < 0)
        return err_errno(errno, "--gdb unix:%s", path);
    snprintf(g->path, sizeof(g->path), "%s", path);
    snprintf(g->where, sizeof(g->where), "unix:%s", path);
    return 0;
}

static int gdb_listen(struct kvmrun_gdb *g, const char *spec)
{
    if (strncmp(spec, "tcp:", 4) == 0)
        return gdb_listen_tcp(g, spec + 4);
    if (strncmp(spec, "unix:", 5) == 0)
        return gdb_listen_unix(g, spec + 5);
    return err_set(EINVAL,
                   "--gdb: '%s' is neither tcp:[HOST:]PORT nor "
                   "unix:PATH",
                   spec);
}

static void gdb_free(struct kvmrun_gdb *g)
{
    if (g->listen_fd >= 0)
        close(g->listen_fd);
    if (g->path[0])
        unlink(g->path);
    if (g->wake_fd >= 0)
        close(g->wake_fd);
    pthread_mutex_destroy(&g->lock);
    free(g->stops);
    free(g);
}

int kvmrun_gdb_start(struct kvmrun_vm *vm, const char *spec, int wait,
                     struct kvmrun_gdb **out)
{
    struct kvmrun_gdb *g;
    int r;

    if (vm->started || vm->gdb)
        return err_set(EBUSY, "--gdb: the VM already runs or has a stub");
    if (!(g = calloc(1, sizeof(*g))) ||
        !(g->stops = calloc(vm->ncpus, sizeof(*g->stops)))) {
        free(g);
        return err_set(ENOMEM, "--gdb: out of memory");
    }
    g->vm = vm;
    g->client_fd = g->listen_fd = -1;
    pthread_mutex_init(&g->lock, NULL);
    g->blockirq = (kvm_cap(vm->kvm_fd, KVM_CAP_SET_GUEST_DEBUG2) &
                   KVM_GUESTDBG_BLOCKIRQ) != 0;
    if ((g->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        r = err_errno(errno, "--gdb: eventfd");
        goto fail;
    }
    if ((r = gdb_listen(g, spec)) < 0)
        goto fail;
    if ((r = -kvmrun_thread_create(&g->thread, gdb_thread, g)) < 0) {
        r = err_set(-r, "--gdb: cannot start its thread: %s", strerror(-r));
        goto fail;
    }
    g->thread_live = true;
    if (wait) /* QEMU's -S: nothing runs until gdb continues */
        runstate_hold(vm, KVMRUN_HOLD_GDB);
    vm->gdb = g;
    *out = g;
    return 0;
fail:
    gdb_free(g);
    return r;
}

void kvmrun_gdb_stop(struct kvmrun_gdb *g)
{
    uint64_t one = 1;

    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->quit = true;
    pthread_mutex_unlock(&g->lock);
    if (write(g->wake_fd, &one, sizeof(one)) < 0)
        kvmrun_vm_log(g->vm, KVMRUN_LOG_WARN, "gdb: cannot wake its thread");
    if (g->thread_live)
        pthread_join(g->thread, NULL);
    if (g->client_fd >= 0)
        gdb_end_session(g, false);
    g->vm->gdb = NULL;
    gdb_free(g);
}

const char *kvmrun_gdb_where(const struct kvmrun_gdb *g)
{
    return g->where;
}

int kvmrun_vm_debugger(struct kvmrun_vm *vm, char *buf, size_t len)
{
    struct kvmrun_gdb *g = vm->gdb;
    bool attached;

    if (!g) {
        snprintf(buf, len, "none");
        return -1;
    }
    pthread_mutex_lock(&g->lock);
    attached = g->attached;
    pthread_mutex_unlock(&g->lock);
    snprintf(buf, len, "%s on %s", attached ? "attached" : "listening",
             g->where);
    return attached;
}
