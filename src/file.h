/* file.h: files users name (images, kernels, snapshots, sockets): the
 * library side of kvmrun_file_*() (include/kvmrun.h). */
#ifndef KVMRUN_FILE_H
#define KVMRUN_FILE_H

#include <stdint.h>

#include "kvmrun.h"

/*
 * Opens path for reading if it is a regular file: its fd (O_CLOEXEC,
 * blocking reads) and *size, or -errno with a message naming path and,
 * for anything else, what it is ("is a FIFO, not a regular file";
 * -EISDIR for a directory, -EINVAL for the rest). The type is checked
 * before the open, which never blocks: a FIFO, a device or a socket is
 * never opened.
 */
int file_open_regular(const char *path, uint64_t *size);

#endif
