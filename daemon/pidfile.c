/*
 * daemon/pidfile: create, lock and remove the pid file.
 */
#include "config.h"

#include "daemon/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

/* The pid a locked pid file names, or 0 when unreadable. */
static long read_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *end;
    long pid = strtol(buf, &end, 10);
    return pid > 0 ? pid : 0;
}

int d6_pidfile_open(struct d6_pidfile *pf, const char *path, char *err, size_t errlen)
{
    /* A few tries: the file we locked may have been unlinked by an
     * instance exiting between our open() and our flock(). */
    for (int attempt = 0; attempt < 5; attempt++) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
        if (fd < 0) {
            snprintf(err, errlen, "cannot open pid file %s: %s", path, strerror(errno));
            return -errno;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            int e = errno;
            if (e == EWOULDBLOCK) {
                long pid = read_pid(fd);
                if (pid)
                    snprintf(err, errlen,
                             "pid file %s is locked by pid %ld: is edge6d already running?", path,
                             pid);
                else
                    snprintf(err, errlen,
                             "pid file %s is locked by another process: is edge6d already "
                             "running?",
                             path);
                close(fd);
                return -EEXIST;
            }
            snprintf(err, errlen, "cannot lock pid file %s: %s", path, strerror(e));
            close(fd);
            return -e;
        }
        struct stat fst, pst;
        if (fstat(fd, &fst) < 0 || stat(path, &pst) < 0 || fst.st_dev != pst.st_dev ||
            fst.st_ino != pst.st_ino) {
            close(fd);
            continue;
        }
        if (!S_ISREG(fst.st_mode)) {
            snprintf(err, errlen, "pid file %s is not a regular file", path);
            close(fd);
            return -EINVAL;
        }
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
            snprintf(err, errlen, "cannot write pid file %s: %s", path, strerror(errno));
            close(fd);
            return -EIO;
        }
        pf->path = strdup(path);
        if (!pf->path) {
            snprintf(err, errlen, "out of memory");
            unlink(path);
            close(fd);
            return -ENOMEM;
        }
        pf->fd = fd;
        return 0;
    }
    snprintf(err, errlen, "pid file %s keeps changing under us", path);
    return -EAGAIN;
}

void d6_pidfile_remove(struct d6_pidfile *pf)
{
    if (pf->fd < 0)
        return;
    /* Unlink while still holding the lock, so that no other instance can
     * have locked this very file in between. */
    if (unlink(pf->path) < 0 && errno != ENOENT)
        e6_warn("cannot remove pid file %s: %s", pf->path, strerror(errno));
    close(pf->fd);
    pf->fd = -1;
    free(pf->path);
    pf->path = NULL;
}
