/* fw_cfg.h: QEMU's fw_cfg legacy I/O interface: selector and data ports. */
#ifndef KVMRUN_FW_CFG_H
#define KVMRUN_FW_CFG_H

#include <pthread.h>
#include <stdint.h>

#include "bus.h"
#include "dev/dev.h"

/*
 * The x86 ports (QEMU docs/specs/fw_cfg.rst): selector, then data (0x510
 * and 0x511 on a PC). The DMA port (0x514) is not provided: FW_CFG_ID
 * says so.
 */
#define FW_CFG_NPORTS 2

/* Offsets within the registered range. */
#define FW_CFG_SELECTOR 0
#define FW_CFG_DATA 1

/* The selector keys provided; any other key reads as zeros. */
#define FW_CFG_SIGNATURE 0x00 /* "QEMU" */
#define FW_CFG_ID 0x01        /* 32-bit LE feature bits */
#define FW_CFG_RAM_SIZE 0x03  /* 64-bit LE bytes of guest RAM */
#define FW_CFG_NB_CPUS 0x05   /* 16-bit LE vCPUs at boot */
#define FW_CFG_MAX_CPUS 0x0f  /* 16-bit LE most vCPUs there can be */
#define FW_CFG_FILE_DIR 0x19  /* 32-bit BE file count, then the files */

/* Selector bit 14: the retired write channel; reads ignore it. */
#define FW_CFG_WRITE_CHANNEL 0x4000

#define FW_CFG_NITEMS 6
#define FW_CFG_ITEM_MAX 8 /* the longest item: the RAM size */

struct fw_cfg_item {
    uint16_t key;
    uint8_t len;
    uint8_t data[FW_CFG_ITEM_MAX];
};

struct fw_cfg {
    pthread_mutex_t lock; /* guards selector and offset; leaf lock */
    uint16_t selector;    /* as last written, for every vCPU */
    uint32_t offset;      /* next byte of the selected item to read */
    struct fw_cfg_item items[FW_CFG_NITEMS]; /* fixed after init */
};

void fw_cfg_init(struct fw_cfg *f, uint64_t ram_size, uint16_t ncpus,
                 uint16_t max_cpus);
void fw_cfg_fini(struct fw_cfg *f);
/* Selector 0, offset 0, as QEMU leaves it at reset. */
void fw_cfg_reset(struct fw_cfg *f);

/*
 * Bus handler for the FW_CFG_NPORTS ports at FW_CFG_PORT:
 * - a 16-bit write at the selector selects a key and rewinds the offset;
 *   every other write (8-bit or 32-bit at the selector, any width at the
 *   data port) is ignored;
 * - a read at the data port of N bytes returns the next N bytes of the
 *   item, advancing the offset, zeros past its end or for unknown keys;
 * - a read at the write-only selector returns zeros and changes nothing.
 */
void fw_cfg_io(void *dev, const struct bus_access *access);

/* The guest-visible state, for snapshots: the items are rebuilt from the
 * machine's size, only the read position is saved. */
struct fw_cfg_state {
    uint16_t selector, pad;
    uint32_t offset;
};

void fw_cfg_save(struct fw_cfg *f, struct fw_cfg_state *st);
void fw_cfg_load(struct fw_cfg *f, const struct fw_cfg_state *st);

/* The device: the items from the VM's memory size and vCPU count. */
extern const struct dev_desc fw_cfg_dev;

#endif
