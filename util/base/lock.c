/* lock: fcntl/flock locking with polling timeouts, and dot-lock files with stale removal. */
#include "base/lock.h"

#include "base/argv.h"
#include "base/clock.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RETRY_MS 50

static int fail(struct str *why, int err, const char *what, const char *arg)
{
    if (why) {
        str_clear(why);
        str_appendf(why, "%s%s: %s", what, arg, strerror(err));
    }
    errno = err;
    return -1;
}

int lock_parse_methods(const char *text, struct str *why)
{
    static const struct {
        const char *name;
        int method;
    } names[] = {{"fcntl", LOCK_METHOD_FCNTL},
                 {"flock", LOCK_METHOD_FLOCK},
                 {"dotlock", LOCK_METHOD_DOTLOCK}};
    struct argv *words = argv_split(text, ", \t");
    int mask = 0;
    for (size_t i = 0; i < words->n && mask >= 0; i++) {
        int found = 0;
        for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++)
            if (strcasecmp(words->v[i], names[j].name) == 0)
                found = names[j].method;
        if (found == 0) {
            fail(why, EINVAL, "unknown lock method ", words->v[i]);
            mask = -1;
        } else {
            mask |= found;
        }
    }
    argv_free(words);
    return mask;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* One non-blocking attempt: 0, or -1 with errno (EAGAIN when held elsewhere). */
static int try_lock(int fd, int method, int mode)
{
    if (method == LOCK_METHOD_FLOCK) {
        int op = (mode == LOCK_MODE_SHARED ? LOCK_SH : LOCK_EX) | LOCK_NB;
        if (flock(fd, op) == 0)
            return 0;
        if (errno == EWOULDBLOCK)
            errno = EAGAIN;
        return -1;
    }
    struct flock fl = {0};
    fl.l_type = mode == LOCK_MODE_SHARED ? F_RDLCK : F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) == 0)
        return 0;
    if (errno == EACCES)
        errno = EAGAIN;
    return -1;
}

int lock_fd(int fd, int method, int mode, long timeout_ms, struct str *why)
{
    if (method != LOCK_METHOD_FCNTL && method != LOCK_METHOD_FLOCK)
        return fail(why, EINVAL, "lock: bad method", "");
    const char *name = method == LOCK_METHOD_FLOCK ? "flock" : "fcntl";
    long deadline = deadline_after_ms(timeout_ms);
    for (;;) {
        if (try_lock(fd, method, mode) == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN || timeout_ms == 0 || deadline_expired(deadline))
            return fail(why, errno, "lock with ", name);
        pause_ms(RETRY_MS);
    }
}

int unlock_fd(int fd, int method)
{
    if (method == LOCK_METHOD_FLOCK)
        return flock(fd, LOCK_UN);
    struct flock fl = {0};
    fl.l_type = F_UNLCK;
    fl.l_whence = SEEK_SET;
    return fcntl(fd, F_SETLK, &fl);
}

/* ---- dot-locks --------------------------------------------------------------------------- */

static char *lock_name(const char *path)
{
    size_t n = strlen(path);
    char *name = xmalloc(n + 6);
    memcpy(name, path, n);
    memcpy(name + n, ".lock", 6);
    return name;
}

/* Remove the lock file when it is older than stale_seconds; returns 1 when removed. */
static int remove_stale(const char *name, int stale_seconds)
{
    struct stat st;
    if (stale_seconds <= 0 || lstat(name, &st) < 0)
        return 0;
    if (time(NULL) - st.st_mtime < stale_seconds)
        return 0;
    return unlink(name) == 0;
}

int dotlock_acquire(const char *path, int stale_seconds, long timeout_ms, struct str *why)
{
    char *name = lock_name(path);
    long deadline = deadline_after_ms(timeout_ms);
    int rc = -1;
    for (;;) {
        int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            close(fd);
            rc = 0;
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno != EEXIST) {
            fail(why, errno, "create ", name);
            break;
        }
        if (remove_stale(name, stale_seconds))
            continue;
        if (timeout_ms == 0 || deadline_expired(deadline)) {
            fail(why, EAGAIN, "lock file held: ", name);
            break;
        }
        pause_ms(RETRY_MS);
    }
    free(name);
    return rc;
}

int dotlock_release(const char *path)
{
    char *name = lock_name(path);
    int rc = unlink(name);
    free(name);
    return rc;
}
