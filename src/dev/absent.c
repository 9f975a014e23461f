/* absent.c: ports a PC may decode and kvmrun leaves empty, silently. */
#include "dev/absent.h"

#include <string.h>

void absent_io(void *dev, const struct bus_access *a)
{
    (void)dev;
    if (!a->write)
        memset(a->data, 0xff, a->size);
}
