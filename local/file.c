/* file: delivery to a /file destination from an alias, :include: or .forward: only where
 * allow_mail_to_files permits, with the privileges of the alias/.forward owner (never root:
 * default_privs instead), mbox format (or maildir when the path ends in '/'); /dev/null is
 * accepted without writing. */
#include "local.h"

#include "base/fsutil.h"

#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

static int argv_has(const struct argv *a, const char *s)
{
    for (size_t i = 0; a && i < a->n; i++)
        if (strcmp(a->v[i], s) == 0)
            return 1;
    return 0;
}

void file_deliver(const struct local_params *p, struct mail_message *m, struct local_rcpt *rc,
                  const char *path)
{
    struct str seen = STR_INIT, reason = STR_INIT;
    char dsn[16];
    struct mailbox_opts mo = local_mailbox_opts(p);
    str_setf(&seen, "file:%s", path);
    if (argv_has(rc->seen, seen.data))
        goto out;
    argv_add(rc->seen, seen.data);
    if (!(rc->exp_class & p->mail_to_files)) {
        local_report(m, rc, LOCAL_BOUNCED, "5.7.1", "mail to file is restricted");
        goto out;
    }
    if (strcmp(path, "/dev/null") == 0) {
        local_report(m, rc, LOCAL_SENT, "2.0.0", "delivered to file: %s", path);
        goto out;
    }
    uid_t uid = rc->have_owner ? rc->owner_uid : p->default_uid;
    gid_t gid = rc->have_owner ? rc->owner_gid : p->default_gid;
    if (uid == 0) {
        uid = p->default_uid;
        gid = p->default_gid;
    }
    if (local_set_eugid(uid, gid) < 0) {
        local_report(m, rc, LOCAL_DEFERRED, "4.3.0", "cannot switch privileges: %s",
                     strerror(errno));
        goto out;
    }
    int flags = COPY_MBOX & ~COPY_DELIVERED;
    if (p->prepend_delivered & PREPEND_FILE)
        flags |= COPY_DELIVERED;
    int maildir = path[strlen(path) - 1] == '/';
    int st = maildir
                 ? maildir_deliver(&mo, m, path, rc->address, rc->orig, dsn, sizeof(dsn), &reason)
                 : mbox_deliver(&mo, m, path, FS_ANY_UID, (gid_t)-1, rc->address, rc->orig, flags,
                                dsn, sizeof(dsn), &reason);
    local_restore_eugid();
    if (st == LOCAL_SENT)
        local_report(m, rc, st, dsn, "delivered to file: %s", path);
    else
        local_report(m, rc, st, dsn, "%s", reason.data);
out:
    str_release(&seen);
    str_release(&reason);
}
