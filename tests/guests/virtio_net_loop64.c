/* virtio_net_loop64.c: virtio_net64.c's ARP exchange forever (for
 * tests/kvm/virtio_net_snapshot.sh). */
#define VNET_LOOP 1
#include "virtio_net64.c"
