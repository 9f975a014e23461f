/* load.h: guest image loaders. */
#ifndef KVMRUN_LOAD_H
#define KVMRUN_LOAD_H

#include <stddef.h>
#include <stdint.h>

/*
 * Reads a whole regular file into a new buffer (free() it). Refuses
 * files larger than max_len, the guest's memory size, with -EFBIG naming
 * the file. 0 or -errno.
 */
int load_read_file(const char *path, uint64_t max_len, uint8_t **data,
                   size_t *len);

#endif
