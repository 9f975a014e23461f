/*
 * snapshot.c: the counter guest (tests/guests/counter.S) prints 0, 1, 2,
 * ... over the UART; a snapshot taken mid-run, restored into a new VM,
 * continues the sequence with no gap and no repeat. Taken while running
 * (the VM runs on afterwards) and while paused (it stays paused), with
 * one vCPU and with two (the second counts in guest memory, which must
 * come back too). A failed snapshot leaves the VM running. Pages on both
 * sides of the hole below 4 GiB come back where they were.
 *
 * usage: snapshot                 run every scenario
 *        snapshot save FILE OUT   save the counter mid-run into FILE (the
 *                                 VM paused), its output so far in OUT
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvmtest.h"

#define LIMIT 5000
#define COUNTERS 0x8000

static char expected[LIMIT * 6];
static size_t expected_len;
static char tmpdir[4096];

static void make_expected(void)
{
    for (int i = 0; i < LIMIT; i++)
        expected_len +=
            (size_t)snprintf(expected + expected_len,
                             sizeof(expected) - expected_len, "%d\n", i);
}

static int open_out(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0)
        FAILF("%s: %s", path, strerror(errno));
    return fd;
}

static size_t file_size(int fd)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        FAILF("fstat: %s", strerror(errno));
    return (size_t)st.st_size;
}

/* The whole output file; *len its size. */
static char *slurp(int fd, size_t *len)
{
    char *buf;

    *len = file_size(fd);
    buf = malloc(*len + 1);
    if (!buf || pread(fd, buf, *len, 0) != (ssize_t)*len)
        FAILF("cannot read the serial output");
    buf[*len] = 0;
    return buf;
}

static size_t count_lines(int fd)
{
    size_t len, n = 0;
    char *buf = slurp(fd, &len);

    for (size_t i = 0; i < len; i++)
        n += buf[i] == '\n';
    free(buf);
    return n;
}

static void wait_lines(int fd, size_t n)
{
    uint64_t deadline = test_now_ns() + 20000000000ULL;

    while (count_lines(fd) < n)
        if (test_now_ns() > deadline)
            FAILF("the counter printed fewer than %zu lines in 20 s", n);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static struct kvmrun_vm *counter_vm(unsigned ncpus, int serial_fd)
{
    struct kvmrun_config cfg;
    struct kvmrun_vm *vm;

    kvmrun_config_init(&cfg);
    cfg.mem_size = 16 << 20;
    cfg.ncpus = ncpus;
    cfg.serial_fd = serial_fd;
    CHECK(kvmrun_vm_create(&cfg, &vm));
    CHECK(kvmrun_load_raw_file(vm, test_guest("counter"), 0x1000));
    CHECK(kvmrun_boot_real(vm, 0x1000, 0x1000));
    return vm;
}

static uint64_t mem_counter(struct kvmrun_vm *vm, unsigned vcpu)
{
    volatile uint64_t *c = kvmrun_vm_mem(vm, COUNTERS + 8 * vcpu, 8);

    if (!c)
        FAILF("counter outside guest memory");
    return *c;
}

/* Waits (20 s at most) until the VM powers off. */
static void wait_poweroff(struct kvmrun_vm *vm, const char *what)
{
    struct pollfd pfd = {.fd = kvmrun_vm_event_fd(vm), .events = POLLIN};
    struct kvmrun_outcome out;

    if (poll(&pfd, 1, 20000) <= 0)
        FAILF("%s: the counter did not finish within 20 s", what);
    CHECK(kvmrun_vm_wait(vm, &out));
    if (out.end != KVMRUN_END_POWEROFF)
        FAILF("%s: the VM ended with %s, not a power-off", what, out.message);
}

/*
 * Restores file and runs it to the end: its output B must be the tail of
 * the expected sequence starting at byte P, lo <= P <= hi (the original
 * run's output length when the snapshot began and ended). With mem_ctr,
 * vCPU 1's memory counter must be back at *mem_ctr and move on.
 */
static void check_restore(const char *file, size_t lo, size_t hi,
                          const uint64_t *mem_ctr, const char *what)
{
    char out_path[4200];
    struct kvmrun_config cfg;
    struct kvmrun_vm *vm;
    size_t len, p;
    char *b;
    int fd;

    snprintf(out_path, sizeof(out_path), "%s/restored.out", tmpdir);
    fd = open_out(out_path);
    kvmrun_config_init(&cfg);
    cfg.serial_fd = fd;
    CHECK(kvmrun_vm_restore(&cfg, file, &vm));
    if (mem_ctr && mem_counter(vm, 1) != *mem_ctr)
        FAILF("%s: vcpu1's counter restored as %llu, saved %llu", what,
              (unsigned long long)mem_counter(vm, 1),
              (unsigned long long)*mem_ctr);
    CHECK(kvmrun_vm_start(vm));
    wait_poweroff(vm, what);
    if (mem_ctr && mem_counter(vm, 1) <= *mem_ctr)
        FAILF("%s: vcpu1's counter did not move after restore", what);
    kvmrun_vm_destroy(vm);
    b = slurp(fd, &len);
    close(fd);
    p = expected_len - (len <= expected_len ? len : 0);
    if (len > expected_len || memcmp(b, expected + p, len) != 0)
        FAILF("%s: the restored output is not the sequence's tail "
              "(%zu bytes, starting '%.12s')",
              what, len, b);
    if (p < lo || p > hi)
        FAILF("%s: the restored run starts at byte %zu of the sequence; "
              "the snapshot was taken between bytes %zu and %zu: %s",
              what, p, lo, hi, p < lo ? "a repeat" : "a gap");
    printf("snapshot: %s: the restored run continues at byte %zu of the "
           "sequence; the snapshot was taken at %zu..%zu\n",
           what, p, lo, hi);
    free(b);
}

static void check_prefix(int fd, const char *what)
{
    size_t len;
    char *a = slurp(fd, &len);

    if (len > expected_len || memcmp(a, expected, len) != 0)
        FAILF("%s: the original run's output is not the sequence", what);
    free(a);
}

static void check_sparse(const char *file)
{
    struct stat st;

    if (stat(file, &st) < 0)
        FAILF("%s: %s", file, strerror(errno));
    if (st.st_size > 256 * 1024)
        FAILF("%s: %lld bytes for a 16 MiB guest touching a few pages: "
              "memory is not saved sparsely",
              file, (long long)st.st_size);
}

/* Snapshot while running: the VM must run on, then is stopped. */
static void scenario_running(unsigned ncpus)
{
    char out[4200], file[4200], what[64];
    struct kvmrun_vm *vm;
    size_t lo, hi;
    int fd;

    snprintf(what, sizeof(what), "running, %u vCPU%s", ncpus,
             ncpus > 1 ? "s" : "");
    snprintf(out, sizeof(out), "%s/run.out", tmpdir);
    snprintf(file, sizeof(file), "%s/running.snap", tmpdir);
    fd = open_out(out);
    vm = counter_vm(ncpus, fd);
    CHECK(kvmrun_vm_start(vm));
    wait_lines(fd, 300);
    if (kvmrun_vm_snapshot(vm, "/nonexistent-dir/x.snap") >= 0)
        FAILF("a snapshot into a missing directory succeeded");
    if (strncmp(kvmrun_last_error(),
                "snapshot /nonexistent-dir/x.snap: cannot create "
                "/nonexistent-dir/x.snap.",
                72) != 0)
        FAILF("a failed snapshot says: %s", kvmrun_last_error());
    if (kvmrun_vm_paused(vm))
        FAILF("a failed snapshot left the VM paused");
    lo = file_size(fd);
    CHECK(kvmrun_vm_snapshot(vm, file));
    /* What the UART took before the snapshot may still be in kvmrun's
     * output buffer: once written, the file's size bounds it. */
    CHECK(kvmrun_vm_flush_output(vm));
    hi = file_size(fd);
    if (kvmrun_vm_paused(vm))
        FAILF("%s: the VM is still paused after the snapshot", what);
    {
        uint64_t deadline = test_now_ns() + 10000000000ULL;
        struct pollfd pfd = {.fd = kvmrun_vm_event_fd(vm), .events = POLLIN};

        while (file_size(fd) == hi && poll(&pfd, 1, 0) == 0)
            if (test_now_ns() > deadline)
                FAILF("%s: no output after the snapshot", what);
    }
    CHECK(kvmrun_vm_stop(vm, 0, 10000));
    kvmrun_vm_destroy(vm);
    check_prefix(fd, what);
    close(fd);
    check_sparse(file);
    check_restore(file, lo, hi, NULL, what);
}

/* Snapshot while paused: the VM must stay paused, output frozen. */
static void scenario_paused(unsigned ncpus)
{
    char out[4200], file[4200], what[64];
    struct kvmrun_vm *vm;
    uint64_t ctr = 0;
    size_t at;
    int fd;

    snprintf(what, sizeof(what), "paused, %u vCPU%s", ncpus,
             ncpus > 1 ? "s" : "");
    snprintf(out, sizeof(out), "%s/paused.out", tmpdir);
    snprintf(file, sizeof(file), "%s/paused.snap", tmpdir);
    fd = open_out(out);
    vm = counter_vm(ncpus, fd);
    CHECK(kvmrun_vm_start(vm));
    wait_lines(fd, 300);
    CHECK(kvmrun_vm_pause(vm, 10000));
    CHECK(kvmrun_vm_flush_output(vm)); /* the output up to the pause */
    at = file_size(fd);
    if (ncpus > 1)
        ctr = mem_counter(vm, 1);
    CHECK(kvmrun_vm_snapshot(vm, file));
    if (!kvmrun_vm_paused(vm))
        FAILF("%s: the VM was resumed by the snapshot", what);
    for (unsigned i = 0; i < ncpus; i++)
        if (strcmp(kvmrun_vcpu_state(kvmrun_vm_vcpu(vm, i)), "paused"))
            FAILF("%s: vcpu%u is %s after the snapshot", what, i,
                  kvmrun_vcpu_state(kvmrun_vm_vcpu(vm, i)));
    sleep_ms(50);
    if (file_size(fd) != at || (ncpus > 1 && mem_counter(vm, 1) != ctr))
        FAILF("%s: the guest ran on after the snapshot", what);
    CHECK(kvmrun_vm_resume(vm, 10000));
    wait_poweroff(vm, what);
    kvmrun_vm_destroy(vm);
    check_prefix(fd, what);
    close(fd);
    check_restore(file, at, at, ncpus > 1 ? &ctr : NULL, what);
}

/* A VM never started, with RAM above 4 GiB: pages on both sides of the
 * hole (the last of low RAM, the first at 4 GiB) come back where they
 * were, and nothing else is written to the file. */
static void scenario_high_ram(void)
{
    static const uint64_t marks[] = {0x1000, 0xbffff000, 0x100000000,
                                     0x1001ff000};
    struct kvmrun_config cfg;
    struct kvmrun_vm *vm;
    char file[4200];
    struct stat st;

    snprintf(file, sizeof(file), "%s/high.snap", tmpdir);
    kvmrun_config_init(&cfg);
    cfg.mem_size = (3ULL << 30) + (2ULL << 20);
    cfg.serial_fd = -1;
    CHECK(kvmrun_vm_create(&cfg, &vm));
    for (size_t i = 0; i < sizeof(marks) / sizeof(*marks); i++) {
        uint64_t *p = kvmrun_vm_mem(vm, marks[i], 4096);

        if (!p)
            FAILF("high RAM: %#llx is not RAM", (unsigned long long)marks[i]);
        p[0] = marks[i] ^ 0x5a5a;
        p[511] = ~marks[i];
    }
    CHECK(kvmrun_vm_snapshot(vm, file));
    kvmrun_vm_destroy(vm);
    if (stat(file, &st) < 0 || st.st_size > 4 * 4096 + 64 * 1024)
        FAILF("high RAM: the snapshot of 4 touched pages is %lld bytes",
              (long long)st.st_size);
    CHECK(kvmrun_vm_restore(&cfg, file, &vm));
    for (size_t i = 0; i < sizeof(marks) / sizeof(*marks); i++) {
        uint64_t *p = kvmrun_vm_mem(vm, marks[i], 4096);

        if (!p || p[0] != (marks[i] ^ 0x5a5a) || p[511] != ~marks[i])
            FAILF("high RAM: the page at %#llx did not come back",
                  (unsigned long long)marks[i]);
    }
    kvmrun_vm_destroy(vm);
    printf("snapshot: high RAM: 3 GiB + 2 MiB guest, 4 pages around the "
           "hole restored, %lld-byte file\n",
           (long long)st.st_size);
}

/* For snapshot_cli.sh: a snapshot of the paused counter, and its output
 * so far. */
static int save_only(const char *file, const char *out)
{
    int fd = open_out(out);
    struct kvmrun_vm *vm = counter_vm(1, fd);

    CHECK(kvmrun_vm_start(vm));
    wait_lines(fd, 200);
    CHECK(kvmrun_vm_pause(vm, 10000));
    CHECK(kvmrun_vm_snapshot(vm, file));
    CHECK(kvmrun_vm_stop(vm, 0, 10000));
    kvmrun_vm_destroy(vm);
    close(fd);
    return 0;
}

static void remove_tmpdir(void)
{
    static const char *const names[] = {"run.out",      "running.snap",
                                        "paused.out",   "paused.snap",
                                        "restored.out", "high.snap"};
    char path[4200];

    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
        snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
        unlink(path);
    }
    rmdir(tmpdir);
}

int main(int argc, char **argv)
{
    const char *t = getenv("TMPDIR");

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 4 && strcmp(argv[1], "save") == 0)
        return save_only(argv[2], argv[3]);
    if (argc != 1)
        FAILF("usage: snapshot | snapshot save FILE OUT");
    snprintf(tmpdir, sizeof(tmpdir), "%s/kvmrun-snap.XXXXXX", t ? t : "/tmp");
    if (!mkdtemp(tmpdir))
        FAILF("mkdtemp: %s", strerror(errno));
    make_expected();
    scenario_running(1);
    scenario_paused(1);
    scenario_running(2);
    scenario_paused(2);
    scenario_high_ram();
    remove_tmpdir();
    return 0;
}
