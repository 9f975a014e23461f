/* snapfile.h: the snapshot file format: a checked reader and a writer. */
#ifndef KVMRUN_SNAPFILE_H
#define KVMRUN_SNAPFILE_H

#include <stddef.h>
#include <stdint.h>

/*
 * A snapshot file, all integers little-endian (x86 only):
 *
 *   header   struct snap_header (56 bytes)
 *   sections each struct snap_section_hdr (16 bytes) and len bytes
 *   end      a section of type SNAP_END, len 4: the CRC-32 (zlib's) of
 *            every byte of the file before it; nothing may follow
 *
 * Device sections (SNAP_DEV) hold a struct snap_dev_hdr (the device's
 * name, as the machine names its instance, and its section's version)
 * and the device's state; the file says nothing else of which devices
 * there are: the machine checks the set (machine_check_snapshot()).
 * Memory sections (SNAP_MEM) hold a 64-bit RAM offset (low RAM first,
 * then RAM from 4 GiB on, as one range of mem_size bytes) and whole
 * pages; pages not saved are zero. They come in ascending order, none
 * crossing the end of low RAM (MEM_LOW_END).
 */
#define SNAP_MAGIC "KVMRSNAP"
#define SNAP_VERSION 2
#define SNAP_PAGE 4096u
#define SNAP_MAX_CPUS 1024u
#define SNAP_MAX_MSRS 4096u
#define SNAP_MAX_XSAVE (1u << 20)
#define SNAP_FLAG_IRQCHIP 0x1u
#define SNAP_MAX_DEVS 256
#define SNAP_MAX_DEV_STATE (1u << 20)
#define SNAP_DEV_NAME 32

struct snap_header {
    char magic[8];
    uint32_t version;     /* SNAP_VERSION */
    uint32_t header_size; /* sizeof(struct snap_header) */
    char kvmrun_version[16];
    uint32_t ncpus;
    uint32_t flags; /* SNAP_FLAG_* */
    uint64_t mem_size;
    uint32_t page_size; /* SNAP_PAGE */
    uint32_t reserved;
};

struct snap_section_hdr {
    uint32_t type;  /* enum snap_type */
    uint32_t index; /* vCPU index, or irqchip chip id; else 0 */
    uint64_t len;   /* bytes that follow */
};

enum snap_type {
    SNAP_END = 0,
    /* One each per vCPU: the KVM structure of the same name. */
    SNAP_VCPU_REGS = 1,
    SNAP_VCPU_SREGS,
    SNAP_VCPU_XSAVE, /* KVM_GET_XSAVE(2): 4096 bytes or more */
    SNAP_VCPU_FPU,   /* instead of XSAVE on hosts without it */
    SNAP_VCPU_XCRS,
    SNAP_VCPU_MSRS, /* struct kvm_msr_entry[] */
    SNAP_VCPU_LAPIC,
    SNAP_VCPU_EVENTS,
    SNAP_VCPU_MP_STATE,
    SNAP_VCPU_DEBUGREGS,
    SNAP_VCPU_NTYPES, /* not a type */
    /* The VM's: irqchip (index: KVM_IRQCHIP_*), PIT, kvmclock. */
    SNAP_VM_IRQCHIP = 32,
    SNAP_VM_PIT2,
    SNAP_VM_CLOCK,
    /* A device (index 0): struct snap_dev_hdr, then its state. */
    SNAP_DEV = 64,
    SNAP_MEM = 96,
};

#define SNAP_NIRQCHIPS 3

struct snap_dev_hdr {
    char name[SNAP_DEV_NAME]; /* NUL-terminated, printable, unique */
    uint32_t version;         /* of the device's section */
    uint32_t reserved;
};

/* Where a snapshot is read from: its file (a restore) or a buffer holding
 * the whole file (tests, the fuzzer). */
struct snap_src {
    const uint8_t *buf; /* NULL: read from fd */
    int fd;
    uint64_t len; /* the file's size when opened: what is read */
};

struct snap_blob {
    const uint8_t *data; /* a private copy; NULL: absent */
    uint64_t len;
};

/* A device's section, as read. */
struct snap_dev {
    char name[SNAP_DEV_NAME];
    uint32_t version;
    struct snap_blob state;
};

/* One memory extent: where its pages go in RAM and lie in the file, and
 * the CRC-32 of the file's gap_len bytes before them (from the previous
 * extent's pages, or the file's start). */
struct snap_extent {
    uint64_t offset; /* RAM offset */
    uint64_t file_off;
    uint64_t len;
    uint64_t gap_len;
    uint32_t gap_crc;
};

/*
 * A checked file: every section but the memory pages read once, into
 * private memory; where each memory extent's pages are. The CRC-32 of
 * the whole file is the gaps' and the pages' combined, so that it is
 * checked over exactly the bytes copied into guest RAM.
 */
struct snap_image {
    struct snap_header hdr;
    uint64_t len;
    struct snap_blob (*vcpu)[SNAP_VCPU_NTYPES]; /* [ncpus][type] */
    struct snap_blob irqchip[SNAP_NIRQCHIPS], pit, clock;
    struct snap_dev *devs; /* in file order */
    unsigned ndevs;
    struct snap_extent *ext; /* in file (and RAM) order */
    uint64_t mem_extents, mem_bytes;
    uint64_t tail_len; /* bytes after the last pages, up to the CRC */
    uint32_t tail_crc;
    uint32_t crc; /* stored in the end marker */
};

/*
 * Reads and checks the snapshot in src, named name, but for its memory
 * pages: magic, version, end marker, every section's bounds, size and
 * index, that every piece the header calls for is there once, device
 * sections named once each, memory extents in RAM. Each byte is read
 * once: *img holds copies (snapfile_free() it), never pointers into the
 * file. 0, or -EINVAL with a one-line message "name: what is wrong";
 * -EIO if the file shrank while read; -ENOMEM. The checksum is checked
 * by snapfile_load_memory(); the devices by the machine.
 */
int snapfile_read(const struct snap_src *src, const char *name,
                  struct snap_image *img);
void snapfile_free(struct snap_image *img);

/* Where the len bytes at RAM offset off go (NULL: nowhere, an error). */
typedef void *(*snap_ram_fn)(void *opaque, uint64_t off, uint64_t len);

/*
 * Copies every memory extent of img from src straight to ram(opaque,
 * ...), computing the CRC-32 over exactly the bytes copied and the rest
 * of the file read by snapfile_read(), then checks it against the end
 * marker's. ram may be NULL with a buffer src: the checksum is checked,
 * nothing copied. 0, or -EINVAL (checksum mismatch, RAM refused), -EIO
 * (the file shrank), naming name.
 */
int snapfile_load_memory(const struct snap_image *img,
                         const struct snap_src *src, const char *name,
                         snap_ram_fn ram, void *opaque);

/* snapfile_read() and the checksum of buf[0..len), a whole file in
 * memory: what the tests and the fuzzer check. */
int snapfile_parse(const uint8_t *buf, size_t len, const char *name,
                   struct snap_image *img);

/* The section of the device named name, or NULL. */
const struct snap_dev *snapfile_device(const struct snap_image *img,
                                       const char *name);

/* "regs", "xsave", "device", ...: a section type's name. */
const char *snapfile_type_name(uint32_t type);

/* Expected payload size of a fixed-size section type; 0: variable. */
uint64_t snapfile_type_size(uint32_t type);

/*
 * The writer: buffers small sections, writes big ones straight from the
 * caller's memory, keeps the running CRC. Errors are sticky: the first
 * one is returned by every later call (-errno, message naming path).
 */
struct snap_writer {
    int fd;
    const char *path;
    uint32_t crc;
    uint64_t written;
    int err;
    size_t used;
    uint8_t buf[1 << 16];
};

void snapw_init(struct snap_writer *w, int fd, const char *path);
int snapw_header(struct snap_writer *w, const struct snap_header *h);
int snapw_section(struct snap_writer *w, uint32_t type, uint32_t index,
                  const void *data, uint64_t len);
/* A device's section: its name (shorter than SNAP_DEV_NAME), the
 * version of its state's layout, the state. */
int snapw_device(struct snap_writer *w, const char *name, uint32_t version,
                 const void *state, uint64_t len);
/* A memory extent: pages at RAM offset. */
int snapw_extent(struct snap_writer *w, uint64_t offset, const void *pages,
                 uint64_t len);
/* The end marker with the CRC, then flushes. */
int snapw_finish(struct snap_writer *w);

#endif
