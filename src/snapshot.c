/* snapshot.c: saving a VM to a file and rebuilding it from one. */
#include <errno.h>

#include "error.h"
#include "vm.h"

/* Placeholder until the snapshot format lands (issue 6). */
int kvmrun_vm_snapshot(struct kvmrun_vm *vm, const char *path)
{
    (void)vm;
    return err_set(-ENOSYS, "%s: snapshots are not implemented yet", path);
}

int kvmrun_vm_restore(const struct kvmrun_config *cfg, const char *path,
                      struct kvmrun_vm **vmp)
{
    (void)cfg;
    *vmp = NULL;
    return err_set(-ENOSYS, "%s: restore is not implemented yet", path);
}
