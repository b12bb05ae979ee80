/* batch/lock — one writer per output: OUTPUT.ptim.lock, held with flock(2)
 * while an output is checked, written and recorded, so two batches working
 * on one directory (on one machine, or on a file system with working flock,
 * such as NFSv4 or Lustre with flock enabled) never write the same output at
 * once. The kernel drops the lock when its holder dies, so a killed batch
 * leaves no stale lock; the file itself is removed by the holder on release
 * (a waiter that then finds a different file under the name tries again). */
#ifndef PTIM_BATCH_LOCK_H
#define PTIM_BATCH_LOCK_H

#include <stdbool.h>

#include "core/error.h"

#define BATCH_LOCK_SUFFIX ".ptim.lock"

typedef struct batch_lock {
    int fd;          /* -1 when not held */
    char path[4200];
} batch_lock;

/* Take the lock of `output`. With wait false: 1 taken, 0 another process
 * holds it; with wait true it blocks until taken. -1 with a PTIM_ERR_IO
 * message when the lock file cannot be made. The descriptor is not inherited
 * by exec'd programs but is shared with fork()ed children (who then hold the
 * lock with the parent). */
int batch_lock_take(const char *output, bool wait, batch_lock *lock, ptim_error *err);

/* Remove the lock file and drop the lock; safe on a lock not held. */
void batch_lock_release(batch_lock *lock);

#endif
