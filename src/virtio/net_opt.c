/* net_opt.c: --net's text: tap=IFNAME[,mac=MAC][,vhost=on|off]. */
#include "kvmrun.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "hex.h"

#define NET_KNOWN "tap=IFNAME, mac=MAC, vhost=on|off"

static bool net_is(const char *v, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(v, word, len) == 0;
}

/* 52:54:00:12:34:56: six bytes of two hex digits, colons between. */
static int net_parse_mac(const char *v, size_t len, struct kvmrun_net *n)
{
    unsigned sum = 0;

    if (len != 17)
        return err_set(EINVAL,
                       "mac '%.*s': not six hex bytes like "
                       "52:54:00:12:34:56",
                       (int)len, v);
    for (unsigned i = 0; i < 6; i++) {
        int hi = hex_digit(v[3 * i]), lo = hex_digit(v[3 * i + 1]);

        if (hi < 0 || lo < 0 || (i < 5 && v[3 * i + 2] != ':'))
            return err_set(EINVAL,
                           "mac '%.*s': not six hex bytes like "
                           "52:54:00:12:34:56",
                           (int)len, v);
        n->mac[i] = (uint8_t)(hi << 4 | lo);
        sum |= n->mac[i];
    }
    if (n->mac[0] & 1)
        return err_set(EINVAL,
                       "mac '%.*s': a multicast address (the "
                       "first byte is odd)",
                       (int)len, v);
    if (!sum)
        return err_set(EINVAL, "mac '%.*s': all zeros", (int)len, v);
    n->has_mac = 1;
    return 0;
}

static int net_parse_tap(const char *v, size_t len, struct kvmrun_net *n)
{
    if (len > KVMRUN_NET_IFNAME_MAX)
        return err_set(EINVAL,
                       "tap '%.*s': longer than %u bytes (an "
                       "interface name)",
                       (int)len, v, KVMRUN_NET_IFNAME_MAX);
    for (size_t i = 0; i < len; i++)
        if (v[i] == '/' || v[i] <= ' ' || v[i] == 0x7f)
            return err_set(EINVAL, "tap '%.*s': not an interface name",
                           (int)len, v);
    memcpy(n->tap, v, len);
    n->tap[len] = 0;
    return 0;
}

static int net_parse_option(const char *opt, size_t len, struct kvmrun_net *n,
                            unsigned *seen)
{
    const char *eq = memchr(opt, '=', len);
    size_t klen = eq ? (size_t)(eq - opt) : len;
    const char *v = eq ? eq + 1 : opt + len;
    size_t vlen = len - klen - (eq ? 1 : 0);
    unsigned bit;

    if (net_is(opt, klen, "tap"))
        bit = 1;
    else if (net_is(opt, klen, "mac"))
        bit = 2;
    else if (net_is(opt, klen, "vhost"))
        bit = 4;
    else
        return err_set(EINVAL, "unknown option '%.*s' (known: %s)", (int)len,
                       opt, NET_KNOWN);
    if (*seen & bit)
        return err_set(EINVAL, "%.*s given twice", (int)klen, opt);
    *seen |= bit;
    if (!eq || !vlen)
        return err_set(EINVAL, "%.*s needs a value (%s)", (int)klen, opt,
                       bit == 1   ? "tap=IFNAME"
                       : bit == 2 ? "mac=MAC"
                                  : "vhost=on|off");
    if (bit == 1)
        return net_parse_tap(v, vlen, n);
    if (bit == 2)
        return net_parse_mac(v, vlen, n);
    if (net_is(v, vlen, "on"))
        n->vhost = 1;
    else if (!net_is(v, vlen, "off"))
        return err_set(EINVAL, "vhost '%.*s': not on or off", (int)vlen, v);
    return 0;
}

int kvmrun_net_parse(const char *text, struct kvmrun_net *n)
{
    const char *p = text, *end;
    unsigned seen = 0;
    int r;

    memset(n, 0, sizeof(*n));
    if (!text || !*text)
        return err_set(EINVAL, "empty: tap=IFNAME is needed");
    for (;;) {
        end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        if (end == p)
            return err_set(EINVAL, "'%s': an empty option", text);
        if ((r = net_parse_option(p, (size_t)(end - p), n, &seen)) < 0)
            return r;
        if (!*end)
            break;
        p = end + 1;
    }
    if (!(seen & 1))
        return err_set(EINVAL, "'%s': no tap=IFNAME", text);
    return 0;
}
