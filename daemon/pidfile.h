/*
 * daemon/pidfile: the pid file, locked with flock() for as long as the
 * daemon runs, so a second instance pointed at the same file refuses to
 * start instead of overwriting it. A file left behind by a crash holds no
 * lock and is simply reused.
 */
#ifndef E6_DAEMON_PIDFILE_H
#define E6_DAEMON_PIDFILE_H

#include <stddef.h>

struct d6_pidfile {
    int fd; /* -1 when none */
    char *path;
};

#define D6_PIDFILE_INIT                                                                            \
    {                                                                                              \
        .fd = -1, .path = NULL                                                                     \
    }

/* Create or reuse path, lock it and write our pid. 0 or -errno with err
 * (-EEXIST: another process holds the lock). */
int d6_pidfile_open(struct d6_pidfile *pf, const char *path, char *err, size_t errlen);
/* Unlink (if we own it) and release. Safe on a pidfile never opened. */
void d6_pidfile_remove(struct d6_pidfile *pf);

#endif
