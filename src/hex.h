/* hex.h: the value of one hexadecimal digit, for the parsers of text
 * that holds them (gdb's packets, --net's mac=). */
#ifndef KVMRUN_HEX_H
#define KVMRUN_HEX_H

/* 0-15, or -1 for a character that is not a hex digit. */
static inline int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
