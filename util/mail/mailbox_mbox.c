/* mailbox_mbox: appending a message to an mbox file (local's mail spool, $home/Mailbox and
 * /file destinations; virtual mailboxes): safe open (no symlinks, no extra hard links, right
 * owner), the locks mailbox_delivery_lock asks for, the size limit, and truncation back to the
 * original size when anything fails, so a mailbox never holds half a message. */
#include "mail/mailbox_mbox.h"

#include "base/fsutil.h"
#include "base/lock.h"
#include "base/log.h"

#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

const char *mailbox_error_dsn(int err)
{
    if (err == EFBIG || err == EDQUOT)
        return "5.2.2";
    if (err == ENOSPC)
        return "4.3.1";
    return "4.2.0";
}

static int status_of(const char *dsn)
{
    return dsn[0] == '5' ? MAILBOX_BOUNCED : MAILBOX_DEFERRED;
}

/* Takes the dot-lock when asked; 0 ok (or skipped), -1 with reason (deferred). */
static int take_dotlock(const struct mailbox_opts *o, const char *path, int *held,
                        struct str *reason)
{
    struct str why = STR_INIT;
    *held = 0;
    if (!(o->lock_methods & LOCK_METHOD_DOTLOCK))
        return 0;
    if (dotlock_acquire(path, o->stale_lock_time, o->lock_timeout_ms, &why) == 0) {
        *held = 1;
    } else if (errno == EAGAIN || errno == EEXIST) {
        str_setf(reason, "unable to create lock file %s.lock: %s", path, str_cstr(&why));
        str_release(&why);
        return -1;
    } else {
        /* A spool directory we may not write: rely on the kernel locks, as Postfix does. */
        msg_warn("%s: dot-lock skipped: %s", path, str_cstr(&why));
    }
    str_release(&why);
    return 0;
}

static int take_kernel_lock(const struct mailbox_opts *o, int fd, struct str *reason)
{
    struct str why = STR_INIT;
    int methods[] = {LOCK_METHOD_FCNTL, LOCK_METHOD_FLOCK};
    for (size_t i = 0; i < 2; i++) {
        if (!(o->lock_methods & methods[i]))
            continue;
        if (lock_fd(fd, methods[i], LOCK_MODE_EXCLUSIVE, o->lock_timeout_ms, &why) < 0) {
            str_setf(reason, "unable to lock for exclusive access: %s", str_cstr(&why));
            str_release(&why);
            return -1;
        }
    }
    str_release(&why);
    return 0;
}

/* Writes the message at the end of fd; on failure truncates back to the original size. */
static int append_message(const struct mailbox_opts *o, struct mail_message *m, int fd,
                          const struct stat *st, const char *delivered, const char *orig, int flags,
                          int *err, struct str *reason)
{
    struct message_out out = {.fd = fd, .limit = o->size_limit, .pos = st->st_size};
    int rc = -1;
    if (lseek(fd, 0, SEEK_END) != st->st_size) {
        *err = errno ? errno : EIO;
        str_setf(reason, "mailbox changed size while locked");
    } else if (message_copy(m, &out, delivered, orig, flags, reason) < 0) {
        *err = errno;
    } else if (fsync(fd) < 0) {
        *err = errno;
        str_setf(reason, "error writing message: %s", strerror(errno));
    } else {
        rc = 0;
    }
    str_release(&out.buf);
    if (rc < 0 && ftruncate(fd, st->st_size) < 0)
        msg_warn("truncate %s back to %lld bytes: %m", "mailbox", (long long)st->st_size);
    return rc;
}

int mbox_deliver(const struct mailbox_opts *o, struct mail_message *m, const char *path, uid_t uid,
                 gid_t gid, const char *delivered, const char *orig, int flags, char *dsn,
                 size_t dsnlen, struct str *reason)
{
    struct str why = STR_INIT;
    struct stat st;
    int dot = 0, status = MAILBOX_DEFERRED, err = 0;
    snprintf(dsn, dsnlen, "4.2.0");
    if (take_dotlock(o, path, &dot, &why) < 0) {
        str_setf(reason, "cannot update mailbox %s. %s", path, str_cstr(&why));
        str_release(&why);
        return status;
    }
    int fd = fs_safe_open(path, O_WRONLY | O_APPEND | O_CREAT, 0600, uid, gid, &st, NULL, &why);
    if (fd < 0) {
        str_setf(reason, "cannot update mailbox %s. cannot open file: %s", path, str_cstr(&why));
    } else if (take_kernel_lock(o, fd, &why) < 0) {
        str_setf(reason, "cannot update mailbox %s. %s", path, str_cstr(&why));
    } else if (append_message(o, m, fd, &st, delivered, orig, flags, &err, &why) < 0) {
        snprintf(dsn, dsnlen, "%s", mailbox_error_dsn(err));
        status = status_of(dsn);
        str_setf(reason, "cannot update mailbox %s. %s", path, str_cstr(&why));
    } else {
        snprintf(dsn, dsnlen, "2.0.0");
        status = MAILBOX_SENT;
    }
    if (fd >= 0 && close(fd) < 0 && status == MAILBOX_SENT) {
        snprintf(dsn, dsnlen, "4.2.0");
        status = MAILBOX_DEFERRED;
        str_setf(reason, "cannot update mailbox %s. close: %s", path, strerror(errno));
    }
    if (dot)
        dotlock_release(path);
    str_release(&why);
    return status;
}
