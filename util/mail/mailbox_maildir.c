/* mailbox_maildir: delivery into a maildir (local's home_mailbox or /file destination, a
 * virtual mailbox, ending in '/'): the message is written to tmp/<unique>, fsynced, and renamed
 * into new/<unique>; the directory is fsynced so the message survives a crash once we report
 * success. */
#include "mail/mailbox_maildir.h"

#include "base/fsutil.h"
#include "base/log.h"

#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

void maildir_unique_name(struct str *out, time_t now, long usec, long pid, unsigned long count,
                         const char *host)
{
    str_appendf(out, "%lld.P%ldQ%luM%ld.", (long long)now, pid, count, usec);
    for (const char *c = host; *c; c++) {
        if (*c == '/')
            str_append(out, "\\057");
        else if (*c == ':')
            str_append(out, "\\072");
        else
            str_appendc(out, *c);
    }
}

/* Creates dir/{tmp,new,cur}; 0 or -1 with reason. */
static int make_dirs(const char *dir, struct str *reason)
{
    static const char *const subs[] = {"tmp", "new", "cur"};
    struct str path = STR_INIT, why = STR_INIT;
    int rc = 0;
    for (size_t i = 0; i < 3 && rc == 0; i++) {
        str_setf(&path, "%s%s", dir, subs[i]);
        if (fs_mkdir_p(path.data, 0700, &why) < 0) {
            str_setf(reason, "create maildir file %s: %s", path.data, str_cstr(&why));
            rc = -1;
        }
    }
    str_release(&path);
    str_release(&why);
    return rc;
}

static int write_tmp(const struct mailbox_opts *o, struct mail_message *m, const char *tmp,
                     const char *delivered, const char *orig, int *err, struct str *reason)
{
    struct str why = STR_INIT;
    int rc = -1;
    int fd = fs_safe_open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600, FS_ANY_UID, (gid_t)-1, NULL, NULL,
                          &why);
    if (fd < 0) {
        *err = errno;
        str_setf(reason, "create maildir file %s: %s", tmp, str_cstr(&why));
        str_release(&why);
        return -1;
    }
    struct message_out out = {.fd = fd, .limit = o->size_limit, .pos = 0};
    if (message_copy(m, &out, delivered, orig, COPY_MAILDIR, &why) < 0) {
        *err = errno;
        str_setf(reason, "create maildir file %s: %s", tmp, str_cstr(&why));
    } else if (fsync(fd) < 0) {
        *err = errno;
        str_setf(reason, "create maildir file %s: %s", tmp, strerror(errno));
    } else {
        rc = 0;
    }
    if (close(fd) < 0 && rc == 0) {
        *err = errno;
        str_setf(reason, "create maildir file %s: %s", tmp, strerror(errno));
        rc = -1;
    }
    str_release(&out.buf);
    str_release(&why);
    return rc;
}

int maildir_deliver(const struct mailbox_opts *o, struct mail_message *m, const char *dir,
                    const char *delivered, const char *orig, char *dsn, size_t dsnlen,
                    struct str *reason)
{
    static unsigned long count;
    struct str name = STR_INIT, tmp = STR_INIT, new = STR_INIT, newdir = STR_INIT;
    struct timeval tv;
    int err = EIO, status = MAILBOX_DEFERRED;
    snprintf(dsn, dsnlen, "4.2.0");
    gettimeofday(&tv, NULL);
    maildir_unique_name(&name, tv.tv_sec, (long)tv.tv_usec, (long)getpid(), count++, o->myhostname);
    str_setf(&tmp, "%stmp/%s", dir, name.data);
    str_setf(&new, "%snew/%s", dir, name.data);
    str_setf(&newdir, "%snew", dir);
    /* The subdirectories are made only when they turn out to be missing (ENOENT), not on
     * every delivery. */
    int rc = write_tmp(o, m, tmp.data, delivered, orig, &err, reason);
    if (rc < 0 && err == ENOENT && make_dirs(dir, reason) == 0) {
        str_clear(reason);
        rc = write_tmp(o, m, tmp.data, delivered, orig, &err, reason);
    }
    if (rc < 0) { /* reason: from write_tmp, or from make_dirs when it failed */
        unlink(tmp.data);
        snprintf(dsn, dsnlen, "%s", mailbox_error_dsn(err));
        status = dsn[0] == '5' ? MAILBOX_BOUNCED : MAILBOX_DEFERRED;
    } else if (rename(tmp.data, new.data) < 0 &&
               (errno != ENOENT || make_dirs(dir, reason) < 0 || rename(tmp.data, new.data) < 0)) {
        str_setf(reason, "create maildir file %s: rename: %s", new.data, strerror(errno));
        unlink(tmp.data);
    } else if (fs_fsync_dir(newdir.data, NULL) < 0) {
        str_setf(reason, "create maildir file %s: fsync: %s", new.data, strerror(errno));
    } else {
        snprintf(dsn, dsnlen, "2.0.0");
        status = MAILBOX_SENT;
    }
    str_release(&name);
    str_release(&tmp);
    str_release(&new);
    str_release(&newdir);
    return status;
}
