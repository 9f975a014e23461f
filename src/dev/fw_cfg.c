/* fw_cfg.c: QEMU's fw_cfg legacy I/O interface: selector and data ports. */
#include "dev/fw_cfg.h"

#include <string.h>

#include "le.h"

/* FW_CFG_ID bit 0: the selector/data port interface. Bit 1 (DMA) clear. */
#define FW_CFG_VERSION 0x01

static struct fw_cfg_item *fw_cfg_add(struct fw_cfg *f, unsigned *n,
                                      uint16_t key, unsigned len)
{
    struct fw_cfg_item *it = &f->items[(*n)++];

    it->key = key;
    it->len = (uint8_t)len;
    return it;
}

static void fw_cfg_add_le(struct fw_cfg *f, unsigned *n, uint16_t key,
                          unsigned len, uint64_t v)
{
    le_put(fw_cfg_add(f, n, key, len)->data, len, v);
}

void fw_cfg_init(struct fw_cfg *f, uint64_t ram_size, uint16_t ncpus,
                 uint16_t max_cpus)
{
    unsigned n = 0;

    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->lock, NULL);
    /* Selector 0, offset 0, as QEMU leaves it at reset: the signature. */
    memcpy(fw_cfg_add(f, &n, FW_CFG_SIGNATURE, 4)->data, "QEMU", 4);
    fw_cfg_add_le(f, &n, FW_CFG_ID, 4, FW_CFG_VERSION);
    fw_cfg_add_le(f, &n, FW_CFG_RAM_SIZE, 8, ram_size);
    fw_cfg_add_le(f, &n, FW_CFG_NB_CPUS, 2, ncpus);
    fw_cfg_add_le(f, &n, FW_CFG_MAX_CPUS, 2, max_cpus);
    /* No files: the count, big-endian like the whole directory, is 0. */
    fw_cfg_add(f, &n, FW_CFG_FILE_DIR, 4);
}

void fw_cfg_reset(struct fw_cfg *f)
{
    pthread_mutex_lock(&f->lock);
    f->selector = FW_CFG_SIGNATURE;
    f->offset = 0;
    pthread_mutex_unlock(&f->lock);
}

void fw_cfg_fini(struct fw_cfg *f)
{
    pthread_mutex_destroy(&f->lock);
}

/* The item behind a selector value, or NULL. The table never changes
 * after init, so this needs no lock. */
static const struct fw_cfg_item *fw_cfg_find(const struct fw_cfg *f,
                                             uint16_t selector)
{
    /* Keys 0x4000-0x7fff name the same items as 0x0000-0x3fff, opened
     * for writing, which is gone: reads see the item all the same. */
    uint16_t key = selector & (uint16_t)~FW_CFG_WRITE_CHANNEL;

    for (unsigned i = 0; i < FW_CFG_NITEMS; i++)
        if (f->items[i].key == key)
            return &f->items[i];
    return NULL;
}

static void fw_cfg_select(struct fw_cfg *f, uint16_t selector)
{
    pthread_mutex_lock(&f->lock);
    f->selector = selector;
    f->offset = 0;
    pthread_mutex_unlock(&f->lock);
}

/*
 * The next size bytes of the selected item, memcpy-like, zeros past its
 * end. One lock hold per access, so a wide read is one consistent slice.
 */
static void fw_cfg_read_data(struct fw_cfg *f, uint8_t *data, unsigned size)
{
    const struct fw_cfg_item *it;

    pthread_mutex_lock(&f->lock);
    it = fw_cfg_find(f, f->selector);
    for (unsigned i = 0; i < size; i++) {
        /* The offset stops at the end, so it can never wrap. */
        if (it && f->offset < it->len)
            data[i] = it->data[f->offset++];
        else
            data[i] = 0;
    }
    pthread_mutex_unlock(&f->lock);
}

void fw_cfg_io(void *dev, const struct bus_access *a)
{
    struct fw_cfg *f = dev;

    if (a->write) {
        /* The selector is a 16-bit register; data-port writes are gone
         * (QEMU v2.4+ ignores them). Anything else is dropped. */
        if (a->offset == FW_CFG_SELECTOR && a->size == 2)
            fw_cfg_select(f, (uint16_t)le_get(a->data, 2));
        return;
    }
    if (a->offset == FW_CFG_DATA)
        fw_cfg_read_data(f, a->data, a->size);
    else
        memset(a->data, 0, a->size); /* the selector is write-only */
}

void fw_cfg_save(struct fw_cfg *f, struct fw_cfg_state *st)
{
    memset(st, 0, sizeof(*st));
    pthread_mutex_lock(&f->lock);
    st->selector = f->selector;
    st->offset = f->offset;
    pthread_mutex_unlock(&f->lock);
}

void fw_cfg_load(struct fw_cfg *f, const struct fw_cfg_state *st)
{
    pthread_mutex_lock(&f->lock);
    f->selector = st->selector;
    f->offset = st->offset; /* reads past an item's end give zeros */
    pthread_mutex_unlock(&f->lock);
}

/* Every vCPU is there at boot: the most there can be is the count. */
static int fw_cfg_dev_init(void *dev, const struct dev_ctx *ctx)
{
    uint16_t ncpus = (uint16_t)ctx->cfg->ncpus;

    fw_cfg_init(dev, ctx->cfg->mem_size, ncpus, ncpus);
    return 0;
}

static void fw_cfg_dev_reset(void *dev)
{
    fw_cfg_reset(dev);
}

static void fw_cfg_dev_fini(void *dev)
{
    fw_cfg_fini(dev);
}

static void fw_cfg_dev_save(void *dev, void *state)
{
    fw_cfg_save(dev, state);
}

static void fw_cfg_dev_load(void *dev, const void *state)
{
    fw_cfg_load(dev, state);
}

static const struct dev_io fw_cfg_dev_pio[] = {
    {0, FW_CFG_NPORTS, fw_cfg_io},
    {0, 0, NULL},
};

const struct dev_desc fw_cfg_dev = {
    .name = "fw_cfg",
    .size = sizeof(struct fw_cfg),
    .pio = fw_cfg_dev_pio,
    .init = fw_cfg_dev_init,
    .reset = fw_cfg_dev_reset,
    .fini = fw_cfg_dev_fini,
    .snap_version = 1,
    .snap_size = sizeof(struct fw_cfg_state),
    .save = fw_cfg_dev_save,
    .load = fw_cfg_dev_load,
};
