/* parse.c: parsing of sizes and addresses given by users. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "error.h"
#include "kvmrun.h"

static bool parse_is_0x(const char *text)
{
    return text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
}

/* Decimal digits, or hex digits after 0x: never octal, so that 010 is ten
 * wherever kvmrun reads a number (strtoull's base 0 reads eight). After
 * the 0x, strtoull would also take a sign, spaces or another 0x: a hex
 * digit must follow, and no second 0x. */
static unsigned long long parse_number(const char *text, char **end)
{
    if (parse_is_0x(text) && isxdigit((unsigned char)text[2]) &&
        !parse_is_0x(text + 2))
        return strtoull(text + 2, end, 16);
    return strtoull(text, end, 10);
}

int kvmrun_parse_u64(const char *text, uint64_t *value)
{
    char *end;
    unsigned long long v;

    if (!text || !isdigit((unsigned char)text[0]))
        return err_set(EINVAL, "'%s' is not a number", text ? text : "");
    errno = 0;
    v = parse_number(text, &end);
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
    v = parse_number(text, &end);
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
