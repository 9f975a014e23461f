/* test_disk.c: unit tests of --disk's parser and of opening disk images
 * (src/disk.c), on real files. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "disk.h"
#include "kvmrun.h"
#include "kvmrun.h"

static struct kvmrun_disk parse_ok(const char *text)
{
    struct kvmrun_disk d;

    if (kvmrun_disk_parse(text, &d))
        fail_msg("'%s': %s", text, kvmrun_last_error());
    return d;
}

static void parse_bad(const char *text, const char *msg)
{
    struct kvmrun_disk d;

    assert_int_equal(kvmrun_disk_parse(text, &d), -EINVAL);
    assert_string_equal(kvmrun_last_error(), msg);
    assert_null(strchr(kvmrun_last_error(), '\n'));
}

static void test_parse_defaults(void **state)
{
    struct kvmrun_disk d = parse_ok("disk.img");

    (void)state;
    assert_string_equal(d.path, "disk.img");
    assert_false(d.ro);
    assert_string_equal(d.serial, "");
    assert_int_equal(d.cache, KVMRUN_DISK_WRITEBACK);
    assert_int_equal(d.engine, KVMRUN_DISK_AUTO);
    assert_string_equal(kvmrun_disk_cache_name(d.cache), "writeback");
    assert_string_equal(kvmrun_disk_engine_name(d.engine), "auto");
}

static void test_parse_all(void **state)
{
    struct kvmrun_disk d =
        parse_ok("/var/a b.img,serial=SN-0001,ro,engine=sync,cache=none");

    (void)state;
    assert_string_equal(d.path, "/var/a b.img");
    assert_true(d.ro);
    assert_string_equal(d.serial, "SN-0001");
    assert_int_equal(d.cache, KVMRUN_DISK_NONE);
    assert_int_equal(d.engine, KVMRUN_DISK_SYNC);
    d = parse_ok("x,engine=io_uring,cache=writeback");
    assert_int_equal(d.engine, KVMRUN_DISK_IO_URING);
    assert_int_equal(d.cache, KVMRUN_DISK_WRITEBACK);
    assert_string_equal(kvmrun_disk_engine_name(d.engine), "io_uring");
    /* exactly 20 bytes, every printable byte allowed but the comma */
    d = parse_ok("x,serial=01234567890123456789");
    assert_string_equal(d.serial, "01234567890123456789");
    d = parse_ok("x,serial= ~!@#$%^&*()=");
    assert_string_equal(d.serial, " ~!@#$%^&*()=");
}

/* ",," is a comma of the path, as in QEMU. */
static void test_parse_comma_in_path(void **state)
{
    struct kvmrun_disk d = parse_ok("a,,b,,,ro");

    (void)state;
    assert_string_equal(d.path, "a,b,");
    assert_true(d.ro);
    d = parse_ok(",,x");
    assert_string_equal(d.path, ",x");
}

static void test_parse_errors(void **state)
{
    char longpath[KVMRUN_DISK_PATH_MAX + 8];
    struct kvmrun_disk d;

    (void)state;
    parse_bad("", "empty: a path is needed");
    parse_bad(",ro", "',ro': no path before the options");
    parse_bad("a.img,", "'a.img,': an empty option");
    parse_bad("a.img,ro,,x", "'a.img,ro,,x': an empty option");
    parse_bad("a.img,foo=1", "unknown option 'foo=1' (known: ro, serial=ID, "
                             "cache=none|writeback, engine=io_uring|sync)");
    parse_bad("a.img,RO", "unknown option 'RO' (known: ro, serial=ID, "
                          "cache=none|writeback, engine=io_uring|sync)");
    parse_bad("a.img,ro,ro", "ro given twice");
    parse_bad("a.img,cache=none,cache=none", "cache given twice");
    parse_bad("a.img,ro=on", "ro takes no value ('ro=on')");
    parse_bad("a.img,cache", "cache needs a value (cache=none|writeback)");
    parse_bad("a.img,cache=", "cache needs a value (cache=none|writeback)");
    parse_bad("a.img,serial", "serial needs a value (serial=ID)");
    parse_bad("a.img,engine=", "engine needs a value (engine=io_uring|sync)");
    parse_bad("a.img,cache=fast", "cache 'fast': not none or writeback");
    parse_bad("a.img,cache=None", "cache 'None': not none or writeback");
    parse_bad("a.img,engine=aio", "engine 'aio': not io_uring or sync");
    parse_bad("a.img,serial=012345678901234567890",
              "serial '012345678901234567890' is 21 bytes, more than 20");
    parse_bad("a.img,serial=a\tb",
              "serial: byte 1 (0x9) is not printable ASCII");
    parse_bad("a.img,serial=\xc3\xa9", "serial: byte 0 (0xc3) is not "
                                       "printable ASCII");
    memset(longpath, 'p', sizeof(longpath) - 1);
    longpath[sizeof(longpath) - 1] = '\0';
    parse_bad(longpath, "the path is longer than 4095 bytes");
    longpath[KVMRUN_DISK_PATH_MAX - 1] = '\0';
    assert_int_equal(kvmrun_disk_parse(longpath, &d), 0);
    assert_int_equal(kvmrun_disk_parse(NULL, &d), -EINVAL);
}

/* --- opening images ----------------------------------------------------- */

static char dir[] = "/tmp/test_disk.XXXXXX";

static int group_setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    char cmd[64];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* dir/name with size bytes. */
static const char *image(const char *name, off_t size)
{
    static char path[PATH_MAX];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, size), 0);
    close(fd);
    return path;
}

static struct kvmrun_disk opt_of(const char *text)
{
    return parse_ok(text);
}

static void open_bad(const char *text, int err, const char *msg)
{
    struct kvmrun_disk o = opt_of(text);
    struct disk d;

    assert_int_equal(disk_open(&d, &o), -err);
    assert_int_equal(d.fd, -1);
    if (strcmp(kvmrun_last_error(), msg))
        fail_msg("'%s', not '%s'", kvmrun_last_error(), msg);
}

static void test_open_regular(void **state)
{
    struct kvmrun_disk o = opt_of(image("a.img", 1 << 20));
    struct disk d;
    int fl;

    (void)state;
    assert_int_equal(disk_open(&d, &o), 0);
    assert_true(d.fd >= 0);
    assert_int_equal(d.size, 1 << 20);
    assert_false(d.block);
    assert_int_equal(d.dio_align, 512);
    fl = fcntl(d.fd, F_GETFL);
    assert_int_equal(fl & O_ACCMODE, O_RDWR);
    assert_false(fl & (O_NONBLOCK | O_DIRECT));
    assert_true(fcntl(d.fd, F_GETFD) & FD_CLOEXEC);
    disk_close(&d);
    disk_close(&d);
    /* read-only, and cache=none: O_DIRECT (/tmp takes it) */
    o.ro = 1;
    o.cache = KVMRUN_DISK_NONE;
    assert_int_equal(disk_open(&d, &o), 0);
    fl = fcntl(d.fd, F_GETFL);
    assert_int_equal(fl & O_ACCMODE, O_RDONLY);
    assert_true(fl & O_DIRECT);
    assert_true(d.dio_align >= 512 && d.dio_align <= 4096);
    disk_close(&d);
}

/* A second writer, in this process or another, is refused; readers share
 * a read-only image; the lock goes with the close. */
static void test_open_locked(void **state)
{
    char text[PATH_MAX + 8];
    const char *path = image("b.img", 4096);
    struct kvmrun_disk rw = opt_of(path), ro;
    struct disk d1, d2, d3;
    char msg[PATH_MAX + 64];
    int pipefd[2], status;
    pid_t pid;

    (void)state;
    snprintf(text, sizeof(text), "%s,ro", path);
    ro = opt_of(text);
    snprintf(msg, sizeof(msg), "%s: in use by another process (locked)", path);
    assert_int_equal(disk_open(&d1, &rw), 0);
    assert_int_equal(disk_open(&d2, &rw), -EBUSY);
    assert_string_equal(kvmrun_last_error(), msg);
    assert_int_equal(disk_open(&d2, &ro), -EBUSY);
    disk_close(&d1);
    assert_int_equal(disk_open(&d1, &ro), 0);
    assert_int_equal(disk_open(&d2, &ro), 0); /* readers share */
    assert_int_equal(disk_open(&d3, &rw), -EBUSY);
    disk_close(&d1);
    disk_close(&d2);
    /* another process holds it: the child opens and waits */
    assert_int_equal(pipe(pipefd), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char c;

        close(pipefd[1]);
        if (disk_open(&d1, &rw))
            _exit(1);
        if (read(pipefd[0], &c, 1) < 0) /* until the parent is done */
            _exit(2);
        _exit(0);
    }
    close(pipefd[0]);
    /* bounded: the child takes the lock within 20 s */
    for (int i = 0; i < 2000; i++) {
        if (disk_open(&d3, &ro) == -EBUSY)
            break;
        disk_close(&d3);
        usleep(10000);
    }
    assert_int_equal(disk_open(&d3, &ro), -EBUSY);
    assert_string_equal(kvmrun_last_error(), msg);
    close(pipefd[1]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(disk_open(&d3, &rw), 0); /* gone with the child */
    disk_close(&d3);
}

static void test_open_refused(void **state)
{
    char text[PATH_MAX + 64], msg[PATH_MAX + 128];
    const char *p;

    (void)state;
    snprintf(text, sizeof(text), "%s/missing.img", dir);
    snprintf(msg, sizeof(msg), "%s/missing.img: No such file or directory",
             dir);
    open_bad(text, ENOENT, msg);
    snprintf(msg, sizeof(msg),
             "%s: is a directory; a disk is a regular file or a block device",
             dir);
    open_bad(dir, EISDIR, msg);
    snprintf(text, sizeof(text), "%s/fifo", dir);
    assert_int_equal(mkfifo(text, 0600), 0);
    snprintf(msg, sizeof(msg),
             "%s/fifo: is a FIFO; a disk is a regular file or a block device",
             dir);
    open_bad(text, EINVAL, msg); /* and does not wait for a writer */
    open_bad("/dev/null", EINVAL,
             "/dev/null: is a character device; a disk is a regular file or "
             "a block device");
    p = image("odd.img", 1000);
    snprintf(msg, sizeof(msg),
             "%s: size 1000 bytes is not a multiple of 512 (a sector)", p);
    open_bad(p, EINVAL, msg);
    p = image("empty.img", 0);
    snprintf(msg, sizeof(msg), "%s: is empty (0 bytes)", p);
    open_bad(p, EINVAL, msg);
}

/* A filesystem without O_DIRECT (procfs here; tmpfs before Linux 6.6)
 * makes cache=none an error that says so. */
static void test_open_no_odirect(void **state)
{
    (void)state;
    open_bad("/proc/version,ro,cache=none", EINVAL,
             "/proc/version: cache=none: the filesystem refuses O_DIRECT "
             "(tmpfs did before Linux 6.6): use cache=writeback");
}

/* A block device (a loop device over an image, detached at its last
 * close): its size from BLKGETSIZE64. Skipped where no loop device can
 * be had (not root, no loop driver). */
static void test_open_block_device(void **state)
{
    const char *path = image("loop.img", 3 << 20);
    struct loop_info64 info;
    struct kvmrun_disk o;
    struct disk d;
    char dev[64], text[80];
    int ctl, n, lfd, ffd;

    (void)state;
    ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (ctl < 0)
        skip();
    n = ioctl(ctl, LOOP_CTL_GET_FREE);
    close(ctl);
    if (n < 0)
        skip();
    snprintf(dev, sizeof(dev), "/dev/loop%d", n);
    lfd = open(dev, O_RDWR | O_CLOEXEC);
    ffd = open(path, O_RDWR | O_CLOEXEC);
    if (lfd < 0 || ffd < 0 || ioctl(lfd, LOOP_SET_FD, ffd) < 0) {
        if (lfd >= 0)
            close(lfd);
        if (ffd >= 0)
            close(ffd);
        skip();
    }
    close(ffd);
    memset(&info, 0, sizeof(info));
    info.lo_flags = LO_FLAGS_AUTOCLEAR;
    assert_int_equal(ioctl(lfd, LOOP_SET_STATUS64, &info), 0);
    snprintf(text, sizeof(text), "%s,cache=none", dev);
    o = opt_of(text);
    assert_int_equal(disk_open(&d, &o), 0);
    assert_true(d.block);
    assert_int_equal(d.size, 3 << 20);
    assert_true(d.dio_align >= 512);
    disk_close(&d);
    close(lfd); /* the last close detaches it */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_defaults),
        cmocka_unit_test(test_parse_all),
        cmocka_unit_test(test_parse_comma_in_path),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_open_regular),
        cmocka_unit_test(test_open_locked),
        cmocka_unit_test(test_open_refused),
        cmocka_unit_test(test_open_no_odirect),
        cmocka_unit_test(test_open_block_device),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
