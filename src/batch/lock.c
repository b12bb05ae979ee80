/* batch/lock — see lock.h. */
#include "batch/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int batch_lock_take(const char *output, bool wait, batch_lock *lock, ptim_error *err)
{
    lock->fd = -1;
    if (snprintf(lock->path, sizeof lock->path, "%s%s", output, BATCH_LOCK_SUFFIX) >=
        (int)sizeof lock->path)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "path too long: %.200s", output);
    for (;;) {
        int fd = open(lock->path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0)
            return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot create the lock %.300s: %s",
                                  lock->path, strerror(errno));
        int r;
        while ((r = flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
            ;
        if (r != 0) {
            int e = errno;
            close(fd);
            if (e == EWOULDBLOCK)
                return 0;
            return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot lock %.300s: %s",
                                  lock->path, strerror(e));
        }
        /* The previous holder may have removed the file between our open and
         * our flock: then we hold a lock nobody else can see; start over. */
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(lock->path, &b) == 0 && a.st_dev == b.st_dev &&
            a.st_ino == b.st_ino) {
            lock->fd = fd;
            return 1;
        }
        close(fd);
    }
}

void batch_lock_release(batch_lock *lock)
{
    if (lock->fd < 0)
        return;
    unlink(lock->path); /* while still held: a waiter re-checks the name */
    close(lock->fd);
    lock->fd = -1;
}
