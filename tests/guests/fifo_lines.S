/* fifo_lines.S: fifo_stream.S's lines 0 to 7999 (128,000 bytes: more
 * than kvmrun's 64 KiB output buffer and a pipe), then a power-off. */
#define STREAM_LINES 8000
#include "fifo_stream.S"
