/* fsutil: directory creation, bounded reads, atomic replacement and the checks that make
 * opening a mailbox or user file safe against symlink, hard-link and swap races. */
#include "base/fsutil.h"

#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(struct str *why, int err, const char *what, const char *path)
{
    if (why) {
        str_clear(why);
        str_appendf(why, "%s %s: %s", what, path, strerror(err));
    }
    errno = err;
    return -1;
}

static int refuse(struct str *why, const char *path, const char *reason)
{
    if (why) {
        str_clear(why);
        str_appendf(why, "open %s: %s", path, reason);
    }
    errno = EPERM;
    return -1;
}

char *fs_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

int fs_mkdir_p(const char *path, mode_t mode, struct str *why)
{
    if (path[0] == 0)
        return fail(why, ENOENT, "create directory", path);
    char *buf = xstrdup(path);
    int rc = 0;
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != 0)
            continue;
        char save = *p;
        *p = 0;
        struct stat st;
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
            rc = fail(why, errno, "create directory", buf);
        else if (stat(buf, &st) < 0)
            rc = fail(why, errno, "create directory", buf);
        else if (!S_ISDIR(st.st_mode))
            rc = fail(why, ENOTDIR, "create directory", buf);
        *p = save;
        if (rc < 0 || save == 0)
            break;
    }
    free(buf);
    return rc;
}

int fs_read_file(const char *path, size_t limit, struct str *out, struct str *why)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(why, errno, "open", path);
    size_t total = 0;
    char buf[8192];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            close(fd);
            return fail(why, err, "read", path);
        }
        if (n == 0)
            break;
        if ((size_t)n > limit - total) {
            close(fd);
            return fail(why, EFBIG, "read", path);
        }
        str_appendn(out, buf, (size_t)n);
        total += (size_t)n;
    }
    close(fd);
    return 0;
}

int fs_fsync_dir(const char *dir, struct str *why)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fail(why, errno, "open directory", dir);
    if (fsync(fd) < 0 && errno != EINVAL) {
        int err = errno;
        close(fd);
        return fail(why, err, "fsync directory", dir);
    }
    close(fd);
    return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct str *why)
{
    struct str tmp = STR_INIT;
    str_appendf(&tmp, "%s.tmp.%ld", path, (long)getpid());
    const char *tpath = str_cstr(&tmp);
    int fd = open(tpath, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
    int rc = 0;
    if (fd < 0) {
        rc = fail(why, errno, "create", tpath);
    } else if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        rc = fail(why, errno, "write", tpath);
    }
    if (fd >= 0 && close(fd) < 0 && rc == 0)
        rc = fail(why, errno, "close", tpath);
    if (rc == 0 && rename(tpath, path) < 0)
        rc = fail(why, errno, "rename to", path);
    if (rc < 0) {
        int err = errno;
        unlink(tpath);
        errno = err;
    } else {
        char *dir = fs_dirname(path);
        rc = fs_fsync_dir(dir, why);
        free(dir);
    }
    str_release(&tmp);
    return rc;
}

/* ---- safe open --------------------------------------------------------------------------- */

/* The checks applied to an existing file, before and after opening. */
static int check_file(const struct stat *st, const char *path, uid_t uid, struct str *why)
{
    if (S_ISLNK(st->st_mode))
        return refuse(why, path, "is a symbolic link");
    if (!S_ISREG(st->st_mode))
        return refuse(why, path, "not a regular file");
    if (st->st_nlink != 1) {
        char reason[64];
        snprintf(reason, sizeof(reason), "has %lu hard links", (unsigned long)st->st_nlink);
        return refuse(why, path, reason);
    }
    if (uid != FS_ANY_UID && st->st_uid != uid) {
        char reason[64];
        snprintf(reason, sizeof(reason), "owned by uid %lu, not %lu", (unsigned long)st->st_uid,
                 (unsigned long)uid);
        return refuse(why, path, reason);
    }
    return 0;
}

static int open_existing(const char *path, int flags, uid_t uid, struct stat *st, struct str *why)
{
    struct stat before;
    if (lstat(path, &before) < 0)
        return fail(why, errno, "lstat", path);
    if (check_file(&before, path, uid, why) < 0)
        return -1;
    int oflags = (flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    int fd = open(path, oflags);
    if (fd < 0)
        return errno == ENOENT ? -2 : fail(why, errno, "open", path);
    if (fstat(fd, st) < 0) {
        int err = errno;
        close(fd);
        return fail(why, err, "fstat", path);
    }
    if (st->st_dev != before.st_dev || st->st_ino != before.st_ino) {
        close(fd);
        return refuse(why, path, "file was replaced while opening");
    }
    if (check_file(st, path, uid, why) < 0 || fcntl(fd, F_SETFL, oflags & ~O_NONBLOCK) < 0 ||
        ((flags & O_TRUNC) && ftruncate(fd, 0) < 0)) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

static int create_new(const char *path, int flags, mode_t mode, uid_t uid, gid_t gid,
                      struct stat *st, struct str *why)
{
    int fd = open(path, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return errno == EEXIST ? -2 : fail(why, errno, "create", path);
    if ((uid != FS_ANY_UID || gid != (gid_t)-1) && geteuid() == 0 && fchown(fd, uid, gid) < 0) {
        int err = errno;
        close(fd);
        unlink(path);
        return fail(why, err, "chown", path);
    }
    if (fstat(fd, st) < 0) {
        int err = errno;
        close(fd);
        return fail(why, err, "fstat", path);
    }
    return fd;
}

int fs_safe_open(const char *path, int flags, mode_t mode, uid_t uid, gid_t gid, struct stat *st,
                 int *created, struct str *why)
{
    struct stat local;
    if (st == NULL)
        st = &local;
    /* A file that appears or vanishes between the steps sends us round again, a few times. */
    for (int tries = 0; tries < 3; tries++) {
        struct stat probe;
        int fd;
        if (lstat(path, &probe) < 0) {
            if (errno != ENOENT || !(flags & O_CREAT))
                return fail(why, errno, "lstat", path);
            fd = create_new(path, flags, mode, uid, gid, st, why);
            if (created && fd >= 0)
                *created = 1;
        } else {
            if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
                return fail(why, EEXIST, "create", path);
            fd = open_existing(path, flags, uid, st, why);
            if (created && fd >= 0)
                *created = 0;
        }
        if (fd != -2)
            return fd;
    }
    return refuse(why, path, "file keeps changing while opening");
}
