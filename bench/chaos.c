/*
 * chaos.c: a soak of kvmrun's control paths under concurrent abuse.
 *
 * One kvmrun runs tests/guests/seq64 (vCPU 0 prints 0, 1, 2, ... a line
 * each; vCPU 1 spins) with --api. For the whole run, at random moments:
 * several clients send pause, resume, status, stats, regs and snapshot
 * over the control socket; SIGUSR2 toggles pause; the reader of the
 * guest's output stalls and resumes. Invariants, checked throughout:
 *
 *   - the VM never ends unasked, and no request times out;
 *   - the output is 0, 1, 2, ... with no gap, duplicate or stray byte;
 *   - kvmrun's resident memory and descriptor count stay flat;
 *   - every snapshot taken restores (a sample of them is booted with
 *     --restore: its output continues the sequence).
 *
 * At the end the VM must still run, print, and stop on SIGUSR1 with
 * status 0. Prints a summary and RESULT lines; exits 1 if an invariant
 * broke. Every wait is bounded (bench_watchdog on top).
 *
 * usage: chaos [-t SECONDS] [-n CLIENTS] [-r RESTORES] [-s SEED] BUILD_DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "bench.h"

const char *bench_name = "chaos";

#define MAX_CLIENTS 7 /* the control socket serves 8 */
#define MAX_SNAPS 4096
#define MAX_SAMPLES 4096
#define REPLY_TIMEOUT_MS 30000
#define WARMUP_S 5

enum op {
    OP_PAUSE,
    OP_RESUME,
    OP_STATUS,
    OP_STATS,
    OP_REGS,
    OP_SNAPSHOT,
    NOPS
};
static const char *const op_names[NOPS] = {"pause", "resume", "status",
                                           "stats", "regs",   "snapshot"};
/* Out of 100: how often each request is picked. */
static const unsigned op_weight[NOPS] = {22, 26, 18, 14, 10, 10};

struct chaos {
    const char *build;
    unsigned seconds, nclients, restores;
    unsigned seed;
    char dir[64], api[128], errlog[128], kvmrun[512], guest[512];
    pid_t pid;
    int out_fd;
    volatile int stop_clients; /* atomics: clients and the signaller */
    volatile int stop_reader;

    pthread_mutex_t lock; /* everything below */
    uint64_t ok[NOPS], refused[NOPS], failed[NOPS];
    unsigned failures;
    char *snaps[MAX_SNAPS];
    unsigned nsnaps;
    uint64_t usr2;

    /* The reader's, read by main after joining or racily for progress. */
    uint64_t lines, expect, stalls, stalled_ms;
    unsigned bad_output;
};

static void chaos_failure(struct chaos *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void chaos_failure(struct chaos *c, const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&c->lock);
    if (c->failures++ < 20) {
        fprintf(stderr, "chaos: FAILURE: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
    pthread_mutex_unlock(&c->lock);
}

static unsigned rnd(unsigned *seed, unsigned n)
{
    return (unsigned)rand_r(seed) % n;
}

static void sleep_ms(unsigned ms)
{
    bench_sleep_ns((uint64_t)ms * 1000000u);
}

/* ---- the guest's output ---- */

/* Checks each complete line is the next number. */
static void reader_take(struct chaos *c, const char *buf, size_t n,
                        uint64_t *cur, bool *digits)
{
    for (size_t i = 0; i < n; i++) {
        char ch = buf[i];

        if (ch >= '0' && ch <= '9') {
            *cur = *cur * 10 + (uint64_t)(ch - '0');
            *digits = true;
            continue;
        }
        if (ch != '\n' || !*digits) {
            if (c->bad_output++ < 5)
                chaos_failure(c, "output: stray byte %#x after line %llu",
                              (unsigned char)ch, (unsigned long long)c->lines);
            *cur = 0;
            *digits = false;
            continue;
        }
        if (*cur != c->expect && c->bad_output++ < 5)
            chaos_failure(c, "output: line %llu is %llu, expected %llu",
                          (unsigned long long)c->lines,
                          (unsigned long long)*cur,
                          (unsigned long long)c->expect);
        c->expect = *cur + 1;
        __atomic_store_n(&c->lines, c->lines + 1, __ATOMIC_RELAXED);
        *cur = 0;
        *digits = false;
    }
}

/* Reads the guest's output, stalling every 1-4 s for 0.3-4 s: the
 * pipe (one page) fills, then the UART's buffer, and the guest must wait,
 * not lose bytes, while pauses, snapshots and stops still work. */
static void *reader(void *arg)
{
    struct chaos *c = arg;
    unsigned seed = c->seed ^ 0x5eed;
    uint64_t cur = 0, next_stall = bench_now_ns() + 500000000u;
    bool digits = false;
    char buf[4096];

    for (;;) {
        struct pollfd p = {.fd = c->out_fd, .events = POLLIN};
        ssize_t n;

        if (!__atomic_load_n(&c->stop_reader, __ATOMIC_RELAXED) &&
            bench_now_ns() >= next_stall) {
            unsigned ms = 300 + rnd(&seed, 3700);

            sleep_ms(ms);
            c->stalls++;
            c->stalled_ms += ms;
            next_stall =
                bench_now_ns() + (1000 + rnd(&seed, 3000)) * 1000000ull;
            continue;
        }
        if (poll(&p, 1, 100) <= 0)
            continue;
        n = read(c->out_fd, buf, sizeof(buf));
        if (n == 0)
            break; /* kvmrun ended */
        if (n < 0) {
            if (errno == EINTR)
                continue;
            chaos_failure(c, "read of the guest's output: %s", strerror(errno));
            break;
        }
        reader_take(c, buf, (size_t)n, &cur, &digits);
    }
    return NULL;
}

/* ---- control-socket clients ---- */

static int client_connect(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Sends one request line, reads one reply line; NULL on a dead or silent
 * socket (the caller reports it). */
static json_t *client_call(int fd, const char *req, char *why, size_t whylen)
{
    char buf[65536];
    size_t len = 0, n = strlen(req);
    json_error_t jerr;

    if (send(fd, req, n, MSG_NOSIGNAL) != (ssize_t)n) {
        snprintf(why, whylen, "send: %s", strerror(errno));
        return NULL;
    }
    while (len < sizeof(buf) - 1) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t r;

        if (poll(&p, 1, REPLY_TIMEOUT_MS) <= 0) {
            snprintf(why, whylen, "no reply within %d ms", REPLY_TIMEOUT_MS);
            return NULL;
        }
        r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
        if (r <= 0) {
            snprintf(why, whylen, "connection closed");
            return NULL;
        }
        len += (size_t)r;
        if (memchr(buf, '\n', len))
            break;
    }
    buf[len] = 0;
    json_t *j = json_loads(buf, JSON_DISABLE_EOF_CHECK, &jerr);
    if (!j)
        snprintf(why, whylen, "bad reply: %.100s", jerr.text);
    return j;
}

static enum op pick_op(unsigned *seed)
{
    unsigned x = rnd(seed, 100), sum = 0;

    for (unsigned i = 0; i < NOPS; i++)
        if (x < (sum += op_weight[i]))
            return (enum op)i;
    return OP_STATUS;
}

static void client_note_snapshot(struct chaos *c, const char *path)
{
    pthread_mutex_lock(&c->lock);
    if (c->nsnaps < MAX_SNAPS)
        c->snaps[c->nsnaps++] = strdup(path);
    else
        unlink(path);
    pthread_mutex_unlock(&c->lock);
}

/* A reply: ok, refused for the state (EBUSY: regs while running, resume
 * during a snapshot), or a failure (a timeout, anything else). */
static void client_judge(struct chaos *c, enum op op, json_t *r,
                         const char *snap)
{
    json_t *ok = json_object_get(r, "ok");
    json_int_t code = json_integer_value(json_object_get(r, "code"));
    const char *err = json_string_value(json_object_get(r, "error"));

    pthread_mutex_lock(&c->lock);
    if (json_is_true(ok))
        c->ok[op]++;
    else if (code == 16)
        c->refused[op]++;
    else
        c->failed[op]++;
    pthread_mutex_unlock(&c->lock);
    if (json_is_true(ok) && op == OP_SNAPSHOT)
        client_note_snapshot(c, snap);
    else if (!json_is_true(ok) && code != 16)
        chaos_failure(c, "%s: %s (code %lld)", op_names[op], err ? err : "?",
                      (long long)code);
}

static void *client(void *arg)
{
    struct chaos *c = ((void **)arg)[0];
    unsigned id = (unsigned)(uintptr_t)((void **)arg)[1];
    unsigned seed = c->seed + id * 7919u, nsnap = 0;
    int fd = client_connect(c->api);
    char req[512], snap[256], why[128];

    if (fd < 0) {
        chaos_failure(c, "client %u: connect %s: %s", id, c->api,
                      strerror(errno));
        return NULL;
    }
    while (!__atomic_load_n(&c->stop_clients, __ATOMIC_RELAXED)) {
        enum op op = pick_op(&seed);
        json_t *r;

        snap[0] = 0;
        if (op == OP_SNAPSHOT) {
            snprintf(snap, sizeof(snap), "%s/snap-%u-%u", c->dir, id, nsnap++);
            snprintf(req, sizeof(req),
                     "{\"cmd\":\"snapshot\",\"path\":\"%s\"}\n", snap);
        } else if (op == OP_REGS) {
            snprintf(req, sizeof(req), "{\"cmd\":\"regs\",\"vcpu\":%u}\n",
                     rnd(&seed, 2));
        } else {
            snprintf(req, sizeof(req), "{\"cmd\":\"%s\"}\n", op_names[op]);
        }
        if (!(r = client_call(fd, req, why, sizeof(why)))) {
            chaos_failure(c, "client %u: %s: %s", id, op_names[op], why);
            break;
        }
        client_judge(c, op, r, snap);
        json_decref(r);
        sleep_ms(rnd(&seed, 40));
    }
    close(fd);
    return NULL;
}

/* SIGUSR2 now and then: kvmrun toggles pause, racing the clients. */
static void *signaller(void *arg)
{
    struct chaos *c = arg;
    unsigned seed = c->seed ^ 0x51c;

    while (!__atomic_load_n(&c->stop_clients, __ATOMIC_RELAXED)) {
        sleep_ms(20 + rnd(&seed, 400));
        if (kill(c->pid, SIGUSR2) == 0) {
            pthread_mutex_lock(&c->lock);
            c->usr2++;
            pthread_mutex_unlock(&c->lock);
        }
    }
    return NULL;
}

/* ---- kvmrun itself ---- */

static pid_t spawn(char *const argv[], int *out_fd, const char *errlog)
{
    int p[2];
    pid_t pid;

    if (pipe2(p, O_CLOEXEC) < 0)
        bench_fail("pipe: %s", strerror(errno));
    /* One page: a stalled reader backs up into kvmrun at once. */
    fcntl(p[0], F_SETPIPE_SZ, 4096);
    pid = fork();
    if (pid < 0)
        bench_fail("fork: %s", strerror(errno));
    if (pid == 0) {
        int err = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int null = open("/dev/null", O_RDONLY);

        if (err < 0 || null < 0 || dup2(null, 0) < 0 || dup2(p[1], 1) < 0 ||
            dup2(err, 2) < 0)
            _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    *out_fd = p[0];
    return pid;
}

/* Exit status of pid within ms, or -1 (it was then killed). */
static int reap(pid_t pid, unsigned ms)
{
    int st;

    for (unsigned t = 0; t < ms; t += 10) {
        pid_t r = waitpid(pid, &st, WNOHANG);

        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

/* VmRSS in KiB and the number of open descriptors of pid. */
static void sample(pid_t pid, long *rss_kib, long *fds)
{
    char path[64], line[256];
    FILE *f;
    DIR *d;

    *rss_kib = -1;
    *fds = 0;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if ((f = fopen(path, "r"))) {
        while (fgets(line, sizeof(line), f))
            if (sscanf(line, "VmRSS: %ld", rss_kib) == 1)
                break;
        fclose(f);
    }
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    if ((d = opendir(path))) {
        for (struct dirent *e; (e = readdir(d));)
            *fds += e->d_name[0] != '.';
        closedir(d);
    }
}

/* ---- restoring snapshots ---- */

/* Boots one snapshot: its output must continue the sequence (the first,
 * possibly partial, line aside) for a few lines; SIGUSR1 then stops it
 * with status 0. */
static bool restore_one(struct chaos *c, const char *snap)
{
    char *argv[] = {c->kvmrun, "--restore", (char *)snap, NULL};
    char errlog[192], buf[4096];
    size_t len = 0;
    int fd, st;
    pid_t pid;
    uint64_t t0 = bench_now_ns();
    unsigned complete = 0;

    snprintf(errlog, sizeof(errlog), "%s.stderr", snap);
    pid = spawn(argv, &fd, errlog);
    while (complete < 5 && len < sizeof(buf) - 1 &&
           bench_now_ns() - t0 < 20000000000ull) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;

        if (poll(&p, 1, 200) <= 0)
            continue;
        if ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) <= 0)
            break;
        len += (size_t)n;
        buf[len] = 0;
        complete = 0;
        for (char *q = buf; (q = strchr(q, '\n')); q++)
            complete++;
    }
    kill(pid, SIGUSR1);
    st = reap(pid, 10000);
    close(fd);
    buf[len] = 0;
    /* Skip the first line: the snapshot may have cut it. */
    char *p = strchr(buf, '\n');
    unsigned long long prev = 0;
    unsigned seen = 0;

    for (char *q; p && (q = strchr(p + 1, '\n')); p = q) {
        char *end;
        unsigned long long v = strtoull(p + 1, &end, 10);

        if (end != q || (seen && v != prev + 1)) {
            chaos_failure(c,
                          "restore %s: output does not continue the "
                          "sequence",
                          snap);
            return false;
        }
        prev = v;
        seen++;
    }
    if (seen < 2 || st != 0) {
        chaos_failure(c, "restore %s: %u lines, status %d (see %s)", snap, seen,
                      st, errlog);
        return false;
    }
    unlink(errlog);
    return true;
}

static unsigned restore_sample(struct chaos *c)
{
    unsigned n = c->nsnaps, want = c->restores < n ? c->restores : n, ok = 0;

    for (unsigned k = 0; k < want; k++) {
        /* Spread over the run: first, last, and evenly between. */
        unsigned i =
            want == 1 ? n - 1 : (unsigned)((uint64_t)k * (n - 1) / (want - 1));

        ok += restore_one(c, c->snaps[i]);
    }
    return ok;
}

/* ---- the run ---- */

static void usage(void)
{
    fprintf(stderr, "usage: chaos [-t SECONDS] [-n CLIENTS] [-r RESTORES] "
                    "[-s SEED] BUILD_DIR\n");
    exit(2);
}

static void parse(struct chaos *c, int argc, char **argv)
{
    int opt;

    c->seconds = 120;
    c->nclients = 4;
    c->restores = 10;
    c->seed = (unsigned)time(NULL);
    while ((opt = getopt(argc, argv, "t:n:r:s:")) != -1) {
        switch (opt) {
        case 't':
            c->seconds = (unsigned)bench_arg(optarg, 't');
            break;
        case 'n':
            c->nclients = (unsigned)bench_arg(optarg, 'n');
            break;
        case 'r':
            c->restores = (unsigned)bench_arg(optarg, 'r');
            break;
        case 's':
            c->seed = (unsigned)strtoul(optarg, NULL, 10);
            break;
        default:
            usage();
        }
    }
    if (optind != argc - 1 || c->nclients > MAX_CLIENTS)
        usage();
    c->build = argv[optind];
    snprintf(c->kvmrun, sizeof(c->kvmrun), "%s/kvmrun", c->build);
    snprintf(c->guest, sizeof(c->guest), "%s/guests/seq64.bin", c->build);
}

static void start_vm(struct chaos *c)
{
    char *argv[] = {c->kvmrun, "-c",     "2",      "-m",       "64M",
                    "--mode",  "long",   "--load", "0x100000", "--api",
                    c->api,    c->guest, NULL};

    snprintf(c->dir, sizeof(c->dir), "/tmp/kvmrun-chaos.XXXXXX");
    if (!mkdtemp(c->dir))
        bench_fail("mkdtemp: %s", strerror(errno));
    snprintf(c->api, sizeof(c->api), "%s/api", c->dir);
    snprintf(c->errlog, sizeof(c->errlog), "%s/stderr", c->dir);
    argv[10] = c->api;
    c->pid = spawn(argv, &c->out_fd, c->errlog);
    for (unsigned t = 0; access(c->api, F_OK) != 0; t++) {
        if (t > 1000 || waitpid(c->pid, NULL, WNOHANG) == c->pid)
            bench_fail("kvmrun made no control socket (see %s)", c->errlog);
        sleep_ms(10);
    }
}

/* After the storm: resume through the socket, see the output move, stop
 * with SIGUSR1. */
static void finish_vm(struct chaos *c)
{
    int fd = client_connect(c->api), st;
    char why[128];
    json_t *r =
        fd >= 0 ? client_call(fd, "{\"cmd\":\"resume\"}\n", why, sizeof(why))
                : NULL;
    uint64_t before = __atomic_load_n(&c->lines, __ATOMIC_RELAXED);

    if (!r)
        chaos_failure(c, "final resume: %s", fd < 0 ? "cannot connect" : why);
    else if (!json_is_true(json_object_get(r, "ok")) &&
             json_integer_value(json_object_get(r, "code")) != 16)
        chaos_failure(c, "final resume: %s",
                      json_string_value(json_object_get(r, "error")));
    json_decref(r);
    if (fd >= 0)
        close(fd);
    for (unsigned t = 0; t < 1000; t++) {
        if (__atomic_load_n(&c->lines, __ATOMIC_RELAXED) > before + 10)
            break;
        sleep_ms(10);
    }
    if (__atomic_load_n(&c->lines, __ATOMIC_RELAXED) <= before + 10)
        chaos_failure(c, "the guest does not print after the final resume");
    kill(c->pid, SIGUSR1);
    if ((st = reap(c->pid, 15000)) != 0)
        chaos_failure(c, "kvmrun's status after SIGUSR1 is %d, not 0", st);
}

/* Flat: the last samples against those just after the warm-up. */
static void judge_samples(struct chaos *c, const long *rss, const long *fds,
                          unsigned n, long *rss_growth, long *fd_growth)
{
    unsigned from = n > WARMUP_S + 1 ? WARMUP_S : 0;
    long rss0 = rss[from], fd0 = fds[from], rss1 = 0, fd1 = 0;

    for (unsigned i = n > 5 ? n - 5 : 0; i < n; i++) {
        rss1 = rss[i] > rss1 ? rss[i] : rss1;
        fd1 = fds[i] > fd1 ? fds[i] : fd1;
    }
    *rss_growth = rss1 - rss0;
    *fd_growth = fd1 - fd0;
    if (*rss_growth > 1024)
        chaos_failure(c, "resident memory grew by %ld KiB", *rss_growth);
    if (*fd_growth > 2)
        chaos_failure(c, "open descriptors grew by %ld", *fd_growth);
}

static void count_stderr(struct chaos *c, unsigned *lines, unsigned *odd)
{
    char line[512];
    FILE *f = fopen(c->errlog, "r");

    *lines = *odd = 0;
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        (*lines)++;
        if (strncmp(line, "kvmrun: paused", 14) != 0 &&
            strncmp(line, "kvmrun: resumed", 15) != 0 &&
            strncmp(line, "kvmrun: stopped by SIGUSR1", 26) != 0 &&
            strncmp(line, "kvmrun: pause superseded", 24) != 0 &&
            strncmp(line, "kvmrun: resume superseded", 25) != 0 && (*odd)++ < 5)
            fprintf(stderr, "chaos: kvmrun said: %s", line);
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    static long rss[MAX_SAMPLES], fds[MAX_SAMPLES];
    struct chaos c = {.lock = PTHREAD_MUTEX_INITIALIZER};
    pthread_t rd, sg, cl[MAX_CLIENTS];
    void *args[MAX_CLIENTS][2];
    unsigned n = 0, restored, errlines, odd;
    long rss_growth, fd_growth;
    uint64_t total = 0;

    parse(&c, argc, argv);
    bench_watchdog(c.seconds + 120 + 30 * c.restores);
    printf("chaos: %u s, %u clients, SIGUSR2 storm, stalling reader, seed "
           "%u; %s\n",
           c.seconds, c.nclients, c.seed, bench_host());
    fflush(stdout);
    start_vm(&c);
    pthread_create(&rd, NULL, reader, &c);
    for (unsigned i = 0; i < c.nclients; i++) {
        args[i][0] = &c;
        args[i][1] = (void *)(uintptr_t)i;
        pthread_create(&cl[i], NULL, client, args[i]);
    }
    pthread_create(&sg, NULL, signaller, &c);
    for (; n < c.seconds && n < MAX_SAMPLES; n++) {
        sleep_ms(1000);
        if (waitpid(c.pid, NULL, WNOHANG) == c.pid) {
            chaos_failure(&c, "kvmrun ended unasked after %u s", n);
            break;
        }
        sample(c.pid, &rss[n], &fds[n]);
    }
    __atomic_store_n(&c.stop_clients, 1, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < c.nclients; i++)
        pthread_join(cl[i], NULL);
    pthread_join(sg, NULL);
    __atomic_store_n(&c.stop_reader, 1, __ATOMIC_RELAXED);
    judge_samples(&c, rss, fds, n, &rss_growth, &fd_growth);
    finish_vm(&c);
    pthread_join(rd, NULL);
    count_stderr(&c, &errlines, &odd);
    restored = restore_sample(&c);

    printf("%-9s %8s %8s %8s\n", "request", "ok", "refused", "failed");
    for (unsigned i = 0; i < NOPS; i++) {
        printf("%-9s %8llu %8llu %8llu\n", op_names[i],
               (unsigned long long)c.ok[i], (unsigned long long)c.refused[i],
               (unsigned long long)c.failed[i]);
        total += c.ok[i] + c.refused[i] + c.failed[i];
    }
    printf("SIGUSR2 sent: %llu; reader stalls: %llu (%.1f s in all); "
           "output lines: %llu, %u bad\n",
           (unsigned long long)c.usr2, (unsigned long long)c.stalls,
           c.stalled_ms / 1e3, (unsigned long long)c.lines, c.bad_output);
    printf("kvmrun: RSS %ld -> %ld KiB, descriptors %ld -> %ld; %u stderr "
           "lines, %u unexpected\n",
           rss[n > WARMUP_S + 1 ? WARMUP_S : 0], rss[n ? n - 1 : 0],
           fds[n > WARMUP_S + 1 ? WARMUP_S : 0], fds[n ? n - 1 : 0], errlines,
           odd);
    printf("kvmrun's RSS (KiB) at each quarter of the run:");
    for (unsigned q = 1; q <= 4 && n; q++)
        printf(" %ld", rss[(n * q) / 4 - 1]);
    printf("\n");
    printf("snapshots: %u taken, %u of %u restored and continued the "
           "sequence\n",
           c.nsnaps, restored, c.restores < c.nsnaps ? c.restores : c.nsnaps);
    printf("RESULT chaos_requests %llu\n", (unsigned long long)total);
    printf("RESULT chaos_failures %u\n", c.failures);
    printf("RESULT chaos_output_lines %llu\n", (unsigned long long)c.lines);
    printf("RESULT chaos_rss_growth_kib %ld\n", rss_growth);
    printf("RESULT chaos_fd_growth %ld\n", fd_growth);
    printf("RESULT chaos_snapshots_restored %u\n", restored);
    for (unsigned i = 0; i < c.nsnaps; i++) {
        unlink(c.snaps[i]);
        free(c.snaps[i]);
    }
    unlink(c.errlog);
    rmdir(c.dir);
    return c.failures || c.bad_output || odd ? 1 : 0;
}
