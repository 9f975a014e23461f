/* test_fw_cfg.c: unit tests of fw_cfg, driven as a guest drives its ports. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dev/fw_cfg.h"

#define RAM_SIZE (256ULL << 20)
#define NCPUS 3
#define MAX_CPUS 0x0104 /* both bytes non-zero, to catch a swap */

/* A guest access of size bytes at port FW_CFG_PORT + offset. */
static void io(struct fw_cfg *f, unsigned offset, uint8_t *data, unsigned size,
               bool write)
{
    struct bus_access a = {offset, data, size, write, 0};

    fw_cfg_io(f, &a);
}

/* outw key, 0x510 */
static void select_key(struct fw_cfg *f, uint16_t key)
{
    uint8_t data[2] = {(uint8_t)key, (uint8_t)(key >> 8)};

    io(f, FW_CFG_SELECTOR, data, 2, true);
}

/* inb 0x511 */
static uint8_t read_byte(struct fw_cfg *f)
{
    uint8_t b = 0x5a;

    io(f, FW_CFG_DATA, &b, 1, false);
    return b;
}

/* n successive inb 0x511 */
static void read_bytes(struct fw_cfg *f, uint8_t *out, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        out[i] = read_byte(f);
}

static void assert_zeros(struct fw_cfg *f, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(read_byte(f), 0);
}

/* Selects key, reads len bytes and then 8 more that must be zeros. */
static void check_item(struct fw_cfg *f, uint16_t key, const uint8_t *want,
                       unsigned len)
{
    uint8_t got[16];

    select_key(f, key);
    read_bytes(f, got, len);
    assert_memory_equal(got, want, len);
    assert_zeros(f, 8);
}

static uint64_t read_le(struct fw_cfg *f, uint16_t key, unsigned len)
{
    uint8_t got[8];
    uint64_t v = 0;

    select_key(f, key);
    read_bytes(f, got, len);
    for (unsigned i = len; i-- > 0;)
        v = v << 8 | got[i];
    return v;
}

static int setup(void **state)
{
    static struct fw_cfg f;

    fw_cfg_init(&f, RAM_SIZE, NCPUS, MAX_CPUS);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fw_cfg_fini(*state);
    return 0;
}

static void test_signature(void **state)
{
    check_item(*state, 0x0000, (const uint8_t *)"QEMU", 4);
}

static void test_signature_selected_at_reset(void **state)
{
    uint8_t got[4];

    read_bytes(*state, got, 4); /* no selector write yet */
    assert_memory_equal(got, "QEMU", 4);
}

static void test_id_traditional_interface_only(void **state)
{
    /* Bit 0 set: selector/data ports; bit 1 clear: no DMA. */
    check_item(*state, 0x0001, (const uint8_t[]){0x01, 0, 0, 0}, 4);
}

static void test_ram_size(void **state)
{
    check_item(*state, 0x0003, (const uint8_t[]){0, 0, 0, 0x10, 0, 0, 0, 0}, 8);
    assert_int_equal(read_le(*state, 0x0003, 8), RAM_SIZE);
}

static void test_ram_size_above_4g(void **state)
{
    const uint64_t sizes[] = {
        4ULL << 30,
        (6ULL << 30) + (4ULL << 10),
        0x123456789abcd000ULL,
        UINT64_MAX - 4095,
    };
    struct fw_cfg f;

    (void)state;
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        fw_cfg_init(&f, sizes[i], 1, 1);
        assert_int_equal(read_le(&f, 0x0003, 8), sizes[i]);
        assert_zeros(&f, 4);
        fw_cfg_fini(&f);
    }
    fw_cfg_init(&f, 0x123456789abcd000ULL, 1, 1);
    check_item(
        &f, 0x0003,
        (const uint8_t[]){0x00, 0xd0, 0xbc, 0x9a, 0x78, 0x56, 0x34, 0x12}, 8);
    fw_cfg_fini(&f);
}

static void test_cpu_counts(void **state)
{
    check_item(*state, 0x0005, (const uint8_t[]){NCPUS, 0}, 2);
    check_item(*state, 0x000f, (const uint8_t[]){0x04, 0x01}, 2);
    assert_int_equal(read_le(*state, 0x0005, 2), NCPUS);
    assert_int_equal(read_le(*state, 0x000f, 2), MAX_CPUS);
}

static void test_file_dir_empty(void **state)
{
    /* The count is big-endian: 0 reads 00 00 00 00 either way, and a
     * guest reading no further finds no FWCfgFile entries. */
    check_item(*state, 0x0019, (const uint8_t[]){0, 0, 0, 0}, 4);
}

static void test_unknown_keys_read_zeros(void **state)
{
    /* UUID, nographic, boot menu, first file, arch-local, invalid. */
    const uint16_t keys[] = {0x0002, 0x0004, 0x000e, 0x0020, 0x3fff,
                             0x8000, 0x8003, 0xc000, 0xffff};

    for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        select_key(*state, keys[i]);
        assert_zeros(*state, 16);
    }
}

static void test_past_end_stays_zero(void **state)
{
    uint8_t got[4];

    select_key(*state, 0x0000);
    read_bytes(*state, got, 4);
    assert_memory_equal(got, "QEMU", 4);
    assert_zeros(*state, 1000);
    /* Reading on and on does not wrap back into the item. */
    select_key(*state, 0x0005);
    assert_int_equal(read_byte(*state), NCPUS);
    assert_zeros(*state, 100000);
}

static void test_reselect_rewinds(void **state)
{
    uint8_t got[4];

    select_key(*state, 0x0000);
    assert_int_equal(read_byte(*state), 'Q');
    assert_int_equal(read_byte(*state), 'E');
    select_key(*state, 0x0000);
    read_bytes(*state, got, 4);
    assert_memory_equal(got, "QEMU", 4);
    /* Another key mid-item, then back: both start at their first byte. */
    select_key(*state, 0x0000);
    assert_int_equal(read_byte(*state), 'Q');
    select_key(*state, 0x000f);
    assert_int_equal(read_byte(*state), 0x04);
    select_key(*state, 0x0000);
    assert_int_equal(read_byte(*state), 'Q');
    /* Past the end, re-selecting reads the item again. */
    select_key(*state, 0x0005);
    read_bytes(*state, got, 4);
    assert_memory_equal(got, ((const uint8_t[]){NCPUS, 0, 0, 0}), 4);
    select_key(*state, 0x0005);
    assert_int_equal(read_byte(*state), NCPUS);
}

static void test_write_channel_bit_reads_item(void **state)
{
    /* 0x4000-0x7fff are 0x0000-0x3fff opened for (retired) writing. */
    check_item(*state, 0x4000, (const uint8_t *)"QEMU", 4);
    check_item(*state, 0x4005, (const uint8_t[]){NCPUS, 0}, 2);
}

static void test_writes_other_than_16bit_selector_ignored(void **state)
{
    struct fw_cfg *f = *state;
    uint8_t b = 0x05;
    uint8_t w[2] = {0x05, 0x00};
    uint8_t l[4] = {0x05, 0x00, 0x00, 0x00};

    select_key(f, 0x0000);
    assert_int_equal(read_byte(f), 'Q');
    io(f, FW_CFG_SELECTOR, &b, 1, true); /* outb 0x05, 0x510 */
    assert_int_equal(read_byte(f), 'E');
    io(f, FW_CFG_DATA, &b, 1, true); /* outb 0x05, 0x511 */
    assert_int_equal(read_byte(f), 'M');
    io(f, FW_CFG_DATA, w, 2, true);     /* outw 0x0005, 0x511 */
    io(f, FW_CFG_SELECTOR, l, 4, true); /* outl 0x00000005, 0x510 */
    assert_int_equal(read_byte(f), 'U');
    assert_zeros(f, 2);
    /* The item itself is untouched by the data-port writes. */
    check_item(f, 0x0000, (const uint8_t *)"QEMU", 4);
}

static void test_selector_reads_zero_without_effect(void **state)
{
    struct fw_cfg *f = *state;
    uint8_t data[4];

    select_key(f, 0x0000);
    assert_int_equal(read_byte(f), 'Q');
    for (unsigned size = 1; size <= 4; size *= 2) {
        memset(data, 0xaa, sizeof(data));
        io(f, FW_CFG_SELECTOR, data, size, false); /* in 0x510 */
        for (unsigned i = 0; i < size; i++)
            assert_int_equal(data[i], 0);
        for (unsigned i = size; i < sizeof(data); i++)
            assert_int_equal(data[i], 0xaa);
    }
    /* Neither the selection nor the offset moved. */
    assert_int_equal(read_byte(f), 'E');
}

static void test_wide_data_reads_take_successive_bytes(void **state)
{
    struct fw_cfg *f = *state;
    uint8_t data[4];

    /* inw 0x511 on a 16-bit item: the value itself, little-endian. */
    select_key(f, 0x000f);
    memset(data, 0xaa, sizeof(data));
    io(f, FW_CFG_DATA, data, 2, false);
    assert_memory_equal(data, ((const uint8_t[]){0x04, 0x01, 0xaa, 0xaa}), 4);
    assert_zeros(f, 2); /* the offset advanced by the width */
    /* inl 0x511: four bytes at once, padded with zeros at the end. */
    select_key(f, 0x0000);
    io(f, FW_CFG_DATA, data, 4, false);
    assert_memory_equal(data, "QEMU", 4);
    select_key(f, 0x0000);
    io(f, FW_CFG_DATA, data, 1, false);
    io(f, FW_CFG_DATA, data, 4, false);
    assert_memory_equal(data, ((const uint8_t[]){'E', 'M', 'U', 0}), 4);
    io(f, FW_CFG_DATA, data, 4, false);
    assert_memory_equal(data, ((const uint8_t[]){0, 0, 0, 0}), 4);
    /* A 64-bit value in two 32-bit reads. */
    select_key(f, 0x0003);
    io(f, FW_CFG_DATA, data, 4, false);
    assert_memory_equal(data, ((const uint8_t[]){0, 0, 0, 0x10}), 4);
    io(f, FW_CFG_DATA, data, 4, false);
    assert_memory_equal(data, ((const uint8_t[]){0, 0, 0, 0}), 4);
    assert_zeros(f, 1);
}

/* Two threads, one device: the state is shared, accesses are atomic. */

#define HAMMER_ROUNDS 200000

struct item {
    const uint8_t *bytes;
    unsigned len;
};

static const struct item hammer_items[] = {
    {(const uint8_t *)"QEMU", 4},
    {(const uint8_t[]){0x01, 0, 0, 0}, 4},
    {(const uint8_t[]){0, 0, 0, 0x10, 0, 0, 0, 0}, 8},
    {(const uint8_t[]){NCPUS, 0}, 2},
    {(const uint8_t[]){0x04, 0x01}, 2},
    {(const uint8_t[]){0, 0, 0, 0}, 4},
};
static const uint16_t hammer_keys[] = {0x00, 0x01, 0x03, 0x05,
                                       0x0f, 0x19, 0x0e, 0x4000};

/* True if n bytes are a slice of some item, zero-padded past its end. */
static bool is_slice(const uint8_t *got, unsigned n)
{
    for (unsigned k = 0; k < sizeof(hammer_items) / sizeof(*hammer_items);
         k++) {
        const struct item *it = &hammer_items[k];

        for (unsigned off = 0; off <= it->len; off++) {
            bool match = true;

            for (unsigned i = 0; i < n && match; i++)
                match = got[i] == (off + i < it->len ? it->bytes[off + i] : 0);
            if (match)
                return true;
        }
    }
    return false;
}

struct hammer {
    struct fw_cfg *f;
    unsigned seed;
    unsigned bad; /* wide reads that were not one item's slice */
};

static void *hammer_thread(void *arg)
{
    struct hammer *h = arg;
    uint8_t data[4];

    for (unsigned i = 0; i < HAMMER_ROUNDS; i++) {
        unsigned r = h->seed = h->seed * 1103515245u + 12345u;
        unsigned size = 1u << ((r >> 8) % 3);

        select_key(h->f, hammer_keys[(r >> 16) % 8]);
        io(h->f, (r >> 12) % 4 ? FW_CFG_DATA : FW_CFG_SELECTOR, data, size,
           false);
        if (!is_slice(data, size))
            h->bad++;
    }
    return NULL;
}

static void test_two_threads(void **state)
{
    struct hammer h[2] = {{*state, 1, 0}, {*state, 2, 0}};
    pthread_t t[2];

    for (unsigned i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer_thread, &h[i]), 0);
    for (unsigned i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(h[0].bad, 0);
    assert_int_equal(h[1].bad, 0);
    /* Still a working device afterwards. */
    check_item(*state, 0x0000, (const uint8_t *)"QEMU", 4);
    check_item(*state, 0x0005, (const uint8_t[]){NCPUS, 0}, 2);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_signature),
        T(test_signature_selected_at_reset),
        T(test_id_traditional_interface_only),
        T(test_ram_size),
        cmocka_unit_test(test_ram_size_above_4g),
        T(test_cpu_counts),
        T(test_file_dir_empty),
        T(test_unknown_keys_read_zeros),
        T(test_past_end_stays_zero),
        T(test_reselect_rewinds),
        T(test_write_channel_bit_reads_item),
        T(test_writes_other_than_16bit_selector_ignored),
        T(test_selector_reads_zero_without_effect),
        T(test_wide_data_reads_take_successive_bytes),
        T(test_two_threads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
