/* paths.c: files named on kvmrun's command line that it writes: the
 * --serial output and the --pidfile. */
#include "paths.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where serial output may go. A block device would be written over from
 * its first byte; a directory or a socket cannot be opened for it. */
static bool paths_serial_type_ok(mode_t mode)
{
    return S_ISREG(mode) || S_ISFIFO(mode) || S_ISCHR(mode);
}

static int paths_serial_refuse(const char *path, mode_t mode)
{
    fprintf(stderr,
            "kvmrun: --serial %s: is %s; the output goes to a regular "
            "file, a FIFO or a character device\n",
            path, kvmrun_file_type(mode));
    return -1;
}

/* The UART writes as it does to stdout: blocking, once open. */
static int paths_serial_blocking(const char *path, int fd)
{
    struct stat st;
    int flags;

    if (fstat(fd, &st) < 0 || (flags = fcntl(fd, F_GETFL)) < 0 ||
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        fprintf(stderr, "kvmrun: --serial %s: %s\n", path, strerror(errno));
        return -1;
    }
    return paths_serial_type_ok(st.st_mode)
               ? 0
               : paths_serial_refuse(path, st.st_mode);
}

int paths_open_serial(const char *path, int *fd)
{
    struct stat st;
    bool exists, fifo;

    *fd = STDOUT_FILENO;
    if (!path)
        return 0;
    exists = stat(path, &st) == 0; /* else open says why, or creates it */
    if (exists && !paths_serial_type_ok(st.st_mode))
        return paths_serial_refuse(path, st.st_mode);
    fifo = exists && S_ISFIFO(st.st_mode);
    /* O_NONBLOCK: a FIFO with no reader fails (ENXIO) instead of waiting
     * for one; O_NOCTTY: a terminal does not become kvmrun's. */
    *fd = open(path,
               O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
               0644);
    if (*fd < 0) {
        fprintf(stderr, "kvmrun: --serial %s: %s\n", path,
                fifo && errno == ENXIO ? "a FIFO with no reader (start the "
                                         "reader first)"
                                       : strerror(errno));
        return -1;
    }
    if (paths_serial_blocking(path, *fd) < 0) {
        close(*fd);
        *fd = -1;
        return -1;
    }
    return 0;
}

/* Writes text to a new file at tmp (never through whatever may be there:
 * O_EXCL), then renames it to path: 0, or -errno. */
static int paths_write_rename(const char *tmp, const char *path,
                              const char *text, struct kvmrun_file_id *id)
{
    size_t n = strlen(text);
    struct stat st;
    ssize_t w;
    int fd, err = 0;

    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return -errno;
    w = write(fd, text, n);
    if (w != (ssize_t)n)
        err = w < 0 ? errno : EIO;
    else if (fstat(fd, &st) < 0)
        err = errno;
    if (close(fd) < 0 && !err)
        err = errno;
    if (!err && rename(tmp, path) < 0)
        err = errno;
    if (err) {
        unlink(tmp);
        return -err;
    }
    id->dev = (uint64_t)st.st_dev;
    id->ino = (uint64_t)st.st_ino;
    return 0;
}

int paths_pidfile_write(struct paths_pidfile *pf, const char *path)
{
    char pid[32], tmp[PATH_MAX];
    int r;

    pf->path = NULL;
    if (kvmrun_file_replaceable(path) < 0) {
        fprintf(stderr, "kvmrun: --pidfile %s: %s\n", path,
                kvmrun_last_error());
        return -1;
    }
    snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    r = snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    if (r < 0 || (size_t)r >= sizeof(tmp))
        r = -ENAMETOOLONG;
    else
        r = paths_write_rename(tmp, path, pid, &pf->id);
    if (r < 0) {
        fprintf(stderr, "kvmrun: --pidfile %s: %s\n", path, strerror(-r));
        return -1;
    }
    pf->path = path;
    return 0;
}

void paths_pidfile_remove(struct paths_pidfile *pf)
{
    if (pf->path && kvmrun_file_remove_own(pf->path, &pf->id) < 0)
        fprintf(stderr, "kvmrun: --pidfile: %s\n", kvmrun_last_error());
    pf->path = NULL;
}
