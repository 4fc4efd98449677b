/* mailbox_mbox: appending a message to an mbox file as local(8) and virtual(8) do: safe open
 * (no symlinks, no extra hard links, the right owner), the configured locks, a size limit, and
 * truncation back to the original size on any failure. Also the options and result codes that
 * mailbox_maildir shares. */
#ifndef KESTREL_MAIL_MAILBOX_MBOX_H
#define KESTREL_MAIL_MAILBOX_MBOX_H

#include "mail/message_copy.h"

/* Results; worse results have larger values (sent < bounced < deferred). */
enum { MAILBOX_SENT = 0, MAILBOX_BOUNCED = 1, MAILBOX_DEFERRED = 2 };

struct mailbox_opts {
    const char *myhostname; /* maildir file names */
    int lock_methods;       /* LOCK_METHOD_* (mailbox_delivery_lock, virtual_mailbox_lock) */
    long lock_timeout_ms;   /* deliver_lock_attempts * deliver_lock_delay */
    int stale_lock_time;    /* seconds */
    long size_limit;        /* bytes of one mailbox file (0: none) */
};

/* Appends m to the mbox path; the file must belong to uid (FS_ANY_UID: any owner), and is
 * created as uid/gid when missing. Returns MAILBOX_* with dsn and reason set (reason
 * "cannot update mailbox PATH. ..." on failure). */
int mbox_deliver(const struct mailbox_opts *o, struct mail_message *m, const char *path, uid_t uid,
                 gid_t gid, const char *delivered, const char *orig, int flags, char *dsn,
                 size_t dsnlen, struct str *reason);
/* The DSN for a write error: mailbox full (5.2.2) for EFBIG/EDQUOT, 4.3.1 for ENOSPC, else
 * 4.2.0. */
const char *mailbox_error_dsn(int err);

#endif
