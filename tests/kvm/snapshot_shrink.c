/*
 * snapshot_shrink.c: a snapshot file that shrinks while kvmrun restores
 * it (someone truncates it) is an error, never a crash (SIGBUS from a
 * mapping) and never a VM built from half a file. The library's calls to
 * fstat() and pread() are interposed (this program's own definitions win
 * over libc's): the file is cut to half its size either right after the
 * restore took its size, or at its first large read (the memory pages).
 * Each case runs in a child, so that a crash is seen as one.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kvmtest.h"

#define TOUCH (8u << 20) /* guest RAM written: the file's memory pages */

enum when { AFTER_FSTAT, AT_PAGES };

static char path[4096];
static ino_t victim; /* the snapshot's inode, 0: interposers idle */
static enum when when;
static off_t cut;

static void shrink(int fd)
{
    struct stat st;

    if (!victim || syscall(SYS_fstat, fd, &st) < 0 || st.st_ino != victim)
        return;
    victim = 0;
    if (truncate(path, cut) < 0)
        _exit(3);
}

int fstat(int fd, struct stat *st);
int fstat(int fd, struct stat *st)
{
    long r = syscall(SYS_fstat, fd, st);

    if (r == 0 && when == AFTER_FSTAT)
        shrink(fd);
    return (int)r;
}

ssize_t pread(int fd, void *buf, size_t n, off_t off);
ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
    if (when == AT_PAGES && n >= (1u << 20))
        shrink(fd);
    return syscall(SYS_pread64, fd, buf, n, off);
}

static void save(void)
{
    static const uint8_t hlt[] = {0xf4, 0xeb, 0xfd}; /* hlt; jmp $-1 */
    struct kvmrun_config cfg;
    struct kvmrun_vm *vm;
    struct stat st;
    uint8_t *p;

    kvmrun_config_init(&cfg);
    cfg.serial_fd = -1;
    CHECK(kvmrun_vm_create(&cfg, &vm));
    CHECK(kvmrun_load_raw(vm, hlt, sizeof(hlt), 0x1000));
    CHECK(kvmrun_boot_real(vm, 0x1000, 0x1000));
    p = kvmrun_vm_mem(vm, 16u << 20, TOUCH);
    for (unsigned i = 0; i < TOUCH; i++)
        p[i] = (uint8_t)(i * 7 + 1);
    CHECK(kvmrun_vm_snapshot(vm, path));
    kvmrun_vm_destroy(vm);
    if (stat(path, &st) < 0)
        FAILF("%s: %s", path, strerror(errno));
    cut = st.st_size / 2;
}

/* In the child: restore while the file shrinks; 0 if refused. */
static void restore(int w)
{
    struct kvmrun_config cfg;
    struct kvmrun_vm *vm;
    struct stat st;

    if (stat(path, &st) < 0)
        _exit(4);
    kvmrun_config_init(&cfg);
    cfg.serial_fd = -1;
    when = (enum when)w;
    victim = st.st_ino;
    if (kvmrun_vm_restore(&cfg, path, &vm) == 0) {
        fprintf(stderr, "restored from a file that shrank (the cut %s)\n",
                victim ? "never happened" : "went unseen");
        _exit(1);
    }
    fprintf(stderr, "%s\n", kvmrun_last_error());
    _exit(0);
}

/* The saved file's bytes, to write it whole again before each case. */
static uint8_t *whole;
static size_t whole_len;

static void slurp(void)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    whole_len = (size_t)cut * 2 + 1;
    if (fd < 0 || !(whole = malloc(whole_len)))
        FAILF("%s: %s", path, strerror(errno));
    whole_len = (size_t)read(fd, whole, whole_len);
    close(fd);
}

static void rewrite(void)
{
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

    if (fd < 0 || write(fd, whole, whole_len) != (ssize_t)whole_len)
        FAILF("%s: %s", path, strerror(errno));
    close(fd);
}

int main(int argc, char **argv)
{
    static const char *const names[] = {"after its size was taken",
                                        "at the memory pages"};
    char err[4096];

    if (argc != 2)
        FAILF("usage: snapshot_shrink DIR");
    snprintf(path, sizeof(path), "%s/vm.snap", argv[1]);
    save();
    slurp();
    for (int w = AFTER_FSTAT; w <= AT_PAGES; w++) {
        int st;

        rewrite();
        st = test_run_child(restore, w, err, sizeof(err));
        if (WIFSIGNALED(st))
            FAILF("shrinking %s: the restore died of signal %d (%s)", names[w],
                  WTERMSIG(st), strsignal(WTERMSIG(st)));
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            FAILF("shrinking %s: status %#x: %s", names[w], st, err);
        if (!strstr(err, "shrank") || strchr(err, '\n') != strrchr(err, '\n'))
            FAILF("shrinking %s: not one line saying so: %s", names[w], err);
        printf("shrinking %s: %s", names[w], err);
    }
    return 0;
}
