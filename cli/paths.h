/* paths.h: files named on kvmrun's command line that it writes: the
 * --serial output and the --pidfile. */
#ifndef KVMRUN_CLI_PATHS_H
#define KVMRUN_CLI_PATHS_H

#include "kvmrun.h"

/*
 * Opens --serial FILE for the UART's output (*fd = stdout without one):
 * a regular file (created or truncated), a FIFO with a reader, or a
 * character device (a terminal, /dev/null); never waits (a FIFO nobody
 * reads is an error) and refuses anything else. 0, or -1 after a message.
 */
int paths_open_serial(const char *path, int *fd);

/* A pidfile kvmrun wrote, to remove only while it is still that file. */
struct paths_pidfile {
    const char *path; /* NULL: none written */
    struct kvmrun_file_id id;
};

/*
 * Writes kvmrun's pid to path: whole under a temporary name, then renamed
 * over path, which may be absent, a regular file or a symbolic link (the
 * link is replaced). 0, or -1 after a message, nothing left behind.
 */
int paths_pidfile_write(struct paths_pidfile *pf, const char *path);

/* Removes the pidfile if path still names the file written. */
void paths_pidfile_remove(struct paths_pidfile *pf);

#endif
