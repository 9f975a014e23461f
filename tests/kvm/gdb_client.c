/*
 * gdb_client.c: a scripted GDB remote-protocol client, for where Debian's
 * gdb is not (the test VM): each argument is one step, its reply printed
 * as "REPLY <step> <body>". It frames packets itself (no code of the stub
 * under test) and acknowledges every reply.
 *
 * usage: gdb_client PORT STEP...
 *   BODY             a packet; its reply is read (a stop reply for s)
 *   c:BODY           a packet that resumes (c, vCont;c): no reply is read
 *                    until a later @intr
 *   @intr            the Ctrl-C byte; the stop reply is read
 *   @wait:FILE:TEXT:SECONDS
 *                    waits, connected, until FILE holds TEXT (status 1 at
 *                    the deadline)
 * Every read has a 60 s deadline. Status 1 on any failure, 2 on usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REPLY_MAX 65536

static int fd = -1;

static void die(const char *what)
{
    fprintf(stderr, "gdb_client: %s\n", what);
    exit(1);
}

static void put(const void *p, size_t n)
{
    const char *c = p;

    while (n) {
        ssize_t w = write(fd, c, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("write: the connection went");
        c += w;
        n -= (size_t)w;
    }
}

/* One byte, waiting at most 60 s. */
static int get(void)
{
    struct pollfd p = {fd, POLLIN, 0};
    unsigned char c;

    if (poll(&p, 1, 60000) != 1)
        die("no reply within 60 s");
    if (read(fd, &c, 1) != 1)
        die("read: the connection went");
    return c;
}

static void send_packet(const char *body)
{
    char tail[4];
    unsigned sum = 0;

    for (const char *p = body; *p; p++)
        sum += (unsigned char)*p;
    snprintf(tail, sizeof(tail), "#%02x", sum & 0xff);
    put("$", 1);
    put(body, strlen(body));
    put(tail, 3);
    int c;
    while ((c = get()) != '+')
        if (c == '-')
            die("the stub asked for a resend (a checksum we got wrong?)");
}

/* The next packet's body into buf; acknowledged. */
static void read_packet(char *buf)
{
    size_t n = 0;
    int c;

    while ((c = get()) != '$')
        ;
    while ((c = get()) != '#') {
        if (n + 1 >= REPLY_MAX)
            die("reply too long");
        buf[n++] = (char)c;
    }
    buf[n] = 0;
    get();
    get();
    put("+", 1);
}

static void wait_text(char *spec)
{
    char *file = spec, *text, *secs;
    time_t end;

    if (!(text = strchr(file, ':')) || !(secs = strchr(text + 1, ':'))) {
        fprintf(stderr, "gdb_client: @wait:FILE:TEXT:SECONDS\n");
        exit(2);
    }
    *text++ = 0;
    *secs++ = 0;
    end = time(NULL) + atoi(secs);
    for (;;) {
        char line[4096];
        FILE *f = fopen(file, "r");
        int found = 0;

        while (f && fgets(line, sizeof(line), f))
            if (strstr(line, text))
                found = 1;
        if (f)
            fclose(f);
        if (found)
            return;
        if (time(NULL) > end) {
            fprintf(stderr, "gdb_client: no \"%s\" in %s\n", text, file);
            exit(1);
        }
        usleep(100000);
    }
}

int main(int argc, char **argv)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    static char reply[REPLY_MAX];

    if (argc < 3) {
        fprintf(stderr, "usage: gdb_client PORT STEP...\n");
        return 2;
    }
    a.sin_port = htons((unsigned short)atoi(argv[1]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        die("cannot connect");
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 2; i < argc; i++) {
        char *step = argv[i];

        if (!strncmp(step, "@wait:", 6)) {
            wait_text(step + 6);
            printf("WAITED %s\n", step + 6);
            continue;
        }
        if (!strcmp(step, "@intr")) {
            put("\003", 1);
        } else if (!strncmp(step, "c:", 2)) {
            send_packet(step + 2);
            printf("SENT %s\n", step + 2);
            continue;
        } else {
            send_packet(step);
        }
        read_packet(reply);
        printf("REPLY %s %s\n", step, reply);
    }
    close(fd);
    return 0;
}
