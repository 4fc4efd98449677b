/* lock: advisory file locks (fcntl and flock), blocking with a timeout or non-blocking, and
 * dot-locks ("file.lock" created exclusively) with removal of stale locks after a given age.
 * These implement mailbox_delivery_lock-style methods. Failures return -1 with errno set
 * (EAGAIN: held by someone else / timed out) and a reason in `why` (may be NULL). */
#ifndef KESTREL_BASE_LOCK_H
#define KESTREL_BASE_LOCK_H

#include "base/str.h"

/* Methods (a mask, as in "fcntl, dotlock"). */
enum {
    LOCK_METHOD_FCNTL = 1,
    LOCK_METHOD_FLOCK = 2,
    LOCK_METHOD_DOTLOCK = 4,
};

/* Modes for lock_fd(). */
enum {
    LOCK_MODE_SHARED = 1,
    LOCK_MODE_EXCLUSIVE = 2,
};

/* Parse a list such as "fcntl, dotlock" into a LOCK_METHOD_* mask; -1 on an unknown name. */
int lock_parse_methods(const char *text, struct str *why);

/* Lock an open file with LOCK_METHOD_FCNTL or LOCK_METHOD_FLOCK. timeout_ms: 0 tries once,
 * < 0 waits forever, > 0 waits at most that long. */
int lock_fd(int fd, int method, int mode, long timeout_ms, struct str *why);
int unlock_fd(int fd, int method);

/* Create path + ".lock" exclusively, retrying until timeout_ms (0: try once). A lock file older
 * than stale_seconds (> 0) is removed as abandoned. */
int dotlock_acquire(const char *path, int stale_seconds, long timeout_ms, struct str *why);
int dotlock_release(const char *path);

#endif
