/* parse.c: parsing of sizes and addresses given by users. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include "error.h"
#include "kvmrun.h"

int kvmrun_parse_u64(const char *text, uint64_t *value)
{
    char *end;
    unsigned long long v;

    if (!text || !isdigit((unsigned char)text[0]))
        return err_set(EINVAL, "'%s' is not a number", text ? text : "");
    errno = 0;
    v = strtoull(text, &end, 0);
    if (errno == ERANGE)
        return err_set(ERANGE, "'%s' is out of range", text);
    if (*end)
        return err_set(EINVAL, "'%s' is not a number", text);
    *value = v;
    return 0;
}

int kvmrun_parse_size(const char *text, uint64_t *bytes)
{
    char *end;
    unsigned long long v;
    unsigned shift = 20; /* a bare number is MiB */

    if (!text || !isdigit((unsigned char)text[0]))
        goto bad;
    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno == ERANGE) /* junk after the digits still makes it invalid */
        v = UINT64_MAX;
    switch (toupper((unsigned char)*end)) {
    case 0:
        break;
    case 'K':
        shift = 10;
        break;
    case 'M':
        shift = 20;
        break;
    case 'G':
        shift = 30;
        break;
    case 'T':
        shift = 40;
        break;
    default:
        goto bad;
    }
    if (*end && end[1] && !(toupper((unsigned char)end[1]) == 'B' && !end[2]))
        goto bad;
    if (errno == ERANGE || v > (UINT64_MAX >> shift))
        return err_set(ERANGE, "'%s' is too large", text);
    *bytes = (uint64_t)v << shift;
    return 0;
bad:
    return err_set(EINVAL,
                   "'%s' is not a size (expected a number with an "
                   "optional K, M, G or T suffix, e.g. 128M or 2G)",
                   text ? text : "");
}
