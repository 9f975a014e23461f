/* file.c: files users name: opened without blocking, replaced only when
 * regular, removed only while still the file kvmrun made. */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

const char *kvmrun_file_type(unsigned mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG:
        return "a regular file";
    case S_IFDIR:
        return "a directory";
    case S_IFIFO:
        return "a FIFO";
    case S_IFCHR:
        return "a character device";
    case S_IFBLK:
        return "a block device";
    case S_IFSOCK:
        return "a socket";
    case S_IFLNK:
        return "a symbolic link";
    default:
        return "a file of unknown type";
    }
}

static int file_not_regular(const char *path, mode_t mode)
{
    return err_set(S_ISDIR(mode) ? EISDIR : EINVAL,
                   "%s: is %s, not a regular file", path,
                   kvmrun_file_type(mode));
}

int file_open_regular(const char *path, uint64_t *size)
{
    struct stat st;
    int fd, flags, r;

    /* The type first: opening a FIFO waits for a writer, and opening a
     * device can act (a tape rewinds, a watchdog starts). */
    if (stat(path, &st) < 0)
        return err_errno(errno, "%s", path);
    if (!S_ISREG(st.st_mode))
        return file_not_regular(path, st.st_mode);
    /* Should a FIFO take the file's place meanwhile, open returns at once
     * and fstat tells. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return err_errno(errno, "%s", path);
    if (fstat(fd, &st) < 0) {
        r = err_errno(errno, "%s: fstat", path);
        goto err;
    }
    if (!S_ISREG(st.st_mode)) {
        r = file_not_regular(path, st.st_mode);
        goto err;
    }
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        r = err_errno(errno, "%s: fcntl", path);
        goto err;
    }
    *size = (uint64_t)st.st_size;
    return fd;
err:
    close(fd);
    return r;
}

int kvmrun_file_replaceable(const char *path)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : err_errno(errno, "lstat");
    if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
        return 0;
    return err_set(S_ISDIR(st.st_mode) ? EISDIR : EEXIST,
                   "is %s; only a regular file is replaced",
                   kvmrun_file_type(st.st_mode));
}

int kvmrun_file_id(const char *path, struct kvmrun_file_id *id)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return err_errno(errno, "%s", path);
    id->dev = (uint64_t)st.st_dev;
    id->ino = (uint64_t)st.st_ino;
    return 0;
}

int kvmrun_file_remove_own(const char *path, const struct kvmrun_file_id *id)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : err_errno(errno, "%s", path);
    if ((uint64_t)st.st_dev != id->dev || (uint64_t)st.st_ino != id->ino)
        return 0; /* someone else's file now: not kvmrun's to remove */
    if (unlink(path) < 0)
        return errno == ENOENT ? 0 : err_errno(errno, "removing %s", path);
    return 1;
}
