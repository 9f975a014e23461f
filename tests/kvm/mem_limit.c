/*
 * mem_limit.c: kvmrun_vm_create() refuses more guest memory than
 * KVMRUN_MAX_MEM, the most a snapshot holds, with a message naming the
 * limit; a VM is never created that could be saved but not restored.
 */
#include <string.h>

#include "kvmtest.h"

int main(void)
{
    struct kvmrun_config cfg;
    struct kvmrun_vm *vm = NULL;
    int r;

    kvmrun_config_init(&cfg);
    cfg.mem_size = KVMRUN_MAX_MEM + 4096;
    r = kvmrun_vm_create(&cfg, &vm);
    if (r != -EINVAL || vm)
        FAILF("a VM with KVMRUN_MAX_MEM + 4 KiB: %d (%s), not -EINVAL", r,
              r < 0 ? kvmrun_last_error() : "created");
    if (!strstr(kvmrun_last_error(), "limit of 1048576 MiB"))
        FAILF("the error does not name the limit: %s", kvmrun_last_error());
    printf("refused: %s\n", kvmrun_last_error());
    return 0;
}
