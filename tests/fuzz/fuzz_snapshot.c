/*
 * fuzz_snapshot.c: libFuzzer target for the snapshot file reader
 * (src/snapfile.c). Each input is checked as it is, then again with its
 * trailing CRC recomputed, so that mutations get past the checksum and
 * reach the header, section and extent checks. A file the reader accepts
 * is walked to its last memory extent, which must lie inside RAM and the
 * file, and its device sections must be named once each, each name a
 * string inside its field.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "snapfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_one(const uint8_t *buf, size_t len)
{
    struct snap_image img;
    uint64_t bytes = 0;

    if (snapfile_parse(buf, len, "fuzz", &img) < 0)
        return;
    for (uint64_t i = 0; i < img.mem_extents; i++) {
        const struct snap_extent *ext = &img.ext[i];

        if (ext->offset > img.hdr.mem_size ||
            ext->len > img.hdr.mem_size - ext->offset || ext->file_off > len ||
            ext->len > len - ext->file_off)
            abort();
        bytes += ext->len;
    }
    if (bytes != img.mem_bytes)
        abort();
    for (unsigned i = 0; i < img.ndevs; i++) {
        const struct snap_dev *d = &img.devs[i];

        if (strnlen(d->name, sizeof(d->name)) == sizeof(d->name) ||
            snapfile_device(&img, d->name) != d ||
            d->state.len > SNAP_MAX_DEV_STATE || !d->state.data)
            abort();
    }
    snapfile_free(&img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy;
    uint32_t crc;

    fuzz_one(data, size);
    if (size < 4)
        return 0;
    copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    crc = (uint32_t)crc32(crc32(0, NULL, 0), copy, (unsigned)(size - 4));
    memcpy(copy + size - 4, &crc, 4);
    fuzz_one(copy, size);
    free(copy);
    return 0;
}
