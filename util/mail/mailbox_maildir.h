/* mailbox_maildir: delivery into a maildir (a path ending in '/'): tmp/, new/ and cur/ are
 * created when missing (as the current effective ids), the message is written to
 * tmp/<unique>, fsynced, renamed into new/<unique>, and new/ is fsynced. */
#ifndef KESTREL_MAIL_MAILBOX_MAILDIR_H
#define KESTREL_MAIL_MAILBOX_MAILDIR_H

#include "mail/mailbox_mbox.h"

/* Delivers into dir (ending in '/'); returns MAILBOX_* with dsn and reason set. */
int maildir_deliver(const struct mailbox_opts *o, struct mail_message *m, const char *dir,
                    const char *delivered, const char *orig, char *dsn, size_t dsnlen,
                    struct str *reason);
/* The unique file name "<time>.P<pid>Q<n>M<usec>.<host>" (host with '/' and ':' escaped). */
void maildir_unique_name(struct str *out, time_t now, long usec, long pid, unsigned long count,
                         const char *host);

#endif
