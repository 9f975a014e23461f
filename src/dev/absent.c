/* absent.c: ports a PC may decode and kvmrun leaves empty, silently. */
#include "dev/absent.h"

#include <string.h>

void absent_io(void *dev, const struct bus_access *a)
{
    (void)dev;
    if (!a->write)
        memset(a->data, 0xff, a->size);
}

static const struct dev_io absent_dev_pio[] = {
    {0, ABSENT_NPORTS, absent_io},
    {0, 0, NULL},
};

const struct dev_desc absent_dev = {
    .name = "absent",
    .pio = absent_dev_pio,
};
