/* fsutil: file-system helpers: mkdir -p, bounded whole-file reads, atomic file replacement,
 * directory fsync, and a race-free "safe open" for delivering to files owned by others.
 * Failures return -1 with errno set and a readable reason in `why` (may be NULL). */
#ifndef KESTREL_BASE_FSUTIL_H
#define KESTREL_BASE_FSUTIL_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "base/str.h"

/* Create path and missing parents with mode (existing directories are left alone). */
int fs_mkdir_p(const char *path, mode_t mode, struct str *why);
/* Append the whole file to out; files larger than limit fail with EFBIG. */
int fs_read_file(const char *path, size_t limit, struct str *out, struct str *why);
/* Replace path with data: temp file in the same directory, fsync, rename, fsync directory. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct str *why);
int fs_fsync_dir(const char *dir, struct str *why);
/* The directory part of path ("." when none); caller frees. */
char *fs_dirname(const char *path);

/* No owner check in fs_safe_open(). */
#define FS_ANY_UID ((uid_t)-1)

/* Open path for delivery without following symlinks or hard-link tricks.
 * An existing file must be a regular file with one link, owned by `uid` (unless FS_ANY_UID); it
 * is checked with lstat() before and fstat() after opening (same device and inode).
 * A missing file is created with O_EXCL|O_NOFOLLOW and mode when flags has O_CREAT; it is
 * chowned to uid/gid when those are not -1 and we run as root. O_EXCL in flags refuses an
 * existing file; O_TRUNC is applied only after the checks. The file's stat goes to *st and
 * *created tells whether it was created (both may be NULL). Returns the fd (close-on-exec). */
int fs_safe_open(const char *path, int flags, mode_t mode, uid_t uid, gid_t gid, struct stat *st,
                 int *created, struct str *why);

#endif
