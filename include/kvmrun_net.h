/* kvmrun_net.h: a virtio-net device as a user names it (--net), for the
 * CLI and libkvmrun. Part of the public API. */
#ifndef KVMRUN_NET_H
#define KVMRUN_NET_H

#include <stdint.h>

/* An interface name: IFNAMSIZ (16) with its NUL. */
#define KVMRUN_NET_IFNAME_MAX 15

struct kvmrun_net {
    char tap[KVMRUN_NET_IFNAME_MAX + 1]; /* an existing tap device */
    uint8_t mac[6];                      /* the guest's address */
    int has_mac;                         /* 0: a random local one */
    int vhost;                           /* 1: the kernel's vhost-net */
};

/*
 * Parses tap=IFNAME[,mac=MAC][,vhost=on|off] into *net (defaults: a
 * random locally administered MAC, vhost off). MAC is six hex bytes
 * with colons, unicast and not all zeros. Returns 0, or -EINVAL with
 * kvmrun_last_error() saying in one line what is wrong, without the
 * option's name: the caller prefixes it.
 */
int kvmrun_net_parse(const char *text, struct kvmrun_net *net);

#endif
